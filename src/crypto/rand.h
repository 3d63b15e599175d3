/* SPDX-License-Identifier: MIT */
/* CSPRNG bytes (OpenSSL RAND_bytes). */
#ifndef BNC_CRYPTO_RAND_H
#define BNC_CRYPTO_RAND_H

#include <stddef.h>

/* Returns 0, or -1 if the generator failed (never partial output). */
int bnc_rand_bytes(void *buf, size_t n) __attribute__((warn_unused_result));

#endif
