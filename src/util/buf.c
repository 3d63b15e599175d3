/* SPDX-License-Identifier: MIT */
/* Growable, NUL-terminated byte buffer with JSON and logfmt escaping. */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

void
bnc_buf_init(struct bnc_buf *b)
{
    memset(b, 0, sizeof(*b));
}

void
bnc_buf_cleanup(struct bnc_buf *b)
{
    /* Buffers carry headers that held credentials: wipe before free. */
    if (b->data != NULL)
        bnc_memzero(b->data, b->cap);
    free(b->data);
    memset(b, 0, sizeof(*b));
}

void
bnc_buf_reset(struct bnc_buf *b)
{
    b->len = 0;
    if (b->data != NULL)
        b->data[0] = '\0';
}

static void
bnc_buf_reserve(struct bnc_buf *b, size_t n)
{
    size_t need, cap;

    if (n > SIZE_MAX - b->len - 1)
        abort(); /* cannot happen with bounded inputs; never wrap */
    need = b->len + n + 1;
    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = bnc_realloc(b->data, cap);
    b->cap = cap;
}

void
bnc_buf_append(struct bnc_buf *b, const void *p, size_t n)
{
    bnc_buf_reserve(b, n);
    if (n > 0)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void
bnc_buf_puts(struct bnc_buf *b, const char *s)
{
    bnc_buf_append(b, s, strlen(s));
}

void
bnc_buf_putc(struct bnc_buf *b, char c)
{
    bnc_buf_append(b, &c, 1);
}

void
bnc_buf_printf(struct bnc_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    bnc_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void
bnc_buf_json_str(struct bnc_buf *b, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    int utf8 = bnc_utf8_valid(p, len);

    bnc_buf_putc(b, '"');
    for (; *p != '\0'; p++) {
        switch (*p) {
        case '"': bnc_buf_puts(b, "\\\""); break;
        case '\\': bnc_buf_puts(b, "\\\\"); break;
        case '\n': bnc_buf_puts(b, "\\n"); break;
        case '\r': bnc_buf_puts(b, "\\r"); break;
        case '\t': bnc_buf_puts(b, "\\t"); break;
        default:
            /* Invalid UTF-8 would make the whole document invalid JSON:
             * escape every high byte as U+00XX in that case. */
            if (*p < 0x20 || *p == 0x7f || (!utf8 && *p >= 0x80))
                bnc_buf_printf(b, "\\u%04x", *p);
            else
                bnc_buf_putc(b, (char)*p);
        }
    }
    bnc_buf_putc(b, '"');
}

void
bnc_buf_logfmt_val(struct bnc_buf *b, const char *s)
{
    const unsigned char *p;
    int bare = (*s != '\0');

    for (p = (const unsigned char *)s; *p != '\0'; p++)
        if (*p <= ' ' || *p == '"' || *p == '=' || *p == '\\' || *p >= 0x7f)
            bare = 0;
    if (bare) {
        bnc_buf_puts(b, s);
        return;
    }
    bnc_buf_putc(b, '"');
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            bnc_buf_putc(b, '\\');
            bnc_buf_putc(b, (char)*p);
        } else if (*p == '\n') {
            bnc_buf_puts(b, "\\n");
        } else if (*p < 0x20 || *p >= 0x7f) {
            /* Escaping every non-ASCII byte keeps a log line one line and
             * free of terminal escapes, whatever a client sent. */
            bnc_buf_printf(b, "\\x%02x", *p);
        } else {
            bnc_buf_putc(b, (char)*p);
        }
    }
    bnc_buf_putc(b, '"');
}

const char *
bnc_buf_str(const struct bnc_buf *b)
{
    return b->data != NULL ? b->data : "";
}
