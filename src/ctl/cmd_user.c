/* SPDX-License-Identifier: MIT */
/* bouncerctl user and group commands: add, passwd, del, list, show,
 * disable, enable; group membership edits. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crypto/ct.h"
#include "crypto/password.h"
#include "ctl/ctl.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_CTL_EMAIL_MAX 254   /* RFC 5321 path limit */
#define BNC_CTL_DISPLAY_MAX 255

/* ---- input checks ------------------------------------------------------ */

static int
bnc_ctl_check_user_name(const char *name)
{
    struct bnc_buf vis;
    const char *why = NULL, *shown;
    size_t cut;

    if (bnc_user_name_valid(name, &why))
        return 0;
    bnc_buf_init(&vis);
    shown = bnc_ctl_vis(&vis, name);
    /* Show a long name cut short (on a character boundary): the reason
     * says what is wrong with it. */
    cut = vis.len;
    if (cut > 60) {
        cut = 60;
        while (cut > 0 && ((unsigned char)shown[cut] & 0xc0) == 0x80)
            cut--;
    }
    bnc_ctl_errx("invalid user name '%.*s%s' (%s)", (int)cut, shown,
                 cut < vis.len ? "..." : "",
                 why != NULL ? why : "not allowed");
    bnc_buf_cleanup(&vis);
    return -1;
}

static int
bnc_ctl_check_group_name(const char *g)
{
    struct bnc_buf vis;

    if (bnc_group_name_valid(g))
        return 0;
    bnc_buf_init(&vis);
    bnc_ctl_errx("invalid group name '%s': use 1 to 64 of A-Z a-z 0-9 . _ -",
                 bnc_ctl_vis(&vis, g));
    bnc_buf_cleanup(&vis);
    return -1;
}

/* Free text fields become AUTH_EMAIL / AUTH_NAME variables and headers:
 * UTF-8 without control characters, bounded. */
static int
bnc_ctl_check_text(const char *what, const char *s, size_t max)
{
    struct bnc_buf vis;
    size_t len = strlen(s);
    const char *why = NULL;

    if (len == 0)
        why = "must not be empty";
    else if (len > max)
        why = "too long";
    else if (!bnc_utf8_valid((const unsigned char *)s, len))
        why = "not valid UTF-8";
    else if (bnc_has_ctl(s, len))
        why = "contains control characters";
    if (why == NULL)
        return 0;
    bnc_buf_init(&vis);
    bnc_ctl_errx("invalid %s '%.80s': %s", what, bnc_ctl_vis(&vis, s), why);
    bnc_buf_cleanup(&vis);
    return -1;
}

static int
bnc_ctl_check_email(const char *e)
{
    const char *at;

    if (bnc_ctl_check_text("e-mail address", e, BNC_CTL_EMAIL_MAX) != 0)
        return -1;
    at = strrchr(e, '@');
    if (at == NULL || at == e || at[1] == '\0' || strchr(e, ' ') != NULL) {
        struct bnc_buf vis;

        bnc_buf_init(&vis);
        bnc_ctl_errx("invalid e-mail address '%s': expected local@domain",
                     bnc_ctl_vis(&vis, e));
        bnc_buf_cleanup(&vis);
        return -1;
    }
    return 0;
}

/* ---- shared helpers ---------------------------------------------------- */

static int
bnc_ctl_store_failed(int rc, const char *what, const char *name)
{
    struct bnc_buf vis;

    bnc_buf_init(&vis);
    if (rc == BNC_STORE_NOTFOUND)
        bnc_ctl_errx("no such user '%s'", bnc_ctl_vis(&vis, name));
    else if (rc == BNC_STORE_EXISTS)
        bnc_ctl_errx("user '%s' already exists", bnc_ctl_vis(&vis, name));
    else if (rc == BNC_STORE_DEAD) {
        struct bnc_buf w;

        bnc_buf_init(&w);
        bnc_buf_printf(&w, "%s user '%s'", what, bnc_ctl_vis(&vis, name));
        bnc_ctl_store_dead(bnc_buf_str(&w));
        bnc_buf_cleanup(&w);
    }
    else
        bnc_ctl_errx("cannot %s user '%s': store error", what,
                     bnc_ctl_vis(&vis, name));
    bnc_buf_cleanup(&vis);
    return BNC_CTL_EXIT_FAIL;
}

static int64_t
bnc_ctl_now(void)
{
    return (int64_t)time(NULL);
}

/* Returns once time(NULL) has passed the second stamp. time() is what
 * bouncer stamps credentials with, and on Linux it may lag the precise
 * clock by a tick, so it is polled rather than computed. */
static void
bnc_ctl_after_second(int64_t stamp)
{
    struct timespec now, rest;

    while (bnc_ctl_now() <= stamp) {
        clock_gettime(CLOCK_REALTIME, &now);
        rest.tv_sec = 0;
        rest.tv_nsec = (int64_t)now.tv_sec <= stamp ? 1000000000L - now.tv_nsec
                                                 : 1000000L;
        if (rest.tv_nsec < 1000000L)
            rest.tv_nsec = 1000000L;
        while (nanosleep(&rest, &rest) != 0 && errno == EINTR)
            ;
    }
}

/* "none" for "" and "!" (no usable password), else the format's name. */
static const char *
bnc_ctl_hash_format(const char *hash)
{
    const char *f;

    if (hash == NULL || hash[0] == '\0' || (hash[0] == '!' && hash[1] == '\0'))
        return "none";
    f = bnc_password_format(hash);
    return f != NULL ? f : "unknown";
}

static void
bnc_ctl_groups_join(struct bnc_buf *b, char *const *groups, const char *sep)
{
    size_t i;

    for (i = 0; groups != NULL && groups[i] != NULL; i++) {
        if (i > 0)
            bnc_buf_puts(b, sep);
        bnc_buf_puts(b, groups[i]);
    }
}

/* Reads a new password (prompt or stdin), hashes it with the configured
 * Argon2id cost and wipes the clear text. *hash: caller frees (wipe). */
static int
bnc_ctl_new_hash(struct bnc_ctl *ctx, int from_stdin, char **hash)
{
    char pw[BNC_CTL_PW_MAX + 2];
    size_t len = 0;
    int rc = -1;

    *hash = NULL;
    if (bnc_ctl_pw_new(from_stdin, pw, sizeof(pw), &len) != 0)
        goto out;
    if (bnc_password_hash(&ctx->conf->argon2, pw, len, hash) != 0) {
        bnc_ctl_errx("cannot hash the password (Argon2id, m=%u KiB, t=%u, "
                     "p=%u)", (unsigned)ctx->conf->argon2.m_kib,
                     (unsigned)ctx->conf->argon2.t_cost,
                     (unsigned)ctx->conf->argon2.parallelism);
        *hash = NULL;
        goto out;
    }
    rc = 0;
out:
    bnc_memzero(pw, sizeof(pw));
    return rc;
}

/* ---- user add ---------------------------------------------------------- */

int
bnc_ctl_user_add(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *name = a->pos[0];
    struct bnc_user u, old;
    struct bnc_buf vis;
    size_t i, n = 0;
    int rc = BNC_CTL_EXIT_FAIL, src;

    memset(&u, 0, sizeof(u));
    memset(&old, 0, sizeof(old));
    bnc_buf_init(&vis);
    /* Everything the admin typed is checked before the password prompt. */
    if (bnc_ctl_check_user_name(name) != 0)
        goto out;
    for (i = 0; i < a->ngroups; i++)
        if (bnc_ctl_check_group_name(a->groups[i]) != 0)
            goto out;
    if (a->email != NULL && bnc_ctl_check_email(a->email) != 0)
        goto out;
    if (a->display_name != NULL &&
        bnc_ctl_check_text("display name", a->display_name,
                           BNC_CTL_DISPLAY_MAX) != 0)
        goto out;
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    src = bnc_store_user_get(ctx->store, name, &old);
    bnc_user_cleanup(&old);
    if (src != BNC_STORE_NOTFOUND) {
        rc = src == BNC_STORE_OK
                 ? bnc_ctl_store_failed(BNC_STORE_EXISTS, "add", name)
                 : bnc_ctl_store_failed(src, "add", name);
        goto out;
    }

    u.name = bnc_strdup(name);
    if (a->ngroups > 0) {
        u.groups = bnc_calloc(a->ngroups + 1, sizeof(*u.groups));
        for (i = 0; i < a->ngroups; i++)
            if (!bnc_strv_contains(u.groups, a->groups[i]))
                u.groups[n++] = bnc_strdup(a->groups[i]);
    }
    u.email = bnc_strdup(a->email);
    u.display_name = bnc_strdup(a->display_name);
    u.disabled = a->disabled;
    if (a->no_password) {
        u.hash = bnc_strdup("!");
    } else if (bnc_ctl_new_hash(ctx, a->password_stdin, &u.hash) != 0) {
        goto out;
    }
    src = bnc_store_user_add(ctx->store, &u);
    if (src != BNC_STORE_OK) {
        rc = bnc_ctl_store_failed(src, "add", name);
        goto out;
    }
    printf("user %s added (id %lu)\n", bnc_ctl_vis(&vis, name),
           (unsigned long)u.id);
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_user_cleanup(&u); /* wipes the hash too */
    bnc_buf_cleanup(&vis);
    return rc;
}

/* ---- record edits ------------------------------------------------------ */

/* Callbacks run inside the store's transaction and may run again after a
 * deadlock retry, on a fresh copy: they copy what they store and reset
 * their result flags every time. */
struct bnc_ctl_edit {
    const char *hash;       /* passwd */
    const char *group;      /* group add/del */
    int tokens;             /* logout-all --tokens */
    int64_t now;
    int changed;            /* out: 1 if the record was written */
};

static int
bnc_ctl_edit_passwd(struct bnc_user *u, void *arg)
{
    struct bnc_ctl_edit *e = arg;

    bnc_str_wipe_free(u->hash);
    u->hash = bnc_strdup(e->hash);
    /* Sessions, tokens and JWTs issued under the old password die. */
    u->not_before = e->now;
    e->changed = 1;
    return 0;
}

static int
bnc_ctl_edit_disable(struct bnc_user *u, void *arg)
{
    struct bnc_ctl_edit *e = arg;

    e->changed = 0;
    if (u->disabled)
        return 1;
    u->disabled = 1;
    u->not_before = e->now;
    e->changed = 1;
    return 0;
}

static int
bnc_ctl_edit_enable(struct bnc_user *u, void *arg)
{
    struct bnc_ctl_edit *e = arg;

    e->changed = 0;
    if (!u->disabled)
        return 1;
    u->disabled = 0;
    e->changed = 1;
    return 0;
}

/* Log out everywhere: sessions and JWTs (access and refresh) issued
 * up to now die at their next use; API tokens only when asked, since
 * DRF tokens are meant to outlive a login. */
static int
bnc_ctl_edit_logout_all(struct bnc_user *u, void *arg)
{
    struct bnc_ctl_edit *e = arg;

    u->not_before = e->now;
    if (e->tokens)
        u->tokens_not_before = e->now;
    e->changed = 1;
    return 0;
}

/* Moves the stamps set above forward to e->now (see bnc_ctl_settle). */
static int
bnc_ctl_edit_restamp(struct bnc_user *u, void *arg)
{
    struct bnc_ctl_edit *e = arg;

    if (u->not_before < e->now)
        u->not_before = e->now;
    if (e->tokens && u->tokens_not_before < e->now)
        u->tokens_not_before = e->now;
    return 0;
}

/* not_before and tokens_not_before are whole seconds, and a credential
 * issued in the stamped second is void (bnc_user_stamp_voids). For
 * "issued before the command = void, issued after it returned = valid" to
 * hold exactly:
 *  - the stamp must be the second the change was committed in, not the
 *    one before: when the second turned between the stamp and the commit,
 *    the stamp is moved forward (a concurrent login may have read the
 *    user in the new second);
 *  - the command returns only once that second is over, so a credential
 *    issued after it returned has a later second.
 * At most a second of waiting, only for the commands that set a stamp.
 * BNC_STORE_OK or the store's code of a failed re-stamp. */
static int
bnc_ctl_settle(struct bnc_ctl *ctx, const char *name, struct bnc_ctl_edit *e)
{
    int64_t now;
    int src;

    while ((now = bnc_ctl_now()) > e->now) {
        e->now = now;
        src = bnc_store_user_modify(ctx->store, name, bnc_ctl_edit_restamp, e,
                                    BNC_STORE_SYNC);
        if (src != BNC_STORE_OK)
            return src;
    }
    bnc_ctl_after_second(e->now);
    return BNC_STORE_OK;
}

static int
bnc_ctl_edit_group_add(struct bnc_user *u, void *arg)
{
    struct bnc_ctl_edit *e = arg;
    size_t n;

    e->changed = 0;
    if (u->groups != NULL && bnc_strv_contains(u->groups, e->group))
        return 1;
    n = u->groups != NULL ? bnc_strv_len(u->groups) : 0;
    u->groups = bnc_realloc(u->groups, (n + 2) * sizeof(*u->groups));
    u->groups[n] = bnc_strdup(e->group);
    u->groups[n + 1] = NULL;
    e->changed = 1;
    return 0;
}

static int
bnc_ctl_edit_group_del(struct bnc_user *u, void *arg)
{
    struct bnc_ctl_edit *e = arg;
    size_t i, j;

    e->changed = 0;
    for (i = 0; u->groups != NULL && u->groups[i] != NULL; i++) {
        if (strcmp(u->groups[i], e->group) != 0)
            continue;
        free(u->groups[i]);
        for (j = i; u->groups[j] != NULL; j++)
            u->groups[j] = u->groups[j + 1];
        e->changed = 1;
        return 0;
    }
    return 1;
}

/* Looks the user up so a typo is reported before a prompt or an edit. */
static int
bnc_ctl_user_exists(struct bnc_ctl *ctx, const char *name, const char *what)
{
    struct bnc_user u;
    int src;

    memset(&u, 0, sizeof(u));
    src = bnc_store_user_get(ctx->store, name, &u);
    bnc_user_cleanup(&u);
    if (src == BNC_STORE_OK)
        return 0;
    bnc_ctl_store_failed(src, what, name);
    return -1;
}

int
bnc_ctl_user_passwd(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *name = a->pos[0];
    struct bnc_ctl_edit e;
    struct bnc_buf vis;
    char *hash = NULL;
    int rc = BNC_CTL_EXIT_FAIL, src;

    bnc_buf_init(&vis);
    if (bnc_ctl_store(ctx, 0) == NULL ||
        bnc_ctl_user_exists(ctx, name, "change the password of") != 0)
        goto out;
    if (bnc_ctl_new_hash(ctx, a->password_stdin, &hash) != 0)
        goto out;
    memset(&e, 0, sizeof(e));
    e.hash = hash;
    e.now = bnc_ctl_now();
    src = bnc_store_user_modify(ctx->store, name, bnc_ctl_edit_passwd, &e,
                                BNC_STORE_SYNC);
    if (src == BNC_STORE_OK)
        src = bnc_ctl_settle(ctx, name, &e);
    if (src != BNC_STORE_OK) {
        rc = bnc_ctl_store_failed(src, "change the password of", name);
        goto out;
    }
    printf("password of user %s changed\n", bnc_ctl_vis(&vis, name));
    /* not_before already voids them; removing them also frees the space
     * and empties 'session list'. */
    bnc_ctl_session_end_user(ctx, name);
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_str_wipe_free(hash);
    bnc_buf_cleanup(&vis);
    return rc;
}

int
bnc_ctl_user_del(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *name = a->pos[0];
    struct bnc_buf vis;
    int src;

    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    src = bnc_store_user_del(ctx->store, name);
    if (src != BNC_STORE_OK)
        return bnc_ctl_store_failed(src, "delete", name);
    /* A user added again under this name after we return is created in a
     * later second than every credential of this one, which makes them
     * void (issued before the account). */
    bnc_ctl_after_second(bnc_ctl_now());
    bnc_buf_init(&vis);
    printf("user %s deleted\n", bnc_ctl_vis(&vis, name));
    bnc_buf_cleanup(&vis);
    /* A later user of the same name must not inherit them. */
    bnc_ctl_session_end_user(ctx, name);
    return BNC_CTL_EXIT_OK;
}

static int
bnc_ctl_user_toggle(struct bnc_ctl *ctx, const struct bnc_ctl_args *a,
                    int disable)
{
    const char *name = a->pos[0];
    struct bnc_ctl_edit e;
    struct bnc_buf vis;
    int src;

    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    memset(&e, 0, sizeof(e));
    e.now = bnc_ctl_now();
    src = bnc_store_user_modify(ctx->store, name,
                                disable ? bnc_ctl_edit_disable
                                        : bnc_ctl_edit_enable,
                                &e, BNC_STORE_SYNC);
    if (src == BNC_STORE_OK && disable && e.changed)
        src = bnc_ctl_settle(ctx, name, &e);
    if (src != BNC_STORE_OK)
        return bnc_ctl_store_failed(src, disable ? "disable" : "enable",
                                    name);
    bnc_buf_init(&vis);
    printf("user %s %s%s\n", bnc_ctl_vis(&vis, name),
           e.changed ? "" : "was already ", disable ? "disabled" : "enabled");
    bnc_buf_cleanup(&vis);
    if (disable)
        bnc_ctl_session_end_user(ctx, name);
    return BNC_CTL_EXIT_OK;
}

int
bnc_ctl_user_disable(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    return bnc_ctl_user_toggle(ctx, a, 1);
}

int
bnc_ctl_user_enable(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    return bnc_ctl_user_toggle(ctx, a, 0);
}

int
bnc_ctl_user_logout_all(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *name = a->pos[0];
    struct bnc_ctl_edit e;
    struct bnc_buf vis;
    size_t count = 0;
    int src;

    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    memset(&e, 0, sizeof(e));
    e.now = bnc_ctl_now();
    e.tokens = a->tokens;
    bnc_strlcpy(ctx->audit_detail, a->tokens ? "tokens=yes" : "tokens=no",
                sizeof(ctx->audit_detail));
    src = bnc_store_user_modify(ctx->store, name, bnc_ctl_edit_logout_all, &e,
                                BNC_STORE_SYNC);
    if (src == BNC_STORE_OK)
        src = bnc_ctl_settle(ctx, name, &e);
    if (src != BNC_STORE_OK)
        return bnc_ctl_store_failed(src, "log out", name);
    bnc_buf_init(&vis);
    printf("user %s logged out everywhere: sessions and JWTs issued before "
           "now are void%s\n", bnc_ctl_vis(&vis, name),
           a->tokens ? ", API tokens too" : "; API tokens kept");
    /* The times above already void them; removing them frees the space
     * and empties the listings. */
    bnc_ctl_session_end_user(ctx, name);
    if (a->tokens) {
        src = bnc_store_token_revoke_user(ctx->store, name, &count);
        if (src == BNC_STORE_OK && count > 0)
            printf("%zu token%s of user %s revoked\n", count,
                   count == 1 ? "" : "s", bnc_ctl_vis(&vis, name));
        else if (src != BNC_STORE_OK && src != BNC_STORE_NOTFOUND)
            bnc_ctl_warnx("could not remove the tokens of user %s (store "
                          "code %d); they are void anyway",
                          bnc_ctl_vis(&vis, name), src);
    }
    bnc_buf_cleanup(&vis);
    return BNC_CTL_EXIT_OK;
}

/* ---- group add/del ----------------------------------------------------- */

static int
bnc_ctl_group_edit(struct bnc_ctl *ctx, const struct bnc_ctl_args *a,
                   int add)
{
    const char *group = a->pos[0];
    struct bnc_ctl_edit e;
    struct bnc_buf vis;
    size_t i;
    int rc = BNC_CTL_EXIT_OK, src;

    if (bnc_ctl_check_group_name(group) != 0)
        return BNC_CTL_EXIT_FAIL;
    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    /* All names first: a typo in the fifth name changes nobody. */
    for (i = 1; i < a->npos; i++)
        if (bnc_ctl_user_exists(ctx, a->pos[i], "edit") != 0)
            rc = BNC_CTL_EXIT_FAIL;
    if (rc != BNC_CTL_EXIT_OK)
        return rc;

    bnc_buf_init(&vis);
    for (i = 1; i < a->npos; i++) {
        const char *name = a->pos[i];

        memset(&e, 0, sizeof(e));
        e.group = group;
        e.now = bnc_ctl_now();
        src = bnc_store_user_modify(ctx->store, name,
                                    add ? bnc_ctl_edit_group_add
                                        : bnc_ctl_edit_group_del,
                                    &e, BNC_STORE_SYNC);
        if (src != BNC_STORE_OK) {
            rc = bnc_ctl_store_failed(src, "edit", name);
            continue;
        }
        if (add)
            printf("user %s %s group %s\n", bnc_ctl_vis(&vis, name),
                   e.changed ? "added to" : "is already in", group);
        else if (e.changed)
            printf("user %s removed from group %s\n",
                   bnc_ctl_vis(&vis, name), group);
        else {
            /* Probably a typo: say so and fail, but go on with the rest. */
            bnc_ctl_errx("user '%s' is not in group '%s'",
                         bnc_ctl_vis(&vis, name), group);
            rc = BNC_CTL_EXIT_FAIL;
        }
    }
    bnc_buf_cleanup(&vis);
    return rc;
}

int
bnc_ctl_group_add(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    return bnc_ctl_group_edit(ctx, a, 1);
}

int
bnc_ctl_group_del(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    return bnc_ctl_group_edit(ctx, a, 0);
}

/* ---- list / show ------------------------------------------------------- */

static void
bnc_ctl_json_opt_str(struct bnc_buf *b, const char *s)
{
    if (s == NULL)
        bnc_buf_puts(b, "null");
    else
        bnc_buf_json_str(b, s);
}

/* One user as a JSON object on one line. Never the hash itself. */
static void
bnc_ctl_user_json(struct bnc_buf *b, const struct bnc_user *u,
                  const struct bnc_conf *c)
{
    const char *fmt = bnc_ctl_hash_format(u->hash);
    size_t i;

    bnc_buf_puts(b, "{\"name\": ");
    bnc_buf_json_str(b, u->name != NULL ? u->name : "");
    bnc_buf_printf(b, ", \"id\": %lu, \"groups\": [", (unsigned long)u->id);
    for (i = 0; u->groups != NULL && u->groups[i] != NULL; i++) {
        if (i > 0)
            bnc_buf_puts(b, ", ");
        bnc_buf_json_str(b, u->groups[i]);
    }
    bnc_buf_puts(b, "], \"email\": ");
    bnc_ctl_json_opt_str(b, u->email);
    bnc_buf_puts(b, ", \"display_name\": ");
    bnc_ctl_json_opt_str(b, u->display_name);
    bnc_buf_printf(b, ", \"disabled\": %s, \"hash_format\": ",
                   u->disabled ? "true" : "false");
    bnc_buf_json_str(b, fmt);
    bnc_buf_printf(b, ", \"rehash_at_login\": %s",
                   c->rehash && strcmp(fmt, "argon2id") != 0 &&
                           strcmp(fmt, "none") != 0 &&
                           strcmp(fmt, "unknown") != 0
                       ? "true"
                       : "false");
    bnc_buf_printf(b, ", \"created\": %lld, \"changed\": %lld, "
                   "\"not_before\": %lld, \"tokens_not_before\": %lld, "
                   "\"rev\": %llu}",
                   (long long)u->created, (long long)u->changed,
                   (long long)u->not_before, (long long)u->tokens_not_before,
                   (unsigned long long)u->rev);
}

#define BNC_CTL_LIST_COLS 6

struct bnc_ctl_list {
    const struct bnc_conf *conf;
    int json;
    size_t nrows;
    char **cells;               /* nrows * BNC_CTL_LIST_COLS, owned */
    struct bnc_buf out;         /* JSON */
};

static int
bnc_ctl_list_one(const struct bnc_user *u, void *arg)
{
    struct bnc_ctl_list *l = arg;
    struct bnc_buf b;
    char **row, tbuf[32];

    if (l->json) {
        bnc_buf_puts(&l->out, l->nrows > 0 ? ",\n  " : "\n  ");
        bnc_ctl_user_json(&l->out, u, l->conf);
        l->nrows++;
        return 0;
    }
    l->cells = bnc_realloc(l->cells, (l->nrows + 1) * BNC_CTL_LIST_COLS *
                                         sizeof(*l->cells));
    row = l->cells + l->nrows * BNC_CTL_LIST_COLS;
    bnc_buf_init(&b);
    row[0] = bnc_strdup(bnc_ctl_vis(&b, u->name != NULL ? u->name : ""));
    bnc_buf_reset(&b);
    bnc_buf_printf(&b, "%lu", (unsigned long)u->id);
    row[1] = bnc_strdup(bnc_buf_str(&b));
    bnc_buf_reset(&b);
    bnc_ctl_groups_join(&b, u->groups, ",");
    row[2] = bnc_strdup(b.len > 0 ? bnc_buf_str(&b) : "-");
    row[3] = bnc_strdup(u->disabled ? "yes" : "no");
    row[4] = bnc_strdup(bnc_ctl_hash_format(u->hash));
    row[5] = bnc_strdup(bnc_ctl_time(tbuf, sizeof(tbuf), u->changed));
    bnc_buf_cleanup(&b);
    l->nrows++;
    return 0;
}

static void
bnc_ctl_list_print(const struct bnc_ctl_list *l)
{
    static const char *const head[BNC_CTL_LIST_COLS] = {
        "NAME", "ID", "GROUPS", "DISABLED", "HASH-FORMAT", "CHANGED"};

    bnc_ctl_print_table(head, BNC_CTL_LIST_COLS, l->cells, l->nrows);
}

int
bnc_ctl_user_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_ctl_list l;
    size_t i;
    int rc = BNC_CTL_EXIT_FAIL, src;

    memset(&l, 0, sizeof(l));
    bnc_buf_init(&l.out);
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    l.conf = ctx->conf;
    l.json = a->json;
    bnc_buf_putc(&l.out, '[');
    src = bnc_store_user_foreach(ctx->store, bnc_ctl_list_one, &l);
    if (src != BNC_STORE_OK) {
        if (src == BNC_STORE_DEAD)
            bnc_ctl_store_dead("list users");
        else
            bnc_ctl_errx("cannot list users: store error");
        goto out;
    }
    if (l.json) {
        bnc_buf_puts(&l.out, l.nrows > 0 ? "\n]\n" : "]\n");
        fputs(bnc_buf_str(&l.out), stdout);
    } else {
        bnc_ctl_list_print(&l);
    }
    rc = BNC_CTL_EXIT_OK;
out:
    for (i = 0; i < l.nrows * BNC_CTL_LIST_COLS && l.cells != NULL; i++)
        free(l.cells[i]);
    free(l.cells);
    bnc_buf_cleanup(&l.out);
    return rc;
}

int
bnc_ctl_user_show(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *name = a->pos[0], *fmt;
    struct bnc_user u;
    struct bnc_buf b, vis;
    char t[32];
    int rc = BNC_CTL_EXIT_FAIL, src;

    memset(&u, 0, sizeof(u));
    bnc_buf_init(&b);
    bnc_buf_init(&vis);
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    src = bnc_store_user_get(ctx->store, name, &u);
    if (src != BNC_STORE_OK) {
        rc = bnc_ctl_store_failed(src, "show", name);
        goto out;
    }
    if (a->json) {
        bnc_ctl_user_json(&b, &u, ctx->conf);
        printf("%s\n", bnc_buf_str(&b));
        rc = BNC_CTL_EXIT_OK;
        goto out;
    }
    fmt = bnc_ctl_hash_format(u.hash);
    printf("name:          %s\n", bnc_ctl_vis(&vis, u.name));
    printf("id:            %lu\n", (unsigned long)u.id);
    bnc_ctl_groups_join(&b, u.groups, ", ");
    printf("groups:        %s\n", b.len > 0 ? bnc_buf_str(&b) : "-");
    printf("email:         %s\n",
           u.email != NULL ? bnc_ctl_vis(&vis, u.email) : "-");
    printf("display name:  %s\n",
           u.display_name != NULL ? bnc_ctl_vis(&vis, u.display_name) : "-");
    printf("disabled:      %s\n", u.disabled ? "yes" : "no");
    printf("hash format:   %s\n", fmt);
    if (strcmp(fmt, "none") == 0)
        printf("               no password: password logins are refused\n");
    else if (strcmp(fmt, "unknown") == 0)
        printf("               unrecognised hash: password logins are "
               "refused\n");
    else if (strcmp(fmt, "argon2id") != 0)
        printf("               legacy format: %s\n",
               ctx->conf->rehash ? "will be re-hashed at next login"
                                 : "kept as is ([passwords] rehash = no)");
    printf("created:       %s\n", bnc_ctl_time(t, sizeof(t), u.created));
    printf("changed:       %s\n", bnc_ctl_time(t, sizeof(t), u.changed));
    printf("not before:    %s\n", bnc_ctl_time(t, sizeof(t), u.not_before));
    printf("tokens not before: %s\n",
           bnc_ctl_time(t, sizeof(t), u.tokens_not_before));
    printf("revision:      %llu\n", (unsigned long long)u.rev);
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_user_cleanup(&u);
    bnc_buf_cleanup(&b);
    bnc_buf_cleanup(&vis);
    return rc;
}
