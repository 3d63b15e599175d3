/* SPDX-License-Identifier: MIT */
/* Browser sessions shared by the session scheme and the /auth/ endpoints:
 * cookie parsing and formatting, Django's CSRF checks and wording, the
 * login redirect with a "next" that never leaves the site, and session
 * start, lookup and end against the store. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/session.h"
#include "crypto/ct.h"
#include "crypto/digest.h"
#include "crypto/rand.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "log/log.h"
#include "runtime.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/mem.h"
#include "util/str.h"

/* 32 random bytes as base64url without padding. */
#define BNC_SESSION_KEY_BYTES 32
#define BNC_SESSION_KEY_CHARS 43
/* Longest "next" we carry through the login page: a longer one is not a
 * page a person was on, and the redirect must stay a sane header. */
#define BNC_SESSION_NEXT_MAX 2048
/* User agents are for display only. */
#define BNC_SESSION_UA_MAX 256
#define BNC_SESSION_DEVICE_MAX 128

#define BNC_SESSION_INVALID "Invalid session."
#define BNC_SESSION_INACTIVE "User inactive or deleted."
#define BNC_CODE_SESSION_INVALID "session_invalid"
#define BNC_CODE_FAILED "authentication_failed"

const struct bnc_session_conf *
bnc_session_conf_of(const struct bnc_runtime *rt)
{
    size_t i;

    if (rt == NULL)
        return NULL;
    for (i = 0; i < rt->nschemes; i++)
        /* The scheme's state starts with its bnc_session_conf
         * (src/schemes/session.c). */
        if (rt->schemes[i].scheme == &bnc_scheme_session)
            return rt->schemes[i].state;
    return NULL;
}

/* ---- cookies --------------------------------------------------------- */

static int
bnc_cookie_is_space(char c)
{
    return c == ' ' || c == '\t';
}

int
bnc_cookie_find(const char *header, const char *name, const char **val,
                size_t *len)
{
    size_t nlen = strlen(name);
    const char *p = header, *found = NULL;
    size_t flen = 0;

    if (header == NULL || nlen == 0)
        return 0;
    while (*p != '\0') {
        const char *start = p, *end, *eq, *k, *ke, *v, *ve;

        while (*p != '\0' && *p != ';')
            p++;
        end = p;
        if (*p == ';')
            p++;
        eq = memchr(start, '=', (size_t)(end - start));
        /* A piece without '=' names nothing (Django keys it ""). */
        if (eq == NULL)
            continue;
        k = start;
        ke = eq;
        while (k < ke && bnc_cookie_is_space(*k))
            k++;
        while (ke > k && bnc_cookie_is_space(ke[-1]))
            ke--;
        if ((size_t)(ke - k) != nlen || memcmp(k, name, nlen) != 0)
            continue;
        v = eq + 1;
        ve = end;
        while (v < ve && bnc_cookie_is_space(*v))
            v++;
        while (ve > v && bnc_cookie_is_space(ve[-1]))
            ve--;
        if (v < ve && *v == '"') {
            /* RFC 6265 allows DQUOTE *cookie-octet DQUOTE: the quotes are
             * not part of the value, and nothing may follow them. */
            if (ve - v < 2 || ve[-1] != '"' ||
                memchr(v + 1, '"', (size_t)(ve - v - 2)) != NULL)
                return -1;
            v++;
            ve--;
        }
        if (found != NULL) {
            if (flen != (size_t)(ve - v) || memcmp(found, v, flen) != 0)
                return -1; /* two sessions: which one is the user's? */
            continue;
        }
        found = v;
        flen = (size_t)(ve - v);
    }
    if (found == NULL)
        return 0;
    *val = found;
    *len = flen;
    return 1;
}

void
bnc_cookie_format(struct bnc_buf *out, const struct bnc_session_conf *c,
                  const char *name, const char *value, int64_t max_age,
                  int secure, int httponly)
{
    bnc_buf_puts(out, name);
    bnc_buf_putc(out, '=');
    bnc_buf_puts(out, value);
    bnc_buf_puts(out, "; Path=");
    bnc_buf_puts(out, c->cookie_path != NULL ? c->cookie_path : "/");
    if (c->cookie_domain != NULL && *c->cookie_domain != '\0') {
        bnc_buf_puts(out, "; Domain=");
        bnc_buf_puts(out, c->cookie_domain);
    }
    if (max_age >= 0)
        bnc_buf_printf(out, "; Max-Age=%lld", (long long)max_age);
    if (secure)
        bnc_buf_puts(out, "; Secure");
    if (httponly)
        bnc_buf_puts(out, "; HttpOnly");
    bnc_buf_puts(out, "; SameSite=Lax");
}

/* ---- CSRF ------------------------------------------------------------ */

void
bnc_csrf_token(const struct bnc_session *s, char out[44])
{
    bnc_b64url_encode(s->csrf, sizeof(s->csrf), out);
}

static int
bnc_csrf_safe_method(const char *m)
{
    return strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0 ||
           strcmp(m, "OPTIONS") == 0 || strcmp(m, "TRACE") == 0;
}

/* Django's HttpHeaders.parse_header_name("HTTP_X_CSRFTOKEN"): "X-Csrftoken"
 * (Python's str.title(): upper case after any non-letter). */
static void
bnc_csrf_header_name(const char *param, char *out, size_t cap)
{
    size_t i = 0;
    int prev_letter = 0;

    if (strncmp(param, "HTTP_", 5) == 0)
        param += 5;
    for (; *param != '\0' && i + 1 < cap; param++) {
        char ch = *param == '_' ? '-' : *param;
        int letter = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z');

        if (letter && prev_letter && ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        else if (letter && !prev_letter && ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 'a' + 'A');
        out[i++] = ch;
        prev_letter = letter;
    }
    out[i] = '\0';
}

/* Splits an absolute URL into scheme and authority (urlparse's scheme and
 * netloc). Returns 0, or -1 when either is missing. */
static int
bnc_csrf_url_parts(const char *url, const char **scheme, size_t *slen,
                   const char **host, size_t *hlen)
{
    const char *p = url, *h;

    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (p > url && ((*p >= '0' && *p <= '9') || *p == '+' || *p == '-' ||
                        *p == '.')))
        p++;
    if (p == url || strncmp(p, "://", 3) != 0)
        return -1;
    *scheme = url;
    *slen = (size_t)(p - url);
    h = p + 3;
    p = h;
    while (*p != '\0' && *p != '/' && *p != '?' && *p != '#')
        p++;
    if (p == h)
        return -1;
    *host = h;
    *hlen = (size_t)(p - h);
    return 0;
}

/* 1 if [a, a+alen) equals the NUL-terminated b, ignoring ASCII case. */
static int
bnc_csrf_ieq(const char *a, size_t alen, const char *b)
{
    return strlen(b) == alen && strncasecmp(a, b, alen) == 0;
}

/* 1 if origin (a whole "scheme://host[:port]") is this site or trusted. */
static int
bnc_csrf_origin_ok(const struct bnc_session_conf *c,
                   const struct bnc_request *req, const char *origin)
{
    const char *scheme = req->https ? "https" : "http";
    size_t sl = strlen(scheme), i;

    /* Django compares "scheme://Host" exactly; host names are
     * case-insensitive, so a mixed-case Host header is still this site. */
    if (*req->host != '\0' && strncmp(origin, scheme, sl) == 0 &&
        strncmp(origin + sl, "://", 3) == 0 &&
        bnc_csrf_ieq(origin + sl + 3, strlen(origin + sl + 3), req->host))
        return 1;
    for (i = 0; c->trusted_origins != NULL && c->trusted_origins[i] != NULL;
         i++)
        if (bnc_csrf_ieq(origin, strlen(origin), c->trusted_origins[i]))
            return 1;
    return 0;
}

static size_t
bnc_csrf_min(size_t a, size_t b)
{
    return a < b ? a : b;
}

/* Django's _check_referer for HTTPS requests without Origin. */
static int
bnc_csrf_referer(const struct bnc_session_conf *c,
                 const struct bnc_request *req, char *reason, size_t sz)
{
    const char *ref = bnc_request_param(req, "HTTP_REFERER");
    const char *scheme, *host, *ts, *th;
    size_t slen, hlen, tsl, thl, i;

    if (ref == NULL) {
        snprintf(reason, sz, "Referer checking failed - no Referer.");
        return -1;
    }
    if (bnc_csrf_url_parts(ref, &scheme, &slen, &host, &hlen) != 0) {
        snprintf(reason, sz, "Referer checking failed - Referer is "
                 "malformed.");
        return -1;
    }
    if (!(slen == 5 && strncasecmp(scheme, "https", 5) == 0)) {
        snprintf(reason, sz, "Referer checking failed - Referer is insecure "
                 "while host is secure.");
        return -1;
    }
    if (*req->host != '\0' && bnc_csrf_ieq(host, hlen, req->host))
        return 0;
    for (i = 0; c->trusted_origins != NULL && c->trusted_origins[i] != NULL;
         i++)
        if (bnc_csrf_url_parts(c->trusted_origins[i], &ts, &tsl, &th,
                               &thl) == 0 &&
            thl == hlen && strncasecmp(th, host, hlen) == 0)
            return 0;
    /* Without its query: a Referer can carry ?token=... into the log. */
    snprintf(reason, sz, "Referer checking failed - %.*s does not match "
             "any trusted origins.", (int)bnc_csrf_min(strcspn(ref, "?#"), 120),
             ref);
    return -1;
}

int
bnc_csrf_check(const struct bnc_session_conf *c,
               const struct bnc_request *req, const struct bnc_session *s,
               const char *form_token, char *reason, size_t reasonsz)
{
    const char *origin, *tok, *src_post = "POST";
    char want[44], hname[80], src[100];
    size_t tlen, i;
    int from_header = 1, ok;

    if (bnc_csrf_safe_method(req->method))
        return 0;
    origin = bnc_request_param(req, "HTTP_ORIGIN");
    if (origin != NULL) {
        if (!bnc_csrf_origin_ok(c, req, origin)) {
            snprintf(reason, reasonsz,
                     "Origin checking failed - %.120s does not match any "
                     "trusted origins.", origin);
            return -1;
        }
    } else if (req->https && bnc_csrf_referer(c, req, reason, reasonsz) != 0) {
        return -1;
    }
    tok = c->csrf_header_param != NULL
              ? bnc_request_param(req, c->csrf_header_param)
              : NULL;
    if (tok == NULL || *tok == '\0') {
        tok = form_token;
        from_header = 0;
    }
    if (tok == NULL || *tok == '\0') {
        snprintf(reason, reasonsz, "CSRF token missing.");
        return -1;
    }
    if (from_header) {
        bnc_csrf_header_name(c->csrf_header_param, hname, sizeof(hname));
        snprintf(src, sizeof(src), "the '%s' HTTP header", hname);
    } else {
        snprintf(src, sizeof(src), "%s", src_post);
    }
    tlen = strlen(tok);
    if (tlen != BNC_SESSION_KEY_CHARS) {
        snprintf(reason, reasonsz, "CSRF token from %s has incorrect "
                 "length.", src);
        return -1;
    }
    for (i = 0; i < tlen; i++) {
        char ch = tok[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
            snprintf(reason, reasonsz, "CSRF token from %s has invalid "
                     "characters.", src);
            return -1;
        }
    }
    bnc_csrf_token(s, want);
    ok = bnc_memeq_ct(want, BNC_SESSION_KEY_CHARS, tok, tlen);
    bnc_memzero(want, sizeof(want));
    if (!ok) {
        snprintf(reason, reasonsz, "CSRF token from %s incorrect.", src);
        return -1;
    }
    return 0;
}

/* ---- login redirect and "next" --------------------------------------- */

/* ASCII case-insensitive substring search. */
static int
bnc_session_icontains(const char *hay, const char *needle)
{
    size_t n = strlen(needle);

    for (; *hay != '\0'; hay++)
        if (strncasecmp(hay, needle, n) == 0)
            return 1;
    return 0;
}

int
bnc_session_wants_redirect(const struct bnc_session_conf *c,
                           const struct bnc_request *req)
{
    const char *v;
    size_t n;

    if (c == NULL || !c->redirect_browsers)
        return 0;
    if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
        return 0;
    if (!bnc_session_icontains(req->accept, "text/html"))
        return 0;
    /* Scripts want the 401 they can act on, not a login page. */
    v = bnc_request_param(req, "HTTP_X_REQUESTED_WITH");
    if (v != NULL && bnc_str_ieq(v, "XMLHttpRequest"))
        return 0;
    v = bnc_request_param(req, "HTTP_SEC_FETCH_MODE");
    if (v != NULL && *v != '\0' && !bnc_str_ieq(v, "navigate"))
        return 0;
    /* The login page itself must never bounce to itself. */
    n = c->login_url != NULL ? strlen(c->login_url) : 0;
    if (n > 0 && c->login_url[0] == '/' &&
        strncmp(req->uri, c->login_url, n) == 0 &&
        (req->uri[n] == '\0' || req->uri[n] == '?'))
        return 0;
    return 1;
}

static int
bnc_session_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The checks on one form of the path: a single leading '/', not followed
 * by '/' or '\' (a network-path reference or what browsers make of it),
 * no control bytes (browsers drop tabs and newlines, turning "/\t/x" into
 * "//x"), no backslash anywhere. */
static int
bnc_session_path_ok(const char *p, size_t len)
{
    size_t i;

    if (len == 0 || p[0] != '/')
        return 0;
    if (len > 1 && (p[1] == '/' || p[1] == '\\'))
        return 0;
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)p[i];

        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return 0;
    }
    return 1;
}

/* Percent-decodes in into out (which holds len + 1); returns the new
 * length. Malformed escapes stay as they are. */
static size_t
bnc_session_pct_decode(const char *in, size_t len, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        int hi, lo;

        if (in[i] == '%' && i + 2 < len &&
            (hi = bnc_session_hexval(in[i + 1])) >= 0 &&
            (lo = bnc_session_hexval(in[i + 2])) >= 0) {
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    out[o] = '\0';
    return o;
}

int
bnc_session_next_valid(const char *next, char *out, size_t cap)
{
    char a[BNC_SESSION_NEXT_MAX + 1], b[BNC_SESSION_NEXT_MAX + 1];
    size_t len, round;
    char *cur = a, *nxt = b, *t;

    len = next != NULL ? strnlen(next, BNC_SESSION_NEXT_MAX + 1) : 0;
    if (len == 0 || len > BNC_SESSION_NEXT_MAX || len >= cap)
        goto bad;
    memcpy(cur, next, len);
    cur[len] = '\0';
    /* Whatever decodes it later (the login form, a framework, a proxy)
     * must see a local path too: check every decoding until it is
     * stable. Each round only shortens the string, so this ends. */
    for (round = 0; round < 8; round++) {
        size_t n2;

        if (!bnc_session_path_ok(cur, len) || strlen(cur) != len)
            goto bad;
        n2 = bnc_session_pct_decode(cur, len, nxt);
        if (n2 == len)
            break;
        t = cur;
        cur = nxt;
        nxt = t;
        len = n2;
    }
    if (round == 8)
        goto bad;
    memcpy(out, next, strlen(next) + 1);
    return 1;
bad:
    if (cap > 0)
        bnc_strlcpy(out, "/", cap);
    return 0;
}

void
bnc_session_login_location(const struct bnc_session_conf *c,
                           const struct bnc_request *req, struct bnc_buf *out)
{
    static const char hex[] = "0123456789ABCDEF";
    const char *login = c->login_url != NULL ? c->login_url : "/auth/login";
    char next[BNC_SESSION_NEXT_MAX + 1];
    const unsigned char *p;

    bnc_session_next_valid(req->uri, next, sizeof(next));
    bnc_buf_puts(out, login);
    bnc_buf_puts(out, strchr(login, '?') != NULL ? "&next=" : "?next=");
    /* Everything but unreserved characters and '/' is escaped, so the
     * query of next stays inside the one parameter. */
    for (p = (const unsigned char *)next; *p != '\0'; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
            *p == '_' || *p == '~' || *p == '/') {
            bnc_buf_putc(out, (char)*p);
        } else {
            bnc_buf_putc(out, '%');
            bnc_buf_putc(out, hex[*p >> 4]);
            bnc_buf_putc(out, hex[*p & 15]);
        }
    }
}

/* ---- session life ---------------------------------------------------- */

static int
bnc_session_secure(const struct bnc_session_conf *c,
                   const struct bnc_request *req)
{
    return req->https || c->secure_always;
}

/* A display copy of a request value: at most max bytes, cut on a UTF-8
 * boundary, control bytes as '?'. */
static char *
bnc_session_display(const char *s, size_t max)
{
    size_t n = strnlen(s, max + 1), i;
    char *d;

    if (n > max) {
        n = max;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    d = bnc_strndup(s, n);
    for (i = 0; i < n; i++)
        if ((unsigned char)d[i] < 0x20 || d[i] == 0x7f)
            d[i] = '?';
    return d;
}

static int
bnc_session_device_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > BNC_SESSION_DEVICE_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

int
bnc_session_start(const struct bnc_session_conf *c, struct bnc_store *st,
                  const struct bnc_user *u, const struct bnc_request *req,
                  struct bnc_response *resp, char *csrf_out)
{
    unsigned char raw[BNC_SESSION_KEY_BYTES];
    char key[BNC_SESSION_KEY_CHARS + 8], csrf[44];
    struct bnc_session s;
    struct bnc_buf cookie;
    int64_t now = (int64_t)time(NULL);
    const char *ua, *dev;
    int rc = -1, src = BNC_STORE_ERROR, tries;

    memset(&s, 0, sizeof(s));
    memset(key, 0, sizeof(key));
    bnc_buf_init(&cookie);
    /* A new id at every login: an id planted before it (fixation) is
     * never promoted to an authenticated session. */
    if (bnc_rand_bytes(raw, sizeof(raw)) != 0 ||
        bnc_rand_bytes(s.csrf, sizeof(s.csrf)) != 0) {
        bnc_log(BNC_LOG_ERR, "session for %s: no random bytes", u->name);
        goto out;
    }
    bnc_b64url_encode(raw, sizeof(raw), key);
    bnc_sha256(key, BNC_SESSION_KEY_CHARS, s.digest);
    s.user = bnc_strdup(u->name);
    s.created = now;
    s.last_seen = now;
    s.idle_timeout = (int64_t)c->idle_timeout;
    s.expires = now + (int64_t)c->lifetime;
    s.client = bnc_strdup(req->client);
    ua = bnc_request_param(req, "HTTP_USER_AGENT");
    if (ua != NULL && *ua != '\0')
        s.user_agent = bnc_session_display(ua, BNC_SESSION_UA_MAX);
    /* A client that names its device at login (an app) gets a session
     * bound to it, like a token made with --device. */
    dev = c->device_param != NULL ? bnc_request_param(req, c->device_param)
                                  : NULL;
    if (dev != NULL && bnc_session_device_ok(dev))
        s.device = bnc_strdup(dev);
    for (tries = 0; tries < 3; tries++) {
        if (bnc_rand_id("ss_", s.id, sizeof(s.id)) != 0) {
            bnc_log(BNC_LOG_ERR, "session for %s: no random bytes",
                    u->name);
            goto out;
        }
        src = bnc_store_session_add(st, &s, BNC_STORE_NOSYNC);
        if (src != BNC_STORE_EXISTS)
            break;
    }
    if (src != BNC_STORE_OK) {
        bnc_log(BNC_LOG_ERR, "session for %s: store refused it (code %d)",
                u->name, src);
        goto out;
    }
    bnc_cookie_format(&cookie, c, c->cookie_name, key, (int64_t)c->lifetime,
                      bnc_session_secure(c, req), 1);
    bnc_response_header(resp, "Set-Cookie", bnc_buf_str(&cookie));
    bnc_buf_reset(&cookie);
    bnc_csrf_token(&s, csrf);
    /* Readable by the page's scripts, which send it back as X-CSRFToken. */
    bnc_cookie_format(&cookie, c, c->csrf_cookie_name, csrf,
                      (int64_t)c->lifetime, bnc_session_secure(c, req), 0);
    bnc_response_header(resp, "Set-Cookie", bnc_buf_str(&cookie));
    if (csrf_out != NULL)
        memcpy(csrf_out, csrf, sizeof(csrf));
    bnc_log(BNC_LOG_INFO, "session %s started for %s", s.id, u->name);
    rc = 0;
out:
    bnc_memzero(raw, sizeof(raw));
    bnc_memzero(key, sizeof(key));
    bnc_memzero(csrf, sizeof(csrf));
    bnc_buf_cleanup(&cookie);
    bnc_session_cleanup(&s);
    return rc;
}

static enum bnc_verdict
bnc_session_invalid(struct bnc_result *res)
{
    return bnc_result_deny(res, 401, BNC_SESSION_INVALID,
                           BNC_CODE_SESSION_INVALID);
}

enum bnc_verdict
bnc_session_lookup(const struct bnc_session_conf *c, struct bnc_store *st,
                   const struct bnc_request *req, struct bnc_session *out,
                   struct bnc_user *u, struct bnc_result *res)
{
    unsigned char digest[BNC_SHA256_LEN];
    struct bnc_session s;
    struct bnc_user usr;
    const char *val = NULL, *dev;
    int64_t now = (int64_t)time(NULL), seen;
    enum bnc_verdict v = BNC_DENY;
    size_t len = 0, i;
    int rc;

    memset(out, 0, sizeof(*out));
    if (u != NULL)
        memset(u, 0, sizeof(*u));
    memset(&s, 0, sizeof(s));
    memset(&usr, 0, sizeof(usr));
    rc = bnc_cookie_find(req->cookie, c->cookie_name, &val, &len);
    if (rc == 0)
        return BNC_DECLINED;
    if (rc < 0) {
        bnc_result_reason(res, "cookie %s: duplicate or malformed",
                          c->cookie_name);
        return bnc_session_invalid(res);
    }
    /* "sessionid=" is what a cleared cookie looks like: no session. */
    if (len == 0)
        return BNC_DECLINED;
    /* Not one of ours: no store read for it. */
    if (len != BNC_SESSION_KEY_CHARS) {
        bnc_result_reason(res, "cookie %s: %zu bytes, not a session id",
                          c->cookie_name, len);
        return bnc_session_invalid(res);
    }
    for (i = 0; i < len; i++) {
        char ch = val[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
            bnc_result_reason(res, "cookie %s: not base64url",
                              c->cookie_name);
            return bnc_session_invalid(res);
        }
    }
    bnc_sha256(val, len, digest);
    /* For the throttle: an old cookie sent with every request is one
     * failure, not one per request (scheme.h). */
    res->cred_fp = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
                   (uint32_t)digest[2] << 8 | digest[3];
    rc = bnc_store_session_get(st, digest, &s);
    if (rc == BNC_STORE_NOTFOUND) {
        bnc_result_reason(res, "unknown session (ended, expired or forged)");
        v = bnc_session_invalid(res);
        goto out;
    }
    if (rc != BNC_STORE_OK) {
        bnc_result_reason(res, "store error reading session (code %d)", rc);
        v = BNC_ERROR;
        goto out;
    }
    if (!bnc_memeq_ct(s.digest, sizeof(s.digest), digest, sizeof(digest))) {
        bnc_result_reason(res, "store returned session %s for another "
                          "digest", s.id);
        v = bnc_session_invalid(res);
        goto out;
    }
    if (now >= s.expires) {
        bnc_result_reason(res, "session %s expired %lld s ago", s.id,
                          (long long)(now - s.expires));
        v = bnc_session_invalid(res);
        goto out;
    }
    seen = s.last_seen > 0 ? s.last_seen : s.created;
    /* Written as a subtraction: a stored idle_timeout near INT64_MAX must
     * not overflow (now >= seen holds for any sane clock). */
    if (s.idle_timeout > 0 && (now < seen ? 0 : now - seen) >= s.idle_timeout) {
        bnc_result_reason(res, "session %s idle for %lld s (limit %lld)",
                          s.id, (long long)(now - seen),
                          (long long)s.idle_timeout);
        v = bnc_session_invalid(res);
        goto out;
    }
    rc = bnc_store_user_get(st, s.user != NULL ? s.user : "", &usr);
    if (rc == BNC_STORE_NOTFOUND) {
        bnc_result_reason(res, "session %s: user deleted", s.id);
        v = bnc_result_deny(res, 401, BNC_SESSION_INACTIVE, BNC_CODE_FAILED);
        goto out;
    }
    if (rc != BNC_STORE_OK) {
        bnc_result_reason(res, "store error reading user of session %s "
                          "(code %d)", s.id, rc);
        v = BNC_ERROR;
        goto out;
    }
    if (usr.disabled) {
        bnc_result_reason(res, "session %s: user %s disabled", s.id,
                          usr.name);
        v = bnc_result_deny(res, 401, BNC_SESSION_INACTIVE, BNC_CODE_FAILED);
        goto out;
    }
    /* Password change, disable, "log out everywhere": sessions started at
     * or before it (whole seconds) are void; one older than the account
     * belongs to an earlier namesake. */
    if (bnc_user_stamp_voids(usr.not_before, s.created) ||
        s.created < usr.created) {
        bnc_result_reason(res, "session %s started before %s of user %s",
                          s.id, bnc_user_stamp_voids(usr.not_before, s.created)
                                    ? "not_before"
                                    : "the creation",
                          usr.name);
        v = bnc_session_invalid(res);
        goto out;
    }
    if (s.device != NULL && *s.device != '\0') {
        dev = c->device_param != NULL
                  ? bnc_request_param(req, c->device_param)
                  : NULL;
        if (dev == NULL ||
            !bnc_memeq_ct(s.device, strlen(s.device), dev, strlen(dev))) {
            bnc_result_reason(res, "session %s: device id %s", s.id,
                              dev == NULL ? "missing" : "mismatch");
            v = bnc_session_invalid(res);
            goto out;
        }
    }
    *out = s;
    memset(&s, 0, sizeof(s));
    if (u != NULL) {
        *u = usr;
        memset(&usr, 0, sizeof(usr));
    }
    bnc_result_reason(res, "session %s", out->id);
    v = BNC_ALLOW;
out:
    bnc_memzero(digest, sizeof(digest));
    bnc_session_cleanup(&s);
    bnc_user_cleanup(&usr);
    return v;
}

int
bnc_session_end(const struct bnc_session_conf *c, struct bnc_store *st,
                const struct bnc_session *s, const struct bnc_request *req,
                struct bnc_response *resp)
{
    int rc;

    rc = bnc_store_session_del(st, s->digest, BNC_STORE_NOSYNC);
    if (rc != BNC_STORE_OK && rc != BNC_STORE_NOTFOUND)
        bnc_log(BNC_LOG_ERR, "session %s: store error ending it (code %d)",
                s->id, rc);
    /* Clear the cookies even when the store failed: this browser is
     * logged out either way. */
    bnc_session_clear_cookies(c, req, resp);
    return rc == BNC_STORE_OK || rc == BNC_STORE_NOTFOUND ? 0 : -1;
}

void
bnc_session_clear_cookies(const struct bnc_session_conf *c,
                          const struct bnc_request *req,
                          struct bnc_response *resp)
{
    struct bnc_buf cookie;

    bnc_buf_init(&cookie);
    bnc_cookie_format(&cookie, c, c->cookie_name, "", 0,
                      bnc_session_secure(c, req), 1);
    bnc_response_header(resp, "Set-Cookie", bnc_buf_str(&cookie));
    bnc_buf_reset(&cookie);
    bnc_cookie_format(&cookie, c, c->csrf_cookie_name, "", 0,
                      bnc_session_secure(c, req), 0);
    bnc_response_header(resp, "Set-Cookie", bnc_buf_str(&cookie));
    bnc_buf_cleanup(&cookie);
}
