/* SPDX-License-Identifier: MIT */
/* Request bodies of the Responder role: read with a hard size limit, parsed
 * from application/x-www-form-urlencoded or a JSON object into a small
 * name/value view. Every byte is hostile. */
#ifndef BNC_FCGI_BODY_H
#define BNC_FCGI_BODY_H

#include <stddef.h>

#include "fcgi/loop.h"
#include "util/buf.h"

struct bnc_request;

/* Largest body the /auth/ endpoints accept (a login is a few hundred bytes). */
#define BNC_BODY_MAX 16384
/* Most fields one body may carry; more is refused, not truncated. */
#define BNC_BODY_MAX_FIELDS 64

enum bnc_body_type {
    BNC_BODY_EMPTY = 0,   /* no body (Content-Length 0 or absent) */
    BNC_BODY_FORM,        /* application/x-www-form-urlencoded */
    BNC_BODY_JSON         /* application/json (an object) */
};

/* Kind of a field's value: a form gives only strings, JSON any type. */
enum bnc_body_kind {
    BNC_BODY_STRING = 1,
    BNC_BODY_NULL,        /* JSON null */
    BNC_BODY_OTHER        /* JSON number, boolean, array or object */
};

struct bnc_body_field {
    char *name;           /* owned, NUL-free UTF-8 */
    char *value;          /* owned; NUL-free UTF-8; "" unless STRING */
    size_t vlen;
    enum bnc_body_kind kind;
};

struct bnc_body {
    enum bnc_body_type type;
    struct bnc_body_field *fields;  /* owned, in body order */
    size_t n;
};

/* Why a body was refused: the HTTP answer and a line for the log. */
struct bnc_body_err {
    int status;           /* 400, 411-ish 400, 413, 415 */
    const char *code;     /* JSON "code": parse_error, request_too_large ... */
    char detail[200];     /* JSON "detail" (DRF's wording where it has one) */
};

/* Reads the body announced by CONTENT_LENGTH from in into out (replaced),
 * never more than max bytes and never past Content-Length. CONTENT_LENGTH
 * absent: an error ("Content-Length required.") when required, else an
 * empty body (RFC 3875 4.1.2: absent means no body). Returns 0, or -1 with
 * err filled: 400 malformed or missing length or a short body, 413 larger
 * than max (nothing is read then). */
int bnc_body_read(const struct bnc_request *req, struct bnc_io *in, size_t max,
                  int required, struct bnc_buf *out, struct bnc_body_err *err);

/* Parses len bytes of data (need not be NUL-terminated) as content_type
 * (the CONTENT_TYPE value; NULL or "" with len 0 = empty body) into b
 * (caller storage, cleaned with bnc_body_cleanup, also after failure).
 * A form: '&'-separated pairs, '+' = space, %XX decoded; a missing '='
 * gives "". Names and values must be UTF-8 without NUL or other control
 * bytes in names. JSON: an object (duplicate keys refused), any depth
 * (jansson's limit); its string members must hold no NUL. Returns 0, or -1
 * with err: 415 for another media type or charset, 400 otherwise. */
int bnc_body_parse(const char *content_type, const char *data, size_t len,
                   struct bnc_body *b, struct bnc_body_err *err);

/* Parses a query string (the part after '?') as a form into b. */
int bnc_body_parse_query(const char *query, struct bnc_body *b,
                         struct bnc_body_err *err);

/* Finds field name: 1 and *f (borrowed from b) when it occurs exactly
 * once, 0 when absent, -1 when it occurs more than once (refuse: which one
 * a proxy or application saw is anyone's guess). */
int bnc_body_get(const struct bnc_body *b, const char *name,
                 const struct bnc_body_field **f);
/* The message DRF's CharField gives for field name ("This field is
 * required.", "This field may not be blank." ...), or NULL when it holds a
 * usable string (*f then points at it). maxlen 0 = no limit; the only
 * limit used is Django's username length, which the message names. */
/* bnc_body_read + bnc_body_parse with the request's Content-Type: the body
 * of an API request in one call. body is zeroed first; 0, or -1 with err. */
int bnc_body_load(const struct bnc_request *req, struct bnc_io *in,
                  int required, struct bnc_buf *raw, struct bnc_body *body,
                  struct bnc_body_err *err);
const char *bnc_body_field_problem(const struct bnc_body *body,
                                   const char *name, size_t maxlen,
                                   const struct bnc_body_field **f);

/* Frees the fields (values wiped: they may be passwords). NULL-safe. */
void bnc_body_cleanup(struct bnc_body *b);

#endif
