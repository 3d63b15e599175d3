/* SPDX-License-Identifier: MIT */
/* One decision: schemes in the configured order (DRF's
 * DEFAULT_AUTHENTICATION_CLASSES), then the first matching rule. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "auth/decide.h"
#include "auth/rules.h"
#include "auth/session.h"
#include "auth/throttle.h"
#include "conf/conf.h"
#include "crypto/digest.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "runtime.h"
#include "util/cidr.h"

#define BNC_PATH_MAX 8192

static void
bnc_decision_deny(struct bnc_decision *d, int status, const char *detail,
                  const char *code)
{
    d->outcome = BNC_OUT_DENY;
    d->status = status;
    d->detail = detail;
    d->code = code;
}

/* "line 12" for a rule from the file, "'/ = authenticated' (default)" for
 * the built-in one: the log must point at something the admin can find. */
static const char *
bnc_decide_rule_name(const struct bnc_rule *rule, char *buf, size_t n)
{
    if (rule->line > 0)
        snprintf(buf, n, "line %u", rule->line);
    else if (strncmp(rule->text, BNC_RULES_SERVER_PARAM " ",
                     sizeof(BNC_RULES_SERVER_PARAM)) == 0)
        snprintf(buf, n, "'%.60s' (from the server)", rule->text);
    else
        snprintf(buf, n, "'%.60s' (default)", rule->text ? rule->text : "?");
    return buf;
}

/* Schemes whose ALLOW is a secret verified cryptographically (a random
 * key of 256 bits, a session id, a signed JWT): nothing a ban protects. */
static int
bnc_decide_unguessable(const struct bnc_scheme *scheme)
{
    return strcmp(scheme->name, "token") == 0 ||
           strcmp(scheme->name, "jwt") == 0 ||
           strcmp(scheme->name, "session") == 0;
}

/* The per-network throttle for credentials other than passwords (tokens,
 * session ids, JWTs; pwcheck throttles passwords itself, before hashing).
 * During a network's ban a failed credential gets 429 (not counted: it
 * was refused, not a new guess), while a credential one of these schemes
 * verified still works: it cannot be guessed, so letting it through tells
 * a guesser nothing it could use, and a ban started by someone else on a
 * shared network (NAT, office) must not lock out every API client and
 * browser session there. Passwords stay banned (pwcheck answers 429
 * before hashing, right or wrong). A wrong credential (401) counts as a
 * failure. Checked after the scheme because these checks are cheap and a
 * request without credentials (DECLINED) must not pay the read. Returns
 * the verdict to use; res becomes the 429 when banned. */
static enum bnc_verdict
bnc_decide_throttle(struct bnc_runtime *rt, const struct bnc_request *req,
                    const struct bnc_scheme *scheme, enum bnc_verdict v,
                    struct bnc_result *res)
{
    const struct bnc_throttle_conf *c = &rt->conf->throttle;
    struct bnc_throttle_ticket t;
    int64_t now = (int64_t)time(NULL);

    /* [ip] maps the address the server gives us: nothing there can be
     * guessed, so a network it names keeps its identity during a ban. */
    if (!c->enabled || res->throttle_done ||
        (v != BNC_ALLOW && v != BNC_DENY) || strcmp(scheme->name, "ip") == 0)
        return v;
    /* A verified secret needs no counter read at all. */
    if (v == BNC_ALLOW && bnc_decide_unguessable(scheme))
        return v;
    if (bnc_throttle_check(c, rt->store,
                           req->client_ok ? &req->client_addr : NULL, NULL,
                           now, &t)) {
        bnc_identity_cleanup(&res->id);
        bnc_result_reason(res, "throttled: network banned for %u more s",
                          t.retry_after);
        res->retry_after = t.retry_after;
        return bnc_result_deny(res, 429,
                               bnc_throttle_detail(t.retry_after,
                                                   res->detail_buf,
                                                   sizeof(res->detail_buf)),
                               BNC_THROTTLE_CODE);
    }
    if (v == BNC_DENY && (res->status == 0 || res->status == 401)) {
        t.cred_fp = res->cred_fp;
        if (t.cred_fp == 0) {
            /* The scheme gave none: the headers that carry credentials. */
            unsigned char dg[BNC_SHA256_LEN];
            struct bnc_buf b;

            bnc_buf_init(&b);
            bnc_buf_printf(&b, "%s\n%s", req->authorization, req->cookie);
            bnc_sha256(b.data, b.len, dg);
            bnc_buf_cleanup(&b);
            t.cred_fp = ((uint32_t)dg[0] << 24 | (uint32_t)dg[1] << 16 |
                         (uint32_t)dg[2] << 8 | dg[3]) | 1;
        }
        bnc_throttle_fail(c, rt->store, &t, now);
    }
    return v;
}

/* Runs the schemes. Returns 1 if a scheme ended the decision (deny or
 * error), 0 to go on to the rules (authenticated or anonymous). */
static int
bnc_decide_schemes(struct bnc_runtime *rt, const struct bnc_request *req,
                   struct bnc_decision *d)
{
    size_t i;

    for (i = 0; i < rt->nschemes; i++) {
        const struct bnc_scheme_inst *si = &rt->schemes[i];
        struct bnc_result res;
        enum bnc_verdict v;

        memset(&res, 0, sizeof(res));
        v = si->scheme->check(si->state, req, &res);
        v = bnc_decide_throttle(rt, req, si->scheme, v, &res);
        switch (v) {
        case BNC_DECLINED:
            bnc_result_cleanup(&res);
            continue;
        case BNC_ALLOW:
            d->authenticated = 1;
            d->id = res.id; /* moved */
            memset(&res.id, 0, sizeof(res.id));
            d->scheme = si->scheme->name;
            d->scheme_index = i;
            snprintf(d->reason, sizeof(d->reason), "%s", res.reason);
            bnc_result_cleanup(&res);
            return 0;
        case BNC_DENY:
            d->scheme = si->scheme->name;
            d->scheme_index = i;
            /* A denial is a 4xx whatever a scheme says: a 200 here would
             * read as "allow" to the server. */
            bnc_decision_deny(d, res.status >= 400 && res.status < 500
                                     ? res.status
                                     : 401,
                              res.detail ? res.detail
                                         : "Incorrect authentication credentials.",
                              res.code ? res.code : "authentication_failed");
            /* A detail made for this request lives in res: keep a copy. */
            if (d->detail == res.detail_buf) {
                snprintf(d->detail_buf, sizeof(d->detail_buf), "%s",
                         res.detail_buf);
                d->detail = d->detail_buf;
            }
            snprintf(d->challenge, sizeof(d->challenge), "%s",
                     res.challenge);
            snprintf(d->body_extra, sizeof(d->body_extra), "%s",
                     res.body_extra);
            d->retry_after = res.retry_after;
            /* nginx's auth_request turns any status but 401/403 into a
             * 500 (web-servers.md 6.3): a ban is a 403 there, with the
             * code and Retry-After still there for auth_request_set. */
            if (d->status == 429 && req->role == BNC_ROLE_NGINX)
                d->status = 403;
            snprintf(d->reason, sizeof(d->reason), "%s", res.reason);
            bnc_result_cleanup(&res);
            return 1;
        default:
            /* BNC_ERROR, or a broken scheme returning garbage: never allow. */
            d->scheme = si->scheme->name;
            d->scheme_index = i;
            d->outcome = BNC_OUT_ERROR;
            d->status = 500;
            d->detail = "Authentication is temporarily unavailable.";
            d->code = "service_unavailable";
            snprintf(d->reason, sizeof(d->reason), "%s",
                     res.reason[0] ? res.reason : "scheme error");
            bnc_result_cleanup(&res);
            return 1;
        }
    }
    return 0;
}

void
bnc_decide(struct bnc_runtime *rt, const struct bnc_request *req,
           struct bnc_decision *d)
{
    char path[BNC_PATH_MAX];
    const char *why = NULL;
    const struct bnc_rule *rule;
    struct bnc_rule *server_rule = NULL;
    const char *server_param;
    struct bnc_rule_facts facts;
    struct bnc_rule_answer ans;
    char where[128];
    size_t i;

    memset(d, 0, sizeof(*d));
    d->outcome = BNC_OUT_DENY; /* every early return denies */
    d->status = 403;
    if (req->oversized != NULL) {
        snprintf(d->reason, sizeof(d->reason), "%s longer than %d bytes",
                 req->oversized, BNC_PARAM_MAX);
        bnc_decision_deny(d, 400, "Request header too large.",
                          "header_too_large");
        return;
    }
    if (req->ambiguous != NULL) {
        /* Two different copies ("X-Forwarded-For"/"X_Forwarded_For"-style
         * spellings, or a repeated param): which one the server meant is
         * unknown, so neither is read. */
        snprintf(d->reason, sizeof(d->reason), "%s sent twice with "
                 "different values", req->ambiguous);
        bnc_decision_deny(d, 400, "Request header sent more than once.",
                          "duplicate_header");
        return;
    }
    if (bnc_path_normalize(req->uri, path, sizeof(path), &why) != 0) {
        snprintf(d->reason, sizeof(d->reason), "bad path: %s",
                 why ? why : "?");
        bnc_decision_deny(d, 400, "Malformed request path.", "invalid_path");
        return;
    }
    if (bnc_decide_schemes(rt, req, d))
        return;
    if (!d->authenticated && bnc_request_is_authenticator(req)) {
        /* Apache asked "is this password right?": anonymous is no. */
        snprintf(d->reason, sizeof(d->reason),
                 "authenticator role without a verified user");
        bnc_decision_deny(d, 401, "Invalid username/password.",
                          "authentication_failed");
        return;
    }
    /* Per-location requirements from the web server (SetEnvIf,
     * setenv.add-environment, fastcgi_param): a param, never an HTTP_
     * header, so a client cannot set it. They replace the file's rules. */
    server_param = bnc_request_param(req, BNC_RULES_SERVER_PARAM);
    /* Empty = not set: nginx sends "" for a location that set nothing. */
    if (server_param != NULL && server_param[0] != '\0') {
        struct bnc_diag diag;

        bnc_diag_init(&diag);
        server_rule = bnc_rule_from_server(server_param, &diag);
        if (server_rule == NULL) {
            /* The server's own config is wrong: say so, never guess. */
            snprintf(d->reason, sizeof(d->reason), "%s",
                     diag.n > 0 ? diag.lines[0]
                                : BNC_RULES_SERVER_PARAM " is invalid");
            bnc_diag_cleanup(&diag);
            bnc_decision_deny(d, 500,
                              "The server's access rule (" BNC_RULES_SERVER_PARAM
                              ") is invalid.", "server_misconfigured");
            d->outcome = BNC_OUT_ERROR;
            return;
        }
        bnc_diag_cleanup(&diag);
    }
    facts.id = d->authenticated ? &d->id : NULL;
    facts.scheme = d->scheme;
    facts.client = req->client_ok ? &req->client_addr : NULL;
    facts.https = bnc_rules_https(rt->conf->rules, req->https, facts.client);
    bnc_rules_answer(rt->conf->rules, server_rule, req->method, req->host,
                     path, &facts, &ans);
    rule = ans.rule;
    d->rule = rule != server_rule ? rule : NULL;
    for (i = 0; rule != NULL && i < rule->nreqs; i++)
        if (rule->reqs[i].kind == BNC_REQ_NETWORK)
            d->rule_network = 1;
    if (rule != NULL)
        bnc_decide_rule_name(rule, where, sizeof(where));
    else
        snprintf(where, sizeof(where), "(none: default_policy = %s)",
                 rt->conf->rules->default_authenticated ? "authenticated"
                                                        : "deny");
    switch (ans.outcome) {
    case BNC_RULE_ALLOW:
        d->outcome = BNC_OUT_ALLOW;
        d->status = 200;
        if (d->reason[0] == '\0' || !d->authenticated)
            snprintf(d->reason, sizeof(d->reason), "rule %s allows", where);
        break;
    case BNC_RULE_UNAUTHENTICATED:
        if (rule == NULL)
            snprintf(d->reason, sizeof(d->reason), "no rule matches %.200s",
                     path);
        else
            snprintf(d->reason, sizeof(d->reason),
                     "rule %s requires authentication", where);
        bnc_decision_deny(d, 401,
                          "Authentication credentials were not provided.",
                          "not_authenticated");
        break;
    case BNC_RULE_NEED_HTTPS:
        snprintf(d->reason, sizeof(d->reason), "rule %s requires https",
                 where);
        bnc_decision_deny(d, 403, BNC_DECIDE_HTTPS_DETAIL, "https_required");
        break;
    case BNC_RULE_FORBIDDEN:
    default:
        if (rule == NULL)
            snprintf(d->reason, sizeof(d->reason), "no rule matches %.200s",
                     path);
        else
            snprintf(d->reason, sizeof(d->reason), "rule %s forbids", where);
        bnc_decision_deny(d, 403, BNC_DECIDE_FORBIDDEN_DETAIL,
                          "permission_denied");
        break;
    }
    bnc_rule_free(server_rule);
}

/* One WWW-Authenticate header per challenge (RFC 9110 allows repeats), or,
 * with all set, appends this scheme's challenge to *all as a list member:
 * nginx's auth_request copies only the first WWW-Authenticate header. */
static void
bnc_decision_challenge(struct bnc_response *resp,
                       const struct bnc_scheme_inst *si, struct bnc_buf *all)
{
    struct bnc_buf c;

    if (si->scheme->challenge == NULL)
        return;
    bnc_buf_init(&c);
    if (si->scheme->challenge(si->state, &c)) {
        if (all == NULL) {
            bnc_response_header(resp, "WWW-Authenticate", bnc_buf_str(&c));
        } else {
            if (all->len > 0)
                bnc_buf_puts(all, ", ");
            bnc_buf_puts(all, bnc_buf_str(&c));
        }
    }
    bnc_buf_cleanup(&c);
}

/* A browser navigation without a (valid) session goes to the login page
 * instead of a bare 401 (issue 4). Not for nginx, which turns any status
 * but 401/403 into 500 (web-servers.md 6.3; error_page 401 does it there),
 * nor for Apache's authenticator, whose question is only "is this password
 * right". Returns 1 when resp is the redirect. */
static int
bnc_decision_redirect(struct bnc_runtime *rt, const struct bnc_request *req,
                      const struct bnc_decision *d, struct bnc_response *resp)
{
    const struct bnc_session_conf *c;
    struct bnc_buf loc;

    if (d->status != 401 || req->role == BNC_ROLE_NGINX ||
        bnc_request_is_authenticator(req))
        return 0;
    /* No credentials at all, or a session that failed; a wrong password
     * or token is an API client's error and keeps its 401. */
    if (d->scheme != NULL && strcmp(d->scheme, "session") != 0)
        return 0;
    c = bnc_session_conf_of(rt);
    if (c == NULL || !bnc_session_wants_redirect(c, req))
        return 0;
    bnc_buf_init(&loc);
    bnc_session_login_location(c, req, &loc);
    bnc_response_header(resp, "Location", bnc_buf_str(&loc));
    bnc_response_json_error(resp, 302,
                            "Authentication required: see the login page.",
                            "login_required");
    bnc_buf_cleanup(&loc);
    return 1;
}

void
bnc_decision_respond(struct bnc_runtime *rt, const struct bnc_request *req,
                     const struct bnc_decision *d, struct bnc_response *resp)
{
    size_t i;

    if (d->outcome == BNC_OUT_ALLOW) {
        resp->status = 200;
        if (d->authenticated)
            bnc_response_identity(resp, &d->id,
                                  req->role == BNC_ROLE_NGINX
                                      ? BNC_IDENT_NGINX
                                      : BNC_IDENT_VARIABLES);
        return;
    }
    if (bnc_decision_redirect(rt, req, d, resp))
        return;
    if (d->retry_after > 0) {
        char secs[16];

        snprintf(secs, sizeof(secs), "%u", d->retry_after);
        bnc_response_header(resp, "Retry-After", secs);
    }
    if (d->status == 401) {
        /* A scheme that failed answers with its own challenge; "no
         * credentials" offers every enabled scheme. */
        if (d->challenge[0] != '\0')
            bnc_response_header(resp, "WWW-Authenticate", d->challenge);
        else if (d->scheme != NULL && d->scheme_index < rt->nschemes)
            bnc_decision_challenge(resp, &rt->schemes[d->scheme_index],
                                   NULL);
        else if (req->role == BNC_ROLE_NGINX) {
            struct bnc_buf all;

            bnc_buf_init(&all);
            for (i = 0; i < rt->nschemes; i++)
                bnc_decision_challenge(resp, &rt->schemes[i], &all);
            if (all.len > 0)
                bnc_response_header(resp, "WWW-Authenticate",
                                    bnc_buf_str(&all));
            bnc_buf_cleanup(&all);
        } else
            for (i = 0; i < rt->nschemes; i++)
                bnc_decision_challenge(resp, &rt->schemes[i], NULL);
    }
    bnc_response_json_error_ex(resp, d->status, d->detail, d->code,
                               d->body_extra);
}

void
bnc_decision_cleanup(struct bnc_decision *d)
{
    bnc_identity_cleanup(&d->id);
}
