/* SPDX-License-Identifier: MIT */
/* Password checks against the store, shared by Basic and the login page. */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/credcache.h"
#include "auth/pwcheck.h"
#include "auth/throttle.h"
#include "crypto/ct.h"
#include "crypto/password.h"
#include "fcgi/request.h"
#include "log/log.h"
#include "store/store.h"
#include "util/mem.h"

/* Failures are padded to the slowest verification seen, at most this. */
#define BNC_PWCHECK_PAD_MAX_NS 2000000000LL

struct bnc_pwcheck {
    struct bnc_store *store;
    struct bnc_argon2_params argon2;
    int rehash;
    struct bnc_credcache *cache;
    atomic_llong slow_ns;        /* slowest verification seen (capped) */
    const struct bnc_throttle_conf *throttle; /* borrowed; NULL = off */
};

static void bnc_pwcheck_dummy(struct bnc_pwcheck *b, const char *pw,
                              size_t pwlen);

struct bnc_pwcheck *
bnc_pwcheck_new(struct bnc_store *store, const struct bnc_argon2_params *argon2,
                int rehash, size_t cache_size, unsigned cache_ttl)
{
    struct bnc_pwcheck *c = bnc_calloc(1, sizeof(*c));

    c->store = store;
    c->argon2 = *argon2;
    c->rehash = rehash;
    c->cache = bnc_credcache_new(cache_size, cache_ttl);
    atomic_init(&c->slow_ns, 0);
    /* Measure the dummy once now, so failures are padded from the start. */
    if (store != NULL)
        bnc_pwcheck_dummy(c, "x", 1);
    return c;
}

void
bnc_pwcheck_free(struct bnc_pwcheck *c)
{
    if (c == NULL)
        return;
    bnc_credcache_free(c->cache);
    free(c);
}

void
bnc_pwcheck_set_throttle(struct bnc_pwcheck *c,
                         const struct bnc_throttle_conf *t)
{
    c->throttle = t;
}

struct bnc_pwcheck_rehash {
    const char *old_hash;
    char *new_hash;
};

/* Replaces the hash only if it is still the one we verified: a concurrent
 * "bouncerctl user passwd" must win. */
static int
bnc_pwcheck_rehash_fn(struct bnc_user *u, void *arg)
{
    struct bnc_pwcheck_rehash *rh = arg;

    if (u->hash == NULL || strcmp(u->hash, rh->old_hash) != 0)
        return 1;
    bnc_str_wipe_free(u->hash);
    u->hash = bnc_strdup(rh->new_hash);
    return 0;
}

static void
bnc_pwcheck_rehash(struct bnc_pwcheck *b, const struct bnc_user *u,
                 const char *pw, size_t pwlen)
{
    struct bnc_pwcheck_rehash rh = {u->hash, NULL};
    const char *old = bnc_password_format(u->hash);
    int rc;

    if (bnc_password_hash(&b->argon2, pw, pwlen, &rh.new_hash) != 0) {
        bnc_log(BNC_LOG_WARN, "re-hash of user %s failed: argon2", u->name);
        return;
    }
    /* The authorizer's own writes may use WRITE_NOSYNC (berkeley-db.md 4):
     * a lost re-hash only means the old hash stays one more login. */
    rc = bnc_store_user_modify(b->store, u->name, bnc_pwcheck_rehash_fn, &rh,
                               BNC_STORE_NOSYNC);
    if (rc == BNC_STORE_OK)
        bnc_log(BNC_LOG_INFO, "user %s: password re-hashed from %s to argon2id",
                u->name, old ? old : "?");
    else if (rc != BNC_STORE_NOTFOUND)
        bnc_log(BNC_LOG_WARN, "user %s: re-hash not stored (store code %d)",
                u->name, rc);
    bnc_str_wipe_free(rh.new_hash);
}

/* The cache entry's version: the record revision AND the user id, because a
 * user deleted and added again starts over at revision 1 with a new id and
 * must not inherit the old password's cache entry. */
static uint64_t
bnc_pwcheck_version(const struct bnc_user *u)
{
    return (uint64_t)u->id << 32 ^ u->rev;
}

static long long
bnc_pwcheck_since(const struct timespec *start)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - start->tv_sec) * 1000000000LL +
           (now.tv_nsec - start->tv_nsec);
}

/* Records how long a verification that began at start took: the running
 * maximum (capped) is what failures are padded to. */
static void
bnc_pwcheck_observe(struct bnc_pwcheck *b, const struct timespec *start)
{
    long long spent = bnc_pwcheck_since(start);
    long long seen = atomic_load(&b->slow_ns);

    if (spent > BNC_PWCHECK_PAD_MAX_NS)
        spent = BNC_PWCHECK_PAD_MAX_NS;
    while (spent > seen &&
           !atomic_compare_exchange_weak(&b->slow_ns, &seen, spent))
        ;
}

/* A failed check (wrong password, unknown name, unusable hash) lasts as
 * long as the slowest verification this process has seen, capped at
 * BNC_PWCHECK_PAD_MAX_NS. Padding only up to the dummy's cost would leave
 * two oracles: a user whose imported legacy hash is fast ({SHA}, apr1,
 * cheap bcrypt) would answer faster than an unknown name, and one whose
 * hash is slower than the configured Argon2id ($6$rounds=900000, bcrypt
 * cost 12, pbkdf2 with 870,000 iterations) slower. With the running
 * maximum, unknown and known-slow names converge as soon as one slow hash
 * has been verified (the first probe of a slow name can still show, once
 * per process). The cap bounds what one outlier (a stalled CPU) or a
 * pathological stored hash costs every later failure. Successes are not
 * padded. */
static void
bnc_pwcheck_pad(struct bnc_pwcheck *b, const struct timespec *start)
{
    struct timespec rest;
    long long spent = bnc_pwcheck_since(start),
              want = atomic_load(&b->slow_ns);

    if (want <= spent)
        return;
    rest.tv_sec = (time_t)((want - spent) / 1000000000LL);
    rest.tv_nsec = (long)((want - spent) % 1000000000LL);
    while (nanosleep(&rest, &rest) != 0 && errno == EINTR)
        ;
}

/* Runs the dummy verification (an unknown user, an unusable hash) and
 * records its cost. Only after the throttle's gate. */
static void
bnc_pwcheck_dummy(struct bnc_pwcheck *b, const char *pw, size_t pwlen)
{
    struct timespec t0;

    clock_gettime(CLOCK_MONOTONIC, &t0);
    bnc_password_dummy(&b->argon2, pw, pwlen);
    bnc_pwcheck_observe(b, &t0);
}

enum bnc_verdict
bnc_pwcheck_verify(struct bnc_pwcheck *b, const struct bnc_request *req,
                   const char *user, const char *pw, size_t pwlen,
                   struct bnc_result *res)
{
    return bnc_pwcheck_verify_user(b, req, user, pw, pwlen, res, NULL);
}

/* The throttle's gate, before the store is read or anything hashed: a
 * banned name or network gets the same 429 whether the password is right,
 * wrong, or the name unknown (no oracle during a ban). 1 = refused. */
static int
bnc_pwcheck_throttled(struct bnc_pwcheck *b, const struct bnc_request *req,
                      const char *user, struct bnc_result *res,
                      struct bnc_throttle_ticket *t)
{
    memset(t, 0, sizeof(*t));
    if (b->throttle == NULL || req == NULL)
        return 0;
    res->throttle_done = 1;
    if (!bnc_throttle_check(b->throttle, b->store,
                            req->client_ok ? &req->client_addr : NULL, user,
                            (int64_t)time(NULL), t))
        return 0;
    bnc_result_reason(res, "throttled: %s banned for %u more s",
                      t->banned_by, t->retry_after);
    res->retry_after = t->retry_after;
    bnc_result_deny(res, 429,
                    bnc_throttle_detail(t->retry_after, res->detail_buf,
                                        sizeof(res->detail_buf)),
                    BNC_THROTTLE_CODE);
    return 1;
}

/* A wrong password or unknown name: counted for the name and the network
 * (the same for both, so a ban tells nothing about which names exist).
 * Never with a fingerprint: every password guess counts. */
static enum bnc_verdict
bnc_pwcheck_failed(struct bnc_pwcheck *b, const struct bnc_throttle_ticket *t,
                   struct bnc_result *res)
{
    if (b->throttle != NULL)
        bnc_throttle_fail(b->throttle, b->store, t, (int64_t)time(NULL));
    return bnc_result_deny(res, 401, BNC_PWCHECK_WRONG,
                           "authentication_failed");
}

enum bnc_verdict
bnc_pwcheck_refuse(struct bnc_pwcheck *b, const struct bnc_request *req,
                   struct bnc_result *res, const char *why)
{
    struct bnc_throttle_ticket t;

    /* The network's gate (no name: the name cannot be one), so a banned
     * network gets its 429 here too. No hash and no padding: the answer
     * depends on nothing stored, so its timing tells nothing. */
    if (bnc_pwcheck_throttled(b, req, NULL, res, &t))
        return BNC_DENY;
    bnc_result_reason(res, "%s", why);
    return bnc_pwcheck_failed(b, &t, res);
}

enum bnc_verdict
bnc_pwcheck_verify_user(struct bnc_pwcheck *b, const struct bnc_request *req,
                        const char *user, const char *pw, size_t pwlen,
                        struct bnc_result *res, struct bnc_user *out)
{
    struct bnc_throttle_ticket t;
    struct bnc_user u;
    struct timespec start;
    enum bnc_pw_result pr;
    int rc, rehash = 0;

    memset(&u, 0, sizeof(u));
    /* A name no user can have (empty, control characters, too long ...;
     * the store refuses to hold one): the same 401 as a wrong password,
     * without a lookup or a hash, and without the name going anywhere
     * (throttle keys, logs). */
    if (!bnc_user_name_valid(user, NULL))
        return bnc_pwcheck_refuse(b, req, res, "invalid user name");
    if (bnc_pwcheck_throttled(b, req, user, res, &t))
        return BNC_DENY;
    clock_gettime(CLOCK_MONOTONIC, &start);
    rc = bnc_store_user_get(b->store, user, &u);
    if (rc == BNC_STORE_NOTFOUND) {
        /* Unknown users cost a full verification, padded like a wrong
         * password: no timing oracle. */
        bnc_pwcheck_dummy(b, pw, pwlen);
        bnc_pwcheck_pad(b, &start);
        bnc_result_reason(res, "unknown user");
        return bnc_pwcheck_failed(b, &t, res);
    }
    if (rc != BNC_STORE_OK) {
        bnc_result_reason(res, "store error reading user (code %d)", rc);
        return BNC_ERROR;
    }
    if (bnc_credcache_hit(b->cache, u.name, pw, pwlen, bnc_pwcheck_version(&u))) {
        pr = BNC_PW_MATCH;
        bnc_result_reason(res, "cached credential");
    } else {
        struct timespec t0;

        clock_gettime(CLOCK_MONOTONIC, &t0);
        pr = bnc_password_verify(u.hash ? u.hash : "", pw, pwlen, &b->argon2,
                                 &rehash);
        if (pr == BNC_PW_MATCH || pr == BNC_PW_MISMATCH)
            bnc_pwcheck_observe(b, &t0);
        else if (pr == BNC_PW_BADHASH)
            bnc_pwcheck_dummy(b, pw, pwlen);
        if (pr == BNC_PW_MATCH && !u.disabled)
            bnc_credcache_put(b->cache, u.name, pw, pwlen,
                              bnc_pwcheck_version(&u));
        bnc_result_reason(res, "password verified");
    }
    if (pr == BNC_PW_ERROR) {
        bnc_result_reason(res, "password verification failed (resources)");
        bnc_user_cleanup(&u);
        return BNC_ERROR;
    }
    if (pr != BNC_PW_MATCH) {
        bnc_result_reason(res, pr == BNC_PW_BADHASH
                                   ? "stored hash unusable or unsupported"
                                   : "wrong password");
        bnc_user_cleanup(&u);
        bnc_pwcheck_pad(b, &start);
        return bnc_pwcheck_failed(b, &t, res);
    }
    /* Only someone who knows the password learns that the account is off
     * (DRF: authenticate, then is_active). */
    if (u.disabled) {
        bnc_result_reason(res, "user disabled");
        bnc_user_cleanup(&u);
        return bnc_result_deny(res, 401, BNC_PWCHECK_INACTIVE, "authentication_failed");
    }
    if (b->throttle != NULL)
        bnc_throttle_ok(b->throttle, b->store, &t);
    if (rehash && b->rehash)
        bnc_pwcheck_rehash(b, &u, pw, pwlen);
    bnc_identity_from_user(&res->id, &u, "Basic");
    if (out != NULL)
        *out = u; /* moved */
    else
        bnc_user_cleanup(&u);
    return BNC_ALLOW;
}

