/* SPDX-License-Identifier: MIT */
/* The scheme interface: what basic, token, session, jwt, ip and plugins implement. */
#ifndef BNC_AUTH_SCHEME_H
#define BNC_AUTH_SCHEME_H

#include <stdint.h>
#include "util/err.h"
#include "util/buf.h"

struct bnc_conf;
struct bnc_conf_section;
struct bnc_store;
struct bnc_request;
struct bnc_user;
struct bnc_jwt_conf;

#define BNC_SCHEME_ABI 1

/* Zero is never ALLOW (nginx core access phase habit). */
enum bnc_verdict {
    BNC_DECLINED = 1, /* no credential of my kind: ask the next scheme */
    BNC_ALLOW,        /* credential present and valid: identity filled */
    BNC_DENY,         /* credential present and wrong: status/detail filled */
    BNC_ERROR         /* could not decide (store failure): 500 */
};

/* Who the caller is (DESIGN 3). All strings owned (malloc), NULL = unset. */
struct bnc_identity {
    char *user;       /* REMOTE_USER */
    char *auth_type;  /* AUTH_TYPE: Basic, Token, Session, JWT ... */
    char *user_id;    /* AUTH_USER_ID */
    char *groups;     /* AUTH_GROUPS, comma-separated */
    char *scopes;     /* AUTH_SCOPES, space-separated */
    char *email;      /* AUTH_EMAIL */
    char *name;       /* AUTH_NAME (display name) */
    char *cred_id;    /* AUTH_CREDENTIAL_ID: never a secret */
    int64_t expires;  /* AUTH_EXPIRES, 0 = none */
    /* AUTH_CLAIM_<NAME>: NULL-terminated "NAME=value" strings, NAME already
     * upper-case [A-Z0-9_], value free of control bytes (jwt); NULL = none. */
    char **claims;
};

void bnc_identity_cleanup(struct bnc_identity *id);
/* Replaces *field with a copy of value (NULL clears). */
void bnc_identity_set(char **field, const char *value);
/* 1 if group is in id->groups. */
int bnc_identity_in_group(const struct bnc_identity *id, const char *group);
/* Fills what a store user record tells (DESIGN 3): user, auth_type, user_id,
 * groups (comma-separated), email and name when set. Other fields are left
 * as they are. */
void bnc_identity_from_user(struct bnc_identity *id, const struct bnc_user *u,
                            const char *auth_type);

/* What check() returns besides the verdict. Caller storage, zeroed before
 * each check; cleaned with bnc_result_cleanup(). */
struct bnc_result {
    struct bnc_identity id;  /* BNC_ALLOW */
    int status;              /* BNC_DENY: 401 unless set (400, 403, 429 ...) */
    const char *detail;      /* BNC_DENY: static text for the JSON "detail" */
    const char *code;        /* BNC_DENY: static JSON "code" */
    char reason[200];        /* log only, never a secret: why it was decided */
    /* BNC_DENY: detail may point here when the text is made per request
     * ("CSRF Failed: Origin checking failed - ..."); the core copies it. */
    char detail_buf[256];
    /* BNC_DENY, optional: this request's WWW-Authenticate value (RFC 6750
     * error="invalid_token", ...) instead of the scheme's challenge(), and
     * JSON members appended to the body after "code" (", \"messages\":
     * [...]" for simplejwt's shape). Empty = none. */
    char challenge[400];
    char body_extra[512];
    /* BNC_DENY with 429: seconds for Retry-After (issue 7). */
    unsigned retry_after;
    /* The check applied the throttle itself (pwcheck: per user and
     * network): the core must not count or check it again. */
    int throttle_done;
    /* BNC_DENY: 32 bits of the credential's digest (never of a password,
     * never the secret itself): the throttle counts a value sent again and
     * again (a browser's expired cookie, a script's revoked key) once, and
     * every new guess. 0 = unset: the core hashes the credential headers. */
    uint32_t cred_fp;
};

void bnc_result_cleanup(struct bnc_result *r);
/* snprintf into r->reason. */
void bnc_result_reason(struct bnc_result *r, const char *fmt, ...) BNC_PRINTF(2, 3);
/* Sets status/detail/code and returns BNC_DENY, for one-line denials. */
enum bnc_verdict bnc_result_deny(struct bnc_result *r, int status,
                                 const char *detail, const char *code);

/* Services the core lends to a scheme at configure time (borrowed). */
struct bnc_scheme_host {
    const struct bnc_conf *conf;
    struct bnc_store *store;
    /* [jwt], loaded by the runtime when [jwt] exists or jwt is a scheme
     * (shared with the Responder's token endpoints); NULL otherwise. */
    const struct bnc_jwt_conf *jwt;
};

struct bnc_scheme {
    const char *name;   /* keyword in [auth] schemes and its own [section] */
    unsigned int abi;   /* BNC_SCHEME_ABI */
    /* Reads its section (may be NULL), validates it into *statep. Errors go
     * to d with file:line. Returns 0 or -1. */
    int (*configure)(const struct bnc_scheme_host *host,
                     struct bnc_conf_section *section, void **statep,
                     struct bnc_diag *d);
    /* Thread-safe. Must not read the request body. */
    enum bnc_verdict (*check)(void *state, const struct bnc_request *req,
                              struct bnc_result *res);
    /* Appends this scheme's WWW-Authenticate value to out and returns 1, or
     * returns 0 when it has none (session). */
    int (*challenge)(void *state, struct bnc_buf *out);
    void (*destroy)(void *state);
};

#endif
