/* SPDX-License-Identifier: MIT */
/* bouncerctl import htpasswd|django|bouncer and export: moving users in
 * and out of the store in batches, with a summary and a progress bar. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "crypto/password.h"
#include "ctl/ctl.h"
#include "migrate/migrate.h"
#include "store/dbm.h"
#include "util/mem.h"
#include "util/str.h"

/* Users per transaction: big enough that a 100k import is a few hundred
 * commits, small enough that a batch never holds locks for long. */
#define BNC_CTL_IMPORT_BATCH 500
/* Largest JSON file read (a 100k-user dump is about 40 MB). */
#define BNC_CTL_IMPORT_JSON_MAX ((size_t)1 << 30)

struct bnc_ctl_import {
    struct bnc_ctl *ctx;
    const struct bnc_ctl_args *args;
    const char *file;
    struct bnc_migrate_set set;
    struct bnc_ctl_progress pg;
    size_t lines;          /* htpasswd: lines read (htdbm: records) */
    size_t added, updated, unchanged, kept, skipped;
    size_t tok_added, tok_unchanged, tok_skipped;
    size_t locked;         /* htpasswd: locked lines, imported without a password */
    size_t disabled_kept;  /* disabled in bouncer, active in the file: kept */
    /* htpasswd: file order of each user in set (parallel to ms_users) and
     * the names of skipped lines, so a later line for a skipped name is
     * not imported (Apache reads only the first line for a name). */
    size_t *order;
    size_t norder, caporder;
    struct bnc_ctl_import_gone {
        char *name;
        size_t order;
        char where[64];
    } *gone;
    size_t ngone;
};

/* ---- messages --------------------------------------------------------------- */

static void
bnc_ctl_import_report(void *arg, const char *where, int skipped,
                      const char *msg)
{
    struct bnc_ctl_import *im = arg;
    struct bnc_buf vis;

    bnc_ctl_progress_clear(&im->pg);
    bnc_buf_init(&vis);
    if (skipped)
        bnc_ctl_errx("%s: %s: skipped: %s", im->file, where,
                     bnc_ctl_vis(&vis, msg));
    else
        bnc_ctl_warnx("%s: %s: %s", im->file, where, bnc_ctl_vis(&vis, msg));
    bnc_buf_cleanup(&vis);
}

static void
bnc_ctl_import_skip(struct bnc_ctl_import *im, const char *where,
                    const char *fmt, ...) BNC_PRINTF(3, 4);

static void
bnc_ctl_import_skip(struct bnc_ctl_import *im, const char *where,
                    const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    im->set.ms_skipped++;
    bnc_ctl_import_report(im, where, 1, msg);
}

/* ---- common driver ---------------------------------------------------------- */

struct bnc_ctl_import_key {
    const char *name;
    size_t order;  /* file order */
    size_t index;  /* < ms_nusers: a user; else im->gone[index - ms_nusers] */
};

static int
bnc_ctl_import_key_cmp(const void *a, const void *b)
{
    const struct bnc_ctl_import_key *x = a, *y = b;
    int c = strcmp(x->name, y->name);

    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A name twice in one file: the first one counts, as in Apache (mod_authn_
 * file stops at the first match) and in any sane reading of a dump. That
 * holds when the first line was skipped too: Apache would not have let the
 * name in with a later line, so neither does the import. */
static void
bnc_ctl_import_dedupe(struct bnc_ctl_import *im)
{
    struct bnc_migrate_set *set = &im->set;
    struct bnc_ctl_import_key *k;
    unsigned char *drop;
    size_t i, j, first, n = set->ms_nusers, total = n + im->ngone;

    if (total < 2 || n == 0)
        return;
    k = bnc_calloc(total, sizeof(*k));
    drop = bnc_calloc(n, 1);
    for (i = 0; i < n; i++) {
        k[i].name = set->ms_users[i].up_user.name;
        k[i].order = im->order != NULL && i < im->norder ? im->order[i] : i;
        k[i].index = i;
    }
    for (j = 0; j < im->ngone; j++) {
        k[n + j].name = im->gone[j].name;
        k[n + j].order = im->gone[j].order;
        k[n + j].index = n + j;
    }
    qsort(k, total, sizeof(*k), bnc_ctl_import_key_cmp);
    for (first = 0, i = 1; i < total; i++) {
        if (strcmp(k[i].name, k[first].name) != 0) {
            first = i;
            continue;
        }
        if (k[i].index >= n)
            continue; /* a later skipped line: already reported */
        drop[k[i].index] = 1;
        if (k[first].index < n)
            bnc_ctl_import_skip(im, set->ms_where[k[i].index],
                                "user '%s' already appeared at %s; the "
                                "first one counts", k[i].name,
                                set->ms_where[k[first].index]);
        else
            bnc_ctl_import_skip(im, set->ms_where[k[i].index],
                                "user '%s' already appeared at %s, which "
                                "was skipped; the first line counts, as in "
                                "Apache", k[i].name,
                                im->gone[k[first].index - n].where);
    }
    for (i = j = 0; i < n; i++) {
        if (drop[i]) {
            bnc_user_cleanup(&set->ms_users[i].up_user);
            continue;
        }
        if (j != i) {
            set->ms_users[j] = set->ms_users[i];
            memcpy(set->ms_where[j], set->ms_where[i],
                   sizeof(set->ms_where[0]));
        }
        j++;
    }
    set->ms_nusers = j;
    free(k);
    free(drop);
}

static int
bnc_ctl_import_store_failed(int src, const char *what)
{
    if (src == BNC_STORE_DEAD)
        bnc_ctl_store_dead(what);
    else
        bnc_ctl_errx("cannot %s: store error (see above); batches "
                     "written before stay, run the import again", what);
    return BNC_CTL_EXIT_FAIL;
}

/* Users in batches, each one transaction. */
static int
bnc_ctl_import_users(struct bnc_ctl_import *im)
{
    struct bnc_migrate_set *set = &im->set;
    size_t off, k, i, done;
    int src;

    if (im->args->sync_disabled)
        for (i = 0; i < set->ms_nusers; i++)
            set->ms_users[i].up_fields |= BNC_USER_PUT_DISABLED_SYNC;
    bnc_ctl_progress_start(&im->pg, "importing users", set->ms_nusers);
    for (off = 0; off < set->ms_nusers; off += k) {
        k = set->ms_nusers - off < BNC_CTL_IMPORT_BATCH
                ? set->ms_nusers - off
                : BNC_CTL_IMPORT_BATCH;
        src = bnc_store_user_put_many(im->ctx->store, set->ms_users + off, k,
                                      k, im->args->dry_run, &done);
        if (src != BNC_STORE_OK) {
            bnc_ctl_progress_clear(&im->pg);
            return bnc_ctl_import_store_failed(src, "import users");
        }
        for (i = off; i < off + k; i++) {
            struct bnc_user_put *p = &set->ms_users[i];

            if (p->up_result == BNC_USER_PUT_ADDED)
                im->added++;
            else if (p->up_result == BNC_USER_PUT_UPDATED)
                im->updated++;
            else
                im->unchanged++;
            if (p->up_hash_kept)
                im->kept++;
            if (p->up_disabled_kept) {
                char msg[160];

                snprintf(msg, sizeof(msg), "user '%s' is disabled in "
                         "bouncer and active in the file: kept disabled "
                         "(--sync-disabled enables it)", p->up_user.name);
                bnc_ctl_import_report(im, set->ms_where[i], 0, msg);
                im->disabled_kept++;
            }
            if (p->up_id_taken) {
                char msg[160];

                snprintf(msg, sizeof(msg), "user id %lu is taken by another "
                         "user: '%s' got a new id", 
                         (unsigned long)p->up_user.id, p->up_user.name);
                bnc_ctl_import_report(im, set->ms_where[i], 0, msg);
            }
        }
        bnc_ctl_progress_update(&im->pg, off + k);
    }
    bnc_ctl_progress_clear(&im->pg);
    return BNC_CTL_EXIT_OK;
}

static int
bnc_ctl_import_tok_cmp(const void *a, const void *b)
{
    const struct bnc_migrate_token *x = a, *y = b;

    return memcmp(x->mt_token.digest, y->mt_token.digest, 32);
}

/* DRF tokens: those already stored for the same user are unchanged; a
 * key stored for someone else is refused (never moved silently). */
static int
bnc_ctl_import_tokens(struct bnc_ctl_import *im)
{
    struct bnc_migrate_set *set = &im->set;
    struct bnc_token *add, cur;
    size_t i, nadd = 0;
    int src, rc = BNC_CTL_EXIT_OK;

    if (set->ms_ntokens == 0)
        return BNC_CTL_EXIT_OK;
    /* Stable enough: equal digests are the same key; keep the first. */
    qsort(set->ms_tokens, set->ms_ntokens, sizeof(*set->ms_tokens),
          bnc_ctl_import_tok_cmp);
    add = bnc_calloc(set->ms_ntokens, sizeof(*add));
    for (i = 0; i < set->ms_ntokens; i++) {
        struct bnc_migrate_token *mt = &set->ms_tokens[i];

        if (i > 0 && memcmp(mt->mt_token.digest,
                            set->ms_tokens[i - 1].mt_token.digest, 32) == 0) {
            im->tok_skipped++;
            bnc_ctl_import_report(im, mt->mt_where, 1,
                                  "the same key appears twice");
            continue;
        }
        src = bnc_store_token_get(im->ctx->store, mt->mt_token.digest, &cur);
        if (src == BNC_STORE_OK) {
            if (strcmp(cur.user, mt->mt_token.user) == 0) {
                im->tok_unchanged++;
            } else {
                im->tok_skipped++;
                bnc_ctl_import_report(im, mt->mt_where, 1,
                                      "this key is already the token of "
                                      "another user");
            }
            bnc_token_cleanup(&cur);
            continue;
        }
        if (src != BNC_STORE_NOTFOUND) {
            rc = bnc_ctl_import_store_failed(src, "look up a token");
            goto out;
        }
        add[nadd++] = mt->mt_token; /* shallow: set keeps ownership */
    }
    if (nadd > 0 && !im->args->dry_run) {
        src = bnc_store_token_add_many(im->ctx->store, add, nadd,
                                       BNC_CTL_IMPORT_BATCH);
        if (src != BNC_STORE_OK) {
            rc = bnc_ctl_import_store_failed(src, "import tokens");
            goto out;
        }
    }
    im->tok_added = nadd;
out:
    free(add);
    return rc;
}

/* Writes the set, then prints the summary. */
static int
bnc_ctl_import_finish(struct bnc_ctl_import *im, const char *kind)
{
    int dry = im->args->dry_run, rc;

    bnc_ctl_import_dedupe(im);
    im->skipped = im->set.ms_skipped;
    rc = bnc_ctl_import_users(im);
    if (rc == BNC_CTL_EXIT_OK)
        rc = bnc_ctl_import_tokens(im);
    if (rc != BNC_CTL_EXIT_OK)
        return rc;
    /* The audit line's detail (audit.c): counts, never a record. */
    snprintf(im->ctx->audit_detail, sizeof(im->ctx->audit_detail),
             "%simported=%zu updated=%zu unchanged=%zu skipped=%zu "
             "tokens=%zu", dry ? "dry-run " : "", im->added, im->updated,
             im->unchanged, im->skipped, im->tok_added);
    /* The summary goes to stderr with the per-record messages; stdout
     * stays free for scripts. */
    fflush(stdout);
    fprintf(stderr, "bouncerctl: import %s %s: %s%s %zu, %s %zu, "
            "unchanged %zu, skipped %zu\n", kind, im->file,
            dry ? "dry run, nothing written: " : "",
            dry ? "would import" : "imported", im->added,
            dry ? "would update" : "updated", im->updated, im->unchanged,
            im->skipped);
    if (im->set.ms_ntokens > 0 || strcmp(kind, "django") == 0)
        fprintf(stderr, "bouncerctl: tokens: %s %zu, unchanged %zu, "
                "skipped %zu\n", dry ? "would import" : "imported",
                im->tok_added, im->tok_unchanged, im->tok_skipped);
    if (im->kept > 0)
        fprintf(stderr, "bouncerctl: kept the password of %zu user%s: "
                "changed in bouncer (or re-hashed at login) since the "
                "same hash was imported\n",
                im->kept, im->kept == 1 ? "" : "s");
    if (im->disabled_kept > 0)
        fprintf(stderr, "bouncerctl: kept %zu user%s disabled that the file "
                "has active (named above; --sync-disabled enables them)\n",
                im->disabled_kept, im->disabled_kept == 1 ? "" : "s");
    if (im->locked > 0)
        fprintf(stderr, "bouncerctl: %zu user%s locked in the file (!, *, "
                "x): imported with no password\n", im->locked,
                im->locked == 1 ? "" : "s");
    if (im->set.ms_ignored > 0)
        fprintf(stderr, "bouncerctl: ignored %zu records of other models\n",
                im->set.ms_ignored);
    return im->skipped + im->tok_skipped > 0 ? BNC_CTL_EXIT_FAIL
                                             : BNC_CTL_EXIT_OK;
}

static void
bnc_ctl_import_init(struct bnc_ctl_import *im, struct bnc_ctl *ctx,
                    const struct bnc_ctl_args *a)
{
    memset(im, 0, sizeof(*im));
    im->ctx = ctx;
    im->args = a;
    im->file = a->pos[0];
    bnc_migrate_set_init(&im->set);
}

/* ---- htpasswd / htdbm --------------------------------------------------------- */

/* --group values and, for htdbm, the record's groups. */
static char **
bnc_ctl_import_groups(const struct bnc_ctl_args *a, char *const *extra)
{
    size_t n = a->ngroups + bnc_strv_len(extra), i, k = 0;
    char **g;

    if (n == 0)
        return NULL;
    g = bnc_calloc(n + 1, sizeof(*g));
    for (i = 0; i < a->ngroups; i++)
        if (!bnc_strv_contains(g, a->groups[i]))
            g[k++] = bnc_strdup(a->groups[i]);
    for (i = 0; extra != NULL && extra[i] != NULL; i++)
        if (!bnc_strv_contains(g, extra[i]))
            g[k++] = bnc_strdup(extra[i]);
    return g;
}

/* A clear-text password (htpasswd -p, --allow-plaintext): hashed with
 * Argon2id now, unless the user's stored hash already matches it (a
 * re-run must not change anything). */
static int
bnc_ctl_import_plain(struct bnc_ctl_import *im, struct bnc_migrate_ht *h,
                     struct bnc_user *u, unsigned *fields)
{
    struct bnc_user cur;
    int src;

    src = bnc_store_user_get(im->ctx->store, u->name, &cur);
    if (src == BNC_STORE_OK) {
        enum bnc_pw_result r = bnc_password_verify(
            cur.hash, h->plain, strlen(h->plain), NULL, NULL);

        bnc_user_cleanup(&cur);
        if (r == BNC_PW_MATCH) {
            *fields &= ~BNC_USER_PUT_HASH;
            return 0;
        }
    } else if (src != BNC_STORE_NOTFOUND) {
        (void)bnc_ctl_import_store_failed(src, "read a user");
        return -1;
    }
    if (im->args->dry_run) {
        u->hash = bnc_strdup("!"); /* stands for the new hash */
        return 0;
    }
    if (bnc_password_hash(&im->ctx->conf->argon2, h->plain, strlen(h->plain),
                          &u->hash) != 0) {
        bnc_ctl_errx("cannot hash a password (Argon2id)");
        u->hash = NULL;
        return -1;
    }
    return 0;
}

/* One parsed htpasswd user into the set. -1 only on a hard failure. */
static int
bnc_ctl_import_ht_take(struct bnc_ctl_import *im, struct bnc_migrate_ht *h,
                       const char *where)
{
    struct bnc_user u;
    unsigned fields = BNC_USER_PUT_HASH;

    memset(&u, 0, sizeof(u));
    if (h->locked) {
        char msg[160];

        snprintf(msg, sizeof(msg), "user '%s' is locked in the file: "
                 "imported with no password (password logins refused)",
                 h->name);
        bnc_ctl_import_report(im, where, 0, msg);
        im->locked++;
    }
    u.name = h->name;
    h->name = NULL;
    u.groups = bnc_ctl_import_groups(im->args, h->groups);
    if (u.groups != NULL)
        fields |= BNC_USER_PUT_GROUPS_ADD;
    if (h->plain != NULL) {
        if (bnc_ctl_import_plain(im, h, &u, &fields) != 0) {
            bnc_user_cleanup(&u);
            return -1;
        }
    } else {
        u.hash = h->hash;
        h->hash = NULL;
    }
    if (im->norder == im->caporder) {
        im->caporder = im->caporder ? 2 * im->caporder : 64;
        im->order = bnc_realloc(im->order, im->caporder * sizeof(*im->order));
    }
    im->order[im->norder++] = im->lines;
    (void)bnc_migrate_set_add_user(&im->set, &u, fields, where);
    return 0;
}

/* The name of a skipped htpasswd line (what mod_authn_file would compare:
 * the bytes before the first ':' after leading white space), remembered so
 * that a later line for it is skipped too. Nothing else of the line is
 * kept: it may hold a password. */
static void
bnc_ctl_import_gone(struct bnc_ctl_import *im, const char *line, size_t len,
                    const char *where)
{
    const char *colon;

    while (len > 0 && (*line == ' ' || *line == '\t' || *line == '\r' ||
                       *line == '\n' || *line == '\v' || *line == '\f')) {
        line++;
        len--;
    }
    colon = memchr(line, ':', len);
    if (colon == NULL || colon == line ||
        memchr(line, '\0', (size_t)(colon - line)) != NULL)
        return;
    im->gone = bnc_realloc(im->gone, (im->ngone + 1) * sizeof(*im->gone));
    im->gone[im->ngone].name = bnc_strndup(line, (size_t)(colon - line));
    im->gone[im->ngone].order = im->lines;
    bnc_strlcpy(im->gone[im->ngone].where, where,
                sizeof(im->gone[0].where));
    im->ngone++;
}

static int
bnc_ctl_import_htpasswd_text(struct bnc_ctl_import *im, FILE *f)
{
    struct bnc_migrate_ht h;
    struct bnc_err err;
    char *line = NULL, where[64];
    size_t cap = 0;
    ssize_t len;
    int rc = 0, r;

    while ((len = getline(&line, &cap, f)) >= 0) {
        im->lines++;
        snprintf(where, sizeof(where), "line %zu", im->lines);
        bnc_err_clear(&err);
        r = bnc_migrate_htpasswd_line(line, (size_t)len,
                                      im->args->allow_plain, &h, &err);
        if (r < 0) {
            bnc_ctl_import_gone(im, line, (size_t)len, where);
            bnc_memzero(line, (size_t)len);
            bnc_ctl_import_skip(im, where, "%s", err.msg);
            continue;
        }
        bnc_memzero(line, (size_t)len);
        if (r == 0)
            continue;
        rc = bnc_ctl_import_ht_take(im, &h, where);
        bnc_migrate_ht_cleanup(&h);
        if (rc != 0)
            break;
    }
    if (rc == 0 && ferror(f)) {
        bnc_ctl_errx("%s: read error: %s", im->file, strerror(errno));
        rc = -1;
    }
    if (line != NULL)
        bnc_memzero(line, cap);
    free(line);
    return rc;
}

struct bnc_ctl_import_dbm {
    struct bnc_ctl_import *im;
    size_t n;
    int rc;
};

static int
bnc_ctl_import_dbm_rec(const void *key, size_t klen, const void *val,
                       size_t vlen, void *arg)
{
    struct bnc_ctl_import_dbm *d = arg;
    struct bnc_migrate_ht h;
    struct bnc_err err;
    struct bnc_buf vis;
    char where[96], kbuf[41];
    size_t show = klen < 40 ? klen : 40;

    d->n++;
    d->im->lines = d->n;
    memcpy(kbuf, key, show);
    kbuf[show] = '\0';
    bnc_buf_init(&vis);
    snprintf(where, sizeof(where), "record %zu ('%.40s')", d->n,
             bnc_ctl_vis(&vis, kbuf));
    bnc_buf_cleanup(&vis);
    bnc_err_clear(&err);
    if (bnc_migrate_htdbm_record(key, klen, val, vlen,
                                 d->im->args->allow_plain, &h, &err) < 0) {
        bnc_ctl_import_skip(d->im, where, "%s", err.msg);
        return 0;
    }
    d->rc = bnc_ctl_import_ht_take(d->im, &h, where);
    bnc_migrate_ht_cleanup(&h);
    return d->rc;
}

int
bnc_ctl_import_htpasswd(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_ctl_import im;
    struct bnc_ctl_import_dbm d;
    struct bnc_err err;
    size_t i;
    FILE *f = NULL;
    int dbm, rc = BNC_CTL_EXIT_FAIL;

    bnc_ctl_import_init(&im, ctx, a);
    for (i = 0; i < a->ngroups; i++)
        if (!bnc_group_name_valid(a->groups[i])) {
            struct bnc_buf vis;

            bnc_buf_init(&vis);
            bnc_ctl_errx("invalid group name '%s': use 1 to 64 of A-Z a-z "
                         "0-9 . _ -", bnc_ctl_vis(&vis, a->groups[i]));
            bnc_buf_cleanup(&vis);
            return BNC_CTL_EXIT_USAGE;
        }
    dbm = a->dbm ? 1 : bnc_store_dbm_probe(im.file);
    if (dbm < 0) {
        bnc_ctl_errx("cannot read %s: %s", im.file, strerror(errno));
        return BNC_CTL_EXIT_FAIL;
    }
    if (!dbm) {
        f = fopen(im.file, "re");
        if (f == NULL) {
            bnc_ctl_errx("cannot open %s: %s", im.file, strerror(errno));
            return BNC_CTL_EXIT_FAIL;
        }
    }
    /* The store first: clear-text lines are compared with it. */
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    if (dbm) {
        memset(&d, 0, sizeof(d));
        d.im = &im;
        bnc_err_clear(&err);
        if (bnc_store_dbm_foreach(im.file, bnc_ctl_import_dbm_rec, &d,
                                  &err) != 0) {
            bnc_ctl_errx("%s", err.msg);
            goto out;
        }
        if (d.rc != 0)
            goto out;
    } else if (bnc_ctl_import_htpasswd_text(&im, f) != 0) {
        goto out;
    }
    rc = bnc_ctl_import_finish(&im, dbm ? "htdbm" : "htpasswd");
out:
    if (f != NULL)
        fclose(f);
    bnc_migrate_set_cleanup(&im.set);
    for (i = 0; i < im.ngone; i++)
        free(im.gone[i].name);
    free(im.gone);
    free(im.order);
    return rc;
}

/* ---- JSON (Django, bouncer export) -------------------------------------------- */

/* The whole file in memory (malloc'ed, wiped by the caller). */
static char *
bnc_ctl_import_slurp(const char *file, size_t *len)
{
    struct stat st;
    char *buf;
    int fd;

    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &st) != 0) {
        bnc_ctl_errx("cannot open %s: %s", file, strerror(errno));
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size > BNC_CTL_IMPORT_JSON_MAX) {
        bnc_ctl_errx("%s: not a regular file of at most 1 GiB", file);
        close(fd);
        return NULL;
    }
    buf = bnc_read_fd(fd, (size_t)st.st_size, len);
    close(fd);
    return buf;
}

static int
bnc_ctl_import_json(struct bnc_ctl *ctx, const struct bnc_ctl_args *a,
                    const char *kind,
                    int (*load)(const char *, size_t, struct bnc_migrate_set *,
                                bnc_migrate_report_fn, void *,
                                struct bnc_err *))
{
    struct bnc_ctl_import im;
    struct bnc_err err;
    char *text;
    size_t len = 0;
    int rc = BNC_CTL_EXIT_FAIL;

    bnc_ctl_import_init(&im, ctx, a);
    text = bnc_ctl_import_slurp(im.file, &len);
    if (text == NULL)
        return BNC_CTL_EXIT_FAIL;
    bnc_err_clear(&err);
    if (load(text, len, &im.set, bnc_ctl_import_report, &im, &err) != 0) {
        bnc_ctl_errx("%s: %s", im.file, err.msg);
        goto out;
    }
    /* Hashes and token keys: not left in freed memory. */
    bnc_memzero(text, len);
    if (bnc_ctl_store(ctx, 0) == NULL)
        goto out;
    rc = bnc_ctl_import_finish(&im, kind);
out:
    bnc_memzero(text, len);
    free(text);
    bnc_migrate_set_cleanup(&im.set);
    return rc;
}

int
bnc_ctl_import_django(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    return bnc_ctl_import_json(ctx, a, "django", bnc_migrate_django_load);
}

int
bnc_ctl_import_bouncer(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    return bnc_ctl_import_json(ctx, a, "bouncer", bnc_migrate_bouncer_load);
}

/* ---- export ---------------------------------------------------------------------- */

struct bnc_ctl_export {
    FILE *f;
    size_t n;
    int failed;
};

static int
bnc_ctl_export_one(const struct bnc_user *u, void *arg)
{
    struct bnc_ctl_export *e = arg;

    if (bnc_migrate_export_user(e->f, u, e->n == 0) != 0) {
        e->failed = 1;
        return 1;
    }
    e->n++;
    return 0;
}

int
bnc_ctl_export(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_ctl_export e;
    const char *out = a->output;
    char *tmp = NULL;
    int fd, src, rc = BNC_CTL_EXIT_FAIL, werr = 0;

    memset(&e, 0, sizeof(e));
    if (out != NULL && strcmp(out, "-") == 0)
        out = NULL;
    bnc_strlcpy(ctx->audit_target, out != NULL ? out : "(standard output)",
                sizeof(ctx->audit_target));
    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    e.f = stdout;
    if (out != NULL) {
        /* Password hashes: owner only, and never a half-written file under
         * the final name. */
        size_t n = strlen(out) + 16;

        tmp = bnc_malloc(n);
        snprintf(tmp, n, "%s.tmpXXXXXX", out);
        fd = mkstemp(tmp);
        if (fd < 0 || fchmod(fd, 0600) != 0 ||
            (e.f = fdopen(fd, "w")) == NULL) {
            bnc_ctl_errx("cannot create %s: %s", tmp, strerror(errno));
            if (fd >= 0) {
                close(fd);
                unlink(tmp);
            }
            free(tmp);
            return BNC_CTL_EXIT_FAIL;
        }
    }
    if (bnc_migrate_export_begin(e.f, (int64_t)time(NULL)) != 0) {
        werr = errno;
        goto out;
    }
    src = bnc_store_user_foreach(ctx->store, bnc_ctl_export_one, &e);
    if (e.failed) {
        werr = errno;
        goto out;
    }
    if (src != BNC_STORE_OK) {
        if (src == BNC_STORE_DEAD)
            bnc_ctl_store_dead("export users");
        else
            bnc_ctl_errx("cannot read the users: store error");
        goto out;
    }
    if (bnc_migrate_export_end(e.f) != 0 || fflush(e.f) != 0) {
        werr = errno;
        goto out;
    }
    if (out != NULL) {
        if (fsync(fileno(e.f)) != 0) {
            werr = errno;
            goto out;
        }
        src = fclose(e.f);
        e.f = NULL;
        if (src != 0) {
            werr = errno;
            goto out;
        }
        if (rename(tmp, out) != 0) {
            bnc_ctl_errx("cannot rename %s to %s: %s", tmp, out,
                         strerror(errno));
            goto out;
        }
        free(tmp);
        tmp = NULL;
        fprintf(stderr, "bouncerctl: exported %zu user%s to %s\n", e.n,
                e.n == 1 ? "" : "s", out);
    }
    snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "users=%zu", e.n);
    rc = BNC_CTL_EXIT_OK;
out:
    if (werr != 0 || (rc != BNC_CTL_EXIT_OK && e.failed))
        bnc_ctl_errx("cannot write the export%s%s: %s",
                     out != NULL ? " to " : "", out != NULL ? out : "",
                     strerror(werr != 0 ? werr : EIO));
    if (e.f != NULL && e.f != stdout)
        fclose(e.f);
    if (tmp != NULL) {
        unlink(tmp);
        free(tmp);
    }
    return rc;
}
