/* SPDX-License-Identifier: MIT */
/* bouncerctl explain METHOD URL: which access rule a request meets, each of
 * its requirements and whether it holds, and the answer bouncer would give
 * (for admins debugging a 401 or 403). Uses the daemon's own rule code. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/decide.h"
#include "auth/rules.h"
#include "auth/scheme.h"
#include "ctl/ctl.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_EXPLAIN_PATH_MAX 8192

/* The parts of the URL argument: "/path?q", or "http[s]://host[:port]/path". */
struct bnc_explain_url {
    char *host;      /* owned, NULL if none */
    const char *uri; /* into the argument: path and query */
    int https;
};

static int
bnc_explain_parse_url(const char *url, struct bnc_explain_url *u)
{
    const char *p = url, *slash;

    memset(u, 0, sizeof(*u));
    if (strncmp(p, "https://", 8) == 0) {
        u->https = 1;
        p += 8;
    } else if (strncmp(p, "http://", 7) == 0) {
        p += 7;
    } else {
        u->uri = url;
        return url[0] == '/' ? 0 : -1;
    }
    slash = strchr(p, '/');
    u->host = bnc_strndup(p, slash != NULL ? (size_t)(slash - p) : strlen(p));
    u->uri = slash != NULL ? slash : "/";
    return 0;
}

/* Groups and scopes joined the way the schemes hand them to the rules. */
static char *
bnc_explain_join(char *const *a, char *const *b, const char *sep)
{
    struct bnc_buf out;
    size_t i, n = 0;
    char *s;

    bnc_buf_init(&out);
    for (i = 0; a != NULL && a[i] != NULL; i++, n++)
        bnc_buf_printf(&out, "%s%s", n ? sep : "", a[i]);
    for (i = 0; b != NULL && b[i] != NULL; i++, n++)
        bnc_buf_printf(&out, "%s%s", n ? sep : "", b[i]);
    s = n ? bnc_strdup(bnc_buf_str(&out)) : NULL;
    bnc_buf_cleanup(&out);
    return s;
}

/* Fills id from the store for --user or --token. Prints its own errors. */
static int
bnc_explain_load(struct bnc_ctl *ctx, const struct bnc_ctl_args *a,
                 struct bnc_identity *id, const char **scheme)
{
    struct bnc_user u;
    struct bnc_token t;
    const char *name = a->user;
    int src, rc = -1;
    time_t now = time(NULL);

    memset(&u, 0, sizeof(u));
    memset(&t, 0, sizeof(t));
    if (bnc_ctl_store(ctx, 0) == NULL)
        return -1;
    if (a->token != NULL) {
        src = bnc_store_token_get_by_id(ctx->store, a->token, &t);
        if (src != BNC_STORE_OK) {
            if (src == BNC_STORE_DEAD)
                bnc_ctl_store_dead("read the token");
            else
                bnc_ctl_errx(src == BNC_STORE_NOTFOUND
                                 ? "no token with id '%s' (bouncerctl token "
                                   "list shows the ids)"
                                 : "cannot read token '%s'", a->token);
            goto out;
        }
        name = t.user;
        if (t.expires != 0 && t.expires <= (int64_t)now)
            printf("note:    token %s has expired: the token scheme would "
                   "answer 401 before any rule\n", t.id);
        if (t.cidrs != NULL)
            printf("note:    token %s is only valid from its allowed "
                   "networks (checked by the token scheme)\n", t.id);
        *scheme = "token";
    }
    src = bnc_store_user_get(ctx->store, name, &u);
    if (src != BNC_STORE_OK) {
        if (src == BNC_STORE_DEAD)
            bnc_ctl_store_dead("read the user");
        else
            bnc_ctl_errx(src == BNC_STORE_NOTFOUND ? "no user '%s'"
                                                   : "cannot read user '%s'",
                         name);
        goto out;
    }
    if (u.disabled)
        printf("note:    user %s is disabled: every scheme would answer 401 "
               "before any rule\n", u.name);
    bnc_identity_from_user(id, &u, a->token != NULL ? "Token" : "Basic");
    free(id->groups);
    id->groups = bnc_explain_join(u.groups, a->groups, ",");
    id->scopes = bnc_explain_join(t.scopes, a->scopes, " ");
    rc = 0;
out:
    bnc_user_cleanup(&u);
    bnc_token_cleanup(&t);
    return rc;
}

/* The scheme the request is assumed to authenticate with. */
static const char *
bnc_explain_scheme(const struct bnc_conf *c, const struct bnc_ctl_args *a,
                   const char *from_token)
{
    size_t i;

    if (a->scheme != NULL)
        return a->scheme;
    if (from_token != NULL)
        return from_token;
    for (i = 0; c->schemes != NULL && c->schemes[i] != NULL; i++)
        if (strcmp(c->schemes[i], "basic") == 0)
            return "basic";
    return c->schemes != NULL && c->schemes[0] != NULL ? c->schemes[0]
                                                       : "basic";
}

static void
bnc_explain_answer(const struct bnc_conf *c, enum bnc_rule_outcome o)
{
    size_t i;

    switch (o) {
    case BNC_RULE_ALLOW:
        printf("answer:  allow (200)\n");
        return;
    case BNC_RULE_UNAUTHENTICATED:
        printf("answer:  401 {\"detail\": \"Authentication credentials were "
               "not provided.\", \"code\": \"not_authenticated\"}\n"
               "         with a WWW-Authenticate challenge for each of:");
        for (i = 0; c->schemes != NULL && c->schemes[i] != NULL; i++)
            if (strcmp(c->schemes[i], "session") != 0)
                printf(" %s", c->schemes[i]);
        printf("\n");
        if (bnc_strv_contains(c->schemes, "session"))
            printf("         (a browser without a session is sent to the "
                   "login page instead: 302)\n");
        return;
    case BNC_RULE_NEED_HTTPS:
        printf("answer:  403 {\"detail\": \"%s\", \"code\": "
               "\"https_required\"}\n", BNC_DECIDE_HTTPS_DETAIL);
        return;
    case BNC_RULE_FORBIDDEN:
    default:
        printf("answer:  403 {\"detail\": \"%s\", \"code\": "
               "\"permission_denied\"}\n", BNC_DECIDE_FORBIDDEN_DETAIL);
        return;
    }
}

int
bnc_ctl_explain(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *method = a->pos[0], *why = NULL, *scheme = NULL;
    const char *token_scheme = NULL, *host;
    struct bnc_explain_url url;
    struct bnc_identity id;
    struct bnc_addr client;
    struct bnc_rule_facts f;
    struct bnc_rule_answer ans;
    struct bnc_rule *server_rule = NULL;
    struct bnc_conf *c;
    char path[BNC_EXPLAIN_PATH_MAX], hbuf[256], req[512];
    int rc = BNC_CTL_EXIT_USAGE, have_client = 0, anonymous;
    size_t i;

    memset(&id, 0, sizeof(id));
    memset(&f, 0, sizeof(f));
    if (bnc_explain_parse_url(a->pos[1], &url) != 0) {
        bnc_ctl_errx("URL must be a path (/admin/) or http[s]://HOST/PATH, "
                     "got '%s'", a->pos[1]);
        goto out;
    }
    if (a->user != NULL && a->token != NULL) {
        bnc_ctl_errx("--user and --token exclude each other");
        goto out;
    }
    if (a->from != NULL) {
        if (bnc_addr_parse(a->from, &client) != 0) {
            bnc_ctl_errx("--from: expected an IP address, got '%s'", a->from);
            goto out;
        }
        have_client = 1;
    }
    rc = BNC_CTL_EXIT_FAIL;
    c = bnc_ctl_conf(ctx);
    if (c == NULL)
        goto out;
    if (a->require != NULL) {
        struct bnc_diag d;

        bnc_diag_init(&d);
        server_rule = bnc_rule_from_server(a->require, &d);
        for (i = 0; i < d.n; i++)
            bnc_ctl_errx("--require: %s", d.lines[i]);
        bnc_diag_cleanup(&d);
        if (server_rule == NULL) {
            rc = BNC_CTL_EXIT_USAGE;
            goto out;
        }
    }

    anonymous = a->user == NULL && a->token == NULL && a->ngroups == 0 &&
                a->nscopes == 0 && a->scheme == NULL;
    if (a->user != NULL || a->token != NULL) {
        if (bnc_explain_load(ctx, a, &id, &token_scheme) != 0)
            goto out;
    } else if (!anonymous) {
        /* A caller described only by groups and scopes. */
        bnc_identity_set(&id.user, "(someone)");
        id.groups = bnc_explain_join(a->groups, NULL, ",");
        id.scopes = bnc_explain_join(a->scopes, NULL, " ");
    }
    if (!anonymous)
        scheme = bnc_explain_scheme(c, a, token_scheme);

    host = a->host != NULL ? a->host : url.host;
    snprintf(req, sizeof(req), "%.20s %.400s", method, a->pos[1]);
    printf("request: %s\n", req);
    if (bnc_path_normalize(url.uri, path, sizeof(path), &why) != 0) {
        printf("path:    refused: %s\n", why != NULL ? why : "?");
        printf("answer:  400 {\"detail\": \"Malformed request path.\", "
               "\"code\": \"invalid_path\"}\n");
        rc = BNC_CTL_EXIT_OK;
        goto out;
    }
    printf("path:    %s\n", path);
    if (host != NULL && host[0] != '\0')
        printf("host:    %s\n", bnc_rules_host_canon(host, hbuf, sizeof(hbuf)) == 0
                                    ? hbuf
                                    : "(unreadable: host rules do not match)");
    else
        printf("host:    (none: host rules do not match)\n");
    f.id = anonymous ? NULL : &id;
    f.scheme = scheme;
    f.client = have_client ? &client : NULL;
    f.https = bnc_rules_https(c->rules, a->https || url.https, f.client);
    printf("https:   %s%s\n", f.https ? "yes" : "no",
           f.https && !(a->https || url.https)
               ? " (loopback client, https_exempt_loopback = yes)"
               : "");
    printf("client:  %s\n", have_client ? a->from : "(unknown: use --from)");
    if (anonymous)
        printf("caller:  anonymous (no credentials)\n");
    else
        printf("caller:  %s, groups %s, scopes %s, scheme %s%s\n",
               id.user != NULL ? id.user : "?",
               id.groups != NULL ? id.groups : "(none)",
               id.scopes != NULL ? id.scopes : "(none)", scheme,
               a->scheme == NULL && token_scheme == NULL
                   ? " (assumed: use --scheme)"
                   : "");

    bnc_rules_answer(c->rules, server_rule, method, host, path, &f, &ans);
    if (ans.rule == NULL) {
        printf("rule:    none matches: [auth] default_policy = %s\n",
               c->rules->default_authenticated ? "authenticated" : "deny");
    } else {
        if (ans.rule == server_rule)
            printf("rule:    from the server: %s\n", ans.rule->text);
        else if (ans.rule->line > 0)
            printf("rule:    %s:%u: %s\n", c->file ? c->file : "(config)",
                   ans.rule->line, ans.rule->text);
        else
            printf("rule:    built-in default: %s\n", ans.rule->text);
        for (i = 0; i < ans.rule->nreqs; i++) {
            const struct bnc_requirement *q = &ans.rule->reqs[i];
            char text[512];
            const char *verdict;

            if (q->kind != BNC_REQ_ANONYMOUS && q->kind != BNC_REQ_HTTPS &&
                q->kind != BNC_REQ_NETWORK && f.id == NULL)
                verdict = "no (no credentials)";
            else if (q->kind == BNC_REQ_NETWORK && f.client == NULL)
                verdict = "no (client unknown)";
            else
                verdict = bnc_rule_req_holds(q, &f) ? "yes" : "no";
            printf("  %-40s %s\n", bnc_rule_req_text(q, text, sizeof(text)),
                   verdict);
        }
    }
    bnc_explain_answer(c, ans.outcome);
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_rule_free(server_rule);
    bnc_identity_cleanup(&id);
    free(url.host);
    return rc;
}
