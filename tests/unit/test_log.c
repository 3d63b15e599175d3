/* SPDX-License-Identifier: MIT */
/* Unit tests for the audit log lines: logfmt and JSON escaping of hostile
 * values (parsed back byte for byte), the file sink, reopening after a
 * rename (logrotate) with writers running and no line lost, the level rule
 * of a separate audit sink, and admin lines. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log/log.h"
#include "unit.h"

static char dir[PATH_MAX];

static int
suite_init(void)
{
    const char *tmp = getenv("TMPDIR");

    umask(007);
    snprintf(dir, sizeof(dir), "%s/bnc-log-XXXXXX", tmp ? tmp : "/tmp");
    return mkdtemp(dir) != NULL ? 0 : -1;
}

static int
suite_fini(void)
{
    char cmd[PATH_MAX + 16];
    struct bnc_log_opts o = {.target = BNC_LOG_STDERR, .level = BNC_LOG_INFO,
                             .format = BNC_LOG_LOGFMT, .facility = LOG_USER,
                             .ident = "test"};

    bnc_log_setup(&o);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void
setup(enum bnc_log_format fmt, enum bnc_log_level lvl)
{
    struct bnc_log_opts o = {.target = BNC_LOG_STDERR, .level = lvl,
                             .format = fmt, .facility = LOG_USER,
                             .ident = "test"};

    bnc_log_setup(&o);
}

/* Hostile values a client controls (method, URI, user name, reason). */
static const char *const hostile[] = {
    "plain",
    "with space",
    "quote\" and \\backslash",
    "new\nline\r\nand\ttab",
    "ctl\x01\x1b[31mred\x7f",
    "key=value other=x",
    "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x94\x91",   /* valid UTF-8 */
    "bad utf8 \xff\xfe \xc3",                      /* invalid UTF-8 */
    "} {\"injected\": 1",
    NULL
};

/* logfmt value parser: bare word or "..." with \" \\ \n \xNN. Returns the
 * position after the value; the value (bytes) goes to out. */
static const char *
logfmt_value(const char *p, char *out, size_t cap)
{
    size_t n = 0;

    if (*p != '"') {
        while (*p != '\0' && *p != ' ' && n + 1 < cap)
            out[n++] = *p++;
        out[n] = '\0';
        return p;
    }
    p++;
    while (*p != '\0' && *p != '"' && n + 1 < cap) {
        if (*p == '\\') {
            p++;
            if (*p == 'n') {
                out[n++] = '\n';
                p++;
            } else if (*p == 'x') {
                char hex[3] = {p[1], p[2], 0};
                out[n++] = (char)strtol(hex, NULL, 16);
                p += 3;
            } else {
                out[n++] = *p++;
            }
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return *p == '"' ? p + 1 : p;
}

/* Walks the fields from "ts=" on (after any "ident[pid]: " prefix), as a
 * logfmt reader would, and decodes the value of key. */
static int
logfmt_get(const char *line, const char *key, char *out, size_t cap)
{
    const char *p = strstr(line, "ts=");
    char k[64], v[512];

    while (p != NULL && *p != '\0') {
        size_t kl = strcspn(p, "= ");

        if (p[kl] != '=' || kl >= sizeof(k))
            return -1;
        memcpy(k, p, kl);
        k[kl] = '\0';
        p = logfmt_value(p + kl + 1, v, sizeof(v));
        if (strcmp(k, key) == 0) {
            snprintf(out, cap, "%s", v);
            return 0;
        }
        while (*p == ' ')
            p++;
    }
    return -1;
}

static void
fill(struct bnc_log_decision *d, const char *v)
{
    memset(d, 0, sizeof(*d));
    d->client = "192.0.2.1";
    d->method = v;
    d->uri = "/app/x?token=SECRET";
    d->uri_len = 6;
    d->scheme = "basic";
    d->user = v;
    d->cred_id = NULL;
    d->outcome = "deny";
    d->status = 401;
    d->reason = v;
    d->micros = 1234;
}

static void
test_log_logfmt_escaping(void)
{
    struct bnc_log_line line;
    struct bnc_log_decision d;
    char got[512];
    size_t i;

    setup(BNC_LOG_LOGFMT, BNC_LOG_INFO);
    bnc_buf_init(&line.buf);
    for (i = 0; hostile[i] != NULL; i++) {
        const char *s;
        const unsigned char *p;

        fill(&d, hostile[i]);
        bnc_log_decision_format(&d, &line);
        s = bnc_buf_str(&line.buf);
        /* One line of printable ASCII, whatever came in. */
        for (p = (const unsigned char *)s; *p != '\0'; p++)
            CU_ASSERT(*p >= 0x20 && *p < 0x7f);
        CU_ASSERT_PTR_NOT_NULL(strstr(s, "test["));
        CU_ASSERT_EQUAL_FATAL(logfmt_get(s, "user", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, hostile[i]);
        CU_ASSERT_EQUAL(logfmt_get(s, "method", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, hostile[i]);
        CU_ASSERT_EQUAL(logfmt_get(s, "reason", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, hostile[i]);
        /* "key=value other=x" inside a value is not a field. */
        CU_ASSERT_EQUAL(logfmt_get(s, "other", got, sizeof(got)), -1);
        CU_ASSERT_EQUAL(logfmt_get(s, "uri", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, "/app/x");
        CU_ASSERT_PTR_NULL(strstr(s, "SECRET"));
        CU_ASSERT_EQUAL(logfmt_get(s, "status", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, "401");
        CU_ASSERT_EQUAL(logfmt_get(s, "us", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, "1234");
        CU_ASSERT_EQUAL(logfmt_get(s, "cred", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, "-");
        CU_ASSERT_EQUAL(logfmt_get(s, "event", got, sizeof(got)), 0);
        CU_ASSERT_STRING_EQUAL(got, "decision");
        CU_ASSERT_EQUAL(logfmt_get(s, "ts", got, sizeof(got)), 0);
        CU_ASSERT_EQUAL(strlen(got), 24);
        CU_ASSERT_EQUAL(got[23], 'Z');
    }
    bnc_buf_cleanup(&line.buf);
}

static void
test_log_json_escaping(void)
{
    struct bnc_log_line line;
    struct bnc_log_decision d;
    json_error_t jerr;
    size_t i;

    setup(BNC_LOG_JSON, BNC_LOG_INFO);
    bnc_buf_init(&line.buf);
    for (i = 0; hostile[i] != NULL; i++) {
        json_t *j;
        const char *s;

        fill(&d, hostile[i]);
        bnc_log_decision_format(&d, &line);
        s = bnc_buf_str(&line.buf);
        CU_ASSERT_PTR_NULL(strchr(s, '\n'));
        CU_ASSERT_EQUAL(s[0], '{');
        j = json_loads(s, JSON_REJECT_DUPLICATES, &jerr);
        CU_ASSERT_PTR_NOT_NULL_FATAL(j);
        CU_ASSERT_EQUAL(json_object_size(j), 13);
        CU_ASSERT_PTR_NULL(json_object_get(j, "injected"));
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "event")),
                               "decision");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "uri")),
                               "/app/x");
        CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(j, "status")),
                               "401");
        CU_ASSERT_EQUAL(atol(json_string_value(json_object_get(j, "pid"))),
                        (long)getpid());
        if (strstr(hostile[i], "bad utf8") == NULL) {
            CU_ASSERT_STRING_EQUAL(
                json_string_value(json_object_get(j, "user")), hostile[i]);
            CU_ASSERT_STRING_EQUAL(
                json_string_value(json_object_get(j, "reason")), hostile[i]);
        } else {
            /* Each byte of invalid UTF-8 becomes U+00XX: valid JSON. */
            CU_ASSERT_PTR_NOT_NULL(strstr(s, "\\u00ff\\u00fe"));
        }
        json_decref(j);
    }
    bnc_buf_cleanup(&line.buf);
}

static char *
slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *s;
    long n;

    if (f == NULL)
        return strdup("");
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    s = calloc(1, (size_t)n + 1);
    if (fread(s, 1, (size_t)n, f) != (size_t)n)
        s[0] = '\0';
    fclose(f);
    return s;
}

static size_t
count_lines(const char *s, const char *needle)
{
    size_t n = 0;

    for (; (s = strstr(s, needle)) != NULL; s++)
        n++;
    return n;
}

static void
file_setup(const char *diag, const char *audit, enum bnc_log_level lvl,
           enum bnc_log_format fmt)
{
    struct bnc_log_opts o = {.target = diag ? BNC_LOG_FILE : BNC_LOG_STDERR,
                             .level = lvl, .format = fmt,
                             .facility = LOG_USER, .ident = "test",
                             .file = diag};

    if (audit != NULL) {
        o.audit_set = 1;
        o.audit = BNC_LOG_FILE;
        o.audit_file = audit;
    }
    bnc_log_setup(&o);
}

static void
test_log_file_sinks(void)
{
    char diag[PATH_MAX + 32], audit[PATH_MAX + 32];
    struct bnc_log_decision d;
    struct bnc_log_admin a;
    struct stat st;
    char *s;

    snprintf(diag, sizeof(diag), "%s/bouncer.log", dir);
    snprintf(audit, sizeof(audit), "%s/audit.log", dir);
    file_setup(diag, audit, BNC_LOG_ERR, BNC_LOG_JSON);
    bnc_log(BNC_LOG_ERR, "diagnostic %d", 1);
    bnc_log(BNC_LOG_INFO, "filtered by level");
    fill(&d, "alice");
    bnc_log_decision(&d);        /* own sink: not filtered by level */
    memset(&a, 0, sizeof(a));
    a.actor = "root";
    a.action = "user add";
    a.target = "bob\n\"x";
    a.outcome = "ok";
    bnc_log_admin(&a);
    s = slurp(diag);
    CU_ASSERT_EQUAL(count_lines(s, "\n"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "test["));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "error: diagnostic 1\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "decision"));
    free(s);
    s = slurp(audit);
    CU_ASSERT_EQUAL(count_lines(s, "\n"), 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "{\"ts\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"decision\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "{\"ts\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"event\":\"admin\",\"pid\":"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "\"actor\":\"root\","
                                     "\"uid\":\"0\",\"action\":\"user add\","
                                     "\"target\":\"bob\\n\\\"x\","
                                     "\"outcome\":\"ok\",\"detail\":\"-\"}\n"));
    CU_ASSERT_PTR_NULL(strstr(s, "diagnostic"));
    free(s);
    CU_ASSERT_EQUAL(stat(audit, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0660);

    /* Without [log] audit the lines follow target and its level. */
    unlink(diag);
    file_setup(diag, NULL, BNC_LOG_ERR, BNC_LOG_LOGFMT);
    bnc_log_decision(&d);
    d.outcome = "error";
    bnc_log_decision(&d);
    s = slurp(diag);
    CU_ASSERT_EQUAL(count_lines(s, "event=decision"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "outcome=error"));
    /* No "bouncer[pid]: " prefix in a file: pure logfmt. */
    CU_ASSERT_EQUAL(strncmp(s, "ts=", 3), 0);
    free(s);
    unlink(diag);
    unlink(audit);
}

/* A diagnostic message quoting a client's text (a user name in the
 * throttle's ban line) stays one line without terminal escapes. */
static void
test_log_diag_message_escaped(void)
{
    char diag[PATH_MAX + 32];
    char *s;

    snprintf(diag, sizeof(diag), "%s/diag.log", dir);
    unlink(diag);
    file_setup(diag, NULL, BNC_LOG_INFO, BNC_LOG_LOGFMT);
    bnc_log(BNC_LOG_WARN, "throttle: %s banned for 60 s",
            "u:x\nbouncer[1]: error: forged\r\x1b[31m\x7f\xc2\x9b|"
            "\xc3\xa9");
    s = slurp(diag);
    CU_ASSERT_EQUAL(count_lines(s, "\n"), 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "warn: throttle: u:x\\nbouncer[1]: "
                                     "error: forged\\x0d\\x1b[31m\\x7f"
                                     "\\xc2\\x9b|\xc3\xa9 banned for 60 s\n"));
    if (strstr(s, "forged\\x0d") == NULL)
        fprintf(stderr, "\n  got: %s\n", s);
    free(s);
    unlink(diag);
    setup(BNC_LOG_LOGFMT, BNC_LOG_INFO);
}

static void
test_log_file_fallback(void)
{
    char bad[PATH_MAX + 32], errf[PATH_MAX + 32];
    int saved, fd;
    char *s;

    snprintf(bad, sizeof(bad), "%s/missing/dir/audit.log", dir);
    snprintf(errf, sizeof(errf), "%s/stderr.txt", dir);
    fd = open(errf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(fd >= 0);
    saved = dup(2);
    dup2(fd, 2);
    file_setup(NULL, bad, BNC_LOG_INFO, BNC_LOG_LOGFMT);
    bnc_log(BNC_LOG_INFO, "still logged");
    dup2(saved, 2);
    close(saved);
    close(fd);
    s = slurp(errf);
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "cannot open log file"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "logging to stderr instead"));
    CU_ASSERT_PTR_NOT_NULL(strstr(s, "still logged"));
    free(s);
    setup(BNC_LOG_LOGFMT, BNC_LOG_INFO);
}

/* ---- logrotate: rename + reopen with writers running ------------------ */

#define ROT_THREADS 4
#define ROT_LINES 3000
static atomic_int rot_go;

static void *
rot_writer(void *arg)
{
    struct bnc_log_decision d;
    char who[32];
    int i;

    snprintf(who, sizeof(who), "w%ld", (long)(intptr_t)arg);
    while (!atomic_load(&rot_go))
        ;
    for (i = 0; i < ROT_LINES; i++) {
        fill(&d, who);
        d.micros = i;
        bnc_log_decision(&d);
    }
    return NULL;
}

static void
test_log_reopen_loses_nothing(void)
{
    char path[PATH_MAX + 32], old[PATH_MAX + 48];
    pthread_t th[ROT_THREADS];
    size_t total = 0;
    int i, rotations = 0;
    char *s;

    snprintf(path, sizeof(path), "%s/rot.log", dir);
    file_setup(NULL, path, BNC_LOG_INFO, BNC_LOG_LOGFMT);
    atomic_store(&rot_go, 0);
    for (i = 0; i < ROT_THREADS; i++)
        CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, rot_writer,
                                             (void *)(intptr_t)i), 0);
    atomic_store(&rot_go, 1);
    for (i = 0; i < 5; i++) {
        usleep(2000);
        snprintf(old, sizeof(old), "%s.%d", path, i);
        if (rename(path, old) == 0) {
            CU_ASSERT_EQUAL(bnc_log_reopen(), 0);
            rotations++;
        }
    }
    for (i = 0; i < ROT_THREADS; i++)
        pthread_join(th[i], NULL);
    CU_ASSERT(rotations >= 1);
    for (i = 0; i < 5; i++) {
        snprintf(old, sizeof(old), "%s.%d", path, i);
        s = slurp(old);
        total += count_lines(s, "event=decision");
        /* Whole lines only. */
        CU_ASSERT_EQUAL(count_lines(s, "\n"), count_lines(s, "ts="));
        free(s);
        unlink(old);
    }
    s = slurp(path);
    total += count_lines(s, "event=decision");
    CU_ASSERT_EQUAL(count_lines(s, "\n"), count_lines(s, "ts="));
    free(s);
    CU_ASSERT_EQUAL(total, (size_t)ROT_THREADS * ROT_LINES);
    /* After the last rotation new lines go to the new file. */
    {
        struct bnc_log_decision d;

        snprintf(old, sizeof(old), "%s.last", path);
        CU_ASSERT_EQUAL(rename(path, old), 0);
        CU_ASSERT_EQUAL(bnc_log_reopen(), 0);
        fill(&d, "after-rotation");
        bnc_log_decision(&d);
        s = slurp(path);
        CU_ASSERT_PTR_NOT_NULL(strstr(s, "user=after-rotation"));
        CU_ASSERT_EQUAL(count_lines(s, "\n"), 1);
        free(s);
        s = slurp(old);
        CU_ASSERT_PTR_NULL(strstr(s, "after-rotation"));
        free(s);
        unlink(old);
    }
    unlink(path);
    setup(BNC_LOG_LOGFMT, BNC_LOG_INFO);
}

static const struct bnc_unit_case cases[] = {
    {"logfmt escaping round trip", test_log_logfmt_escaping},
    {"JSON escaping round trip", test_log_json_escaping},
    {"file sinks, audit sink and levels", test_log_file_sinks},
    {"diagnostic messages: control characters escaped",
     test_log_diag_message_escaped},
    {"unwritable file falls back to stderr", test_log_file_fallback},
    {"rename + reopen loses no line", test_log_reopen_loses_nothing},
    {NULL, NULL}
};

BNC_UNIT_MAIN("log", cases, suite_init, suite_fini)
