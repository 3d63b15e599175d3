/* SPDX-License-Identifier: MIT */
/* Opaque API tokens: DRF's TokenAuthentication wording and parsing, with the
 * key stored only as SHA-256, expiry, scopes, allowed networks and device
 * binding; also a configured API-key header (X-API-Key). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/registry.h"
#include "auth/scheme.h"
#include "conf/conf.h"
#include "crypto/ct.h"
#include "crypto/digest.h"
#include "fcgi/request.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/mem.h"

/* Longest key we hash and look up. Ours are 43 characters, DRF's 40; a
 * longer one cannot be a key of ours and is not worth a store read. */
#define BNC_TOKEN_KEY_MAX 512
/* Keyword and header names: short HTTP tokens. */
#define BNC_TOKEN_NAME_MAX 64

struct bnc_token_scheme {
    struct bnc_store *store;
    char *keyword;          /* "Token"; matched case-insensitively (DRF) */
    size_t kwlen;
    char *header;           /* "X-API-Key" as configured, or NULL */
    char *header_param;     /* its CGI param: "HTTP_X_API_KEY", or NULL */
    char *device_param;     /* [auth] device_header as a param */
    int touch;              /* record last use */
};

/* DRF's messages (compat.md 2), kept verbatim. */
#define BNC_TOKEN_NOCRED "Invalid token header. No credentials provided."
#define BNC_TOKEN_SPACES \
    "Invalid token header. Token string should not contain spaces."
#define BNC_TOKEN_BADCHAR \
    "Invalid token header. Token string should not contain invalid " \
    "characters."
#define BNC_TOKEN_INVALID "Invalid token."
#define BNC_TOKEN_INACTIVE "User inactive or deleted."
/* Ours: DRF has no device binding. Only a holder of a valid key sees them. */
#define BNC_TOKEN_DEVICE_MISSING "Device id required for this token."
#define BNC_TOKEN_DEVICE_WRONG "Device id does not match this token."
#define BNC_CODE_FAILED "authentication_failed"
#define BNC_CODE_DEVICE_MISSING "device_required"
#define BNC_CODE_DEVICE_WRONG "device_mismatch"

static int bnc_scheme_token_configure(const struct bnc_scheme_host *host,
                                      struct bnc_conf_section *section,
                                      void **statep, struct bnc_diag *d);
static enum bnc_verdict bnc_scheme_token_check(void *state,
                                               const struct bnc_request *req,
                                               struct bnc_result *res);
static int bnc_scheme_token_challenge(void *state, struct bnc_buf *out);
static void bnc_scheme_token_destroy(void *state);

const struct bnc_scheme bnc_scheme_token = {
    "token",
    BNC_SCHEME_ABI,
    bnc_scheme_token_configure,
    bnc_scheme_token_check,
    bnc_scheme_token_challenge,
    bnc_scheme_token_destroy,
};

/* RFC 9110 tchar: what an auth-scheme name may be made of. */
static int
bnc_token_is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Checks a configured header name and returns its CGI param (RFC 3875
 * 4.1.18: "HTTP_" + upper case, '-' as '_'), or NULL after an error. */
static char *
bnc_token_header_param(const struct bnc_conf *c,
                       const struct bnc_conf_section *s, const char *name,
                       struct bnc_diag *d)
{
    size_t i, len = strlen(name);
    char *param;

    for (i = 0; i < len; i++) {
        char ch = name[i];

        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
              (ch >= '0' && ch <= '9') || ch == '-'))
            break;
    }
    if (len == 0 || len > BNC_TOKEN_NAME_MAX || i < len) {
        bnc_diag_error(d, c->file, s->line,
                       "[token] header: expected a header name like "
                       "X-API-Key (letters, digits, '-'), got '%s'", name);
        return NULL;
    }
    if (strcasecmp(name, "Authorization") == 0 ||
        strcasecmp(name, "Proxy-Authorization") == 0 ||
        strcasecmp(name, "Cookie") == 0) {
        bnc_diag_error(d, c->file, s->line,
                       "[token] header: '%s' carries other credentials; "
                       "name a header of its own such as X-API-Key", name);
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

static int
bnc_scheme_token_configure(const struct bnc_scheme_host *host,
                           struct bnc_conf_section *section, void **statep,
                           struct bnc_diag *d)
{
    const struct bnc_conf *c = host->conf;
    struct bnc_token_scheme *t = bnc_calloc(1, sizeof(*t));
    const char *kw = "Token", *header = NULL;
    unsigned line = section != NULL ? section->line : 0;
    size_t i;
    int rc = 0, touch = 1;

    t->store = host->store;
    rc |= bnc_conf_get_str(c, section, "keyword", "Token", &kw, d);
    rc |= bnc_conf_get_str(c, section, "header", NULL, &header, d);
    rc |= bnc_conf_get_bool(c, section, "touch", 1, &touch, d);
    if (section != NULL)
        bnc_conf_check_unused(c, section, d);
    if (rc != 0)
        goto fail;
    for (i = 0; kw[i] != '\0'; i++)
        if (!bnc_token_is_tchar((unsigned char)kw[i]))
            break;
    if (i == 0 || kw[i] != '\0' || i > BNC_TOKEN_NAME_MAX) {
        bnc_diag_error(d, c->file, line,
                       "[token] keyword: expected one word like Token, "
                       "Bearer or Api-Key (letters, digits, "
                       "!#$%%&'*+-.^_`|~), got '%s'", kw);
        goto fail;
    }
    if (strcasecmp(kw, "Basic") == 0) {
        bnc_diag_error(d, c->file, line,
                       "[token] keyword: 'Basic' would take HTTP Basic "
                       "credentials for token keys; choose another word");
        goto fail;
    }
    if (header != NULL && *header != '\0') {
        t->header_param = bnc_token_header_param(c, section, header, d);
        if (t->header_param == NULL)
            goto fail;
        t->header = bnc_strdup(header);
    }
    t->keyword = bnc_strdup(kw);
    t->kwlen = strlen(kw);
    t->device_param = bnc_strdup(c->device_param != NULL ? c->device_param
                                                         : "HTTP_X_DEVICE_ID");
    t->touch = touch;
    *statep = t;
    return 0;
fail:
    bnc_scheme_token_destroy(t);
    return -1;
}

static void
bnc_scheme_token_destroy(void *state)
{
    struct bnc_token_scheme *t = state;

    if (t == NULL)
        return;
    free(t->keyword);
    free(t->header);
    free(t->header_param);
    free(t->device_param);
    free(t);
}

/* DRF sends just the keyword: `WWW-Authenticate: Token`. */
static int
bnc_scheme_token_challenge(void *state, struct bnc_buf *out)
{
    struct bnc_token_scheme *t = state;

    bnc_buf_puts(out, t->keyword);
    return 1;
}

static int
bnc_token_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

/* Splits like Python's bytes.split() (what DRF runs on the header): returns
 * the number of parts, capped at 3, and the first two. */
static int
bnc_token_split(const char *h, const char **p1, size_t *l1, const char **p2,
                size_t *l2)
{
    int n = 0;

    while (*h != '\0') {
        const char *start;

        while (bnc_token_is_space(*h))
            h++;
        if (*h == '\0')
            break;
        start = h;
        while (*h != '\0' && !bnc_token_is_space(*h))
            h++;
        if (n == 0) {
            *p1 = start;
            *l1 = (size_t)(h - start);
        } else if (n == 1) {
            *p2 = start;
            *l2 = (size_t)(h - start);
        }
        if (++n == 3)
            break;
    }
    return n;
}

/* Marks a header sent twice with different values ("X-API-Key" and
 * "X_API_Key" both become HTTP_X_API_KEY under lighttpd): which one the
 * client meant is unknown, so neither may be read. */
static const char bnc_token_param_twice[] = "";

/* "NAME=" in envp, at any length: an oversized API-key or device header
 * must fail the request, not look absent (bnc_request_param hides values
 * over BNC_PARAM_MAX). bnc_token_param_twice if it comes twice, differing. */
static const char *
bnc_token_param(const struct bnc_request *req, const char *name)
{
    size_t n = strlen(name);
    const char *found = NULL;
    char **e;

    if (req->envp == NULL)
        return NULL;
    for (e = req->envp; *e != NULL; e++) {
        if (strncmp(*e, name, n) != 0 || (*e)[n] != '=')
            continue;
        if (found == NULL)
            found = *e + n + 1;
        else if (strcmp(found, *e + n + 1) != 0)
            return bnc_token_param_twice;
    }
    return found;
}

static void
bnc_token_join(char **v, char sep, char **out)
{
    struct bnc_buf b;
    size_t i;

    if (v == NULL || v[0] == NULL)
        return;
    bnc_buf_init(&b);
    for (i = 0; v[i] != NULL; i++) {
        if (i > 0)
            bnc_buf_putc(&b, sep);
        bnc_buf_puts(&b, v[i]);
    }
    bnc_identity_set(out, bnc_buf_str(&b));
    bnc_buf_cleanup(&b);
}

/* 1 if the client is inside one of the token's networks. Stored blocks
 * were checked at creation; one that no longer parses matches nothing. */
static int
bnc_token_client_allowed(const struct bnc_token *tk,
                         const struct bnc_request *req)
{
    size_t i;

    if (!req->client_ok)
        return 0;
    for (i = 0; tk->cidrs[i] != NULL; i++) {
        struct bnc_cidr c;

        if (bnc_cidr_parse(tk->cidrs[i], &c, NULL) == 0 &&
            bnc_cidr_match(&c, &req->client_addr))
            return 1;
    }
    return 0;
}

/* Checks one key (already split out of its header) against the store and
 * every restriction the token carries. */
static enum bnc_verdict
bnc_token_verify(struct bnc_token_scheme *t, const struct bnc_request *req,
                 const char *key, size_t keylen, const char *via,
                 struct bnc_result *res)
{
    unsigned char digest[BNC_SHA256_LEN];
    struct bnc_token tk;
    struct bnc_user u;
    enum bnc_verdict v = BNC_DENY;
    int64_t now = (int64_t)time(NULL);
    const char *dev;
    size_t i;
    int rc;

    memset(&tk, 0, sizeof(tk));
    memset(&u, 0, sizeof(u));
    for (i = 0; i < keylen; i++) {
        unsigned char ch = (unsigned char)key[i];

        /* DRF refuses what does not decode; we accept the key alphabet
         * of any sane generator: printable ASCII. */
        if (ch < 0x21 || ch > 0x7e) {
            bnc_result_reason(res, "%s: byte 0x%02x in the key", via, ch);
            return bnc_result_deny(res, 401, BNC_TOKEN_BADCHAR,
                                   BNC_CODE_FAILED);
        }
    }
    if (keylen > BNC_TOKEN_KEY_MAX) {
        bnc_result_reason(res, "%s: key of %zu bytes (limit %d)", via, keylen,
                          BNC_TOKEN_KEY_MAX);
        return bnc_result_deny(res, 401, BNC_TOKEN_INVALID, BNC_CODE_FAILED);
    }
    bnc_sha256(key, keylen, digest);
    res->cred_fp = (uint32_t)digest[0] << 24 | (uint32_t)digest[1] << 16 |
                   (uint32_t)digest[2] << 8 | digest[3];
    rc = bnc_store_token_get(t->store, digest, &tk);
    if (rc == BNC_STORE_NOTFOUND) {
        bnc_result_reason(res, "%s: unknown token", via);
        v = bnc_result_deny(res, 401, BNC_TOKEN_INVALID, BNC_CODE_FAILED);
        goto out;
    }
    if (rc != BNC_STORE_OK) {
        bnc_result_reason(res, "store error reading token (code %d)", rc);
        v = BNC_ERROR;
        goto out;
    }
    /* The lookup was by digest already; comparing again costs nothing and
     * guards against a store that ever returns a neighbour. */
    if (!bnc_memeq_ct(tk.digest, sizeof(tk.digest), digest, sizeof(digest))) {
        bnc_result_reason(res, "%s: store returned token %s for another "
                          "digest", via, tk.id);
        v = bnc_result_deny(res, 401, BNC_TOKEN_INVALID, BNC_CODE_FAILED);
        goto out;
    }
    /* Expiry says nothing DRF would: same message as unknown, so a stolen
     * old key learns nothing; the log has the reason. */
    if (tk.expires > 0 && now >= tk.expires) {
        bnc_result_reason(res, "token %s expired %lld s ago", tk.id,
                          (long long)(now - tk.expires));
        v = bnc_result_deny(res, 401, BNC_TOKEN_INVALID, BNC_CODE_FAILED);
        goto out;
    }
    rc = bnc_store_user_get(t->store, tk.user != NULL ? tk.user : "", &u);
    if (rc == BNC_STORE_NOTFOUND) {
        bnc_result_reason(res, "token %s: user deleted", tk.id);
        v = bnc_result_deny(res, 401, BNC_TOKEN_INACTIVE, BNC_CODE_FAILED);
        goto out;
    }
    if (rc != BNC_STORE_OK) {
        bnc_result_reason(res, "store error reading user of token %s "
                          "(code %d)", tk.id, rc);
        v = BNC_ERROR;
        goto out;
    }
    if (u.disabled) {
        bnc_result_reason(res, "token %s: user %s disabled", tk.id, u.name);
        v = bnc_result_deny(res, 401, BNC_TOKEN_INACTIVE, BNC_CODE_FAILED);
        goto out;
    }
    /* "Log out everywhere" with --tokens voids what was issued at or
     * before it (whole seconds); a password change does not (DRF tokens
     * survive one), so this is the user's own tokens_not_before, not
     * not_before. A token older than the account belongs to an earlier
     * user of the same name. */
    if (bnc_user_stamp_voids(u.tokens_not_before, tk.created) ||
        tk.created < u.created) {
        bnc_result_reason(res, "token %s issued before %s of user %s", tk.id,
                          bnc_user_stamp_voids(u.tokens_not_before, tk.created)
                              ? "tokens_not_before"
                              : "the creation",
                          u.name);
        v = bnc_result_deny(res, 401, BNC_TOKEN_INVALID, BNC_CODE_FAILED);
        goto out;
    }
    if (tk.cidrs != NULL && tk.cidrs[0] != NULL &&
        !bnc_token_client_allowed(&tk, req)) {
        bnc_result_reason(res, "token %s: client %s not in allowed networks",
                          tk.id, *req->client != '\0' ? req->client : "?");
        v = bnc_result_deny(res, 401, BNC_TOKEN_INVALID, BNC_CODE_FAILED);
        goto out;
    }
    if (tk.device != NULL && *tk.device != '\0') {
        dev = bnc_token_param(req, t->device_param);
        if (dev == bnc_token_param_twice) {
            bnc_result_reason(res, "token %s: two different device ids",
                              tk.id);
            v = bnc_result_deny(res, 400, "Request header sent more than once.",
                                "duplicate_header");
            goto out;
        }
        if (dev == NULL || *dev == '\0') {
            bnc_result_reason(res, "token %s: no device id", tk.id);
            v = bnc_result_deny(res, 401, BNC_TOKEN_DEVICE_MISSING,
                                BNC_CODE_DEVICE_MISSING);
            goto out;
        }
        if (!bnc_memeq_ct(tk.device, strlen(tk.device), dev, strlen(dev))) {
            bnc_result_reason(res, "token %s: device id mismatch", tk.id);
            v = bnc_result_deny(res, 401, BNC_TOKEN_DEVICE_WRONG,
                                BNC_CODE_DEVICE_WRONG);
            goto out;
        }
    }
    bnc_identity_from_user(&res->id, &u, "Token");
    bnc_identity_set(&res->id.cred_id, tk.id);
    bnc_token_join(tk.scopes, ' ', &res->id.scopes);
    res->id.expires = tk.expires;
    bnc_result_reason(res, "token %s", tk.id);
    if (t->touch)
        bnc_store_token_touch(t->store, tk.id, now);
    v = BNC_ALLOW;
out:
    bnc_memzero(digest, sizeof(digest));
    bnc_token_cleanup(&tk);
    bnc_user_cleanup(&u);
    return v;
}

static enum bnc_verdict
bnc_scheme_token_check(void *state, const struct bnc_request *req,
                       struct bnc_result *res)
{
    struct bnc_token_scheme *t = state;
    const char *p1 = NULL, *p2 = NULL, *hv;
    size_t l1 = 0, l2 = 0;
    int parts;

    /* Apache asking "is REMOTE_USER's password right?": a 200 from a token
     * would vouch for a password nobody checked. Only basic answers. */
    if (bnc_request_is_authenticator(req))
        return BNC_DECLINED;
    parts = bnc_token_split(req->authorization, &p1, &l1, &p2, &l2);
    if (parts > 0 && l1 == t->kwlen && strncasecmp(p1, t->keyword, l1) == 0) {
        if (parts == 1) {
            bnc_result_reason(res, "no key after %s", t->keyword);
            return bnc_result_deny(res, 401, BNC_TOKEN_NOCRED,
                                   BNC_CODE_FAILED);
        }
        if (parts > 2) {
            bnc_result_reason(res, "spaces in the key");
            return bnc_result_deny(res, 401, BNC_TOKEN_SPACES,
                                   BNC_CODE_FAILED);
        }
        return bnc_token_verify(t, req, p2, l2, "Authorization", res);
    }
    if (t->header_param == NULL)
        return BNC_DECLINED;
    hv = bnc_token_param(req, t->header_param);
    if (hv == NULL)
        return BNC_DECLINED;
    if (hv == bnc_token_param_twice) {
        bnc_result_reason(res, "%s sent twice with different values",
                          t->header);
        return bnc_result_deny(res, 400, "Request header sent more than once.",
                               "duplicate_header");
    }
    /* The header's whole value is the key: same rules, no keyword. */
    parts = bnc_token_split(hv, &p1, &l1, &p2, &l2);
    if (parts == 0) {
        bnc_result_reason(res, "empty %s header", t->header);
        return bnc_result_deny(res, 401, BNC_TOKEN_NOCRED, BNC_CODE_FAILED);
    }
    if (parts > 1) {
        bnc_result_reason(res, "spaces in the %s header", t->header);
        return bnc_result_deny(res, 401, BNC_TOKEN_SPACES, BNC_CODE_FAILED);
    }
    return bnc_token_verify(t, req, p1, l1, t->header, res);
}
