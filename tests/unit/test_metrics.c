/* SPDX-License-Identifier: MIT */
/* Unit tests for the shared metrics region: exact sums under concurrent
 * processes and threads, a writer killed mid-count, header validation and
 * replacement, the private fallback, and the text rendering. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "metrics/metrics.h"
#include "unit.h"

#define NPROC 4
#define NTHREAD 4
#define NITER 20000

static char dir[PATH_MAX];
static char file[PATH_MAX + 32];

static int
suite_init(void)
{
    const char *tmp = getenv("TMPDIR");

    umask(007);
    snprintf(dir, sizeof(dir), "%s/bnc-metrics-XXXXXX", tmp ? tmp : "/tmp");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(file, sizeof(file), "%s/%s", dir, BNC_METRICS_FILE);
    return 0;
}

static int
suite_fini(void)
{
    bnc_metrics_close();
    unlink(file);
    rmdir(dir);
    return 0;
}

/* Value of the sample line that starts with prefix ("name{...} "), or -1. */
static long long
sample(const char *text, const char *prefix)
{
    const char *p = text;
    size_t n = strlen(prefix);

    while (p != NULL && *p != '\0') {
        if (strncmp(p, prefix, n) == 0)
            return strtoll(p + n, NULL, 10);
        p = strchr(p, '\n');
        if (p != NULL)
            p++;
    }
    return -1;
}

static char *
render(void)
{
    struct bnc_buf b;
    char *s;

    bnc_buf_init(&b);
    bnc_metrics_render(&b);
    s = strdup(bnc_buf_str(&b));
    bnc_buf_cleanup(&b);
    return s;
}

static void
fresh(void)
{
    struct bnc_err err;

    bnc_metrics_close();
    unlink(file);
    CU_ASSERT_EQUAL_FATAL(bnc_metrics_open(dir, BNC_METRICS_RW, &err), 0);
}

static void
test_metrics_create(void)
{
    struct stat st;
    char *t;

    fresh();
    CU_ASSERT_EQUAL_FATAL(stat(file, &st), 0);
    CU_ASSERT_EQUAL(st.st_mode & 0777, 0660);
    CU_ASSERT(st.st_size > 0 && st.st_size < 65536);
    CU_ASSERT_TRUE(bnc_metrics_active());
    t = render();
    CU_ASSERT_EQUAL(sample(t, "bouncer_metrics_shared "), 1);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_count "), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "# TYPE bouncer_decisions_total counter\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "# TYPE bouncer_decision_duration_seconds "
                                     "histogram\n"));
    {
        char pidline[64];

        snprintf(pidline, sizeof(pidline),
                 "bouncer_process_start_time_seconds{pid=\"%ld\"} ",
                 (long)getpid());
        CU_ASSERT(sample(t, pidline) > 1000000000LL);
    }
    free(t);
}

static void
test_metrics_labels(void)
{
    char *t;

    fresh();
    bnc_metrics_decision("basic", BNC_MET_ALLOW, 200, 50);
    bnc_metrics_decision("basic", BNC_MET_ALLOW, 200, 150);
    bnc_metrics_decision(NULL, BNC_MET_DENY, 401, 20);
    bnc_metrics_decision("token", BNC_MET_DENY, 429, 30);
    bnc_metrics_decision("session", BNC_MET_ERROR, 503, 2000000);
    bnc_metrics_decision("custom", BNC_MET_DENY, 418, 20000000);
    bnc_metrics_count(BNC_MET_LOGIN_OK);
    bnc_metrics_count(BNC_MET_LOGIN_FAIL);
    bnc_metrics_count(BNC_MET_LOGIN_FAIL);
    t = render();
    CU_ASSERT_EQUAL(sample(t, "bouncer_decisions_total{scheme=\"basic\","
                              "outcome=\"allow\",status=\"200\"} "), 2);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decisions_total{scheme=\"none\","
                              "outcome=\"deny\",status=\"401\"} "), 1);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decisions_total{scheme=\"token\","
                              "outcome=\"deny\",status=\"429\"} "), 1);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decisions_total{scheme=\"other\","
                              "outcome=\"deny\",status=\"other\"} "), 1);
    CU_ASSERT_EQUAL(sample(t, "bouncer_throttled_total "), 1);
    CU_ASSERT_EQUAL(sample(t, "bouncer_store_errors_total "), 1);
    CU_ASSERT_EQUAL(sample(t, "bouncer_logins_total{result=\"success\"} "), 1);
    CU_ASSERT_EQUAL(sample(t, "bouncer_logins_total{result=\"failure\"} "), 2);
    /* Buckets are cumulative; le is an upper bound (inclusive). */
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_bucket"
                              "{le=\"0.0001\"} "), 3);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_bucket"
                              "{le=\"0.00025\"} "), 4);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_bucket"
                              "{le=\"2.5\"} "), 5);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_bucket"
                              "{le=\"10\"} "), 5);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_bucket"
                              "{le=\"+Inf\"} "), 6);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_count "), 6);
    CU_ASSERT_PTR_NOT_NULL(strstr(t, "\nbouncer_decision_duration_seconds_sum "
                                     "22.000250\n"));
    CU_ASSERT_EQUAL(bnc_metrics_decisions_total(), 6);
    free(t);
}

static void *
worker(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < NITER; i++) {
        bnc_metrics_decision("basic", BNC_MET_ALLOW, 200, 40);
        bnc_metrics_count(BNC_MET_CACHE_HIT);
    }
    return NULL;
}

/* NPROC processes that each join the file and count from NTHREAD threads:
 * nothing may be lost. All of them open it before any starts counting (an
 * opener must never wait for another process to let go of the file). */
static void
test_metrics_concurrent_exact(void)
{
    pid_t pids[NPROC];
    int i, status, ok = 1, ready[2], go[2];
    struct pollfd pfd;
    char c, *t;

    fresh(); /* this process keeps it open too */
    CU_ASSERT_EQUAL_FATAL(pipe(ready), 0);
    CU_ASSERT_EQUAL_FATAL(pipe(go), 0);
    for (i = 0; i < NPROC; i++) {
        pids[i] = fork();
        CU_ASSERT_FATAL(pids[i] >= 0);
        if (pids[i] == 0) {
            struct bnc_err err;
            pthread_t th[NTHREAD];
            int k;

            close(ready[0]);
            close(go[1]);
            if (bnc_metrics_open(dir, BNC_METRICS_RW, &err) != 0)
                _exit(2);
            if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 0)
                _exit(4);
            for (k = 0; k < NTHREAD; k++)
                if (pthread_create(&th[k], NULL, worker, NULL) != 0)
                    _exit(3);
            for (k = 0; k < NTHREAD; k++)
                pthread_join(th[k], NULL);
            _exit(0);
        }
    }
    close(ready[1]);
    close(go[0]);
    pfd.fd = ready[0];
    pfd.events = POLLIN;
    for (i = 0; i < NPROC; i++)
        if (poll(&pfd, 1, 5000) != 1 || read(ready[0], &c, 1) != 1)
            break;
    CU_ASSERT_EQUAL(i, NPROC); /* all opened at once, nobody waited */
    if (i != NPROC)
        for (i = 0; i < NPROC; i++)
            kill(pids[i], SIGKILL);
    close(go[1]); /* go */
    close(ready[0]);
    for (i = 0; i < NPROC; i++)
        if (waitpid(pids[i], &status, 0) != pids[i] || !WIFEXITED(status) ||
            WEXITSTATUS(status) != 0)
            ok = 0;
    CU_ASSERT_TRUE(ok);
    bnc_metrics_close();
    {
        struct bnc_err err;

        CU_ASSERT_EQUAL_FATAL(bnc_metrics_open(dir, BNC_METRICS_RO, &err), 0);
    }
    CU_ASSERT_EQUAL(bnc_metrics_decisions_total(),
                    (uint64_t)NPROC * NTHREAD * NITER);
    CU_ASSERT_EQUAL(bnc_metrics_get(BNC_MET_CACHE_HIT),
                    (uint64_t)NPROC * NTHREAD * NITER);
    t = render();
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_count "),
                    (long long)NPROC * NTHREAD * NITER);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decision_duration_seconds_bucket"
                              "{le=\"0.0001\"} "),
                    (long long)NPROC * NTHREAD * NITER);
    /* The children exited: their start-time slots are gone. */
    CU_ASSERT_PTR_NULL(strstr(t, "bouncer_process_start_time_seconds{"));
    free(t);
    bnc_metrics_close();
}

/* SIGKILL while counting as fast as possible: the file still opens and
 * every counter is whole (decisions and histogram differ by at most the
 * one decision that was half counted). */
static void
test_metrics_killed_writer(void)
{
    struct bnc_err err;
    pid_t pid;
    uint64_t total, hist;
    char *t;

    fresh();
    bnc_metrics_close();
    pid = fork();
    CU_ASSERT_FATAL(pid >= 0);
    if (pid == 0) {
        if (bnc_metrics_open(dir, BNC_METRICS_RW, &err) != 0)
            _exit(2);
        for (;;)
            bnc_metrics_decision("token", BNC_MET_DENY, 401, 300);
    }
    usleep(200 * 1000);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    CU_ASSERT_EQUAL_FATAL(bnc_metrics_open(dir, BNC_METRICS_RW, &err), 0);
    total = bnc_metrics_decisions_total();
    t = render();
    hist = (uint64_t)sample(t, "bouncer_decision_duration_seconds_count ");
    CU_ASSERT(total > 0);
    CU_ASSERT(total - hist <= 1);
    /* The killed child's slot is not listed (it is gone), ours is. */
    {
        char line[64];

        snprintf(line, sizeof(line),
                 "bouncer_process_start_time_seconds{pid=\"%ld\"} ",
                 (long)pid);
        CU_ASSERT_EQUAL(sample(t, line), -1);
        snprintf(line, sizeof(line),
                 "bouncer_process_start_time_seconds{pid=\"%ld\"} ",
                 (long)getpid());
        CU_ASSERT(sample(t, line) > 0);
    }
    free(t);
    bnc_metrics_decision("token", BNC_MET_DENY, 401, 300);
    CU_ASSERT_EQUAL(bnc_metrics_decisions_total(), total + 1);
}

static void
write_file(const void *data, size_t n)
{
    int fd = open(file, O_WRONLY | O_CREAT | O_TRUNC, 0660);

    CU_ASSERT_FATAL(fd >= 0);
    CU_ASSERT_EQUAL(write(fd, data, n), (ssize_t)n);
    close(fd);
}

static void
test_metrics_bad_files(void)
{
    struct bnc_err err;
    struct stat st;
    char junk[100];
    char *zeros;
    off_t size;

    fresh();
    bnc_metrics_decision("basic", BNC_MET_ALLOW, 200, 1);
    CU_ASSERT_EQUAL_FATAL(stat(file, &st), 0);
    size = st.st_size;
    bnc_metrics_close();

    /* Another layout (short file): replaced, counters from zero. */
    memset(junk, 'x', sizeof(junk));
    write_file(junk, sizeof(junk));
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RO, &err), -1);
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RW, &err), 0);
    CU_ASSERT_EQUAL(stat(file, &st), 0);
    CU_ASSERT_EQUAL(st.st_size, size);
    CU_ASSERT_EQUAL(bnc_metrics_decisions_total(), 0);
    bnc_metrics_close();

    /* Right size, foreign magic: replaced. */
    zeros = calloc(1, (size_t)size);
    memcpy(zeros, "NOTOURS", 8);
    write_file(zeros, (size_t)size);
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RO, &err), -1);
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RW, &err), 0);
    bnc_metrics_decision("basic", BNC_MET_ALLOW, 200, 1);
    CU_ASSERT_EQUAL(bnc_metrics_decisions_total(), 1);
    bnc_metrics_close();
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RO, &err), 0);
    CU_ASSERT_EQUAL(bnc_metrics_decisions_total(), 1);
    bnc_metrics_close();

    /* A creator killed before writing the header: all zero, initialised. */
    memset(zeros, 0, (size_t)size);
    write_file(zeros, (size_t)size);
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RO, &err), -1);
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RW, &err), 0);
    bnc_metrics_close();
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RO, &err), 0);
    bnc_metrics_close();
    free(zeros);

    /* A symlink is never followed. */
    unlink(file);
    CU_ASSERT_EQUAL(symlink("/etc/passwd", file), 0);
    CU_ASSERT_EQUAL(bnc_metrics_open(dir, BNC_METRICS_RW, &err), -1);
    CU_ASSERT_PTR_NOT_NULL(strstr(err.msg, BNC_METRICS_FILE));
    bnc_metrics_close();
    unlink(file);
}

/* No usable directory: this process counts alone, and says so. */
static void
test_metrics_private_fallback(void)
{
    struct bnc_err err;
    char missing[PATH_MAX + 16];
    char *t;

    bnc_metrics_close();
    snprintf(missing, sizeof(missing), "%s/no/such/dir", dir);
    CU_ASSERT_EQUAL(bnc_metrics_open(missing, BNC_METRICS_RW, &err), -1);
    CU_ASSERT_TRUE(err.set);
    CU_ASSERT_TRUE(bnc_metrics_active());
    bnc_metrics_decision("ip", BNC_MET_ALLOW, 200, 10);
    t = render();
    CU_ASSERT_EQUAL(sample(t, "bouncer_metrics_shared "), 0);
    CU_ASSERT_EQUAL(sample(t, "bouncer_decisions_total{scheme=\"ip\","
                              "outcome=\"allow\",status=\"200\"} "), 1);
    free(t);
    bnc_metrics_close();
    CU_ASSERT_FALSE(bnc_metrics_active());
    /* Closed: counting is a no-op, rendering says "not shared". */
    bnc_metrics_count(BNC_MET_CACHE_HIT);
    CU_ASSERT_EQUAL(bnc_metrics_get(BNC_MET_CACHE_HIT), 0);
    CU_ASSERT_EQUAL(bnc_metrics_open(missing, BNC_METRICS_RO, &err), -1);
    CU_ASSERT_FALSE(bnc_metrics_active());
}

static const struct bnc_unit_case cases[] = {
    {"create", test_metrics_create},
    {"labels and histogram", test_metrics_labels},
    {"concurrent processes and threads sum exactly",
     test_metrics_concurrent_exact},
    {"writer killed mid-count", test_metrics_killed_writer},
    {"bad files replaced", test_metrics_bad_files},
    {"private fallback", test_metrics_private_fallback},
    {NULL, NULL}
};

BNC_UNIT_MAIN("metrics", cases, suite_init, suite_fini)
