/* SPDX-License-Identifier: MIT */
/* bouncerctl: admin CLI for the credential store; options, command tables
 * (OpenBSD relayctl style) and dispatch. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "log/log.h"
#include "util/mem.h"
#include "util/str.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "unknown"
#endif

#ifndef BNC_SYSCONFDIR
#define BNC_SYSCONFDIR "/etc/bouncer"
#endif

#define BNC_CTL_ARGS_MAX SIZE_MAX

struct bnc_ctl_verb {
    const char *name;
    const char *synopsis;   /* arguments and options, for usage lines */
    const char *help;       /* one line for --help */
    size_t min_args;
    size_t max_args;
    unsigned opts;          /* enum bnc_ctl_optbit */
    int (*run)(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
};

struct bnc_ctl_noun {
    const char *name;
    const struct bnc_ctl_verb *verbs;
};

struct bnc_ctl_optdef {
    const char *name;       /* with the leading "--" */
    unsigned bit;
    int takes_value;
};

/* The store this run opened, for bnc_ctl_store_dead(). */
static struct bnc_store *bnc_ctl_open_store;
static int bnc_ctl_tempfail;

static const struct bnc_ctl_optdef bnc_ctl_optdefs[] = {
    {"--group", BNC_CTL_O_GROUP, 1},
    {"--email", BNC_CTL_O_EMAIL, 1},
    {"--name", BNC_CTL_O_NAME, 1},
    {"--disabled", BNC_CTL_O_DISABLED, 0},
    {"--password-stdin", BNC_CTL_O_PWSTDIN, 0},
    {"--no-password", BNC_CTL_O_NOPW, 0},
    {"--json", BNC_CTL_O_JSON, 0},
    {"--label", BNC_CTL_O_LABEL, 1},
    {"--expires", BNC_CTL_O_EXPIRES, 1},
    {"--scope", BNC_CTL_O_SCOPE, 1},
    {"--allow-cidr", BNC_CTL_O_CIDR, 1},
    {"--device", BNC_CTL_O_DEVICE, 1},
    {"--user", BNC_CTL_O_USER, 1},
    {"--quiet", BNC_CTL_O_QUIET, 0},
    {"--network", BNC_CTL_O_NETWORK, 1},
    {"--all", BNC_CTL_O_ALL, 0},
    {"--token", BNC_CTL_O_TOKEN, 1},
    {"--scheme", BNC_CTL_O_SCHEME, 1},
    {"--from", BNC_CTL_O_FROM, 1},
    {"--https", BNC_CTL_O_HTTPS, 0},
    {"--host", BNC_CTL_O_HOST, 1},
    {"--require", BNC_CTL_O_REQUIRE, 1},
    {"--dry-run", BNC_CTL_O_DRYRUN, 0},
    {"--allow-plaintext", BNC_CTL_O_PLAIN, 0},
    {"--dbm", BNC_CTL_O_DBM, 0},
    {"--output", BNC_CTL_O_OUTPUT, 1},
    {"--alg", BNC_CTL_O_ALG, 1},
    {"--kid", BNC_CTL_O_KID, 1},
    {"--tokens", BNC_CTL_O_TOKENS, 0},
    {"--sync-disabled", BNC_CTL_O_SYNCDIS, 0},
    {NULL, 0, 0}
};

static const struct bnc_ctl_verb bnc_ctl_user_verbs[] = {
    {"add", "NAME [--group GROUP]... [--email ADDR] [--name TEXT] [--disabled]"
            " [--password-stdin | --no-password]",
     "create a user; prompts for the password twice",
     1, 1, BNC_CTL_O_GROUP | BNC_CTL_O_EMAIL | BNC_CTL_O_NAME |
     BNC_CTL_O_DISABLED | BNC_CTL_O_PWSTDIN | BNC_CTL_O_NOPW,
     bnc_ctl_user_add},
    {"passwd", "NAME [--password-stdin]",
     "set a new password; earlier credentials become void",
     1, 1, BNC_CTL_O_PWSTDIN, bnc_ctl_user_passwd},
    {"del", "NAME", "delete a user", 1, 1, 0, bnc_ctl_user_del},
    {"list", "[--json]", "list users (never the hashes)",
     0, 0, BNC_CTL_O_JSON, bnc_ctl_user_list},
    {"show", "NAME [--json]", "show one user (never the hash)",
     1, 1, BNC_CTL_O_JSON, bnc_ctl_user_show},
    {"disable", "NAME", "refuse the user's logins and void credentials",
     1, 1, 0, bnc_ctl_user_disable},
    {"enable", "NAME", "allow a disabled user again",
     1, 1, 0, bnc_ctl_user_enable},
    {"logout-all", "NAME [--tokens]",
     "void the user's sessions and JWTs (and API tokens with --tokens)",
     1, 1, BNC_CTL_O_TOKENS, bnc_ctl_user_logout_all},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_verb bnc_ctl_group_verbs[] = {
    {"add", "GROUP USER [USER...]", "add users to a group",
     2, BNC_CTL_ARGS_MAX, 0, bnc_ctl_group_add},
    {"del", "GROUP USER [USER...]", "remove users from a group",
     2, BNC_CTL_ARGS_MAX, 0, bnc_ctl_group_del},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_verb bnc_ctl_db_verbs[] = {
    {"init", "", "create the store at the configured path",
     0, 0, 0, bnc_ctl_db_init},
    {"stats", "", "print store statistics", 0, 0, 0, bnc_ctl_db_stats},
    {"verify", "", "check every database of the store",
     0, 0, 0, bnc_ctl_db_verify},
    {"backup", "DIR", "hot backup into DIR (new or empty)",
     1, 1, 0, bnc_ctl_db_backup},
    {"gc", "",
     "remove expired sessions, API tokens, JWT denylist entries, refresh "
     "families and throttle counters",
     0, 0, 0, bnc_ctl_db_gc},
    {"metrics", "", "print the shared counters (Prometheus text format)",
     0, 0, 0, bnc_ctl_db_metrics},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_verb bnc_ctl_token_verbs[] = {
    {"create", "USER [--label TEXT] [--expires 30d|DATE] [--scope S]..."
               " [--allow-cidr CIDR]... [--device ID] [--quiet]",
     "create an API token; prints its key once",
     1, 1, BNC_CTL_O_LABEL | BNC_CTL_O_EXPIRES | BNC_CTL_O_SCOPE |
     BNC_CTL_O_CIDR | BNC_CTL_O_DEVICE | BNC_CTL_O_QUIET,
     bnc_ctl_token_create},
    {"list", "[USER] [--json]", "list tokens (never the keys)",
     0, 1, BNC_CTL_O_JSON, bnc_ctl_token_list},
    {"revoke", "ID | --user USER", "revoke one token, or all of a user's",
     0, 1, BNC_CTL_O_USER, bnc_ctl_token_revoke},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_verb bnc_ctl_session_verbs[] = {
    {"list", "[USER] [--json]",
     "list sessions (never the cookie values or CSRF secrets)",
     0, 1, BNC_CTL_O_JSON, bnc_ctl_session_list},
    {"revoke", "ID | --user USER", "end one session, or all of a user's",
     0, 1, BNC_CTL_O_USER, bnc_ctl_session_revoke},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_verb bnc_ctl_jwt_verbs[] = {
    {"keygen", "--alg ES256|RS256|EdDSA|HS256|... [--kid K] [--output FILE]"
               " [--quiet]",
     "write a new signing key (mode 0600, never over a file)",
     0, 0, BNC_CTL_O_ALG | BNC_CTL_O_KID | BNC_CTL_O_OUTPUT | BNC_CTL_O_QUIET,
     bnc_ctl_jwt_keygen},
    {"jwks", "[FILE...] [--alg RS256|PS256|...]",
     "print the public JWKS of the [jwt] verifying keys or of FILEs",
     0, BNC_CTL_ARGS_MAX, BNC_CTL_O_ALG, bnc_ctl_jwt_jwks},
    {"revoke", "JTI [--expires 1d|DATE] [--quiet]",
     "deny a JWT by its jti until it has expired anyway",
     1, 1, BNC_CTL_O_EXPIRES | BNC_CTL_O_QUIET, bnc_ctl_jwt_revoke},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_verb bnc_ctl_ban_verbs[] = {
    {"list", "[--json]",
     "list failure counters and bans of the brute-force throttle",
     0, 0, BNC_CTL_O_JSON, bnc_ctl_ban_list},
    {"clear", "USER | --network CIDR | --all",
     "clear a user's counter and ban, those of networks inside CIDR, or all",
     0, 1, BNC_CTL_O_NETWORK | BNC_CTL_O_ALL, bnc_ctl_ban_clear},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

/* A command of one word: its table holds one verb named "". */
static const struct bnc_ctl_verb bnc_ctl_explain_verbs[] = {
    {"", "METHOD URL [--user NAME | --token ID] [--group G]... [--scope S]..."
         " [--scheme NAME] [--from IP] [--https] [--host NAME]"
         " [--require \"REQ ...\"]",
     "show which access rule applies to a request and the answer",
     2, 2, BNC_CTL_O_USER | BNC_CTL_O_TOKEN | BNC_CTL_O_GROUP |
     BNC_CTL_O_SCOPE | BNC_CTL_O_SCHEME | BNC_CTL_O_FROM | BNC_CTL_O_HTTPS |
     BNC_CTL_O_HOST | BNC_CTL_O_REQUIRE,
     bnc_ctl_explain},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_verb bnc_ctl_import_verbs[] = {
    {"htpasswd", "FILE [--group GROUP]... [--allow-plaintext] [--dbm]"
                 " [--dry-run]",
     "import users from an Apache htpasswd file or htdbm database",
     1, 1, BNC_CTL_O_GROUP | BNC_CTL_O_PLAIN | BNC_CTL_O_DBM |
     BNC_CTL_O_DRYRUN, bnc_ctl_import_htpasswd},
    {"django", "FILE.json [--dry-run] [--sync-disabled]",
     "import users, groups and DRF tokens from manage.py dumpdata",
     1, 1, BNC_CTL_O_DRYRUN | BNC_CTL_O_SYNCDIS, bnc_ctl_import_django},
    {"bouncer", "FILE.json [--dry-run] [--sync-disabled]",
     "import users from a bouncerctl export",
     1, 1, BNC_CTL_O_DRYRUN | BNC_CTL_O_SYNCDIS, bnc_ctl_import_bouncer},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

/* One word too, like explain. */
static const struct bnc_ctl_verb bnc_ctl_export_verbs[] = {
    {"", "[--output FILE]",
     "write every user (hashes, groups, attributes; no token keys) as JSON",
     0, 0, BNC_CTL_O_OUTPUT, bnc_ctl_export},
    {NULL, NULL, NULL, 0, 0, 0, NULL}
};

static const struct bnc_ctl_noun bnc_ctl_nouns[] = {
    {"user", bnc_ctl_user_verbs},
    {"group", bnc_ctl_group_verbs},
    {"token", bnc_ctl_token_verbs},
    {"session", bnc_ctl_session_verbs},
    {"jwt", bnc_ctl_jwt_verbs},
    {"db", bnc_ctl_db_verbs},
    {"ban", bnc_ctl_ban_verbs},
    {"explain", bnc_ctl_explain_verbs},
    {"import", bnc_ctl_import_verbs},
    {"export", bnc_ctl_export_verbs},
    {NULL, NULL}
};

static void
bnc_ctl_vmsg(const char *kind, const char *fmt, va_list ap)
{
    struct bnc_buf b;

    /* One fputs per message so concurrent runs do not interleave mid-line. */
    bnc_buf_init(&b);
    bnc_buf_puts(&b, "bouncerctl: ");
    bnc_buf_puts(&b, kind);
    {
        char tmp[2048];

        vsnprintf(tmp, sizeof(tmp), fmt, ap);
        bnc_buf_puts(&b, tmp);
    }
    bnc_buf_putc(&b, '\n');
    fflush(stdout);
    fputs(bnc_buf_str(&b), stderr);
    bnc_buf_cleanup(&b);
}

void
bnc_ctl_errx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bnc_ctl_vmsg("", fmt, ap);
    va_end(ap);
}

void
bnc_ctl_warnx(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bnc_ctl_vmsg("warning: ", fmt, ap);
    va_end(ap);
}

const char *
bnc_ctl_vis(struct bnc_buf *b, const char *s)
{
    const unsigned char *p;

    bnc_buf_reset(b);
    for (p = (const unsigned char *)s; *p != '\0'; p++) {
        if (*p < 0x20 || *p == 0x7f)
            bnc_buf_printf(b, "\\x%02x", *p);
        else if (*p == '\\')
            bnc_buf_puts(b, "\\\\");
        else
            bnc_buf_putc(b, (char)*p);
    }
    return bnc_buf_str(b);
}

struct bnc_conf *
bnc_ctl_conf(struct bnc_ctl *ctx)
{
    struct bnc_diag d;
    struct bnc_log_opts lo;
    const char *path;
    int explicit = 0;
    size_t i;

    if (ctx->conf != NULL)
        return ctx->conf;
    path = bnc_conf_locate(ctx->conf_arg, &explicit);
    bnc_diag_init(&d);
    ctx->conf = bnc_conf_load(path, &d);
    /* Warnings are worth seeing even when the file loads. */
    for (i = 0; i < d.n; i++)
        bnc_ctl_errx("%s", d.lines[i]);
    if (ctx->conf == NULL)
        bnc_ctl_errx("configuration %s is not valid",
                     path != NULL ? path : "(built-in defaults)");
    bnc_diag_cleanup(&d);
    if (ctx->conf == NULL)
        return NULL;

    /* The store logs its own trouble through bnc_log: keep that on our
     * stderr, whatever the daemon's [log] target is. */
    lo = ctx->conf->log;
    lo.target = BNC_LOG_STDERR;
    lo.level = BNC_LOG_WARN;
    lo.ident = "bouncerctl";
    lo.file = NULL;
    bnc_ctl_audit_setup(&lo, ctx->conf);
    bnc_log_setup(&lo);
    return ctx->conf;
}

struct bnc_store *
bnc_ctl_store(struct bnc_ctl *ctx, int create)
{
    struct bnc_store_opts o;
    struct bnc_err err;
    struct stat st;
    const char *path;

    if (ctx->store != NULL)
        return ctx->store;
    if (bnc_ctl_conf(ctx) == NULL)
        return NULL;
    path = ctx->conf->store_path;
    if (path == NULL || *path == '\0') {
        bnc_ctl_errx("no store path configured ([store] path or "
                     "$BOUNCER_HOME)");
        return NULL;
    }
    /* The store reports these too, but the admin's next step differs per
     * case, so say it here in the CLI's words. */
    if (!create) {
        if (stat(path, &st) != 0) {
            if (errno == ENOENT)
                bnc_ctl_errx("store directory %s does not exist (run "
                             "'bouncerctl db init' first)", path);
            else if (errno == EACCES)
                bnc_ctl_errx("permission denied: cannot access store "
                             "directory %s", path);
            else
                bnc_ctl_errx("cannot access store directory %s: %s", path,
                             strerror(errno));
            return NULL;
        }
        if (!S_ISDIR(st.st_mode)) {
            bnc_ctl_errx("store path %s is not a directory", path);
            return NULL;
        }
        if (access(path, R_OK | W_OK | X_OK) != 0) {
            if (errno == EACCES)
                bnc_ctl_errx("permission denied: cannot write to store "
                             "directory %s (bouncerctl needs the store's "
                             "group)", path);
            else
                bnc_ctl_errx("cannot access store directory %s: %s", path,
                             strerror(errno));
            return NULL;
        }
    }
    memset(&o, 0, sizeof(o));
    o.path = path;
    o.cache_bytes = ctx->conf->store_cache_bytes;
    o.create = create;
    o.maintenance = 0;
    o.readonly = 0;
    o.revive = 1; /* reads that meet a recovery reopen and retry */
    bnc_err_clear(&err);
    ctx->store = bnc_store_open(&o, &err);
    bnc_ctl_open_store = ctx->store;
    if (ctx->store == NULL) {
        if (errno == EBUSY)
            bnc_ctl_tempfail = 1; /* exit 75: run it again */
        if (err.set)
            bnc_ctl_errx("%s", err.msg);
        else
            bnc_ctl_errx("cannot open the store at %s", path);
    }
    return ctx->store;
}

static void
bnc_ctl_usage_cmd(FILE *f, const struct bnc_ctl_noun *n,
                  const struct bnc_ctl_verb *v)
{
    fprintf(f, "usage: bouncerctl [-c FILE] %s%s%s%s%s\n", n->name,
            v->name[0] != '\0' ? " " : "", v->name,
            v->synopsis[0] != '\0' ? " " : "", v->synopsis);
}

static void
bnc_ctl_help(FILE *f)
{
    const struct bnc_ctl_noun *n;
    const struct bnc_ctl_verb *v;

    fputs("usage: bouncerctl [-c FILE] [-h | --help] [--version] "
          "COMMAND [ARGS]\n\n"
          "  -c FILE     configuration file (default: $BOUNCER_CONF, then "
          BNC_SYSCONFDIR "/bouncer.conf)\n"
          "  -h, --help  this help\n"
          "  --version   print the version\n\n"
          "commands:\n", f);
    for (n = bnc_ctl_nouns; n->name != NULL; n++)
        for (v = n->verbs; v->name != NULL; v++)
            fprintf(f, "  %s%s%s%s%s\n      %s\n", n->name,
                    v->name[0] != '\0' ? " " : "", v->name,
                    v->synopsis[0] != '\0' ? " " : "", v->synopsis, v->help);
    fputs("\nPasswords are never taken from the command line: they are "
          "prompted for\nwithout echo, or read from standard input with "
          "--password-stdin.\n", f);
}

/* Lists table names for error messages: "add, passwd, del". */
static void
bnc_ctl_names(struct bnc_buf *b, const char *const *names, size_t n,
              const char *only_prefix)
{
    size_t i, k = 0;

    for (i = 0; i < n; i++) {
        if (only_prefix != NULL &&
            strncmp(names[i], only_prefix, strlen(only_prefix)) != 0)
            continue;
        if (k++ > 0)
            bnc_buf_puts(b, ", ");
        bnc_buf_puts(b, names[i]);
    }
}

/* Exact name, else a unique prefix (relayctl). Returns the index, or -1
 * after printing "unknown"/"ambiguous" with the valid choices. ctxname is
 * the words before this one ("" for a noun). */
static int
bnc_ctl_lookup(const char *word, const char *const *names, size_t n,
               const char *ctxname)
{
    struct bnc_buf b, vis;
    size_t i, len = strlen(word), hits = 0;
    int found = -1;

    for (i = 0; i < n; i++)
        if (strcmp(word, names[i]) == 0)
            return (int)i;
    if (len > 0)
        for (i = 0; i < n; i++)
            if (strncmp(word, names[i], len) == 0) {
                hits++;
                found = (int)i;
            }
    if (hits == 1)
        return found;
    bnc_buf_init(&b);
    bnc_buf_init(&vis);
    if (hits > 1) {
        bnc_ctl_names(&b, names, n, word);
        bnc_ctl_errx("ambiguous command '%s%s' (could be: %s)", ctxname,
                     bnc_ctl_vis(&vis, word), bnc_buf_str(&b));
    } else {
        bnc_ctl_names(&b, names, n, NULL);
        bnc_ctl_errx("unknown command '%s%s' (valid: %s)", ctxname,
                     bnc_ctl_vis(&vis, word), bnc_buf_str(&b));
    }
    bnc_buf_cleanup(&b);
    bnc_buf_cleanup(&vis);
    return -1;
}

static const struct bnc_ctl_optdef *
bnc_ctl_optdef_find(const char *name, size_t len)
{
    const struct bnc_ctl_optdef *o;

    for (o = bnc_ctl_optdefs; o->name != NULL; o++)
        if (strlen(o->name) == len && strncmp(o->name, name, len) == 0)
            return o;
    return NULL;
}

static void
bnc_ctl_args_cleanup(struct bnc_ctl_args *a)
{
    free(a->pos);
    free(a->groups);
    free(a->scopes);
    free(a->cidrs);
    memset(a, 0, sizeof(*a));
}

/* Parses the words after NOUN VERB. Returns BNC_CTL_EXIT_OK, or
 * BNC_CTL_EXIT_USAGE after a message; *help is set for -h/--help. */
/* "--long-name": what may be echoed back in an error. */
static int
bnc_ctl_option_like(const char *s)
{
    size_t i;

    if (strncmp(s, "--", 2) != 0 || s[2] < 'a' || s[2] > 'z')
        return 0;
    for (i = 2; s[i] != '\0'; i++)
        if (i > 32 || !((s[i] >= 'a' && s[i] <= 'z') ||
                        (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return 0;
    return 1;
}

static int
bnc_ctl_parse_args(const struct bnc_ctl_noun *n, const struct bnc_ctl_verb *v,
                   int argc, char **argv, struct bnc_ctl_args *a, int *help)
{
    struct bnc_buf vis, valid;
    const struct bnc_ctl_optdef *od;
    int i, rc = BNC_CTL_EXIT_USAGE, only_pos = 0;

    bnc_buf_init(&vis);
    bnc_buf_init(&valid);
    a->pos = bnc_calloc((size_t)argc + 1, sizeof(*a->pos));
    a->groups = bnc_calloc((size_t)argc + 1, sizeof(*a->groups));
    a->scopes = bnc_calloc((size_t)argc + 1, sizeof(*a->scopes));
    a->cidrs = bnc_calloc((size_t)argc + 1, sizeof(*a->cidrs));
    for (i = 0; i < argc; i++) {
        char *arg = argv[i], *eq, *value = NULL, *name;
        size_t nlen;

        /* Options are long ones (and -h): a single-dash word such as a
         * base64url key "-Xb3..." is an argument, not a bundle of flags. */
        if (only_pos || arg[0] != '-' || arg[1] == '\0' ||
            (arg[1] != '-' && strcmp(arg, "-h") != 0)) {
            a->pos[a->npos++] = argv[i];
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_pos = 1;
            continue;
        }
        if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            *help = 1;
            rc = BNC_CTL_EXIT_OK;
            goto out;
        }
        eq = strchr(arg, '=');
        nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
        /* Anything that looks like a password option gets the reason, not
         * just "unknown": argv is visible to every local user (ps). */
        if (strncmp(arg, "--pass", 6) == 0 &&
            !(nlen == 16 && strncmp(arg, "--password-stdin", 16) == 0)) {
            bnc_ctl_errx("passwords are not accepted on the command line "
                         "(visible in ps and shell history); use the "
                         "prompt or --password-stdin");
            goto out;
        }
        od = bnc_ctl_optdef_find(arg, nlen);
        if (od == NULL || (v->opts & od->bit) == 0) {
            const struct bnc_ctl_optdef *o;
            size_t k = 0;

            for (o = bnc_ctl_optdefs; o->name != NULL; o++)
                if (v->opts & o->bit) {
                    bnc_buf_puts(&valid, k++ ? ", " : "");
                    bnc_buf_puts(&valid, o->name);
                }
            /* Only the name, and only if it looks like one: a value after
             * '=' or a key that happens to start with "--" is a secret. */
            name = bnc_strndup(arg, nlen);
            if (bnc_ctl_option_like(name))
                bnc_ctl_errx("unknown option '%s' for '%s%s%s' (valid: %s)",
                             bnc_ctl_vis(&vis, name), n->name,
                             v->name[0] ? " " : "", v->name,
                             k ? bnc_buf_str(&valid) : "none");
            else
                bnc_ctl_errx("unknown option for '%s%s%s' (not shown: it "
                             "may be a secret; put -- before an argument "
                             "that starts with '-'; valid: %s)",
                             n->name, v->name[0] ? " " : "", v->name,
                             k ? bnc_buf_str(&valid) : "none");
            free(name);
            goto out;
        }
        if (od->takes_value) {
            if (eq != NULL)
                value = eq + 1;
            else if (i + 1 < argc)
                value = argv[++i];
            else {
                bnc_ctl_errx("option %s needs a value", od->name);
                goto out;
            }
        } else if (eq != NULL) {
            bnc_ctl_errx("option %s takes no value", od->name);
            goto out;
        }
        switch (od->bit) {
        case BNC_CTL_O_GROUP:
            a->groups[a->ngroups++] = value;
            break;
        case BNC_CTL_O_EMAIL:
        case BNC_CTL_O_NAME:
            if ((od->bit == BNC_CTL_O_EMAIL ? a->email : a->display_name) !=
                NULL) {
                bnc_ctl_errx("option %s given twice", od->name);
                goto out;
            }
            if (od->bit == BNC_CTL_O_EMAIL)
                a->email = value;
            else
                a->display_name = value;
            break;
        case BNC_CTL_O_DISABLED:
            a->disabled = 1;
            break;
        case BNC_CTL_O_PWSTDIN:
            a->password_stdin = 1;
            break;
        case BNC_CTL_O_NOPW:
            a->no_password = 1;
            break;
        case BNC_CTL_O_JSON:
            a->json = 1;
            break;
        case BNC_CTL_O_SCOPE:
            a->scopes[a->nscopes++] = value;
            break;
        case BNC_CTL_O_CIDR:
            a->cidrs[a->ncidrs++] = value;
            break;
        case BNC_CTL_O_LABEL:
        case BNC_CTL_O_EXPIRES:
        case BNC_CTL_O_DEVICE:
        case BNC_CTL_O_USER:
        case BNC_CTL_O_TOKEN:
        case BNC_CTL_O_SCHEME:
        case BNC_CTL_O_FROM:
        case BNC_CTL_O_HOST:
        case BNC_CTL_O_REQUIRE:
        case BNC_CTL_O_ALG:
        case BNC_CTL_O_KID: {
            const char **slot = od->bit == BNC_CTL_O_LABEL     ? &a->label
                                : od->bit == BNC_CTL_O_EXPIRES ? &a->expires
                                : od->bit == BNC_CTL_O_DEVICE  ? &a->device
                                : od->bit == BNC_CTL_O_TOKEN   ? &a->token
                                : od->bit == BNC_CTL_O_SCHEME  ? &a->scheme
                                : od->bit == BNC_CTL_O_FROM    ? &a->from
                                : od->bit == BNC_CTL_O_HOST    ? &a->host
                                : od->bit == BNC_CTL_O_REQUIRE ? &a->require
                                : od->bit == BNC_CTL_O_ALG     ? &a->alg
                                : od->bit == BNC_CTL_O_KID     ? &a->kid
                                                               : &a->user;

            if (*slot != NULL) {
                bnc_ctl_errx("option %s given twice", od->name);
                goto out;
            }
            *slot = value;
            break;
        }
        case BNC_CTL_O_QUIET:
            a->quiet = 1;
            break;
        case BNC_CTL_O_TOKENS:
            a->tokens = 1;
            break;
        case BNC_CTL_O_NETWORK:
            if (a->network != NULL) {
                bnc_ctl_errx("option %s given twice", od->name);
                goto out;
            }
            a->network = value;
            break;
        case BNC_CTL_O_ALL:
            a->all = 1;
            break;
        case BNC_CTL_O_HTTPS:
            a->https = 1;
            break;
        case BNC_CTL_O_DRYRUN:
            a->dry_run = 1;
            break;
        case BNC_CTL_O_PLAIN:
            a->allow_plain = 1;
            break;
        case BNC_CTL_O_SYNCDIS:
            a->sync_disabled = 1;
            break;
        case BNC_CTL_O_DBM:
            a->dbm = 1;
            break;
        case BNC_CTL_O_OUTPUT:
            if (a->output != NULL) {
                bnc_ctl_errx("option %s given twice", od->name);
                goto out;
            }
            a->output = value;
            break;
        default:
            break;
        }
    }
    if (a->password_stdin && a->no_password) {
        bnc_ctl_errx("--password-stdin and --no-password exclude each other");
        goto out;
    }
    if (a->npos < v->min_args) {
        bnc_ctl_errx("missing argument for '%s%s%s'", n->name,
                     v->name[0] ? " " : "", v->name);
        goto out;
    }
    if (a->npos > v->max_args) {
        bnc_ctl_errx("superfluous argument '%s' for '%s%s%s'",
                     bnc_ctl_vis(&vis, a->pos[v->max_args]), n->name,
                     v->name[0] ? " " : "", v->name);
        goto out;
    }
    if (a->ngroups == 0)
        bnc_free(a->groups);
    if (a->nscopes == 0)
        bnc_free(a->scopes);
    if (a->ncidrs == 0)
        bnc_free(a->cidrs);
    rc = BNC_CTL_EXIT_OK;
out:
    bnc_buf_cleanup(&vis);
    bnc_buf_cleanup(&valid);
    return rc;
}

static int
bnc_ctl_dispatch(struct bnc_ctl *ctx, int argc, char **argv)
{
    const char *names[16];
    const struct bnc_ctl_noun *n;
    const struct bnc_ctl_verb *v;
    struct bnc_ctl_args a;
    char cmd[64], ctxname[40];
    size_t k;
    int i, rc, help = 0;

    memset(&a, 0, sizeof(a));
    for (k = 0; bnc_ctl_nouns[k].name != NULL && k < 16; k++)
        names[k] = bnc_ctl_nouns[k].name;
    i = bnc_ctl_lookup(argv[0], names, k, "");
    if (i < 0)
        return BNC_CTL_EXIT_USAGE;
    n = &bnc_ctl_nouns[i];
    if (n->verbs[0].name[0] == '\0') {
        /* One-word command (explain, export): the rest are its
         * arguments. */
        v = &n->verbs[0];
        argc += 1;
        argv -= 1;
        goto run;
    }
    for (k = 0; n->verbs[k].name != NULL && k < 16; k++)
        names[k] = n->verbs[k].name;
    if (argc < 2) {
        struct bnc_buf b;

        bnc_buf_init(&b);
        bnc_ctl_names(&b, names, k, NULL);
        bnc_ctl_errx("missing command after '%s' (valid: %s)", n->name,
                     bnc_buf_str(&b));
        bnc_buf_cleanup(&b);
        return BNC_CTL_EXIT_USAGE;
    }
    snprintf(ctxname, sizeof(ctxname), "%s ", n->name);
    i = bnc_ctl_lookup(argv[1], names, k, ctxname);
    if (i < 0)
        return BNC_CTL_EXIT_USAGE;
    v = &n->verbs[i];
run:
    rc = bnc_ctl_parse_args(n, v, argc - 2, argv + 2, &a, &help);
    if (help) {
        bnc_ctl_usage_cmd(stdout, n, v);
        printf("  %s\n", v->help);
        goto out;
    }
    if (rc != BNC_CTL_EXIT_OK) {
        bnc_ctl_usage_cmd(stderr, n, v);
        goto out;
    }
    snprintf(cmd, sizeof(cmd), "%s%s%s", n->name, v->name[0] ? " " : "",
             v->name);
    a.cmd = cmd;
    rc = v->run(ctx, &a);
    bnc_ctl_dispatch_audit(ctx, &a, rc);
out:
    bnc_ctl_args_cleanup(&a);
    return rc;
}

/* Width in characters: UTF-8 continuation bytes do not count. */
static size_t
bnc_ctl_width(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

void
bnc_ctl_print_table(const char *const *head, size_t ncols, char *const *cells,
                    size_t nrows)
{
    size_t w[16], r, c, k;

    if (ncols > sizeof(w) / sizeof(w[0]))
        ncols = sizeof(w) / sizeof(w[0]);
    for (c = 0; c < ncols; c++) {
        w[c] = bnc_ctl_width(head[c]);
        for (r = 0; r < nrows; r++) {
            size_t cw = bnc_ctl_width(cells[r * ncols + c]);

            if (cw > w[c])
                w[c] = cw;
        }
    }
    for (r = 0; r <= nrows; r++) {
        for (c = 0; c < ncols; c++) {
            const char *s = r == 0 ? head[c] : cells[(r - 1) * ncols + c];

            fputs(s, stdout);
            if (c + 1 < ncols)
                for (k = bnc_ctl_width(s); k < w[c] + 2; k++)
                    putchar(' ');
        }
        putchar('\n');
    }
}

int
bnc_ctl_store_failed_what(int rc, const char *what)
{
    if (rc == BNC_STORE_DEAD)
        bnc_ctl_store_dead(what);
    else
        bnc_ctl_errx("cannot %s: store error (code %d)", what, rc);
    return BNC_CTL_EXIT_FAIL;
}

const char *
bnc_ctl_time(char *buf, size_t size, int64_t t)
{
    struct tm tm;
    time_t tt = (time_t)t;

    if (t <= 0 || gmtime_r(&tt, &tm) == NULL ||
        strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        bnc_strlcpy(buf, "-", size);
    return buf;
}

void
bnc_ctl_store_dead(const char *what)
{
    struct bnc_err err;

    bnc_ctl_tempfail = 1;
    /* The commit may or may not have happened when the panic struck. */
    bnc_ctl_errx("cannot %s: another process died inside the store and it "
                 "had to be recovered; the change may not have been made: "
                 "check, and run the command again", what);
    bnc_err_clear(&err);
    if (bnc_ctl_open_store != NULL &&
        bnc_store_recover(bnc_ctl_open_store, &err) != 0)
        bnc_ctl_errx("%s", err.msg);
}

int
main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0}
    };
    struct bnc_ctl ctx;
    int c, rc;

    /* Every process sharing the environment needs umask 007, or files it
     * creates (and region files rebuilt by its recovery) lock the others
     * out (berkeley-db.md 8). */
    umask(007);
    memset(&ctx, 0, sizeof(ctx));

    opterr = 0;
    /* "+": stop at the first non-option, the noun; verbs parse the rest. */
    while ((c = getopt_long(argc, argv, "+:c:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            ctx.conf_arg = optarg;
            break;
        case 'h':
            bnc_ctl_help(stdout);
            return BNC_CTL_EXIT_OK;
        case 'V':
            printf("bouncerctl %s\n", PACKAGE_VERSION);
            return BNC_CTL_EXIT_OK;
        case ':':
            bnc_ctl_errx("option -%c needs an argument", optopt);
            goto usage;
        default:
            if (optopt != 0)
                bnc_ctl_errx("unknown option -%c", optopt);
            else
                bnc_ctl_errx("unknown option %s", argv[optind - 1]);
            goto usage;
        }
    }
    if (optind >= argc) {
        bnc_ctl_errx("missing command (valid: user, group, token, session, "
                     "db, ban, explain, import, export)");
        goto usage;
    }
    rc = bnc_ctl_dispatch(&ctx, argc - optind, argv + optind);
    if (rc != BNC_CTL_EXIT_OK && bnc_ctl_tempfail)
        rc = BNC_CTL_EXIT_TEMPFAIL;
    bnc_store_close(ctx.store);
    bnc_conf_free(ctx.conf);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        bnc_ctl_errx("error writing to standard output: %s",
                     strerror(errno));
        rc = BNC_CTL_EXIT_FAIL;
    }
    return rc;
usage:
    fputs("usage: bouncerctl [-c FILE] [-h | --help] [--version] COMMAND "
          "[ARGS]\n(bouncerctl --help lists the commands)\n", stderr);
    return BNC_CTL_EXIT_USAGE;
}
