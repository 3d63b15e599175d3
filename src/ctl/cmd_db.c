/* SPDX-License-Identifier: MIT */
/* bouncerctl db commands: init, stats, verify, backup, gc. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ctl/ctl.h"
#include "auth/throttle.h"
#include "store/jwt.h"
#include "metrics/metrics.h"

/* 0 if path is missing or an empty directory, 1 if it holds a Berkeley DB
 * environment (DB_CONFIG, written when a store is created), 2 if it holds
 * other files; -1 (message printed) when it cannot be looked at. */
static int
bnc_ctl_dir_in_use(const char *path)
{
    struct stat st;
    struct dirent *de;
    DIR *d;
    int used = 0;

    if (stat(path, &st) != 0) {
        if (errno == ENOENT)
            return 0;
        if (errno == EACCES)
            bnc_ctl_errx("permission denied: cannot access store "
                         "directory %s", path);
        else
            bnc_ctl_errx("cannot access store directory %s: %s", path,
                         strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        bnc_ctl_errx("store path %s exists and is not a directory", path);
        return -1;
    }
    d = opendir(path);
    if (d == NULL) {
        if (errno == EACCES)
            bnc_ctl_errx("permission denied: cannot read store directory %s",
                         path);
        else
            bnc_ctl_errx("cannot read store directory %s: %s", path,
                         strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
            strcmp(de->d_name, "lost+found") == 0)
            continue;
        if (strcmp(de->d_name, "DB_CONFIG") == 0) {
            used = 1;
            break;
        }
        used = 2;
    }
    closedir(d);
    return used;
}

int
bnc_ctl_db_init(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *path;
    int used;

    (void)a;
    if (bnc_ctl_conf(ctx) == NULL)
        return BNC_CTL_EXIT_FAIL;
    path = ctx->conf->store_path;
    if (path == NULL || *path == '\0') {
        bnc_ctl_errx("no store path configured ([store] path or "
                     "$BOUNCER_HOME)");
        return BNC_CTL_EXIT_FAIL;
    }
    used = bnc_ctl_dir_in_use(path);
    if (used < 0)
        return BNC_CTL_EXIT_FAIL;
    /* A mistyped BOUNCER_HOME (a home directory, /etc) must not fill up
     * with region and log files. An empty directory is fine: admins create
     * it beforehand with the group the web server shares. */
    if (used == 2) {
        bnc_ctl_errx("directory %s is not empty and holds no store; "
                     "refusing to create one there", path);
        return BNC_CTL_EXIT_FAIL;
    }
    /* Opening with create is idempotent: on an existing store it joins
     * the environment and adds whatever databases a newer bouncer needs. */
    if (bnc_ctl_store(ctx, 1) == NULL)
        return BNC_CTL_EXIT_FAIL;
    if (used)
        printf("store at %s already exists: opened and checked\n", path);
    else
        printf("store created at %s\n", path);
    return BNC_CTL_EXIT_OK;
}

int
bnc_ctl_db_stats(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_err err;

    (void)a;
    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    bnc_err_clear(&err);
    if (bnc_store_stats(ctx->store, stdout, &err) != 0) {
        bnc_ctl_errx("stats: %s", err.set ? err.msg : "store error");
        return BNC_CTL_EXIT_FAIL;
    }
    return BNC_CTL_EXIT_OK;
}

int
bnc_ctl_db_verify(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_err err;

    (void)a;
    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    bnc_err_clear(&err);
    if (bnc_store_verify(ctx->store, stdout, &err) != 0) {
        bnc_ctl_errx("verify failed: %s", err.set ? err.msg : "store error");
        return BNC_CTL_EXIT_FAIL;
    }
    printf("store at %s verified: OK\n", bnc_store_path(ctx->store));
    return BNC_CTL_EXIT_OK;
}

int
bnc_ctl_db_backup(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *dir = a->pos[0];
    struct bnc_err err;

    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    bnc_err_clear(&err);
    if (bnc_store_backup(ctx->store, dir, &err) != 0) {
        bnc_ctl_errx("backup to %s failed: %s", dir,
                     err.set ? err.msg : "store error");
        return BNC_CTL_EXIT_FAIL;
    }
    printf("backup of %s written to %s\n", bnc_store_path(ctx->store), dir);
    return BNC_CTL_EXIT_OK;
}

static int
bnc_ctl_db_gc_sessions(struct bnc_ctl *ctx, int64_t now, size_t *count)
{
    return bnc_store_session_gc(ctx->store, now, count);
}

static int
bnc_ctl_db_gc_tokens(struct bnc_ctl *ctx, int64_t now, size_t *count)
{
    return bnc_store_token_gc(ctx->store, now, count);
}

static int
bnc_ctl_db_gc_jwt_deny(struct bnc_ctl *ctx, int64_t now, size_t *count)
{
    return bnc_store_jwt_deny_gc(ctx->store, now, count);
}

static int
bnc_ctl_db_gc_jwt_families(struct bnc_ctl *ctx, int64_t now, size_t *count)
{
    return bnc_store_jwt_family_gc(ctx->store, now, count);
}

static int
bnc_ctl_db_gc_throttle(struct bnc_ctl *ctx, int64_t now, size_t *count)
{
    return bnc_throttle_gc(&ctx->conf->throttle, ctx->store, now, count);
}

/*
 * What db gc sweeps, in order. Each step removes the records of one kind
 * that are over as of now and counts them. A module with its own
 * expiring records (JWT refresh families, ...) adds one line here with a
 * wrapper around its gc function.
 */
static const struct {
    const char *what;
    const char *key;        /* in the audit line */
    int (*gc)(struct bnc_ctl *ctx, int64_t now, size_t *count);
} bnc_ctl_db_gc_steps[] = {
    {"expired sessions", "sessions", bnc_ctl_db_gc_sessions},
    {"expired API tokens", "tokens", bnc_ctl_db_gc_tokens},
    {"JWT denylist entries past their expiry", "jwt_deny",
     bnc_ctl_db_gc_jwt_deny},
    {"expired JWT refresh-token families", "jwt_families",
     bnc_ctl_db_gc_jwt_families},
    {"expired throttle counters", "throttle", bnc_ctl_db_gc_throttle},
};

int
bnc_ctl_db_gc(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    int64_t now = (int64_t)time(NULL);
    size_t i, count, n;
    int rc = BNC_CTL_EXIT_OK, src;

    (void)a;
    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    for (i = 0; i < sizeof(bnc_ctl_db_gc_steps) /
                        sizeof(bnc_ctl_db_gc_steps[0]);
         i++) {
        count = 0;
        src = bnc_ctl_db_gc_steps[i].gc(ctx, now, &count);
        if (src == BNC_STORE_DEAD) {
            bnc_ctl_store_dead("remove expired records");
            return BNC_CTL_EXIT_FAIL;
        }
        if (src != BNC_STORE_OK) {
            /* Go on: one database in trouble should not keep the others
             * growing. What was removed before the error stays removed. */
            bnc_ctl_errx("removing %s failed after %zu (store error)",
                         bnc_ctl_db_gc_steps[i].what, count);
            rc = BNC_CTL_EXIT_FAIL;
            continue;
        }
        printf("removed %zu %s\n", count, bnc_ctl_db_gc_steps[i].what);
        n = strlen(ctx->audit_detail);
        snprintf(ctx->audit_detail + n, sizeof(ctx->audit_detail) - n,
                 "%s%s=%zu", n > 0 ? " " : "", bnc_ctl_db_gc_steps[i].key,
                 count);
    }
    return rc;
}

/* Prints the shared counters (metrics.shm in the store directory) in the
 * Prometheus text format, as GET /auth/metrics serves them. Reads the
 * file only: the store itself is not opened. */
int
bnc_ctl_db_metrics(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_buf out;
    struct bnc_err err;

    (void)a;
    if (bnc_ctl_conf(ctx) == NULL)
        return BNC_CTL_EXIT_FAIL;
    if (bnc_metrics_open(ctx->conf->store_path, BNC_METRICS_RO, &err) != 0) {
        bnc_ctl_errx("metrics: %s", err.msg);
        return BNC_CTL_EXIT_FAIL;
    }
    bnc_buf_init(&out);
    bnc_metrics_render(&out);
    bnc_metrics_close();
    fputs(bnc_buf_str(&out), stdout);
    bnc_buf_cleanup(&out);
    return BNC_CTL_EXIT_OK;
}
