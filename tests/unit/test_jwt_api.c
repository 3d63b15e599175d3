/* SPDX-License-Identifier: MIT */
/* The JWT endpoints of the Responder (obtain, refresh with and without
 * rotation, reuse detection, verify, revoke, JWKS), driven through
 * bnc_responder_handle on a real store, with tokens minted here by the same
 * keys to reach the cases a client cannot (expired, no family, another
 * user's family, a login older than not_before). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "auth/decide.h"
#include "conf/conf.h"
#include "crypto/password.h"
#include "fcgi/request.h"
#include "fcgi/responder.h"
#include "fcgi/response.h"
#include "jwt/jwt.h"
#include "runtime.h"
#include "store/jwt.h"
#include "store/store.h"
#include "unit.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_T_PW "jwt pass+word&=%"

static char bnc_t_dir[256];
static struct bnc_store *bnc_t_store;
static struct bnc_runtime *bnc_t_rt;     /* rotate_refresh = yes */
static struct bnc_runtime *bnc_t_rt_nor; /* rotate_refresh = no */
static struct bnc_runtime *bnc_t_rt_nojwt;
static uint32_t bnc_t_alice_id;
static const char *bnc_t_addr = "REMOTE_ADDR=192.0.2.9";

/* ---- harness --------------------------------------------------------- */

static uint32_t
bnc_t_add(const char *name, int disabled)
{
    struct bnc_argon2_params p = {1024, 1, 1};
    struct bnc_user u;
    char *groups[2] = {(char *)"staff", NULL};
    uint32_t id;

    memset(&u, 0, sizeof(u));
    u.name = (char *)name;
    CU_ASSERT_FATAL(bnc_password_hash(&p, BNC_T_PW, strlen(BNC_T_PW),
                                      &u.hash) == 0);
    u.groups = groups;
    u.email = (char *)"j@example.org";
    u.disabled = disabled;
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
    id = u.id;
    free(u.hash);
    return id;
}

static struct bnc_runtime *
bnc_t_runtime(const char *rotate, int with_jwt)
{
    struct bnc_diag d;
    struct bnc_conf *conf;
    struct bnc_runtime *rt = NULL;
    char text[2048];

    snprintf(text, sizeof(text),
             "[store]\npath = /nonexistent\n"
             "[auth]\nschemes = basic\nrealm = test\n"
             "[passwords]\nargon2_memory = 1024\nargon2_time = 1\n"
             "%s%s%s%s%s%s"
             "[rules]\n/auth/ = anonymous\n/ = authenticated\n",
             with_jwt ? "[jwt]\nalgorithm = HS256\nsigning_key = " : "",
             with_jwt ? bnc_t_dir : "", with_jwt ? "/hs.key\n" : "",
             with_jwt ? "extra_claims = groups, email\nrotate_refresh = " : "",
             with_jwt ? rotate : "", with_jwt ? "\n" : "");
    bnc_diag_init(&d);
    conf = bnc_conf_load_mem("test.conf", text, strlen(text), &d);
    if (conf != NULL)
        rt = bnc_runtime_new(conf, bnc_t_store, &d);
    bnc_diag_print(&d, stderr);
    bnc_diag_cleanup(&d);
    return rt;
}

static int
bnc_t_init(void)
{
    struct bnc_store_opts so;
    struct bnc_err err;
    const char *tmp = getenv("TMPDIR");
    char path[300];
    FILE *f;

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-jwtapi-XXXXXX",
             tmp ? tmp : "/tmp");
    if (mkdtemp(bnc_t_dir) == NULL)
        return 1;
    snprintf(path, sizeof(path), "%s/hs.key", bnc_t_dir);
    f = fopen(path, "w");
    if (f == NULL)
        return 1;
    fputs("c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0\n",
          f);
    fclose(f);
    if (chmod(path, 0600) != 0)
        return 1;
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
    bnc_t_rt = bnc_t_runtime("yes", 1);
    bnc_t_rt_nor = bnc_t_runtime("no", 1);
    bnc_t_rt_nojwt = bnc_t_runtime("", 0);
    if (bnc_t_rt == NULL || bnc_t_rt_nor == NULL || bnc_t_rt_nojwt == NULL)
        return 1;
    return 0;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_runtime_release(bnc_t_rt);
    bnc_runtime_release(bnc_t_rt_nor);
    bnc_runtime_release(bnc_t_rt_nojwt);
    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

struct bnc_t_body {
    const char *p;
    size_t len, off;
};

static long
bnc_t_read(void *ctx, char *buf, size_t n)
{
    struct bnc_t_body *b = ctx;
    size_t k = b->len - b->off;

    if (k > n)
        k = n;
    memcpy(buf, b->p + b->off, k);
    b->off += k;
    return (long)k;
}

struct bnc_t_res {
    int status;
    char *out;         /* whole serialized response */
    const char *body;  /* into out */
    json_t *json;      /* the body parsed, or NULL */
    char reason[240];
};

static void
bnc_t_res_free(struct bnc_t_res *r)
{
    free(r->out);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

/* One request; body NULL = none. ctype NULL = application/json. */
static void
bnc_t_run(struct bnc_runtime *rt, const char *method, const char *uri,
          const char *ctype, const char *body, struct bnc_t_res *r)
{
    char *env[12];
    char m[64], u[512], cl[64], ct[128];
    size_t n = 0;
    struct bnc_t_body tb;
    struct bnc_io io;
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_decision d;
    struct bnc_buf out;
    const char *sep;

    memset(r, 0, sizeof(*r));
    tb.p = body;
    tb.len = body != NULL ? strlen(body) : 0;
    tb.off = 0;
    io.ctx = &tb;
    io.read = bnc_t_read;
    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    env[n++] = (char *)"FCGI_ROLE=RESPONDER";
    env[n++] = m;
    env[n++] = u;
    env[n++] = (char *)bnc_t_addr;
    env[n++] = (char *)"HTTP_HOST=example.org";
    if (body != NULL) {
        snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", tb.len);
        snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s",
                 ctype != NULL ? ctype : "application/json");
        env[n++] = cl;
        env[n++] = ct;
    }
    env[n] = NULL;
    bnc_request_init(&req, env);
    bnc_response_init(&resp);
    bnc_buf_init(&out);
    memset(&d, 0, sizeof(d));
    bnc_responder_handle(rt, &req, &io, &resp, &d);
    bnc_response_serialize(&resp, &out);
    r->out = bnc_strdup(bnc_buf_str(&out));
    r->status = resp.status;
    CU_ASSERT_EQUAL(d.status, resp.status);
    bnc_strlcpy(r->reason, d.reason, sizeof(r->reason));
    sep = strstr(r->out, "\r\n\r\n");
    r->body = sep != NULL ? sep + 4 : "";
    r->json = json_loads(r->body, 0, NULL);
    /* Never a password or a token in the log line. */
    CU_ASSERT_PTR_NULL(strstr(d.reason, BNC_T_PW));
    CU_ASSERT_PTR_NULL(strstr(d.reason, "eyJ"));
    bnc_decision_cleanup(&d);
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
}

static const char *
bnc_t_str(const struct bnc_t_res *r, const char *key)
{
    json_t *v = json_object_get(r->json, key);

    return json_is_string(v) ? json_string_value(v) : "";
}

/* POST path {"name": value}. */
static void
bnc_t_post1(struct bnc_runtime *rt, const char *path, const char *name,
            const char *value, struct bnc_t_res *r)
{
    json_t *o = json_object();
    char *body;

    json_object_set_new(o, name, json_string(value));
    body = json_dumps(o, JSON_COMPACT);
    bnc_t_run(rt, "POST", path, NULL, body, r);
    free(body);
    json_decref(o);
}

/* A pair for user: *refresh and *access malloc'ed. */
static void
bnc_t_obtain(struct bnc_runtime *rt, const char *user, char **refresh,
             char **access)
{
    struct bnc_t_res r;
    char body[256];

    snprintf(body, sizeof(body), "{\"username\": \"%s\", \"password\": \"%s\"}",
             user, BNC_T_PW);
    bnc_t_run(rt, "POST", "/auth/token", NULL, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    *refresh = bnc_strdup(bnc_t_str(&r, "refresh"));
    *access = bnc_strdup(bnc_t_str(&r, "access"));
    CU_ASSERT(strncmp(*refresh, "eyJ", 3) == 0);
    CU_ASSERT(strncmp(*access, "eyJ", 3) == 0);
    bnc_t_res_free(&r);
}

/* The payload of token (verified with the runtime's keys). */
static json_t *
bnc_t_claims(const char *token)
{
    struct bnc_jwt_verify_opts o;
    json_t *p = NULL;
    char why[160];

    memset(&o, 0, sizeof(o));
    o.now = (int64_t)time(NULL);
    CU_ASSERT_EQUAL(bnc_jwt_verify(bnc_t_rt->jwt->keys, token, strlen(token),
                                   &o, &p, why, sizeof(why)),
                    BNC_JWT_OK);
    return p;
}

/* A token minted here: claims as given (taken over). */
static char *
bnc_t_mint(json_t *claims)
{
    struct bnc_err err;
    char *t;

    bnc_err_clear(&err);
    t = bnc_jwt_sign(bnc_t_rt->jwt->keys, claims, &err);
    json_decref(claims);
    CU_ASSERT_PTR_NOT_NULL_FATAL(t);
    return t;
}

static void
bnc_t_expect_401(const struct bnc_t_res *r, const char *code,
                 const char *detail)
{
    CU_ASSERT_EQUAL(r->status, 401);
    CU_ASSERT_STRING_EQUAL(bnc_t_str(r, "code"), code);
    if (detail != NULL)
        CU_ASSERT_STRING_EQUAL(bnc_t_str(r, "detail"), detail);
    CU_ASSERT_PTR_NOT_NULL(strstr(r->out, "WWW-Authenticate: Bearer realm=\"test\""));
    if (r->status != 401 || strcmp(bnc_t_str(r, "code"), code) != 0)
        fprintf(stderr, "\n  got %d %s (%s)\n", r->status, r->body, r->reason);
}

/* ---- obtain -------------------------------------------------------------- */

static void
test_obtain(void)
{
    struct bnc_t_res r;
    char *ref, *acc;
    json_t *c;
    int64_t now = (int64_t)time(NULL);

    bnc_t_obtain(bnc_t_rt, "alice", &ref, &acc);
    c = bnc_t_claims(acc);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "token_type")),
                           "access");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "user_id")),
                    bnc_t_alice_id);
    CU_ASSERT(json_integer_value(json_object_get(c, "iat")) >= now);
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "exp")) -
                        json_integer_value(json_object_get(c, "iat")),
                    300);
    CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(c, "jti"))), 32);
    CU_ASSERT_PTR_NULL(json_object_get(c, "fam"));
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(
                               json_object_get(c, "groups"), 0)), "staff");
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "email")),
                           "j@example.org");
    json_decref(c);
    c = bnc_t_claims(ref);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "token_type")),
                           "refresh");
    CU_ASSERT_EQUAL(json_integer_value(json_object_get(c, "exp")) -
                        json_integer_value(json_object_get(c, "iat")),
                    86400);
    CU_ASSERT_EQUAL(strlen(json_string_value(json_object_get(c, "fam"))), 32);
    json_decref(c);
    free(ref);
    free(acc);

    /* A form works like JSON; the trailing slash of simplejwt's routes too. */
    bnc_t_run(bnc_t_rt, "POST", "/auth/token/",
              "application/x-www-form-urlencoded",
              "username=alice&password=jwt+pass%2Bword%26%3D%25", &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT(strncmp(bnc_t_str(&r, "access"), "eyJ", 3) == 0);
    bnc_t_res_free(&r);

    /* Wrong password, unknown and disabled users: the same answer. */
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL,
              "{\"username\": \"alice\", \"password\": \"wrong-pw\"}", &r);
    bnc_t_expect_401(&r, "no_active_account",
                     "No active account found with the given credentials");
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL,
              "{\"username\": \"nobody\", \"password\": \"wrong-pw\"}", &r);
    bnc_t_expect_401(&r, "no_active_account", NULL);
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL,
              "{\"username\": \"dis\", \"password\": \"" BNC_T_PW "\"}", &r);
    bnc_t_expect_401(&r, "no_active_account", NULL);
    bnc_t_res_free(&r);
    /* A name no user can have (control characters): the same answer, with
     * no lookup and no throttle counter (nor its log line) under it. */
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL,
              "{\"username\": \"ali\\nce\\u001b[31m\", \"password\": "
              "\"wrong-pw\"}", &r);
    bnc_t_expect_401(&r, "no_active_account",
                     "No active account found with the given credentials");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "invalid user name"));
    bnc_t_res_free(&r);
    {
        unsigned char *v = NULL;
        size_t n = 0;
        static const char key[] = "u:ali\nce\x1b[31m";

        CU_ASSERT_EQUAL(bnc_store_kv_get(bnc_t_store, BNC_KV_THROTTLE, key,
                                         sizeof(key) - 1, &v, &n),
                        BNC_STORE_NOTFOUND);
        free(v);
    }

    /* DRF field errors. */
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"username\": [\"This field is required.\"], "
                                   "\"password\": [\"This field is required.\"]}\n");
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL,
              "{\"username\": null, \"password\": 5}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "This field may not be null."));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Not a valid string."));
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/token",
              "application/x-www-form-urlencoded",
              "username=alice&username=bob&password=x", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "given more than once"));
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", "text/plain", "x", &r);
    CU_ASSERT_EQUAL(r.status, 415);
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL, "{\"username\": ", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "GET", "/auth/token", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 405);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "Allow: POST\r\n"));
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/tokenx", NULL, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
    /* No [jwt]: the endpoints do not exist. */
    bnc_t_run(bnc_t_rt_nojwt, "POST", "/auth/token", NULL, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt_nojwt, "GET", "/auth/jwks.json", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "GET", "/auth/jwks.json", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"keys\":[]}\n"); /* never the secret */
    bnc_t_res_free(&r);
}

/* ---- refresh --------------------------------------------------------------- */

static void
test_refresh_rotation_and_reuse(void)
{
    struct bnc_t_res r;
    char *ref, *acc, *ref2, *ref3;
    json_t *c1, *c2;

    bnc_t_obtain(bnc_t_rt, "alice", &ref, &acc);
    bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", ref, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    ref2 = bnc_strdup(bnc_t_str(&r, "refresh"));
    CU_ASSERT(strncmp(bnc_t_str(&r, "access"), "eyJ", 3) == 0);
    CU_ASSERT(strncmp(ref2, "eyJ", 3) == 0 && strcmp(ref2, ref) != 0);
    bnc_t_res_free(&r);
    c1 = bnc_t_claims(ref);
    c2 = bnc_t_claims(ref2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c1, "fam")),
                           json_string_value(json_object_get(c2, "fam")));
    CU_ASSERT_STRING_NOT_EQUAL(json_string_value(json_object_get(c1, "jti")),
                               json_string_value(json_object_get(c2, "jti")));
    json_decref(c1);
    json_decref(c2);
    /* The newest token refreshes again ... */
    bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", ref2, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    ref3 = bnc_strdup(bnc_t_str(&r, "refresh"));
    bnc_t_res_free(&r);
    /* ... an older one is reuse: refused, and the family dies with it. */
    bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", ref2, &r);
    bnc_t_expect_401(&r, "token_not_valid", "Token is blacklisted");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "reused"));
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", ref3, &r);
    bnc_t_expect_401(&r, "token_not_valid", "Token is blacklisted");
    bnc_t_res_free(&r);
    /* Verify agrees. */
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", ref3, &r);
    bnc_t_expect_401(&r, "token_not_valid", "Token is blacklisted");
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", ref, &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"non_field_errors\": [\"Token is blacklisted\"]"));
    bnc_t_res_free(&r);
    /* The access token was not touched. */
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", acc, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "{}\n");
    bnc_t_res_free(&r);
    free(ref);
    free(ref2);
    free(ref3);
    free(acc);
}

static void
test_refresh_without_rotation(void)
{
    struct bnc_t_res r;
    char *ref, *acc;
    int i;

    bnc_t_obtain(bnc_t_rt_nor, "alice", &ref, &acc);
    for (i = 0; i < 3; i++) {
        bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", ref, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        CU_ASSERT_PTR_NULL(json_object_get(r.json, "refresh"));
        CU_ASSERT(strncmp(bnc_t_str(&r, "access"), "eyJ", 3) == 0);
        bnc_t_res_free(&r);
    }
    /* Revoke: the token (and its family) is dead; revoking again is fine. */
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/revoke", "refresh", ref, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "{}\n");
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/revoke", "refresh", ref, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", ref, &r);
    bnc_t_expect_401(&r, "token_not_valid", "Token is blacklisted");
    bnc_t_res_free(&r);
    /* An access token is not a refresh token. */
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", acc, &r);
    bnc_t_expect_401(&r, "token_not_valid", "Token is invalid or expired");
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/revoke", "refresh", acc, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt_nor, "POST", "/auth/token/refresh", NULL, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"refresh\": [\"This field is required.\"]}\n");
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", "", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "may not be blank"));
    bnc_t_res_free(&r);
    free(ref);
    free(acc);
}

/* A refresh token minted here for family fam (NULL = none). */
static char *
bnc_t_refresh_for(json_t *uid, const char *fam, const char *jti, int64_t iat,
                  int64_t exp)
{
    json_t *c = json_object();

    json_object_set_new(c, "token_type", json_string("refresh"));
    json_object_set_new(c, "exp", json_integer(exp));
    json_object_set_new(c, "iat", json_integer(iat));
    json_object_set_new(c, "jti", json_string(jti));
    json_object_set_new(c, "user_id", uid);
    if (fam != NULL)
        json_object_set_new(c, "fam", json_string(fam));
    return bnc_t_mint(c);
}

static int
bnc_t_set_nb(struct bnc_user *u, void *arg)
{
    u->not_before = *(const int64_t *)arg;
    return 0;
}

static void
test_refresh_refusals(void)
{
    struct bnc_jwt_family f;
    struct bnc_t_res r;
    struct bnc_user a;
    int64_t now = (int64_t)time(NULL), nb;
    char *t;
    uint32_t gone;


    memset(&a, 0, sizeof(a));
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(bnc_t_store, "alice", &a),
                          BNC_STORE_OK);
    memset(&f, 0, sizeof(f));
    f.user_id = bnc_t_alice_id;
    f.user = (char *)"alice";
    f.created = a.created; /* a login right when the account was made */
    bnc_user_cleanup(&a);
    f.expires = now + 1000;
    f.jti = (char *)"m-1";
    CU_ASSERT_EQUAL_FATAL(bnc_store_jwt_family_add(bnc_t_store, "fam-m", &f,
                                                   BNC_STORE_SYNC),
                          BNC_STORE_OK);
    /* Expired: simplejwt's 5.2 wording. */
    t = bnc_t_refresh_for(json_integer(bnc_t_alice_id), "fam-m", "m-1",
                          now - 100, now - 1);
    bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", "Token is invalid or expired");
    bnc_t_res_free(&r);
    free(t);
    /* No family (minted by a Django app sharing the key): not renewed. */
    t = bnc_t_refresh_for(json_integer(bnc_t_alice_id), NULL, "m-1", now,
                          now + 100);
    bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "no family"));
    bnc_t_res_free(&r);
    free(t);
    /* An unknown family. */
    t = bnc_t_refresh_for(json_integer(bnc_t_alice_id), "fam-unknown", "m-1",
                          now, now + 100);
    bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    bnc_t_res_free(&r);
    free(t);
    /* The user id as simplejwt 5.5 sends it (a string) is understood ... */
    {
        char idstr[16];

        snprintf(idstr, sizeof(idstr), "%u", (unsigned)bnc_t_alice_id);
        t = bnc_t_refresh_for(json_string(idstr), "fam-m", "m-1", now,
                              now + 100);
        bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", t, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        if (r.status != 200)
            fprintf(stderr, "\n  got %d %s (%s)\n", r.status, r.body,
                    r.reason);
        bnc_t_res_free(&r);
        free(t);
    }
    /* ... a family of another user is not. */
    gone = bnc_t_add("gone", 0);
    f.created = (int64_t)time(NULL);
    f.jti = (char *)"o-1";
    CU_ASSERT_EQUAL_FATAL(bnc_store_jwt_family_add(bnc_t_store, "fam-o", &f,
                                                   BNC_STORE_SYNC),
                          BNC_STORE_OK);
    t = bnc_t_refresh_for(json_integer(gone), "fam-o", "o-1", f.created,
                          now + 100);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "another user"));
    bnc_t_res_free(&r);
    free(t);
    /* A deleted user: simplejwt's newer no_active_account. */
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "gone"), BNC_STORE_OK);
    t = bnc_t_refresh_for(json_integer(gone), "fam-m", "m-1", now, now + 100);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "no_active_account",
                     "No active account found for the given token.");
    bnc_t_res_free(&r);
    free(t);
    /* No usable user id. */
    t = bnc_t_refresh_for(json_string("x1"), "fam-m", "m-1", now, now + 100);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "token_not_valid",
                     "Token contained no recognizable user identification");
    bnc_t_res_free(&r);
    free(t);
    /* Logged out everywhere after the family began (logout-all, password
     * change): refused even with a token issued after not_before. */
    nb = f.created + 1;
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "alice", bnc_t_set_nb,
                                          &nb, BNC_STORE_SYNC),
                    BNC_STORE_OK);
    /* Whole seconds: wait until a token may be issued at nb. */
    while ((int64_t)time(NULL) < nb)
        usleep(50000);
    t = bnc_t_refresh_for(json_integer(bnc_t_alice_id), "fam-m", "m-1", nb,
                          nb + 100);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "not_before"));
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/verify", "token", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    bnc_t_res_free(&r);
    free(t);
    /* A login in not_before's own second may predate the change (whole
     * seconds): its family is void too. */
    f.created = nb;
    f.jti = (char *)"n-1";
    CU_ASSERT_EQUAL_FATAL(bnc_store_jwt_family_add(bnc_t_store, "fam-n", &f,
                                                   BNC_STORE_SYNC),
                          BNC_STORE_OK);
    t = bnc_t_refresh_for(json_integer(bnc_t_alice_id), "fam-n", "n-1", nb,
                          nb + 100);
    bnc_t_post1(bnc_t_rt_nor, "/auth/token/refresh", "refresh", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "not_before"));
    bnc_t_res_free(&r);
    free(t);
    /* A pair obtained after that second works (bouncerctl returns only
     * once it is over). */
    while ((int64_t)time(NULL) <= nb)
        usleep(50000);
    {
        char *ref, *acc;

        bnc_t_obtain(bnc_t_rt, "alice", &ref, &acc);
        bnc_t_post1(bnc_t_rt, "/auth/token/refresh", "refresh", ref, &r);
        CU_ASSERT_EQUAL(r.status, 200);
        bnc_t_res_free(&r);
        free(ref);
        free(acc);
    }
    nb = 0;
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "alice", bnc_t_set_nb,
                                          &nb, BNC_STORE_SYNC),
                    BNC_STORE_OK);
}

static void
test_verify(void)
{
    struct bnc_t_res r;
    char *ref, *acc, *bad;
    size_t n;

    bnc_t_obtain(bnc_t_rt, "alice", &ref, &acc);
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", acc, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", ref, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    /* A changed signature. */
    bad = bnc_strdup(acc);
    n = strlen(bad);
    bad[n - 2] = bad[n - 2] == 'A' ? 'B' : 'A';
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", bad, &r);
    bnc_t_expect_401(&r, "token_not_valid", "Token is invalid or expired");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "error=\"invalid_token\""));
    bnc_t_res_free(&r);
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", "a.b", &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    bnc_t_res_free(&r);
    bnc_t_run(bnc_t_rt, "POST", "/auth/token/verify", NULL,
              "{\"token\": [\"x\"]}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"token\": [\"Not a valid string.\"]}\n");
    bnc_t_res_free(&r);
    free(bad);
    free(ref);
    free(acc);
}

/* Users are made here: CUnit asserts only run inside a test. */
static void
test_users(void)
{
    bnc_t_alice_id = bnc_t_add("alice", 0);
    bnc_t_add("dis", 1);
}

/* The obtain endpoint shares the login's brute-force throttle ([throttle]
 * defaults: 5 failures for one name): the sixth try is a 429 with
 * Retry-After before any hash, even with the right password. */
static void
test_obtain_throttled(void)
{
    struct bnc_t_res r;
    int i;

    bnc_t_add("victim", 0);
    bnc_t_addr = "REMOTE_ADDR=198.51.100.7";
    for (i = 0; i < 5; i++) {
        bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL,
                  "{\"username\": \"victim\", \"password\": \"wrong-pw\"}",
                  &r);
        CU_ASSERT_EQUAL(r.status, 401);
        bnc_t_res_free(&r);
    }
    bnc_t_run(bnc_t_rt, "POST", "/auth/token", NULL,
              "{\"username\": \"victim\", \"password\": \"" BNC_T_PW "\"}",
              &r);
    CU_ASSERT_EQUAL(r.status, 429);
    CU_ASSERT_STRING_EQUAL(bnc_t_str(&r, "code"), "throttled");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "\r\nRetry-After: "));
    CU_ASSERT_PTR_NULL(json_object_get(r.json, "access"));
    bnc_t_res_free(&r);
    bnc_t_addr = "REMOTE_ADDR=192.0.2.9";
}

/* The denylist entry's expiry for jti, or -1. */
static int64_t
bnc_t_deny_until(const char *jti)
{
    unsigned char *v = NULL;
    size_t n = 0, i;
    uint64_t e = 0;
    int rc = bnc_store_kv_get(bnc_t_store, BNC_KV_JWT_DENY, jti, strlen(jti),
                              &v, &n);

    if (rc != BNC_STORE_OK || n != 9) {
        free(v);
        return -1;
    }
    for (i = 1; i < 9; i++)
        e = e << 8 | v[i];
    free(v);
    return (int64_t)e;
}

/* exp is required at /auth/token/verify too (simplejwt), and a revoked
 * token stays denied for as long as verify would take it: exp (a real
 * too) plus the leeway. */
static void
test_verify_revoke_expiry(void)
{
    struct bnc_runtime *rt = bnc_t_runtime("no\nleeway = 30s", 1);
    struct bnc_t_res r;
    int64_t now = (int64_t)time(NULL);
    json_t *c;
    char *t;

    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    /* No exp: refused by verify, whatever its type. */
    c = json_object();
    json_object_set_new(c, "token_type", json_string("access"));
    json_object_set_new(c, "iat", json_integer(now));
    json_object_set_new(c, "jti", json_string("no-exp-1"));
    json_object_set_new(c, "user_id", json_integer(bnc_t_alice_id));
    t = bnc_t_mint(c);
    bnc_t_post1(bnc_t_rt, "/auth/token/verify", "token", t, &r);
    bnc_t_expect_401(&r, "token_not_valid", NULL);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "exp"));
    bnc_t_res_free(&r);
    free(t);
    /* exp as a JSON real: denied until its second plus the leeway, not
     * until 1970. */
    c = json_object();
    json_object_set_new(c, "token_type", json_string("refresh"));
    json_object_set_new(c, "exp", json_real((double)now + 100.5));
    json_object_set_new(c, "iat", json_integer(now));
    json_object_set_new(c, "jti", json_string("real-exp-1"));
    json_object_set_new(c, "user_id", json_integer(bnc_t_alice_id));
    t = bnc_t_mint(c);
    bnc_t_post1(rt, "/auth/token/revoke", "refresh", t, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    free(t);
    CU_ASSERT_EQUAL(bnc_t_deny_until("real-exp-1"), now + 100 + 30);
    /* An integer exp: plus the leeway too. */
    c = json_object();
    json_object_set_new(c, "token_type", json_string("refresh"));
    json_object_set_new(c, "exp", json_integer(now + 200));
    json_object_set_new(c, "iat", json_integer(now));
    json_object_set_new(c, "jti", json_string("int-exp-1"));
    json_object_set_new(c, "user_id", json_integer(bnc_t_alice_id));
    t = bnc_t_mint(c);
    bnc_t_post1(rt, "/auth/token/revoke", "refresh", t, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    free(t);
    CU_ASSERT_EQUAL(bnc_t_deny_until("int-exp-1"), now + 200 + 30);
    bnc_runtime_release(rt);
}

static const struct bnc_unit_case cases[] = {
    {"test_users", test_users},
    {"test_obtain", test_obtain},
    {"test_refresh_rotation_and_reuse", test_refresh_rotation_and_reuse},
    {"test_refresh_without_rotation", test_refresh_without_rotation},
    {"test_refresh_refusals", test_refresh_refusals},
    {"test_verify", test_verify},
    {"test_obtain_throttled", test_obtain_throttled},
    {"test_verify_revoke_expiry", test_verify_revoke_expiry},
    {NULL, NULL},
};

BNC_UNIT_MAIN("jwt_api", cases, bnc_t_init, bnc_t_fini)
