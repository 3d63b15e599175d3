/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the bytes as a Cookie header (after a NUL: an
 * X-CSRFToken value and a "next" parameter) through bnc_cookie_find,
 * bnc_session_next_valid and the session scheme in the whole decision, on
 * a real store holding valid, expired, disabled-user and device-bound
 * sessions. Only exactly a valid session may be allowed, unsafe methods
 * only with its exact CSRF token; every response must be well formed and a
 * redirect must stay on the site. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* fuzz_common.h's Basic oracles and setup are not used here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "fuzz_common.h"
#include "auth/session.h"
#include "crypto/digest.h"
#include "util/b64.h"

static const char bnc_fuzz_cookie_conf[] =
    "[auth]\n"
    "schemes = session, basic\n"
    "[passwords]\n"
    "argon2_memory = 8\n"
    "argon2_time = 1\n"
    "[session]\n"
    "trusted_origins = https://trusted.example\n"
    /* The oracle knows valid credentials, not bans: no throttle here. */
    "[throttle]\n"
    "enabled = no\n"
    "[rules]\n"
    "/pub/ = anonymous\n"
    "/ = authenticated\n";

enum bnc_fuzz_ss_kind {
    BNC_FUZZ_SS_VALID,     /* always */
    BNC_FUZZ_SS_EXPIRED,   /* never */
    BNC_FUZZ_SS_DISABLED,  /* never: offuser */
    BNC_FUZZ_SS_DEVICE     /* with X-Device-Id "dev-1" exactly */
};

struct bnc_fuzz_ss {
    const char *id;
    const char *key;       /* the cookie value: 43 base64url characters */
    const char *user;
    enum bnc_fuzz_ss_kind kind;
    unsigned char csrf_byte;
};

static const struct bnc_fuzz_ss bnc_fuzz_sss[] = {
    {"ss_valid2222222", "valid-session-key_0123456789abcdefghijklmno",
     "fuzzuser", BNC_FUZZ_SS_VALID, 0x11},
    {"ss_expired22222", "expired-session-key_0123456789abcdefghijklm",
     "fuzzuser", BNC_FUZZ_SS_EXPIRED, 0x22},
    {"ss_disabled2222", "disabled-session-key_0123456789abcdefghijkl",
     "offuser", BNC_FUZZ_SS_DISABLED, 0x33},
    {"ss_device222222", "device-session-key_0123456789abcdefghijklmn",
     "fuzzuser", BNC_FUZZ_SS_DEVICE, 0x44},
};
#define BNC_FUZZ_NSS (sizeof(bnc_fuzz_sss) / sizeof(bnc_fuzz_sss[0]))

static void
bnc_fuzz_cookie_add(const struct bnc_fuzz_ss *k)
{
    int64_t now = (int64_t)time(NULL);
    struct bnc_session s;
    char id[BNC_SESSION_ID_LEN + 1];
    int rc;

    memset(&s, 0, sizeof(s));
    /* Ids are 16 characters: pad the readable prefix. */
    snprintf(id, sizeof(id), "%s22222222", k->id);
    memcpy(s.id, id, BNC_SESSION_ID_LEN);
    bnc_sha256(k->key, strlen(k->key), s.digest);
    s.user = (char *)k->user;
    s.created = now;
    s.last_seen = now;
    s.idle_timeout = 0;
    s.expires = k->kind == BNC_FUZZ_SS_EXPIRED ? now : now + 86400 * 365;
    memset(s.csrf, k->csrf_byte, sizeof(s.csrf));
    s.client = (char *)"192.0.2.1";
    s.user_agent = (char *)"fuzz \"agent\"";
    if (k->kind == BNC_FUZZ_SS_DEVICE)
        s.device = (char *)"dev-1";
    rc = bnc_store_session_add(bnc_fuzz_store, &s, BNC_STORE_SYNC);
    if (rc != BNC_STORE_OK)
        BNC_FUZZ_FAIL("cannot add session %s (store code %d)", k->id, rc);
}

static void
bnc_fuzz_cookie_setup(void)
{
    struct bnc_log_opts lo = {.target = BNC_LOG_STDERR,
                              .level = BNC_LOG_WARN,
                              .format = BNC_LOG_LOGFMT,
                              .ident = "fuzz"};
    struct bnc_store_opts so;
    struct bnc_conf *conf;
    struct bnc_diag d;
    struct bnc_err err;
    const char *tmp = getenv("TMPDIR");
    size_t i;

    if (bnc_fuzz_rt != NULL)
        return;
    bnc_log_setup(&lo);
    snprintf(bnc_fuzz_dir, sizeof(bnc_fuzz_dir), "%s/bnc-fuzz-cookie-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(bnc_fuzz_dir) == NULL)
        BNC_FUZZ_FAIL("mkdtemp %s failed", bnc_fuzz_dir);
    atexit(bnc_fuzz_teardown);
    memset(&so, 0, sizeof(so));
    so.path = bnc_fuzz_dir;
    so.cache_bytes = 4u << 20;
    so.create = 1;
    bnc_err_clear(&err);
    bnc_fuzz_store = bnc_store_open(&so, &err);
    if (bnc_fuzz_store == NULL)
        BNC_FUZZ_FAIL("store %s: %s", bnc_fuzz_dir, err.msg);
    for (i = 0; i < BNC_FUZZ_NACCOUNTS; i++)
        bnc_fuzz_add_user(&bnc_fuzz_accounts[i]);
    for (i = 0; i < BNC_FUZZ_NSS; i++)
        bnc_fuzz_cookie_add(&bnc_fuzz_sss[i]);
    bnc_diag_init(&d);
    conf = bnc_conf_load_mem("fuzz-cookie.conf", bnc_fuzz_cookie_conf,
                             strlen(bnc_fuzz_cookie_conf), &d);
    if (conf != NULL)
        bnc_fuzz_rt = bnc_runtime_new(conf, bnc_fuzz_store, &d);
    if (bnc_fuzz_rt == NULL || d.nerrors > 0) {
        bnc_diag_print(&d, stderr);
        BNC_FUZZ_FAIL("fuzz config or runtime refused");
    }
    bnc_diag_cleanup(&d);
}

/* ---- independent oracles ----------------------------------------------- */

/* The session the "sessionid" cookie(s) in h name, parsed another way:
 * copy each piece, trim, unquote. NULL when there is none, when values
 * differ, when a quote is malformed, when the value is empty, or when it
 * is no session of ours. */
static const struct bnc_fuzz_ss *
bnc_fuzz_cookie_oracle(const char *h)
{
    char *first = NULL;
    int bad = 0;
    size_t i;

    while (*h != '\0' && !bad) {
        size_t n = strcspn(h, ";"), vl;
        char *piece = malloc(n + 1), *k, *v, *eq, *e;

        if (piece == NULL)
            BNC_FUZZ_FAIL("out of memory");
        memcpy(piece, h, n);
        piece[n] = '\0';
        h += n;
        if (*h == ';')
            h++;
        eq = strchr(piece, '=');
        if (eq == NULL) {
            free(piece);
            continue;
        }
        *eq = '\0';
        k = piece + strspn(piece, " \t");
        for (e = k + strlen(k); e > k && (e[-1] == ' ' || e[-1] == '\t');)
            *--e = '\0';
        v = eq + 1 + strspn(eq + 1, " \t");
        for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t');)
            *--e = '\0';
        vl = strlen(v);
        if (strcmp(k, "sessionid") == 0 && vl > 0 && v[0] == '"') {
            if (vl < 2 || v[vl - 1] != '"' || memchr(v + 1, '"', vl - 2))
                bad = 1;
            v[vl - 1] = '\0';
            v++;
        }
        if (strcmp(k, "sessionid") == 0 && !bad) {
            if (first == NULL)
                first = strdup(v);
            else if (strcmp(first, v) != 0)
                bad = 1;
        }
        free(piece);
    }
    if (bad || first == NULL) {
        free(first);
        return NULL;
    }
    for (i = 0; i < BNC_FUZZ_NSS; i++)
        if (strcmp(first, bnc_fuzz_sss[i].key) == 0) {
            free(first);
            return &bnc_fuzz_sss[i];
        }
    free(first);
    return NULL;
}

static int
bnc_fuzz_cookie_may(const struct bnc_fuzz_ss *k, const char *device)
{
    if (k == NULL)
        return 0;
    switch (k->kind) {
    case BNC_FUZZ_SS_VALID:
        return 1;
    case BNC_FUZZ_SS_DEVICE:
        return device != NULL && strcmp(device, "dev-1") == 0;
    default:
        return 0;
    }
}

static int
bnc_fuzz_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = (char)(c | 0x20);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* A redirect target is safe when, however often it is percent-decoded,
 * it is a path on this site. */
static int
bnc_fuzz_next_safe(const char *s)
{
    char a[4096], b[4096];
    size_t n = strlen(s), i, o, round;

    if (n >= sizeof(a))
        return 0;
    memcpy(a, s, n + 1);
    for (round = 0; round < 16; round++) {
        if (a[0] != '/' || a[1] == '/' || a[1] == '\\')
            return 0;
        for (i = 0; a[i] != '\0'; i++)
            if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f || a[i] == '\\')
                return 0;
        for (i = 0, o = 0; a[i] != '\0'; i++) {
            if (a[i] == '%' && bnc_fuzz_hexval(a[i + 1]) >= 0 &&
                bnc_fuzz_hexval(a[i + 2]) >= 0) {
                b[o++] = (char)(bnc_fuzz_hexval(a[i + 1]) * 16 +
                                bnc_fuzz_hexval(a[i + 2]));
                i += 2;
            } else {
                b[o++] = a[i];
            }
        }
        b[o] = '\0';
        if (o == strlen(a) && memchr(b, '\0', o) == NULL)
            return 1;
        if (o != strlen(b))
            return 0; /* a %00 inside */
        memcpy(a, b, o + 1);
    }
    return 0;
}

/* ---- checks ------------------------------------------------------------ */

static void
bnc_fuzz_cookie_find_check(const char *s)
{
    const char *val = NULL;
    size_t len = 0, slen = strlen(s);
    int rc = bnc_cookie_find(s, "sessionid", &val, &len);

    if (rc < -1 || rc > 1)
        BNC_FUZZ_FAIL("bnc_cookie_find returned %d", rc);
    if (rc == 1 && (val < s || val + len > s + slen))
        BNC_FUZZ_FAIL("cookie value outside the header");
    if (rc == 1 && memchr(val, ';', len) != NULL)
        BNC_FUZZ_FAIL("cookie value spans a ';'");
}

static void
bnc_fuzz_next_check(const char *next)
{
    char out[BNC_PARAM_MAX + 1];
    int ok = bnc_session_next_valid(next, out, sizeof(out));

    if (ok && strcmp(out, next) != 0)
        BNC_FUZZ_FAIL("next accepted but not copied as is");
    if (!ok && strcmp(out, "/") != 0)
        BNC_FUZZ_FAIL("next refused but out is not '/'");
    if (ok && !bnc_fuzz_next_safe(next))
        BNC_FUZZ_FAIL("next accepted though it leaves the site: [%.200s]",
                      next);
}

/* The serialized response for d; status is what the client sees. */
static void
bnc_fuzz_cookie_respond(const struct bnc_request *req,
                        struct bnc_decision *d, int *status)
{
    struct bnc_response resp;
    struct bnc_buf out;
    char loc[8192], q[8192];

    bnc_response_init(&resp);
    bnc_buf_init(&out);
    bnc_decide(bnc_fuzz_rt, req, d);
    bnc_decision_respond(bnc_fuzz_rt, req, d, &resp);
    bnc_response_serialize(&resp, &out);
    *status = resp.status;
    if (resp.status == 302) {
        const char *s = bnc_buf_str(&out);
        const char *end = strstr(s, "\r\n\r\n");
        size_t i, o = 0;

        if (d->status != 401 || req->role == BNC_ROLE_NGINX)
            BNC_FUZZ_FAIL("302 for a %d decision or under nginx", d->status);
        if (end == NULL ||
            !bnc_fuzz_header(s, (size_t)(end - s) + 2, "Location", loc,
                             sizeof(loc)))
            BNC_FUZZ_FAIL("302 without Location");
        if (strncmp(loc, "/auth/login?next=", 17) != 0)
            BNC_FUZZ_FAIL("Location is not the login page: %.200s", loc);
        /* next, decoded once as the login form will, must stay local. */
        for (i = 17; loc[i] != '\0' && o + 1 < sizeof(q); i++) {
            if (loc[i] == '%' && bnc_fuzz_hexval(loc[i + 1]) >= 0 &&
                bnc_fuzz_hexval(loc[i + 2]) >= 0) {
                q[o++] = (char)(bnc_fuzz_hexval(loc[i + 1]) * 16 +
                                bnc_fuzz_hexval(loc[i + 2]));
                i += 2;
            } else if (strchr("&#?=%", loc[i]) != NULL) {
                BNC_FUZZ_FAIL("unescaped '%c' in next: %.200s", loc[i], loc);
            } else {
                q[o++] = loc[i];
            }
        }
        q[o] = '\0';
        if (!bnc_fuzz_next_safe(q))
            BNC_FUZZ_FAIL("redirect next leaves the site: %.200s", q);
    } else if (!(d->status == 401 && d->scheme != NULL)) {
        /* A failed session has no challenge (DRF); the rest is checked
         * like every other target's responses. */
        bnc_fuzz_check_response(&out, d, req->role == BNC_ROLE_NGINX);
    }
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
}

static char *
bnc_fuzz_cookie_param(const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    char *s = malloc(n + 1 + v + 1);

    if (s == NULL)
        BNC_FUZZ_FAIL("out of memory");
    memcpy(s, name, n);
    s[n] = '=';
    memcpy(s + n + 1, value, v + 1);
    return s;
}

/* One request through the scheme alone and the whole decision. */
static void
bnc_fuzz_cookie_run(char **envp, int must_allow, int request_ok)
{
    const struct bnc_scheme_inst *si = &bnc_fuzz_rt->schemes[0];
    struct bnc_request req;
    struct bnc_result res;
    struct bnc_decision d;
    enum bnc_verdict v;
    int status;

    bnc_request_init(&req, envp);
    memset(&res, 0, sizeof(res));
    v = si->scheme->check(si->state, &req, &res);
    if (v == BNC_ALLOW) {
        if (!must_allow)
            BNC_FUZZ_FAIL("session allowed what is not valid (reason: %s)",
                          res.reason);
        if (res.id.user == NULL || strcmp(res.id.user, "fuzzuser") != 0 ||
            res.id.auth_type == NULL ||
            strcmp(res.id.auth_type, "Session") != 0 ||
            res.id.cred_id == NULL || strncmp(res.id.cred_id, "ss_", 3) != 0)
            BNC_FUZZ_FAIL("session allowed with the wrong identity");
    } else if (v == BNC_DECLINED || v == BNC_DENY) {
        if (must_allow && request_ok)
            BNC_FUZZ_FAIL("session refused a valid request (verdict %d, "
                          "reason: %s)", (int)v, res.reason);
        if (v == BNC_DENY && (res.status < 400 || res.status > 499) &&
            res.status != 0)
            BNC_FUZZ_FAIL("session denied with status %d", res.status);
        if (v == BNC_DENY && (res.detail == NULL || res.code == NULL))
            BNC_FUZZ_FAIL("session denied without detail or code");
    } else {
        BNC_FUZZ_FAIL("session returned verdict %d (reason: %s)", (int)v,
                      res.reason);
    }
    bnc_result_cleanup(&res);

    bnc_fuzz_cookie_respond(&req, &d, &status);
    if (d.outcome == BNC_OUT_ALLOW &&
        (v != BNC_ALLOW || !d.authenticated ||
         strcmp(d.id.user, "fuzzuser") != 0))
        BNC_FUZZ_FAIL("decision allowed without the session's identity");
    if (d.outcome != BNC_OUT_ALLOW && v == BNC_ALLOW && request_ok)
        BNC_FUZZ_FAIL("decision refused what the session allowed: %s",
                      d.reason);
    bnc_decision_cleanup(&d);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bnc_fuzz_cookie_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, *tail = NULL, *cookie, *tokp = NULL, *uri;
    const struct bnc_fuzz_ss *k;
    char tok[44];
    const char *nul;
    int fits, ok;

    bnc_fuzz_cookie_setup();
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    nul = memchr(data, '\0', size);
    if (nul != NULL) {
        tail = s + (nul - (const char *)data) + 1;
        tokp = bnc_fuzz_cookie_param("HTTP_X_CSRFTOKEN", tail);
        bnc_fuzz_next_check(tail);
    }
    bnc_fuzz_next_check(s);
    bnc_fuzz_cookie_find_check(s);
    fits = strlen(s) <= BNC_PARAM_MAX;
    cookie = bnc_fuzz_cookie_param("HTTP_COOKIE", s);
    uri = bnc_fuzz_cookie_param("REQUEST_URI", tail != NULL && *tail == '/'
                                                    ? tail
                                                    : "/app/");
    k = bnc_fuzz_cookie_oracle(s);
    ok = bnc_fuzz_cookie_may(k, NULL);
    {
        /* lighttpd, a browser navigation: allowed, or 401/302. */
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET", uri,
                       "REMOTE_ADDR=192.0.2.1", "HTTP_HOST=www.example",
                       "HTTP_ACCEPT=text/html", cookie, NULL};

        /* A path of the input's own may be refused as malformed first. */
        bnc_fuzz_cookie_run(env, ok, fits && strcmp(uri + 12, "/app/") == 0);
    }
    {
        /* nginx, with the device header: never a 302. */
        char *env[] = {"FCGI_ROLE=RESPONDER", "BOUNCER_MODE=authorize",
                       "REQUEST_METHOD=GET", "REQUEST_URI=/app/",
                       "REMOTE_ADDR=::1", "HTTP_ACCEPT=text/html",
                       "HTTP_X_DEVICE_ID=dev-1", cookie, NULL};

        bnc_fuzz_cookie_run(env, bnc_fuzz_cookie_may(k, "dev-1"), fits);
    }
    {
        /* An unsafe method: allowed only with the session's exact CSRF
         * token (and a same-site or absent Origin on plain HTTP). */
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=POST",
                       "REQUEST_URI=/app/", "REMOTE_ADDR=192.0.2.1",
                       "HTTP_HOST=www.example", cookie, tokp, NULL};
        int tok_ok = 0;

        if (k != NULL && tail != NULL) {
            unsigned char b[32];

            memset(b, k->csrf_byte, sizeof(b));
            bnc_b64url_encode(b, sizeof(b), tok);
            tok_ok = strcmp(tail, tok) == 0;
        }
        bnc_fuzz_cookie_run(env, ok && tok_ok, fits);
    }
    free(uri);
    free(cookie);
    free(tokp);
    free(s);
    return 0;
}
