/* SPDX-License-Identifier: MIT */
/* Diagnostic log and the one-line-per-decision log, to stderr or syslog. */
#ifndef BNC_LOG_LOG_H
#define BNC_LOG_LOG_H

#include <stdint.h>
#include "util/buf.h"
#include "util/err.h"

enum bnc_log_level { BNC_LOG_ERR = 0, BNC_LOG_WARN, BNC_LOG_INFO, BNC_LOG_DEBUG };
enum bnc_log_target { BNC_LOG_STDERR = 0, BNC_LOG_SYSLOG };
enum bnc_log_format { BNC_LOG_LOGFMT = 0, BNC_LOG_JSON };

struct bnc_log_opts {
    enum bnc_log_target target;
    enum bnc_log_level level;
    enum bnc_log_format format;
    int facility;           /* syslog facility, LOG_AUTHPRIV by default */
    const char *ident;      /* "bouncer" */
};

/* (Re)configures the process-wide log; thread-safe to call on SIGHUP. */
void bnc_log_setup(const struct bnc_log_opts *o);
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

#endif
