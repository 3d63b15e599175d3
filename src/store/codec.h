/* SPDX-License-Identifier: MIT */
/* Private to src/store: big-endian integers and a bounds-checked reader shared by the record codecs. */
#ifndef BNC_STORE_CODEC_H
#define BNC_STORE_CODEC_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

/* Token record layout facts that bdb.c's secondary-index callbacks rely
 * on (token.c describes the whole record): the id at a fixed place, then
 * the user name as the first length-prefixed field. */
#define BNC_TOKEN_REC_ID_OFF 1
#define BNC_TOKEN_REC_USER_OFF 66
/* The same facts for the session record (session.c describes it). */
#define BNC_SESSION_REC_ID_OFF 1
#define BNC_SESSION_REC_USER_OFF 106

static inline void
bnc_codec_put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static inline void
bnc_codec_put_u64(unsigned char *p, uint64_t v)
{
    bnc_codec_put_u32(p, (uint32_t)(v >> 32));
    bnc_codec_put_u32(p + 4, (uint32_t)v);
}

static inline uint32_t
bnc_codec_get_u32(const unsigned char *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
           ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

static inline uint64_t
bnc_codec_get_u64(const unsigned char *p)
{
    return ((uint64_t)bnc_codec_get_u32(p) << 32) | bnc_codec_get_u32(p + 4);
}

/* u32 length + bytes; returns the byte after it. */
static inline unsigned char *
bnc_codec_put_str(unsigned char *p, const char *s, size_t n)
{
    bnc_codec_put_u32(p, (uint32_t)n);
    if (n > 0)
        memcpy(p + 4, s, n);
    return p + 4 + n;
}

/* Reading cursor over untrusted bytes: every read checks what is left.
 * what names the record in messages ("user record", "token record"). */
struct bnc_codec_rd {
    const unsigned char *p;
    size_t len;
    size_t off;
    struct bnc_err *err;
    const char *what;
};

/* Checks that n more bytes are there before anything reads them. */
static inline int
bnc_codec_need(struct bnc_codec_rd *rd, size_t n, const char *field)
{
    if (rd->len - rd->off < n) {
        bnc_err_set(rd->err,
                    "%s truncated: field '%s' needs %zu bytes at offset %zu, "
                    "%zu left",
                    rd->what, field, n, rd->off, rd->len - rd->off);
        return -1;
    }
    return 0;
}

/* Checks a record's first byte (its format version) against ours, with
 * messages naming what (e.g. "user record"): a newer format is refused as
 * such so an admin knows to upgrade. 0 or -1 (err set). */
static inline int
bnc_codec_version(const unsigned char *p, size_t len, unsigned ours,
                  const char *what, struct bnc_err *err)
{
    if (p == NULL || len == 0) {
        bnc_err_set(err, "%s is empty", what);
        return -1;
    }
    if (p[0] > ours) {
        bnc_err_set(err, "%s format %u is newer than this bouncer supports "
                    "(%u)", what, (unsigned)p[0], ours);
        return -1;
    }
    if (p[0] != ours) {
        bnc_err_set(err, "%s format %u is not valid", what, (unsigned)p[0]);
        return -1;
    }
    return 0;
}

static inline int
bnc_codec_u32(struct bnc_codec_rd *rd, const char *field, uint32_t *out)
{
    if (bnc_codec_need(rd, 4, field) != 0)
        return -1;
    *out = bnc_codec_get_u32(rd->p + rd->off);
    rd->off += 4;
    return 0;
}

/* A length-prefixed string of at most max bytes of UTF-8 without NUL,
 * copied and NUL-terminated. */
static inline int
bnc_codec_str(struct bnc_codec_rd *rd, const char *field, size_t max,
              char **out)
{
    uint32_t n;

    if (bnc_codec_u32(rd, field, &n) != 0)
        return -1;
    if (n > max) {
        bnc_err_set(rd->err, "%s field '%s' is %lu bytes, more than %zu",
                    rd->what, field, (unsigned long)n, max);
        return -1;
    }
    if (bnc_codec_need(rd, n, field) != 0)
        return -1;
    if (memchr(rd->p + rd->off, '\0', n) != NULL) {
        bnc_err_set(rd->err, "%s field '%s' contains a NUL byte", rd->what,
                    field);
        return -1;
    }
    if (!bnc_utf8_valid(rd->p + rd->off, n)) {
        bnc_err_set(rd->err, "%s field '%s' is not valid UTF-8", rd->what,
                    field);
        return -1;
    }
    *out = bnc_strndup((const char *)rd->p + rd->off, n);
    rd->off += n;
    return 0;
}

#endif
