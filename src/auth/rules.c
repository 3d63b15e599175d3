/* SPDX-License-Identifier: MIT */
/* Access rules: parse "[METHODS ]PATTERN = REQ ...", match, evaluate, and
 * normalise request paths before they are matched. */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/rules.h"
#include "auth/scheme.h"
#include "util/mem.h"
#include "util/str.h"

struct bnc_rules_index;
static void bnc_rules_index_free(struct bnc_rules_index *x);

/* Paths up to this length are matched with an on-stack table. */
#define BNC_RULES_GLOB_STACK 1024

static const struct {
    const char *name;
    unsigned bit;
} bnc_rules_methods[] = {
    {"GET", BNC_M_GET},         {"HEAD", BNC_M_HEAD},
    {"POST", BNC_M_POST},       {"PUT", BNC_M_PUT},
    {"PATCH", BNC_M_PATCH},     {"DELETE", BNC_M_DELETE},
    {"OPTIONS", BNC_M_OPTIONS}, {"TRACE", BNC_M_TRACE},
    {"CONNECT", BNC_M_CONNECT},
};
#define BNC_RULES_NMETHODS (sizeof(bnc_rules_methods) / sizeof(bnc_rules_methods[0]))

#define BNC_RULES_METHOD_LIST \
    "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS, TRACE, CONNECT"
#define BNC_RULES_REQ_LIST                                                  \
    "anonymous, authenticated, user:NAME[,NAME], group:NAME[,NAME], "       \
    "scope:NAME[,NAME], scheme:NAME[,NAME], network:CIDR[,CIDR], https"

unsigned
bnc_method_bit(const char *method)
{
    size_t i;

    if (method == NULL)
        return BNC_M_OTHER;
    /* Case-insensitive on purpose: a back end that treats "post" as POST
     * must not see it slip past a "POST /api/" rule. */
    for (i = 0; i < BNC_RULES_NMETHODS; i++)
        if (bnc_str_ieq(method, bnc_rules_methods[i].name))
            return bnc_rules_methods[i].bit;
    return BNC_M_OTHER;
}

struct bnc_rules *
bnc_rules_new(void)
{
    return bnc_calloc(1, sizeof(struct bnc_rules));
}

static void
bnc_rules_rule_cleanup(struct bnc_rule *r)
{
    size_t i;

    for (i = 0; i < r->nreqs; i++) {
        bnc_strv_free(r->reqs[i].names);
        free(r->reqs[i].nets);
    }
    free(r->reqs);
    free(r->text);
    free(r->host);
    free(r->pattern);
    memset(r, 0, sizeof(*r));
}

void
bnc_rules_free(struct bnc_rules *r)
{
    size_t i;

    if (r == NULL)
        return;
    for (i = 0; i < r->n; i++)
        bnc_rules_rule_cleanup(&r->v[i]);
    free(r->v);
    bnc_rules_index_free(r->idx);
    free(r);
}

void
bnc_rule_free(struct bnc_rule *rule)
{
    if (rule == NULL)
        return;
    bnc_rules_rule_cleanup(rule);
    free(rule);
}

/* Copies n bytes of s into buf (cut to fit) as a string. */
static const char *
bnc_strndup_tmp(char *buf, size_t cap, const char *s, size_t n)
{
    if (n >= cap)
        n = cap - 1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

static int
bnc_rules_is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Parses the METHODS part ("GET,HEAD"); 0 or -1 with a diagnostic. */
static int
bnc_rules_parse_methods(const char *s, unsigned *bits, const char *file,
                        unsigned line, struct bnc_diag *d)
{
    char **items = NULL;
    size_t i, k;
    int rc = -1;

    *bits = 0;
    if (bnc_split_list(s, &items) < 0) {
        bnc_diag_error(d, file, line,
                       "rule methods: expected a comma-separated list like "
                       "GET,HEAD, got '%s'", s);
        goto out;
    }
    for (i = 0; items[i] != NULL; i++) {
        unsigned bit = 0;

        for (k = 0; k < BNC_RULES_NMETHODS; k++)
            if (bnc_str_ieq(items[i], bnc_rules_methods[k].name))
                bit = bnc_rules_methods[k].bit;
        if (bit == 0) {
            bnc_diag_error(d, file, line,
                           "unknown method '%s' in rule (valid: "
                           BNC_RULES_METHOD_LIST ")", items[i]);
            goto out;
        }
        if (*bits & bit)
            bnc_diag_warn(d, file, line, "method %s is listed twice",
                          items[i]);
        *bits |= bit;
    }
    rc = 0;
out:
    bnc_strv_free(items);
    return rc;
}

/* A pattern is matched against normalised paths, so one that is not itself
 * normalised could never match: say so rather than silently never apply. */
static int
bnc_rules_check_pattern(const char *p, const char *file, unsigned line,
                        struct bnc_diag *d)
{
    const char *seg;

    if (p[0] != '/') {
        bnc_diag_error(d, file, line,
                       "rule pattern must start with '/', got '%s'", p);
        return -1;
    }
    if (strpbrk(p, " \t?#%") != NULL) {
        bnc_diag_error(d, file, line,
                       "rule pattern '%s' contains a space, '?', '#' or '%%' "
                       "(patterns match the decoded path without the query)",
                       p);
        return -1;
    }
    for (seg = p; seg != NULL; seg = strchr(seg + 1, '/')) {
        const char *next = seg + 1;
        size_t len = strcspn(next, "/");

        if ((len == 0 && next[0] == '/') || (len == 1 && next[0] == '.') ||
            (len == 2 && next[0] == '.' && next[1] == '.')) {
            bnc_diag_error(d, file, line,
                           "rule pattern '%s' is not a normalised path "
                           "('//', '.' or '..' never occur in matched paths)",
                           p);
            return -1;
        }
    }
    return 0;
}

/* The host part of a rule's left side: "api.example.org", "*.example.org",
 * "127.0.0.1" or "[::1]", stored in lower case. A port, a scheme or any
 * other character is an error: the rule could never match. */
static int
bnc_rules_parse_host(const char *h, size_t len, char **out, const char *file,
                     unsigned line, struct bnc_diag *d)
{
    size_t i = 0, k;
    char *v;

    if (len >= 2 && h[0] == '*' && h[1] == '.')
        i = 2;
    if (len - i == 0 || len > 253)
        goto bad;
    if (h[i] == '[') {
        if (i != 0 || h[len - 1] != ']' || len < 4)
            goto bad;
        for (k = 1; k + 1 < len; k++)
            if (!((h[k] >= '0' && h[k] <= '9') || (h[k] >= 'a' && h[k] <= 'f') ||
                  (h[k] >= 'A' && h[k] <= 'F') || h[k] == ':' || h[k] == '.'))
                goto bad;
    } else {
        for (k = i; k < len; k++) {
            char c = h[k];

            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_'))
                goto bad;
        }
        if (h[i] == '.' || h[len - 1] == '.' ||
            memmem(h + i, len - i, "..", 2) != NULL)
            goto bad;
    }
    v = bnc_strndup(h, len);
    for (k = 0; k < len; k++)
        if (v[k] >= 'A' && v[k] <= 'Z')
            v[k] = (char)(v[k] + 32);
    *out = v;
    return 0;
bad:
    bnc_diag_error(d, file, line,
                   "rule host '%.*s': expected a host name such as "
                   "api.example.org, *.example.org or [::1] (no scheme, no "
                   "port)", (int)(len > 300 ? 300 : len), h);
    return -1;
}

/* "NAME[,NAME]" for user/group/scope/scheme. */
static int
bnc_rules_parse_names(struct bnc_requirement *q, const char *kind,
                      const char *word, const char *arg, const char *file,
                      unsigned line, struct bnc_diag *d)
{
    if (bnc_split_list(arg, &q->names) < 0) {
        bnc_diag_error(d, file, line,
                       "%s: expected %s:NAME[,NAME], got '%s'", kind, kind,
                       word);
        return -1;
    }
    return 0;
}

static int
bnc_rules_parse_nets(struct bnc_requirement *q, const char *word,
                     const char *arg, const char *file, unsigned line,
                     struct bnc_diag *d)
{
    /* An empty item ("network:" or "a,,b") gets the rule-shaped hint. */
    if (*arg == '\0' || strstr(arg, ",,") != NULL || arg[strlen(arg) - 1] == ',' ||
        *arg == ',') {
        bnc_diag_error(d, file, line,
                       "network: expected network:CIDR[,CIDR], got '%s'",
                       word);
        return -1;
    }
    return bnc_cidr_parse_list(arg, &q->nets, &q->nnets, "network", file,
                               line, d);
}

static const char *
bnc_rules_kind_name(enum bnc_req_kind k)
{
    switch (k) {
    case BNC_REQ_ANONYMOUS: return "anonymous";
    case BNC_REQ_AUTHENTICATED: return "authenticated";
    case BNC_REQ_USER: return "user";
    case BNC_REQ_GROUP: return "group";
    case BNC_REQ_SCOPE: return "scope";
    case BNC_REQ_SCHEME: return "scheme";
    case BNC_REQ_NETWORK: return "network";
    case BNC_REQ_HTTPS: return "https";
    }
    return "?";
}

/* One requirement word; fills q (which the caller cleans up on failure). */
static int
bnc_rules_parse_req(struct bnc_requirement *q, const char *word,
                    const char *file, unsigned line, struct bnc_diag *d)
{
    static const struct {
        const char *name;
        enum bnc_req_kind kind;
    } kinds[] = {
        {"user", BNC_REQ_USER},     {"group", BNC_REQ_GROUP},
        {"scope", BNC_REQ_SCOPE},   {"scheme", BNC_REQ_SCHEME},
        {"network", BNC_REQ_NETWORK},
    };
    const char *colon = strchr(word, ':');
    size_t i, nlen;

    memset(q, 0, sizeof(*q));
    if (colon == NULL) {
        if (strcmp(word, "anonymous") == 0) {
            q->kind = BNC_REQ_ANONYMOUS;
            return 0;
        }
        if (strcmp(word, "authenticated") == 0) {
            q->kind = BNC_REQ_AUTHENTICATED;
            return 0;
        }
        if (strcmp(word, "https") == 0) {
            q->kind = BNC_REQ_HTTPS;
            return 0;
        }
        goto unknown;
    }
    nlen = (size_t)(colon - word);
    for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
        if (strlen(kinds[i].name) != nlen ||
            strncmp(word, kinds[i].name, nlen) != 0)
            continue;
        q->kind = kinds[i].kind;
        if (q->kind == BNC_REQ_NETWORK)
            return bnc_rules_parse_nets(q, word, colon + 1, file, line, d);
        return bnc_rules_parse_names(q, kinds[i].name, word, colon + 1, file,
                                     line, d);
    }
unknown:
    bnc_diag_error(d, file, line,
                   "unknown requirement '%s' in rule (valid: "
                   BNC_RULES_REQ_LIST ")", word);
    return -1;
}

int
bnc_rules_add(struct bnc_rules *r, const char *lhs, const char *rhs,
              const char *file, unsigned line, struct bnc_diag *d)
{
    struct bnc_rule rule;
    char *left = NULL, *right = NULL, *p, *word, *pat, *hst;
    char tmp[16];
    size_t i, len;
    int rc = -1, anonymous = 0, mrc;

    memset(&rule, 0, sizeof(rule));
    if (r == NULL || lhs == NULL || rhs == NULL)
        return -1;
    rule.line = line;
    left = bnc_strdup(lhs);
    bnc_str_trim(left);
    right = bnc_strdup(rhs);
    bnc_str_trim(right);

    /* Methods never contain '/', a path always starts with it, so what
     * stands right before the first '/' (back to a space) is a host. */
    pat = strchr(left, '/');
    if (pat == NULL) {
        bnc_diag_error(d, file, line,
                       "rule pattern must start with '/', got '%s'", left);
        goto out;
    }
    hst = pat;
    while (hst > left && !bnc_rules_is_space(hst[-1]))
        hst--;
    if (hst != pat) {
        /* "GET/x" is a forgotten space, not a host named GET. */
        if (hst == left &&
            bnc_method_bit(bnc_strndup_tmp(tmp, sizeof(tmp), hst,
                                           (size_t)(pat - hst))) !=
                BNC_M_OTHER) {
            bnc_diag_error(d, file, line,
                           "rule pattern must start with '/', got '%s'",
                           left);
            goto out;
        }
        if (bnc_rules_parse_host(hst, (size_t)(pat - hst), &rule.host, file,
                                 line, d) != 0)
            goto out;
    }
    if (hst != left) {
        char *methods = bnc_strndup(left, (size_t)(hst - left));

        bnc_str_trim(methods);
        mrc = bnc_rules_parse_methods(methods, &rule.methods, file, line, d);
        free(methods);
        if (mrc != 0)
            goto out;
    }
    if (bnc_rules_check_pattern(pat, file, line, d) != 0)
        goto out;
    rule.pattern = bnc_strdup(pat);
    rule.glob = strchr(pat, '*') != NULL;

    /* Requirements: space-separated words, all of which must hold. */
    for (p = right; *p != '\0';) {
        struct bnc_requirement q;

        while (bnc_rules_is_space(*p))
            p++;
        if (*p == '\0')
            break;
        word = p;
        len = strcspn(p, " \t");
        p += len;
        if (*p != '\0')
            *p++ = '\0';
        if (bnc_rules_parse_req(&q, word, file, line, d) != 0) {
            bnc_strv_free(q.names);
            free(q.nets);
            goto out;
        }
        rule.reqs = bnc_realloc(rule.reqs,
                                (rule.nreqs + 1) * sizeof(*rule.reqs));
        rule.reqs[rule.nreqs++] = q;
    }
    if (rule.nreqs == 0) {
        bnc_diag_error(d, file, line,
                       "rule '%s' has no requirement (valid: "
                       BNC_RULES_REQ_LIST ")", left);
        goto out;
    }
    for (i = 0; i < rule.nreqs; i++)
        if (rule.reqs[i].kind == BNC_REQ_ANONYMOUS)
            anonymous = 1;
    if (anonymous) {
        for (i = 0; i < rule.nreqs; i++) {
            enum bnc_req_kind k = rule.reqs[i].kind;

            if (k == BNC_REQ_ANONYMOUS || k == BNC_REQ_NETWORK ||
                k == BNC_REQ_HTTPS)
                continue;
            bnc_diag_error(d, file, line,
                           "'anonymous' cannot be combined with '%s' (only "
                           "with network and https)", bnc_rules_kind_name(k));
            goto out;
        }
    }

    /* The trimmed text, for logs and explanations. right was cut into
     * words above, so take the requirements from rhs again. */
    free(right);
    right = bnc_strdup(rhs);
    bnc_str_trim(right);
    len = strlen(left) + strlen(right) + 4;
    rule.text = bnc_malloc(len);
    snprintf(rule.text, len, "%s = %s", left, right);
    r->v = bnc_realloc(r->v, (r->n + 1) * sizeof(*r->v));
    r->v[r->n++] = rule;
    /* The index holds pointers into v, which may have moved. */
    bnc_rules_index_free(r->idx);
    r->idx = NULL;
    memset(&rule, 0, sizeof(rule));
    rc = 0;
out:
    bnc_rules_rule_cleanup(&rule);
    free(left);
    free(right);
    return rc;
}

/* Glob match of the path, or of a leading part of it that ends just before
 * a '/': like a prefix rule, "/api/ * /admin" (without spaces) also covers
 * "/api/v1/admin/" and everything below, and "/ *.php" covers
 * "/index.php/extra" (PATH_INFO), which the server still runs as index.php.
 * '*' = any run of bytes without '/', '**' =
 * any run including '/', and a '**' segment between two slashes may also
 * be empty (so the pattern /a/ ** /b, without the spaces, matches "/a/b",
 * as in .gitignore). Dynamic programming over the path keeps
 * the cost at O(pattern * path) whatever the path holds: a backtracking
 * matcher can be made exponential by a hostile URI. */
static int
bnc_rules_glob(const char *pat, const char *s)
{
    unsigned char stack_buf[2 * (BNC_RULES_GLOB_STACK + 1)];
    unsigned char *cur, *nxt, *tmp, *heap = NULL;
    size_t n = strlen(s), j;
    const char *p = pat;
    int res;

    if (n <= BNC_RULES_GLOB_STACK) {
        cur = stack_buf;
    } else {
        heap = bnc_malloc(2 * (n + 1));
        cur = heap;
    }
    nxt = cur + n + 1;
    memset(cur, 0, n + 1);
    cur[0] = 1;
    while (*p != '\0') {
        if (p[0] == '/' && p[1] == '*' && p[2] == '*' && p[3] == '/') {
            /* slash, '**', slash: a '/' at i and at j-1, i <= j-1. */
            int seen = 0;

            nxt[0] = 0;
            for (j = 1; j <= n; j++) {
                if (cur[j - 1] && s[j - 1] == '/')
                    seen = 1;
                nxt[j] = (unsigned char)(seen && s[j - 1] == '/');
            }
            p += 3; /* the closing '/' is part of the match */
            while (*p == '*')
                p++;
            if (*p == '/')
                p++;
        } else if (p[0] == '*' && p[1] == '*') {
            nxt[0] = cur[0];
            for (j = 1; j <= n; j++)
                nxt[j] = (unsigned char)(cur[j] || nxt[j - 1]);
            while (*p == '*')
                p++;
        } else if (p[0] == '*') {
            nxt[0] = cur[0];
            for (j = 1; j <= n; j++)
                nxt[j] = (unsigned char)(cur[j] ||
                                         (nxt[j - 1] && s[j - 1] != '/'));
            p++;
        } else {
            nxt[0] = 0;
            for (j = 1; j <= n; j++)
                nxt[j] = (unsigned char)(cur[j - 1] && s[j - 1] == *p);
            p++;
        }
        tmp = cur;
        cur = nxt;
        nxt = tmp;
    }
    res = cur[n];
    for (j = 1; j < n && !res; j++)
        if (s[j] == '/' && cur[j])
            res = 1;
    /* A pattern ending in '/' names a directory: like a prefix rule it
     * covers everything below it ("/files/ * /private/" without the
     * spaces covers "/files/x/private/a/b"). */
    for (j = 1; j < n && !res && p > pat && p[-1] == '/'; j++)
        if (cur[j])
            res = 1;
    free(heap);
    return res;
}

static int
bnc_rules_pattern_match(const struct bnc_rule *rule, const char *path)
{
    size_t plen;

    plen = strlen(rule->pattern);
    if (rule->glob) {
        size_t n = strlen(path);
        char stack[512], *buf;
        int m;

        if (bnc_rules_glob(rule->pattern, path))
            return 1;
        /* As for prefixes below: "/files/ * /private/" (no spaces) also
         * covers the directory "/files/x/private" itself. */
        if (plen < 2 || rule->pattern[plen - 1] != '/' || n == 0 ||
            path[n - 1] == '/')
            return 0;
        buf = n + 2 <= sizeof(stack) ? stack : bnc_malloc(n + 2);
        memcpy(buf, path, n);
        buf[n] = '/';
        buf[n + 1] = '\0';
        m = bnc_rules_glob(rule->pattern, buf);
        if (buf != stack)
            free(buf);
        return m;
    }
    if (strncmp(path, rule->pattern, plen) == 0)
        return 1;
    /* "/admin/" also covers "/admin": servers may serve the directory
     * itself, and a rule should not be bypassed by dropping the slash. */
    return plen > 1 && rule->pattern[plen - 1] == '/' &&
           strlen(path) == plen - 1 &&
           strncmp(path, rule->pattern, plen - 1) == 0;
}

int
bnc_rules_host_canon(const char *host, char *out, size_t cap)
{
    size_t n, k;

    if (host == NULL || out == NULL || cap == 0)
        return -1;
    if (host[0] == '[') {
        const char *close = strchr(host, ']');

        if (close == NULL)
            return -1;
        n = (size_t)(close - host) + 1;
        if (close[1] != '\0' && close[1] != ':')
            return -1;
    } else {
        n = strcspn(host, ":");
        if (host[n] == ':' && strchr(host + n + 1, ':') != NULL)
            return -1; /* bare IPv6 is not a valid Host header */
        while (n > 0 && host[n - 1] == '.')
            n--; /* "example.org." is the same name */
    }
    if (n == 0 || n >= cap)
        return -1;
    for (k = 0; k < n; k++) {
        char c = host[k];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c + 32);
        /* Only what a host name or an IP literal holds: anything else
         * (space, '/', '@', control bytes) makes the host unknown. */
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
              c == '.' || c == '_' || c == '[' || c == ']' || c == ':'))
            return -1;
        out[k] = c;
    }
    out[n] = '\0';
    return 0;
}

int
bnc_rules_host_match(const char *rule_host, const char *host)
{
    size_t hl, sl;

    if (rule_host == NULL)
        return 1;
    if (host == NULL || host[0] == '\0')
        return 0;
    if (rule_host[0] == '*') {
        /* "*.example.org": one or more labels before ".example.org". */
        sl = strlen(rule_host + 1);
        hl = strlen(host);
        return hl > sl && strcmp(host + hl - sl, rule_host + 1) == 0;
    }
    return strcmp(rule_host, host) == 0;
}

/* ---- first-segment index -------------------------------------------------
 * A rule whose pattern starts "/SEG/" with a literal SEG can only match
 * paths whose first segment is SEG; the others ("/", "/adm", "/ *.php"
 * without the space) may match any path. Matching walks, in rule order, the
 * merge of the other rules and the rules of the path's own SEG, so with
 * many rules a request looks at a few instead of all. */
struct bnc_rules_bucket {
    const char *seg;     /* points into a rule's pattern (after '/') */
    size_t seglen;
    size_t *ix;          /* rule indexes, ascending */
    size_t n;
};

struct bnc_rules_index {
    struct bnc_rules_bucket *b; /* sorted by segment */
    size_t nb;
    struct bnc_rules_bucket *hb; /* rules for one exact host and no
                                    segment ("api.example.org/"), by host */
    size_t nhb;
    size_t *any;         /* all other rules, ascending */
    size_t nany;
};

static void
bnc_rules_index_free(struct bnc_rules_index *x)
{
    size_t i;

    if (x == NULL)
        return;
    for (i = 0; i < x->nb; i++)
        free(x->b[i].ix);
    free(x->b);
    for (i = 0; i < x->nhb; i++)
        free(x->hb[i].ix);
    free(x->hb);
    free(x->any);
    free(x);
}

/* Length of the literal first segment of a pattern, 0 if not keyed. */
static size_t
bnc_rules_key_len(const char *pattern)
{
    size_t n = strcspn(pattern + 1, "/*");

    return n > 0 && pattern[1 + n] == '/' ? n : 0;
}

static int
bnc_rules_seg_cmp(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);

    if (c != 0)
        return c;
    return al < bl ? -1 : al > bl ? 1 : 0;
}

static struct bnc_rules_bucket *
bnc_rules_find_bucket(struct bnc_rules_bucket *bv, size_t nb, const char *seg,
                      size_t len)
{
    size_t lo = 0, hi = nb;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = bnc_rules_seg_cmp(seg, len, bv[mid].seg, bv[mid].seglen);

        if (c == 0)
            return &bv[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

/* Adds rule i to the bucket for key in bv (sorted; load time only). */
static void
bnc_rules_bucket_add(struct bnc_rules_bucket *bv, size_t *nb, const char *key,
                     size_t len, size_t i)
{
    struct bnc_rules_bucket *b = bnc_rules_find_bucket(bv, *nb, key, len);
    size_t k;

    if (b == NULL) {
        for (k = *nb; k > 0; k--) {
            if (bnc_rules_seg_cmp(key, len, bv[k - 1].seg, bv[k - 1].seglen) > 0)
                break;
            bv[k] = bv[k - 1];
        }
        b = &bv[k];
        memset(b, 0, sizeof(*b));
        b->seg = key;
        b->seglen = len;
        (*nb)++;
    }
    b->ix = bnc_realloc(b->ix, (b->n + 1) * sizeof(*b->ix));
    b->ix[b->n++] = i;
}

void
bnc_rules_index(struct bnc_rules *r)
{
    struct bnc_rules_index *x;
    size_t i, cap;

    if (r == NULL)
        return;
    bnc_rules_index_free(r->idx);
    cap = r->n ? r->n : 1;
    x = bnc_calloc(1, sizeof(*x));
    x->any = bnc_calloc(cap, sizeof(*x->any));
    x->b = bnc_calloc(cap, sizeof(*x->b));
    x->hb = bnc_calloc(cap, sizeof(*x->hb));
    for (i = 0; i < r->n; i++) {
        const struct bnc_rule *rule = &r->v[i];
        size_t len = bnc_rules_key_len(rule->pattern);

        if (len > 0)
            bnc_rules_bucket_add(x->b, &x->nb, rule->pattern + 1, len, i);
        else if (rule->host != NULL && rule->host[0] != '*')
            bnc_rules_bucket_add(x->hb, &x->nhb, rule->host,
                                 strlen(rule->host), i);
        else
            x->any[x->nany++] = i;
    }
    r->idx = x;
}

void
bnc_rules_index_drop(struct bnc_rules *r)
{
    if (r == NULL)
        return;
    bnc_rules_index_free(r->idx);
    r->idx = NULL;
}

static int
bnc_rules_rule_matches(const struct bnc_rule *rule, unsigned bit,
                       const char *host, const char *path)
{
    if (rule->methods != 0 && (rule->methods & bit) == 0)
        return 0;
    if (rule->host != NULL && !bnc_rules_host_match(rule->host, host))
        return 0;
    return bnc_rules_pattern_match(rule, path);
}

const struct bnc_rule *
bnc_rules_match_host(const struct bnc_rules *r, const char *method,
                     const char *host, const char *path)
{
    unsigned bit = bnc_method_bit(method);
    char hbuf[256];
    const char *h = NULL;
    size_t i;

    if (r == NULL || path == NULL)
        return NULL;
    if (host != NULL && host[0] != '\0' &&
        bnc_rules_host_canon(host, hbuf, sizeof(hbuf)) == 0)
        h = hbuf;
    if (r->idx != NULL && path[0] == '/') {
        struct bnc_rules_index *x = r->idx;
        const struct bnc_rules_bucket *b, *hb = NULL;
        size_t a = 0, k = 0, m = 0, seglen = strcspn(path + 1, "/");

        b = bnc_rules_find_bucket(x->b, x->nb, path + 1, seglen);
        if (h != NULL)
            hb = bnc_rules_find_bucket(x->hb, x->nhb, h, strlen(h));
        /* Merge three ascending lists: the first match in rule order wins. */
        for (;;) {
            size_t next = SIZE_MAX;
            int from = 0;

            if (a < x->nany)
                next = x->any[a], from = 1;
            if (b != NULL && k < b->n && b->ix[k] < next)
                next = b->ix[k], from = 2;
            if (hb != NULL && m < hb->n && hb->ix[m] < next)
                next = hb->ix[m], from = 3;
            if (from == 0)
                return NULL;
            if (from == 1)
                a++;
            else if (from == 2)
                k++;
            else
                m++;
            if (bnc_rules_rule_matches(&r->v[next], bit, h, path))
                return &r->v[next];
        }
    }
    for (i = 0; i < r->n; i++)
        if (bnc_rules_rule_matches(&r->v[i], bit, h, path))
            return &r->v[i];
    return NULL;
}

const struct bnc_rule *
bnc_rules_match(const struct bnc_rules *r, const char *method,
                const char *path)
{
    return bnc_rules_match_host(r, method, NULL, path);
}

/* 1 if word is one of the space-separated items of list. */
static int
bnc_rules_in_words(const char *list, const char *word)
{
    size_t wlen = strlen(word);
    const char *p = list;

    if (list == NULL || wlen == 0)
        return 0;
    while (*p != '\0') {
        size_t len;

        while (*p == ' ')
            p++;
        len = strcspn(p, " ");
        if (len == wlen && strncmp(p, word, len) == 0)
            return 1;
        p += len;
    }
    return 0;
}

/* The identity-dependent requirements (user, group, scope, scheme). */
static int
bnc_rules_req_holds_id(const struct bnc_requirement *q,
                       const struct bnc_rule_facts *f)
{
    const struct bnc_identity *id = f->id;
    size_t i;

    if (id == NULL)
        return 0;
    switch (q->kind) {
    case BNC_REQ_AUTHENTICATED:
        return 1;
    case BNC_REQ_USER:
        for (i = 0; q->names[i] != NULL; i++)
            if (id->user != NULL && strcmp(id->user, q->names[i]) == 0)
                return 1;
        return 0;
    case BNC_REQ_GROUP:
        for (i = 0; q->names[i] != NULL; i++)
            if (bnc_identity_in_group(id, q->names[i]))
                return 1;
        return 0;
    case BNC_REQ_SCOPE:
        for (i = 0; q->names[i] != NULL; i++)
            if (bnc_rules_in_words(id->scopes, q->names[i]))
                return 1;
        return 0;
    case BNC_REQ_SCHEME:
        for (i = 0; q->names[i] != NULL; i++)
            if (f->scheme != NULL && bnc_str_ieq(f->scheme, q->names[i]))
                return 1;
        return 0;
    default:
        return 0;
    }
}

static int
bnc_rules_in_nets(const struct bnc_requirement *q,
                  const struct bnc_rule_facts *f)
{
    size_t k;

    for (k = 0; k < q->nnets && f->client != NULL; k++)
        if (bnc_cidr_match(&q->nets[k], f->client))
            return 1;
    return 0;
}

int
bnc_rule_req_holds(const struct bnc_requirement *q,
                   const struct bnc_rule_facts *f)
{
    if (q == NULL || f == NULL)
        return 0;
    switch (q->kind) {
    case BNC_REQ_ANONYMOUS:
        return 1;
    case BNC_REQ_HTTPS:
        return f->https != 0;
    case BNC_REQ_NETWORK:
        return bnc_rules_in_nets(q, f);
    default:
        return bnc_rules_req_holds_id(q, f);
    }
}

const char *
bnc_rule_req_text(const struct bnc_requirement *q, char *buf, size_t n)
{
    size_t pos, i;

    if (buf == NULL || n == 0)
        return "";
    pos = (size_t)snprintf(buf, n, "%s", bnc_rules_kind_name(q->kind));
    for (i = 0; q->names != NULL && q->names[i] != NULL && pos < n; i++)
        pos += (size_t)snprintf(buf + pos, n - pos, "%c%s", i ? ',' : ':',
                                q->names[i]);
    for (i = 0; i < q->nnets && pos < n; i++) {
        char net[INET6_ADDRSTRLEN];
        const struct bnc_addr *na = &q->nets[i].net;

        if (inet_ntop(na->family == 4 ? AF_INET : AF_INET6, na->a, net,
                      sizeof(net)) == NULL)
            snprintf(net, sizeof(net), "?");
        pos += (size_t)snprintf(buf + pos, n - pos, "%c%s/%u", i ? ',' : ':',
                                net, q->nets[i].prefix);
    }
    return buf;
}

int
bnc_rules_is_loopback(const struct bnc_addr *a)
{
    static const unsigned char v6lo[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                           0, 0, 0, 0, 0, 0, 0, 1};

    if (a == NULL)
        return 0;
    /* ::ffff:127.x.y.z parses as family 4 already. */
    if (a->family == 4)
        return a->a[0] == 127;
    return a->family == 6 && memcmp(a->a, v6lo, 16) == 0;
}

int
bnc_rules_https(const struct bnc_rules *r, int https,
                const struct bnc_addr *client)
{
    if (https)
        return 1;
    return r != NULL && r->https_exempt_loopback &&
           bnc_rules_is_loopback(client);
}

enum bnc_rule_outcome
bnc_rule_eval(const struct bnc_rule *rule, const struct bnc_rule_facts *f)
{
    size_t i;
    int anonymous = 0;

    if (rule == NULL || f == NULL)
        return BNC_RULE_FORBIDDEN;
    /* Transport first: no credential should be asked for over plain http. */
    for (i = 0; i < rule->nreqs; i++)
        if (rule->reqs[i].kind == BNC_REQ_HTTPS && !f->https)
            return BNC_RULE_NEED_HTTPS;
    /* Network next: it does not depend on who the caller is, so logging in
     * would not help and the answer is 403, not 401. */
    for (i = 0; i < rule->nreqs; i++)
        if (rule->reqs[i].kind == BNC_REQ_NETWORK &&
            !bnc_rules_in_nets(&rule->reqs[i], f))
            return BNC_RULE_FORBIDDEN;
    for (i = 0; i < rule->nreqs; i++)
        if (rule->reqs[i].kind == BNC_REQ_ANONYMOUS)
            anonymous = 1;
    if (anonymous)
        return BNC_RULE_ALLOW;
    for (i = 0; i < rule->nreqs; i++) {
        enum bnc_req_kind kd = rule->reqs[i].kind;

        if (kd == BNC_REQ_NETWORK || kd == BNC_REQ_HTTPS)
            continue;
        if (f->id == NULL)
            return BNC_RULE_UNAUTHENTICATED;
    }
    for (i = 0; i < rule->nreqs; i++) {
        enum bnc_req_kind kd = rule->reqs[i].kind;

        if (kd == BNC_REQ_NETWORK || kd == BNC_REQ_HTTPS)
            continue;
        if (!bnc_rules_req_holds_id(&rule->reqs[i], f))
            return BNC_RULE_FORBIDDEN;
    }
    return BNC_RULE_ALLOW;
}

struct bnc_rule *
bnc_rule_from_server(const char *reqs, struct bnc_diag *d)
{
    struct bnc_rules *tmp = bnc_rules_new();
    struct bnc_rule *rule = NULL;
    size_t len;

    if (reqs != NULL &&
        bnc_rules_add(tmp, "/", reqs, BNC_RULES_SERVER_PARAM, 0, d) == 0) {
        rule = bnc_malloc(sizeof(*rule));
        *rule = tmp->v[0];
        tmp->n = 0;
        /* "BOUNCER_REQUIRE = group:admin" names where it came from. */
        char *trimmed = bnc_strdup(reqs);

        bnc_str_trim(trimmed);
        free(rule->text);
        len = strlen(trimmed) + sizeof(BNC_RULES_SERVER_PARAM) + 4;
        rule->text = bnc_malloc(len);
        snprintf(rule->text, len, "%s = %s", BNC_RULES_SERVER_PARAM, trimmed);
        free(trimmed);
    }
    bnc_rules_free(tmp);
    return rule;
}

void
bnc_rules_answer(const struct bnc_rules *r, const struct bnc_rule *server_rule,
                 const char *method, const char *host, const char *path,
                 const struct bnc_rule_facts *f, struct bnc_rule_answer *a)
{
    a->rule = server_rule != NULL
                  ? server_rule
                  : bnc_rules_match_host(r, method, host, path);
    if (a->rule != NULL) {
        a->outcome = bnc_rule_eval(a->rule, f);
        return;
    }
    /* No rule: default_policy. Without credentials the answer is 401 either
     * way (DRF's NotAuthenticated); with them, "deny" is 403. */
    if (f->id == NULL)
        a->outcome = BNC_RULE_UNAUTHENTICATED;
    else if (r != NULL && r->default_authenticated)
        a->outcome = BNC_RULE_ALLOW;
    else
        a->outcome = BNC_RULE_FORBIDDEN;
}

static int
bnc_rules_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
bnc_path_normalize(const char *uri, char *out, size_t cap, const char **why)
{
    const char *p;
    const char *reason = "path too long";
    size_t pos;

    if (why != NULL)
        *why = NULL;
    if (out == NULL || cap < 2)
        goto fail;
    out[0] = '\0';
    if (uri == NULL || uri[0] != '/') {
        /* Also "*" (OPTIONS) and absolute-form "http://host/...": neither
         * names a path the rules could be about. */
        reason = "path does not start with '/'";
        goto fail;
    }
    out[0] = '/';
    pos = 1;
    p = uri + 1;
    /* One segment at a time: decode it in place after pos, then keep it,
     * drop it (".") or pop the previous one (".."). Decoding first means
     * "%2e%2e" is a ".." too, which is what the file system will see. */
    for (;;) {
        size_t start = pos, seglen, params = (size_t)-1;

        while (*p != '\0' && *p != '/' && *p != '?') {
            char c = *p;

            /* A raw ';' starts path parameters ("/admin;x/" is /admin/ to
             * Tomcat, Jetty and Spring, which cut them before decoding):
             * remember where, to match rules without them. */
            if (c == ';' && params == (size_t)-1)
                params = pos;

            if (c == '#') {
                reason = "fragment in request target";
                goto fail;
            }
            if (c == '%') {
                int hi = bnc_rules_hexval(p[1]), lo;

                lo = hi < 0 ? -1 : bnc_rules_hexval(p[2]);
                if (hi < 0 || lo < 0) {
                    reason = "invalid percent-encoding";
                    goto fail;
                }
                c = (char)(hi * 16 + lo);
                if (c == '\0') {
                    reason = "encoded NUL in path";
                    goto fail;
                }
                if (c == '/') {
                    reason = "encoded slash in path";
                    goto fail;
                }
                p += 3;
            } else {
                p++;
            }
            /* Back ends that map '\\' to '/' (lighttpd's
             * url-path-backslash-trans, Windows file systems) would see
             * other segments than the rules do. */
            if (c == '\\') {
                reason = "backslash in path";
                goto fail;
            }
            /* Room for this byte and the NUL. */
            if (pos + 1 >= cap) {
                reason = "path too long";
                goto fail;
            }
            out[pos++] = c;
        }
        seglen = pos - start;
        /* "..;x" and ".;x" are ".." and "." to Tomcat and Jetty (path
         * parameters): refuse them rather than guess. */
        if (seglen >= 2 && out[start] == '.' &&
            (out[start + 1] == ';' ||
             (seglen >= 3 && out[start + 1] == '.' && out[start + 2] == ';'))) {
            reason = "dot segment with path parameters";
            goto fail;
        }
        if (params != (size_t)-1) {
            pos = params;
            seglen = pos - start;
        }
        if (seglen == 1 && out[start] == '.') {
            pos = start;
        } else if (seglen == 2 && out[start] == '.' && out[start + 1] == '.') {
            pos = start;
            if (pos == 1) {
                reason = "path escapes the root";
                goto fail;
            }
            /* out[pos - 1] is the '/' after the previous segment. */
            pos--;
            while (pos > 0 && out[pos - 1] != '/')
                pos--;
        } else if (seglen > 0 && *p == '/') {
            if (pos + 1 >= cap) {
                reason = "path too long";
                goto fail;
            }
            out[pos++] = '/';
        }
        if (*p != '/')
            break;
        p++;
    }
    out[pos] = '\0';
    return 0;
fail:
    if (out != NULL && cap > 0)
        out[0] = '\0';
    if (why != NULL)
        *why = reason;
    return -1;
}
