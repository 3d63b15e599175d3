/* SPDX-License-Identifier: MIT */
/* The ip scheme: [ip] parsing and its errors, matching IPv4, IPv6 and
 * IPv4-mapped clients, X-Forwarded-For only through trusted proxies, and
 * its place in the scheme order beside token. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/decide.h"
#include "conf/conf.h"
#include "crypto/digest.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "runtime.h"
#include "store/store.h"
#include "unit.h"
#include "util/mem.h"

static char bnc_t_dir[256];
static struct bnc_store *bnc_t_store;
static struct bnc_runtime *bnc_t_rt;      /* token, ip */
static struct bnc_runtime *bnc_t_rt_ipfirst; /* ip, token */

#define K_ALICE "ip-test-key-0123456789abcdefghijklmnopqrstu"

static const char bnc_t_conf[] =
    "[auth]\n"
    "schemes = token, ip\n"
    "trusted_proxies = 10.9.9.9, fd00::1\n"
    "[ip]\n"
    "192.0.2.0/24, 2001:db8::/32 = monitor group:ops,health\n"
    "192.0.2.128/25 = shadowed\n"
    "198.51.100.7 = single\n"
    "2001:db8:ffff::/48 = shadowed6\n"
    "[rules]\n"
    "/ops/ = group:ops\n"
    "/ipo/ = scheme:ip\n"
    "/ = authenticated\n";

static const char bnc_t_conf_ipfirst[] =
    "[auth]\n"
    "schemes = ip, token\n"
    "[ip]\n"
    "192.0.2.0/24 = monitor\n"
    "[rules]\n"
    "/ = authenticated\n";

static struct bnc_runtime *
bnc_t_runtime(const char *text, struct bnc_diag *d)
{
    struct bnc_conf *conf;

    conf = bnc_conf_load_mem("ip.conf", text, strlen(text), d);
    return conf != NULL ? bnc_runtime_new(conf, bnc_t_store, d) : NULL;
}

static int
bnc_t_init(void)
{
    struct bnc_store_opts so;
    struct bnc_err err;
    struct bnc_diag d;
    const char *tmp = getenv("TMPDIR");

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-ip-XXXXXX",
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
    bnc_diag_init(&d);
    bnc_t_rt = bnc_t_runtime(bnc_t_conf, &d);
    bnc_t_rt_ipfirst = bnc_t_runtime(bnc_t_conf_ipfirst, &d);
    bnc_diag_print(&d, stderr);
    bnc_diag_cleanup(&d);
    return bnc_t_rt == NULL || bnc_t_rt_ipfirst == NULL;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_runtime_release(bnc_t_rt);
    bnc_runtime_release(bnc_t_rt_ipfirst);
    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

/* One decision as the server makes it (client resolved through the
 * trusted proxies first). xff and auth may be NULL. */
static char *
bnc_t_run(struct bnc_runtime *rt, const char *uri, const char *addr,
          const char *xff, const char *auth, struct bnc_decision *d)
{
    char u[256], r[128], x[256], a[256];
    char *env[8] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET", u, r,
                    NULL, NULL, NULL, NULL};
    size_t n = 4;
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_buf out;
    char *s;

    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    snprintf(r, sizeof(r), "REMOTE_ADDR=%s", addr);
    if (xff != NULL) {
        snprintf(x, sizeof(x), "HTTP_X_FORWARDED_FOR=%s", xff);
        env[n++] = x;
    }
    if (auth != NULL) {
        snprintf(a, sizeof(a), "HTTP_AUTHORIZATION=%s", auth);
        env[n++] = a;
    }
    bnc_request_init(&req, env);
    bnc_request_resolve_client(&req, rt->conf->trusted_proxies,
                               rt->conf->ntrusted_proxies);
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
bnc_t_expect(struct bnc_runtime *rt, const char *uri, const char *addr,
             const char *xff, const char *auth, int status,
             const char *needle)
{
    struct bnc_decision d;
    char *out = bnc_t_run(rt, uri, addr, xff, auth, &d);

    if (d.status != status || (needle && strstr(out, needle) == NULL))
        fprintf(stderr, "\nFAIL %s from %s xff [%s] auth [%s]: status %d, "
                "wanted %d with '%s' (reason: %s):\n%s\n", uri, addr,
                xff ? xff : "", auth ? auth : "", d.status, status,
                needle ? needle : "", d.reason, out);
    CU_ASSERT_EQUAL(d.status, status);
    if (needle != NULL)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    bnc_decision_cleanup(&d);
    free(out);
}

#define AS(user) "Variable-REMOTE_USER: " user "\r\n"
#define ANON "Authentication credentials were not provided."

static void
test_ip_matches_v4_v6_mapped(void)
{
    struct bnc_decision d;
    char *out;

    out = bnc_t_run(bnc_t_rt, "/x", "192.0.2.5", NULL, NULL, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_STRING_EQUAL(d.scheme, "ip");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, AS("monitor")));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_TYPE: IP\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_GROUPS: ops,health\r\n"));
    /* Configuration, not a store user: no id, e-mail or credential id. */
    CU_ASSERT_PTR_NULL(strstr(out, "AUTH_USER_ID"));
    CU_ASSERT_PTR_NULL(strstr(out, "AUTH_CREDENTIAL_ID"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "line 5"));
    bnc_decision_cleanup(&d);
    free(out);

    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.0", NULL, NULL, 200, AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.255", NULL, NULL, 200,
                 AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "192.0.3.0", NULL, NULL, 401, ANON);
    bnc_t_expect(bnc_t_rt, "/x", "192.0.1.255", NULL, NULL, 401, ANON);
    /* First match wins: the /25 inside the /24 is never reached. */
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.200", NULL, NULL, 200,
                 AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "2001:db8:ffff::1", NULL, NULL, 200,
                 AS("monitor"));
    /* A single address. */
    bnc_t_expect(bnc_t_rt, "/x", "198.51.100.7", NULL, NULL, 200,
                 AS("single"));
    bnc_t_expect(bnc_t_rt, "/x", "198.51.100.8", NULL, NULL, 401, ANON);
    /* IPv6, and IPv4-mapped IPv6 as the IPv4 address it is. */
    bnc_t_expect(bnc_t_rt, "/x", "2001:db8::1", NULL, NULL, 200,
                 AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "2001:0DB8:0000::abcd", NULL, NULL, 200,
                 AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "2001:db9::1", NULL, NULL, 401, ANON);
    bnc_t_expect(bnc_t_rt, "/x", "::ffff:192.0.2.9", NULL, NULL, 200,
                 AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "::ffff:198.51.100.7", NULL, NULL, 200,
                 AS("single"));
    bnc_t_expect(bnc_t_rt, "/x", "::ffff:198.51.100.8", NULL, NULL, 401,
                 ANON);
    /* Nothing usable: declined, never an identity. */
    bnc_t_expect(bnc_t_rt, "/x", "", NULL, NULL, 401, ANON);
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5 ", NULL, NULL, 401, ANON);
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5/24", NULL, NULL, 401, ANON);
    bnc_t_expect(bnc_t_rt, "/x", "monitor", NULL, NULL, 401, ANON);
    /* Groups feed the rules. */
    bnc_t_expect(bnc_t_rt, "/ops/x", "192.0.2.5", NULL, NULL, 200, NULL);
    bnc_t_expect(bnc_t_rt, "/ops/x", "198.51.100.7", NULL, NULL, 403,
                 "permission_denied");
    bnc_t_expect(bnc_t_rt, "/ipo/x", "198.51.100.7", NULL, NULL, 200, NULL);
}

static void
test_ip_forwarded_for_only_through_trusted_proxies(void)
{
    /* From a trusted proxy, the hop before it is the client. */
    bnc_t_expect(bnc_t_rt, "/x", "10.9.9.9", "192.0.2.5", NULL, 200,
                 AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "fd00::1", "2001:db8::7", NULL, 200,
                 AS("monitor"));
    bnc_t_expect(bnc_t_rt, "/x", "10.9.9.9", "198.51.100.7, 10.9.9.9", NULL,
                 200, AS("single"));
    /* The proxy itself is not a trusted network. */
    bnc_t_expect(bnc_t_rt, "/x", "10.9.9.9", NULL, NULL, 401, ANON);
    /* From anyone else, X-Forwarded-For is ignored. */
    bnc_t_expect(bnc_t_rt, "/x", "203.0.113.1", "192.0.2.5", NULL, 401,
                 ANON);
    bnc_t_expect(bnc_t_rt, "/x", "203.0.113.1", "10.9.9.9, 192.0.2.5", NULL,
                 401, ANON);
    /* A client prepending a trusted-looking address gets nothing: only the
     * hop the proxy appended counts. */
    bnc_t_expect(bnc_t_rt, "/x", "10.9.9.9", "192.0.2.5, 203.0.113.9", NULL,
                 401, ANON);
    /* Garbage in the header: the proxy's own address stays the client. */
    bnc_t_expect(bnc_t_rt, "/x", "10.9.9.9", "not-an-address", NULL, 401,
                 ANON);
    /* Apache's authenticator role asks about a password: a network is no
     * answer to that. */
    {
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                       "REQUEST_URI=/x", "REMOTE_ADDR=192.0.2.5",
                       "REMOTE_USER=monitor", "REMOTE_PASSWD=anything", NULL};
        struct bnc_request req;
        struct bnc_decision d;

        bnc_request_init(&req, env);
        bnc_decide(bnc_t_rt, &req, &d);
        CU_ASSERT_EQUAL(d.status, 401);
        CU_ASSERT_FALSE(d.authenticated);
        bnc_decision_cleanup(&d);
    }
    /* A server that sends the real client in REMOTE_ADDR is unaffected. */
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5", "203.0.113.1", NULL, 200,
                 AS("monitor"));
}

static void
test_ip_order_with_token(void)
{
    struct bnc_token t;
    struct bnc_user u;

    memset(&u, 0, sizeof(u));
    u.name = (char *)"alice";
    u.hash = (char *)"!";
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "tk_iiiiiiiiiiiii");
    bnc_sha256(K_ALICE, strlen(K_ALICE), t.digest);
    t.user = (char *)"alice";
    t.created = (int64_t)time(NULL);
    CU_ASSERT_EQUAL_FATAL(bnc_store_token_add(bnc_t_store, &t), BNC_STORE_OK);

    /* token before ip: a present token decides, right or wrong (DRF). */
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5", NULL, "Token " K_ALICE, 200,
                 "Variable-AUTH_TYPE: Token\r\n");
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5", NULL, "Token " K_ALICE, 200,
                 AS("alice"));
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5", NULL, "Token wrong-key", 401,
                 "Invalid token.");
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5", NULL, "Token", 401,
                 "Invalid token header. No credentials provided.");
    /* No token: the network identity. */
    bnc_t_expect(bnc_t_rt, "/x", "192.0.2.5", NULL, "Basic eDp5", 200,
                 AS("monitor"));
    /* Outside the networks a 401 offers Token; ip has no challenge. */
    bnc_t_expect(bnc_t_rt, "/x", "203.0.113.1", NULL, NULL, 401,
                 "WWW-Authenticate: Token\r\n");
    /* ip before token: the network wins, as ordered. */
    bnc_t_expect(bnc_t_rt_ipfirst, "/x", "192.0.2.5", NULL, "Token wrong-key",
                 200, AS("monitor"));
    bnc_t_expect(bnc_t_rt_ipfirst, "/x", "203.0.113.1", NULL,
                 "Token wrong-key", 401, "Invalid token.");
    bnc_t_expect(bnc_t_rt_ipfirst, "/x", "203.0.113.1", NULL,
                 "Token " K_ALICE, 200, AS("alice"));
}

/* Loads text; expects failure and every string of want (NULL-ended) in
 * the diagnostics. */
static void
bnc_t_conf_error(const char *text, const char *const *want)
{
    struct bnc_diag d;
    struct bnc_runtime *rt;
    size_t i, k;

    bnc_diag_init(&d);
    rt = bnc_t_runtime(text, &d);
    CU_ASSERT_PTR_NULL(rt);
    for (k = 0; want[k] != NULL; k++) {
        int found = 0;

        for (i = 0; i < d.n; i++)
            if (strstr(d.lines[i], want[k]) != NULL)
                found = 1;
        if (!found) {
            fprintf(stderr, "\nwanted '%s', got:\n", want[k]);
            bnc_diag_print(&d, stderr);
        }
        CU_ASSERT(found);
    }
    bnc_runtime_release(rt);
    bnc_diag_cleanup(&d);
}

#define ERR1(text, msg)                                                     \
    do {                                                                    \
        static const char *const w_[] = {msg, NULL};                        \
        bnc_t_conf_error(text, w_);                                         \
    } while (0)

static void
test_ip_config_errors(void)
{
    static const char *const all[] = {
        "ip.conf:4: [ip]: expected an IP address or CIDR block",
        "ip.conf:5: [ip] 10.1.0.0/16: invalid group name 'b/d'",
        "ip.conf:7: [ip] 10.3.0.0/16: missing user name", NULL};
    struct bnc_diag d;
    struct bnc_runtime *rt;

    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.1/8 = monitor\n",
         "ip.conf:4: [ip]: '10.0.0.1/8' has host bits set beyond the prefix "
         "length (did you mean 10.0.0.0/8?)");
    ERR1("[auth]\nschemes = ip\n[ip]\n2001:db8::1/32 = monitor\n",
         "ip.conf:4: [ip]: '2001:db8::1/32' has host bits set beyond the "
         "prefix length (did you mean 2001:db8::/32?)");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/33 = monitor\n",
         "ip.conf:4: [ip]: expected an IP address or CIDR block");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8, = monitor\n",
         "ip.conf:4: [ip]: expected a comma-separated list of CIDR blocks");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8 =\n",
         "ip.conf:4: [ip] 10.0.0.0/8: missing user name; expected "
         "'CIDR[,CIDR...] = USER [group:NAME[,NAME...]]'");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8 = group:ops\n",
         "ip.conf:4: [ip] 10.0.0.0/8: missing user name before 'group:ops'");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8 = mon:itor\n",
         "ip.conf:4: [ip] 10.0.0.0/8: invalid user name 'mon:itor'");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8 = monitor ops\n",
         "ip.conf:4: [ip] 10.0.0.0/8: unexpected 'ops' after the user name");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8 = monitor group:a x\n",
         "ip.conf:4: [ip] 10.0.0.0/8: unexpected 'x' after the user name");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8 = monitor group:\n",
         "ip.conf:4: [ip] 10.0.0.0/8: expected group:NAME[,NAME...], got "
         "'group:'");
    ERR1("[auth]\nschemes = ip\n[ip]\n10.0.0.0/8 = monitor group:a,,b\n",
         "expected group:NAME[,NAME...]");
    /* Every mistake at once, with its line. */
    bnc_t_conf_error("[auth]\nschemes = ip\n[ip]\n"
                     "nonsense = a\n"
                     "10.1.0.0/16 = b group:b/d\n"
                     "10.2.0.0/16 = fine\n"
                     "10.3.0.0/16 =\n", all);
    /* Checked with a warning even when ip is not enabled. */
    ERR1("[auth]\nschemes = basic\n[ip]\n10.0.0.1/8 = x\n",
         "has host bits set");
    /* An enabled ip without entries only warns. */
    bnc_diag_init(&d);
    rt = bnc_t_runtime("[auth]\nschemes = ip, basic\n", &d);
    CU_ASSERT_PTR_NOT_NULL(rt);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    CU_ASSERT(d.nwarnings >= 1);
    bnc_runtime_release(rt);
    bnc_diag_cleanup(&d);
}

static const struct bnc_unit_case cases[] = {
    {"test_ip_matches_v4_v6_mapped", test_ip_matches_v4_v6_mapped},
    {"test_ip_forwarded_for_only_through_trusted_proxies",
     test_ip_forwarded_for_only_through_trusted_proxies},
    {"test_ip_order_with_token", test_ip_order_with_token},
    {"test_ip_config_errors", test_ip_config_errors},
    {NULL, NULL}
};

BNC_UNIT_MAIN("ip", cases, bnc_t_init, bnc_t_fini)
