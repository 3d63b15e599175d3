/* SPDX-License-Identifier: MIT */
/* The shared counter region (metrics.h). Layout rules: every field is a
 * naturally aligned uint64_t changed only with __atomic_fetch_add or one
 * __atomic_store, so no reader ever needs a lock and no writer can die
 * half-way through an update. A new layout gets a new version; a file of
 * another version is replaced (counters restart from zero). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "metrics/metrics.h"

_Static_assert(__atomic_always_lock_free(sizeof(uint64_t), 0),
               "metrics need lock-free 64-bit atomics");

#define BNC_METRICS_MAGIC "BNCMETR"   /* 8 bytes with the NUL */
#define BNC_METRICS_VERSION 1
#define BNC_METRICS_NPROCS 64

/* Labels of bouncer_decisions_total. "none": no scheme decided (anonymous
 * or refused before any ran); "other": a scheme added later. */
static const char *const bnc_metrics_schemes[] = {
    "none", "basic", "token", "session", "jwt", "ip", "oauth2", "plugin",
    "other"
};
#define BNC_METRICS_NSCHEMES 9
static const char *const bnc_metrics_outcomes[] = {"allow", "deny", "error"};
#define BNC_METRICS_NOUTCOMES 3
/* Statuses bouncer answers with; anything else is counted as "other". */
static const int bnc_metrics_statuses[] = {
    200, 204, 302, 400, 401, 403, 404, 405, 413, 415, 429, 500, 503, 0
};
#define BNC_METRICS_NSTATUS 14
/* Prometheus' default buckets, widened down to 100 us: a cached decision
 * takes tens of microseconds, an Argon2id verification tens of ms. */
static const int64_t bnc_metrics_le_us[] = {
    100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000,
    500000, 1000000, 2500000, 5000000, 10000000
};
static const char *const bnc_metrics_le_txt[] = {
    "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005", "0.01",
    "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "+Inf"
};
#define BNC_METRICS_NBUCKETS 17

struct bnc_metrics_proc {
    uint64_t pid;          /* 0 = free; claimed by compare-and-swap */
    uint64_t start;        /* unix seconds; 0 until set */
};

struct bnc_metrics_region {
    char magic[8];         /* written last at creation: a creator killed
                              before it leaves a file the next opener
                              initialises again */
    uint32_t version;
    uint32_t size;         /* sizeof(struct bnc_metrics_region) */
    uint64_t created;      /* unix seconds */
    uint64_t reserved[5];
    uint64_t counters[BNC_MET_NCOUNTERS];
    uint64_t counters_spare[16 - BNC_MET_NCOUNTERS];
    uint64_t throttled;
    uint64_t store_errors;
    uint64_t decisions[BNC_METRICS_NSCHEMES][BNC_METRICS_NOUTCOMES]
                      [BNC_METRICS_NSTATUS];
    uint64_t latency[BNC_METRICS_NBUCKETS]; /* per bucket, not cumulative */
    uint64_t latency_sum_us;
    struct bnc_metrics_proc procs[BNC_METRICS_NPROCS];
};

static struct bnc_metrics_region *bnc_metrics_r;
static int bnc_metrics_is_shared;
static int bnc_metrics_writable;
static int bnc_metrics_slot = -1;

static void
bnc_metrics_add(uint64_t *p, uint64_t n)
{
    __atomic_fetch_add(p, n, __ATOMIC_RELAXED);
}

static uint64_t
bnc_metrics_load(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void
bnc_metrics_init_header(struct bnc_metrics_region *r)
{
    r->version = BNC_METRICS_VERSION;
    r->size = (uint32_t)sizeof(*r);
    r->created = (uint64_t)time(NULL);
    __atomic_thread_fence(__ATOMIC_RELEASE);
    memcpy(r->magic, BNC_METRICS_MAGIC, sizeof(r->magic));
}

static int
bnc_metrics_header_ok(const struct bnc_metrics_region *r)
{
    return memcmp(r->magic, BNC_METRICS_MAGIC, sizeof(r->magic)) == 0 &&
           r->version == BNC_METRICS_VERSION && r->size == sizeof(*r);
}

/* A slot for this process's start time: a free one, or one whose process
 * is gone (kill(pid, 0) says ESRCH). None left: not listed. */
static void
bnc_metrics_claim_slot(void)
{
    uint64_t self = (uint64_t)getpid();
    int i;

    for (i = 0; i < BNC_METRICS_NPROCS; i++) {
        struct bnc_metrics_proc *p = &bnc_metrics_r->procs[i];
        uint64_t cur = __atomic_load_n(&p->pid, __ATOMIC_ACQUIRE);

        if (cur != 0 && (kill((pid_t)cur, 0) == 0 || errno != ESRCH))
            continue;
        if (!__atomic_compare_exchange_n(&p->pid, &cur, self, 0,
                                         __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
            continue;
        __atomic_store_n(&p->start, (uint64_t)time(NULL), __ATOMIC_RELEASE);
        bnc_metrics_slot = i;
        return;
    }
}

/* Maps fd (already sized and validated) into the globals. */
static int
bnc_metrics_map(int fd, int writable, struct bnc_err *err, const char *path)
{
    void *m = mmap(NULL, sizeof(struct bnc_metrics_region),
                   writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
                   fd, 0);

    if (m == MAP_FAILED) {
        bnc_err_set(err, "cannot map %s: %s", path, strerror(errno));
        return -1;
    }
    bnc_metrics_r = m;
    bnc_metrics_is_shared = 1;
    bnc_metrics_writable = writable;
    return 0;
}

/* Under an exclusive flock: 0 the file is ready, 2 it is new (or its
 * creator died before finishing: the counters are still zero) and needs a
 * header, 1 it had another layout and was unlinked (open again), -1 error. */
static int
bnc_metrics_prepare(int fd, const char *path, struct bnc_err *err)
{
    struct bnc_metrics_region hdr;
    struct stat st;
    ssize_t n;

    if (fstat(fd, &st) != 0) {
        bnc_err_set(err, "cannot stat %s: %s", path, strerror(errno));
        return -1;
    }
    if (st.st_size == 0) {
        if (ftruncate(fd, (off_t)sizeof(hdr)) != 0) {
            bnc_err_set(err, "cannot size %s: %s", path, strerror(errno));
            return -1;
        }
        return 2;
    }
    if (st.st_size != (off_t)sizeof(hdr)) {
        unlink(path);
        return 1;
    }
    memset(&hdr, 0, sizeof(hdr));
    n = pread(fd, &hdr, offsetof(struct bnc_metrics_region, reserved), 0);
    if (n != (ssize_t)offsetof(struct bnc_metrics_region, reserved)) {
        bnc_err_set(err, "cannot read %s: %s", path,
                    n < 0 ? strerror(errno) : "short read");
        return -1;
    }
    if (hdr.magic[0] == '\0')
        return 2;
    if (!bnc_metrics_header_ok(&hdr)) {
        unlink(path);
        return 1;
    }
    return 0;
}

static int
bnc_metrics_open_shared(const char *path, enum bnc_metrics_mode mode,
                        struct bnc_err *err)
{
    int attempt;

    for (attempt = 0; attempt < 3; attempt++) {
        int fd, rc;

        if (mode == BNC_METRICS_RO) {
            struct stat st;

            fd = open(path, O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                bnc_err_set(err, "cannot open %s: %s%s", path,
                            strerror(errno), errno == ENOENT
                            ? " (no bouncer process has counted yet)" : "");
                return -1;
            }
            if (fstat(fd, &st) != 0 || st.st_size != (off_t)sizeof(
                                           struct bnc_metrics_region)) {
                bnc_err_set(err, "%s has another layout (written by another "
                            "version of bouncer)", path);
                close(fd);
                return -1;
            }
            rc = bnc_metrics_map(fd, 0, err, path);
            close(fd);
            if (rc == 0 && !bnc_metrics_header_ok(bnc_metrics_r)) {
                bnc_err_set(err, "%s is not initialised or has another "
                            "version", path);
                bnc_metrics_close();
                return -1;
            }
            return rc;
        }
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0660);
        if (fd < 0) {
            bnc_err_set(err, "cannot open %s: %s", path, strerror(errno));
            return -1;
        }
        /* One opener at a time creates or checks the header. */
        if (flock(fd, LOCK_EX) != 0) {
            bnc_err_set(err, "cannot lock %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        rc = bnc_metrics_prepare(fd, path, err);
        if (rc != 0 && rc != 2) {
            (void)flock(fd, LOCK_UN);
            close(fd);
            if (rc == 1)
                continue; /* replaced: the next round creates a fresh one */
            return -1;
        }
        if (bnc_metrics_map(fd, 1, err, path) != 0)
            rc = -1;
        if (rc == 2)
            bnc_metrics_init_header(bnc_metrics_r);
        /* Explicitly: the mapping keeps the open file description (and
         * with it the flock) alive after close(). */
        (void)flock(fd, LOCK_UN);
        close(fd);
        return rc < 0 ? -1 : 0;
    }
    bnc_err_set(err, "%s keeps changing layout (bouncer processes of "
                "different versions?)", path);
    return -1;
}

int
bnc_metrics_open(const char *dir, enum bnc_metrics_mode mode,
                 struct bnc_err *err)
{
    char path[PATH_MAX];
    void *m;

    bnc_err_clear(err);
    bnc_metrics_close();
    if (dir == NULL || (size_t)snprintf(path, sizeof(path), "%s/%s", dir,
                                        BNC_METRICS_FILE) >= sizeof(path)) {
        bnc_err_set(err, "no store directory for %s", BNC_METRICS_FILE);
    } else if (bnc_metrics_open_shared(path, mode, err) == 0) {
        if (mode == BNC_METRICS_RW)
            bnc_metrics_claim_slot();
        return 0;
    }
    if (mode == BNC_METRICS_RO)
        return -1;
    /* Counting for this process alone beats not counting at all. */
    m = mmap(NULL, sizeof(struct bnc_metrics_region), PROT_READ | PROT_WRITE,
             MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m != MAP_FAILED) {
        bnc_metrics_r = m;
        bnc_metrics_is_shared = 0;
        bnc_metrics_writable = 1;
        bnc_metrics_init_header(bnc_metrics_r);
        bnc_metrics_claim_slot();
    }
    return -1;
}

void
bnc_metrics_close(void)
{
    if (bnc_metrics_r == NULL)
        return;
    /* Only our own slot: a forked child must not free its parent's. */
    if (bnc_metrics_slot >= 0 && bnc_metrics_writable) {
        struct bnc_metrics_proc *p = &bnc_metrics_r->procs[bnc_metrics_slot];
        uint64_t self = (uint64_t)getpid();

        if (__atomic_load_n(&p->pid, __ATOMIC_ACQUIRE) == self) {
            __atomic_store_n(&p->start, 0, __ATOMIC_RELEASE);
            __atomic_compare_exchange_n(&p->pid, &self, 0, 0,
                                        __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE);
        }
    }
    munmap(bnc_metrics_r, sizeof(*bnc_metrics_r));
    bnc_metrics_r = NULL;
    bnc_metrics_slot = -1;
    bnc_metrics_is_shared = 0;
    bnc_metrics_writable = 0;
}

int
bnc_metrics_active(void)
{
    return bnc_metrics_r != NULL;
}

void
bnc_metrics_count(enum bnc_metric m)
{
    if (bnc_metrics_r != NULL && bnc_metrics_writable &&
        (unsigned)m < BNC_MET_NCOUNTERS)
        bnc_metrics_add(&bnc_metrics_r->counters[m], 1);
}

static int
bnc_metrics_scheme_index(const char *scheme)
{
    int i;

    if (scheme == NULL || *scheme == '\0' || strcmp(scheme, "-") == 0)
        return 0;
    for (i = 1; i < BNC_METRICS_NSCHEMES - 1; i++)
        if (strcmp(scheme, bnc_metrics_schemes[i]) == 0)
            return i;
    return BNC_METRICS_NSCHEMES - 1;
}

static int
bnc_metrics_status_index(int status)
{
    int i;

    for (i = 0; i < BNC_METRICS_NSTATUS - 1; i++)
        if (bnc_metrics_statuses[i] == status)
            return i;
    return BNC_METRICS_NSTATUS - 1;
}

void
bnc_metrics_decision(const char *scheme, enum bnc_metrics_outcome o,
                     int status, int64_t micros)
{
    struct bnc_metrics_region *r = bnc_metrics_r;
    int b;

    if (r == NULL || !bnc_metrics_writable || (unsigned)o >= 3)
        return;
    bnc_metrics_add(&r->decisions[bnc_metrics_scheme_index(scheme)][o]
                                 [bnc_metrics_status_index(status)], 1);
    if (micros < 0)
        micros = 0;
    for (b = 0; b < BNC_METRICS_NBUCKETS - 1; b++)
        if (micros <= bnc_metrics_le_us[b])
            break;
    bnc_metrics_add(&r->latency[b], 1);
    bnc_metrics_add(&r->latency_sum_us, (uint64_t)micros);
    if (status == 429)
        bnc_metrics_add(&r->throttled, 1);
    if (o == BNC_MET_ERROR)
        bnc_metrics_add(&r->store_errors, 1);
}

uint64_t
bnc_metrics_get(enum bnc_metric m)
{
    if (bnc_metrics_r == NULL || (unsigned)m >= BNC_MET_NCOUNTERS)
        return 0;
    return bnc_metrics_load(&bnc_metrics_r->counters[m]);
}

uint64_t
bnc_metrics_decisions_total(void)
{
    uint64_t n = 0;
    int s, o, k;

    if (bnc_metrics_r == NULL)
        return 0;
    for (s = 0; s < BNC_METRICS_NSCHEMES; s++)
        for (o = 0; o < BNC_METRICS_NOUTCOMES; o++)
            for (k = 0; k < BNC_METRICS_NSTATUS; k++)
                n += bnc_metrics_load(&bnc_metrics_r->decisions[s][o][k]);
    return n;
}

/* ---- Prometheus text format 0.0.4 ----------------------------------- */

static void
bnc_metrics_head(struct bnc_buf *b, const char *name, const char *type,
                 const char *help)
{
    bnc_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
bnc_metrics_one(struct bnc_buf *b, const char *name, const char *help,
                uint64_t v)
{
    bnc_metrics_head(b, name, "counter", help);
    bnc_buf_printf(b, "%s %llu\n", name, (unsigned long long)v);
}

void
bnc_metrics_render(struct bnc_buf *b)
{
    struct bnc_metrics_region *r = bnc_metrics_r;
    uint64_t cum = 0, sum;
    int s, o, k, i;

    if (r == NULL) {
        bnc_metrics_head(b, "bouncer_metrics_shared", "gauge",
                         "1 when the counters are shared by every bouncer "
                         "process of the machine, 0 when they cover this "
                         "process only.");
        bnc_buf_puts(b, "bouncer_metrics_shared 0\n");
        return;
    }
    bnc_metrics_head(b, "bouncer_decisions_total", "counter",
                     "Decisions (authorizer and /auth/ API) by the scheme "
                     "that decided, outcome and HTTP status.");
    for (s = 0; s < BNC_METRICS_NSCHEMES; s++)
        for (o = 0; o < BNC_METRICS_NOUTCOMES; o++)
            for (k = 0; k < BNC_METRICS_NSTATUS; k++) {
                uint64_t v = bnc_metrics_load(&r->decisions[s][o][k]);

                if (v == 0)
                    continue;
                bnc_buf_printf(b, "bouncer_decisions_total{scheme=\"%s\","
                               "outcome=\"%s\",status=\"",
                               bnc_metrics_schemes[s],
                               bnc_metrics_outcomes[o]);
                if (bnc_metrics_statuses[k] != 0)
                    bnc_buf_printf(b, "%d", bnc_metrics_statuses[k]);
                else
                    bnc_buf_puts(b, "other");
                bnc_buf_printf(b, "\"} %llu\n", (unsigned long long)v);
            }
    bnc_metrics_head(b, "bouncer_decision_duration_seconds", "histogram",
                     "Time from the request's arrival to its answer.");
    /* _count is the +Inf bucket as read here, so the two always agree even
     * while other processes keep counting. */
    for (i = 0; i < BNC_METRICS_NBUCKETS; i++) {
        cum += bnc_metrics_load(&r->latency[i]);
        bnc_buf_printf(b, "bouncer_decision_duration_seconds_bucket{le=\"%s\"}"
                       " %llu\n", bnc_metrics_le_txt[i],
                       (unsigned long long)cum);
    }
    sum = bnc_metrics_load(&r->latency_sum_us);
    bnc_buf_printf(b, "bouncer_decision_duration_seconds_sum %llu.%06llu\n",
                   (unsigned long long)(sum / 1000000),
                   (unsigned long long)(sum % 1000000));
    bnc_buf_printf(b, "bouncer_decision_duration_seconds_count %llu\n",
                   (unsigned long long)cum);
    bnc_metrics_one(b, "bouncer_throttled_total",
                    "Requests refused with 429 (too many failures).",
                    bnc_metrics_load(&r->throttled));
    bnc_metrics_one(b, "bouncer_store_errors_total",
                    "Decisions that ended in an error (store unavailable, "
                    "no configuration).",
                    bnc_metrics_load(&r->store_errors));
    bnc_metrics_one(b, "bouncer_store_recoveries_total",
                    "Store reopened after a process died inside it.",
                    bnc_metrics_load(&r->counters[BNC_MET_STORE_RECOVERY]));
    bnc_metrics_one(b, "bouncer_credential_cache_hits_total",
                    "Passwords accepted from the verified-credential cache.",
                    bnc_metrics_load(&r->counters[BNC_MET_CACHE_HIT]));
    bnc_metrics_one(b, "bouncer_credential_cache_misses_total",
                    "Password checks the credential cache could not answer.",
                    bnc_metrics_load(&r->counters[BNC_MET_CACHE_MISS]));
    bnc_metrics_head(b, "bouncer_logins_total", "counter",
                     "Logins at POST /auth/login by result.");
    bnc_buf_printf(b, "bouncer_logins_total{result=\"success\"} %llu\n",
                   (unsigned long long)bnc_metrics_load(
                       &r->counters[BNC_MET_LOGIN_OK]));
    bnc_buf_printf(b, "bouncer_logins_total{result=\"failure\"} %llu\n",
                   (unsigned long long)bnc_metrics_load(
                       &r->counters[BNC_MET_LOGIN_FAIL]));
    bnc_metrics_head(b, "bouncer_process_start_time_seconds", "gauge",
                     "Start time of each running bouncer process (unix "
                     "seconds).");
    for (i = 0; i < BNC_METRICS_NPROCS; i++) {
        uint64_t pid = __atomic_load_n(&r->procs[i].pid, __ATOMIC_ACQUIRE);
        uint64_t start = __atomic_load_n(&r->procs[i].start,
                                         __ATOMIC_ACQUIRE);

        if (pid == 0 || start == 0 ||
            (kill((pid_t)pid, 0) != 0 && errno == ESRCH))
            continue;
        bnc_buf_printf(b, "bouncer_process_start_time_seconds{pid=\"%llu\"} "
                       "%llu\n", (unsigned long long)pid,
                       (unsigned long long)start);
    }
    bnc_metrics_head(b, "bouncer_metrics_created_seconds", "gauge",
                     "When the shared counters started from zero (unix "
                     "seconds).");
    bnc_buf_printf(b, "bouncer_metrics_created_seconds %llu\n",
                   (unsigned long long)r->created);
    bnc_metrics_head(b, "bouncer_metrics_shared", "gauge",
                     "1 when the counters are shared by every bouncer "
                     "process of the machine, 0 when they cover this "
                     "process only.");
    bnc_buf_printf(b, "bouncer_metrics_shared %d\n", bnc_metrics_is_shared);
}
