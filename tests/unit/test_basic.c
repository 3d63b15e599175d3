/* SPDX-License-Identifier: MIT */
/* The Basic scheme through the whole decision chain, on a real store. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/decide.h"
#include "conf/conf.h"
#include "crypto/password.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "runtime.h"
#include "store/store.h"
#include "unit.h"
#include "util/b64.h"
#include "util/mem.h"
#include "util/str.h"

static char bnc_t_dir[256];
static struct bnc_store *bnc_t_store;
static struct bnc_runtime *bnc_t_rt;

static const char bnc_t_conf[] =
    "[store]\n"
    "path = /nonexistent ; replaced by BOUNCER_HOME\n"
    "[auth]\n"
    "schemes = basic\n"
    "realm = test realm\n"
    "[passwords]\n"
    "argon2_memory = 1024\n"
    "argon2_time = 1\n"
    "[throttle]\n"
    "enabled = no ; test_throttle has it: here failures must not add up\n"
    "[rules]\n"
    "/pub/ = anonymous\n"
    "/admin/ = group:admin\n"
    "GET /ro/ = authenticated\n"
    "/ = authenticated\n";

static void
bnc_t_add(const char *name, const char *pw, const char *legacy_hash,
          const char *group, int disabled)
{
    struct bnc_argon2_params p = {1024, 1, 1};
    struct bnc_user u;
    char *groups[2] = {(char *)group, NULL};

    memset(&u, 0, sizeof(u));
    u.name = (char *)name;
    if (legacy_hash != NULL)
        u.hash = bnc_strdup(legacy_hash);
    else
        CU_ASSERT_FATAL(bnc_password_hash(&p, pw, strlen(pw), &u.hash) == 0);
    u.groups = group ? groups : NULL;
    u.email = (char *)"x@example.org";
    u.disabled = disabled;
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
    free(u.hash);
}

static int
bnc_t_init(void)
{
    struct bnc_store_opts so;
    struct bnc_err err;
    struct bnc_diag d;
    struct bnc_conf *conf;
    const char *tmp = getenv("TMPDIR");

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-basic-XXXXXX",
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
    conf = bnc_conf_load_mem("test.conf", bnc_t_conf, strlen(bnc_t_conf), &d);
    if (conf != NULL)
        bnc_t_rt = bnc_runtime_new(conf, bnc_t_store, &d);
    bnc_diag_print(&d, stderr);
    bnc_diag_cleanup(&d);
    return bnc_t_rt == NULL;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_runtime_release(bnc_t_rt);
    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

/* Runs one authorizer decision; returns the serialized response. */
static char *
bnc_t_decide(const char *uri, const char *method, const char *auth,
             struct bnc_decision *d)
{
    char a[20000], u[1024], m[64];
    char *env[] = {"FCGI_ROLE=AUTHORIZER", m, u, a, "REMOTE_ADDR=192.0.2.7",
                   NULL};
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_buf out;
    char *s;

    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    snprintf(a, sizeof(a), "HTTP_AUTHORIZATION=%s", auth ? auth : "");
    bnc_request_init(&req, env);
    bnc_response_init(&resp);
    bnc_buf_init(&out);
    bnc_decide(bnc_t_rt, &req, d);
    bnc_decision_respond(bnc_t_rt, &req, d, &resp);
    bnc_response_serialize(&resp, &out);
    s = bnc_strdup(bnc_buf_str(&out));
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
    return s;
}

static char *
bnc_t_basic(const char *userpass)
{
    static char h[12000];
    char b64[10000];

    bnc_b64_encode((const unsigned char *)userpass, strlen(userpass), b64);
    snprintf(h, sizeof(h), "Basic %s", b64);
    return h;
}

/* Expects status and a substring of the response. */
static void
bnc_t_expect(const char *uri, const char *method, const char *auth,
             int status, const char *needle)
{
    struct bnc_decision d;
    char *out = bnc_t_decide(uri, method, auth, &d);

    if (d.status != status || (needle && strstr(out, needle) == NULL))
        fprintf(stderr, "\nFAIL %s %s [%s]: status %d, wanted %d with '%s':\n%s\n",
                method, uri, auth ? auth : "", d.status, status,
                needle ? needle : "", out);
    CU_ASSERT_EQUAL(d.status, status);
    if (needle != NULL)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    bnc_decision_cleanup(&d);
    free(out);
}

static void
test_basic_allow_sets_identity(void)
{
    struct bnc_decision d;
    char *out;

    bnc_t_add("alice", "s3cret:with:colons", NULL, "staff", 0);
    out = bnc_t_decide("/app/", "GET", bnc_t_basic("alice:s3cret:with:colons"), &d);
    CU_ASSERT_EQUAL(d.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Status: 200 OK\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-REMOTE_USER: alice\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_TYPE: Basic\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_GROUPS: staff\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_EMAIL: x@example.org\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_USER_ID: "));
    CU_ASSERT_PTR_NULL(strstr(out, "s3cret"));
    bnc_decision_cleanup(&d);
    free(out);
    /* Second time comes from the cache, same answer. */
    bnc_t_expect("/app/", "GET", bnc_t_basic("alice:s3cret:with:colons"), 200,
                 "Variable-REMOTE_USER: alice");
    /* Keyword is case-insensitive, extra whitespace tolerated (DRF split()). */
    {
        char h[200];
        snprintf(h, sizeof(h), "  bAsIc \t%.180s ", bnc_t_basic("alice:s3cret:with:colons") + 6);
        bnc_t_expect("/app/", "GET", h, 200, NULL);
    }
}

static void
test_basic_wrong_and_unknown_look_the_same(void)
{
    struct bnc_decision d1, d2;
    char *o1, *o2;

    o1 = bnc_t_decide("/app/", "GET", bnc_t_basic("alice:wrong"), &d1);
    o2 = bnc_t_decide("/app/", "GET", bnc_t_basic("nosuchuser:wrong"), &d2);
    CU_ASSERT_EQUAL(d1.status, 401);
    CU_ASSERT_STRING_EQUAL(o1, o2);
    CU_ASSERT_PTR_NOT_NULL(strstr(o1, "WWW-Authenticate: Basic realm=\"test realm\", charset=\"UTF-8\"\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(o1, "{\"detail\": \"Invalid username/password.\", \"code\": \"authentication_failed\"}"));
    bnc_decision_cleanup(&d1);
    bnc_decision_cleanup(&d2);
    free(o1);
    free(o2);
}

static void
test_basic_malformed_headers(void)
{
    char big[9000];

    bnc_t_expect("/app/", "GET", "Basic", 401,
                 "Invalid basic header. No credentials provided.");
    bnc_t_expect("/app/", "GET", "Basic   ", 401,
                 "Invalid basic header. No credentials provided.");
    bnc_t_expect("/app/", "GET", "Basic a b", 401,
                 "Credentials string should not contain spaces.");
    bnc_t_expect("/app/", "GET", "Basic !!!!", 401,
                 "Credentials not correctly base64 encoded.");
    bnc_t_expect("/app/", "GET", "Basic YWxpY2U=", 401, /* "alice", no colon */
                 "Credentials not correctly base64 encoded.");
    bnc_t_expect("/app/", "GET", "Basic YWxpY2U6eA", 401, /* missing padding */
                 "Credentials not correctly base64 encoded.");
    bnc_t_expect("/app/", "GET", "Basic YWxpY2U6eB==", 401, /* non-canonical */
                 "Credentials not correctly base64 encoded.");
    bnc_t_expect("/app/", "GET", "Basic YWxp\x01Y2U6eA==", 401, NULL);
    bnc_t_expect("/app/", "GET", bnc_t_basic(":nouser"), 401,
                 "Invalid username/password.");
    bnc_t_expect("/app/", "GET", "Basic YQBiOmM=", 401, /* "a\0b:c" */
                 "contain invalid characters");
    memset(big, 'A', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    memcpy(big, "Basic ", 6);
    bnc_t_expect("/app/", "GET", big, 401, "Credentials too long.");
    /* Another scheme's header is not Basic's business: anonymous -> 401
     * "not provided" with the challenge. */
    bnc_t_expect("/app/", "GET", "Bearer abc.def.ghi", 401,
                 "Authentication credentials were not provided.");
    bnc_t_expect("/app/", "GET", NULL, 401,
                 "WWW-Authenticate: Basic realm=\"test realm\", charset=\"UTF-8\"");
}

static void
test_basic_disabled_user(void)
{
    bnc_t_add("dora", "pw-dora", NULL, NULL, 1);
    bnc_t_expect("/app/", "GET", bnc_t_basic("dora:pw-dora"), 401,
                 "User inactive or deleted.");
    /* Without the right password, disabled looks like any wrong password. */
    bnc_t_expect("/app/", "GET", bnc_t_basic("dora:nope"), 401,
                 "Invalid username/password.");
}

static int
bnc_t_disable(struct bnc_user *u, void *arg)
{
    (void)arg;
    u->disabled = 1;
    return 0;
}

static void
test_basic_cache_dropped_when_user_changes(void)
{
    bnc_t_add("carol", "pw-carol", NULL, NULL, 0);
    bnc_t_expect("/app/", "GET", bnc_t_basic("carol:pw-carol"), 200, NULL);
    bnc_t_expect("/app/", "GET", bnc_t_basic("carol:pw-carol"), 200, NULL);
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "carol", bnc_t_disable,
                                          NULL, BNC_STORE_SYNC), BNC_STORE_OK);
    bnc_t_expect("/app/", "GET", bnc_t_basic("carol:pw-carol"), 401,
                 "User inactive or deleted.");
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "carol"), BNC_STORE_OK);
    bnc_t_expect("/app/", "GET", bnc_t_basic("carol:pw-carol"), 401,
                 "Invalid username/password.");
}

static void
test_basic_legacy_hash_rehashed(void)
{
    struct bnc_user u;

    /* htpasswd -bs: {SHA} of "password" */
    bnc_t_add("leg", NULL, "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", NULL, 0);
    bnc_t_expect("/app/", "GET", bnc_t_basic("leg:password"), 200, NULL);
    memset(&u, 0, sizeof(u));
    CU_ASSERT_EQUAL(bnc_store_user_get(bnc_t_store, "leg", &u), BNC_STORE_OK);
    CU_ASSERT_PTR_NOT_NULL(u.hash);
    if (u.hash != NULL)
        CU_ASSERT_EQUAL(strncmp(u.hash, "$argon2id$", 10), 0);
    bnc_user_cleanup(&u);
    bnc_t_expect("/app/", "GET", bnc_t_basic("leg:password"), 200, NULL);
    bnc_t_expect("/app/", "GET", bnc_t_basic("leg:Password"), 401, NULL);
}

static void
test_basic_rules_and_utf8(void)
{
    bnc_t_add("j\xc3\xbcrgen", "p\xc3\xa4ss", NULL, "admin", 0);
    bnc_t_expect("/admin/x", "GET", bnc_t_basic("j\xc3\xbcrgen:p\xc3\xa4ss"), 200,
                 "Variable-REMOTE_USER: j\xc3\xbcrgen");
    bnc_t_expect("/admin/x", "GET", bnc_t_basic("alice:s3cret:with:colons"), 403,
                 "You do not have permission to perform this action.");
    bnc_t_expect("/admin/x", "GET", NULL, 401, "not_authenticated");
    bnc_t_expect("/pub/file", "GET", NULL, 200, NULL);
    /* Rules see the normalised path: no escaping /admin/ through tricks. */
    bnc_t_expect("/pub/../admin/x", "GET", bnc_t_basic("alice:s3cret:with:colons"), 403, NULL);
    bnc_t_expect("/pub/%2e%2e/admin/x", "GET", NULL, 401, NULL);
    bnc_t_expect("/pub%2fsecret", "GET", NULL, 400, "Malformed request path.");
    bnc_t_expect("/ro/x", "POST", bnc_t_basic("alice:s3cret:with:colons"), 200, NULL);
}

/* Runs a decision on a free-form param list. */
static int
bnc_t_decide_env(char **env, char **out)
{
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_buf b;
    struct bnc_decision d;
    int status;

    bnc_request_init(&req, env);
    bnc_response_init(&resp);
    bnc_buf_init(&b);
    bnc_decide(bnc_t_rt, &req, &d);
    bnc_decision_respond(bnc_t_rt, &req, &d, &resp);
    bnc_response_serialize(&resp, &b);
    *out = bnc_strdup(bnc_buf_str(&b));
    status = d.status;
    bnc_decision_cleanup(&d);
    bnc_buf_cleanup(&b);
    bnc_response_cleanup(&resp);
    return status;
}

static void
test_basic_apache_authenticator_role(void)
{
    char *empty_pw[] = {"FCGI_ROLE=AUTHORIZER", "FCGI_APACHE_ROLE=AUTHENTICATOR",
                        "REQUEST_METHOD=GET", "REQUEST_URI=/pub/x",
                        "REMOTE_USER=alice", "REMOTE_PASSWD=", NULL};
    char *authnz_wrong[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                            "REQUEST_URI=/pub/x", "REMOTE_USER=alice",
                            "REMOTE_PASSWD=wrong", NULL};
    char *authnz_right[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                            "REQUEST_URI=/app/x", "REMOTE_USER=alice",
                            "REMOTE_PASSWD=s3cret:with:colons", NULL};
    char *authn_right[] = {"FCGI_ROLE=AUTHORIZER",
                           "FCGI_APACHE_ROLE=AUTHENTICATOR",
                           "REQUEST_METHOD=GET", "REQUEST_URI=/pub/x",
                           "REMOTE_USER=alice",
                           "REMOTE_PASSWD=s3cret:with:colons", NULL};
    char basic_hdr[200];
    char *check_authn[] = {"FCGI_ROLE=AUTHORIZER",
                           "FCGI_APACHE_ROLE=AUTHENTICATOR",
                           "REQUEST_METHOD=GET", "REQUEST_URI=/app/x",
                           basic_hdr, NULL};
    char *out;

    /* AuthnzFcgiCheckAuthnProvider: AUTHENTICATOR without REMOTE_PASSWD,
     * the credentials in Authorization (CGIPassAuth): decided as usual. */
    snprintf(basic_hdr, sizeof(basic_hdr), "HTTP_AUTHORIZATION=%s",
             bnc_t_basic("alice:s3cret:with:colons"));
    CU_ASSERT_EQUAL(bnc_t_decide_env(check_authn, &out), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-REMOTE_USER: alice"));
    free(out);
    /* Apache reads our 200 as "password correct": an anonymous rule must
     * not turn an unchecked or empty password into a login. */
    CU_ASSERT_EQUAL(bnc_t_decide_env(empty_pw, &out), 401);
    free(out);
    CU_ASSERT_EQUAL(bnc_t_decide_env(authnz_wrong, &out), 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Invalid username/password."));
    free(out);
    CU_ASSERT_EQUAL(bnc_t_decide_env(authnz_right, &out), 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-REMOTE_USER: alice"));
    free(out);
    CU_ASSERT_EQUAL(bnc_t_decide_env(authn_right, &out), 200);
    free(out);
}

static void
test_basic_readded_user_does_not_inherit_cache(void)
{
    bnc_t_add("bob", "oldpass", NULL, NULL, 0);
    bnc_t_expect("/app/", "GET", bnc_t_basic("bob:oldpass"), 200, NULL);
    bnc_t_expect("/app/", "GET", bnc_t_basic("bob:oldpass"), 200,
                 NULL); /* now cached */
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "bob"), BNC_STORE_OK);
    bnc_t_add("bob", "newpass", NULL, NULL, 0);
    bnc_t_expect("/app/", "GET", bnc_t_basic("bob:oldpass"), 401,
                 "Invalid username/password.");
    bnc_t_expect("/app/", "GET", bnc_t_basic("bob:newpass"), 200, NULL);
}

static double
bnc_t_ms(const char *auth)
{
    struct timespec a, b;
    struct bnc_decision d;
    char *out;

    clock_gettime(CLOCK_MONOTONIC, &a);
    out = bnc_t_decide("/app/", "GET", auth, &d);
    clock_gettime(CLOCK_MONOTONIC, &b);
    bnc_decision_cleanup(&d);
    free(out);
    return (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
}

static void
test_basic_fast_legacy_hash_padded(void)
{
    double unknown, legacy;

    /* {SHA} takes microseconds; a wrong password for it must still cost
     * what an unknown user costs, or the name's existence shows. Only a
     * lower bound is asserted: padding sleeps, so noise cannot fail it. */
    bnc_t_add("shaw", NULL, "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=", NULL, 0);
    unknown = bnc_t_ms(bnc_t_basic("nobody-at-all:wrong"));
    legacy = bnc_t_ms(bnc_t_basic("shaw:wrong"));
    CU_ASSERT_TRUE(legacy >= 0.5 * unknown);
    if (legacy < 0.5 * unknown)
        fprintf(stderr, "unknown %.2f ms, legacy %.2f ms\n", unknown, legacy);
}

static void
test_basic_slow_hash_pads_unknown(void)
{
    struct bnc_argon2_params slow = {8192, 40, 1};
    double slowpoke, unknown, shaw;
    char *hash = NULL;

    /* A hash much slower than the configured Argon2id (an imported
     * $6$rounds=900000 or bcrypt cost 12 behaves the same): once one has
     * been verified, an unknown name and a fast legacy hash answer no
     * sooner. Lower bounds only: padding sleeps, noise cannot fail it. */
    CU_ASSERT_EQUAL_FATAL(bnc_password_hash(&slow, "pw", 2, &hash), 0);
    bnc_t_add("slowpoke", NULL, hash, NULL, 0);
    free(hash);
    slowpoke = bnc_t_ms(bnc_t_basic("slowpoke:wrong"));
    unknown = bnc_t_ms(bnc_t_basic("nobody-else:wrong"));
    shaw = bnc_t_ms(bnc_t_basic("shaw:wrong-again"));
    CU_ASSERT_TRUE(unknown >= 0.8 * slowpoke);
    CU_ASSERT_TRUE(shaw >= 0.8 * slowpoke);
    if (unknown < 0.8 * slowpoke || shaw < 0.8 * slowpoke)
        fprintf(stderr, "\n  slow hash %.1f ms, unknown %.1f ms, {SHA} "
                "%.1f ms\n", slowpoke, unknown, shaw);
    /* The right password is not padded. */
    bnc_t_expect("/app/", "GET", bnc_t_basic("slowpoke:pw"), 200, NULL);
}

static const struct bnc_unit_case cases[] = {
    {"test_basic_allow_sets_identity", test_basic_allow_sets_identity},
    {"test_basic_wrong_and_unknown_look_the_same", test_basic_wrong_and_unknown_look_the_same},
    {"test_basic_malformed_headers", test_basic_malformed_headers},
    {"test_basic_disabled_user", test_basic_disabled_user},
    {"test_basic_cache_dropped_when_user_changes", test_basic_cache_dropped_when_user_changes},
    {"test_basic_legacy_hash_rehashed", test_basic_legacy_hash_rehashed},
    {"test_basic_rules_and_utf8", test_basic_rules_and_utf8},
    {"test_basic_apache_authenticator_role", test_basic_apache_authenticator_role},
    {"test_basic_readded_user_does_not_inherit_cache", test_basic_readded_user_does_not_inherit_cache},
    {"test_basic_fast_legacy_hash_padded", test_basic_fast_legacy_hash_padded},
    {"test_basic_slow_hash_pads_unknown", test_basic_slow_hash_pads_unknown},
    {NULL, NULL},
};

BNC_UNIT_MAIN("basic", cases, bnc_t_init, bnc_t_fini)
