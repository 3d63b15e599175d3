/* SPDX-License-Identifier: MIT */
/* Apache's "$apr1$" MD5-crypt (APR apr_md5.c), over OpenSSL's EVP MD5. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "crypto/apr1.h"

#include <string.h>

#include <openssl/evp.h>

#include "crypto/ct.h"

#define BNC_MD5CRYPT_SALT_MAX 8
#define BNC_MD5CRYPT_ROUNDS 1000

static const char bnc_md5crypt_itoa64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

static char *
bnc_md5crypt_to64(char *s, unsigned long v, int n)
{
    while (n-- > 0) {
        *s++ = bnc_md5crypt_itoa64[v & 0x3f];
        v >>= 6;
    }
    return s;
}

static int
bnc_md5crypt_upd(EVP_MD_CTX *ctx, const void *p, size_t n)
{
    return EVP_DigestUpdate(ctx, p, n) == 1 ? 0 : -1;
}

int
bnc_md5crypt(const char *pw, size_t pwlen, const char *magic,
             const char *setting, char out[BNC_MD5CRYPT_MAX])
{
    EVP_MD_CTX *ctx = NULL;
    const EVP_MD *md = EVP_md5();
    unsigned char fin[16];
    unsigned char zero = 0;
    size_t mlen = strlen(magic), slen, i;
    const char *salt;
    char *p;
    unsigned long l;
    int rc = -1;

    for (i = 0; i < mlen; i++)
        if (setting[i] != magic[i])
            goto out;
    salt = setting + mlen;
    for (slen = 0; slen < BNC_MD5CRYPT_SALT_MAX && salt[slen] != '\0' &&
                   salt[slen] != '$';
         slen++)
        ;
    if (mlen + slen + 1 + 22 + 1 > BNC_MD5CRYPT_MAX)
        goto out;
    ctx = EVP_MD_CTX_new();
    if (ctx == NULL)
        goto out;

    /* Alternate sum: MD5(pw salt pw). */
    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
        bnc_md5crypt_upd(ctx, pw, pwlen) || bnc_md5crypt_upd(ctx, salt, slen) ||
        bnc_md5crypt_upd(ctx, pw, pwlen) ||
        EVP_DigestFinal_ex(ctx, fin, NULL) != 1)
        goto out;

    if (EVP_DigestInit_ex(ctx, md, NULL) != 1 ||
        bnc_md5crypt_upd(ctx, pw, pwlen) || bnc_md5crypt_upd(ctx, magic, mlen) ||
        bnc_md5crypt_upd(ctx, salt, slen))
        goto out;
    for (i = pwlen; i > 0; i -= (i > 16 ? 16 : i))
        if (bnc_md5crypt_upd(ctx, fin, i > 16 ? 16 : i))
            goto out;
    /* The original wipes fin here and then feeds its first byte (now 0)
     * for each set bit: that quirk is part of the format. */
    for (i = pwlen; i > 0; i >>= 1)
        if (bnc_md5crypt_upd(ctx, (i & 1) ? (const void *)&zero
                                          : (const void *)pw, 1))
            goto out;
    if (EVP_DigestFinal_ex(ctx, fin, NULL) != 1)
        goto out;

    /* 1000 rounds to slow down dictionary attacks (as slow as 1995 allowed). */
    for (i = 0; i < BNC_MD5CRYPT_ROUNDS; i++) {
        if (EVP_DigestInit_ex(ctx, md, NULL) != 1)
            goto out;
        if ((i & 1) ? bnc_md5crypt_upd(ctx, pw, pwlen)
                    : bnc_md5crypt_upd(ctx, fin, 16))
            goto out;
        if ((i % 3) && bnc_md5crypt_upd(ctx, salt, slen))
            goto out;
        if ((i % 7) && bnc_md5crypt_upd(ctx, pw, pwlen))
            goto out;
        if ((i & 1) ? bnc_md5crypt_upd(ctx, fin, 16)
                    : bnc_md5crypt_upd(ctx, pw, pwlen))
            goto out;
        if (EVP_DigestFinal_ex(ctx, fin, NULL) != 1)
            goto out;
    }

    memcpy(out, magic, mlen);
    memcpy(out + mlen, salt, slen);
    p = out + mlen + slen;
    *p++ = '$';
    l = ((unsigned long)fin[0] << 16) | ((unsigned long)fin[6] << 8) | fin[12];
    p = bnc_md5crypt_to64(p, l, 4);
    l = ((unsigned long)fin[1] << 16) | ((unsigned long)fin[7] << 8) | fin[13];
    p = bnc_md5crypt_to64(p, l, 4);
    l = ((unsigned long)fin[2] << 16) | ((unsigned long)fin[8] << 8) | fin[14];
    p = bnc_md5crypt_to64(p, l, 4);
    l = ((unsigned long)fin[3] << 16) | ((unsigned long)fin[9] << 8) | fin[15];
    p = bnc_md5crypt_to64(p, l, 4);
    l = ((unsigned long)fin[4] << 16) | ((unsigned long)fin[10] << 8) | fin[5];
    p = bnc_md5crypt_to64(p, l, 4);
    l = fin[11];
    p = bnc_md5crypt_to64(p, l, 2);
    *p = '\0';
    rc = 0;
out:
    bnc_memzero(fin, sizeof fin);
    EVP_MD_CTX_free(ctx);
    return rc;
}
