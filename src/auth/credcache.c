/* SPDX-License-Identifier: MIT */
/* Cache of verified credentials: a fixed table of HMAC tags, never passwords. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include "auth/credcache.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ct.h"
#include "crypto/digest.h"
#include "crypto/rand.h"
#include "metrics/metrics.h"
#include "util/mem.h"

#define BNC_CREDCACHE_KEY_LEN 32
/* Slots looked at from the home slot: a small window keeps lookups O(1)
 * and lets a full table replace its oldest entry instead of refusing. */
#define BNC_CREDCACHE_PROBE 8
/* Far above any sensible setting; keeps calloc's size sane. */
#define BNC_CREDCACHE_MAX_CAPACITY ((size_t)1 << 24)

struct bnc_credcache_entry {
    unsigned char ce_tag[BNC_SHA256_LEN]; /* HMAC(key, user 0x00 secret) */
    uint64_t ce_rev;
    uint64_t ce_expires; /* CLOCK_MONOTONIC ns; 0 = empty slot */
};

struct bnc_credcache {
    pthread_mutex_t cc_lock;
    size_t cc_capacity;
    uint64_t cc_ttl_ns;
    unsigned char cc_key[BNC_CREDCACHE_KEY_LEN];
    struct bnc_hmac_key cc_mac;   /* cc_key with its pads pre-hashed */
    struct bnc_credcache_entry *cc_slots;
    uint64_t cc_hits;
    uint64_t cc_misses;
};

static uint64_t
bnc_credcache_now(void)
{
    struct timespec ts;

    /* Monotonic: a wall-clock step must not extend or revive an entry. */
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
        abort();
    return (uint64_t)ts.tv_sec * UINT64_C(1000000000) + (uint64_t)ts.tv_nsec;
}

struct bnc_credcache *
bnc_credcache_new(size_t capacity, unsigned ttl)
{
    struct bnc_credcache *c;

    if (capacity > BNC_CREDCACHE_MAX_CAPACITY)
        return NULL;
    c = bnc_calloc(1, sizeof *c);
    if (pthread_mutex_init(&c->cc_lock, NULL) != 0) {
        free(c);
        return NULL;
    }
    c->cc_capacity = capacity;
    c->cc_ttl_ns = (uint64_t)ttl * UINT64_C(1000000000);
    /* A fresh key per process: tags are useless outside it, and a dump of
     * the table reveals nothing that can be tested offline. */
    if (bnc_rand_bytes(c->cc_key, sizeof c->cc_key) != 0 ||
        bnc_hmac_key_init(&c->cc_mac, c->cc_key, sizeof c->cc_key) != 0) {
        bnc_memzero(c->cc_key, sizeof c->cc_key);
        pthread_mutex_destroy(&c->cc_lock);
        free(c);
        return NULL;
    }
    if (capacity > 0)
        c->cc_slots = bnc_calloc(capacity, sizeof *c->cc_slots);
    return c;
}

void
bnc_credcache_free(struct bnc_credcache *c)
{
    if (c == NULL)
        return;
    if (c->cc_slots != NULL) {
        bnc_memzero(c->cc_slots, c->cc_capacity * sizeof *c->cc_slots);
        free(c->cc_slots);
    }
    bnc_memzero(c->cc_key, sizeof c->cc_key);
    bnc_hmac_key_cleanup(&c->cc_mac);
    pthread_mutex_destroy(&c->cc_lock);
    free(c);
}

/* tag = HMAC-SHA-256(key, user || 0x00 || secret). The NUL keeps
 * ("ab", "c") and ("a", "bc") apart: a user name has no NUL. */
static void
bnc_credcache_tag(const struct bnc_credcache *c, const char *user,
                  const void *secret, size_t secretlen,
                  unsigned char tag[BNC_SHA256_LEN])
{
    static const unsigned char nul = 0;
    const void *parts[3] = {user, &nul, secret};
    size_t lens[3] = {strlen(user), 1, secretlen};

    bnc_hmac_sha256_parts(&c->cc_mac, 3, parts, lens, tag);
}

static size_t
bnc_credcache_home(const struct bnc_credcache *c,
                   const unsigned char tag[BNC_SHA256_LEN])
{
    uint64_t h = 0;
    int i;

    /* The tag is a keyed MAC, so its bits are already uniform. */
    for (i = 0; i < 8; i++)
        h = (h << 8) | tag[i];
    return (size_t)(h % c->cc_capacity);
}

int
bnc_credcache_hit(struct bnc_credcache *c, const char *user,
                  const void *secret, size_t secretlen, uint64_t rev)
{
    unsigned char tag[BNC_SHA256_LEN];
    uint64_t now;
    size_t home, i, k;
    int hit = 0;

    if (c == NULL)
        return 0;
    if (c->cc_capacity == 0 || user == NULL ||
        (secret == NULL && secretlen != 0)) {
        pthread_mutex_lock(&c->cc_lock);
        c->cc_misses++;
        pthread_mutex_unlock(&c->cc_lock);
        /* A disabled cache (the login endpoint's, cache_size = 0) is not
         * a cache that missed: the metrics leave it out. */
        if (c->cc_capacity != 0)
            bnc_metrics_count(BNC_MET_CACHE_MISS);
        return 0;
    }
    /* The MAC is computed outside the lock; only the probe is serialised. */
    bnc_credcache_tag(c, user, secret, secretlen, tag);
    home = bnc_credcache_home(c, tag);
    now = bnc_credcache_now();
    pthread_mutex_lock(&c->cc_lock);
    for (k = 0; k < BNC_CREDCACHE_PROBE && k < c->cc_capacity; k++) {
        struct bnc_credcache_entry *e;

        i = (home + k) % c->cc_capacity;
        e = &c->cc_slots[i];
        if (e->ce_expires == 0)
            continue;
        if (bnc_memeq_ct(tag, sizeof tag, e->ce_tag, sizeof e->ce_tag)) {
            if (e->ce_rev == rev && now < e->ce_expires)
                hit = 1;
            else if (now >= e->ce_expires)
                memset(e, 0, sizeof *e);
            break;
        }
    }
    if (hit)
        c->cc_hits++;
    else
        c->cc_misses++;
    pthread_mutex_unlock(&c->cc_lock);
    bnc_memzero(tag, sizeof tag);
    bnc_metrics_count(hit ? BNC_MET_CACHE_HIT : BNC_MET_CACHE_MISS);
    return hit;
}

void
bnc_credcache_put(struct bnc_credcache *c, const char *user,
                  const void *secret, size_t secretlen, uint64_t rev)
{
    unsigned char tag[BNC_SHA256_LEN];
    struct bnc_credcache_entry *e, *victim = NULL;
    uint64_t now;
    size_t home, k;

    if (c == NULL || c->cc_capacity == 0 || c->cc_ttl_ns == 0 ||
        user == NULL || (secret == NULL && secretlen != 0))
        return;
    bnc_credcache_tag(c, user, secret, secretlen, tag);
    home = bnc_credcache_home(c, tag);
    now = bnc_credcache_now();
    pthread_mutex_lock(&c->cc_lock);
    /* Same tag already there: refresh it in place. Otherwise take an empty
     * or expired slot, or else evict the entry closest to expiry. */
    for (k = 0; k < BNC_CREDCACHE_PROBE && k < c->cc_capacity; k++) {
        e = &c->cc_slots[(home + k) % c->cc_capacity];
        if (e->ce_expires != 0 &&
            bnc_memeq_ct(tag, sizeof tag, e->ce_tag, sizeof e->ce_tag)) {
            victim = e;
            break;
        }
        if (e->ce_expires == 0 || e->ce_expires <= now) {
            if (victim == NULL || victim->ce_expires > now)
                victim = e;
        } else if (victim == NULL ||
                   (victim->ce_expires > now &&
                    e->ce_expires < victim->ce_expires)) {
            victim = e;
        }
    }
    if (victim != NULL) {
        memcpy(victim->ce_tag, tag, sizeof tag);
        victim->ce_rev = rev;
        victim->ce_expires = now + c->cc_ttl_ns;
    }
    pthread_mutex_unlock(&c->cc_lock);
    bnc_memzero(tag, sizeof tag);
}

void
bnc_credcache_stats(struct bnc_credcache *c, uint64_t *hits, uint64_t *misses)
{
    uint64_t h = 0, m = 0;

    if (c != NULL) {
        pthread_mutex_lock(&c->cc_lock);
        h = c->cc_hits;
        m = c->cc_misses;
        pthread_mutex_unlock(&c->cc_lock);
    }
    if (hits != NULL)
        *hits = h;
    if (misses != NULL)
        *misses = m;
}
