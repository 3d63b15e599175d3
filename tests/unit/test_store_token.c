/* SPDX-License-Identifier: MIT */
/* API tokens in the store: record codec, add/get/list/revoke/touch, bulk load and lookup speed. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "store/store.h"
#include "util/err.h"
#include "util/mem.h"
#include "unit.h"

#define TEST_CACHE ((uint64_t)16 << 20)

/* ---- helpers ------------------------------------------------------------- */

static char *
test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    char *d;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    (void)snprintf(tmpl, sizeof(tmpl), "%s/bnc-token-XXXXXX", base);
    d = mkdtemp(tmpl);
    CU_ASSERT_FATAL(d != NULL);
    return bnc_strdup(d);
}

static int
test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    if (flag == FTW_DP)
        return rmdir(path);
    return unlink(path);
}

static void
test_rmrf(char *dir)
{
    if (dir == NULL)
        return;
    (void)nftw(dir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(dir);
}

static double
test_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static struct bnc_store *
test_open(const char *dir, char **path)
{
    struct bnc_store_opts o;
    struct bnc_store *s;
    struct bnc_err err;
    size_t n = strlen(dir) + 8;

    *path = bnc_malloc(n);
    (void)snprintf(*path, n, "%s/store", dir);
    memset(&o, 0, sizeof(o));
    o.path = *path;
    o.cache_bytes = TEST_CACHE;
    o.create = 1;
    bnc_err_clear(&err);
    s = bnc_store_open(&o, &err);
    if (s == NULL)
        fprintf(stderr, "open: %s\n", err.msg);
    return s;
}

static int
test_add_user(struct bnc_store *s, const char *name)
{
    struct bnc_user u;
    int rc;

    memset(&u, 0, sizeof(u));
    u.name = bnc_strdup(name);
    u.hash = bnc_strdup("!");
    rc = bnc_store_user_add(s, &u);
    bnc_user_cleanup(&u);
    return rc;
}

static const char test_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

/* Token number i of user: id tk_ + base32(i), digest = SHA-256("key-i"). */
static void
test_token(struct bnc_token *t, unsigned long i, const char *user)
{
    char key[64];
    int k;

    memset(t, 0, sizeof(*t));
    memcpy(t->id, "tk_", 3);
    for (k = 0; k < 13; k++)
        t->id[3 + k] = test_b32[(i >> (5 * (12 - k))) & 31];
    t->id[BNC_TOKEN_ID_LEN] = '\0';
    k = snprintf(key, sizeof(key), "key-%lu", i);
    bnc_sha256(key, (size_t)k, t->digest);
    t->user = (char *)user;
    t->created = 1700000000 + (int64_t)i;
}

static char **
test_strv(const char *a, const char *b)
{
    char **v = bnc_calloc(3, sizeof(char *));

    v[0] = bnc_strdup(a);
    v[1] = b != NULL ? bnc_strdup(b) : NULL;
    return v;
}

static void
test_full(struct bnc_token *t)
{
    test_token(t, 42, NULL);
    t->user = bnc_strdup("alice@example.org");
    t->label = bnc_strdup("CI deploy – ünïcode");
    t->expires = 1900000000;
    t->device = bnc_strdup("device-7");
    t->scopes = test_strv("read", "write:repo");
    t->cidrs = test_strv("10.0.0.0/8", "2001:db8::/32");
}

static int
test_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int
test_strv_eq(char **a, char **b)
{
    size_t i;

    if (a == NULL || b == NULL)
        return (a == NULL || a[0] == NULL) && (b == NULL || b[0] == NULL);
    for (i = 0; a[i] != NULL || b[i] != NULL; i++)
        if (!test_str_eq(a[i], b[i]))
            return 0;
    return 1;
}

static int
test_token_eq(const struct bnc_token *a, const struct bnc_token *b)
{
    return strcmp(a->id, b->id) == 0 &&
           memcmp(a->digest, b->digest, 32) == 0 &&
           test_str_eq(a->user, b->user) && test_str_eq(a->label, b->label) &&
           a->created == b->created && a->expires == b->expires &&
           test_str_eq(a->device, b->device) &&
           test_strv_eq(a->scopes, b->scopes) &&
           test_strv_eq(a->cidrs, b->cidrs);
}

static int
test_contains(const char *hay, const char *needle)
{
    return hay != NULL && strstr(hay, needle) != NULL;
}

/* ---- codec --------------------------------------------------------------- */

static void
test_store_token_codec_roundtrip(void)
{
    struct bnc_token t, back, min;
    unsigned char *rec = NULL, *rec2 = NULL;
    size_t len = 0, len2 = 0;
    struct bnc_err err;

    test_full(&t);
    CU_ASSERT_FATAL(bnc_token_encode(&t, &rec, &len) == 0);
    CU_ASSERT(rec[0] == BNC_TOKEN_RECORD_VERSION);
    CU_ASSERT(memcmp(rec + 1, t.id, BNC_TOKEN_ID_LEN) == 0);
    bnc_err_clear(&err);
    CU_ASSERT_FATAL(bnc_token_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(test_token_eq(&t, &back));
    CU_ASSERT(back.last_used == 0);
    /* Canonical: re-encoding gives the same bytes. */
    CU_ASSERT(bnc_token_encode(&back, &rec2, &len2) == 0);
    CU_ASSERT(len2 == len && memcmp(rec, rec2, len) == 0);
    free(rec2);
    bnc_token_cleanup(&back);
    free(rec);

    /* Minimal: no label, device, scopes or cidrs; "" label differs from
     * none. */
    test_token(&min, 7, "bob");
    CU_ASSERT_FATAL(bnc_token_encode(&min, &rec, &len) == 0);
    CU_ASSERT(bnc_token_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(test_token_eq(&min, &back));
    CU_ASSERT(back.label == NULL && back.scopes == NULL && back.cidrs == NULL &&
              back.device == NULL);
    bnc_token_cleanup(&back);
    free(rec);
    min.label = (char *)"";
    CU_ASSERT_FATAL(bnc_token_encode(&min, &rec, &len) == 0);
    CU_ASSERT(bnc_token_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(back.label != NULL && back.label[0] == '\0');
    bnc_token_cleanup(&back);
    free(rec);
    bnc_token_cleanup(&t);
    CU_ASSERT(t.user == NULL && t.scopes == NULL);
}

static void
test_store_token_codec_encode_rejects(void)
{
    struct bnc_token t;
    unsigned char *rec = (unsigned char *)"x";
    size_t len = 9;
    char *many[70];
    char big[600];
    int i;

    test_token(&t, 1, "bob");
    t.id[5] = '\0'; /* short id */
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
    CU_ASSERT(rec == NULL && len == 0);
    test_token(&t, 1, "bob");
    t.id[4] = '/';
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
    test_token(&t, 1, "bad:user");
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
    test_token(&t, 1, NULL);
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
    test_token(&t, 1, "bob");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    t.label = big;
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
    t.label = NULL;
    for (i = 0; i < 66; i++)
        many[i] = (char *)"s";
    many[66] = NULL;
    t.scopes = many;
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
    many[0] = (char *)"";
    many[1] = NULL;
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
    t.scopes = NULL;
    t.label = (char *)"\xff\xfe";
    CU_ASSERT(bnc_token_encode(&t, &rec, &len) == -1);
}

static void
test_reject(const unsigned char *p, size_t len, const char *want)
{
    struct bnc_token t;
    struct bnc_err err;

    bnc_err_clear(&err);
    memset(&t, 0x5a, sizeof(t));
    CU_ASSERT(bnc_token_decode(p, len, &t, &err) == -1);
    CU_ASSERT(t.user == NULL && t.scopes == NULL && t.label == NULL);
    if (want != NULL && !test_contains(err.msg, want)) {
        fprintf(stderr, "\n  want '%s', got '%s'\n", want, err.msg);
        CU_FAIL("decode error message");
    }
}

static void
test_store_token_codec_malformed(void)
{
    struct bnc_token t;
    unsigned char *rec = NULL, *cp;
    size_t len = 0, i, ulen_off;

    test_full(&t);
    CU_ASSERT_FATAL(bnc_token_encode(&t, &rec, &len) == 0);
    bnc_token_cleanup(&t);
    /* Truncation at every length. */
    test_reject(NULL, 0, "empty");
    for (i = 1; i < len; i++)
        test_reject(rec, i, "truncated");
    cp = bnc_malloc(len + 1);
    /* A trailing byte. */
    memcpy(cp, rec, len);
    cp[len] = 0;
    test_reject(cp, len + 1, "trailing");
    /* Versions. */
    memcpy(cp, rec, len);
    cp[0] = BNC_TOKEN_RECORD_VERSION + 1;
    test_reject(cp, len, "newer");
    cp[0] = 0;
    test_reject(cp, len, "not valid");
    /* Bad id, unknown flags. */
    memcpy(cp, rec, len);
    cp[5] = '/';
    test_reject(cp, len, "id");
    memcpy(cp, rec, len);
    cp[65] |= 0x80;
    test_reject(cp, len, "flag");
    /* Huge lengths: the user length, then a count. */
    ulen_off = 66;
    memcpy(cp, rec, len);
    cp[ulen_off] = 0xff;
    test_reject(cp, len, "more than");
    memcpy(cp, rec, len);
    cp[ulen_off + 3] = (unsigned char)(cp[ulen_off + 3] + 50);
    test_reject(cp, len, NULL);
    /* The cidr count is the last u32 field before its two items. */
    memcpy(cp, rec, len);
    for (i = len - 4; i > 66; i--) {
        if (cp[i] == 0 && cp[i + 1] == 0 && cp[i + 2] == 0 && cp[i + 3] == 2)
            break;
    }
    CU_ASSERT_FATAL(i > 66);
    cp[i] = 0x7f; /* about two billion cidrs announced */
    test_reject(cp, len, "cidrs");
    cp[i] = 0;
    cp[i + 3] = 60; /* 60 announced, bytes for only two */
    test_reject(cp, len, "truncated");
    /* A NUL inside the user name. */
    memcpy(cp, rec, len);
    cp[ulen_off + 5] = 0;
    test_reject(cp, len, "NUL");
    free(cp);
    free(rec);
}

static void
test_store_token_codec_fuzz(void)
{
    struct bnc_token t, back;
    unsigned char *rec = NULL, *cp, *again;
    size_t len = 0, len2, elen;
    struct bnc_err err;
    unsigned seed = 11;
    int i, k, ok = 0;

    test_full(&t);
    CU_ASSERT_FATAL(bnc_token_encode(&t, &rec, &len) == 0);
    bnc_token_cleanup(&t);
    cp = bnc_malloc(len);
    for (i = 0; i < 100000; i++) {
        memcpy(cp, rec, len);
        for (k = 0; k < 1 + (int)(rand_r(&seed) % 4); k++)
            cp[rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
        len2 = len - (rand_r(&seed) % 8 == 0 ? rand_r(&seed) % len : 0);
        if (bnc_token_decode(cp, len2, &back, &err) == 0) {
            ok++;
            /* Whatever decodes re-encodes to the same bytes. */
            again = NULL;
            CU_ASSERT_FATAL(bnc_token_encode(&back, &again, &elen) == 0);
            CU_ASSERT(elen == len2 && memcmp(again, cp, len2) == 0);
            free(again);
            bnc_token_cleanup(&back);
        }
    }
    CU_ASSERT(ok > 0);
    free(cp);
    free(rec);
}

/* ---- store --------------------------------------------------------------- */

struct test_list {
    char ids[64][BNC_TOKEN_ID_LEN + 1];
    int64_t used[64];
    size_t n;
    size_t stop_after;
};

static int
test_list_fn(const struct bnc_token *t, void *arg)
{
    struct test_list *l = arg;

    if (l->n < 64) {
        memcpy(l->ids[l->n], t->id, sizeof(t->id));
        l->used[l->n] = t->last_used;
    }
    l->n++;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static void
test_store_token_ops(void)
{
    char *tmp = test_tmpdir(), *path = NULL;
    struct bnc_store *s = test_open(tmp, &path);
    struct bnc_token t, got, other;
    struct test_list l;
    size_t count, i;

    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(test_add_user(s, "alice") == BNC_STORE_OK);
    CU_ASSERT(test_add_user(s, "bob") == BNC_STORE_OK);

    test_full(&t);
    free(t.user);
    t.user = bnc_strdup("alice");
    CU_ASSERT(bnc_store_token_add(s, &t) == BNC_STORE_OK);
    /* The same id again (another digest): EXISTS; the same digest: too. */
    test_token(&other, 42, "alice");
    other.digest[0] ^= 1;
    CU_ASSERT(bnc_store_token_add(s, &other) == BNC_STORE_EXISTS);
    test_token(&other, 43, "alice");
    memcpy(other.digest, t.digest, 32);
    CU_ASSERT(bnc_store_token_add(s, &other) == BNC_STORE_EXISTS);
    /* No such user. */
    test_token(&other, 44, "nobody");
    CU_ASSERT(bnc_store_token_add(s, &other) == BNC_STORE_NOTFOUND);

    CU_ASSERT(bnc_store_token_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(test_token_eq(&t, &got));
    bnc_token_cleanup(&got);
    CU_ASSERT(bnc_store_token_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(test_token_eq(&t, &got));
    CU_ASSERT(got.last_used == 0);
    bnc_token_cleanup(&got);
    CU_ASSERT(bnc_store_token_get(s, other.digest, &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_token_get_by_id(s, "tk_nosuchtoken1", &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_token_get_by_id(s, "short", &got) ==
              BNC_STORE_NOTFOUND);

    /* More tokens: alice 5 in all, bob 3, added out of id order. */
    for (i = 0; i < 7; i++) {
        unsigned long n = (unsigned long)(100 - i * 7);

        test_token(&other, n, i < 4 ? "alice" : "bob");
        CU_ASSERT(bnc_store_token_add(s, &other) == BNC_STORE_OK);
    }
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, "alice", test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 5);
    for (i = 1; i < l.n; i++)
        CU_ASSERT(strcmp(l.ids[i - 1], l.ids[i]) < 0);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, "bob", test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 3);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, NULL, test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 8);
    for (i = 1; i < l.n; i++)
        CU_ASSERT(strcmp(l.ids[i - 1], l.ids[i]) < 0);
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    CU_ASSERT(bnc_store_token_foreach(s, NULL, test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 2);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, "carol", test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 0);

    /* touch: at most one write a minute. */
    bnc_store_token_touch(s, t.id, 5000);
    CU_ASSERT(bnc_store_token_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_used == 5000);
    bnc_token_cleanup(&got);
    bnc_store_token_touch(s, t.id, 5030);
    bnc_store_token_touch(s, t.id, 5059);
    CU_ASSERT(bnc_store_token_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_used == 5000);
    bnc_token_cleanup(&got);
    /* The hot path does not read tokens_used.db. */
    CU_ASSERT(bnc_store_token_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_used == 0);
    bnc_token_cleanup(&got);
    bnc_store_token_touch(s, t.id, 5060);
    CU_ASSERT(bnc_store_token_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_used == 5060);
    bnc_token_cleanup(&got);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, "alice", test_list_fn, &l) ==
              BNC_STORE_OK);
    for (i = 0; i < l.n && i < 64; i++)
        if (strcmp(l.ids[i], t.id) == 0)
            CU_ASSERT(l.used[i] == 5060);
    /* Touching an unknown token writes nothing and does not fail. */
    bnc_store_token_touch(s, "tk_nosuchtoken1", 5000);
    CU_ASSERT(bnc_store_dead(s) == 0);

    /* revoke one. */
    CU_ASSERT(bnc_store_token_revoke(s, t.id) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_token_revoke(s, t.id) == BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_token_get(s, t.digest, &got) == BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_token_get_by_id(s, t.id, &got) == BNC_STORE_NOTFOUND);
    /* Its last-used entry went with it: re-adding starts at 0. */
    CU_ASSERT(bnc_store_token_add(s, &t) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_token_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_used == 0);
    bnc_token_cleanup(&got);

    /* revoke_user. */
    CU_ASSERT(bnc_store_token_revoke_user(s, "bob", &count) == BNC_STORE_OK);
    CU_ASSERT(count == 3);
    CU_ASSERT(bnc_store_token_revoke_user(s, "bob", &count) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(count == 0);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, NULL, test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 5);

    /* Deleting a user deletes their tokens in the same transaction. */
    bnc_store_token_touch(s, t.id, 9000);
    CU_ASSERT(bnc_store_user_del(s, "alice") == BNC_STORE_OK);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, NULL, test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 0);
    CU_ASSERT(bnc_store_token_get(s, t.digest, &got) == BNC_STORE_NOTFOUND);
    /* A new alice does not inherit anything, last-used included. */
    CU_ASSERT(test_add_user(s, "alice") == BNC_STORE_OK);
    CU_ASSERT(bnc_store_token_add(s, &t) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_token_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_used == 0);
    bnc_token_cleanup(&got);
    bnc_token_cleanup(&t);
    /* Admin views know the token files. */
    {
        char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        struct bnc_err err;

        CU_ASSERT_FATAL(f != NULL);
        bnc_err_clear(&err);
        CU_ASSERT(bnc_store_stats(s, f, &err) == 0);
        CU_ASSERT(bnc_store_verify(s, f, &err) == 0);
        fclose(f);
        CU_ASSERT(test_contains(text, "tokens.db"));
        CU_ASSERT(test_contains(text, "tokens_used.db"));
        CU_ASSERT(test_contains(text, "tokens           1\n"));
        free(text);
    }
    bnc_store_close(s);
    free(path);

    /* Durable and indexed after a reopen. */
    s = test_open(tmp, &path);
    CU_ASSERT_FATAL(s != NULL);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_token_foreach(s, "alice", test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 1);
    bnc_store_close(s);
    free(path);
    test_rmrf(tmp);
}

static int
test_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* add_many of 10,000 (BNC_STORE_BENCH=1: 100,000), then 100,000 random
 * gets with their latency, then a revoke_user larger than one batch. */
static void
test_store_token_many(void)
{
    const char *bench = getenv("BNC_STORE_BENCH");
    size_t n = bench != NULL && bench[0] == '1' ? 100000 : 10000;
    size_t gets = 100000, i, bad = 0, count = 0;
    char *tmp = test_tmpdir(), *path = NULL;
    struct bnc_store *s = test_open(tmp, &path);
    struct bnc_token *tk = bnc_calloc(n, sizeof(*tk)), got;
    double *lat = bnc_calloc(gets, sizeof(double));
    double t0, add_s, mean = 0;
    unsigned seed = 3;

    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(test_add_user(s, "loader") == BNC_STORE_OK);
    CU_ASSERT(test_add_user(s, "other") == BNC_STORE_OK);
    for (i = 0; i < n; i++)
        test_token(&tk[i], i + 1, i % 10 == 0 ? "other" : "loader");
    t0 = test_now_us();
    CU_ASSERT(bnc_store_token_add_many(s, tk, n, 500) == BNC_STORE_OK);
    add_s = (test_now_us() - t0) / 1e6;
    /* Adding any of them again fails, whole batch included. */
    CU_ASSERT(bnc_store_token_add_many(s, tk + 5, 3, 500) ==
              BNC_STORE_EXISTS);
    for (i = 0; i < gets; i++) {
        size_t k = (size_t)rand_r(&seed) % n;

        t0 = test_now_us();
        if (bnc_store_token_get(s, tk[k].digest, &got) != BNC_STORE_OK ||
            strcmp(got.id, tk[k].id) != 0)
            bad++;
        lat[i] = test_now_us() - t0;
        mean += lat[i];
        bnc_token_cleanup(&got);
    }
    CU_ASSERT(bad == 0);
    qsort(lat, gets, sizeof(double), test_cmp_double);
    printf("\n  [measure] add_many %zu tokens (batches of 500): %.2f s; "
           "token get over %zu random gets: median %.2f us, mean %.2f us, "
           "p99 %.2f us\n",
           n, add_s, gets, lat[gets / 2], mean / (double)gets,
           lat[gets * 99 / 100]);
    CU_ASSERT(lat[gets / 2] < 100.0);
    t0 = test_now_us();
    CU_ASSERT(bnc_store_token_revoke_user(s, "loader", &count) ==
              BNC_STORE_OK);
    CU_ASSERT(count == n - (n + 9) / 10);
    printf("  [measure] revoke_user of %zu tokens: %.2f s\n", count,
           (test_now_us() - t0) / 1e6);
    CU_ASSERT(bnc_store_token_get(s, tk[1].digest, &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_token_get(s, tk[0].digest, &got) == BNC_STORE_OK);
    bnc_token_cleanup(&got);
    bnc_store_close(s);
    free(lat);
    free(tk);
    free(path);
    test_rmrf(tmp);
}

static const struct bnc_unit_case cases[] = {
    {"test_store_token_codec_roundtrip", test_store_token_codec_roundtrip},
    {"test_store_token_codec_encode_rejects",
     test_store_token_codec_encode_rejects},
    {"test_store_token_codec_malformed", test_store_token_codec_malformed},
    {"test_store_token_codec_fuzz", test_store_token_codec_fuzz},
    {"test_store_token_ops", test_store_token_ops},
    {"test_store_token_many", test_store_token_many},
    {NULL, NULL},
};

BNC_UNIT_MAIN("store_token", cases, NULL, NULL)
