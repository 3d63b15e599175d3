/* SPDX-License-Identifier: MIT */
/* HTTP Basic (RFC 7617) against the users database, with DRF's parsing and
 * wording, the verified-credential cache, and re-hashing of legacy hashes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/pwcheck.h"
#include "auth/registry.h"
#include "auth/scheme.h"
#include "conf/conf.h"
#include "crypto/ct.h"
#include "fcgi/request.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

struct bnc_basic {
    char *realm;
    size_t max_length;           /* decoded "user:password" bytes */
    struct bnc_pwcheck *pw;      /* store, Argon2 cost, cache, padding */
};

/* DRF's messages (compat.md 2), kept verbatim. */
#define BNC_BASIC_NOCRED "Invalid basic header. No credentials provided."
#define BNC_BASIC_SPACES \
    "Invalid basic header. Credentials string should not contain spaces."
#define BNC_BASIC_B64 \
    "Invalid basic header. Credentials not correctly base64 encoded."
#define BNC_BASIC_LONG "Invalid basic header. Credentials too long."
#define BNC_BASIC_BADCHAR \
    "Invalid basic header. Credentials contain invalid characters."
#define BNC_BASIC_WRONG BNC_PWCHECK_WRONG
#define BNC_CODE_FAILED "authentication_failed"

static int bnc_scheme_basic_configure(const struct bnc_scheme_host *host,
                                      struct bnc_conf_section *section,
                                      void **statep, struct bnc_diag *d);
static enum bnc_verdict bnc_scheme_basic_check(void *state,
                                               const struct bnc_request *req,
                                               struct bnc_result *res);
static int bnc_scheme_basic_challenge(void *state, struct bnc_buf *out);
static void bnc_scheme_basic_destroy(void *state);

const struct bnc_scheme bnc_scheme_basic = {
    "basic",
    BNC_SCHEME_ABI,
    bnc_scheme_basic_configure,
    bnc_scheme_basic_check,
    bnc_scheme_basic_challenge,
    bnc_scheme_basic_destroy,
};

static int
bnc_scheme_basic_configure(const struct bnc_scheme_host *host,
                           struct bnc_conf_section *section, void **statep,
                           struct bnc_diag *d)
{
    struct bnc_basic *b = bnc_calloc(1, sizeof(*b));
    const char *realm = host->conf->realm;
    uint64_t ttl = 60, size = 1024, maxlen = 4096;
    int rc = 0;

    rc |= bnc_conf_get_str(host->conf, section, "realm", realm, &realm, d);
    rc |= bnc_conf_get_duration(host->conf, section, "cache_ttl", 60, 0,
                                86400, &ttl, d);
    rc |= bnc_conf_get_u64(host->conf, section, "cache_size", 1024, 0,
                           1000000, &size, d);
    rc |= bnc_conf_get_u64(host->conf, section, "max_length", 4096, 64,
                           65536, &maxlen, d);
    if (section != NULL)
        bnc_conf_check_unused(host->conf, section, d);
    if (rc != 0 || (realm != NULL && (strchr(realm, '"') || strchr(realm, '\\')))) {
        if (rc == 0)
            bnc_diag_error(d, host->conf->file, section ? section->line : 0,
                           "[basic] realm must not contain '\"' or '\\'");
        bnc_scheme_basic_destroy(b);
        return -1;
    }
    b->realm = bnc_strdup(realm ? realm : "bouncer");
    b->max_length = (size_t)maxlen;
    /* ttl 0 disables the cache: every request pays the hash. */
    b->pw = bnc_pwcheck_new(host->store, &host->conf->argon2,
                            host->conf->rehash, ttl > 0 ? (size_t)size : 0,
                            (unsigned)ttl);
    bnc_pwcheck_set_throttle(b->pw, &host->conf->throttle);
    *statep = b;
    return 0;
}

static void
bnc_scheme_basic_destroy(void *state)
{
    struct bnc_basic *b = state;

    if (b == NULL)
        return;
    bnc_pwcheck_free(b->pw);
    free(b->realm);
    free(b);
}

static int
bnc_scheme_basic_challenge(void *state, struct bnc_buf *out)
{
    struct bnc_basic *b = state;

    bnc_buf_printf(out, "Basic realm=\"%s\", charset=\"UTF-8\"", b->realm);
    return 1;
}

/* Latin-1 to UTF-8, for clients that do not send UTF-8 (DRF falls back to
 * Latin-1 the same way). out holds 2*len+1. */
static void
bnc_basic_latin1(const unsigned char *in, size_t len, char *out)
{
    size_t i, o = 0;

    for (i = 0; i < len; i++) {
        if (in[i] < 0x80) {
            out[o++] = (char)in[i];
        } else {
            out[o++] = (char)(0xc0 | (in[i] >> 6));
            out[o++] = (char)(0x80 | (in[i] & 0x3f));
        }
    }
    out[o] = '\0';
}

/* Splits an Authorization value on whitespace like Python's str.split():
 * returns the number of parts (capped at 3) and the first two. */
static int
bnc_basic_split(const char *h, const char **p1, size_t *l1, const char **p2,
                size_t *l2)
{
    int n = 0;
    const char *s = h;

    while (*s != '\0') {
        const char *start;

        while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' ||
               *s == '\v' || *s == '\f')
            s++;
        if (*s == '\0')
            break;
        start = s;
        while (*s != '\0' && !(*s == ' ' || *s == '\t' || *s == '\r' ||
                               *s == '\n' || *s == '\v' || *s == '\f'))
            s++;
        if (n == 0) {
            *p1 = start;
            *l1 = (size_t)(s - start);
        } else if (n == 1) {
            *p2 = start;
            *l2 = (size_t)(s - start);
        }
        if (++n == 3)
            break;
    }
    return n;
}

static enum bnc_verdict
bnc_scheme_basic_check(void *state, const struct bnc_request *req,
                       struct bnc_result *res)
{
    struct bnc_basic *b = state;
    const char *kw = NULL, *cred = NULL, *colon;
    size_t kwlen = 0, credlen = 0, declen = 0, cap;
    unsigned char *dec = NULL;
    char *utf8 = NULL, *pw;
    enum bnc_verdict v;
    int parts;

    /* Apache as the authenticator (mod_authnz_fcgi authn/authnz provider,
     * FcgidAuthenticator): Apache already split the Basic credentials and
     * takes our 200 as "password correct", so they must be checked here,
     * empty ones included; "no credential" is not an answer in this role. */
    if (bnc_request_is_authenticator(req)) {
        if (*req->remote_passwd == '\0')
            return bnc_pwcheck_refuse(b->pw, req, res,
                                      "authenticator role: empty password");
        if (strlen(req->remote_user) + strlen(req->remote_passwd) + 1 >
            b->max_length)
            return bnc_result_deny(res, 401, BNC_BASIC_LONG, BNC_CODE_FAILED);
        return bnc_pwcheck_verify(b->pw, req, req->remote_user,
                                  req->remote_passwd,
                                  strlen(req->remote_passwd), res);
    }
    parts = bnc_basic_split(req->authorization, &kw, &kwlen, &cred, &credlen);
    if (parts == 0 || kwlen != 5 || strncasecmp(kw, "basic", 5) != 0)
        return BNC_DECLINED;
    if (parts == 1) {
        bnc_result_reason(res, "no credentials after Basic");
        return bnc_result_deny(res, 401, BNC_BASIC_NOCRED, BNC_CODE_FAILED);
    }
    if (parts > 2) {
        bnc_result_reason(res, "spaces in credentials");
        return bnc_result_deny(res, 401, BNC_BASIC_SPACES, BNC_CODE_FAILED);
    }
    if (credlen / 4 * 3 > b->max_length) {
        bnc_result_reason(res, "credentials longer than max_length");
        return bnc_result_deny(res, 401, BNC_BASIC_LONG, BNC_CODE_FAILED);
    }
    cap = credlen / 4 * 3 + 3;
    dec = bnc_malloc(cap + 1);
    if (bnc_b64_decode(cred, credlen, dec, cap, &declen) != 0 ||
        memchr(dec, ':', declen) == NULL) {
        bnc_result_reason(res, "bad base64 or no colon");
        v = bnc_result_deny(res, 401, BNC_BASIC_B64, BNC_CODE_FAILED);
        goto out;
    }
    if (declen > b->max_length) {
        bnc_result_reason(res, "credentials longer than max_length");
        v = bnc_result_deny(res, 401, BNC_BASIC_LONG, BNC_CODE_FAILED);
        goto out;
    }
    if (memchr(dec, '\0', declen) != NULL) {
        /* A NUL would cut the name or password short in C strings. */
        bnc_result_reason(res, "NUL byte in credentials");
        v = bnc_result_deny(res, 401, BNC_BASIC_BADCHAR, BNC_CODE_FAILED);
        goto out;
    }
    utf8 = bnc_malloc(2 * declen + 1);
    if (bnc_utf8_valid(dec, declen)) {
        memcpy(utf8, dec, declen);
        utf8[declen] = '\0';
    } else {
        bnc_basic_latin1(dec, declen, utf8);
    }
    /* RFC 7617: the user-id cannot contain ':', the password can. */
    colon = strchr(utf8, ':');
    utf8[colon - utf8] = '\0';
    pw = utf8 + (colon - utf8) + 1;
    /* An empty or unprintable name is refused by pwcheck like a wrong
     * password, counted, without a hash. */
    v = bnc_pwcheck_verify(b->pw, req, utf8, pw, strlen(pw), res);
out:
    if (dec != NULL) {
        bnc_memzero(dec, cap + 1);
        free(dec);
    }
    if (utf8 != NULL) {
        bnc_memzero(utf8, 2 * declen + 1);
        free(utf8);
    }
    return v;
}
