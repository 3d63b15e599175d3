/* SPDX-License-Identifier: MIT */
/* SHA-256 and HMAC-SHA-256 over OpenSSL, and lower-case hex. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "crypto/digest.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

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
