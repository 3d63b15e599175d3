/* SPDX-License-Identifier: MIT */
/* Bounded request bodies for the /auth/ endpoints: form or JSON object. */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"
#include "fcgi/body.h"
#include "fcgi/request.h"
#include "util/mem.h"
#include "util/str.h"

static int
bnc_body_fail(struct bnc_body_err *err, int status, const char *code,
              const char *detail)
{
    err->status = status;
    err->code = code;
    snprintf(err->detail, sizeof(err->detail), "%s", detail);
    return -1;
}

int
bnc_body_read(const struct bnc_request *req, struct bnc_io *in, size_t max,
              int required, struct bnc_buf *out, struct bnc_body_err *err)
{
    const char *cl = bnc_request_param(req, "CONTENT_LENGTH");
    uint64_t n;
    size_t got = 0;
    char chunk[4096];

    bnc_buf_reset(out);
    /* nginx's stock fastcgi_params send CONTENT_LENGTH "" for no body. */
    if (cl == NULL || *cl == '\0') {
        if (required)
            return bnc_body_fail(err, 400, "length_required",
                                 "Content-Length required.");
        return 0;
    }
    if (bnc_parse_u64(cl, UINT64_MAX, &n) != 0)
        return bnc_body_fail(err, 400, "parse_error",
                             "Malformed Content-Length.");
    if (n > max)
        return bnc_body_fail(err, 413, "request_too_large",
                             "Request body too large.");
    while (got < n) {
        size_t want = (size_t)n - got;
        long r;

        if (want > sizeof(chunk))
            want = sizeof(chunk);
        r = (in != NULL && in->read != NULL) ? in->read(in->ctx, chunk, want)
                                             : 0;
        if (r < 0 || (size_t)r > want) {
            bnc_memzero(chunk, sizeof(chunk));
            return bnc_body_fail(err, 400, "parse_error",
                                 "Could not read the request body.");
        }
        if (r == 0) {
            bnc_memzero(chunk, sizeof(chunk));
            return bnc_body_fail(err, 400, "parse_error",
                                 "Request body shorter than Content-Length.");
        }
        bnc_buf_append(out, chunk, (size_t)r);
        got += (size_t)r;
    }
    bnc_memzero(chunk, sizeof(chunk));
    return 0;
}

/* ---- Content-Type ---------------------------------------------------- */

static int
bnc_body_is_ows(char c)
{
    return c == ' ' || c == '\t';
}

/* 1 if the span [s, s+n) equals lit, ASCII case-insensitively. */
static int
bnc_body_span_ieq(const char *s, size_t n, const char *lit)
{
    size_t i;

    if (strlen(lit) != n)
        return 0;
    for (i = 0; i < n; i++) {
        char a = s[i], b = lit[i];

        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return 0;
    }
    return 1;
}

/* Checks the media type's parameters: only a UTF-8 (or ASCII) charset is
 * understood; other parameters (boundary, ...) are ignored. */
static int
bnc_body_charset_ok(const char *p)
{
    while (*p != '\0') {
        const char *name, *val;
        size_t nlen, vlen;

        while (*p == ';' || bnc_body_is_ows(*p))
            p++;
        if (*p == '\0')
            break;
        name = p;
        while (*p != '\0' && *p != '=' && *p != ';')
            p++;
        nlen = (size_t)(p - name);
        while (nlen > 0 && bnc_body_is_ows(name[nlen - 1]))
            nlen--;
        if (*p != '=') {
            continue;
        }
        p++;
        while (bnc_body_is_ows(*p))
            p++;
        if (*p == '"') {
            val = ++p;
            while (*p != '\0' && *p != '"')
                p++;
            vlen = (size_t)(p - val);
            if (*p == '"')
                p++;
        } else {
            val = p;
            while (*p != '\0' && *p != ';')
                p++;
            vlen = (size_t)(p - val);
            while (vlen > 0 && bnc_body_is_ows(val[vlen - 1]))
                vlen--;
        }
        if (bnc_body_span_ieq(name, nlen, "charset") &&
            !bnc_body_span_ieq(val, vlen, "utf-8") &&
            !bnc_body_span_ieq(val, vlen, "utf8") &&
            !bnc_body_span_ieq(val, vlen, "us-ascii"))
            return 0;
    }
    return 1;
}

static void
bnc_body_unsupported(struct bnc_body_err *err, const char *ct)
{
    err->status = 415;
    err->code = "unsupported_media_type";
    /* DRF's wording; the JSON writer escapes what the client sent. */
    snprintf(err->detail, sizeof(err->detail),
             "Unsupported media type \"%.100s\" in request.", ct);
}

/* ---- fields ---------------------------------------------------------- */

static int
bnc_body_add(struct bnc_body *b, char *name, char *value, size_t vlen,
             enum bnc_body_kind kind, struct bnc_body_err *err)
{
    struct bnc_body_field *f;

    if (b->n >= BNC_BODY_MAX_FIELDS) {
        free(name);
        bnc_str_wipe_free(value);
        return bnc_body_fail(err, 400, "parse_error",
                             "Too many fields in request body.");
    }
    if (b->fields == NULL)
        b->fields = bnc_calloc(BNC_BODY_MAX_FIELDS, sizeof(*b->fields));
    f = &b->fields[b->n++];
    f->name = name;
    f->value = value;
    f->vlen = vlen;
    f->kind = kind;
    return 0;
}

static int
bnc_body_hex(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes one form component (percent-encoding, '+' = space) into a new
 * string. -1 on a bad escape. */
static int
bnc_body_form_decode(const char *s, size_t n, char **out, size_t *outlen)
{
    char *d = bnc_malloc(n + 1);
    size_t i, j = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '+') {
            d[j++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;

            if (n - i < 3) { /* fewer than two characters follow */
                bnc_memzero(d, n + 1);
                free(d);
                return -1;
            }
            hi = bnc_body_hex(s[i + 1]);
            lo = bnc_body_hex(s[i + 2]);
            if (hi < 0 || lo < 0) {
                bnc_memzero(d, n + 1);
                free(d);
                return -1;
            }
            d[j++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            d[j++] = s[i];
        }
    }
    d[j] = '\0';
    *out = d;
    *outlen = j;
    return 0;
}

static int
bnc_body_parse_form(const char *data, size_t len, struct bnc_body *b,
                    struct bnc_body_err *err)
{
    size_t off = 0;

    b->type = BNC_BODY_FORM;
    while (off < len) {
        const char *pair = data + off;
        const char *amp = memchr(pair, '&', len - off);
        size_t plen = amp != NULL ? (size_t)(amp - pair) : len - off;
        const char *eq = memchr(pair, '=', plen);
        size_t nlen = eq != NULL ? (size_t)(eq - pair) : plen;
        char *name = NULL, *value = NULL;
        size_t dnlen, dvlen;

        off += plen + 1;
        if (plen == 0)
            continue; /* "a=1&&b=2" */
        if (bnc_body_form_decode(pair, nlen, &name, &dnlen) != 0)
            return bnc_body_fail(err, 400, "parse_error",
                                 "Malformed form data: bad percent-encoding.");
        if (eq != NULL) {
            if (bnc_body_form_decode(eq + 1, plen - nlen - 1, &value,
                                     &dvlen) != 0) {
                free(name);
                return bnc_body_fail(err, 400, "parse_error",
                                     "Malformed form data: bad "
                                     "percent-encoding.");
            }
        } else {
            value = bnc_strdup("");
            dvlen = 0;
        }
        if (dnlen == 0 || strlen(name) != dnlen ||
            bnc_has_ctl(name, dnlen) ||
            !bnc_utf8_valid((const unsigned char *)name, dnlen) ||
            strlen(value) != dvlen ||
            !bnc_utf8_valid((const unsigned char *)value, dvlen)) {
            free(name);
            bnc_str_wipe_free(value);
            return bnc_body_fail(err, 400, "parse_error",
                                 "Malformed form data: a field is empty, "
                                 "not UTF-8 or holds a NUL byte.");
        }
        if (bnc_body_add(b, name, value, dvlen, BNC_BODY_STRING, err) != 0)
            return -1;
    }
    return 0;
}

/* jansson's error text quotes the input ("... near 'Horse99'"), and the
 * input may be a password: keep only the part before " near ", printable,
 * and the position. The detail reaches the client and the log. */
static void
bnc_body_json_error(struct bnc_body_err *err, const json_error_t *je)
{
    char text[160], *near;
    size_t i;

    snprintf(text, sizeof(text), "%s", je->text);
    near = strstr(text, " near ");
    if (near != NULL)
        *near = '\0';
    /* "invalid token" style texts without "near" may still end in a quoted
     * fragment: cut at the first quote to be sure. */
    near = strchr(text, '\'');
    if (near != NULL)
        *near = '\0';
    for (i = 0; text[i] != '\0'; i++)
        if ((unsigned char)text[i] < 0x20 || (unsigned char)text[i] >= 0x7f)
            text[i] = '?';
    err->status = 400;
    err->code = "parse_error";
    snprintf(err->detail, sizeof(err->detail),
             "JSON parse error - %s (line %d, column %d)", text, je->line,
             je->column);
}

static const char *
bnc_body_json_type(const json_t *j)
{
    /* Python's names, as DRF prints them. */
    switch (json_typeof(j)) {
    case JSON_ARRAY: return "list";
    case JSON_STRING: return "str";
    case JSON_INTEGER: return "int";
    case JSON_REAL: return "float";
    case JSON_TRUE:
    case JSON_FALSE: return "bool";
    case JSON_NULL: return "NoneType";
    default: return "dict";
    }
}

static int
bnc_body_parse_json(const char *data, size_t len, struct bnc_body *b,
                    struct bnc_body_err *err)
{
    json_error_t je;
    json_t *root, *v;
    const char *key;
    int rc = -1;

    b->type = BNC_BODY_JSON;
    /* Duplicate keys are refused: {"username": "a", "username": "b"} must
     * not mean one thing here and another in an application. NUL inside
     * strings is refused by jansson without JSON_ALLOW_NUL. */
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY,
                      &je);
    if (root == NULL) {
        bnc_body_json_error(err, &je);
        return -1;
    }
    if (!json_is_object(root)) {
        err->status = 400;
        err->code = "invalid";
        snprintf(err->detail, sizeof(err->detail),
                 "Invalid data. Expected a dictionary, but got %s.",
                 bnc_body_json_type(root));
        goto out;
    }
    if (json_object_size(root) > BNC_BODY_MAX_FIELDS) {
        bnc_body_fail(err, 400, "parse_error",
                      "Too many fields in request body.");
        goto out;
    }
    json_object_foreach(root, key, v) {
        size_t klen = strlen(key);
        char *value;
        size_t vlen = 0;
        enum bnc_body_kind kind;

        if (klen == 0 || bnc_has_ctl(key, klen)) {
            bnc_body_fail(err, 400, "parse_error",
                          "JSON parse error - empty key or control "
                          "character in a key.");
            goto out;
        }
        if (json_is_string(v)) {
            vlen = json_string_length(v);
            if (strlen(json_string_value(v)) != vlen) {
                bnc_body_fail(err, 400, "parse_error",
                              "JSON parse error - NUL byte in a string.");
                goto out;
            }
            value = bnc_strndup(json_string_value(v), vlen);
            kind = BNC_BODY_STRING;
        } else {
            value = bnc_strdup("");
            kind = json_is_null(v) ? BNC_BODY_NULL : BNC_BODY_OTHER;
        }
        if (bnc_body_add(b, bnc_strdup(key), value, vlen, kind, err) != 0)
            goto out;
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}

int
bnc_body_parse(const char *content_type, const char *data, size_t len,
               struct bnc_body *b, struct bnc_body_err *err)
{
    const char *ct = content_type != NULL ? content_type : "";
    size_t mlen;

    memset(b, 0, sizeof(*b));
    if (len == 0)
        return 0; /* no body: every field is absent */
    mlen = strcspn(ct, ";");
    while (mlen > 0 && bnc_body_is_ows(ct[mlen - 1]))
        mlen--;
    while (mlen > 0 && bnc_body_is_ows(*ct)) {
        ct++;
        mlen--;
    }
    if (!bnc_body_charset_ok(ct + mlen)) {
        bnc_body_unsupported(err, content_type != NULL ? content_type : "");
        return -1;
    }
    if (bnc_body_span_ieq(ct, mlen, "application/x-www-form-urlencoded"))
        return bnc_body_parse_form(data, len, b, err);
    if (bnc_body_span_ieq(ct, mlen, "application/json"))
        return bnc_body_parse_json(data, len, b, err);
    bnc_body_unsupported(err, content_type != NULL ? content_type : "");
    return -1;
}

int
bnc_body_parse_query(const char *query, struct bnc_body *b,
                     struct bnc_body_err *err)
{
    memset(b, 0, sizeof(*b));
    if (query == NULL || *query == '\0')
        return 0;
    return bnc_body_parse_form(query, strlen(query), b, err);
}

int
bnc_body_get(const struct bnc_body *b, const char *name,
             const struct bnc_body_field **f)
{
    size_t i;
    int found = 0;

    *f = NULL;
    for (i = 0; i < b->n; i++) {
        if (strcmp(b->fields[i].name, name) != 0)
            continue;
        if (found)
            return -1;
        *f = &b->fields[i];
        found = 1;
    }
    return found;
}

void
bnc_body_cleanup(struct bnc_body *b)
{
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->n; i++) {
        free(b->fields[i].name);
        bnc_str_wipe_free(b->fields[i].value);
    }
    free(b->fields);
    memset(b, 0, sizeof(*b));
}

const char *
bnc_body_field_problem(const struct bnc_body *body, const char *name,
                       size_t maxlen, const struct bnc_body_field **f)
{
    int rc = bnc_body_get(body, name, f);

    if (rc < 0)
        return "This field was given more than once.";
    if (rc == 0)
        return "This field is required.";
    if ((*f)->kind == BNC_BODY_NULL)
        return "This field may not be null.";
    if ((*f)->kind != BNC_BODY_STRING)
        return "Not a valid string.";
    if ((*f)->vlen == 0)
        return "This field may not be blank.";
    if (maxlen > 0 && (*f)->vlen > maxlen)
        return "Ensure this field has no more than 150 characters.";
    return NULL;
}

int
bnc_body_load(const struct bnc_request *req, struct bnc_io *in, int required,
              struct bnc_buf *raw, struct bnc_body *body,
              struct bnc_body_err *err)
{
    memset(err, 0, sizeof(*err));
    memset(body, 0, sizeof(*body));
    if (bnc_body_read(req, in, BNC_BODY_MAX, required, raw, err) != 0)
        return -1;
    return bnc_body_parse(bnc_request_param(req, "CONTENT_TYPE"),
                          raw->data != NULL ? raw->data : "", raw->len, body,
                          err);
}
