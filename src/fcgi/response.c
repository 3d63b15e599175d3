/* SPDX-License-Identifier: MIT */
/* CGI-style response: "Status:" line, headers, blank line, body. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "auth/scheme.h"
#include "fcgi/response.h"

void
bnc_response_init(struct bnc_response *r)
{
    r->status = 200;
    bnc_buf_init(&r->headers);
    bnc_buf_init(&r->body);
}

void
bnc_response_cleanup(struct bnc_response *r)
{
    bnc_buf_cleanup(&r->headers);
    bnc_buf_cleanup(&r->body);
}

const char *
bnc_status_text(int status)
{
    switch (status) {
    case 200: return "OK";
    case 204: return "No Content";
    case 302: return "Found";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    default: return "Unknown";
    }
}

void
bnc_response_header(struct bnc_response *r, const char *name,
                    const char *value)
{
    const unsigned char *p;

    bnc_buf_puts(&r->headers, name);
    bnc_buf_puts(&r->headers, ": ");
    /* A value comes from the store or the request: never let it end the
     * header or start a new one. */
    for (p = (const unsigned char *)value; *p != '\0'; p++)
        bnc_buf_putc(&r->headers, (*p < 0x20 || *p == 0x7f) ? ' ' : (char)*p);
    bnc_buf_puts(&r->headers, "\r\n");
}

void
bnc_response_json_error(struct bnc_response *r, int status, const char *detail,
                        const char *code)
{
    bnc_response_json_error_ex(r, status, detail, code, NULL);
}

void
bnc_response_json_error_ex(struct bnc_response *r, int status,
                           const char *detail, const char *code,
                           const char *extra)
{
    r->status = status;
    bnc_response_header(r, "Content-Type", "application/json");
    bnc_response_header(r, "Cache-Control", "no-store");
    bnc_buf_reset(&r->body);
    /* mod_authnz_fcgi takes a body starting with '/' as an ErrorDocument
     * URL (web-servers.md 4.2); ours always starts with '{'. */
    bnc_buf_puts(&r->body, "{\"detail\": ");
    bnc_buf_json_str(&r->body, detail);
    if (code != NULL) {
        bnc_buf_puts(&r->body, ", \"code\": ");
        bnc_buf_json_str(&r->body, code);
    }
    if (extra != NULL)
        bnc_buf_puts(&r->body, extra);
    bnc_buf_puts(&r->body, "}\n");
}

/* One identity value under both naming styles. */
static void
bnc_response_ident1(struct bnc_response *r, enum bnc_identity_style style,
                    const char *var, const char *hdr, const char *value)
{
    char name[160];

    if (value == NULL || *value == '\0')
        return;
    snprintf(name, sizeof(name), "Variable-%s", var);
    bnc_response_header(r, name, value);
    if (style == BNC_IDENT_NGINX)
        bnc_response_header(r, hdr, value);
}

/* AUTH_CLAIM_<NAME> (names made safe by the scheme): Variable-AUTH_CLAIM_X
 * and, for nginx, X-Auth-Claim-X. */
static void
bnc_response_claims(struct bnc_response *r, enum bnc_identity_style style,
                    char *const *claims)
{
    char var[128], hdr[128];
    size_t i, k, n;

    for (i = 0; claims != NULL && claims[i] != NULL; i++) {
        const char *eq = strchr(claims[i], '=');

        if (eq == NULL || eq == claims[i] ||
            (n = (size_t)(eq - claims[i])) > 64)
            continue;
        snprintf(var, sizeof(var), "AUTH_CLAIM_%.*s", (int)n, claims[i]);
        snprintf(hdr, sizeof(hdr), "X-Auth-Claim-%.*s", (int)n, claims[i]);
        for (k = 13; hdr[k] != '\0'; k++)
            if (hdr[k] == '_')
                hdr[k] = '-';
        bnc_response_ident1(r, style, var, hdr, eq + 1);
    }
}

void
bnc_response_identity(struct bnc_response *r, const struct bnc_identity *id,
                      enum bnc_identity_style style)
{
    char exp[24];

    bnc_response_ident1(r, style, "REMOTE_USER", "X-Remote-User", id->user);
    bnc_response_ident1(r, style, "AUTH_TYPE", "X-Auth-Type", id->auth_type);
    bnc_response_ident1(r, style, "AUTH_USER_ID", "X-Auth-User-Id",
                        id->user_id);
    bnc_response_ident1(r, style, "AUTH_GROUPS", "X-Auth-Groups", id->groups);
    bnc_response_ident1(r, style, "AUTH_SCOPES", "X-Auth-Scopes", id->scopes);
    if (id->expires > 0) {
        snprintf(exp, sizeof(exp), "%" PRId64, id->expires);
        bnc_response_ident1(r, style, "AUTH_EXPIRES", "X-Auth-Expires", exp);
    }
    bnc_response_ident1(r, style, "AUTH_CREDENTIAL_ID", "X-Auth-Credential-Id",
                        id->cred_id);
    bnc_response_ident1(r, style, "AUTH_EMAIL", "X-Auth-Email", id->email);
    bnc_response_ident1(r, style, "AUTH_NAME", "X-Auth-Name", id->name);
    bnc_response_claims(r, style, id->claims);
}

void
bnc_response_serialize(const struct bnc_response *r, struct bnc_buf *out)
{
    /* Always a reason phrase: Apache prints "401 Unknown Reason" without. */
    bnc_buf_printf(out, "Status: %d %s\r\n", r->status,
                   bnc_status_text(r->status));
    bnc_buf_append(out, r->headers.data ? r->headers.data : "",
                   r->headers.len);
    bnc_buf_puts(out, "\r\n");
    bnc_buf_append(out, r->body.data ? r->body.data : "", r->body.len);
}
