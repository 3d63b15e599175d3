/* SPDX-License-Identifier: MIT */
/* bouncerctl token commands: create (the key is printed once and stored
 * only as its SHA-256), list (never keys or digests), revoke. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ct.h"
#include "crypto/digest.h"
#include "crypto/rand.h"
#include "ctl/ctl.h"
#include "util/b64.h"
#include "util/cidr.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_CTL_TOKEN_KEY_BYTES 32      /* 256 bits */
#define BNC_CTL_TOKEN_KEY_CHARS 43      /* base64url, no padding */
#define BNC_CTL_TOKEN_SCOPE_MAX 64
#define BNC_CTL_TOKEN_SCOPES_MAX 64
#define BNC_CTL_TOKEN_CIDRS_MAX 64
#define BNC_CTL_TOKEN_DEVICE_MAX 128
#define BNC_CTL_TOKEN_LABEL_MAX 200
/* Longest lifetime accepted: beyond this an expiry is a typo. */
#define BNC_CTL_TOKEN_LIFE_MAX (100LL * 366 * 86400)

/* ---- input checks ------------------------------------------------------ */

static int
bnc_ctl_token_scope_valid(const char *s)
{
    size_t i;

    for (i = 0; s[i] != '\0'; i++) {
        char c = s[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') || c == ':' || c == '.' || c == '_' ||
              c == '-'))
            return 0;
    }
    return i >= 1 && i <= BNC_CTL_TOKEN_SCOPE_MAX;
}

/* A device id travels in a header and is compared byte for byte:
 * printable ASCII, no space at either end. */
static int
bnc_ctl_token_device_valid(const char *s)
{
    size_t i, len = strlen(s);

    if (len == 0 || len > BNC_CTL_TOKEN_DEVICE_MAX || s[0] == ' ' ||
        s[len - 1] == ' ')
        return 0;
    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

static int
bnc_ctl_token_label_valid(const char *s, const char **why)
{
    size_t len = strlen(s);

    if (len == 0)
        *why = "must not be empty";
    else if (len > BNC_CTL_TOKEN_LABEL_MAX)
        *why = "too long (at most 200 bytes)";
    else if (!bnc_utf8_valid((const unsigned char *)s, len))
        *why = "not valid UTF-8";
    else if (bnc_has_ctl(s, len))
        *why = "contains control characters";
    else
        return 1;
    return 0;
}

/* "YYYY-MM-DD" (00:00:00 UTC) or "YYYY-MM-DDTHH:MM:SS[Z]" (UTC). */
static int
bnc_ctl_token_parse_date(const char *s, int64_t *out)
{
    static const char pat[] = "dddd-dd-dd";
    static const char tpat[] = "dddd-dd-ddTdd:dd:dd";
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t i, len = strlen(s);
    struct tm tm, back;
    time_t t;

    /* 10, 19, or 20 characters with the trailing Z. */
    if (len == sizeof(tpat) && s[len - 1] == 'Z')
        len--;
    if (len != sizeof(pat) - 1 && len != sizeof(tpat) - 1)
        return -1;
    for (i = 0; i < len; i++) {
        char want = tpat[i];

        if (want == 'd' ? (s[i] < '0' || s[i] > '9')
                        : (s[i] != want && !(want == 'T' && s[i] == ' ')))
            return -1;
    }
    y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
        (s[3] - '0');
    mo = (s[5] - '0') * 10 + (s[6] - '0');
    d = (s[8] - '0') * 10 + (s[9] - '0');
    if (len > sizeof(pat) - 1) {
        h = (s[11] - '0') * 10 + (s[12] - '0');
        mi = (s[14] - '0') * 10 + (s[15] - '0');
        sec = (s[17] - '0') * 10 + (s[18] - '0');
    }
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    t = timegm(&tm);
    /* timegm normalises 2027-02-30 to March: refuse what changed. */
    if (t == (time_t)-1 || gmtime_r(&t, &back) == NULL ||
        back.tm_year != y - 1900 || back.tm_mon != mo - 1 ||
        back.tm_mday != d || back.tm_hour != h || back.tm_min != mi ||
        back.tm_sec != sec)
        return -1;
    *out = (int64_t)t;
    return 0;
}

/* --expires: a duration with its unit ("30d", "12h", "2w") from now, or a
 * date. Prints its own error. */
int
bnc_ctl_token_expires(const char *s, int64_t now, int64_t *out)
{
    struct bnc_buf vis;
    size_t len = strlen(s);
    uint64_t secs;
    int64_t t;

    bnc_buf_init(&vis);
    if (len > 0 && len < 24 && strchr("smhdw", s[len - 1]) != NULL &&
        bnc_parse_duration(s, &secs) == 0) {
        if (secs == 0 || secs > (uint64_t)BNC_CTL_TOKEN_LIFE_MAX) {
            bnc_ctl_errx("--expires %s: between 1s and 100 years, please",
                         bnc_ctl_vis(&vis, s));
            goto fail;
        }
        *out = now + (int64_t)secs;
        bnc_buf_cleanup(&vis);
        return 0;
    }
    if (bnc_ctl_token_parse_date(s, &t) != 0) {
        bnc_ctl_errx("--expires: expected a lifetime like 30d, 12h, 2w or a "
                     "UTC date like 2027-01-31 or 2027-01-31T12:00:00Z, got "
                     "'%.60s'", bnc_ctl_vis(&vis, s));
        goto fail;
    }
    if (t <= now) {
        bnc_ctl_errx("--expires %s is in the past", bnc_ctl_vis(&vis, s));
        goto fail;
    }
    if (t - now > BNC_CTL_TOKEN_LIFE_MAX) {
        bnc_ctl_errx("--expires %s: more than 100 years ahead",
                     bnc_ctl_vis(&vis, s));
        goto fail;
    }
    *out = t;
    bnc_buf_cleanup(&vis);
    return 0;
fail:
    bnc_buf_cleanup(&vis);
    return -1;
}

/* A token id as create makes them: "tk_" + 13 of [a-z2-7]. */
static int
bnc_ctl_token_id_valid(const char *s)
{
    size_t i;

    if (strlen(s) != BNC_TOKEN_ID_LEN || strncmp(s, "tk_", 3) != 0)
        return 0;
    for (i = 3; i < BNC_TOKEN_ID_LEN; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
            return 0;
    return 1;
}

/* ---- shared helpers ---------------------------------------------------- */

/* 0 if the user exists (and, when must_be_enabled, is enabled); else
 * prints why and returns -1. *exists tells the two apart. */
static int
bnc_ctl_token_user(struct bnc_ctl *ctx, const char *name, int must_be_enabled,
                   int *exists)
{
    struct bnc_user u;
    struct bnc_buf vis;
    int src, rc = -1;

    memset(&u, 0, sizeof(u));
    bnc_buf_init(&vis);
    *exists = 0;
    src = bnc_store_user_get(ctx->store, name, &u);
    if (src == BNC_STORE_NOTFOUND) {
        bnc_ctl_errx("no such user '%s'", bnc_ctl_vis(&vis, name));
    } else if (src != BNC_STORE_OK) {
        bnc_ctl_store_failed_what(src, "read the user");
    } else if (must_be_enabled && u.disabled) {
        *exists = 1;
        bnc_ctl_errx("user '%s' is disabled: its tokens would not work "
                     "(bouncerctl user enable first)",
                     bnc_ctl_vis(&vis, name));
    } else {
        *exists = 1;
        rc = 0;
    }
    bnc_user_cleanup(&u);
    bnc_buf_cleanup(&vis);
    return rc;
}

/* ---- token create ------------------------------------------------------ */

int
bnc_ctl_token_create(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *user = a->pos[0], *why = NULL;
    unsigned char raw[BNC_CTL_TOKEN_KEY_BYTES];
    char key[BNC_CTL_TOKEN_KEY_CHARS + 8], tbuf[32];
    struct bnc_token t;
    struct bnc_buf vis;
    struct bnc_diag d;
    size_t i, k, ns = 0, nc = 0;
    int64_t now = (int64_t)time(NULL);
    int rc = BNC_CTL_EXIT_FAIL, src = BNC_STORE_ERROR, exists, tries;

    memset(&t, 0, sizeof(t));
    memset(key, 0, sizeof(key));
    bnc_buf_init(&vis);
    bnc_diag_init(&d);
    /* Everything typed is checked before the store is opened. */
    if (a->label != NULL && !bnc_ctl_token_label_valid(a->label, &why)) {
        bnc_ctl_errx("invalid label '%.80s': %s",
                     bnc_ctl_vis(&vis, a->label), why);
        goto out;
    }
    if (a->expires != NULL &&
        bnc_ctl_token_expires(a->expires, now, &t.expires) != 0)
        goto out;
    if (a->nscopes > BNC_CTL_TOKEN_SCOPES_MAX) {
        bnc_ctl_errx("too many scopes (at most %d)", BNC_CTL_TOKEN_SCOPES_MAX);
        goto out;
    }
    if (a->nscopes > 0) {
        t.scopes = bnc_calloc(a->nscopes + 1, sizeof(*t.scopes));
        for (i = 0; i < a->nscopes; i++) {
            if (!bnc_ctl_token_scope_valid(a->scopes[i])) {
                bnc_ctl_errx("invalid scope '%.80s': use 1 to 64 of A-Z a-z "
                             "0-9 : . _ -", bnc_ctl_vis(&vis, a->scopes[i]));
                goto out;
            }
            if (!bnc_strv_contains(t.scopes, a->scopes[i]))
                t.scopes[ns++] = bnc_strdup(a->scopes[i]);
        }
    }
    for (i = 0; i < a->ncidrs; i++) {
        struct bnc_cidr *v = NULL;
        char **items = NULL;
        size_t n = 0;
        int ni;

        /* Same parser and messages as the config (host-bits hint). */
        if (bnc_cidr_parse_list(a->cidrs[i], &v, &n, "--allow-cidr", NULL, 0,
                                &d) != 0) {
            for (k = 0; k < d.n; k++)
                bnc_ctl_errx("%s", d.lines[k]);
            goto out;
        }
        free(v);
        ni = bnc_split_list(a->cidrs[i], &items);
        if (ni < 0)
            goto out;
        if (nc + (size_t)ni > BNC_CTL_TOKEN_CIDRS_MAX) {
            bnc_strv_free(items);
            bnc_ctl_errx("too many networks (at most %d)",
                         BNC_CTL_TOKEN_CIDRS_MAX);
            goto out;
        }
        t.cidrs = bnc_realloc(t.cidrs, (nc + (size_t)ni + 1) *
                                           sizeof(*t.cidrs));
        for (k = 0; k < (size_t)ni; k++)
            t.cidrs[nc++] = bnc_strdup(items[k]);
        t.cidrs[nc] = NULL;
        bnc_strv_free(items);
    }
    if (a->device != NULL && !bnc_ctl_token_device_valid(a->device)) {
        bnc_ctl_errx("invalid device id '%.80s': use 1 to %d printable "
                     "ASCII characters, no space at either end",
                     bnc_ctl_vis(&vis, a->device), BNC_CTL_TOKEN_DEVICE_MAX);
        goto out;
    }
    if (bnc_ctl_store(ctx, 0) == NULL ||
        bnc_ctl_token_user(ctx, user, 1, &exists) != 0)
        goto out;

    t.user = bnc_strdup(user);
    t.label = bnc_strdup(a->label);
    t.device = bnc_strdup(a->device);
    t.created = now;
    if (bnc_rand_bytes(raw, sizeof(raw)) != 0) {
        bnc_ctl_errx("cannot get random bytes for the key");
        goto out;
    }
    bnc_b64url_encode(raw, sizeof(raw), key);
    bnc_sha256(key, strlen(key), t.digest);
    for (tries = 0; tries < 3; tries++) {
        if (bnc_rand_id("tk_", t.id, sizeof(t.id)) != 0) {
            bnc_ctl_errx("cannot get random bytes for the token id");
            goto out;
        }
        src = bnc_store_token_add(ctx->store, &t);
        if (src != BNC_STORE_EXISTS)
            break;
    }
    if (src == BNC_STORE_NOTFOUND) {
        /* Deleted between our check and the write. */
        bnc_ctl_errx("no such user '%s'", bnc_ctl_vis(&vis, user));
        goto out;
    }
    if (src != BNC_STORE_OK) {
        rc = bnc_ctl_store_failed_what(src, "store the token");
        goto out;
    }
    snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "id=%s", t.id);
    if (a->quiet) {
        printf("%s\n", key);
    } else {
        printf("token %s created for %s", t.id, bnc_ctl_vis(&vis, user));
        if (t.expires > 0)
            printf(", expires %s",
                   bnc_ctl_time(tbuf, sizeof(tbuf), t.expires));
        printf("\n%s\n", key);
        fflush(stdout);
        /* The reminder goes to the human; stdout keeps just the data. */
        fputs("Store the key now: it cannot be shown again.\n", stderr);
    }
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_memzero(raw, sizeof(raw));
    bnc_memzero(key, sizeof(key));
    bnc_token_cleanup(&t);
    bnc_diag_cleanup(&d);
    bnc_buf_cleanup(&vis);
    return rc;
}

/* ---- token list -------------------------------------------------------- */

#define BNC_CTL_TOKEN_COLS 9

struct bnc_ctl_token_list {
    int json;
    int64_t now;
    size_t nrows;
    char **cells;               /* nrows * BNC_CTL_TOKEN_COLS, owned */
    struct bnc_buf out;         /* JSON */
};

static void
bnc_ctl_token_json_strv(struct bnc_buf *b, char *const *v)
{
    size_t i;

    bnc_buf_putc(b, '[');
    for (i = 0; v != NULL && v[i] != NULL; i++) {
        if (i > 0)
            bnc_buf_puts(b, ", ");
        bnc_buf_json_str(b, v[i]);
    }
    bnc_buf_putc(b, ']');
}

static void
bnc_ctl_token_json_opt(struct bnc_buf *b, const char *s)
{
    if (s == NULL)
        bnc_buf_puts(b, "null");
    else
        bnc_buf_json_str(b, s);
}

/* One token as a JSON object on one line: never the key or its digest. */
static void
bnc_ctl_token_json(struct bnc_buf *b, const struct bnc_token *t, int64_t now)
{
    bnc_buf_puts(b, "{\"id\": ");
    bnc_buf_json_str(b, t->id);
    bnc_buf_puts(b, ", \"user\": ");
    bnc_ctl_token_json_opt(b, t->user);
    bnc_buf_puts(b, ", \"label\": ");
    bnc_ctl_token_json_opt(b, t->label);
    bnc_buf_printf(b, ", \"created\": %lld, \"expires\": ",
                   (long long)t->created);
    if (t->expires > 0)
        bnc_buf_printf(b, "%lld", (long long)t->expires);
    else
        bnc_buf_puts(b, "null");
    bnc_buf_printf(b, ", \"expired\": %s, \"last_used\": ",
                   t->expires > 0 && now >= t->expires ? "true" : "false");
    if (t->last_used > 0)
        bnc_buf_printf(b, "%lld", (long long)t->last_used);
    else
        bnc_buf_puts(b, "null");
    bnc_buf_puts(b, ", \"scopes\": ");
    bnc_ctl_token_json_strv(b, t->scopes);
    bnc_buf_puts(b, ", \"allowed_cidrs\": ");
    bnc_ctl_token_json_strv(b, t->cidrs);
    bnc_buf_puts(b, ", \"device\": ");
    bnc_ctl_token_json_opt(b, t->device);
    bnc_buf_putc(b, '}');
}

static char *
bnc_ctl_token_joined(char *const *v, const char *sep)
{
    struct bnc_buf b;
    char *s;
    size_t i;

    if (v == NULL || v[0] == NULL)
        return bnc_strdup("-");
    bnc_buf_init(&b);
    for (i = 0; v[i] != NULL; i++) {
        if (i > 0)
            bnc_buf_puts(&b, sep);
        bnc_buf_puts(&b, v[i]);
    }
    s = bnc_strdup(bnc_buf_str(&b));
    bnc_buf_cleanup(&b);
    return s;
}

static int
bnc_ctl_token_list_one(const struct bnc_token *t, void *arg)
{
    struct bnc_ctl_token_list *l = arg;
    struct bnc_buf b;
    char **row, tbuf[48];

    if (l->json) {
        bnc_buf_puts(&l->out, l->nrows > 0 ? ",\n  " : "\n  ");
        bnc_ctl_token_json(&l->out, t, l->now);
        l->nrows++;
        return 0;
    }
    l->cells = bnc_realloc(l->cells, (l->nrows + 1) * BNC_CTL_TOKEN_COLS *
                                         sizeof(*l->cells));
    row = l->cells + l->nrows * BNC_CTL_TOKEN_COLS;
    bnc_buf_init(&b);
    row[0] = bnc_strdup(t->id);
    row[1] = bnc_strdup(bnc_ctl_vis(&b, t->user != NULL ? t->user : "?"));
    row[2] = bnc_strdup(t->label != NULL ? bnc_ctl_vis(&b, t->label) : "-");
    row[3] = bnc_strdup(bnc_ctl_time(tbuf, sizeof(tbuf), t->created));
    bnc_ctl_time(tbuf, sizeof(tbuf), t->expires);
    if (t->expires > 0 && l->now >= t->expires)
        bnc_strlcpy(tbuf + strlen(tbuf), " (expired)",
                    sizeof(tbuf) - strlen(tbuf));
    row[4] = bnc_strdup(tbuf);
    row[5] = bnc_strdup(bnc_ctl_time(tbuf, sizeof(tbuf), t->last_used));
    row[6] = bnc_ctl_token_joined(t->scopes, ",");
    row[7] = bnc_ctl_token_joined(t->cidrs, ",");
    row[8] = bnc_strdup(t->device != NULL ? bnc_ctl_vis(&b, t->device) : "-");
    bnc_buf_cleanup(&b);
    l->nrows++;
    return 0;
}

static void
bnc_ctl_token_list_print(const struct bnc_ctl_token_list *l)
{
    static const char *const head[BNC_CTL_TOKEN_COLS] = {
        "ID", "USER", "LABEL", "CREATED", "EXPIRES", "LAST-USED", "SCOPES",
        "CIDRS", "DEVICE"};

    bnc_ctl_print_table(head, BNC_CTL_TOKEN_COLS, l->cells, l->nrows);
}

int
bnc_ctl_token_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_ctl_token_list l;
    const char *user = a->npos > 0 ? a->pos[0] : NULL;
    struct bnc_user u;
    struct bnc_buf vis;
    size_t i;
    int rc = BNC_CTL_EXIT_FAIL, src;

    memset(&l, 0, sizeof(l));
    memset(&u, 0, sizeof(u));
    bnc_buf_init(&l.out);
    bnc_buf_init(&vis);
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    if (user != NULL) {
        /* Tokens of a deleted user still list (to revoke them), but a
         * typo should not look like "no tokens". */
        src = bnc_store_user_get(ctx->store, user, &u);
        if (src == BNC_STORE_NOTFOUND)
            bnc_ctl_warnx("no such user '%s' (listing any tokens left "
                          "under that name)", bnc_ctl_vis(&vis, user));
        bnc_user_cleanup(&u);
    }
    l.json = a->json;
    l.now = (int64_t)time(NULL);
    bnc_buf_putc(&l.out, '[');
    src = bnc_store_token_foreach(ctx->store, user, bnc_ctl_token_list_one,
                                  &l);
    if (src != BNC_STORE_OK && src != BNC_STORE_NOTFOUND) {
        rc = bnc_ctl_store_failed_what(src, "list tokens");
        goto out;
    }
    if (l.json) {
        bnc_buf_puts(&l.out, l.nrows > 0 ? "\n]\n" : "]\n");
        fputs(bnc_buf_str(&l.out), stdout);
    } else {
        bnc_ctl_token_list_print(&l);
    }
    rc = BNC_CTL_EXIT_OK;
out:
    for (i = 0; i < l.nrows * BNC_CTL_TOKEN_COLS && l.cells != NULL; i++)
        free(l.cells[i]);
    free(l.cells);
    bnc_buf_cleanup(&l.out);
    bnc_buf_cleanup(&vis);
    return rc;
}

/* ---- token revoke ------------------------------------------------------ */

int
bnc_ctl_token_revoke(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_buf vis;
    size_t count = 0;
    int rc = BNC_CTL_EXIT_FAIL, src, exists;

    bnc_buf_init(&vis);
    if ((a->npos == 1) == (a->user != NULL)) {
        bnc_ctl_errx("'token revoke' takes a token ID or --user USER "
                     "(one of them)");
        rc = BNC_CTL_EXIT_USAGE;
        goto out;
    }
    if (a->npos == 1 && !bnc_ctl_token_id_valid(a->pos[0])) {
        /* Not echoed: a pasted key would end up in logs. */
        bnc_ctl_errx("not a token id: expected tk_ and 13 characters, as "
                     "'bouncerctl token list' shows them (the key is never "
                     "needed to revoke)");
        rc = BNC_CTL_EXIT_USAGE;
        goto out;
    }
    if (a->npos == 1) /* checked above: an id, not a key */
        bnc_strlcpy(ctx->audit_target, a->pos[0], sizeof(ctx->audit_target));
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    if (a->npos == 1) {
        src = bnc_store_token_revoke(ctx->store, a->pos[0]);
        if (src == BNC_STORE_NOTFOUND) {
            bnc_ctl_errx("no such token '%s'", a->pos[0]);
            goto out;
        }
        if (src != BNC_STORE_OK) {
            rc = bnc_ctl_store_failed_what(src, "revoke the token");
            goto out;
        }
        printf("token %s revoked\n", a->pos[0]);
        rc = BNC_CTL_EXIT_OK;
        goto out;
    }
    src = bnc_store_token_revoke_user(ctx->store, a->user, &count);
    if (src == BNC_STORE_NOTFOUND) {
        /* "Revoke all" is idempotent for a known user; for an unknown name
         * it is most likely a typo. */
        if (bnc_ctl_token_user(ctx, a->user, 0, &exists) != 0)
            goto out;
        printf("user %s has no tokens\n", bnc_ctl_vis(&vis, a->user));
        rc = BNC_CTL_EXIT_OK;
        goto out;
    }
    if (src != BNC_STORE_OK) {
        rc = bnc_ctl_store_failed_what(src, "revoke the tokens");
        goto out;
    }
    snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "count=%zu", count);
    printf("%zu token%s of user %s revoked\n", count, count == 1 ? "" : "s",
           bnc_ctl_vis(&vis, a->user));
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_buf_cleanup(&vis);
    return rc;
}
