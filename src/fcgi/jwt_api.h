/* SPDX-License-Identifier: MIT */
/* The JWT endpoints of the Responder (DESIGN 5): obtain, refresh (with
 * rotation and reuse detection), verify, revoke, JWKS. */
#ifndef BNC_FCGI_JWT_API_H
#define BNC_FCGI_JWT_API_H

#include "fcgi/loop.h"

struct bnc_runtime;
struct bnc_request;
struct bnc_response;
struct bnc_decision;

/* ep is the normalised path after the API base ("token", "token/refresh/",
 * "jwks.json" ...). Answers and returns 1 when ep is one of the JWT
 * endpoints, returns 0 (nothing done) otherwise. */
int bnc_jwt_api_handle(struct bnc_runtime *rt, const char *ep,
                       const struct bnc_request *req, struct bnc_io *in,
                       struct bnc_response *resp, struct bnc_decision *d);

#endif
