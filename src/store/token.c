/* SPDX-License-Identifier: MIT */
/* The API token record: the compact binary codec stored in tokens.db. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"
#include "store/codec.h"
#include "store/store.h"
#include "util/mem.h"
#include "util/str.h"

/*
 * Record layout, format 1 (all integers big-endian):
 *
 *   off  size  field
 *     0     1  format version (BNC_TOKEN_RECORD_VERSION)
 *     1    16  id            -- tokens_by_id.db indexes these bytes
 *    17    32  digest        (SHA-256 of the key; also the primary key)
 *    49     8  created       (int64, two's complement)
 *    57     8  expires       (0 = never)
 *    65     1  flags: bit 0 label present, bit 1 device present;
 *              other bits must be 0
 *    66        user          u32 length + bytes -- tokens_by_user.db key
 *              label         u32 length + bytes, only if flag bit 0
 *              device        u32 length + bytes, only if flag bit 1
 *              u32 scope count, then each scope as u32 length + bytes
 *              u32 cidr count, then each cidr as u32 length + bytes
 *
 * last_used is not in the record: it lives in tokens_used.db, so the
 * once-a-minute write never touches the read-mostly tokens.db pages.
 * Strings carry no NUL. The record must end exactly after the last cidr.
 * Every limit is checked on encode and on decode, so a record that decodes
 * can always be written back, and re-encodes to the same bytes.
 */

#define BNC_TOKEN_FIXED_LEN 66
#define BNC_TOKEN_FLAG_LABEL 0x01u
#define BNC_TOKEN_FLAG_DEVICE 0x02u
#define BNC_TOKEN_FLAGS_KNOWN 0x03u

#define BNC_TOKEN_LABEL_MAX 512
#define BNC_TOKEN_DEVICE_MAX 256
#define BNC_TOKEN_LIST_MAX 64    /* scopes, cidrs */
#define BNC_TOKEN_ITEM_MAX 128   /* one scope or cidr */

_Static_assert(BNC_TOKEN_REC_ID_OFF == 1, "id follows the format byte");
_Static_assert(BNC_TOKEN_REC_USER_OFF == BNC_TOKEN_FIXED_LEN,
               "user is the first variable field");

/* Ids are public and appear in logs and keys: a fixed-size plain word. */
static int
bnc_token_id_valid(const char *id, size_t len)
{
    size_t i;

    if (len != BNC_TOKEN_ID_LEN)
        return 0;
    for (i = 0; i < len; i++) {
        char c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static int
bnc_token_list_item_valid(const char *s, size_t len)
{
    return len > 0 && len <= BNC_TOKEN_ITEM_MAX && !bnc_has_ctl(s, len) &&
           bnc_utf8_valid((const unsigned char *)s, len);
}

static void
bnc_token_strv_free(char **v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

void
bnc_token_cleanup(struct bnc_token *t)
{
    if (t == NULL)
        return;
    free(t->user);
    free(t->label);
    free(t->device);
    bnc_token_strv_free(t->scopes);
    bnc_token_strv_free(t->cidrs);
    /* The digest is not the key, but it is what a lookup needs: do not
     * leave it behind. */
    bnc_memzero(t, sizeof(*t));
}

/* Bytes a string list takes, or 0 (with *ok = 0) if it is invalid. */
static size_t
bnc_token_list_size(char *const *v, size_t *count, int *ok)
{
    size_t n = 0, total = 4, len;

    *count = 0;
    if (v == NULL)
        return total;
    for (; v[n] != NULL; n++) {
        len = strlen(v[n]);
        if (n >= BNC_TOKEN_LIST_MAX || !bnc_token_list_item_valid(v[n], len)) {
            *ok = 0;
            return 0;
        }
        total += 4 + len;
    }
    *count = n;
    return total;
}

static unsigned char *
bnc_token_put_list(unsigned char *p, char *const *v, size_t n)
{
    size_t i;

    bnc_codec_put_u32(p, (uint32_t)n);
    p += 4;
    for (i = 0; i < n; i++)
        p = bnc_codec_put_str(p, v[i], strlen(v[i]));
    return p;
}

int
bnc_token_encode(const struct bnc_token *t, unsigned char **out, size_t *len)
{
    size_t user_len, label_len = 0, dev_len = 0, nscopes, ncidrs, total;
    size_t scopes_size, cidrs_size;
    unsigned char *buf, *p;
    unsigned flags = 0;
    int ok = 1;

    *out = NULL;
    *len = 0;
    if (memchr(t->id, '\0', sizeof(t->id)) == NULL ||
        !bnc_token_id_valid(t->id, strlen(t->id)))
        return -1;
    if (!bnc_user_name_valid(t->user, NULL))
        return -1;
    user_len = strlen(t->user);
    if (t->label != NULL) {
        label_len = strlen(t->label);
        if (label_len > BNC_TOKEN_LABEL_MAX ||
            !bnc_utf8_valid((const unsigned char *)t->label, label_len))
            return -1;
        flags |= BNC_TOKEN_FLAG_LABEL;
    }
    if (t->device != NULL) {
        dev_len = strlen(t->device);
        if (dev_len > BNC_TOKEN_DEVICE_MAX ||
            !bnc_utf8_valid((const unsigned char *)t->device, dev_len))
            return -1;
        flags |= BNC_TOKEN_FLAG_DEVICE;
    }
    scopes_size = bnc_token_list_size(t->scopes, &nscopes, &ok);
    cidrs_size = bnc_token_list_size(t->cidrs, &ncidrs, &ok);
    if (!ok)
        return -1;
    /* Every part is bounded above, so the sum cannot overflow. */
    total = BNC_TOKEN_FIXED_LEN + 4 + user_len + scopes_size + cidrs_size;
    if (flags & BNC_TOKEN_FLAG_LABEL)
        total += 4 + label_len;
    if (flags & BNC_TOKEN_FLAG_DEVICE)
        total += 4 + dev_len;

    buf = bnc_malloc(total);
    p = buf;
    p[0] = BNC_TOKEN_RECORD_VERSION;
    memcpy(p + 1, t->id, BNC_TOKEN_ID_LEN);
    memcpy(p + 17, t->digest, 32);
    bnc_codec_put_u64(p + 49, (uint64_t)t->created);
    bnc_codec_put_u64(p + 57, (uint64_t)t->expires);
    p[65] = (unsigned char)flags;
    p += BNC_TOKEN_FIXED_LEN;
    p = bnc_codec_put_str(p, t->user, user_len);
    if (flags & BNC_TOKEN_FLAG_LABEL)
        p = bnc_codec_put_str(p, t->label, label_len);
    if (flags & BNC_TOKEN_FLAG_DEVICE)
        p = bnc_codec_put_str(p, t->device, dev_len);
    p = bnc_token_put_list(p, t->scopes, nscopes);
    p = bnc_token_put_list(p, t->cidrs, ncidrs);
    *out = buf;
    *len = (size_t)(p - buf);
    return 0;
}

/* A u32 count of strings, then the strings; an empty list decodes as NULL
 * (so NULL and an empty list are the same record). */
static int
bnc_token_rd_list(struct bnc_codec_rd *rd, const char *field, char ***out)
{
    uint32_t n, i;
    char **v;

    if (bnc_codec_u32(rd, field, &n) != 0)
        return -1;
    if (n > BNC_TOKEN_LIST_MAX) {
        bnc_err_set(rd->err, "token record has %lu %s, more than %d",
                    (unsigned long)n, field, BNC_TOKEN_LIST_MAX);
        return -1;
    }
    /* Each item needs at least its 4-byte length: refuse a count the
     * remaining bytes cannot hold before allocating for it. */
    if ((size_t)n > (rd->len - rd->off) / 4) {
        bnc_err_set(rd->err,
                    "token record truncated: %lu %s announced, %zu bytes left",
                    (unsigned long)n, field, rd->len - rd->off);
        return -1;
    }
    if (n == 0)
        return 0;
    v = bnc_calloc((size_t)n + 1, sizeof(char *));
    *out = v; /* freed by the caller's cleanup on error */
    for (i = 0; i < n; i++) {
        if (bnc_codec_str(rd, field, BNC_TOKEN_ITEM_MAX, &v[i]) != 0)
            return -1;
        if (!bnc_token_list_item_valid(v[i], strlen(v[i]))) {
            bnc_err_set(rd->err, "token record %s #%lu is empty or has "
                        "control characters", field, (unsigned long)i + 1);
            return -1;
        }
    }
    return 0;
}

int
bnc_token_decode(const unsigned char *p, size_t len, struct bnc_token *t,
                 struct bnc_err *err)
{
    struct bnc_codec_rd rd = {p, len, 0, err, "token record"};
    const char *why;
    unsigned flags;
    int rc = -1;

    memset(t, 0, sizeof(*t));
    if (bnc_codec_version(p, len, BNC_TOKEN_RECORD_VERSION, "token record", err) != 0)
        goto out;
    rd.off = 1;
    if (bnc_codec_need(&rd, BNC_TOKEN_FIXED_LEN - 1, "header") != 0)
        goto out;
    if (!bnc_token_id_valid((const char *)p + 1, BNC_TOKEN_ID_LEN)) {
        bnc_err_set(err, "token record id is not valid");
        goto out;
    }
    memcpy(t->id, p + 1, BNC_TOKEN_ID_LEN);
    t->id[BNC_TOKEN_ID_LEN] = '\0';
    memcpy(t->digest, p + 17, 32);
    t->created = (int64_t)bnc_codec_get_u64(p + 49);
    t->expires = (int64_t)bnc_codec_get_u64(p + 57);
    flags = p[65];
    if ((flags & ~BNC_TOKEN_FLAGS_KNOWN) != 0) {
        bnc_err_set(err, "token record has unknown flag bits 0x%02x",
                    flags & ~BNC_TOKEN_FLAGS_KNOWN);
        goto out;
    }
    rd.off = BNC_TOKEN_FIXED_LEN;
    if (bnc_codec_str(&rd, "user", BNC_USER_NAME_MAX, &t->user) != 0)
        goto out;
    if (!bnc_user_name_valid(t->user, &why)) {
        bnc_err_set(err, "token record user is invalid: %s", why);
        goto out;
    }
    if ((flags & BNC_TOKEN_FLAG_LABEL) != 0 &&
        bnc_codec_str(&rd, "label", BNC_TOKEN_LABEL_MAX, &t->label) != 0)
        goto out;
    if ((flags & BNC_TOKEN_FLAG_DEVICE) != 0 &&
        bnc_codec_str(&rd, "device", BNC_TOKEN_DEVICE_MAX, &t->device) != 0)
        goto out;
    if (bnc_token_rd_list(&rd, "scopes", &t->scopes) != 0 ||
        bnc_token_rd_list(&rd, "cidrs", &t->cidrs) != 0)
        goto out;
    if (rd.off != len) {
        bnc_err_set(err, "token record has %zu trailing bytes", len - rd.off);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        bnc_token_cleanup(t);
    return rc;
}
