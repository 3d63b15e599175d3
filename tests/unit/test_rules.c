/* SPDX-License-Identifier: MIT */
/* Access rules: parsing, first-match, evaluation and path normalisation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/rules.h"
#include "auth/scheme.h"
#include "util/cidr.h"
#include "util/err.h"
#include "unit.h"

/* A realistic rule set; the index + 1 is the line number. */
static const char *const rule_set[][2] = {
    {"/auth/", "anonymous"},                                   /* 1 */
    {"GET,HEAD /pub/", "anonymous"},                           /* 2 */
    {"/static/**", "anonymous"},                               /* 3 */
    {"/img/*.png", "anonymous"},                               /* 4 */
    {"/admin/", "group:admin"},                                /* 5 */
    {"/ops/", "group:ops network:10.0.0.0/8,2001:db8::/32"},   /* 6 */
    {"/secure/", "https authenticated"},                       /* 7 */
    {"/api/v1/**/edit", "scope:write"},                        /* 8 */
    {"POST, PUT,PATCH ,DELETE /api/", "scope:write"},          /* 9 */
    {"/api/", "scope:read,write"},                             /* 10 */
    {"/metrics", "anonymous network:127.0.0.1,::1"},           /* 11 */
    {"/users/alice/", "user:alice"},                           /* 12 */
    {"/jwt-only/", "scheme:jwt"},                              /* 13 */
    {"/internal/", "network:192.168.0.0/16  authenticated"},   /* 14 */
    {"/bank/", "https group:staff scope:write"},               /* 15 */
    {"OPTIONS /", "anonymous"},                                /* 16 */
    {"/docs/*/index.html", "anonymous"},                       /* 17 */
    {"/", "authenticated"},                                    /* 18 */
};
#define NRULES (sizeof(rule_set) / sizeof(rule_set[0]))

struct ident {
    const char *user, *groups, *scopes, *scheme;
};
static const struct ident idents[] = {
    {NULL, NULL, NULL, NULL},                                  /* 0: none */
    {"alice", "staff", "read", "basic"},                       /* 1 */
    {"bob", "admin,staff", "read write", "token"},             /* 2 */
    {"carol", "ops", NULL, "jwt"},                             /* 3 */
    {"dave", NULL, "write admin:read", "jwt"},                 /* 4 */
    {"Alice", "Admin", "Read", "session"},                     /* 5 */
    {"frank", "staff,ops-admin", "readonly writer", "basic"},  /* 6 */
};

enum { A = BNC_RULE_ALLOW, U = BNC_RULE_UNAUTHENTICATED,
       F = BNC_RULE_FORBIDDEN, H = BNC_RULE_NEED_HTTPS, N = 0 };

#define PUB "203.0.113.7"
#define LAN "192.168.1.5"
#define TEN "10.1.2.3"
#define MAP "::ffff:10.1.2.3"
#define V6 "2001:db8::5"
#define V6OUT "2001:db9::1"
#define LO "127.0.0.1"
#define LO6 "::1"
#define BAD "not-an-address"

struct row {
    const char *method, *uri;
    int ident;
    const char *client;
    int https;
    int outcome;
    unsigned line; /* 0 = no rule matched */
};

static const struct row rows[] = {
    /* /auth/ = anonymous */
    {"GET", "/auth/login", 0, PUB, 0, A, 1},
    {"POST", "/auth/login", 0, PUB, 0, A, 1},
    {"POST", "/auth/token", 1, PUB, 0, A, 1},
    {"GET", "/auth", 0, PUB, 0, A, 1},
    {"GET", "/authx", 0, PUB, 0, U, 18},
    {"GET", "/auth/../admin/", 0, PUB, 0, U, 5},
    {"GET", "/auth/%2e%2e/admin/", 0, PUB, 0, U, 5},
    {"GET", "/auth/%2E%2E/admin/x", 2, PUB, 0, A, 5},
    {"DELETE", "/auth/sessions", 0, PUB, 0, A, 1},
    {"GET", "/auth/./././login", 0, PUB, 0, A, 1},
    /* GET,HEAD /pub/ = anonymous */
    {"GET", "/pub/file.txt", 0, PUB, 0, A, 2},
    {"HEAD", "/pub/file.txt", 0, PUB, 0, A, 2},
    {"POST", "/pub/file.txt", 0, PUB, 0, U, 18},
    {"POST", "/pub/file.txt", 1, PUB, 0, A, 18},
    {"get", "/pub/x", 0, PUB, 0, A, 2},
    {"PUT", "/pub/", 0, PUB, 0, U, 18},
    {"GET", "/pub", 0, PUB, 0, A, 2},
    {"GET", "/public", 0, PUB, 0, U, 18},
    {"GET", "//pub//a", 0, PUB, 0, A, 2},
    {"GET", "/pub/./a", 0, PUB, 0, A, 2},
    {"GET", "/x/../pub/a", 0, PUB, 0, A, 2},
    {"OPTIONS", "/pub/a", 0, PUB, 0, A, 16},
    {"PROPFIND", "/pub/a", 0, PUB, 0, U, 18},
    {"PROPFIND", "/pub/a", 1, PUB, 0, A, 18},
    {"GET", "/pub/a?x=../../admin", 0, PUB, 0, A, 2},
    {"HEAD", "/pub/", 0, PUB, 0, A, 2},
    {"", "/pub/a", 0, PUB, 0, U, 18},
    /* static, double star = anonymous */
    {"GET", "/static/", 0, PUB, 0, A, 3},
    {"GET", "/static/css/site.css", 0, PUB, 0, A, 3},
    {"POST", "/static/a/b/c", 0, PUB, 0, A, 3},
    {"GET", "/static", 0, PUB, 0, U, 18},
    {"GET", "/staticfoo/x", 0, PUB, 0, U, 18},
    {"GET", "/static/../admin/", 1, PUB, 0, F, 5},
    {"GET", "/static/%2e%2e/admin/", 1, PUB, 0, F, 5},
    /* /img/ *.png = anonymous */
    {"GET", "/img/a.png", 0, PUB, 0, A, 4},
    {"GET", "/img/.png", 0, PUB, 0, A, 4},
    {"GET", "/img/a/b.png", 0, PUB, 0, U, 18},
    {"GET", "/img/a.png.exe", 0, PUB, 0, U, 18},
    {"GET", "/img/a.PNG", 0, PUB, 0, U, 18},
    {"GET", "/img/a.png?x", 0, PUB, 0, A, 4},
    {"GET", "/img/%61.png", 0, PUB, 0, A, 4},
    {"GET", "/img/../admin/", 0, PUB, 0, U, 5},
    {"GET", "/img/x.png/", 0, PUB, 0, A, 4},   /* a glob covers what is below */
    /* /admin/ = group:admin */
    {"GET", "/admin/", 0, PUB, 0, U, 5},
    {"GET", "/admin/", 1, PUB, 0, F, 5},
    {"GET", "/admin/", 2, PUB, 0, A, 5},
    {"GET", "/admin", 1, PUB, 0, F, 5},
    {"GET", "/admin", 2, PUB, 0, A, 5},
    {"GET", "/administrator", 1, PUB, 0, A, 18},
    {"GET", "/admin/users/1", 3, PUB, 0, F, 5},
    {"POST", "/admin/users", 2, PUB, 0, A, 5},
    {"GET", "/ADMIN/", 1, PUB, 0, A, 18},
    {"GET", "/admin/", 5, PUB, 0, F, 5},
    {"GET", "/./admin/", 1, PUB, 0, F, 5},
    {"GET", "/admin/%2e/", 1, PUB, 0, F, 5},
    {"GET", "/pub/../admin/", 0, PUB, 0, U, 5},
    {"GET", "/pub/%2E./admin/", 0, PUB, 0, U, 5},
    {"OPTIONS", "/admin/", 0, PUB, 0, U, 5},
    {"GET", "/admin/", 6, PUB, 0, F, 5},
    /* /ops/ = group:ops network:10.0.0.0/8,2001:db8::/32 */
    {"GET", "/ops/", 3, TEN, 0, A, 6},
    {"GET", "/ops/", 3, MAP, 0, A, 6},
    {"GET", "/ops/", 3, V6, 0, A, 6},
    {"GET", "/ops/", 3, PUB, 0, F, 6},
    {"GET", "/ops/", 3, V6OUT, 0, F, 6},
    {"GET", "/ops/", 3, BAD, 0, F, 6},
    {"GET", "/ops/", 0, TEN, 0, U, 6},
    {"GET", "/ops/", 0, PUB, 0, F, 6},
    {"GET", "/ops/", 1, TEN, 0, F, 6},
    {"GET", "/ops/", 2, TEN, 0, F, 6},
    {"GET", "/ops/", 3, LAN, 0, F, 6},
    {"GET", "/ops", 3, TEN, 0, A, 6},
    {"GET", "/ops/x", 3, "10.255.255.255", 0, A, 6},
    {"GET", "/ops/x", 3, "11.0.0.0", 0, F, 6},
    {"GET", "/ops/x", 3, "9.255.255.255", 0, F, 6},
    {"GET", "/ops/x", 3, "2001:db8:ffff::1", 0, A, 6},
    {"GET", "/ops/x", 3, "2001:db7::1", 0, F, 6},
    {"GET", "/ops/x", 3, "::ffff:11.0.0.1", 0, F, 6},
    {"GET", "/ops/x", 6, TEN, 0, F, 6},
    /* /secure/ = https authenticated */
    {"GET", "/secure/", 0, PUB, 0, H, 7},
    {"GET", "/secure/", 1, PUB, 0, H, 7},
    {"GET", "/secure/", 0, PUB, 1, U, 7},
    {"GET", "/secure/", 1, PUB, 1, A, 7},
    {"POST", "/secure/x", 4, PUB, 1, A, 7},
    {"GET", "/secure", 1, PUB, 0, H, 7},
    /* /api/v1/ ** /edit = scope:write */
    {"POST", "/api/v1/posts/7/edit", 4, PUB, 0, A, 8},
    {"GET", "/api/v1/edit", 4, PUB, 0, A, 8},
    {"GET", "/api/v1/posts/edit", 1, PUB, 0, F, 8},
    {"GET", "/api/v1/posts/edit", 0, PUB, 0, U, 8},
    {"GET", "/api/v1/posts/editor", 4, PUB, 0, A, 10},
    {"GET", "/api/v1/x/edit/", 4, PUB, 0, A, 8},
    {"GET", "/api/v2/x/edit", 1, PUB, 0, A, 10},
    {"POST", "/api/v1/a/b/c/edit", 2, PUB, 0, A, 8},
    {"POST", "/api/v1/a/b/c/edit", 1, PUB, 0, F, 8},
    {"GET", "/api/v1edit", 1, PUB, 0, A, 10},
    /* POST,PUT,PATCH,DELETE /api/ = scope:write */
    {"POST", "/api/items", 1, PUB, 0, F, 9},
    {"POST", "/api/items", 2, PUB, 0, A, 9},
    {"PUT", "/api/items/1", 4, PUB, 0, A, 9},
    {"PATCH", "/api/items/1", 1, PUB, 0, F, 9},
    {"DELETE", "/api/items/1", 0, PUB, 0, U, 9},
    {"delete", "/api/items/1", 2, PUB, 0, A, 9},
    {"POST", "/api", 1, PUB, 0, F, 9},
    {"POST", "/api/x", 6, PUB, 0, F, 9},
    /* /api/ = scope:read,write */
    {"GET", "/api/items", 1, PUB, 0, A, 10},
    {"GET", "/api/items", 3, PUB, 0, F, 10},
    {"HEAD", "/api/items", 0, PUB, 0, U, 10},
    {"GET", "/api/items", 5, PUB, 0, F, 10},
    {"OPTIONS", "/api/items", 0, PUB, 0, U, 10},
    {"GET", "/api", 1, PUB, 0, A, 10},
    {"GET", "/api/items", 4, PUB, 0, A, 10},
    {"GET", "/api/x", 6, PUB, 0, F, 10},
    {"TRACE", "/api/x", 2, PUB, 0, A, 10},
    /* /metrics = anonymous network:127.0.0.1,::1 */
    {"GET", "/metrics", 0, LO, 0, A, 11},
    {"GET", "/metrics", 0, LO6, 0, A, 11},
    {"GET", "/metrics", 0, PUB, 0, F, 11},
    {"GET", "/metrics", 2, PUB, 0, F, 11},
    {"GET", "/metrics", 0, "::ffff:127.0.0.1", 0, A, 11},
    {"GET", "/metrics/x", 0, LO, 0, A, 11},
    {"GET", "/metricsfoo", 0, LO, 0, A, 11},
    {"GET", "/metrics", 0, BAD, 0, F, 11},
    {"GET", "/metrics", 0, "127.0.0.2", 0, F, 11},
    {"GET", "/metrics", 2, LO, 1, A, 11},
    /* /users/alice/ = user:alice */
    {"GET", "/users/alice/", 1, PUB, 0, A, 12},
    {"GET", "/users/alice/", 5, PUB, 0, F, 12},
    {"GET", "/users/alice/", 2, PUB, 0, F, 12},
    {"GET", "/users/alice", 0, PUB, 0, U, 12},
    {"GET", "/users/alice/profile", 1, PUB, 0, A, 12},
    {"GET", "/users/alicex", 2, PUB, 0, A, 18},
    {"GET", "/users/bob/", 1, PUB, 0, A, 18},
    {"GET", "/users/alice/../bob/", 1, PUB, 0, A, 18},
    {"GET", "/users/bob/../alice/", 2, PUB, 0, F, 12},
    /* /jwt-only/ = scheme:jwt */
    {"GET", "/jwt-only/", 3, PUB, 0, A, 13},
    {"GET", "/jwt-only/", 1, PUB, 0, F, 13},
    {"GET", "/jwt-only/", 0, PUB, 0, U, 13},
    {"GET", "/jwt-only/", 4, PUB, 0, A, 13},
    {"GET", "/jwt-only/", 5, PUB, 0, F, 13},
    /* /internal/ = network:192.168.0.0/16 authenticated */
    {"GET", "/internal/", 0, LAN, 0, U, 14},
    {"GET", "/internal/", 1, LAN, 0, A, 14},
    {"GET", "/internal/", 1, PUB, 0, F, 14},
    {"GET", "/internal/", 0, PUB, 0, F, 14},
    {"GET", "/internal/", 1, "::ffff:192.168.200.1", 0, A, 14},
    {"GET", "/internal/", 1, "192.169.0.1", 0, F, 14},
    {"GET", "/internal/", 1, "fe80::1", 0, F, 14},
    {"GET", "/internal/", 1, BAD, 0, F, 14},
    /* /bank/ = https group:staff scope:write */
    {"GET", "/bank/", 2, PUB, 1, A, 15},
    {"GET", "/bank/", 2, PUB, 0, H, 15},
    {"GET", "/bank/", 1, PUB, 1, F, 15},
    {"GET", "/bank/", 4, PUB, 1, F, 15},
    {"GET", "/bank/", 0, PUB, 1, U, 15},
    {"GET", "/bank/", 0, PUB, 0, H, 15},
    {"GET", "/bank/", 6, PUB, 1, F, 15},
    {"GET", "/bank/x", 2, LO6, 1, A, 15},
    /* OPTIONS / = anonymous */
    {"OPTIONS", "/", 0, PUB, 0, A, 16},
    {"OPTIONS", "/anything/deep", 0, PUB, 0, A, 16},
    {"options", "/x", 0, PUB, 0, A, 16},
    /* /docs/ * /index.html = anonymous */
    {"GET", "/docs/v1/index.html", 0, PUB, 0, A, 17},
    {"GET", "/docs/index.html", 0, PUB, 0, U, 18},
    {"GET", "/docs/v1/sub/index.html", 0, PUB, 0, U, 18},
    {"GET", "/docs/v1/index.html?q=1", 0, PUB, 0, A, 17},
    {"GET", "/docs/v1/INDEX.html", 0, PUB, 0, U, 18},
    {"GET", "/docs/%76%31/index.html", 0, PUB, 0, A, 17},
    /* / = authenticated */
    {"GET", "/", 0, PUB, 0, U, 18},
    {"GET", "/", 1, PUB, 0, A, 18},
    {"GET", "/anything", 3, PUB, 0, A, 18},
    {"GET", "/a/b/c/..", 0, PUB, 0, U, 18},
    {"POST", "/", 4, PUB, 0, A, 18},
    {"GET", "/%7Euser/", 0, PUB, 0, U, 18},
    {"TRACE", "/", 1, PUB, 0, A, 18},
    {"CONNECT", "/", 0, PUB, 0, U, 18},
    {"GET", "/index.html", 1, BAD, 0, A, 18},
    {"GET", "/", 5, PUB, 0, A, 18},
    {"GET", "/pub/.%2e/secret", 0, PUB, 0, U, 18},
    {"GET", "/?/admin/", 0, PUB, 0, U, 18},
};
#define NROWS (sizeof(rows) / sizeof(rows[0]))

static struct bnc_rules *
build(const char *const set[][2], size_t n)
{
    struct bnc_rules *r = bnc_rules_new();
    struct bnc_diag d;
    size_t i;

    bnc_diag_init(&d);
    for (i = 0; i < n; i++)
        CU_ASSERT_EQUAL_FATAL(bnc_rules_add(r, set[i][0], set[i][1], "t",
                                            (unsigned)(i + 1), &d), 0);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    bnc_diag_cleanup(&d);
    return r;
}

static void
test_rules_table(void)
{
    struct bnc_rules *r = build(rule_set, NRULES);
    size_t i, bad = 0;

    CU_ASSERT_EQUAL(r->n, NRULES);
    CU_ASSERT(NROWS >= 150);
    for (i = 0; i < NROWS; i++) {
        const struct row *w = &rows[i];
        const struct ident *ix = &idents[w->ident];
        struct bnc_identity id;
        struct bnc_addr addr;
        struct bnc_rule_facts f;
        const struct bnc_rule *rule;
        char path[256];
        const char *why = NULL;
        int outcome = N;
        unsigned line = 0;

        memset(&id, 0, sizeof(id));
        bnc_identity_set(&id.user, ix->user);
        bnc_identity_set(&id.groups, ix->groups);
        bnc_identity_set(&id.scopes, ix->scopes);
        memset(&f, 0, sizeof(f));
        f.id = ix->user != NULL ? &id : NULL;
        f.scheme = ix->scheme;
        f.client = bnc_addr_parse(w->client, &addr) == 0 ? &addr : NULL;
        f.https = w->https;
        if (bnc_path_normalize(w->uri, path, sizeof(path), &why) != 0) {
            printf("\nrow %zu: %s refused: %s\n", i, w->uri, why);
            bad++;
            bnc_identity_cleanup(&id);
            continue;
        }
        rule = bnc_rules_match(r, w->method, path);
        if (rule != NULL) {
            line = rule->line;
            outcome = (int)bnc_rule_eval(rule, &f);
        }
        if (outcome != w->outcome || line != w->line) {
            printf("\nrow %zu: %s %s ident=%d client=%s https=%d: "
                   "got outcome %d line %u, want %d line %u\n", i,
                   w->method, w->uri, w->ident, w->client, w->https, outcome,
                   line, w->outcome, w->line);
            bad++;
        }
        bnc_identity_cleanup(&id);
    }
    CU_ASSERT_EQUAL(bad, 0);
    bnc_rules_free(r);
}

static void
test_rules_no_match_denies(void)
{
    static const char *const set[][2] = {
        {"GET /a/", "anonymous"},
        {"/b/*", "authenticated"},
    };
    struct bnc_rules *r = build(set, 2);

    CU_ASSERT_PTR_NULL(bnc_rules_match(r, "POST", "/a/"));
    CU_ASSERT_PTR_NULL(bnc_rules_match(r, "GET", "/"));
    CU_ASSERT_PTR_NOT_NULL(bnc_rules_match(r, "GET", "/b/x/y")); /* below /b/x */
    CU_ASSERT_PTR_NULL(bnc_rules_match(r, "GET", "/c/x"));
    CU_ASSERT_PTR_NOT_NULL(bnc_rules_match(r, "GET", "/b/x"));
    CU_ASSERT_PTR_NULL(bnc_rules_match(r, NULL, NULL));
    CU_ASSERT_PTR_NULL(bnc_rules_match(NULL, "GET", "/a/"));
    bnc_rules_free(r);
}

static void
test_rules_text_and_fields(void)
{
    static const char *const set[][2] = {
        {"  get , Head   /pub/  ", "  anonymous   https "},
        {"/img/*.png", "user:a,b group:g scope:s scheme:jwt,basic "
                       "network:10.0.0.0/8,::1"},
    };
    struct bnc_rules *r = build(set, 2);
    const struct bnc_rule *x;

    x = &r->v[0];
    CU_ASSERT_STRING_EQUAL(x->text, "get , Head   /pub/ = anonymous   https");
    CU_ASSERT_EQUAL(x->methods, BNC_M_GET | BNC_M_HEAD);
    CU_ASSERT_STRING_EQUAL(x->pattern, "/pub/");
    CU_ASSERT_EQUAL(x->glob, 0);
    CU_ASSERT_EQUAL(x->nreqs, 2);
    CU_ASSERT_EQUAL(x->reqs[0].kind, BNC_REQ_ANONYMOUS);
    CU_ASSERT_EQUAL(x->reqs[1].kind, BNC_REQ_HTTPS);
    x = &r->v[1];
    CU_ASSERT_EQUAL(x->methods, 0);
    CU_ASSERT_EQUAL(x->glob, 1);
    CU_ASSERT_EQUAL(x->nreqs, 5);
    CU_ASSERT_EQUAL(x->reqs[0].kind, BNC_REQ_USER);
    CU_ASSERT_STRING_EQUAL(x->reqs[0].names[0], "a");
    CU_ASSERT_STRING_EQUAL(x->reqs[0].names[1], "b");
    CU_ASSERT_PTR_NULL(x->reqs[0].names[2]);
    CU_ASSERT_EQUAL(x->reqs[3].kind, BNC_REQ_SCHEME);
    CU_ASSERT_EQUAL(x->reqs[4].kind, BNC_REQ_NETWORK);
    CU_ASSERT_EQUAL(x->reqs[4].nnets, 2);
    CU_ASSERT_EQUAL(x->reqs[4].nets[0].prefix, 8);
    CU_ASSERT_EQUAL(x->reqs[4].nets[1].prefix, 128);
    bnc_rules_free(r);
}

static void
test_rules_method_bits(void)
{
    CU_ASSERT_EQUAL(bnc_method_bit("GET"), BNC_M_GET);
    CU_ASSERT_EQUAL(bnc_method_bit("head"), BNC_M_HEAD);
    CU_ASSERT_EQUAL(bnc_method_bit("CONNECT"), BNC_M_CONNECT);
    CU_ASSERT_EQUAL(bnc_method_bit("PROPFIND"), BNC_M_OTHER);
    CU_ASSERT_EQUAL(bnc_method_bit("GETX"), BNC_M_OTHER);
    CU_ASSERT_EQUAL(bnc_method_bit("GE"), BNC_M_OTHER);
    CU_ASSERT_EQUAL(bnc_method_bit(""), BNC_M_OTHER);
    CU_ASSERT_EQUAL(bnc_method_bit(NULL), BNC_M_OTHER);
}

/* Each bad rule and the exact diagnostic it must produce. */
static void
test_rules_errors(void)
{
    static const struct {
        const char *lhs, *rhs, *msg;
    } bad[] = {
        {"FETCH /x", "anonymous",
         "f:7: unknown method 'FETCH' in rule (valid: GET, HEAD, POST, PUT, "
         "PATCH, DELETE, OPTIONS, TRACE, CONNECT)"},
        {"GET,,POST /x", "anonymous",
         "f:7: rule methods: expected a comma-separated list like GET,HEAD, "
         "got 'GET,,POST'"},
        {"x", "anonymous", "f:7: rule pattern must start with '/', got 'x'"},
        {"GET", "anonymous",
         "f:7: rule pattern must start with '/', got 'GET'"},
        {"GET/x", "anonymous",
         "f:7: rule pattern must start with '/', got 'GET/x'"},
        {"/a b", "anonymous",
         "f:7: rule pattern '/a b' contains a space, '?', '#' or '%' "
         "(patterns match the decoded path without the query)"},
        {"/a?b", "anonymous",
         "f:7: rule pattern '/a?b' contains a space, '?', '#' or '%' "
         "(patterns match the decoded path without the query)"},
        {"/a/../b", "anonymous",
         "f:7: rule pattern '/a/../b' is not a normalised path ('//', '.' "
         "or '..' never occur in matched paths)"},
        {"//a", "anonymous",
         "f:7: rule pattern '//a' is not a normalised path ('//', '.' or "
         "'..' never occur in matched paths)"},
        {"/a/./", "anonymous",
         "f:7: rule pattern '/a/./' is not a normalised path ('//', '.' or "
         "'..' never occur in matched paths)"},
        {"/x", "",
         "f:7: rule '/x' has no requirement (valid: anonymous, "
         "authenticated, user:NAME[,NAME], group:NAME[,NAME], "
         "scope:NAME[,NAME], scheme:NAME[,NAME], network:CIDR[,CIDR], "
         "https)"},
        {"/x", "admin",
         "f:7: unknown requirement 'admin' in rule (valid: anonymous, "
         "authenticated, user:NAME[,NAME], group:NAME[,NAME], "
         "scope:NAME[,NAME], scheme:NAME[,NAME], network:CIDR[,CIDR], "
         "https)"},
        {"/x", "Anonymous",
         "f:7: unknown requirement 'Anonymous' in rule (valid: anonymous, "
         "authenticated, user:NAME[,NAME], group:NAME[,NAME], "
         "scope:NAME[,NAME], scheme:NAME[,NAME], network:CIDR[,CIDR], "
         "https)"},
        {"/x", "role:admin",
         "f:7: unknown requirement 'role:admin' in rule (valid: anonymous, "
         "authenticated, user:NAME[,NAME], group:NAME[,NAME], "
         "scope:NAME[,NAME], scheme:NAME[,NAME], network:CIDR[,CIDR], "
         "https)"},
        {"/x", "group:", "f:7: group: expected group:NAME[,NAME], got 'group:'"},
        {"/x", "user:a,,b",
         "f:7: user: expected user:NAME[,NAME], got 'user:a,,b'"},
        {"/x", "anonymous group:a",
         "f:7: 'anonymous' cannot be combined with 'group' (only with "
         "network and https)"},
        {"/x", "authenticated anonymous",
         "f:7: 'anonymous' cannot be combined with 'authenticated' (only "
         "with network and https)"},
        {"/x", "network:10.0.0.1/8",
         "f:7: network: '10.0.0.1/8' has host bits set beyond the prefix "
         "length (did you mean 10.0.0.0/8?)"},
        {"/x", "network:2001:db8::1/32",
         "f:7: network: '2001:db8::1/32' has host bits set beyond the prefix "
         "length (did you mean 2001:db8::/32?)"},
        {"/x", "network:::ffff:10.1.2.3/104",
         "f:7: network: '::ffff:10.1.2.3/104' has host bits set beyond the "
         "prefix length (did you mean ::ffff:10.0.0.0/104?)"},
        {"/x", "network:10.0.0.0/33",
         "f:7: network: expected an IP address or CIDR block like "
         "192.0.2.0/24 or 2001:db8::/32, got '10.0.0.0/33'"},
        {"/x", "network:10.0.0.0/8,bogus",
         "f:7: network: expected an IP address or CIDR block like "
         "192.0.2.0/24 or 2001:db8::/32, got 'bogus'"},
        {"/x", "network:",
         "f:7: network: expected network:CIDR[,CIDR], got 'network:'"},
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bnc_rules *r = bnc_rules_new();
        struct bnc_diag d;
        int rc;

        bnc_diag_init(&d);
        rc = bnc_rules_add(r, bad[i].lhs, bad[i].rhs, "f", 7, &d);
        CU_ASSERT_EQUAL(rc, -1);
        CU_ASSERT_EQUAL(r->n, 0);
        CU_ASSERT_EQUAL(d.nerrors, 1);
        if (d.n >= 1 && strcmp(d.lines[0], bad[i].msg) != 0) {
            printf("\ncase %zu: got  %s\n         want %s\n", i, d.lines[0],
                   bad[i].msg);
            CU_FAIL("diagnostic text");
        }
        bnc_diag_cleanup(&d);
        bnc_rules_free(r);
    }
}

static void
test_rules_duplicate_method_warns(void)
{
    struct bnc_rules *r = bnc_rules_new();
    struct bnc_diag d;

    bnc_diag_init(&d);
    CU_ASSERT_EQUAL(bnc_rules_add(r, "GET,get /x", "anonymous", "f", 2, &d),
                    0);
    CU_ASSERT_EQUAL(d.nerrors, 0);
    CU_ASSERT_EQUAL(d.nwarnings, 1);
    CU_ASSERT_STRING_EQUAL(d.lines[0], "f:2: warning: method get is listed twice");
    bnc_diag_cleanup(&d);
    bnc_rules_free(r);
}

static void
test_rules_glob(void)
{
    static const struct {
        const char *pattern, *path;
        int match;
    } g[] = {
        {"/*", "/", 1},
        {"/*", "/a", 1},
        {"/*", "/a/", 1},          /* "/a" and what is below it */
        {"/*.php", "/index.php/x", 1}, /* PATH_INFO after a script */
        {"/api/*/admin", "/api/v1/admin/users", 1},
        {"/api/*/admin", "/api/v1/administrator", 0},
        {"/**", "/a/b/c", 1},
        {"/**", "/", 1},
        {"/a/**", "/a", 0},
        {"/a/**", "/a/", 1},
        {"/a/**/b", "/a/b", 1},
        {"/a/**/b", "/a/x/b", 1},
        {"/a/**/b", "/a/x/y/b", 1},
        {"/a/**/b", "/a/xb", 0},
        {"/a/**/b", "/ab", 0},
        {"/a/*/b", "/a/b", 0},
        {"/a/*/b", "/a//b", 1},
        {"/a/*b*/c", "/a/xbx/c", 1},
        {"/a/*b*/c", "/a/x/b/c", 0},
        {"/*.php", "/index.php", 1},
        {"/*.php", "/dir/index.php", 0},
        {"/**.php", "/dir/index.php", 1},
        {"/**/*.php", "/index.php", 1},
        {"/**/*.php", "/a/b/index.php", 1},
        {"/**/*.php", "/a/b/index.phps", 0},
        {"/x/***", "/x/a/b", 1},
        {"/*/*/*", "/a/b/c", 1},
        {"/*/*/*", "/a/b", 0},
        /* a pattern ending in '/' is a directory: it covers what is
         * below it, and the directory named without the slash */
        {"/a/*/b/", "/a/x/b/c/d", 1},
        {"/a/*/b/", "/a/x/b", 1},
        {"/a/*/b/", "/a/x/bc", 0},
        {"/a/**/", "/a/x/y", 1},
        {"/a/*/", "/a", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(g) / sizeof(g[0]); i++) {
        struct bnc_rules *r = bnc_rules_new();
        struct bnc_diag d;
        int got;

        bnc_diag_init(&d);
        CU_ASSERT_EQUAL(bnc_rules_add(r, g[i].pattern, "anonymous", "f", 1,
                                      &d), 0);
        got = bnc_rules_match(r, "GET", g[i].path) != NULL;
        if (got != g[i].match) {
            printf("\nglob %s vs %s: got %d\n", g[i].pattern, g[i].path, got);
            CU_FAIL("glob");
        }
        bnc_diag_cleanup(&d);
        bnc_rules_free(r);
    }
}

/* A hostile path against a many-star pattern must stay fast (no
 * backtracking blow-up) and long paths must work (heap table). */
static void
test_rules_glob_hostile(void)
{
    struct bnc_rules *r = bnc_rules_new();
    struct bnc_diag d;
    char *path;
    size_t n = 20000;

    bnc_diag_init(&d);
    CU_ASSERT_EQUAL(bnc_rules_add(r, "/**a**a**a**a**a**a**a**b", "anonymous",
                                  "f", 1, &d), 0);
    path = malloc(n + 1);
    path[0] = '/';
    memset(path + 1, 'a', n - 1);
    path[n] = '\0';
    CU_ASSERT_PTR_NULL(bnc_rules_match(r, "GET", path));
    path[n - 1] = 'b';
    CU_ASSERT_PTR_NOT_NULL(bnc_rules_match(r, "GET", path));
    free(path);
    bnc_diag_cleanup(&d);
    bnc_rules_free(r);
}

static void
test_rules_eval_edges(void)
{
    struct bnc_rules *r;
    struct bnc_rule_facts f;
    struct bnc_identity id;
    static const char *const set[][2] = {
        {"/a", "authenticated"},
        {"/b", "scheme:JWT"},
        {"/c", "anonymous https"},
        {"/d", "group:x group:y"},
        {"/e", "network:::/0"},
        {"/f", "network:0.0.0.0/0"},
        {"/g", "user:alice user:bob"},
    };
    struct bnc_addr v4, v6;

    r = build(set, 7);
    memset(&f, 0, sizeof(f));
    memset(&id, 0, sizeof(id));
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[0], &f), BNC_RULE_UNAUTHENTICATED);
    f.id = &id; /* an identity without a user name is still authenticated */
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[0], &f), BNC_RULE_ALLOW);
    /* no scheme name recorded: not "jwt" */
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[1], &f), BNC_RULE_FORBIDDEN);
    f.scheme = "jwt";
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[1], &f), BNC_RULE_ALLOW);
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[2], &f), BNC_RULE_NEED_HTTPS);
    f.https = 1;
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[2], &f), BNC_RULE_ALLOW);
    /* two group requirements: both must hold */
    id.groups = (char *)"x";
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[3], &f), BNC_RULE_FORBIDDEN);
    id.groups = (char *)"y,x";
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[3], &f), BNC_RULE_ALLOW);
    /* ::/0 covers IPv4 clients in their mapped form; 0.0.0.0/0 no IPv6 */
    CU_ASSERT_EQUAL(bnc_addr_parse("192.0.2.1", &v4), 0);
    CU_ASSERT_EQUAL(bnc_addr_parse("2001:db8::1", &v6), 0);
    f.client = &v4;
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[4], &f), BNC_RULE_ALLOW);
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[5], &f), BNC_RULE_ALLOW);
    f.client = &v6;
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[4], &f), BNC_RULE_ALLOW);
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[5], &f), BNC_RULE_FORBIDDEN);
    f.client = NULL;
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[5], &f), BNC_RULE_FORBIDDEN);
    /* user:alice user:bob can never hold for one user */
    id.user = (char *)"alice";
    CU_ASSERT_EQUAL(bnc_rule_eval(&r->v[6], &f), BNC_RULE_FORBIDDEN);
    CU_ASSERT_EQUAL(bnc_rule_eval(NULL, &f), BNC_RULE_FORBIDDEN);
    bnc_rules_free(r);
}

struct norm {
    const char *in;
    const char *out; /* NULL = refused */
    const char *why;
};

static const struct norm norms[] = {
    {"/", "/", NULL},
    {"/a/b", "/a/b", NULL},
    {"/a/b/", "/a/b/", NULL},
    {"//a", "/a", NULL},
    {"/a//b///c", "/a/b/c", NULL},
    {"/a//", "/a/", NULL},
    {"/a/./b", "/a/b", NULL},
    {"/a/../b", "/b", NULL},
    {"/a/b/..", "/a/", NULL},
    {"/a/b/.", "/a/b/", NULL},
    {"/a/./", "/a/", NULL},
    {"/./", "/", NULL},
    {"/.", "/", NULL},
    {"/a/..", "/", NULL},
    {"/%2e", "/", NULL},
    {"/a/b/../../c", "/c", NULL},
    {"/a/%2e%2e/b", "/b", NULL},
    {"/a/%2E%2e", "/", NULL},
    {"/a/.%2e/b", "/b", NULL},
    {"/a/%2e./b", "/b", NULL},
    {"/%41%42", "/AB", NULL},
    {"/a%20b", "/a b", NULL},
    {"/%252e%252e/", "/%2e%2e/", NULL},
    {"/caf%C3%A9", "/caf\xc3\xa9", NULL},
    {"/a?b=c", "/a", NULL},
    {"/a?x=/../..", "/a", NULL},
    {"/?", "/", NULL},
    {"/a/?#x", "/a/", NULL},
    {"/...", "/...", NULL},
    {"/a/...b", "/a/...b", NULL},
    {"/.a", "/.a", NULL},
    {"/a..", "/a..", NULL},
    {"/a\\b", NULL, "backslash in path"},
    {"/a%5cb", NULL, "backslash in path"},
    {"/pub/..;/admin/x", NULL, "dot segment with path parameters"},
    {"/pub/.;x/y", NULL, "dot segment with path parameters"},
    {"/pub/..x;y", "/pub/..x", NULL},
    /* Path parameters are cut from every segment (Tomcat, Jetty, Spring). */
    {"/admin;x/secret", "/admin/secret", NULL},
    {"/admin;/secret", "/admin/secret", NULL},
    {"/admin/;x/secret", "/admin/secret", NULL},
    {"/admin/;x", "/admin/", NULL},
    {"/a;x=1;y=2/b;z", "/a/b", NULL},
    {"/a;x/../b", "/b", NULL},
    {"/a;x%2fy/b", NULL, "encoded slash in path"},
    {"/a%3bx/b", "/a;x/b", NULL},
    {"/a;x?q;1", "/a", NULL},
    {"/a+b", "/a+b", NULL},
    {"/a%3Fb", "/a?b", NULL},
    {"/a/b/c/../../../", "/", NULL},
    {"/..", NULL, "path escapes the root"},
    {"/../a", NULL, "path escapes the root"},
    {"/a/../..", NULL, "path escapes the root"},
    {"/%2e%2e/a", NULL, "path escapes the root"},
    {"/a/b/../../../c", NULL, "path escapes the root"},
    {"//..", NULL, "path escapes the root"},
    {"/./../", NULL, "path escapes the root"},
    {"/a%2fb", NULL, "encoded slash in path"},
    {"/a%2Fb", NULL, "encoded slash in path"},
    {"/..%2f", NULL, "encoded slash in path"},
    {"/a%00b", NULL, "encoded NUL in path"},
    {"/a%zz", NULL, "invalid percent-encoding"},
    {"/a%2", NULL, "invalid percent-encoding"},
    {"/a%", NULL, "invalid percent-encoding"},
    {"/a%g0", NULL, "invalid percent-encoding"},
    {"/a%0g", NULL, "invalid percent-encoding"},
    {"/%%32%65", NULL, "invalid percent-encoding"},
    {"/a#frag", NULL, "fragment in request target"},
    {"*", NULL, "path does not start with '/'"},
    {"", NULL, "path does not start with '/'"},
    {"http://x/a", NULL, "path does not start with '/'"},
    {"a/b", NULL, "path does not start with '/'"},
    {"%2f", NULL, "path does not start with '/'"},
};

static void
test_rules_normalize(void)
{
    size_t i;

    for (i = 0; i < sizeof(norms) / sizeof(norms[0]); i++) {
        char out[128];
        const char *why = "unset";
        int rc = bnc_path_normalize(norms[i].in, out, sizeof(out), &why);

        if (norms[i].out != NULL) {
            if (rc != 0 || strcmp(out, norms[i].out) != 0 || why != NULL) {
                printf("\nnormalize '%s': rc=%d out='%s' why=%s\n",
                       norms[i].in, rc, out, why ? why : "(null)");
                CU_FAIL("normalize");
            }
        } else if (rc != -1 || why == NULL ||
                   strcmp(why, norms[i].why) != 0 || out[0] != '\0') {
            printf("\nnormalize '%s': rc=%d why=%s want refusal '%s'\n",
                   norms[i].in, rc, why ? why : "(null)", norms[i].why);
            CU_FAIL("normalize refusal");
        }
    }
}

static void
test_rules_normalize_bounds(void)
{
    char in[600], out[256];
    const char *why;
    size_t i;

    /* exactly cap-1 bytes fit, one more does not */
    in[0] = '/';
    memset(in + 1, 'a', 254);
    in[255] = '\0';
    CU_ASSERT_EQUAL(bnc_path_normalize(in, out, sizeof(out), &why), 0);
    CU_ASSERT_EQUAL(strlen(out), 255);
    memset(in + 1, 'a', 255);
    in[256] = '\0';
    CU_ASSERT_EQUAL(bnc_path_normalize(in, out, sizeof(out), &why), -1);
    CU_ASSERT_STRING_EQUAL(why, "path too long");
    /* the same length split by slashes */
    for (i = 1; i < 255; i++)
        in[i] = (i % 2) ? 'a' : '/';
    in[255] = 'x';
    in[256] = '\0';
    CU_ASSERT_EQUAL(bnc_path_normalize(in, out, sizeof(out), &why), -1);
    /* a long input that shrinks to a short path is fine */
    in[0] = '\0';
    for (i = 0; i < 100; i++)
        memcpy(in + 5 * i, "/a/..", 6);
    CU_ASSERT_EQUAL(strlen(in), 500);
    CU_ASSERT_EQUAL(bnc_path_normalize(in, out, 16, &why), 0);
    CU_ASSERT_STRING_EQUAL(out, "/");
    /* silly caps */
    CU_ASSERT_EQUAL(bnc_path_normalize("/", out, 2, &why), 0);
    CU_ASSERT_STRING_EQUAL(out, "/");
    CU_ASSERT_EQUAL(bnc_path_normalize("/a", out, 2, &why), -1);
    CU_ASSERT_EQUAL(bnc_path_normalize("/", out, 1, &why), -1);
    CU_ASSERT_EQUAL(bnc_path_normalize("/", NULL, 0, &why), -1);
    CU_ASSERT_EQUAL(bnc_path_normalize(NULL, out, sizeof(out), &why), -1);
    CU_ASSERT_EQUAL(bnc_path_normalize("/x", out, sizeof(out), NULL), 0);
    /* percent-encoded bytes count once decoded */
    CU_ASSERT_EQUAL(bnc_path_normalize("/%61%61%61", out, 5, &why), 0);
    CU_ASSERT_STRING_EQUAL(out, "/aaa");
}

/* ---- tests/data/rules/table.txt: the decision table (issue 6) ---------- */

#define TBL_MAX_IDENTS 32
#define TBL_MAX_RULES 64

struct tbl_ident {
    char name[32];
    char *user, *groups, *scopes, *scheme; /* NULL = none */
};

struct tbl {
    struct tbl_ident ids[TBL_MAX_IDENTS];
    size_t nids;
    struct bnc_rules *r;          /* current rule set */
    struct bnc_rule *server;      /* current BOUNCER_REQUIRE, or NULL */
    size_t rows, bad;
    unsigned lineno;
};

static char *
tbl_dup(const char *s)
{
    return strcmp(s, "-") == 0 ? NULL : strdup(s);
}

static const char *
tbl_outcome_name(int status)
{
    switch (status) {
    case BNC_RULE_ALLOW: return "allow";
    case BNC_RULE_UNAUTHENTICATED: return "401";
    case BNC_RULE_FORBIDDEN: return "403";
    case BNC_RULE_NEED_HTTPS: return "https";
    default: return "400";
    }
}

/* One row: "METHOD HOST URI IDENT CLIENT HTTPS OUTCOME LINE". */
static void
tbl_row(struct tbl *t, char **w, size_t nw)
{
    struct tbl_ident *ix = NULL;
    struct bnc_identity id;
    struct bnc_addr addr;
    struct bnc_rule_facts f;
    struct bnc_rule_answer ans;
    char path[512], got_line[16];
    const char *why = NULL, *method, *host, *got;
    size_t i;
    int pass;

    if (nw != 8) {
        printf("\ntable.txt:%u: expected 8 fields, got %zu\n", t->lineno, nw);
        t->bad++;
        return;
    }
    for (i = 0; i < t->nids; i++)
        if (strcmp(t->ids[i].name, w[3]) == 0)
            ix = &t->ids[i];
    if (ix == NULL || t->r == NULL) {
        printf("\ntable.txt:%u: unknown ident '%s' or no ruleset\n",
               t->lineno, w[3]);
        t->bad++;
        return;
    }
    t->rows++;
    method = strcmp(w[0], "-") == 0 ? "" : w[0];
    host = strcmp(w[1], "-") == 0 ? NULL : w[1];
    memset(&id, 0, sizeof(id));
    id.user = ix->user;
    id.groups = ix->groups;
    id.scopes = ix->scopes;
    memset(&f, 0, sizeof(f));
    f.id = ix->user != NULL ? &id : NULL;
    f.scheme = ix->scheme;
    f.client = strcmp(w[4], "-") != 0 && bnc_addr_parse(w[4], &addr) == 0
                   ? &addr
                   : NULL;
    f.https = bnc_rules_https(t->r, strcmp(w[5], "1") == 0, f.client);
    /* Twice: the first-segment index must never change an answer. */
    for (pass = 0; pass < 2; pass++) {
        if (pass == 1)
            bnc_rules_index(t->r);
        if (bnc_path_normalize(w[2], path, sizeof(path), &why) != 0) {
            got = "400";
            snprintf(got_line, sizeof(got_line), "-");
        } else {
            bnc_rules_answer(t->r, t->server, method, host, path, &f, &ans);
            got = tbl_outcome_name(ans.outcome);
            if (ans.rule == NULL)
                snprintf(got_line, sizeof(got_line), "-");
            else if (ans.rule == t->server)
                snprintf(got_line, sizeof(got_line), "S");
            else
                snprintf(got_line, sizeof(got_line), "%u", ans.rule->line);
        }
        if (strcmp(got, w[6]) != 0 || strcmp(got_line, w[7]) != 0) {
            printf("\ntable.txt:%u: %s %s %s as %s from %s https=%s%s: got "
                   "%s rule %s, want %s rule %s\n", t->lineno, w[0], w[1],
                   w[2], w[3], w[4], w[5], pass ? " (indexed)" : "", got,
                   got_line, w[6], w[7]);
            t->bad++;
        }
    }
    /* Rules added later must not see a stale index. */
    bnc_rules_index_drop(t->r);
}

static void
test_rules_data_table(void)
{
    const char *dir = getenv("BNC_TEST_DATA");
    char file[4096], line[1024];
    struct tbl t;
    unsigned nrule = 0;
    FILE *fp;
    size_t i;

    memset(&t, 0, sizeof(t));
    snprintf(file, sizeof(file), "%s/rules/table.txt",
             dir != NULL && dir[0] != '\0' ? dir : "tests/data");
    fp = fopen(file, "r");
    CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
    while (fgets(line, sizeof(line), fp) != NULL) {
        char *w[16], *p = line, *eq;
        size_t nw = 0;

        t.lineno++;
        line[strcspn(line, "\n")] = '\0';
        if (line[0] == '#' || line[0] == '\0')
            continue;
        if (strncmp(line, "rule ", 5) == 0) {
            struct bnc_diag d;

            eq = strstr(line, " = ");
            CU_ASSERT_PTR_NOT_NULL_FATAL(eq);
            *eq = '\0';
            bnc_diag_init(&d);
            if (bnc_rules_add(t.r, line + 5, eq + 3, "table", ++nrule, &d) !=
                0) {
                printf("\ntable.txt:%u: %s\n", t.lineno,
                       d.n ? d.lines[0] : "?");
                t.bad++;
            }
            bnc_diag_cleanup(&d);
            continue;
        }
        if (strncmp(line, "server ", 7) == 0) {
            struct bnc_diag d;

            bnc_rule_free(t.server);
            t.server = NULL;
            if (strcmp(line + 7, "-") == 0)
                continue;
            bnc_diag_init(&d);
            t.server = bnc_rule_from_server(line + 7, &d);
            CU_ASSERT_PTR_NOT_NULL(t.server);
            bnc_diag_cleanup(&d);
            continue;
        }
        while (nw < 16) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p == '\0')
                break;
            w[nw++] = p;
            p += strcspn(p, " \t");
            if (*p != '\0')
                *p++ = '\0';
        }
        if (strcmp(w[0], "ruleset") == 0) {
            bnc_rules_free(t.r);
            bnc_rule_free(t.server);
            t.server = NULL;
            t.r = bnc_rules_new();
            nrule = 0;
        } else if (strcmp(w[0], "option") == 0 && nw == 3) {
            if (strcmp(w[1], "default_policy") == 0)
                t.r->default_authenticated = strcmp(w[2], "authenticated") == 0;
            else
                t.r->https_exempt_loopback = strcmp(w[2], "yes") == 0;
        } else if (strcmp(w[0], "ident") == 0 && nw == 6 &&
                   t.nids < TBL_MAX_IDENTS) {
            struct tbl_ident *x = &t.ids[t.nids++];

            snprintf(x->name, sizeof(x->name), "%s", w[1]);
            x->user = tbl_dup(w[2]);
            x->groups = tbl_dup(w[3]);
            x->scopes = tbl_dup(w[4]);
            for (p = x->scopes; p != NULL && *p != '\0'; p++)
                if (*p == '+')
                    *p = ' ';
            x->scheme = tbl_dup(w[5]);
        } else {
            tbl_row(&t, w, nw);
        }
    }
    fclose(fp);
    printf("\n%zu rows from %s\n", t.rows, file);
    CU_ASSERT(t.rows >= 200);
    CU_ASSERT_EQUAL(t.bad, 0);
    bnc_rules_free(t.r);
    bnc_rule_free(t.server);
    for (i = 0; i < t.nids; i++) {
        free(t.ids[i].user);
        free(t.ids[i].groups);
        free(t.ids[i].scopes);
        free(t.ids[i].scheme);
    }
}

/* Host parts on the left side of a rule. */
static void
test_rules_host_parse(void)
{
    static const struct {
        const char *lhs, *host, *pattern;
        unsigned methods;
    } ok[] = {
        {"api.example.org/v1/", "api.example.org", "/v1/", 0},
        {"GET,HEAD API.Example.ORG/v1/", "api.example.org", "/v1/",
         BNC_M_GET | BNC_M_HEAD},
        {"*.example.org/", "*.example.org", "/", 0},
        {"POST  *.Example.org/x/*.php", "*.example.org", "/x/*.php",
         BNC_M_POST},
        {"[::1]/local/", "[::1]", "/local/", 0},
        {"127.0.0.1/", "127.0.0.1", "/", 0},
        {"localhost/", "localhost", "/", 0},
        {"my_host/", "my_host", "/", 0},
    };
    static const struct {
        const char *lhs, *msg;
    } bad[] = {
        {"api.example.org:8080/", "f:3: rule host 'api.example.org:8080': "
         "expected a host name such as api.example.org, *.example.org or "
         "[::1] (no scheme, no port)"},
        {"https://x/", "f:3: rule host 'https:': expected a host name such "
         "as api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {"GET,HEAD/x", "f:3: rule host 'GET,HEAD': expected a host name "
         "such as api.example.org, *.example.org or [::1] (no scheme, no "
         "port)"},
        {"POST/x", "f:3: rule pattern must start with '/', got 'POST/x'"},
        {"GET a..b/", "f:3: rule host 'a..b': expected a host name such as "
         "api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {".a/", "f:3: rule host '.a': expected a host name such as "
         "api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {"*/", "f:3: rule host '*': expected a host name such as "
         "api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {"*.*.org/", "f:3: rule host '*.*.org': expected a host name such "
         "as api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {"a*.org/", "f:3: rule host 'a*.org': expected a host name such as "
         "api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {"[::1]:80/", "f:3: rule host '[::1]:80': expected a host name such "
         "as api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {"[zz]/", "f:3: rule host '[zz]': expected a host name such as "
         "api.example.org, *.example.org or [::1] (no scheme, no port)"},
        {"user@host/", "f:3: rule host 'user@host': expected a host name "
         "such as api.example.org, *.example.org or [::1] (no scheme, no "
         "port)"},
        {"GET FOO x.org/", "f:3: unknown method 'GET FOO' in rule (valid: "
         "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT)"},
    };
    size_t i;

    for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        struct bnc_rules *r = bnc_rules_new();
        struct bnc_diag d;

        bnc_diag_init(&d);
        CU_ASSERT_EQUAL_FATAL(bnc_rules_add(r, ok[i].lhs, "authenticated",
                                            "f", 3, &d), 0);
        CU_ASSERT_STRING_EQUAL(r->v[0].host, ok[i].host);
        CU_ASSERT_STRING_EQUAL(r->v[0].pattern, ok[i].pattern);
        CU_ASSERT_EQUAL(r->v[0].methods, ok[i].methods);
        bnc_diag_cleanup(&d);
        bnc_rules_free(r);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct bnc_rules *r = bnc_rules_new();
        struct bnc_diag d;

        bnc_diag_init(&d);
        CU_ASSERT_EQUAL(bnc_rules_add(r, bad[i].lhs, "anonymous", "f", 3, &d),
                        -1);
        if (d.n < 1 || strcmp(d.lines[0], bad[i].msg) != 0) {
            printf("\nhost case %zu: got  %s\n             want %s\n", i,
                   d.n ? d.lines[0] : "(nothing)", bad[i].msg);
            CU_FAIL("host diagnostic");
        }
        bnc_diag_cleanup(&d);
        bnc_rules_free(r);
    }
}

static void
test_rules_host_canon(void)
{
    static const struct {
        const char *in, *out; /* out NULL = unknown */
    } c[] = {
        {"Example.ORG", "example.org"},
        {"example.org:8080", "example.org"},
        {"example.org.", "example.org"},
        {"example.org.:443", "example.org"},
        {"[::1]", "[::1]"},
        {"[::1]:8443", "[::1]"},
        {"[::1]x", NULL},
        {"::1", NULL},
        {"", NULL},
        {":80", NULL},
        {"a b", NULL},
        {"a/b", NULL},
        {"a@b", NULL},
        {"a\tb", NULL},
    };
    size_t i;

    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char out[64];
        int rc = bnc_rules_host_canon(c[i].in, out, sizeof(out));

        if (c[i].out == NULL ? rc != -1 : rc != 0 || strcmp(out, c[i].out)) {
            printf("\ncanon '%s': rc=%d out='%s'\n", c[i].in, rc,
                   rc == 0 ? out : "");
            CU_FAIL("host canon");
        }
    }
    CU_ASSERT_EQUAL(bnc_rules_host_canon("example.org", NULL, 4), -1);
    CU_ASSERT_EQUAL(bnc_rules_host_canon("example.org", (char[4]){0}, 4), -1);
    CU_ASSERT_TRUE(bnc_rules_host_match(NULL, NULL));
    CU_ASSERT_TRUE(bnc_rules_host_match("*.a.org", "x.y.a.org"));
    CU_ASSERT_FALSE(bnc_rules_host_match("*.a.org", "a.org"));
    CU_ASSERT_FALSE(bnc_rules_host_match("*.a.org", "xa.org"));
    CU_ASSERT_FALSE(bnc_rules_host_match("a.org", ""));
}

/* BOUNCER_REQUIRE: parsed like a rule's right side, bad ones refused. */
static void
test_rules_server_rule(void)
{
    struct bnc_diag d;
    struct bnc_rule *r;

    bnc_diag_init(&d);
    r = bnc_rule_from_server("  group:admin   https ", &d);
    CU_ASSERT_PTR_NOT_NULL_FATAL(r);
    CU_ASSERT_STRING_EQUAL(r->text, "BOUNCER_REQUIRE = group:admin   https");
    CU_ASSERT_EQUAL(r->nreqs, 2);
    CU_ASSERT_EQUAL(r->line, 0);
    bnc_rule_free(r);
    CU_ASSERT_PTR_NULL(bnc_rule_from_server("group:", &d));
    CU_ASSERT_PTR_NULL(bnc_rule_from_server("", &d));
    CU_ASSERT_PTR_NULL(bnc_rule_from_server("anonymous user:x", &d));
    CU_ASSERT_PTR_NULL(bnc_rule_from_server(NULL, &d));
    CU_ASSERT_EQUAL(d.nerrors, 3);
    CU_ASSERT_STRING_EQUAL(d.lines[0], "BOUNCER_REQUIRE: group: expected "
                                       "group:NAME[,NAME], got 'group:'");
    bnc_rule_free(NULL);
    bnc_diag_cleanup(&d);
}

/* The index gives the same first match as a scan for many rules; the
 * original table (with and without index) is covered above. */
static void
test_rules_index_equivalence(void)
{
    static const char *const segs[] = {"a", "b", "api", "admin", "x", "ab"};
    static const char *const paths[] = {
        "/", "/a", "/a/", "/a/b", "/ab", "/ab/x", "/api/v1/x", "/admin",
        "/admin/", "/x/y/z", "/b/a", "/zzz", "/a/x.php", "/x.php",
    };
    struct bnc_rules *r = bnc_rules_new();
    struct bnc_diag d;
    size_t i, k, diff = 0;
    char lhs[64];

    bnc_diag_init(&d);
    for (i = 0; i < 300; i++) {
        const char *seg = segs[i % 6];

        switch (i % 7) {
        case 0: snprintf(lhs, sizeof(lhs), "GET /%s/", seg); break;
        case 1: snprintf(lhs, sizeof(lhs), "/%s/%zu/", seg, i); break;
        case 2: snprintf(lhs, sizeof(lhs), "/%s", seg); break;
        case 3: snprintf(lhs, sizeof(lhs), "/%s/*.php", seg); break;
        case 4: snprintf(lhs, sizeof(lhs), "/*.php"); break;
        case 5: snprintf(lhs, sizeof(lhs), "POST /%s/x/", seg); break;
        default:
            if (i % 2)
                snprintf(lhs, sizeof(lhs), "h%zu.org/%s/", i % 3, seg);
            else
                snprintf(lhs, sizeof(lhs), "%sh%zu.org/", i % 4 ? "" : "*.",
                         i % 3);
            break;
        }
        CU_ASSERT_EQUAL(bnc_rules_add(r, lhs, "authenticated", "f",
                                      (unsigned)i + 1, &d), 0);
    }
    CU_ASSERT_EQUAL(bnc_rules_add(r, "/", "authenticated", "f", 301, &d), 0);
    for (k = 0; k < 4; k++) {
        const char *methods[] = {"GET", "POST", "GET", "PUT"};
        const char *hosts[] = {NULL, "h1.org", "H2.ORG:80", "x.h0.org"};

        for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
            const struct bnc_rule *a, *b;

            bnc_rules_index_drop(r);
            a = bnc_rules_match_host(r, methods[k], hosts[k], paths[i]);
            bnc_rules_index(r);
            b = bnc_rules_match_host(r, methods[k], hosts[k], paths[i]);
            if (a != b) {
                printf("\nindex: %s %s: scan line %u, index line %u\n",
                       methods[k], paths[i], a ? a->line : 0,
                       b ? b->line : 0);
                diff++;
            }
        }
    }
    CU_ASSERT_EQUAL(diff, 0);
    bnc_diag_cleanup(&d);
    bnc_rules_free(r);
}

static void
test_rules_loopback(void)
{
    struct bnc_addr a;
    struct bnc_rules r;

    memset(&r, 0, sizeof(r));
    CU_ASSERT_EQUAL(bnc_addr_parse("127.0.0.1", &a), 0);
    CU_ASSERT_TRUE(bnc_rules_is_loopback(&a));
    CU_ASSERT_FALSE(bnc_rules_https(&r, 0, &a));
    r.https_exempt_loopback = 1;
    CU_ASSERT_TRUE(bnc_rules_https(&r, 0, &a));
    CU_ASSERT_TRUE(bnc_rules_https(&r, 1, NULL));
    CU_ASSERT_FALSE(bnc_rules_https(&r, 0, NULL));
    CU_ASSERT_FALSE(bnc_rules_https(NULL, 0, &a));
    CU_ASSERT_EQUAL(bnc_addr_parse("::1", &a), 0);
    CU_ASSERT_TRUE(bnc_rules_is_loopback(&a));
    CU_ASSERT_EQUAL(bnc_addr_parse("::ffff:127.1.2.3", &a), 0);
    CU_ASSERT_TRUE(bnc_rules_is_loopback(&a));
    CU_ASSERT_EQUAL(bnc_addr_parse("::2", &a), 0);
    CU_ASSERT_FALSE(bnc_rules_is_loopback(&a));
    CU_ASSERT_EQUAL(bnc_addr_parse("128.0.0.1", &a), 0);
    CU_ASSERT_FALSE(bnc_rules_is_loopback(&a));
}

static const struct bnc_unit_case cases[] = {
    {"test_rules_table", test_rules_table},
    {"test_rules_no_match_denies", test_rules_no_match_denies},
    {"test_rules_text_and_fields", test_rules_text_and_fields},
    {"test_rules_method_bits", test_rules_method_bits},
    {"test_rules_errors", test_rules_errors},
    {"test_rules_duplicate_method_warns", test_rules_duplicate_method_warns},
    {"test_rules_glob", test_rules_glob},
    {"test_rules_glob_hostile", test_rules_glob_hostile},
    {"test_rules_eval_edges", test_rules_eval_edges},
    {"test_rules_normalize", test_rules_normalize},
    {"test_rules_normalize_bounds", test_rules_normalize_bounds},
    {"test_rules_data_table", test_rules_data_table},
    {"test_rules_host_parse", test_rules_host_parse},
    {"test_rules_host_canon", test_rules_host_canon},
    {"test_rules_server_rule", test_rules_server_rule},
    {"test_rules_index_equivalence", test_rules_index_equivalence},
    {"test_rules_loopback", test_rules_loopback},
    {NULL, NULL},
};

BNC_UNIT_MAIN("rules", cases, NULL, NULL)
