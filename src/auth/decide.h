/* SPDX-License-Identifier: MIT */
/* One authorization decision: run the schemes in order, then the rules. */
#ifndef BNC_AUTH_DECIDE_H
#define BNC_AUTH_DECIDE_H

#include "auth/scheme.h"

struct bnc_runtime;
struct bnc_request;
struct bnc_response;

/* The JSON details of the rule denials (DRF's wording for the 403). */
#define BNC_DECIDE_FORBIDDEN_DETAIL \
    "You do not have permission to perform this action."
#define BNC_DECIDE_HTTPS_DETAIL \
    "HTTPS is required for this resource: repeat the request over https://."

enum bnc_outcome { BNC_OUT_ALLOW = 1, BNC_OUT_DENY, BNC_OUT_ERROR };

struct bnc_rule;

struct bnc_decision {
    enum bnc_outcome outcome;
    int status;                       /* 200, 401, 403, 400, 429, 500 ... */
    int authenticated;                /* id is valid */
    struct bnc_identity id;
    const char *scheme;               /* scheme that decided, NULL = none */
    size_t scheme_index;              /* its index in rt->schemes */
    const char *detail;               /* JSON detail on denial */
    const char *code;                 /* JSON code on denial */
    char reason[240];                 /* log only */
    char detail_buf[256];             /* detail made per request (CSRF) */
    char challenge[400];              /* WWW-Authenticate made per request */
    char body_extra[512];             /* JSON members after "code" */
    unsigned retry_after;             /* 429: Retry-After seconds */
    /* The rule bnc_decide used: a [rules] entry (borrowed from the config,
     * valid while it is loaded), NULL for the server's BOUNCER_REQUIRE or
     * the default policy. rule_network: the rule that decided, file or
     * server, has a network: requirement (the /auth/metrics guard). */
    const struct bnc_rule *rule;
    int rule_network;
};

void bnc_decide(struct bnc_runtime *rt, const struct bnc_request *req,
                struct bnc_decision *d);
/* Builds the response for d (challenges, JSON body, identity variables). */
void bnc_decision_respond(struct bnc_runtime *rt, const struct bnc_request *req,
                          const struct bnc_decision *d,
                          struct bnc_response *resp);
void bnc_decision_cleanup(struct bnc_decision *d);

#endif
