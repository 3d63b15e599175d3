/* SPDX-License-Identifier: MIT */
/* Unit tests for the verified-credential cache. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "auth/credcache.h"
#include "unit.h"

static void
test_credcache_hit_miss(void)
{
    struct bnc_credcache *c = bnc_credcache_new(64, 60);
    uint64_t hits, misses;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    bnc_credcache_put(c, "alice", "pw", 2, 1);
    CU_ASSERT_TRUE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    CU_ASSERT_TRUE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    /* Other password, other user, other revision, prefix/suffix games. */
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pW", 2, 1));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw!", 3, 1));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "p", 1, 1));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "", 0, 1));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "bob", "pw", 2, 1));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alic", "epw", 3, 1));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw", 2, 2));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw", 2, 0));
    /* The secret is bytes, not a C string. */
    bnc_credcache_put(c, "bob", "a\0b", 3, 7);
    CU_ASSERT_TRUE(bnc_credcache_hit(c, "bob", "a\0b", 3, 7));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "bob", "a\0c", 3, 7));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "bob", "a", 1, 7));
    /* A new rev replaces the entry: the old rev no longer hits. */
    bnc_credcache_put(c, "alice", "pw", 2, 2);
    CU_ASSERT_TRUE(bnc_credcache_hit(c, "alice", "pw", 2, 2));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw", 2, 1));

    bnc_credcache_stats(c, &hits, &misses);
    CU_ASSERT_EQUAL(hits, 4);
    CU_ASSERT_EQUAL(misses, 12);
    bnc_credcache_free(c);
    bnc_credcache_free(NULL);
}

static void
test_credcache_ttl(void)
{
    struct bnc_credcache *c = bnc_credcache_new(16, 1);
    struct bnc_credcache *z = bnc_credcache_new(16, 0);

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(z);
    bnc_credcache_put(c, "alice", "pw", 2, 1);
    CU_ASSERT_TRUE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    sleep(2);
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    /* Re-verified: usable again. */
    bnc_credcache_put(c, "alice", "pw", 2, 1);
    CU_ASSERT_TRUE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    /* ttl 0: nothing lives. */
    bnc_credcache_put(z, "alice", "pw", 2, 1);
    CU_ASSERT_FALSE(bnc_credcache_hit(z, "alice", "pw", 2, 1));
    bnc_credcache_free(c);
    bnc_credcache_free(z);
}

static void
test_credcache_disabled(void)
{
    struct bnc_credcache *c = bnc_credcache_new(0, 60);
    uint64_t hits = 99, misses = 99;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    bnc_credcache_put(c, "alice", "pw", 2, 1);
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    CU_ASSERT_FALSE(bnc_credcache_hit(c, "alice", "pw", 2, 1));
    bnc_credcache_stats(c, &hits, &misses);
    CU_ASSERT_EQUAL(hits, 0);
    CU_ASSERT_EQUAL(misses, 2);
    bnc_credcache_free(c);
    CU_ASSERT_PTR_NULL(bnc_credcache_new(SIZE_MAX / 2, 60));
}

/* Far more entries than slots: whatever is evicted, nothing hits that was
 * not put, and the most recent entries are still there. */
static void
test_credcache_overflow(void)
{
    struct bnc_credcache *c = bnc_credcache_new(32, 60);
    char user[32], pw[32];
    int i, present = 0;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (i = 0; i < 5000; i++) {
        snprintf(user, sizeof user, "user%d", i);
        snprintf(pw, sizeof pw, "pw%d", i);
        bnc_credcache_put(c, user, pw, strlen(pw), (uint64_t)i);
    }
    for (i = 0; i < 5000; i++) {
        snprintf(user, sizeof user, "user%d", i);
        snprintf(pw, sizeof pw, "pw%d", i + 1);
        CU_ASSERT_FALSE(bnc_credcache_hit(c, user, pw, strlen(pw),
                                          (uint64_t)i));
        snprintf(pw, sizeof pw, "pw%d", i);
        CU_ASSERT_FALSE(bnc_credcache_hit(c, user, pw, strlen(pw),
                                          (uint64_t)i + 1));
        present += bnc_credcache_hit(c, user, pw, strlen(pw), (uint64_t)i);
    }
    CU_ASSERT(present > 0);
    CU_ASSERT(present <= 32);
    /* The last one put is always findable. */
    CU_ASSERT_TRUE(bnc_credcache_hit(c, "user4999", "pw4999", 6, 4999));
    bnc_credcache_free(c);
}

struct bnc_test_thread {
    struct bnc_credcache *c;
    int id;
    int bad;
};

static void *
bnc_test_worker(void *arg)
{
    struct bnc_test_thread *t = arg;
    char user[32], pw[32];
    int i;

    for (i = 0; i < 20000; i++) {
        int k = i % 50;

        snprintf(user, sizeof user, "t%d-u%d", t->id, k);
        snprintf(pw, sizeof pw, "secret-%d", k);
        bnc_credcache_put(t->c, user, pw, strlen(pw), (uint64_t)k);
        /* Wrong rev or wrong secret must never hit, whatever the others do. */
        if (bnc_credcache_hit(t->c, user, pw, strlen(pw), (uint64_t)k + 1))
            t->bad++;
        if (bnc_credcache_hit(t->c, user, "nope", 4, (uint64_t)k))
            t->bad++;
        (void)bnc_credcache_hit(t->c, user, pw, strlen(pw), (uint64_t)k);
    }
    return NULL;
}

static void
test_credcache_threads(void)
{
    struct bnc_credcache *c = bnc_credcache_new(64, 60);
    struct bnc_test_thread t[4];
    pthread_t th[4];
    uint64_t hits, misses;
    int i;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    for (i = 0; i < 4; i++) {
        t[i].c = c;
        t[i].id = i;
        t[i].bad = 0;
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, bnc_test_worker,
                                             &t[i]),
                              0);
    }
    for (i = 0; i < 4; i++) {
        pthread_join(th[i], NULL);
        CU_ASSERT_EQUAL(t[i].bad, 0);
    }
    bnc_credcache_stats(c, &hits, &misses);
    CU_ASSERT_EQUAL(hits + misses, 4 * 20000 * 3);
    CU_ASSERT(hits > 0);
    bnc_credcache_free(c);
}

static const struct bnc_unit_case cases[] = {
    {"test_credcache_hit_miss", test_credcache_hit_miss},
    {"test_credcache_ttl", test_credcache_ttl},
    {"test_credcache_disabled", test_credcache_disabled},
    {"test_credcache_overflow", test_credcache_overflow},
    {"test_credcache_threads", test_credcache_threads},
    {NULL, NULL},
};

BNC_UNIT_MAIN("credcache", cases, NULL, NULL)
