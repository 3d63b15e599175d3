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
    /* Anonymous only through the rule bnc_decide itself used (host rules
     * and BOUNCER_REQUIRE included), and only when it names networks. */
    (void)path;
    if (d->outcome == BNC_OUT_ALLOW && !d->authenticated &&
        !d->rule_network) {
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
