/* SPDX-License-Identifier: MIT */
/* The session scheme: DRF's SessionAuthentication for the authorizer. A
 * session cookie names the user; unsafe methods must also pass Django's
 * CSRF checks. Reads [session] (bouncer.conf(5)). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/session.h"
#include "conf/conf.h"
#include "fcgi/request.h"
#include "store/store.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_SESSION_NAME_MAX 64
#define BNC_SESSION_PATH_MAX 256
#define BNC_SESSION_DOMAIN_MAX 253
#define BNC_SESSION_URL_MAX 1024
#define BNC_SESSION_ORIGINS_MAX 64
/* Browsers cap Max-Age at 400 days (RFC 6265bis). */
#define BNC_SESSION_LIFE_MAX (400ULL * 86400)

/* The conf comes first: bnc_session_conf_of() hands out the state as
 * the conf. */
struct bnc_session_scheme {
    struct bnc_session_conf conf;
    struct bnc_store *store;
};

static int bnc_scheme_session_configure(const struct bnc_scheme_host *host,
                                        struct bnc_conf_section *section,
                                        void **statep, struct bnc_diag *d);
static enum bnc_verdict bnc_scheme_session_check(void *state,
                                                 const struct bnc_request *req,
                                                 struct bnc_result *res);
static int bnc_scheme_session_challenge(void *state, struct bnc_buf *out);
static void bnc_scheme_session_destroy(void *state);

const struct bnc_scheme bnc_scheme_session = {
    "session",
    BNC_SCHEME_ABI,
    bnc_scheme_session_configure,
    bnc_scheme_session_check,
    bnc_scheme_session_challenge,
    bnc_scheme_session_destroy,
};

/* Line of key in s, for messages about its value. */
static unsigned
bnc_session_key_line(const struct bnc_conf_section *s, const char *key)
{
    size_t i;

    if (s == NULL)
        return 0;
    for (i = 0; i < s->nentries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return s->entries[i].line;
    return s->line;
}

/* RFC 6265 cookie-name: an RFC 9110 token. */
static int
bnc_session_cookie_name_ok(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL))
            return 0;
    }
    return i >= 1 && i <= BNC_SESSION_NAME_MAX;
}

/* Checks a header name and returns its CGI param ("HTTP_" + upper case,
 * '-' as '_'), or NULL. */
static char *
bnc_session_header_param(const char *name)
{
    size_t i, len = strlen(name);
    char *param;

    if (len == 0 || len > BNC_SESSION_NAME_MAX)
        return NULL;
    for (i = 0; i < len; i++) {
        char ch = name[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-'))
            return NULL;
    }
    param = bnc_malloc(len + 6);
    memcpy(param, "HTTP_", 5);
    for (i = 0; i < len; i++) {
        char ch = name[i];

        param[5 + i] = ch == '-' ? '_'
                       : (ch >= 'a' && ch <= 'z') ? (char)(ch - 'a' + 'A')
                                                  : ch;
    }
    param[5 + len] = '\0';
    return param;
}

/* A cookie Path: "/..." with no ';', space or control byte (it goes into
 * Set-Cookie as is). */
static int
bnc_session_cookie_path_ok(const char *s)
{
    size_t i, n = strlen(s);

    if (n == 0 || n > BNC_SESSION_PATH_MAX || s[0] != '/')
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f || s[i] == ';' ||
            s[i] == ',' || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

/* A host name: labels of letters, digits and '-', dot-separated, an
 * optional leading dot (old-style Domain). */
static int
bnc_session_domain_ok(const char *s)
{
    size_t i, n = strlen(s), label = 0;

    if (*s == '.')
        s++, n--;
    if (n == 0 || n > BNC_SESSION_DOMAIN_MAX)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c == '.') {
            if (label == 0 || s[i - 1] == '-')
                return 0;
            label = 0;
        } else if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                   (c >= '0' && c <= '9') || (c == '-' && label > 0)) {
            if (++label > 63)
                return 0;
        } else {
            return 0;
        }
    }
    return label > 0 && s[n - 1] != '-';
}

/* An origin as browsers send it: http or https, "://", a host name or a
 * bracketed IPv6 address, an optional port 1-65535, nothing after. */
static int
bnc_session_origin_ok(const char *o, const char **why)
{
    const char *h, *end, *colon;
    char host[BNC_SESSION_DOMAIN_MAX + 1];
    size_t hl;

    if (strncmp(o, "https://", 8) == 0)
        h = o + 8;
    else if (strncmp(o, "http://", 7) == 0)
        h = o + 7;
    else {
        *why = "must start with https:// or http://";
        return 0;
    }
    if (strpbrk(h, "/?#@") != NULL) {
        *why = "is scheme://host[:port] only: no path, '/', query or user";
        return 0;
    }
    if (*h == '[') {
        end = strchr(h, ']');
        if (end == NULL || end == h + 1 ||
            strspn(h + 1, "0123456789abcdefABCDEF:.") !=
                (size_t)(end - h - 1)) {
            *why = "has a malformed IPv6 address";
            return 0;
        }
        colon = *(end + 1) == ':' ? end + 1 : NULL;
        if (!(end[1] == '\0' || colon != NULL)) {
            *why = "has text after the address";
            return 0;
        }
    } else {
        colon = strchr(h, ':');
        end = colon != NULL ? colon : h + strlen(h);
        hl = (size_t)(end - h);
        if (hl == 0 || hl >= sizeof(host)) {
            *why = "has no valid host";
            return 0;
        }
        memcpy(host, h, hl);
        host[hl] = '\0';
        if (*host == '.' || !bnc_session_domain_ok(host)) {
            *why = "has no valid host (wildcards are not supported)";
            return 0;
        }
    }
    if (colon != NULL) {
        uint64_t port;

        if (bnc_parse_u64(colon + 1, 65535, &port) != 0 || port == 0 ||
            colon[1] == '0' || colon[1] == '+') {
            *why = "has an invalid port";
            return 0;
        }
    }
    return 1;
}

/* login_url: a local path (a "next" that stays on this site) or an
 * absolute http(s) URL of a login page elsewhere. */
static int
bnc_session_login_url_ok(const char *s)
{
    char tmp[BNC_SESSION_URL_MAX + 1];
    size_t i, n = strlen(s);

    if (n == 0 || n > BNC_SESSION_URL_MAX || strchr(s, '#') != NULL)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f)
            return 0;
    if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0)
        return 1;
    return bnc_session_next_valid(s, tmp, sizeof(tmp));
}

static void
bnc_scheme_session_destroy(void *state)
{
    struct bnc_session_scheme *t = state;
    struct bnc_session_conf *c;

    if (t == NULL)
        return;
    c = &t->conf;
    free(c->cookie_name);
    free(c->csrf_cookie_name);
    free(c->csrf_header_param);
    free(c->csrf_form_field);
    free(c->cookie_path);
    free(c->cookie_domain);
    bnc_strv_free(c->trusted_origins);
    free(c->login_url);
    free(c->device_param);
    free(t);
}

static int
bnc_scheme_session_configure(const struct bnc_scheme_host *host,
                             struct bnc_conf_section *section, void **statep,
                             struct bnc_diag *d)
{
    const struct bnc_conf *cf = host->conf;
    struct bnc_session_scheme *t = bnc_calloc(1, sizeof(*t));
    struct bnc_session_conf *c = &t->conf;
    const char *name = NULL, *csrf_name = NULL, *header = NULL,
               *path = NULL, *domain = NULL, *secure = NULL,
               *origins = NULL, *login = NULL, *why = NULL;
    char **items = NULL;
    int rc = 0, redirect = 1, n, i;

    t->store = host->store;
    rc |= bnc_conf_get_str(cf, section, "cookie_name", "sessionid", &name, d);
    rc |= bnc_conf_get_str(cf, section, "csrf_cookie_name", "csrftoken",
                           &csrf_name, d);
    rc |= bnc_conf_get_str(cf, section, "csrf_header", "X-CSRFToken",
                           &header, d);
    rc |= bnc_conf_get_str(cf, section, "cookie_path", "/", &path, d);
    rc |= bnc_conf_get_str(cf, section, "cookie_domain", NULL, &domain, d);
    rc |= bnc_conf_get_str(cf, section, "secure", "auto", &secure, d);
    rc |= bnc_conf_get_duration(cf, section, "idle_timeout", 2 * 3600, 0,
                                BNC_SESSION_LIFE_MAX, &c->idle_timeout, d);
    rc |= bnc_conf_get_duration(cf, section, "lifetime", 14 * 86400, 60,
                                BNC_SESSION_LIFE_MAX, &c->lifetime, d);
    rc |= bnc_conf_get_str(cf, section, "trusted_origins", NULL, &origins, d);
    rc |= bnc_conf_get_str(cf, section, "login_url", "/auth/login", &login,
                           d);
    rc |= bnc_conf_get_bool(cf, section, "redirect_browsers", 1, &redirect,
                            d);
    if (section != NULL)
        bnc_conf_check_unused(cf, section, d);
    if (rc != 0)
        goto fail;
#define BNC_SESSION_ERR(key, ...) \
    bnc_diag_error(d, cf->file, bnc_session_key_line(section, key), \
                   __VA_ARGS__)
    if (!bnc_session_cookie_name_ok(name)) {
        BNC_SESSION_ERR("cookie_name", "[session] cookie_name: expected a "
                        "cookie name like sessionid (letters, digits, "
                        "!#$%%&'*+-.^_`|~; at most 64), got '%.80s'", name);
        goto fail;
    }
    if (!bnc_session_cookie_name_ok(csrf_name)) {
        BNC_SESSION_ERR("csrf_cookie_name", "[session] csrf_cookie_name: "
                        "expected a cookie name like csrftoken, got '%.80s'",
                        csrf_name);
        goto fail;
    }
    if (strcmp(name, csrf_name) == 0) {
        BNC_SESSION_ERR("csrf_cookie_name", "[session] csrf_cookie_name: "
                        "must differ from cookie_name ('%s')", name);
        goto fail;
    }
    c->csrf_header_param = bnc_session_header_param(header);
    if (c->csrf_header_param == NULL || strcasecmp(header, "Cookie") == 0 ||
        strcasecmp(header, "Authorization") == 0) {
        BNC_SESSION_ERR("csrf_header", "[session] csrf_header: expected a "
                        "header name like X-CSRFToken (letters, digits, "
                        "'-'), got '%.80s'", header);
        goto fail;
    }
    if (!bnc_session_cookie_path_ok(path)) {
        BNC_SESSION_ERR("cookie_path", "[session] cookie_path: expected a "
                        "path starting with '/' without spaces, ';' or "
                        "','; got '%.80s'", path);
        goto fail;
    }
    if (domain != NULL && *domain != '\0' && !bnc_session_domain_ok(domain)) {
        BNC_SESSION_ERR("cookie_domain", "[session] cookie_domain: expected "
                        "a host name like example.org, got '%.80s'", domain);
        goto fail;
    }
    if (strcmp(secure, "auto") == 0) {
        c->secure_always = 0;
    } else if (strcmp(secure, "always") == 0) {
        c->secure_always = 1;
    } else {
        BNC_SESSION_ERR("secure", "[session] secure: expected auto (Secure "
                        "on HTTPS requests) or always, got '%.80s'", secure);
        goto fail;
    }
    if (c->idle_timeout > c->lifetime)
        bnc_diag_warn(d, cf->file, bnc_session_key_line(section,
                                                        "idle_timeout"),
                      "[session] idle_timeout is longer than lifetime: "
                      "sessions end at lifetime");
    if (origins != NULL && *origins != '\0') {
        n = bnc_split_list(origins, &items);
        if (n < 0) {
            BNC_SESSION_ERR("trusted_origins", "[session] trusted_origins: "
                            "expected a comma-separated list of origins "
                            "like https://app.example.org (empty item)");
            goto fail;
        }
        if (n > BNC_SESSION_ORIGINS_MAX) {
            BNC_SESSION_ERR("trusted_origins", "[session] trusted_origins: "
                            "at most %d origins", BNC_SESSION_ORIGINS_MAX);
            goto fail;
        }
        for (i = 0; i < n; i++)
            if (!bnc_session_origin_ok(items[i], &why)) {
                BNC_SESSION_ERR("trusted_origins", "[session] "
                                "trusted_origins: '%.100s' %s", items[i],
                                why);
                goto fail;
            }
        c->trusted_origins = items;
        items = NULL;
    }
    if (!bnc_session_login_url_ok(login)) {
        BNC_SESSION_ERR("login_url", "[session] login_url: expected a path "
                        "on this site like /auth/login, or an http(s) URL; "
                        "got '%.80s'", login);
        goto fail;
    }
#undef BNC_SESSION_ERR
    c->cookie_name = bnc_strdup(name);
    c->csrf_cookie_name = bnc_strdup(csrf_name);
    c->csrf_form_field = bnc_strdup("csrfmiddlewaretoken");
    c->cookie_path = bnc_strdup(path);
    c->cookie_domain = domain != NULL && *domain != '\0' ? bnc_strdup(domain)
                                                         : NULL;
    c->login_url = bnc_strdup(login);
    c->redirect_browsers = redirect;
    c->device_param = bnc_strdup(cf->device_param != NULL ? cf->device_param
                                                          : "HTTP_X_DEVICE_ID");
    *statep = t;
    return 0;
fail:
    bnc_strv_free(items);
    bnc_scheme_session_destroy(t);
    return -1;
}

/* DRF's SessionAuthentication has no authenticate_header: no challenge. */
static int
bnc_scheme_session_challenge(void *state, struct bnc_buf *out)
{
    (void)state;
    (void)out;
    return 0;
}

static enum bnc_verdict
bnc_scheme_session_check(void *state, const struct bnc_request *req,
                         struct bnc_result *res)
{
    struct bnc_session_scheme *t = state;
    struct bnc_session s;
    struct bnc_user u;
    char why[200];
    enum bnc_verdict v;

    /* Apache asking "is REMOTE_USER's password right?": a cookie does not
     * vouch for a password. Only basic answers there. */
    if (bnc_request_is_authenticator(req))
        return BNC_DECLINED;
    v = bnc_session_lookup(&t->conf, t->store, req, &s, &u, res);
    if (v != BNC_ALLOW)
        return v;
    /* The authorizer never reads the body: only the header carries the
     * token here (the form field counts in the responder). */
    if (bnc_csrf_check(&t->conf, req, &s, NULL, why, sizeof(why)) != 0) {
        bnc_result_reason(res, "session %s: CSRF: %s", s.id, why);
        snprintf(res->detail_buf, sizeof(res->detail_buf), "CSRF Failed: %s",
                 why);
        v = bnc_result_deny(res, 403, res->detail_buf, "csrf_failed");
        goto out;
    }
    bnc_identity_from_user(&res->id, &u, "Session");
    bnc_identity_set(&res->id.cred_id, s.id);
    res->id.expires = s.expires;
    /* The store writes last_seen at most once a minute; asking only then
     * spares every other request a second read of sessions_seen.db. */
    if ((int64_t)time(NULL) - s.last_seen >= 60)
        bnc_store_session_touch(t->store, s.id, (int64_t)time(NULL));
    v = BNC_ALLOW;
out:
    bnc_session_cleanup(&s);
    bnc_user_cleanup(&u);
    return v;
}
