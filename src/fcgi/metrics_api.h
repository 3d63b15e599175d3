/* SPDX-License-Identifier: MIT */
/* GET /auth/metrics: the shared counters in Prometheus text format. */
#ifndef BNC_FCGI_METRICS_API_H
#define BNC_FCGI_METRICS_API_H

struct bnc_runtime;
struct bnc_request;
struct bnc_response;
struct bnc_decision;

/* Runs the normal decision (schemes + [rules]) for the request's own path
 * (normalised: path) and serves the metrics only when it allows. An
 * anonymous caller is served only through a rule with a network:
 * requirement, so "/auth/ = anonymous" (which the login page needs) does
 * not publish them: such a caller gets 401. */
void bnc_metrics_api_handle(struct bnc_runtime *rt,
                            const struct bnc_request *req, const char *path,
                            struct bnc_response *resp, struct bnc_decision *d);

#endif
