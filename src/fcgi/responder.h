/* SPDX-License-Identifier: MIT */
/* The Responder role: the /auth/ API (DESIGN 5). */
#ifndef BNC_FCGI_RESPONDER_H
#define BNC_FCGI_RESPONDER_H

#include "fcgi/loop.h"

struct bnc_runtime;
struct bnc_request;
struct bnc_response;
struct bnc_decision;

/* Base path of the API. */
#define BNC_API_BASE "/auth/"

/* Serves one Responder request into resp; d is filled for the decision log
 * (outcome, status, user, reason). in reads the request body if needed. */
void bnc_responder_handle(struct bnc_runtime *rt, const struct bnc_request *req,
                          struct bnc_io *in, struct bnc_response *resp,
                          struct bnc_decision *d);

#endif
