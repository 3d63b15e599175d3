/* SPDX-License-Identifier: MIT */
/* /auth/ endpoints served in the Responder role or as plain CGI. */
#include <stdio.h>
#include <string.h>

#include "auth/decide.h"
#include "auth/rules.h"
#include "fcgi/request.h"
#include "fcgi/responder.h"
#include "fcgi/response.h"
#include "runtime.h"
#include "store/store.h"

static void
bnc_responder_error(struct bnc_response *resp, struct bnc_decision *d,
                    int status, const char *detail, const char *code,
                    const char *reason)
{
    d->outcome = status >= 500 ? BNC_OUT_ERROR : BNC_OUT_DENY;
    d->status = status;
    snprintf(d->reason, sizeof(d->reason), "%s", reason);
    bnc_response_json_error(resp, status, detail, code);
}

static void
bnc_responder_json_field(struct bnc_buf *b, const char *k, const char *v,
                         int *first)
{
    bnc_buf_puts(b, *first ? "{" : ", ");
    bnc_buf_json_str(b, k);
    bnc_buf_puts(b, ": ");
    if (v != NULL)
        bnc_buf_json_str(b, v);
    else
        bnc_buf_puts(b, "null");
    *first = 0;
}

/* GET /auth/whoami: the caller's identity, through the same schemes. */
static void
bnc_responder_whoami(struct bnc_runtime *rt, const struct bnc_request *req,
                     struct bnc_response *resp, struct bnc_decision *d)
{
    int first = 1;
    const struct bnc_identity *id = &d->id;

    bnc_decide(rt, req, d);
    if (d->outcome != BNC_OUT_ALLOW || !d->authenticated) {
        if (d->outcome == BNC_OUT_ALLOW) { /* anonymous allowed by a rule */
            d->outcome = BNC_OUT_DENY;
            d->status = 401;
            d->detail = "Authentication credentials were not provided.";
            d->code = "not_authenticated";
        }
        bnc_decision_respond(rt, req, d, resp);
        return;
    }
    resp->status = 200;
    bnc_response_header(resp, "Content-Type", "application/json");
    bnc_response_header(resp, "Cache-Control", "no-store");
    bnc_responder_json_field(&resp->body, "username", id->user, &first);
    bnc_responder_json_field(&resp->body, "user_id", id->user_id, &first);
    bnc_responder_json_field(&resp->body, "auth_type", id->auth_type, &first);
    bnc_responder_json_field(&resp->body, "groups", id->groups, &first);
    bnc_responder_json_field(&resp->body, "email", id->email, &first);
    bnc_responder_json_field(&resp->body, "name", id->name, &first);
    bnc_buf_puts(&resp->body, "}\n");
}

void
bnc_responder_handle(struct bnc_runtime *rt, const struct bnc_request *req,
                     struct bnc_io *in, struct bnc_response *resp,
                     struct bnc_decision *d)
{
    char path[4096];
    const char *why = NULL, *ep;
    int get = strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;

    (void)in; /* no endpoint here takes a body yet */
    if (bnc_path_normalize(req->uri, path, sizeof(path), &why) != 0) {
        bnc_responder_error(resp, d, 400, "Malformed request path.",
                            "invalid_path", why ? why : "bad path");
        return;
    }
    if (strncmp(path, BNC_API_BASE, strlen(BNC_API_BASE)) != 0) {
        bnc_responder_error(resp, d, 404, "Not found.", "not_found",
                            "outside the API base");
        return;
    }
    ep = path + strlen(BNC_API_BASE);
    if (strcmp(ep, "healthz") == 0) {
        if (!get) {
            bnc_response_header(resp, "Allow", "GET, HEAD");
            bnc_responder_error(resp, d, 405, "Method not allowed.",
                                "method_not_allowed", "healthz wants GET");
            return;
        }
        if (rt->store == NULL || bnc_store_dead(rt->store)) {
            bnc_responder_error(resp, d, 503, "Store unavailable.",
                                "service_unavailable", "store is dead");
            return;
        }
        d->outcome = BNC_OUT_ALLOW;
        d->status = 200;
        snprintf(d->reason, sizeof(d->reason), "healthz");
        resp->status = 200;
        bnc_response_header(resp, "Content-Type", "application/json");
        bnc_response_header(resp, "Cache-Control", "no-store");
        bnc_buf_puts(&resp->body, "{\"status\": \"ok\"}\n");
        return;
    }
    if (strcmp(ep, "whoami") == 0) {
        if (!get) {
            bnc_response_header(resp, "Allow", "GET, HEAD");
            bnc_responder_error(resp, d, 405, "Method not allowed.",
                                "method_not_allowed", "whoami wants GET");
            return;
        }
        bnc_responder_whoami(rt, req, resp, d);
        return;
    }
    bnc_responder_error(resp, d, 404, "Not found.", "not_found",
                        "unknown endpoint");
}
