/* SPDX-License-Identifier: MIT */
/* The records an import file maps to, and small helpers every format
 * shares: time stamps, imported token ids, field checks. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ct.h"
#include "crypto/digest.h"
#include "crypto/password.h"
#include "migrate/migrate.h"
#include "migrate/priv.h"
#include "util/mem.h"
#include "util/str.h"

void
bnc_migrate_set_init(struct bnc_migrate_set *set)
{
    memset(set, 0, sizeof(*set));
}

void
bnc_migrate_set_cleanup(struct bnc_migrate_set *set)
{
    size_t i;

    if (set == NULL)
        return;
    for (i = 0; i < set->ms_nusers; i++)
        bnc_user_cleanup(&set->ms_users[i].up_user);
    for (i = 0; i < set->ms_ntokens; i++)
        bnc_token_cleanup(&set->ms_tokens[i].mt_token);
    free(set->ms_users);
    free(set->ms_where);
    free(set->ms_tokens);
    memset(set, 0, sizeof(*set));
}

struct bnc_user_put *
bnc_migrate_set_add_user(struct bnc_migrate_set *set, struct bnc_user *u,
                         unsigned fields, const char *where)
{
    struct bnc_user_put *p;

    if (set->ms_nusers == set->ms_capusers) {
        set->ms_capusers = set->ms_capusers ? 2 * set->ms_capusers : 64;
        set->ms_users = bnc_realloc(set->ms_users, set->ms_capusers *
                                                       sizeof(*set->ms_users));
        set->ms_where = bnc_realloc(set->ms_where, set->ms_capusers *
                                                       sizeof(*set->ms_where));
    }
    p = &set->ms_users[set->ms_nusers];
    memset(p, 0, sizeof(*p));
    p->up_user = *u;
    p->up_fields = fields;
    memset(u, 0, sizeof(*u));
    bnc_strlcpy(set->ms_where[set->ms_nusers], where,
                sizeof(set->ms_where[0]));
    set->ms_nusers++;
    return p;
}

struct bnc_migrate_token *
bnc_migrate_set_add_token(struct bnc_migrate_set *set)
{
    struct bnc_migrate_token *t;

    if (set->ms_ntokens == set->ms_captokens) {
        set->ms_captokens = set->ms_captokens ? 2 * set->ms_captokens : 64;
        set->ms_tokens = bnc_realloc(set->ms_tokens,
                                     set->ms_captokens *
                                         sizeof(*set->ms_tokens));
    }
    t = &set->ms_tokens[set->ms_ntokens++];
    memset(t, 0, sizeof(*t));
    return t;
}

/* Reads exactly n digits. */
static int
bnc_migrate_digits(const char **s, int n, int *out)
{
    int v = 0;

    while (n-- > 0) {
        if (**s < '0' || **s > '9')
            return -1;
        v = v * 10 + (**s - '0');
        (*s)++;
    }
    *out = v;
    return 0;
}

int
bnc_migrate_parse_time(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
                                31};
    struct tm tm;
    int y, mo, d, h = 0, mi = 0, sec = 0, oh = 0, om = 0, sign = 0;
    time_t t;

    *out = 0;
    memset(&tm, 0, sizeof(tm));
    if (bnc_migrate_digits(&s, 4, &y) != 0 || *s++ != '-' ||
        bnc_migrate_digits(&s, 2, &mo) != 0 || *s++ != '-' ||
        bnc_migrate_digits(&s, 2, &d) != 0)
        return -1;
    if (*s == 'T' || *s == 't' || *s == ' ') {
        s++;
        if (bnc_migrate_digits(&s, 2, &h) != 0 || *s++ != ':' ||
            bnc_migrate_digits(&s, 2, &mi) != 0)
            return -1;
        if (*s == ':') {
            s++;
            if (bnc_migrate_digits(&s, 2, &sec) != 0)
                return -1;
            if (*s == '.' || *s == ',') {
                s++;
                if (*s < '0' || *s > '9')
                    return -1;
                while (*s >= '0' && *s <= '9')
                    s++; /* whole seconds are enough */
            }
        }
        if (*s == 'Z' || *s == 'z') {
            s++;
        } else if (*s == '+' || *s == '-') {
            sign = *s++ == '-' ? -1 : 1;
            if (bnc_migrate_digits(&s, 2, &oh) != 0)
                return -1;
            if (*s == ':')
                s++;
            if (bnc_migrate_digits(&s, 2, &om) != 0)
                return -1;
        }
    }
    if (*s != '\0' || y < 1970 || mo < 1 || mo > 12 || d < 1 ||
        d > mdays[mo - 1] || h > 23 || mi > 59 || sec > 60 || oh > 23 ||
        om > 59)
        return -1;
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t - (int64_t)sign * (oh * 3600 + om * 60);
    return 0;
}

void
bnc_migrate_token_id(const unsigned char digest[32],
                     char id[BNC_TOKEN_ID_LEN + 1])
{
    static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
    static const char ctx[] = "bouncer import token id";
    unsigned char in[sizeof(ctx) + 32], sum[BNC_SHA256_LEN];
    uint64_t v = 0;
    size_t i;

    /* A hash of the digest, not the digest: the id is public and should
     * not help anyone look the token up. */
    memcpy(in, ctx, sizeof(ctx));
    memcpy(in + sizeof(ctx), digest, 32);
    bnc_sha256(in, sizeof(in), sum);
    for (i = 0; i < 8; i++)
        v = (v << 8) | sum[i];
    memcpy(id, "tk_", 3);
    /* The layout of bnc_rand_id(): 13 digits, the first of 4 bits. */
    for (i = 0; i < 13; i++) {
        unsigned shift = (unsigned)(60 - 5 * i);

        id[3 + i] = b32[i == 0 ? (v >> 60) & 0x0f : (v >> shift) & 0x1f];
    }
    id[BNC_TOKEN_ID_LEN] = '\0';
    bnc_memzero(in, sizeof(in));
}

int
bnc_migrate_check_text(const char *what, const char *s, size_t max,
                       struct bnc_err *err)
{
    size_t len = strlen(s);

    if (len > max)
        bnc_err_set(err, "%s longer than %zu bytes", what, max);
    else if (!bnc_utf8_valid((const unsigned char *)s, len))
        bnc_err_set(err, "%s is not valid UTF-8", what);
    else if (bnc_has_ctl(s, len))
        bnc_err_set(err, "%s contains control characters", what);
    else
        return 0;
    return -1;
}

int
bnc_migrate_check_email(const char *e, struct bnc_err *err)
{
    const char *at;

    if (bnc_migrate_check_text("e-mail address", e,
                               BNC_MIGRATE_EMAIL_MAX, err) != 0)
        return -1;
    at = strrchr(e, '@');
    if (at == NULL || at == e || at[1] == '\0' || strchr(e, ' ') != NULL) {
        bnc_err_set(err, "e-mail address is not local@domain");
        return -1;
    }
    return 0;
}

int
bnc_migrate_check_hash(const char *hash, struct bnc_err *err)
{
    const char *why = NULL, *fmt;

    /* "" and "!": no usable password (bouncerctl user add --no-password). */
    if (hash[0] == '\0' || strcmp(hash, "!") == 0)
        return 0;
    if (bnc_password_usable(hash, &why))
        return 0;
    fmt = bnc_password_format(hash);
    if (fmt != NULL)
        bnc_err_set(err, "%s password hash cannot be verified (%s)", fmt,
                    why);
    else
        bnc_err_set(err, "unsupported password hash format '%.20s'",
                    bnc_migrate_hash_kind(hash));
    return -1;
}

/* The algorithm part of a hash for messages ("md5", "$9$"), never the
 * secret part. Static buffer per thread. */
const char *
bnc_migrate_hash_kind(const char *hash)
{
    static _Thread_local char kind[24];
    size_t n = 0;

    if (hash[0] == '$') {
        const char *e = strchr(hash + 1, '$');

        n = e != NULL ? (size_t)(e - hash) + 1 : 1;
    } else {
        const char *e = strchr(hash, '$');

        n = e != NULL ? (size_t)(e - hash) : 0;
    }
    if (n == 0 || n >= sizeof(kind))
        return "?";
    memcpy(kind, hash, n);
    kind[n] = '\0';
    return kind;
}

int
bnc_migrate_check_user(const struct bnc_user *u, struct bnc_err *err)
{
    unsigned char *rec = NULL;
    size_t len = 0;

    /* What the store will refuse must be refused here, per record:
     * one bad record in a batch would otherwise fail the whole batch. */
    if (bnc_user_encode(u, &rec, &len) != 0) {
        bnc_err_set(err, "record exceeds the store's limits (name, hash, "
                    "e-mail, display name or groups)");
        return -1;
    }
    bnc_memzero(rec, len);
    free(rec);
    return 0;
}
