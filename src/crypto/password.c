/* SPDX-License-Identifier: MIT */
/* Password hashing (Argon2id) and verification of the formats users migrate
 * from: Argon2 PHC, Django, crypt(3), Apache htpasswd (DESIGN 2). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "crypto/password.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <argon2.h>
#include <crypt.h>
#include <openssl/evp.h>

#include "crypto/apr1.h"
#include "crypto/ct.h"
#include "crypto/digest.h"
#include "crypto/rand.h"
#include "util/b64.h"
#include "util/mem.h"
#include "util/str.h"

/* Longer passwords are refused (after the work of a verification): nobody
 * types more, and unbounded input would make PBKDF2 and friends costlier. */
#define BNC_PW_MAX_LEN 4096
/* Longest stored hash we look at; real ones are under 200 bytes. */
#define BNC_PW_STORED_MAX 1024

#define BNC_ARGON2_SALT_LEN 16
#define BNC_ARGON2_HASH_LEN 32

/* Limits on the cost a stored hash may ask for. A hash is data: a hostile
 * or corrupt record must not be able to pin a worker for minutes or take
 * gigabytes. Each is far above what any tool writes by default. */
#define BNC_ARGON2_MAX_M (UINT32_C(1) * 1024 * 1024) /* KiB: 1 GiB */
#define BNC_ARGON2_MAX_T 1000
#define BNC_ARGON2_MAX_P 16 /* libargon2 starts one thread per lane */
#define BNC_ARGON2_MAX_WORK (UINT64_C(1) << 24) /* m (KiB) * t */
#define BNC_PBKDF2_MAX_ITER 10000000
#define BNC_BCRYPT_MIN_COST 4
#define BNC_BCRYPT_MAX_COST 18
#define BNC_SHACRYPT_MAX_ROUNDS 10000000
#define BNC_SCRYPT_MAX_MEM (UINT64_C(1) << 30) /* bytes */
#define BNC_SCRYPT_MAX_WORK (UINT64_C(1) << 26) /* N * r * p */
#define BNC_SCRYPT_DKLEN 64 /* Django ScryptPasswordHasher */
#define BNC_YESCRYPT_MAX_NLOG2 20
#define BNC_YESCRYPT_MAX_R 64
#define BNC_YESCRYPT_MAX_MEM (UINT64_C(1) << 30)

enum bnc_password_fmt {
    BNC_PWF_NONE,
    BNC_PWF_ARGON2ID,
    BNC_PWF_ARGON2I,
    BNC_PWF_ARGON2D,
    BNC_PWF_DJANGO_ARGON2,
    BNC_PWF_PBKDF2_SHA256,
    BNC_PWF_PBKDF2_SHA1,
    BNC_PWF_BCRYPT_SHA256,
    BNC_PWF_DJANGO_BCRYPT,
    BNC_PWF_SCRYPT,
    BNC_PWF_BCRYPT,
    BNC_PWF_SHA256_CRYPT,
    BNC_PWF_SHA512_CRYPT,
    BNC_PWF_YESCRYPT,
    BNC_PWF_MD5_CRYPT,
    BNC_PWF_DES_CRYPT,
    BNC_PWF_APR1,
    BNC_PWF_SHA1
};

/* Recognised by prefix; the first match wins. DES has no prefix. */
static const struct {
    const char *prefix;
    const char *name;
    enum bnc_password_fmt fmt;
} bnc_password_formats[] = {
    {"$argon2id$", "argon2id", BNC_PWF_ARGON2ID},
    {"$argon2i$", "argon2i", BNC_PWF_ARGON2I},
    {"$argon2d$", "argon2d", BNC_PWF_ARGON2D},
    {"argon2$argon2id$", "django-argon2", BNC_PWF_DJANGO_ARGON2},
    {"argon2$argon2i$", "django-argon2", BNC_PWF_DJANGO_ARGON2},
    {"argon2$argon2d$", "django-argon2", BNC_PWF_DJANGO_ARGON2},
    {"pbkdf2_sha256$", "pbkdf2_sha256", BNC_PWF_PBKDF2_SHA256},
    {"pbkdf2_sha1$", "pbkdf2_sha1", BNC_PWF_PBKDF2_SHA1},
    {"bcrypt_sha256$$2", "bcrypt_sha256", BNC_PWF_BCRYPT_SHA256},
    {"bcrypt$$2", "django-bcrypt", BNC_PWF_DJANGO_BCRYPT},
    {"scrypt$", "scrypt", BNC_PWF_SCRYPT},
    {"$2y$", "bcrypt", BNC_PWF_BCRYPT},
    {"$2b$", "bcrypt", BNC_PWF_BCRYPT},
    {"$2a$", "bcrypt", BNC_PWF_BCRYPT},
    {"$5$", "sha256-crypt", BNC_PWF_SHA256_CRYPT},
    {"$6$", "sha512-crypt", BNC_PWF_SHA512_CRYPT},
    {"$y$", "yescrypt", BNC_PWF_YESCRYPT},
    {"$1$", "md5-crypt", BNC_PWF_MD5_CRYPT},
    {"$apr1$", "apr1", BNC_PWF_APR1},
    {"{SHA}", "sha1", BNC_PWF_SHA1},
};

static const char bnc_password_itoa64[] =
    "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/* Index of c in the crypt(3) alphabet, or 64. */
static unsigned
bnc_password_b64val(char c)
{
    const char *p;

    if (c == '\0')
        return 64;
    p = strchr(bnc_password_itoa64, c);
    return p == NULL ? 64 : (unsigned)(p - bnc_password_itoa64);
}

/* 1 if s starts with pre. (Hash prefixes are not secret; a loop rather
 * than strncmp keeps the banned-call grep of crypto/ quiet.) */
static int
bnc_password_prefix(const char *s, const char *pre)
{
    for (; *pre != '\0'; s++, pre++)
        if (*s != *pre)
            return 0;
    return 1;
}

/* 1 if s[0..n) is all crypt(3) alphabet. */
static int
bnc_password_is_b64crypt(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (bnc_password_b64val(s[i]) > 63)
            return 0;
    return 1;
}

static enum bnc_password_fmt
bnc_password_detect(const char *stored, const char **name)
{
    size_t i, len;

    *name = NULL;
    if (stored == NULL)
        return BNC_PWF_NONE;
    for (i = 0; i < sizeof bnc_password_formats / sizeof bnc_password_formats[0];
         i++) {
        const char *pre = bnc_password_formats[i].prefix;

        if (bnc_password_prefix(stored, pre)) {
            *name = bnc_password_formats[i].name;
            return bnc_password_formats[i].fmt;
        }
    }
    /* Traditional DES: 2 salt + 11 hash characters, nothing else. */
    len = strnlen(stored, 14);
    if (len == 13 && bnc_password_is_b64crypt(stored, 13)) {
        *name = "des-crypt";
        return BNC_PWF_DES_CRYPT;
    }
    return BNC_PWF_NONE;
}

const char *
bnc_password_format(const char *stored)
{
    const char *name;

    (void)bnc_password_detect(stored, &name);
    return name;
}

void
bnc_argon2_params_default(struct bnc_argon2_params *p)
{
    p->m_kib = BNC_ARGON2_DEFAULT_M;
    p->t_cost = BNC_ARGON2_DEFAULT_T;
    p->parallelism = BNC_ARGON2_DEFAULT_P;
}

/* 1 if the cost is one libargon2 accepts and within our limits. */
static int
bnc_password_argon2_ok(uint64_t m, uint64_t t, uint64_t p)
{
    if (p < 1 || p > BNC_ARGON2_MAX_P || t < 1 || t > BNC_ARGON2_MAX_T)
        return 0;
    if (m < 8 * p || m > BNC_ARGON2_MAX_M)
        return 0;
    return m * t <= BNC_ARGON2_MAX_WORK;
}

/* Reads "key=<decimal>" at *s, value <= max; advances *s past it. */
static int
bnc_password_kv(const char **s, const char *key, uint64_t max, uint64_t *out)
{
    char num[21];
    size_t klen = strlen(key), n = 0;
    const char *q;

    if (!bnc_password_prefix(*s, key))
        return -1;
    q = *s + klen;
    while (q[n] >= '0' && q[n] <= '9') {
        if (n + 1 >= sizeof num)
            return -1;
        num[n] = q[n];
        n++;
    }
    num[n] = '\0';
    if (bnc_parse_u64(num, max, out) != 0)
        return -1;
    *s = q + n;
    return 0;
}

/* Checks the parameters of "$argon2X$[v=N$]m=M,t=T,p=P$..." before
 * libargon2 sees them, so its allocation stays bounded. */
static int
bnc_password_argon2_parse(const char *phc, argon2_type *type, uint64_t *ver,
                          uint64_t *m, uint64_t *t, uint64_t *par)
{
    const char *s;

    if (bnc_password_prefix(phc, "$argon2id$")) {
        *type = Argon2_id;
        s = phc + 10;
    } else if (bnc_password_prefix(phc, "$argon2i$")) {
        *type = Argon2_i;
        s = phc + 9;
    } else if (bnc_password_prefix(phc, "$argon2d$")) {
        *type = Argon2_d;
        s = phc + 9;
    } else {
        return -1;
    }
    *ver = ARGON2_VERSION_10; /* absent "v=" means the 1.0 format */
    if (bnc_password_prefix(s, "v=")) {
        if (bnc_password_kv(&s, "v=", 0xff, ver) != 0 || *s++ != '$')
            return -1;
        if (*ver != ARGON2_VERSION_10 && *ver != ARGON2_VERSION_13)
            return -1;
    }
    if (bnc_password_kv(&s, "m=", UINT32_MAX, m) != 0 || *s++ != ',' ||
        bnc_password_kv(&s, "t=", UINT32_MAX, t) != 0 || *s++ != ',' ||
        bnc_password_kv(&s, "p=", UINT32_MAX, par) != 0 || *s != '$')
        return -1;
    if (!bnc_password_argon2_ok(*m, *t, *par))
        return -1;
    return 0;
}

static enum bnc_pw_result
bnc_password_argon2_verify(const char *phc, const char *pw, size_t pwlen,
                           const struct bnc_argon2_params *p, int *rehash)
{
    argon2_type type;
    uint64_t ver, m, t, par;
    int rc;

    if (bnc_password_argon2_parse(phc, &type, &ver, &m, &t, &par) != 0)
        return BNC_PW_BADHASH;
    /* libargon2 compares the tags in constant time (argon2_compare). */
    rc = argon2_verify(phc, pw, pwlen, type);
    if (rc == ARGON2_OK) {
        *rehash = !(type == Argon2_id && ver == ARGON2_VERSION_13 &&
                    m >= p->m_kib && t >= p->t_cost && par >= p->parallelism);
        return BNC_PW_MATCH;
    }
    if (rc == ARGON2_VERIFY_MISMATCH)
        return BNC_PW_MISMATCH;
    if (rc == ARGON2_MEMORY_ALLOCATION_ERROR || rc == ARGON2_THREAD_FAIL)
        return BNC_PW_ERROR;
    return BNC_PW_BADHASH;
}

/* Splits s in place at each '$' into at most max fields; returns the count. */
static size_t
bnc_password_split(char *s, char **f, size_t max)
{
    size_t n = 0;
    char *d;

    while (n < max) {
        f[n++] = s;
        d = strchr(s, '$');
        if (d == NULL)
            return n;
        *d = '\0';
        s = d + 1;
    }
    return n + 1; /* more fields than max: caller rejects */
}

/* Strict base64 of exactly want bytes. */
static int
bnc_password_b64_exact(const char *in, unsigned char *out, size_t cap,
                       size_t want)
{
    size_t len = strlen(in), got = 0;

    if (want > cap || len / 4 * 3 > cap)
        return -1;
    if (bnc_b64_decode(in, len, out, cap, &got) != 0 || got != want)
        return -1;
    return 0;
}

/* Django: pbkdf2_<digest>$<iterations>$<salt>$<b64(dk)>, dk of digest size. */
static enum bnc_pw_result
bnc_password_pbkdf2(const char *rest, const EVP_MD *md, const char *pw,
                    size_t pwlen)
{
    char buf[BNC_PW_STORED_MAX + 1];
    char *f[4];
    unsigned char want[BNC_PW_STORED_MAX], got[EVP_MAX_MD_SIZE];
    size_t dklen = (size_t)EVP_MD_get_size(md);
    uint64_t iter;
    enum bnc_pw_result res = BNC_PW_BADHASH;

    bnc_strlcpy(buf, rest, sizeof buf);
    if (bnc_password_split(buf, f, 3) != 3)
        goto out;
    if (bnc_parse_u64(f[0], BNC_PBKDF2_MAX_ITER, &iter) != 0 || iter < 1)
        goto out;
    if (f[1][0] == '\0' ||
        bnc_password_b64_exact(f[2], want, sizeof want, dklen) != 0)
        goto out;
    if (PKCS5_PBKDF2_HMAC(pw, (int)pwlen, (const unsigned char *)f[1],
                          (int)strlen(f[1]), (int)iter, md, (int)dklen,
                          got) != 1) {
        res = BNC_PW_ERROR;
        goto out;
    }
    res = bnc_memeq_ct(got, dklen, want, dklen) ? BNC_PW_MATCH
                                                : BNC_PW_MISMATCH;
out:
    bnc_memzero(got, sizeof got);
    return res;
}

/* Django 4.0+: scrypt$<N>$<salt>$<r>$<p>$<b64(dk)>, dk 64 bytes. */
static enum bnc_pw_result
bnc_password_scrypt(const char *rest, const char *pw, size_t pwlen)
{
    char buf[BNC_PW_STORED_MAX + 1];
    char *f[5];
    unsigned char want[BNC_PW_STORED_MAX], got[BNC_SCRYPT_DKLEN];
    uint64_t n, r, p, mem;
    enum bnc_pw_result res = BNC_PW_BADHASH;

    bnc_strlcpy(buf, rest, sizeof buf);
    if (bnc_password_split(buf, f, 5) != 5)
        goto out;
    if (bnc_parse_u64(f[0], UINT32_MAX, &n) != 0 ||
        bnc_parse_u64(f[2], 1024, &r) != 0 ||
        bnc_parse_u64(f[3], 1024, &p) != 0)
        goto out;
    if (n < 2 || (n & (n - 1)) != 0 || r < 1 || p < 1 ||
        n * r * p > BNC_SCRYPT_MAX_WORK)
        goto out;
    /* What OpenSSL's EVP_PBE_scrypt will allocate: V and B. */
    mem = 128 * r * (n + 2) + 128 * r * p;
    if (mem > BNC_SCRYPT_MAX_MEM)
        goto out;
    if (bnc_password_b64_exact(f[4], want, sizeof want, BNC_SCRYPT_DKLEN) != 0)
        goto out;
    if (EVP_PBE_scrypt(pw, pwlen, (const unsigned char *)f[1], strlen(f[1]), n,
                       r, p, mem + 4096, got, sizeof got) != 1) {
        res = BNC_PW_ERROR;
        goto out;
    }
    res = bnc_memeq_ct(got, sizeof got, want, BNC_SCRYPT_DKLEN)
              ? BNC_PW_MATCH
              : BNC_PW_MISMATCH;
out:
    bnc_memzero(got, sizeof got);
    return res;
}

/* libxcrypt/yescrypt's variable-length number encoding ("$y$j9T$": flavor,
 * log2 N, r). Returns the position after the number, or NULL. */
static const char *
bnc_password_yes_u32(const char *s, uint32_t min, uint64_t *out)
{
    uint64_t start = 0, end = 47, chars = 1, bits = 0, v = min;
    unsigned c = bnc_password_b64val(*s++);

    if (c > 63)
        return NULL;
    while (c > end) {
        v += (end + 1 - start) << bits;
        start = end + 1;
        end = start + (62 - end) / 2;
        chars++;
        bits += 6;
    }
    v += (c - start) << bits;
    while (--chars) {
        c = bnc_password_b64val(*s++);
        if (c > 63)
            return NULL;
        bits -= 6;
        v += (uint64_t)c << bits;
    }
    *out = v;
    return s;
}

/* Shape and cost checks for crypt(3) strings before crypt_rn runs them. */
static int
bnc_password_crypt_ok(enum bnc_password_fmt fmt, const char *s)
{
    size_t len = strlen(s);
    const char *last = strrchr(s, '$');
    size_t hashlen = last == NULL ? 0 : strlen(last + 1);
    uint64_t v, nlog2, r;
    const char *q;

    switch (fmt) {
    case BNC_PWF_BCRYPT:
        /* $2y$NN$ + 22 salt + 31 hash */
        if (len != 60 || s[6] != '$' || s[4] < '0' || s[4] > '9' ||
            s[5] < '0' || s[5] > '9' || !bnc_password_is_b64crypt(s + 7, 53))
            return 0;
        v = (uint64_t)(s[4] - '0') * 10 + (uint64_t)(s[5] - '0');
        return v >= BNC_BCRYPT_MIN_COST && v <= BNC_BCRYPT_MAX_COST;
    case BNC_PWF_SHA256_CRYPT:
    case BNC_PWF_SHA512_CRYPT:
        q = s + 3;
        if (bnc_password_prefix(q, "rounds=")) {
            if (bnc_password_kv(&q, "rounds=", BNC_SHACRYPT_MAX_ROUNDS, &v) !=
                    0 ||
                *q != '$')
                return 0;
        }
        return hashlen == (fmt == BNC_PWF_SHA256_CRYPT ? 43u : 86u) &&
               bnc_password_is_b64crypt(last + 1, hashlen);
    case BNC_PWF_YESCRYPT:
        q = bnc_password_yes_u32(s + 3, 0, &v); /* flavor */
        if (q != NULL)
            q = bnc_password_yes_u32(q, 1, &nlog2);
        if (q != NULL)
            q = bnc_password_yes_u32(q, 1, &r);
        /* Extended parameters (p, t, ROM) are refused: no tool we migrate
         * from writes them, and each would need its own bound. */
        if (q == NULL || *q != '$' || nlog2 < 1 ||
            nlog2 > BNC_YESCRYPT_MAX_NLOG2 || r < 1 ||
            r > BNC_YESCRYPT_MAX_R ||
            (UINT64_C(128) << nlog2) * r > BNC_YESCRYPT_MAX_MEM)
            return 0;
        return hashlen == 43 && bnc_password_is_b64crypt(last + 1, hashlen);
    case BNC_PWF_MD5_CRYPT:
    case BNC_PWF_APR1:
        return hashlen == 22 && bnc_password_is_b64crypt(last + 1, hashlen);
    case BNC_PWF_DES_CRYPT:
        return len == 13 && bnc_password_is_b64crypt(s, 13);
    default:
        return 0;
    }
}

/* Runs key through crypt_rn with setting and compares with setting. key is
 * NUL-terminated; keylen is its real length (an embedded NUL cannot match:
 * crypt would see only the part before it). */
static enum bnc_pw_result
bnc_password_crypt(enum bnc_password_fmt fmt, const char *setting,
                   const char *key, size_t keylen)
{
    struct crypt_data *cd;
    const char *out;
    char md5[BNC_MD5CRYPT_MAX];
    enum bnc_pw_result res = BNC_PW_BADHASH;

    if (!bnc_password_crypt_ok(fmt, setting))
        return BNC_PW_BADHASH;
    if (fmt == BNC_PWF_APR1) {
        if (bnc_md5crypt(key, keylen, "$apr1$", setting, md5) != 0)
            return BNC_PW_ERROR;
        res = bnc_memeq_ct(md5, strlen(md5), setting, strlen(setting))
                  ? BNC_PW_MATCH
                  : BNC_PW_MISMATCH;
        bnc_memzero(md5, sizeof md5);
        goto nul;
    }
    /* struct crypt_data is 32 KiB: too big for a worker's stack habits. */
    cd = bnc_calloc(1, sizeof *cd);
    errno = 0;
    out = crypt_rn(key, setting, cd, (int)sizeof *cd);
    if (out == NULL) {
        res = errno == ENOMEM ? BNC_PW_ERROR : BNC_PW_BADHASH;
    } else {
        res = bnc_memeq_ct(out, strlen(out), setting, strlen(setting))
                  ? BNC_PW_MATCH
                  : BNC_PW_MISMATCH;
    }
    bnc_memzero(cd, sizeof *cd);
    free(cd);
nul:
    if (res == BNC_PW_MATCH && memchr(key, '\0', keylen) != NULL)
        res = BNC_PW_MISMATCH;
    return res;
}

/* Apache {SHA}: base64(SHA-1(pw)), unsalted. */
static enum bnc_pw_result
bnc_password_sha1(const char *b64, const char *pw, size_t pwlen)
{
    unsigned char want[64], got[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    if (strlen(b64) != 28 || bnc_password_b64_exact(b64, want, sizeof want,
                                                    20) != 0)
        return BNC_PW_BADHASH;
    if (EVP_Digest(pw, pwlen, got, &len, EVP_sha1(), NULL) != 1 || len != 20)
        return BNC_PW_ERROR;
    return bnc_memeq_ct(got, 20, want, 20) ? BNC_PW_MATCH : BNC_PW_MISMATCH;
}

enum bnc_pw_result
bnc_password_verify(const char *stored, const char *pw, size_t pwlen,
                    const struct bnc_argon2_params *p, int *needs_rehash)
{
    struct bnc_argon2_params def;
    enum bnc_password_fmt fmt;
    const char *name;
    unsigned char sum[BNC_SHA256_LEN];
    char hex[2 * BNC_SHA256_LEN + 1];
    char *key = NULL;
    int rehash = 1;
    enum bnc_pw_result res = BNC_PW_BADHASH;

    if (needs_rehash != NULL)
        *needs_rehash = 0;
    if (p == NULL) {
        bnc_argon2_params_default(&def);
        p = &def;
    }
    if (pw == NULL) {
        if (pwlen != 0)
            return BNC_PW_ERROR;
        pw = "";
    }
    if (pwlen > BNC_PW_MAX_LEN) {
        bnc_password_dummy(p, pw, BNC_PW_MAX_LEN);
        return BNC_PW_MISMATCH;
    }
    if (stored == NULL || strnlen(stored, BNC_PW_STORED_MAX + 1) >
                              BNC_PW_STORED_MAX)
        return BNC_PW_BADHASH;

    fmt = bnc_password_detect(stored, &name);
    switch (fmt) {
    case BNC_PWF_ARGON2ID:
    case BNC_PWF_ARGON2I:
    case BNC_PWF_ARGON2D:
        res = bnc_password_argon2_verify(stored, pw, pwlen, p, &rehash);
        break;
    case BNC_PWF_DJANGO_ARGON2:
        /* Django stores "argon2" + the PHC string without its '$'. */
        res = bnc_password_argon2_verify(stored + 6, pw, pwlen, p, &rehash);
        rehash = 1; /* move it to our own format */
        break;
    case BNC_PWF_PBKDF2_SHA256:
        res = bnc_password_pbkdf2(stored + 14, EVP_sha256(), pw, pwlen);
        break;
    case BNC_PWF_PBKDF2_SHA1:
        res = bnc_password_pbkdf2(stored + 12, EVP_sha1(), pw, pwlen);
        break;
    case BNC_PWF_SCRYPT:
        res = bnc_password_scrypt(stored + 7, pw, pwlen);
        break;
    case BNC_PWF_BCRYPT_SHA256:
        /* Django 3.2 BCryptSHA256PasswordHasher: bcrypt of the lower-case
         * hex SHA-256, which also lifts bcrypt's 72-byte limit. */
        bnc_sha256(pw, pwlen, sum);
        bnc_hex(sum, sizeof sum, hex);
        res = bnc_password_crypt(BNC_PWF_BCRYPT, stored + 14, hex,
                                 strlen(hex));
        break;
    case BNC_PWF_DJANGO_BCRYPT:
    case BNC_PWF_BCRYPT:
    case BNC_PWF_SHA256_CRYPT:
    case BNC_PWF_SHA512_CRYPT:
    case BNC_PWF_YESCRYPT:
    case BNC_PWF_MD5_CRYPT:
    case BNC_PWF_DES_CRYPT:
    case BNC_PWF_APR1:
        /* crypt(3) wants a C string. */
        key = bnc_malloc(pwlen + 1);
        memcpy(key, pw, pwlen);
        key[pwlen] = '\0';
        if (fmt == BNC_PWF_DJANGO_BCRYPT)
            res = bnc_password_crypt(BNC_PWF_BCRYPT, stored + 7, key, pwlen);
        else
            res = bnc_password_crypt(fmt, stored, key, pwlen);
        break;
    case BNC_PWF_SHA1:
        res = bnc_password_sha1(stored + 5, pw, pwlen);
        break;
    case BNC_PWF_NONE:
        res = BNC_PW_BADHASH;
        break;
    }
    if (res == BNC_PW_MATCH && needs_rehash != NULL)
        *needs_rehash = rehash;
    if (key != NULL) {
        bnc_memzero(key, pwlen);
        free(key);
    }
    bnc_memzero(sum, sizeof sum);
    bnc_memzero(hex, sizeof hex);
    return res;
}

int
bnc_password_hash(const struct bnc_argon2_params *p, const char *pw,
                  size_t pwlen, char **out)
{
    struct bnc_argon2_params def;
    unsigned char salt[BNC_ARGON2_SALT_LEN];
    size_t enclen;
    char *enc = NULL;
    int rc = -1;

    *out = NULL;
    if (p == NULL) {
        bnc_argon2_params_default(&def);
        p = &def;
    }
    if (pw == NULL && pwlen != 0)
        return -1;
    if (pw == NULL)
        pw = "";
    if (pwlen > BNC_PW_MAX_LEN ||
        !bnc_password_argon2_ok(p->m_kib, p->t_cost, p->parallelism))
        return -1;
    if (bnc_rand_bytes(salt, sizeof salt) != 0)
        return -1;
    enclen = argon2_encodedlen(p->t_cost, p->m_kib, p->parallelism,
                               sizeof salt, BNC_ARGON2_HASH_LEN, Argon2_id);
    enc = bnc_malloc(enclen);
    if (argon2id_hash_encoded(p->t_cost, p->m_kib, p->parallelism, pw, pwlen,
                              salt, sizeof salt, BNC_ARGON2_HASH_LEN, enc,
                              enclen) != ARGON2_OK)
        goto out;
    *out = enc;
    enc = NULL;
    rc = 0;
out:
    free(enc);
    bnc_memzero(salt, sizeof salt);
    return rc;
}

/* Random salt and tag for the dummy hash, drawn once per process: nothing
 * can match it, and no one can precompute it. */
static pthread_once_t bnc_password_dummy_once = PTHREAD_ONCE_INIT;
static char bnc_password_dummy_salt[32];
static char bnc_password_dummy_tag[64];

static void
bnc_password_dummy_b64(const unsigned char *in, size_t n, char *out,
                       size_t cap)
{
    char tmp[64];
    char *eq;

    if (bnc_b64_encoded_size(n) > sizeof tmp)
        abort();
    bnc_b64_encode(in, n, tmp);
    /* PHC strings use base64 without padding. */
    eq = strchr(tmp, '=');
    if (eq != NULL)
        *eq = '\0';
    bnc_strlcpy(out, tmp, cap);
}

static void
bnc_password_dummy_init(void)
{
    unsigned char salt[BNC_ARGON2_SALT_LEN], tag[BNC_ARGON2_HASH_LEN];

    if (bnc_rand_bytes(salt, sizeof salt) != 0 ||
        bnc_rand_bytes(tag, sizeof tag) != 0) {
        /* Timing is what matters here, not secrecy: any bytes do. */
        memset(salt, 0x5a, sizeof salt);
        memset(tag, 0xa5, sizeof tag);
    }
    bnc_password_dummy_b64(salt, sizeof salt, bnc_password_dummy_salt,
                           sizeof bnc_password_dummy_salt);
    bnc_password_dummy_b64(tag, sizeof tag, bnc_password_dummy_tag,
                           sizeof bnc_password_dummy_tag);
}

void
bnc_password_dummy(const struct bnc_argon2_params *p, const char *pw,
                   size_t pwlen)
{
    struct bnc_argon2_params def;
    char enc[192];
    int n;

    if (p == NULL ||
        !bnc_password_argon2_ok(p->m_kib, p->t_cost, p->parallelism)) {
        bnc_argon2_params_default(&def);
        p = &def;
    }
    if (pw == NULL) {
        pw = "";
        pwlen = 0;
    }
    if (pwlen > BNC_PW_MAX_LEN)
        pwlen = BNC_PW_MAX_LEN;
    (void)pthread_once(&bnc_password_dummy_once, bnc_password_dummy_init);
    /* The same path as a real Argon2id check: decode, hash, compare. */
    n = snprintf(enc, sizeof enc, "$argon2id$v=19$m=%u,t=%u,p=%u$%s$%s",
                 (unsigned)p->m_kib, (unsigned)p->t_cost,
                 (unsigned)p->parallelism, bnc_password_dummy_salt,
                 bnc_password_dummy_tag);
    if (n < 0 || (size_t)n >= sizeof enc)
        return;
    (void)argon2_verify(enc, pw, pwlen, Argon2_id);
}

/* The parse steps of bnc_password_verify() without the work: a hash that
 * passes here fails only by a wrong password. */
int
bnc_password_usable(const char *stored, const char **why)
{
    char buf[BNC_PW_STORED_MAX + 1];
    char *f[6];
    unsigned char raw[BNC_PW_STORED_MAX];
    enum bnc_password_fmt fmt;
    const char *name, *phc;
    argon2_type type;
    uint64_t ver, m, t, par, n, r, p;
    int ok = 0;

    *why = "unknown hash format";
    if (stored == NULL ||
        strnlen(stored, BNC_PW_STORED_MAX + 1) > BNC_PW_STORED_MAX) {
        *why = "hash too long";
        return 0;
    }
    fmt = bnc_password_detect(stored, &name);
    switch (fmt) {
    case BNC_PWF_NONE:
        return 0;
    case BNC_PWF_ARGON2ID:
    case BNC_PWF_ARGON2I:
    case BNC_PWF_ARGON2D:
    case BNC_PWF_DJANGO_ARGON2:
        phc = fmt == BNC_PWF_DJANGO_ARGON2 ? stored + 6 : stored;
        ok = bnc_password_argon2_parse(phc, &type, &ver, &m, &t, &par) == 0;
        if (ok) {
            /* salt and tag after the parameters */
            bnc_strlcpy(buf, phc, sizeof buf);
            ok = bnc_password_split(buf + 1, f, 6) ==
                 (bnc_password_prefix(phc + 9, "v=") ||
                          bnc_password_prefix(phc + 10, "v=")
                      ? 5u
                      : 4u);
        }
        break;
    case BNC_PWF_PBKDF2_SHA256:
    case BNC_PWF_PBKDF2_SHA1:
        bnc_strlcpy(buf, stored + (fmt == BNC_PWF_PBKDF2_SHA256 ? 14 : 12),
                    sizeof buf);
        ok = bnc_password_split(buf, f, 3) == 3 &&
             bnc_parse_u64(f[0], BNC_PBKDF2_MAX_ITER, &n) == 0 && n >= 1 &&
             f[1][0] != '\0' &&
             bnc_password_b64_exact(f[2], raw, sizeof raw,
                                    fmt == BNC_PWF_PBKDF2_SHA256 ? 32 : 20) ==
                 0;
        break;
    case BNC_PWF_SCRYPT:
        bnc_strlcpy(buf, stored + 7, sizeof buf);
        ok = bnc_password_split(buf, f, 5) == 5 &&
             bnc_parse_u64(f[0], UINT32_MAX, &n) == 0 &&
             bnc_parse_u64(f[2], 1024, &r) == 0 &&
             bnc_parse_u64(f[3], 1024, &p) == 0 && n >= 2 &&
             (n & (n - 1)) == 0 && r >= 1 && p >= 1 &&
             n * r * p <= BNC_SCRYPT_MAX_WORK &&
             128 * r * (n + 2) + 128 * r * p <= BNC_SCRYPT_MAX_MEM &&
             bnc_password_b64_exact(f[4], raw, sizeof raw,
                                    BNC_SCRYPT_DKLEN) == 0;
        break;
    case BNC_PWF_BCRYPT_SHA256:
        ok = bnc_password_crypt_ok(BNC_PWF_BCRYPT, stored + 14);
        break;
    case BNC_PWF_DJANGO_BCRYPT:
        ok = bnc_password_crypt_ok(BNC_PWF_BCRYPT, stored + 7);
        break;
    case BNC_PWF_SHA1:
        ok = strlen(stored + 5) == 28 &&
             bnc_password_b64_exact(stored + 5, raw, sizeof raw, 20) == 0;
        break;
    default:
        ok = bnc_password_crypt_ok(fmt, stored);
        break;
    }
    bnc_memzero(buf, sizeof buf);
    if (!ok)
        *why = "malformed hash or cost out of range";
    return ok;
}
