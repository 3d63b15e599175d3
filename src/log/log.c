/* SPDX-License-Identifier: MIT */
/* Diagnostic and decision logs. Each line is formatted into a local buffer
 * and written with one write(2) so lines from threads and processes sharing
 * the server's error log never interleave. */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log/log.h"
#include "util/buf.h"

static pthread_mutex_t bnc_log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bnc_log_opts bnc_log_cur = {
    BNC_LOG_STDERR, BNC_LOG_INFO, BNC_LOG_LOGFMT, LOG_AUTHPRIV, "bouncer"};
static char bnc_log_ident[32] = "bouncer";
static int bnc_log_syslog_open;

static const char *const bnc_log_names[] = {"error", "warn", "info", "debug"};
static const int bnc_log_prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};

void
bnc_log_setup(const struct bnc_log_opts *o)
{
    pthread_mutex_lock(&bnc_log_lock);
    bnc_log_cur = *o;
    snprintf(bnc_log_ident, sizeof(bnc_log_ident), "%s",
             o->ident ? o->ident : "bouncer");
    bnc_log_cur.ident = bnc_log_ident;
    if (bnc_log_syslog_open) {
        closelog();
        bnc_log_syslog_open = 0;
    }
    if (o->target == BNC_LOG_SYSLOG) {
        openlog(bnc_log_ident, LOG_PID | LOG_NDELAY, o->facility);
        bnc_log_syslog_open = 1;
    }
    pthread_mutex_unlock(&bnc_log_lock);
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

/* Writes one finished line to the target. */
static void
bnc_log_emit(enum bnc_log_level lvl, struct bnc_buf *line)
{
    if (bnc_log_cur.target == BNC_LOG_SYSLOG) {
        syslog(bnc_log_prio[lvl], "%s", bnc_buf_str(line));
        return;
    }
    bnc_buf_putc(line, '\n');
    {
        const char *p = line->data;
        size_t left = line->len;
        while (left > 0) {
            ssize_t n = write(STDERR_FILENO, p, left);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break; /* nowhere left to complain */
            p += n;
            left -= (size_t)n;
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
    if (bnc_log_cur.target == BNC_LOG_STDERR) {
        bnc_log_timestamp(&b);
        bnc_buf_printf(&b, " %s[%ld]: %s: ", bnc_log_ident, (long)getpid(),
                       bnc_log_names[lvl]);
    }
    bnc_buf_puts(&b, msg);
    if (with_errno)
        bnc_buf_printf(&b, ": %s", strerror(err));
    bnc_log_emit(lvl, &b);
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
    if (!bnc_log_enabled(lvl))
        return;
    bnc_log_ts_fast(ts);
    if (!json && bnc_log_cur.target == BNC_LOG_STDERR) {
        bnc_buf_puts(b, bnc_log_ident);
        bnc_buf_putc(b, '[');
        bnc_buf_puts(b, bnc_log_itoa((long long)getpid(), pid));
        bnc_buf_puts(b, "]: ");
    }
    bnc_log_kv(b, json, &first, "ts", ts);
    bnc_log_kv(b, json, &first, "event", "decision");
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
    bnc_log_emit(line->level, &line->buf);
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
