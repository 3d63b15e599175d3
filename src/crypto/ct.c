/* SPDX-License-Identifier: MIT */
/* Constant-time comparison and secret wiping. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "crypto/ct.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

int
bnc_memeq_ct(const void *a, size_t alen, const void *b, size_t blen)
{
    /* Volatile so the compiler cannot turn the loop into an early exit. */
    const volatile unsigned char *pa = a;
    const volatile unsigned char *pb = b;
    static const unsigned char zero = 0;
    size_t i, j = 0;
    size_t diff = alen ^ blen;
    unsigned char acc = 0;

    if (alen == 0) {
        /* Nothing to read on a's side; the length mismatch already counts
         * (or blen is 0 too and the loop does not run). */
        pa = &zero;
        alen = 1;
    }
    /* Walk blen bytes whatever alen is, wrapping a's index without a branch
     * or a division, so the time depends on blen only. */
    for (i = 0; i < blen; i++) {
        acc |= (unsigned char)(pa[j] ^ pb[i]);
        j++;
        j &= (size_t)0 - (size_t)(j < alen);
    }
    /* diff != 0 compiles to a flag set, not a branch. */
    return ((acc | (diff != 0)) == 0);
}

void
bnc_memzero(void *p, size_t n)
{
    if (p == NULL || n == 0)
        return;
#ifdef HAVE_EXPLICIT_BZERO
    explicit_bzero(p, n);
#else
    OPENSSL_cleanse(p, n);
#endif
}

void
bnc_str_wipe_free(char *s)
{
    if (s == NULL)
        return;
    bnc_memzero(s, strlen(s));
    free(s);
}
