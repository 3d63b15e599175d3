/* SPDX-License-Identifier: MIT */
/* Lint of the access rules for bouncer --check-config (issue 6): legal
 * rules that are probably not what the admin meant. */
#include <stdlib.h>
#include <string.h>

#include "auth/rules.h"
#include "auth/rules_check.h"
#include "conf/conf.h"
#include "store/store.h"
#include "util/mem.h"
#include "util/str.h"

/* The scheme names [auth] schemes accepts (conf/parse.c keeps the same). */
static const char *const bnc_rules_check_schemes[] = {
    "basic", "token", "session", "jwt", "ip", "oauth2", "plugin", NULL
};
#define BNC_RULES_CHECK_SCHEME_LIST \
    "basic, token, session, jwt, ip, oauth2, plugin"

/* A growable set of group names (linear: a lint over a few hundred). */
struct bnc_rules_check_groups {
    char **v;
    size_t n;
};

static void
bnc_rules_check_groups_add(struct bnc_rules_check_groups *g, const char *name)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        if (strcmp(g->v[i], name) == 0)
            return;
    g->v = bnc_realloc(g->v, (g->n + 1) * sizeof(*g->v));
    g->v[g->n++] = bnc_strdup(name);
}

static int
bnc_rules_check_groups_has(const struct bnc_rules_check_groups *g,
                           const char *name)
{
    size_t i;

    for (i = 0; i < g->n; i++)
        if (strcmp(g->v[i], name) == 0)
            return 1;
    return 0;
}

static int
bnc_rules_check_user_cb(const struct bnc_user *u, void *arg)
{
    size_t i;

    for (i = 0; u->groups != NULL && u->groups[i] != NULL; i++)
        bnc_rules_check_groups_add(arg, u->groups[i]);
    return 0;
}

/* [ip] entries "CIDR = USER group:A,B" hand out groups too. */
static void
bnc_rules_check_ip_groups(const struct bnc_conf *c,
                          struct bnc_rules_check_groups *g)
{
    const struct bnc_conf_section *s = bnc_conf_section(c, "ip");
    size_t i, k;

    for (i = 0; s != NULL && i < s->nentries; i++) {
        const char *p = strstr(s->entries[i].value, "group:");
        char *list, **items = NULL;

        if (p == NULL)
            continue;
        list = bnc_strndup(p + 6, strcspn(p + 6, " \t"));
        if (bnc_split_list(list, &items) == 0)
            for (k = 0; items[k] != NULL; k++)
                bnc_rules_check_groups_add(g, items[k]);
        bnc_strv_free(items);
        free(list);
    }
}

static int
bnc_rules_check_in(char *const *v, const char *name)
{
    size_t i;

    for (i = 0; v != NULL && v[i] != NULL; i++)
        if (bnc_str_ieq(name, v[i]))
            return 1;
    return 0;
}

/* A rough strictness for the host-rule lint: 0 anyone, 1 any signed-in
 * user (scheme:, https only narrow how), 2 someone in particular or from
 * somewhere in particular. */
static int
bnc_rules_check_rank(const struct bnc_rule *r)
{
    int rank = 1, anon = 0;
    size_t k;

    for (k = 0; k < r->nreqs; k++)
        switch (r->reqs[k].kind) {
        case BNC_REQ_ANONYMOUS:
            anon = 1;
            break;
        case BNC_REQ_USER:
        case BNC_REQ_GROUP:
        case BNC_REQ_SCOPE:
        case BNC_REQ_NETWORK:
            rank = 2;
            break;
        default:
            break;
        }
    return anon && rank < 2 ? 0 : rank;
}

/* Host rules go by the client's Host header. A later rule for the same
 * pattern on every host that asks for less is what a client gets by
 * sending another Host, unless the server routes that name elsewhere. */
static void
bnc_rules_check_hosts(const struct bnc_conf *c, struct bnc_diag *d)
{
    const struct bnc_rules *r = c->rules;
    size_t i, k;

    if (r->n > 10000)
        return; /* quadratic lint: not for generated files */
    for (i = 0; i < r->n; i++) {
        const struct bnc_rule *q = &r->v[i];

        if (q->host != NULL || q->line == 0)
            continue;
        for (k = 0; k < i; k++) {
            const struct bnc_rule *h = &r->v[k];

            if (h->host == NULL || strcmp(h->pattern, q->pattern) != 0 ||
                (h->methods != 0 && q->methods != 0 &&
                 (h->methods & q->methods) == 0) ||
                bnc_rules_check_rank(q) >= bnc_rules_check_rank(h))
                continue;
            bnc_diag_warn(d, c->file, q->line,
                          "rule '%s' asks for less than the host rule at "
                          "line %u ('%s'): a client chooses the Host "
                          "header, so that rule holds only if the server "
                          "sends no other name to this virtual host (give "
                          "each virtual host its own config, or use "
                          "BOUNCER_REQUIRE per virtual host)", q->text,
                          h->line, h->text);
            break;
        }
    }
}

size_t
bnc_rules_lint(const struct bnc_conf *c, struct bnc_store *store,
               struct bnc_diag *d)
{
    struct bnc_rules_check_groups groups;
    size_t i, k, m, before;
    int have_groups = 0, uses_groups = 0;

    if (c == NULL || c->rules == NULL)
        return 0;
    before = d->nwarnings;
    memset(&groups, 0, sizeof(groups));
    for (i = 0; i < c->rules->n; i++)
        for (k = 0; k < c->rules->v[i].nreqs; k++)
            if (c->rules->v[i].reqs[k].kind == BNC_REQ_GROUP)
                uses_groups = 1;
    if (uses_groups && store == NULL) {
        bnc_diag_warn(d, c->file, 0,
                      "group names in [rules] not checked: the store is "
                      "not available");
    } else if (uses_groups) {
        if (bnc_store_user_foreach(store, bnc_rules_check_user_cb, &groups) ==
            BNC_STORE_OK)
            have_groups = 1;
        else
            bnc_diag_warn(d, c->file, 0,
                          "group names in [rules] not checked: cannot read "
                          "the users in the store");
        bnc_rules_check_ip_groups(c, &groups);
    }

    for (i = 0; i < c->rules->n; i++) {
        const struct bnc_rule *rule = &c->rules->v[i];

        if (rule->line == 0)
            continue; /* the built-in "/ = authenticated" */
        for (k = 0; k < rule->nreqs; k++) {
            const struct bnc_requirement *q = &rule->reqs[k];

            if (q->kind == BNC_REQ_ANONYMOUS)
                bnc_diag_warn(d, c->file, rule->line,
                              "rule '%s' leaves %s%s open to anonymous "
                              "users (fine for a login page or public "
                              "files)", rule->text,
                              rule->host != NULL ? rule->host : "",
                              rule->pattern);
            /* "/pub" is a plain prefix: /publish/ and /pub.bak too. */
            if (q->kind == BNC_REQ_ANONYMOUS && !rule->glob &&
                rule->pattern[strlen(rule->pattern) - 1] != '/')
                bnc_diag_warn(d, c->file, rule->line,
                              "rule '%s': a prefix without a trailing '/' "
                              "also opens every path that starts with it, "
                              "such as %sx/ (write %s/ for a directory)",
                              rule->text, rule->pattern, rule->pattern);
            for (m = 0; q->kind == BNC_REQ_SCHEME && q->names[m] != NULL;
                 m++) {
                const char *name = q->names[m];

                if (!bnc_rules_check_in((char *const *)bnc_rules_check_schemes,
                                        name))
                    bnc_diag_warn(d, c->file, rule->line,
                                  "rule '%s': unknown scheme '%s' (valid: "
                                  BNC_RULES_CHECK_SCHEME_LIST ")",
                                  rule->text, name);
                else if (!bnc_rules_check_in(c->schemes, name))
                    bnc_diag_warn(d, c->file, rule->line,
                                  "rule '%s': scheme '%s' is not in [auth] "
                                  "schemes, so scheme:%s never holds",
                                  rule->text, name, name);
            }
            for (m = 0; have_groups && q->kind == BNC_REQ_GROUP &&
                        q->names[m] != NULL;
                 m++)
                if (!bnc_rules_check_groups_has(&groups, q->names[m]))
                    bnc_diag_warn(d, c->file, rule->line,
                                  "rule '%s': no user is in group '%s' "
                                  "(bouncerctl group add %s USER)",
                                  rule->text, q->names[m], q->names[m]);
        }
    }
    bnc_rules_check_hosts(c, d);
    for (i = 0; i < groups.n; i++)
        free(groups.v[i]);
    free(groups.v);
    return d->nwarnings - before;
}
