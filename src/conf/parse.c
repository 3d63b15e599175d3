/* SPDX-License-Identifier: MIT */
/* bouncer.conf: INI lexer, core directive tables, typed getters (DESIGN 8). */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "auth/rules.h"
#include "conf/conf.h"
#include "util/cidr.h"
#include "util/mem.h"
#include "util/str.h"

#ifndef BNC_SYSCONFDIR
#define BNC_SYSCONFDIR "/etc/bouncer"
#endif
#ifndef BNC_STATEDIR
#define BNC_STATEDIR "/var/lib/bouncer"
#endif

/* Bounds: far above any real config, low enough that a hostile or broken
 * file cannot make a reload slow or large. */
#define BNC_CONF_MAX_FILE (1024 * 1024)
#define BNC_CONF_MAX_LINE 8192
#define BNC_CONF_MAX_ENTRIES 10000
#define BNC_CONF_MAX_SECTIONS 1000
#define BNC_CONF_MAX_ERRORS 100
#define BNC_CONF_MAX_SHADOW_CHECK 2000
/* Duplicate-key index: a power of two above 3 * BNC_CONF_MAX_ENTRIES. */
#define BNC_CONF_HASH_SLOTS 32768

#define BNC_CONF_SCHEME_LIST "basic, token, session, jwt, ip, oauth2, plugin"
#define BNC_CONF_SECTION_LIST \
    "store, auth, passwords, throttle, log, metrics, rules, " BNC_CONF_SCHEME_LIST

static const char *const bnc_conf_schemes[] = {
    "basic", "token", "session", "jwt", "ip", "oauth2", "plugin", NULL
};

/* ---- lexer -------------------------------------------------------------- */

struct bnc_conf_slot {
    size_t sec;   /* section index + 1; 0 = empty slot */
    size_t ent;
};

struct bnc_conf_lex {
    struct bnc_conf *c;
    const char *file;
    struct bnc_diag *d;
    size_t errors;              /* errors this lexer reported */
    long cur;                   /* current section index, -1 = none */
    size_t nentries;            /* over all sections */
    struct bnc_conf_slot *slots;
    int stop;                   /* a bound was hit: ignore the rest */
};

static void bnc_conf_lex_error(struct bnc_conf_lex *lx, unsigned line,
                               const char *fmt, ...) BNC_PRINTF(3, 4);

static void
bnc_conf_lex_error(struct bnc_conf_lex *lx, unsigned line, const char *fmt,
                   ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    bnc_diag_error(lx->d, lx->file, line, "%s", msg);
    /* Like a compiler: past this many, the rest is noise (and a garbage
     * file of a million lines must not make a million messages). */
    if (++lx->errors >= BNC_CONF_MAX_ERRORS && !lx->stop) {
        bnc_diag_error(lx->d, lx->file, line, "too many errors, giving up");
        lx->stop = 1;
    }
}

static int
bnc_conf_is_ws(char c)
{
    return c == ' ' || c == '\t';
}

/* Quotes at most 60 bytes of s for a message, cut at a UTF-8 boundary. */
static const char *
bnc_conf_excerpt(const char *s, char *buf, size_t cap)
{
    size_t len = strlen(s), n = len;

    if (n + 1 > cap || n > 60) {
        n = cap - 4 < 60 ? cap - 4 : 60;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(buf, s, n);
    if (n < len)
        memcpy(buf + n, "...", 4);
    else
        buf[n] = '\0';
    return buf;
}

static uint32_t
bnc_conf_hash(size_t sec, const char *key)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < sizeof(sec); i++) {
        h ^= (unsigned char)(sec >> (8 * i));
        h *= 16777619u;
    }
    for (; *key != '\0'; key++) {
        h ^= (unsigned char)*key;
        h *= 16777619u;
    }
    return h;
}

/* Finds key in section sec; if absent, records (sec, ent) and returns NULL. */
static struct bnc_conf_entry *
bnc_conf_lex_dup(struct bnc_conf_lex *lx, size_t sec, size_t ent,
                 const char *key)
{
    uint32_t i = bnc_conf_hash(sec, key) & (BNC_CONF_HASH_SLOTS - 1);

    for (;;) {
        struct bnc_conf_slot *sl = &lx->slots[i];
        struct bnc_conf_entry *e;

        if (sl->sec == 0) {
            sl->sec = sec + 1;
            sl->ent = ent;
            return NULL;
        }
        e = &lx->c->sections[sl->sec - 1].entries[sl->ent];
        if (sl->sec == sec + 1 && strcmp(e->key, key) == 0)
            return e;
        i = (i + 1) & (BNC_CONF_HASH_SLOTS - 1);
    }
}

static void
bnc_conf_lex_section(struct bnc_conf_lex *lx, char *s, unsigned line)
{
    struct bnc_conf *c = lx->c;
    char *end = strchr(s, ']'), *rest, *p, ex[80];
    struct bnc_conf_section *sec;
    size_t i;

    if (end == NULL) {
        bnc_conf_lex_error(lx, line,
                           "invalid section header '%s': missing ']'",
                           bnc_conf_excerpt(s, ex, sizeof(ex)));
        return;
    }
    for (rest = end + 1; bnc_conf_is_ws(*rest); rest++)
        ;
    if (*rest != '\0' && *rest != ';' && *rest != '#') {
        bnc_conf_lex_error(lx, line,
                           "unexpected text after section header: '%s'",
                           bnc_conf_excerpt(rest, ex, sizeof(ex)));
        return;
    }
    *end = '\0';
    p = s + 1;
    if (*p == '\0') {
        bnc_conf_lex_error(lx, line, "empty section name '[]'");
        return;
    }
    for (i = 0; p[i] != '\0'; i++) {
        char ch = p[i];

        if (ch >= 'A' && ch <= 'Z')
            continue;
        if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '_' || ch == '-')
            continue;
        bnc_conf_lex_error(lx, line,
                           "invalid section name '[%s]' (allowed: letters, "
                           "digits, '_' and '-')",
                           bnc_conf_excerpt(p, ex, sizeof(ex)));
        return;
    }
    for (i = 0; p[i] != '\0'; i++)
        if (p[i] >= 'A' && p[i] <= 'Z')
            p[i] = (char)(p[i] - 'A' + 'a');
    for (i = 0; i < c->nsections; i++) {
        if (strcmp(c->sections[i].name, p) == 0) {
            bnc_conf_lex_error(lx, line,
                               "section [%s] is duplicate, first at line %u",
                               p, c->sections[i].line);
            /* Keep reading into the first one, so its keys still get
             * checked (and duplicates across the two are reported). */
            lx->cur = (long)i;
            return;
        }
    }
    if (c->nsections >= BNC_CONF_MAX_SECTIONS) {
        bnc_conf_lex_error(lx, line, "too many sections (the limit is %d)",
                           BNC_CONF_MAX_SECTIONS);
        lx->stop = 1;
        return;
    }
    c->sections = bnc_realloc(c->sections,
                              (c->nsections + 1) * sizeof(*c->sections));
    sec = &c->sections[c->nsections];
    memset(sec, 0, sizeof(*sec));
    sec->name = bnc_strdup(p);
    sec->line = line;
    lx->cur = (long)c->nsections++;
}

/* Parses the value starting at v (just after '='). Returns a malloc'ed
 * string or NULL after reporting an error. */
static char *
bnc_conf_lex_value(struct bnc_conf_lex *lx, const char *v, unsigned line)
{
    char *out, ex[80];
    size_t n = 0, len;
    int prev_ws = 1; /* " ;" at the very start is a comment: "k = ; x" */

    while (bnc_conf_is_ws(*v))
        v++;
    if (*v == '"') {
        out = bnc_malloc(strlen(v) + 1);
        for (v++;; v++) {
            if (*v == '\0') {
                bnc_conf_lex_error(lx, line, "unterminated quoted value");
                goto fail;
            }
            if (*v == '"')
                break;
            if (*v == '\\') {
                if (v[1] != '"' && v[1] != '\\') {
                    bnc_conf_lex_error(lx, line,
                                       "invalid escape in quoted value "
                                       "(only \\\" and \\\\ are allowed)");
                    goto fail;
                }
                v++;
            }
            out[n++] = *v;
        }
        out[n] = '\0';
        for (v++; bnc_conf_is_ws(*v); v++)
            ;
        if (*v != '\0' && *v != ';' && *v != '#') {
            bnc_conf_lex_error(lx, line,
                               "unexpected text after quoted value: '%s'",
                               bnc_conf_excerpt(v, ex, sizeof(ex)));
            goto fail;
        }
        return out;
    }
    len = strlen(v);
    for (n = 0; n < len; n++) {
        if ((v[n] == ';' || v[n] == '#') && prev_ws)
            break;
        prev_ws = bnc_conf_is_ws(v[n]);
    }
    while (n > 0 && bnc_conf_is_ws(v[n - 1]))
        n--;
    return bnc_strndup(v, n);
fail:
    free(out);
    return NULL;
}

static void
bnc_conf_lex_entry(struct bnc_conf_lex *lx, char *s, unsigned line)
{
    struct bnc_conf *c = lx->c;
    struct bnc_conf_section *sec;
    struct bnc_conf_entry *e, *dup;
    char *eq = strchr(s, '='), *key, *value, ex[80];
    size_t klen, i;
    int rules, free_key;

    if (eq == NULL) {
        bnc_conf_lex_error(lx, line,
                           "expected 'key = value', '[section]' or a comment, "
                           "got '%s'", bnc_conf_excerpt(s, ex, sizeof(ex)));
        return;
    }
    klen = (size_t)(eq - s);
    while (klen > 0 && bnc_conf_is_ws(s[klen - 1]))
        klen--;
    if (klen == 0) {
        bnc_conf_lex_error(lx, line, "missing key before '='");
        return;
    }
    key = bnc_strndup(s, klen);
    if (lx->cur < 0) {
        bnc_conf_lex_error(lx, line,
                           "key '%s' outside of any section (add a "
                           "[section] line above it)",
                           bnc_conf_excerpt(key, ex, sizeof(ex)));
        free(key);
        return;
    }
    sec = &c->sections[lx->cur];
    rules = strcmp(sec->name, "rules") == 0;
    /* Rule patterns and [ip]'s CIDR lists are keys their owners check. */
    free_key = rules || strcmp(sec->name, "ip") == 0;
    for (i = 0; !free_key && key[i] != '\0'; i++) {
        if ((key[i] >= 'a' && key[i] <= 'z') ||
            (key[i] >= '0' && key[i] <= '9') || key[i] == '_')
            continue;
        bnc_conf_lex_error(lx, line,
                           "invalid key '%s' (keys are lower-case letters, "
                           "digits and '_')",
                           bnc_conf_excerpt(key, ex, sizeof(ex)));
        free(key);
        return;
    }
    value = bnc_conf_lex_value(lx, eq + 1, line);
    if (value == NULL) {
        free(key);
        return;
    }
    if (lx->nentries >= BNC_CONF_MAX_ENTRIES) {
        bnc_conf_lex_error(lx, line, "too many entries (the limit is %d)",
                           BNC_CONF_MAX_ENTRIES);
        lx->stop = 1;
        free(key);
        free(value);
        return;
    }
    dup = bnc_conf_lex_dup(lx, (size_t)lx->cur, sec->nentries, key);
    if (dup != NULL) {
        bnc_conf_lex_error(lx, line,
                           "%s '%s' is duplicate, first set at line %u",
                           rules ? "rule" : "key",
                           bnc_conf_excerpt(key, ex, sizeof(ex)), dup->line);
        free(key);
        free(value);
        return;
    }
    sec->entries = bnc_realloc(sec->entries,
                               (sec->nentries + 1) * sizeof(*sec->entries));
    e = &sec->entries[sec->nentries++];
    e->key = key;
    e->value = value;
    e->line = line;
    e->used = 0;
    lx->nentries++;
}

/* One physical line, without its terminator. */
static void
bnc_conf_lex_line(struct bnc_conf_lex *lx, const char *raw, size_t len,
                  unsigned line)
{
    char *s, *p;
    size_t i;

    if (len > 0 && raw[len - 1] == '\r')
        len--; /* CRLF */
    if (memchr(raw, '\0', len) != NULL) {
        bnc_conf_lex_error(lx, line, "NUL byte in line");
        return;
    }
    if (len > BNC_CONF_MAX_LINE) {
        bnc_conf_lex_error(lx, line,
                           "line too long (%zu bytes; the limit is %d)", len,
                           BNC_CONF_MAX_LINE);
        return;
    }
    if (!bnc_utf8_valid((const unsigned char *)raw, len)) {
        bnc_conf_lex_error(lx, line, "invalid UTF-8");
        return;
    }
    for (i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)raw[i];

        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            bnc_conf_lex_error(lx, line, "control character 0x%02x in line",
                               ch);
            return;
        }
    }
    s = bnc_strndup(raw, len);
    for (p = s; bnc_conf_is_ws(*p); p++)
        ;
    /* "[::1]/local/ = anonymous" in [rules] is a rule for an IPv6 host,
     * not a section header: a ']' right before a '/' tells them apart. */
    if (*p == '[' &&
        !(lx->cur >= 0 && strcmp(lx->c->sections[lx->cur].name, "rules") == 0 &&
          strchr(p, ']') != NULL && strchr(p, ']')[1] == '/'))
        bnc_conf_lex_section(lx, p, line);
    else if (*p != '\0' && *p != ';' && *p != '#')
        bnc_conf_lex_entry(lx, p, line);
    free(s);
}

static void
bnc_conf_lex(struct bnc_conf_lex *lx, const char *text, size_t len)
{
    size_t off = 0;
    unsigned line = 1;

    /* A UTF-8 byte order mark, as some Windows editors write one. */
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        off = 3;
    while (off < len && !lx->stop) {
        const char *nl = memchr(text + off, '\n', len - off);
        size_t n = nl != NULL ? (size_t)(nl - (text + off)) : len - off;

        bnc_conf_lex_line(lx, text + off, n, line);
        off += n + 1;
        line++;
    }
}

/* ---- core sections -------------------------------------------------------- */

struct bnc_conf_ctx {
    struct bnc_conf *c;
    struct bnc_diag *d;
    const char *file;
    unsigned argon2_m_line, argon2_p_line;
    unsigned throttle_max_ban_line, throttle_trusted_line;
};

struct bnc_conf_directive {
    const char *name;
    int (*set)(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e);
};

static int
bnc_conf_set_store_path(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    /* The server starts us in a directory of its choosing: a relative
     * path would name a different store from one setup to the next. */
    if (e->value[0] != '/') {
        bnc_diag_error(x->d, x->file, e->line,
                       "path: expected an absolute directory path, got '%s'",
                       e->value);
        return -1;
    }
    free(x->c->store_path);
    x->c->store_path = bnc_strdup(e->value);
    return 0;
}

static int
bnc_conf_set_cache_size(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    uint64_t v;

    if (bnc_parse_size(e->value, &v) != 0) {
        bnc_diag_error(x->d, x->file, e->line,
                       "cache_size: expected a size like 64M or 1G, got '%s'",
                       e->value);
        return -1;
    }
    if (v < 1024 * 1024) {
        bnc_diag_error(x->d, x->file, e->line,
                       "cache_size: must be at least 1M, got '%s'", e->value);
        return -1;
    }
    if (v > (uint64_t)64 * 1024 * 1024 * 1024) {
        bnc_diag_error(x->d, x->file, e->line,
                       "cache_size: must be at most 64G, got '%s'", e->value);
        return -1;
    }
    x->c->store_cache_bytes = v;
    return 0;
}

static int
bnc_conf_set_schemes(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    char **v = NULL;
    size_t i, k;
    int rc = -1, ok;

    if (bnc_split_list(e->value, &v) < 0) {
        bnc_diag_error(x->d, x->file, e->line,
                       "schemes: expected a comma-separated list like "
                       "'basic, token', got '%s'", e->value);
        goto out;
    }
    for (i = 0; v[i] != NULL; i++) {
        for (k = 0; v[i][k] != '\0'; k++)
            if (v[i][k] >= 'A' && v[i][k] <= 'Z')
                v[i][k] = (char)(v[i][k] - 'A' + 'a');
        ok = 0;
        for (k = 0; bnc_conf_schemes[k] != NULL; k++)
            if (strcmp(v[i], bnc_conf_schemes[k]) == 0)
                ok = 1;
        if (!ok) {
            bnc_diag_error(x->d, x->file, e->line,
                           "schemes: unknown scheme '%s' (valid: "
                           BNC_CONF_SCHEME_LIST ")", v[i]);
            goto out;
        }
        for (k = 0; k < i; k++) {
            if (strcmp(v[i], v[k]) == 0) {
                bnc_diag_error(x->d, x->file, e->line,
                               "schemes: '%s' is listed twice", v[i]);
                goto out;
            }
        }
    }
    bnc_strv_free(x->c->schemes);
    x->c->schemes = v;
    x->c->schemes_default = 0;
    v = NULL;
    rc = 0;
out:
    bnc_strv_free(v);
    return rc;
}

static int
bnc_conf_set_realm(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    const char *p;

    if (e->value[0] == '\0') {
        bnc_diag_error(x->d, x->file, e->line, "realm: must not be empty");
        return -1;
    }
    /* It goes into a quoted-string of WWW-Authenticate: refusing quote and
     * backslash means it never needs escaping (control bytes were refused
     * by the lexer already). */
    for (p = e->value; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\') {
            bnc_diag_error(x->d, x->file, e->line,
                           "realm: must not contain '\"' or '\\', got '%s'",
                           e->value);
            return -1;
        }
    }
    free(x->c->realm);
    x->c->realm = bnc_strdup(e->value);
    return 0;
}

/* "X-Device-Id" -> CGI param "HTTP_X_DEVICE_ID" (RFC 3875 4.1.18). */
static int
bnc_conf_set_device_header(struct bnc_conf_ctx *x,
                           const struct bnc_conf_entry *e)
{
    const char *p;
    char *param;
    size_t i, len = strlen(e->value);

    if (len == 0 || len > 64) {
        bnc_diag_error(x->d, x->file, e->line,
                       "device_header: expected a header name like "
                       "X-Device-Id, got '%s'", e->value);
        return -1;
    }
    for (p = e->value; *p != '\0'; p++) {
        if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
              (*p >= '0' && *p <= '9') || *p == '-')) {
            bnc_diag_error(x->d, x->file, e->line,
                           "device_header: expected a header name like "
                           "X-Device-Id (letters, digits, '-'), got '%s'",
                           e->value);
            return -1;
        }
    }
    param = bnc_malloc(len + 6);
    memcpy(param, "HTTP_", 5);
    for (i = 0; i < len; i++) {
        char c = e->value[i];
        param[5 + i] = c == '-' ? '_' : (c >= 'a' && c <= 'z') ? (char)(c - 32) : c;
    }
    param[5 + len] = '\0';
    free(x->c->device_param);
    x->c->device_param = param;
    return 0;
}

/* [auth] default_policy: what a request that no rule matches gets. */
static int
bnc_conf_set_default_policy(struct bnc_conf_ctx *x,
                            const struct bnc_conf_entry *e)
{
    if (bnc_str_ieq(e->value, "deny")) {
        x->c->rules->default_authenticated = 0;
    } else if (bnc_str_ieq(e->value, "authenticated")) {
        x->c->rules->default_authenticated = 1;
    } else {
        bnc_diag_error(x->d, x->file, e->line,
                       "default_policy: expected deny or authenticated, got "
                       "'%s'", e->value);
        return -1;
    }
    return 0;
}

/* [auth] https_exempt_loopback: "https" rules let loopback clients in over
 * plain http (a local health check); off unless asked for. */
static int
bnc_conf_set_https_exempt_loopback(struct bnc_conf_ctx *x,
                                   const struct bnc_conf_entry *e)
{
    if (bnc_parse_bool(e->value, &x->c->rules->https_exempt_loopback) != 0) {
        bnc_diag_error(x->d, x->file, e->line,
                       "https_exempt_loopback: expected yes or no, got '%s'",
                       e->value);
        return -1;
    }
    return 0;
}

/* Reverse proxies whose X-Forwarded-For we believe; nobody else's. */
static int
bnc_conf_set_trusted_proxies(struct bnc_conf_ctx *x,
                             const struct bnc_conf_entry *e)
{
    struct bnc_cidr *v;
    size_t n;

    if (bnc_cidr_parse_list(e->value, &v, &n, "trusted_proxies", x->file,
                            e->line, x->d) != 0)
        return -1;
    free(x->c->trusted_proxies);
    x->c->trusted_proxies = v;
    x->c->ntrusted_proxies = n;
    return 0;
}

static int
bnc_conf_set_argon2_memory(struct bnc_conf_ctx *x,
                           const struct bnc_conf_entry *e)
{
    uint64_t v;
    const char *s = e->value;

    /* A plain number is KiB, as argon2's own m parameter; with a unit it is
     * a size ("19M"). */
    if (bnc_parse_u64(s, UINT64_MAX, &v) != 0) {
        if (bnc_parse_size(s, &v) != 0) {
            bnc_diag_error(x->d, x->file, e->line,
                           "argon2_memory: expected KiB (19456) or a size "
                           "like 19M, got '%s'", s);
            return -1;
        }
        v /= 1024;
    }
    /* The same ceilings as the verifier's (src/crypto/password.c), or
     * every new hash would be refused as hostile. */
    if (v < 8 || v > 1048576) {
        bnc_diag_error(x->d, x->file, e->line,
                       "argon2_memory: must be between 8 KiB and 1G, got "
                       "'%s'", s);
        return -1;
    }
    x->c->argon2.m_kib = (uint32_t)v;
    x->argon2_m_line = e->line;
    return 0;
}

static int
bnc_conf_set_range(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e,
                   uint64_t min, uint64_t max, uint32_t *out)
{
    uint64_t v;

    if (bnc_parse_u64(e->value, max, &v) != 0 || v < min) {
        bnc_diag_error(x->d, x->file, e->line,
                       "%s: expected a number from %llu to %llu, got '%s'",
                       e->key, (unsigned long long)min,
                       (unsigned long long)max, e->value);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int
bnc_conf_set_argon2_time(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    return bnc_conf_set_range(x, e, 1, 100, &x->c->argon2.t_cost);
}

static int
bnc_conf_set_argon2_parallelism(struct bnc_conf_ctx *x,
                                const struct bnc_conf_entry *e)
{
    x->argon2_p_line = e->line;
    return bnc_conf_set_range(x, e, 1, 16, &x->c->argon2.parallelism);
}

static int
bnc_conf_set_rehash(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    if (bnc_parse_bool(e->value, &x->c->rehash) != 0) {
        bnc_diag_error(x->d, x->file, e->line,
                       "rehash: expected yes or no, got '%s'", e->value);
        return -1;
    }
    return 0;
}

static int
bnc_conf_set_metrics_enabled(struct bnc_conf_ctx *x,
                             const struct bnc_conf_entry *e)
{
    if (bnc_parse_bool(e->value, &x->c->metrics_enabled) != 0) {
        bnc_diag_error(x->d, x->file, e->line,
                       "enabled: expected yes or no, got '%s'", e->value);
        return -1;
    }
    return 0;
}

/* value is one of names[] (case-insensitive): its index, else -1 + error. */
static int
bnc_conf_choice(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e,
                const char *const *names, const char *list)
{
    int i;

    for (i = 0; names[i] != NULL; i++)
        if (bnc_str_ieq(e->value, names[i]))
            return i;
    bnc_diag_error(x->d, x->file, e->line,
                   "%s: expected one of %s, got '%s'", e->key, list,
                   e->value);
    return -1;
}

/* stderr, syslog or file:/absolute/path (the path stays in the entry). */
static int
bnc_conf_log_sink(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e,
                  enum bnc_log_target *t, const char **file)
{
    if (strncmp(e->value, "file:", 5) == 0) {
        if (e->value[5] != '/') {
            bnc_diag_error(x->d, x->file, e->line,
                           "%s: file: needs an absolute path, got '%s'",
                           e->key, e->value);
            return -1;
        }
        *t = BNC_LOG_FILE;
        *file = e->value + 5;
        return 0;
    }
    if (bnc_str_ieq(e->value, "stderr") || bnc_str_ieq(e->value, "syslog")) {
        *t = bnc_str_ieq(e->value, "stderr") ? BNC_LOG_STDERR : BNC_LOG_SYSLOG;
        *file = NULL;
        return 0;
    }
    bnc_diag_error(x->d, x->file, e->line,
                   "%s: expected one of stderr, syslog, file:/PATH, got '%s'",
                   e->key, e->value);
    return -1;
}

static int
bnc_conf_set_log_target(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    return bnc_conf_log_sink(x, e, &x->c->log.target, &x->c->log.file);
}

/* Decision and admin lines: their own sink (default: with the rest). */
static int
bnc_conf_set_log_audit(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    if (bnc_conf_log_sink(x, e, &x->c->log.audit, &x->c->log.audit_file) != 0)
        return -1;
    x->c->log.audit_set = 1;
    return 0;
}

static int
bnc_conf_set_log_level(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    static const char *const names[] = {"error", "warn", "info", "debug",
                                        NULL};
    static const enum bnc_log_level levels[] = {BNC_LOG_ERR, BNC_LOG_WARN,
                                                BNC_LOG_INFO, BNC_LOG_DEBUG};
    int i = bnc_conf_choice(x, e, names, "error, warn, info, debug");

    if (i < 0)
        return -1;
    x->c->log.level = levels[i];
    return 0;
}

static int
bnc_conf_set_log_format(struct bnc_conf_ctx *x, const struct bnc_conf_entry *e)
{
    static const char *const names[] = {"logfmt", "json", NULL};
    int i = bnc_conf_choice(x, e, names, "logfmt, json");

    if (i < 0)
        return -1;
    x->c->log.format = i == 0 ? BNC_LOG_LOGFMT : BNC_LOG_JSON;
    return 0;
}

static int
bnc_conf_set_log_facility(struct bnc_conf_ctx *x,
                          const struct bnc_conf_entry *e)
{
    static const char *const names[] = {
        "auth", "authpriv", "daemon", "user", "local0", "local1", "local2",
        "local3", "local4", "local5", "local6", "local7", NULL
    };
    static const int values[] = {
        LOG_AUTH, LOG_AUTHPRIV, LOG_DAEMON, LOG_USER, LOG_LOCAL0, LOG_LOCAL1,
        LOG_LOCAL2, LOG_LOCAL3, LOG_LOCAL4, LOG_LOCAL5, LOG_LOCAL6, LOG_LOCAL7
    };
    int i = bnc_conf_choice(x, e, names,
                            "auth, authpriv, daemon, user, local0..local7");

    if (i < 0)
        return -1;
    x->c->log.facility = values[i];
    return 0;
}

/* ---- [throttle] (src/auth/throttle.c uses the values) ---- */

static int
bnc_conf_set_throttle_enabled(struct bnc_conf_ctx *x,
                              const struct bnc_conf_entry *e)
{
    if (bnc_parse_bool(e->value, &x->c->throttle.enabled) != 0) {
        bnc_diag_error(x->d, x->file, e->line,
                       "enabled: expected yes or no, got '%s'", e->value);
        return -1;
    }
    return 0;
}

static int
bnc_conf_set_throttle_count(struct bnc_conf_ctx *x,
                            const struct bnc_conf_entry *e, uint64_t *out)
{
    uint64_t v;

    /* Past a million failures in one window a counter is not a brake. */
    if (bnc_parse_u64(e->value, 1000000, &v) != 0 || v < 1) {
        bnc_diag_error(x->d, x->file, e->line,
                       "%s: expected a number of failures from 1 to "
                       "1000000, got '%s'", e->key, e->value);
        return -1;
    }
    *out = v;
    return 0;
}

static int
bnc_conf_set_throttle_user(struct bnc_conf_ctx *x,
                           const struct bnc_conf_entry *e)
{
    return bnc_conf_set_throttle_count(x, e, &x->c->throttle.user_threshold);
}

static int
bnc_conf_set_throttle_network(struct bnc_conf_ctx *x,
                              const struct bnc_conf_entry *e)
{
    return bnc_conf_set_throttle_count(x, e,
                                       &x->c->throttle.network_threshold);
}

/* Durations from 1 s to max (seconds). */
static int
bnc_conf_set_throttle_time(struct bnc_conf_ctx *x,
                           const struct bnc_conf_entry *e, uint64_t max,
                           const char *maxtext, uint64_t *out)
{
    uint64_t v;

    if (bnc_parse_duration(e->value, &v) != 0 || v < 1 || v > max) {
        bnc_diag_error(x->d, x->file, e->line,
                       "%s: expected a duration from 1s to %s like 30s, 15m "
                       "or 1h, got '%s'", e->key, maxtext, e->value);
        return -1;
    }
    *out = v;
    return 0;
}

static int
bnc_conf_set_throttle_window(struct bnc_conf_ctx *x,
                             const struct bnc_conf_entry *e)
{
    return bnc_conf_set_throttle_time(x, e, 86400, "1d",
                                      &x->c->throttle.window);
}

static int
bnc_conf_set_throttle_ban(struct bnc_conf_ctx *x,
                          const struct bnc_conf_entry *e)
{
    return bnc_conf_set_throttle_time(x, e, 86400, "1d", &x->c->throttle.ban);
}

/* A week at most: a ban is a brake, never a lock-out (issue 7). */
static int
bnc_conf_set_throttle_max_ban(struct bnc_conf_ctx *x,
                              const struct bnc_conf_entry *e)
{
    x->throttle_max_ban_line = e->line;
    return bnc_conf_set_throttle_time(x, e, 604800, "7d",
                                      &x->c->throttle.max_ban);
}

static int
bnc_conf_set_throttle_trusted(struct bnc_conf_ctx *x,
                              const struct bnc_conf_entry *e)
{
    struct bnc_cidr *v = NULL;
    size_t n = 0;

    /* "none" says it in the file: nothing is trusted (the default). */
    if (!bnc_str_ieq(e->value, "none") &&
        bnc_cidr_parse_list(e->value, &v, &n, "trusted", x->file, e->line,
                            x->d) != 0)
        return -1;
    free(x->c->throttle.trusted);
    x->c->throttle.trusted = v;
    x->c->throttle.ntrusted = n;
    x->throttle_trusted_line = e->line;
    return 0;
}

static const struct bnc_conf_directive bnc_conf_store_dirs[] = {
    {"path", bnc_conf_set_store_path},
    {"cache_size", bnc_conf_set_cache_size},
    {NULL, NULL}
};
static const struct bnc_conf_directive bnc_conf_auth_dirs[] = {
    {"schemes", bnc_conf_set_schemes},
    {"realm", bnc_conf_set_realm},
    {"trusted_proxies", bnc_conf_set_trusted_proxies},
    {"device_header", bnc_conf_set_device_header},
    {"default_policy", bnc_conf_set_default_policy},
    {"https_exempt_loopback", bnc_conf_set_https_exempt_loopback},
    {NULL, NULL}
};
static const struct bnc_conf_directive bnc_conf_passwords_dirs[] = {
    {"argon2_memory", bnc_conf_set_argon2_memory},
    {"argon2_time", bnc_conf_set_argon2_time},
    {"argon2_parallelism", bnc_conf_set_argon2_parallelism},
    {"rehash", bnc_conf_set_rehash},
    {NULL, NULL}
};
static const struct bnc_conf_directive bnc_conf_throttle_dirs[] = {
    {"enabled", bnc_conf_set_throttle_enabled},
    {"user_threshold", bnc_conf_set_throttle_user},
    {"network_threshold", bnc_conf_set_throttle_network},
    {"window", bnc_conf_set_throttle_window},
    {"ban", bnc_conf_set_throttle_ban},
    {"max_ban", bnc_conf_set_throttle_max_ban},
    {"trusted", bnc_conf_set_throttle_trusted},
    {NULL, NULL}
};
static const struct bnc_conf_directive bnc_conf_log_dirs[] = {
    {"target", bnc_conf_set_log_target},
    {"level", bnc_conf_set_log_level},
    {"format", bnc_conf_set_log_format},
    {"facility", bnc_conf_set_log_facility},
    {"audit", bnc_conf_set_log_audit},
    {NULL, NULL}
};
static const struct bnc_conf_directive bnc_conf_metrics_dirs[] = {
    {"enabled", bnc_conf_set_metrics_enabled},
    {NULL, NULL}
};

static const struct {
    const char *name;
    const struct bnc_conf_directive *dirs;
    const char *keys; /* for "unknown key" messages */
} bnc_conf_core[] = {
    {"store", bnc_conf_store_dirs, "path, cache_size"},
    {"auth", bnc_conf_auth_dirs,
     "schemes, realm, trusted_proxies, device_header, default_policy, "
     "https_exempt_loopback"},
    {"passwords", bnc_conf_passwords_dirs,
     "argon2_memory, argon2_time, argon2_parallelism, rehash"},
    {"throttle", bnc_conf_throttle_dirs,
     "enabled, user_threshold, network_threshold, window, ban, max_ban, "
     "trusted"},
    {"log", bnc_conf_log_dirs, "target, level, format, facility, audit"},
    {"metrics", bnc_conf_metrics_dirs, "enabled"},
};
#define BNC_CONF_NCORE (sizeof(bnc_conf_core) / sizeof(bnc_conf_core[0]))

static void
bnc_conf_defaults(struct bnc_conf *c)
{
    static const char *const schemes[] = {"basic", "token"};
    size_t i;

    c->store_path = bnc_strdup(BNC_STATEDIR);
    c->store_cache_bytes = (uint64_t)64 * 1024 * 1024;
    c->schemes = bnc_calloc(3, sizeof(*c->schemes));
    c->schemes_default = 1;
    for (i = 0; i < 2; i++)
        c->schemes[i] = bnc_strdup(schemes[i]);
    c->realm = bnc_strdup("bouncer");
    c->device_param = bnc_strdup("HTTP_X_DEVICE_ID");
    /* Not bnc_argon2_params_default(): the values are the header's macros,
     * and config stays loadable without the crypto module. */
    c->argon2.m_kib = BNC_ARGON2_DEFAULT_M;
    c->argon2.t_cost = BNC_ARGON2_DEFAULT_T;
    c->argon2.parallelism = BNC_ARGON2_DEFAULT_P;
    c->rehash = 1;
    /* Nothing trusted by default: behind a local proxy without
     * trusted_proxies every client would look like 127.0.0.1, and trusting
     * loopback would then switch the protection off for all of them. */
    c->throttle.enabled = 1;
    c->throttle.user_threshold = 5;
    c->throttle.network_threshold = 20;
    c->throttle.window = 15 * 60;
    c->throttle.ban = 60;
    c->throttle.max_ban = 60 * 60;
    c->log.target = BNC_LOG_STDERR;
    c->log.level = BNC_LOG_INFO;
    c->log.format = BNC_LOG_LOGFMT;
    c->log.facility = LOG_AUTHPRIV;
    c->log.ident = "bouncer";
    c->metrics_enabled = 1;
    c->rules = bnc_rules_new();
}

static void
bnc_conf_check_core(struct bnc_conf_ctx *x, struct bnc_conf_section *s,
                    size_t core)
{
    const struct bnc_conf_directive *dir;
    size_t i;

    for (i = 0; i < s->nentries; i++) {
        struct bnc_conf_entry *e = &s->entries[i];

        for (dir = bnc_conf_core[core].dirs; dir->name != NULL; dir++)
            if (strcmp(dir->name, e->key) == 0)
                break;
        if (dir->name == NULL) {
            bnc_diag_error(x->d, x->file, e->line,
                           "unknown key '%s' in [%s] (valid: %s)", e->key,
                           s->name, bnc_conf_core[core].keys);
            continue;
        }
        e->used = 1;
        dir->set(x, e);
    }
}

/* Length of the literal part of each rule's pattern (up to its first '*')
 * and whether it is a plain prefix rule, computed once for the shadow check. */
struct bnc_conf_rule_lit {
    size_t lit;
    int prefix;
};

/* Rule q is wholly covered by the earlier prefix rule p: every path q
 * matches starts with q's literal part, so if p's pattern is a prefix of
 * that and p allows at least q's methods, q can never apply. Globs as p are
 * not analysed. */
static int
bnc_conf_rule_shadows(const struct bnc_rule *p,
                      const struct bnc_conf_rule_lit *pl,
                      const struct bnc_rule *q,
                      const struct bnc_conf_rule_lit *ql)
{
    if (!pl->prefix || ql->lit < pl->lit)
        return 0;
    /* p for any host covers q; p for a host covers q for the same host or,
     * for "*.example.org", a host below it. */
    if (p->host != NULL &&
        (q->host == NULL ||
         (strcmp(p->host, q->host) != 0 &&
          (q->host[0] == '*' || !bnc_rules_host_match(p->host, q->host)))))
        return 0;
    if (p->methods != 0 &&
        (q->methods == 0 || (q->methods & ~p->methods) != 0))
        return 0;
    return memcmp(q->pattern, p->pattern, pl->lit) == 0;
}

static void
bnc_conf_check_rules(struct bnc_conf_ctx *x, struct bnc_conf_section *s)
{
    struct bnc_rules *r = x->c->rules;
    struct bnc_conf_rule_lit *lits;
    size_t i, k;

    for (i = 0; i < s->nentries; i++) {
        s->entries[i].used = 1;
        bnc_rules_add(r, s->entries[i].key, s->entries[i].value, x->file,
                      s->entries[i].line, x->d);
    }
    if (s->nentries == 0) {
        bnc_diag_warn(x->d, x->file, s->line,
                      "no rules: every request will be denied");
        return;
    }
    /* The check is quadratic and only a lint: past this many rules (a
     * generated file, not a hand-written one) it would cost more than the
     * rest of the load, so it is skipped. */
    if (r->n > BNC_CONF_MAX_SHADOW_CHECK)
        return;
    lits = bnc_calloc(r->n ? r->n : 1, sizeof(*lits));
    for (i = 0; i < r->n; i++) {
        lits[i].lit = strcspn(r->v[i].pattern, "*");
        lits[i].prefix = !r->v[i].glob;
    }
    for (i = 1; i < r->n; i++) {
        for (k = 0; k < i; k++) {
            if (bnc_conf_rule_shadows(&r->v[k], &lits[k], &r->v[i],
                                      &lits[i])) {
                bnc_diag_warn(x->d, x->file, r->v[i].line,
                              "rule '%s' is never used: the rule at line %u "
                              "matches first", r->v[i].pattern,
                              r->v[k].line);
                break;
            }
        }
    }
    free(lits);
}

/* Cross-field checks of [throttle]. */
static void
bnc_conf_check_throttle(struct bnc_conf_ctx *x)
{
    struct bnc_throttle_conf *t = &x->c->throttle;
    size_t i;

    if (t->max_ban < t->ban)
        bnc_diag_error(x->d, x->file, x->throttle_max_ban_line,
                       "max_ban: must be at least ban (%llu s), got %llu s",
                       (unsigned long long)t->ban,
                       (unsigned long long)t->max_ban);
    for (i = 0; i < t->ntrusted; i++)
        if (t->trusted[i].prefix == 0)
            bnc_diag_warn(x->d, x->file, x->throttle_trusted_line,
                          "trusted: a /0 block trusts every client: "
                          "brute-force protection is off for them");
}

static void
bnc_conf_validate(struct bnc_conf *c, struct bnc_diag *d)
{
    struct bnc_conf_ctx x;
    struct bnc_conf_section *rules = NULL;
    size_t i, k;
    int known;

    memset(&x, 0, sizeof(x));
    x.c = c;
    x.d = d;
    x.file = c->file;
    for (i = 0; i < c->nsections; i++) {
        struct bnc_conf_section *s = &c->sections[i];

        known = 0;
        for (k = 0; k < BNC_CONF_NCORE; k++) {
            if (strcmp(s->name, bnc_conf_core[k].name) == 0) {
                bnc_conf_check_core(&x, s, k);
                known = 1;
            }
        }
        if (strcmp(s->name, "rules") == 0) {
            rules = s;
            known = 1;
        }
        for (k = 0; bnc_conf_schemes[k] != NULL; k++)
            if (strcmp(s->name, bnc_conf_schemes[k]) == 0)
                known = 1; /* the scheme's configure() reads it */
        if (!known)
            bnc_diag_error(d, x.file, s->line,
                           "unknown section [%s] (valid: "
                           BNC_CONF_SECTION_LIST ")", s->name);
    }
    /* Argon2 needs 8 KiB per lane; say which knob to turn. */
    if ((uint64_t)c->argon2.m_kib < (uint64_t)8 * c->argon2.parallelism)
        bnc_diag_error(d, x.file,
                       x.argon2_m_line ? x.argon2_m_line : x.argon2_p_line,
                       "argon2_memory: must be at least 8 KiB per lane "
                       "(%u KiB for argon2_parallelism = %u)",
                       8 * c->argon2.parallelism, c->argon2.parallelism);
    bnc_conf_check_throttle(&x);
    if (rules != NULL)
        bnc_conf_check_rules(&x, rules);
    else
        bnc_rules_add(c->rules, "/", "authenticated", NULL, 0, d);
    bnc_rules_index(c->rules);
}

static void
bnc_conf_home_override(struct bnc_conf *c)
{
    const char *home = getenv("BOUNCER_HOME");

    if (home != NULL && home[0] != '\0') {
        free(c->store_path);
        c->store_path = bnc_strdup(home);
    }
}

/* ---- public --------------------------------------------------------------- */

const char *
bnc_conf_locate(const char *cli_path, int *explicit)
{
    static const char def[] = BNC_SYSCONFDIR "/bouncer.conf";
    const char *env;
    int dummy;

    if (explicit == NULL)
        explicit = &dummy;
    *explicit = 1;
    if (cli_path != NULL && cli_path[0] != '\0')
        return cli_path;
    env = getenv("BOUNCER_CONF");
    if (env != NULL && env[0] != '\0')
        return env;
    *explicit = 0;
    if (access(def, F_OK) == 0)
        return def;
    return NULL;
}

struct bnc_conf *
bnc_conf_load_mem(const char *name, const char *text, size_t len,
                  struct bnc_diag *d)
{
    struct bnc_conf *c = bnc_calloc(1, sizeof(*c));
    struct bnc_conf_lex lx;
    size_t errors0 = d->nerrors;

    c->file = bnc_strdup(name != NULL ? name : "(config)");
    bnc_conf_defaults(c);
    if (len > BNC_CONF_MAX_FILE) {
        /* Name the line where the limit falls, so the message points at
         * something in the file. */
        unsigned line = 1;
        size_t i;

        for (i = 0; i < BNC_CONF_MAX_FILE; i++)
            if (text[i] == '\n')
                line++;
        bnc_diag_error(d, c->file, line,
                       "file too large (more than %d bytes)",
                       BNC_CONF_MAX_FILE);
        goto fail;
    }
    memset(&lx, 0, sizeof(lx));
    lx.c = c;
    lx.file = c->file;
    lx.d = d;
    lx.cur = -1;
    lx.slots = bnc_calloc(BNC_CONF_HASH_SLOTS, sizeof(*lx.slots));
    bnc_conf_lex(&lx, text, len);
    free(lx.slots);
    /* Validate what did parse even after lexer errors: all errors at once. */
    bnc_conf_validate(c, d);
    bnc_conf_home_override(c);
    if (d->nerrors > errors0)
        goto fail;
    return c;
fail:
    bnc_conf_free(c);
    return NULL;
}

struct bnc_conf *
bnc_conf_load(const char *path, struct bnc_diag *d)
{
    struct bnc_conf *c = NULL;
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    int fd = -1;

    if (path == NULL) {
        c = bnc_calloc(1, sizeof(*c));
        bnc_conf_defaults(c);
        bnc_rules_add(c->rules, "/", "authenticated", NULL, 0, d);
        bnc_conf_home_override(c);
        return c;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bnc_diag_error(d, path, 0, "cannot open: %s", strerror(errno));
        goto out;
    }
    if (fstat(fd, &st) != 0) {
        bnc_diag_error(d, path, 0, "cannot stat: %s", strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        bnc_diag_error(d, path, 0, "not a regular file");
        goto out;
    }
    /* One byte more than the limit, so load_mem can tell "too large". */
    text = bnc_malloc(BNC_CONF_MAX_FILE + 2);
    for (;;) {
        ssize_t n = read(fd, text + len, BNC_CONF_MAX_FILE + 1 - len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            bnc_diag_error(d, path, 0, "cannot read: %s", strerror(errno));
            goto out;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > BNC_CONF_MAX_FILE)
            break;
    }
    text[len] = '\0';
    c = bnc_conf_load_mem(path, text, len, d);
out:
    if (fd >= 0)
        close(fd);
    free(text);
    return c;
}

void
bnc_conf_free(struct bnc_conf *c)
{
    size_t i, k;

    if (c == NULL)
        return;
    for (i = 0; i < c->nsections; i++) {
        struct bnc_conf_section *s = &c->sections[i];

        for (k = 0; k < s->nentries; k++) {
            free(s->entries[k].key);
            free(s->entries[k].value);
        }
        free(s->entries);
        free(s->name);
    }
    free(c->sections);
    free(c->file);
    free(c->store_path);
    bnc_strv_free(c->schemes);
    free(c->realm);
    free(c->trusted_proxies);
    free(c->throttle.trusted);
    free(c->device_param);
    bnc_rules_free(c->rules);
    free(c);
}

struct bnc_conf_section *
bnc_conf_section(const struct bnc_conf *c, const char *name)
{
    size_t i;

    if (c == NULL || name == NULL)
        return NULL;
    for (i = 0; i < c->nsections; i++)
        if (strcmp(c->sections[i].name, name) == 0)
            return &c->sections[i];
    return NULL;
}

/* The entry for key in s (marked used), or NULL. */
static struct bnc_conf_entry *
bnc_conf_find(struct bnc_conf_section *s, const char *key)
{
    size_t i;

    if (s == NULL || key == NULL)
        return NULL;
    for (i = 0; i < s->nentries; i++) {
        if (strcmp(s->entries[i].key, key) == 0) {
            s->entries[i].used = 1;
            return &s->entries[i];
        }
    }
    return NULL;
}

static const char *
bnc_conf_file(const struct bnc_conf *c)
{
    return c != NULL ? c->file : NULL;
}

int
bnc_conf_get_str(const struct bnc_conf *c, struct bnc_conf_section *s,
                 const char *key, const char *def, const char **out,
                 struct bnc_diag *d)
{
    struct bnc_conf_entry *e = bnc_conf_find(s, key);

    (void)c;
    (void)d;
    *out = e != NULL ? e->value : def;
    return 0;
}

int
bnc_conf_get_bool(const struct bnc_conf *c, struct bnc_conf_section *s,
                  const char *key, int def, int *out, struct bnc_diag *d)
{
    struct bnc_conf_entry *e = bnc_conf_find(s, key);

    *out = def;
    if (e == NULL)
        return 0;
    if (bnc_parse_bool(e->value, out) != 0) {
        *out = def;
        bnc_diag_error(d, bnc_conf_file(c), e->line,
                       "%s: expected yes or no, got '%s'", key, e->value);
        return -1;
    }
    return 0;
}

int
bnc_conf_get_u64(const struct bnc_conf *c, struct bnc_conf_section *s,
                 const char *key, uint64_t def, uint64_t min, uint64_t max,
                 uint64_t *out, struct bnc_diag *d)
{
    struct bnc_conf_entry *e = bnc_conf_find(s, key);
    uint64_t v;

    *out = def;
    if (e == NULL)
        return 0;
    if (bnc_parse_u64(e->value, max, &v) != 0 || v < min) {
        bnc_diag_error(d, bnc_conf_file(c), e->line,
                       "%s: expected a number from %llu to %llu, got '%s'",
                       key, (unsigned long long)min, (unsigned long long)max,
                       e->value);
        return -1;
    }
    *out = v;
    return 0;
}

/* Seconds in the largest unit that divides them: 86400 -> "1d". */
static const char *
bnc_conf_fmt_duration(uint64_t v, char *buf, size_t cap)
{
    static const struct {
        uint64_t secs;
        char unit;
    } units[] = {{604800, 'w'}, {86400, 'd'}, {3600, 'h'}, {60, 'm'}};
    size_t i;

    for (i = 0; v != 0 && i < sizeof(units) / sizeof(units[0]); i++) {
        if (v % units[i].secs == 0) {
            snprintf(buf, cap, "%llu%c",
                     (unsigned long long)(v / units[i].secs), units[i].unit);
            return buf;
        }
    }
    snprintf(buf, cap, "%llus", (unsigned long long)v);
    return buf;
}

int
bnc_conf_get_duration(const struct bnc_conf *c, struct bnc_conf_section *s,
                      const char *key, uint64_t def, uint64_t min,
                      uint64_t max, uint64_t *out, struct bnc_diag *d)
{
    struct bnc_conf_entry *e = bnc_conf_find(s, key);
    char lo[32], hi[32];
    uint64_t v;

    *out = def;
    if (e == NULL)
        return 0;
    if (bnc_parse_duration(e->value, &v) != 0) {
        bnc_diag_error(d, bnc_conf_file(c), e->line,
                       "%s: expected a duration like 30s, 5m, 1d, got '%s'",
                       key, e->value);
        return -1;
    }
    if (v < min || v > max) {
        bnc_conf_fmt_duration(min, lo, sizeof(lo));
        if (max == UINT64_MAX)
            bnc_diag_error(d, bnc_conf_file(c), e->line,
                           "%s: must be at least %s, got '%s'", key, lo,
                           e->value);
        else
            bnc_diag_error(d, bnc_conf_file(c), e->line,
                           "%s: must be between %s and %s, got '%s'", key,
                           lo, bnc_conf_fmt_duration(max, hi, sizeof(hi)),
                           e->value);
        return -1;
    }
    *out = v;
    return 0;
}

void
bnc_conf_check_unused(const struct bnc_conf *c,
                      const struct bnc_conf_section *s, struct bnc_diag *d)
{
    size_t i;

    if (s == NULL)
        return;
    for (i = 0; i < s->nentries; i++)
        if (!s->entries[i].used)
            bnc_diag_error(d, bnc_conf_file(c), s->entries[i].line,
                           "unknown key '%s' in [%s]", s->entries[i].key,
                           s->name);
}
