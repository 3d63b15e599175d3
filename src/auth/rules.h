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
    char *pattern;             /* "/pub/" (prefix) or a glob such as "/img/" "*.png":
                                  '*' stays within a segment, '**' crosses them */
    int glob;
    struct bnc_requirement *reqs;
    size_t nreqs;
};

struct bnc_rules {
    struct bnc_rule *v;
    size_t n;
};

struct bnc_rules *bnc_rules_new(void);
void bnc_rules_free(struct bnc_rules *r);
/* Parses "[METHODS ]PATTERN" = "REQ [REQ ...]" (requirements separated by
 * spaces; all must hold). Errors go to d at file:line. Returns 0 or -1. */
int bnc_rules_add(struct bnc_rules *r, const char *lhs, const char *rhs,
                  const char *file, unsigned line, struct bnc_diag *d);

/* First rule matching method and path (already normalised), or NULL. */
const struct bnc_rule *bnc_rules_match(const struct bnc_rules *r,
                                       const char *method, const char *path);

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
    int https;
};
enum bnc_rule_outcome bnc_rule_eval(const struct bnc_rule *rule,
                                    const struct bnc_rule_facts *f);

/* Normalises the path of a REQUEST_URI: drops the query, percent-decodes,
 * collapses "//", resolves "." and "..". Refuses (returns -1 with a reason)
 * NUL, encoded "/" (%2f), bad escapes, ".." above the root, a path not
 * starting with "/", or a result longer than cap-1. */
int bnc_path_normalize(const char *uri, char *out, size_t cap,
                       const char **why);

#endif
