/* SPDX-License-Identifier: MIT */
/* CSPRNG bytes (OpenSSL RAND_bytes). */
#ifndef BNC_CRYPTO_RAND_H
#define BNC_CRYPTO_RAND_H

#include <stddef.h>

/* Returns 0, or -1 if the generator failed (never partial output). */
int bnc_rand_bytes(void *buf, size_t n) __attribute__((warn_unused_result));
/* A public id: prefix + 13 base32 characters (RFC 4648 alphabet, lower
 * case) of 64 random bits, e.g. "tk_..." or "ss_...". size must hold
 * strlen(prefix) + 14. Returns 0, or -1 (generator failed, or too small). */
int bnc_rand_id(const char *prefix, char *out, size_t size)
    __attribute__((warn_unused_result));

#endif
