/* SPDX-License-Identifier: MIT */
/* Password hashing (Argon2id) and verification of migrated formats (DESIGN 2). */
#ifndef BNC_CRYPTO_PASSWORD_H
#define BNC_CRYPTO_PASSWORD_H

#include <stddef.h>
#include <stdint.h>

/* Argon2id cost for new hashes. Defaults: OWASP's m=19 MiB, t=2, p=1. */
struct bnc_argon2_params {
    uint32_t m_kib;
    uint32_t t_cost;
    uint32_t parallelism;
};
#define BNC_ARGON2_DEFAULT_M 19456
#define BNC_ARGON2_DEFAULT_T 2
#define BNC_ARGON2_DEFAULT_P 1
void bnc_argon2_params_default(struct bnc_argon2_params *p);

enum bnc_pw_result {
    BNC_PW_MATCH = 1,
    BNC_PW_MISMATCH,
    BNC_PW_BADHASH,   /* stored hash unknown or malformed: never matches */
    BNC_PW_ERROR      /* resource failure (out of memory in argon2, ...) */
};

/* New Argon2id PHC string ("$argon2id$v=19$m=...,t=...,p=...$salt$hash"),
 * 16-byte random salt, 32-byte hash. *out is malloc'ed; caller frees.
 * Returns 0 or -1. */
int bnc_password_hash(const struct bnc_argon2_params *p, const char *pw,
                      size_t pwlen, char **out) __attribute__((warn_unused_result));

/* Checks pw against any supported stored format:
 *   $argon2id$/$argon2i$/$argon2d$ PHC; Django argon2$..., pbkdf2_sha256$...,
 *   pbkdf2_sha1$..., bcrypt_sha256$..., bcrypt$..., scrypt$...;
 *   crypt(3) $2y$ $2b$ $2a$ $5$ $6$ $y$ $1$ and 13-char DES;
 *   Apache $apr1$ and {SHA}.
 * Comparison is constant-time. If p is not NULL and the result is MATCH,
 * *needs_rehash is set to 1 when the hash is not Argon2id with at least p's
 * cost (legacy format: re-hash on login). needs_rehash may be NULL. */
enum bnc_pw_result bnc_password_verify(const char *stored, const char *pw,
                                       size_t pwlen,
                                       const struct bnc_argon2_params *p,
                                       int *needs_rehash);

/* Spends the time of one verification with params p, for unknown users, so
 * that "no such user" and "wrong password" cost the same. */
void bnc_password_dummy(const struct bnc_argon2_params *p, const char *pw,
                        size_t pwlen);

/* Short name of a stored hash's format ("argon2id", "bcrypt", "pbkdf2_sha256",
 * "sha512-crypt", "apr1", "sha1", ...), or NULL when unrecognised. Static. */
const char *bnc_password_format(const char *stored);

/* 1 if stored is in a format bnc_password_verify() knows and its shape and
 * cost are ones it would run (what an import must check before it takes a
 * hash it cannot try: it has no password), else 0 with *why (static). */
int bnc_password_usable(const char *stored, const char **why);

#endif
