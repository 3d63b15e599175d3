/* SPDX-License-Identifier: MIT */
/* bouncerctl session commands: list (never the secret id or the CSRF
 * secret) and revoke one session or all of a user's. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_CTL_SESSION_COLS 7
/* The user agent column is cut for the table; --json has it whole. */
#define BNC_CTL_SESSION_UA_COLS 40

/* A session id as the store makes them: "ss_" + 13 of [a-z2-7]. */
static int
bnc_ctl_session_id_valid(const char *s)
{
    size_t i;

    if (strlen(s) != BNC_SESSION_ID_LEN || strncmp(s, "ss_", 3) != 0)
        return 0;
    for (i = 3; i < BNC_SESSION_ID_LEN; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '2' && s[i] <= '7')))
            return 0;
    return 1;
}

/* ---- session list ------------------------------------------------------ */

struct bnc_ctl_session_list {
    int json;
    int64_t now;
    size_t nrows;
    char **cells;               /* nrows * BNC_CTL_SESSION_COLS, owned */
    struct bnc_buf out;         /* JSON */
};

static void
bnc_ctl_session_json_opt(struct bnc_buf *b, const char *s)
{
    if (s == NULL)
        bnc_buf_puts(b, "null");
    else
        bnc_buf_json_str(b, s);
}

/* When the session ends: the absolute expiry, or earlier when idle. */
static int64_t
bnc_ctl_session_ends(const struct bnc_session *t)
{
    int64_t seen = t->last_seen > 0 ? t->last_seen : t->created;

    if (t->idle_timeout > 0 && seen + t->idle_timeout < t->expires)
        return seen + t->idle_timeout;
    return t->expires;
}

/* One session as a JSON object on one line: never the digest or CSRF. */
static void
bnc_ctl_session_json(struct bnc_buf *b, const struct bnc_session *t,
                     int64_t now)
{
    int64_t ends = bnc_ctl_session_ends(t);

    bnc_buf_puts(b, "{\"id\": ");
    bnc_buf_json_str(b, t->id);
    bnc_buf_puts(b, ", \"user\": ");
    bnc_ctl_session_json_opt(b, t->user);
    bnc_buf_printf(b, ", \"created\": %lld, \"last_seen\": ",
                   (long long)t->created);
    if (t->last_seen > 0)
        bnc_buf_printf(b, "%lld", (long long)t->last_seen);
    else
        bnc_buf_puts(b, "null");
    bnc_buf_printf(b, ", \"expires\": %lld, \"idle_timeout\": %lld, "
                   "\"ends\": %lld, \"expired\": %s, \"client\": ",
                   (long long)t->expires, (long long)t->idle_timeout,
                   (long long)ends, now >= ends ? "true" : "false");
    bnc_ctl_session_json_opt(b, t->client);
    bnc_buf_puts(b, ", \"user_agent\": ");
    bnc_ctl_session_json_opt(b, t->user_agent);
    bnc_buf_puts(b, ", \"device\": ");
    bnc_ctl_session_json_opt(b, t->device);
    bnc_buf_putc(b, '}');
}

/* s cut to at most max characters (UTF-8), shown safely. */
static char *
bnc_ctl_session_cut(struct bnc_buf *b, const char *s, size_t max)
{
    const char *v = bnc_ctl_vis(b, s);
    size_t i, chars = 0;

    for (i = 0; v[i] != '\0'; i++) {
        if (((unsigned char)v[i] & 0xc0) != 0x80 && ++chars > max) {
            struct bnc_buf c;
            char *r;

            bnc_buf_init(&c);
            bnc_buf_append(&c, v, i);
            bnc_buf_puts(&c, "...");
            r = bnc_strdup(bnc_buf_str(&c));
            bnc_buf_cleanup(&c);
            return r;
        }
    }
    return bnc_strdup(v);
}

static int
bnc_ctl_session_list_one(const struct bnc_session *t, void *arg)
{
    struct bnc_ctl_session_list *l = arg;
    struct bnc_buf b;
    char **row, tbuf[48];
    int64_t ends;

    if (l->json) {
        bnc_buf_puts(&l->out, l->nrows > 0 ? ",\n  " : "\n  ");
        bnc_ctl_session_json(&l->out, t, l->now);
        l->nrows++;
        return 0;
    }
    l->cells = bnc_realloc(l->cells, (l->nrows + 1) * BNC_CTL_SESSION_COLS *
                                         sizeof(*l->cells));
    row = l->cells + l->nrows * BNC_CTL_SESSION_COLS;
    bnc_buf_init(&b);
    row[0] = bnc_strdup(t->id);
    row[1] = bnc_strdup(bnc_ctl_vis(&b, t->user != NULL ? t->user : "?"));
    row[2] = bnc_strdup(bnc_ctl_time(tbuf, sizeof(tbuf), t->created));
    row[3] = bnc_strdup(bnc_ctl_time(tbuf, sizeof(tbuf),
                                             t->last_seen));
    ends = bnc_ctl_session_ends(t);
    bnc_ctl_time(tbuf, sizeof(tbuf), ends);
    if (l->now >= ends)
        bnc_strlcpy(tbuf + strlen(tbuf), " (expired)",
                    sizeof(tbuf) - strlen(tbuf));
    row[4] = bnc_strdup(tbuf);
    row[5] = bnc_strdup(t->client != NULL && *t->client != '\0'
                            ? bnc_ctl_vis(&b, t->client)
                            : "-");
    row[6] = t->user_agent != NULL && *t->user_agent != '\0'
                 ? bnc_ctl_session_cut(&b, t->user_agent,
                                       BNC_CTL_SESSION_UA_COLS)
                 : bnc_strdup("-");
    bnc_buf_cleanup(&b);
    l->nrows++;
    return 0;
}

static void
bnc_ctl_session_list_print(const struct bnc_ctl_session_list *l)
{
    static const char *const head[BNC_CTL_SESSION_COLS] = {
        "ID", "USER", "CREATED", "LAST-SEEN", "EXPIRES", "CLIENT",
        "USER-AGENT"};

    bnc_ctl_print_table(head, BNC_CTL_SESSION_COLS, l->cells, l->nrows);
}

int
bnc_ctl_session_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_ctl_session_list l;
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
        /* A typo should not look like "no sessions". */
        src = bnc_store_user_get(ctx->store, user, &u);
        if (src == BNC_STORE_NOTFOUND)
            bnc_ctl_warnx("no such user '%s' (listing any sessions left "
                          "under that name)", bnc_ctl_vis(&vis, user));
        bnc_user_cleanup(&u);
    }
    l.json = a->json;
    l.now = (int64_t)time(NULL);
    bnc_buf_putc(&l.out, '[');
    src = bnc_store_session_foreach(ctx->store, user,
                                    bnc_ctl_session_list_one, &l);
    if (src != BNC_STORE_OK && src != BNC_STORE_NOTFOUND) {
        rc = bnc_ctl_store_failed_what(src, "list sessions");
        goto out;
    }
    if (l.json) {
        bnc_buf_puts(&l.out, l.nrows > 0 ? "\n]\n" : "]\n");
        fputs(bnc_buf_str(&l.out), stdout);
    } else {
        bnc_ctl_session_list_print(&l);
    }
    rc = BNC_CTL_EXIT_OK;
out:
    for (i = 0; i < l.nrows * BNC_CTL_SESSION_COLS && l.cells != NULL; i++)
        free(l.cells[i]);
    free(l.cells);
    bnc_buf_cleanup(&l.out);
    bnc_buf_cleanup(&vis);
    return rc;
}

/* ---- session revoke ---------------------------------------------------- */

int
bnc_ctl_session_revoke(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_buf vis;
    struct bnc_user u;
    size_t count = 0;
    int rc = BNC_CTL_EXIT_FAIL, src;

    bnc_buf_init(&vis);
    memset(&u, 0, sizeof(u));
    if ((a->npos == 1) == (a->user != NULL)) {
        bnc_ctl_errx("'session revoke' takes a session ID or --user USER "
                     "(one of them)");
        rc = BNC_CTL_EXIT_USAGE;
        goto out;
    }
    if (a->npos == 1 && !bnc_ctl_session_id_valid(a->pos[0])) {
        /* Not echoed: a pasted cookie value would end up in logs. */
        bnc_ctl_errx("not a session id: expected ss_ and 13 characters, as "
                     "'bouncerctl session list' shows them (the cookie value "
                     "is never needed)");
        rc = BNC_CTL_EXIT_USAGE;
        goto out;
    }
    if (a->npos == 1) /* checked above: an id, not a cookie value */
        bnc_strlcpy(ctx->audit_target, a->pos[0], sizeof(ctx->audit_target));
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    if (a->npos == 1) {
        src = bnc_store_session_revoke(ctx->store, a->pos[0]);
        if (src == BNC_STORE_NOTFOUND) {
            bnc_ctl_errx("no such session '%s'", a->pos[0]);
            goto out;
        }
        if (src != BNC_STORE_OK) {
            rc = bnc_ctl_store_failed_what(src, "revoke the session");
            goto out;
        }
        printf("session %s revoked\n", a->pos[0]);
        rc = BNC_CTL_EXIT_OK;
        goto out;
    }
    src = bnc_store_session_revoke_user(ctx->store, a->user, &count);
    if (src == BNC_STORE_NOTFOUND) {
        /* Idempotent for a known user; an unknown name is likely a typo. */
        src = bnc_store_user_get(ctx->store, a->user, &u);
        if (src == BNC_STORE_NOTFOUND) {
            bnc_ctl_errx("no such user '%s'", bnc_ctl_vis(&vis, a->user));
            goto out;
        }
        if (src != BNC_STORE_OK) {
            rc = bnc_ctl_store_failed_what(src, "read the user");
            goto out;
        }
        printf("user %s has no sessions\n", bnc_ctl_vis(&vis, a->user));
        rc = BNC_CTL_EXIT_OK;
        goto out;
    }
    if (src != BNC_STORE_OK) {
        rc = bnc_ctl_store_failed_what(src, "revoke the sessions");
        goto out;
    }
    snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "count=%zu", count);
    printf("%zu session%s of user %s revoked\n", count,
           count == 1 ? "" : "s", bnc_ctl_vis(&vis, a->user));
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_user_cleanup(&u);
    bnc_buf_cleanup(&vis);
    return rc;
}

/* ---- for user passwd / disable / del ----------------------------------- */

int
bnc_ctl_session_end_user(struct bnc_ctl *ctx, const char *user)
{
    struct bnc_buf vis;
    size_t count = 0;
    int src;

    src = bnc_store_session_revoke_user(ctx->store, user, &count);
    if (src == BNC_STORE_NOTFOUND)
        return 0;
    bnc_buf_init(&vis);
    if (src != BNC_STORE_OK) {
        /* not_before already voids them; say so rather than fail. */
        bnc_ctl_warnx("could not remove the sessions of user %s (store "
                      "code %d); they are void anyway",
                      bnc_ctl_vis(&vis, user), src);
        bnc_buf_cleanup(&vis);
        return -1;
    }
    if (count > 0)
        printf("%zu session%s of user %s ended\n", count,
               count == 1 ? "" : "s", bnc_ctl_vis(&vis, user));
    bnc_buf_cleanup(&vis);
    return 0;
}
