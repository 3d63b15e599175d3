/* SPDX-License-Identifier: MIT */
/* Private to crypto/: MD5-crypt as Apache APR writes it ("$apr1$"). */
#ifndef BNC_CRYPTO_APR1_H
#define BNC_CRYPTO_APR1_H

#include <stddef.h>

/* Longest result: "$apr1$" + 8 salt + '$' + 22 hash + NUL. */
#define BNC_MD5CRYPT_MAX 48

/* MD5-crypt (the FreeBSD/APR algorithm, 1000 rounds) of pw with the salt
 * taken from setting, which starts with magic ("$apr1$" or "$1$"); the salt
 * ends at the first '$' or after 8 characters. Writes the full
 * "magic salt $ hash" string into out. Returns 0, or -1 if setting does
 * not start with magic or OpenSSL fails. */
int bnc_md5crypt(const char *pw, size_t pwlen, const char *magic,
                 const char *setting, char out[BNC_MD5CRYPT_MAX]);

#endif
