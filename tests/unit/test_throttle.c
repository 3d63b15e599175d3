/* SPDX-License-Identifier: MIT */
/* The brute-force throttle (issue 7): network keys, the sliding window,
 * exponential back-off and its bound, trusted networks, expiry, the no-
 * oracle rules through pwcheck, and the per-network 429 through decide. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/decide.h"
#include "auth/pwcheck.h"
#include "auth/throttle.h"
#include "conf/conf.h"
#include "crypto/digest.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "runtime.h"
#include "store/store.h"
#include "unit.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/mem.h"

static char bnc_t_dir[256];
static struct bnc_store *bnc_t_store;
/* A time on a window boundary (window 100 s below), so tests know which
 * bucket a failure lands in. */
#define T0 ((int64_t)1800000000)

static int
bnc_t_init(void)
{
    struct bnc_store_opts so;
    struct bnc_err err;
    const char *tmp = getenv("TMPDIR");

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-throttle-XXXXXX",
             tmp ? tmp : "/tmp");
    if (mkdtemp(bnc_t_dir) == NULL)
        return 1;
    setenv("BOUNCER_HOME", bnc_t_dir, 1);
    memset(&so, 0, sizeof(so));
    so.path = bnc_t_dir;
    so.cache_bytes = 8 << 20;
    so.create = 1;
    bnc_err_clear(&err);
    bnc_t_store = bnc_store_open(&so, &err);
    if (bnc_t_store == NULL) {
        fprintf(stderr, "store: %s\n", err.msg);
        return 1;
    }
    return 0;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

/* Thresholds 5/20, window 100 s, ban 10 s, max_ban 80 s, trusted
 * 10.9.0.0/16 and 2001:db8:ffff::/48. */
static void
bnc_t_conf(struct bnc_throttle_conf *c)
{
    static struct bnc_cidr trusted[2];

    memset(c, 0, sizeof(*c));
    c->enabled = 1;
    c->user_threshold = 5;
    c->network_threshold = 20;
    c->window = 100;
    c->ban = 10;
    c->max_ban = 80;
    CU_ASSERT_EQUAL_FATAL(bnc_cidr_parse("10.9.0.0/16", &trusted[0], NULL), 0);
    CU_ASSERT_EQUAL_FATAL(
        bnc_cidr_parse("2001:db8:ffff::/48", &trusted[1], NULL), 0);
    c->trusted = trusted;
    c->ntrusted = 2;
}

static void
bnc_t_clear(void)
{
    size_t n = 0;
    struct bnc_throttle_conf c;

    /* gc far in the future removes everything. */
    bnc_t_conf(&c);
    CU_ASSERT_EQUAL(bnc_throttle_gc(&c, bnc_t_store, T0 * 2, &n),
                    BNC_STORE_OK);
}

static struct bnc_addr
bnc_t_addr(const char *s)
{
    struct bnc_addr a;

    CU_ASSERT_EQUAL_FATAL(bnc_addr_parse(s, &a), 0);
    return a;
}

static int
bnc_t_rec(const char *key, struct bnc_throttle_rec *r)
{
    unsigned char *v = NULL;
    size_t n = 0;
    int rc = bnc_store_kv_get(bnc_t_store, BNC_KV_THROTTLE, key, strlen(key),
                              &v, &n);

    if (rc == BNC_STORE_OK)
        rc = bnc_throttle_decode(v, n, r) == 0 ? BNC_STORE_OK : -1;
    free(v);
    return rc;
}

static size_t
bnc_t_count_fn_n;
static int
bnc_t_count_fn(const unsigned char *k, size_t kl, const unsigned char *v,
               size_t vl, void *arg)
{
    (void)k;
    (void)kl;
    (void)v;
    (void)vl;
    (void)arg;
    bnc_t_count_fn_n++;
    return BNC_KV_KEEP;
}

static size_t
bnc_t_count(void)
{
    bnc_t_count_fn_n = 0;
    bnc_store_kv_foreach(bnc_t_store, BNC_KV_THROTTLE, bnc_t_count_fn, NULL,
                         NULL);
    return bnc_t_count_fn_n;
}

/* One failure for (client, user) at now; returns check's answer after. */
static int
bnc_t_fail(const struct bnc_throttle_conf *c, const char *client,
           const char *user, int64_t now, unsigned *retry)
{
    struct bnc_throttle_ticket t;
    struct bnc_addr a = bnc_t_addr(client);

    bnc_throttle_check(c, bnc_t_store, &a, user, now, &t);
    bnc_throttle_fail(c, bnc_t_store, &t, now);
    if (bnc_throttle_check(c, bnc_t_store, &a, user, now, &t) == 0)
        return 0;
    if (retry != NULL)
        *retry = t.retry_after;
    return 1;
}

static void
test_throttle_network_keys(void)
{
    char k[64];
    struct bnc_addr a;

    a = bnc_t_addr("192.0.2.7");
    bnc_throttle_net_key(&a, k, sizeof(k));
    CU_ASSERT_STRING_EQUAL(k, "n:192.0.2.7/32");
    /* A mapped address is its IPv4 client. */
    a = bnc_t_addr("::ffff:192.0.2.7");
    bnc_throttle_net_key(&a, k, sizeof(k));
    CU_ASSERT_STRING_EQUAL(k, "n:192.0.2.7/32");
    /* IPv6: the whole /64 is one counter. */
    a = bnc_t_addr("2001:db8:1:2:3:4:5:6");
    bnc_throttle_net_key(&a, k, sizeof(k));
    CU_ASSERT_STRING_EQUAL(k, "n:2001:db8:1:2::/64");
    a = bnc_t_addr("2001:db8:1:2:ffff:ffff:ffff:ffff");
    bnc_throttle_net_key(&a, k, sizeof(k));
    CU_ASSERT_STRING_EQUAL(k, "n:2001:db8:1:2::/64");
    a = bnc_t_addr("2001:db8:1:3::1");
    bnc_throttle_net_key(&a, k, sizeof(k));
    CU_ASSERT_STRING_EQUAL(k, "n:2001:db8:1:3::/64");
    bnc_throttle_net_key(NULL, k, sizeof(k));
    CU_ASSERT_STRING_EQUAL(k, "n:unknown");
    /* Too small a buffer gives no key rather than a cut one. */
    a = bnc_t_addr("192.0.2.7");
    CU_ASSERT_EQUAL(bnc_throttle_net_key(&a, k, 8), 0);
}

static void
test_throttle_window_slides(void)
{
    struct bnc_throttle_conf c;
    struct bnc_throttle_rec r;
    int i;

    bnc_t_conf(&c);
    bnc_t_clear();
    /* 4 failures at T0: below the threshold of 5. */
    for (i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.1", "alice", T0, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(bnc_t_rec("u:alice", &r), BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_throttle_failures(&c, &r, T0), 4);
    /* Half a window into the next bucket the old 4 weigh 2. */
    CU_ASSERT_EQUAL(bnc_throttle_failures(&c, &r, T0 + 150), 2);
    /* One more there: 1 + 2 = 3, no ban. */
    CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.1", "alice", T0 + 150, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(bnc_t_rec("u:alice", &r), BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_throttle_failures(&c, &r, T0 + 150), 3);
    /* Two windows on, everything has slid out. */
    CU_ASSERT_EQUAL(bnc_throttle_failures(&c, &r, T0 + 300), 0);
    /* The same 5 failures inside one window do ban. */
    bnc_t_clear();
    for (i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.1", "alice", T0 + i, NULL),
                        0);
    CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.1", "alice", T0 + 90, NULL), 1);
    /* ... and across a bucket boundary too (4 at the end of one bucket,
     * 1 at the start of the next: 1 + 4 * 0.9 = 4.6, counted as 4; one
     * more makes 5). */
    bnc_t_clear();
    for (i = 0; i < 4; i++)
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.1", "bob", T0 + 99, NULL), 0);
    CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.1", "bob", T0 + 110, NULL), 0);
    CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.1", "bob", T0 + 110, NULL), 1);
}

static void
test_throttle_backoff_doubles_to_max(void)
{
    struct bnc_throttle_conf c;
    struct bnc_throttle_rec r;
    unsigned retry = 0;
    int64_t now = T0;
    unsigned want[] = {10, 20, 40, 80, 80, 80};
    size_t i;
    int k;

    bnc_t_conf(&c);
    bnc_t_clear();
    for (k = 0; k < 4; k++)
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.2", "carol", now, NULL), 0);
    for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        struct bnc_throttle_ticket t;
        struct bnc_addr a = bnc_t_addr("192.0.2.2");

        /* The failure that starts ban i (the 5th, then one per ban). */
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.2", "carol", now, &retry), 1);
        CU_ASSERT_EQUAL(retry, want[i]);
        /* Refused attempts during the ban do not make it longer. */
        CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &a, "carol",
                                           now + 1, &t), 1);
        CU_ASSERT_EQUAL(t.retry_after, want[i] - 1);
        CU_ASSERT_STRING_EQUAL(t.banned_by, "user");
        /* Over when it says. */
        now += want[i];
        CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &a, "carol", now,
                                           &t), 0);
    }
    CU_ASSERT_EQUAL_FATAL(bnc_t_rec("u:carol", &r), BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_throttle_next_ban(&c, &r, now), 80);
    /* The bound: a window of quiet after the last ban and the name starts
     * over (threshold again, first ban again). */
    now += (int64_t)c.window;
    CU_ASSERT_EQUAL(bnc_throttle_next_ban(&c, &r, now), 10);
    CU_ASSERT(bnc_throttle_expired(&c, &r, now));
    for (k = 0; k < 4; k++)
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.2", "carol", now, NULL), 0);
    CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.2", "carol", now, &retry), 1);
    CU_ASSERT_EQUAL(retry, 10);
}

static void
test_throttle_network_counter(void)
{
    struct bnc_throttle_conf c;
    struct bnc_throttle_ticket t;
    struct bnc_addr other;
    unsigned retry = 0;
    char name[32];
    int i;

    bnc_t_conf(&c);
    bnc_t_clear();
    /* 20 different names (4 each at most) from one /64: the network is
     * banned on the 20th, whatever the names. */
    for (i = 0; i < 19; i++) {
        snprintf(name, sizeof(name), "user%d", i);
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "2001:db8:5:6::1", name, T0, NULL), 0);
    }
    CU_ASSERT_EQUAL(bnc_t_fail(&c, "2001:db8:5:6:abcd::9", "user19", T0,
                               &retry), 1);
    CU_ASSERT_EQUAL(retry, 10);
    /* Any name from anywhere in that /64 is refused ... */
    other = bnc_t_addr("2001:db8:5:6:ffff::1");
    CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &other, "fresh", T0,
                                       &t), 1);
    CU_ASSERT_STRING_EQUAL(t.banned_by, "network");
    /* ... also for credentials without a name (tokens). */
    CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &other, NULL, T0, &t),
                    1);
    /* The next /64 is not. */
    other = bnc_t_addr("2001:db8:5:7::1");
    CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &other, "fresh", T0,
                                       &t), 0);
}

static void
test_throttle_trusted_and_disabled(void)
{
    struct bnc_throttle_conf c;
    struct bnc_throttle_ticket t;
    struct bnc_addr a;
    int i;

    bnc_t_conf(&c);
    bnc_t_clear();
    for (i = 0; i < 5; i++)
        bnc_t_fail(&c, "192.0.2.3", "dave", T0, NULL);
    a = bnc_t_addr("192.0.2.3");
    CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &a, "dave", T0, &t),
                    1);
    /* From a trusted network dave is never refused, his failures there
     * are not counted, and his success there clears the ban elsewhere. */
    a = bnc_t_addr("10.9.200.1");
    for (i = 0; i < 50; i++)
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "10.9.200.1", "dave", T0, NULL), 0);
    CU_ASSERT_EQUAL(bnc_t_rec("n:10.9.200.1/32", &(struct bnc_throttle_rec){0}),
                    BNC_STORE_NOTFOUND);
    a = bnc_t_addr("2001:db8:ffff:1::5");
    CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &a, "dave", T0, &t),
                    0);
    CU_ASSERT(t.trusted);
    CU_ASSERT(!t.active);
    CU_ASSERT(t.user_record);
    bnc_throttle_ok(&c, bnc_t_store, &t);
    a = bnc_t_addr("192.0.2.99");
    CU_ASSERT_EQUAL(bnc_throttle_check(&c, bnc_t_store, &a, "dave", T0, &t),
                    0);
    /* enabled = no: nothing is read, counted or refused. */
    c.enabled = 0;
    CU_ASSERT_EQUAL(bnc_t_count(), 1); /* n:192.0.2.3/32 only */
    for (i = 0; i < 30; i++)
        CU_ASSERT_EQUAL(bnc_t_fail(&c, "192.0.2.4", "erin", T0, NULL), 0);
    CU_ASSERT_EQUAL(bnc_t_rec("u:erin", &(struct bnc_throttle_rec){0}),
                    BNC_STORE_NOTFOUND);
}

static void
test_throttle_gc_removes_expired(void)
{
    struct bnc_throttle_conf c;
    size_t n = 99;
    int i;

    bnc_t_conf(&c);
    bnc_t_clear();
    CU_ASSERT_EQUAL(bnc_t_count(), 0);
    bnc_t_fail(&c, "192.0.2.5", "old", T0, NULL);
    for (i = 0; i < 5; i++)
        bnc_t_fail(&c, "192.0.2.6", "banned", T0 + 50, NULL);
    CU_ASSERT_EQUAL(bnc_t_count(), 4);
    /* At T0 + 120: "old" and its network had a quiet window; "banned"
     * (ban until T0 + 60, then probation for a window) stays, with its
     * network. */
    CU_ASSERT_EQUAL(bnc_throttle_gc(&c, bnc_t_store, T0 + 120, &n),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(n, 2);
    CU_ASSERT_EQUAL(bnc_t_count(), 2);
    /* At T0 + 160 the ban's probation is over (its counts were reset at
     * the ban); the network's 5 failures still weigh 5 * 0.4 = 2. */
    CU_ASSERT_EQUAL(bnc_throttle_gc(&c, bnc_t_store, T0 + 160, &n),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(bnc_t_rec("n:192.0.2.6/32", &(struct bnc_throttle_rec){0}),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_throttle_gc(&c, bnc_t_store, T0 + 200, &n),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(n, 1);
    CU_ASSERT_EQUAL(bnc_t_count(), 0);
    /* A record of an unknown format is dropped too. */
    CU_ASSERT_EQUAL(bnc_store_kv_put(bnc_t_store, BNC_KV_THROTTLE, "u:x", 3,
                                     "\x09junk", 5, BNC_STORE_NOSYNC),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_throttle_gc(&c, bnc_t_store, T0, &n), BNC_STORE_OK);
    CU_ASSERT_EQUAL(n, 1);
}

static void
test_throttle_detail_wording(void)
{
    char b[128];

    CU_ASSERT_STRING_EQUAL(bnc_throttle_detail(1, b, sizeof(b)),
                           "Request was throttled. Expected available in 1 "
                           "second.");
    CU_ASSERT_STRING_EQUAL(bnc_throttle_detail(42, b, sizeof(b)),
                           "Request was throttled. Expected available in 42 "
                           "seconds.");
}

/* ---- through pwcheck: no oracle ------------------------------------------ */

static void
bnc_t_request(struct bnc_request *req, char **env, char *buf, size_t n,
              const char *addr)
{
    snprintf(buf, n, "REMOTE_ADDR=%s", addr);
    env[0] = (char *)"FCGI_ROLE=AUTHORIZER";
    env[1] = buf;
    env[2] = NULL;
    bnc_request_init(req, env);
}

static enum bnc_verdict
bnc_t_pw(struct bnc_pwcheck *pw, const char *addr, const char *user,
         const char *pass, struct bnc_result *res)
{
    struct bnc_request req;
    char *env[3], buf[80];

    bnc_result_cleanup(res);
    memset(res, 0, sizeof(*res));
    bnc_t_request(&req, env, buf, sizeof(buf), addr);
    return bnc_pwcheck_verify(pw, &req, user, pass, strlen(pass), res);
}

static void
test_throttle_pwcheck_no_oracle(void)
{
    struct bnc_argon2_params p = {64, 1, 1};
    struct bnc_throttle_conf c;
    struct bnc_pwcheck *pw;
    struct bnc_result res, res2;
    struct bnc_user u;
    char *hash = NULL;
    int i;

    bnc_t_conf(&c);
    c.ban = 60;
    c.max_ban = 600;
    c.window = 900;
    bnc_t_clear();
    memset(&u, 0, sizeof(u));
    memset(&res, 0, sizeof(res));
    memset(&res2, 0, sizeof(res2));
    CU_ASSERT_EQUAL_FATAL(bnc_password_hash(&p, "right", 5, &hash), 0);
    u.name = (char *)"alice";
    u.hash = hash;
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
    free(hash);
    pw = bnc_pwcheck_new(bnc_t_store, &p, 0, 16, 60);
    bnc_pwcheck_set_throttle(pw, &c);
    /* A success with no counter writes nothing. */
    CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.10", "alice", "right", &res),
                    BNC_ALLOW);
    CU_ASSERT(res.throttle_done);
    CU_ASSERT_EQUAL(bnc_t_count(), 0);
    /* Wrong password for alice and any password for the unknown "alicf":
     * the same 401 four times, then the same 429 ... */
    for (i = 0; i < 5; i++) {
        CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.11", "alice", "wrong", &res),
                        BNC_DENY);
        CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.12", "alicf", "wrong", &res2),
                        BNC_DENY);
        CU_ASSERT_EQUAL(res.status, 401);
        CU_ASSERT_EQUAL(res2.status, res.status);
        CU_ASSERT_STRING_EQUAL(res.detail, res2.detail);
    }
#define SAME_429(x, y) \
    CU_ASSERT_EQUAL(strncmp((x).detail, (y).detail, 44), 0)
    CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.11", "alice", "wrong", &res),
                    BNC_DENY);
    CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.12", "alicf", "wrong", &res2),
                    BNC_DENY);
    CU_ASSERT_EQUAL(res.status, 429);
    CU_ASSERT_EQUAL(res2.status, 429);
    CU_ASSERT_STRING_EQUAL(res.code, BNC_THROTTLE_CODE);
    SAME_429(res, res2);
    CU_ASSERT(res.retry_after >= 59 && res.retry_after <= 60);
    CU_ASSERT_PTR_NOT_NULL(strstr(res.detail, "Expected available in"));
    /* ... and the right password, even a cached one, gets that 429 too
     * (from a new network: the name's ban). */
    CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.13", "alice", "right", &res2),
                    BNC_DENY);
    CU_ASSERT_EQUAL(res2.status, 429);
    SAME_429(res, res2);
    /* From a trusted network alice gets in, and that clears her name. */
    CU_ASSERT_EQUAL(bnc_t_pw(pw, "10.9.0.1", "alice", "right", &res),
                    BNC_ALLOW);
    CU_ASSERT_EQUAL(bnc_t_rec("u:alice", &(struct bnc_throttle_rec){0}),
                    BNC_STORE_NOTFOUND);
    CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.13", "alice", "right", &res),
                    BNC_ALLOW);
    /* The unknown name stays banned: nothing tells it apart. */
    CU_ASSERT_EQUAL(bnc_t_pw(pw, "192.0.2.13", "alicf", "x", &res),
                    BNC_DENY);
    CU_ASSERT_EQUAL(res.status, 429);
    bnc_result_cleanup(&res);
    bnc_result_cleanup(&res2);
    bnc_pwcheck_free(pw);
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "alice"), BNC_STORE_OK);
}

/* ---- through decide: tokens count per network ------------------------------ */

static char *
bnc_t_decide(struct bnc_runtime *rt, const char *addr, const char *auth,
             const char *extra, struct bnc_decision *d)
{
    char a[256], r[80];
    char *env[7] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                    "REQUEST_URI=/app/", r, a, NULL, NULL};

    /* nginx sends the RESPONDER role with BOUNCER_MODE=authorize. */
    if (extra != NULL && strncmp(extra, "BOUNCER_MODE=", 13) == 0)
        env[0] = (char *)"FCGI_ROLE=RESPONDER";
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_buf out;
    char *s;

    snprintf(r, sizeof(r), "REMOTE_ADDR=%s", addr);
    snprintf(a, sizeof(a), "HTTP_AUTHORIZATION=%s", auth);
    env[5] = (char *)extra;
    bnc_request_init(&req, env);
    bnc_response_init(&resp);
    bnc_buf_init(&out);
    bnc_decide(rt, &req, d);
    bnc_decision_respond(rt, &req, d, &resp);
    bnc_response_serialize(&resp, &out);
    s = bnc_strdup(bnc_buf_str(&out));
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
    return s;
}

static void
test_throttle_decide_tokens_per_network(void)
{
    static const char text[] =
        "[auth]\nschemes = token, basic, ip\n"
        "[throttle]\nnetwork_threshold = 3\nban = 30s\n"
        "trusted = 10.0.0.0/8\n"
        "[ip]\n203.0.113.0/24 = monitor\n"
        "[rules]\n/ = authenticated\n";
    static const char key[] = "good-key-0123456789abcdefghijklmnopqrstuvw";
    struct bnc_diag dg;
    struct bnc_conf *conf;
    struct bnc_runtime *rt;
    struct bnc_decision d;
    struct bnc_token tk;
    struct bnc_user u;
    char *out, wrong[64];
    int i;

    bnc_t_clear();
    memset(&u, 0, sizeof(u));
    u.name = (char *)"tokuser";
    u.hash = (char *)"!";
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
    memset(&tk, 0, sizeof(tk));
    memcpy(tk.id, "tk_throttletests", BNC_TOKEN_ID_LEN + 1);
    bnc_sha256(key, strlen(key), tk.digest);
    tk.user = (char *)"tokuser";
    tk.created = (int64_t)time(NULL);
    CU_ASSERT_EQUAL_FATAL(bnc_store_token_add(bnc_t_store, &tk),
                          BNC_STORE_OK);
    bnc_diag_init(&dg);
    conf = bnc_conf_load_mem("t.conf", text, strlen(text), &dg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    rt = bnc_runtime_new(conf, bnc_t_store, &dg);
    bnc_diag_print(&dg, stderr);
    bnc_diag_cleanup(&dg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    /* The valid key works; two wrong keys are plain 401s ... */
    out = bnc_t_decide(rt, "198.51.100.1", "Token good-key-0123456789abcdef"
                       "ghijklmnopqrstuvw", NULL, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    bnc_decision_cleanup(&d);
    free(out);
    /* One stale key sent again and again (a script with a revoked key)
     * counts once: no ban however often. */
    for (i = 0; i < 10; i++) {
        out = bnc_t_decide(rt, "198.51.100.1", "Token stale-key-0123456789",
                           NULL, &d);
        CU_ASSERT_EQUAL(d.status, 401);
        bnc_decision_cleanup(&d);
        free(out);
    }
    /* Guesses (new keys each time) count: 1 + 2 reach the threshold. */
    for (i = 0; i < 2; i++) {
        snprintf(wrong, sizeof(wrong), "Token wrong-key-%d-0123456789", i);
        out = bnc_t_decide(rt, "198.51.100.1", wrong, NULL, &d);
        CU_ASSERT_EQUAL(d.status, 401);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "Invalid token."));
        bnc_decision_cleanup(&d);
        free(out);
    }
    /* ... the third banned the network: now guesses get 429 with
     * Retry-After and DRF's throttled body, no challenge ... */
    for (i = 0; i < 2; i++) {
        out = bnc_t_decide(rt, "198.51.100.1",
                           i == 0 ? "Token wrong-key-0123456789"
                                  : "Token wrong-key-9876543210",
                           NULL, &d);
        CU_ASSERT_EQUAL(d.status, 429);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "Status: 429 Too Many Requests"));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\r\nRetry-After: "));
        CU_ASSERT(d.retry_after >= 29 && d.retry_after <= 30);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "\"code\": \"throttled\""));
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "Request was throttled. Expected "
                                           "available in "));
        CU_ASSERT_PTR_NULL(strstr(out, "WWW-Authenticate"));
        CU_ASSERT_EQUAL(d.authenticated, 0);
        bnc_decision_cleanup(&d);
        free(out);
    }
    /* ... while the valid key still works: it cannot be guessed, and a
     * ban someone else started on a shared network must not lock its
     * API clients out. */
    out = bnc_t_decide(rt, "198.51.100.1", "Token good-key-0123456789abcdef"
                       "ghijklmnopqrstuvw", NULL, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-REMOTE_USER: tokuser"));
    bnc_decision_cleanup(&d);
    free(out);
    /* Basic from that network is refused before any hash. */
    out = bnc_t_decide(rt, "198.51.100.1", "Basic dG9rdXNlcjp4", NULL, &d);
    CU_ASSERT_EQUAL(d.status, 429);
    bnc_decision_cleanup(&d);
    free(out);
    /* nginx turns a 429 into a 500: it gets 403 with the same body. */
    out = bnc_t_decide(rt, "198.51.100.1", "Token wrong-key-0123456789",
                       "BOUNCER_MODE=authorize", &d);
    CU_ASSERT_EQUAL(d.status, 403);
    CU_ASSERT_STRING_EQUAL(d.code, "throttled");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Status: 403 Forbidden"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Retry-After: "));
    bnc_decision_cleanup(&d);
    free(out);
    /* Anonymous requests are not credentials: the rules answer. */
    out = bnc_t_decide(rt, "198.51.100.1", "", NULL, &d);
    CU_ASSERT_EQUAL(d.status, 401);
    bnc_decision_cleanup(&d);
    free(out);
    /* Another network and a trusted one are unaffected. */
    out = bnc_t_decide(rt, "198.51.100.2", "Token good-key-0123456789abcdef"
                       "ghijklmnopqrstuvw", NULL, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    bnc_decision_cleanup(&d);
    free(out);
    for (i = 0; i < 5; i++) {
        snprintf(wrong, sizeof(wrong), "Token office-%d-0123456789", i);
        out = bnc_t_decide(rt, "10.1.2.3", wrong, NULL, &d);
        CU_ASSERT_EQUAL(d.status, 401);
        bnc_decision_cleanup(&d);
        free(out);
    }
    /* A network [ip] names keeps its identity during a ban: an address
     * cannot be guessed. Its wrong tokens are still refused. */
    for (i = 0; i < 3; i++) {
        snprintf(wrong, sizeof(wrong), "Token guess-%d-0123456789", i);
        out = bnc_t_decide(rt, "203.0.113.9", wrong, NULL, &d);
        CU_ASSERT_EQUAL(d.status, 401);
        bnc_decision_cleanup(&d);
        free(out);
    }
    out = bnc_t_decide(rt, "203.0.113.9", "Token wrong-key-0123456789", NULL,
                       &d);
    CU_ASSERT_EQUAL(d.status, 429);
    bnc_decision_cleanup(&d);
    free(out);
    out = bnc_t_decide(rt, "203.0.113.9", "", NULL, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-REMOTE_USER: monitor"));
    bnc_decision_cleanup(&d);
    free(out);
    bnc_runtime_release(rt);
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "tokuser"), BNC_STORE_OK);
}

static double
bnc_t_decide_ms(struct bnc_runtime *rt, const char *addr, const char *auth,
                int *status)
{
    struct timespec a, b;
    struct bnc_decision d;
    char *out;

    clock_gettime(CLOCK_MONOTONIC, &a);
    out = bnc_t_decide(rt, addr, auth, NULL, &d);
    clock_gettime(CLOCK_MONOTONIC, &b);
    *status = d.status;
    bnc_decision_cleanup(&d);
    free(out);
    return (double)(b.tv_sec - a.tv_sec) * 1e3 +
           (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

/* Basic with a name no user can have (empty, control characters): no
 * hash (nothing stored decides the answer, so no timing to cover), and
 * every attempt counts for the network: the same header sent again and
 * again is not one stale credential but a way around the count. */
static void
test_throttle_basic_impossible_names(void)
{
    static const char text[] =
        "[auth]\nschemes = basic\n"
        "[passwords]\nargon2_memory = 32768\nargon2_time = 4\n"
        "[throttle]\nnetwork_threshold = 3\nban = 30s\n"
        "[rules]\n/ = authenticated\n";
    struct bnc_diag dg;
    struct bnc_conf *conf;
    struct bnc_runtime *rt;
    double unknown, empty, ctl;
    int st, i;

    bnc_t_clear();
    bnc_diag_init(&dg);
    conf = bnc_conf_load_mem("t.conf", text, strlen(text), &dg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(conf);
    rt = bnc_runtime_new(conf, bnc_t_store, &dg);
    bnc_diag_print(&dg, stderr);
    bnc_diag_cleanup(&dg);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    /* An unknown name costs the dummy Argon2id (32 MiB, t=4); ":x" and
     * "a\x01b:x" cost a counter write. */
    unknown = bnc_t_decide_ms(rt, "198.51.100.20", "Basic bm9ib2R5Ong=", &st);
    CU_ASSERT_EQUAL(st, 401);
    empty = bnc_t_decide_ms(rt, "198.51.100.21", "Basic Ong=", &st);
    CU_ASSERT_EQUAL(st, 401);
    ctl = bnc_t_decide_ms(rt, "198.51.100.22", "Basic YQFiOng=", &st);
    CU_ASSERT_EQUAL(st, 401);
    CU_ASSERT(empty * 3 < unknown && ctl * 3 < unknown);
    if (!(empty * 3 < unknown && ctl * 3 < unknown))
        fprintf(stderr, "\n  unknown %.1f ms, empty %.1f ms, ctl %.1f ms\n",
                unknown, empty, ctl);
    /* The same ":x" three times bans the network (threshold 3) ... */
    for (i = 0; i < 3; i++) {
        bnc_t_decide_ms(rt, "198.51.100.23", "Basic Ong=", &st);
        CU_ASSERT_EQUAL(st, 401);
    }
    /* ... so the fourth, and any password from there, gets 429. */
    bnc_t_decide_ms(rt, "198.51.100.23", "Basic Ong=", &st);
    CU_ASSERT_EQUAL(st, 429);
    bnc_t_decide_ms(rt, "198.51.100.23", "Basic bm9ib2R5Ong=", &st);
    CU_ASSERT_EQUAL(st, 429);
    /* Nothing was counted under such a name. */
    CU_ASSERT_EQUAL(bnc_t_rec("u:a\001b", &(struct bnc_throttle_rec){0}),
                    BNC_STORE_NOTFOUND);
    bnc_runtime_release(rt);
}

static void
test_throttle_config(void)
{
    static const struct {
        const char *text;
        const char *error; /* NULL = loads */
    } cases[] = {
        {"[throttle]\nenabled = no\nuser_threshold = 3\nnetwork_threshold = "
         "100\nwindow = 1h\nban = 30s\nmax_ban = 1d\ntrusted = 10.0.0.0/8, "
         "::1\n", NULL},
        {"[throttle]\ntrusted = none\n", NULL},
        {"[throttle]\nuser_threshold = 0\n",
         "c:2: user_threshold: expected a number of failures from 1 to "
         "1000000, got '0'"},
        {"[throttle]\nwindow = forever\n",
         "c:2: window: expected a duration from 1s to 1d like 30s, 15m or 1h, "
         "got 'forever'"},
        {"[throttle]\nban = 1h\nmax_ban = 1m\n",
         "c:3: max_ban: must be at least ban (3600 s), got 60 s"},
        {"[throttle]\nmax_ban = 8d\n",
         "c:2: max_ban: expected a duration from 1s to 7d like 30s, 15m or "
         "1h, got '8d'"},
        {"[throttle]\ntrusted = 10.0.0.1/8\n",
         "c:2: trusted: '10.0.0.1/8' has host bits set beyond the prefix "
         "length (did you mean 10.0.0.0/8?)"},
        {"[throttle]\nthreshold = 5\n",
         "c:2: unknown key 'threshold' in [throttle] (valid: enabled, "
         "user_threshold, network_threshold, window, ban, max_ban, trusted)"},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct bnc_diag d;
        struct bnc_conf *c;

        bnc_diag_init(&d);
        c = bnc_conf_load_mem("c", cases[i].text, strlen(cases[i].text), &d);
        if (cases[i].error == NULL) {
            CU_ASSERT_PTR_NOT_NULL(c);
        } else {
            CU_ASSERT_PTR_NULL(c);
            CU_ASSERT(d.n > 0);
            if (d.n > 0 && strcmp(d.lines[0], cases[i].error) != 0) {
                printf("\n  want %s\n  got  %s\n", cases[i].error,
                       d.lines[0]);
                CU_FAIL("config message");
            }
        }
        if (i == 0 && c != NULL) {
            CU_ASSERT_EQUAL(c->throttle.enabled, 0);
            CU_ASSERT_EQUAL(c->throttle.user_threshold, 3);
            CU_ASSERT_EQUAL(c->throttle.network_threshold, 100);
            CU_ASSERT_EQUAL(c->throttle.window, 3600);
            CU_ASSERT_EQUAL(c->throttle.ban, 30);
            CU_ASSERT_EQUAL(c->throttle.max_ban, 86400);
            CU_ASSERT_EQUAL(c->throttle.ntrusted, 2);
        }
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
    }
    /* The defaults: on, 5 / 20 in 15 minutes, 1 minute up to 1 hour,
     * nothing trusted. */
    {
        struct bnc_diag d;
        struct bnc_conf *c;

        bnc_diag_init(&d);
        c = bnc_conf_load_mem("c", "", 0, &d);
        CU_ASSERT_PTR_NOT_NULL_FATAL(c);
        CU_ASSERT_EQUAL(c->throttle.enabled, 1);
        CU_ASSERT_EQUAL(c->throttle.user_threshold, 5);
        CU_ASSERT_EQUAL(c->throttle.network_threshold, 20);
        CU_ASSERT_EQUAL(c->throttle.window, 900);
        CU_ASSERT_EQUAL(c->throttle.ban, 60);
        CU_ASSERT_EQUAL(c->throttle.max_ban, 3600);
        CU_ASSERT_EQUAL(c->throttle.ntrusted, 0);
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
    }
}

static const struct bnc_unit_case cases[] = {
    {"test_throttle_network_keys", test_throttle_network_keys},
    {"test_throttle_window_slides", test_throttle_window_slides},
    {"test_throttle_backoff_doubles_to_max",
     test_throttle_backoff_doubles_to_max},
    {"test_throttle_network_counter", test_throttle_network_counter},
    {"test_throttle_trusted_and_disabled", test_throttle_trusted_and_disabled},
    {"test_throttle_gc_removes_expired", test_throttle_gc_removes_expired},
    {"test_throttle_detail_wording", test_throttle_detail_wording},
    {"test_throttle_pwcheck_no_oracle", test_throttle_pwcheck_no_oracle},
    {"test_throttle_decide_tokens_per_network",
     test_throttle_decide_tokens_per_network},
    {"test_throttle_basic_impossible_names",
     test_throttle_basic_impossible_names},
    {"test_throttle_config", test_throttle_config},
    {NULL, NULL}
};

BNC_UNIT_MAIN("throttle", cases, bnc_t_init, bnc_t_fini)
