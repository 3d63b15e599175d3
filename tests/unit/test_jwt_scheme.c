/* SPDX-License-Identifier: MIT */
/* The jwt scheme through the whole decision chain, on a real store: the
 * header types, the identity (Variable-* and nginx's X-* headers, claims
 * as AUTH_CLAIM_*), RFC 6750 challenges and simplejwt's body, the jti
 * denylist, the user checks (unknown, disabled, not_before, by name) and
 * check_user = no. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/decide.h"
#include "conf/conf.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "jwt/jwt.h"
#include "runtime.h"
#include "store/jwt.h"
#include "store/store.h"
#include "unit.h"
#include "util/buf.h"
#include "util/mem.h"

static char bnc_t_dir[256];
static struct bnc_store *bnc_t_store;
static struct bnc_runtime *bnc_t_rt;       /* check_user = yes, by id */
static struct bnc_runtime *bnc_t_rt_name;  /* by name, sub claim */
static struct bnc_runtime *bnc_t_rt_free;  /* check_user = no */
static uint32_t bnc_t_alice_id;
static int64_t bnc_t_now;

static struct bnc_runtime *
bnc_t_runtime(const char *extra, struct bnc_diag *d)
{
    struct bnc_buf b;
    struct bnc_conf *conf;

    bnc_buf_init(&b);
    bnc_buf_printf(&b,
                   "[auth]\nschemes = jwt, basic\nrealm = unit\n"
                   "[jwt]\nsigning_key = %s/hs.secret\n"
                   "header_types = Bearer, JWT\nclaims = tenant, roles, "
                   "https://example.org/org\n%s"
                   "[rules]\n/ = authenticated\n", bnc_t_dir, extra);
    conf = bnc_conf_load_mem("unit.conf", b.data, b.len, d);
    bnc_buf_cleanup(&b);
    if (conf == NULL)
        return NULL;
    /* The scheme's own answers are under test; the throttle (which would
     * ban this suite's one client address) has test_throttle. */
    conf->throttle.enabled = 0;
    return bnc_runtime_new(conf, bnc_t_store, d);
}

static void
bnc_t_user(const char *name, int disabled, int64_t not_before, uint32_t *id)
{
    struct bnc_user u;
    char *groups[] = {"staff", "dev", NULL};

    memset(&u, 0, sizeof(u));
    u.name = (char *)name;
    u.hash = (char *)"!";
    u.groups = groups;
    u.email = (char *)"a@example.org";
    u.disabled = disabled;
    u.not_before = not_before;
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
    if (id != NULL)
        *id = u.id;
}

static int
bnc_t_init(void)
{
    struct bnc_store_opts so;
    struct bnc_err err;
    struct bnc_diag d;
    char p[512];
    FILE *f;

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-jwts-XXXXXX",
             getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(bnc_t_dir) == NULL)
        return 1;
    setenv("BOUNCER_HOME", bnc_t_dir, 1);
    bnc_t_now = (int64_t)time(NULL);
    snprintf(p, sizeof(p), "%s/hs.secret", bnc_t_dir);
    f = fopen(p, "w");
    if (f == NULL)
        return 1;
    fputs("unit-test-secret-0123456789abcdef0123456789\n", f);
    fclose(f);
    chmod(p, 0600);
    memset(&so, 0, sizeof(so));
    so.path = bnc_t_dir;
    so.cache_bytes = 8 << 20;
    so.create = 1;
    bnc_err_clear(&err);
    bnc_t_store = bnc_store_open(&so, &err);
    if (bnc_t_store == NULL)
        return 1;
    bnc_diag_init(&d);
    bnc_t_rt = bnc_t_runtime("", &d);
    bnc_t_rt_name = bnc_t_runtime("user_id_claim = sub\nuser_id_field = username\n", &d);
    bnc_t_rt_free = bnc_t_runtime("check_user = no\n", &d);
    bnc_diag_print(&d, stderr);
    bnc_diag_cleanup(&d);
    return bnc_t_rt == NULL || bnc_t_rt_name == NULL || bnc_t_rt_free == NULL;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_runtime_release(bnc_t_rt);
    bnc_runtime_release(bnc_t_rt_name);
    bnc_runtime_release(bnc_t_rt_free);
    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

/* A token signed with the runtime's key; extra members as JSON text. */
static char *
bnc_t_token(const char *extra)
{
    struct bnc_buf b;
    json_t *c;
    json_error_t je;
    struct bnc_err err;
    char *tok;

    bnc_buf_init(&b);
    bnc_buf_printf(&b, "{\"token_type\":\"access\",\"exp\":%lld,\"iat\":%lld,"
                   "\"jti\":\"j-unit\",\"user_id\":%u%s%s}",
                   (long long)bnc_t_now + 300, (long long)bnc_t_now,
                   (unsigned)bnc_t_alice_id, extra ? "," : "",
                   extra ? extra : "");
    c = json_loads(b.data, JSON_REJECT_DUPLICATES, &je);
    bnc_buf_cleanup(&b);
    CU_ASSERT_FATAL(c != NULL);
    bnc_err_clear(&err);
    tok = bnc_jwt_sign(bnc_t_rt->jwt->keys, c, &err);
    json_decref(c);
    CU_ASSERT_FATAL(tok != NULL);
    return tok;
}

/* One decision with Authorization: auth; nginx = BOUNCER_MODE=authorize. */
static char *
bnc_t_run(struct bnc_runtime *rt, const char *auth, int nginx,
          struct bnc_decision *d)
{
    size_t alen = auth != NULL ? strlen(auth) : 0;
    char *a = bnc_malloc(alen + 32);
    char *env[7] = {nginx ? "FCGI_ROLE=RESPONDER" : "FCGI_ROLE=AUTHORIZER",
                    "REQUEST_METHOD=GET", "REQUEST_URI=/app/",
                    "REMOTE_ADDR=192.0.2.1", a,
                    nginx ? "BOUNCER_MODE=authorize" : NULL, NULL};
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_buf out;
    char *s;

    snprintf(a, alen + 32, "HTTP_AUTHORIZATION=%s", auth ? auth : "");
    bnc_request_init(&req, env);
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

static void
bnc_t_expect(struct bnc_runtime *rt, const char *auth, int nginx, int status,
             const char *const *needles)
{
    struct bnc_decision d;
    char *out = bnc_t_run(rt, auth, nginx, &d);
    size_t i;

    for (i = 0; needles != NULL && needles[i] != NULL; i++) {
        if (strstr(out, needles[i]) == NULL)
            fprintf(stderr, "\nmissing '%s' in:\n%s\n(reason %s)\n",
                    needles[i], out, d.reason);
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needles[i]));
    }
    if (d.status != status)
        fprintf(stderr, "\nstatus %d, wanted %d:\n%s\n", d.status, status, out);
    CU_ASSERT_EQUAL(d.status, status);
    bnc_decision_cleanup(&d);
    free(out);
}

static uint32_t bnc_t_fern_id;

static void
test_setup_users(void)
{
    bnc_t_user("alice", 0, 0, &bnc_t_alice_id);
    bnc_t_user("dora", 1, 0, NULL);
    bnc_t_user("erin", 0, bnc_t_now + 100, NULL);
    bnc_t_user("fern", 0, bnc_t_now - 50, &bnc_t_fern_id);
}

static void
test_identity(void)
{
    char *tok = bnc_t_token("\"scope\":\"read write\",\"tenant\":\"acme\\r\\nX: 1\","
                            "\"roles\":[\"a\"],\"https://example.org/org\":7");
    char auth[2048], uid[64];
    const char *want[] = {
        "Status: 200 OK\r\n", "Variable-REMOTE_USER: alice\r\n",
        "Variable-AUTH_TYPE: JWT\r\n", uid,
        "Variable-AUTH_GROUPS: staff,dev\r\n",
        "Variable-AUTH_SCOPES: read write\r\n",
        "Variable-AUTH_CREDENTIAL_ID: j-unit\r\n",
        "Variable-AUTH_CLAIM_TENANT: acmeX: 1\r\n",
        "Variable-AUTH_CLAIM_HTTPS___EXAMPLE_ORG_ORG: 7\r\n", NULL};
    const char *want_nginx[] = {
        "X-Remote-User: alice\r\n", "X-Auth-Claim-TENANT: acmeX: 1\r\n",
        "X-Auth-Credential-Id: j-unit\r\n", NULL};
    struct bnc_decision d;
    char *out;

    snprintf(uid, sizeof(uid), "Variable-AUTH_USER_ID: %u\r\n",
             (unsigned)bnc_t_alice_id);
    snprintf(auth, sizeof(auth), "Bearer %s", tok);
    bnc_t_expect(bnc_t_rt, auth, 0, 200, want);
    bnc_t_expect(bnc_t_rt, auth, 1, 200, want_nginx);
    /* An array claim is not exported; the expiry is exp. */
    out = bnc_t_run(bnc_t_rt, auth, 0, &d);
    CU_ASSERT_PTR_NULL(strstr(out, "AUTH_CLAIM_ROLES"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "Variable-AUTH_EXPIRES: "));
    CU_ASSERT_EQUAL(d.id.expires, bnc_t_now + 300);
    bnc_decision_cleanup(&d);
    free(out);
    /* The second header type, and the tolerated whitespace of split(). */
    snprintf(auth, sizeof(auth), "  JWT \t%s ", tok);
    bnc_t_expect(bnc_t_rt, auth, 0, 200, NULL);
    free(tok);
}

#define CH_PLAIN "WWW-Authenticate: Bearer realm=\"unit\"\r\n"
#define CH(desc) \
    "WWW-Authenticate: Bearer realm=\"unit\", error=\"invalid_token\", " \
    "error_description=\"" desc "\"\r\n"
#define BODY(desc)                                                           \
    "{\"detail\": \"Given token not valid for any token type\", \"code\": " \
    "\"token_not_valid\", \"messages\": [{\"token_class\": "              \
    "\"AccessToken\", \"token_type\": \"access\", \"message\": \"" desc    \
    "\"}]}"

static void
test_refusals(void)
{
    char auth[2048], *tok;
    const char *none[] = {CH_PLAIN, "WWW-Authenticate: Basic realm=\"unit\"",
                          "\"Authentication credentials were not provided.\"",
                          NULL};
    const char *expired[] = {CH("Token is expired"), BODY("Token is expired"),
                             NULL};
    const char *revoked[] = {CH("Token is blacklisted"),
                             BODY("Token is blacklisted"), NULL};
    const char *parts[] = {
        CH("Authorization header must contain two space-delimited values"),
        "{\"detail\": \"Authorization header must contain two space-delimited "
        "values\", \"code\": \"bad_authorization_header\"}", NULL};
    const char *malformed[] = {CH("not three dot-separated parts"), NULL};

    /* No credentials: every scheme's plain challenge. */
    bnc_t_expect(bnc_t_rt, NULL, 0, 401, none);
    /* Another word, or "bearer" in lower case: not ours (Basic refuses
     * to take it either, so the request is anonymous). */
    bnc_t_expect(bnc_t_rt, "bearer abc.def.ghi", 0, 401, none);
    bnc_t_expect(bnc_t_rt, "Bearer a b", 0, 401, parts);
    bnc_t_expect(bnc_t_rt, "Bearer", 0, 401, parts);
    bnc_t_expect(bnc_t_rt, "Bearer not-a-jwt", 0, 401, malformed);
    {
        json_t *c = json_pack("{s:s,s:I,s:i}", "token_type", "access", "exp",
                              (json_int_t)(bnc_t_now - 10), "user_id",
                              (int)bnc_t_alice_id);
        struct bnc_err err;

        tok = bnc_jwt_sign(bnc_t_rt->jwt->keys, c, &err);
        json_decref(c);
    }
    snprintf(auth, sizeof(auth), "Bearer %s", tok);
    bnc_t_expect(bnc_t_rt, auth, 0, 401, expired);
    free(tok);
    /* Revoked jti. */
    tok = bnc_t_token(NULL);
    snprintf(auth, sizeof(auth), "Bearer %s", tok);
    bnc_t_expect(bnc_t_rt, auth, 0, 200, NULL);
    CU_ASSERT_EQUAL(bnc_store_jwt_deny(bnc_t_store, "j-unit", bnc_t_now + 600,
                                       BNC_STORE_NOSYNC), BNC_STORE_OK);
    bnc_t_expect(bnc_t_rt, auth, 0, 401, revoked);
    free(tok);
}

static void
test_users(void)
{
    char auth[2048], *tok;
    const char *notfound[] = {CH("User not found"),
                              "{\"detail\": \"User not found\", \"code\": "
                              "\"user_not_found\"}", NULL};
    const char *inactive[] = {CH("User is inactive"),
                              "\"code\": \"user_inactive\"", NULL};
    const char *before[] = {
        CH("Token was issued before the user's credentials were revoked"),
        NULL};
    const char *nouser[] = {
        CH("Token contained no recognizable user identification"), NULL};
    const char *byname[] = {"Variable-REMOTE_USER: alice\r\n", NULL};
    const char *free_id[] = {"Variable-REMOTE_USER: bob\r\n",
                             "Variable-AUTH_USER_ID: 77\r\n",
                             "Variable-AUTH_GROUPS: x,y\r\n", NULL};
    struct bnc_err err;
    json_t *c;

#define SIGN(...)                                                          \
    do {                                                                   \
        c = json_pack(__VA_ARGS__);                                        \
        tok = bnc_jwt_sign(bnc_t_rt->jwt->keys, c, &err);                  \
        json_decref(c);                                                    \
        snprintf(auth, sizeof(auth), "Bearer %s", tok);                    \
        free(tok);                                                         \
    } while (0)
    SIGN("{s:s,s:I,s:I,s:i}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now, "user_id",
         999999);
    bnc_t_expect(bnc_t_rt, auth, 0, 401, notfound);
    /* The id as a string, as simplejwt >= 5.5.1 sends it. */
    {
        char sid[16];

        snprintf(sid, sizeof(sid), "%u", (unsigned)bnc_t_alice_id);
        SIGN("{s:s,s:I,s:I,s:s}", "token_type", "access", "exp",
             (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now,
             "user_id", sid);
        bnc_t_expect(bnc_t_rt, auth, 0, 200, NULL);
    }
    SIGN("{s:s,s:I,s:I,s:s}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now, "user_id",
         "1x");
    bnc_t_expect(bnc_t_rt, auth, 0, 401, nouser);
    SIGN("{s:s,s:I,s:I}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now);
    bnc_t_expect(bnc_t_rt, auth, 0, 401, nouser);
    /* dora is disabled; erin logged out everywhere after iat. */
    SIGN("{s:s,s:I,s:I,s:s}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now, "sub",
         "dora");
    bnc_t_expect(bnc_t_rt_name, auth, 0, 401, inactive);
    SIGN("{s:s,s:I,s:I,s:s}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now, "sub",
         "erin");
    bnc_t_expect(bnc_t_rt_name, auth, 0, 401, before);
    SIGN("{s:s,s:I,s:I,s:s}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 600, "iat", (json_int_t)bnc_t_now + 100,
         "sub", "erin");
    /* iat = not_before exactly, but in the future: refused for that. */
    bnc_t_expect(bnc_t_rt_name, auth, 0, 401, NULL);
    /* fern logged out everywhere 50 s ago: a token of that very second
     * may predate it (whole seconds) and is void; one of the next second
     * is not. */
    SIGN("{s:s,s:I,s:I,s:I}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now - 50,
         "user_id", (json_int_t)bnc_t_fern_id);
    bnc_t_expect(bnc_t_rt, auth, 0, 401, before);
    SIGN("{s:s,s:I,s:I,s:I}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now - 49,
         "user_id", (json_int_t)bnc_t_fern_id);
    bnc_t_expect(bnc_t_rt, auth, 0, 200, NULL);
    /* By name, iat must also follow the account's creation (a name can
     * be reused): now, not the suite's start. */
    SIGN("{s:s,s:I,s:I,s:s}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)time(NULL), "sub",
         "alice");
    bnc_t_expect(bnc_t_rt_name, auth, 0, 200, byname);
    /* check_user = no: the claims are the identity; no store lookup. */
    SIGN("{s:s,s:I,s:I,s:i,s:s,s:[s,s,s]}", "token_type", "access", "exp",
         (json_int_t)bnc_t_now + 60, "iat", (json_int_t)bnc_t_now, "user_id",
         77, "username", "bob", "groups", "x", "y", "bad,group");
    bnc_t_expect(bnc_t_rt_free, auth, 0, 200, free_id);
#undef SIGN
}

static const struct bnc_unit_case bnc_t_cases[] = {
    {"users", test_setup_users},
    {"identity, claims, nginx headers", test_identity},
    {"refusals: challenge and body", test_refusals},
    {"users: unknown, disabled, not_before, by name, unchecked", test_users},
    {NULL, NULL},
};

BNC_UNIT_MAIN("jwt scheme", bnc_t_cases, bnc_t_init, bnc_t_fini)
