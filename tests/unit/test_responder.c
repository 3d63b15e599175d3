/* SPDX-License-Identifier: MIT */
/* The /auth/ Responder endpoints (login page, login, logout, whoami) and the
 * body parser, driven through bnc_responder_handle on a real store. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/decide.h"
#include "conf/conf.h"
#include "crypto/password.h"
#include "fcgi/body.h"
#include "fcgi/login_page.h"
#include "fcgi/request.h"
#include "fcgi/responder.h"
#include "fcgi/response.h"
#include "runtime.h"
#include "store/store.h"
#include "unit.h"
#include "util/mem.h"
#include "util/str.h"

static char bnc_t_dir[256];
static struct bnc_store *bnc_t_store;
static struct bnc_runtime *bnc_t_rt;     /* schemes = session, basic */
static struct bnc_runtime *bnc_t_rt_nos; /* schemes = basic: no sessions */

static const char bnc_t_conf[] =
    "[store]\n"
    "path = /nonexistent\n"
    "[auth]\n"
    "schemes = session, basic\n"
    "realm = test\n"
    "[passwords]\n"
    "argon2_memory = 1024\n"
    "argon2_time = 1\n"
    "[session]\n"
    "trusted_origins = https://trusted.example\n"
    "[rules]\n"
    "/auth/ = anonymous\n"
    "/ = authenticated\n";

static const char bnc_t_conf_nos[] =
    "[store]\n"
    "path = /nonexistent\n"
    "[auth]\n"
    "schemes = basic\n"
    "[passwords]\n"
    "argon2_memory = 1024\n"
    "argon2_time = 1\n"
    "[rules]\n"
    "/ = authenticated\n";

#define BNC_T_PW "s3cret pass+word&=%"

/* ---- harness --------------------------------------------------------- */

static void
bnc_t_add(const char *name, const char *pw, const char *display, int disabled)
{
    struct bnc_argon2_params p = {1024, 1, 1};
    struct bnc_user u;
    char *groups[3] = {(char *)"staff", (char *)"dev", NULL};

    memset(&u, 0, sizeof(u));
    u.name = (char *)name;
    CU_ASSERT_FATAL(bnc_password_hash(&p, pw, strlen(pw), &u.hash) == 0);
    u.groups = groups;
    u.email = (char *)"a@example.org";
    u.display_name = (char *)display;
    u.disabled = disabled;
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
    free(u.hash);
}

static struct bnc_runtime *
bnc_t_runtime(const char *text)
{
    struct bnc_diag d;
    struct bnc_conf *conf;
    struct bnc_runtime *rt = NULL;

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

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-responder-XXXXXX",
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
    bnc_t_rt = bnc_t_runtime(bnc_t_conf);
    bnc_t_rt_nos = bnc_t_runtime(bnc_t_conf_nos);
    return bnc_t_rt == NULL || bnc_t_rt_nos == NULL;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_runtime_release(bnc_t_rt);
    bnc_runtime_release(bnc_t_rt_nos);
    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

/* In-memory request body, handed out at most chunk bytes per read. */
struct bnc_t_body {
    const char *p;
    size_t len, off, chunk;
    int reads;
    int fail;          /* read returns -1 */
};

static long
bnc_t_read(void *ctx, char *buf, size_t n)
{
    struct bnc_t_body *b = ctx;
    size_t k = b->len - b->off;

    b->reads++;
    if (b->fail)
        return -1;
    if (k > n)
        k = n;
    if (b->chunk > 0 && k > b->chunk)
        k = b->chunk;
    memcpy(buf, b->p + b->off, k);
    b->off += k;
    return (long)k;
}

struct bnc_t_res {
    int status;
    char *out;         /* whole serialized response */
    const char *body;  /* into out */
    char reason[240];
    int reads;
};

static void
bnc_t_res_free(struct bnc_t_res *r)
{
    free(r->out);
    memset(r, 0, sizeof(*r));
}

/* Runs one request. extra: NULL-terminated "NAME=value" params. body may
 * be NULL (no CONTENT_LENGTH unless given in extra); blen (size_t)-1 =
 * strlen. */
static void
bnc_t_run_rt(struct bnc_runtime *rt, const char *method, const char *uri,
             const char *const *extra, const char *body, size_t blen,
             size_t chunk, struct bnc_t_res *r)
{
    char *env[40];
    char m[64], u[2048], cl[64];
    size_t n = 0, i;
    struct bnc_t_body tb;
    struct bnc_io io;
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_decision d;
    struct bnc_buf out;
    const char *sep;
    int has_cl = 0;

    memset(r, 0, sizeof(*r));
    memset(&tb, 0, sizeof(tb));
    if (body != NULL && blen == (size_t)-1)
        blen = strlen(body);
    tb.p = body;
    tb.len = body != NULL ? blen : 0;
    tb.chunk = chunk;
    io.ctx = &tb;
    io.read = bnc_t_read;
    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    env[n++] = (char *)"FCGI_ROLE=RESPONDER";
    env[n++] = m;
    env[n++] = u;
    env[n++] = (char *)"REMOTE_ADDR=192.0.2.9";
    env[n++] = (char *)"HTTP_HOST=example.org";
    env[n++] = (char *)"HTTP_USER_AGENT=unit-test";
    for (i = 0; extra != NULL && extra[i] != NULL && n < 36; i++) {
        if (strncmp(extra[i], "CONTENT_LENGTH=", 15) == 0)
            has_cl = 1;
        env[n++] = (char *)extra[i];
    }
    if (body != NULL && !has_cl) {
        snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu", blen);
        env[n++] = cl;
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
    r->reads = tb.reads;
    sep = strstr(r->out, "\r\n\r\n");
    r->body = sep != NULL ? sep + 4 : "";
    /* Never a password in the log line. */
    CU_ASSERT_PTR_NULL(strstr(d.reason, BNC_T_PW));
    CU_ASSERT_PTR_NULL(strstr(d.reason, "wrong-pw"));
    bnc_decision_cleanup(&d);
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
}

static void
bnc_t_run(const char *method, const char *uri, const char *const *extra,
          const char *body, struct bnc_t_res *r)
{
    bnc_t_run_rt(bnc_t_rt, method, uri, extra, body, (size_t)-1, 0, r);
}

/* Value of the first header name (copied), or "" when absent. */
static const char *
bnc_t_header(const struct bnc_t_res *r, const char *name)
{
    static char val[2048];
    const char *p = r->out;
    size_t nlen = strlen(name);

    val[0] = '\0';
    while (p != NULL && p < r->body) {
        const char *eol = strstr(p, "\r\n");

        if (eol == NULL)
            break;
        if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            snprintf(val, sizeof(val), "%.*s", (int)(eol - p - nlen - 2),
                     p + nlen + 2);
            return val;
        }
        p = eol + 2;
    }
    return val;
}

/* The Set-Cookie header line for cookie name (copied), or "". */
static const char *
bnc_t_set_cookie(const struct bnc_t_res *r, const char *name)
{
    static char val[2048];
    char needle[128];
    const char *p, *eol;

    snprintf(needle, sizeof(needle), "\r\nSet-Cookie: %s=", name);
    val[0] = '\0';
    p = strstr(r->out, needle);
    if (p == NULL || p > r->body)
        return val;
    p += 14;
    eol = strstr(p, "\r\n");
    snprintf(val, sizeof(val), "%.*s", (int)(eol - p), p);
    return val;
}

/* The cookie's value from its Set-Cookie line. */
static void
bnc_t_cookie_value(const struct bnc_t_res *r, const char *name, char *out,
                   size_t cap)
{
    const char *sc = bnc_t_set_cookie(r, name);
    const char *eq = strchr(sc, '=');
    size_t n;

    out[0] = '\0';
    if (eq == NULL)
        return;
    n = strcspn(eq + 1, ";");
    snprintf(out, cap, "%.*s", (int)n, eq + 1);
}

static json_t *
bnc_t_json(const struct bnc_t_res *r)
{
    json_error_t je;
    json_t *j = json_loads(r->body, JSON_REJECT_DUPLICATES, &je);

    CU_ASSERT_PTR_NOT_NULL(j);
    if (j == NULL)
        fprintf(stderr, "not JSON (%s): %s\n", je.text, r->body);
    return j;
}

static const char *
bnc_t_json_str(json_t *j, const char *key)
{
    return json_string_value(json_object_get(j, key));
}

/* The first message of a DRF field error list {"field": ["msg"]}. */
static const char *
bnc_t_field_err(json_t *j, const char *field)
{
    return json_string_value(json_array_get(json_object_get(j, field), 0));
}

static const char *const bnc_t_form[] = {
    "CONTENT_TYPE=application/x-www-form-urlencoded", NULL};
static const char *const bnc_t_jsonct[] = {"CONTENT_TYPE=application/json",
                                           NULL};

/* Logs alice in with JSON; fills the session cookie and CSRF token. */
static void
bnc_t_login(char *sid, size_t sidcap, char *csrf, size_t csrfcap)
{
    struct bnc_t_res r;
    json_t *j;

    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"alice\", \"password\": \"" BNC_T_PW "\"}",
              &r);
    CU_ASSERT_EQUAL_FATAL(r.status, 200);
    bnc_t_cookie_value(&r, "sessionid", sid, sidcap);
    j = bnc_t_json(&r);
    snprintf(csrf, csrfcap, "%s", j ? bnc_t_json_str(j, "csrftoken") : "");
    json_decref(j);
    bnc_t_res_free(&r);
    CU_ASSERT_EQUAL(strlen(sid), 43);
    CU_ASSERT_EQUAL(strlen(csrf), 43);
}

/* ---- tests ----------------------------------------------------------- */

static void
test_responder_setup_users(void)
{
    bnc_t_add("alice", BNC_T_PW, "Alice <Admin> & \"Co\"", 0);
    bnc_t_add("offuser", "off-pw", NULL, 1);
}

static void
test_responder_login_page(void)
{
    struct bnc_t_res r;

    bnc_t_run("GET", "/auth/login?next=/app/x%3Fa%3D1%26b%3D2", NULL, NULL,
              &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Content-Type"),
                           "text/html; charset=utf-8");
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Cache-Control"), "no-store");
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "X-Frame-Options"), "DENY");
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Content-Security-Policy"),
                           "default-src 'none'; style-src 'unsafe-inline'; "
                           "form-action 'self'; frame-ancestors 'none'");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<html lang=\"en\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<main>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<h1>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<label for=\"username\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "<label for=\"password\">"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "autocomplete=\"username\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "autocomplete=\"current-password\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "method=\"post\""));
    CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "role=\"alert\""));
    /* The decoded next, its & escaped in the attribute. */
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "name=\"next\" value=\"/app/x?a=1&amp;b=2\""));
    bnc_t_res_free(&r);
}

static void
bnc_t_expect_next(const char *query, const char *want_value)
{
    struct bnc_t_res r;
    char uri[1024], needle[1024];

    snprintf(uri, sizeof(uri), "/auth/login?%s", query);
    snprintf(needle, sizeof(needle), "name=\"next\" value=\"%s\"",
             want_value);
    bnc_t_run("GET", uri, NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    if (strstr(r.body, needle) == NULL) {
        fprintf(stderr, "\nquery %s: wanted %s in\n%s\n", query, needle,
                r.body);
        CU_FAIL("next field");
    }
    CU_ASSERT_PTR_NULL(strstr(r.body, "<script"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "\"><"));
    bnc_t_res_free(&r);
}

static void
test_responder_login_page_hostile_next(void)
{
    /* Markup in a same-site path is escaped, never interpreted. */
    bnc_t_expect_next("next=/x%22%3E%3Cscript%3Ealert(1)%3C/script%3E",
                      "/x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;");
    bnc_t_expect_next("next=/a%27b", "/a&#39;b");
    /* Off-site targets become "/". */
    bnc_t_expect_next("next=//evil.example/", "/");
    bnc_t_expect_next("next=https://evil.example/", "/");
    bnc_t_expect_next("next=/%5Cevil.example", "/");
    bnc_t_expect_next("next=javascript:alert(1)", "/");
    bnc_t_expect_next("next=/ok%0d%0aSet-Cookie:x=1", "/");
    /* A mangled query or a duplicated next only loses the next. */
    bnc_t_expect_next("next=%zz", "/");
    bnc_t_expect_next("next=/a&next=/b", "/");
    bnc_t_expect_next("", "/");
}

static void
test_responder_login_form_ok(void)
{
    struct bnc_t_res r;
    const char *sc;
    static const char *const https[] = {
        "CONTENT_TYPE=application/x-www-form-urlencoded", "HTTPS=on",
        "HTTP_ORIGIN=https://example.org", NULL};

    /* '+' is a space, %XX decoded: the password has " +&=%" in it. */
    bnc_t_run("POST", "/auth/login", bnc_t_form,
              "username=alice&password=s3cret+pass%2Bword%26%3D%25"
              "&next=%2Fapp%2Fpage%3Fq%3D1",
              &r);
    CU_ASSERT_EQUAL(r.status, 302);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Location"), "/app/page?q=1");
    sc = bnc_t_set_cookie(&r, "sessionid");
    CU_ASSERT_PTR_NOT_NULL(strstr(sc, "HttpOnly"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sc, "SameSite=Lax"));
    CU_ASSERT_PTR_NOT_NULL(strstr(sc, "Path=/"));
    CU_ASSERT_PTR_NULL(strstr(sc, "Secure")); /* plain http */
    sc = bnc_t_set_cookie(&r, "csrftoken");
    CU_ASSERT(sc[0] != '\0');
    CU_ASSERT_PTR_NULL(strstr(sc, "HttpOnly")); /* read by scripts */
    CU_ASSERT_PTR_NOT_NULL(strstr(sc, "SameSite=Lax"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.reason, "login"));
    bnc_t_res_free(&r);

    /* Over HTTPS both cookies are Secure; no next = "/". */
    bnc_t_run("POST", "/auth/login", https,
              "username=alice&password=s3cret+pass%2Bword%26%3D%25", &r);
    CU_ASSERT_EQUAL(r.status, 302);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Location"), "/");
    CU_ASSERT_PTR_NOT_NULL(strstr(bnc_t_set_cookie(&r, "sessionid"),
                                  "Secure"));
    CU_ASSERT_PTR_NOT_NULL(strstr(bnc_t_set_cookie(&r, "csrftoken"),
                                  "Secure"));
    bnc_t_res_free(&r);

    /* An off-site next is replaced by "/". */
    bnc_t_run("POST", "/auth/login", bnc_t_form,
              "username=alice&password=s3cret+pass%2Bword%26%3D%25"
              "&next=%2F%2Fevil.example%2F",
              &r);
    CU_ASSERT_EQUAL(r.status, 302);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Location"), "/");
    bnc_t_res_free(&r);
}

static void
test_responder_login_json_ok(void)
{
    struct bnc_t_res r;
    json_t *j;
    char csrf[64];
    int64_t now = (int64_t)time(NULL);

    /* A 1-byte-at-a-time reader and a charset parameter change nothing. */
    static const char *const ct[] = {
        "CONTENT_TYPE=application/json; charset=UTF-8", NULL};
    bnc_t_run_rt(bnc_t_rt, "POST", "/auth/login", ct,
                 "{\"username\": \"alice\", \"password\": \"" BNC_T_PW "\"}",
                 (size_t)-1, 1, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT(r.reads > 10);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Content-Type"),
                           "application/json");
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "username"), "alice");
    CU_ASSERT_EQUAL(strlen(bnc_t_json_str(j, "csrftoken")), 43);
    bnc_t_cookie_value(&r, "csrftoken", csrf, sizeof(csrf));
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "csrftoken"), csrf);
    CU_ASSERT(json_integer_value(json_object_get(j, "expires")) >=
              now + 14 * 86400 - 5);
    CU_ASSERT(json_integer_value(json_object_get(j, "expires")) <=
              now + 14 * 86400 + 5);
    json_decref(j);
    bnc_t_res_free(&r);
}

static void
test_responder_login_wrong_identical(void)
{
    struct bnc_t_res a, b;

    /* JSON: DRF's obtain wording, the same for both. */
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"alice\", \"password\": \"wrong-pw\"}", &a);
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"nobody\", \"password\": \"wrong-pw\"}", &b);
    CU_ASSERT_EQUAL(a.status, 400);
    CU_ASSERT_STRING_EQUAL(a.out, b.out);
    CU_ASSERT_STRING_EQUAL(a.body, "{\"non_field_errors\": [\"Unable to log "
                                   "in with provided credentials.\"]}\n");
    CU_ASSERT_PTR_NULL(strstr(a.out, "Set-Cookie"));
    bnc_t_res_free(&a);
    bnc_t_res_free(&b);
    /* A name no user can have (control characters): the same answer,
     * without a lookup or a throttle counter under that name. */
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"ali\\r\\nce\", \"password\": \"wrong-pw\"}",
              &b);
    CU_ASSERT_EQUAL(b.status, 400);
    CU_ASSERT_STRING_EQUAL(b.body, "{\"non_field_errors\": [\"Unable to log "
                                   "in with provided credentials.\"]}\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(b.reason, "invalid user name"));
    bnc_t_res_free(&b);
    {
        unsigned char *v = NULL;
        size_t n = 0;

        CU_ASSERT_EQUAL(bnc_store_kv_get(bnc_t_store, BNC_KV_THROTTLE,
                                         "u:ali\r\nce", 9, &v, &n),
                        BNC_STORE_NOTFOUND);
        free(v);
    }

    /* Form: the page again with 401 and the same message; the user name
     * (not the password) is refilled. */
    bnc_t_run("POST", "/auth/login", bnc_t_form,
              "username=alice&password=wrong-pw&next=/n", &a);
    bnc_t_run("POST", "/auth/login", bnc_t_form,
              "username=alicf&password=wrong-pw&next=/n", &b);
    CU_ASSERT_EQUAL(a.status, 401);
    CU_ASSERT_EQUAL(b.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(a.body, "role=\"alert\">Invalid "
                                          "username/password.</p>"));
    CU_ASSERT_PTR_NOT_NULL(strstr(a.body, "value=\"alice\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(a.body, "name=\"next\" value=\"/n\""));
    CU_ASSERT_PTR_NULL(strstr(a.body, "wrong-pw"));
    CU_ASSERT_PTR_NULL(strstr(a.out, "Set-Cookie"));
    /* Identical but for the refilled name. */
    CU_ASSERT_EQUAL(strlen(a.out), strlen(b.out));
    bnc_t_res_free(&a);
    bnc_t_res_free(&b);

    /* Disabled: told only to someone who knows the password. */
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"offuser\", \"password\": \"off-pw\"}", &a);
    CU_ASSERT_EQUAL(a.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(a.body, "User inactive or deleted."));
    bnc_t_res_free(&a);
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"offuser\", \"password\": \"wrong-pw\"}", &a);
    CU_ASSERT_EQUAL(a.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(a.body, "Unable to log in"));
    bnc_t_res_free(&a);
    bnc_t_run("POST", "/auth/login", bnc_t_form,
              "username=offuser&password=off-pw", &a);
    CU_ASSERT_EQUAL(a.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(a.body, "User inactive or deleted."));
    bnc_t_res_free(&a);
}

static void
test_responder_login_missing_fields(void)
{
    struct bnc_t_res r;
    json_t *j;

    bnc_t_run("POST", "/auth/login", bnc_t_jsonct, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_field_err(j, "username"),
                           "This field is required.");
    CU_ASSERT_STRING_EQUAL(bnc_t_field_err(j, "password"),
                           "This field is required.");
    json_decref(j);
    bnc_t_res_free(&r);

    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"alice\"}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"password\": [\"This field is "
                                   "required.\"]}\n");
    bnc_t_res_free(&r);

    /* Wrong types, DRF's CharField messages. */
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": null, \"password\": 5}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_field_err(j, "username"),
                           "This field may not be null.");
    CU_ASSERT_STRING_EQUAL(bnc_t_field_err(j, "password"),
                           "Not a valid string.");
    json_decref(j);
    bnc_t_res_free(&r);

    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\": \"\", \"password\": [\"x\"]}", &r);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_field_err(j, "username"),
                           "This field may not be blank.");
    CU_ASSERT_STRING_EQUAL(bnc_t_field_err(j, "password"),
                           "Not a valid string.");
    json_decref(j);
    bnc_t_res_free(&r);

    /* Form: the page again with a message (400). A repeated field is
     * refused, not guessed at. */
    bnc_t_run("POST", "/auth/login", bnc_t_form, "username=alice", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "role=\"alert\""));
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", bnc_t_form,
              "username=alice&username=bob&password=" BNC_T_PW, &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NULL(strstr(r.out, "Set-Cookie"));
    bnc_t_res_free(&r);

    /* No body at all (Content-Length 0). */
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct, "", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"username\": [\"This field is "
                                          "required.\"]"));
    bnc_t_res_free(&r);
}

static void
test_responder_body_limits(void)
{
    struct bnc_t_res r;
    char *big = bnc_malloc(BNC_BODY_MAX + 2);
    static const char *const cl_big[] = {"CONTENT_TYPE=application/json",
                                         "CONTENT_LENGTH=16385", NULL};
    static const char *const cl_huge[] = {
        "CONTENT_TYPE=application/json",
        "CONTENT_LENGTH=99999999999999999999999", NULL};
    static const char *const cl_bad[] = {"CONTENT_TYPE=application/json",
                                         "CONTENT_LENGTH=12abc", NULL};
    static const char *const cl_neg[] = {"CONTENT_TYPE=application/json",
                                         "CONTENT_LENGTH=-1", NULL};
    static const char *const cl_short[] = {"CONTENT_TYPE=application/json",
                                           "CONTENT_LENGTH=100", NULL};
    json_t *j;

    memset(big, 'a', BNC_BODY_MAX + 1);
    big[BNC_BODY_MAX + 1] = '\0';
    /* Larger than the limit: 413 without reading a byte. */
    bnc_t_run("POST", "/auth/login", cl_big, big, &r);
    CU_ASSERT_EQUAL(r.status, 413);
    CU_ASSERT_EQUAL(r.reads, 0);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "detail"),
                           "Request body too large.");
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "code"), "request_too_large");
    json_decref(j);
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", cl_huge, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 400); /* not even a number we hold */
    bnc_t_res_free(&r);
    /* Exactly at the limit: read, then refused as JSON. */
    big[BNC_BODY_MAX] = '\0';
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct, big, &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "JSON parse error"));
    bnc_t_res_free(&r);
    free(big);

    bnc_t_run("POST", "/auth/login", cl_bad, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Malformed Content-Length."));
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", cl_neg, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", cl_short, "{\"username\": \"a\"}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "shorter than Content-Length"));
    bnc_t_res_free(&r);
    /* No Content-Length: a login needs one. */
    bnc_t_run("POST", "/auth/login", bnc_t_jsonct, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 400);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "detail"),
                           "Content-Length required.");
    json_decref(j);
    bnc_t_res_free(&r);
}

static void
bnc_t_expect_400(const char *ctype, const char *body, size_t blen,
                 const char *detail_part)
{
    struct bnc_t_res r;
    char ct[200];
    const char *extra[2] = {ct, NULL};
    json_t *j;

    snprintf(ct, sizeof(ct), "CONTENT_TYPE=%s", ctype);
    bnc_t_run_rt(bnc_t_rt, "POST", "/auth/login", extra, body, blen, 0, &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NULL(strstr(r.out, "Set-Cookie"));
    j = bnc_t_json(&r);
    if (j == NULL || bnc_t_json_str(j, "detail") == NULL ||
        strstr(bnc_t_json_str(j, "detail"), detail_part) == NULL) {
        fprintf(stderr, "\nwanted detail with '%s', got %s\n", detail_part,
                r.body);
        CU_FAIL("detail");
    }
    json_decref(j);
    bnc_t_res_free(&r);
}

static void
test_responder_bad_json(void)
{
    const char *js = "application/json";

    bnc_t_expect_400(js, "{\"username\": \"alice\", \"username\": \"bob\", "
                         "\"password\": \"x\"}", (size_t)-1,
                     "JSON parse error");
    bnc_t_expect_400(js, "[\"alice\", \"pw\"]", (size_t)-1,
                     "Invalid data. Expected a dictionary, but got list.");
    bnc_t_expect_400(js, "\"alice\"", (size_t)-1,
                     "Expected a dictionary, but got str.");
    bnc_t_expect_400(js, "null", (size_t)-1, "but got NoneType.");
    bnc_t_expect_400(js, "{\"username\": \"alice\", \"password\": "
                         "\"a\\u0000b\"}", (size_t)-1, "JSON parse error");
    bnc_t_expect_400(js, "{\"username\": \"alice\", \"password\": \"a\0b\"}",
                     40, "JSON parse error");
    bnc_t_expect_400(js, "{\"username\": \"alice\", ", (size_t)-1,
                     "JSON parse error");
    bnc_t_expect_400(js, "{\"a\": 1} {\"b\": 2}", (size_t)-1,
                     "JSON parse error");
    bnc_t_expect_400(js, "{\"username\": \"\xff\xfe\"}", (size_t)-1,
                     "JSON parse error");
    /* Forms: bad escapes, NUL, invalid UTF-8. */
    bnc_t_expect_400("application/x-www-form-urlencoded",
                     "username=al%zzice&password=x", (size_t)-1,
                     "percent-encoding");
    bnc_t_expect_400("application/x-www-form-urlencoded",
                     "username=alice&password=x%", (size_t)-1,
                     "percent-encoding");
    bnc_t_expect_400("application/x-www-form-urlencoded",
                     "username=alice&password=a%00b", (size_t)-1,
                     "NUL");
    bnc_t_expect_400("application/x-www-form-urlencoded",
                     "username=%ff&password=x", (size_t)-1, "UTF-8");
    bnc_t_expect_400("application/x-www-form-urlencoded",
                     "username=alice&password=a\0b", 27, "NUL");
}

static void
bnc_t_expect_415(const char *ctype_param, const char *shown)
{
    struct bnc_t_res r;
    const char *extra[2] = {ctype_param, NULL};
    json_t *j;
    char want[300];

    bnc_t_run("POST", "/auth/login", ctype_param ? extra : NULL,
              "username=alice&password=x", &r);
    CU_ASSERT_EQUAL(r.status, 415);
    j = bnc_t_json(&r);
    snprintf(want, sizeof(want), "Unsupported media type \"%s\" in request.",
             shown);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "detail"), want);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "code"),
                           "unsupported_media_type");
    json_decref(j);
    bnc_t_res_free(&r);
}

static void
test_responder_unsupported_type(void)
{
    bnc_t_expect_415("CONTENT_TYPE=text/plain", "text/plain");
    bnc_t_expect_415("CONTENT_TYPE=multipart/form-data; boundary=x",
                     "multipart/form-data; boundary=x");
    bnc_t_expect_415("CONTENT_TYPE=application/x-www-form-urlencoded; "
                     "charset=iso-8859-1",
                     "application/x-www-form-urlencoded; charset=iso-8859-1");
    bnc_t_expect_415(NULL, "");
}

static void
test_responder_login_origin(void)
{
    struct bnc_t_res r;
    json_t *j;
    static const char *const evil[] = {
        "CONTENT_TYPE=application/json", "HTTP_ORIGIN=https://evil.example",
        NULL};
    static const char *const same[] = {
        "CONTENT_TYPE=application/json", "HTTP_ORIGIN=http://example.org",
        NULL};
    static const char *const scheme[] = {
        "CONTENT_TYPE=application/json", "HTTP_ORIGIN=https://example.org",
        NULL};
    static const char *const trusted[] = {
        "CONTENT_TYPE=application/json",
        "HTTP_ORIGIN=https://trusted.example", NULL};
    const char *body =
        "{\"username\": \"alice\", \"password\": \"" BNC_T_PW "\"}";

    bnc_t_run("POST", "/auth/login", evil, body, &r);
    CU_ASSERT_EQUAL(r.status, 403);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "detail"),
                           "CSRF Failed: Origin checking failed - "
                           "https://evil.example does not match any "
                           "trusted origins.");
    json_decref(j);
    CU_ASSERT_PTR_NULL(strstr(r.out, "Set-Cookie"));
    bnc_t_res_free(&r);
    /* https origin for a plain-http request: another site. */
    bnc_t_run("POST", "/auth/login", scheme, body, &r);
    CU_ASSERT_EQUAL(r.status, 403);
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", same, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", trusted, body, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
}

static void
test_responder_logout(void)
{
    struct bnc_t_res r;
    char sid[128], csrf[64], cookie[300], hdr[128], body[200];
    const char *extra[5];
    json_t *j;

    bnc_t_login(sid, sizeof(sid), csrf, sizeof(csrf));
    snprintf(cookie, sizeof(cookie), "HTTP_COOKIE=sessionid=%s; csrftoken=%s",
             sid, csrf);
    /* No token: Django's reason. */
    extra[0] = cookie;
    extra[1] = NULL;
    bnc_t_run("POST", "/auth/logout", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 403);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "detail"),
                           "CSRF Failed: CSRF token missing.");
    json_decref(j);
    bnc_t_res_free(&r);
    /* A wrong token in the form field. */
    extra[1] = "CONTENT_TYPE=application/x-www-form-urlencoded";
    extra[2] = NULL;
    bnc_t_run("POST", "/auth/logout", extra,
              "csrfmiddlewaretoken=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
              &r);
    CU_ASSERT_EQUAL(r.status, 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "CSRF Failed: CSRF token from POST "
                                          "incorrect."));
    bnc_t_res_free(&r);
    /* A foreign Origin, even with the right token. */
    snprintf(hdr, sizeof(hdr), "HTTP_X_CSRFTOKEN=%s", csrf);
    extra[1] = hdr;
    extra[2] = "HTTP_ORIGIN=https://evil.example";
    extra[3] = NULL;
    bnc_t_run("POST", "/auth/logout", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Origin checking failed"));
    bnc_t_res_free(&r);
    /* The header token: JSON answer, both cookies cleared. */
    extra[2] = NULL;
    bnc_t_run("POST", "/auth/logout", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"detail\": \"Logged out.\"}\n");
    CU_ASSERT_PTR_NOT_NULL(strstr(bnc_t_set_cookie(&r, "sessionid"),
                                  "Max-Age=0"));
    CU_ASSERT_PTR_NOT_NULL(strstr(bnc_t_set_cookie(&r, "csrftoken"),
                                  "Max-Age=0"));
    bnc_t_res_free(&r);
    /* The session is gone: whoami refuses the cookie, logout too. */
    extra[1] = NULL;
    bnc_t_run("GET", "/auth/whoami", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Invalid session."));
    bnc_t_res_free(&r);
    extra[1] = hdr;
    extra[2] = NULL;
    bnc_t_run("POST", "/auth/logout", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    bnc_t_res_free(&r);
    /* No cookie at all. */
    bnc_t_run("POST", "/auth/logout", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "detail"),
                           "Authentication credentials were not provided.");
    json_decref(j);
    bnc_t_res_free(&r);

    /* The form (the whoami page's button): field token, 302 to the login
     * page. */
    bnc_t_login(sid, sizeof(sid), csrf, sizeof(csrf));
    snprintf(cookie, sizeof(cookie), "HTTP_COOKIE=sessionid=%s", sid);
    extra[0] = cookie;
    extra[1] = "CONTENT_TYPE=application/x-www-form-urlencoded";
    extra[2] = "HTTP_ORIGIN=http://example.org";
    extra[3] = NULL;
    snprintf(body, sizeof(body), "csrfmiddlewaretoken=%s", csrf);
    bnc_t_run("POST", "/auth/logout", extra, body, &r);
    CU_ASSERT_EQUAL(r.status, 302);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Location"), "/auth/login");
    CU_ASSERT_PTR_NOT_NULL(strstr(bnc_t_set_cookie(&r, "sessionid"),
                                  "Max-Age=0"));
    bnc_t_res_free(&r);
    /* Again, the session being gone: back to the login page. */
    bnc_t_run("POST", "/auth/logout", extra, body, &r);
    CU_ASSERT_EQUAL(r.status, 302);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Location"), "/auth/login");
    bnc_t_res_free(&r);
}

static void
test_responder_login_replaces_session(void)
{
    struct bnc_t_res r;
    char sid1[128], csrf1[64], sid2[128], cookie[300];
    const char *extra[3];

    bnc_t_login(sid1, sizeof(sid1), csrf1, sizeof(csrf1));
    snprintf(cookie, sizeof(cookie), "HTTP_COOKIE=sessionid=%s", sid1);
    extra[0] = cookie;
    extra[1] = "CONTENT_TYPE=application/json";
    extra[2] = NULL;
    bnc_t_run("POST", "/auth/login", extra,
              "{\"username\": \"alice\", \"password\": \"" BNC_T_PW "\"}",
              &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_cookie_value(&r, "sessionid", sid2, sizeof(sid2));
    CU_ASSERT_STRING_NOT_EQUAL(sid1, sid2); /* no fixation */
    bnc_t_res_free(&r);
    /* The old one ended with the new login. */
    extra[1] = NULL;
    bnc_t_run("GET", "/auth/whoami", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    bnc_t_res_free(&r);
}

static void
test_responder_whoami(void)
{
    struct bnc_t_res r;
    char sid[128], csrf[64], cookie[300], want[200];
    const char *extra[3];
    json_t *j;

    bnc_t_login(sid, sizeof(sid), csrf, sizeof(csrf));
    snprintf(cookie, sizeof(cookie), "HTTP_COOKIE=sessionid=%s", sid);
    extra[0] = cookie;
    extra[1] = NULL;
    bnc_t_run("GET", "/auth/whoami", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "username"), "alice");
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "auth_type"), "Session");
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "email"), "a@example.org");
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "name"), "Alice <Admin> & \"Co\"");
    CU_ASSERT(json_is_array(json_object_get(j, "groups")));
    CU_ASSERT_EQUAL(json_array_size(json_object_get(j, "groups")), 2);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_array_get(
                               json_object_get(j, "groups"), 1)), "dev");
    CU_ASSERT(json_integer_value(json_object_get(j, "expires")) >
              (json_int_t)time(NULL));
    CU_ASSERT(strncmp(bnc_t_json_str(j, "credential_id"), "ss_", 3) == 0);
    CU_ASSERT(json_is_string(json_object_get(j, "user_id")));
    json_decref(j);
    bnc_t_res_free(&r);

    /* A browser: the page with the escaped name and a logout form. */
    extra[1] = "HTTP_ACCEPT=text/html,application/xhtml+xml,*/*;q=0.8";
    extra[2] = NULL;
    bnc_t_run("GET", "/auth/whoami", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Content-Type"),
                           "text/html; charset=utf-8");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Signed in as Alice &lt;Admin&gt; "
                                          "&amp; &quot;Co&quot;"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "action=\"logout\""));
    snprintf(want, sizeof(want),
             "name=\"csrfmiddlewaretoken\" value=\"%s\"", csrf);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, want));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Log out</button>"));
    bnc_t_res_free(&r);

    /* Basic credentials: identity, no logout form. */
    extra[0] = "HTTP_AUTHORIZATION=Basic YWxpY2U6czNjcmV0IHBhc3Mrd29yZCY9JQ==";
    bnc_t_run("GET", "/auth/whoami", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "signed in with Basic"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "Log out"));
    bnc_t_res_free(&r);

    /* Nobody: JSON 401, a browser goes to the login page. */
    bnc_t_run("GET", "/auth/whoami", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    j = bnc_t_json(&r);
    CU_ASSERT_STRING_EQUAL(bnc_t_json_str(j, "detail"),
                           "Authentication credentials were not provided.");
    json_decref(j);
    bnc_t_res_free(&r);
    extra[0] = "HTTP_ACCEPT=text/html";
    extra[1] = NULL;
    bnc_t_run("GET", "/auth/whoami", extra, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 302);
    CU_ASSERT(strncmp(bnc_t_header(&r, "Location"), "/auth/login?next=",
                      17) == 0);
    bnc_t_res_free(&r);
}

static void
bnc_t_expect_405(const char *method, const char *uri, const char *allow)
{
    struct bnc_t_res r;

    bnc_t_run(method, uri, bnc_t_jsonct, "{}", &r);
    CU_ASSERT_EQUAL(r.status, 405);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Allow"), allow);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"code\": \"method_not_allowed\""));
    bnc_t_res_free(&r);
}

static void
test_responder_methods(void)
{
    struct bnc_t_res r;

    bnc_t_expect_405("PUT", "/auth/login", "GET, HEAD, POST");
    bnc_t_expect_405("DELETE", "/auth/login", "GET, HEAD, POST");
    bnc_t_expect_405("GET", "/auth/logout", "POST");
    bnc_t_expect_405("POST", "/auth/whoami", "GET, HEAD");
    bnc_t_expect_405("POST", "/auth/healthz", "GET, HEAD");
    bnc_t_run("GET", "/auth/healthz", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(r.body, "{\"status\": \"ok\"}\n");
    bnc_t_res_free(&r);
    bnc_t_run("GET", "/auth/nothing", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
    bnc_t_run("GET", "/elsewhere", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
}

static void
test_responder_sessions_disabled(void)
{
    struct bnc_t_res r;

    bnc_t_run_rt(bnc_t_rt_nos, "GET", "/auth/login", NULL, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "\"detail\": \"Not found.\""));
    bnc_t_res_free(&r);
    bnc_t_run_rt(bnc_t_rt_nos, "POST", "/auth/login", bnc_t_jsonct,
                 "{\"username\": \"alice\", \"password\": \"x\"}",
                 (size_t)-1, 0, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
    bnc_t_run_rt(bnc_t_rt_nos, "POST", "/auth/logout", NULL, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
}

/* ---- the body parser on its own -------------------------------------- */

static void
test_responder_body_form(void)
{
    struct bnc_body b;
    struct bnc_body_err err;
    const struct bnc_body_field *f;
    const char *in = "a=1+2%20%33&&b=&c&d=%E2%82%AC&a2=x=y";

    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(bnc_body_parse("application/x-www-form-urlencoded", in,
                                   strlen(in), &b, &err), 0);
    CU_ASSERT_EQUAL(b.type, BNC_BODY_FORM);
    CU_ASSERT_EQUAL(b.n, 5);
    CU_ASSERT_EQUAL(bnc_body_get(&b, "a", &f), 1);
    CU_ASSERT_STRING_EQUAL(f->value, "1 2 3");
    CU_ASSERT_EQUAL(bnc_body_get(&b, "b", &f), 1);
    CU_ASSERT_STRING_EQUAL(f->value, "");
    CU_ASSERT_EQUAL(bnc_body_get(&b, "c", &f), 1);
    CU_ASSERT_EQUAL(f->vlen, 0);
    CU_ASSERT_EQUAL(bnc_body_get(&b, "d", &f), 1);
    CU_ASSERT_STRING_EQUAL(f->value, "\xe2\x82\xac");
    CU_ASSERT_EQUAL(bnc_body_get(&b, "a2", &f), 1);
    CU_ASSERT_STRING_EQUAL(f->value, "x=y");
    CU_ASSERT_EQUAL(bnc_body_get(&b, "zz", &f), 0);
    bnc_body_cleanup(&b);

    in = "k=1&k=2";
    CU_ASSERT_EQUAL(bnc_body_parse("Application/X-WWW-Form-URLEncoded ; "
                                   "charset=\"utf-8\"", in, strlen(in), &b,
                                   &err), 0);
    CU_ASSERT_EQUAL(bnc_body_get(&b, "k", &f), -1);
    bnc_body_cleanup(&b);

    /* An empty name, a control byte in a name, too many fields. */
    in = "=x";
    CU_ASSERT_EQUAL(bnc_body_parse("application/x-www-form-urlencoded", in,
                                   strlen(in), &b, &err), -1);
    bnc_body_cleanup(&b);
    in = "a%01=x";
    CU_ASSERT_EQUAL(bnc_body_parse("application/x-www-form-urlencoded", in,
                                   strlen(in), &b, &err), -1);
    bnc_body_cleanup(&b);
    {
        char many[1024] = "";
        int i;

        for (i = 0; i <= BNC_BODY_MAX_FIELDS; i++)
            snprintf(many + strlen(many), sizeof(many) - strlen(many),
                     "f%d=1&", i);
        CU_ASSERT_EQUAL(bnc_body_parse("application/x-www-form-urlencoded",
                                       many, strlen(many), &b, &err), -1);
        CU_ASSERT_STRING_EQUAL(err.detail,
                               "Too many fields in request body.");
        bnc_body_cleanup(&b);
    }
}

static void
test_responder_body_json(void)
{
    struct bnc_body b;
    struct bnc_body_err err;
    const struct bnc_body_field *f;
    const char *in = "{\"s\": \"v\\u00e9\", \"n\": null, \"i\": 3, "
                     "\"o\": {\"x\": [1, 2]}}";

    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(bnc_body_parse("application/json", in, strlen(in), &b,
                                   &err), 0);
    CU_ASSERT_EQUAL(b.type, BNC_BODY_JSON);
    CU_ASSERT_EQUAL(bnc_body_get(&b, "s", &f), 1);
    CU_ASSERT_EQUAL(f->kind, BNC_BODY_STRING);
    CU_ASSERT_STRING_EQUAL(f->value, "v\xc3\xa9");
    CU_ASSERT_EQUAL(bnc_body_get(&b, "n", &f), 1);
    CU_ASSERT_EQUAL(f->kind, BNC_BODY_NULL);
    CU_ASSERT_EQUAL(bnc_body_get(&b, "i", &f), 1);
    CU_ASSERT_EQUAL(f->kind, BNC_BODY_OTHER);
    CU_ASSERT_EQUAL(bnc_body_get(&b, "o", &f), 1);
    CU_ASSERT_EQUAL(f->kind, BNC_BODY_OTHER);
    bnc_body_cleanup(&b);

    /* Deep nesting is jansson's to refuse, not a crash. */
    {
        char deep[8000];
        size_t i;

        deep[0] = '{';
        memcpy(deep + 1, "\"a\":", 4);
        for (i = 5; i < 4005; i++)
            deep[i] = '[';
        deep[i] = '\0';
        CU_ASSERT_EQUAL(bnc_body_parse("application/json", deep,
                                       strlen(deep), &b, &err), -1);
        CU_ASSERT_EQUAL(err.status, 400);
        bnc_body_cleanup(&b);
    }
    /* An empty body is no body, whatever the type says. */
    CU_ASSERT_EQUAL(bnc_body_parse("text/plain", "", 0, &b, &err), 0);
    CU_ASSERT_EQUAL(b.type, BNC_BODY_EMPTY);
    CU_ASSERT_EQUAL(b.n, 0);
    bnc_body_cleanup(&b);
}

static void
test_responder_html_escape(void)
{
    struct bnc_buf b;

    bnc_buf_init(&b);
    bnc_html_escape(&b, "<a href=\"x\">'&'</a>");
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b),
                           "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;"
                           "&lt;/a&gt;");
    bnc_buf_cleanup(&b);
}

static void
test_responder_read_error(void)
{
    struct bnc_request req;
    struct bnc_buf out;
    struct bnc_body_err err;
    struct bnc_t_body tb;
    struct bnc_io io = {&tb, bnc_t_read};
    char *env[] = {(char *)"CONTENT_LENGTH=10", NULL};

    memset(&tb, 0, sizeof(tb));
    tb.p = "0123456789";
    tb.len = 10;
    tb.fail = 1;
    bnc_request_init(&req, env);
    bnc_buf_init(&out);
    memset(&err, 0, sizeof(err));
    CU_ASSERT_EQUAL(bnc_body_read(&req, &io, 100, 1, &out, &err), -1);
    CU_ASSERT_EQUAL(err.status, 400);
    CU_ASSERT_STRING_EQUAL(err.detail, "Could not read the request body.");
    /* Never more than Content-Length, even when more is there. */
    tb.fail = 0;
    tb.len = 10;
    env[0] = (char *)"CONTENT_LENGTH=4";
    bnc_request_init(&req, env);
    CU_ASSERT_EQUAL(bnc_body_read(&req, &io, 100, 1, &out, &err), 0);
    CU_ASSERT_EQUAL(out.len, 4);
    CU_ASSERT_EQUAL(tb.off, 4);
    /* Absent or empty (nginx) Content-Length, not required: no body. */
    env[0] = (char *)"CONTENT_LENGTH=";
    bnc_request_init(&req, env);
    CU_ASSERT_EQUAL(bnc_body_read(&req, &io, 100, 0, &out, &err), 0);
    CU_ASSERT_EQUAL(out.len, 0);
    CU_ASSERT_EQUAL(bnc_body_read(&req, &io, 100, 1, &out, &err), -1);
    bnc_buf_cleanup(&out);
}

/* Review findings: a JSON syntax error never quotes the body (it may hold
 * the password); a logout with a broken session still clears the cookies;
 * an HTTPS login without Origin needs a same-origin Referer. */
static void
test_responder_review_fixes(void)
{
    static const char *const https_json[] = {
        "CONTENT_TYPE=application/json", "HTTPS=on", NULL};
    static const char *const https_json_ref[] = {
        "CONTENT_TYPE=application/json", "HTTPS=on",
        "HTTP_REFERER=https://example.org/auth/login", NULL};
    static const char *const https_json_evil[] = {
        "CONTENT_TYPE=application/json", "HTTPS=on",
        "HTTP_REFERER=https://example.org.evil.test/x", NULL};
    static const char *const bad_cookie[] = {
        "HTTP_COOKIE=sessionid=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "HTTP_X_CSRFTOKEN=x", NULL};
    struct bnc_t_res r;

    bnc_t_run("POST", "/auth/login", bnc_t_jsonct,
              "{\"username\":\"alice\",\"password\":\"Tr0ub4dor\"Horse99\"}", &r);
    CU_ASSERT_EQUAL(r.status, 400);
    CU_ASSERT_PTR_NULL(strstr(r.out, "Horse99"));
    CU_ASSERT_PTR_NULL(strstr(r.reason, "Horse99"));
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/logout", bad_cookie, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.out, "Set-Cookie: sessionid=;"));
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", https_json,
              "{\"username\":\"alice\",\"password\":\"x\"}", &r);
    CU_ASSERT_EQUAL(r.status, 403);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "Referer checking failed - no Referer."));
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", https_json_evil,
              "{\"username\":\"alice\",\"password\":\"x\"}", &r);
    CU_ASSERT_EQUAL(r.status, 403);
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/login", https_json_ref,
              "{\"username\":\"alice\",\"password\":\"x\"}", &r);
    CU_ASSERT_NOT_EQUAL(r.status, 403);
    bnc_t_res_free(&r);
}

/* GET /auth/metrics: the normal decision for its own path first. */
static void
test_responder_metrics(void)
{
    static const char net_ok[] =
        "[store]\npath = /nonexistent\n[auth]\nschemes = basic\n"
        "[rules]\n/auth/metrics = network:192.0.2.0/24\n/auth/ = anonymous\n";
    static const char net_other[] =
        "[store]\npath = /nonexistent\n[auth]\nschemes = basic\n"
        "[rules]\n/auth/metrics = network:10.0.0.0/8\n/auth/ = anonymous\n";
    static const char off[] =
        "[store]\npath = /nonexistent\n[auth]\nschemes = basic\n"
        "[metrics]\nenabled = no\n"
        "[rules]\n/auth/metrics = network:192.0.2.0/24\n";
    static const char host_anon[] =
        "[store]\npath = /nonexistent\n[auth]\nschemes = basic\n"
        "[rules]\nexample.org/auth/metrics = anonymous\n"
        "/auth/metrics = network:192.0.2.0/24\n";
    const char *basic[] = {
        "HTTP_AUTHORIZATION=Basic YWxpY2U6czNjcmV0IHBhc3Mrd29yZCY9JQ==", NULL};
    const char *req_anon[] = {"BOUNCER_REQUIRE=anonymous", NULL};
    const char *req_net[] = {"BOUNCER_REQUIRE=anonymous network:192.0.2.0/24",
                             NULL};
    struct bnc_runtime *rt;
    struct bnc_t_res r;

    /* "/auth/ = anonymous" alone does not publish them. */
    bnc_t_run("GET", "/auth/metrics", NULL, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_PTR_NOT_NULL(strstr(bnc_t_header(&r, "WWW-Authenticate"),
                                  "Basic"));
    CU_ASSERT_PTR_NULL(strstr(r.body, "bouncer_"));
    bnc_t_res_free(&r);
    /* A user the rule lets in gets them. */
    bnc_t_run("GET", "/auth/metrics", basic, NULL, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    CU_ASSERT_STRING_EQUAL(bnc_t_header(&r, "Content-Type"),
                           "text/plain; version=0.0.4; charset=utf-8");
    CU_ASSERT_PTR_NOT_NULL(strstr(r.body, "# TYPE bouncer_metrics_shared "
                                          "gauge\n"));
    bnc_t_res_free(&r);
    bnc_t_run("POST", "/auth/metrics", basic, "", &r);
    CU_ASSERT_EQUAL(r.status, 405);
    bnc_t_res_free(&r);

    rt = bnc_t_runtime(net_ok);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    bnc_t_run_rt(rt, "GET", "/auth/metrics", NULL, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    /* The normalised path is what the rule sees. */
    bnc_t_run_rt(rt, "GET", "/auth//./metrics?x=1", NULL, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    bnc_runtime_release(rt);

    rt = bnc_t_runtime(net_other);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    bnc_t_run_rt(rt, "GET", "/auth/metrics", NULL, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 403);
    CU_ASSERT_PTR_NULL(strstr(r.body, "bouncer_"));
    bnc_t_res_free(&r);
    bnc_runtime_release(rt);

    rt = bnc_t_runtime(off);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    bnc_t_run_rt(rt, "GET", "/auth/metrics", NULL, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 404);
    bnc_t_res_free(&r);
    bnc_runtime_release(rt);

    /* The guard looks at the rule the decision used: a host rule without a
     * network, or the server's BOUNCER_REQUIRE, is not rescued by a
     * network rule further down. */
    rt = bnc_t_runtime(host_anon);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    bnc_t_run_rt(rt, "GET", "/auth/metrics", NULL, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_PTR_NULL(strstr(r.body, "bouncer_"));
    bnc_t_res_free(&r);
    bnc_runtime_release(rt);
    rt = bnc_t_runtime(net_ok);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    bnc_t_run_rt(rt, "GET", "/auth/metrics", req_anon, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 401);
    CU_ASSERT_PTR_NULL(strstr(r.body, "bouncer_"));
    bnc_t_res_free(&r);
    bnc_t_run_rt(rt, "GET", "/auth/metrics", req_net, NULL, 0, 0, &r);
    CU_ASSERT_EQUAL(r.status, 200);
    bnc_t_res_free(&r);
    bnc_runtime_release(rt);
}

/* Two different Cookie or Authorization copies (lighttpd passes header
 * spellings that differ only in '-'/'_' under one name): 400, not a pick. */
static void
test_responder_duplicate_credential_400(void)
{
    const char *cookies[] = {"HTTP_COOKIE=sessionid=a", "HTTP_COOKIE=sessionid=b",
                             NULL};
    const char *auths[] = {"HTTP_AUTHORIZATION=Token a",
                           "HTTP_AUTHORIZATION=Token b", NULL};
    const char *const *cases[] = {cookies, auths};
    size_t i;

    for (i = 0; i < 2; i++) {
        struct bnc_t_res r;
        json_t *j;

        bnc_t_run("GET", "/auth/whoami", cases[i], NULL, &r);
        CU_ASSERT_EQUAL(r.status, 400);
        j = bnc_t_json(&r);
        CU_ASSERT_STRING_EQUAL(j ? bnc_t_json_str(j, "code") : "",
                               "duplicate_header");
        json_decref(j);
        bnc_t_res_free(&r);
    }
}

static const struct bnc_unit_case cases[] = {
    {"test_responder_setup_users", test_responder_setup_users},
    {"test_responder_duplicate_credential_400", test_responder_duplicate_credential_400},
    {"test_responder_login_page", test_responder_login_page},
    {"test_responder_login_page_hostile_next",
     test_responder_login_page_hostile_next},
    {"test_responder_login_form_ok", test_responder_login_form_ok},
    {"test_responder_login_json_ok", test_responder_login_json_ok},
    {"test_responder_login_wrong_identical",
     test_responder_login_wrong_identical},
    {"test_responder_login_missing_fields",
     test_responder_login_missing_fields},
    {"test_responder_body_limits", test_responder_body_limits},
    {"test_responder_bad_json", test_responder_bad_json},
    {"test_responder_unsupported_type", test_responder_unsupported_type},
    {"test_responder_login_origin", test_responder_login_origin},
    {"test_responder_logout", test_responder_logout},
    {"test_responder_login_replaces_session",
     test_responder_login_replaces_session},
    {"test_responder_whoami", test_responder_whoami},
    {"test_responder_methods", test_responder_methods},
    {"test_responder_sessions_disabled", test_responder_sessions_disabled},
    {"test_responder_body_form", test_responder_body_form},
    {"test_responder_body_json", test_responder_body_json},
    {"test_responder_html_escape", test_responder_html_escape},
    {"test_responder_read_error", test_responder_read_error},
    {"test_responder_review_fixes", test_responder_review_fixes},
    {"test_responder_metrics", test_responder_metrics},
    {NULL, NULL},
};

BNC_UNIT_MAIN("responder", cases, bnc_t_init, bnc_t_fini)
