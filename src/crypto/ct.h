/* SPDX-License-Identifier: MIT */
/* Constant-time comparison and secret wiping. */
#ifndef BNC_CRYPTO_CT_H
#define BNC_CRYPTO_CT_H

#include <stddef.h>

/* 1 if equal. Time depends only on blen: pass the attacker-supplied value as
 * b and the stored secret as a, so neither the secret's contents nor its
 * length leak (lighttpd ck_memeq_const_time). */
int bnc_memeq_ct(const void *a, size_t alen, const void *b, size_t blen);
/* Wipes memory in a way the compiler cannot drop. NULL-safe. */
void bnc_memzero(void *p, size_t n);
/* Wipes and frees a NUL-terminated string. NULL-safe. */
void bnc_str_wipe_free(char *s);

#endif
