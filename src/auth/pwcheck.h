/* SPDX-License-Identifier: MIT */
/* Checking a user name and password against the store: shared by the Basic
 * scheme and the login endpoint, so both have the same cache, the same
 * re-hashing of legacy formats, the same brute-force throttle (checked
 * before any hash is computed: every hash of a request is behind its gate)
 * and the same defences against user enumeration (a dummy Argon2id for
 * unknown users, failures padded to the slowest verification seen,
 * "disabled" told only to someone who knows the password). */
#ifndef BNC_AUTH_PWCHECK_H
#define BNC_AUTH_PWCHECK_H

#include <stddef.h>

#include "auth/scheme.h"
#include "crypto/password.h"

struct bnc_request;
struct bnc_store;
struct bnc_throttle_conf;
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
/* Turns on brute-force throttling ([throttle]; borrowed, must outlive c).
 * Without it (NULL, the default) nothing is counted or refused. */
void bnc_pwcheck_set_throttle(struct bnc_pwcheck *c,
                              const struct bnc_throttle_conf *t);

/* Checks (user, pw) for the client of req (req->client_addr: its network
 * is throttled; req may be NULL only without a throttle). BNC_ALLOW:
 * res->id filled (auth_type "Basic"; callers change it) and, if u is not
 * NULL, *u gets the user record (caller cleans it with bnc_user_cleanup).
 * A user name that bnc_user_name_valid() refuses is answered as by
 * bnc_pwcheck_refuse() (same 401 as a wrong password, no lookup, no hash).
 * BNC_DENY: 401 with BNC_PWCHECK_WRONG or BNC_PWCHECK_INACTIVE, or 429
 * "throttled" with res->retry_after when the user name or the client's
 * network is banned (then no hash was computed, whatever the password);
 * reason in res->reason. BNC_ERROR: store trouble. res->throttle_done is
 * set when the throttle ran. */
enum bnc_verdict bnc_pwcheck_verify(struct bnc_pwcheck *c,
                                    const struct bnc_request *req,
                                    const char *user, const char *pw,
                                    size_t pwlen, struct bnc_result *res);
enum bnc_verdict bnc_pwcheck_verify_user(struct bnc_pwcheck *c,
                                         const struct bnc_request *req,
                                         const char *user, const char *pw,
                                         size_t pwlen, struct bnc_result *res,
                                         struct bnc_user *u);
/* A password attempt refused before any lookup, for a reason that depends
 * on nothing stored (an empty password where Apache asks; a user name no
 * user can have is refused this way by bnc_pwcheck_verify itself): the
 * network's throttle gate first (429 when banned), else BNC_DENY 401
 * BNC_PWCHECK_WRONG, counted for the network like every password guess
 * (no fingerprint, so repeating it is no way around the count). No hash
 * is computed: no timing cover is needed. why goes to res->reason. */
enum bnc_verdict bnc_pwcheck_refuse(struct bnc_pwcheck *c,
                                    const struct bnc_request *req,
                                    struct bnc_result *res, const char *why);

#endif
