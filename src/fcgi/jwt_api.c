/* SPDX-License-Identifier: MIT */
/* The JWT endpoints of the Responder (DESIGN 5), wire-compatible with
 * djangorestframework-simplejwt (compat.md 4):
 *
 *   POST /auth/token          {username, password} -> {"refresh", "access"}
 *   POST /auth/token/refresh  {refresh} -> {"access"} (+ "refresh" rotating)
 *   POST /auth/token/verify   {token} -> {}
 *   POST /auth/token/revoke   {refresh} -> {} (simplejwt's blacklist view)
 *   GET  /auth/jwks.json      the public verifying keys
 *
 * A refresh token belongs to a family (claim "fam", one per obtain) whose
 * store record names the current token: a token presented again after it
 * was rotated revokes the family (reuse detection), so a stolen refresh
 * token works at most until its owner's next refresh. A refresh also
 * re-reads the user: gone, disabled, or logged out everywhere (not_before
 * after the family began) ends it.
 *
 * These are API endpoints authenticated by what the body carries, never by
 * a cookie, so there is no CSRF to defend against here. Bodies are read
 * with the Responder's hard limit. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "auth/decide.h"
#include "auth/pwcheck.h"
#include "conf/conf.h"
#include "crypto/ct.h"
#include "crypto/rand.h"
#include "fcgi/body.h"
#include "fcgi/jwt_api.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "jwt/jwt.h"
#include "runtime.h"
#include "store/jwt.h"
#include "store/store.h"
#include "util/str.h"

/* simplejwt 5.2.2's wording (compat.md 4). */
#define BNC_JWT_API_NO_ACCOUNT "No active account found with the given credentials"
#define BNC_JWT_API_INVALID "Token is invalid or expired"
#define BNC_JWT_API_BLACKLISTED "Token is blacklisted"
#define BNC_JWT_API_NO_ACCOUNT_TOKEN "No active account found for the given token."
#define BNC_JWT_API_LOGGED_OUT "Token was issued before the user logged out everywhere."
#define BNC_JWT_API_NO_USER "Token contained no recognizable user identification"
#define BNC_JWT_API_UNAVAILABLE "Authentication is temporarily unavailable."

/* jti and family ids: 128 random bits as 32 lowercase hex digits, like
 * simplejwt's uuid4().hex. */
#define BNC_JWT_API_ID_LEN 32

/* ---- answers ----------------------------------------------------------- */

static void
bnc_jwt_api_reason(struct bnc_decision *d, const char *fmt, ...)
    BNC_PRINTF(2, 3);

static void
bnc_jwt_api_reason(struct bnc_decision *d, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
}

/* A 401 carries the Bearer challenge (RFC 6750 3; simplejwt's views send
 * one too), with error="invalid_token" when a token was the problem. */
static void
bnc_jwt_api_challenge(struct bnc_runtime *rt, struct bnc_response *resp,
                      int token_error)
{
    char v[300];

    snprintf(v, sizeof(v), "Bearer realm=\"%s\"%s",
             rt->conf->realm != NULL ? rt->conf->realm : "bouncer",
             token_error ? ", error=\"invalid_token\"" : "");
    bnc_response_header(resp, "WWW-Authenticate", v);
}

/* Answers {"detail", "code"}; the log reason is set by the caller. */
static void
bnc_jwt_api_fail(struct bnc_runtime *rt, struct bnc_response *resp,
                 struct bnc_decision *d, int status, const char *detail,
                 const char *code)
{
    d->outcome = status >= 500 ? BNC_OUT_ERROR : BNC_OUT_DENY;
    d->status = status;
    if (status == 401)
        bnc_jwt_api_challenge(rt, resp, strcmp(code, "token_not_valid") == 0);
    bnc_response_json_error(resp, status, detail, code);
}

static void
bnc_jwt_api_head(struct bnc_response *resp, struct bnc_decision *d, int status)
{
    d->status = status;
    resp->status = status;
    bnc_response_header(resp, "Content-Type", "application/json");
    bnc_response_header(resp, "Cache-Control", "no-store");
    bnc_buf_reset(&resp->body);
}

static void
bnc_jwt_api_405(struct bnc_runtime *rt, struct bnc_response *resp,
                struct bnc_decision *d, const char *allow, const char *ep)
{
    bnc_response_header(resp, "Allow", allow);
    bnc_jwt_api_reason(d, "%s does not take this method (allowed: %s)", ep,
                       allow);
    bnc_jwt_api_fail(rt, resp, d, 405, "Method not allowed.",
                     "method_not_allowed");
}

/* ---- request bodies ----------------------------------------------------- */

/* Reads and parses the body into body (raw keeps its bytes); answers and
 * returns -1 on any problem. */
static int
bnc_jwt_api_body(struct bnc_runtime *rt, const struct bnc_request *req,
                 struct bnc_io *in, struct bnc_buf *raw, struct bnc_body *body,
                 struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_body_err err;

    if (bnc_body_load(req, in, 1, raw, body, &err) != 0) {
        bnc_jwt_api_reason(d, "body refused: %s", err.detail);
        bnc_jwt_api_fail(rt, resp, d, err.status, err.detail, err.code);
        return -1;
    }
    return 0;
}

/* 400 {"a": ["..."], "b": ["..."]} for the fields that have a problem
 * (names[i] with problems[i], NULL = fine). */
static void
bnc_jwt_api_invalid(struct bnc_response *resp, struct bnc_decision *d,
                    const char *const *names, const char *const *problems,
                    size_t n)
{
    size_t i;
    int first = 1;

    d->outcome = BNC_OUT_DENY;
    bnc_jwt_api_head(resp, d, 400);
    bnc_buf_puts(&resp->body, "{");
    for (i = 0; i < n; i++) {
        if (problems[i] == NULL)
            continue;
        if (first)
            bnc_jwt_api_reason(d, "field %s: %s", names[i], problems[i]);
        bnc_buf_puts(&resp->body, first ? "" : ", ");
        bnc_buf_json_str(&resp->body, names[i]);
        bnc_buf_puts(&resp->body, ": [");
        bnc_buf_json_str(&resp->body, problems[i]);
        bnc_buf_puts(&resp->body, "]");
        first = 0;
    }
    bnc_buf_puts(&resp->body, "}\n");
}

/* The one string field a token endpoint takes; NULL after answering. */
static const struct bnc_body_field *
bnc_jwt_api_token_field(struct bnc_runtime *rt, const struct bnc_request *req,
                        struct bnc_io *in, const char *name,
                        struct bnc_buf *raw, struct bnc_body *body,
                        struct bnc_response *resp, struct bnc_decision *d)
{
    const struct bnc_body_field *f = NULL;
    const char *problem;

    if (bnc_jwt_api_body(rt, req, in, raw, body, resp, d) != 0)
        return NULL;
    problem = bnc_body_field_problem(body, name, 0, &f);
    if (problem != NULL) {
        bnc_jwt_api_invalid(resp, d, &name, &problem, 1);
        return NULL;
    }
    return f;
}

/* ---- claims ------------------------------------------------------------- */

static int
bnc_jwt_api_new_id(char out[BNC_JWT_API_ID_LEN + 1])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char r[BNC_JWT_API_ID_LEN / 2];
    size_t i;

    if (bnc_rand_bytes(r, sizeof(r)) != 0)
        return -1;
    for (i = 0; i < sizeof(r); i++) {
        out[2 * i] = hex[r[i] >> 4];
        out[2 * i + 1] = hex[r[i] & 15];
    }
    out[BNC_JWT_API_ID_LEN] = '\0';
    return 0;
}

static const char *
bnc_jwt_api_user_claim(const struct bnc_jwt_conf *jc)
{
    return jc->user_id_claim != NULL ? jc->user_id_claim : "user_id";
}

/* The configured extra claims from the user's record, read fresh at every
 * issue so a group change shows in the next access token. */
static void
bnc_jwt_api_extras(const struct bnc_jwt_conf *jc, const struct bnc_user *u,
                   json_t *p)
{
    size_t i, k;

    for (i = 0; jc->extra_claims != NULL && jc->extra_claims[i] != NULL;
         i++) {
        const char *c = jc->extra_claims[i];

        if (strcmp(c, "groups") == 0) {
            json_t *g = json_array();

            for (k = 0; u->groups != NULL && u->groups[k] != NULL; k++)
                json_array_append_new(g, json_string(u->groups[k]));
            json_object_set_new(p, "groups", g);
        } else if (strcmp(c, "name") == 0 && u->display_name != NULL &&
                   *u->display_name != '\0') {
            json_object_set_new(p, "name", json_string(u->display_name));
        } else if (strcmp(c, "email") == 0 && u->email != NULL &&
                   *u->email != '\0') {
            json_object_set_new(p, "email", json_string(u->email));
        }
        /* "scopes": the store keeps no scopes per user, so there is
         * nothing true to put there; a client cannot choose its own. */
    }
}

/* Claims in simplejwt's order: token_type, exp, iat, jti, user_id; then
 * fam (refresh tokens), iss, aud and the configured extras. */
static json_t *
bnc_jwt_api_claims(const struct bnc_jwt_conf *jc, const struct bnc_user *u,
                   const char *type, int64_t now, int64_t exp,
                   const char *jti, const char *fam)
{
    json_t *p = json_object();

    json_object_set_new(p, "token_type", json_string(type));
    json_object_set_new(p, "exp", json_integer((json_int_t)exp));
    json_object_set_new(p, "iat", json_integer((json_int_t)now));
    json_object_set_new(p, "jti", json_string(jti));
    json_object_set_new(p, bnc_jwt_api_user_claim(jc),
                        jc->user_id_is_name
                            ? json_string(u->name)
                            : json_integer((json_int_t)u->id));
    if (fam != NULL)
        json_object_set_new(p, "fam", json_string(fam));
    if (jc->issuer != NULL)
        json_object_set_new(p, "iss", json_string(jc->issuer));
    if (jc->audience != NULL)
        json_object_set_new(p, "aud", json_string(jc->audience));
    bnc_jwt_api_extras(jc, u, p);
    return p;
}

static char *
bnc_jwt_api_sign(const struct bnc_jwt_conf *jc, json_t *claims,
                 struct bnc_decision *d)
{
    struct bnc_err err;
    char *tok;

    bnc_err_clear(&err);
    tok = bnc_jwt_sign(jc->keys, claims, &err);
    json_decref(claims);
    if (tok == NULL)
        bnc_jwt_api_reason(d, "signing failed: %s", err.msg);
    return tok;
}

/* ---- checking a presented token ----------------------------------------- */

/* What a presented token says, borrowed from its payload. */
struct bnc_jwt_api_tok {
    json_t *payload;          /* owned */
    const char *type;         /* token_type */
    const char *jti;
    const char *fam;          /* NULL when absent */
    int64_t iat, exp;
};

static void
bnc_jwt_api_tok_cleanup(struct bnc_jwt_api_tok *t)
{
    json_decref(t->payload);
    memset(t, 0, sizeof(*t));
}

/* A time claim as whole seconds: an integer, or a real rounded down as
 * bnc_jwt_verify reads it (PyJWT accepts 1.7e9). 0 when absent or not a
 * number in range. */
static int64_t
bnc_jwt_api_int(json_t *p, const char *name)
{
    json_t *v = json_object_get(p, name);
    double d;
    int64_t i;

    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (!json_is_real(v))
        return 0;
    d = json_real_value(v);
    if (!isfinite(d) || d >= 9.2e18 || d <= -9.2e18)
        return 0;
    i = (int64_t)d;
    return (double)i > d ? i - 1 : i;
}

/* Signature and claims (type "refresh", or any when type is NULL). 0, or
 * -1 after answering 401 token_not_valid. */
static int
bnc_jwt_api_check(struct bnc_runtime *rt, const struct bnc_jwt_conf *jc,
                  const struct bnc_body_field *f, const char *type,
                  struct bnc_jwt_api_tok *t, struct bnc_response *resp,
                  struct bnc_decision *d)
{
    struct bnc_jwt_verify_opts o;
    enum bnc_jwt_status st;
    char why[160];
    json_t *v;

    memset(t, 0, sizeof(*t));
    memset(&o, 0, sizeof(o));
    o.now = (int64_t)time(NULL);
    o.leeway = jc->leeway;
    o.issuer = jc->issuer;
    o.audience = jc->audience;
    o.token_type = type;
    o.max_len = jc->max_len;
    why[0] = '\0';
    st = bnc_jwt_verify(jc->keys, f->value, f->vlen, &o, &t->payload, why,
                        sizeof(why));
    if (st != BNC_JWT_OK) {
        bnc_jwt_api_reason(d, "%s token refused: %s", type ? type : "a",
                           why[0] ? why : "invalid");
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_INVALID,
                         "token_not_valid");
        return -1;
    }
    v = json_object_get(t->payload, "token_type");
    t->type = json_is_string(v) ? json_string_value(v) : NULL;
    v = json_object_get(t->payload, "jti");
    t->jti = json_is_string(v) ? json_string_value(v) : NULL;
    v = json_object_get(t->payload, "fam");
    t->fam = json_is_string(v) ? json_string_value(v) : NULL;
    t->iat = bnc_jwt_api_int(t->payload, "iat");
    t->exp = bnc_jwt_api_int(t->payload, "exp");
    if (t->jti == NULL || *t->jti == '\0' ||
        strlen(t->jti) > BNC_JWT_JTI_MAX) {
        /* simplejwt: "Token has no id"; revocation needs one. */
        bnc_jwt_api_reason(d, "token without a usable jti");
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_INVALID,
                         "token_not_valid");
        bnc_jwt_api_tok_cleanup(t);
        return -1;
    }
    return 0;
}

/* The denylist; 0 when the jti is not on it, else -1 after answering. */
static int
bnc_jwt_api_not_denied(struct bnc_runtime *rt, const struct bnc_jwt_api_tok *t,
                       struct bnc_response *resp, struct bnc_decision *d)
{
    int rc = bnc_store_jwt_denied(rt->store, t->jti);

    if (rc == 0)
        return 0;
    if (rc == 1) {
        bnc_jwt_api_reason(d, "jti %s is revoked", t->jti);
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_BLACKLISTED,
                         "token_not_valid");
    } else {
        bnc_jwt_api_reason(d, "store error reading the denylist (code %d)",
                           rc);
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
    }
    return -1;
}

/* The user the token names (user_id claim: the numeric id, or the name
 * with user_id_is_name; simplejwt 5.5 sends the id as a string), alive,
 * and not logged out everywhere since since. 0 with *u filled, or -1
 * after answering. */
static int
bnc_jwt_api_user(struct bnc_runtime *rt, const struct bnc_jwt_conf *jc,
                 const struct bnc_jwt_api_tok *t, int64_t since,
                 struct bnc_user *u, struct bnc_response *resp,
                 struct bnc_decision *d)
{
    json_t *v = json_object_get(t->payload, bnc_jwt_api_user_claim(jc));
    uint64_t id = 0;
    int rc = BNC_STORE_NOTFOUND;

    memset(u, 0, sizeof(*u));
    if (jc->user_id_is_name) {
        if (json_is_string(v))
            rc = bnc_store_user_get(rt->store, json_string_value(v), u);
        else
            v = NULL;
    } else if (json_is_integer(v) && json_integer_value(v) > 0 &&
               json_integer_value(v) <= (json_int_t)UINT32_MAX) {
        rc = bnc_store_user_get_by_id(rt->store,
                                      (uint32_t)json_integer_value(v), u);
    } else if (json_is_string(v) &&
               bnc_parse_u64(json_string_value(v), UINT32_MAX, &id) == 0 &&
               id > 0) {
        rc = bnc_store_user_get_by_id(rt->store, (uint32_t)id, u);
    } else {
        v = NULL;
    }
    if (v == NULL) {
        bnc_jwt_api_reason(d, "token without a usable %s claim",
                           bnc_jwt_api_user_claim(jc));
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_NO_USER,
                         "token_not_valid");
        return -1;
    }
    if (rc == BNC_STORE_NOTFOUND || (rc == BNC_STORE_OK && u->disabled)) {
        bnc_jwt_api_reason(d, "token of a %s user%s%s",
                           rc == BNC_STORE_OK ? "disabled" : "deleted",
                           rc == BNC_STORE_OK ? " " : "",
                           rc == BNC_STORE_OK ? u->name : "");
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_NO_ACCOUNT_TOKEN,
                         "no_active_account");
        bnc_user_cleanup(u);
        return -1;
    }
    if (rc != BNC_STORE_OK) {
        bnc_jwt_api_reason(d, "store error reading the token's user "
                           "(code %d)", rc);
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        return -1;
    }
    /* Log out everywhere (a password change, disable, logout-all) voids
     * what was issued at or before it (whole seconds); what predates the
     * account belongs to an earlier user. */
    if (bnc_user_stamp_voids(u->not_before, since) ||
        bnc_user_stamp_voids(u->not_before, t->iat) || since < u->created) {
        bnc_jwt_api_reason(d, "token of user %s issued before its %s", u->name,
                           since < u->created ? "creation" : "not_before");
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_LOGGED_OUT,
                         "token_not_valid");
        bnc_user_cleanup(u);
        return -1;
    }
    return 0;
}

/* A refresh token's family, live and naming jti as current: 0 with *fam
 * filled, or -1 after answering. */
static int
bnc_jwt_api_family(struct bnc_runtime *rt, const struct bnc_jwt_api_tok *t,
                   struct bnc_jwt_family *fam, struct bnc_response *resp,
                   struct bnc_decision *d)
{
    int rc;

    memset(fam, 0, sizeof(*fam));
    if (t->fam == NULL || *t->fam == '\0' ||
        strlen(t->fam) > BNC_JWT_FAMILY_ID_MAX) {
        /* Minted elsewhere (a Django app sharing the key): bouncer cannot
         * tell whether it was rotated or revoked, so it does not renew it. */
        bnc_jwt_api_reason(d, "refresh token %s has no family", t->jti);
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_INVALID,
                         "token_not_valid");
        return -1;
    }
    rc = bnc_store_jwt_family_get(rt->store, t->fam, fam);
    if (rc == BNC_STORE_NOTFOUND) {
        bnc_jwt_api_reason(d, "refresh token %s: family %s unknown", t->jti,
                           t->fam);
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_INVALID,
                         "token_not_valid");
        return -1;
    }
    if (rc != BNC_STORE_OK) {
        bnc_jwt_api_reason(d, "store error reading family %s (code %d)",
                           t->fam, rc);
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        return -1;
    }
    if (fam->revoked) {
        bnc_jwt_api_reason(d, "refresh token %s: family %s revoked", t->jti,
                           t->fam);
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_BLACKLISTED,
                         "token_not_valid");
        bnc_jwt_family_cleanup(fam);
        return -1;
    }
    return 0;
}

/* Denies t's jti for as long as the token can be presented: verify
 * accepts it until exp plus the leeway, so the entry (which gc drops
 * after its time) lives that long; without a usable exp (cannot happen
 * after verify, which requires one), a day. Used for the refresh token
 * that rotated out (or its whole family, on reuse), which must also fail
 * at /auth/token/verify, and by /auth/token/revoke. */
static int
bnc_jwt_api_deny(struct bnc_runtime *rt, const struct bnc_jwt_conf *jc,
                 const struct bnc_jwt_api_tok *t)
{
    int64_t until = t->exp > 0 ? t->exp : (int64_t)time(NULL) + 86400;

    if (jc->leeway > 0)
        until += jc->leeway;
    return bnc_store_jwt_deny(rt->store, t->jti, until, BNC_STORE_NOSYNC);
}

/* ---- POST /auth/token ----------------------------------------------------- */

static void
bnc_jwt_api_pair(struct bnc_response *resp, struct bnc_decision *d,
                 const char *refresh, const char *access)
{
    d->outcome = BNC_OUT_ALLOW;
    bnc_jwt_api_head(resp, d, 200);
    bnc_buf_puts(&resp->body, "{");
    if (refresh != NULL) {
        bnc_buf_puts(&resp->body, "\"refresh\": ");
        bnc_buf_json_str(&resp->body, refresh);
        bnc_buf_puts(&resp->body, ", ");
    }
    bnc_buf_puts(&resp->body, "\"access\": ");
    bnc_buf_json_str(&resp->body, access);
    bnc_buf_puts(&resp->body, "}\n");
}

static void
bnc_jwt_api_obtain(struct bnc_runtime *rt, const struct bnc_jwt_conf *jc,
                   const struct bnc_request *req, struct bnc_io *in,
                   struct bnc_response *resp, struct bnc_decision *d)
{
    static const char *const names[2] = {"username", "password"};
    const char *problems[2];
    struct bnc_buf raw;
    struct bnc_body body;
    struct bnc_result res;
    struct bnc_user u;
    struct bnc_jwt_family fam;
    const struct bnc_body_field *fu = NULL, *fp = NULL;
    char famid[BNC_JWT_API_ID_LEN + 1], rjti[BNC_JWT_API_ID_LEN + 1],
        ajti[BNC_JWT_API_ID_LEN + 1];
    char *refresh = NULL, *access = NULL;
    enum bnc_verdict verdict;
    int64_t now;
    int rc;

    bnc_buf_init(&raw);
    memset(&res, 0, sizeof(res));
    memset(&u, 0, sizeof(u));
    if (bnc_jwt_api_body(rt, req, in, &raw, &body, resp, d) != 0)
        goto out;
    problems[0] = bnc_body_field_problem(&body, "username",
                                         BNC_USER_NAME_MAX, &fu);
    problems[1] = bnc_body_field_problem(&body, "password", 0, &fp);
    if (problems[0] != NULL || problems[1] != NULL) {
        bnc_jwt_api_invalid(resp, d, names, problems, 2);
        goto out;
    }
    /* The login endpoint's check: same cache policy, enumeration defences
     * and throttling. */
    verdict = bnc_pwcheck_verify_user(bnc_runtime_pwcheck(rt), req,
                                      fu->value, fp->value, fp->vlen, &res,
                                      &u);
    if (verdict == BNC_DENY && res.status == 429) {
        /* A banned name or network: refused before any hash, whatever
         * the password (DRF's throttled answer, as at /auth/login). */
        char secs[16];

        bnc_jwt_api_reason(d, "obtain refused: %s", res.reason);
        d->retry_after = res.retry_after;
        snprintf(secs, sizeof(secs), "%u", res.retry_after);
        bnc_jwt_api_fail(rt, resp, d, 429,
                         res.detail ? res.detail : "Request was throttled.",
                         res.code ? res.code : "throttled");
        bnc_response_header(resp, "Retry-After", secs);
        goto out;
    }
    if (verdict == BNC_DENY && res.status != 0 && res.status != 401) {
        bnc_jwt_api_reason(d, "obtain refused: %s", res.reason);
        bnc_jwt_api_fail(rt, resp, d, res.status,
                         res.detail ? res.detail : BNC_JWT_API_NO_ACCOUNT,
                         res.code ? res.code : "no_active_account");
        goto out;
    }
    if (verdict == BNC_DENY) {
        /* simplejwt answers the same for unknown, wrong and inactive. */
        bnc_jwt_api_reason(d, "obtain failed: %s",
                           res.reason[0] ? res.reason : "wrong credentials");
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_NO_ACCOUNT,
                         "no_active_account");
        goto out;
    }
    if (verdict != BNC_ALLOW) {
        bnc_jwt_api_reason(d, "obtain: password check failed: %s",
                           res.reason[0] ? res.reason : "store error");
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    bnc_identity_from_user(&d->id, &u, "JWT");
    now = (int64_t)time(NULL);
    if (bnc_jwt_api_new_id(famid) != 0 || bnc_jwt_api_new_id(rjti) != 0 ||
        bnc_jwt_api_new_id(ajti) != 0) {
        bnc_jwt_api_reason(d, "obtain: random generator failed");
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    refresh = bnc_jwt_api_sign(jc, bnc_jwt_api_claims(jc, &u, "refresh", now,
                                                      now + jc->refresh_lifetime,
                                                      rjti, famid), d);
    access = refresh == NULL ? NULL
             : bnc_jwt_api_sign(jc, bnc_jwt_api_claims(jc, &u, "access", now,
                                                       now + jc->access_lifetime,
                                                       ajti, NULL), d);
    if (access == NULL) {
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    memset(&fam, 0, sizeof(fam));
    fam.user_id = u.id;
    fam.user = u.name;
    fam.created = now;
    fam.expires = now + jc->refresh_lifetime;
    fam.jti = rjti;
    rc = bnc_store_jwt_family_add(rt->store, famid, &fam, BNC_STORE_NOSYNC);
    if (rc != BNC_STORE_OK) {
        bnc_jwt_api_reason(d, "obtain: family could not be stored (code %d)",
                           rc);
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    d->authenticated = 1;
    bnc_identity_set(&d->id.cred_id, ajti);
    d->id.expires = now + jc->access_lifetime;
    bnc_jwt_api_reason(d, "token pair issued (family %s)", famid);
    bnc_jwt_api_pair(resp, d, refresh, access);
out:
    bnc_str_wipe_free(refresh);
    bnc_str_wipe_free(access);
    bnc_user_cleanup(&u);
    bnc_result_cleanup(&res);
    bnc_body_cleanup(&body);
    bnc_buf_cleanup(&raw); /* wipes the password */
}

/* ---- POST /auth/token/refresh --------------------------------------------- */

static void
bnc_jwt_api_refresh(struct bnc_runtime *rt, const struct bnc_jwt_conf *jc,
                    const struct bnc_request *req, struct bnc_io *in,
                    struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_buf raw;
    struct bnc_body body;
    struct bnc_jwt_api_tok t;
    struct bnc_jwt_family fam;
    struct bnc_user u;
    const struct bnc_body_field *f;
    enum bnc_jwt_family_state state;
    char rjti[BNC_JWT_API_ID_LEN + 1], ajti[BNC_JWT_API_ID_LEN + 1];
    char *refresh = NULL, *access = NULL;
    int64_t now = (int64_t)time(NULL);
    int rc;

    bnc_buf_init(&raw);
    memset(&t, 0, sizeof(t));
    memset(&fam, 0, sizeof(fam));
    memset(&u, 0, sizeof(u));
    f = bnc_jwt_api_token_field(rt, req, in, "refresh", &raw, &body, resp, d);
    if (f == NULL || bnc_jwt_api_check(rt, jc, f, "refresh", &t, resp, d) != 0)
        goto out;
    if (bnc_jwt_api_not_denied(rt, &t, resp, d) != 0) {
        /* A rotated-out refresh token is on the denylist: presenting it
         * again is the reuse that ends its family. */
        if (t.fam != NULL && *t.fam != '\0' &&
            strlen(t.fam) <= BNC_JWT_FAMILY_ID_MAX &&
            bnc_store_jwt_family_revoke(rt->store, t.fam, BNC_STORE_NOSYNC) ==
                BNC_STORE_OK)
            bnc_jwt_api_reason(d, "refresh token %s reused: family %s "
                               "revoked", t.jti, t.fam);
        goto out;
    }
    if (bnc_jwt_api_family(rt, &t, &fam, resp, d) != 0 ||
        bnc_jwt_api_user(rt, jc, &t, fam.created, &u, resp, d) != 0)
        goto out;
    bnc_identity_from_user(&d->id, &u, "JWT");
    if (fam.user_id != u.id) {
        bnc_jwt_api_reason(d, "refresh token %s: family %s is another "
                           "user's", t.jti, t.fam);
        bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_INVALID,
                         "token_not_valid");
        goto out;
    }
    if (bnc_jwt_api_new_id(rjti) != 0 || bnc_jwt_api_new_id(ajti) != 0) {
        bnc_jwt_api_reason(d, "refresh: random generator failed");
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    /* Signed before the family moves on: a failure changes nothing. */
    access = bnc_jwt_api_sign(jc, bnc_jwt_api_claims(jc, &u, "access", now,
                                                     now + jc->access_lifetime,
                                                     ajti, NULL), d);
    if (access != NULL && jc->rotate_refresh)
        refresh = bnc_jwt_api_sign(jc, bnc_jwt_api_claims(
                                           jc, &u, "refresh", now,
                                           now + jc->refresh_lifetime, rjti,
                                           t.fam), d);
    if (access == NULL || (jc->rotate_refresh && refresh == NULL)) {
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    rc = bnc_store_jwt_family_use(rt->store, t.fam, t.jti,
                                  jc->rotate_refresh ? rjti : NULL,
                                  now + jc->refresh_lifetime, &state, NULL,
                                  BNC_STORE_NOSYNC);
    if (rc != BNC_STORE_OK) {
        bnc_jwt_api_reason(d, "store error using family %s (code %d)", t.fam,
                           rc);
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    if (state != BNC_JWT_FAMILY_CURRENT) {
        if (state == BNC_JWT_FAMILY_REUSED)
            (void)bnc_jwt_api_deny(rt, jc, &t);
        bnc_jwt_api_reason(d, "refresh token %s: %s", t.jti,
                           state == BNC_JWT_FAMILY_REUSED
                               ? "reused after rotation: family revoked"
                           : state == BNC_JWT_FAMILY_REVOKED
                               ? "family revoked"
                               : "family unknown");
        bnc_jwt_api_fail(rt, resp, d, 401,
                         state == BNC_JWT_FAMILY_MISSING
                             ? BNC_JWT_API_INVALID
                             : BNC_JWT_API_BLACKLISTED,
                         "token_not_valid");
        goto out;
    }
    /* simplejwt's BLACKLIST_AFTER_ROTATION. */
    if (jc->rotate_refresh)
        (void)bnc_jwt_api_deny(rt, jc, &t);
    d->authenticated = 1;
    bnc_identity_set(&d->id.cred_id, ajti);
    d->id.expires = now + jc->access_lifetime;
    bnc_jwt_api_reason(d, "refresh of family %s%s", t.fam,
                       jc->rotate_refresh ? " (rotated)" : "");
    bnc_jwt_api_pair(resp, d, refresh, access);
    /* simplejwt orders {"access", "refresh"} here; clients read by name. */
out:
    bnc_str_wipe_free(refresh);
    bnc_str_wipe_free(access);
    bnc_user_cleanup(&u);
    bnc_jwt_family_cleanup(&fam);
    bnc_jwt_api_tok_cleanup(&t);
    bnc_body_cleanup(&body);
    bnc_buf_cleanup(&raw);
}

/* ---- POST /auth/token/verify ---------------------------------------------- */

static void
bnc_jwt_api_verify(struct bnc_runtime *rt, const struct bnc_jwt_conf *jc,
                   const struct bnc_request *req, struct bnc_io *in,
                   struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_buf raw;
    struct bnc_body body;
    struct bnc_jwt_api_tok t;
    struct bnc_jwt_family fam;
    struct bnc_user u;
    const struct bnc_body_field *f;
    int rc, is_refresh;

    bnc_buf_init(&raw);
    memset(&t, 0, sizeof(t));
    memset(&fam, 0, sizeof(fam));
    memset(&u, 0, sizeof(u));
    f = bnc_jwt_api_token_field(rt, req, in, "token", &raw, &body, resp, d);
    /* simplejwt's UntypedToken: any token_type. */
    if (f == NULL || bnc_jwt_api_check(rt, jc, f, NULL, &t, resp, d) != 0)
        goto out;
    rc = bnc_store_jwt_denied(rt->store, t.jti);
    if (rc == 1) {
        /* simplejwt's verify serializer: 400 non_field_errors. */
        bnc_jwt_api_reason(d, "verify: jti %s is revoked", t.jti);
        d->outcome = BNC_OUT_DENY;
        bnc_jwt_api_head(resp, d, 400);
        bnc_buf_puts(&resp->body, "{\"non_field_errors\": [\""
                     BNC_JWT_API_BLACKLISTED "\"], \"detail\": \""
                     BNC_JWT_API_BLACKLISTED "\", \"code\": "
                     "\"token_not_valid\"}\n");
        goto out;
    }
    if (rc != 0) {
        bnc_jwt_api_reason(d, "store error reading the denylist (code %d)",
                           rc);
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    is_refresh = t.type != NULL && strcmp(t.type, "refresh") == 0;
    if (is_refresh) {
        if (bnc_jwt_api_family(rt, &t, &fam, resp, d) != 0)
            goto out;
        if (strcmp(fam.jti, t.jti) != 0) {
            bnc_jwt_api_reason(d, "verify: refresh token %s was rotated",
                               t.jti);
            bnc_jwt_api_fail(rt, resp, d, 401, BNC_JWT_API_BLACKLISTED,
                             "token_not_valid");
            goto out;
        }
    }
    if ((jc->check_user || is_refresh) &&
        bnc_jwt_api_user(rt, jc, &t, is_refresh ? fam.created : t.iat, &u,
                         resp, d) != 0)
        goto out;
    if (u.name != NULL)
        bnc_identity_from_user(&d->id, &u, "JWT");
    bnc_identity_set(&d->id.cred_id, t.jti);
    d->outcome = BNC_OUT_ALLOW;
    bnc_jwt_api_reason(d, "verify: %s token valid", t.type ? t.type : "a");
    bnc_jwt_api_head(resp, d, 200);
    bnc_buf_puts(&resp->body, "{}\n");
out:
    bnc_user_cleanup(&u);
    bnc_jwt_family_cleanup(&fam);
    bnc_jwt_api_tok_cleanup(&t);
    bnc_body_cleanup(&body);
    bnc_buf_cleanup(&raw);
}

/* ---- POST /auth/token/revoke ---------------------------------------------- */

/* simplejwt's blacklist view: the refresh token dies; here its whole
 * family too, since every later token of the family descends from it
 * (a client logging out ends its login, not one link of it). */
static void
bnc_jwt_api_revoke(struct bnc_runtime *rt, const struct bnc_jwt_conf *jc,
                   const struct bnc_request *req, struct bnc_io *in,
                   struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_buf raw;
    struct bnc_body body;
    struct bnc_jwt_api_tok t;
    const struct bnc_body_field *f;
    int rc;

    bnc_buf_init(&raw);
    memset(&t, 0, sizeof(t));
    f = bnc_jwt_api_token_field(rt, req, in, "refresh", &raw, &body, resp, d);
    if (f == NULL || bnc_jwt_api_check(rt, jc, f, "refresh", &t, resp, d) != 0)
        goto out;
    rc = bnc_jwt_api_deny(rt, jc, &t);
    if (rc == BNC_STORE_OK && t.fam != NULL && *t.fam != '\0' &&
        strlen(t.fam) <= BNC_JWT_FAMILY_ID_MAX) {
        rc = bnc_store_jwt_family_revoke(rt->store, t.fam, BNC_STORE_NOSYNC);
        if (rc == BNC_STORE_NOTFOUND)
            rc = BNC_STORE_OK; /* gc'ed or minted elsewhere: the jti is enough */
    }
    if (rc != BNC_STORE_OK) {
        bnc_jwt_api_reason(d, "revoke of %s: store error (code %d)", t.jti,
                           rc);
        bnc_jwt_api_fail(rt, resp, d, 503, BNC_JWT_API_UNAVAILABLE,
                         "service_unavailable");
        goto out;
    }
    bnc_identity_set(&d->id.cred_id, t.jti);
    d->outcome = BNC_OUT_ALLOW;
    bnc_jwt_api_reason(d, "refresh token %s revoked%s%s", t.jti,
                       t.fam != NULL ? " with family " : "",
                       t.fam != NULL ? t.fam : "");
    bnc_jwt_api_head(resp, d, 200);
    bnc_buf_puts(&resp->body, "{}\n");
out:
    bnc_jwt_api_tok_cleanup(&t);
    bnc_body_cleanup(&body);
    bnc_buf_cleanup(&raw);
}

/* ---- GET /auth/jwks.json -------------------------------------------------- */

static void
bnc_jwt_api_jwks(const struct bnc_jwt_conf *jc, struct bnc_response *resp,
                 struct bnc_decision *d)
{
    d->outcome = BNC_OUT_ALLOW;
    d->status = 200;
    resp->status = 200;
    bnc_response_header(resp, "Content-Type", "application/json");
    /* Public keys: caches may keep them a while, not across a rotation. */
    bnc_response_header(resp, "Cache-Control", "public, max-age=300");
    bnc_buf_reset(&resp->body);
    bnc_jwt_keyset_jwks(jc->keys, &resp->body);
    bnc_buf_puts(&resp->body, "\n");
    bnc_jwt_api_reason(d, "jwks");
}

/* ---- dispatch ------------------------------------------------------------- */

/* ep equals name, with or without simplejwt's trailing slash. */
static int
bnc_jwt_api_is(const char *ep, const char *name)
{
    size_t n = strlen(name);

    return strncmp(ep, name, n) == 0 &&
           (ep[n] == '\0' || (ep[n] == '/' && ep[n + 1] == '\0'));
}

int
bnc_jwt_api_handle(struct bnc_runtime *rt, const char *ep,
                   const struct bnc_request *req, struct bnc_io *in,
                   struct bnc_response *resp, struct bnc_decision *d)
{
    const struct bnc_jwt_conf *jc = rt->jwt;
    int get = strcmp(req->method, "GET") == 0 ||
              strcmp(req->method, "HEAD") == 0;
    int post = strcmp(req->method, "POST") == 0;
    int which;

    if (bnc_jwt_api_is(ep, "token"))
        which = 0;
    else if (bnc_jwt_api_is(ep, "token/refresh"))
        which = 1;
    else if (bnc_jwt_api_is(ep, "token/verify"))
        which = 2;
    else if (bnc_jwt_api_is(ep, "token/revoke"))
        which = 3;
    else if (strcmp(ep, "jwks.json") == 0)
        which = 4;
    else
        return 0;
    d->scheme = "jwt";
    if (jc == NULL || jc->keys == NULL ||
        (which != 2 && which != 4 && !bnc_jwt_keyset_can_sign(jc->keys))) {
        bnc_jwt_api_reason(d, "JWT %s is not enabled ([jwt] has no %s)",
                           which == 2 || which == 4 ? "verification"
                                                    : "issuance",
                           which == 2 || which == 4 ? "keys"
                                                    : "signing_key");
        bnc_jwt_api_fail(rt, resp, d, 404, "Not found.", "not_found");
        return 1;
    }
    if (which == 4) {
        if (!get)
            bnc_jwt_api_405(rt, resp, d, "GET, HEAD", "jwks.json");
        else
            bnc_jwt_api_jwks(jc, resp, d);
        return 1;
    }
    if (!post) {
        bnc_jwt_api_405(rt, resp, d, "POST", ep);
        return 1;
    }
    switch (which) {
    case 0:
        bnc_jwt_api_obtain(rt, jc, req, in, resp, d);
        break;
    case 1:
        bnc_jwt_api_refresh(rt, jc, req, in, resp, d);
        break;
    case 2:
        bnc_jwt_api_verify(rt, jc, req, in, resp, d);
        break;
    default:
        bnc_jwt_api_revoke(rt, jc, req, in, resp, d);
        break;
    }
    return 1;
}
