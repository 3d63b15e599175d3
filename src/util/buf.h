/* SPDX-License-Identifier: MIT */
/* Growable byte buffer, always NUL-terminated. */
#ifndef BNC_UTIL_BUF_H
#define BNC_UTIL_BUF_H

#include <stddef.h>
#include "util/err.h"

struct bnc_buf {
    char *data; /* owned; NULL until first append */
    size_t len;
    size_t cap;
};

void bnc_buf_init(struct bnc_buf *b);
void bnc_buf_cleanup(struct bnc_buf *b);   /* frees data (zeroes it first) */
void bnc_buf_reset(struct bnc_buf *b);     /* len = 0, keeps memory */
void bnc_buf_append(struct bnc_buf *b, const void *p, size_t n);
void bnc_buf_puts(struct bnc_buf *b, const char *s);
void bnc_buf_putc(struct bnc_buf *b, char c);
void bnc_buf_printf(struct bnc_buf *b, const char *fmt, ...) BNC_PRINTF(2, 3);
/* Appends s as a JSON string literal with quotes, escaping as RFC 8259. */
void bnc_buf_json_str(struct bnc_buf *b, const char *s);
/* Appends s as a logfmt value: bare if safe, else quoted with \" \\ \n escapes;
 * control bytes and non-UTF-8 become \xNN. */
void bnc_buf_logfmt_val(struct bnc_buf *b, const char *s);
/* Returns data, or "" when empty. Borrowed. */
const char *bnc_buf_str(const struct bnc_buf *b);

#endif
