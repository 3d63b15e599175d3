/* SPDX-License-Identifier: MIT */
/* Sessions: cookie parsing and formatting, Django's CSRF checks and
 * wording, "next" validation, the login redirect, and the session scheme
 * through the whole decision chain on a real store. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "auth/decide.h"
#include "auth/session.h"
#include "conf/conf.h"
#include "crypto/digest.h"
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
static struct bnc_runtime *bnc_t_rt;       /* session, token, basic */
static struct bnc_runtime *bnc_t_rt_token; /* token, session */

static const char bnc_t_conf[] =
    "[auth]\n"
    "schemes = session, token, basic\n"
    "realm = test\n"
    "[passwords]\n"
    "argon2_memory = 1024\n"
    "argon2_time = 1\n"
    "[session]\n"
    "trusted_origins = https://app.example.org, http://localhost:8080\n"
    "[rules]\n"
    "/pub/ = anonymous\n"
    "/auth/ = anonymous\n"
    "/ = authenticated\n";

static const char bnc_t_conf_token[] =
    "[auth]\n"
    "schemes = token, session\n"
    "[session]\n"
    "cookie_name = sid\n"
    "csrf_header = X-My-Csrf\n"
    "redirect_browsers = no\n"
    "[rules]\n"
    "/ = authenticated\n";

#define HOST "www.example.org"
#define HTML "HTTP_ACCEPT=text/html,application/xhtml+xml,*/*;q=0.8"
#define INVALID "{\"detail\": \"Invalid session.\", \"code\": " \
    "\"session_invalid\"}"
#define INACTIVE "\"User inactive or deleted.\""

/* ---- fixtures ---------------------------------------------------------- */

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

    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "%s/bnc-session-XXXXXX",
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
    bnc_t_rt_token = bnc_t_runtime(bnc_t_conf_token, &d);
    bnc_diag_print(&d, stderr);
    bnc_diag_cleanup(&d);
    return bnc_t_rt == NULL || bnc_t_rt_token == NULL;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_runtime_release(bnc_t_rt);
    bnc_runtime_release(bnc_t_rt_token);
    bnc_store_close(bnc_t_store);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) != 0;
}

static void
bnc_t_user(const char *name)
{
    struct bnc_user u;

    memset(&u, 0, sizeof(u));
    u.name = (char *)name;
    u.hash = (char *)"!";
    u.display_name = (char *)"Test User";
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(bnc_t_store, &u), BNC_STORE_OK);
}

/* A 43-character base64url key from a tag, padded with 'x'. */
static void
bnc_t_key(const char *tag, char out[44])
{
    size_t n = strlen(tag);

    memset(out, 'x', 43);
    memcpy(out, tag, n < 43 ? n : 43);
    out[43] = '\0';
}

/* Adds a session for key; csrf bytes are all csrf_byte. */
static void
bnc_t_session(const char *id, const char *key, const char *user,
              int64_t created, int64_t expires, int64_t idle,
              const char *device)
{
    struct bnc_session s;

    memset(&s, 0, sizeof(s));
    snprintf(s.id, sizeof(s.id), "%s", id);
    bnc_sha256(key, strlen(key), s.digest);
    s.user = (char *)user;
    s.created = created;
    s.last_seen = created;
    s.idle_timeout = idle;
    s.expires = expires;
    memset(s.csrf, 0x11, sizeof(s.csrf));
    s.client = (char *)"192.0.2.7";
    s.user_agent = (char *)"unit test";
    s.device = (char *)device;
    CU_ASSERT_EQUAL_FATAL(bnc_store_session_add(bnc_t_store, &s,
                                                BNC_STORE_SYNC),
                          BNC_STORE_OK);
}

/* The CSRF token of sessions made by bnc_t_session. */
static void
bnc_t_csrf(char out[44])
{
    unsigned char b[32];

    memset(b, 0x11, sizeof(b));
    bnc_b64url_encode(b, sizeof(b), out);
}

/* One decision. Extra params are "NAME=value" strings ending with NULL. */
static char *
bnc_t_vrun(struct bnc_runtime *rt, const char *role, const char *method,
           const char *uri, const char *cookie, struct bnc_decision *d,
           va_list ap)
{
    char m[64], u[2048], *c, *env[24];
    size_t clen = (cookie != NULL ? strlen(cookie) : 0) + 16;
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_buf out;
    const char *x;
    size_t n = 0;
    char *s;

    c = bnc_malloc(clen);
    snprintf(m, sizeof(m), "REQUEST_METHOD=%s", method);
    snprintf(u, sizeof(u), "REQUEST_URI=%s", uri);
    snprintf(c, clen, "HTTP_COOKIE=%s", cookie != NULL ? cookie : "");
    if (strcmp(role, "nginx") == 0) {
        env[n++] = "FCGI_ROLE=RESPONDER";
        env[n++] = "BOUNCER_MODE=authorize";
    } else {
        env[n++] = "FCGI_ROLE=AUTHORIZER";
    }
    env[n++] = m;
    env[n++] = u;
    env[n++] = "REMOTE_ADDR=192.0.2.7";
    env[n++] = "HTTP_HOST=" HOST;
    if (cookie != NULL)
        env[n++] = c;
    while ((x = va_arg(ap, const char *)) != NULL && n < 23)
        env[n++] = (char *)x;
    env[n] = NULL;
    bnc_request_init(&req, env);
    bnc_response_init(&resp);
    bnc_buf_init(&out);
    bnc_decide(rt, &req, d);
    bnc_decision_respond(rt, &req, d, &resp);
    bnc_response_serialize(&resp, &out);
    s = bnc_strdup(bnc_buf_str(&out));
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
    free(c);
    return s;
}

/* Expects the response's Status line and (when set) a substring. */
static void
bnc_t_expect(struct bnc_runtime *rt, const char *role, const char *method,
             const char *uri, const char *cookie, int status,
             const char *needle, ...)
{
    struct bnc_decision d;
    char want[32], *out;
    va_list ap;

    va_start(ap, needle);
    out = bnc_t_vrun(rt, role, method, uri, cookie, &d, ap);
    va_end(ap);
    snprintf(want, sizeof(want), "Status: %d ", status);
    if (strncmp(out, want, strlen(want)) != 0 ||
        (needle != NULL && strstr(out, needle) == NULL))
        fprintf(stderr, "\nFAIL %s %s [%.60s]: wanted %d with '%s' "
                "(reason: %s):\n%s\n", method, uri, cookie ? cookie : "",
                status, needle ? needle : "", d.reason, out);
    CU_ASSERT_EQUAL(strncmp(out, want, strlen(want)), 0);
    if (needle != NULL)
        CU_ASSERT_PTR_NOT_NULL(strstr(out, needle));
    bnc_decision_cleanup(&d);
    free(out);
}

/* ---- cookies --------------------------------------------------------- */

static void
test_session_cookie_find(void)
{
    static const struct {
        const char *header, *name;
        int rc;
        const char *val;
    } cases[] = {
        {"sessionid=abc", "sessionid", 1, "abc"},
        {"a=1; sessionid=abc; b=2", "sessionid", 1, "abc"},
        {"a=1;sessionid=abc;b=2", "sessionid", 1, "abc"},
        {"  sessionid  =  abc  ;", "sessionid", 1, "abc"},
        {"\tsessionid=abc\t", "sessionid", 1, "abc"},
        {"sessionid=\"abc\"", "sessionid", 1, "abc"},
        {"sessionid= \"abc\" ; x=1", "sessionid", 1, "abc"},
        {"sessionid=\"\"", "sessionid", 1, ""},
        {"sessionid=", "sessionid", 1, ""},
        {"sessionid=\"abc", "sessionid", -1, NULL},
        {"sessionid=\"", "sessionid", -1, NULL},
        {"sessionid=\"ab\"c\"", "sessionid", -1, NULL},
        {"sessionid=\"ab\"c", "sessionid", -1, NULL},
        {"sessionid=abc; sessionid=abc", "sessionid", 1, "abc"},
        {"sessionid=abc; sessionid=\"abc\"", "sessionid", 1, "abc"},
        {"sessionid=abc; sessionid=abd", "sessionid", -1, NULL},
        {"sessionid=abc; sessionid=", "sessionid", -1, NULL},
        {"", "sessionid", 0, NULL},
        {"sessionid", "sessionid", 0, NULL},
        {"sessionid;other=1", "sessionid", 0, NULL},
        {"xsessionid=abc; sessionidx=abc", "sessionid", 0, NULL},
        {"SessionId=abc", "sessionid", 0, NULL},
        {"a=\"unterminated; sessionid=abc", "sessionid", 1, "abc"},
        {"sessionid=a=b=c", "sessionid", 1, "a=b=c"},
        {";;; ; sessionid=v ;;", "sessionid", 1, "v"},
        {"caf\xc3\xa9=1; sessionid=\xc3\xa9t\xc3\xa9", "sessionid", 1,
         "\xc3\xa9t\xc3\xa9"},
        {"caf\xc3\xa9=1", "caf\xc3\xa9", 1, "1"},
        {"=abc; sessionid=v", "sessionid", 1, "v"},
        {"sessionid=v", "", 0, NULL},
    };
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const char *val = NULL;
        size_t len = 0;
        int rc = bnc_cookie_find(cases[i].header, cases[i].name, &val, &len);

        if (rc != cases[i].rc)
            fprintf(stderr, "\ncookie case %zu [%s]: rc %d, wanted %d\n", i,
                    cases[i].header, rc, cases[i].rc);
        CU_ASSERT_EQUAL(rc, cases[i].rc);
        if (rc == 1 && cases[i].val != NULL) {
            CU_ASSERT_EQUAL(len, strlen(cases[i].val));
            CU_ASSERT(len == strlen(cases[i].val) &&
                      memcmp(val, cases[i].val, len) == 0);
        }
    }
}

static void
test_session_cookie_find_long(void)
{
    size_t n = 64 * 1024, i;
    char *h = bnc_malloc(n + 64);
    const char *val = NULL;
    size_t len = 0, off = 0;

    /* Thousands of cookies, ours last. */
    for (i = 0; off + 32 < n; i++)
        off += (size_t)snprintf(h + off, n - off, "c%zu=%zu; ", i, i);
    snprintf(h + off, n + 64 - off, "sessionid=last");
    CU_ASSERT_EQUAL(bnc_cookie_find(h, "sessionid", &val, &len), 1);
    CU_ASSERT_EQUAL(len, 4);
    /* One huge value. */
    memset(h, 'v', n);
    memcpy(h, "sessionid=", 10);
    h[n] = '\0';
    CU_ASSERT_EQUAL(bnc_cookie_find(h, "sessionid", &val, &len), 1);
    CU_ASSERT_EQUAL(len, n - 10);
    free(h);
}

static void
test_session_cookie_format(void)
{
    const struct bnc_session_conf *c = bnc_session_conf_of(bnc_t_rt);
    struct bnc_session_conf dc;
    struct bnc_buf b;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NULL(bnc_session_conf_of(NULL));
    bnc_buf_init(&b);
    bnc_cookie_format(&b, c, "sessionid", "v", 1209600, 0, 1);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b), "sessionid=v; Path=/; "
                           "Max-Age=1209600; HttpOnly; SameSite=Lax");
    bnc_buf_reset(&b);
    bnc_cookie_format(&b, c, "csrftoken", "t", 60, 1, 0);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b), "csrftoken=t; Path=/; "
                           "Max-Age=60; Secure; SameSite=Lax");
    bnc_buf_reset(&b);
    bnc_cookie_format(&b, c, "sessionid", "", 0, 1, 1);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b), "sessionid=; Path=/; Max-Age=0; "
                           "Secure; HttpOnly; SameSite=Lax");
    dc = *c;
    dc.cookie_path = (char *)"/app";
    dc.cookie_domain = (char *)"example.org";
    bnc_buf_reset(&b);
    bnc_cookie_format(&b, &dc, "sid", "v", -1, 0, 0);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b), "sid=v; Path=/app; "
                           "Domain=example.org; SameSite=Lax");
    bnc_buf_cleanup(&b);
}

/* ---- CSRF ------------------------------------------------------------ */

/* Runs bnc_csrf_check on a request made of the given params (NULL-ended)
 * and returns the reason ("" when it passed). */
static const char *
bnc_t_csrf_run(const struct bnc_session_conf *c, const char *form, ...)
{
    static char reason[300];
    struct bnc_session s;
    struct bnc_request req;
    char *env[16];
    const char *x;
    size_t n = 0;
    va_list ap;

    va_start(ap, form);
    while ((x = va_arg(ap, const char *)) != NULL && n < 15)
        env[n++] = (char *)x;
    va_end(ap);
    env[n] = NULL;
    memset(&s, 0, sizeof(s));
    memset(s.csrf, 0x11, sizeof(s.csrf));
    bnc_request_init(&req, env);
    reason[0] = '\0';
    if (bnc_csrf_check(c, &req, &s, form, reason, sizeof(reason)) == 0) {
        CU_ASSERT_STRING_EQUAL(reason, "");
    } else {
        CU_ASSERT_NOT_EQUAL(reason[0], '\0');
    }
    return reason;
}

static void
test_session_csrf(void)
{
    const struct bnc_session_conf *c = bnc_session_conf_of(bnc_t_rt);
    const struct bnc_session_conf *c2 = bnc_session_conf_of(bnc_t_rt_token);
    char tok[44], hdr[80], bad[80], wrong[44];
    struct bnc_session s;

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c2);
    memset(&s, 0, sizeof(s));
    memset(s.csrf, 0x11, sizeof(s.csrf));
    bnc_csrf_token(&s, tok);
    bnc_t_csrf(wrong);
    CU_ASSERT_STRING_EQUAL(tok, wrong);
    CU_ASSERT_EQUAL(strlen(tok), 43);
    snprintf(hdr, sizeof(hdr), "HTTP_X_CSRFTOKEN=%s", tok);
    memcpy(wrong, tok, sizeof(wrong));
    wrong[42] = wrong[42] == 'A' ? 'B' : 'A';
    snprintf(bad, sizeof(bad), "HTTP_X_CSRFTOKEN=%s", wrong);

    /* Safe methods need nothing. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=GET",
                                          NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=HEAD",
                                          NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=OPTIONS",
                                          NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=TRACE",
                                          NULL), "");
    /* Unsafe ones need the token. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, NULL),
                           "CSRF token missing.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=DELETE",
                                          "HTTP_X_CSRFTOKEN=", NULL),
                           "CSRF token missing.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=PUT",
                                          hdr, NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=PATCH",
                                          bad, NULL),
                           "CSRF token from the 'X-Csrftoken' HTTP header "
                           "incorrect.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_X_CSRFTOKEN=short", NULL),
                           "CSRF token from the 'X-Csrftoken' HTTP header "
                           "has incorrect length.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_X_CSRFTOKEN=" "!!!!!!!!!!"
                                          "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!",
                                          NULL),
                           "CSRF token from the 'X-Csrftoken' HTTP header "
                           "has invalid characters.");
    /* The form field counts when there is no header (responder). */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, tok, "REQUEST_METHOD=POST",
                                          NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, wrong, "REQUEST_METHOD=POST",
                                          NULL),
                           "CSRF token from POST incorrect.");
    /* Any method not known safe is unsafe. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=PROPFIND",
                                          NULL), "CSRF token missing.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=get",
                                          NULL), "CSRF token missing.");
    /* The configured header, named as Django names it. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c2, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_X_MY_CSRF=short", NULL),
                           "CSRF token from the 'X-My-Csrf' HTTP header has "
                           "incorrect length.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c2, NULL, "REQUEST_METHOD=POST",
                                          hdr, NULL), "CSRF token missing.");

    /* Origin: this site (scheme from HTTPS), a trusted one, else refused. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "HTTP_ORIGIN=http://" HOST, hdr,
                                          NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=WWW.Example.ORG",
                                          "HTTP_ORIGIN=http://" HOST, hdr,
                                          NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_ORIGIN=https://" HOST, hdr,
                                          NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_ORIGIN=http://" HOST, hdr,
                                          NULL),
                           "Origin checking failed - http://" HOST
                           " does not match any trusted origins.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "HTTP_ORIGIN=https://evil.example",
                                          hdr, NULL),
                           "Origin checking failed - https://evil.example "
                           "does not match any trusted origins.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "HTTP_ORIGIN=null", hdr, NULL),
                           "Origin checking failed - null does not match "
                           "any trusted origins.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "HTTP_ORIGIN=http://" HOST ".evil",
                                          hdr, NULL),
                           "Origin checking failed - http://" HOST
                           ".evil does not match any trusted origins.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_ORIGIN=https://app.example."
                                          "org", hdr, NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "HTTP_ORIGIN=http://localhost:8080",
                                          hdr, NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "HTTP_ORIGIN=http://localhost:8081",
                                          hdr, NULL),
                           "Origin checking failed - http://localhost:8081 "
                           "does not match any trusted origins.");
    /* Origin is checked before the token. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "HTTP_ORIGIN=https://evil.example",
                                          NULL),
                           "Origin checking failed - https://evil.example "
                           "does not match any trusted origins.");

    /* No Origin on HTTPS: a strict Referer check (Django's rules). */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on", hdr,
                                          NULL),
                           "Referer checking failed - no Referer.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST,
                                          "REQUEST_SCHEME=https",
                                          "HTTP_REFERER=not a url", hdr,
                                          NULL),
                           "Referer checking failed - Referer is "
                           "malformed.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_REFERER=", hdr, NULL),
                           "Referer checking failed - Referer is "
                           "malformed.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_REFERER=https:///path", hdr,
                                          NULL),
                           "Referer checking failed - Referer is "
                           "malformed.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_REFERER=http://" HOST "/a",
                                          hdr, NULL),
                           "Referer checking failed - Referer is insecure "
                           "while host is secure.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_REFERER=https://evil.example"
                                          "/x", hdr, NULL),
                           "Referer checking failed - https://evil.example/x"
                           " does not match any trusted origins.");
    /* The reason goes to the log: a query there may hold a secret. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_REFERER=https://evil.example"
                                          "/x?token=s3cr3t#f", hdr, NULL),
                           "Referer checking failed - https://evil.example/x"
                           " does not match any trusted origins.");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_REFERER=https://" HOST
                                          "/form?a=1", hdr, NULL), "");
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          "HTTP_REFERER=https://app.example."
                                          "org/", hdr, NULL), "");
    /* The referer check runs before the token check. */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, "HTTPS=on",
                                          NULL),
                           "Referer checking failed - no Referer.");
    /* Plain HTTP without Origin: no Referer needed (Django). */
    CU_ASSERT_STRING_EQUAL(bnc_t_csrf_run(c, NULL, "REQUEST_METHOD=POST",
                                          "HTTP_HOST=" HOST, hdr, NULL), "");
}

/* ---- next and the redirect ------------------------------------------- */

static void
test_session_next_valid(void)
{
    static const char *const good[] = {
        "/", "/app/", "/app/page?x=1&y=2", "/a/b/c.html#frag",
        "/%7Euser/", "/search?q=a%20b", "/path/with:colon",
        "/a//b", "/a/\xc3\xa9t\xc3\xa9", "/?next=//evil.com",
        "/a/%2F/b", "/.well-known/x", "/a?b=http://evil.com",
        "/x%", "/x%zz",
    };
    static const char *const evil[] = {
        "", "//evil.com", "//evil.com/", "///evil.com", "/\\evil.com",
        "\\\\evil.com", "/\\/evil.com", "https://evil.com",
        "http://evil.com/", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
        "data:text/html,x", "evil.com", "./x", "../x", "?x=1",
        "/%2f%2fevil.com", "/%2F%2Fevil.com", "/%2fevil.com",
        "/%5cevil.com", "/%5Cevil.com", "/%252f%252fevil.com",
        "/%09/evil.com", "/\t/evil.com", "/\r\n/evil.com",
        "/app\r\nSet-Cookie: x=1", "/app\nLocation: //evil.com",
        "/a\\b", "/%00", "/a%0d%0aX: y", "/\x7f", " /app", "/app\x01",
        "%2f%2fevil.com", "/%2525252f%2525252fevil.com",
        "/%252525252525252f%252525252525252fevil",
        "\x2f\x2f" "evil.com", "/\\", "//", "/%25252f",
    };
    char out[64], big[5000];
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        int ok = bnc_session_next_valid(good[i], out, sizeof(out));

        if (!ok)
            fprintf(stderr, "\nnext refused: [%s]\n", good[i]);
        CU_ASSERT_EQUAL(ok, 1);
        CU_ASSERT_STRING_EQUAL(out, ok ? good[i] : "/");
    }
    for (i = 0; i < sizeof(evil) / sizeof(evil[0]); i++) {
        int ok = bnc_session_next_valid(evil[i], out, sizeof(out));

        if (ok)
            fprintf(stderr, "\nnext accepted: [%s]\n", evil[i]);
        CU_ASSERT_EQUAL(ok, 0);
        CU_ASSERT_STRING_EQUAL(out, "/");
    }
    CU_ASSERT_EQUAL(bnc_session_next_valid(NULL, out, sizeof(out)), 0);
    CU_ASSERT_STRING_EQUAL(out, "/");
    /* Bounded by cap and by our own limit. */
    memset(big, 'a', sizeof(big) - 1);
    big[0] = '/';
    big[sizeof(big) - 1] = '\0';
    CU_ASSERT_EQUAL(bnc_session_next_valid(big, out, sizeof(out)), 0);
    big[63] = '\0';
    CU_ASSERT_EQUAL(bnc_session_next_valid(big, out, sizeof(out)), 1);
    big[63] = 'a';
    big[64] = '\0';
    CU_ASSERT_EQUAL(bnc_session_next_valid(big, out, sizeof(out)), 0);
    {
        char *o = bnc_malloc(sizeof(big));

        big[64] = 'a';
        CU_ASSERT_EQUAL(bnc_session_next_valid(big, o, sizeof(big)), 0);
        big[2048] = '\0';
        CU_ASSERT_EQUAL(bnc_session_next_valid(big, o, sizeof(big)), 1);
        free(o);
    }
}

static void
test_session_redirect_rules(void)
{
    const struct bnc_session_conf *c = bnc_session_conf_of(bnc_t_rt);
    struct bnc_request req;
    struct bnc_buf loc;
    char *env[8];

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
#define REQ(a, b, d, e)                                                     \
    do {                                                                    \
        env[0] = "FCGI_ROLE=AUTHORIZER";                                    \
        env[1] = (char *)(a);                                               \
        env[2] = (char *)(b);                                               \
        env[3] = (char *)(d);                                               \
        env[4] = (char *)(e);                                               \
        env[5] = NULL;                                                      \
        bnc_request_init(&req, env);                                        \
    } while (0)
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/app/?a=1&b=%2F", HTML, NULL);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 1);
    bnc_buf_init(&loc);
    bnc_session_login_location(c, &req, &loc);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&loc),
                           "/auth/login?next=/app/%3Fa%3D1%26b%3D%252F");
    REQ("REQUEST_METHOD=HEAD", "REQUEST_URI=/x", "HTTP_ACCEPT=TEXT/HTML",
        NULL);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 1);
    REQ("REQUEST_METHOD=POST", "REQUEST_URI=/x", HTML, NULL);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 0);
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/x", "HTTP_ACCEPT=application/json",
        NULL);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 0);
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/x", NULL, NULL);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 0);
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/x", HTML,
        "HTTP_X_REQUESTED_WITH=XMLHttpRequest");
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 0);
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/x", HTML,
        "HTTP_SEC_FETCH_MODE=cors");
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 0);
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/x", HTML,
        "HTTP_SEC_FETCH_MODE=navigate");
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 1);
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/auth/login?next=/x", HTML, NULL);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(c, &req), 0);
    /* A hostile URI is not carried: next falls back to "/". */
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=//evil.com/x", HTML, NULL);
    bnc_buf_reset(&loc);
    bnc_session_login_location(c, &req, &loc);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&loc), "/auth/login?next=/");
    /* Off in the second runtime. */
    REQ("REQUEST_METHOD=GET", "REQUEST_URI=/x", HTML, NULL);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(
                        bnc_session_conf_of(bnc_t_rt_token), &req), 0);
    CU_ASSERT_EQUAL(bnc_session_wants_redirect(NULL, &req), 0);
#undef REQ
    bnc_buf_cleanup(&loc);
}

/* ---- the scheme through bnc_decide ----------------------------------- */

static void
test_session_scheme_valid(void)
{
    int64_t now = (int64_t)time(NULL), exp = now + 3600;
    char key[44], cookie[128], want[64];
    struct bnc_decision d;
    struct bnc_session s;
    char *out;

    bnc_t_user("alice");
    bnc_t_key("alice-session", key);
    bnc_t_session("ss_aaaaaaaaaaaaa", key, "alice", now, exp, 7200,
                  NULL);
    snprintf(cookie, sizeof(cookie), "csrftoken=x; sessionid=%s; a=b", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200,
                 "Variable-REMOTE_USER: alice\r\n", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200,
                 "Variable-AUTH_TYPE: Session\r\n", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200,
                 "Variable-AUTH_CREDENTIAL_ID: ss_aaaaaaaaaaaaa\r\n", NULL);
    snprintf(want, sizeof(want), "Variable-AUTH_EXPIRES: %lld\r\n",
             (long long)exp);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200, want,
                 NULL);
    bnc_t_expect(bnc_t_rt, "nginx", "GET", "/app/", cookie, 200,
                 "X-Remote-User: alice", NULL);
    /* Quoted cookie values are the same session. */
    snprintf(cookie, sizeof(cookie), "sessionid=\"%s\"", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200, NULL,
                 NULL);
    /* The secret id is never echoed nor logged. */
    {
        struct bnc_request req;
        struct bnc_response resp;
        struct bnc_buf b;
        char ck[128];
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                       "REQUEST_URI=/app/", "HTTP_HOST=" HOST, ck, NULL};

        snprintf(ck, sizeof(ck), "HTTP_COOKIE=sessionid=%s", key);
        bnc_request_init(&req, env);
        bnc_response_init(&resp);
        bnc_buf_init(&b);
        bnc_decide(bnc_t_rt, &req, &d);
        bnc_decision_respond(bnc_t_rt, &req, &d, &resp);
        bnc_response_serialize(&resp, &b);
        out = bnc_strdup(bnc_buf_str(&b));
        CU_ASSERT_EQUAL(d.status, 200);
        CU_ASSERT_STRING_EQUAL(d.scheme, "session");
        CU_ASSERT_PTR_NULL(strstr(out, key));
        CU_ASSERT_PTR_NULL(strstr(d.reason, key));
        CU_ASSERT_PTR_NOT_NULL(strstr(d.reason, "ss_aaaaaaaaaaaaa"));
        bnc_buf_cleanup(&b);
        bnc_response_cleanup(&resp);
        bnc_decision_cleanup(&d);
    }
    free(out);
    /* Use was recorded. */
    memset(&s, 0, sizeof(s));
    CU_ASSERT_EQUAL(bnc_store_session_get_by_id(bnc_t_store,
                                                "ss_aaaaaaaaaaaaa", &s),
                    BNC_STORE_OK);
    CU_ASSERT(s.last_seen >= now);
    bnc_session_cleanup(&s);
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

static void
bnc_t_expect_invalid(const char *cookie, const char *body)
{
    /* API client: 401 without a challenge (DRF's session class has none). */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 401, body,
                 NULL);
    /* Browser navigation: to the login page, coming back here. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/x?y=1", cookie, 302,
                 "Location: /auth/login?next=/app/x%3Fy%3D1\r\n", HTML,
                 NULL);
    /* nginx turns 302 into 500: a plain 401 there. */
    bnc_t_expect(bnc_t_rt, "nginx", "GET", "/app/", cookie, 401, body, HTML,
                 NULL);
    /* Even an anonymous path refuses a bad credential (DRF). */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/pub/", cookie, 401, body,
                 NULL);
}

static void
test_session_scheme_invalid(void)
{
    int64_t now = (int64_t)time(NULL), nb;
    char key[44], cookie[160];
    struct bnc_decision d;

    bnc_t_user("bob");
    /* Expired. */
    bnc_t_key("expired", key);
    bnc_t_session("ss_eeeeeeeeeeeee", key, "bob", now, now - 1, 0,
                  NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect_invalid(cookie, INVALID);
    /* Idle too long (1 s idle timeout, last seen 2 s ago). */
    bnc_t_key("idle", key);
    bnc_t_session("ss_iiiiiiiiiiiii", key, "bob", now, now + 3600, 1, NULL);
    sleep(2);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect_invalid(cookie, INVALID);
    now = (int64_t)time(NULL);
    /* Idle timeout 0 = none. */
    bnc_t_key("noidle", key);
    bnc_t_session("ss_nnnnnnnnnnnnn", key, "bob", now, now + 3600, 0, NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200, NULL,
                 NULL);
    /* Unknown (forged) id of the right shape. */
    bnc_t_key("forged", key);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect_invalid(cookie, INVALID);
    /* Wrong shape: refused without a store read. */
    bnc_t_expect_invalid("sessionid=short", INVALID);
    bnc_t_expect_invalid("sessionid=" "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!"
                         "!!!!!!", INVALID);
    bnc_t_expect_invalid("sessionid=\"unterminated", INVALID);
    /* Two different session cookies: refused, not guessed. */
    snprintf(cookie, sizeof(cookie), "sessionid=%s; sessionid=other", key);
    bnc_t_expect_invalid(cookie, INVALID);
    /* An empty value is a cleared cookie: anonymous. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/pub/", "sessionid=", 200,
                 NULL, NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", "sessionid=", 401,
                 "not_authenticated", NULL);
    /* Revoked. */
    bnc_t_key("revoked", key);
    bnc_t_session("ss_rrrrrrrrrrrrr", key, "bob", now, now + 3600, 0,
                  NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200, NULL,
                 NULL);
    CU_ASSERT_EQUAL(bnc_store_session_revoke(bnc_t_store,
                                             "ss_rrrrrrrrrrrrr"),
                    BNC_STORE_OK);
    bnc_t_expect_invalid(cookie, INVALID);
    /* not_before after the session started (password change). */
    bnc_t_key("notbefore", key);
    bnc_t_session("ss_bbbbbbbbbbbbb", key, "bob", now, now + 3600, 0,
                  NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200, NULL,
                 NULL);
    nb = now + 1;
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "bob",
                                          bnc_t_edit_not_before, &nb,
                                          BNC_STORE_SYNC), BNC_STORE_OK);
    bnc_t_expect_invalid(cookie, INVALID);
    /* One started in not_before's own second may predate the change
     * (whole seconds): void too. */
    bnc_t_key("samesec", key);
    bnc_t_session("ss_sssssssssssss", key, "bob", now + 1, now + 3600, 0,
                  NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect_invalid(cookie, INVALID);
    /* A session started after it still works. */
    bnc_t_key("after", key);
    bnc_t_session("ss_fffffffffffff", key, "bob", now + 2, now + 3600, 0,
                  NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200, NULL,
                 NULL);
    /* User disabled. */
    CU_ASSERT_EQUAL(bnc_store_user_modify(bnc_t_store, "bob",
                                          bnc_t_edit_disable, NULL,
                                          BNC_STORE_SYNC), BNC_STORE_OK);
    bnc_t_expect_invalid(cookie, INACTIVE);
    /* User deleted (with or without its sessions: never allowed). */
    bnc_t_user("carol");
    bnc_t_key("carol", key);
    /* Its own clock: carol was created after "now" was taken, and a
     * session older than its user is refused by design. */
    bnc_t_session("ss_ccccccccccccc", key, "carol", (int64_t)time(NULL),
                  (int64_t)time(NULL) + 3600, 0, NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200, NULL,
                 NULL);
    CU_ASSERT_EQUAL(bnc_store_user_del(bnc_t_store, "carol"), BNC_STORE_OK);
    {
        struct bnc_request req;
        struct bnc_response resp;
        char ck[200];
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                       "REQUEST_URI=/app/", ck, NULL};

        snprintf(ck, sizeof(ck), "HTTP_COOKIE=%s", cookie);
        bnc_request_init(&req, env);
        bnc_response_init(&resp);
        bnc_decide(bnc_t_rt, &req, &d);
        CU_ASSERT_EQUAL(d.status, 401);
        CU_ASSERT_EQUAL(d.outcome, BNC_OUT_DENY);
        bnc_decision_respond(bnc_t_rt, &req, &d, &resp);
        /* No WWW-Authenticate for a session failure. */
        CU_ASSERT_PTR_NULL(strstr(bnc_buf_str(&resp.headers),
                                  "WWW-Authenticate"));
        bnc_response_cleanup(&resp);
        bnc_decision_cleanup(&d);
    }
}

static void
test_session_scheme_csrf(void)
{
    int64_t now = (int64_t)time(NULL);
    char key[44], cookie[128], tok[44], hdr[80];

    bnc_t_user("dave");
    bnc_t_key("dave", key);
    bnc_t_session("ss_ddddddddddddd", key, "dave", now, now + 3600, 0, NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_csrf(tok);
    snprintf(hdr, sizeof(hdr), "HTTP_X_CSRFTOKEN=%s", tok);
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 403,
                 "{\"detail\": \"CSRF Failed: CSRF token missing.\", "
                 "\"code\": \"csrf_failed\"}", NULL);
    bnc_t_expect(bnc_t_rt, "nginx", "DELETE", "/app/", cookie, 403,
                 "CSRF Failed: CSRF token missing.", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 200,
                 "Variable-AUTH_TYPE: Session", hdr, NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "PUT", "/app/", cookie, 200, NULL,
                 hdr, "HTTP_ORIGIN=http://" HOST, NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "PATCH", "/app/", cookie, 200, NULL,
                 hdr, "HTTP_ORIGIN=https://app.example.org", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 403,
                 "\"CSRF Failed: Origin checking failed - https://evil."
                 "example does not match any trusted origins.\"", hdr,
                 "HTTP_ORIGIN=https://evil.example", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 403,
                 "CSRF Failed: Referer checking failed - no Referer.", hdr,
                 "HTTPS=on", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 200, NULL,
                 hdr, "HTTPS=on", "HTTP_REFERER=https://" HOST "/form",
                 NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 403,
                 "CSRF Failed: CSRF token from the 'X-Csrftoken' HTTP header "
                 "has incorrect length.", "HTTP_X_CSRFTOKEN=abc", NULL);
    /* JSON-escaped in the detail, cut, never a header break. */
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 403,
                 "Origin checking failed - https://\\\"q\\\"", hdr,
                 "HTTP_ORIGIN=https://\"q\"", NULL);
    /* A CSRF failure is never turned into a login redirect. */
    bnc_t_expect(bnc_t_rt, "authorizer", "POST", "/app/", cookie, 403, NULL,
                 HTML, NULL);
    /* Safe methods need no token. */
    bnc_t_expect(bnc_t_rt, "authorizer", "OPTIONS", "/app/", cookie, 200,
                 NULL, NULL);
}

static void
test_session_no_credentials(void)
{
    /* Browser: 302 to the login page, with Cache-Control and a body. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/page", NULL, 302,
                 "Location: /auth/login?next=/app/page\r\n", HTML, NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/page", NULL, 302,
                 "Cache-Control: no-store\r\n", HTML, NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/page", NULL, 302,
                 "\"code\": \"login_required\"", HTML, NULL);
    /* API clients and nginx: 401 with the other schemes' challenges. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/page", NULL, 401,
                 "WWW-Authenticate: Token\r\n", NULL);
    bnc_t_expect(bnc_t_rt, "nginx", "GET", "/app/page", NULL, 401,
                 "Authentication credentials were not provided.", HTML, NULL);
    /* Apache's authenticator role never redirects. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/page", NULL, 401,
                 NULL, HTML, "FCGI_APACHE_ROLE=AUTHENTICATOR",
                 "REMOTE_USER=x", "REMOTE_PASSWD=y", NULL);
    /* A wrong password is an API error: no redirect. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/page", NULL, 401,
                 "Invalid username/password.", HTML,
                 "HTTP_AUTHORIZATION=Basic bm9ib2R5Om5vcGU=", NULL);
    /* redirect_browsers = no */
    bnc_t_expect(bnc_t_rt_token, "authorizer", "GET", "/app/page", NULL, 401,
                 NULL, HTML, NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/pub/x", NULL, 200, NULL,
                 HTML, NULL);
}

static void
test_session_scheme_order_and_roles(void)
{
    int64_t now = (int64_t)time(NULL);
    char key[44], cookie[128], sidc[128], tok[44], hdr[80];
    struct bnc_token t;

    bnc_t_user("erin");
    bnc_t_key("erin", key);
    bnc_t_session("ss_xxxxxxxxxxxxx", key, "erin", now, now + 3600, 0, NULL);
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    snprintf(sidc, sizeof(sidc), "sid=%s", key);
    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "tk_eeeeeeeeeeeee");
    bnc_sha256("erin-token-key", 14, t.digest);
    t.user = (char *)"erin";
    t.created = now;
    CU_ASSERT_EQUAL_FATAL(bnc_store_token_add(bnc_t_store, &t), BNC_STORE_OK);

    /* session first: a valid cookie wins, the token is never looked at. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200,
                 "Variable-AUTH_TYPE: Session", "HTTP_AUTHORIZATION=Token "
                 "bogus", NULL);
    /* A bad cookie fails the request; no fall-through to a good token. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", "sessionid=bad",
                 401, INVALID, "HTTP_AUTHORIZATION=Token erin-token-key",
                 NULL);
    /* No cookie: the token decides. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", NULL, 200,
                 "Variable-AUTH_TYPE: Token",
                 "HTTP_AUTHORIZATION=Token erin-token-key", NULL);
    /* token first (rt_token, cookie "sid"): the token wins. */
    bnc_t_expect(bnc_t_rt_token, "authorizer", "GET", "/app/", "sid=bad",
                 200, "Variable-AUTH_TYPE: Token",
                 "HTTP_AUTHORIZATION=Token erin-token-key", NULL);
    bnc_t_expect(bnc_t_rt_token, "authorizer", "GET", "/app/", sidc, 200,
                 "Variable-AUTH_TYPE: Session", NULL);
    /* The other runtime's cookie name is not ours. */
    bnc_t_expect(bnc_t_rt_token, "authorizer", "GET", "/app/", cookie, 401,
                 "not_authenticated", NULL);
    /* Its configured CSRF header. */
    bnc_t_csrf(tok);
    snprintf(hdr, sizeof(hdr), "HTTP_X_MY_CSRF=%s", tok);
    bnc_t_expect(bnc_t_rt_token, "authorizer", "POST", "/app/", sidc, 200,
                 NULL, hdr, NULL);
    bnc_t_expect(bnc_t_rt_token, "authorizer", "POST", "/app/", sidc, 403,
                 "CSRF token missing.", NULL);
    /* Apache's authenticator role: a cookie vouches for no password. */
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 401, NULL,
                 "FCGI_APACHE_ROLE=AUTHENTICATOR", "REMOTE_USER=erin",
                 "REMOTE_PASSWD=x", NULL);
    /* Oversized Cookie header: 400 before any scheme. */
    {
        size_t n = BNC_PARAM_MAX + 100;
        char *big = bnc_malloc(n + 1);

        memset(big, 'a', n);
        memcpy(big, "sessionid=", 10);
        big[n] = '\0';
        bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", big, 400,
                     "Request header too large.", NULL);
        free(big);
    }
}

static void
test_session_device_binding(void)
{
    int64_t now = (int64_t)time(NULL);
    char key[44], cookie[128];

    bnc_t_user("fred");
    bnc_t_key("fred-device", key);
    bnc_t_session("ss_ggggggggggggg", key, "fred", now, now + 3600, 0,
                  "phone-1");
    snprintf(cookie, sizeof(cookie), "sessionid=%s", key);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 401,
                 INVALID, NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 401,
                 INVALID, "HTTP_X_DEVICE_ID=phone-2", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 401,
                 INVALID, "HTTP_X_DEVICE_ID=phone-1 ", NULL);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", cookie, 200,
                 "Variable-REMOTE_USER: fred", "HTTP_X_DEVICE_ID=phone-1",
                 NULL);
}

/* Set-Cookie value of name from serialized headers, into out. */
static int
bnc_t_set_cookie(const char *headers, const char *name, char *out,
                 size_t cap)
{
    char pfx[80];
    const char *p, *e;

    snprintf(pfx, sizeof(pfx), "Set-Cookie: %s=", name);
    p = strstr(headers, pfx);
    if (p == NULL)
        return 0;
    p += strlen(pfx);
    e = strchr(p, ';');
    if (e == NULL || (size_t)(e - p) >= cap)
        return 0;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 1;
}

static void
test_session_start_and_end(void)
{
    const struct bnc_session_conf *c = bnc_session_conf_of(bnc_t_rt);
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_session s;
    struct bnc_user u;
    struct bnc_result res;
    char key[64], key2[64], csrf[64], csrf_out[44], ck[128], hdr[100];
    const char *h;
    char *env[] = {"FCGI_ROLE=RESPONDER", "REQUEST_METHOD=POST",
                   "REQUEST_URI=/auth/login", "REMOTE_ADDR=192.0.2.55",
                   "HTTP_HOST=" HOST, "HTTPS=on",
                   "HTTP_USER_AGENT=Mozilla/5.0 \x01test", NULL};
    char *env2[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                    "REQUEST_URI=/app/", ck, NULL};
    char *env3[] = {"FCGI_ROLE=RESPONDER", "REQUEST_METHOD=POST",
                    "REQUEST_URI=/auth/logout", "HTTP_HOST=" HOST, ck, hdr,
                    NULL};

    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    bnc_t_user("gina");
    memset(&u, 0, sizeof(u));
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(bnc_t_store, "gina", &u),
                          BNC_STORE_OK);
    bnc_request_init(&req, env);
    bnc_response_init(&resp);
    CU_ASSERT_EQUAL(bnc_session_start(c, bnc_t_store, &u, &req, &resp,
                                      csrf_out), 0);
    h = bnc_buf_str(&resp.headers);
    CU_ASSERT_FATAL(bnc_t_set_cookie(h, "sessionid", key, sizeof(key)));
    CU_ASSERT_FATAL(bnc_t_set_cookie(h, "csrftoken", csrf, sizeof(csrf)));
    CU_ASSERT_EQUAL(strlen(key), 43);
    CU_ASSERT_STRING_EQUAL(csrf, csrf_out);
    CU_ASSERT_STRING_NOT_EQUAL(key, csrf);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "; Max-Age=1209600; Secure; HttpOnly; "
                                     "SameSite=Lax\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "csrftoken="));
    {
        const char *p = strstr(h, "Set-Cookie: csrftoken=");
        const char *e = p != NULL ? strstr(p, "\r\n") : NULL;

        CU_ASSERT(p != NULL && e != NULL);
        if (p != NULL && e != NULL) {
            char line[200];

            snprintf(line, sizeof(line), "%.*s", (int)(e - p), p);
            CU_ASSERT_PTR_NULL(strstr(line, "HttpOnly"));
            CU_ASSERT_PTR_NOT_NULL(strstr(line, "Secure"));
        }
    }
    bnc_response_cleanup(&resp);
    /* A new id every time (no fixation). */
    bnc_response_init(&resp);
    CU_ASSERT_EQUAL(bnc_session_start(c, bnc_t_store, &u, &req, &resp, NULL),
                    0);
    CU_ASSERT(bnc_t_set_cookie(bnc_buf_str(&resp.headers), "sessionid", key2,
                               sizeof(key2)));
    CU_ASSERT_STRING_NOT_EQUAL(key, key2);
    bnc_response_cleanup(&resp);

    /* The cookie authenticates; the stored record says who and where. */
    snprintf(ck, sizeof(ck), "HTTP_COOKIE=sessionid=%s", key);
    bnc_request_init(&req, env2);
    memset(&res, 0, sizeof(res));
    CU_ASSERT_EQUAL(bnc_session_lookup(c, bnc_t_store, &req, &s, NULL, &res),
                    BNC_ALLOW);
    CU_ASSERT_STRING_EQUAL(s.user, "gina");
    CU_ASSERT_STRING_EQUAL(s.client, "192.0.2.55");
    CU_ASSERT_STRING_EQUAL(s.user_agent, "Mozilla/5.0 ?test");
    CU_ASSERT_EQUAL(strncmp(s.id, "ss_", 3), 0);
    CU_ASSERT_EQUAL(strlen(s.id), 16);
    CU_ASSERT_EQUAL(s.idle_timeout, 7200);
    CU_ASSERT(s.expires - s.created == 14 * 86400);
    {
        char t2[44];

        bnc_csrf_token(&s, t2);
        CU_ASSERT_STRING_EQUAL(t2, csrf);
    }
    bnc_result_cleanup(&res);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", ck + 12, 200,
                 "Variable-REMOTE_USER: gina", NULL);
    /* Logout: store delete + cookies cleared. */
    snprintf(hdr, sizeof(hdr), "HTTP_X_CSRFTOKEN=%s", csrf);
    bnc_request_init(&req, env3);
    bnc_response_init(&resp);
    CU_ASSERT_EQUAL(bnc_session_end(c, bnc_t_store, &s, &req, &resp), 0);
    h = bnc_buf_str(&resp.headers);
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "Set-Cookie: sessionid=; Path=/; "
                                     "Max-Age=0; HttpOnly; SameSite=Lax\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(h, "Set-Cookie: csrftoken=; Path=/; "
                                     "Max-Age=0; SameSite=Lax\r\n"));
    bnc_response_cleanup(&resp);
    bnc_session_cleanup(&s);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", ck + 12, 401,
                 INVALID, NULL);
    /* The second session is untouched by the first one's logout. */
    snprintf(ck, sizeof(ck), "HTTP_COOKIE=sessionid=%s", key2);
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", ck + 12, 200, NULL,
                 NULL);
    /* Revoking all of a user's sessions. */
    {
        size_t n = 0;

        CU_ASSERT_EQUAL(bnc_store_session_revoke_user(bnc_t_store, "gina",
                                                      &n), BNC_STORE_OK);
        CU_ASSERT_EQUAL(n, 1);
    }
    bnc_t_expect(bnc_t_rt, "authorizer", "GET", "/app/", ck + 12, 401,
                 INVALID, NULL);
    bnc_user_cleanup(&u);
}

/* ---- configuration --------------------------------------------------- */

static void
bnc_t_conf_bad(const char *section_body, const char *needle)
{
    char text[1024];
    struct bnc_runtime *rt;
    struct bnc_diag d;
    size_t i;
    int seen = 0;

    snprintf(text, sizeof(text), "[auth]\nschemes = session\n[session]\n%s",
             section_body);
    bnc_diag_init(&d);
    rt = bnc_t_runtime(text, &d);
    CU_ASSERT_PTR_NULL(rt);
    for (i = 0; i < d.n; i++)
        if (strstr(d.lines[i], needle) != NULL &&
            strstr(d.lines[i], "test.conf:4:") != NULL)
            seen = 1;
    if (!seen) {
        fprintf(stderr, "\nwanted '%s' at test.conf:4 for:\n%s", needle,
                section_body);
        bnc_diag_print(&d, stderr);
    }
    CU_ASSERT(seen);
    bnc_runtime_release(rt);
    bnc_diag_cleanup(&d);
}

static void
test_session_config(void)
{
    struct bnc_runtime *rt;
    struct bnc_diag d;
    const struct bnc_session_conf *c;
    static const char ok[] =
        "[auth]\nschemes = session\n[session]\n"
        "cookie_name = my_sid\ncsrf_cookie_name = my_csrf\n"
        "csrf_header = X-XSRF-Token\ncookie_path = /app\n"
        "cookie_domain = .example.org\nsecure = always\n"
        "idle_timeout = 0\nlifetime = 1d\n"
        "trusted_origins = https://a.example.org:8443, http://[::1]:8080\n"
        "login_url = /login?from=bouncer\nredirect_browsers = no\n";

    bnc_diag_init(&d);
    rt = bnc_t_runtime(ok, &d);
    bnc_diag_print(&d, stderr);
    CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
    c = bnc_session_conf_of(rt);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->cookie_name, "my_sid");
    CU_ASSERT_STRING_EQUAL(c->csrf_cookie_name, "my_csrf");
    CU_ASSERT_STRING_EQUAL(c->csrf_header_param, "HTTP_X_XSRF_TOKEN");
    CU_ASSERT_STRING_EQUAL(c->csrf_form_field, "csrfmiddlewaretoken");
    CU_ASSERT_STRING_EQUAL(c->cookie_path, "/app");
    CU_ASSERT_STRING_EQUAL(c->cookie_domain, ".example.org");
    CU_ASSERT_EQUAL(c->secure_always, 1);
    CU_ASSERT_EQUAL(c->idle_timeout, 0);
    CU_ASSERT_EQUAL(c->lifetime, 86400);
    CU_ASSERT_STRING_EQUAL(c->trusted_origins[1], "http://[::1]:8080");
    CU_ASSERT_PTR_NULL(c->trusted_origins[2]);
    CU_ASSERT_STRING_EQUAL(c->login_url, "/login?from=bouncer");
    CU_ASSERT_EQUAL(c->redirect_browsers, 0);
    CU_ASSERT_STRING_EQUAL(c->device_param, "HTTP_X_DEVICE_ID");
    {
        struct bnc_request req;
        struct bnc_buf loc;
        char *env[] = {"REQUEST_URI=/x", NULL};

        bnc_request_init(&req, env);
        bnc_buf_init(&loc);
        bnc_session_login_location(c, &req, &loc);
        CU_ASSERT_STRING_EQUAL(bnc_buf_str(&loc),
                               "/login?from=bouncer&next=/x");
        bnc_buf_cleanup(&loc);
    }
    bnc_runtime_release(rt);
    bnc_diag_cleanup(&d);
    /* Defaults. */
    c = bnc_session_conf_of(bnc_t_rt);
    CU_ASSERT_STRING_EQUAL(c->cookie_name, "sessionid");
    CU_ASSERT_STRING_EQUAL(c->csrf_cookie_name, "csrftoken");
    CU_ASSERT_STRING_EQUAL(c->csrf_header_param, "HTTP_X_CSRFTOKEN");
    CU_ASSERT_STRING_EQUAL(c->cookie_path, "/");
    CU_ASSERT_PTR_NULL(c->cookie_domain);
    CU_ASSERT_EQUAL(c->secure_always, 0);
    CU_ASSERT_EQUAL(c->idle_timeout, 7200);
    CU_ASSERT_EQUAL(c->lifetime, 14 * 86400);
    CU_ASSERT_STRING_EQUAL(c->login_url, "/auth/login");
    CU_ASSERT_EQUAL(c->redirect_browsers, 1);

    bnc_t_conf_bad("cookie_name = bad name\n", "cookie_name");
    bnc_t_conf_bad("cookie_name = a;b\n", "cookie_name");
    bnc_t_conf_bad("csrf_cookie_name = sessionid\n", "must differ");
    bnc_t_conf_bad("csrf_header = X CSRF\n", "csrf_header");
    bnc_t_conf_bad("csrf_header = Cookie\n", "csrf_header");
    bnc_t_conf_bad("cookie_path = app\n", "cookie_path");
    bnc_t_conf_bad("cookie_path = /a;b\n", "cookie_path");
    bnc_t_conf_bad("cookie_domain = exa mple.org\n", "cookie_domain");
    bnc_t_conf_bad("cookie_domain = -bad.org\n", "cookie_domain");
    bnc_t_conf_bad("secure = yes\n", "secure");
    bnc_t_conf_bad("idle_timeout = forever\n", "idle_timeout");
    bnc_t_conf_bad("lifetime = 10s\n", "lifetime");
    bnc_t_conf_bad("lifetime = 1000d\n", "lifetime");
    bnc_t_conf_bad("trusted_origins = app.example.org\n", "trusted_origins");
    bnc_t_conf_bad("trusted_origins = https://a.example.org/\n",
                   "trusted_origins");
    bnc_t_conf_bad("trusted_origins = https://*.example.org\n",
                   "trusted_origins");
    bnc_t_conf_bad("trusted_origins = https://a.example.org:0\n",
                   "trusted_origins");
    bnc_t_conf_bad("trusted_origins = https://a.example.org:99999\n",
                   "trusted_origins");
    bnc_t_conf_bad("trusted_origins = ftp://a.example.org\n",
                   "trusted_origins");
    bnc_t_conf_bad("trusted_origins = https://a.org,,https://b.org\n",
                   "trusted_origins");
    bnc_t_conf_bad("trusted_origins = https://user@a.org\n",
                   "trusted_origins");
    bnc_t_conf_bad("login_url = //evil.com/login\n", "login_url");
    bnc_t_conf_bad("login_url = login\n", "login_url");
    bnc_t_conf_bad("login_url = javascript:alert(1)\n", "login_url");
    bnc_t_conf_bad("redirect_browsers = maybe\n", "redirect_browsers");
    bnc_t_conf_bad("cookie_nmae = x\n", "cookie_nmae");
}

static const struct bnc_unit_case cases[] = {
    {"test_session_cookie_find", test_session_cookie_find},
    {"test_session_cookie_find_long", test_session_cookie_find_long},
    {"test_session_cookie_format", test_session_cookie_format},
    {"test_session_csrf", test_session_csrf},
    {"test_session_next_valid", test_session_next_valid},
    {"test_session_redirect_rules", test_session_redirect_rules},
    {"test_session_scheme_valid", test_session_scheme_valid},
    {"test_session_scheme_invalid", test_session_scheme_invalid},
    {"test_session_scheme_csrf", test_session_scheme_csrf},
    {"test_session_no_credentials", test_session_no_credentials},
    {"test_session_scheme_order_and_roles",
     test_session_scheme_order_and_roles},
    {"test_session_device_binding", test_session_device_binding},
    {"test_session_start_and_end", test_session_start_and_end},
    {"test_session_config", test_session_config},
    {NULL, NULL}
};

BNC_UNIT_MAIN("session", cases, bnc_t_init, bnc_t_fini)
