/* SPDX-License-Identifier: MIT */
/* Diagnostic and audit logs. Each line is formatted into a local buffer
 * and written with one write(2) so lines from threads and processes sharing
 * the server's error log (or an O_APPEND file) never interleave. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "util/buf.h"
#include "util/str.h"

/* Where lines go. target and fd are read without the lock by every worker
 * (atomically); a file sink keeps its descriptor number for the life of the
 * process and only ever has another file dup2()'ed onto it, so a writer
 * never meets a closed or reused descriptor. */
struct bnc_log_sink {
    int target;             /* enum bnc_log_target */
    int fd;                 /* our file descriptor, -1 until a file is used */
    char path[PATH_MAX];
};

static pthread_mutex_t bnc_log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bnc_log_opts bnc_log_cur = {
    BNC_LOG_STDERR, BNC_LOG_INFO, BNC_LOG_LOGFMT, LOG_AUTHPRIV, "bouncer",
    NULL, 0, BNC_LOG_STDERR, NULL};
static char bnc_log_ident[32] = "bouncer";
static int bnc_log_syslog_open;
static struct bnc_log_sink bnc_log_diag = {BNC_LOG_STDERR, -1, ""};
static struct bnc_log_sink bnc_log_audit_sink = {BNC_LOG_STDERR, -1, ""};
static int bnc_log_audit_own; /* [log] audit set: not filtered by level */

static const char *const bnc_log_names[] = {"error", "warn", "info", "debug"};
static const int bnc_log_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

static void
bnc_log_write_all(int fd, const char *p, size_t left)
{
    while (left > 0) {
        ssize_t n = write(fd, p, left);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break; /* nowhere left to complain */
        p += n;
        left -= (size_t)n;
    }
}

/* Straight to stderr: the log itself could not be set up. */
static void
bnc_log_complain(const char *fmt, ...) BNC_PRINTF(1, 2);
static void
bnc_log_complain(const char *fmt, ...)
{
    char msg[PATH_MAX + 256];
    int n;
    va_list ap;

    n = snprintf(msg, sizeof(msg), "%s[%ld]: error: ", bnc_log_ident,
                 (long)getpid());
    va_start(ap, fmt);
    vsnprintf(msg + n, sizeof(msg) - (size_t)n - 1, fmt, ap);
    va_end(ap);
    n = (int)strlen(msg);
    msg[n++] = '\n';
    bnc_log_write_all(STDERR_FILENO, msg, (size_t)n);
}

/* Opens path onto the sink's descriptor (dup2 keeps its number). 0 or -1
 * (complained; the sink is left as it was). Called with the lock held. */
static int
bnc_log_sink_open(struct bnc_log_sink *s, const char *path)
{
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
                  0660);

    if (fd < 0) {
        bnc_log_complain("cannot open log file %s: %s", path,
                         strerror(errno));
        return -1;
    }
    if (s->fd < 0) {
        __atomic_store_n(&s->fd, fd, __ATOMIC_RELEASE);
    } else {
        if (dup2(fd, s->fd) < 0) {
            bnc_log_complain("cannot reopen log file %s: %s", path,
                             strerror(errno));
            close(fd);
            return -1;
        }
        close(fd);
    }
    if (path != s->path)
        bnc_strlcpy(s->path, path, sizeof(s->path));
    return 0;
}

static void
bnc_log_sink_set(struct bnc_log_sink *s, enum bnc_log_target t,
                 const char *path)
{
    if (t == BNC_LOG_FILE) {
        if (path == NULL || bnc_log_sink_open(s, path) != 0) {
            bnc_log_complain("logging to stderr instead");
            t = BNC_LOG_STDERR;
        }
    } else {
        s->path[0] = '\0';
    }
    __atomic_store_n(&s->target, (int)t, __ATOMIC_RELEASE);
}

void
bnc_log_setup(const struct bnc_log_opts *o)
{
    pthread_mutex_lock(&bnc_log_lock);
    bnc_log_cur = *o;
    snprintf(bnc_log_ident, sizeof(bnc_log_ident), "%s",
             o->ident ? o->ident : "bouncer");
    bnc_log_cur.ident = bnc_log_ident;
    bnc_log_cur.file = NULL;       /* borrowed strings: the paths are kept */
    bnc_log_cur.audit_file = NULL; /* in the sinks */
    if (bnc_log_syslog_open) {
        closelog();
        bnc_log_syslog_open = 0;
    }
    if (o->target == BNC_LOG_SYSLOG ||
        (o->audit_set && o->audit == BNC_LOG_SYSLOG)) {
        openlog(bnc_log_ident, LOG_PID | LOG_NDELAY, o->facility);
        bnc_log_syslog_open = 1;
    }
    bnc_log_sink_set(&bnc_log_diag, o->target, o->file);
    if (o->audit_set)
        bnc_log_sink_set(&bnc_log_audit_sink, o->audit, o->audit_file);
    else
        bnc_log_sink_set(&bnc_log_audit_sink, o->target, o->file);
    bnc_log_audit_own = o->audit_set;
    pthread_mutex_unlock(&bnc_log_lock);
}

int
bnc_log_reopen(void)
{
    struct bnc_log_sink *sinks[2] = {&bnc_log_diag, &bnc_log_audit_sink};
    int i, rc = 0;

    pthread_mutex_lock(&bnc_log_lock);
    for (i = 0; i < 2; i++)
        if (__atomic_load_n(&sinks[i]->target, __ATOMIC_ACQUIRE) ==
                BNC_LOG_FILE &&
            bnc_log_sink_open(sinks[i], sinks[i]->path) != 0)
            rc = -1;
    pthread_mutex_unlock(&bnc_log_lock);
    return rc;
}

int
bnc_log_enabled(enum bnc_log_level lvl)
{
    return lvl <= bnc_log_cur.level;
}

static void
bnc_log_timestamp(struct bnc_buf *b)
{
    struct timespec ts;
    struct tm tm;
    char t[40];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(t, sizeof(t), "%Y-%m-%dT%H:%M:%S", &tm);
    bnc_buf_printf(b, "%s.%03ldZ", t, ts.tv_nsec / 1000000);
}

/* Writes one finished line to a sink. */
static void
bnc_log_emit(struct bnc_log_sink *s, enum bnc_log_level lvl,
             struct bnc_buf *line)
{
    int t = __atomic_load_n(&s->target, __ATOMIC_ACQUIRE);

    if (t == BNC_LOG_SYSLOG) {
        syslog(bnc_log_prio[lvl], "%s", bnc_buf_str(line));
        return;
    }
    bnc_buf_putc(line, '\n');
    bnc_log_write_all(t == BNC_LOG_FILE
                          ? __atomic_load_n(&s->fd, __ATOMIC_ACQUIRE)
                          : STDERR_FILENO,
                      line->data, line->len);
}

/* Appends a diagnostic message with its control characters shown as
 * \n, \xNN (C0, DEL) or \xc2\xNN (C1, in UTF-8): messages quote user
 * names, paths and header values, and none of them may start a forged
 * log line or send escape sequences to an admin's terminal. */
static void
bnc_log_put_msg(struct bnc_buf *b, const char *msg)
{
    const unsigned char *p = (const unsigned char *)msg;

    for (; *p != '\0'; p++) {
        if (*p == '\n') {
            bnc_buf_puts(b, "\\n");
        } else if (*p < 0x20 || *p == 0x7f) {
            bnc_buf_printf(b, "\\x%02x", *p);
        } else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
            bnc_buf_printf(b, "\\xc2\\x%02x", p[1]);
            p++;
        } else {
            bnc_buf_putc(b, (char)*p);
        }
    }
}

static void
bnc_log_v(enum bnc_log_level lvl, int with_errno, int err, const char *fmt,
          va_list ap)
{
    struct bnc_buf b;
    char msg[2048];

    if (!bnc_log_enabled(lvl))
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    bnc_buf_init(&b);
    if (__atomic_load_n(&bnc_log_diag.target, __ATOMIC_RELAXED) !=
        BNC_LOG_SYSLOG) {
        bnc_log_timestamp(&b);
        bnc_buf_printf(&b, " %s[%ld]: %s: ", bnc_log_ident, (long)getpid(),
                       bnc_log_names[lvl]);
    }
    bnc_log_put_msg(&b, msg);
    if (with_errno)
        bnc_buf_printf(&b, ": %s", strerror(err));
    bnc_log_emit(&bnc_log_diag, lvl, &b);
    bnc_buf_cleanup(&b);
}

void
bnc_log(enum bnc_log_level lvl, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bnc_log_v(lvl, 0, 0, fmt, ap);
    va_end(ap);
}

void
bnc_log_errno(enum bnc_log_level lvl, const char *fmt, ...)
{
    va_list ap;
    int err = errno;

    va_start(ap, fmt);
    bnc_log_v(lvl, 1, err, fmt, ap);
    va_end(ap);
}

static void
bnc_log_kv(struct bnc_buf *b, int json, int *first, const char *k,
           const char *v)
{
    if (v == NULL || *v == '\0')
        v = "-";
    if (json) {
        bnc_buf_puts(b, *first ? "{" : ",");
        bnc_buf_json_str(b, k);
        bnc_buf_putc(b, ':');
        bnc_buf_json_str(b, v);
    } else {
        if (!*first)
            bnc_buf_putc(b, ' ');
        bnc_buf_puts(b, k);
        bnc_buf_putc(b, '=');
        bnc_buf_logfmt_val(b, v);
    }
    *first = 0;
}

/* Decimal without printf: this runs for every request. */
static const char *
bnc_log_itoa(long long v, char buf[24])
{
    char *p = buf + 23;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v
                                 : (unsigned long long)v;

    *p = '\0';
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    return p;
}

/* "bouncer[4711]: " before a logfmt line on stderr, which the web server's
 * error log shares with other programs; files and syslog do without. */
static void
bnc_log_prefix(struct bnc_buf *b, int json, char pid[24])
{
    if (json || __atomic_load_n(&bnc_log_audit_sink.target,
                                __ATOMIC_RELAXED) != BNC_LOG_STDERR)
        return;
    bnc_buf_puts(b, bnc_log_ident);
    bnc_buf_putc(b, '[');
    bnc_buf_puts(b, bnc_log_itoa((long long)getpid(), pid));
    bnc_buf_puts(b, "]: ");
}

/* ISO 8601 UTC with milliseconds; strftime only when the second changes. */
static void
bnc_log_ts_fast(char out[32])
{
    static _Thread_local time_t last;
    static _Thread_local char sec[24];
    struct timespec ts;
    long ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != last || sec[0] == '\0') {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm);
        last = ts.tv_sec;
    }
    ms = ts.tv_nsec / 1000000;
    memcpy(out, sec, 19);
    out[19] = '.';
    out[20] = (char)('0' + ms / 100);
    out[21] = (char)('0' + ms / 10 % 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

void
bnc_log_decision_format(const struct bnc_log_decision *d,
                        struct bnc_log_line *line)
{
    struct bnc_buf *b = &line->buf;
    char ts[32], num[24], us[24], pid[24];
    int json = bnc_log_cur.format == BNC_LOG_JSON, first = 1;
    enum bnc_log_level lvl;

    /* nginx levels: a decision is info; store trouble is an error. */
    lvl = (d->outcome != NULL && strcmp(d->outcome, "error") == 0)
              ? BNC_LOG_ERR
              : BNC_LOG_INFO;
    bnc_buf_reset(b);
    line->level = lvl;
    if (!bnc_log_audit_own && !bnc_log_enabled(lvl))
        return;
    bnc_log_ts_fast(ts);
    bnc_log_prefix(b, json, pid);
    bnc_log_kv(b, json, &first, "ts", ts);
    bnc_log_kv(b, json, &first, "event", "decision");
    /* Files and syslog are shared by every process: say which one. */
    bnc_log_kv(b, json, &first, "pid", bnc_log_itoa((long long)getpid(), pid));
    bnc_log_kv(b, json, &first, "client", d->client);
    bnc_log_kv(b, json, &first, "method", d->method);
    if (d->uri != NULL && d->uri_len > 0 && d->uri[d->uri_len] != '\0') {
        char path[2048];
        size_t n = d->uri_len < sizeof(path) - 1 ? d->uri_len : sizeof(path) - 1;
        memcpy(path, d->uri, n);
        path[n] = '\0';
        bnc_log_kv(b, json, &first, "uri", path);
    } else {
        bnc_log_kv(b, json, &first, "uri", d->uri);
    }
    bnc_log_kv(b, json, &first, "scheme", d->scheme);
    bnc_log_kv(b, json, &first, "user", d->user);
    bnc_log_kv(b, json, &first, "cred", d->cred_id);
    bnc_log_kv(b, json, &first, "outcome", d->outcome);
    bnc_log_kv(b, json, &first, "status", bnc_log_itoa(d->status, num));
    bnc_log_kv(b, json, &first, "reason", d->reason);
    bnc_log_kv(b, json, &first, "us", bnc_log_itoa(d->micros, us));
    if (json)
        bnc_buf_putc(b, '}');
}

void
bnc_log_decision_write(struct bnc_log_line *line)
{
    if (line->buf.len == 0)
        return;
    bnc_log_emit(&bnc_log_audit_sink, line->level, &line->buf);
    bnc_buf_reset(&line->buf);
}

void
bnc_log_decision(const struct bnc_log_decision *d)
{
    struct bnc_log_line line;

    bnc_buf_init(&line.buf);
    bnc_log_decision_format(d, &line);
    bnc_log_decision_write(&line);
    bnc_buf_cleanup(&line.buf);
}

void
bnc_log_admin_format(const struct bnc_log_admin *a, struct bnc_buf *b)
{
    char ts[32], pid[24], uid[24];
    int json = bnc_log_cur.format == BNC_LOG_JSON, first = 1;

    bnc_buf_reset(b);
    bnc_log_ts_fast(ts);
    bnc_log_prefix(b, json, pid);
    bnc_log_kv(b, json, &first, "ts", ts);
    bnc_log_kv(b, json, &first, "event", "admin");
    bnc_log_kv(b, json, &first, "pid", bnc_log_itoa((long long)getpid(), pid));
    bnc_log_kv(b, json, &first, "actor", a->actor);
    bnc_log_kv(b, json, &first, "uid", bnc_log_itoa(a->uid, uid));
    bnc_log_kv(b, json, &first, "action", a->action);
    bnc_log_kv(b, json, &first, "target", a->target);
    bnc_log_kv(b, json, &first, "outcome", a->outcome);
    bnc_log_kv(b, json, &first, "detail", a->detail);
    if (json)
        bnc_buf_putc(b, '}');
}

void
bnc_log_admin(const struct bnc_log_admin *a)
{
    struct bnc_buf b;

    /* An admin change is always worth a line, whatever the level. */
    bnc_buf_init(&b);
    bnc_log_admin_format(a, &b);
    bnc_log_emit(&bnc_log_audit_sink, BNC_LOG_INFO, &b);
    bnc_buf_cleanup(&b);
}
