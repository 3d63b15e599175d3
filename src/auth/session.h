/* SPDX-License-Identifier: MIT */
/* Browser sessions: shared by the session scheme (authorizer side) and the
 * /auth/ login, logout and whoami endpoints (responder side). Cookies,
 * CSRF, the login redirect and the "next" parameter live here. */
#ifndef BNC_AUTH_SESSION_H
#define BNC_AUTH_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "auth/scheme.h"
#include "util/buf.h"

struct bnc_runtime;
struct bnc_request;
struct bnc_response;
struct bnc_session;
struct bnc_store;
struct bnc_user;

/* [session] settings (bouncer.conf(5)); owned by the session scheme. */
struct bnc_session_conf {
    char *cookie_name;        /* cookie_name, default "sessionid" */
    char *csrf_cookie_name;   /* csrf_cookie_name, default "csrftoken" */
    char *csrf_header_param;  /* csrf_header "X-CSRFToken" -> "HTTP_X_CSRFTOKEN" */
    char *csrf_form_field;    /* "csrfmiddlewaretoken" */
    char *cookie_path;        /* cookie_path, default "/" */
    char *cookie_domain;      /* cookie_domain, default none (host-only) */
    int secure_always;        /* secure = always | auto (default: auto = when HTTPS) */
    uint64_t idle_timeout;    /* idle_timeout, default 2h */
    uint64_t lifetime;        /* lifetime (absolute), default 14d */
    char **trusted_origins;   /* trusted_origins, "https://a.example" ... */
    char *login_url;          /* login_url, default "/auth/login" */
    int redirect_browsers;    /* redirect_browsers, default yes */
    char *device_param;       /* [auth] device_header as a param: bound
                                 sessions must present it */
};

/* The configuration of the session scheme in rt, or NULL when sessions are
 * not enabled. Borrowed for rt's life. */
const struct bnc_session_conf *bnc_session_conf_of(const struct bnc_runtime *rt);

/* ---- cookies --------------------------------------------------------- */
/* Finds cookie name in a Cookie header (RFC 6265 "a=b; c=d", values maybe
 * double-quoted; the quotes are not part of the value). Returns 1 and sets
 * *val and *len (borrowed from header) when found exactly once, or when every
 * occurrence has the same value; 0 when absent; -1 when it occurs with
 * different values (ambiguous: refuse) or the header is malformed around it. */
int bnc_cookie_find(const char *header, const char *name, const char **val,
                    size_t *len);
/* Appends a Set-Cookie header value: name=value; Path=...; [Domain=...;]
 * [Max-Age=N;] [Secure;] [HttpOnly;] SameSite=Lax. max_age < 0 omits it
 * (session cookie); 0 deletes. */
void bnc_cookie_format(struct bnc_buf *out, const struct bnc_session_conf *c,
                       const char *name, const char *value, int64_t max_age,
                       int secure, int httponly);

/* ---- CSRF ------------------------------------------------------------ */
/* The CSRF token a client sends back for session s: base64url of its
 * secret (43 chars). out holds 44. */
void bnc_csrf_token(const struct bnc_session *s, char out[44]);
/* For unsafe methods (not GET, HEAD, OPTIONS, TRACE): Origin (or, on HTTPS
 * without Origin, Referer) must be this site or a trusted origin, and the
 * token (from the csrf header, else form_token if not NULL) must match s's
 * secret (constant time). Returns 0, or -1 with *reason set to Django's
 * wording ("CSRF token missing.", "Origin checking failed - ... does not
 * match any trusted origins.", ...) for a 403 "CSRF Failed: <reason>". */
int bnc_csrf_check(const struct bnc_session_conf *c,
                   const struct bnc_request *req, const struct bnc_session *s,
                   const char *form_token, char *reason, size_t reasonsz);

/* ---- login redirect and "next" --------------------------------------- */
/* 1 if req is a browser navigation that should get 302 to the login page
 * instead of 401 (GET/HEAD, Accept has text/html, redirect_browsers on). */
int bnc_session_wants_redirect(const struct bnc_session_conf *c,
                               const struct bnc_request *req);
/* Location for that redirect: login_url?next=<percent-encoded path+query>. */
void bnc_session_login_location(const struct bnc_session_conf *c,
                                const struct bnc_request *req,
                                struct bnc_buf *out);
/* Copies next into out if it is a same-site path (starts with one '/', no
 * '//' or '/\' prefix, no scheme, no control bytes, no backslash, at most
 * cap-1 bytes) and returns 1; else writes "/" and returns 0. */
int bnc_session_next_valid(const char *next, char *out, size_t cap);

/* ---- session life ---------------------------------------------------- */
/* Creates a session for u (a new random id: no fixation), stores it
 * (WRITE_NOSYNC), and adds the session and CSRF Set-Cookie headers to resp.
 * *csrf_out (44 bytes) gets the CSRF token when not NULL. 0 or -1 (store
 * error, logged). */
int bnc_session_start(const struct bnc_session_conf *c, struct bnc_store *st,
                      const struct bnc_user *u, const struct bnc_request *req,
                      struct bnc_response *resp, char *csrf_out);
/* Looks up the session named by req's cookie. BNC_DECLINED: no cookie;
 * BNC_ALLOW: *out filled and valid (not expired, not idle, user active,
 * created after the user's not_before, device matches), *u filled if not
 * NULL; BNC_DENY: res has 401 "Invalid session." (code
 * "session_invalid") or similar, reason logged; BNC_ERROR: store. */
enum bnc_verdict bnc_session_lookup(const struct bnc_session_conf *c,
                                    struct bnc_store *st,
                                    const struct bnc_request *req,
                                    struct bnc_session *out,
                                    struct bnc_user *u, struct bnc_result *res);
/* Ends the session (store delete) and adds Set-Cookie headers that clear
 * both cookies. */
int bnc_session_end(const struct bnc_session_conf *c, struct bnc_store *st,
                    const struct bnc_session *s, const struct bnc_request *req,
                    struct bnc_response *resp);

/* Adds the Set-Cookie headers that clear both cookies. */
void bnc_session_clear_cookies(const struct bnc_session_conf *c,
                               const struct bnc_request *req,
                               struct bnc_response *resp);

/* The built-in scheme object (src/schemes/session.c). */
extern const struct bnc_scheme bnc_scheme_session;

#endif
