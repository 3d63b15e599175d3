/* SPDX-License-Identifier: MIT */
/* Trusted networks: a client address inside a configured block gets that
 * entry's fixed identity (health checkers, internal callers), from
 * configuration alone. */
#include <stdlib.h>
#include <string.h>

#include "auth/registry.h"
#include "auth/scheme.h"
#include "conf/conf.h"
#include "fcgi/request.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_IP_FORM "expected 'CIDR[,CIDR...] = USER [group:NAME[,NAME...]]'"

struct bnc_ip_entry {
    struct bnc_cidr *cidrs;
    size_t ncidrs;
    char *user;
    char *groups;           /* comma-separated, or NULL */
    unsigned line;
};

struct bnc_ip_scheme {
    struct bnc_ip_entry *entries;   /* file order: the first match wins */
    size_t n;
};

static int bnc_scheme_ip_configure(const struct bnc_scheme_host *host,
                                   struct bnc_conf_section *section,
                                   void **statep, struct bnc_diag *d);
static enum bnc_verdict bnc_scheme_ip_check(void *state,
                                            const struct bnc_request *req,
                                            struct bnc_result *res);
static int bnc_scheme_ip_challenge(void *state, struct bnc_buf *out);
static void bnc_scheme_ip_destroy(void *state);

const struct bnc_scheme bnc_scheme_ip = {
    "ip",
    BNC_SCHEME_ABI,
    bnc_scheme_ip_configure,
    bnc_scheme_ip_check,
    bnc_scheme_ip_challenge,
    bnc_scheme_ip_destroy,
};

static int
bnc_ip_is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses the right side "USER [group:G1,G2]" of one entry into e. */
static int
bnc_ip_parse_identity(const char *file, const struct bnc_conf_entry *ce,
                      struct bnc_ip_entry *e, struct bnc_diag *d)
{
    const char *p = ce->value, *start, *why = NULL;
    char *word = NULL, **groups = NULL;
    struct bnc_buf g;
    int rc = -1, ng, i;

    bnc_buf_init(&g);
    while (bnc_ip_is_space(*p))
        p++;
    if (*p == '\0') {
        bnc_diag_error(d, file, ce->line, "[ip] %s: missing user name; "
                       BNC_IP_FORM, ce->key);
        goto out;
    }
    start = p;
    while (*p != '\0' && !bnc_ip_is_space(*p))
        p++;
    word = bnc_strndup(start, (size_t)(p - start));
    if (strncmp(word, "group:", 6) == 0) {
        bnc_diag_error(d, file, ce->line, "[ip] %s: missing user name "
                       "before '%s'; " BNC_IP_FORM, ce->key, word);
        goto out;
    }
    if (!bnc_user_name_valid(word, &why)) {
        bnc_diag_error(d, file, ce->line, "[ip] %s: invalid user name '%s' "
                       "(%s)", ce->key, word,
                       why != NULL ? why : "not allowed");
        goto out;
    }
    e->user = word;
    word = NULL;
    while (bnc_ip_is_space(*p))
        p++;
    if (*p == '\0') {
        rc = 0;
        goto out;
    }
    start = p;
    while (*p != '\0' && !bnc_ip_is_space(*p))
        p++;
    word = bnc_strndup(start, (size_t)(p - start));
    while (bnc_ip_is_space(*p))
        p++;
    if (strncmp(word, "group:", 6) != 0 || *p != '\0') {
        bnc_diag_error(d, file, ce->line, "[ip] %s: unexpected '%s' after "
                       "the user name; " BNC_IP_FORM, ce->key,
                       *p != '\0' && strncmp(word, "group:", 6) == 0 ? p
                                                                    : word);
        goto out;
    }
    ng = bnc_split_list(word + 6, &groups);
    if (ng <= 0) {
        bnc_diag_error(d, file, ce->line, "[ip] %s: expected group:NAME"
                       "[,NAME...], got '%s'", ce->key, word);
        goto out;
    }
    for (i = 0; i < ng; i++) {
        if (!bnc_group_name_valid(groups[i])) {
            bnc_diag_error(d, file, ce->line, "[ip] %s: invalid group name "
                           "'%s' (use 1 to 64 of A-Z a-z 0-9 . _ -)",
                           ce->key, groups[i]);
            goto out;
        }
        if (i > 0)
            bnc_buf_putc(&g, ',');
        bnc_buf_puts(&g, groups[i]);
    }
    e->groups = bnc_strdup(bnc_buf_str(&g));
    rc = 0;
out:
    free(word);
    bnc_strv_free(groups);
    bnc_buf_cleanup(&g);
    return rc;
}

static int
bnc_scheme_ip_configure(const struct bnc_scheme_host *host,
                        struct bnc_conf_section *section, void **statep,
                        struct bnc_diag *d)
{
    const char *file = host->conf->file;
    struct bnc_ip_scheme *s = bnc_calloc(1, sizeof(*s));
    size_t i;
    int failed = 0;

    if (section == NULL || section->nentries == 0) {
        /* Legal, but the scheme then never matches: say so. */
        bnc_diag_warn(d, file, section != NULL ? section->line : 0,
                      "scheme 'ip' has no [ip] entries: it matches no "
                      "client");
        *statep = s;
        return 0;
    }
    s->entries = bnc_calloc(section->nentries, sizeof(*s->entries));
    /* Every entry is a mapping; all are checked so every mistake is
     * reported at once. Marking them used keeps check_unused quiet. */
    for (i = 0; i < section->nentries; i++) {
        struct bnc_conf_entry *ce = &section->entries[i];
        struct bnc_ip_entry *e = &s->entries[s->n];

        ce->used = 1;
        memset(e, 0, sizeof(*e));
        e->line = ce->line;
        if (bnc_cidr_parse_list(ce->key, &e->cidrs, &e->ncidrs, "[ip]", file,
                                ce->line, d) != 0) {
            failed = 1;
            continue;
        }
        if (bnc_ip_parse_identity(file, ce, e, d) != 0) {
            free(e->cidrs);
            free(e->user);
            free(e->groups);
            failed = 1;
            continue;
        }
        s->n++;
    }
    bnc_conf_check_unused(host->conf, section, d);
    if (failed) {
        bnc_scheme_ip_destroy(s);
        return -1;
    }
    *statep = s;
    return 0;
}

static void
bnc_scheme_ip_destroy(void *state)
{
    struct bnc_ip_scheme *s = state;
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->n; i++) {
        free(s->entries[i].cidrs);
        free(s->entries[i].user);
        free(s->entries[i].groups);
    }
    free(s->entries);
    free(s);
}

/* No credential to ask for: a 401 offers the other schemes' challenges. */
static int
bnc_scheme_ip_challenge(void *state, struct bnc_buf *out)
{
    (void)state;
    (void)out;
    return 0;
}

static enum bnc_verdict
bnc_scheme_ip_check(void *state, const struct bnc_request *req,
                    struct bnc_result *res)
{
    struct bnc_ip_scheme *s = state;
    size_t i;

    /* client_addr is REMOTE_ADDR, or the X-Forwarded-For hop the core
     * resolved through [auth] trusted_proxies and nothing else. */
    if (!req->client_ok)
        return BNC_DECLINED;
    /* Apache's authenticator role asks whether REMOTE_USER's password is
     * right; a network says nothing about that. */
    if (bnc_request_is_authenticator(req))
        return BNC_DECLINED;
    for (i = 0; i < s->n; i++) {
        const struct bnc_ip_entry *e = &s->entries[i];

        if (!bnc_cidr_match_any(e->cidrs, e->ncidrs, &req->client_addr))
            continue;
        bnc_identity_set(&res->id.user, e->user);
        bnc_identity_set(&res->id.auth_type, "IP");
        if (e->groups != NULL)
            bnc_identity_set(&res->id.groups, e->groups);
        bnc_result_reason(res, "client %s in [ip] entry at line %u",
                          req->client, e->line);
        return BNC_ALLOW;
    }
    return BNC_DECLINED;
}
