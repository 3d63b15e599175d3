/* SPDX-License-Identifier: MIT */
/* In-process cache of verified credentials (DESIGN 2): keyed by an HMAC of
 * (user, secret) under a per-process random key, so the cache never holds a
 * password; an entry is valid only for the user record revision it was made
 * with, so any change to the user drops it. Thread-safe. */
#ifndef BNC_AUTH_CREDCACHE_H
#define BNC_AUTH_CREDCACHE_H

#include <stddef.h>
#include <stdint.h>

struct bnc_credcache;

/* capacity entries (0 disables caching), ttl in seconds. NULL on failure. */
struct bnc_credcache *bnc_credcache_new(size_t capacity, unsigned ttl);
void bnc_credcache_free(struct bnc_credcache *c);
/* 1 if (user, secret) was verified for this rev less than ttl ago. */
int bnc_credcache_hit(struct bnc_credcache *c, const char *user,
                      const void *secret, size_t secretlen, uint64_t rev);
void bnc_credcache_put(struct bnc_credcache *c, const char *user,
                       const void *secret, size_t secretlen, uint64_t rev);
/* Counters for metrics and tests. */
void bnc_credcache_stats(struct bnc_credcache *c, uint64_t *hits,
                         uint64_t *misses);

#endif
