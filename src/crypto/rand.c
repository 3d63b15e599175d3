/* SPDX-License-Identifier: MIT */
/* CSPRNG bytes from OpenSSL's RAND_bytes. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "crypto/rand.h"

#include <limits.h>

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
