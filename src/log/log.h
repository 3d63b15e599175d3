/* SPDX-License-Identifier: MIT */
/* Diagnostic log and the audit log (one line per decision and per admin
 * change), each to stderr, syslog or a file. */
#ifndef BNC_LOG_LOG_H
#define BNC_LOG_LOG_H

#include <stdint.h>
#include "util/buf.h"
#include "util/err.h"

enum bnc_log_level { BNC_LOG_ERR = 0, BNC_LOG_WARN, BNC_LOG_INFO, BNC_LOG_DEBUG };
enum bnc_log_target { BNC_LOG_STDERR = 0, BNC_LOG_SYSLOG, BNC_LOG_FILE };
enum bnc_log_format { BNC_LOG_LOGFMT = 0, BNC_LOG_JSON };

struct bnc_log_opts {
    enum bnc_log_target target;
    enum bnc_log_level level;
    enum bnc_log_format format;
    int facility;           /* syslog facility, LOG_AUTHPRIV by default */
    const char *ident;      /* "bouncer" */
    const char *file;       /* target = file:PATH: PATH (borrowed) */
    /* [log] audit: where decision and admin lines go. Unset (audit_set 0):
     * with the diagnostics, filtered by level as they always were. Set:
     * its own sink, every line written whatever the level. */
    int audit_set;
    enum bnc_log_target audit;
    const char *audit_file; /* audit = file:PATH: PATH (borrowed) */
};

/* (Re)configures the process-wide log; thread-safe to call on SIGHUP.
 * Files are opened with O_APPEND (one write per line, so processes sharing
 * a file never interleave) and mode 0660 less the umask. A file that cannot
 * be opened falls back to stderr, with an error there. */
void bnc_log_setup(const struct bnc_log_opts *o);
/* Reopens the log files by name (logrotate renamed them): each sink keeps
 * its descriptor number (dup2), so a line being written by another thread
 * lands whole in the old file or the new one, never nowhere. 0, or -1 when
 * a file could not be opened (the old one is kept). */
int bnc_log_reopen(void);
void bnc_log(enum bnc_log_level lvl, const char *fmt, ...) BNC_PRINTF(2, 3);
/* Appends ": strerror(errno)". */
void bnc_log_errno(enum bnc_log_level lvl, const char *fmt, ...) BNC_PRINTF(2, 3);
int bnc_log_enabled(enum bnc_log_level lvl);

/* One decision. Strings may be NULL ("-"). Never pass a secret. */
struct bnc_log_decision {
    const char *client;     /* REMOTE_ADDR */
    const char *method;
    const char *uri;
    size_t uri_len;         /* bytes of uri to log (0 = all): the path only */
    const char *scheme;     /* scheme that decided, or "-" for anonymous */
    const char *user;
    const char *cred_id;
    const char *outcome;    /* allow, deny, error */
    int status;
    const char *reason;     /* short, fixed vocabulary + detail */
    int64_t micros;
};
void bnc_log_decision(const struct bnc_log_decision *d);
/* The same in two steps, so the line can be written after the answer has
 * gone to the web server: format fills line (empty if the level is filtered
 * out); write emits it and empties it. */
struct bnc_log_line {
    struct bnc_buf buf;
    enum bnc_log_level level;
};
void bnc_log_decision_format(const struct bnc_log_decision *d,
                             struct bnc_log_line *line);
void bnc_log_decision_write(struct bnc_log_line *line);

/* One admin change (bouncerctl and later admin verbs) for the audit log.
 * Strings may be NULL ("-"). Never pass a secret: name a token or session
 * by its id, never by its key or cookie. */
struct bnc_log_admin {
    const char *actor;      /* OS user running the command: "root" */
    long uid;
    const char *action;     /* "user add", "token revoke", ... */
    const char *target;     /* user name, token id, session id, group */
    const char *outcome;    /* ok, fail */
    const char *detail;     /* short, no secret: "id=tk_..." */
};
void bnc_log_admin(const struct bnc_log_admin *a);
/* Formats without writing (tests): the line as it would be written. */
void bnc_log_admin_format(const struct bnc_log_admin *a, struct bnc_buf *out);

#endif
