/* SPDX-License-Identifier: MIT */
/* Failure counters and bans in throttle.db (issue 7).
 *
 * The sliding window is a two-bucket weighted counter (the estimate
 * Cloudflare and nginx-style rate limiters use): failures in the current
 * bucket of `window` seconds plus the previous bucket's count weighted by
 * how much of it still lies inside the window. It was chosen over a ring of
 * timestamps because a record stays 50 bytes whatever the threshold (a
 * network threshold of a few hundred behind a NAT would need a ring that
 * large, rewritten on every failure), and each failure is one small
 * read-modify-write in one transaction. Its error is the smoothing of the
 * previous bucket: at worst it counts a failure a little longer or a
 * little shorter than exactly `window`, never zero failures as many.
 *
 * Bans: reaching the threshold starts a ban of [throttle] ban seconds.
 * After a ban, the key stays "on probation" until it has been quiet for a
 * window: each further verified failure starts the next ban at once, twice
 * as long as the last, capped at max_ban (exponential back-off). Attempts
 * refused with 429 are not verified and do not count, so a user retrying
 * the right password during a ban does not make it longer. A ban always
 * ends after at most max_ban; from [throttle] trusted networks nothing is
 * counted or refused, so an attacker keeping a name banned cannot keep its
 * owner out from there, and the owner's success there clears the name.
 *
 * Record (big-endian): version(1) level(1) bucket(8) cur(4) prev(4)
 * ban_until(8) last_fail(8) recent(4 x 4). */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "auth/throttle.h"
#include "log/log.h"
#include "util/mem.h"

#define BNC_THROTTLE_REC_LEN 50
/* 2^20 times the first ban is beyond any max_ban; the level stops there. */
#define BNC_THROTTLE_LEVEL_MAX 20

static void
bnc_throttle_put32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static void
bnc_throttle_put64(unsigned char *p, int64_t v)
{
    bnc_throttle_put32(p, (uint32_t)((uint64_t)v >> 32));
    bnc_throttle_put32(p + 4, (uint32_t)(uint64_t)v);
}

static uint32_t
bnc_throttle_get32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static int64_t
bnc_throttle_get64(const unsigned char *p)
{
    return (int64_t)(((uint64_t)bnc_throttle_get32(p) << 32) |
                     bnc_throttle_get32(p + 4));
}

int
bnc_throttle_decode(const unsigned char *v, size_t n,
                    struct bnc_throttle_rec *r)
{
    size_t i;

    memset(r, 0, sizeof(*r));
    if (v == NULL || n != BNC_THROTTLE_REC_LEN ||
        v[0] != BNC_THROTTLE_RECORD_VERSION)
        return -1;
    r->level = v[1];
    r->bucket = bnc_throttle_get64(v + 2);
    r->cur = bnc_throttle_get32(v + 10);
    r->prev = bnc_throttle_get32(v + 14);
    r->ban_until = bnc_throttle_get64(v + 18);
    r->last_fail = bnc_throttle_get64(v + 26);
    for (i = 0; i < 4; i++)
        r->recent[i] = bnc_throttle_get32(v + 34 + 4 * i);
    return 0;
}

static unsigned char *
bnc_throttle_encode(const struct bnc_throttle_rec *r)
{
    unsigned char *v = bnc_malloc(BNC_THROTTLE_REC_LEN);
    size_t i;

    v[0] = BNC_THROTTLE_RECORD_VERSION;
    v[1] = (unsigned char)(r->level > BNC_THROTTLE_LEVEL_MAX
                               ? BNC_THROTTLE_LEVEL_MAX
                               : r->level);
    bnc_throttle_put64(v + 2, r->bucket);
    bnc_throttle_put32(v + 10, r->cur);
    bnc_throttle_put32(v + 14, r->prev);
    bnc_throttle_put64(v + 18, r->ban_until);
    bnc_throttle_put64(v + 26, r->last_fail);
    for (i = 0; i < 4; i++)
        bnc_throttle_put32(v + 34 + 4 * i, r->recent[i]);
    return v;
}

/* No ban running and no failure for a window since the ban or the last
 * failure: probation is over, the next ban starts from the first again. */
static int
bnc_throttle_quiet(const struct bnc_throttle_conf *c,
                   const struct bnc_throttle_rec *r, int64_t now)
{
    int64_t quiet = r->ban_until > r->last_fail ? r->ban_until : r->last_fail;

    return now >= r->ban_until && now - quiet >= (int64_t)c->window;
}

/* Moves r's buckets forward to now. */
static void
bnc_throttle_roll(const struct bnc_throttle_conf *c,
                  struct bnc_throttle_rec *r, int64_t now)
{
    int64_t w = (int64_t)c->window;
    int64_t start = now - now % w;

    /* A record from a clock that went back, or from a longer window
     * before a reload, keeps its counts in the current bucket. */
    if (r->bucket >= start) {
        r->bucket = start;
        return;
    }
    if (r->bucket >= start - w)
        r->prev = r->cur;
    else
        r->prev = 0;
    r->cur = 0;
    r->bucket = start;
}

unsigned
bnc_throttle_failures(const struct bnc_throttle_conf *c,
                      const struct bnc_throttle_rec *r, int64_t now)
{
    struct bnc_throttle_rec x = *r;
    uint64_t w = c->window, elapsed;

    bnc_throttle_roll(c, &x, now);
    elapsed = (uint64_t)(now - x.bucket);
    if (elapsed > w)
        elapsed = w;
    return x.cur + (unsigned)((uint64_t)x.prev * (w - elapsed) / w);
}

int
bnc_throttle_expired(const struct bnc_throttle_conf *c,
                     const struct bnc_throttle_rec *r, int64_t now)
{
    return bnc_throttle_quiet(c, r, now) &&
           bnc_throttle_failures(c, r, now) == 0;
}

uint64_t
bnc_throttle_next_ban(const struct bnc_throttle_conf *c,
                      const struct bnc_throttle_rec *r, int64_t now)
{
    unsigned level = bnc_throttle_quiet(c, r, now) ? 0 : r->level;
    uint64_t d = c->ban;

    while (level-- > 0 && d < c->max_ban)
        d *= 2;
    return d < c->max_ban ? d : c->max_ban;
}

size_t
bnc_throttle_net_key(const struct bnc_addr *client, char *buf, size_t cap)
{
    unsigned char a[16];
    char text[INET6_ADDRSTRLEN];
    int n = -1;

    if (client != NULL && (client->family == 4 || client->family == 6)) {
        memcpy(a, client->a, sizeof(a));
        /* One IPv6 subscriber gets a whole /64: counting per address
         * would hand an attacker 2^64 fresh counters. */
        if (client->family == 6)
            memset(a + 8, 0, 8);
        if (inet_ntop(client->family == 4 ? AF_INET : AF_INET6, a, text,
                      sizeof(text)) != NULL)
            n = snprintf(buf, cap, "n:%s/%d", text,
                         client->family == 4 ? 32 : 64);
    }
    if (n < 0)
        n = snprintf(buf, cap, "n:unknown");
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* "u:" + the name, cut at BNC_USER_NAME_MAX bytes on a UTF-8 boundary: no
 * longer name can exist, and cut ones still count somewhere. */
static size_t
bnc_throttle_user_key(const char *user, char *buf, size_t cap)
{
    size_t n = strlen(user);

    if (n > BNC_USER_NAME_MAX) {
        n = BNC_USER_NAME_MAX;
        while (n > 0 && ((unsigned char)user[n] & 0xc0) == 0x80)
            n--;
    }
    if (n + 3 > cap)
        return 0;
    buf[0] = 'u';
    buf[1] = ':';
    memcpy(buf + 2, user, n);
    buf[n + 2] = '\0';
    return n + 2;
}

const char *
bnc_throttle_detail(unsigned retry_after, char *buf, size_t cap)
{
    /* DRF's wording, singular for one second. */
    snprintf(buf, cap, "Request was throttled. Expected available in %u "
             "second%s.", retry_after, retry_after == 1 ? "" : "s");
    return buf;
}

/* Reads one key; sets *exists and, when banned, returns the seconds left. */
static unsigned
bnc_throttle_read(struct bnc_store *s, const char *key, size_t klen,
                  int64_t now, int *exists)
{
    struct bnc_throttle_rec r;
    unsigned char *v = NULL;
    size_t vlen = 0;
    unsigned left = 0;
    int rc;

    *exists = 0;
    rc = bnc_store_kv_get(s, BNC_KV_THROTTLE, key, klen, &v, &vlen);
    if (rc == BNC_STORE_NOTFOUND)
        return 0;
    if (rc != BNC_STORE_OK) {
        bnc_log(BNC_LOG_WARN, "throttle: cannot read a counter (store code "
                "%d); not throttled", rc);
        return 0;
    }
    *exists = 1;
    if (bnc_throttle_decode(v, vlen, &r) == 0 && r.ban_until > now) {
        int64_t d = r.ban_until - now;

        left = d > 0x7fffffff ? 0x7fffffff : (unsigned)d;
    }
    free(v);
    return left;
}

int
bnc_throttle_check(const struct bnc_throttle_conf *c, struct bnc_store *s,
                   const struct bnc_addr *client, const char *user,
                   int64_t now, struct bnc_throttle_ticket *t)
{
    unsigned ul = 0, nl = 0;
    int exists;

    memset(t, 0, sizeof(*t));
    if (c == NULL || !c->enabled || s == NULL)
        return 0;
    if (user != NULL)
        t->uklen = bnc_throttle_user_key(user, t->ukey, sizeof(t->ukey));
    t->nklen = bnc_throttle_net_key(client, t->nkey, sizeof(t->nkey));
    t->trusted = client != NULL &&
                 bnc_cidr_match_any(c->trusted, c->ntrusted, client);
    if (t->trusted) {
        /* Never refused nor counted; only learn whether a success must
         * clear the name. */
        if (t->uklen > 0)
            (void)bnc_throttle_read(s, t->ukey, t->uklen, now,
                                    &t->user_record);
        return 0;
    }
    t->active = 1;
    if (t->uklen > 0)
        ul = bnc_throttle_read(s, t->ukey, t->uklen, now, &t->user_record);
    if (t->nklen > 0)
        nl = bnc_throttle_read(s, t->nkey, t->nklen, now, &exists);
    if (ul == 0 && nl == 0)
        return 0;
    t->retry_after = ul > nl ? ul : nl;
    t->banned_by = ul >= nl ? "user" : "network";
    return 1;
}

struct bnc_throttle_fail_arg {
    const struct bnc_throttle_conf *c;
    uint64_t threshold;
    int64_t now;
    uint32_t fp;           /* credential fingerprint, 0 = none */
    uint64_t banned;       /* out: length of the ban started, 0 = none */
};

static int
bnc_throttle_fail_fn(const unsigned char *old, size_t oldlen,
                     unsigned char **newv, size_t *newlen, void *arg)
{
    struct bnc_throttle_fail_arg *a = arg;
    struct bnc_throttle_rec r;
    int probation;

    a->banned = 0; /* fn may run again after a lock conflict */
    if (bnc_throttle_decode(old, oldlen, &r) != 0)
        memset(&r, 0, sizeof(r));
    if (bnc_throttle_quiet(a->c, &r, a->now))
        r.level = 0;
    if (a->fp != 0) {
        if (r.recent[0] == a->fp || r.recent[1] == a->fp ||
            r.recent[2] == a->fp || r.recent[3] == a->fp)
            return BNC_KV_KEEP; /* seen: the same stale credential */
        memmove(r.recent + 1, r.recent, 3 * sizeof(r.recent[0]));
        r.recent[0] = a->fp;
    }
    probation = r.level > 0;
    bnc_throttle_roll(a->c, &r, a->now);
    if (r.cur < UINT32_MAX)
        r.cur++;
    r.last_fail = a->now;
    /* A failure verified while another process started a ban (it was
     * already being checked) counts but starts nothing new. */
    if (r.ban_until <= a->now &&
        (probation ||
         bnc_throttle_failures(a->c, &r, a->now) >= a->threshold)) {
        a->banned = bnc_throttle_next_ban(a->c, &r, a->now);
        r.ban_until = a->now + (int64_t)a->banned;
        r.level++;
        /* The window starts over: probation does the escalating now. */
        r.cur = r.prev = 0;
    }
    *newv = bnc_throttle_encode(&r);
    *newlen = BNC_THROTTLE_REC_LEN;
    return BNC_KV_WRITE;
}

static void
bnc_throttle_fail1(const struct bnc_throttle_conf *c, struct bnc_store *s,
                   const char *key, size_t klen, uint64_t threshold,
                   int64_t now, uint32_t fp)
{
    struct bnc_throttle_fail_arg a = {c, threshold, now, fp, 0};
    int rc;

    /* NOSYNC like the authorizer's other writes (berkeley-db.md 4): a
     * counter lost in a machine crash costs an attacker's few guesses. */
    rc = bnc_store_kv_modify(s, BNC_KV_THROTTLE, key, klen,
                             bnc_throttle_fail_fn, &a, BNC_STORE_NOSYNC);
    if (rc != BNC_STORE_OK)
        bnc_log(BNC_LOG_WARN, "throttle: cannot count a failure for %.*s "
                "(store code %d)", (int)klen, key, rc);
    else if (a.banned > 0)
        bnc_log(BNC_LOG_WARN, "throttle: %.*s banned for %llu s%s", (int)klen,
                key, (unsigned long long)a.banned,
                /* Usually a local proxy whose clients all look like it. */
                strncmp(key, "n:127.", 6) == 0 || strcmp(key, "n:::/64") == 0
                    ? " (a loopback client: behind a local proxy, set [auth] "
                      "trusted_proxies)"
                    : "");
}

void
bnc_throttle_fail(const struct bnc_throttle_conf *c, struct bnc_store *s,
                  const struct bnc_throttle_ticket *t, int64_t now)
{
    if (t == NULL || !t->active)
        return;
    if (t->uklen > 0)
        bnc_throttle_fail1(c, s, t->ukey, t->uklen, c->user_threshold, now,
                           0);
    if (t->nklen > 0)
        bnc_throttle_fail1(c, s, t->nkey, t->nklen, c->network_threshold,
                           now, t->cred_fp);
}

void
bnc_throttle_ok(const struct bnc_throttle_conf *c, struct bnc_store *s,
                const struct bnc_throttle_ticket *t)
{
    int rc;

    if (c == NULL || !c->enabled || t == NULL || !t->user_record ||
        t->uklen == 0)
        return;
    rc = bnc_store_kv_del(s, BNC_KV_THROTTLE, t->ukey, t->uklen,
                          BNC_STORE_NOSYNC);
    if (rc != BNC_STORE_OK && rc != BNC_STORE_NOTFOUND)
        bnc_log(BNC_LOG_WARN, "throttle: cannot reset the counter of %s "
                "(store code %d)", t->ukey, rc);
}

struct bnc_throttle_gc_arg {
    const struct bnc_throttle_conf *c;
    int64_t now;
};

static int
bnc_throttle_gc_fn(const unsigned char *key, size_t klen,
                   const unsigned char *val, size_t vlen, void *arg)
{
    struct bnc_throttle_gc_arg *a = arg;
    struct bnc_throttle_rec r;

    (void)key;
    (void)klen;
    /* A record this version cannot read is of no use to it either. */
    if (bnc_throttle_decode(val, vlen, &r) != 0 ||
        bnc_throttle_expired(a->c, &r, a->now))
        return BNC_KV_DELETE;
    return BNC_KV_KEEP;
}

int
bnc_throttle_gc(const struct bnc_throttle_conf *c, struct bnc_store *s,
                int64_t now, size_t *count)
{
    struct bnc_throttle_gc_arg a = {c, now};
    size_t n = 0;
    int rc;

    rc = bnc_store_kv_foreach(s, BNC_KV_THROTTLE, bnc_throttle_gc_fn, &a, &n);
    if (count != NULL)
        *count = n;
    return rc;
}
