/* SPDX-License-Identifier: MIT */
/* FastCGI workers over libfcgi. Signals: the main thread takes SIGTERM,
 * SIGINT and SIGHUP with sigwaitinfo(); workers only ever see a private
 * SIGUSR1 that interrupts accept() (FCGI_FAIL_ACCEPT_ON_INTR), so a request
 * in flight is never cut short and every worker exits between requests. */
#include <errno.h>
#include <fcgiapp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fcgi/loop.h"
#include "log/log.h"
#include "util/mem.h"

#define BNC_WAKE_SIGNAL SIGUSR1
/* How long a stop waits for requests in flight: below mod_fcgid's 8 s
 * SIGKILL, above any honest request (one Argon2id verification). */
#define BNC_LOOP_GRACE_MS 5000
/* A request running longer than this is stuck (a Berkeley DB mutex held by
 * a process that was killed inside the library never wakes its waiters,
 * berkeley-db.md 9): the process exits so the server starts a fresh one
 * instead of queueing requests behind it until FcgidBusyTimeout. */
#define BNC_LOOP_STUCK_MS 20000

static long long
bnc_loop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct bnc_worker {
    pthread_t thread;
    int id;
    atomic_int in_accept;
    atomic_int done;
    atomic_llong busy_since;  /* CLOCK_MONOTONIC ms at request start, 0 idle */
};

static const struct bnc_loop_opts *bnc_loop_o;
static int bnc_loop_listen_fd;
static atomic_int bnc_loop_stop;
static atomic_int bnc_loop_failed;

static void
bnc_loop_wake_handler(int sig)
{
    (void)sig; /* only here to interrupt accept() with EINTR */
}

int
bnc_loop_fd0_is_socket(void)
{
    struct stat st;
    int type;
    socklen_t len = sizeof(type);

    if (fstat(0, &st) != 0 || !S_ISSOCK(st.st_mode))
        return 0;
    return getsockopt(0, SOL_SOCKET, SO_TYPE, &type, &len) == 0;
}

static long
bnc_loop_fcgi_read(void *ctx, char *buf, size_t n)
{
    FCGX_Stream *in = ctx;
    int want = n > 65536 ? 65536 : (int)n;
    int got = FCGX_GetStr(buf, want, in);

    if (got < 0 || FCGX_GetError(in) != 0)
        return -1;
    return got;
}

static void *
bnc_loop_worker(void *arg)
{
    struct bnc_worker *w = arg;
    FCGX_Request req;
    struct bnc_buf out;
    struct bnc_log_line log;
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, BNC_WAKE_SIGNAL);
    pthread_sigmask(SIG_UNBLOCK, &set, NULL);
    bnc_buf_init(&out);
    bnc_buf_init(&log.buf);
    if (FCGX_InitRequest(&req, bnc_loop_listen_fd, FCGI_FAIL_ACCEPT_ON_INTR) != 0) {
        bnc_log(BNC_LOG_ERR, "worker %d: FCGX_InitRequest failed", w->id);
        atomic_store(&bnc_loop_failed, 1);
        goto out;
    }
    while (!atomic_load(&bnc_loop_stop)) {
        struct bnc_io io;
        int rc;

        atomic_store(&w->in_accept, 1);
        if (atomic_load(&bnc_loop_stop)) {
            atomic_store(&w->in_accept, 0);
            break;
        }
        rc = FCGX_Accept_r(&req);
        atomic_store(&w->in_accept, 0);
        if (rc < 0) {
            if (atomic_load(&bnc_loop_stop))
                break;
            if (rc == -EINTR)
                continue;
            bnc_log(BNC_LOG_ERR, "worker %d: accept failed (%d: %s)", w->id,
                    rc, rc < 0 && rc > -4096 ? strerror(-rc) : "libfcgi error");
            atomic_store(&bnc_loop_failed, 1);
            break;
        }
        atomic_store(&w->busy_since, bnc_loop_now_ms());
        io.ctx = req.in;
        io.read = bnc_loop_fcgi_read;
        bnc_buf_reset(&out);
        bnc_loop_o->handler(req.envp, &io, &out, &log);
        if (FCGX_PutStr(out.data ? out.data : "", (int)out.len, req.out) < 0)
            bnc_log(BNC_LOG_WARN, "worker %d: client went away before the "
                    "answer was written", w->id);
        FCGX_Finish_r(&req);
        bnc_log_decision_write(&log);
        atomic_store(&w->busy_since, 0);
        /* With a recover callback the main thread's tick handles it. */
        if (bnc_loop_o->fatal != NULL && bnc_loop_o->recover == NULL &&
            bnc_loop_o->fatal()) {
            atomic_store(&bnc_loop_failed, 1);
            atomic_store(&bnc_loop_stop, 1);
            kill(getpid(), SIGTERM); /* wake the main thread */
            break;
        }
    }
    FCGX_Free(&req, 0);
out:
    bnc_buf_cleanup(&out);
    bnc_buf_cleanup(&log.buf);
    atomic_store(&w->done, 1);
    return NULL;
}

static int
bnc_loop_open(const char *listen)
{
    const char *path = listen;
    int fd;

    if (listen == NULL)
        return 0;
    if (strncmp(listen, "unix:", 5) == 0) {
        path = listen + 5;
        /* A stale socket from a killed daemon would make bind fail. */
        if (unlink(path) != 0 && errno != ENOENT) {
            bnc_log_errno(BNC_LOG_ERR, "cannot remove old socket %s", path);
            return -1;
        }
    } else if (strchr(listen, ':') == NULL) {
        bnc_log(BNC_LOG_ERR, "--listen %s: expected unix:/path or host:port",
                listen);
        return -1;
    }
    fd = FCGX_OpenSocket(path, 128);
    if (fd < 0) {
        bnc_log_errno(BNC_LOG_ERR, "cannot listen on %s", listen);
        return -1;
    }
    return fd;
}

/* 1 (after logging) if a worker has been inside one request too long. */
static int
bnc_loop_stuck(struct bnc_worker *w, int n)
{
    long long now = bnc_loop_now_ms();
    int i;

    for (i = 0; i < n; i++) {
        long long since = atomic_load(&w[i].busy_since);
        if (since != 0 && now - since > BNC_LOOP_STUCK_MS) {
            bnc_log(BNC_LOG_ERR, "worker %d stuck in one request for %lld ms "
                    "(store lock held by a dead process?); exiting so the "
                    "server starts a fresh process", i, now - since);
            return 1;
        }
    }
    return 0;
}

int
bnc_loop_run(const struct bnc_loop_opts *o)
{
    struct bnc_worker *w;
    struct sigaction sa;
    sigset_t set;
    int i, started, status = 0;

    bnc_loop_o = o;
    if (FCGX_Init() != 0) {
        bnc_log(BNC_LOG_ERR, "FCGX_Init failed");
        return 1;
    }
    bnc_loop_listen_fd = bnc_loop_open(o->listen);
    if (bnc_loop_listen_fd < 0)
        return 1;
    /* No SA_RESTART: the wake signal must make accept() return EINTR. */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bnc_loop_wake_handler;
    sigemptyset(&sa.sa_mask);
    sigaction(BNC_WAKE_SIGNAL, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    /* Block everything we handle before creating threads: they inherit it. */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, BNC_WAKE_SIGNAL);
    pthread_sigmask(SIG_BLOCK, &set, NULL);

    w = bnc_calloc((size_t)o->threads, sizeof(*w));
    for (started = 0; started < o->threads; started++) {
        w[started].id = started;
        if (pthread_create(&w[started].thread, NULL, bnc_loop_worker,
                           &w[started]) != 0) {
            /* The workers already running are stopped below. */
            bnc_log(BNC_LOG_ERR, "cannot start worker thread %d", started);
            atomic_store(&bnc_loop_stop, 1);
            status = 1;
            break;
        }
    }
    sigdelset(&set, BNC_WAKE_SIGNAL);
    while (!atomic_load(&bnc_loop_stop)) {
        struct timespec tick = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &tick);

        if (sig == SIGHUP) {
            bnc_log(BNC_LOG_INFO, "SIGHUP: reloading configuration");
            if (o->reload != NULL)
                o->reload();
        } else if (sig == SIGTERM || sig == SIGINT) {
            bnc_log(BNC_LOG_INFO, "signal %d: finishing requests in flight, "
                    "then exiting", sig);
            atomic_store(&bnc_loop_stop, 1);
        } else if (bnc_loop_stuck(w, started)) {
            _exit(1);
        } else if (atomic_load(&bnc_loop_failed) ||
                   (o->fatal != NULL && o->fatal() &&
                    (o->recover == NULL || o->recover() != 0))) {
            /* Also caught here, not only after a request: a worker may be
             * stuck inside the store and never finish one. Requests that
             * arrive until recover() is done fail (500) or wait for it. */
            atomic_store(&bnc_loop_failed, 1);
            atomic_store(&bnc_loop_stop, 1);
        }
    }
    /* Wake workers parked in accept() until all have returned. A signal
     * that lands just before accept() is lost, hence the repetition. A
     * worker blocked on a lock of a process that died before failchk could
     * free it never returns (berkeley-db.md 2): after the grace period the
     * process exits without waiting, and the server starts a fresh one. */
    for (i = 0; i < started; i++) {
        int waited_ms = 0;

        while (!atomic_load(&w[i].done)) {
            struct timespec pause = {0, 20 * 1000 * 1000};
            if (atomic_load(&w[i].in_accept))
                pthread_kill(w[i].thread, BNC_WAKE_SIGNAL);
            nanosleep(&pause, NULL);
            waited_ms += 20;
            if (waited_ms >= BNC_LOOP_GRACE_MS) {
                bnc_log(BNC_LOG_ERR, "worker %d did not finish within %d ms "
                        "(stuck in the store?); exiting now", i,
                        BNC_LOOP_GRACE_MS);
                _exit(1);
            }
        }
        pthread_join(w[i].thread, NULL);
    }
    free(w);
    if (atomic_load(&bnc_loop_failed))
        status = 1;
    return status;
}

static long
bnc_loop_stdio_read(void *ctx, char *buf, size_t n)
{
    size_t got = fread(buf, 1, n, (FILE *)ctx);

    if (got == 0 && ferror((FILE *)ctx))
        return -1;
    return (long)got;
}

int
bnc_loop_cgi(const struct bnc_loop_opts *o)
{
    extern char **environ;
    struct bnc_io io = {stdin, bnc_loop_stdio_read};
    struct bnc_buf out;
    struct bnc_log_line log;

    bnc_buf_init(&out);
    bnc_buf_init(&log.buf);
    o->handler(environ, &io, &out, &log);
    fwrite(out.data ? out.data : "", 1, out.len, stdout);
    fflush(stdout);
    bnc_log_decision_write(&log);
    bnc_buf_cleanup(&out);
    bnc_buf_cleanup(&log.buf);
    return 0;
}
