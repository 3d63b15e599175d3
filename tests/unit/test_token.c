/* SPDX-License-Identifier: MIT */
/* The token scheme through the whole decision chain, on a real store:
 * DRF's parsing and messages, expiry, revocation, users, networks, device
 * binding, scopes, the configured keyword and API-key header. */
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
#include "util/str.h"

static char bnc_t_dir[256];
static struct bnc_store *bnc_t_store;
static struct bnc_runtime *bnc_t_rt;        /* keyword Token */
static struct bnc_runtime *bnc_t_rt_bearer; /* keyword Bearer, X-API-Key */

static const char bnc_t_conf[] =
    "[store]\n"
    "path = /nonexistent ; replaced by BOUNCER_HOME\n"
    "[auth]\n"
    "schemes = token, basic\n"
    "realm = test\n"
    "[passwords]\n"
    "argon2_memory = 1024\n"
    "argon2_time = 1\n"
    "[rules]\n"
    "/pub/ = anonymous\n"
    "/read/ = scope:read\n"
    "/admin/ = scope:admin group:staff\n"
    "/ = authenticated\n";

static const char bnc_t_conf_bearer[] =
    "[auth]\n"
    "schemes = token\n"
    "device_header = X-Phone-Id\n"
    "[token]\n"
    "keyword = Bearer\n"
    "header = X-API-Key\n"
    "touch = no\n"
    "[rules]\n"
    "/ = authenticated\n";

/* Keys used below: any printable ASCII works, ours are base64url. */
#define K_ALICE "aLiCe-key_0123456789abcdefghijklmnopqrstuvw"
#define K_SCOPED "scoped-key-0123456789abcdefghijklmnopqrstuv"
#define K_EXPIRED "expired-key-0123456789abcdefghijklmnopqrstu"
#define K_REVOKED "revoked-key-0123456789abcdefghijklmnopqrstu"
#define K_DORA "dora-key-0123456789abcdefghijklmnopqrstuvwx"
#define K_GONE "gone-key-0123456789abcdefghijklmnopqrstuvwx"
#define K_OLD "old-key-0123456789abcdefghijklmnopqrstuvwxy"
#define K_NEW "new-key-0123456789abcdefghijklmnopqrstuvwxy"
#define K_SAME "same-key-0123456789abcdefghijklmnopqrstuvwx"
#define K_NET "net-key-0123456789abcdefghijklmnopqrstuvwxy"
#define K_DEV "dev-key-0123456789abcdefghijklmnopqrstuvwxy"
#define K_DJANGO "9944b09199c62bcf9418ad846dd0e4bbdfc6ee4b"

static struct bnc_runtime *
bnc_t_runtime(const char *text, struct bnc_diag *d)
{
    struct bnc_conf *conf;

    conf = bnc_conf_load_mem("test.conf", text, strlen(text), d);
    /* The scheme's own answers are under test here; the throttle (which
     * would ban this suite's one client address) has test_throttle. */
    if (conf != NULL)
        conf->throttle.enabled = 0;
    return conf != NULL ? bnc_runtime_new(conf, bnc_t_store, d) : NULL;
}

static int
bnc_t_init(void)
{
    struct bnc_store_opts so;
    struct bnc_err err;
    struct bnc_diag d;
    const char *tmp = getenv("TMPDIR");

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-token-XXXXXX",
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
    bnc_t_rt_bearer = bnc_t_runtime(bnc_t_conf_bearer, &d);
    bnc_diag_print(&d, stderr);
    bnc_diag_cleanup(&d);
    return bnc_t_rt == NULL || bnc_t_rt_bearer == NULL;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_runtime_release(bnc_t_rt);
    bnc_runtime_release(bnc_t_rt_bearer);
    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

static void
bnc_t_user(const char *name, const char *group, int disabled)
{
    struct bnc_user u;
    char *groups[2] = {(char *)group, NULL};

    memset(&u, 0, sizeof(u));
    u.name = (char *)name;
    u.hash = (char *)"!";
    u.groups = group != NULL ? groups : NULL;
    u.email = (char *)"t@example.org";
    u.display_name = (char *)"Test User";
    u.disabled = disabled;
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
}

/* Adds a token for key; list arguments are NULL-terminated or NULL. */
static void
bnc_t_token(const char *id, const char *key, const char *user,
            int64_t created, int64_t expires, char **scopes, char **cidrs,
            const char *device)
{
    struct bnc_token t;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", id);
    bnc_sha256(key, strlen(key), t.digest);
    t.user = (char *)user;
    t.label = (char *)"unit test";
    t.created = created != 0 ? created : (int64_t)time(NULL);
    t.expires = expires;
    t.scopes = scopes;
    t.cidrs = cidrs;
    t.device = (char *)device;
    CU_ASSERT_EQUAL_FATAL(bnc_store_token_add(bnc_t_store, &t), BNC_STORE_OK);
}

/* One authorizer decision; extra is NULL or one more "NAME=value". */
static char *
bnc_t_run(struct bnc_runtime *rt, const char *uri, const char *addr,
          const char *auth, const char *extra, const char *extra2,
          struct bnc_decision *d)
{
    size_t alen = auth != NULL ? strlen(auth) : 0;
    char *a = bnc_malloc(alen + 32), u[1024], r[128];
    char *env[8] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET", u, r, a,
                    NULL, NULL, NULL};
    size_t n = 5;
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_buf out;
    char *s;

    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    snprintf(r, sizeof(r), "REMOTE_ADDR=%s", addr);
    snprintf(a, alen + 32, "HTTP_AUTHORIZATION=%s", auth ? auth : "");
    if (extra != NULL)
        env[n++] = (char *)extra;
    if (extra2 != NULL)
        env[n++] = (char *)extra2;
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
    free(a);
    return s;
}

/* Expects status and (when set) a substring of the response. */
static void
bnc_t_expect_full(struct bnc_runtime *rt, const char *uri, const char *addr,
                  const char *auth, const char *extra, int status,
                  const char *needle)
{
    struct bnc_decision d;
    char *out = bnc_t_run(rt, uri, addr, auth, extra, NULL, &d);

    if (d.status != status || (needle && strstr(out, needle) == NULL))
        fprintf(stderr, "\nFAIL %s [%.80s] [%.80s]: status %d, wanted %d "
                "with '%s' (reason: %s):\n%s\n", uri, auth ? auth : "",
                extra ? extra : "", d.status, status, needle ? needle : "",
                d.reason, out);
    CU_ASSERT_EQUAL(d.status, status);
    if (needle != NULL)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    bnc_decision_cleanup(&d);
    free(out);
}

static void
bnc_t_expect(const char *auth, int status, const char *needle)
{
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", auth, NULL, status,
                      needle);
}

#define DRF_NOCRED "\"Invalid token header. No credentials provided.\""
#define DRF_SPACES \
    "\"Invalid token header. Token string should not contain spaces.\""
#define DRF_BADCHAR                                                      \
    "\"Invalid token header. Token string should not contain invalid " \
    "characters.\""
#define DRF_INVALID "{\"detail\": \"Invalid token.\", \"code\": " \
    "\"authentication_failed\"}"
#define DRF_INACTIVE "\"User inactive or deleted.\""
#define CHALLENGE "WWW-Authenticate: Token\r\n"

static void
test_token_valid_sets_identity(void)
{
    char *scopes[] = {"read", "write", NULL};
    int64_t exp = (int64_t)time(NULL) + 3600;
    char want[64];
    struct bnc_decision d;
    struct bnc_token t;
    char *out;

    bnc_t_user("alice", "staff", 0);
    bnc_t_token("tk_aaaaaaaaaaaaa", K_ALICE, "alice", 0, exp, scopes, NULL,
                NULL);
    out = bnc_t_run(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_ALICE, NULL,
                    NULL, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_STRING_EQUAL(d.scheme, "token");
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-REMOTE_USER: alice\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_TYPE: Token\r\n"));
    CU_ASSERT_PTR_NOT_NULL(
        strstr(out, "Variable-AUTH_CREDENTIAL_ID: tk_aaaaaaaaaaaaa\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_SCOPES: read write\r\n"));
    snprintf(want, sizeof(want), "Variable-AUTH_EXPIRES: %lld\r\n",
             (long long)exp);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_GROUPS: staff\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_EMAIL: t@example.org\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_NAME: Test User\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_USER_ID: "));
    /* The key is never echoed, and the log reason names only the id. */
    CU_ASSERT_PTR_NULL(strstr(out, K_ALICE));
    CU_ASSERT_PTR_NULL(strstr(d.reason, K_ALICE));
    CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "tk_aaaaaaaaaaaaa"));
    bnc_decision_cleanup(&d);
    free(out);
    /* Use was recorded (touch = yes by default). */
    memset(&t, 0, sizeof(t));
    CU_ASSERT_EQUAL(bnc_store_token_get_by_id(bnc_t_store, "tk_aaaaaaaaaaaaa",
                                              &t), BNC_STORE_OK);
    CU_ASSERT(t.last_used >= (int64_t)time(NULL) - 5);
    bnc_token_cleanup(&t);
}

static void
test_token_keyword_case_and_whitespace(void)
{
    bnc_t_expect("token " K_ALICE, 200, "Variable-REMOTE_USER: alice");
    bnc_t_expect("TOKEN " K_ALICE, 200, NULL);
    bnc_t_expect("  ToKeN \t " K_ALICE "  \t", 200, NULL);
    /* A prefix of the keyword is not the keyword: another scheme's. */
    bnc_t_expect("Tok " K_ALICE, 401,
                 "Authentication credentials were not provided.");
    bnc_t_expect("Tokens " K_ALICE, 401, "not_authenticated");
    /* The key is case-sensitive even though the keyword is not. */
    bnc_t_expect("Token alice-key_0123456789abcdefghijklmnopqrstuvw", 401,
                 DRF_INVALID);
}

static void
test_token_drf_messages(void)
{
    char big[700];

    bnc_t_expect("Token", 401, DRF_NOCRED);
    bnc_t_expect("Token", 401, CHALLENGE);
    bnc_t_expect("Token   \t", 401, DRF_NOCRED);
    bnc_t_expect("Token a b", 401, DRF_SPACES);
    bnc_t_expect("Token " K_ALICE " x", 401, DRF_SPACES);
    bnc_t_expect("Token " K_ALICE " x", 401, CHALLENGE);
    bnc_t_expect("Token nosuchkey", 401, DRF_INVALID);
    bnc_t_expect("Token nosuchkey", 401, CHALLENGE);
    bnc_t_expect("Token " K_DJANGO, 401, DRF_INVALID);
    /* Control bytes are not whitespace to split(): part of the key. */
    bnc_t_expect("Token abc\x01" "def", 401, DRF_BADCHAR);
    bnc_t_expect("Token \x7f", 401, DRF_BADCHAR);
    bnc_t_expect("Token k\xc3\xa9y", 401, DRF_BADCHAR);
    bnc_t_expect("Token \xff\xfe", 401, DRF_BADCHAR);
    /* Longer than any key: refused before the store. */
    memset(big, 'k', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "Token ", 6);
    bnc_t_expect(big, 401, DRF_INVALID);
    /* Without credentials the Token challenge is offered (with Basic's). */
    bnc_t_expect(NULL, 401, CHALLENGE);
    bnc_t_expect(NULL, 401, "WWW-Authenticate: Basic realm=\"test\"");
    bnc_t_expect_full(bnc_t_rt, "/pub/x", "192.0.2.7", NULL, NULL, 200, NULL);
    /* A bad token fails the request even on an anonymous path (DRF). */
    bnc_t_expect_full(bnc_t_rt, "/pub/x", "192.0.2.7", "Token nosuchkey",
                      NULL, 401, DRF_INVALID);
}

static void
test_token_huge_and_hostile_keys(void)
{
    size_t n = 100 * 1024;
    char *big = bnc_malloc(n + 1);
    char *hdr = bnc_malloc(n + 32);

    memset(big, 'A', n);
    big[n] = '\0';
    memcpy(big, "Token ", 6);
    /* Over the request's param bound: 400 before any scheme runs. */
    bnc_t_expect(big, 400, "Request header too large.");
    /* Through the API-key header: the scheme bounds it itself. */
    snprintf(hdr, n + 32, "HTTP_X_API_KEY=%s", big + 6);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL, hdr, 401,
                      DRF_INVALID);
    snprintf(hdr, n + 32, "HTTP_X_API_KEY=%.600s", big + 6);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL, hdr, 401,
                      DRF_INVALID);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=\x1b[31mred", 401, DRF_BADCHAR);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=caf\xc3\xa9", 401, DRF_BADCHAR);
    /* Two different X-API-Key copies (lighttpd maps X_API_Key to the same
     * param): neither is read. Two equal copies are one key. */
    {
        struct bnc_decision d;
        char *out = bnc_t_run(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                              "HTTP_X_API_KEY=" K_ALICE,
                              "HTTP_X_API_KEY=" K_ALICE "x", &d);

        CU_ASSERT_EQUAL(d.status, 400);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, "duplicate_header"));
        bnc_decision_cleanup(&d);
        free(out);
        out = bnc_t_run(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                        "HTTP_X_API_KEY=" K_ALICE, "HTTP_X_API_KEY=" K_ALICE,
                        &d);
        CU_ASSERT_NOT_EQUAL(d.status, 400);
        bnc_decision_cleanup(&d);
        free(out);
    }
    bnc_t_expect("Token \r\n" K_ALICE, 200, NULL); /* split() eats CR LF */
    bnc_t_expect("Token " K_ALICE "\r\nX-Injected: 1", 401, DRF_SPACES);
    free(big);
    free(hdr);
}

static void
test_token_expired_revoked_unknown(void)
{
    int64_t now = (int64_t)time(NULL);
    struct bnc_decision d1, d2;
    char *o1, *o2;

    bnc_t_token("tk_eeeeeeeeeeeee", K_EXPIRED, "alice", 0, now - 1, NULL,
                NULL, NULL);
    bnc_t_token("tk_rrrrrrrrrrrrr", K_REVOKED, "alice", 0, 0, NULL, NULL,
                NULL);
    bnc_t_expect("Token " K_REVOKED, 200, NULL);
    CU_ASSERT_EQUAL(bnc_store_token_revoke(bnc_t_store, "tk_rrrrrrrrrrrrr"),
                    BNC_STORE_OK);
    bnc_t_expect("Token " K_REVOKED, 401, DRF_INVALID);
    /* Expired, revoked and unknown answer alike; only the log differs. */
    o1 = bnc_t_run(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_EXPIRED, NULL,
                   NULL, &d1);
    o2 = bnc_t_run(bnc_t_rt, "/app/", "192.0.2.7", "Token unknown-key", NULL,
                   NULL, &d2);
    CU_ASSERT_EQUAL(d1.status, 401);
    CU_ASSERT_STRING_EQUAL(o1, o2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o1, DRF_INVALID));
    CU_ASSERT_PTR_NOT_NULL(strstr(d1.reason, "expired"));
    CU_ASSERT_PTR_NOT_NULL(strstr(d2.reason, "unknown"));
    bnc_decision_cleanup(&d1);
    bnc_decision_cleanup(&d2);
    free(o1);
    free(o2);
}

static int
bnc_t_edit_disable(struct bnc_user *u, void *arg)
{
    (void)arg;
    u->disabled = 1;
    return 0;
}

static int
bnc_t_edit_not_before(struct bnc_user *u, void *arg)
{
    u->not_before = *(const int64_t *)arg;
    return 0;
}

static int
bnc_t_edit_tokens_not_before(struct bnc_user *u, void *arg)
{
    u->tokens_not_before = *(const int64_t *)arg;
    return 0;
}

static void
test_token_user_disabled_deleted_not_before(void)
{
    int64_t now = (int64_t)time(NULL), nb = now + 100;

    bnc_t_user("dora", NULL, 0);
    bnc_t_token("tk_ddddddddddddd", K_DORA, "dora", 0, 0, NULL, NULL, NULL);
    bnc_t_expect("Token " K_DORA, 200, NULL);
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "dora",
                                          bnc_t_edit_disable, NULL,
                                          BNC_STORE_SYNC), BNC_STORE_OK);
    bnc_t_expect("Token " K_DORA, 401, DRF_INACTIVE);
    bnc_t_expect("Token " K_DORA, 401, CHALLENGE);

    bnc_t_user("gone", NULL, 0);
    bnc_t_token("tk_ggggggggggggg", K_GONE, "gone", 0, 0, NULL, NULL, NULL);
    bnc_t_expect("Token " K_GONE, 200, NULL);
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "gone"), BNC_STORE_OK);
    /* The store drops a deleted user's tokens (Django's cascade): "Invalid
     * token."; a token left behind would get DRF's inactive message. */
    {
        struct bnc_decision d;
        char *out = bnc_t_run(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_GONE,
                              NULL, NULL, &d);

        CU_ASSERT_EQUAL(d.status, 401);
        CU_ASSERT(strstr(out, DRF_INVALID) != NULL ||
                  strstr(out, DRF_INACTIVE) != NULL);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, CHALLENGE));
        bnc_decision_cleanup(&d);
        free(out);
    }

    /* A password change or a plain "log out everywhere" (not_before)
     * leaves API tokens alone, as DRF does; "logout-all --tokens"
     * (tokens_not_before) kills those issued before it, newer ones work. */
    bnc_t_user("nora", NULL, 0);
    bnc_t_token("tk_nnnnnnnnnnnno", K_OLD, "nora", 0, 0, NULL, NULL, NULL);
    bnc_t_expect("Token " K_OLD, 200, NULL);
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "nora",
                                          bnc_t_edit_not_before, &nb,
                                          BNC_STORE_SYNC), BNC_STORE_OK);
    bnc_t_expect("Token " K_OLD, 200, "Variable-REMOTE_USER: nora");
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "nora",
                                          bnc_t_edit_tokens_not_before, &nb,
                                          BNC_STORE_SYNC), BNC_STORE_OK);
    bnc_t_expect("Token " K_OLD, 401, DRF_INVALID);
    /* One created in the stamp's own second may predate it: void. */
    bnc_t_token("tk_nnnnnnnnnnnns", K_SAME, "nora", nb, 0, NULL, NULL, NULL);
    bnc_t_expect("Token " K_SAME, 401, DRF_INVALID);
    bnc_t_token("tk_nnnnnnnnnnnnn", K_NEW, "nora", nb + 1, 0, NULL, NULL,
                NULL);
    bnc_t_expect("Token " K_NEW, 200, "Variable-REMOTE_USER: nora");
}

static void
test_token_recreated_user(void)
{
    /* A token of a deleted user must not come back to life for a new
     * account that reuses the name. */
    bnc_t_user("rita", NULL, 0);
    bnc_t_token("tk_rita222222222", "rita-key-0123456789", "rita",
                (int64_t)time(NULL) - 10, 0, NULL, NULL, NULL);
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "rita"), BNC_STORE_OK);
    bnc_t_user("rita", NULL, 0);
    bnc_t_expect("Token rita-key-0123456789", 401, NULL);
    bnc_t_expect("Token rita-key-0123456789", 401, "\"detail\": \"");
}

static void
test_token_allowed_networks(void)
{
    char *cidrs[] = {"192.0.2.0/24", "2001:db8::/32", NULL};
    struct bnc_decision d;
    char *out;

    bnc_t_token("tk_ccccccccccccc", K_NET, "alice", 0, 0, NULL, cidrs, NULL);
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_NET, NULL,
                      200, NULL);
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.255", "Token " K_NET, NULL,
                      200, NULL);
    bnc_t_expect_full(bnc_t_rt, "/app/", "198.51.100.7", "Token " K_NET,
                      NULL, 401, DRF_INVALID);
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.3.1", "Token " K_NET, NULL,
                      401, DRF_INVALID);
    bnc_t_expect_full(bnc_t_rt, "/app/", "2001:db8:1::5", "Token " K_NET,
                      NULL, 200, NULL);
    bnc_t_expect_full(bnc_t_rt, "/app/", "2001:db9::5", "Token " K_NET, NULL,
                      401, DRF_INVALID);
    /* IPv4-mapped IPv6 (a dual-stack socket) is the IPv4 client. */
    bnc_t_expect_full(bnc_t_rt, "/app/", "::ffff:192.0.2.9", "Token " K_NET,
                      NULL, 200, NULL);
    bnc_t_expect_full(bnc_t_rt, "/app/", "::ffff:198.51.100.1",
                      "Token " K_NET, NULL, 401, DRF_INVALID);
    /* No usable client address: fail closed. */
    bnc_t_expect_full(bnc_t_rt, "/app/", "", "Token " K_NET, NULL, 401,
                      DRF_INVALID);
    bnc_t_expect_full(bnc_t_rt, "/app/", "not-an-ip", "Token " K_NET, NULL,
                      401, DRF_INVALID);
    /* X-Forwarded-For is not believed: no trusted proxies here. */
    bnc_t_expect_full(bnc_t_rt, "/app/", "198.51.100.7", "Token " K_NET,
                      "HTTP_X_FORWARDED_FOR=192.0.2.7", 401, DRF_INVALID);
    out = bnc_t_run(bnc_t_rt, "/app/", "198.51.100.7", "Token " K_NET, NULL,
                    NULL, &d);
    CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "not in allowed networks"));
    bnc_decision_cleanup(&d);
    free(out);
}

static void
test_token_device_binding(void)
{
    bnc_t_token("tk_vvvvvvvvvvvvv", K_DEV, "alice", 0, 0, NULL, NULL,
                "phone-42");
    bnc_t_expect("Token " K_DEV, 401,
                 "{\"detail\": \"Device id required for this token.\", "
                 "\"code\": \"device_required\"}");
    bnc_t_expect("Token " K_DEV, 401, CHALLENGE);
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_DEV,
                      "HTTP_X_DEVICE_ID=", 401, "device_required");
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_DEV,
                      "HTTP_X_DEVICE_ID=phone-43", 401,
                      "{\"detail\": \"Device id does not match this token.\", "
                      "\"code\": \"device_mismatch\"}");
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_DEV,
                      "HTTP_X_DEVICE_ID=phone-4", 401, "device_mismatch");
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_DEV,
                      "HTTP_X_DEVICE_ID=PHONE-42", 401, "device_mismatch");
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_DEV,
                      "HTTP_X_DEVICE_ID=phone-42", 200,
                      "Variable-AUTH_CREDENTIAL_ID: tk_vvvvvvvvvvvvv");
    /* Another runtime names the header X-Phone-Id: X-Device-Id is then
     * just some header. */
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", "Bearer " K_DEV,
                      "HTTP_X_DEVICE_ID=phone-42", 401, "device_required");
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", "Bearer " K_DEV,
                      "HTTP_X_PHONE_ID=phone-42", 200, NULL);
    /* Unbound tokens ignore the header. */
    bnc_t_expect_full(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_ALICE,
                      "HTTP_X_DEVICE_ID=whatever", 200, NULL);
}

static void
test_token_scope_rules(void)
{
    char *scopes[] = {"admin", NULL};

    bnc_t_token("tk_sssssssssssss", K_SCOPED, "alice", 0, 0, scopes, NULL,
                NULL);
    /* alice's first token has read+write; staff group holds. */
    bnc_t_expect_full(bnc_t_rt, "/read/x", "192.0.2.7", "Token " K_ALICE,
                      NULL, 200, NULL);
    bnc_t_expect_full(bnc_t_rt, "/admin/x", "192.0.2.7", "Token " K_ALICE,
                      NULL, 403,
                      "You do not have permission to perform this action.");
    bnc_t_expect_full(bnc_t_rt, "/admin/x", "192.0.2.7", "Token " K_SCOPED,
                      NULL, 200, "Variable-AUTH_SCOPES: admin\r\n");
    bnc_t_expect_full(bnc_t_rt, "/read/x", "192.0.2.7", "Token " K_SCOPED,
                      NULL, 403, "permission_denied");
    /* A token without scopes holds no scope requirement. */
    bnc_t_expect_full(bnc_t_rt, "/read/x", "192.0.2.7", "Token " K_DEV,
                      "HTTP_X_DEVICE_ID=phone-42", 403, NULL);
}

static void
test_token_bearer_keyword_and_header(void)
{
    struct bnc_token t;

    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", "Bearer " K_ALICE,
                      NULL, 200, "Variable-AUTH_TYPE: Token\r\n");
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", "bearer " K_ALICE,
                      NULL, 200, NULL);
    /* "Token" is not this runtime's keyword: declined, so anonymous. */
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", "Token " K_ALICE,
                      NULL, 401, "Authentication credentials were not "
                      "provided.");
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL, NULL, 401,
                      "WWW-Authenticate: Bearer\r\n");
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", "Bearer", NULL, 401,
                      DRF_NOCRED);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", "Bearer a b", NULL,
                      401, DRF_SPACES);
    /* The API-key header: the whole value is the key. */
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=" K_ALICE, 200,
                      "Variable-REMOTE_USER: alice\r\n");
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY= " K_ALICE " ", 200, NULL);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=Token " K_ALICE, 401, DRF_SPACES);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=", 401, DRF_NOCRED);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=nosuchkey", 401, DRF_INVALID);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=" K_EXPIRED, 401, DRF_INVALID);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                      "HTTP_X_API_KEY=" K_DORA, 401, DRF_INACTIVE);
    /* The Authorization header wins when it carries the keyword. */
    {
        struct bnc_decision d;
        char *out = bnc_t_run(bnc_t_rt_bearer, "/", "192.0.2.7",
                              "Bearer nosuchkey", "HTTP_X_API_KEY=" K_ALICE,
                              NULL, &d);

        CU_ASSERT_EQUAL(d.status, 401);
        bnc_decision_cleanup(&d);
        free(out);
    }
    /* touch = no: a use is not recorded. */
    bnc_t_token("tk_uuuuuuuuuuuuu", "untouched-key", "alice", 0, 0, NULL,
                NULL, NULL);
    bnc_t_expect_full(bnc_t_rt_bearer, "/", "192.0.2.7",
                      "Bearer untouched-key", NULL, 200, NULL);
    memset(&t, 0, sizeof(t));
    CU_ASSERT_EQUAL(bnc_store_token_get_by_id(bnc_t_store, "tk_uuuuuuuuuuuuu",
                                              &t), BNC_STORE_OK);
    CU_ASSERT_EQUAL(t.last_used, 0);
    bnc_token_cleanup(&t);
}

/* Loads text; expects NULL and that the first error line is want. */
static void
bnc_t_conf_error(const char *text, const char *want)
{
    struct bnc_diag d;
    struct bnc_runtime *rt;
    size_t i;
    int found = 0;

    bnc_diag_init(&d);
    rt = bnc_t_runtime(text, &d);
    CU_ASSERT_PTR_NULL(rt);
    for (i = 0; i < d.n; i++)
        if (strstr(d.lines[i], want) != NULL)
            found = 1;
    if (!found) {
        fprintf(stderr, "\nwanted '%s', got:\n", want);
        bnc_diag_print(&d, stderr);
    }
    CU_ASSERT(found);
    bnc_runtime_release(rt);
    bnc_diag_cleanup(&d);
}

static void
test_token_config_errors(void)
{
    bnc_t_conf_error("[auth]\nschemes = token\n[token]\nkeyword = Api Key\n",
                     "test.conf:3: [token] keyword: expected one word");
    bnc_t_conf_error("[auth]\nschemes = token\n[token]\nkeyword = basic\n",
                     "test.conf:3: [token] keyword: 'Basic' would take");
    bnc_t_conf_error("[auth]\nschemes = token\n[token]\nkeyword = T\"k\n",
                     "[token] keyword: expected one word");
    bnc_t_conf_error("[auth]\nschemes = token\n[token]\n"
                     "header = Authorization\n",
                     "test.conf:3: [token] header: 'Authorization' carries");
    bnc_t_conf_error("[auth]\nschemes = token\n[token]\nheader = X_API_Key\n",
                     "[token] header: expected a header name like X-API-Key");
    bnc_t_conf_error("[auth]\nschemes = token\n[token]\ntouch = maybe\n",
                     "test.conf:4: ");
    bnc_t_conf_error("[auth]\nschemes = token\n[token]\nrealm = x\n",
                     "test.conf:4: unknown key 'realm' in [token]");
    /* Checked even when token is not enabled. */
    bnc_t_conf_error("[auth]\nschemes = basic\n[token]\nkeywrd = x\n",
                     "unknown key 'keywrd' in [token]");
}

static void
test_token_basic_still_works_beside(void)
{
    /* token declines Basic credentials; basic then fails them itself. */
    bnc_t_expect("Basic bm9ib2R5Om5vcGU=", 401, "Invalid username/password.");
    bnc_t_expect("Basic bm9ib2R5Om5vcGU=", 401, "WWW-Authenticate: Basic");
}

static void
test_token_never_in_apache_authenticator_role(void)
{
    struct bnc_decision d;
    char *out;

    /* mod_authnz_fcgi's authn provider (REMOTE_PASSWD, no role): a 200
     * would tell Apache that alice's password "wrong" is right. */
    out = bnc_t_run(bnc_t_rt, "/app/", "192.0.2.7", "Token " K_ALICE,
                    "REMOTE_USER=alice", "REMOTE_PASSWD=wrong", &d);
    CU_ASSERT_EQUAL(d.status, 401);
    CU_ASSERT_PTR_NULL(strstr(out, "Variable-REMOTE_USER"));
    bnc_decision_cleanup(&d);
    free(out);
    out = bnc_t_run(bnc_t_rt_bearer, "/", "192.0.2.7", NULL,
                    "HTTP_X_API_KEY=" K_ALICE, "REMOTE_PASSWD=", &d);
    CU_ASSERT_EQUAL(d.status, 401);
    bnc_decision_cleanup(&d);
    free(out);
    /* mod_fcgid's FcgidAuthenticator (always sends REMOTE_PASSWD). */
    out = bnc_t_run(bnc_t_rt_bearer, "/", "192.0.2.7", "Bearer " K_ALICE,
                    "FCGI_APACHE_ROLE=AUTHENTICATOR", "REMOTE_PASSWD=x", &d);
    CU_ASSERT_EQUAL(d.status, 401);
    bnc_decision_cleanup(&d);
    free(out);
    /* AuthnzFcgiCheckAuthnProvider says AUTHENTICATOR but sends no
     * REMOTE_PASSWD: Apache takes the user from our answer (UserExpr), the
     * mode made for bearer tokens. */
    out = bnc_t_run(bnc_t_rt_bearer, "/", "192.0.2.7", "Bearer " K_ALICE,
                    "FCGI_APACHE_ROLE=AUTHENTICATOR", NULL, &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-REMOTE_USER: alice"));
    bnc_decision_cleanup(&d);
    free(out);
}

static const struct bnc_unit_case cases[] = {
    {"test_token_valid_sets_identity", test_token_valid_sets_identity},
    {"test_token_keyword_case_and_whitespace",
     test_token_keyword_case_and_whitespace},
    {"test_token_drf_messages", test_token_drf_messages},
    {"test_token_huge_and_hostile_keys", test_token_huge_and_hostile_keys},
    {"test_token_expired_revoked_unknown", test_token_expired_revoked_unknown},
    {"test_token_user_disabled_deleted_not_before",
     test_token_user_disabled_deleted_not_before},
    {"test_token_recreated_user", test_token_recreated_user},
    {"test_token_allowed_networks", test_token_allowed_networks},
    {"test_token_device_binding", test_token_device_binding},
    {"test_token_scope_rules", test_token_scope_rules},
    {"test_token_bearer_keyword_and_header",
     test_token_bearer_keyword_and_header},
    {"test_token_config_errors", test_token_config_errors},
    {"test_token_basic_still_works_beside", test_token_basic_still_works_beside},
    {"test_token_never_in_apache_authenticator_role",
     test_token_never_in_apache_authenticator_role},
    {NULL, NULL}
};

BNC_UNIT_MAIN("token", cases, bnc_t_init, bnc_t_fini)
