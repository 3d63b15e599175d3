/* SPDX-License-Identifier: MIT */
/* SHA-256 and HMAC-SHA-256 over OpenSSL, and lower-case hex. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "crypto/digest.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

void
bnc_sha256(const void *data, size_t n, unsigned char out[BNC_SHA256_LEN])
{
    unsigned int len = 0;

    /* Fails only when OpenSSL cannot allocate; like bnc_malloc, abort
     * rather than hand back an uninitialised digest. */
    if (EVP_Digest(data, n, out, &len, EVP_sha256(), NULL) != 1 ||
        len != BNC_SHA256_LEN) {
        fputs("bouncer: SHA-256 failed (out of memory?)\n", stderr);
        abort();
    }
}

void
bnc_hmac_sha256(const void *key, size_t keylen, const void *data, size_t n,
                unsigned char out[BNC_SHA256_LEN])
{
    unsigned int len = 0;
    static const unsigned char nokey = 0;

    if (keylen > (size_t)INT_MAX) {
        fputs("bouncer: HMAC key too long\n", stderr);
        abort();
    }
    /* HMAC() rejects a NULL key even with length 0. */
    if (key == NULL)
        key = &nokey;
    if (HMAC(EVP_sha256(), key, (int)keylen, data, n, out, &len) == NULL ||
        len != BNC_SHA256_LEN) {
        fputs("bouncer: HMAC-SHA-256 failed (out of memory?)\n", stderr);
        abort();
    }
}

static void __attribute__((noreturn))
bnc_digest_fail(const char *what)
{
    fprintf(stderr, "bouncer: %s failed (out of memory?)\n", what);
    abort();
}

int
bnc_hmac_key_init(struct bnc_hmac_key *k, const void *key, size_t keylen)
{
    unsigned char block[64], ipad[64], opad[64];
    EVP_MD_CTX *in = NULL, *out = NULL;
    size_t i;
    int rc = -1;

    memset(block, 0, sizeof(block));
    /* RFC 2104: keys longer than the block are hashed first. */
    if (keylen > sizeof(block))
        bnc_sha256(key, keylen, block);
    else if (keylen > 0)
        memcpy(block, key, keylen);
    for (i = 0; i < sizeof(block); i++) {
        ipad[i] = block[i] ^ 0x36;
        opad[i] = block[i] ^ 0x5c;
    }
    in = EVP_MD_CTX_new();
    out = EVP_MD_CTX_new();
    if (in == NULL || out == NULL ||
        EVP_DigestInit_ex(in, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(in, ipad, sizeof(ipad)) != 1 ||
        EVP_DigestInit_ex(out, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(out, opad, sizeof(opad)) != 1)
        goto out;
    k->inner = in;
    k->outer = out;
    in = out = NULL;
    rc = 0;
out:
    EVP_MD_CTX_free(in);
    EVP_MD_CTX_free(out);
    OPENSSL_cleanse(block, sizeof(block));
    OPENSSL_cleanse(ipad, sizeof(ipad));
    OPENSSL_cleanse(opad, sizeof(opad));
    return rc;
}

void
bnc_hmac_key_cleanup(struct bnc_hmac_key *k)
{
    if (k == NULL)
        return;
    EVP_MD_CTX_free(k->inner);
    EVP_MD_CTX_free(k->outer);
    k->inner = k->outer = NULL;
}

void
bnc_hmac_sha256_parts(const struct bnc_hmac_key *k, size_t n,
                      const void *const *ptrs, const size_t *lens,
                      unsigned char out[BNC_SHA256_LEN])
{
    unsigned char inner[BNC_SHA256_LEN];
    unsigned int len = 0;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    size_t i;

    if (c == NULL || EVP_MD_CTX_copy_ex(c, k->inner) != 1)
        bnc_digest_fail("HMAC-SHA-256");
    for (i = 0; i < n; i++)
        if (lens[i] > 0 && EVP_DigestUpdate(c, ptrs[i], lens[i]) != 1)
            bnc_digest_fail("HMAC-SHA-256");
    if (EVP_DigestFinal_ex(c, inner, &len) != 1 ||
        EVP_MD_CTX_copy_ex(c, k->outer) != 1 ||
        EVP_DigestUpdate(c, inner, sizeof(inner)) != 1 ||
        EVP_DigestFinal_ex(c, out, &len) != 1 || len != BNC_SHA256_LEN)
        bnc_digest_fail("HMAC-SHA-256");
    EVP_MD_CTX_free(c);
    OPENSSL_cleanse(inner, sizeof(inner));
}

void
bnc_hex(const unsigned char *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[in[i] >> 4];
        out[2 * i + 1] = digits[in[i] & 0x0f];
    }
    out[2 * n] = '\0';
}
