/* SPDX-License-Identifier: MIT */
/* Unit tests for crypto/: constant-time compare, digests, password hashing
 * and verification against known-answer vectors made by the real tools. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <crypt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/apr1.h"
#include "crypto/ct.h"
#include "crypto/digest.h"
#include "crypto/password.h"
#include "crypto/rand.h"
#include "unit.h"

/* Small Argon2 cost: fast tests; every vector in the file is at least this. */
static const struct bnc_argon2_params bnc_test_small = {8, 1, 1};
static const struct bnc_argon2_params bnc_test_fast = {1024, 1, 1};
/* Above every vector: anything that matches must want a re-hash. */
static const struct bnc_argon2_params bnc_test_huge = {4194304, 1000, 255};

struct bnc_test_vec {
    char *fmt;
    char *pw;
    char *hash;
};

static struct bnc_test_vec *bnc_test_vecs;
static size_t bnc_test_nvecs;

static int
bnc_test_load(void)
{
    const char *dir = getenv("BNC_TEST_DATA");
    char path[4096], line[8192];
    FILE *f;
    size_t cap = 0;

    if (dir == NULL || *dir == '\0')
        dir = "tests/data";
    snprintf(path, sizeof path, "%s/passwords/vectors.txt", dir);
    f = fopen(path, "r");
    if (f == NULL) {
        fprintf(stderr, "cannot open %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        char *t1, *t2, *nl;
        struct bnc_test_vec *v;

        if (line[0] == '#' || line[0] == '\n')
            continue;
        nl = strchr(line, '\n');
        if (nl != NULL)
            *nl = '\0';
        t1 = strchr(line, '\t');
        t2 = t1 == NULL ? NULL : strchr(t1 + 1, '\t');
        if (t2 == NULL) {
            fprintf(stderr, "bad vector line: %s\n", line);
            fclose(f);
            return -1;
        }
        *t1 = '\0';
        *t2 = '\0';
        if (bnc_test_nvecs == cap) {
            cap = cap ? cap * 2 : 64;
            bnc_test_vecs = realloc(bnc_test_vecs, cap * sizeof *v);
            if (bnc_test_vecs == NULL)
                abort();
        }
        v = &bnc_test_vecs[bnc_test_nvecs++];
        v->fmt = strdup(line);
        v->pw = strdup(t1 + 1);
        v->hash = strdup(t2 + 1);
    }
    fclose(f);
    return bnc_test_nvecs > 0 ? 0 : -1;
}

static int
bnc_test_init(void)
{
    return bnc_test_load() == 0 ? 0 : 1;
}

static int
bnc_test_fini(void)
{
    size_t i;

    for (i = 0; i < bnc_test_nvecs; i++) {
        free(bnc_test_vecs[i].fmt);
        free(bnc_test_vecs[i].pw);
        free(bnc_test_vecs[i].hash);
    }
    free(bnc_test_vecs);
    return 0;
}

static double
bnc_test_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_password_ct(void)
{
    CU_ASSERT_EQUAL(bnc_memeq_ct("abc", 3, "abc", 3), 1);
    CU_ASSERT_EQUAL(bnc_memeq_ct("abc", 3, "abd", 3), 0);
    CU_ASSERT_EQUAL(bnc_memeq_ct("abc", 3, "abcabc", 6), 0);
    CU_ASSERT_EQUAL(bnc_memeq_ct("abcabc", 6, "abc", 3), 0);
    CU_ASSERT_EQUAL(bnc_memeq_ct("ab", 2, "abc", 3), 0);
    CU_ASSERT_EQUAL(bnc_memeq_ct("", 0, "", 0), 1);
    CU_ASSERT_EQUAL(bnc_memeq_ct(NULL, 0, "a", 1), 0);
    CU_ASSERT_EQUAL(bnc_memeq_ct("a", 1, NULL, 0), 0);
    CU_ASSERT_EQUAL(bnc_memeq_ct("\x00\x00", 2, "\x00", 1), 0);
}

static void
test_password_wipe(void)
{
    char buf[16] = "secret";
    char *s = strdup("secret");

    bnc_memzero(buf, sizeof buf);
    CU_ASSERT_EQUAL(buf[0], 0);
    CU_ASSERT_EQUAL(buf[5], 0);
    bnc_memzero(NULL, 10);
    bnc_str_wipe_free(s);
    bnc_str_wipe_free(NULL);
}

static void
test_password_digest(void)
{
    unsigned char out[BNC_SHA256_LEN];
    char hex[2 * BNC_SHA256_LEN + 1];
    unsigned char r1[32], r2[32];

    bnc_sha256("abc", 3, out);
    bnc_hex(out, sizeof out, hex);
    CU_ASSERT_STRING_EQUAL(hex, "ba7816bf8f01cfea414140de5dae2223"
                                "b00361a396177a9cb410ff61f20015ad");
    bnc_sha256("", 0, out);
    bnc_hex(out, sizeof out, hex);
    CU_ASSERT_STRING_EQUAL(hex, "e3b0c44298fc1c149afbf4c8996fb924"
                                "27ae41e4649b934ca495991b7852b855");
    /* RFC 4231 test case 2. */
    bnc_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, out);
    bnc_hex(out, sizeof out, hex);
    CU_ASSERT_STRING_EQUAL(hex, "5bdcc146bf60754e6a042426089575c7"
                                "5a003f089d2739839dec58b964ec3843");
    /* The same through the pre-keyed form, message split in parts. */
    {
        struct bnc_hmac_key k;
        const void *parts[3] = {"what do ya ", "want for ", "nothing?"};
        size_t lens[3] = {11, 9, 8};
        unsigned char longkey[131];

        CU_ASSERT_EQUAL_FATAL(bnc_hmac_key_init(&k, "Jefe", 4), 0);
        bnc_hmac_sha256_parts(&k, 3, parts, lens, out);
        bnc_hex(out, sizeof out, hex);
        CU_ASSERT_STRING_EQUAL(hex, "5bdcc146bf60754e6a042426089575c7"
                                    "5a003f089d2739839dec58b964ec3843");
        bnc_hmac_key_cleanup(&k);
        /* RFC 4231 test case 6: a key longer than the block is hashed. */
        memset(longkey, 0xaa, sizeof(longkey));
        CU_ASSERT_EQUAL_FATAL(bnc_hmac_key_init(&k, longkey, sizeof(longkey)), 0);
        parts[0] = "Test Using Larger Than Block-Size Key - Hash Key First";
        lens[0] = 54;
        bnc_hmac_sha256_parts(&k, 1, parts, lens, out);
        bnc_hex(out, sizeof out, hex);
        CU_ASSERT_STRING_EQUAL(hex, "60e431591ee0b67f0d8a26aacbf5b77f"
                                    "8e0bc6213728c5140546040f0ee37f54");
        bnc_hmac_key_cleanup(&k);
    }
    bnc_hex((const unsigned char *)"\x00\xff", 2, hex);
    CU_ASSERT_STRING_EQUAL(hex, "00ff");

    CU_ASSERT_EQUAL(bnc_rand_bytes(r1, sizeof r1), 0);
    CU_ASSERT_EQUAL(bnc_rand_bytes(r2, sizeof r2), 0);
    CU_ASSERT_FALSE(memcmp(r1, r2, sizeof r1) == 0);
}

/* Every vector: right password matches, wrong ones do not, format named,
 * re-hash wanted for everything but strong-enough Argon2id. */
static void
test_password_vectors(void)
{
    size_t i, counted[2] = {0, 0};

    for (i = 0; i < bnc_test_nvecs; i++) {
        const struct bnc_test_vec *v = &bnc_test_vecs[i];
        size_t len = strlen(v->pw);
        char *other = malloc(len + 2);
        const char *fmt = bnc_password_format(v->hash);
        enum bnc_pw_result r;
        int rehash = -1;
        int is_id = strcmp(v->fmt, "argon2id") == 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(other);
        CU_ASSERT_PTR_NOT_NULL(fmt);
        if (fmt == NULL || strcmp(fmt, v->fmt) != 0)
            fprintf(stderr, "vector %zu: format %s, want %s\n", i,
                    fmt ? fmt : "(null)", v->fmt);
        else
            CU_PASS("format");
        CU_ASSERT(fmt != NULL && strcmp(fmt, v->fmt) == 0);

        r = bnc_password_verify(v->hash, v->pw, len, &bnc_test_small, &rehash);
        if (r != BNC_PW_MATCH)
            fprintf(stderr, "vector %zu (%s, \"%s\"): %d, want MATCH\n", i,
                    v->fmt, v->pw, (int)r);
        CU_ASSERT_EQUAL(r, BNC_PW_MATCH);
        CU_ASSERT_EQUAL(rehash, is_id ? 0 : 1);
        counted[r == BNC_PW_MATCH]++;
        if (is_id) {
            rehash = -1;
            CU_ASSERT_EQUAL(bnc_password_verify(v->hash, v->pw, len,
                                                &bnc_test_huge, &rehash),
                            BNC_PW_MATCH);
            CU_ASSERT_EQUAL(rehash, 1);
        }
        /* needs_rehash may be NULL. */
        CU_ASSERT_EQUAL(bnc_password_verify(v->hash, v->pw, len, NULL, NULL),
                        BNC_PW_MATCH);

        /* A wrong password, and the right one with one bit of its first
         * character flipped (first: DES and bcrypt ignore the tail). */
        rehash = -1;
        CU_ASSERT_EQUAL(bnc_password_verify(v->hash, "wrong-password", 14,
                                            &bnc_test_small, &rehash),
                        BNC_PW_MISMATCH);
        CU_ASSERT_EQUAL(rehash, 0);
        memcpy(other, v->pw, len + 1);
        if (len > 0) {
            other[0] ^= 0x01;
        } else {
            other[0] = 'x';
            other[1] = '\0';
            len = 1;
        }
        CU_ASSERT_EQUAL(bnc_password_verify(v->hash, other, len,
                                            &bnc_test_small, NULL),
                        BNC_PW_MISMATCH);
        /* The right password with one more byte (except where the format
         * reads only the first 8 (DES) or 72 (bcrypt) bytes). */
        memcpy(other, v->pw, strlen(v->pw));
        other[strlen(v->pw)] = '!';
        if ((strcmp(v->fmt, "des-crypt") != 0 || strlen(v->pw) < 8) &&
            ((strcmp(v->fmt, "bcrypt") != 0 &&
              strcmp(v->fmt, "django-bcrypt") != 0) ||
             strlen(v->pw) < 72))
            CU_ASSERT_EQUAL(bnc_password_verify(v->hash, other,
                                                strlen(v->pw) + 1,
                                                &bnc_test_small, NULL),
                            BNC_PW_MISMATCH);
        free(other);
    }
    fprintf(stderr, "\n  %zu vectors, %zu matched\n", bnc_test_nvecs,
            counted[1]);
    CU_ASSERT(bnc_test_nvecs >= 100);
}

/* Cut vectors: never a match; half a hash is always BADHASH, and so is a
 * crypt(3)-style hash one character short. */
static void
test_password_truncated(void)
{
    static const char *const strict[] = {
        "bcrypt", "sha256-crypt", "sha512-crypt", "yescrypt", "md5-crypt",
        "apr1", "sha1", "pbkdf2_sha256", "pbkdf2_sha1", "bcrypt_sha256",
        "django-bcrypt", "scrypt", "des-crypt", NULL};
    size_t i, j;

    for (i = 0; i < bnc_test_nvecs; i++) {
        const struct bnc_test_vec *v = &bnc_test_vecs[i];
        size_t len = strlen(v->hash);
        char *h = strdup(v->hash);
        enum bnc_pw_result r;
        int is_strict = 0;

        CU_ASSERT_PTR_NOT_NULL_FATAL(h);
        for (j = 0; strict[j] != NULL; j++)
            if (strcmp(strict[j], v->fmt) == 0)
                is_strict = 1;
        h[len - 1] = '\0';
        r = bnc_password_verify(h, v->pw, strlen(v->pw), &bnc_test_small,
                                NULL);
        CU_ASSERT_NOT_EQUAL(r, BNC_PW_MATCH);
        if (is_strict) {
            if (r != BNC_PW_BADHASH)
                fprintf(stderr, "short %s: %d\n", h, (int)r);
            CU_ASSERT_EQUAL(r, BNC_PW_BADHASH);
        }
        h[len / 2] = '\0';
        CU_ASSERT_EQUAL(bnc_password_verify(h, v->pw, strlen(v->pw),
                                            &bnc_test_small, NULL),
                        BNC_PW_BADHASH);
        free(h);
    }
}

static void
test_password_hash_fresh(void)
{
    char *a = NULL, *b = NULL, *c = NULL;
    struct bnc_argon2_params def, more = bnc_test_fast;
    int rehash = -1;
    const char pw[] = "pässwörd:密码";

    CU_ASSERT_EQUAL_FATAL(bnc_password_hash(&bnc_test_fast, pw, strlen(pw),
                                            &a), 0);
    CU_ASSERT_EQUAL_FATAL(bnc_password_hash(&bnc_test_fast, pw, strlen(pw),
                                            &b), 0);
    CU_ASSERT_STRING_NOT_EQUAL(a, b); /* random salt */
    CU_ASSERT_EQUAL(strncmp(a, "$argon2id$v=19$m=1024,t=1,p=1$", 30), 0);
    /* 16-byte salt (22 chars) and 32-byte hash (43 chars), unpadded. */
    CU_ASSERT_EQUAL(strlen(a), 30 + 22 + 1 + 43);
    CU_ASSERT_STRING_EQUAL(bnc_password_format(a), "argon2id");
    CU_ASSERT_EQUAL(bnc_password_verify(a, pw, strlen(pw), &bnc_test_fast,
                                        &rehash),
                    BNC_PW_MATCH);
    CU_ASSERT_EQUAL(rehash, 0);
    more.t_cost = 2;
    CU_ASSERT_EQUAL(bnc_password_verify(a, pw, strlen(pw), &more, &rehash),
                    BNC_PW_MATCH);
    CU_ASSERT_EQUAL(rehash, 1);
    more = bnc_test_fast;
    more.m_kib = 2048;
    CU_ASSERT_EQUAL(bnc_password_verify(b, pw, strlen(pw), &more, &rehash),
                    BNC_PW_MATCH);
    CU_ASSERT_EQUAL(rehash, 1);
    more = bnc_test_fast;
    more.parallelism = 2;
    CU_ASSERT_EQUAL(bnc_password_verify(b, pw, strlen(pw), &more, &rehash),
                    BNC_PW_MATCH);
    CU_ASSERT_EQUAL(rehash, 1);
    CU_ASSERT_EQUAL(bnc_password_verify(a, pw, strlen(pw) - 1, &bnc_test_fast,
                                        &rehash),
                    BNC_PW_MISMATCH);

    /* The default cost, and NULL meaning the default. */
    bnc_argon2_params_default(&def);
    CU_ASSERT_EQUAL(def.m_kib, 19456);
    CU_ASSERT_EQUAL(def.t_cost, 2);
    CU_ASSERT_EQUAL(def.parallelism, 1);
    CU_ASSERT_EQUAL_FATAL(bnc_password_hash(NULL, "", 0, &c), 0);
    CU_ASSERT_EQUAL(strncmp(c, "$argon2id$v=19$m=19456,t=2,p=1$", 31), 0);
    CU_ASSERT_EQUAL(bnc_password_verify(c, "", 0, &def, &rehash),
                    BNC_PW_MATCH);
    CU_ASSERT_EQUAL(rehash, 0);
    CU_ASSERT_EQUAL(bnc_password_verify(c, "x", 1, &def, &rehash),
                    BNC_PW_MISMATCH);
    free(a);
    free(b);
    free(c);

    /* Refused: absurd cost, overlong password. */
    more.m_kib = 4;
    more.t_cost = 1;
    more.parallelism = 1;
    CU_ASSERT_EQUAL(bnc_password_hash(&more, "x", 1, &a), -1);
    CU_ASSERT_PTR_NULL(a);
}

static void
test_password_long(void)
{
    size_t n = 4097;
    char *pw = malloc(n);
    char *h = NULL;

    CU_ASSERT_PTR_NOT_NULL_FATAL(pw);
    memset(pw, 'z', n);
    CU_ASSERT_EQUAL(bnc_password_hash(&bnc_test_fast, pw, n, &h), -1);
    CU_ASSERT_EQUAL_FATAL(bnc_password_hash(&bnc_test_fast, pw, n - 1, &h),
                          0);
    CU_ASSERT_EQUAL(bnc_password_verify(h, pw, n - 1, &bnc_test_fast, NULL),
                    BNC_PW_MATCH);
    /* One byte over the limit: refused even though the first 4096 match. */
    CU_ASSERT_EQUAL(bnc_password_verify(h, pw, n, &bnc_test_fast, NULL),
                    BNC_PW_MISMATCH);
    CU_ASSERT_EQUAL(bnc_password_verify("{SHA}", pw, n, &bnc_test_fast, NULL),
                    BNC_PW_MISMATCH);
    free(h);
    free(pw);
}

/* crypt(3) sees a C string: a password with a NUL must not match the hash
 * of its prefix. */
static void
test_password_embedded_nul(void)
{
    struct crypt_data cd;
    const char *h;
    char *copy;

    memset(&cd, 0, sizeof cd);
    h = crypt_r("abc", "$6$saltsalt$", &cd);
    CU_ASSERT_PTR_NOT_NULL_FATAL(h);
    copy = strdup(h);
    CU_ASSERT_EQUAL(bnc_password_verify(copy, "abc", 3, NULL, NULL),
                    BNC_PW_MATCH);
    CU_ASSERT_EQUAL(bnc_password_verify(copy, "abc\0def", 7, NULL, NULL),
                    BNC_PW_MISMATCH);
    CU_ASSERT_EQUAL(bnc_password_verify(copy, "abc\0", 4, NULL, NULL),
                    BNC_PW_MISMATCH);
    free(copy);
    CU_ASSERT_EQUAL(bnc_password_verify(NULL, "abc", 3, NULL, NULL),
                    BNC_PW_BADHASH);
}

/* apr1 is md5-crypt with another magic: our code with "$1$" must agree
 * with libxcrypt's. */
static void
test_password_md5crypt(void)
{
    static const char *const pws[] = {"", "a", "password", "pässwörd",
                                      "0123456789abcdef0123456789abcdefX"};
    static const char *const salts[] = {"$1$abcdefgh$", "$1$x$", "$1$$",
                                        "$1$12345678901$"};
    struct crypt_data cd;
    char out[BNC_MD5CRYPT_MAX];
    size_t i, j;

    for (i = 0; i < sizeof pws / sizeof pws[0]; i++) {
        for (j = 0; j < sizeof salts / sizeof salts[0]; j++) {
            const char *want;

            memset(&cd, 0, sizeof cd);
            want = crypt_r(pws[i], salts[j], &cd);
            CU_ASSERT_PTR_NOT_NULL_FATAL(want);
            CU_ASSERT_EQUAL_FATAL(bnc_md5crypt(pws[i], strlen(pws[i]), "$1$",
                                               salts[j], out),
                                  0);
            CU_ASSERT_STRING_EQUAL(out, want);
        }
    }
    CU_ASSERT_EQUAL(bnc_md5crypt("a", 1, "$apr1$", "$1$abc$", out), -1);
}

static void
test_password_hostile(void)
{
    static const char *const bad[] = {
        "",
        "!",
        "*",
        "!!",
        "$",
        "$$",
        "$2y$",
        "$2y$05$",
        "$2y$99$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        "$2y$31$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        "$2y$03$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        "$2y$0a$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        "$2y$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2aw!",
        "$2x$05$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        "$argon2id$",
        "$argon2id$v=19$m=99999999999,t=1,p=1$c29tZXNhbHQ$"
        "iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=19$m=4194305,t=1,p=1$c29tZXNhbHQ$"
        "iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=19$m=65536,t=4294967295,p=1$c29tZXNhbHQ$"
        "iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=19$m=4194304,t=100,p=1$c29tZXNhbHQ$"
        "iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=19$m=65536,t=1,p=0$c29tZXNhbHQ$"
        "iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=19$m=65536,t=1,p=99999$c29tZXNhbHQ$"
        "iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=20$m=65536,t=1,p=1$c29tZXNhbHQ$"
        "iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$",
        "$argon2id$v=19$m=1024,t=1,p=1$$iWh06vD8Fy27wf9npn6FXWiCX4K6pW6Ue1Bnzz07Z8A",
        "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$!!!!",
        "$argon2id$v=19$m=,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXW",
        "$argon2id$v=19$m=-1,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXW",
        "$argon2x$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf9npn6FXW",
        "argon2$argon2id$v=19$m=99999999,t=1,p=1$c29tZXNhbHQ$iWh06vD8Fy27wf",
        "argon2$",
        "pbkdf2_sha256$999999999$x$y",
        "pbkdf2_sha256$10000001$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2_sha256$0$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2_sha256$-1$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2_sha256$1000$salt$AAAA",
        "pbkdf2_sha256$1000$$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2_sha256$1000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=$",
        "pbkdf2_sha256$1000$salt",
        "pbkdf2_sha256$",
        "pbkdf2_sha1$1000$salt$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
        "pbkdf2_sha512$1000$salt$AAAA",
        "scrypt$1073741824$salt$8$1$AAAA",
        "scrypt$16384$salt$8$1$AAAA",
        "scrypt$1000$salt$8$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "scrypt$16384$salt$8$9999$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "scrypt$4294967296$salt$8$1$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
        "scrypt$",
        "bcrypt_sha256$",
        "bcrypt_sha256$$2b$",
        "bcrypt$$2b$12$short",
        "bcrypt$$2b$25$abcdefghijklmnopqrstuuWG29KuyeAicPCJODk1zjyGvyQUU2awu",
        "$5$rounds=999999999$salt$"
        "6va2Z4O.keO7R84v9g0B9d2NkB7NOyTy0sMeQ5Z3LLA",
        "$6$rounds=99999999999999999999999$salt$x",
        "$6$salt$short",
        "$6$",
        "$5$",
        "$y$",
        "$y$j9T$",
        "$y$jzz$abcdefghijklmnopqrstu$jQVYo6jMt/SKKTk7/lrak4sfrVg67c.1m5Zy1VdqZn1",
        "$y$jFT$dbpBdSeMnw8qIl2X.r9Ly1$Nu22peqRKJpCrAvSlHaiaIn0RcepFZfOi6Fccyke",
        "$1$",
        "$1$abc$",
        "$1$abc$!!!!!!!!!!!!!!!!!!!!!!",
        "$apr1$",
        "$apr1$abc$short",
        "{SHA}",
        "{SHA}!!!!",
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g",
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g==",
        "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g= ",
        "{SHA}AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "abcdefghijkl!",
        "abcdefghijkl",
        "abcdefghijklmn",
        "plaintext-password",
        "_J9..abcdIPPmXD22F8s",
        "$7$C6..../....SodiumChloride$kBGj9fHznVYFQMEn/qDCfrDevf9YDtcDdKvEqHJLV8D",
        "$gy$j9T$abc$def",
        "md5$salt$hash",
        NULL};
    size_t i;
    char *big;

    for (i = 0; bad[i] != NULL; i++) {
        enum bnc_pw_result r;
        int rehash = -1;
        double t0 = bnc_test_now();

        r = bnc_password_verify(bad[i], "password", 8, &bnc_test_small,
                                &rehash);
        if (r != BNC_PW_BADHASH)
            fprintf(stderr, "hostile \"%s\": %d\n", bad[i], (int)r);
        CU_ASSERT_EQUAL(r, BNC_PW_BADHASH);
        CU_ASSERT_EQUAL(rehash, 0);
        /* Refused up front, not after minutes of work. */
        CU_ASSERT(bnc_test_now() - t0 < 2.0);
    }
    CU_ASSERT_PTR_NULL(bnc_password_format("plaintext-password"));
    CU_ASSERT_PTR_NULL(bnc_password_format(""));
    CU_ASSERT_PTR_NULL(bnc_password_format(NULL));

    /* Longer than any real hash. */
    big = malloc(5000);
    CU_ASSERT_PTR_NOT_NULL_FATAL(big);
    memcpy(big, "pbkdf2_sha256$1000$", 19);
    memset(big + 19, 'A', 5000 - 20);
    big[4999] = '\0';
    CU_ASSERT_EQUAL(bnc_password_verify(big, "x", 1, NULL, NULL),
                    BNC_PW_BADHASH);
    free(big);
}

static void
test_password_format(void)
{
    static const char *const map[][2] = {
        {"$argon2id$v=19$m=1024,t=1,p=1$x$y", "argon2id"},
        {"$argon2i$v=19$m=1024,t=1,p=1$x$y", "argon2i"},
        {"$argon2d$v=19$m=1024,t=1,p=1$x$y", "argon2d"},
        {"argon2$argon2id$v=19$m=1024,t=1,p=1$x$y", "django-argon2"},
        {"argon2$argon2i$v=19$m=1024,t=1,p=1$x$y", "django-argon2"},
        {"pbkdf2_sha256$1$a$b", "pbkdf2_sha256"},
        {"pbkdf2_sha1$1$a$b", "pbkdf2_sha1"},
        {"bcrypt_sha256$$2b$12$x", "bcrypt_sha256"},
        {"bcrypt$$2b$12$x", "django-bcrypt"},
        {"scrypt$16384$a$8$1$b", "scrypt"},
        {"$2y$05$x", "bcrypt"},
        {"$2b$05$x", "bcrypt"},
        {"$2a$05$x", "bcrypt"},
        {"$5$x$y", "sha256-crypt"},
        {"$6$x$y", "sha512-crypt"},
        {"$y$j9T$x$y", "yescrypt"},
        {"$1$x$y", "md5-crypt"},
        {"abJnggxhB/yWI", "des-crypt"},
        {"$apr1$x$y", "apr1"},
        {"{SHA}x", "sha1"},
    };
    size_t i;

    for (i = 0; i < sizeof map / sizeof map[0]; i++) {
        const char *f = bnc_password_format(map[i][0]);

        CU_ASSERT_PTR_NOT_NULL(f);
        if (f != NULL)
            CU_ASSERT_STRING_EQUAL(f, map[i][1]);
    }
}

static double
bnc_test_median3(double a, double b, double c)
{
    if ((a <= b && b <= c) || (c <= b && b <= a))
        return b;
    if ((b <= a && a <= c) || (c <= a && a <= b))
        return a;
    return c;
}

/* An unknown user costs about what a wrong password does. */
static void
test_password_dummy(void)
{
    struct bnc_argon2_params def;
    char *h = NULL;
    double t[3], d[3], real, dummy;
    int i;

    bnc_argon2_params_default(&def);
    CU_ASSERT_EQUAL_FATAL(bnc_password_hash(&def, "pw", 2, &h), 0);
    bnc_password_dummy(&def, "warm", 4); /* first call draws the salt */
    for (i = 0; i < 3; i++) {
        double t0 = bnc_test_now();

        CU_ASSERT_EQUAL(bnc_password_verify(h, "nope", 4, &def, NULL),
                        BNC_PW_MISMATCH);
        t[i] = bnc_test_now() - t0;
        t0 = bnc_test_now();
        bnc_password_dummy(&def, "nope", 4);
        d[i] = bnc_test_now() - t0;
    }
    real = bnc_test_median3(t[0], t[1], t[2]);
    dummy = bnc_test_median3(d[0], d[1], d[2]);
    fprintf(stderr, "\n  verify %.1f ms, dummy %.1f ms\n", real * 1e3,
            dummy * 1e3);
    /* Loose bounds: a busy CI machine is noisy, but a dummy that skipped
     * the work would be 1000 times faster. */
    CU_ASSERT(dummy > real * 0.3);
    CU_ASSERT(dummy < real * 3.0 + 0.01);
    /* NULL and silly params fall back to the default instead of failing. */
    bnc_password_dummy(NULL, NULL, 0);
    def.m_kib = 0;
    bnc_password_dummy(&def, "x", 1);
    free(h);
}

static const struct bnc_unit_case cases[] = {
    {"test_password_ct", test_password_ct},
    {"test_password_wipe", test_password_wipe},
    {"test_password_digest", test_password_digest},
    {"test_password_vectors", test_password_vectors},
    {"test_password_truncated", test_password_truncated},
    {"test_password_hash_fresh", test_password_hash_fresh},
    {"test_password_long", test_password_long},
    {"test_password_embedded_nul", test_password_embedded_nul},
    {"test_password_md5crypt", test_password_md5crypt},
    {"test_password_hostile", test_password_hostile},
    {"test_password_format", test_password_format},
    {"test_password_dummy", test_password_dummy},
    {NULL, NULL},
};

BNC_UNIT_MAIN("password", cases, bnc_test_init, bnc_test_fini)
