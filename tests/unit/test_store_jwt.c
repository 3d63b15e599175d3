/* SPDX-License-Identifier: MIT */
/* JWT state in the store: refresh-token families (codec, add, rotation,
 * reuse detection, revoke, gc, racing refreshes) and the jti denylist. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/jwt.h"
#include "store/store.h"
#include "util/err.h"
#include "util/mem.h"
#include "unit.h"

#define TEST_CACHE ((uint64_t)16 << 20)

static char *test_dir;
static char *test_path;
static struct bnc_store *test_st;

static int
test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static int
test_init(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    struct bnc_store_opts o;
    struct bnc_err err;
    size_t n;

    if (base == NULL || *base == '\0')
        base = "/tmp";
    snprintf(tmpl, sizeof(tmpl), "%s/bnc-jwtst-XXXXXX", base);
    if (mkdtemp(tmpl) == NULL)
        return 1;
    test_dir = bnc_strdup(tmpl);
    n = strlen(test_dir) + 8;
    test_path = bnc_malloc(n);
    snprintf(test_path, n, "%s/store", test_dir);
    memset(&o, 0, sizeof(o));
    o.path = test_path;
    o.cache_bytes = TEST_CACHE;
    o.create = 1;
    bnc_err_clear(&err);
    test_st = bnc_store_open(&o, &err);
    if (test_st == NULL) {
        fprintf(stderr, "open: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int
test_fini(void)
{
    bnc_store_close(test_st);
    if (test_dir != NULL)
        (void)nftw(test_dir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(test_dir);
    free(test_path);
    return 0;
}

static void
test_family(struct bnc_jwt_family *f, const char *jti, int64_t created,
            int64_t expires)
{
    memset(f, 0, sizeof(*f));
    f->user_id = 42;
    f->user = (char *)"alice";
    f->jti = (char *)jti;
    f->created = created;
    f->expires = expires;
}

/* ---- codec ---------------------------------------------------------------- */

static void
test_family_codec(void)
{
    struct bnc_jwt_family f, g;
    struct bnc_err err;
    unsigned char *rec = NULL, *cut;
    size_t len = 0, i;
    char longjti[300];

    test_family(&f, "0123456789abcdef0123456789abcdef", 1700000000,
                1700086400);
    f.revoked = 1;
    CU_ASSERT_FATAL(bnc_jwt_family_encode(&f, &rec, &len) == 0);
    CU_ASSERT(rec[0] == BNC_JWT_FAMILY_RECORD_VERSION);
    bnc_err_clear(&err);
    CU_ASSERT_FATAL(bnc_jwt_family_decode(rec, len, &g, &err) == 0);
    CU_ASSERT(g.user_id == 42 && g.created == 1700000000 &&
              g.expires == 1700086400 && g.revoked == 1);
    CU_ASSERT_STRING_EQUAL(g.user, "alice");
    CU_ASSERT_STRING_EQUAL(g.jti, f.jti);
    bnc_jwt_family_cleanup(&g);
    CU_ASSERT(g.user == NULL && g.jti == NULL);
    /* Every proper prefix is refused, in exact-size copies (ASan). */
    for (i = 0; i < len; i++) {
        cut = bnc_malloc(i > 0 ? i : 1);
        memcpy(cut, rec, i);
        bnc_err_clear(&err);
        CU_ASSERT(bnc_jwt_family_decode(cut, i, &g, &err) == -1);
        CU_ASSERT(err.set);
        CU_ASSERT(g.user == NULL && g.jti == NULL);
        free(cut);
    }
    /* A newer format and unknown flags are refused, not misread. */
    rec[0] = 2;
    bnc_err_clear(&err);
    CU_ASSERT(bnc_jwt_family_decode(rec, len, &g, &err) == -1);
    CU_ASSERT(strstr(err.msg, "newer") != NULL);
    rec[0] = 1;
    rec[21] = 0x81;
    bnc_err_clear(&err);
    CU_ASSERT(bnc_jwt_family_decode(rec, len, &g, &err) == -1);
    CU_ASSERT(strstr(err.msg, "flag") != NULL);
    free(rec);
    /* No jti, or one past the denylist's limit, is not encoded. */
    f.jti = (char *)"";
    CU_ASSERT(bnc_jwt_family_encode(&f, &rec, &len) == -1 && rec == NULL);
    memset(longjti, 'a', sizeof(longjti) - 1);
    longjti[sizeof(longjti) - 1] = '\0';
    f.jti = longjti;
    CU_ASSERT(bnc_jwt_family_encode(&f, &rec, &len) == -1 && rec == NULL);
}

/* ---- operations -------------------------------------------------------------- */

static void
test_family_rotation_and_reuse(void)
{
    struct bnc_jwt_family f, seen;
    enum bnc_jwt_family_state st;

    test_family(&f, "jti-1", 1000, 2000);
    CU_ASSERT(bnc_store_jwt_family_add(test_st, "fam-a", &f,
                                       BNC_STORE_NOSYNC) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_jwt_family_add(test_st, "fam-a", &f,
                                       BNC_STORE_NOSYNC) == BNC_STORE_EXISTS);
    /* Without rotation the same token stays current. */
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "jti-1", NULL, 0, &st,
                                       NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(st == BNC_JWT_FAMILY_CURRENT);
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "jti-1", NULL, 0, &st,
                                       NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(st == BNC_JWT_FAMILY_CURRENT);
    /* Rotation: jti-2 replaces jti-1 and the expiry moves on. */
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "jti-1", "jti-2",
                                       3000, &st, &seen, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(st == BNC_JWT_FAMILY_CURRENT);
    CU_ASSERT_STRING_EQUAL(seen.jti, "jti-1"); /* as found */
    CU_ASSERT_STRING_EQUAL(seen.user, "alice");
    CU_ASSERT(seen.user_id == 42 && seen.created == 1000);
    bnc_jwt_family_cleanup(&seen);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "fam-a", &seen) ==
              BNC_STORE_OK);
    CU_ASSERT_STRING_EQUAL(seen.jti, "jti-2");
    CU_ASSERT(seen.expires == 3000 && !seen.revoked);
    bnc_jwt_family_cleanup(&seen);
    /* An earlier expiry never shortens the family. */
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "jti-2", "jti-3",
                                       2500, &st, NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "fam-a", &seen) ==
              BNC_STORE_OK);
    CU_ASSERT(seen.expires == 3000);
    bnc_jwt_family_cleanup(&seen);
    /* Reuse: jti-1 again revokes the family ... */
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "jti-1", "jti-x",
                                       4000, &st, NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(st == BNC_JWT_FAMILY_REUSED);
    /* ... so that the current token (the thief's or the victim's) dies. */
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "jti-3", "jti-4",
                                       4000, &st, NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(st == BNC_JWT_FAMILY_REVOKED);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "fam-a", &seen) ==
              BNC_STORE_OK);
    CU_ASSERT(seen.revoked == 1);
    CU_ASSERT_STRING_EQUAL(seen.jti, "jti-3"); /* nothing rotated since */
    bnc_jwt_family_cleanup(&seen);
    /* Unknown family. */
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-none", "j", NULL, 0, &st,
                                       NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(st == BNC_JWT_FAMILY_MISSING);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "fam-none", &seen) ==
              BNC_STORE_NOTFOUND);
    /* Bad ids and jti are refused before any lookup. */
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "", "j", NULL, 0, &st, NULL,
                                       BNC_STORE_NOSYNC) == BNC_STORE_ERROR);
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "", NULL, 0, &st,
                                       NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_ERROR);
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-a", "j", "", 0, &st,
                                       NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_ERROR);
}

static void
test_family_revoke(void)
{
    struct bnc_jwt_family f, seen;
    enum bnc_jwt_family_state st;

    test_family(&f, "r-1", 1000, 2000);
    CU_ASSERT(bnc_store_jwt_family_add(test_st, "fam-r", &f, BNC_STORE_SYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(bnc_store_jwt_family_revoke(test_st, "fam-r", BNC_STORE_SYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(bnc_store_jwt_family_revoke(test_st, "fam-r", BNC_STORE_SYNC) ==
              BNC_STORE_OK); /* idempotent */
    CU_ASSERT(bnc_store_jwt_family_revoke(test_st, "fam-nope",
                                          BNC_STORE_SYNC) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_jwt_family_use(test_st, "fam-r", "r-1", "r-2", 3000,
                                       &st, NULL, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(st == BNC_JWT_FAMILY_REVOKED);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "fam-r", &seen) ==
              BNC_STORE_OK);
    CU_ASSERT_STRING_EQUAL(seen.jti, "r-1");
    bnc_jwt_family_cleanup(&seen);
}

static void
test_family_gc(void)
{
    struct bnc_jwt_family f, seen;
    size_t count = 99;
    char id[32];
    int i;

    /* Ten families expiring at 10000 + i, one a newer format (kept). */
    for (i = 0; i < 10; i++) {
        snprintf(id, sizeof(id), "gc-%02d", i);
        test_family(&f, "g", 100, 10000 + i);
        f.revoked = i % 2;
        CU_ASSERT(bnc_store_jwt_family_add(test_st, id, &f,
                                           BNC_STORE_NOSYNC) == BNC_STORE_OK);
    }
    CU_ASSERT(bnc_store_kv_put(test_st, BNC_KV_JWT_FAMILY, "gc-zz", 5,
                               "\x09future", 7, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(bnc_store_jwt_family_gc(test_st, 10005, &count) ==
              BNC_STORE_OK);
    /* gc-00..04 and the families of the tests above (expiry <= 4000). */
    CU_ASSERT(count == 5 + 2);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "gc-04", &seen) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "gc-05", &seen) ==
              BNC_STORE_OK);
    bnc_jwt_family_cleanup(&seen);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "fam-a", &seen) ==
              BNC_STORE_NOTFOUND);
    /* An unreadable record is an error for get (fail closed) ... */
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "gc-zz", &seen) ==
              BNC_STORE_ERROR);
    /* ... and kept by gc. */
    CU_ASSERT(bnc_store_jwt_family_gc(test_st, INT64_MAX, &count) ==
              BNC_STORE_OK);
    CU_ASSERT(count == 5);
    CU_ASSERT(bnc_store_kv_del(test_st, BNC_KV_JWT_FAMILY, "gc-zz", 5,
                               BNC_STORE_NOSYNC) == BNC_STORE_OK);
}

/* Racing refreshes with the same token under rotation: exactly one wins;
 * every other one is reuse, and the family ends revoked. */
#define TEST_RACERS 8

struct test_racer {
    int idx;
    enum bnc_jwt_family_state st;
    int rc;
};

static void *
test_race_one(void *arg)
{
    struct test_racer *r = arg;
    char next[32];

    snprintf(next, sizeof(next), "race-next-%d", r->idx);
    r->rc = bnc_store_jwt_family_use(test_st, "fam-race", "race-0", next,
                                     9000, &r->st, NULL, BNC_STORE_NOSYNC);
    return NULL;
}

static void
test_family_race(void)
{
    struct bnc_jwt_family f, seen;
    struct test_racer r[TEST_RACERS];
    pthread_t th[TEST_RACERS];
    int i, won = 0, reused = 0, revoked = 0;

    test_family(&f, "race-0", 100, 9000);
    CU_ASSERT_FATAL(bnc_store_jwt_family_add(test_st, "fam-race", &f,
                                             BNC_STORE_NOSYNC) ==
                    BNC_STORE_OK);
    for (i = 0; i < TEST_RACERS; i++) {
        r[i].idx = i;
        CU_ASSERT_FATAL(pthread_create(&th[i], NULL, test_race_one, &r[i]) ==
                        0);
    }
    for (i = 0; i < TEST_RACERS; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT(r[i].rc == BNC_STORE_OK);
        won += r[i].st == BNC_JWT_FAMILY_CURRENT;
        reused += r[i].st == BNC_JWT_FAMILY_REUSED;
        revoked += r[i].st == BNC_JWT_FAMILY_REVOKED;
    }
    CU_ASSERT(won == 1);
    CU_ASSERT(reused == 1); /* the first to come after the winner */
    CU_ASSERT(revoked == TEST_RACERS - 2);
    CU_ASSERT(bnc_store_jwt_family_get(test_st, "fam-race", &seen) ==
              BNC_STORE_OK);
    CU_ASSERT(seen.revoked == 1);
    CU_ASSERT(strncmp(seen.jti, "race-next-", 10) == 0);
    bnc_jwt_family_cleanup(&seen);
}

static void
test_deny(void)
{
    size_t count = 0;

    CU_ASSERT(bnc_store_jwt_denied(test_st, "d-1") == 0);
    CU_ASSERT(bnc_store_jwt_deny(test_st, "d-1", 500, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(bnc_store_jwt_denied(test_st, "d-1") == 1);
    CU_ASSERT(bnc_store_jwt_deny_gc(test_st, 400, &count) == BNC_STORE_OK);
    CU_ASSERT(count == 0 && bnc_store_jwt_denied(test_st, "d-1") == 1);
    CU_ASSERT(bnc_store_jwt_deny_gc(test_st, 501, &count) == BNC_STORE_OK);
    CU_ASSERT(count == 1 && bnc_store_jwt_denied(test_st, "d-1") == 0);
    CU_ASSERT(bnc_store_jwt_denied(test_st, "") == BNC_STORE_ERROR);
}

static const struct bnc_unit_case cases[] = {
    {"test_family_codec", test_family_codec},
    {"test_family_rotation_and_reuse", test_family_rotation_and_reuse},
    {"test_family_revoke", test_family_revoke},
    {"test_family_gc", test_family_gc},
    {"test_family_race", test_family_race},
    {"test_deny", test_deny},
    {NULL, NULL},
};

BNC_UNIT_MAIN("store_jwt", cases, test_init, test_fini)
