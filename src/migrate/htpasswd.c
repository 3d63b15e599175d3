/* SPDX-License-Identifier: MIT */
/* Apache htpasswd lines and htdbm records to users (bouncerctl import
 * htpasswd), read the way mod_authn_file and mod_authz_dbm read them. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/password.h"
#include "migrate/migrate.h"
#include "util/mem.h"
#include "util/str.h"

void
bnc_migrate_ht_cleanup(struct bnc_migrate_ht *h)
{
    if (h == NULL)
        return;
    free(h->name);
    if (h->hash != NULL) {
        bnc_memzero(h->hash, strlen(h->hash));
        free(h->hash);
    }
    if (h->plain != NULL) {
        bnc_memzero(h->plain, strlen(h->plain));
        free(h->plain);
    }
    bnc_strv_free(h->groups);
    memset(h, 0, sizeof(*h));
}

static int
bnc_migrate_ht_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

/* Characters (not bytes) of a valid UTF-8 string. */
static size_t
bnc_migrate_ht_chars(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

/* Name and password field (hash or clear text) into out. */
static int
bnc_migrate_ht_take(const char *name, size_t nlen, const char *pw,
                    size_t pwlen, int allow_plain, struct bnc_migrate_ht *out,
                    struct bnc_err *err)
{
    const char *why = NULL;

    memset(out, 0, sizeof(*out));
    out->name = bnc_strndup(name, nlen);
    if (nlen == 0) {
        bnc_err_set(err, "empty user name");
        goto fail;
    }
    if (!bnc_user_name_valid(out->name, &why)) {
        bnc_err_set(err, "invalid user name (%s)",
                    why != NULL ? why : "not allowed");
        goto fail;
    }
    if (memchr(pw, '\0', pwlen) != NULL) {
        bnc_err_set(err, "NUL byte in the password field");
        goto fail;
    }
    if (pwlen == 0) {
        bnc_err_set(err, "user '%s' has an empty password field", out->name);
        goto fail;
    }
    /* Locked accounts: "!" and "*" (alone or before a hash, as usermod -L
     * and shadow write them) and "x" (the password lives elsewhere). Apache
     * lets nobody in with them; taking them as clear text would make "!"
     * the password. The user comes in with no password. */
    if (pw[0] == '!' || pw[0] == '*' || (pwlen == 1 && pw[0] == 'x')) {
        out->hash = bnc_strdup(BNC_MIGRATE_NO_PASSWORD);
        out->locked = 1;
        return 1;
    }
    out->hash = bnc_strndup(pw, pwlen);
    if (bnc_password_usable(out->hash, &why))
        return 1;
    if (bnc_password_format(out->hash) != NULL) {
        /* It looks like a hash we know: never take it as a password. */
        bnc_err_set(err, "user '%s': %s hash cannot be verified (%s)",
                    out->name, bnc_password_format(out->hash), why);
        goto fail;
    }
    /* "$id$..." and "{SCHEME}..." are hashes of formats we do not know
     * (Apache on other systems, LDAP exports): taking them as clear text
     * would make the hash itself the password. */
    if ((pw[0] == '$' && memchr(pw + 1, '$', pwlen - 1) != NULL) ||
        (pw[0] == '{' && memchr(pw, '}', pwlen) != NULL)) {
        bnc_err_set(err, "user '%s': unknown hash format", out->name);
        goto fail;
    }
    if (!allow_plain) {
        bnc_err_set(err, "user '%s': unknown hash format (clear-text "
                    "passwords need --allow-plaintext)", out->name);
        goto fail;
    }
    if (!bnc_utf8_valid((const unsigned char *)out->hash, pwlen)) {
        bnc_err_set(err, "user '%s': clear-text password is not UTF-8",
                    out->name);
        goto fail;
    }
    if (bnc_migrate_ht_chars(out->hash) < BNC_MIGRATE_PLAIN_MIN) {
        bnc_err_set(err, "user '%s': clear-text password shorter than %d "
                    "characters (a lock marker, not a password)", out->name,
                    BNC_MIGRATE_PLAIN_MIN);
        goto fail;
    }
    out->plain = out->hash;
    out->hash = NULL;
    return 1;
fail:
    bnc_migrate_ht_cleanup(out);
    return -1;
}

int
bnc_migrate_htpasswd_line(const char *line, size_t len, int allow_plain,
                          struct bnc_migrate_ht *out, struct bnc_err *err)
{
    const char *colon, *end, *pw;

    memset(out, 0, sizeof(*out));
    if (len > BNC_MIGRATE_LINE_MAX) {
        bnc_err_set(err, "line longer than %d bytes", BNC_MIGRATE_LINE_MAX);
        return -1;
    }
    /* ap_cfg_getline() strips white space at both ends. */
    while (len > 0 && bnc_migrate_ht_space(line[0])) {
        line++;
        len--;
    }
    while (len > 0 && bnc_migrate_ht_space(line[len - 1]))
        len--;
    if (len == 0 || line[0] == '#')
        return 0;
    if (memchr(line, '\0', len) != NULL) {
        bnc_err_set(err, "NUL byte in the line");
        return -1;
    }
    colon = memchr(line, ':', len);
    if (colon == NULL) {
        bnc_err_set(err, "no ':' between user name and password hash");
        return -1;
    }
    pw = colon + 1;
    end = memchr(pw, ':', len - (size_t)(pw - line));
    if (end == NULL)
        end = line + len;
    return bnc_migrate_ht_take(line, (size_t)(colon - line), pw,
                               (size_t)(end - pw), allow_plain, out, err);
}

/* 1 if s[0..n) is a comma-separated list of valid group names; *groups
 * gets them (NULL-terminated, malloc'ed). */
static int
bnc_migrate_ht_groups(const char *s, size_t n, char ***groups)
{
    char *copy = bnc_strndup(s, n), *p = copy, *comma;
    char **g = bnc_calloc(n / 2 + 2, sizeof(*g));
    size_t k = 0, i;

    *groups = NULL;
    for (;;) {
        comma = strchr(p, ',');
        if (comma != NULL)
            *comma = '\0';
        if (!bnc_group_name_valid(p))
            goto no;
        for (i = 0; i < k; i++)
            if (strcmp(g[i], p) == 0)
                break;
        if (i == k)
            g[k++] = bnc_strdup(p);
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    free(copy);
    *groups = g;
    return 1;
no:
    free(copy);
    bnc_strv_free(g);
    return 0;
}

int
bnc_migrate_htdbm_record(const void *key, size_t klen, const void *val,
                         size_t vlen, int allow_plain,
                         struct bnc_migrate_ht *out, struct bnc_err *err)
{
    const char *v = val, *colon, *rest, *end;
    int rc;

    memset(out, 0, sizeof(*out));
    /* Some DBM writers count the terminating NUL. */
    if (klen > 0 && ((const char *)key)[klen - 1] == '\0')
        klen--;
    if (vlen > 0 && v[vlen - 1] == '\0')
        vlen--;
    if (klen > BNC_MIGRATE_LINE_MAX || vlen > BNC_MIGRATE_LINE_MAX) {
        bnc_err_set(err, "record longer than %d bytes", BNC_MIGRATE_LINE_MAX);
        return -1;
    }
    if (memchr(key, '\0', klen) != NULL) {
        bnc_err_set(err, "NUL byte in the user name");
        return -1;
    }
    colon = memchr(v, ':', vlen);
    rc = bnc_migrate_ht_take(key, klen, v,
                             colon != NULL ? (size_t)(colon - v) : vlen,
                             allow_plain, out, err);
    if (rc != 1 || colon == NULL)
        return rc;
    rest = colon + 1;
    end = memchr(rest, ':', vlen - (size_t)(rest - v));
    if (end == NULL)
        end = v + vlen;
    if (end > rest)
        (void)bnc_migrate_ht_groups(rest, (size_t)(end - rest), &out->groups);
    return 1;
}
