/* SPDX-License-Identifier: MIT */
/* bouncerctl export: users as JSON for backups and moving hosts, and the
 * way back (bouncerctl import bouncer). Token keys are never part of it:
 * the store does not have them. */
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
#include "migrate/migrate.h"
#include "migrate/priv.h"
#include "util/mem.h"
#include "util/str.h"

static void
bnc_migrate_iso(char *buf, size_t size, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        bnc_strlcpy(buf, "1970-01-01T00:00:00Z", size);
}

int
bnc_migrate_export_begin(FILE *f, int64_t now)
{
    char iso[32];

    bnc_migrate_iso(iso, sizeof(iso), now);
    return fprintf(f, "{\"format\": \"%s\", \"version\": %d, "
                   "\"exported\": \"%s\",\n \"users\": [",
                   BNC_MIGRATE_EXPORT_FORMAT, BNC_MIGRATE_EXPORT_VERSION,
                   iso) < 0
               ? -1
               : 0;
}

int
bnc_migrate_export_user(FILE *f, const struct bnc_user *u, int first)
{
    json_t *o, *g;
    char *s;
    size_t i;
    int rc;

    o = json_object();
    json_object_set_new(o, "id", json_integer((json_int_t)u->id));
    json_object_set_new(o, "name", json_string(u->name));
    json_object_set_new(o, "hash", json_string(u->hash != NULL ? u->hash
                                                               : ""));
    g = json_array();
    for (i = 0; u->groups != NULL && u->groups[i] != NULL; i++)
        json_array_append_new(g, json_string(u->groups[i]));
    json_object_set_new(o, "groups", g);
    json_object_set_new(o, "email", u->email != NULL ? json_string(u->email)
                                                     : json_null());
    json_object_set_new(o, "display_name",
                        u->display_name != NULL ? json_string(u->display_name)
                                                : json_null());
    json_object_set_new(o, "disabled", json_boolean(u->disabled));
    json_object_set_new(o, "created", json_integer(u->created));
    json_object_set_new(o, "changed", json_integer(u->changed));
    json_object_set_new(o, "not_before", json_integer(u->not_before));
    s = json_dumps(o, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(o);
    if (s == NULL)
        return -1;
    rc = fprintf(f, "%s\n  %s", first ? "" : ",", s) < 0 ? -1 : 0;
    /* The string holds a password hash. */
    bnc_memzero(s, strlen(s));
    free(s);
    return rc;
}

int
bnc_migrate_export_end(FILE *f)
{
    return fputs("\n]}\n", f) < 0 ? -1 : 0;
}

static int
bnc_migrate_bn_time(const json_t *o, const char *key, int64_t *out,
                    struct bnc_err *err)
{
    const json_t *v = json_object_get(o, key);

    *out = 0;
    if (v == NULL || json_is_null(v))
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0) {
        bnc_err_set(err, "%s is not a unix time", key);
        return -1;
    }
    *out = (int64_t)json_integer_value(v);
    return 0;
}

/* One exported user; 0, or -1 with err (nothing taken). */
static int
bnc_migrate_bn_user(const json_t *o, struct bnc_user *u, unsigned *f,
                    struct bnc_err *err)
{
    const json_t *id, *groups, *g, *dis;
    const char *name, *hash, *email, *disp, *why = NULL;
    size_t i, n = 0;
    int64_t changed;

    memset(u, 0, sizeof(*u));
    *f = BNC_USER_PUT_HASH | BNC_USER_PUT_EMAIL | BNC_USER_PUT_NAME |
         BNC_USER_PUT_DISABLED | BNC_USER_PUT_GROUPS | BNC_USER_PUT_TIMES;
    if (!json_is_object(o)) {
        bnc_err_set(err, "not an object");
        goto fail;
    }
    name = json_string_value(json_object_get(o, "name"));
    if (name == NULL || !bnc_user_name_valid(name, &why)) {
        bnc_err_set(err, "invalid or missing user name%s%s%s",
                    why != NULL ? " (" : "", why != NULL ? why : "",
                    why != NULL ? ")" : "");
        goto fail;
    }
    u->name = bnc_strdup(name);
    id = json_object_get(o, "id");
    if (json_is_integer(id) && json_integer_value(id) > 0 &&
        json_integer_value(id) < (json_int_t)UINT32_MAX) {
        u->id = (uint32_t)json_integer_value(id);
        *f |= BNC_USER_PUT_ID;
    } else if (id != NULL && !json_is_null(id)) {
        bnc_err_set(err, "id is not a user id");
        goto fail;
    }
    hash = json_string_value(json_object_get(o, "hash"));
    if (hash == NULL) {
        bnc_err_set(err, "no hash");
        goto fail;
    }
    if (bnc_migrate_check_hash(hash, err) != 0)
        goto fail;
    u->hash = bnc_strdup(hash);
    email = json_string_value(json_object_get(o, "email"));
    if (email != NULL) {
        if (bnc_migrate_check_email(email, err) != 0)
            goto fail;
        u->email = bnc_strdup(email);
    }
    disp = json_string_value(json_object_get(o, "display_name"));
    if (disp != NULL) {
        if (disp[0] == '\0' ||
            bnc_migrate_check_text("display name", disp,
                                   BNC_MIGRATE_DISPLAY_MAX, err) != 0) {
            bnc_err_set(err, "empty display name");
            goto fail;
        }
        u->display_name = bnc_strdup(disp);
    }
    dis = json_object_get(o, "disabled");
    if (dis != NULL && !json_is_boolean(dis)) {
        bnc_err_set(err, "disabled is not true or false");
        goto fail;
    }
    u->disabled = json_is_true(dis);
    groups = json_object_get(o, "groups");
    if (groups != NULL && !json_is_array(groups)) {
        bnc_err_set(err, "groups is not a list");
        goto fail;
    }
    if (json_array_size(groups) > 0) {
        u->groups = bnc_calloc(json_array_size(groups) + 1,
                               sizeof(*u->groups));
        json_array_foreach(groups, i, g) {
            if (!json_is_string(g) ||
                !bnc_group_name_valid(json_string_value(g))) {
                bnc_err_set(err, "groups[%zu] is not a group name", i);
                goto fail;
            }
            if (!bnc_strv_contains(u->groups, json_string_value(g)))
                u->groups[n++] = bnc_strdup(json_string_value(g));
        }
    }
    if (bnc_migrate_bn_time(o, "created", &u->created, err) != 0 ||
        bnc_migrate_bn_time(o, "changed", &changed, err) != 0 ||
        bnc_migrate_bn_time(o, "not_before", &u->not_before, err) != 0)
        goto fail;
    if (bnc_migrate_check_user(u, err) != 0)
        goto fail;
    return 0;
fail:
    bnc_user_cleanup(u);
    return -1;
}

int
bnc_migrate_bouncer_load(const char *text, size_t len,
                         struct bnc_migrate_set *set,
                         bnc_migrate_report_fn report, void *arg,
                         struct bnc_err *err)
{
    json_error_t je;
    json_t *root, *users, *o;
    const char *fmt, *uname;
    struct bnc_user u;
    struct bnc_err uerr;
    char where[128];
    unsigned f;
    size_t i;
    int rc = -1;

    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
    if (root == NULL) {
        bnc_err_set(err, "not valid JSON: line %d, column %d: %s", je.line,
                    je.column, je.text);
        return -1;
    }
    fmt = json_string_value(json_object_get(root, "format"));
    users = json_object_get(root, "users");
    if (fmt == NULL || strcmp(fmt, BNC_MIGRATE_EXPORT_FORMAT) != 0 ||
        !json_is_array(users)) {
        bnc_err_set(err, "not a bouncerctl export (\"format\": \"%s\" with "
                    "a \"users\" list)", BNC_MIGRATE_EXPORT_FORMAT);
        goto out;
    }
    if (!json_is_integer(json_object_get(root, "version")) ||
        json_integer_value(json_object_get(root, "version")) !=
            BNC_MIGRATE_EXPORT_VERSION) {
        bnc_err_set(err, "export format version not supported (this "
                    "bouncerctl reads version %d)",
                    BNC_MIGRATE_EXPORT_VERSION);
        goto out;
    }
    json_array_foreach(users, i, o) {
        uname = json_is_object(o)
                    ? json_string_value(json_object_get(o, "name"))
                    : NULL;
        snprintf(where, sizeof(where), "users[%zu]%s%.40s%s", i,
                 uname != NULL ? " ('" : "", uname != NULL ? uname : "",
                 uname != NULL ? "')" : "");
        bnc_err_clear(&uerr);
        if (bnc_migrate_bn_user(o, &u, &f, &uerr) != 0) {
            set->ms_skipped++;
            if (report != NULL)
                report(arg, where, 1, uerr.msg);
            continue;
        }
        (void)bnc_migrate_set_add_user(set, &u, f, where);
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
