/* SPDX-License-Identifier: MIT */
/* Migration: users and tokens read from Apache htpasswd / htdbm files,
 * Django dumpdata JSON and bouncer's own export, mapped to store records
 * (bouncerctl import / export). Parsing only: no store access here. */
#ifndef BNC_MIGRATE_MIGRATE_H
#define BNC_MIGRATE_MIGRATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "store/store.h"
#include "util/err.h"

/* Longest htpasswd line we read (Apache's MAX_STRING_LEN). */
#define BNC_MIGRATE_LINE_MAX 8192
/* Label of the API tokens made from Django REST framework tokens. */
#define BNC_MIGRATE_DRF_LABEL "drf import"
/* "format" of bouncerctl export files. */
#define BNC_MIGRATE_EXPORT_FORMAT "bouncer-users"
#define BNC_MIGRATE_EXPORT_VERSION 1

/* ---- htpasswd / htdbm --------------------------------------------------- */

/* One user from an htpasswd line or an htdbm record. */
struct bnc_migrate_ht {
    char *name;     /* malloc'ed */
    char *hash;     /* malloc'ed stored hash, or NULL when plain is set */
    char *plain;    /* malloc'ed clear-text password (htpasswd -p), only
                       with allow_plain; wipe with the cleanup */
    char **groups;  /* htdbm "hash:group,group" (mod_authz_dbm), or NULL */
    int locked;     /* the field was a lock ("!...", "*...", "x"): hash is
                       BNC_MIGRATE_NO_PASSWORD */
};

/* The stored hash of a user without a password (Django's unusable one):
 * password logins are refused, tokens still work. */
#define BNC_MIGRATE_NO_PASSWORD "!"
/* Shortest clear-text password taken (--allow-plaintext): one to three
 * characters are lock markers or typing accidents, not passwords. */
#define BNC_MIGRATE_PLAIN_MIN 4

void bnc_migrate_ht_cleanup(struct bnc_migrate_ht *h);

/*
 * Parses one line of an htpasswd file as mod_authn_file reads it: leading
 * and trailing white space ignored, '#' lines and blank lines skipped,
 * "name:hash", anything after a second ':' ignored (a comment). The hash
 * must be one bnc_password_verify() can check; anything else is refused,
 * or taken as a clear-text password (htpasswd -p) when allow_plain and at
 * least BNC_MIGRATE_PLAIN_MIN characters long. A locked field ("!...",
 * "*...", "x") gives a user with no password (locked set), with or
 * without allow_plain.
 * Returns 1 (a user in *out), 0 (nothing on this line) or -1 (err says
 * why; *out is empty).
 */
int bnc_migrate_htpasswd_line(const char *line, size_t len, int allow_plain,
                              struct bnc_migrate_ht *out,
                              struct bnc_err *err);

/*
 * One htdbm / mod_authn_dbm record: key = user name (a trailing NUL some
 * tools store is dropped), value = "hash[:groups[:comment]]", groups comma
 * separated as mod_authz_dbm reads them. A second field that is not a list
 * of valid group names is a comment (htdbm -t) and ignored. 1 or -1.
 */
int bnc_migrate_htdbm_record(const void *key, size_t klen, const void *val,
                             size_t vlen, int allow_plain,
                             struct bnc_migrate_ht *out, struct bnc_err *err);

/* ---- Django dumpdata / bouncer export ----------------------------------- */

/* A DRF token (authtoken.token) to be stored as an API token. */
struct bnc_migrate_token {
    struct bnc_token mt_token;   /* digest, id, user, label, created */
    char mt_where[128];           /* "record [i] (pk ...)" for messages */
};

/* Called for each record left out or worth a warning (may be NULL). */
typedef void (*bnc_migrate_report_fn)(void *arg, const char *where,
                                      int skipped, const char *msg);

/* What a file maps to. Owned; free with bnc_migrate_set_cleanup(). */
struct bnc_migrate_set {
    struct bnc_user_put *ms_users;
    char (*ms_where)[128];        /* per user: "line 7", "record [3] (pk 4)" */
    size_t ms_nusers;
    size_t ms_capusers;
    struct bnc_migrate_token *ms_tokens;
    size_t ms_ntokens;
    size_t ms_captokens;
    size_t ms_skipped;           /* records left out (reported) */
    size_t ms_ignored;           /* records of models we do not import */
};

void bnc_migrate_set_init(struct bnc_migrate_set *set);
void bnc_migrate_set_cleanup(struct bnc_migrate_set *set);
/* Appends a user (taking ownership of u's members); returns it. */
struct bnc_user_put *bnc_migrate_set_add_user(struct bnc_migrate_set *set,
                                              struct bnc_user *u,
                                              unsigned fields,
                                              const char *where);

/*
 * Maps the output of `manage.py dumpdata auth.User auth.Group
 * authtoken.Token` (a JSON array, also with --natural-foreign) to users
 * and tokens: password hashes as they are ("!..." unusable = no password),
 * is_active -> enabled, email, first/last name -> display name, groups by
 * pk through auth.group records, date_joined -> created, the Django pk as
 * the user id (kept when free), DRF token keys hashed. A record that does
 * not map is reported (index and pk) and left out, never half taken.
 * 0, or -1 with err when the document itself is unusable.
 */
int bnc_migrate_django_load(const char *text, size_t len,
                            struct bnc_migrate_set *set,
                            bnc_migrate_report_fn report, void *arg,
                            struct bnc_err *err);

/* bouncerctl export's document (below) back to users: every field, the id
 * (kept when free) and times. 0, or -1 with err. */
int bnc_migrate_bouncer_load(const char *text, size_t len,
                             struct bnc_migrate_set *set,
                             bnc_migrate_report_fn report, void *arg,
                             struct bnc_err *err);

/* Export document: {"format":"bouncer-users","version":1,"exported":T,
 * "users":[...]}, one user per line. begin/user/end write to f. */
int bnc_migrate_export_begin(FILE *f, int64_t now);
int bnc_migrate_export_user(FILE *f, const struct bnc_user *u, int first);
int bnc_migrate_export_end(FILE *f);

/* ISO 8601 / RFC 3339 as Django writes it ("2024-05-01T10:20:30.123Z",
 * "+02:00" offsets, date only) to unix seconds. 0 or -1. */
int bnc_migrate_parse_time(const char *s, int64_t *out);

/* The public id of an imported token, derived from its digest so that
 * importing the same key again finds the same token. */
void bnc_migrate_token_id(const unsigned char digest[32],
                          char id[BNC_TOKEN_ID_LEN + 1]);

#endif
