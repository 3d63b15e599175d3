/* SPDX-License-Identifier: MIT */
/* Migration: the htpasswd line and htdbm record parsers, the Django
 * dumpdata and export mappings, bnc_password_usable, and the store's bulk
 * user upsert and token gc on a real Berkeley DB environment. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "crypto/password.h"
#include "migrate/migrate.h"
#include "store/store.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"
#include "unit.h"

#define BCRYPT "$2y$05$jpQ3eYAWF.k4om/Ni5Z2j.r8sqWIFWmG9MR0urLYvS889MbwlZRnK"
#define APR1 "$apr1$hmUgtq3g$3BWFEVQs.7d/e5ua9xaZX."
#define SHA1 "{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g="

/* ---- htpasswd lines ---------------------------------------------------------- */

/* Parses s; returns rc, leaves the result in *h and the reason in *err. */
static int
ht(const char *s, int plain, struct bnc_migrate_ht *h, struct bnc_err *err)
{
    bnc_err_clear(err);
    return bnc_migrate_htpasswd_line(s, strlen(s), plain, h, err);
}

static void
test_import_htpasswd_formats(void)
{
    static const char *const lines[] = {
        "alice:" BCRYPT, "bob:" APR1, "carol:" SHA1, "dave:x3bivTIKb70QA",
        "erin:$6$rounds=1000$keEu7jCeLET5o8PR$XBPn8ckX830xwb3nzp545XcCsBVI6"
        "flHEhwCywwTHImc.PhhRX8pHFPukmiJrwTVA.0Tn.U/ePgrgO/XkKHIZ/",
        NULL};
    struct bnc_migrate_ht h;
    struct bnc_err err;
    size_t i;

    for (i = 0; lines[i] != NULL; i++) {
        CU_ASSERT_EQUAL(ht(lines[i], 0, &h, &err), 1);
        CU_ASSERT_PTR_NOT_NULL(h.hash);
        CU_ASSERT_PTR_NULL(h.plain);
        CU_ASSERT_PTR_NULL(h.groups);
        if (h.hash != NULL)
            CU_ASSERT_STRING_EQUAL(h.hash, strchr(lines[i], ':') + 1);
        bnc_migrate_ht_cleanup(&h);
    }
}

static void
test_import_htpasswd_apache_reading(void)
{
    struct bnc_migrate_ht h;
    struct bnc_err err;

    /* Comments and blank lines are nothing. */
    CU_ASSERT_EQUAL(ht("# alice:" SHA1, 0, &h, &err), 0);
    CU_ASSERT_EQUAL(ht("   \t\r\n", 0, &h, &err), 0);
    CU_ASSERT_EQUAL(ht("", 0, &h, &err), 0);
    /* White space at both ends goes, as in ap_cfg_getline(); CRLF too. */
    CU_ASSERT_EQUAL(ht("  alice:" SHA1 " \r\n", 0, &h, &err), 1);
    CU_ASSERT_STRING_EQUAL(h.name, "alice");
    CU_ASSERT_STRING_EQUAL(h.hash, SHA1);
    bnc_migrate_ht_cleanup(&h);
    /* A third field is a comment (mod_authn_file reads up to the next ':'). */
    CU_ASSERT_EQUAL(ht("bob:" APR1 ":Bob Smith:room 4", 0, &h, &err), 1);
    CU_ASSERT_STRING_EQUAL(h.hash, APR1);
    CU_ASSERT_PTR_NULL(h.groups);
    bnc_migrate_ht_cleanup(&h);
    /* A name with inner spaces and UTF-8 is a valid bouncer name. */
    CU_ASSERT_EQUAL(ht("J\xc3\xbcrgen M:" SHA1, 0, &h, &err), 1);
    bnc_migrate_ht_cleanup(&h);
}

static void
test_import_htpasswd_refused(void)
{
    static const struct {
        const char *line;
        int plain;
        const char *why;
    } bad[] = {
        {"no-colon", 0, "no ':'"},
        {":" SHA1, 0, "empty user name"},
        {"alice:", 0, "empty password field"},
        {"alice::x", 1, "empty password field"},
        {"al\x01ice:" SHA1, 0, "invalid user name"},
        {"alice:secret", 0, "--allow-plaintext"},
        {"alice:$9$abc$def", 1, "unknown hash format"},
        {"alice:{SSHA}abcdef", 1, "unknown hash format"},
        {"alice:{SHA}short", 1, "sha1 hash cannot be verified"},
        {"alice:$2y$05$tooshort", 1, "bcrypt hash cannot be verified"},
        {"alice:$2y$31$jpQ3eYAWF.k4om/Ni5Z2j.r8sqWIFWmG9MR0urLYvS889MbwlZRnK",
         1, "cost out of range"},
        {"alice:$apr1$salt$tooshort", 1, "apr1 hash cannot be verified"},
        {"alice:p\xff\xfe", 1, "not UTF-8"},
        {"alice:abc", 1, "shorter than 4"},
        {"alice:\xc3\xa9\xc3\xa9\xc3\xa9", 1, "shorter than 4"},
        {NULL, 0, NULL}};
    struct bnc_migrate_ht h;
    struct bnc_err err;
    char *big;
    size_t i;

    for (i = 0; bad[i].line != NULL; i++) {
        CU_ASSERT_EQUAL(ht(bad[i].line, bad[i].plain, &h, &err), -1);
        CU_ASSERT_TRUE(err.set);
        if (strstr(err.msg, bad[i].why) == NULL)
            fprintf(stderr, "\n%s: '%s' lacks '%s'\n", bad[i].line, err.msg,
                    bad[i].why);
        CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, bad[i].why));
        CU_ASSERT_PTR_NULL(h.name);
        CU_ASSERT_PTR_NULL(h.hash);
    }
    /* NUL inside the line. */
    bnc_err_clear(&err);
    CU_ASSERT_EQUAL(bnc_migrate_htpasswd_line("a\0b:" SHA1, 4 + strlen(SHA1),
                                              0, &h, &err),
                    -1);
    /* Longer than Apache reads. */
    big = bnc_malloc(BNC_MIGRATE_LINE_MAX + 10);
    memset(big, 'a', BNC_MIGRATE_LINE_MAX + 9);
    big[BNC_MIGRATE_LINE_MAX + 9] = '\0';
    CU_ASSERT_EQUAL(ht(big, 1, &h, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "longer"));
    free(big);
}

static void
test_import_htpasswd_plain(void)
{
    struct bnc_migrate_ht h;
    struct bnc_err err;

    CU_ASSERT_EQUAL(ht("erin:pw-erin", 1, &h, &err), 1);
    CU_ASSERT_PTR_NULL(h.hash);
    CU_ASSERT_STRING_EQUAL(h.plain, "pw-erin");
    bnc_migrate_ht_cleanup(&h);
    /* 13 characters of the crypt alphabet are DES, as for Apache. */
    CU_ASSERT_EQUAL(ht("erin:abcdefghijklm", 1, &h, &err), 1);
    CU_ASSERT_PTR_NOT_NULL(h.hash);
    CU_ASSERT_PTR_NULL(h.plain);
    bnc_migrate_ht_cleanup(&h);
}

/* Locked lines ("!", "*", alone or before a hash, and "x") are users with
 * no password, with or without --allow-plaintext: never the password "!". */
static void
test_import_htpasswd_locked(void)
{
    static const char *const locked[] = {
        "carol:!", "dave:*", "erin:!" SHA1, "fay:*LK*", "gus:x", "hal:!!",
        "ida:*" APR1, NULL};
    struct bnc_migrate_ht h;
    struct bnc_err err;
    size_t i;
    int plain;

    for (plain = 0; plain <= 1; plain++)
        for (i = 0; locked[i] != NULL; i++) {
            bnc_err_clear(&err);
            CU_ASSERT_EQUAL(ht(locked[i], plain, &h, &err), 1);
            CU_ASSERT_TRUE(h.locked);
            CU_ASSERT_PTR_NULL(h.plain);
            CU_ASSERT_STRING_EQUAL(h.hash != NULL ? h.hash : "",
                                   BNC_MIGRATE_NO_PASSWORD);
            bnc_migrate_ht_cleanup(&h);
        }
    /* Not locks: "xy12" is clear text, an "x" inside a hash is a hash. */
    CU_ASSERT_EQUAL(ht("gus:xy12", 1, &h, &err), 1);
    CU_ASSERT_FALSE(h.locked);
    CU_ASSERT_STRING_EQUAL(h.plain, "xy12");
    bnc_migrate_ht_cleanup(&h);
    CU_ASSERT_EQUAL(ht("gus:" SHA1, 0, &h, &err), 1);
    CU_ASSERT_FALSE(h.locked);
    bnc_migrate_ht_cleanup(&h);
    /* htdbm values go the same way. */
    CU_ASSERT_EQUAL(bnc_migrate_htdbm_record("carol", 5, "!:admin", 7, 1, &h,
                                             &err), 1);
    CU_ASSERT_TRUE(h.locked);
    CU_ASSERT_STRING_EQUAL(h.hash, BNC_MIGRATE_NO_PASSWORD);
    bnc_migrate_ht_cleanup(&h);
}

static void
test_import_htdbm_record(void)
{
    struct bnc_migrate_ht h;
    struct bnc_err err;
    const char *v;

    v = APR1 ":admin,staff,admin:Bob";
    bnc_err_clear(&err);
    CU_ASSERT_EQUAL(bnc_migrate_htdbm_record("bob", 3, v, strlen(v), 0, &h,
                                             &err),
                    1);
    CU_ASSERT_STRING_EQUAL(h.hash, APR1);
    CU_ASSERT_FATAL(h.groups != NULL);
    CU_ASSERT_STRING_EQUAL(h.groups[0], "admin");
    CU_ASSERT_STRING_EQUAL(h.groups[1], "staff");
    CU_ASSERT_PTR_NULL(h.groups[2]);
    bnc_migrate_ht_cleanup(&h);
    /* htdbm -t with a free-text comment: no groups. */
    v = APR1 ":Jane Doe, room 4";
    CU_ASSERT_EQUAL(bnc_migrate_htdbm_record("jane", 4, v, strlen(v), 0, &h,
                                             &err),
                    1);
    CU_ASSERT_PTR_NULL(h.groups);
    bnc_migrate_ht_cleanup(&h);
    /* Key and value with the NUL some DBM writers store. */
    CU_ASSERT_EQUAL(bnc_migrate_htdbm_record("carol", 6, SHA1,
                                             strlen(SHA1) + 1, 0, &h, &err),
                    1);
    CU_ASSERT_STRING_EQUAL(h.name, "carol");
    CU_ASSERT_STRING_EQUAL(h.hash, SHA1);
    bnc_migrate_ht_cleanup(&h);
    CU_ASSERT_EQUAL(bnc_migrate_htdbm_record("x", 1, "nothash", 7, 0, &h,
                                             &err),
                    -1);
}

/* ---- bnc_password_usable ------------------------------------------------------ */

static void
test_import_usable_vectors(void)
{
    char path[4096], line[2048], *fmt, *pw, *hash, *save;
    const char *data = getenv("BNC_TEST_DATA"), *why;
    size_t n = 0;
    FILE *f;

    snprintf(path, sizeof(path), "%s/passwords/vectors.txt",
             data != NULL ? data : "tests/data");
    f = fopen(path, "r");
    CU_ASSERT_FATAL(f != NULL);
    while (fgets(line, sizeof(line), f) != NULL) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        line[strcspn(line, "\n")] = '\0';
        fmt = strtok_r(line, "\t", &save);
        pw = strtok_r(NULL, "\t", &save);
        hash = strtok_r(NULL, "\t", &save);
        if (fmt == NULL || pw == NULL || hash == NULL)
            continue;
        /* Every hash a real tool wrote and verify accepts is usable. */
        if (bnc_password_verify(hash, pw, strlen(pw), NULL, NULL) !=
            BNC_PW_MATCH)
            continue;
        if (!bnc_password_usable(hash, &why))
            fprintf(stderr, "\nnot usable: %s (%s)\n", hash, why);
        CU_ASSERT_TRUE(bnc_password_usable(hash, &why));
        n++;
    }
    fclose(f);
    CU_ASSERT_TRUE(n >= 100);
}

static void
test_import_usable_refused(void)
{
    static const char *const bad[] = {
        "", "!", "plain", "pbkdf2_sha256$0$salt$x", "pbkdf2_sha256$1000$$abc",
        "pbkdf2_sha256$1000$salt$dG9vc2hvcnQ=", "scrypt$3$salt$8$1$abc",
        "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$aGFzaA",
        "$argon2id$v=19$m=65536,t=2,p=1", "bcrypt$$2b$12$short",
        "$6$salt$short", "$y$j9T$salt$short", "{SHA}abc", NULL};
    const char *why;
    size_t i;

    for (i = 0; bad[i] != NULL; i++) {
        CU_ASSERT_FALSE(bnc_password_usable(bad[i], &why));
        CU_ASSERT_PTR_NOT_NULL(why);
    }
}

/* ---- Django ---------------------------------------------------------------------- */

struct test_reports {
    int skipped;
    int warnings;
    char last[512];
};

static void
test_report(void *arg, const char *where, int skipped, const char *msg)
{
    struct test_reports *r = arg;

    if (skipped)
        r->skipped++;
    else
        r->warnings++;
    snprintf(r->last, sizeof(r->last), "%s: %s", where, msg);
}

static struct bnc_user_put *
test_find(struct bnc_migrate_set *set, const char *name)
{
    size_t i;

    for (i = 0; i < set->ms_nusers; i++)
        if (strcmp(set->ms_users[i].up_user.name, name) == 0)
            return &set->ms_users[i];
    return NULL;
}

static const char test_dump[] =
    "["
    "{\"model\": \"auth.group\", \"pk\": 1, \"fields\": {\"name\": \"staff\"}},"
    "{\"model\": \"auth.group\", \"pk\": 2, \"fields\": {\"name\": \"Two Words\"}},"
    "{\"model\": \"auth.user\", \"pk\": 7, \"fields\": {\"username\": \"ann\","
    " \"password\": \"pbkdf2_sha256$260000$abc$"
    "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY=\", \"email\": \"a@x.org\","
    " \"first_name\": \" Ann \", \"last_name\": \"Lee\", \"is_active\": true,"
    " \"date_joined\": \"2024-05-01T10:20:30.123456+02:00\","
    " \"groups\": [1, 2, 9]}},"
    "{\"model\": \"auth.user\", \"pk\": 8, \"fields\": {\"username\": \"ben\","
    " \"password\": \"!KVgPzxPrjc8nrL4KMRzN3L2yDWD4FrTz7FbmG8wJ\","
    " \"is_active\": false, \"groups\": [[\"staff\"]]}},"
    "{\"model\": \"auth.user\", \"pk\": 9, \"fields\": {\"username\": \"cid\","
    " \"password\": \"md5$salt$abc\"}},"
    "{\"model\": \"auth.user\", \"pk\": 10, \"fields\": {\"username\": \"dee\","
    " \"password\": \"!\", \"email\": \"not-an-address\"}},"
    "{\"model\": \"authtoken.token\", \"pk\": "
    "\"0123456789abcdef0123456789abcdef01234567\", \"fields\": {\"user\": 7,"
    " \"created\": \"2024-06-01T00:00:00Z\"}},"
    "{\"model\": \"authtoken.token\", \"pk\": "
    "\"89abcdef0123456789abcdef0123456789abcdef\", \"fields\": {\"user\": "
    "[\"ben\"], \"created\": \"2024-06-01T00:00:00Z\"}},"
    "{\"model\": \"authtoken.token\", \"pk\": "
    "\"ffffffffffffffffffffffffffffffffffffffff\", \"fields\": {\"user\": 9}},"
    "{\"model\": \"auth.permission\", \"pk\": 1, \"fields\": {}}"
    "]";

static void
test_import_django_mapping(void)
{
    struct bnc_migrate_set set;
    struct test_reports r;
    struct bnc_user_put *p;
    struct bnc_err err;
    unsigned char digest[32];
    char id[BNC_TOKEN_ID_LEN + 1];
    size_t i;

    memset(&r, 0, sizeof(r));
    bnc_migrate_set_init(&set);
    bnc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(bnc_migrate_django_load(test_dump,
                                                  sizeof(test_dump) - 1,
                                                  &set, test_report, &r,
                                                  &err),
                          0);
    /* ann, ben in; cid (md5 hasher) and dee (bad e-mail) out. */
    CU_ASSERT_EQUAL(set.ms_nusers, 2);
    /* group "Two Words", cid, dee, cid's token. */
    CU_ASSERT_EQUAL(r.skipped, 4);
    CU_ASSERT_EQUAL(set.ms_skipped, 4);
    CU_ASSERT_EQUAL(set.ms_ignored, 1);
    /* group pk 9 missing, auth.permission ignored. */
    CU_ASSERT_EQUAL(r.warnings, 2);

    p = test_find(&set, "ann");
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_EQUAL(p->up_user.id, 7);
    CU_ASSERT_TRUE(p->up_fields & BNC_USER_PUT_ID);
    CU_ASSERT_TRUE(p->up_fields & BNC_USER_PUT_HASH);
    CU_ASSERT_TRUE(p->up_fields & BNC_USER_PUT_GROUPS);
    CU_ASSERT_STRING_EQUAL(p->up_user.email, "a@x.org");
    CU_ASSERT_STRING_EQUAL(p->up_user.display_name, "Ann  Lee");
    CU_ASSERT_FALSE(p->up_user.disabled);
    /* 10:20:30 at +02:00 */
    CU_ASSERT_EQUAL(p->up_user.created, 1714551630);
    CU_ASSERT_FATAL(p->up_user.groups != NULL);
    CU_ASSERT_STRING_EQUAL(p->up_user.groups[0], "staff");
    CU_ASSERT_PTR_NULL(p->up_user.groups[1]);

    p = test_find(&set, "ben");
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_STRING_EQUAL(p->up_user.hash, "!"); /* unusable: no password */
    CU_ASSERT_TRUE(p->up_user.disabled);
    CU_ASSERT_PTR_NULL(p->up_user.email);
    CU_ASSERT_PTR_NULL(p->up_user.display_name);
    CU_ASSERT_FATAL(p->up_user.groups != NULL);
    CU_ASSERT_STRING_EQUAL(p->up_user.groups[0], "staff");

    CU_ASSERT_EQUAL_FATAL(set.ms_ntokens, 2);
    for (i = 0; i < 2; i++) {
        struct bnc_token *t = &set.ms_tokens[i].mt_token;
        const char *key = strcmp(t->user, "ann") == 0
                              ? "0123456789abcdef0123456789abcdef01234567"
                              : "89abcdef0123456789abcdef0123456789abcdef";

        bnc_sha256(key, 40, digest);
        CU_ASSERT_EQUAL(memcmp(t->digest, digest, 32), 0);
        bnc_migrate_token_id(digest, id);
        CU_ASSERT_STRING_EQUAL(t->id, id);
        CU_ASSERT_STRING_EQUAL(t->label, BNC_MIGRATE_DRF_LABEL);
        CU_ASSERT_EQUAL(t->created, 1717200000);
        CU_ASSERT_EQUAL(t->expires, 0);
        /* The key is in no message. */
        CU_ASSERT_PTR_NULL(strstr(set.ms_tokens[i].mt_where, key));
    }
    bnc_migrate_set_cleanup(&set);
}

/* Only Django's own hasher formats are taken from a dump: a crypt(3),
 * {SHA} or bare value (which Django would never accept) becomes no
 * password, with a warning per record; md5 and co. are still refused. */
static void
test_import_django_foreign_hash_unusable(void)
{
    static const char dump[] =
        "["
        "{\"model\": \"auth.user\", \"pk\": 1, \"fields\": {\"username\":"
        " \"u1\", \"password\": \"" BCRYPT "\"}},"
        "{\"model\": \"auth.user\", \"pk\": 2, \"fields\": {\"username\":"
        " \"u2\", \"password\": \"" SHA1 "\"}},"
        "{\"model\": \"auth.user\", \"pk\": 3, \"fields\": {\"username\":"
        " \"u3\", \"password\": \"" APR1 "\"}},"
        "{\"model\": \"auth.user\", \"pk\": 4, \"fields\": {\"username\":"
        " \"u4\", \"password\": \"bcrypt$" BCRYPT "\"}},"
        "{\"model\": \"auth.user\", \"pk\": 5, \"fields\": {\"username\":"
        " \"u5\", \"password\": \"sha1$salt$abc\"}}"
        "]";
    static const char *const foreign[] = {"u1", "u2", "u3", NULL};
    struct bnc_migrate_set set;
    struct test_reports r;
    struct bnc_user_put *p;
    struct bnc_err err;
    size_t i;

    memset(&r, 0, sizeof(r));
    bnc_migrate_set_init(&set);
    bnc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(bnc_migrate_django_load(dump, sizeof(dump) - 1,
                                                  &set, test_report, &r,
                                                  &err),
                          0);
    CU_ASSERT_EQUAL(set.ms_nusers, 4);
    CU_ASSERT_EQUAL(r.warnings, 3);
    CU_ASSERT_EQUAL(r.skipped, 1); /* u5: sha1 hasher, refused */
    for (i = 0; foreign[i] != NULL; i++) {
        p = test_find(&set, foreign[i]);
        CU_ASSERT_FATAL(p != NULL);
        CU_ASSERT_STRING_EQUAL(p->up_user.hash, "!");
    }
    p = test_find(&set, "u4");
    CU_ASSERT_FATAL(p != NULL);
    CU_ASSERT_STRING_EQUAL(p->up_user.hash, "bcrypt$" BCRYPT);
    bnc_migrate_set_cleanup(&set);
}

static void
test_import_django_document_errors(void)
{
    struct bnc_migrate_set set;
    struct bnc_err err;

    bnc_migrate_set_init(&set);
    bnc_err_clear(&err);
    CU_ASSERT_EQUAL(bnc_migrate_django_load("[{", 2, &set, NULL, NULL, &err),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "not valid JSON"));
    bnc_err_clear(&err);
    CU_ASSERT_EQUAL(bnc_migrate_django_load("{}", 2, &set, NULL, NULL, &err),
                    -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, "JSON array"));
    bnc_err_clear(&err);
    /* Duplicate keys are refused, not resolved silently. */
    CU_ASSERT_EQUAL(bnc_migrate_django_load("[{\"a\":1,\"a\":2}]", 15, &set,
                                            NULL, NULL, &err),
                    -1);
    bnc_migrate_set_cleanup(&set);
}

static void
test_import_parse_time(void)
{
    int64_t t;

    CU_ASSERT_EQUAL(bnc_migrate_parse_time("1970-01-01T00:00:00Z", &t), 0);
    CU_ASSERT_EQUAL(t, 0);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-06-01T00:00:00.5Z", &t), 0);
    CU_ASSERT_EQUAL(t, 1717200000);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-06-01T01:30:00+01:30", &t),
                    0);
    CU_ASSERT_EQUAL(t, 1717200000);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-05-31T19:00:00-05:00", &t),
                    0);
    CU_ASSERT_EQUAL(t, 1717200000);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-06-01", &t), 0);
    CU_ASSERT_EQUAL(t, 1717200000);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-06-01 00:00", &t), 0);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("yesterday", &t), -1);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-13-01", &t), -1);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-02-30", &t), -1);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("2024-06-01T00:00:00Zjunk", &t),
                    -1);
    CU_ASSERT_EQUAL(bnc_migrate_parse_time("1969-12-31", &t), -1);
}

/* ---- export and back ------------------------------------------------------------ */

static void
test_import_export_roundtrip(void)
{
    char *groups[] = {"staff", "ops", NULL};
    struct bnc_user u;
    struct bnc_migrate_set set;
    struct test_reports r;
    struct bnc_err err;
    struct bnc_user_put *p;
    char *buf = NULL;
    size_t len = 0;
    FILE *f;

    memset(&u, 0, sizeof(u));
    u.id = 42;
    u.name = "z\xc3\xbc\"q";
    u.hash = BCRYPT;
    u.groups = groups;
    u.email = "z@x.org";
    u.display_name = "Z \"Q\"";
    u.disabled = 1;
    u.created = 1700000000;
    u.changed = 1700000100;
    u.not_before = 1700000050;
    f = open_memstream(&buf, &len);
    CU_ASSERT_FATAL(f != NULL);
    CU_ASSERT_EQUAL(bnc_migrate_export_begin(f, 1700000200), 0);
    CU_ASSERT_EQUAL(bnc_migrate_export_user(f, &u, 1), 0);
    u.name = "plain";
    u.hash = "";
    u.groups = NULL;
    u.email = NULL;
    u.display_name = NULL;
    u.disabled = 0;
    u.id = 43;
    CU_ASSERT_EQUAL(bnc_migrate_export_user(f, &u, 0), 0);
    CU_ASSERT_EQUAL(bnc_migrate_export_end(f), 0);
    fclose(f);

    memset(&r, 0, sizeof(r));
    bnc_migrate_set_init(&set);
    bnc_err_clear(&err);
    CU_ASSERT_EQUAL_FATAL(bnc_migrate_bouncer_load(buf, len, &set,
                                                   test_report, &r, &err),
                          0);
    CU_ASSERT_EQUAL(r.skipped, 0);
    CU_ASSERT_EQUAL_FATAL(set.ms_nusers, 2);
    p = &set.ms_users[0];
    CU_ASSERT_STRING_EQUAL(p->up_user.name, "z\xc3\xbc\"q");
    CU_ASSERT_EQUAL(p->up_user.id, 42);
    CU_ASSERT_STRING_EQUAL(p->up_user.hash, BCRYPT);
    CU_ASSERT_STRING_EQUAL(p->up_user.groups[1], "ops");
    CU_ASSERT_STRING_EQUAL(p->up_user.email, "z@x.org");
    CU_ASSERT_STRING_EQUAL(p->up_user.display_name, "Z \"Q\"");
    CU_ASSERT_TRUE(p->up_user.disabled);
    CU_ASSERT_EQUAL(p->up_user.created, 1700000000);
    CU_ASSERT_EQUAL(p->up_user.not_before, 1700000050);
    CU_ASSERT_TRUE(p->up_fields & BNC_USER_PUT_TIMES);
    CU_ASSERT_STRING_EQUAL(set.ms_users[1].up_user.hash, "");
    CU_ASSERT_PTR_NULL(set.ms_users[1].up_user.email);
    bnc_migrate_set_cleanup(&set);

    /* Another document, or a record that does not fit: refused, with the
     * others taken. */
    bnc_migrate_set_init(&set);
    CU_ASSERT_EQUAL(bnc_migrate_bouncer_load("[]", 2, &set, NULL, NULL,
                                             &err),
                    -1);
    bnc_err_clear(&err);
    memset(&r, 0, sizeof(r));
    {
        static const char doc[] =
            "{\"format\":\"bouncer-users\",\"version\":1,\"users\":["
            "{\"name\":\"ok\",\"hash\":\"!\"},"
            "{\"name\":\"bad\",\"hash\":\"$9$x$y\"},"
            "{\"name\":\"g\",\"hash\":\"\",\"groups\":[\"a b\"]}]}";

        CU_ASSERT_EQUAL(bnc_migrate_bouncer_load(doc, sizeof(doc) - 1, &set,
                                                 test_report, &r, &err),
                        0);
    }
    CU_ASSERT_EQUAL(set.ms_nusers, 1);
    CU_ASSERT_EQUAL(r.skipped, 2);
    bnc_migrate_set_cleanup(&set);
    free(buf);
}

/* ---- the store: bulk upsert, token gc ---------------------------------------------- */

static char *test_dir;

static int
test_rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static struct bnc_store *
test_store_open(void)
{
    struct bnc_store_opts o;
    struct bnc_err err;
    char tmpl[] = "/tmp/bnc-import-XXXXXX";
    struct bnc_store *s;

    CU_ASSERT_FATAL(mkdtemp(tmpl) != NULL);
    test_dir = bnc_strdup(tmpl);
    memset(&o, 0, sizeof(o));
    o.path = test_dir;
    o.cache_bytes = (uint64_t)8 << 20;
    o.create = 1;
    bnc_err_clear(&err);
    s = bnc_store_open(&o, &err);
    CU_ASSERT_FATAL(s != NULL);
    return s;
}

static void
test_store_close(struct bnc_store *s)
{
    bnc_store_close(s);
    (void)nftw(test_dir, test_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    free(test_dir);
    test_dir = NULL;
}

static void
test_put(struct bnc_user_put *p, const char *name, const char *hash,
         unsigned fields)
{
    memset(p, 0, sizeof(*p));
    p->up_user.name = (char *)name;
    p->up_user.hash = (char *)hash;
    p->up_fields = fields;
}

static int
test_set_hash(struct bnc_user *u, void *arg)
{
    free(u->hash);
    u->hash = bnc_strdup(arg);
    return 0;
}

static void
test_import_store_put_many(void)
{
    struct bnc_store *s = test_store_open();
    struct bnc_user_put p[3];
    struct bnc_user u;
    char *g1[] = {"staff", NULL}, *g2[] = {"web", NULL};
    size_t done;

    /* Dry run: results as if written, nothing written. */
    test_put(&p[0], "ann", SHA1, BNC_USER_PUT_HASH);
    test_put(&p[1], "bob", APR1, BNC_USER_PUT_HASH | BNC_USER_PUT_ID);
    p[1].up_user.id = 50;
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, p, 2, 1, 1, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(done, 2);
    CU_ASSERT_EQUAL(p[0].up_result, BNC_USER_PUT_ADDED);
    CU_ASSERT_EQUAL(bnc_store_user_get(s, "ann", &u), BNC_STORE_NOTFOUND);

    /* Written: ids (50 kept), groups. */
    p[0].up_user.groups = g1;
    p[0].up_fields |= BNC_USER_PUT_GROUPS_ADD;
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, p, 2, 2, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p[0].up_result, BNC_USER_PUT_ADDED);
    CU_ASSERT_EQUAL(p[1].up_result, BNC_USER_PUT_ADDED);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "bob", &u), BNC_STORE_OK);
    CU_ASSERT_EQUAL(u.id, 50);
    bnc_user_cleanup(&u);
    /* Again: unchanged, no write (rev stays 1). */
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, p, 2, 2, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p[0].up_result, BNC_USER_PUT_UNCHANGED);
    CU_ASSERT_EQUAL(p[1].up_result, BNC_USER_PUT_UNCHANGED);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "ann", &u), BNC_STORE_OK);
    CU_ASSERT_EQUAL(u.rev, 1);
    bnc_user_cleanup(&u);

    /* A new user asking for a taken id gets the next one (above 50). */
    test_put(&p[2], "cid", SHA1, BNC_USER_PUT_HASH | BNC_USER_PUT_ID);
    p[2].up_user.id = 50;
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, &p[2], 1, 1, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_TRUE(p[2].up_id_taken);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "cid", &u), BNC_STORE_OK);
    CU_ASSERT_EQUAL(u.id, 51);
    bnc_user_cleanup(&u);

    /* Groups are added to, not replaced, with GROUPS_ADD. */
    p[0].up_user.groups = g2;
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, p, 1, 1, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p[0].up_result, BNC_USER_PUT_UPDATED);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "ann", &u), BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_strv_len(u.groups), 2);
    CU_ASSERT_EQUAL(u.rev, 2);
    bnc_user_cleanup(&u);

    /* Re-hashed in bouncer since the import: the same import keeps it... */
    CU_ASSERT_EQUAL(bnc_store_user_modify(s, "ann", test_set_hash,
                                          (void *)"$argon2id$new",
                                          BNC_STORE_SYNC),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, p, 1, 1, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p[0].up_result, BNC_USER_PUT_UNCHANGED);
    CU_ASSERT_TRUE(p[0].up_hash_kept);
    /* ...a hash that changed at the source replaces it. */
    p[0].up_user.hash = APR1;
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, p, 1, 1, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p[0].up_result, BNC_USER_PUT_UPDATED);
    CU_ASSERT_FALSE(p[0].up_hash_kept);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "ann", &u), BNC_STORE_OK);
    CU_ASSERT_STRING_EQUAL(u.hash, APR1);
    bnc_user_cleanup(&u);

    /* An invalid name refuses the call before anything is written. */
    test_put(&p[2], "bad:name", SHA1, BNC_USER_PUT_HASH);
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, &p[1], 2, 2, 0, &done),
                    BNC_STORE_ERROR);
    CU_ASSERT_EQUAL(done, 0);
    test_store_close(s);
}

static int
test_set_disabled(struct bnc_user *u, void *arg)
{
    u->disabled = *(int *)arg;
    return 0;
}

/* A user disabled in bouncer stays disabled when the source still has it
 * active, unless the import asks to sync (--sync-disabled); a source that
 * disables wins either way. */
static void
test_import_store_keeps_disable(void)
{
    struct bnc_store *s = test_store_open();
    struct bnc_user_put p;
    struct bnc_user u;
    size_t done;
    int one = 1;
    unsigned f = BNC_USER_PUT_HASH | BNC_USER_PUT_DISABLED;

    test_put(&p, "ann", SHA1, f);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_put_many(s, &p, 1, 1, 0, &done),
                          BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_store_user_modify(s, "ann", test_set_disabled, &one,
                                          BNC_STORE_SYNC),
                    BNC_STORE_OK);
    /* The same import again: the admin's disable stays, and is told. */
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, &p, 1, 1, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p.up_result, BNC_USER_PUT_UNCHANGED);
    CU_ASSERT_TRUE(p.up_disabled_kept);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "ann", &u), BNC_STORE_OK);
    CU_ASSERT_TRUE(u.disabled);
    bnc_user_cleanup(&u);
    /* A dry run says the same. */
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, &p, 1, 1, 1, &done),
                    BNC_STORE_OK);
    CU_ASSERT_TRUE(p.up_disabled_kept);
    /* --sync-disabled: the source's "active" wins. */
    p.up_fields = f | BNC_USER_PUT_DISABLED_SYNC;
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, &p, 1, 1, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p.up_result, BNC_USER_PUT_UPDATED);
    CU_ASSERT_FALSE(p.up_disabled_kept);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "ann", &u), BNC_STORE_OK);
    CU_ASSERT_FALSE(u.disabled);
    bnc_user_cleanup(&u);
    /* The source disabling a user is always taken. */
    p.up_fields = f;
    p.up_user.disabled = 1;
    CU_ASSERT_EQUAL(bnc_store_user_put_many(s, &p, 1, 1, 0, &done),
                    BNC_STORE_OK);
    CU_ASSERT_EQUAL(p.up_result, BNC_USER_PUT_UPDATED);
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_get(s, "ann", &u), BNC_STORE_OK);
    CU_ASSERT_TRUE(u.disabled);
    bnc_user_cleanup(&u);
    test_store_close(s);
}

static void
test_import_store_token_gc(void)
{
    struct bnc_store *s = test_store_open();
    struct bnc_user u;
    struct bnc_token t[3];
    int64_t now = (int64_t)time(NULL);
    size_t i, count = 99;

    memset(&u, 0, sizeof(u));
    u.name = "ann";
    u.hash = "";
    CU_ASSERT_EQUAL_FATAL(bnc_store_user_add(s, &u), BNC_STORE_OK);
    memset(t, 0, sizeof(t));
    for (i = 0; i < 3; i++) {
        char key[8];

        snprintf(key, sizeof(key), "k%zu", i);
        bnc_sha256(key, strlen(key), t[i].digest);
        bnc_migrate_token_id(t[i].digest, t[i].id);
        t[i].user = "ann";
        t[i].created = now - 100;
    }
    t[0].expires = now - 10;  /* expired */
    t[1].expires = now;       /* expires this second: dead already */
    t[2].expires = now + 3600;
    CU_ASSERT_EQUAL_FATAL(bnc_store_token_add_many(s, t, 3, 2), BNC_STORE_OK);
    CU_ASSERT_EQUAL(bnc_store_token_gc(s, now, &count), BNC_STORE_OK);
    CU_ASSERT_EQUAL(count, 2);
    CU_ASSERT_EQUAL(bnc_store_token_gc(s, now, &count), BNC_STORE_OK);
    CU_ASSERT_EQUAL(count, 0);
    {
        struct bnc_token out;

        CU_ASSERT_EQUAL(bnc_store_token_get(s, t[2].digest, &out),
                        BNC_STORE_OK);
        bnc_token_cleanup(&out);
        CU_ASSERT_EQUAL(bnc_store_token_get(s, t[0].digest, &out),
                        BNC_STORE_NOTFOUND);
    }
    test_store_close(s);
}

static const struct bnc_unit_case cases[] = {
    {"test_import_htpasswd_formats", test_import_htpasswd_formats},
    {"test_import_htpasswd_apache_reading", test_import_htpasswd_apache_reading},
    {"test_import_htpasswd_refused", test_import_htpasswd_refused},
    {"test_import_htpasswd_plain", test_import_htpasswd_plain},
    {"test_import_htpasswd_locked", test_import_htpasswd_locked},
    {"test_import_htdbm_record", test_import_htdbm_record},
    {"test_import_usable_vectors", test_import_usable_vectors},
    {"test_import_usable_refused", test_import_usable_refused},
    {"test_import_django_mapping", test_import_django_mapping},
    {"test_import_django_foreign_hash_unusable", test_import_django_foreign_hash_unusable},
    {"test_import_django_document_errors", test_import_django_document_errors},
    {"test_import_parse_time", test_import_parse_time},
    {"test_import_export_roundtrip", test_import_export_roundtrip},
    {"test_import_store_put_many", test_import_store_put_many},
    {"test_import_store_token_gc", test_import_store_token_gc},
    {"test_import_store_keeps_disable", test_import_store_keeps_disable},
    {NULL, NULL}
};

BNC_UNIT_MAIN("import", cases, NULL, NULL)
