/* SPDX-License-Identifier: MIT */
/* Declarations shared by the bouncerctl files: the run context, parsed
 * command arguments, messages and the password input helpers. */
#ifndef BNC_CTL_CTL_H
#define BNC_CTL_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/err.h"

/* Exit status (relayctl/htpasswd habit): scripts can tell "you called me
 * wrong" from "it did not work". */
#define BNC_CTL_EXIT_OK 0
#define BNC_CTL_EXIT_FAIL 1
#define BNC_CTL_EXIT_USAGE 2
/* sysexits' EX_TEMPFAIL: the store was panicked by a process that died
 * inside Berkeley DB and is being recovered; run the command again. */
#define BNC_CTL_EXIT_TEMPFAIL 75

/* Longest password accepted, in bytes. Argon2 takes any length, but a
 * bound keeps the buffers on the stack, where they are wiped. */
#define BNC_CTL_PW_MAX 1024
/* Under this many characters we warn (OpenBSD htpasswd nag()), not refuse. */
#define BNC_CTL_PW_WARN_CHARS 8

/* Options a verb may allow (bit mask in its table entry). */
enum bnc_ctl_optbit {
    BNC_CTL_O_GROUP = 1u << 0,      /* --group G, repeatable */
    BNC_CTL_O_EMAIL = 1u << 1,      /* --email E */
    BNC_CTL_O_NAME = 1u << 2,       /* --name "Display Name" */
    BNC_CTL_O_DISABLED = 1u << 3,   /* --disabled */
    BNC_CTL_O_PWSTDIN = 1u << 4,    /* --password-stdin */
    BNC_CTL_O_NOPW = 1u << 5,       /* --no-password */
    BNC_CTL_O_JSON = 1u << 6,       /* --json */
    BNC_CTL_O_LABEL = 1u << 7,      /* --label TEXT */
    BNC_CTL_O_EXPIRES = 1u << 8,    /* --expires 30d|DATE */
    BNC_CTL_O_SCOPE = 1u << 9,      /* --scope S, repeatable */
    BNC_CTL_O_CIDR = 1u << 10,      /* --allow-cidr C, repeatable */
    BNC_CTL_O_DEVICE = 1u << 11,    /* --device ID */
    BNC_CTL_O_USER = 1u << 12,      /* --user NAME */
    BNC_CTL_O_QUIET = 1u << 13,     /* --quiet */
    BNC_CTL_O_NETWORK = 1u << 14,   /* --network CIDR (ban clear) */
    BNC_CTL_O_ALL = 1u << 15,       /* --all (ban clear) */
    BNC_CTL_O_TOKEN = 1u << 16,     /* --token ID (explain) */
    BNC_CTL_O_SCHEME = 1u << 17,    /* --scheme NAME (explain) */
    BNC_CTL_O_FROM = 1u << 18,      /* --from IP (explain) */
    BNC_CTL_O_HTTPS = 1u << 19,     /* --https (explain) */
    BNC_CTL_O_HOST = 1u << 20,      /* --host NAME (explain) */
    BNC_CTL_O_REQUIRE = 1u << 21,   /* --require "REQ ..." (explain) */
    BNC_CTL_O_DRYRUN = 1u << 22,    /* --dry-run (import) */
    BNC_CTL_O_PLAIN = 1u << 23,     /* --allow-plaintext (import htpasswd) */
    BNC_CTL_O_DBM = 1u << 24,       /* --dbm (import htpasswd) */
    BNC_CTL_O_OUTPUT = 1u << 25,    /* --output FILE (export, jwt keygen) */
    BNC_CTL_O_ALG = 1u << 26,       /* --alg ES256 (jwt) */
    BNC_CTL_O_KID = 1u << 27,       /* --kid K (jwt keygen) */
    BNC_CTL_O_TOKENS = 1u << 28,    /* --tokens (user logout-all) */
    BNC_CTL_O_SYNCDIS = 1u << 29    /* --sync-disabled (import django|bouncer) */
};

/* One parsed command line after NOUN VERB. Strings are borrowed from argv. */
struct bnc_ctl_args {
    const char *cmd;        /* "user add": for messages */
    char **pos;             /* positional arguments (owned array, borrowed strings) */
    size_t npos;
    char **groups;          /* --group values, NULL-terminated (owned array) or NULL */
    size_t ngroups;
    const char *email;
    const char *display_name;
    int disabled;
    int password_stdin;
    int no_password;
    int json;
    /* token create / revoke */
    const char *label;
    const char *expires;
    char **scopes;          /* --scope values, NULL-terminated (owned array) or NULL */
    size_t nscopes;
    char **cidrs;           /* --allow-cidr values, same */
    size_t ncidrs;
    const char *device;
    const char *user;       /* --user */
    int quiet;
    /* ban clear */
    const char *network;    /* --network */
    int all;                /* --all */
    /* explain */
    const char *token;      /* --token: a token's public id */
    const char *scheme;     /* --scheme */
    const char *from;       /* --from */
    int https;              /* --https */
    const char *host;       /* --host */
    const char *require;    /* --require: as BOUNCER_REQUIRE from the server */
    /* import / export */
    int dry_run;
    int allow_plain;
    int sync_disabled;      /* --sync-disabled: the source may enable a user */
    int dbm;
    const char *output;     /* --output (export, jwt keygen) */
    /* jwt */
    const char *alg;        /* --alg */
    const char *kid;        /* --kid */
    int tokens;             /* --tokens (user logout-all) */
};

/* What a command runs with. Config and store are opened on demand, so a
 * command validates its input before touching either. */
struct bnc_ctl {
    const char *conf_arg;       /* -c FILE, or NULL */
    struct bnc_conf *conf;      /* owned; NULL until bnc_ctl_conf() */
    struct bnc_store *store;    /* owned; NULL until bnc_ctl_store() */
    /* Audit log of the change this run makes (audit.c). A command may set
     * target and detail for the line bnc_ctl_dispatch_audit() writes; one
     * that calls bnc_ctl_audit() itself sets audited. Never a secret. */
    char audit_target[256];
    char audit_detail[256];
    int audited;
};

/* Messages: "bouncerctl: ..." on stderr. */
void bnc_ctl_errx(const char *fmt, ...) BNC_PRINTF(1, 2);
/* Prints a header row and nrows rows of ncols cells (row-major), columns
 * padded to their widest cell in characters (cells may be UTF-8). */
void bnc_ctl_print_table(const char *const *head, size_t ncols,
                         char *const *cells, size_t nrows);
/* Reports a store that needs recovery (BNC_STORE_DEAD) for "cannot WHAT":
 * recovers it for the next command and makes the exit status 75. */
void bnc_ctl_store_dead(const char *what);
/* A failed store call of a command on WHAT ("revoke tokens", ...): the
 * message, or bnc_ctl_store_dead's recovery. Returns BNC_CTL_EXIT_FAIL. */
int bnc_ctl_store_failed_what(int rc, const char *what);
/* Unix time as RFC 3339 UTC into buf, "-" for 0 (never). Returns buf. */
const char *bnc_ctl_time(char *buf, size_t size, int64_t t);
void bnc_ctl_warnx(const char *fmt, ...) BNC_PRINTF(1, 2);
/* Returns s with control bytes and backslashes shown as \xNN / \\, for
 * quoting user input in messages. The string lives in b (reset first). */
const char *bnc_ctl_vis(struct bnc_buf *b, const char *s);

/* Loads the configuration once (-c, $BOUNCER_CONF, sysconfdir, defaults);
 * prints its diagnostics. Returns NULL after printing when it is bad. */
struct bnc_conf *bnc_ctl_conf(struct bnc_ctl *ctx);
/* Opens the store at the configured path (create: db init only). Prints a
 * clear message and returns NULL on failure. */
struct bnc_store *bnc_ctl_store(struct bnc_ctl *ctx, int create);

/* Audit (audit.c). One line for an admin change, to the configured audit
 * sink (syslog when that is stderr): action "user add", target a user name
 * or a token/session id (never a key or cookie), rc the command's exit
 * status (0 = ok), detail optional. Does nothing before the configuration
 * was loaded (no change can have been made). New verbs that change
 * anything call it (or are added to audit.c's table). */
void bnc_ctl_audit(struct bnc_ctl *ctx, const char *action, const char *target,
                   int rc, const char *detail);
/* After a verb ran: the line for the verbs of audit.c's table, unless the
 * command wrote its own. */
void bnc_ctl_dispatch_audit(struct bnc_ctl *ctx, const struct bnc_ctl_args *a,
                            int rc);
/* bouncerctl's audit sink from the configuration. */
void bnc_ctl_audit_setup(struct bnc_log_opts *lo, const struct bnc_conf *conf);

/* Commands (cmd_user.c, cmd_db.c, cmd_token.c, cmd_session.c). Each returns a BNC_CTL_EXIT_* value. */
int bnc_ctl_user_add(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_user_passwd(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_user_del(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_user_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_user_show(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_user_disable(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_user_enable(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_user_logout_all(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_group_add(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_group_del(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_db_init(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_db_stats(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_db_verify(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_db_backup(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_db_gc(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_db_metrics(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
/* cmd_token.c */
int bnc_ctl_token_create(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_token_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_token_revoke(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
/* --expires of token create, shared by jwt revoke: a lifetime ("30d")
 * from now or a UTC date; prints its own error. 0 or -1. */
int bnc_ctl_token_expires(const char *s, int64_t now, int64_t *out);
/* cmd_jwt.c */
int bnc_ctl_jwt_keygen(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_jwt_jwks(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_jwt_revoke(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
/* cmd_session.c */
int bnc_ctl_session_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_session_revoke(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
/* Ends every session of user (store open), printing how many; a failure
 * is a warning (not_before voids them anyway). 0 or -1. */
int bnc_ctl_session_end_user(struct bnc_ctl *ctx, const char *user);

/* cmd_ban.c: the brute-force throttle's counters and bans */
int bnc_ctl_ban_list(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_ban_clear(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
/* cmd_explain.c */
int bnc_ctl_explain(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
/* cmd_migrate.c: import htpasswd|django|bouncer, export */
int bnc_ctl_import_htpasswd(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_import_django(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_import_bouncer(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
int bnc_ctl_export(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);
/* cmd_db.c */
int bnc_ctl_db_gc(struct bnc_ctl *ctx, const struct bnc_ctl_args *a);

/* A progress bar on stderr when stderr is a terminal, silent otherwise
 * (tty.c): "WHAT  12000/100000 [####      ] 12%", redrawn at most ten
 * times a second. Messages printed meanwhile should call _clear first. */
struct bnc_ctl_progress {
    const char *pg_what;
    size_t pg_total;
    int pg_on;
    int pg_shown;
    int64_t pg_last_ms;
};
void bnc_ctl_progress_start(struct bnc_ctl_progress *p, const char *what,
                            size_t total);
void bnc_ctl_progress_update(struct bnc_ctl_progress *p, size_t done);
void bnc_ctl_progress_clear(struct bnc_ctl_progress *p);

/* Password input (tty.c). buf must hold size >= BNC_CTL_PW_MAX + 2 bytes;
 * the caller wipes it with bnc_memzero() when done, success or not. */

/* One line from standard input, one trailing newline removed. 0 or -1 (err). */
int bnc_ctl_pw_stdin(char *buf, size_t size, size_t *len, struct bnc_err *err);
/* Prompts on /dev/tty with echo off and reads one line. 0 or -1 (err). */
int bnc_ctl_pw_tty(const char *prompt, char *buf, size_t size, size_t *len,
                   struct bnc_err *err);
/* A new password: from stdin, or prompted twice on the tty (must match).
 * Refuses an empty one, warns when it is short. Prints its own errors.
 * 0 or -1. */
int bnc_ctl_pw_new(int from_stdin, char *buf, size_t size, size_t *len);

#endif
