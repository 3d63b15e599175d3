/* SPDX-License-Identifier: MIT */
/* The browser session record: the compact binary codec stored in sessions.db. */
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
 *     0     1  format version (BNC_SESSION_RECORD_VERSION)
 *     1    16  id            -- sessions_by_id.db indexes these bytes
 *    17    32  digest        (SHA-256 of the secret id; also the primary key)
 *    49     8  created       (int64, two's complement, unix seconds)
 *    57     8  idle_timeout  (seconds, >= 0; 0 = none)
 *    65     8  expires       (absolute end)
 *    73    32  csrf secret
 *   105     1  flags: bit 0 client present, bit 1 user_agent present,
 *              bit 2 device present; other bits must be 0
 *   106        user          u32 length + bytes -- sessions_by_user.db key
 *              client        u32 length + bytes, only if flag bit 0
 *              user_agent    u32 length + bytes, only if flag bit 1
 *              device        u32 length + bytes, only if flag bit 2
 *
 * last_seen is not in the record: it lives in sessions_seen.db, so the
 * once-a-minute write never touches the read-mostly sessions.db pages.
 * The record must end exactly after the last field present. Every limit
 * is checked on encode and on decode, so a record that decodes can always
 * be written back and re-encodes to the same bytes.
 */

#define BNC_SESSION_FIXED_LEN 106
#define BNC_SESSION_FLAG_CLIENT 0x01u
#define BNC_SESSION_FLAG_UA 0x02u
#define BNC_SESSION_FLAG_DEVICE 0x04u
#define BNC_SESSION_FLAGS_KNOWN 0x07u

#define BNC_SESSION_CLIENT_MAX 128
#define BNC_SESSION_UA_MAX 256
#define BNC_SESSION_DEVICE_MAX 256

_Static_assert(BNC_SESSION_REC_ID_OFF == 1, "id follows the format byte");
_Static_assert(BNC_SESSION_REC_USER_OFF == BNC_SESSION_FIXED_LEN,
               "user is the first variable field");
_Static_assert(BNC_SESSION_ID_LEN == 16, "the layout above has 16-byte ids");

/* Ids are public and appear in logs and keys: a fixed-size plain word. */
static int
bnc_session_id_valid(const char *id, size_t len)
{
    size_t i;

    if (len != BNC_SESSION_ID_LEN)
        return 0;
    for (i = 0; i < len; i++) {
        char c = id[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

/* Display strings (client address, user agent, device): UTF-8 without
 * control characters. */
static int
bnc_session_text_valid(const char *s, size_t len)
{
    return !bnc_has_ctl(s, len) &&
           bnc_utf8_valid((const unsigned char *)s, len);
}

void
bnc_session_cleanup(struct bnc_session *t)
{
    if (t == NULL)
        return;
    free(t->user);
    free(t->client);
    free(t->user_agent);
    free(t->device);
    /* The csrf secret is a credential and the digest is what a lookup
     * needs: leave neither behind. */
    bnc_memzero(t, sizeof(*t));
}

/* Length of the UTF-8 sequence that starts with byte c, 0 if c cannot
 * start one. */
static size_t
bnc_session_utf8_seq(unsigned char c)
{
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        return 2;
    if (c >= 0xe0 && c <= 0xef)
        return 3;
    if (c >= 0xf0 && c <= 0xf4)
        return 4;
    return 0;
}

/*
 * The user agent is display-only and comes straight from a request
 * header: it must never make a login fail. Keep at most
 * BNC_SESSION_UA_MAX bytes, cut at a character boundary, and turn bytes
 * that are not valid UTF-8 and control characters into '?'. The result
 * always passes the decoder's checks. *out is malloc'ed.
 */
static size_t
bnc_session_ua_clean(const char *ua, char **out)
{
    const unsigned char *p = (const unsigned char *)ua;
    size_t n = strlen(ua), i = 0, o = 0, k;
    char *buf = bnc_malloc(BNC_SESSION_UA_MAX + 1);

    while (i < n) {
        k = bnc_session_utf8_seq(p[i]);
        if (k == 0 || i + k > n || !bnc_utf8_valid(p + i, k) ||
            bnc_has_ctl((const char *)p + i, k)) {
            k = 1;
            if (o + 1 > BNC_SESSION_UA_MAX)
                break;
            buf[o++] = '?';
        } else {
            if (o + k > BNC_SESSION_UA_MAX)
                break;
            memcpy(buf + o, p + i, k);
            o += k;
        }
        i += k;
    }
    buf[o] = '\0';
    *out = buf;
    return o;
}

int
bnc_session_encode(const struct bnc_session *t, unsigned char **out,
                   size_t *len)
{
    size_t user_len, client_len = 0, ua_len = 0, dev_len = 0, total;
    unsigned char *buf, *p;
    char *ua = NULL;
    unsigned flags = 0;

    *out = NULL;
    *len = 0;
    if (memchr(t->id, '\0', sizeof(t->id)) == NULL ||
        !bnc_session_id_valid(t->id, strlen(t->id)))
        return -1;
    if (!bnc_user_name_valid(t->user, NULL))
        return -1;
    if (t->idle_timeout < 0)
        return -1;
    user_len = strlen(t->user);
    if (t->client != NULL) {
        client_len = strlen(t->client);
        if (client_len > BNC_SESSION_CLIENT_MAX ||
            !bnc_session_text_valid(t->client, client_len))
            return -1;
        flags |= BNC_SESSION_FLAG_CLIENT;
    }
    if (t->device != NULL) {
        dev_len = strlen(t->device);
        if (dev_len > BNC_SESSION_DEVICE_MAX ||
            !bnc_session_text_valid(t->device, dev_len))
            return -1;
        flags |= BNC_SESSION_FLAG_DEVICE;
    }
    if (t->user_agent != NULL) {
        ua_len = bnc_session_ua_clean(t->user_agent, &ua);
        flags |= BNC_SESSION_FLAG_UA;
    }
    /* Every part is bounded above, so the sum cannot overflow. */
    total = BNC_SESSION_FIXED_LEN + 4 + user_len;
    if (flags & BNC_SESSION_FLAG_CLIENT)
        total += 4 + client_len;
    if (flags & BNC_SESSION_FLAG_UA)
        total += 4 + ua_len;
    if (flags & BNC_SESSION_FLAG_DEVICE)
        total += 4 + dev_len;

    buf = bnc_malloc(total);
    p = buf;
    p[0] = BNC_SESSION_RECORD_VERSION;
    memcpy(p + 1, t->id, BNC_SESSION_ID_LEN);
    memcpy(p + 17, t->digest, 32);
    bnc_codec_put_u64(p + 49, (uint64_t)t->created);
    bnc_codec_put_u64(p + 57, (uint64_t)t->idle_timeout);
    bnc_codec_put_u64(p + 65, (uint64_t)t->expires);
    memcpy(p + 73, t->csrf, 32);
    p[105] = (unsigned char)flags;
    p += BNC_SESSION_FIXED_LEN;
    p = bnc_codec_put_str(p, t->user, user_len);
    if (flags & BNC_SESSION_FLAG_CLIENT)
        p = bnc_codec_put_str(p, t->client, client_len);
    if (flags & BNC_SESSION_FLAG_UA)
        p = bnc_codec_put_str(p, ua, ua_len);
    if (flags & BNC_SESSION_FLAG_DEVICE)
        p = bnc_codec_put_str(p, t->device, dev_len);
    free(ua);
    *out = buf;
    *len = (size_t)(p - buf);
    return 0;
}

/* An optional display string: bounded, UTF-8, no NUL or control bytes. */
static int
bnc_session_rd_text(struct bnc_codec_rd *rd, const char *field, size_t max,
                    char **out)
{
    if (bnc_codec_str(rd, field, max, out) != 0)
        return -1;
    if (bnc_has_ctl(*out, strlen(*out))) {
        bnc_err_set(rd->err, "session record field '%s' has control "
                    "characters", field);
        return -1;
    }
    return 0;
}

int
bnc_session_decode(const unsigned char *p, size_t len, struct bnc_session *t,
                   struct bnc_err *err)
{
    struct bnc_codec_rd rd = {p, len, 0, err, "session record"};
    const char *why;
    unsigned flags;
    int rc = -1;

    memset(t, 0, sizeof(*t));
    if (bnc_codec_version(p, len, BNC_SESSION_RECORD_VERSION, "session record", err) != 0)
        goto out;
    rd.off = 1;
    if (bnc_codec_need(&rd, BNC_SESSION_FIXED_LEN - 1, "header") != 0)
        goto out;
    if (!bnc_session_id_valid((const char *)p + 1, BNC_SESSION_ID_LEN)) {
        bnc_err_set(err, "session record id is not valid");
        goto out;
    }
    memcpy(t->id, p + 1, BNC_SESSION_ID_LEN);
    t->id[BNC_SESSION_ID_LEN] = '\0';
    memcpy(t->digest, p + 17, 32);
    t->created = (int64_t)bnc_codec_get_u64(p + 49);
    t->idle_timeout = (int64_t)bnc_codec_get_u64(p + 57);
    t->expires = (int64_t)bnc_codec_get_u64(p + 65);
    memcpy(t->csrf, p + 73, 32);
    if (t->idle_timeout < 0) {
        bnc_err_set(err, "session record idle timeout is negative");
        goto out;
    }
    flags = p[105];
    if ((flags & ~BNC_SESSION_FLAGS_KNOWN) != 0) {
        bnc_err_set(err, "session record has unknown flag bits 0x%02x",
                    flags & ~BNC_SESSION_FLAGS_KNOWN);
        goto out;
    }
    rd.off = BNC_SESSION_FIXED_LEN;
    if (bnc_codec_str(&rd, "user", BNC_USER_NAME_MAX, &t->user) != 0)
        goto out;
    if (!bnc_user_name_valid(t->user, &why)) {
        bnc_err_set(err, "session record user is invalid: %s", why);
        goto out;
    }
    if ((flags & BNC_SESSION_FLAG_CLIENT) != 0 &&
        bnc_session_rd_text(&rd, "client", BNC_SESSION_CLIENT_MAX,
                            &t->client) != 0)
        goto out;
    if ((flags & BNC_SESSION_FLAG_UA) != 0 &&
        bnc_session_rd_text(&rd, "user_agent", BNC_SESSION_UA_MAX,
                            &t->user_agent) != 0)
        goto out;
    if ((flags & BNC_SESSION_FLAG_DEVICE) != 0 &&
        bnc_session_rd_text(&rd, "device", BNC_SESSION_DEVICE_MAX,
                            &t->device) != 0)
        goto out;
    if (rd.off != len) {
        bnc_err_set(err, "session record has %zu trailing bytes",
                    len - rd.off);
        goto out;
    }
    rc = 0;
out:
    if (rc != 0)
        bnc_session_cleanup(t);
    return rc;
}
