/* SPDX-License-Identifier: MIT */
/* SHA-256 and HMAC-SHA-256 over OpenSSL EVP. */
#ifndef BNC_CRYPTO_DIGEST_H
#define BNC_CRYPTO_DIGEST_H

#include <stddef.h>

#define BNC_SHA256_LEN 32

void bnc_sha256(const void *data, size_t n, unsigned char out[BNC_SHA256_LEN]);
void bnc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                     unsigned char out[BNC_SHA256_LEN]);
/* HMAC-SHA-256 under a fixed key, with the padded key blocks hashed once:
 * OpenSSL 3's one-shot HMAC() fetches and keys a MAC on every call, which
 * cost more than the rest of a cached decision. */
struct bnc_hmac_key {
    void *inner;   /* EVP_MD_CTX after (key ^ ipad) */
    void *outer;   /* EVP_MD_CTX after (key ^ opad) */
};
/* Returns 0, or -1 if OpenSSL failed. */
int bnc_hmac_key_init(struct bnc_hmac_key *k, const void *key, size_t keylen);
void bnc_hmac_key_cleanup(struct bnc_hmac_key *k);
/* HMAC over the concatenation of n parts (ptrs[i], lens[i]). Thread-safe:
 * the key contexts are only copied. */
void bnc_hmac_sha256_parts(const struct bnc_hmac_key *k, size_t n,
                           const void *const *ptrs, const size_t *lens,
                           unsigned char out[BNC_SHA256_LEN]);

/* Lower-case hex; out holds 2n+1. */
void bnc_hex(const unsigned char *in, size_t n, char *out);

#endif
