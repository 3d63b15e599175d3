/* SPDX-License-Identifier: MIT */
/* Django `manage.py dumpdata auth.User auth.Group authtoken.Token` to users
 * and API tokens (bouncerctl import django). */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "crypto/ct.h"
#include "crypto/digest.h"
#include "migrate/migrate.h"
#include "migrate/priv.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_MIGRATE_DRF_KEY_MAX 255

/* Lookups built while reading: pk (as text) -> value. */
struct bnc_migrate_dj {
    json_t *groups;   /* group pk -> name, or null for a name we refuse */
    json_t *users;    /* user pk -> username, or null for a skipped user */
    json_t *names;    /* username -> true: natural keys of users taken */
    json_t *warned;   /* group pks and model names already reported */
    bnc_migrate_report_fn report;
    void *arg;
    struct bnc_migrate_set *set;
    int64_t now;
};

static void
bnc_migrate_dj_report(struct bnc_migrate_dj *d, const char *where,
                      int skipped, const char *msg)
{
    if (skipped)
        d->set->ms_skipped++;
    if (d->report != NULL)
        d->report(d->arg, where, skipped, msg);
}

/* A pk as text: integers as decimal, strings as they are; NULL if neither
 * (or too long to be a key of ours). */
static const char *
bnc_migrate_dj_pk(const json_t *pk, char *buf, size_t size)
{
    if (json_is_integer(pk)) {
        snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(pk));
        return buf;
    }
    if (json_is_string(pk) && json_string_length(pk) > 0 &&
        json_string_length(pk) < size) {
        bnc_strlcpy(buf, json_string_value(pk), size);
        return buf;
    }
    return NULL;
}

static const char *
bnc_migrate_dj_str(const json_t *fields, const char *key)
{
    const json_t *v = json_object_get(fields, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

static void
bnc_migrate_dj_group(struct bnc_migrate_dj *d, const json_t *rec,
                     const char *where)
{
    const json_t *fields = json_object_get(rec, "fields");
    const char *name = bnc_migrate_dj_str(fields, "name");
    char pk[32], msg[256];

    if (bnc_migrate_dj_pk(json_object_get(rec, "pk"), pk, sizeof(pk)) ==
            NULL ||
        name == NULL) {
        bnc_migrate_dj_report(d, where, 1, "auth.group record without "
                                           "pk or name");
        return;
    }
    if (!bnc_group_name_valid(name)) {
        /* Left out, not renamed: a rule naming the new spelling would be
         * a surprise, and a group missing denies rather than grants. */
        snprintf(msg, sizeof(msg), "group name '%.64s' is not a bouncer "
                 "group name (1 to 64 of A-Z a-z 0-9 . _ -): its members "
                 "are imported without it", name);
        bnc_migrate_dj_report(d, where, 1, msg);
        json_object_set_new(d->groups, pk, json_null());
        return;
    }
    json_object_set_new(d->groups, pk, json_string(name));
}

/* The user's groups: pks through the auth.group records, or natural keys
 * (["name"]). Unknown or refused groups are left out with one warning per
 * group. NULL-terminated, malloc'ed, or NULL. */
static char **
bnc_migrate_dj_groups(struct bnc_migrate_dj *d, const json_t *list,
                      const char *where)
{
    const json_t *g, *name;
    char **out = NULL, pk[32], msg[256], key[40];
    size_t i, n = 0;

    if (!json_is_array(list) || json_array_size(list) == 0)
        return NULL;
    out = bnc_calloc(json_array_size(list) + 1, sizeof(*out));
    json_array_foreach(list, i, g) {
        const char *gname = NULL;

        if (json_is_array(g) && json_array_size(g) == 1 &&
            json_is_string(json_array_get(g, 0))) {
            gname = json_string_value(json_array_get(g, 0));
            snprintf(key, sizeof(key), "n:%.32s", gname);
            if (!bnc_group_name_valid(gname)) {
                if (json_object_get(d->warned, key) == NULL) {
                    json_object_set_new(d->warned, key, json_true());
                    snprintf(msg, sizeof(msg), "group '%.64s' is not a "
                             "bouncer group name: left out", gname);
                    bnc_migrate_dj_report(d, where, 0, msg);
                }
                continue;
            }
        } else if (bnc_migrate_dj_pk(g, pk, sizeof(pk)) != NULL) {
            name = json_object_get(d->groups, pk);
            snprintf(key, sizeof(key), "g:%s", pk);
            if (name == NULL && json_object_get(d->warned, key) == NULL) {
                json_object_set_new(d->warned, key, json_true());
                snprintf(msg, sizeof(msg), "group pk %s is not in the file "
                         "(dump auth.Group too): left out", pk);
                bnc_migrate_dj_report(d, where, 0, msg);
            }
            if (!json_is_string(name))
                continue;
            gname = json_string_value(name);
        } else {
            continue;
        }
        if (!bnc_strv_contains(out, gname))
            out[n++] = bnc_strdup(gname);
    }
    if (n == 0) {
        free(out);
        return NULL;
    }
    return out;
}

/* 1 if hash starts with "ALGORITHM$" of one of Django's hashers. The ones
 * bouncer cannot verify (md5, sha1, crypt, unsalted) are then refused by
 * bnc_migrate_check_hash with the record, as documented. */
static int
bnc_migrate_dj_hasher(const char *hash)
{
    static const char *const algs[] = {
        "pbkdf2_sha256", "pbkdf2_sha1", "bcrypt_sha256", "bcrypt", "argon2",
        "scrypt", "md5", "sha1", "unsalted_md5", "unsalted_sha1", "crypt",
        NULL};
    const char *dollar = strchr(hash, '$');
    size_t i, n;

    if (dollar == NULL)
        return 0;
    n = (size_t)(dollar - hash);
    for (i = 0; algs[i] != NULL; i++)
        if (strlen(algs[i]) == n && memcmp(hash, algs[i], n) == 0)
            return 1;
    return 0;
}

/* Maps one auth.user record; 0, or -1 with err (nothing taken). */
static int
bnc_migrate_dj_map_user(struct bnc_migrate_dj *d, const json_t *rec,
                        const char *where, struct bnc_user *u, unsigned *f,
                        struct bnc_err *err)
{
    const json_t *fields = json_object_get(rec, "fields"), *pk, *active;
    const char *name, *pw, *email, *first, *last, *joined, *why = NULL;
    struct bnc_buf disp;
    int rc = -1;

    memset(u, 0, sizeof(*u));
    *f = BNC_USER_PUT_HASH | BNC_USER_PUT_EMAIL | BNC_USER_PUT_NAME |
         BNC_USER_PUT_DISABLED | BNC_USER_PUT_GROUPS | BNC_USER_PUT_TIMES;
    bnc_buf_init(&disp);
    if (!json_is_object(fields)) {
        bnc_err_set(err, "no \"fields\" object");
        goto out;
    }
    pk = json_object_get(rec, "pk");
    if (json_is_integer(pk)) {
        if (json_integer_value(pk) < 1 ||
            json_integer_value(pk) >= (json_int_t)UINT32_MAX) {
            bnc_err_set(err, "pk out of range for a user id");
            goto out;
        }
        u->id = (uint32_t)json_integer_value(pk);
        *f |= BNC_USER_PUT_ID;
    } else if (pk != NULL && !json_is_null(pk)) {
        bnc_err_set(err, "pk is not an integer");
        goto out;
    }
    name = bnc_migrate_dj_str(fields, "username");
    if (name == NULL) {
        bnc_err_set(err, "no username");
        goto out;
    }
    if (!bnc_user_name_valid(name, &why)) {
        bnc_err_set(err, "invalid user name (%s)",
                    why != NULL ? why : "not allowed");
        goto out;
    }
    u->name = bnc_strdup(name);
    pw = bnc_migrate_dj_str(fields, "password");
    if (pw == NULL) {
        bnc_err_set(err, "user '%s': no password field", name);
        goto out;
    }
    /* Django's unusable password is "!" + 40 random characters: the user
     * keeps no password (tokens still work, as in Django). */
    if (pw[0] == '!' || pw[0] == '\0')
        pw = "!";
    /* Django reads only "algorithm$..." of its own hashers: a "$2y$...",
     * "{SHA}..." or bare value would never log in there, so it must not
     * here either (a planted value would be a back door). */
    if (strcmp(pw, "!") != 0 && !bnc_migrate_dj_hasher(pw)) {
        char msg[200];

        snprintf(msg, sizeof(msg), "user '%s': the password is not in a "
                 "Django hasher format ('%s'): imported with no password",
                 name, bnc_migrate_hash_kind(pw));
        bnc_migrate_dj_report(d, where, 0, msg);
        pw = "!";
    }
    if (bnc_migrate_check_hash(pw, err) != 0)
        goto out;
    u->hash = bnc_strdup(pw);
    email = bnc_migrate_dj_str(fields, "email");
    if (email != NULL && email[0] != '\0') {
        if (bnc_migrate_check_email(email, err) != 0)
            goto out;
        u->email = bnc_strdup(email);
    }
    first = bnc_migrate_dj_str(fields, "first_name");
    last = bnc_migrate_dj_str(fields, "last_name");
    if (first != NULL)
        bnc_buf_puts(&disp, first);
    if (last != NULL && last[0] != '\0') {
        if (disp.len > 0)
            bnc_buf_putc(&disp, ' ');
        bnc_buf_puts(&disp, last);
    }
    if (disp.len > 0) {
        char *t = bnc_str_trim((char *)bnc_buf_str(&disp));

        if (*t != '\0') {
            if (bnc_migrate_check_text("display name", t,
                                       BNC_MIGRATE_DISPLAY_MAX, err) != 0)
                goto out;
            u->display_name = bnc_strdup(t);
        }
    }
    active = json_object_get(fields, "is_active");
    if (active != NULL && !json_is_boolean(active)) {
        bnc_err_set(err, "is_active is not true or false");
        goto out;
    }
    u->disabled = active != NULL && json_is_false(active);
    joined = bnc_migrate_dj_str(fields, "date_joined");
    if (joined != NULL && bnc_migrate_parse_time(joined, &u->created) != 0) {
        bnc_err_set(err, "date_joined '%.40s' is not an ISO 8601 time",
                    joined);
        goto out;
    }
    u->groups = bnc_migrate_dj_groups(d, json_object_get(fields, "groups"),
                                      where);
    if (bnc_migrate_check_user(u, err) != 0)
        goto out;
    rc = 0;
out:
    bnc_buf_cleanup(&disp);
    if (rc != 0)
        bnc_user_cleanup(u);
    return rc;
}

static void
bnc_migrate_dj_user(struct bnc_migrate_dj *d, const json_t *rec,
                    const char *where)
{
    struct bnc_user u;
    struct bnc_err err;
    char pk[32];
    const char *pks;
    unsigned f;

    bnc_err_clear(&err);
    pks = bnc_migrate_dj_pk(json_object_get(rec, "pk"), pk, sizeof(pk));
    if (bnc_migrate_dj_map_user(d, rec, where, &u, &f, &err) != 0) {
        bnc_migrate_dj_report(d, where, 1, err.msg);
        if (pks != NULL)
            json_object_set_new(d->users, pks, json_null());
        return;
    }
    if (pks != NULL)
        json_object_set_new(d->users, pks, json_string(u.name));
    json_object_set_new(d->names, u.name, json_true());
    (void)bnc_migrate_set_add_user(d->set, &u, f, where);
}

static void
bnc_migrate_dj_token(struct bnc_migrate_dj *d, const json_t *rec,
                     size_t index)
{
    const json_t *fields = json_object_get(rec, "fields"), *ref, *who;
    const char *key, *created, *user = NULL;
    struct bnc_migrate_token *mt;
    char where[128], upk[32], msg[160];
    size_t klen, i;

    ref = fields != NULL ? json_object_get(fields, "user") : NULL;
    /* The pk of a DRF token is its key, a secret: messages name the
     * record and its user, never the pk. */
    if (bnc_migrate_dj_pk(ref, upk, sizeof(upk)) != NULL)
        snprintf(where, sizeof(where), "record [%zu] (authtoken.token of "
                 "user pk %.20s)", index, upk);
    else if (json_is_array(ref) && json_is_string(json_array_get(ref, 0)))
        snprintf(where, sizeof(where), "record [%zu] (authtoken.token of "
                 "'%.20s')", index, json_string_value(json_array_get(ref, 0)));
    else
        snprintf(where, sizeof(where), "record [%zu] (authtoken.token)",
                 index);
    key = json_is_string(json_object_get(rec, "pk"))
              ? json_string_value(json_object_get(rec, "pk"))
              : bnc_migrate_dj_str(fields, "key");
    if (key == NULL) {
        bnc_migrate_dj_report(d, where, 1, "no key (pk)");
        return;
    }
    klen = strlen(key);
    for (i = 0; i < klen; i++)
        if ((unsigned char)key[i] < 0x21 || (unsigned char)key[i] > 0x7e)
            break;
    if (klen == 0 || klen > BNC_MIGRATE_DRF_KEY_MAX || i < klen) {
        bnc_migrate_dj_report(d, where, 1, "key is not 1 to 255 printable "
                              "ASCII characters");
        return;
    }
    if (json_is_array(ref) && json_array_size(ref) == 1 &&
        json_is_string(json_array_get(ref, 0))) {
        /* --natural-foreign: ["username"] */
        user = json_string_value(json_array_get(ref, 0));
        if (json_object_get(d->names, user) == NULL) {
            bnc_migrate_dj_report(d, where, 1, "its user is not imported "
                                  "from this file");
            return;
        }
    } else if (bnc_migrate_dj_pk(ref, upk, sizeof(upk)) != NULL) {
        who = json_object_get(d->users, upk);
        if (who == NULL || !json_is_string(who)) {
            snprintf(msg, sizeof(msg), "user pk %s %s", upk,
                     who == NULL ? "is not in the file"
                                 : "was skipped, so is its token");
            bnc_migrate_dj_report(d, where, 1, msg);
            return;
        }
        user = json_string_value(who);
    } else {
        bnc_migrate_dj_report(d, where, 1, "no user");
        return;
    }
    mt = bnc_migrate_set_add_token(d->set);
    bnc_strlcpy(mt->mt_where, where, sizeof(mt->mt_where));
    bnc_sha256(key, klen, mt->mt_token.digest);
    bnc_migrate_token_id(mt->mt_token.digest, mt->mt_token.id);
    mt->mt_token.user = bnc_strdup(user);
    mt->mt_token.label = bnc_strdup(BNC_MIGRATE_DRF_LABEL);
    mt->mt_token.created = d->now;
    created = bnc_migrate_dj_str(fields, "created");
    if (created != NULL &&
        bnc_migrate_parse_time(created, &mt->mt_token.created) != 0) {
        bnc_migrate_dj_report(d, where, 0, "created is not an ISO 8601 "
                              "time: now is used");
        mt->mt_token.created = d->now;
    }
}

int
bnc_migrate_django_load(const char *text, size_t len,
                        struct bnc_migrate_set *set,
                        bnc_migrate_report_fn report, void *arg,
                        struct bnc_err *err)
{
    struct bnc_migrate_dj d;
    json_error_t je;
    json_t *root, *rec;
    const char *model;
    char where[128], pk[32], msg[128];
    size_t i;
    int pass, rc = -1;

    memset(&d, 0, sizeof(d));
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        bnc_err_set(err, "not valid JSON: line %d, column %d: %s", je.line,
                    je.column, je.text);
        return -1;
    }
    if (!json_is_array(root)) {
        bnc_err_set(err, "expected a JSON array of records (the output of "
                    "manage.py dumpdata)");
        goto out;
    }
    d.groups = json_object();
    d.users = json_object();
    d.names = json_object();
    d.warned = json_object();
    d.report = report;
    d.arg = arg;
    d.set = set;
    d.now = (int64_t)time(NULL);
    /* Groups first, users next, tokens last: each refers to the ones
     * before, wherever dumpdata put them. */
    for (pass = 0; pass < 3; pass++) {
        json_array_foreach(root, i, rec) {
            model = json_is_object(rec)
                        ? json_string_value(json_object_get(rec, "model"))
                        : NULL;
            if (model == NULL) {
                if (pass == 0) {
                    snprintf(where, sizeof(where), "record [%zu]", i);
                    bnc_migrate_dj_report(&d, where, 1, "not a dumpdata "
                                          "record (object with \"model\")");
                }
                continue;
            }
            if (bnc_str_ieq(model, "authtoken.token")) {
                if (pass == 2)
                    bnc_migrate_dj_token(&d, rec, i);
                continue;
            }
            if (bnc_migrate_dj_pk(json_object_get(rec, "pk"), pk,
                                  sizeof(pk)) == NULL)
                bnc_strlcpy(pk, "?", sizeof(pk));
            snprintf(where, sizeof(where), "record [%zu] (%.20s pk %.20s)", i,
                     model, pk);
            if (bnc_str_ieq(model, "auth.group")) {
                if (pass == 0)
                    bnc_migrate_dj_group(&d, rec, where);
            } else if (bnc_str_ieq(model, "auth.user")) {
                if (pass == 1)
                    bnc_migrate_dj_user(&d, rec, where);
            } else if (pass == 0) {
                set->ms_ignored++;
                if (json_object_get(d.warned, model) == NULL) {
                    json_object_set_new(d.warned, model, json_true());
                    snprintf(msg, sizeof(msg), "records of model %.40s are "
                             "not imported", model);
                    if (report != NULL)
                        report(arg, where, 0, msg);
                }
            }
        }
    }
    rc = 0;
out:
    json_decref(d.groups);
    json_decref(d.users);
    json_decref(d.names);
    json_decref(d.warned);
    json_decref(root);
    return rc;
}
