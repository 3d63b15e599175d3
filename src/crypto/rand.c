/* SPDX-License-Identifier: MIT */
/* CSPRNG bytes from OpenSSL's RAND_bytes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "crypto/rand.h"

#include <limits.h>
#include <stdint.h>
#include <string.h>

#include <openssl/rand.h>

#include "crypto/ct.h"

int
bnc_rand_bytes(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t left = n;
    int chunk;

    /* RAND_bytes takes an int: feed it in slices. */
    while (left > 0) {
        chunk = left > (size_t)INT_MAX ? INT_MAX : (int)left;
        if (RAND_bytes(p, chunk) != 1) {
            /* No partial output: a caller that ignores -1 still must not
             * get half-random key material. */
            bnc_memzero(buf, n);
            return -1;
        }
        p += chunk;
        left -= (size_t)chunk;
    }
    return 0;
}

int
bnc_rand_id(const char *prefix, char *out, size_t size)
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    size_t plen = strlen(prefix), i;
    unsigned char r[8];
    uint64_t v = 0;

    if (size < plen + 14)
        return -1;
    if (bnc_rand_bytes(r, sizeof(r)) != 0)
        return -1;
    for (i = 0; i < sizeof(r); i++)
        v = (v << 8) | r[i];
    memcpy(out, prefix, plen);
    /* 13 digits of 5 bits = 65 bits: the first carries the top 4. */
    for (i = 0; i < 13; i++) {
        unsigned shift = (unsigned)(60 - 5 * i);

        out[plen + i] = b32[i == 0 ? (v >> 60) & 0x0f : (v >> shift) & 0x1f];
    }
    out[plen + 13] = '\0';
    bnc_memzero(r, sizeof(r));
    return 0;
}
