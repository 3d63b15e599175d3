/* SPDX-License-Identifier: MIT */
/* Access rules ([rules], DESIGN 8): first match wins, no match denies. */
#ifndef BNC_AUTH_RULES_H
#define BNC_AUTH_RULES_H

#include <stddef.h>
#include "util/err.h"
#include "util/cidr.h"

struct bnc_identity;

enum bnc_req_kind {
    BNC_REQ_ANONYMOUS = 1, /* anyone, credentials or not */
    BNC_REQ_AUTHENTICATED,
    BNC_REQ_USER,          /* user:NAME[,NAME] */
    BNC_REQ_GROUP,         /* group:NAME[,NAME] */
    BNC_REQ_SCOPE,         /* scope:NAME[,NAME] (any of them) */
    BNC_REQ_SCHEME,        /* scheme:NAME[,NAME] */
    BNC_REQ_NETWORK,       /* network:CIDR[,CIDR] (REMOTE_ADDR) */
    BNC_REQ_HTTPS
};

struct bnc_requirement {
    enum bnc_req_kind kind;
    char **names;              /* USER/GROUP/SCOPE/SCHEME: NULL-terminated */
    struct bnc_cidr *nets;     /* NETWORK */
    size_t nnets;
};

/* Method bits; 0 = any method. */
#define BNC_M_GET     (1u << 0)
#define BNC_M_HEAD    (1u << 1)
#define BNC_M_POST    (1u << 2)
#define BNC_M_PUT     (1u << 3)
#define BNC_M_PATCH   (1u << 4)
#define BNC_M_DELETE  (1u << 5)
#define BNC_M_OPTIONS (1u << 6)
#define BNC_M_TRACE   (1u << 7)
#define BNC_M_CONNECT (1u << 8)
#define BNC_M_OTHER   (1u << 9)
unsigned bnc_method_bit(const char *method);

struct bnc_rule {
    unsigned line;
    char *text;                /* "GET,HEAD /pub/ = anonymous" for explain/logs */
    unsigned methods;
    char *host;                /* NULL = any host; "api.example.org" (lower
                                  case) or "*.example.org" (any name below
                                  it, not the name itself) */
    char *pattern;             /* "/pub/" (prefix) or a glob such as "/img/" "*.png":
                                  '*' stays within a segment, '**' crosses them */
    int glob;
    struct bnc_requirement *reqs;
    size_t nreqs;
};

struct bnc_rules {
    struct bnc_rule *v;
    size_t n;
    /* [auth] default_policy: what a request no rule matches gets.
     * 0 = deny (the default: 401 without credentials, 403 with),
     * 1 = authenticated (as if "/ = authenticated" ended the list). */
    int default_authenticated;
    /* [auth] https_exempt_loopback: a client on 127.0.0.0/8 or ::1
     * satisfies "https" over plain http. Off by default. */
    int https_exempt_loopback;
    /* First-segment index (see bnc_rules_index()): NULL until built. */
    struct bnc_rules_index *idx;
};

struct bnc_rules *bnc_rules_new(void);
void bnc_rules_free(struct bnc_rules *r);
/* Parses "[METHODS ]PATTERN" = "REQ [REQ ...]" (requirements separated by
 * spaces; all must hold). Errors go to d at file:line. Returns 0 or -1. */
int bnc_rules_add(struct bnc_rules *r, const char *lhs, const char *rhs,
                  const char *file, unsigned line, struct bnc_diag *d);

/* First rule matching method and path (already normalised), or NULL.
 * Rules naming a host never match here (no host known). */
const struct bnc_rule *bnc_rules_match(const struct bnc_rules *r,
                                       const char *method, const char *path);
/* The same with the request's host: HTTP_HOST (else SERVER_NAME) as sent;
 * the port and a trailing dot are ignored, letters compared without case.
 * host NULL or "" = unknown: host rules do not match. */
const struct bnc_rule *bnc_rules_match_host(const struct bnc_rules *r,
                                            const char *method,
                                            const char *host,
                                            const char *path);
/* Builds the first-path-segment index that keeps matching cheap with many
 * rules (bnc_rules_add() drops it; the config loader builds it once).
 * Matching works without it, scanning every rule. */
void bnc_rules_index(struct bnc_rules *r);
/* Drops the index (matching scans again). */
void bnc_rules_index_drop(struct bnc_rules *r);
/* Canonical host for matching: lower case, without port or trailing dot.
 * Returns 0, or -1 when host is empty, malformed or does not fit. */
int bnc_rules_host_canon(const char *host, char *out, size_t cap);
/* 1 if the rule's host part (NULL = any) covers the canonical host. */
int bnc_rules_host_match(const char *rule_host, const char *host);

enum bnc_rule_outcome {
    BNC_RULE_ALLOW = 1,
    BNC_RULE_UNAUTHENTICATED, /* needs a user and there is none: 401 */
    BNC_RULE_FORBIDDEN,       /* known caller, not allowed: 403 */
    BNC_RULE_NEED_HTTPS       /* requires https and the request is plain http: 403 */
};

/* Facts about the request the rules look at. */
struct bnc_rule_facts {
    const struct bnc_identity *id; /* NULL = anonymous */
    const char *scheme;            /* name of the scheme that authenticated */
    const struct bnc_addr *client; /* NULL if REMOTE_ADDR is unparsable */
    int https;                     /* see bnc_rules_https() */
};
enum bnc_rule_outcome bnc_rule_eval(const struct bnc_rule *rule,
                                    const struct bnc_rule_facts *f);
/* Whether one requirement holds for f (anonymous: always; https, network:
 * by the transport and client; the rest need f->id). For explanations. */
int bnc_rule_req_holds(const struct bnc_requirement *q,
                       const struct bnc_rule_facts *f);
/* "group:admin,staff" etc. for messages, into buf. */
const char *bnc_rule_req_text(const struct bnc_requirement *q, char *buf,
                              size_t n);
/* 1 if a request counts as https for the rules: it came over TLS
 * (https), or the client is loopback and r->https_exempt_loopback is on. */
int bnc_rules_https(const struct bnc_rules *r, int https,
                    const struct bnc_addr *client);
/* 1 if a is 127.0.0.0/8, ::1 or ::ffff:127.0.0.0/104. */
int bnc_rules_is_loopback(const struct bnc_addr *a);

/* Requirements the web server sets for one location (the BOUNCER_REQUIRE
 * param, e.g. "group:admin https"): parsed into a rule of their own that
 * replaces the file's rules for that request. Returns a rule (free with
 * bnc_rule_free()) or NULL with the reason in d. */
#define BNC_RULES_SERVER_PARAM "BOUNCER_REQUIRE"
struct bnc_rule *bnc_rule_from_server(const char *reqs, struct bnc_diag *d);
void bnc_rule_free(struct bnc_rule *rule);

/* One whole rule decision: the server's rule if any, else the first file
 * rule matching, else the default policy. */
struct bnc_rule_answer {
    const struct bnc_rule *rule;   /* NULL: no rule matched */
    enum bnc_rule_outcome outcome;
};
void bnc_rules_answer(const struct bnc_rules *r,
                      const struct bnc_rule *server_rule, const char *method,
                      const char *host, const char *path,
                      const struct bnc_rule_facts *f,
                      struct bnc_rule_answer *a);

/* Normalises the path of a REQUEST_URI: drops the query, drops path
 * parameters (a raw ';' to the end of its segment: "/admin;x/a" and
 * "/admin/;x/a" are "/admin/a", as Tomcat, Jetty and Spring serve them),
 * percent-decodes, collapses "//", resolves "." and "..". Refuses (returns -1 with a reason)
 * NUL, encoded "/" (%2f), bad escapes, ".." above the root, a path not
 * starting with "/", or a result longer than cap-1. */
int bnc_path_normalize(const char *uri, char *out, size_t cap,
                       const char **why);

#endif
