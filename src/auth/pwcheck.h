/* SPDX-License-Identifier: MIT */
/* Checking a user name and password against the store: shared by the Basic
 * scheme and the login endpoint, so both have the same cache, the same
 * re-hashing of legacy formats and the same defences against user
 * enumeration (a dummy Argon2id for unknown users, failures padded to its
 * cost, "disabled" told only to someone who knows the password). */
#ifndef BNC_AUTH_PWCHECK_H
#define BNC_AUTH_PWCHECK_H

#include <stddef.h>

#include "auth/scheme.h"
#include "crypto/password.h"

struct bnc_store;
struct bnc_user;

/* DRF's wording for both "no such user" and "wrong password". */
#define BNC_PWCHECK_WRONG "Invalid username/password."
#define BNC_PWCHECK_INACTIVE "User inactive or deleted."

struct bnc_pwcheck;

/* store borrowed; cache_size 0 disables the verified-credential cache.
 * Runs one dummy verification now to learn its cost. Never NULL. */
struct bnc_pwcheck *bnc_pwcheck_new(struct bnc_store *store,
                                    const struct bnc_argon2_params *argon2,
                                    int rehash, size_t cache_size,
                                    unsigned cache_ttl);
void bnc_pwcheck_free(struct bnc_pwcheck *c);

/* Checks (user, pw). BNC_ALLOW: res->id filled (auth_type "Basic"; callers
 * change it) and, if u is not NULL, *u gets the user record (caller cleans
 * it with bnc_user_cleanup). BNC_DENY: 401 with BNC_PWCHECK_WRONG or
 * BNC_PWCHECK_INACTIVE, reason in res->reason. BNC_ERROR: store trouble. */
enum bnc_verdict bnc_pwcheck_verify(struct bnc_pwcheck *c, const char *user,
                                    const char *pw, size_t pwlen,
                                    struct bnc_result *res);
enum bnc_verdict bnc_pwcheck_verify_user(struct bnc_pwcheck *c,
                                         const char *user, const char *pw,
                                         size_t pwlen, struct bnc_result *res,
                                         struct bnc_user *u);
/* Spends the time of one verification (and records it), for credentials
 * rejected before any lookup. */
void bnc_pwcheck_dummy(struct bnc_pwcheck *c, const char *pw, size_t pwlen);

#endif
