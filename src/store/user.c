/* SPDX-License-Identifier: MIT */
/* The user record: name rules and the compact binary codec stored in users.db. */
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
 * Record layout, format 2 (all integers big-endian):
 *
 *   off  size  field
 *     0     1  format version (BNC_USER_RECORD_VERSION)
 *     1     4  id            -- bdb.c reads these 5 bytes for users_by_id.db
 *     5     8  rev
 *    13     8  created       (int64, two's complement)
 *    21     8  changed
 *    29     8  not_before
 *    37     8  tokens_not_before
 *    45     1  flags: bit 0 disabled, bit 1 email present,
 *              bit 2 display_name present; other bits must be 0
 *    46        name          u32 length + bytes
 *              hash          u32 length + bytes
 *              email         u32 length + bytes, only if flag bit 1
 *              display_name  u32 length + bytes, only if flag bit 2
 *              u32 group count, then each group as u32 length + bytes
 *
 * Format 1 is the same without tokens_not_before (flags at 37, name at
 * 38). It is still decoded, with tokens_not_before = not_before: format 1
 * voided API tokens at not_before, so none comes back to life; the next
 * write stores format 2.
 *
 * Strings carry no NUL. The record must end exactly after the last group.
 * Every limit below is checked on encode and on decode, so a record that
 * decodes can always be written back.
 */

#define BNC_USER_FIXED_LEN 46
#define BNC_USER_FIXED_LEN_V1 38
#define BNC_USER_FLAG_DISABLED 0x01u
#define BNC_USER_FLAG_EMAIL 0x02u
#define BNC_USER_FLAG_DISPLAY 0x04u
#define BNC_USER_FLAGS_KNOWN 0x07u

#define BNC_USER_HASH_MAX 1024
#define BNC_USER_EMAIL_MAX 320
#define BNC_USER_DISPLAY_MAX 512
#define BNC_USER_GROUPS_MAX 256
#define BNC_GROUP_NAME_MAX 64

void
bnc_user_cleanup(struct bnc_user *u)
{
    size_t i;

    if (u == NULL)
        return;
    if (u->hash != NULL) {
        /* The hash is not the password, but it is what an offline attack
         * needs: do not leave it in freed memory. */
        bnc_memzero(u->hash, strlen(u->hash));
        free(u->hash);
    }
    free(u->name);
    free(u->email);
    free(u->display_name);
    if (u->groups != NULL) {
        for (i = 0; u->groups[i] != NULL; i++)
            free(u->groups[i]);
        free(u->groups);
    }
    memset(u, 0, sizeof(*u));
}

int
bnc_user_stamp_voids(int64_t stamp, int64_t issued)
{
    return stamp > 0 && issued <= stamp;
}

int
bnc_user_name_valid(const char *name, const char **why)
{
    const unsigned char *p = (const unsigned char *)name;
    size_t len, i;
    const char *dummy;

    if (why == NULL)
        why = &dummy;
    if (name == NULL || name[0] == '\0') {
        *why = "user name is empty";
        return 0;
    }
    len = strlen(name);
    if (len > BNC_USER_NAME_MAX) {
        *why = "user name is longer than 150 bytes";
        return 0;
    }
    if (!bnc_utf8_valid(p, len)) {
        *why = "user name is not valid UTF-8";
        return 0;
    }
    if (bnc_has_ctl(name, len)) {
        *why = "user name contains a control character";
        return 0;
    }
    for (i = 0; i + 1 < len; i++) {
        /* C1 controls U+0080..U+009F are encoded as C2 80..C2 9F. */
        if (p[i] == 0xc2 && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f) {
            *why = "user name contains a control character";
            return 0;
        }
    }
    if (memchr(name, ':', len) != NULL) {
        /* Basic credentials are "user:password": a ':' cannot be sent. */
        *why = "user name contains ':'";
        return 0;
    }
    if (name[0] == ' ' || name[len - 1] == ' ') {
        *why = "user name starts or ends with a space";
        return 0;
    }
    *why = NULL;
    return 1;
}

int
bnc_group_name_valid(const char *name)
{
    size_t i;

    if (name == NULL || name[0] == '\0')
        return 0;
    for (i = 0; name[i] != '\0'; i++) {
        char c = name[i];

        if (i >= BNC_GROUP_NAME_MAX)
            return 0;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

static size_t
bnc_user_strlen0(const char *s)
{
    return s == NULL ? 0 : strlen(s);
}

int
bnc_user_encode(const struct bnc_user *u, unsigned char **out, size_t *len)
{
    size_t name_len, hash_len, email_len, disp_len, ngroups = 0, total, i;
    unsigned char *buf, *p;
    unsigned flags = 0;

    *out = NULL;
    *len = 0;
    if (!bnc_user_name_valid(u->name, NULL))
        return -1;
    name_len = strlen(u->name);
    hash_len = bnc_user_strlen0(u->hash);
    email_len = bnc_user_strlen0(u->email);
    disp_len = bnc_user_strlen0(u->display_name);
    if (hash_len > BNC_USER_HASH_MAX || email_len > BNC_USER_EMAIL_MAX ||
        disp_len > BNC_USER_DISPLAY_MAX)
        return -1;
    if ((u->hash != NULL && !bnc_utf8_valid((const unsigned char *)u->hash,
                                            hash_len)) ||
        (u->email != NULL &&
         !bnc_utf8_valid((const unsigned char *)u->email, email_len)) ||
        (u->display_name != NULL &&
         !bnc_utf8_valid((const unsigned char *)u->display_name, disp_len)))
        return -1;
    /* All lengths are bounded above, so this sum cannot overflow. */
    total = BNC_USER_FIXED_LEN + 4 + name_len + 4 + hash_len + 4;
    if (u->email != NULL) {
        flags |= BNC_USER_FLAG_EMAIL;
        total += 4 + email_len;
    }
    if (u->display_name != NULL) {
        flags |= BNC_USER_FLAG_DISPLAY;
        total += 4 + disp_len;
    }
    if (u->groups != NULL) {
        for (; u->groups[ngroups] != NULL; ngroups++) {
            if (ngroups >= BNC_USER_GROUPS_MAX ||
                !bnc_group_name_valid(u->groups[ngroups]))
                return -1;
            total += 4 + strlen(u->groups[ngroups]);
        }
    }
    if (u->disabled)
        flags |= BNC_USER_FLAG_DISABLED;

    buf = bnc_malloc(total);
    p = buf;
    *p++ = BNC_USER_RECORD_VERSION;
    bnc_codec_put_u32(p, u->id);
    bnc_codec_put_u64(p + 4, u->rev);
    bnc_codec_put_u64(p + 12, (uint64_t)u->created);
    bnc_codec_put_u64(p + 20, (uint64_t)u->changed);
    bnc_codec_put_u64(p + 28, (uint64_t)u->not_before);
    bnc_codec_put_u64(p + 36, (uint64_t)u->tokens_not_before);
    p[44] = (unsigned char)flags;
    p += 45;
    p = bnc_codec_put_str(p, u->name, name_len);
    p = bnc_codec_put_str(p, u->hash, hash_len);
    if (u->email != NULL)
        p = bnc_codec_put_str(p, u->email, email_len);
    if (u->display_name != NULL)
        p = bnc_codec_put_str(p, u->display_name, disp_len);
    bnc_codec_put_u32(p, (uint32_t)ngroups);
    p += 4;
    for (i = 0; i < ngroups; i++)
        p = bnc_codec_put_str(p, u->groups[i], strlen(u->groups[i]));
    *out = buf;
    *len = (size_t)(p - buf);
    return 0;
}

int
bnc_user_decode(const unsigned char *p, size_t len, struct bnc_user *u,
                struct bnc_err *err)
{
    struct bnc_codec_rd rd = {p, len, 0, err, "user record"};
    const char *why;
    uint32_t ngroups, i;
    unsigned flags;
    size_t fixed = BNC_USER_FIXED_LEN;
    int rc = -1;

    memset(u, 0, sizeof(*u));
    /* Format 1 is read too (see the layout above). */
    if (len > 0 && p != NULL && p[0] == 1) {
        fixed = BNC_USER_FIXED_LEN_V1;
    } else if (bnc_codec_version(p, len, BNC_USER_RECORD_VERSION,
                                 "user record", err) != 0) {
        goto out;
    }
    rd.off = 1;
    if (bnc_codec_need(&rd, fixed - 1, "header") != 0)
        goto out;
    u->id = bnc_codec_get_u32(p + 1);
    u->rev = bnc_codec_get_u64(p + 5);
    u->created = (int64_t)bnc_codec_get_u64(p + 13);
    u->changed = (int64_t)bnc_codec_get_u64(p + 21);
    u->not_before = (int64_t)bnc_codec_get_u64(p + 29);
    u->tokens_not_before = fixed == BNC_USER_FIXED_LEN_V1
                               ? u->not_before
                               : (int64_t)bnc_codec_get_u64(p + 37);
    flags = p[fixed - 1];
    if ((flags & ~BNC_USER_FLAGS_KNOWN) != 0) {
        bnc_err_set(err, "user record has unknown flag bits 0x%02x",
                    flags & ~BNC_USER_FLAGS_KNOWN);
        goto out;
    }
    u->disabled = (flags & BNC_USER_FLAG_DISABLED) != 0;
    rd.off = fixed;
    if (bnc_codec_str(&rd, "name", BNC_USER_NAME_MAX, &u->name) != 0)
        goto out;
    if (!bnc_user_name_valid(u->name, &why)) {
        bnc_err_set(err, "user record name is invalid: %s", why);
        goto out;
    }
    if (bnc_codec_str(&rd, "hash", BNC_USER_HASH_MAX, &u->hash) != 0)
        goto out;
    if ((flags & BNC_USER_FLAG_EMAIL) != 0 &&
        bnc_codec_str(&rd, "email", BNC_USER_EMAIL_MAX, &u->email) != 0)
        goto out;
    if ((flags & BNC_USER_FLAG_DISPLAY) != 0 &&
        bnc_codec_str(&rd, "display_name", BNC_USER_DISPLAY_MAX,
                        &u->display_name) != 0)
        goto out;
    if (bnc_codec_u32(&rd, "group count", &ngroups) != 0)
        goto out;
    if (ngroups > BNC_USER_GROUPS_MAX) {
        bnc_err_set(err, "user record has %lu groups, more than %d",
                    (unsigned long)ngroups, BNC_USER_GROUPS_MAX);
        goto out;
    }
    /* Each group needs at least its 4-byte length: refuse a count the
     * remaining bytes cannot hold before allocating for it. */
    if ((size_t)ngroups > (len - rd.off) / 4) {
        bnc_err_set(err,
                    "user record truncated: %lu groups announced, %zu bytes "
                    "left",
                    (unsigned long)ngroups, len - rd.off);
        goto out;
    }
    if (ngroups > 0) {
        u->groups = bnc_calloc((size_t)ngroups + 1, sizeof(char *));
        for (i = 0; i < ngroups; i++) {
            if (bnc_codec_str(&rd, "group", BNC_GROUP_NAME_MAX,
                                &u->groups[i]) != 0)
                goto out;
            if (!bnc_group_name_valid(u->groups[i])) {
                bnc_err_set(err,
                            "user record group #%lu is not a valid group name",
                            (unsigned long)i + 1);
                goto out;
            }
        }
    }
    if (rd.off != len) {
        bnc_err_set(err, "user record has %zu trailing bytes", len - rd.off);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        bnc_user_cleanup(u);
    return rc;
}
