/* SPDX-License-Identifier: MIT */
/* /auth/ endpoints served in the Responder role or as plain CGI: health,
 * whoami, and the session login and logout (DESIGN 5, issue 4); the JWT
 * endpoints live in jwt_api.c.
 *
 * Answers follow DRF where DRF has one: field errors as {"field": [...]},
 * failed JSON logins as the obtain-token view's 400 non_field_errors, CSRF
 * failures as 403 "CSRF Failed: <Django's reason>". A login posted as a
 * form (the HTML page) gets browser answers instead: 302 to next on
 * success, the form again with a message (401) on failure. */
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "auth/decide.h"
#include "auth/pwcheck.h"
#include "auth/rules.h"
#include "auth/session.h"
#include "crypto/ct.h"
#include "fcgi/body.h"
#include "fcgi/jwt_api.h"
#include "fcgi/login_page.h"
#include "fcgi/metrics_api.h"
#include "fcgi/request.h"
#include "fcgi/responder.h"
#include "fcgi/response.h"
#include "metrics/metrics.h"
#include "runtime.h"
#include "store/store.h"
#include "util/str.h"

/* Longest "next" we carry; bnc_session_next_valid() refuses longer ones. */
#define BNC_RESPONDER_NEXT_MAX 2048

/* Wording of the JSON login failures (DRF's ObtainAuthToken). */
#define BNC_RESPONDER_LOGIN_FAILED "Unable to log in with provided credentials."

static void
bnc_responder_error(struct bnc_response *resp, struct bnc_decision *d,
                    int status, const char *detail, const char *code,
                    const char *reason)
{
    d->outcome = status >= 500 ? BNC_OUT_ERROR : BNC_OUT_DENY;
    d->status = status;
    bnc_strlcpy(d->reason, reason, sizeof(d->reason)); /* may cut: log only */
    bnc_response_json_error(resp, status, detail, code);
}

static void
bnc_responder_json_field(struct bnc_buf *b, const char *k, const char *v,
                         int *first)
{
    bnc_buf_puts(b, *first ? "{" : ", ");
    bnc_buf_json_str(b, k);
    bnc_buf_puts(b, ": ");
    if (v != NULL)
        bnc_buf_json_str(b, v);
    else
        bnc_buf_puts(b, "null");
    *first = 0;
}

static void
bnc_responder_json_head(struct bnc_response *resp, int status)
{
    resp->status = status;
    bnc_response_header(resp, "Content-Type", "application/json");
    bnc_response_header(resp, "Cache-Control", "no-store");
    bnc_buf_reset(&resp->body);
}

/* 1 when the client prefers a page to JSON (a browser navigation). */
static int
bnc_responder_wants_html(const struct bnc_request *req)
{
    return strstr(req->accept, "text/html") != NULL;
}

static void
bnc_responder_redirect(struct bnc_response *resp, struct bnc_decision *d,
                       const char *location)
{
    resp->status = 302;
    d->status = 302;
    bnc_response_header(resp, "Location", location);
    bnc_response_header(resp, "Cache-Control", "no-store");
}

static void
bnc_responder_405(struct bnc_response *resp, struct bnc_decision *d,
                  const char *allow, const char *endpoint)
{
    char why[96];

    snprintf(why, sizeof(why), "%s does not take this method (allowed: %s)",
             endpoint, allow);
    bnc_response_header(resp, "Allow", allow);
    bnc_responder_error(resp, d, 405, "Method not allowed.",
                        "method_not_allowed", why);
}

/* ---- request bodies -------------------------------------------------- */

/* Reads and parses the body; on failure answers (JSON) and returns -1. */
static int
bnc_responder_body(const struct bnc_request *req, struct bnc_io *in,
                   int required, struct bnc_buf *raw, struct bnc_body *body,
                   struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_body_err err;

    if (bnc_body_load(req, in, required, raw, body, &err) != 0) {
        bnc_responder_error(resp, d, err.status, err.detail, err.code,
                            err.detail);
        return -1;
    }
    return 0;
}

/* The validated same-site "next" of a body or query ("/" otherwise). */
static void
bnc_responder_next(const struct bnc_body *body, char *out, size_t cap)
{
    const struct bnc_body_field *f;

    if (bnc_body_get(body, "next", &f) == 1 && f->kind == BNC_BODY_STRING &&
        f->vlen > 0) {
        bnc_session_next_valid(f->value, out, cap);
        return;
    }
    bnc_session_next_valid("/", out, cap);
}

/* Login CSRF: a cross-site page must not log a visitor into the attacker's
 * account. Browsers send Origin with every POST; when present it must be
 * this site or a trusted origin (Django's rule and wording). */
static int
bnc_responder_origin_ok(const struct bnc_session_conf *sc,
                        const struct bnc_request *req, char *why, size_t n)
{
    const char *origin = bnc_request_param(req, "HTTP_ORIGIN");
    char self[600];
    size_t i;

    if (origin == NULL) {
        /* Old clients send no Origin: on HTTPS Django then requires a
         * same-origin Referer (the authorizer's bnc_csrf_check does the
         * same); over plain HTTP there is nothing trustworthy to check. */
        const char *ref = bnc_request_param(req, "HTTP_REFERER");
        size_t sl;

        if (!req->https)
            return 1;
        if (ref == NULL || *ref == '\0') {
            snprintf(why, n, "Referer checking failed - no Referer.");
            return 0;
        }
        snprintf(self, sizeof(self), "https://%s", req->host);
        sl = strlen(self);
        if (*req->host != '\0' && strncasecmp(ref, self, sl) == 0 &&
            (ref[sl] == '/' || ref[sl] == '\0'))
            return 1;
        for (i = 0; sc->trusted_origins != NULL &&
                    sc->trusted_origins[i] != NULL; i++) {
            size_t tl = strlen(sc->trusted_origins[i]);
            if (strncasecmp(ref, sc->trusted_origins[i], tl) == 0 &&
                (ref[tl] == '/' || ref[tl] == '\0'))
                return 1;
        }
        /* Without its query: a Referer can carry ?token=... into the log. */
        sl = strcspn(ref, "?#");
        snprintf(why, n, "Referer checking failed - %.*s does not match "
                 "any trusted origins.", (int)(sl < 150 ? sl : 150), ref);
        return 0;
    }
    snprintf(self, sizeof(self), "%s://%s", req->https ? "https" : "http",
             req->host);
    if (*req->host != '\0' && bnc_str_ieq(origin, self))
        return 1;
    for (i = 0; sc->trusted_origins != NULL && sc->trusted_origins[i] != NULL;
         i++)
        if (bnc_str_ieq(origin, sc->trusted_origins[i]))
            return 1;
    snprintf(why, n,
             "Origin checking failed - %.150s does not match any trusted "
             "origins.",
             origin);
    return 0;
}

static void
bnc_responder_csrf_failed(struct bnc_response *resp, struct bnc_decision *d,
                          const char *why)
{
    char detail[300];

    snprintf(detail, sizeof(detail), "CSRF Failed: %s", why);
    /* The authorizer's session scheme uses the same code. */
    bnc_responder_error(resp, d, 403, detail, "csrf_failed", detail);
}

/* ---- GET /auth/login ------------------------------------------------- */

static const char *
bnc_responder_query(const struct bnc_request *req)
{
    const char *q = bnc_request_param(req, "QUERY_STRING");
    const char *qm;

    if (q != NULL)
        return q;
    qm = strchr(req->uri, '?');
    return qm != NULL ? qm + 1 : "";
}

static void
bnc_responder_login_get(const struct bnc_request *req,
                        struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_body q;
    struct bnc_body_err err;
    struct bnc_login_view v;
    char next[BNC_RESPONDER_NEXT_MAX];

    memset(&v, 0, sizeof(v));
    memset(&err, 0, sizeof(err));
    /* A mangled query only loses its next: the form is still useful. */
    if (bnc_body_parse_query(bnc_responder_query(req), &q, &err) != 0)
        bnc_body_cleanup(&q);
    bnc_responder_next(&q, next, sizeof(next));
    bnc_body_cleanup(&q);
    v.next = next;
    bnc_login_page_render(resp, 200, &v);
    d->outcome = BNC_OUT_ALLOW;
    d->status = 200;
    snprintf(d->reason, sizeof(d->reason), "login page");
}

/* ---- POST /auth/login ------------------------------------------------ */

/* Field errors: {"username": ["..."], "password": ["..."]} (DRF), or the
 * form again with one message. */
static void
bnc_responder_login_invalid(struct bnc_response *resp, struct bnc_decision *d,
                            int form, const char *uerr, const char *perr,
                            const char *next)
{
    struct bnc_login_view v;
    int first = 1;

    d->outcome = BNC_OUT_DENY;
    d->status = 400;
    snprintf(d->reason, sizeof(d->reason), "login refused: %s%s%s%s",
             uerr ? "username: " : "", uerr ? uerr : "",
             perr ? (uerr ? " password: " : "password: ") : "",
             perr ? perr : "");
    if (form) {
        memset(&v, 0, sizeof(v));
        v.next = next;
        v.error = "Enter your username and password.";
        bnc_login_page_render(resp, 400, &v);
        return;
    }
    bnc_responder_json_head(resp, 400);
    bnc_buf_puts(&resp->body, "{");
    if (uerr != NULL) {
        bnc_buf_puts(&resp->body, "\"username\": [");
        bnc_buf_json_str(&resp->body, uerr);
        bnc_buf_puts(&resp->body, "]");
        first = 0;
    }
    if (perr != NULL) {
        bnc_buf_puts(&resp->body, first ? "\"password\": [" : ", \"password\": [");
        bnc_buf_json_str(&resp->body, perr);
        bnc_buf_puts(&resp->body, "]");
    }
    bnc_buf_puts(&resp->body, "}\n");
}

/* A session this browser already has ends at a new login: one browser, one
 * live session, nothing left behind for a later user of the machine. */
static void
bnc_responder_end_old(const struct bnc_session_conf *sc, struct bnc_store *st,
                      const struct bnc_request *req)
{
    struct bnc_session old;
    struct bnc_result res;

    memset(&old, 0, sizeof(old));
    memset(&res, 0, sizeof(res));
    if (bnc_session_lookup(sc, st, req, &old, NULL, &res) == BNC_ALLOW)
        (void)bnc_store_session_del(st, old.digest, BNC_STORE_NOSYNC);
    bnc_session_cleanup(&old);
    bnc_result_cleanup(&res);
}

/* A banned name or network (issue 7): 429 with Retry-After, the same for
 * any password; the form page shows DRF's message. */
static void
bnc_responder_throttled(struct bnc_response *resp, struct bnc_decision *d,
                        int form, const struct bnc_result *res,
                        const char *username, const char *next)
{
    struct bnc_login_view v;
    char secs[16];

    d->outcome = BNC_OUT_DENY;
    d->status = 429;
    d->retry_after = res->retry_after;
    d->code = res->code;
    snprintf(d->detail_buf, sizeof(d->detail_buf), "%s", res->detail);
    d->detail = d->detail_buf;
    snprintf(d->reason, sizeof(d->reason), "login refused: %s", res->reason);
    snprintf(secs, sizeof(secs), "%u", res->retry_after);
    if (form) {
        memset(&v, 0, sizeof(v));
        v.next = next;
        v.username = username;
        v.error = res->detail;
        bnc_login_page_render(resp, 429, &v);
    } else {
        bnc_response_json_error(resp, 429, res->detail, res->code);
    }
    bnc_response_header(resp, "Retry-After", secs);
}

static void
bnc_responder_login_post(struct bnc_runtime *rt,
                         const struct bnc_session_conf *sc,
                         const struct bnc_request *req, struct bnc_io *in,
                         struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_buf raw;
    struct bnc_body body;
    struct bnc_result res;
    struct bnc_user u;
    struct bnc_login_view v;
    const struct bnc_body_field *fu = NULL, *fp = NULL;
    const char *uerr, *perr;
    char next[BNC_RESPONDER_NEXT_MAX], csrf[44], why[240];
    enum bnc_verdict verdict;
    int form, first = 1;
    int64_t expires;

    bnc_buf_init(&raw);
    memset(&body, 0, sizeof(body));
    memset(&res, 0, sizeof(res));
    memset(&u, 0, sizeof(u));
    memset(csrf, 0, sizeof(csrf));
    d->scheme = "session";
    if (!bnc_responder_origin_ok(sc, req, why, sizeof(why))) {
        bnc_responder_csrf_failed(resp, d, why);
        goto out;
    }
    if (bnc_responder_body(req, in, 1, &raw, &body, resp, d) != 0)
        goto out;
    form = body.type == BNC_BODY_FORM;
    bnc_responder_next(&body, next, sizeof(next));
    uerr = bnc_body_field_problem(&body, "username", BNC_USER_NAME_MAX,
                                       &fu);
    perr = bnc_body_field_problem(&body, "password", 0, &fp);
    if (uerr != NULL || perr != NULL) {
        bnc_responder_login_invalid(resp, d, form, uerr, perr, next);
        goto out;
    }
    verdict = bnc_pwcheck_verify_user(bnc_runtime_pwcheck(rt), req,
                                      fu->value, fp->value, fp->vlen, &res,
                                      &u);
    if (verdict == BNC_DENY && res.status == 429) {
        bnc_responder_throttled(resp, d, form, &res, fu->value, next);
        goto out;
    }
    if (verdict == BNC_DENY) {
        int inactive = res.detail != NULL &&
                       strcmp(res.detail, BNC_PWCHECK_INACTIVE) == 0;

        bnc_metrics_count(BNC_MET_LOGIN_FAIL);
        d->outcome = BNC_OUT_DENY;
        snprintf(d->reason, sizeof(d->reason), "login failed: %s",
                 res.reason[0] ? res.reason : "wrong credentials");
        if (form) {
            /* The same page for an unknown user and a wrong password. */
            memset(&v, 0, sizeof(v));
            v.next = next;
            v.username = fu->value;
            v.error = inactive ? BNC_PWCHECK_INACTIVE : BNC_PWCHECK_WRONG;
            bnc_login_page_render(resp, 401, &v);
            d->status = 401;
            goto out;
        }
        d->status = 400;
        bnc_responder_json_head(resp, 400);
        bnc_buf_puts(&resp->body, "{\"non_field_errors\": [");
        bnc_buf_json_str(&resp->body, inactive ? BNC_PWCHECK_INACTIVE
                                               : BNC_RESPONDER_LOGIN_FAILED);
        bnc_buf_puts(&resp->body, "]}\n");
        goto out;
    }
    if (verdict != BNC_ALLOW) {
        snprintf(why, sizeof(why), "login: password check failed: %s",
                 res.reason[0] ? res.reason : "store error");
        bnc_responder_error(resp, d, 503,
                            "Authentication is temporarily unavailable.",
                            "service_unavailable", why);
        goto out;
    }
    bnc_responder_end_old(sc, rt->store, req);
    expires = (int64_t)time(NULL) + (int64_t)sc->lifetime;
    if (bnc_session_start(sc, rt->store, &u, req, resp, csrf) != 0) {
        /* Drop any Set-Cookie already added: nothing was stored. */
        bnc_buf_reset(&resp->headers);
        bnc_responder_error(resp, d, 503,
                            "Authentication is temporarily unavailable.",
                            "service_unavailable",
                            "login: the session could not be stored");
        goto out;
    }
    bnc_metrics_count(BNC_MET_LOGIN_OK);
    d->outcome = BNC_OUT_ALLOW;
    d->authenticated = 1;
    bnc_identity_from_user(&d->id, &u, "Session");
    d->id.expires = expires;
    snprintf(d->reason, sizeof(d->reason), "login");
    if (form) {
        bnc_responder_redirect(resp, d, next);
        goto out;
    }
    d->status = 200;
    bnc_responder_json_head(resp, 200);
    bnc_responder_json_field(&resp->body, "username", u.name, &first);
    bnc_responder_json_field(&resp->body, "csrftoken", csrf, &first);
    bnc_buf_printf(&resp->body, ", \"expires\": %lld}\n", (long long)expires);
out:
    bnc_user_cleanup(&u);
    bnc_result_cleanup(&res);
    bnc_body_cleanup(&body);
    bnc_buf_cleanup(&raw); /* wipes the password */
    bnc_memzero(csrf, sizeof(csrf));
}

/* ---- POST /auth/logout ----------------------------------------------- */

static void
bnc_responder_logout(struct bnc_runtime *rt, const struct bnc_session_conf *sc,
                     const struct bnc_request *req, struct bnc_io *in,
                     struct bnc_response *resp, struct bnc_decision *d)
{
    struct bnc_buf raw;
    struct bnc_body body;
    struct bnc_session s;
    struct bnc_result res;
    const struct bnc_body_field *ft = NULL;
    const char *form_token = NULL;
    char next[BNC_RESPONDER_NEXT_MAX], why[240];
    enum bnc_verdict verdict;
    int form, rc;

    bnc_buf_init(&raw);
    memset(&body, 0, sizeof(body));
    memset(&s, 0, sizeof(s));
    memset(&res, 0, sizeof(res));
    d->scheme = "session";
    /* A logout may come without a body (the token in X-CSRFToken). */
    if (bnc_responder_body(req, in, 0, &raw, &body, resp, d) != 0)
        goto out;
    form = body.type == BNC_BODY_FORM;
    verdict = bnc_session_lookup(sc, rt->store, req, &s, NULL, &res);
    if (verdict == BNC_DECLINED || verdict == BNC_DENY) {
        /* Whatever was wrong with it (expired, forged, or a second cookie
         * planted beside ours), this browser asked to be logged out: clear
         * its cookies rather than answer as if nothing needed doing. */
        bnc_session_clear_cookies(sc, req, resp);
        if (form) {
            /* A browser whose session is already gone wanted exactly that:
             * back to the login page rather than a JSON error. */
            d->outcome = BNC_OUT_DENY;
            snprintf(d->reason, sizeof(d->reason), "logout without a valid "
                     "session: %s", verdict == BNC_DECLINED ? "no cookie"
                     : res.reason);
            bnc_responder_redirect(resp, d, sc->login_url);
            goto out;
        }
        if (verdict == BNC_DECLINED)
            bnc_responder_error(resp, d, 401,
                                "Authentication credentials were not "
                                "provided.",
                                "not_authenticated", "logout without a "
                                "session cookie");
        else
            bnc_responder_error(resp, d, 401,
                                res.detail ? res.detail : "Invalid session.",
                                res.code ? res.code : "session_invalid",
                                res.reason[0] ? res.reason : "invalid session");
        goto out;
    }
    if (verdict != BNC_ALLOW) {
        bnc_responder_error(resp, d, 503,
                            "Authentication is temporarily unavailable.",
                            "service_unavailable",
                            res.reason[0] ? res.reason : "store error");
        goto out;
    }
    d->authenticated = 1;
    bnc_identity_set(&d->id.user, s.user);
    bnc_identity_set(&d->id.auth_type, "Session");
    bnc_identity_set(&d->id.cred_id, s.id);
    if (form) {
        rc = bnc_body_get(&body, sc->csrf_form_field, &ft);
        if (rc < 0) {
            bnc_responder_csrf_failed(resp, d, "CSRF token given more than "
                                      "once.");
            goto out;
        }
        if (rc == 1 && ft->kind == BNC_BODY_STRING)
            form_token = ft->value;
    }
    if (bnc_csrf_check(sc, req, &s, form_token, why, sizeof(why)) != 0) {
        bnc_responder_csrf_failed(resp, d, why);
        goto out;
    }
    if (bnc_session_end(sc, rt->store, &s, req, resp) != 0) {
        /* The cookies are cleared all the same (this browser is logged
         * out), but the client must know the session may live on. */
        bnc_responder_error(resp, d, 503,
                            "Authentication is temporarily unavailable.",
                            "service_unavailable",
                            "logout: the session could not be deleted");
        goto out;
    }
    d->outcome = BNC_OUT_ALLOW;
    snprintf(d->reason, sizeof(d->reason), "logout");
    if (form) {
        if (bnc_body_get(&body, "next", &ft) == 1)
            bnc_responder_next(&body, next, sizeof(next));
        else
            bnc_strlcpy(next, sc->login_url, sizeof(next));
        bnc_responder_redirect(resp, d, next);
        goto out;
    }
    d->status = 200;
    bnc_responder_json_head(resp, 200);
    bnc_buf_puts(&resp->body, "{\"detail\": \"Logged out.\"}\n");
out:
    bnc_session_cleanup(&s);
    bnc_result_cleanup(&res);
    bnc_body_cleanup(&body);
    bnc_buf_cleanup(&raw);
}

/* ---- GET /auth/whoami ------------------------------------------------ */

/* "a,b" -> ["a", "b"] */
static void
bnc_responder_json_groups(struct bnc_buf *b, const char *groups)
{
    const char *p = groups;
    int first = 1;

    bnc_buf_puts(b, "[");
    while (p != NULL && *p != '\0') {
        size_t n = strcspn(p, ",");
        char one[256];

        if (n > 0 && n < sizeof(one)) {
            memcpy(one, p, n);
            one[n] = '\0';
            bnc_buf_puts(b, first ? "" : ", ");
            bnc_buf_json_str(b, one);
            first = 0;
        }
        p += n;
        if (*p == ',')
            p++;
    }
    bnc_buf_puts(b, "]");
}

/* The CSRF token of the caller's session, for the logout form. */
static int
bnc_responder_csrf_of(struct bnc_runtime *rt, const struct bnc_session_conf *sc,
                      const struct bnc_request *req, char tok[44])
{
    struct bnc_session s;
    struct bnc_result res;
    int ok = 0;

    memset(&s, 0, sizeof(s));
    memset(&res, 0, sizeof(res));
    if (bnc_session_lookup(sc, rt->store, req, &s, NULL, &res) == BNC_ALLOW) {
        bnc_csrf_token(&s, tok);
        ok = 1;
    }
    bnc_session_cleanup(&s);
    bnc_result_cleanup(&res);
    return ok;
}

/* GET /auth/whoami: the caller's identity, through the same schemes. */
static void
bnc_responder_whoami(struct bnc_runtime *rt, const struct bnc_request *req,
                     struct bnc_response *resp, struct bnc_decision *d)
{
    const struct bnc_session_conf *sc = bnc_session_conf_of(rt);
    const struct bnc_identity *id = &d->id;
    struct bnc_buf loc;
    char tok[44];
    int first = 1;

    bnc_decide(rt, req, d);
    if (d->outcome != BNC_OUT_ALLOW || !d->authenticated) {
        if (d->outcome == BNC_OUT_ALLOW) { /* anonymous allowed by a rule */
            d->outcome = BNC_OUT_DENY;
            d->status = 401;
            d->detail = "Authentication credentials were not provided.";
            d->code = "not_authenticated";
            snprintf(d->reason, sizeof(d->reason), "whoami: anonymous");
        }
        if (sc != NULL && d->status == 401 &&
            bnc_session_wants_redirect(sc, req)) {
            bnc_buf_init(&loc);
            bnc_session_login_location(sc, req, &loc);
            bnc_responder_redirect(resp, d, bnc_buf_str(&loc));
            bnc_buf_cleanup(&loc);
            return;
        }
        bnc_decision_respond(rt, req, d, resp);
        return;
    }
    if (bnc_responder_wants_html(req)) {
        int session = sc != NULL && id->auth_type != NULL &&
                      strcmp(id->auth_type, "Session") == 0 &&
                      bnc_responder_csrf_of(rt, sc, req, tok);

        bnc_login_page_whoami(resp, id, sc != NULL ? sc->csrf_form_field : NULL,
                              session ? tok : NULL);
        bnc_memzero(tok, sizeof(tok));
        return;
    }
    bnc_responder_json_head(resp, 200);
    bnc_responder_json_field(&resp->body, "username", id->user, &first);
    bnc_responder_json_field(&resp->body, "user_id", id->user_id, &first);
    bnc_responder_json_field(&resp->body, "auth_type", id->auth_type, &first);
    bnc_buf_puts(&resp->body, ", \"groups\": ");
    bnc_responder_json_groups(&resp->body, id->groups);
    bnc_responder_json_field(&resp->body, "email", id->email, &first);
    bnc_responder_json_field(&resp->body, "name", id->name, &first);
    if (id->expires != 0)
        bnc_buf_printf(&resp->body, ", \"expires\": %lld",
                       (long long)id->expires);
    else
        bnc_buf_puts(&resp->body, ", \"expires\": null");
    bnc_responder_json_field(&resp->body, "credential_id", id->cred_id,
                             &first);
    bnc_buf_puts(&resp->body, "}\n");
}

/* ---- dispatch -------------------------------------------------------- */

static void
bnc_responder_healthz(struct bnc_runtime *rt, struct bnc_response *resp,
                      struct bnc_decision *d)
{
    if (rt->store == NULL || bnc_store_dead(rt->store)) {
        bnc_responder_error(resp, d, 503, "Store unavailable.",
                            "service_unavailable", "store is dead");
        return;
    }
    d->outcome = BNC_OUT_ALLOW;
    d->status = 200;
    snprintf(d->reason, sizeof(d->reason), "healthz");
    bnc_responder_json_head(resp, 200);
    bnc_buf_puts(&resp->body, "{\"status\": \"ok\"}\n");
}

void
bnc_responder_handle(struct bnc_runtime *rt, const struct bnc_request *req,
                     struct bnc_io *in, struct bnc_response *resp,
                     struct bnc_decision *d)
{
    char path[4096];
    const char *why = NULL, *ep;
    const struct bnc_session_conf *sc;
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
    int post = strcmp(req->method, "POST") == 0;

    if (req->ambiguous != NULL) {
        /* A cookie or Authorization sent twice, differently: not ours to
         * pick one (bnc_decide says the same for the authorizer). */
        bnc_responder_error(resp, d, 400, "Request header sent more than once.",
                            "duplicate_header", req->ambiguous);
        return;
    }
    if (bnc_path_normalize(req->uri, path, sizeof(path), &why) != 0) {
        bnc_responder_error(resp, d, 400, "Malformed request path.",
                            "invalid_path", why ? why : "bad path");
        return;
    }
    if (strncmp(path, BNC_API_BASE, strlen(BNC_API_BASE)) != 0) {
        bnc_responder_error(resp, d, 404, "Not found.", "not_found",
                            "outside the API base");
        return;
    }
    ep = path + strlen(BNC_API_BASE);
    if (strcmp(ep, "healthz") == 0) {
        if (!get)
            bnc_responder_405(resp, d, "GET, HEAD", "healthz");
        else
            bnc_responder_healthz(rt, resp, d);
        return;
    }
    if (strcmp(ep, "whoami") == 0) {
        if (!get)
            bnc_responder_405(resp, d, "GET, HEAD", "whoami");
        else
            bnc_responder_whoami(rt, req, resp, d);
        return;
    }
    if (strcmp(ep, "metrics") == 0) {
        if (!get)
            bnc_responder_405(resp, d, "GET, HEAD", "metrics");
        else
            bnc_metrics_api_handle(rt, req, path, resp, d);
        return;
    }
    if (strcmp(ep, "login") == 0 || strcmp(ep, "logout") == 0) {
        int login = strcmp(ep, "login") == 0;

        sc = bnc_session_conf_of(rt);
        if (sc == NULL) {
            bnc_responder_error(resp, d, 404, "Not found.", "not_found",
                                "sessions are not enabled ([auth] schemes "
                                "has no session)");
            return;
        }
        if (login && get)
            bnc_responder_login_get(req, resp, d);
        else if (login && post)
            bnc_responder_login_post(rt, sc, req, in, resp, d);
        else if (login)
            bnc_responder_405(resp, d, "GET, HEAD, POST", "login");
        else if (post)
            bnc_responder_logout(rt, sc, req, in, resp, d);
        else
            bnc_responder_405(resp, d, "POST", "logout");
        return;
    }
    if (bnc_jwt_api_handle(rt, ep, req, in, resp, d))
        return;
    bnc_responder_error(resp, d, 404, "Not found.", "not_found",
                        "unknown endpoint");
}
