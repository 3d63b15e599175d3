/* SPDX-License-Identifier: MIT */
/* SHA-256 and HMAC-SHA-256 over OpenSSL EVP. */
#ifndef BNC_CRYPTO_DIGEST_H
#define BNC_CRYPTO_DIGEST_H

#include <stddef.h>

#define BNC_SHA256_LEN 32

void bnc_sha256(const void *data, size_t n, unsigned char out[BNC_SHA256_LEN]);
void bnc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                     unsigned char out[BNC_SHA256_LEN]);
/* Lower-case hex; out holds 2n+1. */
void bnc_hex(const unsigned char *in, size_t n, char *out);

#endif
