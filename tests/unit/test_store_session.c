/* SPDX-License-Identifier: MIT */
/* Sessions in the store: record codec, add/get/touch/del/revoke/list/gc, bulk load, lookup speed, and a login that survives a SIGKILL. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <db.h>
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "store/store.h"
#include "util/err.h"
#include "util/mem.h"
#include "unit.h"

#define TEST_CACHE ((uint64_t)16 << 20)

/* The bulk test at full size raises it, so that its 60 MB of session
 * files fit as they do in bouncer's default 64 MiB (80 MiB) cache. */
static uint64_t test_cache = TEST_CACHE;

/* ---- helpers ------------------------------------------------------------- */

static char *
test_tmpdir(void)
{
    const char *base = getenv("TMPDIR");
    char tmpl[4096];
    char *d;

    if (base == NULL || base[0] == '\0')
        base = "/tmp";
    (void)snprintf(tmpl, sizeof(tmpl), "%s/bnc-session-XXXXXX", base);
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

    if (*path == NULL) {
        *path = bnc_malloc(n);
        (void)snprintf(*path, n, "%s/store", dir);
    }
    memset(&o, 0, sizeof(o));
    o.path = *path;
    o.cache_bytes = test_cache;
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

/* Session number i of user: id ss_ + base32(i), digest = SHA-256("sid-i"),
 * csrf = SHA-256("csrf-i"). Strings are borrowed. */
static void
test_session(struct bnc_session *t, unsigned long i, const char *user)
{
    char key[64];
    int k;

    memset(t, 0, sizeof(*t));
    memcpy(t->id, "ss_", 3);
    for (k = 0; k < 13; k++)
        t->id[3 + k] = test_b32[(i >> (5 * (12 - k))) & 31];
    t->id[BNC_SESSION_ID_LEN] = '\0';
    k = snprintf(key, sizeof(key), "sid-%lu", i);
    bnc_sha256(key, (size_t)k, t->digest);
    k = snprintf(key, sizeof(key), "csrf-%lu", i);
    bnc_sha256(key, (size_t)k, t->csrf);
    t->user = (char *)user;
    t->created = 1700000000 + (int64_t)i;
    t->idle_timeout = 7200;
    t->expires = t->created + 14 * 86400;
}

/* A session with every optional field, all owned. */
static void
test_full(struct bnc_session *t)
{
    test_session(t, 42, NULL);
    t->user = bnc_strdup("alice@example.org");
    t->client = bnc_strdup("2001:db8::17");
    t->user_agent = bnc_strdup("Mozilla/5.0 (X11; Linux x86_64) – ünïcode");
    t->device = bnc_strdup("device-7");
}

static int
test_str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

static int
test_session_eq(const struct bnc_session *a, const struct bnc_session *b)
{
    return strcmp(a->id, b->id) == 0 &&
           memcmp(a->digest, b->digest, 32) == 0 &&
           memcmp(a->csrf, b->csrf, 32) == 0 && test_str_eq(a->user, b->user) &&
           a->created == b->created && a->expires == b->expires &&
           a->idle_timeout == b->idle_timeout &&
           test_str_eq(a->client, b->client) &&
           test_str_eq(a->user_agent, b->user_agent) &&
           test_str_eq(a->device, b->device);
}

static int
test_contains(const char *hay, const char *needle)
{
    return hay != NULL && strstr(hay, needle) != NULL;
}

/* ---- codec --------------------------------------------------------------- */

static void
test_store_session_codec_roundtrip(void)
{
    struct bnc_session t, back, min;
    unsigned char *rec = NULL, *rec2 = NULL;
    size_t len = 0, len2 = 0;
    struct bnc_err err;

    test_full(&t);
    t.last_seen = 123; /* not part of the record */
    CU_ASSERT_FATAL(bnc_session_encode(&t, &rec, &len) == 0);
    CU_ASSERT(rec[0] == BNC_SESSION_RECORD_VERSION);
    CU_ASSERT(memcmp(rec + 1, t.id, BNC_SESSION_ID_LEN) == 0);
    bnc_err_clear(&err);
    CU_ASSERT_FATAL(bnc_session_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(test_session_eq(&t, &back));
    CU_ASSERT(back.last_seen == 0);
    /* Canonical: re-encoding gives the same bytes. */
    CU_ASSERT(bnc_session_encode(&back, &rec2, &len2) == 0);
    CU_ASSERT(len2 == len && memcmp(rec, rec2, len) == 0);
    free(rec2);
    bnc_session_cleanup(&back);
    free(rec);

    /* Minimal: no client, user agent or device; "" differs from none. */
    test_session(&min, 7, "bob");
    min.idle_timeout = 0;
    min.expires = -5; /* any instant decodes; the caller judges it */
    CU_ASSERT_FATAL(bnc_session_encode(&min, &rec, &len) == 0);
    CU_ASSERT(len == 106 + 4 + 3);
    CU_ASSERT(bnc_session_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(test_session_eq(&min, &back));
    CU_ASSERT(back.client == NULL && back.user_agent == NULL &&
              back.device == NULL);
    bnc_session_cleanup(&back);
    free(rec);
    min.user_agent = (char *)"";
    CU_ASSERT_FATAL(bnc_session_encode(&min, &rec, &len) == 0);
    CU_ASSERT(bnc_session_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(back.user_agent != NULL && back.user_agent[0] == '\0');
    CU_ASSERT(back.client == NULL);
    bnc_session_cleanup(&back);
    free(rec);

    /* cleanup wipes the secret. */
    bnc_session_cleanup(&t);
    {
        static const unsigned char zero[32];

        CU_ASSERT(memcmp(t.csrf, zero, 32) == 0);
        CU_ASSERT(t.user == NULL && t.client == NULL);
    }
}

/* The user agent is cut to 256 bytes at a character boundary, and bytes
 * that are not UTF-8 or are control characters become '?': a strange
 * header never makes a login fail. */
static void
test_store_session_codec_user_agent(void)
{
    struct bnc_session t, back;
    unsigned char *rec = NULL;
    size_t len = 0, i;
    struct bnc_err err;
    char ua[1200];

    test_session(&t, 1, "bob");
    memset(ua, 'A', 1000);
    ua[1000] = '\0';
    t.user_agent = ua;
    CU_ASSERT_FATAL(bnc_session_encode(&t, &rec, &len) == 0);
    CU_ASSERT_FATAL(bnc_session_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(strlen(back.user_agent) == 256);
    CU_ASSERT(strncmp(back.user_agent, ua, 256) == 0);
    bnc_session_cleanup(&back);
    free(rec);

    /* 255 ASCII bytes then a 2-byte character: it would end at 257, so it
     * goes entirely. */
    memset(ua, 'B', 255);
    memcpy(ua + 255, "\xc3\xa9xyz", 6);
    t.user_agent = ua;
    CU_ASSERT_FATAL(bnc_session_encode(&t, &rec, &len) == 0);
    CU_ASSERT_FATAL(bnc_session_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(strlen(back.user_agent) == 255);
    bnc_session_cleanup(&back);
    free(rec);

    /* Invalid UTF-8 and control characters. */
    t.user_agent = (char *)"Bad\xff\xfe UA\tx\x7f\xc3(";
    CU_ASSERT_FATAL(bnc_session_encode(&t, &rec, &len) == 0);
    CU_ASSERT_FATAL(bnc_session_decode(rec, len, &back, &err) == 0);
    CU_ASSERT_STRING_EQUAL(back.user_agent, "Bad?? UA?x?" "?(");
    bnc_session_cleanup(&back);
    free(rec);

    /* Many 4-byte characters: cut at a boundary, still valid. */
    for (i = 0; i + 4 <= 1100; i += 4)
        memcpy(ua + i, "\xf0\x9f\x98\x80", 4);
    ua[i] = '\0';
    t.user_agent = ua;
    CU_ASSERT_FATAL(bnc_session_encode(&t, &rec, &len) == 0);
    CU_ASSERT_FATAL(bnc_session_decode(rec, len, &back, &err) == 0);
    CU_ASSERT(strlen(back.user_agent) == 256);
    bnc_session_cleanup(&back);
    free(rec);
}

static void
test_store_session_codec_encode_rejects(void)
{
    struct bnc_session t;
    unsigned char *rec = (unsigned char *)"x";
    size_t len = 9;
    char big[300];

    test_session(&t, 1, "bob");
    t.id[5] = '\0'; /* short id */
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    CU_ASSERT(rec == NULL && len == 0);
    test_session(&t, 1, "bob");
    t.id[4] = '/';
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    test_session(&t, 1, "bob");
    memset(t.id, 'a', sizeof(t.id)); /* not terminated */
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    test_session(&t, 1, "bad:user");
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    test_session(&t, 1, NULL);
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    test_session(&t, 1, "bob");
    t.idle_timeout = -1;
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    test_session(&t, 1, "bob");
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    t.device = big;
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    t.device = NULL;
    big[129] = '\0';
    t.client = big;
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    t.client = (char *)"10.0.0.1\n";
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    t.client = (char *)"\xff";
    CU_ASSERT(bnc_session_encode(&t, &rec, &len) == -1);
    CU_ASSERT(rec == NULL);
}

static void
test_reject(const unsigned char *p, size_t len, const char *want)
{
    struct bnc_session t;
    struct bnc_err err;

    bnc_err_clear(&err);
    memset(&t, 0x5a, sizeof(t));
    CU_ASSERT(bnc_session_decode(p, len, &t, &err) == -1);
    CU_ASSERT(t.user == NULL && t.client == NULL && t.user_agent == NULL &&
              t.device == NULL);
    if (want != NULL && !test_contains(err.msg, want)) {
        fprintf(stderr, "\n  want '%s', got '%s'\n", want, err.msg);
        CU_FAIL("decode error message");
    }
}

static void
test_store_session_codec_malformed(void)
{
    struct bnc_session t;
    unsigned char *rec = NULL, *cp;
    size_t len = 0, i, uoff = 106, coff;

    test_full(&t);
    CU_ASSERT_FATAL(bnc_session_encode(&t, &rec, &len) == 0);
    bnc_session_cleanup(&t);
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
    cp[0] = BNC_SESSION_RECORD_VERSION + 1;
    test_reject(cp, len, "newer");
    cp[0] = 0xff;
    test_reject(cp, len, "newer");
    cp[0] = 0;
    test_reject(cp, len, "not valid");
    /* Bad id, unknown flags, a negative idle timeout. */
    memcpy(cp, rec, len);
    cp[5] = '/';
    test_reject(cp, len, "id");
    memcpy(cp, rec, len);
    cp[16] = 0;
    test_reject(cp, len, "id");
    memcpy(cp, rec, len);
    cp[105] |= 0x08;
    test_reject(cp, len, "flag");
    memcpy(cp, rec, len);
    cp[57] = 0x80;
    test_reject(cp, len, "idle");
    /* A flag announcing a field that is not there, or one dropped. */
    memcpy(cp, rec, len);
    cp[105] &= (unsigned char)~0x04u;
    test_reject(cp, len, "trailing");
    /* Huge lengths: the user length in every byte, then too long by a
     * little, then lengths that overrun the record. */
    for (i = 0; i < 4; i++) {
        memcpy(cp, rec, len);
        cp[uoff + i] = 0xff;
        test_reject(cp, len, "more than");
    }
    memcpy(cp, rec, len);
    cp[uoff] = 0;
    cp[uoff + 1] = 0;
    cp[uoff + 2] = 0;
    cp[uoff + 3] = 151;
    test_reject(cp, len, "more than");
    memcpy(cp, rec, len);
    cp[uoff + 3] = (unsigned char)(cp[uoff + 3] + 60);
    test_reject(cp, len, NULL);
    /* The client length: right after the user. */
    coff = uoff + 4 + strlen("alice@example.org");
    memcpy(cp, rec, len);
    cp[coff] = 0x7f;
    test_reject(cp, len, "more than");
    memcpy(cp, rec, len);
    cp[coff + 3] = 129;
    test_reject(cp, len, "more than");
    memcpy(cp, rec, len);
    cp[coff + 3] = 120; /* within the limit, beyond the record */
    test_reject(cp, len, "truncated");
    /* A NUL or a control character inside a string; bad UTF-8. */
    memcpy(cp, rec, len);
    cp[uoff + 5] = 0;
    test_reject(cp, len, "NUL");
    memcpy(cp, rec, len);
    cp[coff + 5] = '\n';
    test_reject(cp, len, "control");
    memcpy(cp, rec, len);
    cp[coff + 5] = 0xff;
    test_reject(cp, len, "UTF-8");
    memcpy(cp, rec, len);
    cp[uoff + 4] = ':';
    test_reject(cp, len, "user");
    free(cp);
    free(rec);
}

static void
test_store_session_codec_fuzz(void)
{
    struct bnc_session t, back;
    unsigned char *rec = NULL, *cp, *again;
    size_t len = 0, len2, elen;
    struct bnc_err err;
    unsigned seed = 17;
    int i, k, ok = 0, bad = 0;

    bnc_err_clear(&err);
    test_full(&t);
    CU_ASSERT_FATAL(bnc_session_encode(&t, &rec, &len) == 0);
    bnc_session_cleanup(&t);
    cp = bnc_malloc(len);
    for (i = 0; i < 100000; i++) {
        memcpy(cp, rec, len);
        for (k = 0; k < 1 + (int)(rand_r(&seed) % 4); k++)
            cp[rand_r(&seed) % len] = (unsigned char)rand_r(&seed);
        len2 = len - (rand_r(&seed) % 8 == 0 ? rand_r(&seed) % len : 0);
        if (bnc_session_decode(cp, len2, &back, &err) == 0) {
            ok++;
            /* Whatever decodes re-encodes to the same bytes. */
            again = NULL;
            if (bnc_session_encode(&back, &again, &elen) != 0 ||
                elen != len2 || memcmp(again, cp, len2) != 0)
                bad++;
            free(again);
            bnc_session_cleanup(&back);
        }
    }
    CU_ASSERT(ok > 0);
    CU_ASSERT(bad == 0);
    free(cp);
    free(rec);
}


/* ---- store --------------------------------------------------------------- */

struct test_list {
    char ids[64][BNC_SESSION_ID_LEN + 1];
    char users[64][32];
    int64_t seen[64];
    size_t n;
    size_t stop_after;
};

static int
test_list_fn(const struct bnc_session *t, void *arg)
{
    struct test_list *l = arg;

    if (l->n < 64) {
        memcpy(l->ids[l->n], t->id, sizeof(t->id));
        (void)snprintf(l->users[l->n], sizeof(l->users[l->n]), "%s", t->user);
        l->seen[l->n] = t->last_seen;
    }
    l->n++;
    return l->stop_after != 0 && l->n >= l->stop_after;
}

static size_t
test_count(struct bnc_store *s, const char *user)
{
    struct test_list l;

    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_session_foreach(s, user, test_list_fn, &l) ==
              BNC_STORE_OK);
    return l.n;
}

static int
test_present(struct bnc_store *s, const struct bnc_session *t)
{
    struct bnc_session got;
    int rc = bnc_store_session_get(s, t->digest, &got);

    if (rc == BNC_STORE_OK)
        bnc_session_cleanup(&got);
    return rc == BNC_STORE_OK;
}

static void
test_store_session_ops(void)
{
    char *tmp = test_tmpdir(), *path = NULL;
    struct bnc_store *s = test_open(tmp, &path);
    struct bnc_session t, got, other;
    struct test_list l;
    size_t count, i;

    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(test_add_user(s, "alice") == BNC_STORE_OK);
    CU_ASSERT(test_add_user(s, "bob") == BNC_STORE_OK);

    test_full(&t);
    free(t.user);
    t.user = bnc_strdup("alice");
    CU_ASSERT(bnc_store_session_add(s, &t, BNC_STORE_NOSYNC) == BNC_STORE_OK);
    /* The same id again (another digest): EXISTS; the same digest: too. */
    test_session(&other, 42, "alice");
    other.digest[0] ^= 1;
    CU_ASSERT(bnc_store_session_add(s, &other, BNC_STORE_SYNC) ==
              BNC_STORE_EXISTS);
    test_session(&other, 43, "alice");
    memcpy(other.digest, t.digest, 32);
    CU_ASSERT(bnc_store_session_add(s, &other, BNC_STORE_SYNC) ==
              BNC_STORE_EXISTS);
    /* No such user; an invalid record. */
    test_session(&other, 44, "nobody");
    CU_ASSERT(bnc_store_session_add(s, &other, BNC_STORE_NOSYNC) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_get(s, other.digest, &got) ==
              BNC_STORE_NOTFOUND);
    test_session(&other, 45, "alice");
    other.id[3] = '/';
    CU_ASSERT(bnc_store_session_add(s, &other, BNC_STORE_NOSYNC) ==
              BNC_STORE_ERROR);

    /* get by digest and by id: the whole record, last_seen = created. */
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(test_session_eq(&t, &got));
    CU_ASSERT(got.last_seen == t.created);
    bnc_session_cleanup(&got);
    CU_ASSERT(bnc_store_session_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(test_session_eq(&t, &got));
    CU_ASSERT(got.last_seen == t.created);
    bnc_session_cleanup(&got);
    test_session(&other, 46, "alice");
    CU_ASSERT(bnc_store_session_get(s, other.digest, &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_get_by_id(s, "ss_nosuchsessio", &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_get_by_id(s, "short", &got) ==
              BNC_STORE_NOTFOUND);

    /* More sessions: alice 5 in all, bob 3, added out of id order. */
    for (i = 0; i < 7; i++) {
        unsigned long n = (unsigned long)(100 - i * 7);

        test_session(&other, n, i < 4 ? "alice" : "bob");
        CU_ASSERT(bnc_store_session_add(s, &other, BNC_STORE_NOSYNC) ==
                  BNC_STORE_OK);
    }
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_session_foreach(s, "alice", test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 5);
    for (i = 1; i < l.n; i++)
        CU_ASSERT(strcmp(l.ids[i - 1], l.ids[i]) < 0);
    for (i = 0; i < l.n; i++) {
        CU_ASSERT_STRING_EQUAL(l.users[i], "alice");
        CU_ASSERT(l.seen[i] >= 1700000000); /* last_seen filled */
    }
    CU_ASSERT(test_count(s, "bob") == 3);
    memset(&l, 0, sizeof(l));
    CU_ASSERT(bnc_store_session_foreach(s, NULL, test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 8);
    for (i = 1; i < l.n; i++)
        CU_ASSERT(strcmp(l.ids[i - 1], l.ids[i]) < 0);
    for (i = 0; i < l.n; i++)
        CU_ASSERT(l.seen[i] >= 1700000000);
    memset(&l, 0, sizeof(l));
    l.stop_after = 2;
    CU_ASSERT(bnc_store_session_foreach(s, NULL, test_list_fn, &l) ==
              BNC_STORE_OK);
    CU_ASSERT(l.n == 2);
    CU_ASSERT(test_count(s, "carol") == 0);

    /* touch: at most one write a minute. */
    bnc_store_session_touch(s, t.id, t.created + 30);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_seen == t.created);
    bnc_session_cleanup(&got);
    bnc_store_session_touch(s, t.id, t.created + 60);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_seen == t.created + 60);
    bnc_session_cleanup(&got);
    bnc_store_session_touch(s, t.id, t.created + 100);
    bnc_store_session_touch(s, t.id, t.created + 119);
    CU_ASSERT(bnc_store_session_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_seen == t.created + 60);
    bnc_session_cleanup(&got);
    bnc_store_session_touch(s, t.id, t.created + 120);
    CU_ASSERT(bnc_store_session_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_seen == t.created + 120);
    bnc_session_cleanup(&got);
    /* A clock that went back writes too. */
    bnc_store_session_touch(s, t.id, t.created + 10);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_seen == t.created + 10);
    bnc_session_cleanup(&got);
    /* Touching an unknown session writes nothing and does not fail. */
    bnc_store_session_touch(s, "ss_nosuchsessio", 5000);
    bnc_store_session_touch(s, NULL, 5000);
    CU_ASSERT(bnc_store_dead(s) == 0);

    /* del (logout) by digest: gone by digest and id, with its seen entry
     * (re-adding starts from created again). */
    CU_ASSERT(bnc_store_session_del(s, t.digest, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(bnc_store_session_del(s, t.digest, BNC_STORE_NOSYNC) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_get_by_id(s, t.id, &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(test_count(s, "alice") == 4);
    bnc_store_session_touch(s, t.id, t.created + 500);
    t.created += 1000;
    CU_ASSERT(bnc_store_session_add(s, &t, BNC_STORE_SYNC) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_seen == t.created);
    bnc_session_cleanup(&got);

    /* revoke one by id. */
    CU_ASSERT(bnc_store_session_revoke(s, t.id) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_session_revoke(s, t.id) == BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_revoke(s, "bad") == BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_NOTFOUND);
    CU_ASSERT(test_count(s, "alice") == 4);

    /* revoke_user. */
    CU_ASSERT(bnc_store_session_revoke_user(s, "bob", &count) ==
              BNC_STORE_OK);
    CU_ASSERT(count == 3);
    CU_ASSERT(bnc_store_session_revoke_user(s, "bob", &count) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(count == 0);
    CU_ASSERT(test_count(s, "bob") == 0);
    CU_ASSERT(test_count(s, NULL) == 4);

    /* Deleting a user deletes their sessions in the same transaction;
     * the other users' stay. */
    CU_ASSERT(test_add_user(s, "carol") == BNC_STORE_OK);
    test_session(&other, 500, "carol");
    CU_ASSERT(bnc_store_session_add(s, &other, BNC_STORE_NOSYNC) ==
              BNC_STORE_OK);
    CU_ASSERT(bnc_store_session_add(s, &t, BNC_STORE_NOSYNC) == BNC_STORE_OK);
    bnc_store_session_touch(s, t.id, t.created + 900);
    CU_ASSERT(bnc_store_user_del(s, "alice") == BNC_STORE_OK);
    CU_ASSERT(test_count(s, "alice") == 0);
    CU_ASSERT(test_count(s, NULL) == 1);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_NOTFOUND);
    CU_ASSERT(test_present(s, &other));
    /* A new alice does not inherit anything, last-seen included. */
    CU_ASSERT(test_add_user(s, "alice") == BNC_STORE_OK);
    CU_ASSERT(bnc_store_session_add(s, &t, BNC_STORE_NOSYNC) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_session_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    CU_ASSERT(got.last_seen == t.created);
    bnc_session_cleanup(&got);
    /* Admin views know the session files. */
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
        CU_ASSERT(test_contains(text, "sessions.db"));
        CU_ASSERT(test_contains(text, "sessions_seen.db"));
        CU_ASSERT(test_contains(text, "sessions_by_user.db"));
        CU_ASSERT(test_contains(text, "sessions         2\n"));
        free(text);
    }
    bnc_store_close(s);

    /* Durable and indexed after a reopen. */
    s = test_open(tmp, &path);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(test_count(s, "alice") == 1);
    CU_ASSERT(test_count(s, "carol") == 1);
    CU_ASSERT(test_present(s, &t));
    bnc_session_cleanup(&t);
    bnc_store_close(s);
    free(path);
    test_rmrf(tmp);
}

/* gc removes what is past expires or idle, nothing else, and counts. */
static void
test_store_session_gc(void)
{
    char *tmp = test_tmpdir(), *path = NULL;
    struct bnc_store *s = test_open(tmp, &path);
    struct bnc_session t[400];
    const int64_t now = 1800000000;
    size_t count = 99, i, want = 0;

    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(bnc_store_session_gc(s, now, &count) == BNC_STORE_OK);
    CU_ASSERT(count == 0);
    CU_ASSERT(test_add_user(s, "alice") == BNC_STORE_OK);
    CU_ASSERT(test_add_user(s, "bob") == BNC_STORE_OK);
    /* 400 sessions (more than one batch of the walk), by pattern:
     * 0 live; 1 expires == now (over); 2 expired long ago; 3 idle: created
     * 2 h + 1 s ago with a 2 h timeout; 4 idle timeout but touched
     * recently (live); 5 no idle timeout, created a year ago (live);
     * 6 idle timeout, last seen exactly idle_timeout ago (over). */
    for (i = 0; i < 400; i++) {
        test_session(&t[i], i + 1000, i % 2 ? "alice" : "bob");
        t[i].created = now - 60;
        t[i].expires = now + 3600;
        t[i].idle_timeout = 7200;
        switch (i % 7) {
        case 1:
            t[i].expires = now;
            break;
        case 2:
            t[i].expires = now - 86400;
            break;
        case 3:
            t[i].created = now - 7201;
            break;
        case 4:
            t[i].created = now - 7201;
            break;
        case 5:
            t[i].created = now - 365 * 86400;
            t[i].idle_timeout = 0;
            break;
        case 6:
            t[i].created = now - 9000;
            break;
        default:
            break;
        }
        if (i % 7 >= 1 && i % 7 <= 3)
            want++;
        if (i % 7 == 6)
            want++;
    }
    CU_ASSERT(bnc_store_session_add_many(s, t, 400, 64) == BNC_STORE_OK);
    for (i = 0; i < 400; i++) {
        if (i % 7 == 4)
            bnc_store_session_touch(s, t[i].id, now - 100);
        if (i % 7 == 6)
            bnc_store_session_touch(s, t[i].id, now - 7200);
    }
    /* Nothing is over two days before. */
    CU_ASSERT(bnc_store_session_gc(s, now - 2 * 86400, &count) ==
              BNC_STORE_OK);
    CU_ASSERT(count == 0);
    CU_ASSERT(test_count(s, NULL) == 400);
    CU_ASSERT(bnc_store_session_gc(s, now, &count) == BNC_STORE_OK);
    CU_ASSERT(count == want);
    CU_ASSERT(test_count(s, NULL) == 400 - want);
    for (i = 0; i < 400; i++) {
        int over = (i % 7 >= 1 && i % 7 <= 3) || i % 7 == 6;

        CU_ASSERT(test_present(s, &t[i]) == !over);
    }
    /* The indexes went with the records. */
    CU_ASSERT(test_count(s, "alice") + test_count(s, "bob") == 400 - want);
    CU_ASSERT(bnc_store_session_gc(s, now, &count) == BNC_STORE_OK);
    CU_ASSERT(count == 0);
    CU_ASSERT(bnc_store_session_gc(s, now, NULL) == BNC_STORE_OK);
    /* Much later everything is over. */
    CU_ASSERT(bnc_store_session_gc(s, now + 400 * 86400, &count) ==
              BNC_STORE_OK);
    CU_ASSERT(count == 400 - want);
    CU_ASSERT(test_count(s, NULL) == 0);
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
 * gets with their latency, a revoke_user larger than one batch, and a
 * user delete of many sessions. */
static void
test_store_session_many(void)
{
    const char *bench = getenv("BNC_STORE_BENCH");
    size_t n = bench != NULL && bench[0] == '1' ? 100000 : 10000;
    size_t gets = 100000, i, bad = 0, count = 0;
    char *tmp = test_tmpdir(), *path = NULL;
    struct bnc_store *s;
    struct bnc_session *ss = bnc_calloc(n, sizeof(*ss)), got;
    double *lat = bnc_calloc(gets, sizeof(double));
    double t0, add_s, mean = 0;
    unsigned seed = 5;
    char name[32];
    static char names[100][32];

    if (n > 10000)
        test_cache = (uint64_t)128 << 20;
    s = test_open(tmp, &path);
    test_cache = TEST_CACHE;
    CU_ASSERT_FATAL(s != NULL);
    for (i = 0; i < 100; i++) {
        (void)snprintf(names[i], sizeof(names[i]), "user%03zu", i);
        CU_ASSERT(test_add_user(s, names[i]) == BNC_STORE_OK);
    }
    CU_ASSERT(test_add_user(s, "heavy") == BNC_STORE_OK);
    /* 10% of them belong to "heavy", the rest spread over 100 users. */
    for (i = 0; i < n; i++) {
        test_session(&ss[i], i + 1, i % 10 == 0 ? "heavy" : names[i % 100]);
        ss[i].client = (char *)"192.0.2.10";
        ss[i].user_agent = (char *)"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) "
                                   "Gecko/20100101 Firefox/128.0";
    }
    t0 = test_now_us();
    CU_ASSERT(bnc_store_session_add_many(s, ss, n, 500) == BNC_STORE_OK);
    add_s = (test_now_us() - t0) / 1e6;
    /* Adding any of them again fails. */
    CU_ASSERT(bnc_store_session_add_many(s, ss + 5, 3, 500) ==
              BNC_STORE_EXISTS);
    for (i = 0; i < gets; i++) {
        size_t k = (size_t)rand_r(&seed) % n;

        t0 = test_now_us();
        if (bnc_store_session_get(s, ss[k].digest, &got) != BNC_STORE_OK ||
            strcmp(got.id, ss[k].id) != 0 || got.last_seen != ss[k].created)
            bad++;
        lat[i] = test_now_us() - t0;
        mean += lat[i];
        bnc_session_cleanup(&got);
    }
    CU_ASSERT(bad == 0);
    qsort(lat, gets, sizeof(double), test_cmp_double);
    printf("\n  [measure] add_many %zu sessions (batches of 500): %.2f s; "
           "session get (record + last_seen) over %zu random gets: median "
           "%.2f us, mean %.2f us, p99 %.2f us\n",
           n, add_s, gets, lat[gets / 2], mean / (double)gets,
           lat[gets * 99 / 100]);
    CU_ASSERT(lat[gets / 2] < 100.0);
    {
        char *text = NULL;
        size_t tlen = 0;
        FILE *f = open_memstream(&text, &tlen);
        struct bnc_err err;
        const char *p;

        CU_ASSERT_FATAL(f != NULL);
        bnc_err_clear(&err);
        /* verify writes the cache out first: real file sizes. */
        CU_ASSERT(bnc_store_verify(s, f, &err) == 0);
        fclose(f);
        free(text);
        text = NULL;
        f = open_memstream(&text, &tlen);
        CU_ASSERT_FATAL(f != NULL);
        CU_ASSERT(bnc_store_stats(s, f, &err) == 0);
        fclose(f);
        for (p = text; p != NULL && (p = strstr(p, "  sessions")) != NULL;
             p++) {
            const char *e = strchr(p, '\n');

            printf("  [measure] %.*s\n", (int)(e != NULL ? e - p : 40), p);
        }
        free(text);
    }
    t0 = test_now_us();
    CU_ASSERT(bnc_store_session_revoke_user(s, "heavy", &count) ==
              BNC_STORE_OK);
    CU_ASSERT(count == (n + 9) / 10);
    printf("  [measure] revoke_user of %zu sessions: %.2f s\n", count,
           (test_now_us() - t0) / 1e6);
    CU_ASSERT(bnc_store_session_get(s, ss[0].digest, &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(bnc_store_session_get(s, ss[1].digest, &got) == BNC_STORE_OK);
    bnc_session_cleanup(&got);
    (void)snprintf(name, sizeof(name), "%s", ss[1].user);
    CU_ASSERT(bnc_store_user_del(s, name) == BNC_STORE_OK);
    CU_ASSERT(bnc_store_session_get(s, ss[1].digest, &got) ==
              BNC_STORE_NOTFOUND);
    CU_ASSERT(test_count(s, name) == 0);
    t0 = test_now_us();
    CU_ASSERT(bnc_store_session_gc(s, 1700000000 + 86400, &count) ==
              BNC_STORE_OK);
    printf("  [measure] gc over %zu sessions (%zu idle): %.2f s\n",
           n - (n + 9) / 10 - n / 100, count, (test_now_us() - t0) / 1e6);
    bnc_store_close(s);
    free(lat);
    free(ss);
    free(path);
    test_rmrf(tmp);
}

/*
 * What an admin's db5.3_recover does with every process gone: a full
 * recovery from the log files on disk, which throws the shared regions
 * away, log buffer included (berkeley-db.md 4 and 8). The test may use
 * db.h directly: it plays the admin, not the store.
 */
static int
test_force_recovery(const char *path)
{
    DB_ENV *env = NULL;
    int ret;

    ret = db_env_create(&env, 0);
    if (ret != 0)
        return ret;
    ret = env->open(env, path,
                    DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG |
                        DB_INIT_TXN | DB_RECOVER,
                    0660);
    (void)env->close(env, 0);
    return ret;
}

/*
 * "Nothing is lost if a bouncer process is killed while logging someone
 * in": a child adds sessions one at a time with BNC_STORE_NOSYNC and
 * reports each one after its add returned; it is SIGKILLed while still
 * adding. Every reported session must be there after a new open. Rounds
 * 0 and 1 also run a full recovery before that open, which discards the
 * shared log buffer: a DB_TXN_NOSYNC commit, kept only in that buffer,
 * fails them (checked by building the store with DB_TXN_NOSYNC there:
 * the last logins before the kill were lost in both rounds); a
 * DB_TXN_WRITE_NOSYNC commit is in the log file. Round 2 reopens directly
 * (failchk, or recovery if the kill hit the library).
 */
static void
test_store_session_survives_kill(void)
{
    char *tmp = test_tmpdir(), *path = NULL;
    struct bnc_store *s = test_open(tmp, &path);
    struct bnc_session t;
    int fds[2], status, round;
    size_t i, acked, missing;
    pid_t pid;

    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(test_add_user(s, "alice") == BNC_STORE_OK);
    /* The child must open the store itself, after the fork. */
    bnc_store_close(s);
    for (round = 0; round < 3; round++) {
        CU_ASSERT_FATAL(pipe(fds) == 0);
        pid = fork();
        CU_ASSERT_FATAL(pid >= 0);
        if (pid == 0) {
            struct bnc_store *cs;
            unsigned char one = 1;

            close(fds[0]);
            cs = test_open(tmp, &path);
            if (cs == NULL)
                _exit(2);
            for (i = 0;; i++) {
                test_session(&t, 100000 * (unsigned long)(round + 1) + i,
                             "alice");
                if (bnc_store_session_add(cs, &t, BNC_STORE_NOSYNC) !=
                    BNC_STORE_OK)
                    _exit(3);
                if (write(fds[1], &one, 1) != 1)
                    _exit(4);
            }
        }
        close(fds[1]);
        /* Round 0: killed right after the first login returned; rounds 1
         * and 2: in the middle of a stream of logins. */
        acked = 0;
        for (;;) {
            unsigned char b;
            ssize_t r = read(fds[0], &b, 1);

            if (r == 1)
                acked++;
            if (r != 1 || acked >= (round == 0 ? 1u : 300u))
                break;
        }
        CU_ASSERT(kill(pid, SIGKILL) == 0);
        /* Reports still in the pipe were sent before the kill too. */
        for (;;) {
            unsigned char b;

            if (read(fds[0], &b, 1) != 1)
                break;
            acked++;
        }
        CU_ASSERT(waitpid(pid, &status, 0) == pid);
        CU_ASSERT(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
        close(fds[0]);
        CU_ASSERT(acked >= 1);
        if (round < 2)
            CU_ASSERT(test_force_recovery(path) == 0);
        s = test_open(tmp, &path);
        CU_ASSERT_FATAL(s != NULL);
        missing = 0;
        for (i = 0; i < acked; i++) {
            test_session(&t, 100000 * (unsigned long)(round + 1) + i,
                         "alice");
            if (!test_present(s, &t))
                missing++;
        }
        printf("\n  [measure] round %d: %zu logins reported before SIGKILL, "
               "%zu missing after reopen\n",
               round, acked, missing);
        CU_ASSERT(missing == 0);
        CU_ASSERT(bnc_store_dead(s) == 0);
        bnc_store_close(s);
    }
    free(path);
    test_rmrf(tmp);
}

/* Panics the shared environment from another process, as a process that
 * met DB_RUNRECOVERY would (the way test_store.c does it). 0 = panicked. */
static int
test_panic_env(const char *path)
{
    pid_t pid;
    int status = -1;

    fflush(NULL);
    pid = fork();
    if (pid == 0) {
        DB_ENV *env;

        if (db_env_create(&env, 0) != 0)
            _exit(2);
        if (env->open(env, path,
                      DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK |
                          DB_INIT_LOG | DB_INIT_TXN | DB_THREAD |
                          DB_REGISTER | DB_RECOVER,
                      0660) != 0)
            _exit(3);
        if (env->set_flags(env, DB_PANIC_ENVIRONMENT, 1) != 0)
            _exit(4);
        (void)env->close(env, 0);
        _exit(0);
    }
    if (pid < 0)
        return -1;
    (void)waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* With revive on (the daemon's setting), session reads and logins that
 * meet a panic reopen the store themselves and succeed; without it they
 * report DEAD. */
static void
test_store_session_revive(void)
{
    char *tmp = test_tmpdir(), *path = NULL;
    struct bnc_store_opts o;
    struct bnc_store *s;
    struct bnc_session t, got;
    struct bnc_err err;
    size_t n = strlen(tmp) + 8;

    path = bnc_malloc(n);
    (void)snprintf(path, n, "%s/store", tmp);
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.cache_bytes = TEST_CACHE;
    o.create = 1;
    o.revive = 1;
    bnc_err_clear(&err);
    s = bnc_store_open(&o, &err);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT(test_add_user(s, "alice") == BNC_STORE_OK);
    test_session(&t, 1, "alice");
    CU_ASSERT(bnc_store_session_add(s, &t, BNC_STORE_NOSYNC) == BNC_STORE_OK);
    CU_ASSERT_FATAL(test_panic_env(path) == 0);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_OK);
    CU_ASSERT(strcmp(got.id, t.id) == 0 && got.last_seen == t.created);
    bnc_session_cleanup(&got);
    CU_ASSERT(bnc_store_dead(s) == 0);
    CU_ASSERT_FATAL(test_panic_env(path) == 0);
    CU_ASSERT(bnc_store_session_get_by_id(s, t.id, &got) == BNC_STORE_OK);
    bnc_session_cleanup(&got);
    CU_ASSERT_FATAL(test_panic_env(path) == 0);
    test_session(&t, 2, "alice");
    CU_ASSERT(bnc_store_session_add(s, &t, BNC_STORE_NOSYNC) == BNC_STORE_OK);
    CU_ASSERT(test_present(s, &t));
    CU_ASSERT(bnc_store_dead(s) == 0);
    bnc_store_close(s);

    /* Without revive (bouncerctl): DEAD, and nothing reopened. */
    o.revive = 0;
    s = bnc_store_open(&o, &err);
    CU_ASSERT_FATAL(s != NULL);
    CU_ASSERT_FATAL(test_panic_env(path) == 0);
    CU_ASSERT(bnc_store_session_get(s, t.digest, &got) == BNC_STORE_DEAD);
    CU_ASSERT(bnc_store_dead(s) == 1);
    CU_ASSERT(bnc_store_recover(s, &err) == 0);
    CU_ASSERT(test_present(s, &t));
    bnc_store_close(s);
    free(path);
    test_rmrf(tmp);
}

static const struct bnc_unit_case cases[] = {
    {"test_store_session_codec_roundtrip", test_store_session_codec_roundtrip},
    {"test_store_session_codec_user_agent",
     test_store_session_codec_user_agent},
    {"test_store_session_codec_encode_rejects",
     test_store_session_codec_encode_rejects},
    {"test_store_session_codec_malformed", test_store_session_codec_malformed},
    {"test_store_session_codec_fuzz", test_store_session_codec_fuzz},
    {"test_store_session_ops", test_store_session_ops},
    {"test_store_session_gc", test_store_session_gc},
    {"test_store_session_many", test_store_session_many},
    {"test_store_session_survives_kill", test_store_session_survives_kill},
    {"test_store_session_revive", test_store_session_revive},
    {NULL, NULL},
};

BNC_UNIT_MAIN("store_session", cases, NULL, NULL)
