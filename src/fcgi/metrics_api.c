/* SPDX-License-Identifier: MIT */
/* GET /auth/metrics (DESIGN 5): restricted by a rule, like any resource. */
#include <stdio.h>
#include <string.h>

#include "auth/decide.h"
#include "auth/rules.h"
#include "conf/conf.h"
#include "fcgi/metrics_api.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "metrics/metrics.h"
#include "runtime.h"

/* 1 when the rule that let an anonymous caller in names networks. */
static int
bnc_metrics_api_network_rule(const struct bnc_runtime *rt,
                             const struct bnc_request *req, const char *path)
{
    const struct bnc_rule *rule = bnc_rules_match(rt->conf->rules,
                                                  req->method, path);
    size_t i;

    for (i = 0; rule != NULL && i < rule->nreqs; i++)
        if (rule->reqs[i].kind == BNC_REQ_NETWORK)
            return 1;
    return 0;
}

void
bnc_metrics_api_handle(struct bnc_runtime *rt, const struct bnc_request *req,
                       const char *path, struct bnc_response *resp,
                       struct bnc_decision *d)
{
    if (!rt->conf->metrics_enabled) {
        d->outcome = BNC_OUT_DENY;
        d->status = 404;
        snprintf(d->reason, sizeof(d->reason),
                 "metrics are disabled ([metrics] enabled = no)");
        bnc_response_json_error(resp, 404, "Not found.", "not_found");
        return;
    }
    bnc_decide(rt, req, d);
    if (d->outcome == BNC_OUT_ALLOW && !d->authenticated &&
        !bnc_metrics_api_network_rule(rt, req, path)) {
        d->outcome = BNC_OUT_DENY;
        d->status = 401;
        d->detail = "Authentication credentials were not provided.";
        d->code = "not_authenticated";
        snprintf(d->reason, sizeof(d->reason), "metrics: anonymous caller "
                 "and the matching rule names no network");
    }
    if (d->outcome != BNC_OUT_ALLOW) {
        bnc_decision_respond(rt, req, d, resp);
        return;
    }
    snprintf(d->reason, sizeof(d->reason), "metrics");
    resp->status = 200;
    bnc_response_header(resp, "Content-Type", BNC_METRICS_CONTENT_TYPE);
    bnc_response_header(resp, "Cache-Control", "no-store");
    bnc_buf_reset(&resp->body);
    if (strcmp(req->method, "HEAD") != 0)
        bnc_metrics_render(&resp->body);
}
