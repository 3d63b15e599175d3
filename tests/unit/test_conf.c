/* SPDX-License-Identifier: MIT */
/* bouncer.conf: every tests/data/conf case, defaults, bounds and getters. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth/rules.h"
#include "conf/conf.h"
#include "util/err.h"
#include "util/mem.h"
#include "unit.h"

#ifndef BNC_STATEDIR
#define BNC_STATEDIR "/var/lib/bouncer"
#endif

static const char *
data_dir(void)
{
    const char *d = getenv("BNC_TEST_DATA");

    return d != NULL && d[0] != '\0' ? d : "tests/data";
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted case names under tests/data/conf/<kind>; caller frees. */
static char **
list_cases(const char *kind, size_t *n)
{
    char path[4096];
    DIR *dir;
    struct dirent *de;
    char **v = NULL;

    *n = 0;
    snprintf(path, sizeof(path), "%s/conf/%s", data_dir(), kind);
    dir = opendir(path);
    if (dir == NULL) {
        printf("\ncannot open %s: %s\n", path, strerror(errno));
        return NULL;
    }
    for (;;) {
        de = readdir(dir);
        if (de == NULL)
            break;
        if (de->d_name[0] == '.')
            continue;
        v = bnc_realloc(v, (*n + 1) * sizeof(*v));
        v[(*n)++] = bnc_strdup(de->d_name);
    }
    closedir(dir);
    if (*n > 0)
        qsort(v, *n, sizeof(*v), cmp_str);
    return v;
}

static void
free_cases(char **v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* Reads the [basic] section the way src/schemes/basic.c does, so the data
 * cases can pin the getters' messages too. */
static void
basic_like(struct bnc_conf *c, struct bnc_diag *d)
{
    struct bnc_conf_section *s = bnc_conf_section(c, "basic");
    const char *realm;
    uint64_t v;

    bnc_conf_get_str(c, s, "realm", c->realm, &realm, d);
    bnc_conf_get_duration(c, s, "cache_ttl", 60, 0, 86400, &v, d);
    bnc_conf_get_u64(c, s, "cache_size", 1024, 0, 1000000, &v, d);
    bnc_conf_get_u64(c, s, "max_length", 4096, 64, 65536, &v, d);
    if (s != NULL)
        bnc_conf_check_unused(c, s, d);
}

static struct bnc_conf *
load_case(const char *kind, const char *name, char *path, size_t cap,
          struct bnc_diag *d)
{
    struct bnc_conf *c;

    snprintf(path, cap, "%s/conf/%s/%s/bouncer.conf", data_dir(), kind, name);
    c = bnc_conf_load(path, d);
    if (c != NULL)
        basic_like(c, d);
    return c;
}

/* Per-case checks of a few values. */
static void
check_valid(const char *name, const struct bnc_conf *c,
            const struct bnc_diag *d)
{
    if (strcmp(name, "minimal") == 0) {
        CU_ASSERT_STRING_EQUAL(c->realm, "example");
        CU_ASSERT_STRING_EQUAL(c->schemes[0], "basic");
        CU_ASSERT_PTR_NULL(c->schemes[1]);
        CU_ASSERT_EQUAL(c->rules->n, 4);
        CU_ASSERT_EQUAL(c->rules->v[1].methods, BNC_M_GET | BNC_M_HEAD);
        CU_ASSERT_EQUAL(c->rules->v[3].line, 13);
    } else if (strcmp(name, "full") == 0) {
        CU_ASSERT_EQUAL(c->store_cache_bytes, 128u * 1024 * 1024);
        CU_ASSERT_STRING_EQUAL(c->realm, "Staff area");
        CU_ASSERT_EQUAL(c->argon2.m_kib, 65536);
        CU_ASSERT_EQUAL(c->argon2.t_cost, 3);
        CU_ASSERT_EQUAL(c->argon2.parallelism, 2);
        CU_ASSERT_EQUAL(c->rehash, 0);
        CU_ASSERT_EQUAL(c->log.target, BNC_LOG_SYSLOG);
        CU_ASSERT_EQUAL(c->log.level, BNC_LOG_DEBUG);
        CU_ASSERT_EQUAL(c->log.format, BNC_LOG_JSON);
        CU_ASSERT_EQUAL(c->log.facility, LOG_LOCAL3);
        CU_ASSERT_EQUAL(c->rules->n, 9);
        CU_ASSERT_EQUAL(c->rules->v[1].glob, 1);
    } else if (strcmp(name, "audit_file") == 0) {
        CU_ASSERT_EQUAL(c->log.target, BNC_LOG_FILE);
        CU_ASSERT_STRING_EQUAL(c->log.file, "/var/log/bouncer/bouncer.log");
        CU_ASSERT_EQUAL(c->log.audit_set, 1);
        CU_ASSERT_EQUAL(c->log.audit, BNC_LOG_FILE);
        CU_ASSERT_STRING_EQUAL(c->log.audit_file, "/var/log/bouncer/audit.log");
        CU_ASSERT_EQUAL(c->metrics_enabled, 0);
    } else if (strcmp(name, "crlf") == 0) {
        CU_ASSERT_STRING_EQUAL(c->realm, "crlf");
        CU_ASSERT_EQUAL(c->rules->n, 1);
    } else if (strcmp(name, "quoted") == 0) {
        CU_ASSERT_STRING_EQUAL(c->realm, "Members; #1 = best");
        CU_ASSERT_STRING_EQUAL(bnc_conf_section(c, "basic")->entries[0].value,
                               "semi;colon");
        CU_ASSERT_EQUAL(c->rules->v[0].reqs[0].kind, BNC_REQ_AUTHENTICATED);
    } else if (strcmp(name, "inline_comments") == 0) {
        CU_ASSERT_STRING_EQUAL(c->realm, "a;b#c");
        CU_ASSERT_STRING_EQUAL(c->schemes[0], "basic");
        CU_ASSERT_EQUAL(c->log.level, BNC_LOG_WARN);
        CU_ASSERT_EQUAL(c->rules->n, 1);
    } else if (strcmp(name, "empty_rules") == 0) {
        CU_ASSERT_EQUAL(c->rules->n, 0);
        CU_ASSERT_EQUAL(d->nwarnings, 1);
        CU_ASSERT(d->n == 1 && strstr(d->lines[0], ":4: warning: no rules: "
                                      "every request will be denied") != NULL);
    } else if (strcmp(name, "bom") == 0) {
        CU_ASSERT_STRING_EQUAL(c->realm, "bom");
    } else if (strcmp(name, "case_sections") == 0) {
        CU_ASSERT_PTR_NOT_NULL(bnc_conf_section(c, "auth"));
        CU_ASSERT_PTR_NOT_NULL(bnc_conf_section(c, "rules"));
        CU_ASSERT_STRING_EQUAL(c->schemes[0], "basic");
        CU_ASSERT_EQUAL(c->rules->v[0].methods, BNC_M_GET | BNC_M_HEAD);
    } else if (strcmp(name, "utf8") == 0) {
        CU_ASSERT_STRING_EQUAL(c->realm,
                               "Caf\xc3\xa9 \xe2\x80\x94 \xc3\xa9quipe");
        CU_ASSERT_STRING_EQUAL(c->rules->v[0].pattern, "/caf\xc3\xa9/");
    } else if (strcmp(name, "networks") == 0) {
        CU_ASSERT_EQUAL(c->rules->n, 7);
        CU_ASSERT_EQUAL(c->rules->v[1].reqs[1].nets[0].net.family, 4);
        CU_ASSERT_EQUAL(c->rules->v[1].reqs[1].nets[0].prefix, 8);
    } else if (strcmp(name, "whitespace") == 0) {
        CU_ASSERT_STRING_EQUAL(c->realm, "x y");
        CU_ASSERT_EQUAL(c->rules->v[0].nreqs, 2);
    }
}

static void
test_conf_valid_cases(void)
{
    size_t n, i;
    char **names = list_cases("valid", &n);

    unsetenv("BOUNCER_HOME");
    CU_ASSERT_FATAL(n >= 8);
    for (i = 0; i < n; i++) {
        struct bnc_diag d;
        struct bnc_conf *c;
        char path[4096];

        bnc_diag_init(&d);
        c = load_case("valid", names[i], path, sizeof(path), &d);
        if (c == NULL || d.nerrors != 0) {
            printf("\nvalid/%s failed:\n", names[i]);
            bnc_diag_print(&d, stdout);
            CU_FAIL("valid case");
        } else {
            check_valid(names[i], c, &d);
            if (strcmp(names[i], "empty_rules") != 0 && d.nwarnings != 0) {
                printf("\nvalid/%s warns:\n", names[i]);
                bnc_diag_print(&d, stdout);
                CU_FAIL("unexpected warning");
            }
        }
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
    }
    free_cases(names, n);
}

/* error holds the first diagnostic with the path replaced by FILE. */
static char *
expected_error(const char *name, const char *path)
{
    char epath[4096], line[16384], *nl, *out;
    FILE *f;
    size_t plen = strlen(path), need;

    snprintf(epath, sizeof(epath), "%s/conf/invalid/%s/error", data_dir(),
             name);
    f = fopen(epath, "r");
    if (f == NULL)
        return NULL;
    if (fgets(line, sizeof(line), f) == NULL) {
        fclose(f);
        return NULL;
    }
    fclose(f);
    nl = strchr(line, '\n');
    if (nl != NULL)
        *nl = '\0';
    if (strncmp(line, "FILE:", 5) != 0)
        return NULL;
    need = plen + strlen(line) + 1;
    out = bnc_malloc(need);
    snprintf(out, need, "%s%s", path, line + 4);
    return out;
}

static void
test_conf_invalid_cases(void)
{
    size_t n, i;
    char **names = list_cases("invalid", &n);

    unsetenv("BOUNCER_HOME");
    CU_ASSERT_FATAL(n >= 30);
    for (i = 0; i < n; i++) {
        struct bnc_diag d;
        struct bnc_conf *c;
        char path[4096], *want;

        bnc_diag_init(&d);
        c = load_case("invalid", names[i], path, sizeof(path), &d);
        want = expected_error(names[i], path);
        if (want == NULL) {
            printf("\ninvalid/%s: no usable error file\n", names[i]);
            CU_FAIL("error file");
        } else if (d.nerrors == 0 || d.n == 0 ||
                   strcmp(d.lines[0], want) != 0) {
            printf("\ninvalid/%s:\n  want %s\n  got  %s\n", names[i], want,
                   d.n > 0 ? d.lines[0] : "(nothing)");
            CU_FAIL("invalid case");
        }
        /* errors found by the loader itself mean no config at all */
        if (c != NULL && bnc_conf_section(c, "basic") == NULL) {
            printf("\ninvalid/%s: loaded\n", names[i]);
            CU_FAIL("invalid case loaded");
        }
        free(want);
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
    }
    free_cases(names, n);
}

static struct bnc_conf *
mem(const char *text, struct bnc_diag *d)
{
    return bnc_conf_load_mem("mem.conf", text, strlen(text), d);
}

static void
test_conf_defaults(void)
{
    struct bnc_diag d;
    struct bnc_conf *c;
    const struct bnc_rule *r;

    unsetenv("BOUNCER_HOME");
    bnc_diag_init(&d);
    c = bnc_conf_load(NULL, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_PTR_NULL(c->file);
    CU_ASSERT_STRING_EQUAL(c->store_path, BNC_STATEDIR);
    CU_ASSERT_EQUAL(c->store_cache_bytes, 64u * 1024 * 1024);
    CU_ASSERT_STRING_EQUAL(c->schemes[0], "basic");
    CU_ASSERT_STRING_EQUAL(c->schemes[1], "token");
    CU_ASSERT_PTR_NULL(c->schemes[2]);
    CU_ASSERT_STRING_EQUAL(c->realm, "bouncer");
    CU_ASSERT_EQUAL(c->argon2.m_kib, BNC_ARGON2_DEFAULT_M);
    CU_ASSERT_EQUAL(c->argon2.t_cost, BNC_ARGON2_DEFAULT_T);
    CU_ASSERT_EQUAL(c->argon2.parallelism, BNC_ARGON2_DEFAULT_P);
    CU_ASSERT_EQUAL(c->rehash, 1);
    CU_ASSERT_EQUAL(c->log.target, BNC_LOG_STDERR);
    CU_ASSERT_EQUAL(c->log.level, BNC_LOG_INFO);
    CU_ASSERT_EQUAL(c->log.format, BNC_LOG_LOGFMT);
    CU_ASSERT_EQUAL(c->log.facility, LOG_AUTHPRIV);
    CU_ASSERT_EQUAL(c->log.audit_set, 0);
    CU_ASSERT_PTR_NULL(c->log.file);
    CU_ASSERT_EQUAL(c->metrics_enabled, 1);
    CU_ASSERT_EQUAL(c->nsections, 0);
    CU_ASSERT_EQUAL_FATAL(c->rules->n, 1);
    r = bnc_rules_match(c->rules, "GET", "/anything");
    CU_ASSERT_PTR_EQUAL(r, &c->rules->v[0]);
    CU_ASSERT_STRING_EQUAL(r->text, "/ = authenticated");
    CU_ASSERT_EQUAL(r->reqs[0].kind, BNC_REQ_AUTHENTICATED);
    bnc_conf_free(c);

    /* a file without [rules] gets the same default rule */
    c = mem("[auth]\nrealm = x\n", &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(c->rules->n, 1);
    CU_ASSERT_STRING_EQUAL(c->rules->v[0].pattern, "/");
    CU_ASSERT_STRING_EQUAL(c->file, "mem.conf");
    bnc_conf_free(c);

    /* an empty file is all defaults */
    c = bnc_conf_load_mem("e", "", 0, &d);
    CU_ASSERT_PTR_NOT_NULL(c);
    bnc_conf_free(c);
    CU_ASSERT_EQUAL(d.n, 0);
    bnc_diag_cleanup(&d);
}

static void
test_conf_home_override(void)
{
    struct bnc_diag d;
    struct bnc_conf *c;

    bnc_diag_init(&d);
    setenv("BOUNCER_HOME", "/tmp/bnc-home-test", 1);
    c = mem("[store]\npath = /srv/store\n", &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->store_path, "/tmp/bnc-home-test");
    bnc_conf_free(c);
    c = bnc_conf_load(NULL, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->store_path, "/tmp/bnc-home-test");
    bnc_conf_free(c);
    /* empty means unset */
    setenv("BOUNCER_HOME", "", 1);
    c = mem("[store]\npath = /srv/store\n", &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_STRING_EQUAL(c->store_path, "/srv/store");
    bnc_conf_free(c);
    unsetenv("BOUNCER_HOME");
    c = mem("[store]\npath = /srv/store\n", &d);
    CU_ASSERT_STRING_EQUAL(c->store_path, "/srv/store");
    bnc_conf_free(c);
    CU_ASSERT_EQUAL(d.n, 0);
    bnc_diag_cleanup(&d);
}

static void
test_conf_design_example(void)
{
    static const char text[] =
        "[store]\n"
        "path = /var/lib/bouncer          ; $BOUNCER_HOME overrides\n"
        "\n"
        "[auth]\n"
        "schemes = session, token, jwt, basic   ; order = DRF's "
        "DEFAULT_AUTHENTICATION_CLASSES\n"
        "realm = example\n"
        "\n"
        "[rules]\n"
        "/auth/           = anonymous\n"
        "GET,HEAD /pub/   = anonymous\n"
        "/admin/          = group:admin\n"
        "/                = authenticated\n"
        "\n"
        "[jwt]\n"
        "algorithm = ES256                        ; simplejwt ALGORITHM\n"
        "verifying_keys = /etc/bouncer/jwt/jwks.json, /etc/bouncer/jwt/old.pem\n"
        "issuer = https://example.org             ; set = required\n"
        "leeway = 30s\n";
    struct bnc_diag d;
    struct bnc_conf *c;
    struct bnc_conf_section *jwt;
    const char *s;
    uint64_t v;

    unsetenv("BOUNCER_HOME");
    bnc_diag_init(&d);
    c = mem(text, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_STRING_EQUAL(c->store_path, "/var/lib/bouncer");
    CU_ASSERT_STRING_EQUAL(c->schemes[0], "session");
    CU_ASSERT_STRING_EQUAL(c->schemes[1], "token");
    CU_ASSERT_STRING_EQUAL(c->schemes[2], "jwt");
    CU_ASSERT_STRING_EQUAL(c->schemes[3], "basic");
    CU_ASSERT_PTR_NULL(c->schemes[4]);
    CU_ASSERT_STRING_EQUAL(c->realm, "example");
    CU_ASSERT_EQUAL(c->rules->n, 4);
    CU_ASSERT_STRING_EQUAL(c->rules->v[1].text, "GET,HEAD /pub/ = anonymous");
    /* scheme sections are kept, unvalidated, for the schemes */
    jwt = bnc_conf_section(c, "jwt");
    CU_ASSERT_PTR_NOT_NULL_FATAL(jwt);
    CU_ASSERT_EQUAL(jwt->line, 14);
    CU_ASSERT_EQUAL(jwt->nentries, 4);
    CU_ASSERT_STRING_EQUAL(jwt->entries[1].value,
                           "/etc/bouncer/jwt/jwks.json, /etc/bouncer/jwt/old.pem");
    CU_ASSERT_STRING_EQUAL(jwt->entries[2].value, "https://example.org");
    CU_ASSERT_EQUAL(bnc_conf_get_duration(c, jwt, "leeway", 0, 0, 3600, &v,
                                          &d), 0);
    CU_ASSERT_EQUAL(v, 30);
    CU_ASSERT_EQUAL(bnc_conf_get_str(c, jwt, "algorithm", NULL, &s, &d), 0);
    CU_ASSERT_STRING_EQUAL(s, "ES256");
    bnc_conf_check_unused(c, jwt, &d);
    CU_ASSERT_EQUAL(d.nerrors, 2);
    CU_ASSERT_STRING_EQUAL(d.lines[0],
                           "mem.conf:16: unknown key 'verifying_keys' in [jwt]");
    CU_ASSERT_STRING_EQUAL(d.lines[1],
                           "mem.conf:17: unknown key 'issuer' in [jwt]");
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);
}

static void
test_conf_multiple_errors(void)
{
    static const char text[] =
        "[store]\n"
        "pth = /x\n"                      /* 2 */
        "cache_size = tiny\n"             /* 3 */
        "[bogus]\n"                       /* 4 */
        "garbage line\n"                  /* 5 */
        "[rules]\n"
        "/ok/ = anonymous\n"
        "FETCH /x = anonymous\n"          /* 8 */
        "/y = anonymous\n"
        "/y = anonymous\n";               /* 10 */
    struct bnc_diag d;
    struct bnc_conf *c;

    bnc_diag_init(&d);
    c = mem(text, &d);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(d.nerrors, 6);
    if (d.n == 6) {
        /* lexer errors in file order, then section checks in file order */
        CU_ASSERT(strncmp(d.lines[0], "mem.conf:5: expected 'key = value'", 34) == 0);
        CU_ASSERT(strncmp(d.lines[1], "mem.conf:10: rule '/y' is duplicate", 35) == 0);
        CU_ASSERT(strncmp(d.lines[2], "mem.conf:2: unknown key 'pth' in [store]", 40) == 0);
        CU_ASSERT(strncmp(d.lines[3], "mem.conf:3: cache_size: expected a size", 39) == 0);
        CU_ASSERT(strncmp(d.lines[4], "mem.conf:4: unknown section [bogus]", 35) == 0);
        CU_ASSERT(strncmp(d.lines[5], "mem.conf:8: unknown method 'FETCH'", 34) == 0);
    } else {
        bnc_diag_print(&d, stdout);
    }
    bnc_diag_cleanup(&d);
}

static void
test_conf_values(void)
{
    static const struct {
        const char *text;
        const char *realm;
    } v[] = {
        {"[auth]\nrealm = a b c\n", "a b c"},
        {"[auth]\nrealm = a;b\n", "a;b"},
        {"[auth]\nrealm = a ;b\n", "a"},
        {"[auth]\nrealm = a\t#b\n", "a"},
        {"[auth]\nrealm = a#b # c\n", "a#b"},
        {"[auth]\nrealm = a = b\n", "a = b"},
        {"[auth]\nrealm=x\n", "x"},
        {"[auth]\nrealm = \"  padded  \"\n", "  padded  "},
        {"[auth]\nrealm = \"x\";c\n", "x"},
        {"[auth]\nrealm = \"\xc3\xa9\"\n", "\xc3\xa9"},
        {"[auth]\r\nrealm = crlf\r\n", "crlf"},
        {"[auth]\nrealm = no newline", "no newline"},
        {"\xef\xbb\xbf[auth]\nrealm = bom\n", "bom"},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct bnc_diag d;
        struct bnc_conf *c;

        bnc_diag_init(&d);
        c = mem(v[i].text, &d);
        if (c == NULL || strcmp(c->realm, v[i].realm) != 0) {
            printf("\nvalue case %zu: got '%s'\n", i, c ? c->realm : "(fail)");
            bnc_diag_print(&d, stdout);
            CU_FAIL("value");
        }
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
    }
}

static void
test_conf_argon2_and_log(void)
{
    static const struct {
        const char *mem;
        uint32_t kib;
    } m[] = {
        {"19456", 19456}, {"19M", 19456}, {"64m", 65536}, {"8", 8},
        {"1G", 1048576},  {"1024k", 1024},
    };
    static const struct {
        const char *name;
        int value;
    } fac[] = {
        {"auth", LOG_AUTH},     {"authpriv", LOG_AUTHPRIV},
        {"daemon", LOG_DAEMON}, {"user", LOG_USER},
        {"local0", LOG_LOCAL0}, {"LOCAL7", LOG_LOCAL7},
    };
    char text[256];
    size_t i;

    for (i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
        struct bnc_diag d;
        struct bnc_conf *c;

        bnc_diag_init(&d);
        snprintf(text, sizeof(text), "[passwords]\nargon2_memory = %s\n",
                 m[i].mem);
        c = mem(text, &d);
        CU_ASSERT_PTR_NOT_NULL(c);
        if (c != NULL)
            CU_ASSERT_EQUAL(c->argon2.m_kib, m[i].kib);
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
    }
    for (i = 0; i < sizeof(fac) / sizeof(fac[0]); i++) {
        struct bnc_diag d;
        struct bnc_conf *c;

        bnc_diag_init(&d);
        snprintf(text, sizeof(text), "[log]\nfacility = %s\n", fac[i].name);
        c = mem(text, &d);
        CU_ASSERT_PTR_NOT_NULL(c);
        if (c != NULL)
            CU_ASSERT_EQUAL(c->log.facility, fac[i].value);
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
    }
}

static void
test_conf_getters(void)
{
    static const char text[] =
        "[token]\n"
        "keyword = Token\n"     /* 2 */
        "rotate = yes\n"        /* 3 */
        "bad_bool = perhaps\n"  /* 4 */
        "count = 42\n"          /* 5 */
        "big = 1001\n"          /* 6 */
        "ttl = 5m\n"            /* 7 */
        "bad_ttl = 5 min\n"     /* 8 */
        "long_ttl = 2w\n"       /* 9 */
        "short_ttl = 0\n"       /* 10 */
        "leftover = 1\n";       /* 11 */
    struct bnc_diag d;
    struct bnc_conf *c;
    struct bnc_conf_section *s;
    const char *str;
    uint64_t v;
    int b;

    bnc_diag_init(&d);
    c = mem(text, &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    s = bnc_conf_section(c, "token");
    CU_ASSERT_PTR_NOT_NULL_FATAL(s);
    CU_ASSERT_PTR_NULL(bnc_conf_section(c, "jwt"));
    CU_ASSERT_PTR_NULL(bnc_conf_section(NULL, "jwt"));

    CU_ASSERT_EQUAL(bnc_conf_get_str(c, s, "keyword", "x", &str, &d), 0);
    CU_ASSERT_STRING_EQUAL(str, "Token");
    CU_ASSERT_EQUAL(bnc_conf_get_str(c, s, "absent", "dflt", &str, &d), 0);
    CU_ASSERT_STRING_EQUAL(str, "dflt");
    CU_ASSERT_EQUAL(bnc_conf_get_str(c, NULL, "keyword", "dflt", &str, &d), 0);
    CU_ASSERT_STRING_EQUAL(str, "dflt");

    CU_ASSERT_EQUAL(bnc_conf_get_bool(c, s, "rotate", 0, &b, &d), 0);
    CU_ASSERT_EQUAL(b, 1);
    CU_ASSERT_EQUAL(bnc_conf_get_bool(c, s, "bad_bool", 1, &b, &d), -1);
    CU_ASSERT_EQUAL(b, 1);
    CU_ASSERT_EQUAL(bnc_conf_get_bool(c, s, "absent", 1, &b, &d), 0);
    CU_ASSERT_EQUAL(b, 1);

    CU_ASSERT_EQUAL(bnc_conf_get_u64(c, s, "count", 1, 1, 100, &v, &d), 0);
    CU_ASSERT_EQUAL(v, 42);
    CU_ASSERT_EQUAL(bnc_conf_get_u64(c, s, "big", 7, 1, 1000, &v, &d), -1);
    CU_ASSERT_EQUAL(v, 7);

    CU_ASSERT_EQUAL(bnc_conf_get_duration(c, s, "ttl", 1, 1, 86400, &v, &d),
                    0);
    CU_ASSERT_EQUAL(v, 300);
    CU_ASSERT_EQUAL(bnc_conf_get_duration(c, s, "bad_ttl", 9, 1, 86400, &v,
                                          &d), -1);
    CU_ASSERT_EQUAL(v, 9);
    CU_ASSERT_EQUAL(bnc_conf_get_duration(c, s, "long_ttl", 9, 60, 86400, &v,
                                          &d), -1);
    CU_ASSERT_EQUAL(bnc_conf_get_duration(c, s, "short_ttl", 9, 1,
                                          UINT64_MAX, &v, &d), -1);
    CU_ASSERT_EQUAL(bnc_conf_get_duration(c, NULL, "ttl", 9, 1, 2, &v, &d),
                    0);
    CU_ASSERT_EQUAL(v, 9);
    bnc_conf_check_unused(c, s, &d);
    bnc_conf_check_unused(c, NULL, &d);

    CU_ASSERT_EQUAL_FATAL(d.n, 6);
    CU_ASSERT_STRING_EQUAL(d.lines[0],
                           "mem.conf:4: bad_bool: expected yes or no, got "
                           "'perhaps'");
    CU_ASSERT_STRING_EQUAL(d.lines[1],
                           "mem.conf:6: big: expected a number from 1 to "
                           "1000, got '1001'");
    CU_ASSERT_STRING_EQUAL(d.lines[2],
                           "mem.conf:8: bad_ttl: expected a duration like "
                           "30s, 5m, 1d, got '5 min'");
    CU_ASSERT_STRING_EQUAL(d.lines[3],
                           "mem.conf:9: long_ttl: must be between 1m and 1d, "
                           "got '2w'");
    CU_ASSERT_STRING_EQUAL(d.lines[4],
                           "mem.conf:10: short_ttl: must be at least 1s, got "
                           "'0'");
    CU_ASSERT_STRING_EQUAL(d.lines[5],
                           "mem.conf:11: unknown key 'leftover' in [token]");
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);
}

static void
test_conf_rules_warnings(void)
{
    struct bnc_diag d;
    struct bnc_conf *c;

    bnc_diag_init(&d);
    c = mem("[rules]\n", &d);
    CU_ASSERT_PTR_NOT_NULL(c);
    CU_ASSERT_EQUAL(d.nwarnings, 1);
    CU_ASSERT_STRING_EQUAL(d.lines[0], "mem.conf:1: warning: no rules: every "
                                       "request will be denied");
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);

    bnc_diag_init(&d);
    c = mem("[rules]\n"
            "/ = authenticated\n"
            "/admin/ = group:admin\n"          /* shadowed by line 2 */
            "GET /x/ = anonymous\n"            /* shadowed too */
            , &d);
    CU_ASSERT_PTR_NOT_NULL(c);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    CU_ASSERT_EQUAL_FATAL(d.nwarnings, 2);
    CU_ASSERT_STRING_EQUAL(d.lines[0], "mem.conf:3: warning: rule '/admin/' "
                                       "is never used: the rule at line 2 "
                                       "matches first");
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);

    bnc_diag_init(&d);
    c = mem("[rules]\n"
            "GET /api/ = anonymous\n"
            "/api/ = authenticated\n"          /* POST still reaches it */
            "GET /api/x = anonymous\n"         /* shadowed by line 2 */
            "/img/*.png = anonymous\n"
            "/img/a.png = authenticated\n"     /* globs are not analysed */
            "/ = authenticated\n", &d);
    CU_ASSERT_PTR_NOT_NULL(c);
    CU_ASSERT_EQUAL_FATAL(d.nwarnings, 1);
    CU_ASSERT_STRING_EQUAL(d.lines[0], "mem.conf:4: warning: rule '/api/x' "
                                       "is never used: the rule at line 2 "
                                       "matches first");
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);
}

static void
test_conf_bounds(void)
{
    struct bnc_diag d;
    struct bnc_conf *c;
    char *big;
    size_t i, n, len;

    /* just over 1 MiB of comment lines */
    len = 1024 * 1024 + 1;
    big = bnc_malloc(len + 1);
    memset(big, ';', len);
    for (i = 99; i < len; i += 100)
        big[i] = '\n';
    big[len] = '\0';
    bnc_diag_init(&d);
    c = bnc_conf_load_mem("big", big, len, &d);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(d.nerrors, 1);
    CU_ASSERT_STRING_EQUAL(d.lines[0], "big:10486: file too large (more than "
                                       "1048576 bytes)");
    bnc_diag_cleanup(&d);
    /* exactly 1 MiB is fine */
    bnc_diag_init(&d);
    c = bnc_conf_load_mem("big", big, len - 1, &d);
    CU_ASSERT_PTR_NOT_NULL(c);
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);
    free(big);

    /* 10000 entries load, 10001 do not */
    for (n = 10000; n <= 10001; n++) {
        big = bnc_malloc(n * 32 + 64);
        len = (size_t)snprintf(big, 64, "[ip]\n");
        for (i = 0; i < n; i++)
            len += (size_t)snprintf(big + len, 32, "k%zu = %zu\n", i, i);
        bnc_diag_init(&d);
        c = bnc_conf_load_mem("many", big, len, &d);
        if (n == 10000) {
            CU_ASSERT_PTR_NOT_NULL(c);
            if (c != NULL)
                CU_ASSERT_EQUAL(bnc_conf_section(c, "ip")->nentries, 10000);
        } else {
            CU_ASSERT_PTR_NULL(c);
            CU_ASSERT_EQUAL(d.nerrors, 1);
            CU_ASSERT_STRING_EQUAL(d.lines[0], "many:10002: too many entries "
                                               "(the limit is 10000)");
        }
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
        free(big);
    }

    /* a line of exactly 8192 bytes is fine, 8193 is not */
    for (n = 8192; n <= 8193; n++) {
        big = bnc_malloc(n + 32);
        memcpy(big, "[auth]\nrealm = ", 15);
        memset(big + 15, 'x', n - 8);
        memcpy(big + 15 + n - 8, "\r\n", 3);
        bnc_diag_init(&d);
        c = bnc_conf_load_mem("long", big, strlen(big), &d);
        if (n == 8192) {
            CU_ASSERT_PTR_NOT_NULL(c);
            if (c != NULL)
                CU_ASSERT_EQUAL(strlen(c->realm), 8192 - 8);
        } else {
            CU_ASSERT_PTR_NULL(c);
            CU_ASSERT_STRING_EQUAL(d.lines[0], "long:2: line too long (8193 "
                                               "bytes; the limit is 8192)");
        }
        bnc_conf_free(c);
        bnc_diag_cleanup(&d);
        free(big);
    }

    /* garbage stops after 100 errors */
    big = bnc_malloc(200 * 4 + 1);
    for (i = 0; i < 200; i++)
        memcpy(big + 4 * i, "xx\n\n", 4);
    big[800] = '\0';
    bnc_diag_init(&d);
    c = bnc_conf_load_mem("junk", big, 800, &d);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(d.nerrors, 101);
    CU_ASSERT_STRING_EQUAL(d.lines[100], "junk:199: too many errors, giving up");
    bnc_diag_cleanup(&d);
    free(big);
}

static void
test_conf_binary_input(void)
{
    static const char text[] = "[auth]\nrealm = a\0b\nschemes = basic\n";
    struct bnc_diag d;
    struct bnc_conf *c;

    bnc_diag_init(&d);
    c = bnc_conf_load_mem("bin", text, sizeof(text) - 1, &d);
    CU_ASSERT_PTR_NULL(c);
    CU_ASSERT_EQUAL(d.nerrors, 1);
    CU_ASSERT_STRING_EQUAL(d.lines[0], "bin:2: NUL byte in line");
    bnc_diag_cleanup(&d);
}

static void
test_conf_load_errors(void)
{
    struct bnc_diag d;
    struct bnc_conf *c;
    char dir[] = "/tmp/bnc-conf-XXXXXX";
    char path[256], want[512];

    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
    bnc_diag_init(&d);
    snprintf(path, sizeof(path), "%s/missing.conf", dir);
    c = bnc_conf_load(path, &d);
    CU_ASSERT_PTR_NULL(c);
    snprintf(want, sizeof(want), "%s: cannot open: No such file or directory",
             path);
    CU_ASSERT(d.n == 1 && strcmp(d.lines[0], want) == 0);
    bnc_diag_cleanup(&d);

    bnc_diag_init(&d);
    c = bnc_conf_load(dir, &d);
    CU_ASSERT_PTR_NULL(c);
    snprintf(want, sizeof(want), "%s: not a regular file", dir);
    CU_ASSERT(d.n == 1 && strcmp(d.lines[0], want) == 0);
    bnc_diag_cleanup(&d);
    rmdir(dir);
}

static void
test_conf_locate(void)
{
    const char *p;
    int ex = -1;

    setenv("BOUNCER_CONF", "/env/bouncer.conf", 1);
    p = bnc_conf_locate("/cli/bouncer.conf", &ex);
    CU_ASSERT_STRING_EQUAL(p, "/cli/bouncer.conf");
    CU_ASSERT_EQUAL(ex, 1);
    ex = -1;
    p = bnc_conf_locate(NULL, &ex);
    CU_ASSERT_STRING_EQUAL(p, "/env/bouncer.conf");
    CU_ASSERT_EQUAL(ex, 1);
    setenv("BOUNCER_CONF", "", 1);
    ex = -1;
    p = bnc_conf_locate(NULL, &ex);
    CU_ASSERT_EQUAL(ex, 0);
    /* the built-in path, only if it exists */
    if (p != NULL)
        CU_ASSERT_EQUAL(access(p, F_OK), 0);
    unsetenv("BOUNCER_CONF");
    p = bnc_conf_locate(NULL, NULL);
    if (p != NULL)
        CU_ASSERT(strstr(p, "/bouncer.conf") != NULL);
}

/* The example users copy must load cleanly and mean what it says. */
static void
test_conf_example(void)
{
    struct bnc_diag d;
    struct bnc_conf *c;
    char path[4096];
    const char *src = getenv("top_srcdir");

    if (src != NULL && src[0] != '\0')
        snprintf(path, sizeof(path), "%s/examples/bouncer.conf", src);
    else
        snprintf(path, sizeof(path), "%s/../../examples/bouncer.conf",
                 data_dir());
    unsetenv("BOUNCER_HOME");
    bnc_diag_init(&d);
    c = bnc_conf_load(path, &d);
    if (c == NULL || d.n != 0)
        bnc_diag_print(&d, stdout);
    CU_ASSERT_PTR_NOT_NULL_FATAL(c);
    CU_ASSERT_EQUAL(d.n, 0);
    basic_like(c, &d);
    CU_ASSERT_EQUAL(d.n, 0);
    CU_ASSERT_STRING_EQUAL(c->store_path, "/var/lib/bouncer");
    CU_ASSERT_EQUAL(c->argon2.m_kib, BNC_ARGON2_DEFAULT_M);
    CU_ASSERT_EQUAL(c->argon2.t_cost, BNC_ARGON2_DEFAULT_T);
    CU_ASSERT_EQUAL(c->log.facility, LOG_AUTHPRIV);
    CU_ASSERT_EQUAL(c->metrics_enabled, 1);
    CU_ASSERT_EQUAL(c->rules->n, 7);
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);
}

static const struct bnc_unit_case cases[] = {
    {"test_conf_example", test_conf_example},
    {"test_conf_valid_cases", test_conf_valid_cases},
    {"test_conf_invalid_cases", test_conf_invalid_cases},
    {"test_conf_defaults", test_conf_defaults},
    {"test_conf_home_override", test_conf_home_override},
    {"test_conf_design_example", test_conf_design_example},
    {"test_conf_multiple_errors", test_conf_multiple_errors},
    {"test_conf_values", test_conf_values},
    {"test_conf_argon2_and_log", test_conf_argon2_and_log},
    {"test_conf_getters", test_conf_getters},
    {"test_conf_rules_warnings", test_conf_rules_warnings},
    {"test_conf_bounds", test_conf_bounds},
    {"test_conf_binary_input", test_conf_binary_input},
    {"test_conf_load_errors", test_conf_load_errors},
    {"test_conf_locate", test_conf_locate},
    {NULL, NULL},
};

BNC_UNIT_MAIN("conf", cases, NULL, NULL)
