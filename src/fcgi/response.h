/* SPDX-License-Identifier: MIT */
/* Builds the CGI-style response an Authorizer or Responder sends. */
#ifndef BNC_FCGI_RESPONSE_H
#define BNC_FCGI_RESPONSE_H

#include "util/buf.h"

struct bnc_identity;

struct bnc_response {
    int status;
    struct bnc_buf headers;  /* "Name: value\r\n" lines, Status excluded */
    struct bnc_buf body;
};

void bnc_response_init(struct bnc_response *r);
void bnc_response_cleanup(struct bnc_response *r);
/* Reason phrase for a status ("Unauthorized"): Apache shows "Unknown Reason"
 * without one. */
const char *bnc_status_text(int status);
/* Adds a header; CR, LF and other control bytes in the value are replaced by
 * spaces so a value can never inject a header. */
void bnc_response_header(struct bnc_response *r, const char *name,
                         const char *value);
/* status + Content-Type: application/json + {"detail": ..., "code": ...}. */
void bnc_response_json_error(struct bnc_response *r, int status,
                             const char *detail, const char *code);
/* Same, with extra JSON members (", \"messages\": [...]", trusted text
 * made by the caller; NULL or "" = none) after "code". */
void bnc_response_json_error_ex(struct bnc_response *r, int status,
                                const char *detail, const char *code,
                                const char *extra);
/* Identity as Variable-NAME headers (authorizer) or X-Remote-User style
 * headers (nginx mode: with_variables also emits Variable-*). */
enum bnc_identity_style { BNC_IDENT_VARIABLES, BNC_IDENT_NGINX };
void bnc_response_identity(struct bnc_response *r, const struct bnc_identity *id,
                           enum bnc_identity_style style);
/* "Status: 401 Unauthorized\r\n" + headers + "\r\n" + body. */
void bnc_response_serialize(const struct bnc_response *r, struct bnc_buf *out);

#endif
