/* SPDX-License-Identifier: MIT */
/* A read-only view of one request's FastCGI params. Every value is hostile. */
#ifndef BNC_FCGI_REQUEST_H
#define BNC_FCGI_REQUEST_H

#include <stddef.h>
#include <time.h>

#include "util/cidr.h"

enum bnc_role {
    BNC_ROLE_AUTHORIZER = 1,  /* FCGI_AUTHORIZER (Apache, lighttpd) */
    BNC_ROLE_NGINX,           /* RESPONDER with BOUNCER_MODE=authorize (nginx auth_request) */
    BNC_ROLE_RESPONDER        /* RESPONDER: the /auth/ API */
};

enum bnc_apache_role {
    BNC_APACHE_NONE = 0,
    BNC_APACHE_ACCESS_CHECKER,
    BNC_APACHE_AUTHENTICATOR,
    BNC_APACHE_AUTHORIZER
};

/* Longest param value we look at; longer ones are treated as malformed. */
#define BNC_PARAM_MAX 16384

struct bnc_request {
    enum bnc_role role;
    enum bnc_apache_role apache_role;
    char **envp;               /* borrowed: "NAME=value" strings, valid until finish */
    /* Borrowed pointers into envp ("" when absent, never NULL): */
    const char *method;        /* REQUEST_METHOD */
    const char *uri;           /* REQUEST_URI (path + query as sent) */
    const char *remote_addr;   /* REMOTE_ADDR */
    const char *host;          /* HTTP_HOST, else SERVER_NAME */
    const char *authorization; /* HTTP_AUTHORIZATION, else Authorization (mod_fcgid) */
    const char *cookie;        /* HTTP_COOKIE */
    const char *accept;        /* HTTP_ACCEPT */
    const char *remote_user;   /* REMOTE_USER (Apache authenticator role) */
    const char *remote_passwd; /* REMOTE_PASSWD (Apache authenticator role) */
    int has_remote_passwd;     /* REMOTE_PASSWD present, even empty */
    int https;                 /* HTTPS=on or REQUEST_SCHEME=https, or
                                  X-Forwarded-Proto: https from a trusted
                                  proxy (bnc_request_resolve_client) */
    /* The client as the schemes and rules see it: REMOTE_ADDR, or, when that
     * is a trusted proxy, the nearest untrusted X-Forwarded-For hop. */
    const char *client;        /* "" if unknown */
    struct bnc_addr client_addr;
    int client_ok;             /* client_addr is valid */
    char client_buf[64];
    const char *oversized;     /* name of a credential-carrying param longer
                                  than BNC_PARAM_MAX, else NULL: answered 400 */
    const char *ambiguous;     /* name of a credential-carrying param sent
                                  twice with different values, else NULL:
                                  answered 400 */
    struct timespec start;     /* CLOCK_MONOTONIC at arrival */
};

/* Fills r from envp (NULL-terminated; libfcgi adds FCGI_ROLE itself).
 * Does not allocate. */
void bnc_request_init(struct bnc_request *r, char **envp);
/* Applies [auth] trusted_proxies: if REMOTE_ADDR is one of them, believes
 * its X-Forwarded-Proto (https only if every value is "https") and walks
 * X-Forwarded-For from the right past trusted hops to the first one that is
 * not (hops may carry a port: "a.b.c.d:p", "[v6]:p"). A header that is
 * present but unreadable (a bad hop, "unknown", oversized) makes the client
 * unknown (client_ok = 0): never the proxy's own address. Two different
 * copies of either header (lighttpd passes "X_Forwarded_For" from the
 * client under the same name) fail closed: client unknown, https off. */
void bnc_request_resolve_client(struct bnc_request *r,
                                const struct bnc_cidr *proxies, size_t n);
/* First value of NAME (libfcgi semantics), or NULL. Values longer than
 * BNC_PARAM_MAX are returned as NULL. */
const char *bnc_request_param(const struct bnc_request *r, const char *name);
/* 1 when Apache hands us Basic credentials to check (REMOTE_PASSWD present:
 * mod_authnz_fcgi authn/authnz providers, FcgidAuthenticator): a 200 then
 * means "this password is right". */
int bnc_request_is_authenticator(const struct bnc_request *r);
/* Microseconds since r->start. */
long long bnc_request_elapsed_us(const struct bnc_request *r);

#endif
