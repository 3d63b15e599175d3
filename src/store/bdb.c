/* SPDX-License-Identifier: MIT */
/* The store on Berkeley DB 5.3: environment, databases, transactions and maintenance. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <db.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "crypto/digest.h"
#include "log/log.h"
#include "store/codec.h"
#include "store/store.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

/*
 * Everything here follows doc/internals/store.md and the measured facts in
 * berkeley-db.md: one DB_ENV per process joined with DB_REGISTER|DB_RECOVER|
 * DB_FAILCHK, short write transactions with a deadlock retry loop, NULL-txn
 * reads copied out of the library, failchk + checkpoints in a maintenance
 * thread.
 */

#define BNC_STORE_META_FILE "meta.db"
#define BNC_STORE_USERS_FILE "users.db"
#define BNC_STORE_USERS_BY_ID_FILE "users_by_id.db"
#define BNC_STORE_TOKENS_FILE "tokens.db"
#define BNC_STORE_TOKENS_BY_ID_FILE "tokens_by_id.db"
#define BNC_STORE_TOKENS_BY_USER_FILE "tokens_by_user.db"
#define BNC_STORE_TOKENS_USED_FILE "tokens_used.db"
#define BNC_STORE_SESSIONS_FILE "sessions.db"
#define BNC_STORE_SESSIONS_BY_ID_FILE "sessions_by_id.db"
#define BNC_STORE_SESSIONS_BY_USER_FILE "sessions_by_user.db"
#define BNC_STORE_SESSIONS_SEEN_FILE "sessions_seen.db"
#define BNC_STORE_JWT_DENY_FILE "jwt_deny.db"
#define BNC_STORE_JWT_FAMILIES_FILE "jwt_families.db"
#define BNC_STORE_THROTTLE_FILE "throttle.db"
#define BNC_STORE_IMPORT_FILE "import.db"
/* Indexed by enum bnc_store_kv. */
static const char *const bnc_store_bdb_kv_files[BNC_KV_COUNT] = {
    BNC_STORE_JWT_DENY_FILE, BNC_STORE_JWT_FAMILIES_FILE,
    BNC_STORE_THROTTLE_FILE, BNC_STORE_IMPORT_FILE,
};
/* tokens_used.db and sessions_seen.db are written at most this often per
 * token or session. */
#define BNC_STORE_TOUCH_SECONDS 60
/* revoke_user deletes this many tokens (sessions) per transaction. */
#define BNC_STORE_REVOKE_BATCH 500
#define BNC_STORE_DEFAULT_CACHE ((uint64_t)64 << 20)
#define BNC_STORE_RETRIES 20
#define BNC_STORE_CKPT_SECONDS 30
#define BNC_STORE_FAILCHK_MS 200
#define BNC_STORE_FOREACH_BATCH 128
/* See bnc_store_bdb_join_prepare(): two failchk rounds and a margin. */
#define BNC_STORE_JOIN_WAIT_MS 500
/* How long bnc_store_recover() waits for the threads to leave the store. */
#define BNC_STORE_RECOVER_WAIT_S 3
#define BNC_STORE_ENV_FLAGS                                                  \
    (DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG | DB_INIT_TXN |  \
     DB_THREAD | DB_REGISTER | DB_RECOVER | DB_FAILCHK)

/* Our own outcomes of a transaction's work, kept outside the
 * -30999..-30800 range Berkeley DB reserves and away from errno values. */
#define BNC_STORE_BDB_ECORRUPT (-29001) /* a stored record did not decode */
#define BNC_STORE_BDB_EINVAL (-29002)   /* a record cannot be encoded */
#define BNC_STORE_BDB_EABORT (-29003)   /* the caller's callback said abort */
#define BNC_STORE_BDB_ERENAME (-29004)  /* the callback changed the name */
#define BNC_STORE_BDB_EFULL (-29005)    /* user ids exhausted */

struct bnc_store {
    DB_ENV *st_env;
    DB *st_meta;
    DB *st_users;
    DB *st_users_by_id;
    /* API tokens; NULL in a read-only open of a store that has none yet. */
    DB *st_tokens;
    DB *st_tokens_by_id;
    DB *st_tokens_by_user;
    DB *st_tokens_used;
    /* Sessions; NULL in a read-only open of a store that has none yet. */
    DB *st_sessions;
    DB *st_sessions_by_id;
    DB *st_sessions_by_user;
    DB *st_sessions_seen;
    /* Small keyed records (store.h, enum bnc_store_kv); NULL in a
     * read-only open of a store that has not got the file yet. */
    DB *st_kv[BNC_KV_COUNT];
    char *st_path;
    int st_readonly;
    atomic_int st_dead;
    /*
     * Guards the handles above: every public call that uses them holds it
     * for reading; bnc_store_recover() holds it for writing while it
     * closes and reopens them. Writer-preferring, so a steady stream of
     * requests cannot starve a reopen; the price is that no thread may
     * take it twice (a public call never calls another one).
     */
    pthread_rwlock_t st_rw;
    int st_revive;   /* reads that meet a panic reopen and retry (daemons) */
    int st_open_errno;   /* EBUSY when a failed open is worth retrying */
    /* Maintenance thread. */
    pthread_mutex_t st_mu;
    pthread_cond_t st_cond;
    int st_stop;
    int st_thread_running;
    pthread_t st_thread;
    /* Serialises maintenance rounds (thread and explicit calls);
     * st_last_ckpt is CLOCK_MONOTONIC seconds, 0 = none yet. */
    pthread_mutex_t st_maint_mu;
    int64_t st_last_ckpt;
};

/* DB_REGISTER allows one DB_ENV handle per process. */
static pthread_mutex_t bnc_store_bdb_slot_mu = PTHREAD_MUTEX_INITIALIZER;
static int bnc_store_bdb_slot_taken;

/* The last message Berkeley DB gave this thread, to enrich open errors. */
static _Thread_local char bnc_store_bdb_lastmsg[512];

typedef int (*bnc_store_bdb_work_fn)(struct bnc_store *s, DB_TXN *t,
                                      void *arg);

/* ---- callbacks given to Berkeley DB ----------------------------------- */

static void
bnc_store_bdb_errcall(const DB_ENV *env, const char *pfx, const char *msg)
{
    (void)env;
    (void)pfx;
    bnc_strlcpy(bnc_store_bdb_lastmsg, msg, sizeof(bnc_store_bdb_lastmsg));
    bnc_log(BNC_LOG_ERR, "store: berkeley db: %s", msg);
}

/* Informational messages, e.g. what failchk freed for a dead process. */
static void
bnc_store_bdb_msgcall(const DB_ENV *env, const char *msg)
{
    (void)env;
    bnc_log(BNC_LOG_INFO, "store: berkeley db: %s", msg);
}

static void
bnc_store_bdb_mark_dead(struct bnc_store *s, const char *why)
{
    if (s == NULL)
        return;
    if (atomic_exchange(&s->st_dead, 1) == 0)
        bnc_log(BNC_LOG_ERR,
                "store %s: %s; the environment needs recovery, its handles "
                "are unusable until the store is reopened",
                s->st_path, why);
}

static void
bnc_store_bdb_event(DB_ENV *env, u_int32_t event, void *info)
{
    struct bnc_store *s = env->app_private;

    (void)info;
    switch (event) {
    case DB_EVENT_PANIC:
        bnc_store_bdb_mark_dead(s, "Berkeley DB panic");
        break;
    case DB_EVENT_REG_PANIC:
        bnc_store_bdb_mark_dead(s, "another process is running recovery");
        break;
    case DB_EVENT_WRITE_FAILED:
        bnc_log(BNC_LOG_ERR, "store %s: Berkeley DB could not write a file",
                s != NULL ? s->st_path : "?");
        break;
    default:
        break;
    }
}

/*
 * failchk asks whether a pid in the thread table is still alive. A process
 * of another user answers kill() with EPERM: it exists, so it is alive. A
 * zombie holds no locks any more and counts as dead.
 */
static int
bnc_store_bdb_isalive(DB_ENV *env, pid_t pid, db_threadid_t tid,
                      u_int32_t flags)
{
    char path[64], buf[1024], *rp;
    ssize_t n;
    int fd;

    (void)env;
    (void)tid;
    (void)flags;
    if (pid == getpid())
        return 1;
    if (kill(pid, 0) != 0 && errno != EPERM)
        return 0;
    (void)snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : 1;
    n = read(fd, buf, sizeof(buf) - 1);
    (void)close(fd);
    if (n <= 0)
        return 1;
    buf[n] = '\0';
    /* "pid (comm) S ...": comm may hold ')' and spaces, so use the last. */
    rp = strrchr(buf, ')');
    if (rp == NULL || rp[1] != ' ' || rp[2] == '\0')
        return 1;
    return rp[2] != 'Z' && rp[2] != 'X';
}

/*
 * A newcomer that finds a dead process in __db.register runs failchk as
 * part of its open. If that process died inside a transaction and the
 * running processes' maintenance threads have not cleaned it up yet, 5.3.28's
 * failchk fails with "unable to destroy mutex: EBUSY" and falls back to a
 * full recovery, which panics every survivor (berkeley-db.md 2). So when the
 * register names a dead pid, give the maintenance threads (failchk every
 * 200 ms; the second call finishes the job) time first. The register holds
 * one fixed-width decimal pid per line, "X..." for a free slot; anything we
 * cannot parse means no wait. Costs one short read on every open and a
 * delay only for the first process to join after a crash.
 */
static void
bnc_store_bdb_register_scan(const char *path, int *dead, int *alive)
{
    char file[4096], buf[8192];
    ssize_t n;
    int fd;
    char *line, *next;

    *dead = *alive = 0;
    if ((size_t)snprintf(file, sizeof(file), "%s/__db.register", path) >=
        sizeof(file))
        return;
    fd = open(file, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    n = read(fd, buf, sizeof(buf) - 1);
    (void)close(fd);
    if (n <= 0)
        return;
    buf[n] = '\0';
    for (line = buf; line != NULL && *line != '\0'; line = next) {
        uint64_t pid;

        next = strchr(line, '\n');
        if (next != NULL)
            *next++ = '\0';
        while (*line == ' ')
            line++;
        if (bnc_parse_u64(line, 4194304, &pid) != 0 || pid == 0 ||
            (pid_t)pid == getpid())
            continue;
        if (bnc_store_bdb_isalive(NULL, (pid_t)pid, 0, 0))
            (*alive)++;
        else
            (*dead)++;
    }
}

/* Recovery in a private handle that never attaches to the old regions (a
 * mutex in them may be held by the dead process forever): it rebuilds them
 * from the log, as db5.3_recover would. Only when nobody else is inside. */
static void
bnc_store_bdb_recover_alone(const char *path)
{
    DB_ENV *env;
    int ret;

    if (db_env_create(&env, 0) != 0)
        return;
    env->set_errcall(env, bnc_store_bdb_errcall);
    ret = env->open(env, path,
                    DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG |
                        DB_INIT_TXN | DB_RECOVER,
                    0660);
    (void)env->close(env, 0);
    if (ret != 0)
        bnc_log(BNC_LOG_ERR, "store %s: recovery failed: %s", path,
                db_strerror(ret));
}

/*
 * Before joining, look at __db.register (one fixed-width pid per line, "X"
 * for a free slot; anything unparsable is ignored):
 *  - a dead pid and live ones: the dead process may have died inside a
 *    transaction, and a DB_FAILCHK open that meets it before the running
 *    processes' failchk cleaned it up falls back, in 5.3.28, to a full
 *    recovery that panics every survivor (berkeley-db.md 2). So give their
 *    maintenance threads (failchk every 200 ms; the second call finishes
 *    the job) time first;
 *  - dead pids and nobody alive: the last processes died, perhaps inside
 *    the library holding a region mutex that any attach would wait on for
 *    ever. Recover in a private handle first.
 * Joiners take an exclusive lock on bouncer.lock meanwhile, so two
 * processes starting after a crash do not both decide they are alone.
 * Returns the lock's fd (or -1) for bnc_store_bdb_join_done().
 */
static int
bnc_store_bdb_join_prepare(const char *path)
{
    char file[4096];
    int fd = -1, dead, alive;

    if ((size_t)snprintf(file, sizeof(file), "%s/bouncer.lock", path) <
        sizeof(file)) {
        fd = open(file, O_RDWR | O_CREAT | O_CLOEXEC, 0660);
        if (fd >= 0 && flock(fd, LOCK_EX) != 0) {
            (void)close(fd);
            fd = -1;
        }
    }
    bnc_store_bdb_register_scan(path, &dead, &alive);
    if (dead > 0 && alive == 0 && fd >= 0) {
        bnc_log(BNC_LOG_WARN, "store %s: the processes that used it died "
                "(%d); recovering it before joining", path, dead);
        bnc_store_bdb_recover_alone(path);
    } else if (dead > 0) {
        bnc_log(BNC_LOG_INFO, "store %s: a process died while using it; "
                "giving the running processes %d ms to clean up before "
                "joining", path, BNC_STORE_JOIN_WAIT_MS);
        usleep(BNC_STORE_JOIN_WAIT_MS * 1000);
    }
    return fd;
}

static void
bnc_store_bdb_join_done(int fd)
{
    if (fd >= 0) {
        (void)flock(fd, LOCK_UN);
        (void)close(fd);
    }
}

/* users_by_id.db key: user.c writes the format byte and then the
 * big-endian id at the start of every record format. */
static int
bnc_store_bdb_id_key(DB *sdb, const DBT *pkey, const DBT *pdata, DBT *skey)
{
    const unsigned char *p = pdata->data;

    (void)sdb;
    (void)pkey;
    if (pdata->size < 5 || p[0] == 0)
        return EINVAL;
    memset(skey, 0, sizeof(*skey));
    skey->data = (void *)(p + 1);
    skey->size = 4;
    return 0;
}

/* ---- helpers ------------------------------------------------------------ */

static char *
bnc_store_bdb_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = bnc_malloc(n);

    (void)snprintf(p, n, "%s/%s", dir, name);
    return p;
}

static int64_t
bnc_store_bdb_mono(void)
{
    struct timespec ts;

    (void)clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec;
}

static void
bnc_store_bdb_sleep_us(unsigned us)
{
    struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static const char *
bnc_store_bdb_detail(void)
{
    return bnc_store_bdb_lastmsg[0] != '\0' ? bnc_store_bdb_lastmsg : "";
}

/*
 * Enters a public call: takes the handle lock for reading and checks that
 * the handles are usable. On BNC_STORE_OK the caller must call
 * bnc_store_bdb_leave(); on DEAD the lock is not held. While a reopen is
 * running this waits for it, so a request that arrives during the reopen
 * is served by the new handles instead of failing.
 */
static int
bnc_store_bdb_enter(struct bnc_store *s)
{
    (void)pthread_rwlock_rdlock(&s->st_rw);
    if (atomic_load(&s->st_dead)) {
        (void)pthread_rwlock_unlock(&s->st_rw);
        return BNC_STORE_DEAD;
    }
    return BNC_STORE_OK;
}

static void
bnc_store_bdb_leave(struct bnc_store *s)
{
    (void)pthread_rwlock_unlock(&s->st_rw);
}

/* Maps a Berkeley DB or work result to the store's answer, logging errors. */
static int
bnc_store_bdb_rc(struct bnc_store *s, int ret, const char *what,
                 const char *name)
{
    switch (ret) {
    case 0:
        return BNC_STORE_OK;
    case DB_NOTFOUND:
        return BNC_STORE_NOTFOUND;
    case DB_KEYEXIST:
        return BNC_STORE_EXISTS;
    case DB_RUNRECOVERY:
        bnc_store_bdb_mark_dead(s, "DB_RUNRECOVERY");
        return BNC_STORE_DEAD;
    case BNC_STORE_BDB_ECORRUPT:
        return BNC_STORE_ERROR; /* logged where it was found */
    case BNC_STORE_BDB_EINVAL:
        bnc_log(BNC_LOG_ERR, "store %s: %s %s: invalid user record",
                s->st_path, what, name);
        return BNC_STORE_ERROR;
    case BNC_STORE_BDB_EABORT:
        return BNC_STORE_ERROR;
    case BNC_STORE_BDB_ERENAME:
        bnc_log(BNC_LOG_ERR, "store %s: %s %s: a user cannot be renamed here",
                s->st_path, what, name);
        return BNC_STORE_ERROR;
    case BNC_STORE_BDB_EFULL:
        bnc_log(BNC_LOG_ERR, "store %s: %s %s: no user ids left", s->st_path,
                what, name);
        return BNC_STORE_ERROR;
    default:
        if (atomic_load(&s->st_dead))
            return BNC_STORE_DEAD;
        bnc_log(BNC_LOG_ERR, "store %s: %s %s: %s", s->st_path, what, name,
                db_strerror(ret));
        return BNC_STORE_ERROR;
    }
}

/* Retry pause: 0.1 ms doubling to 102 ms (minus up to half, at random);
 * 20 tries wait about 0.8 s in all,
 * long enough for failchk (every 200 ms) to free a dead process's locks. */
static void
bnc_store_bdb_backoff(int tries)
{
    static _Thread_local unsigned seed;
    unsigned base = 100u << (tries < 10 ? tries : 10);

    /* Jitter keeps competing processes from retrying in lockstep. */
    if (seed == 0)
        seed = (unsigned)getpid() * 2654435761u + (unsigned)time(NULL);
    bnc_store_bdb_sleep_us(base / 2 + (unsigned)rand_r(&seed) % (base / 2));
}

/*
 * Runs work in a transaction, retrying lock conflicts (berkeley-db.md §3).
 * work must be repeatable: it is called again from scratch after an abort.
 *
 * DB_TXN_NOWAIT: a conflict returns DB_LOCK_NOTGRANTED at once instead of
 * sleeping in the lock table. Measured with 5.3.28 on glibc 2.36: a process
 * SIGKILLed while it sleeps in a lock wait leaves a condition variable that
 * glibc's pthread_cond_destroy() waits on for ever, so the failchk that
 * cleans up after it hangs (and with it every later failchk and every
 * DB_FAILCHK open). Nobody sleeping in the lock table avoids that.
 */
static int
bnc_store_bdb_txn_flags(struct bnc_store *s, u_int32_t flags,
                        bnc_store_bdb_work_fn work, void *arg)
{
    DB_ENV *env = s->st_env;
    DB_TXN *t;
    int tries, ret;

    for (tries = 0;; tries++) {
        ret = env->txn_begin(env, NULL, &t, DB_TXN_NOWAIT | flags);
        if (ret != 0)
            return ret;
        ret = work(s, t, arg);
        if (ret == 0)
            return t->commit(t, 0); /* a failed commit is reported, not retried */
        (void)t->abort(t);
        if ((ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED) ||
            tries == BNC_STORE_RETRIES)
            return ret;
        bnc_store_bdb_backoff(tries);
    }
}

static int
bnc_store_bdb_txn(struct bnc_store *s, enum bnc_store_sync sync,
                  bnc_store_bdb_work_fn work, void *arg)
{
    return bnc_store_bdb_txn_flags(
        s, sync == BNC_STORE_NOSYNC ? DB_TXN_WRITE_NOSYNC : 0, work, arg);
}

/*
 * One get, copied out: into stackbuf when it fits (the common case, no
 * allocation), else into a malloc'ed buffer. *outp is stackbuf or owned by
 * the caller.
 */
static int
bnc_store_bdb_fetch(DB *db, DB_TXN *t, const void *k, size_t klen,
                    u_int32_t flags, unsigned char *stackbuf, size_t stacksz,
                    unsigned char **outp, size_t *outlen)
{
    DBT key, data;
    unsigned char *big;
    int ret;

    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = (void *)k;
    key.size = (u_int32_t)klen;
    data.data = stackbuf;
    data.ulen = (u_int32_t)stacksz;
    data.flags = DB_DBT_USERMEM;
    ret = db->get(db, t, &key, &data, flags);
    if (ret == DB_BUFFER_SMALL) {
        big = bnc_malloc(data.size);
        data.data = big;
        data.ulen = data.size;
        ret = db->get(db, t, &key, &data, flags);
        if (ret != 0) {
            free(big);
            return ret;
        }
    }
    if (ret != 0)
        return ret;
    *outp = data.data;
    *outlen = data.size;
    return 0;
}

/*
 * The read path: one get in a DB_TXN_NOWAIT|DB_READ_COMMITTED transaction,
 * retried on conflict, so a reader never sleeps behind a writer (which may
 * be dead, see bnc_store_bdb_txn). About 1 us dearer than a NULL-txn get.
 */
static int
bnc_store_bdb_read(struct bnc_store *s, DB *db, const void *k, size_t klen,
                   unsigned char *stackbuf, size_t stacksz,
                   unsigned char **outp, size_t *outlen)
{
    DB_ENV *env = s->st_env;
    DB_TXN *t;
    int tries, ret, cret;

    for (tries = 0;; tries++) {
        ret = env->txn_begin(env, NULL, &t, DB_TXN_NOWAIT | DB_READ_COMMITTED);
        if (ret != 0)
            return ret;
        ret = bnc_store_bdb_fetch(db, t, k, klen, 0, stackbuf, stacksz, outp,
                                  outlen);
        if (ret == DB_NOTFOUND) {
            /* Commit, not abort: unknown names are routine and should
             * not swell the "aborted" statistics. */
            cret = t->commit(t, 0);
            return cret != 0 ? cret : DB_NOTFOUND;
        }
        if (ret == 0) {
            cret = t->commit(t, 0);
            if (cret != 0) {
                bnc_memzero(*outp, *outlen);
                if (*outp != stackbuf)
                    free(*outp);
            }
            return cret;
        }
        (void)t->abort(t);
        if ((ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED) ||
            tries == BNC_STORE_RETRIES)
            return ret;
        bnc_store_bdb_backoff(tries);
    }
}

static void
bnc_store_bdb_release(unsigned char *p, size_t len, unsigned char *stackbuf)
{
    /* Records hold password hashes: wipe the copies. */
    bnc_memzero(p, len);
    if (p != stackbuf)
        free(p);
}

static int
bnc_store_bdb_decode(struct bnc_store *s, const unsigned char *p, size_t len,
                     const char *what, struct bnc_user *out)
{
    struct bnc_err err;

    bnc_err_clear(&err);
    if (bnc_user_decode(p, len, out, &err) != 0) {
        bnc_log(BNC_LOG_ERR, "store %s: %s: %s", s->st_path, what, err.msg);
        return BNC_STORE_BDB_ECORRUPT;
    }
    return 0;
}

/* ---- open / close --------------------------------------------------------- */

static int
bnc_store_bdb_version_ok(struct bnc_err *err)
{
    int major, minor, patch;
    const char *v = db_version(&major, &minor, &patch);

    if (major != DB_VERSION_MAJOR || minor != DB_VERSION_MINOR) {
        bnc_err_set(err,
                    "Berkeley DB library mismatch: bouncer was built with "
                    "%d.%d.%d (%s) but the library loaded is %d.%d.%d (%s)",
                    DB_VERSION_MAJOR, DB_VERSION_MINOR, DB_VERSION_PATCH,
                    DB_VERSION_STRING, major, minor, patch, v);
        return 0;
    }
    return 1;
}

static int
bnc_store_bdb_write_all(int fd, const char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/*
 * DB_CONFIG must exist before the first env open: the regions are sized
 * from it at creation and rebuilt from it by every recovery. Written to a
 * temporary name and linked into place so a concurrent creator never sees
 * half a file.
 */
static int
bnc_store_bdb_write_config(const char *dir, uint64_t cache,
                           struct bnc_err *err)
{
    char *path = bnc_store_bdb_join(dir, "DB_CONFIG");
    char tmpname[64], *tmp = NULL, text[1024];
    int fd = -1, rc = -1, n;

    if (access(path, F_OK) == 0) {
        rc = 0;
        goto out;
    }
    if (cache == 0)
        cache = BNC_STORE_DEFAULT_CACHE;
    n = snprintf(text, sizeof(text),
                 "# Berkeley DB settings for the bouncer store, written when "
                 "it was created.\n"
                 "# Every process reads this file when it opens the store; "
                 "a recovery rebuilds\n"
                 "# the shared regions from it. Edit it only with every "
                 "process stopped,\n"
                 "# then run db5.3_recover -h DIR (doc/internals/store.md).\n"
                 "# The cache should hold the user, token and session files:\n"
                 "# raise it for large counts (about 370 MB per million\n"
                 "# tokens, 610 MB per million sessions).\n"
                 "set_cachesize %" PRIu64 " %" PRIu64 " 1\n"
                 "set_lk_detect DB_LOCK_DEFAULT\n"
                 "set_lg_max 10485760\n"
                 "set_lk_max_locks 50000\n"
                 "set_lk_max_objects 50000\n"
                 "mutex_set_max 200000\n"
                 "set_thread_count 256\n",
                 cache >> 30, cache & (((uint64_t)1 << 30) - 1));
    if (n < 0 || (size_t)n >= sizeof(text)) {
        bnc_err_set(err, "store %s: DB_CONFIG text too long", dir);
        goto out;
    }
    (void)snprintf(tmpname, sizeof(tmpname), "DB_CONFIG.tmp.%ld",
                   (long)getpid());
    tmp = bnc_store_bdb_join(dir, tmpname);
    (void)unlink(tmp);
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0660);
    if (fd < 0) {
        bnc_err_set(err, "%s opening store %s: cannot create %s: %s",
                    errno == EACCES ? "permission denied" : "error", dir, tmp,
                    strerror(errno));
        goto out;
    }
    if (bnc_store_bdb_write_all(fd, text, (size_t)n) != 0 || fsync(fd) != 0) {
        bnc_err_set(err, "store %s: cannot write %s: %s", dir, tmp,
                    strerror(errno));
        goto out;
    }
    if (link(tmp, path) != 0 && errno != EEXIST) {
        bnc_err_set(err, "store %s: cannot create %s: %s", dir, path,
                    strerror(errno));
        goto out;
    }
    rc = 0;
out:
    if (fd >= 0)
        (void)close(fd);
    if (tmp != NULL)
        (void)unlink(tmp);
    free(tmp);
    free(path);
    return rc;
}

/*
 * Every participant needs write access to the directory and to every file
 * in it (region files, logs, databases), even to read: say which one is
 * missing instead of letting Berkeley DB fail somewhere inside open.
 */
static int
bnc_store_bdb_check_access(const char *dir, struct bnc_err *err)
{
    DIR *d = NULL;
    struct dirent *de;
    struct stat st;
    char *file;
    int rc = -1;

    if (access(dir, R_OK | X_OK) != 0) {
        bnc_err_set(err, "permission denied opening store %s: %s (uid %ld)",
                    dir, strerror(errno), (long)geteuid());
        goto out;
    }
    if (access(dir, W_OK) != 0) {
        bnc_err_set(err,
                    "store %s is read-only: the directory is not writable "
                    "(%s, uid %ld); Berkeley DB needs write access to its "
                    "region files even to read",
                    dir, strerror(errno), (long)geteuid());
        goto out;
    }
    d = opendir(dir);
    if (d == NULL) {
        bnc_err_set(err, "permission denied opening store %s: %s", dir,
                    strerror(errno));
        goto out;
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || strcmp(de->d_name, "DB_CONFIG") == 0)
            continue;
        file = bnc_store_bdb_join(dir, de->d_name);
        if (stat(file, &st) == 0 && S_ISREG(st.st_mode) &&
            access(file, R_OK | W_OK) != 0) {
            bnc_err_set(err,
                        "store %s is read-only: %s is not writable by uid %ld "
                        "(owner uid %ld, mode %04o): %s; every process using "
                        "the store needs write access to all its files "
                        "(group-owned, umask 007)",
                        dir, de->d_name, (long)geteuid(), (long)st.st_uid,
                        (unsigned)(st.st_mode & 07777), strerror(errno));
            free(file);
            goto out;
        }
        free(file);
    }
    rc = 0;
out:
    if (d != NULL)
        (void)closedir(d);
    return rc;
}

static int
bnc_store_bdb_prepare_dir(const struct bnc_store_opts *o, struct bnc_err *err)
{
    struct stat st;

    if (stat(o->path, &st) != 0) {
        if (errno == EACCES) {
            bnc_err_set(err, "permission denied opening store %s: %s",
                        o->path, strerror(errno));
            return -1;
        }
        if (errno != ENOENT) {
            bnc_err_set(err, "cannot open store %s: %s", o->path,
                        strerror(errno));
            return -1;
        }
        if (!o->create || o->readonly) {
            bnc_err_set(err, "store directory %s does not exist", o->path);
            return -1;
        }
        if (mkdir(o->path, 02770) != 0 && errno != EEXIST) {
            bnc_err_set(err, "%s creating store directory %s: %s",
                        errno == EACCES ? "permission denied" : "error",
                        o->path, strerror(errno));
            return -1;
        }
        /* mkdir() drops the setgid bit: set it so every file created in
         * the store belongs to the directory's group. */
        if (chmod(o->path, 02770) != 0) {
            bnc_err_set(err, "cannot set mode 2770 on store directory %s: %s",
                        o->path, strerror(errno));
            return -1;
        }
        return 0;
    }
    if (!S_ISDIR(st.st_mode)) {
        bnc_err_set(err, "store %s is not a directory", o->path);
        return -1;
    }
    return 0;
}

static int
bnc_store_bdb_open_db(struct bnc_store *s, DB **dbp, const char *file,
                      u_int32_t dbflags, struct bnc_err *err)
{
    DB *db = NULL;
    u_int32_t flags = DB_THREAD;
    int ret;

    *dbp = NULL;
    /* DB_AUTO_COMMIT also makes the handle transactional, which the
     * NOWAIT read transactions need in read-only mode too. */
    flags |= DB_AUTO_COMMIT | (s->st_readonly ? DB_RDONLY : DB_CREATE);
    ret = db_create(&db, s->st_env, 0);
    if (ret != 0) {
        bnc_err_set(err, "store %s: db_create: %s", s->st_path,
                    db_strerror(ret));
        return -1;
    }
    if (dbflags != 0)
        (void)db->set_flags(db, dbflags);
    ret = db->open(db, NULL, file, NULL, DB_BTREE, flags, 0660);
    if (ret != 0) {
        if (ret == ENOENT && s->st_readonly)
            bnc_err_set(err,
                        "store %s is not initialised (%s is missing); open "
                        "it once for writing first, e.g. with bouncerctl",
                        s->st_path, file);
        else if (ret == EACCES || ret == EPERM)
            bnc_err_set(err, "permission denied opening store %s: %s: %s",
                        s->st_path, file, db_strerror(ret));
        else
            bnc_err_set(err, "store %s: cannot open %s: %s", s->st_path,
                        file, db_strerror(ret));
        (void)db->close(db, 0);
        return -1;
    }
    *dbp = db;
    return 0;
}

static int
bnc_store_bdb_schema_put(struct bnc_store *s, DB_TXN *t, void *arg)
{
    char text[16];
    DBT key, data;
    int n, ret;

    (void)arg;
    n = snprintf(text, sizeof(text), "%d", BNC_STORE_SCHEMA);
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = (void *)"schema";
    key.size = 6;
    data.data = text;
    data.size = (u_int32_t)n;
    ret = s->st_meta->put(s->st_meta, t, &key, &data, DB_NOOVERWRITE);
    /* Someone created the store at the same moment: re-read theirs. */
    return ret == DB_KEYEXIST ? 0 : ret;
}

static int
bnc_store_bdb_schema_check(struct bnc_store *s, struct bnc_err *err)
{
    unsigned char buf[32], *p = NULL;
    char text[32];
    size_t len = 0;
    uint64_t v;
    int ret, pass;

    for (pass = 0; pass < 2; pass++) {
        ret = bnc_store_bdb_read(s, s->st_meta, "schema", 6, buf,
                                 sizeof(buf), &p, &len);
        if (ret != DB_NOTFOUND)
            break;
        if (s->st_readonly || pass > 0) {
            bnc_err_set(err,
                        "store %s is not initialised (no format version); "
                        "open it once for writing first",
                        s->st_path);
            return -1;
        }
        ret = bnc_store_bdb_txn(s, BNC_STORE_SYNC, bnc_store_bdb_schema_put,
                                NULL);
        if (ret != 0)
            break;
    }
    if (ret == DB_BUFFER_SMALL || (ret == 0 && len >= sizeof(text))) {
        if (ret == 0)
            bnc_store_bdb_release(p, len, buf);
        bnc_err_set(err, "store %s has an unreadable format version",
                    s->st_path);
        return -1;
    }
    if (ret != 0) {
        bnc_err_set(err, "store %s: cannot read the format version: %s",
                    s->st_path, db_strerror(ret));
        return -1;
    }
    memcpy(text, p, len);
    text[len] = '\0';
    bnc_store_bdb_release(p, len, buf);
    if (bnc_parse_u64(text, UINT32_MAX, &v) != 0 || v == 0) {
        bnc_err_set(err, "store %s has an unreadable format version \"%s\"",
                    s->st_path, text);
        return -1;
    }
    if (v > BNC_STORE_SCHEMA) {
        bnc_err_set(err,
                    "store %s has format version %" PRIu64
                    "; this bouncer supports up to %d",
                    s->st_path, v, BNC_STORE_SCHEMA);
        return -1;
    }
    return 0;
}

static void *
bnc_store_bdb_thread(void *arg)
{
    struct bnc_store *s = arg;
    struct timespec ts;

    pthread_mutex_lock(&s->st_mu);
    while (!s->st_stop) {
        (void)clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += (long)BNC_STORE_FAILCHK_MS * 1000000L;
        ts.tv_sec += ts.tv_nsec / 1000000000L;
        ts.tv_nsec %= 1000000000L;
        (void)pthread_cond_timedwait(&s->st_cond, &s->st_mu, &ts);
        if (s->st_stop)
            break;
        pthread_mutex_unlock(&s->st_mu);
        if (!atomic_load(&s->st_dead))
            (void)bnc_store_maintain(s);
        pthread_mutex_lock(&s->st_mu);
    }
    pthread_mutex_unlock(&s->st_mu);
    return NULL;
}

static int
bnc_store_bdb_start_thread(struct bnc_store *s, struct bnc_err *err)
{
    sigset_t all, old;
    int ret;

    /* The thread inherits this mask: signals stay with the threads that
     * handle them (FastCGI workers, the main loop). */
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    ret = pthread_create(&s->st_thread, NULL, bnc_store_bdb_thread, s);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (ret != 0) {
        bnc_err_set(err, "store %s: cannot start the maintenance thread: %s",
                    s->st_path, strerror(ret));
        return -1;
    }
    s->st_thread_running = 1;
    return 0;
}

/*
 * Closes every handle. Errors are expected from a panicked environment;
 * close anyway so the registry slot is freed. Secondaries before their
 * primaries. DB_NOSYNC: every commit is in the log already, and flushing
 * the cache could wait for ever on a mutex a dead process held.
 */
static void
bnc_store_bdb_detach(struct bnc_store *s)
{
    DB **dbs[] = {&s->st_sessions_seen,  &s->st_sessions_by_user,
                  &s->st_sessions_by_id, &s->st_sessions,
                  &s->st_tokens_used,    &s->st_tokens_by_user,
                  &s->st_tokens_by_id,   &s->st_tokens,
                  &s->st_users_by_id,    &s->st_users,
                  &s->st_meta};
    size_t i;

    for (i = 0; i < BNC_KV_COUNT; i++) {
        if (s->st_kv[i] != NULL)
            (void)s->st_kv[i]->close(s->st_kv[i], DB_NOSYNC);
        s->st_kv[i] = NULL;
    }
    for (i = 0; i < sizeof(dbs) / sizeof(dbs[0]); i++) {
        if (*dbs[i] != NULL)
            (void)(*dbs[i])->close(*dbs[i], DB_NOSYNC);
        *dbs[i] = NULL;
    }
    if (s->st_env != NULL)
        (void)s->st_env->close(s->st_env, 0);
    s->st_env = NULL;
}

static void
bnc_store_bdb_free(struct bnc_store *s)
{
    if (s->st_thread_running) {
        pthread_mutex_lock(&s->st_mu);
        s->st_stop = 1;
        pthread_cond_signal(&s->st_cond);
        pthread_mutex_unlock(&s->st_mu);
        (void)pthread_join(s->st_thread, NULL);
        s->st_thread_running = 0;
    }
    bnc_store_bdb_detach(s);
    pthread_cond_destroy(&s->st_cond);
    pthread_mutex_destroy(&s->st_mu);
    pthread_mutex_destroy(&s->st_maint_mu);
    pthread_rwlock_destroy(&s->st_rw);
    free(s->st_path);
    free(s);
}

static void
bnc_store_bdb_env_error(const char *path, int ret, struct bnc_err *err)
{
    const char *detail = bnc_store_bdb_detail();
    const char *sep = detail[0] != '\0' ? " (" : "";
    const char *end = detail[0] != '\0' ? ")" : "";

    switch (ret) {
    case EACCES:
    case EPERM:
        bnc_err_set(err, "permission denied opening store %s: %s%s%s%s", path,
                    db_strerror(ret), sep, detail, end);
        break;
    case EROFS:
        bnc_err_set(err,
                    "store %s is read-only: %s; Berkeley DB needs write "
                    "access to its region files even to read",
                    path, db_strerror(ret));
        break;
    case DB_VERSION_MISMATCH:
        bnc_err_set(err,
                    "store %s was created by a different Berkeley DB version "
                    "or build: stop every process using it, then run "
                    "db5.3_recover -h %s",
                    path, path);
        break;
    case DB_RUNRECOVERY:
        bnc_err_set(err,
                    "store %s needs recovery and it did not succeed: %s%s%s%s",
                    path, db_strerror(ret), sep, detail, end);
        break;
    case EBUSY:
        /* failchk at open met a process that died inside a transaction
         * before the running processes' failchk had cleaned it up
         * ("unable to destroy mutex"): it will be, shortly. */
        bnc_err_set(err,
                    "store %s: a process that died inside it is still being "
                    "cleaned up; try again in a moment",
                    path);
        break;
    default:
        bnc_err_set(err, "cannot open store %s: %s%s%s%s", path,
                    db_strerror(ret), sep, detail, end);
        break;
    }
}

/*
 * Tokens and sessions are one family of files: records keyed by the SHA-256
 * of a secret, a unique index by public id (at a fixed offset in every
 * record format), an index by user (the first length-prefixed field), and a
 * write-hot last-use file. The index callbacks find the family's offsets
 * through the secondary handle's app_private.
 */
struct bnc_store_bdb_family {
    const char *what;       /* for messages: "token", "session" */
    const char *files[4];   /* primary, by id, by user, last use */
    size_t id_off;
    size_t id_len;
    size_t user_off;
};

static const struct bnc_store_bdb_family bnc_store_bdb_tokens_family = {
    "token",
    {BNC_STORE_TOKENS_FILE, BNC_STORE_TOKENS_BY_ID_FILE,
     BNC_STORE_TOKENS_BY_USER_FILE, BNC_STORE_TOKENS_USED_FILE},
    BNC_TOKEN_REC_ID_OFF, BNC_TOKEN_ID_LEN, BNC_TOKEN_REC_USER_OFF,
};

static const struct bnc_store_bdb_family bnc_store_bdb_sessions_family = {
    "session",
    {BNC_STORE_SESSIONS_FILE, BNC_STORE_SESSIONS_BY_ID_FILE,
     BNC_STORE_SESSIONS_BY_USER_FILE, BNC_STORE_SESSIONS_SEEN_FILE},
    BNC_SESSION_REC_ID_OFF, BNC_SESSION_ID_LEN, BNC_SESSION_REC_USER_OFF,
};

/* by-id index key: the id at the family's fixed offset. */
static int
bnc_store_bdb_family_id_key(DB *sdb, const DBT *pkey, const DBT *pdata,
                            DBT *skey)
{
    const struct bnc_store_bdb_family *f = sdb->app_private;
    const unsigned char *p = pdata->data;

    (void)pkey;
    if (pdata->size < f->user_off || p[0] == 0)
        return EINVAL;
    memset(skey, 0, sizeof(*skey));
    skey->data = (void *)(p + f->id_off);
    skey->size = (u_int32_t)f->id_len;
    return 0;
}

/* by-user index key: the user name, the first length-prefixed field. */
static int
bnc_store_bdb_family_user_key(DB *sdb, const DBT *pkey, const DBT *pdata,
                              DBT *skey)
{
    const struct bnc_store_bdb_family *f = sdb->app_private;
    const unsigned char *p = pdata->data;
    uint32_t n;

    (void)pkey;
    if (pdata->size < f->user_off + 4 || p[0] == 0)
        return EINVAL;
    n = bnc_codec_get_u32(p + f->user_off);
    if (n == 0 || n > BNC_USER_NAME_MAX || n > pdata->size - (f->user_off + 4))
        return EINVAL;
    memset(skey, 0, sizeof(*skey));
    skey->data = (void *)(p + f->user_off + 4);
    skey->size = n;
    return 0;
}

/*
 * Opens a family's files. A store created before the family existed has
 * none: a writer creates them (associate with DB_CREATE indexes nothing,
 * the primary being new), a read-only open goes on without them and finds
 * no records.
 */
static int
bnc_store_bdb_open_family(struct bnc_store *s,
                          const struct bnc_store_bdb_family *f, DB **prim,
                          DB **by_id, DB **by_user, DB **used,
                          struct bnc_err *err)
{
    u_int32_t aflags = s->st_readonly ? 0 : DB_CREATE;
    char *file;
    int ret, missing;

    if (s->st_readonly) {
        file = bnc_store_bdb_join(s->st_path, f->files[0]);
        missing = access(file, F_OK) != 0 && errno == ENOENT;
        free(file);
        if (missing)
            return 0;
    }
    if (bnc_store_bdb_open_db(s, prim, f->files[0], 0, err) != 0 ||
        bnc_store_bdb_open_db(s, by_id, f->files[1], 0, err) != 0 ||
        bnc_store_bdb_open_db(s, by_user, f->files[2], DB_DUPSORT, err) !=
            0 ||
        bnc_store_bdb_open_db(s, used, f->files[3], 0, err) != 0)
        return -1;
    (*by_id)->app_private = (void *)f;
    (*by_user)->app_private = (void *)f;
    /* Per handle, not on disk: every process associates (berkeley-db.md
     * 8), or its writes would miss the indexes. */
    ret = (*prim)->associate(*prim, NULL, *by_id, bnc_store_bdb_family_id_key,
                             aflags);
    if (ret == 0)
        ret = (*prim)->associate(*prim, NULL, *by_user,
                                 bnc_store_bdb_family_user_key, aflags);
    if (ret != 0) {
        bnc_err_set(err, "store %s: cannot associate the %s indexes: %s",
                    s->st_path, f->what, db_strerror(ret));
        return -1;
    }
    return 0;
}

static int
bnc_store_bdb_open_tokens(struct bnc_store *s, struct bnc_err *err)
{
    return bnc_store_bdb_open_family(s, &bnc_store_bdb_tokens_family,
                                     &s->st_tokens, &s->st_tokens_by_id,
                                     &s->st_tokens_by_user,
                                     &s->st_tokens_used, err);
}

static int
bnc_store_bdb_open_sessions(struct bnc_store *s, struct bnc_err *err)
{
    return bnc_store_bdb_open_family(s, &bnc_store_bdb_sessions_family,
                                     &s->st_sessions, &s->st_sessions_by_id,
                                     &s->st_sessions_by_user,
                                     &s->st_sessions_seen, err);
}

/* The keyed-record files; like a family, a read-only open skips the ones a
 * writer has not created yet (their gets answer NOTFOUND). */
static int
bnc_store_bdb_open_kv(struct bnc_store *s, struct bnc_err *err)
{
    char *file;
    size_t i;
    int missing;

    for (i = 0; i < BNC_KV_COUNT; i++) {
        if (s->st_readonly) {
            file = bnc_store_bdb_join(s->st_path, bnc_store_bdb_kv_files[i]);
            missing = access(file, F_OK) != 0 && errno == ENOENT;
            free(file);
            if (missing)
                continue;
        }
        if (bnc_store_bdb_open_db(s, &s->st_kv[i], bnc_store_bdb_kv_files[i],
                                  0, err) != 0)
            return -1;
    }
    return 0;
}

/*
 * Joins the environment and opens every database: the part of an open that
 * a reopen after a panic repeats, with the same flags and DB_CONFIG. On
 * failure the caller detaches whatever was opened.
 */
static int
bnc_store_bdb_attach(struct bnc_store *s, struct bnc_err *err)
{
    int ret, lockfd;

    bnc_store_bdb_lastmsg[0] = '\0';
    lockfd = bnc_store_bdb_join_prepare(s->st_path);
    ret = db_env_create(&s->st_env, 0);
    if (ret != 0) {
        bnc_store_bdb_join_done(lockfd);
        bnc_err_set(err, "store %s: db_env_create: %s", s->st_path,
                    db_strerror(ret));
        s->st_env = NULL;
        return -1;
    }
    s->st_env->app_private = s;
    s->st_env->set_errcall(s->st_env, bnc_store_bdb_errcall);
    s->st_env->set_msgcall(s->st_env, bnc_store_bdb_msgcall);
    (void)s->st_env->set_event_notify(s->st_env, bnc_store_bdb_event);
    (void)s->st_env->set_thread_count(s->st_env, 256);
    (void)s->st_env->set_isalive(s->st_env, bnc_store_bdb_isalive);
    /* Log files are created long after open, outside our umask: give
     * them the group mode explicitly. */
    (void)s->st_env->set_lg_filemode(s->st_env, 0660);
    ret = s->st_env->open(s->st_env, s->st_path, BNC_STORE_ENV_FLAGS, 0660);
    bnc_store_bdb_join_done(lockfd);
    if (ret != 0) {
        bnc_store_bdb_env_error(s->st_path, ret, err);
        s->st_open_errno = ret == EBUSY ? EBUSY : 0;
        /* A failed open leaves a handle that may only be closed. */
        (void)s->st_env->close(s->st_env, 0);
        s->st_env = NULL;
        return -1;
    }
    if (bnc_store_bdb_open_db(s, &s->st_meta, BNC_STORE_META_FILE, 0, err) !=
            0 ||
        bnc_store_bdb_open_db(s, &s->st_users, BNC_STORE_USERS_FILE, 0,
                              err) != 0 ||
        bnc_store_bdb_open_db(s, &s->st_users_by_id,
                              BNC_STORE_USERS_BY_ID_FILE, 0, err) != 0)
        return -1;
    /* The association lives in this handle only: every process makes it,
     * or its writes would miss the index (berkeley-db.md §8). */
    ret = s->st_users->associate(s->st_users, NULL, s->st_users_by_id,
                                 bnc_store_bdb_id_key,
                                 s->st_readonly ? 0 : DB_CREATE);
    if (ret != 0) {
        bnc_err_set(err, "store %s: cannot associate %s with %s: %s",
                    s->st_path, BNC_STORE_USERS_BY_ID_FILE, BNC_STORE_USERS_FILE,
                    db_strerror(ret));
        return -1;
    }
    if (bnc_store_bdb_open_tokens(s, err) != 0)
        return -1;
    if (bnc_store_bdb_open_sessions(s, err) != 0)
        return -1;
    if (bnc_store_bdb_open_kv(s, err) != 0)
        return -1;
    if (bnc_store_bdb_schema_check(s, err) != 0)
        return -1;
    return 0;
}

struct bnc_store *
bnc_store_open(const struct bnc_store_opts *o, struct bnc_err *err)
{
    struct bnc_store *s = NULL;
    pthread_condattr_t ca;
    pthread_rwlockattr_t ra;
    mode_t old_mask = 0;
    int mask_set = 0, claimed = 0, ok = 0;

    if (!bnc_store_bdb_version_ok(err))
        goto out;
    if (o == NULL || o->path == NULL || o->path[0] == '\0') {
        bnc_err_set(err, "store path is empty");
        goto out;
    }
    pthread_mutex_lock(&bnc_store_bdb_slot_mu);
    if (!bnc_store_bdb_slot_taken) {
        bnc_store_bdb_slot_taken = 1;
        claimed = 1;
    }
    pthread_mutex_unlock(&bnc_store_bdb_slot_mu);
    if (!claimed) {
        bnc_err_set(err,
                    "cannot open store %s: a store is already open in this "
                    "process (DB_REGISTER allows one environment handle per "
                    "process)",
                    o->path);
        goto out;
    }

    s = bnc_calloc(1, sizeof(*s));
    s->st_path = bnc_strdup(o->path);
    s->st_readonly = o->readonly != 0;
    atomic_init(&s->st_dead, 0);
    pthread_mutex_init(&s->st_mu, NULL);
    pthread_mutex_init(&s->st_maint_mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&s->st_cond, &ca);
    pthread_condattr_destroy(&ca);
    pthread_rwlockattr_init(&ra);
#ifdef __GLIBC__
    /* glibc prefers readers by default: a reopen could wait for ever
     * behind overlapping requests. */
    (void)pthread_rwlockattr_setkind_np(
        &ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
#endif
    pthread_rwlock_init(&s->st_rw, &ra);
    pthread_rwlockattr_destroy(&ra);

    /* Group members must be able to write everything we create here,
     * region files rebuilt by a recovery included (berkeley-db.md §8). */
    old_mask = umask(007);
    mask_set = 1;
    if (bnc_store_bdb_prepare_dir(o, err) != 0)
        goto out;
    if (bnc_store_bdb_check_access(o->path, err) != 0)
        goto out;
    if (!s->st_readonly &&
        bnc_store_bdb_write_config(o->path, o->cache_bytes, err) != 0)
        goto out;

    if (bnc_store_bdb_attach(s, err) != 0)
        goto out;
    s->st_revive = o->revive != 0;
    if (o->maintenance && bnc_store_bdb_start_thread(s, err) != 0)
        goto out;
    ok = 1;
out:
    if (mask_set)
        (void)umask(old_mask);
    if (!ok) {
        int busy = s != NULL && s->st_open_errno == EBUSY;

        if (s != NULL)
            bnc_store_bdb_free(s);
        s = NULL;
        errno = busy ? EBUSY : 0;
        if (claimed) {
            pthread_mutex_lock(&bnc_store_bdb_slot_mu);
            bnc_store_bdb_slot_taken = 0;
            pthread_mutex_unlock(&bnc_store_bdb_slot_mu);
        }
    }
    return s;
}

void
bnc_store_close(struct bnc_store *s)
{
    if (s == NULL)
        return;
    bnc_store_bdb_free(s);
    pthread_mutex_lock(&bnc_store_bdb_slot_mu);
    bnc_store_bdb_slot_taken = 0;
    pthread_mutex_unlock(&bnc_store_bdb_slot_mu);
}

/*
 * berkeley-db.md 2, recommendation 3: after a panic, close every handle and
 * open again with the same flags; the first process to reopen runs
 * recovery, the others wait for it inside env->open. The write lock keeps
 * every other thread out of the handles meanwhile. A thread that does not
 * leave the store within the timeout is stuck inside the library (on a
 * mutex of a dead process): then only a new process helps.
 */
int
bnc_store_recover(struct bnc_store *s, struct bnc_err *err)
{
    struct timespec ts, t0, t1;
    mode_t old_mask;
    int ret, rc = -1;

    if (!atomic_load(&s->st_dead))
        return 0;
    (void)clock_gettime(CLOCK_MONOTONIC, &t0);
    (void)clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += BNC_STORE_RECOVER_WAIT_S;
    ret = pthread_rwlock_timedwrlock(&s->st_rw, &ts);
    if (ret != 0) {
        bnc_err_set(err,
                    "store %s needs recovery, but a thread did not leave "
                    "it within %d s (%s): it is stuck inside Berkeley DB",
                    s->st_path, BNC_STORE_RECOVER_WAIT_S,
                    ret == ETIMEDOUT ? "timed out" : strerror(ret));
        return -1;
    }
    if (!atomic_load(&s->st_dead)) {
        rc = 0; /* another thread reopened it while we waited */
        goto unlock;
    }
    bnc_store_bdb_detach(s);
    old_mask = umask(007);
    ret = bnc_store_bdb_attach(s, err);
    (void)umask(old_mask);
    if (ret != 0) {
        bnc_store_bdb_detach(s);
        goto unlock;
    }
    /*
     * Cleared only now: env->open first attaches to the panicked regions,
     * which reports a panic event, and then retries with recovery. Had the
     * new environment panicked for real, the databases would not have
     * opened and the format version would not have been read.
     */
    atomic_store(&s->st_dead, 0);
    (void)clock_gettime(CLOCK_MONOTONIC, &t1);
    bnc_log(BNC_LOG_WARN, "store %s: store reopened after a panic in %ld ms",
            s->st_path,
            (long)((t1.tv_sec - t0.tv_sec) * 1000 +
                   (t1.tv_nsec - t0.tv_nsec) / 1000000));
    rc = 0;
unlock:
    (void)pthread_rwlock_unlock(&s->st_rw);
    return rc;
}

/*
 * The authorizer's reads do not wait for the main thread's next tick when
 * they meet a panic: the first of them reopens the environment (the others
 * wait on the handle lock and find it done) and each retries once, so the
 * requests that arrive during a recovery are answered from the new
 * environment instead of failing with 500. Only where opts->revive asks
 * for it (the daemon): bouncerctl reports the error instead.
 */
static int
bnc_store_bdb_revive(struct bnc_store *s)
{
    struct bnc_err err;

    if (!s->st_revive)
        return -1;
    bnc_err_clear(&err);
    if (bnc_store_recover(s, &err) != 0) {
        bnc_log(BNC_LOG_ERR, "%s", err.msg);
        return -1;
    }
    return 0;
}

int
bnc_store_dead(const struct bnc_store *s)
{
    /* atomic_load wants a non-const object in C11. */
    return atomic_load(&((struct bnc_store *)s)->st_dead);
}

const char *
bnc_store_path(const struct bnc_store *s)
{
    return s->st_path;
}

/* ---- users ------------------------------------------------------------- */

static int
bnc_store_bdb_get_common(struct bnc_store *s, DB *db, const void *k,
                         size_t klen, const char *what, const char *label,
                         struct bnc_user *out)
{
    unsigned char buf[1024], *p = NULL;
    size_t len = 0;
    int ret;

    ret = bnc_store_bdb_read(s, db, k, klen, buf, sizeof(buf), &p, &len);
    if (ret != 0)
        return bnc_store_bdb_rc(s, ret, what, label);
    ret = bnc_store_bdb_decode(s, p, len, label, out);
    bnc_store_bdb_release(p, len, buf);
    return ret == 0 ? BNC_STORE_OK : BNC_STORE_ERROR;
}

static int
bnc_store_user_get_once(struct bnc_store *s, const char *name,
                        struct bnc_user *out)
{
    size_t n;
    int rc;

    memset(out, 0, sizeof(*out));
    n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > BNC_USER_NAME_MAX)
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    rc = bnc_store_bdb_get_common(s, s->st_users, name, n, "get user", name,
                                  out);
    bnc_store_bdb_leave(s);
    if (rc == BNC_STORE_OK && strcmp(out->name, name) != 0) {
        bnc_log(BNC_LOG_ERR, "store %s: record of user %s names %s",
                s->st_path, name, out->name);
        bnc_user_cleanup(out);
        rc = BNC_STORE_ERROR;
    }
    return rc;
}

int
bnc_store_user_get(struct bnc_store *s, const char *name,
                   struct bnc_user *out)
{
    int rc = bnc_store_user_get_once(s, name, out);

    if (rc == BNC_STORE_DEAD && bnc_store_bdb_revive(s) == 0)
        rc = bnc_store_user_get_once(s, name, out);
    return rc;
}

static int
bnc_store_user_get_by_id_once(struct bnc_store *s, uint32_t id,
                              struct bnc_user *out)
{
    unsigned char k[4];
    char label[32];
    int rc;

    memset(out, 0, sizeof(*out));
    bnc_codec_put_u32(k, id);
    (void)snprintf(label, sizeof(label), "#%lu", (unsigned long)id);
    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    /* A get on the secondary returns the primary record. */
    rc = bnc_store_bdb_get_common(s, s->st_users_by_id, k, 4, "get user",
                                  label, out);
    bnc_store_bdb_leave(s);
    if (rc == BNC_STORE_OK && out->id != id) {
        bnc_log(BNC_LOG_ERR, "store %s: index entry %s leads to user %s #%lu",
                s->st_path, label, out->name, (unsigned long)out->id);
        bnc_user_cleanup(out);
        rc = BNC_STORE_ERROR;
    }
    return rc;
}

int
bnc_store_user_get_by_id(struct bnc_store *s, uint32_t id,
                         struct bnc_user *out)
{
    int rc = bnc_store_user_get_by_id_once(s, id, out);

    if (rc == BNC_STORE_DEAD && bnc_store_bdb_revive(s) == 0)
        rc = bnc_store_user_get_by_id_once(s, id, out);
    return rc;
}

/* Enters a write call (see bnc_store_bdb_enter): also refuses writes to a
 * read-only store. On BNC_STORE_OK the caller must leave. */
static int
bnc_store_bdb_enter_write(struct bnc_store *s, const char *what)
{
    if (s->st_readonly) {
        bnc_log(BNC_LOG_ERR, "store %s is open read-only: %s refused",
                s->st_path, what);
        return BNC_STORE_ERROR;
    }
    return bnc_store_bdb_enter(s);
}

static int
bnc_store_bdb_put_user(struct bnc_store *s, DB_TXN *t, const struct bnc_user *u,
                       u_int32_t flags)
{
    unsigned char *rec = NULL;
    size_t len = 0;
    DBT key, data;
    int ret;

    if (bnc_user_encode(u, &rec, &len) != 0)
        return BNC_STORE_BDB_EINVAL;
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = u->name;
    key.size = (u_int32_t)strlen(u->name);
    data.data = rec;
    data.size = (u_int32_t)len;
    ret = s->st_users->put(s->st_users, t, &key, &data, flags);
    bnc_memzero(rec, len);
    free(rec);
    return ret;
}

struct bnc_store_bdb_add {
    const struct bnc_user *u;
    int64_t now;
    uint32_t id;
};

static int
bnc_store_bdb_add_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_add *a = arg;
    struct bnc_user copy;
    unsigned char buf[16], *p = NULL, idbuf[4];
    size_t len = 0;
    uint32_t id = 1;
    DBT key, data;
    int ret;

    /* DB_RMW: we write this key back, take the write lock now rather than
     * upgrading a read lock (a classic deadlock). */
    ret = bnc_store_bdb_fetch(s->st_meta, t, "next_user_id", 12, DB_RMW, buf,
                              sizeof(buf), &p, &len);
    if (ret == 0) {
        if (len != 4) {
            bnc_store_bdb_release(p, len, buf);
            bnc_log(BNC_LOG_ERR, "store %s: meta next_user_id is corrupt",
                    s->st_path);
            return BNC_STORE_BDB_ECORRUPT;
        }
        id = bnc_codec_get_u32(p);
        bnc_store_bdb_release(p, len, buf);
    } else if (ret != DB_NOTFOUND) {
        return ret;
    }
    if (id == 0 || id == UINT32_MAX)
        return BNC_STORE_BDB_EFULL;
    copy = *a->u;
    copy.id = id;
    copy.created = a->now;
    copy.changed = a->now;
    copy.rev = 1;
    ret = bnc_store_bdb_put_user(s, t, &copy, DB_NOOVERWRITE);
    if (ret != 0)
        return ret;
    bnc_codec_put_u32(idbuf, id + 1);
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = (void *)"next_user_id";
    key.size = 12;
    data.data = idbuf;
    data.size = 4;
    ret = s->st_meta->put(s->st_meta, t, &key, &data, 0);
    if (ret == 0)
        a->id = id;
    return ret;
}

int
bnc_store_user_add(struct bnc_store *s, struct bnc_user *u)
{
    struct bnc_store_bdb_add a;
    const char *why;
    int rc;

    if (!bnc_user_name_valid(u->name, &why)) {
        bnc_log(BNC_LOG_ERR, "store %s: user add: %s", s->st_path, why);
        return BNC_STORE_ERROR;
    }
    rc = bnc_store_bdb_enter_write(s, "user add");
    if (rc != BNC_STORE_OK)
        return rc;
    a.u = u;
    a.now = (int64_t)time(NULL);
    a.id = 0;
    rc = bnc_store_bdb_rc(s,
                          bnc_store_bdb_txn(s, BNC_STORE_SYNC,
                                            bnc_store_bdb_add_work, &a),
                          "add user", u->name);
    bnc_store_bdb_leave(s);
    if (rc == BNC_STORE_OK) {
        u->id = a.id;
        u->created = a.now;
        u->changed = a.now;
        u->rev = 1;
    }
    return rc;
}

struct bnc_store_bdb_modify {
    const char *name;
    int (*fn)(struct bnc_user *u, void *arg);
    void *arg;
};

static int
bnc_store_bdb_modify_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_modify *m = arg;
    struct bnc_user u;
    unsigned char buf[1024], *p = NULL;
    size_t len = 0;
    uint32_t id;
    int64_t created, changed, now;
    uint64_t rev;
    int ret;

    ret = bnc_store_bdb_fetch(s->st_users, t, m->name, strlen(m->name),
                              DB_RMW, buf, sizeof(buf), &p, &len);
    if (ret != 0)
        return ret;
    ret = bnc_store_bdb_decode(s, p, len, m->name, &u);
    bnc_store_bdb_release(p, len, buf);
    if (ret != 0)
        return ret;
    id = u.id;
    created = u.created;
    changed = u.changed;
    rev = u.rev;
    ret = m->fn(&u, m->arg);
    if (ret > 0) {
        ret = 0; /* nothing to write: commit the empty transaction */
        goto out;
    }
    if (ret < 0) {
        ret = BNC_STORE_BDB_EABORT;
        goto out;
    }
    if (u.name == NULL || strcmp(u.name, m->name) != 0) {
        ret = BNC_STORE_BDB_ERENAME;
        goto out;
    }
    /* The store owns identity and versioning, whatever fn did. */
    now = (int64_t)time(NULL);
    u.id = id;
    u.created = created;
    u.changed = now > changed ? now : changed;
    u.rev = rev + 1;
    ret = bnc_store_bdb_put_user(s, t, &u, 0);
out:
    bnc_user_cleanup(&u);
    return ret;
}

int
bnc_store_user_modify(struct bnc_store *s, const char *name,
                      int (*fn)(struct bnc_user *u, void *arg), void *arg,
                      enum bnc_store_sync sync)
{
    struct bnc_store_bdb_modify m;
    size_t n;
    int rc;

    n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > BNC_USER_NAME_MAX)
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter_write(s, "user modify");
    if (rc != BNC_STORE_OK)
        return rc;
    m.name = name;
    m.fn = fn;
    m.arg = arg;
    rc = bnc_store_bdb_rc(
        s, bnc_store_bdb_txn(s, sync, bnc_store_bdb_modify_work, &m),
        "modify user", name);
    bnc_store_bdb_leave(s);
    return rc;
}

static int bnc_store_bdb_tdel_work(struct bnc_store *s, DB_TXN *t,
                                   void *arg);

/* Deletes a user's tokens (or sessions): byuser is tokens_by_user.db
 * (sessions_by_user.db), stamp tokens_used.db (sessions_seen.db). */
struct bnc_store_bdb_tdel {
    DB *byuser;
    DB *stamp;
    const char *user;
    size_t max;   /* 0 = all */
    size_t count; /* deleted by this (last) attempt */
};

static int
bnc_store_bdb_del_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_tdel td;
    const char *name = arg;
    DBT key;
    int ret;

    memset(&key, 0, sizeof(key));
    key.data = (void *)name;
    key.size = (u_int32_t)strlen(name);
    /* Also removes the users_by_id.db entry (associated secondary). */
    ret = s->st_users->del(s->st_users, t, &key, 0);
    if (ret != 0)
        return ret;
    /* Their tokens and sessions would fail anyway (no user), but leave no
     * garbage: in the same transaction, so a crash cannot keep half of
     * them. Tokens before sessions, as everywhere. */
    td.byuser = s->st_tokens_by_user;
    td.stamp = s->st_tokens_used;
    td.user = name;
    td.max = 0;
    td.count = 0;
    ret = bnc_store_bdb_tdel_work(s, t, &td);
    if (ret != 0)
        return ret;
    td.byuser = s->st_sessions_by_user;
    td.stamp = s->st_sessions_seen;
    td.count = 0;
    return bnc_store_bdb_tdel_work(s, t, &td);
}

int
bnc_store_user_del(struct bnc_store *s, const char *name)
{
    size_t n;
    int rc;

    n = name != NULL ? strlen(name) : 0;
    if (n == 0 || n > BNC_USER_NAME_MAX)
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter_write(s, "user del");
    if (rc != BNC_STORE_OK)
        return rc;
    rc = bnc_store_bdb_rc(s,
                          bnc_store_bdb_txn(s, BNC_STORE_SYNC,
                                            bnc_store_bdb_del_work,
                                            (void *)name),
                          "delete user", name);
    bnc_store_bdb_leave(s);
    return rc;
}

struct bnc_store_bdb_item {
    void *key;
    size_t klen;
    void *val;
    size_t vlen;
    int64_t aux; /* tokens: last_used */
};

static void
bnc_store_bdb_items_free(struct bnc_store_bdb_item *it, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        free(it[i].key);
        bnc_memzero(it[i].val, it[i].vlen);
        free(it[i].val);
        it[i].key = it[i].val = NULL;
    }
}

/*
 * Reads up to BNC_STORE_FOREACH_BATCH records after *last (or from the
 * start) and ends its transaction before returning, so no lock is held
 * while the caller's callback runs.
 */
static int
bnc_store_bdb_batch(struct bnc_store *s, DB *db,
                    const struct bnc_store_bdb_item *last,
                    struct bnc_store_bdb_item *it, size_t *n)
{
    DB_TXN *t = NULL;
    DBC *c = NULL;
    DBT key, data;
    u_int32_t op;
    int ret, cret, skip;

    *n = 0;
    ret = s->st_env->txn_begin(s->st_env, NULL, &t,
                               DB_TXN_NOWAIT | DB_READ_COMMITTED);
    if (ret != 0)
        return ret;
    ret = db->cursor(db, t, &c, 0);
    if (ret != 0) {
        (void)t->abort(t);
        return ret;
    }
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.flags = DB_DBT_MALLOC;
    data.flags = DB_DBT_MALLOC;
    if (last != NULL) {
        key.data = last->key;
        key.size = (u_int32_t)last->klen;
        op = DB_SET_RANGE;
    } else {
        op = DB_FIRST;
    }
    skip = last != NULL;
    while (*n < BNC_STORE_FOREACH_BATCH) {
        ret = c->get(c, &key, &data, op);
        if (ret != 0)
            break;
        op = DB_NEXT;
        /* DB_SET_RANGE lands on the last key of the previous batch if it
         * still exists: that one was delivered already. */
        if (skip && key.size == last->klen &&
            memcmp(key.data, last->key, last->klen) == 0) {
            free(key.data);
            bnc_memzero(data.data, data.size);
            free(data.data);
        } else {
            it[*n].key = key.data;
            it[*n].klen = key.size;
            it[*n].val = data.data;
            it[*n].vlen = data.size;
            (*n)++;
        }
        skip = 0;
        key.data = NULL;
        key.size = 0;
        data.data = NULL;
        data.size = 0;
    }
    cret = c->close(c);
    if (ret == DB_NOTFOUND)
        ret = 0;
    if (ret == 0)
        ret = cret;
    if (ret == 0)
        ret = t->commit(t, 0);
    else
        (void)t->abort(t);
    if (ret != 0) {
        bnc_store_bdb_items_free(it, *n);
        *n = 0;
    }
    return ret;
}

/* Picks, under the handle lock, the database a batch walks (a reopen may
 * replace the handles between batches) and the last-use file whose times
 * fill the items' aux (*stamp, may stay NULL). NULL = no such database yet
 * (a read-only open of an older store): an empty batch. */
static void bnc_store_bdb_items_used(struct bnc_store *s, DB *stamp,
                                     struct bnc_store_bdb_item *it, size_t n);

typedef DB *(*bnc_store_bdb_pick_fn)(struct bnc_store *s, DB **stamp,
                                     void *arg);

/*
 * One batch after *last (NULL = from the start), read under the handle lock
 * in short read transactions, retried on conflict; never holds the lock
 * while the caller works on the items, which it owns. Every foreach and
 * sweep walks its database with this.
 */
static int
bnc_store_bdb_locked_batch(struct bnc_store *s, bnc_store_bdb_pick_fn pick,
                           void *arg, const struct bnc_store_bdb_item *last,
                           struct bnc_store_bdb_item *it, size_t *n,
                           const char *what)
{
    DB *db, *stamp;
    int rc, ret = 0, tries;

    *n = 0;
    for (tries = 0;; tries++) {
        rc = bnc_store_bdb_enter(s);
        if (rc != BNC_STORE_OK)
            return rc;
        stamp = NULL;
        db = pick(s, &stamp, arg);
        if (db == NULL) {
            bnc_store_bdb_leave(s);
            return BNC_STORE_OK;
        }
        ret = bnc_store_bdb_batch(s, db, last, it, n);
        if (ret == 0 && stamp != NULL)
            bnc_store_bdb_items_used(s, stamp, it, *n);
        bnc_store_bdb_leave(s);
        if ((ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED) ||
            tries == BNC_STORE_RETRIES)
            break;
        bnc_store_bdb_backoff(tries);
    }
    return bnc_store_bdb_rc(s, ret, "list", what);
}

/* Keeps the batch's last key in *last, the restart point of the next
 * batch, and frees the batch. */
static void
bnc_store_bdb_batch_advance(struct bnc_store_bdb_item *last,
                            struct bnc_store_bdb_item *it, size_t n)
{
    free(last->key);
    last->key = it[n - 1].key;
    last->klen = it[n - 1].klen;
    it[n - 1].key = NULL;
    bnc_store_bdb_items_free(it, n);
}

static DB *
bnc_store_bdb_pick_users(struct bnc_store *s, DB **stamp, void *arg)
{
    (void)stamp;
    (void)arg;
    return s->st_users;
}

/* Tokens and sessions walk their by-id index (id order, primary records
 * returned), with the last-use times; NULL in a store without them yet. */
static DB *
bnc_store_bdb_pick_tokens(struct bnc_store *s, DB **stamp, void *arg)
{
    (void)arg;
    if (s->st_tokens == NULL)
        return NULL;
    *stamp = s->st_tokens_used;
    return s->st_tokens_by_id;
}

static DB *
bnc_store_bdb_pick_sessions(struct bnc_store *s, DB **stamp, void *arg)
{
    (void)arg;
    if (s->st_sessions == NULL)
        return NULL;
    *stamp = s->st_sessions_seen;
    return s->st_sessions_by_id;
}

static DB *
bnc_store_bdb_pick_kv(struct bnc_store *s, DB **stamp, void *arg)
{
    (void)stamp;
    return s->st_kv[*(const enum bnc_store_kv *)arg];
}

int
bnc_store_user_foreach(struct bnc_store *s,
                       int (*fn)(const struct bnc_user *u, void *arg),
                       void *arg)
{
    struct bnc_store_bdb_item it[BNC_STORE_FOREACH_BATCH];
    struct bnc_store_bdb_item last = {NULL, 0, NULL, 0, 0};
    struct bnc_user u;
    size_t n = 0, i;
    int rc = BNC_STORE_ERROR, stop = 0;

    for (;;) {
        /* fn runs without the lock: it may call the store, and a reopen
         * may happen between batches (the restart key is ours). */
        rc = bnc_store_bdb_locked_batch(s, bnc_store_bdb_pick_users, NULL,
                                        last.key != NULL ? &last : NULL, it,
                                        &n, "users");
        if (rc != BNC_STORE_OK)
            goto out;
        rc = BNC_STORE_ERROR;
        for (i = 0; i < n && !stop; i++) {
            if (bnc_store_bdb_decode(s, it[i].val, it[i].vlen, "list users",
                                     &u) != 0) {
                bnc_store_bdb_items_free(it, n);
                goto out;
            }
            stop = fn(&u, arg) != 0;
            bnc_user_cleanup(&u);
        }
        if (stop || n < BNC_STORE_FOREACH_BATCH) {
            bnc_store_bdb_items_free(it, n);
            break;
        }
        bnc_store_bdb_batch_advance(&last, it, n);
    }
    rc = BNC_STORE_OK;
out:
    free(last.key);
    return rc;
}

/* ---- API tokens ----------------------------------------------------------- */

static int
bnc_store_bdb_id_ok(const char *id)
{
    return id != NULL && strlen(id) == BNC_TOKEN_ID_LEN;
}

/* Reads and decodes one token record through db (tokens.db by digest, or
 * tokens_by_id.db by id). A Berkeley DB or work result. */
static int
bnc_store_bdb_token_fetch(struct bnc_store *s, DB *db, const void *k,
                          size_t klen, const char *label,
                          struct bnc_token *out)
{
    unsigned char buf[1024], *p = NULL;
    struct bnc_err err;
    size_t len = 0;
    int ret;

    ret = bnc_store_bdb_read(s, db, k, klen, buf, sizeof(buf), &p, &len);
    if (ret != 0)
        return ret;
    bnc_err_clear(&err);
    if (bnc_token_decode(p, len, out, &err) != 0) {
        bnc_log(BNC_LOG_ERR, "store %s: token %s: %s", s->st_path, label,
                err.msg);
        ret = BNC_STORE_BDB_ECORRUPT;
    }
    bnc_store_bdb_release(p, len, buf);
    return ret;
}

/* The time recorded for id in stamp (tokens_used.db, sessions_seen.db),
 * 0 if none (or unreadable: it is informational). */
static int64_t
bnc_store_bdb_stamp_get(struct bnc_store *s, DB *stamp, const char *id)
{
    unsigned char buf[16], *p = NULL;
    size_t len = 0;
    int64_t v = 0;

    if (bnc_store_bdb_read(s, stamp, id, BNC_TOKEN_ID_LEN, buf, sizeof(buf),
                           &p, &len) != 0)
        return 0;
    if (len == 8)
        v = (int64_t)bnc_codec_get_u64(p);
    bnc_store_bdb_release(p, len, buf);
    return v;
}

static int64_t
bnc_store_bdb_used_get(struct bnc_store *s, const char *id)
{
    return bnc_store_bdb_stamp_get(s, s->st_tokens_used, id);
}

static int
bnc_store_token_get_once(struct bnc_store *s, const unsigned char digest[32],
                         struct bnc_token *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_tokens == NULL) {
        rc = BNC_STORE_NOTFOUND;
    } else {
        /* The hot path: one get, no tokens_used.db read (the authorizer
         * has no use for last_used). */
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_token_fetch(s, s->st_tokens,
                                                        digest, 32, "(digest)",
                                                        out),
                              "get token", "(digest)");
    }
    bnc_store_bdb_leave(s);
    if (rc == BNC_STORE_OK &&
        !bnc_memeq_ct(out->digest, sizeof(out->digest), digest, 32)) {
        bnc_log(BNC_LOG_ERR, "store %s: record of a token digest is token %s "
                "with another digest", s->st_path, out->id);
        bnc_token_cleanup(out);
        rc = BNC_STORE_ERROR;
    }
    return rc;
}

int
bnc_store_token_get(struct bnc_store *s, const unsigned char digest[32],
                    struct bnc_token *out)
{
    int rc = bnc_store_token_get_once(s, digest, out);

    if (rc == BNC_STORE_DEAD && bnc_store_bdb_revive(s) == 0)
        rc = bnc_store_token_get_once(s, digest, out);
    return rc;
}

int
bnc_store_token_get_by_id(struct bnc_store *s, const char *id,
                          struct bnc_token *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (!bnc_store_bdb_id_ok(id))
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_tokens == NULL) {
        rc = BNC_STORE_NOTFOUND;
    } else {
        /* A get on the secondary returns the primary record. */
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_token_fetch(s, s->st_tokens_by_id,
                                                        id, BNC_TOKEN_ID_LEN,
                                                        id, out),
                              "get token", id);
        if (rc == BNC_STORE_OK)
            out->last_used = bnc_store_bdb_used_get(s, id);
    }
    bnc_store_bdb_leave(s);
    if (rc == BNC_STORE_OK && strcmp(out->id, id) != 0) {
        bnc_log(BNC_LOG_ERR, "store %s: index entry %s leads to token %s",
                s->st_path, id, out->id);
        bnc_token_cleanup(out);
        rc = BNC_STORE_ERROR;
    }
    return rc;
}

struct bnc_store_bdb_tadd {
    const unsigned char *const *rec; /* n encoded records */
    const size_t *len;
    const struct bnc_token *t;
    size_t n;
};

/*
 * Puts n tokens in one transaction. The user must exist, checked in the
 * same transaction (users.db before tokens, as user_del locks them), so a
 * token never outlives a concurrent user delete.
 */
static int
bnc_store_bdb_tadd_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_tadd *a = arg;
    const char *checked = NULL;
    DBT key, data;
    size_t i;
    int ret;

    for (i = 0; i < a->n; i++) {
        const struct bnc_token *tk = &a->t[i];

        if (checked == NULL || strcmp(checked, tk->user) != 0) {
            memset(&key, 0, sizeof(key));
            key.data = tk->user;
            key.size = (u_int32_t)strlen(tk->user);
            ret = s->st_users->exists(s->st_users, t, &key, 0);
            if (ret != 0)
                return ret;
            checked = tk->user;
        }
        /* A taken id: the put would fail too (tokens_by_id.db has no
         * duplicates), but with EINVAL and an error message. */
        memset(&key, 0, sizeof(key));
        key.data = (void *)tk->id;
        key.size = BNC_TOKEN_ID_LEN;
        ret = s->st_tokens_by_id->exists(s->st_tokens_by_id, t, &key, 0);
        if (ret == 0)
            return DB_KEYEXIST;
        if (ret != DB_NOTFOUND)
            return ret;
        memset(&key, 0, sizeof(key));
        memset(&data, 0, sizeof(data));
        key.data = (void *)tk->digest;
        key.size = 32;
        data.data = (void *)a->rec[i];
        data.size = (u_int32_t)a->len[i];
        ret = s->st_tokens->put(s->st_tokens, t, &key, &data,
                                DB_NOOVERWRITE);
        if (ret != 0)
            return ret;
    }
    return 0;
}

/* Encodes n tokens; -1 (logged) if one is invalid. */
static int
bnc_store_bdb_encode_tokens(struct bnc_store *s, const struct bnc_token *t,
                            size_t n, unsigned char **rec, size_t *len)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (bnc_token_encode(&t[i], &rec[i], &len[i]) != 0) {
            bnc_log(BNC_LOG_ERR, "store %s: add token %.*s: invalid token "
                    "record", s->st_path, BNC_TOKEN_ID_LEN, t[i].id);
            while (i-- > 0) {
                free(rec[i]);
                rec[i] = NULL;
            }
            return -1;
        }
    }
    return 0;
}

static int
bnc_store_bdb_token_add_batches(struct bnc_store *s, const struct bnc_token *t,
                                size_t n, size_t batch, u_int32_t txnflags)
{
    struct bnc_store_bdb_tadd a;
    unsigned char **rec;
    size_t *len, done, k, i;
    int rc = BNC_STORE_OK;

    if (batch == 0)
        batch = 1;
    rec = bnc_calloc(batch, sizeof(*rec));
    len = bnc_calloc(batch, sizeof(*len));
    for (done = 0; done < n && rc == BNC_STORE_OK; done += k) {
        k = n - done < batch ? n - done : batch;
        if (bnc_store_bdb_encode_tokens(s, t + done, k, rec, len) != 0) {
            rc = BNC_STORE_ERROR;
            break;
        }
        a.rec = (const unsigned char *const *)rec;
        a.len = len;
        a.t = t + done;
        a.n = k;
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_txn_flags(
                                  s, txnflags, bnc_store_bdb_tadd_work, &a),
                              "add token", t[done].id);
        for (i = 0; i < k; i++) {
            free(rec[i]);
            rec[i] = NULL;
        }
    }
    free(rec);
    free(len);
    return rc;
}

int
bnc_store_token_add(struct bnc_store *s, const struct bnc_token *t)
{
    int rc;

    rc = bnc_store_bdb_enter_write(s, "token add");
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_tokens == NULL)
        rc = BNC_STORE_ERROR;
    else
        rc = bnc_store_bdb_token_add_batches(s, t, 1, 1, 0); /* synchronous */
    bnc_store_bdb_leave(s);
    return rc;
}

/*
 * Bulk load: batch puts per DB_TXN_NOSYNC transaction (the commit stays in
 * the log buffer), then one log flush makes the whole load durable. A
 * process crash during the load can lose the last batches, which is fine
 * for an import that is simply run again. Stops at the first failing
 * batch (earlier batches stay); EXISTS if a digest or id is taken.
 */
int
bnc_store_token_add_many(struct bnc_store *s, const struct bnc_token *t,
                         size_t n, size_t batch)
{
    int rc, ret;

    rc = bnc_store_bdb_enter_write(s, "token add");
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_tokens == NULL) {
        rc = BNC_STORE_ERROR;
        goto out;
    }
    rc = bnc_store_bdb_token_add_batches(s, t, n, batch, DB_TXN_NOSYNC);
    ret = s->st_env->log_flush(s->st_env, NULL);
    if (ret != 0 && rc == BNC_STORE_OK)
        rc = bnc_store_bdb_rc(s, ret, "flush the log after adding tokens",
                              "");
out:
    bnc_store_bdb_leave(s);
    return rc;
}

/* A touch: idx is tokens_by_id.db (sessions_by_id.db), stamp
 * tokens_used.db (sessions_seen.db). */
struct bnc_store_bdb_touch {
    DB *idx;
    DB *stamp;
    const char *id;
    int64_t now;
};

static int
bnc_store_bdb_touch_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_touch *a = arg;
    unsigned char v[8];
    DBT key, data;
    int ret;

    (void)s;
    memset(&key, 0, sizeof(key));
    key.data = (void *)a->id;
    key.size = BNC_TOKEN_ID_LEN;
    /* A token (session) revoked meanwhile must not leave an entry behind. */
    ret = a->idx->exists(a->idx, t, &key, 0);
    if (ret != 0)
        return ret;
    bnc_codec_put_u64(v, (uint64_t)a->now);
    memset(&data, 0, sizeof(data));
    data.data = v;
    data.size = 8;
    return a->stamp->put(a->stamp, t, &key, &data, 0);
}

/*
 * Read first, write only if the last recorded use is a minute old: a token
 * used a thousand times a second costs one NOSYNC write a minute, in its
 * own file so the write never locks tokens.db pages (berkeley-db.md 3).
 */
void
bnc_store_token_touch(struct bnc_store *s, const char *id, int64_t now)
{
    struct bnc_store_bdb_touch a;
    int64_t last;
    int ret;

    if (!bnc_store_bdb_id_ok(id) || s->st_readonly)
        return;
    if (bnc_store_bdb_enter(s) != BNC_STORE_OK)
        return;
    if (s->st_tokens_used == NULL)
        goto out;
    last = bnc_store_bdb_used_get(s, id);
    if (last != 0 && now >= last && now - last < BNC_STORE_TOUCH_SECONDS)
        goto out;
    a.idx = s->st_tokens_by_id;
    a.stamp = s->st_tokens_used;
    a.id = id;
    a.now = now;
    ret = bnc_store_bdb_txn(s, BNC_STORE_NOSYNC, bnc_store_bdb_touch_work,
                            &a);
    if (ret == DB_RUNRECOVERY)
        bnc_store_bdb_mark_dead(s, "DB_RUNRECOVERY");
    else if (ret != 0)
        bnc_log(BNC_LOG_DEBUG, "store %s: recording the use of token %s: %s",
                s->st_path, id, db_strerror(ret));
out:
    bnc_store_bdb_leave(s);
}

static int
bnc_store_bdb_revoke_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_touch *a = arg; /* idx, stamp and id */
    DBT key;
    int ret;

    (void)s;
    memset(&key, 0, sizeof(key));
    key.data = (void *)a->id;
    key.size = BNC_TOKEN_ID_LEN;
    /* Through the secondary: removes the tokens.db (sessions.db) record
     * and both index entries. */
    ret = a->idx->del(a->idx, t, &key, 0);
    if (ret != 0)
        return ret;
    ret = a->stamp->del(a->stamp, t, &key, 0);
    return ret == DB_NOTFOUND ? 0 : ret;
}

int
bnc_store_token_revoke(struct bnc_store *s, const char *id)
{
    struct bnc_store_bdb_touch a;
    int rc;

    if (!bnc_store_bdb_id_ok(id))
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter_write(s, "token revoke");
    if (rc != BNC_STORE_OK)
        return rc;
    a.idx = s->st_tokens_by_id;
    a.stamp = s->st_tokens_used;
    a.id = id;
    a.now = 0;
    if (s->st_tokens == NULL)
        rc = BNC_STORE_NOTFOUND;
    else
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_txn(s, BNC_STORE_SYNC,
                                                bnc_store_bdb_revoke_work,
                                                &a),
                              "revoke token", id);
    bnc_store_bdb_leave(s);
    return rc;
}

/*
 * Deletes up to max tokens of a user through a cursor on tokens_by_user.db:
 * a delete through a secondary cursor removes the tokens.db record and its
 * other index entry; the tokens_used.db entry goes too. Repeatable: count
 * restarts with every attempt.
 */
static int
bnc_store_bdb_tdel_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_tdel *a = arg;
    unsigned char ubuf[BNC_USER_NAME_MAX + 1], pbuf[32], idbuf[16];
    DBT skey, pkey, pdata, ukey;
    DBC *c = NULL;
    size_t ulen = strlen(a->user);
    int ret, cret;

    (void)s;
    a->count = 0;
    if (a->byuser == NULL || a->stamp == NULL)
        return 0;
    if (ulen == 0 || ulen > BNC_USER_NAME_MAX)
        return 0;
    ret = a->byuser->cursor(a->byuser, t, &c, 0);
    if (ret != 0)
        return ret;
    memcpy(ubuf, a->user, ulen);
    memset(&skey, 0, sizeof(skey));
    memset(&pkey, 0, sizeof(pkey));
    memset(&pdata, 0, sizeof(pdata));
    skey.data = ubuf;
    skey.size = (u_int32_t)ulen;
    skey.ulen = sizeof(ubuf);
    skey.flags = DB_DBT_USERMEM;
    pkey.data = pbuf;
    pkey.ulen = sizeof(pbuf);
    pkey.flags = DB_DBT_USERMEM;
    /* Only the id is needed from the record. */
    pdata.data = idbuf;
    pdata.ulen = sizeof(idbuf);
    pdata.doff = BNC_TOKEN_REC_ID_OFF;
    pdata.dlen = BNC_TOKEN_ID_LEN;
    pdata.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
    ret = c->pget(c, &skey, &pkey, &pdata, DB_SET | DB_RMW);
    while (ret == 0 && (a->max == 0 || a->count < a->max)) {
        if (pdata.size == BNC_TOKEN_ID_LEN) {
            memset(&ukey, 0, sizeof(ukey));
            ukey.data = idbuf;
            ukey.size = BNC_TOKEN_ID_LEN;
            ret = a->stamp->del(a->stamp, t, &ukey, 0);
            if (ret != 0 && ret != DB_NOTFOUND)
                break;
        }
        ret = c->del(c, 0);
        if (ret != 0)
            break;
        a->count++;
        ret = c->pget(c, &skey, &pkey, &pdata, DB_NEXT_DUP | DB_RMW);
    }
    if (ret == DB_NOTFOUND)
        ret = 0;
    cret = c->close(c);
    return ret != 0 ? ret : cret;
}

int
bnc_store_token_revoke_user(struct bnc_store *s, const char *user,
                            size_t *count)
{
    struct bnc_store_bdb_tdel a;
    size_t total = 0;
    int rc;

    if (count != NULL)
        *count = 0;
    if (user == NULL || user[0] == '\0' || strlen(user) > BNC_USER_NAME_MAX)
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter_write(s, "token revoke");
    if (rc != BNC_STORE_OK)
        return rc;
    /* Batches keep each transaction within the lock table, whatever the
     * number of tokens: a user with a million of them is possible. */
    a.byuser = s->st_tokens_by_user;
    a.stamp = s->st_tokens_used;
    a.user = user;
    a.max = BNC_STORE_REVOKE_BATCH;
    do {
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_txn(s, BNC_STORE_SYNC,
                                                bnc_store_bdb_tdel_work, &a),
                              "revoke tokens of user", user);
        if (rc == BNC_STORE_OK)
            total += a.count;
    } while (rc == BNC_STORE_OK && a.count == a.max);
    bnc_store_bdb_leave(s);
    if (count != NULL)
        *count = total;
    if (rc == BNC_STORE_OK && total == 0)
        rc = BNC_STORE_NOTFOUND;
    return rc;
}

struct bnc_store_bdb_tlist {
    struct bnc_store_bdb_item *it;
    size_t n;
    size_t cap;
};

static void
bnc_store_bdb_tlist_push(struct bnc_store_bdb_tlist *l, void *val, size_t len)
{
    if (l->n == l->cap) {
        l->cap = l->cap == 0 ? 64 : l->cap * 2;
        l->it = bnc_realloc(l->it, l->cap * sizeof(*l->it));
    }
    memset(&l->it[l->n], 0, sizeof(l->it[l->n]));
    l->it[l->n].val = val;
    l->it[l->n].vlen = len;
    l->n++;
}

/* All the records of one user, in one read-committed transaction (which
 * keeps no lock on the pages it has left). */
static int
bnc_store_bdb_tlist_user(struct bnc_store *s, DB *byuser, const char *user,
                         struct bnc_store_bdb_tlist *l)
{
    DB_TXN *t = NULL;
    DBC *c = NULL;
    DBT key, data;
    unsigned char ubuf[BNC_USER_NAME_MAX + 1];
    size_t ulen = strlen(user);
    u_int32_t op = DB_SET;
    int ret, cret;

    ret = s->st_env->txn_begin(s->st_env, NULL, &t,
                               DB_TXN_NOWAIT | DB_READ_COMMITTED);
    if (ret != 0)
        return ret;
    ret = byuser->cursor(byuser, t, &c, 0);
    if (ret != 0) {
        (void)t->abort(t);
        return ret;
    }
    memcpy(ubuf, user, ulen);
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = ubuf;
    key.size = (u_int32_t)ulen;
    key.ulen = sizeof(ubuf);
    key.flags = DB_DBT_USERMEM;
    data.flags = DB_DBT_MALLOC;
    for (;;) {
        ret = c->get(c, &key, &data, op);
        if (ret != 0)
            break;
        op = DB_NEXT_DUP;
        bnc_store_bdb_tlist_push(l, data.data, data.size);
        data.data = NULL;
    }
    cret = c->close(c);
    if (ret == DB_NOTFOUND)
        ret = 0;
    if (ret == 0)
        ret = cret;
    if (ret == 0)
        ret = t->commit(t, 0);
    else
        (void)t->abort(t);
    return ret;
}

static int
bnc_store_bdb_item_id_cmp(const void *a, const void *b)
{
    const struct bnc_store_bdb_item *x = a, *y = b;

    /* Decoded later; a record too short to hold an id sorts first. */
    if (x->vlen < 1 + BNC_TOKEN_ID_LEN || y->vlen < 1 + BNC_TOKEN_ID_LEN)
        return (x->vlen >= 1 + BNC_TOKEN_ID_LEN) -
               (y->vlen >= 1 + BNC_TOKEN_ID_LEN);
    return memcmp((const unsigned char *)x->val + 1,
                  (const unsigned char *)y->val + 1, BNC_TOKEN_ID_LEN);
}

/* Fills last_used (last_seen) from stamp into each item's aux. Runs
 * under the handle lock. */
static void
bnc_store_bdb_items_used(struct bnc_store *s, DB *stamp,
                         struct bnc_store_bdb_item *it, size_t n)
{
    char id[BNC_TOKEN_ID_LEN + 1];
    size_t i;

    for (i = 0; i < n; i++) {
        it[i].aux = 0;
        if (it[i].vlen < 1 + BNC_TOKEN_ID_LEN)
            continue;
        memcpy(id, (const unsigned char *)it[i].val + 1, BNC_TOKEN_ID_LEN);
        id[BNC_TOKEN_ID_LEN] = '\0';
        it[i].aux = bnc_store_bdb_stamp_get(s, stamp, id);
    }
}

/* Decodes and delivers items; 1 if fn asked to stop, -1 on a bad record. */
static int
bnc_store_bdb_deliver(struct bnc_store *s, struct bnc_store_bdb_item *it,
                      size_t n, int (*fn)(const struct bnc_token *t, void *arg),
                      void *arg)
{
    struct bnc_token tk;
    struct bnc_err err;
    size_t i;

    for (i = 0; i < n; i++) {
        bnc_err_clear(&err);
        if (bnc_token_decode(it[i].val, it[i].vlen, &tk, &err) != 0) {
            bnc_log(BNC_LOG_ERR, "store %s: list tokens: %s", s->st_path,
                    err.msg);
            return -1;
        }
        tk.last_used = it[i].aux;
        if (fn(&tk, arg) != 0) {
            bnc_token_cleanup(&tk);
            return 1;
        }
        bnc_token_cleanup(&tk);
    }
    return 0;
}

/*
 * Collects the records of one user from a family's by-user index (with
 * their last-use times), retrying on lock conflicts, sorted by id (the
 * index orders them by digest). The DB ** point at the store's members,
 * read only inside the handle lock: a reopen replaces them. *l is the
 * caller's to free; BNC_STORE_OK with l->n == 0 when there are none.
 */
static int
bnc_store_bdb_collect_user(struct bnc_store *s, DB *const *prim,
                           DB *const *by_user, DB *const *used,
                           const char *what, const char *user,
                           struct bnc_store_bdb_tlist *l)
{
    int rc, ret, tries;

    if (strlen(user) > BNC_USER_NAME_MAX || user[0] == '\0')
        return BNC_STORE_OK;
    for (tries = 0;; tries++) {
        rc = bnc_store_bdb_enter(s);
        if (rc != BNC_STORE_OK)
            return rc;
        if (*prim == NULL) {
            bnc_store_bdb_leave(s);
            return BNC_STORE_OK;
        }
        ret = bnc_store_bdb_tlist_user(s, *by_user, user, l);
        if (ret == 0)
            bnc_store_bdb_items_used(s, *used, l->it, l->n);
        bnc_store_bdb_leave(s);
        if (ret == 0)
            break;
        bnc_store_bdb_items_free(l->it, l->n);
        l->n = 0;
        if ((ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED) ||
            tries == BNC_STORE_RETRIES)
            return bnc_store_bdb_rc(s, ret, what, user);
        bnc_store_bdb_backoff(tries);
    }
    if (l->n > 1)
        qsort(l->it, l->n, sizeof(*l->it), bnc_store_bdb_item_id_cmp);
    return BNC_STORE_OK;
}

static int
bnc_store_bdb_foreach_user(struct bnc_store *s, const char *user,
                           int (*fn)(const struct bnc_token *t, void *arg),
                           void *arg)
{
    struct bnc_store_bdb_tlist l = {NULL, 0, 0};
    int rc;

    rc = bnc_store_bdb_collect_user(s, &s->st_tokens, &s->st_tokens_by_user,
                                    &s->st_tokens_used, "list tokens of user",
                                    user, &l);
    if (rc == BNC_STORE_OK)
        rc = bnc_store_bdb_deliver(s, l.it, l.n, fn, arg) < 0
                 ? BNC_STORE_ERROR
                 : BNC_STORE_OK;
    bnc_store_bdb_items_free(l.it, l.n);
    free(l.it);
    return rc;
}

int
bnc_store_token_foreach(struct bnc_store *s, const char *user,
                        int (*fn)(const struct bnc_token *t, void *arg),
                        void *arg)
{
    struct bnc_store_bdb_item it[BNC_STORE_FOREACH_BATCH];
    struct bnc_store_bdb_item last = {NULL, 0, NULL, 0, 0};
    size_t n = 0;
    int rc, d;

    if (user != NULL)
        return bnc_store_bdb_foreach_user(s, user, fn, arg);
    /* Every token in id order: batches over tokens_by_id.db, whose cursor
     * returns the primary records. */
    for (;;) {
        rc = bnc_store_bdb_locked_batch(s, bnc_store_bdb_pick_tokens, NULL,
                                        last.key != NULL ? &last : NULL, it,
                                        &n, "tokens");
        if (rc != BNC_STORE_OK)
            goto out;
        d = bnc_store_bdb_deliver(s, it, n, fn, arg);
        if (d != 0 || n < BNC_STORE_FOREACH_BATCH) {
            bnc_store_bdb_items_free(it, n);
            rc = d < 0 ? BNC_STORE_ERROR : BNC_STORE_OK;
            goto out;
        }
        bnc_store_bdb_batch_advance(&last, it, n);
    }
out:
    free(last.key);
    return rc;
}

/* ---- sessions ------------------------------------------------------------ */

_Static_assert(BNC_SESSION_ID_LEN == BNC_TOKEN_ID_LEN,
               "sessions share the id helpers of tokens");
_Static_assert(BNC_SESSION_REC_ID_OFF == BNC_TOKEN_REC_ID_OFF,
               "sessions share the partial id reads of tokens");

/* Whether a session is over at now: past its absolute end, or idle for
 * idle_timeout since it was last seen (or created, whichever is later).
 * Written so that no sum can overflow. */
static int
bnc_store_bdb_session_over(int64_t now, int64_t created, int64_t idle,
                           int64_t expires, int64_t last_seen)
{
    int64_t base = last_seen > created ? last_seen : created;

    if (expires <= now)
        return 1;
    return idle > 0 && now >= INT64_MIN + idle && base <= now - idle;
}

/*
 * The session and its last-seen time: two gets (the record through db,
 * then sessions_seen.db by the id in it) in one NOWAIT read-committed
 * transaction, retried on conflict. A Berkeley DB or work result.
 */
static int
bnc_store_bdb_session_read(struct bnc_store *s, DB *db, const void *k,
                           size_t klen, const char *label,
                           struct bnc_session *out)
{
    DB_ENV *env = s->st_env;
    unsigned char buf[1024], sbuf[16], *p = NULL, *sp = NULL;
    size_t len = 0, slen = 0;
    struct bnc_err err;
    int64_t seen = 0;
    DB_TXN *t;
    int tries, ret, sret, cret;

    for (tries = 0;; tries++) {
        ret = env->txn_begin(env, NULL, &t, DB_TXN_NOWAIT | DB_READ_COMMITTED);
        if (ret != 0)
            return ret;
        seen = 0;
        ret = bnc_store_bdb_fetch(db, t, k, klen, 0, buf, sizeof(buf), &p,
                                  &len);
        if (ret == 0 && len >= BNC_SESSION_REC_USER_OFF) {
            sret = bnc_store_bdb_fetch(s->st_sessions_seen, t,
                                       p + BNC_SESSION_REC_ID_OFF,
                                       BNC_SESSION_ID_LEN, 0, sbuf,
                                       sizeof(sbuf), &sp, &slen);
            if (sret == 0) {
                if (slen == 8)
                    seen = (int64_t)bnc_codec_get_u64(sp);
                if (sp != sbuf)
                    free(sp);
            } else if (sret != DB_NOTFOUND) {
                bnc_store_bdb_release(p, len, buf);
                ret = sret;
            }
        }
        if (ret == 0 || ret == DB_NOTFOUND) {
            /* Commit, not abort, also for an unknown cookie: routine. */
            cret = t->commit(t, 0);
            if (cret != 0) {
                if (ret == 0)
                    bnc_store_bdb_release(p, len, buf);
                return cret;
            }
            if (ret == DB_NOTFOUND)
                return ret;
            break;
        }
        (void)t->abort(t);
        if ((ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED) ||
            tries == BNC_STORE_RETRIES)
            return ret;
        bnc_store_bdb_backoff(tries);
    }
    bnc_err_clear(&err);
    if (bnc_session_decode(p, len, out, &err) != 0) {
        bnc_log(BNC_LOG_ERR, "store %s: session %s: %s", s->st_path, label,
                err.msg);
        ret = BNC_STORE_BDB_ECORRUPT;
    } else {
        out->last_seen = seen;
    }
    bnc_store_bdb_release(p, len, buf);
    return ret;
}

static int
bnc_store_session_get_once(struct bnc_store *s,
                           const unsigned char digest[32],
                           struct bnc_session *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_sessions == NULL)
        rc = BNC_STORE_NOTFOUND;
    else
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_session_read(s, s->st_sessions,
                                                         digest, 32,
                                                         "(digest)", out),
                              "get session", "(digest)");
    bnc_store_bdb_leave(s);
    if (rc == BNC_STORE_OK &&
        !bnc_memeq_ct(out->digest, sizeof(out->digest), digest, 32)) {
        bnc_log(BNC_LOG_ERR, "store %s: record of a session digest is "
                "session %s with another digest", s->st_path, out->id);
        bnc_session_cleanup(out);
        rc = BNC_STORE_ERROR;
    }
    return rc;
}

/* The authorizer's hot path for every request that carries a cookie. */
int
bnc_store_session_get(struct bnc_store *s, const unsigned char digest[32],
                      struct bnc_session *out)
{
    int rc = bnc_store_session_get_once(s, digest, out);

    if (rc == BNC_STORE_DEAD && bnc_store_bdb_revive(s) == 0)
        rc = bnc_store_session_get_once(s, digest, out);
    return rc;
}

static int
bnc_store_session_get_by_id_once(struct bnc_store *s, const char *id,
                                 struct bnc_session *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (!bnc_store_bdb_id_ok(id))
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_sessions == NULL)
        rc = BNC_STORE_NOTFOUND;
    else
        /* A get on the secondary returns the primary record. */
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_session_read(
                                  s, s->st_sessions_by_id, id,
                                  BNC_SESSION_ID_LEN, id, out),
                              "get session", id);
    bnc_store_bdb_leave(s);
    if (rc == BNC_STORE_OK && strcmp(out->id, id) != 0) {
        bnc_log(BNC_LOG_ERR, "store %s: index entry %s leads to session %s",
                s->st_path, id, out->id);
        bnc_session_cleanup(out);
        rc = BNC_STORE_ERROR;
    }
    return rc;
}

int
bnc_store_session_get_by_id(struct bnc_store *s, const char *id,
                            struct bnc_session *out)
{
    int rc = bnc_store_session_get_by_id_once(s, id, out);

    if (rc == BNC_STORE_DEAD && bnc_store_bdb_revive(s) == 0)
        rc = bnc_store_session_get_by_id_once(s, id, out);
    return rc;
}

struct bnc_store_bdb_sadd {
    const unsigned char *const *rec; /* n encoded records */
    const size_t *len;
    const struct bnc_session *t;
    size_t n;
};

/*
 * Puts n sessions and their first last-seen entries (= created) in one
 * transaction. The user must exist, checked in the same transaction
 * (users.db before sessions, as user_del locks them), so a session never
 * outlives a concurrent user delete.
 */
static int
bnc_store_bdb_sadd_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_sadd *a = arg;
    const char *checked = NULL;
    unsigned char v[8];
    DBT key, data;
    size_t i;
    int ret;

    for (i = 0; i < a->n; i++) {
        const struct bnc_session *ss = &a->t[i];

        if (checked == NULL || strcmp(checked, ss->user) != 0) {
            memset(&key, 0, sizeof(key));
            key.data = ss->user;
            key.size = (u_int32_t)strlen(ss->user);
            ret = s->st_users->exists(s->st_users, t, &key, 0);
            if (ret != 0)
                return ret;
            checked = ss->user;
        }
        /* A taken id: the put would fail too (sessions_by_id.db has no
         * duplicates), but with EINVAL and an error message. */
        memset(&key, 0, sizeof(key));
        key.data = (void *)ss->id;
        key.size = BNC_SESSION_ID_LEN;
        ret = s->st_sessions_by_id->exists(s->st_sessions_by_id, t, &key, 0);
        if (ret == 0)
            return DB_KEYEXIST;
        if (ret != DB_NOTFOUND)
            return ret;
        memset(&key, 0, sizeof(key));
        memset(&data, 0, sizeof(data));
        key.data = (void *)ss->digest;
        key.size = 32;
        data.data = (void *)a->rec[i];
        data.size = (u_int32_t)a->len[i];
        ret = s->st_sessions->put(s->st_sessions, t, &key, &data,
                                  DB_NOOVERWRITE);
        if (ret != 0)
            return ret;
        memset(&key, 0, sizeof(key));
        memset(&data, 0, sizeof(data));
        key.data = (void *)ss->id;
        key.size = BNC_SESSION_ID_LEN;
        bnc_codec_put_u64(v, (uint64_t)ss->created);
        data.data = v;
        data.size = 8;
        ret = s->st_sessions_seen->put(s->st_sessions_seen, t, &key, &data,
                                       0);
        if (ret != 0)
            return ret;
    }
    return 0;
}

static void
bnc_store_bdb_free_recs(unsigned char **rec, const size_t *len, size_t n)
{
    size_t i;

    /* Session records carry the CSRF secret: wipe them. */
    for (i = 0; i < n; i++) {
        if (rec[i] != NULL)
            bnc_memzero(rec[i], len[i]);
        free(rec[i]);
        rec[i] = NULL;
    }
}

static int
bnc_store_bdb_session_add_batches(struct bnc_store *s,
                                  const struct bnc_session *t, size_t n,
                                  size_t batch, u_int32_t txnflags)
{
    struct bnc_store_bdb_sadd a;
    unsigned char **rec;
    size_t *len, done, k, i;
    int rc = BNC_STORE_OK;

    if (batch == 0)
        batch = 1;
    rec = bnc_calloc(batch, sizeof(*rec));
    len = bnc_calloc(batch, sizeof(*len));
    for (done = 0; done < n && rc == BNC_STORE_OK; done += k) {
        k = n - done < batch ? n - done : batch;
        for (i = 0; i < k; i++) {
            if (bnc_session_encode(&t[done + i], &rec[i], &len[i]) != 0) {
                bnc_log(BNC_LOG_ERR, "store %s: add session %.*s: invalid "
                        "session record", s->st_path, BNC_SESSION_ID_LEN,
                        t[done + i].id);
                rc = BNC_STORE_ERROR;
                break;
            }
        }
        if (rc == BNC_STORE_OK) {
            a.rec = (const unsigned char *const *)rec;
            a.len = len;
            a.t = t + done;
            a.n = k;
            rc = bnc_store_bdb_rc(s,
                                  bnc_store_bdb_txn_flags(
                                      s, txnflags, bnc_store_bdb_sadd_work,
                                      &a),
                                  "add session", t[done].id);
        }
        bnc_store_bdb_free_recs(rec, len, k);
    }
    free(rec);
    free(len);
    return rc;
}

static int
bnc_store_session_add_once(struct bnc_store *s, const struct bnc_session *t,
                           enum bnc_store_sync sync)
{
    int rc;

    rc = bnc_store_bdb_enter_write(s, "session add");
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_sessions == NULL)
        rc = BNC_STORE_ERROR;
    else
        rc = bnc_store_bdb_session_add_batches(
            s, t, 1, 1, sync == BNC_STORE_NOSYNC ? DB_TXN_WRITE_NOSYNC : 0);
    bnc_store_bdb_leave(s);
    return rc;
}

/*
 * A login. With BNC_STORE_NOSYNC the commit is written to the OS
 * (DB_TXN_WRITE_NOSYNC), so a session whose add returned survives a killed
 * process (berkeley-db.md 4). A login that meets a panic revives the store
 * like a read and tries again; if the first attempt did commit after all,
 * the second finds its own session and that is success.
 */
int
bnc_store_session_add(struct bnc_store *s, const struct bnc_session *t,
                      enum bnc_store_sync sync)
{
    struct bnc_session mine;
    int rc = bnc_store_session_add_once(s, t, sync);

    if (rc != BNC_STORE_DEAD || bnc_store_bdb_revive(s) != 0)
        return rc;
    rc = bnc_store_session_add_once(s, t, sync);
    if (rc == BNC_STORE_EXISTS &&
        bnc_store_session_get_by_id_once(s, t->id, &mine) == BNC_STORE_OK) {
        if (bnc_memeq_ct(mine.digest, 32, t->digest, 32) &&
            strcmp(mine.user, t->user) == 0)
            rc = BNC_STORE_OK;
        bnc_session_cleanup(&mine);
    }
    return rc;
}

/*
 * Bulk load for benchmarks: batch sessions per DB_TXN_NOSYNC transaction
 * (the commit stays in the log buffer), then one log flush. A crash during
 * the load can lose the last batches. Stops at the first failing batch.
 */
int
bnc_store_session_add_many(struct bnc_store *s, const struct bnc_session *t,
                           size_t n, size_t batch)
{
    int rc, ret;

    rc = bnc_store_bdb_enter_write(s, "session add");
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_sessions == NULL) {
        rc = BNC_STORE_ERROR;
        goto out;
    }
    rc = bnc_store_bdb_session_add_batches(s, t, n, batch, DB_TXN_NOSYNC);
    ret = s->st_env->log_flush(s->st_env, NULL);
    if (ret != 0 && rc == BNC_STORE_OK)
        rc = bnc_store_bdb_rc(s, ret, "flush the log after adding sessions",
                              "");
out:
    bnc_store_bdb_leave(s);
    return rc;
}

/*
 * Like token_touch: read first, write only if the last recorded time is a
 * minute old, in sessions_seen.db so the write never locks sessions.db
 * pages. With idle timeouts this makes last_seen up to a minute early,
 * which ends an idle session at most a minute sooner.
 */
void
bnc_store_session_touch(struct bnc_store *s, const char *id, int64_t now)
{
    struct bnc_store_bdb_touch a;
    int64_t last;
    int ret;

    if (!bnc_store_bdb_id_ok(id) || s->st_readonly)
        return;
    if (bnc_store_bdb_enter(s) != BNC_STORE_OK)
        return;
    if (s->st_sessions_seen == NULL)
        goto out;
    last = bnc_store_bdb_stamp_get(s, s->st_sessions_seen, id);
    if (last != 0 && now >= last && now - last < BNC_STORE_TOUCH_SECONDS)
        goto out;
    a.idx = s->st_sessions_by_id;
    a.stamp = s->st_sessions_seen;
    a.id = id;
    a.now = now;
    ret = bnc_store_bdb_txn(s, BNC_STORE_NOSYNC, bnc_store_bdb_touch_work,
                            &a);
    if (ret == DB_RUNRECOVERY)
        bnc_store_bdb_mark_dead(s, "DB_RUNRECOVERY");
    else if (ret != 0 && ret != DB_NOTFOUND)
        bnc_log(BNC_LOG_DEBUG, "store %s: recording the use of session %s: "
                "%s", s->st_path, id, db_strerror(ret));
out:
    bnc_store_bdb_leave(s);
}

/* Logout: the record by digest (only its id is read, for the
 * sessions_seen.db entry), then both go. */
static int
bnc_store_bdb_sdel_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    const unsigned char *digest = arg;
    unsigned char idbuf[BNC_SESSION_ID_LEN];
    DBT key, data;
    int ret;

    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = (void *)digest;
    key.size = 32;
    data.data = idbuf;
    data.ulen = sizeof(idbuf);
    data.doff = BNC_SESSION_REC_ID_OFF;
    data.dlen = BNC_SESSION_ID_LEN;
    data.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
    ret = s->st_sessions->get(s->st_sessions, t, &key, &data, DB_RMW);
    if (ret != 0)
        return ret;
    /* Also removes both index entries (associated secondaries). */
    ret = s->st_sessions->del(s->st_sessions, t, &key, 0);
    if (ret != 0 || data.size != BNC_SESSION_ID_LEN)
        return ret;
    memset(&key, 0, sizeof(key));
    key.data = idbuf;
    key.size = BNC_SESSION_ID_LEN;
    ret = s->st_sessions_seen->del(s->st_sessions_seen, t, &key, 0);
    return ret == DB_NOTFOUND ? 0 : ret;
}

int
bnc_store_session_del(struct bnc_store *s, const unsigned char digest[32],
                      enum bnc_store_sync sync)
{
    int rc;

    if (digest == NULL)
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter_write(s, "session delete");
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_sessions == NULL)
        rc = BNC_STORE_NOTFOUND;
    else
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_txn(s, sync,
                                                bnc_store_bdb_sdel_work,
                                                (void *)digest),
                              "delete session", "(digest)");
    bnc_store_bdb_leave(s);
    return rc;
}

int
bnc_store_session_revoke(struct bnc_store *s, const char *id)
{
    struct bnc_store_bdb_touch a;
    int rc;

    if (!bnc_store_bdb_id_ok(id))
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter_write(s, "session revoke");
    if (rc != BNC_STORE_OK)
        return rc;
    a.idx = s->st_sessions_by_id;
    a.stamp = s->st_sessions_seen;
    a.id = id;
    a.now = 0;
    if (s->st_sessions == NULL)
        rc = BNC_STORE_NOTFOUND;
    else
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_txn(s, BNC_STORE_SYNC,
                                                bnc_store_bdb_revoke_work,
                                                &a),
                              "revoke session", id);
    bnc_store_bdb_leave(s);
    return rc;
}

/* Password change, disable, "log out everywhere": synchronous batches of
 * BNC_STORE_REVOKE_BATCH, like token_revoke_user. */
int
bnc_store_session_revoke_user(struct bnc_store *s, const char *user,
                              size_t *count)
{
    struct bnc_store_bdb_tdel a;
    size_t total = 0;
    int rc;

    if (count != NULL)
        *count = 0;
    if (user == NULL || user[0] == '\0' || strlen(user) > BNC_USER_NAME_MAX)
        return bnc_store_dead(s) ? BNC_STORE_DEAD : BNC_STORE_NOTFOUND;
    rc = bnc_store_bdb_enter_write(s, "session revoke");
    if (rc != BNC_STORE_OK)
        return rc;
    a.byuser = s->st_sessions_by_user;
    a.stamp = s->st_sessions_seen;
    a.user = user;
    a.max = BNC_STORE_REVOKE_BATCH;
    do {
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_txn(s, BNC_STORE_SYNC,
                                                bnc_store_bdb_tdel_work, &a),
                              "revoke sessions of user", user);
        if (rc == BNC_STORE_OK)
            total += a.count;
    } while (rc == BNC_STORE_OK && a.count == a.max);
    bnc_store_bdb_leave(s);
    if (count != NULL)
        *count = total;
    if (rc == BNC_STORE_OK && total == 0)
        rc = BNC_STORE_NOTFOUND;
    return rc;
}

/* Decodes and delivers items; 1 if fn asked to stop, -1 on a bad record. */
static int
bnc_store_bdb_sdeliver(struct bnc_store *s, struct bnc_store_bdb_item *it,
                       size_t n,
                       int (*fn)(const struct bnc_session *t, void *arg),
                       void *arg)
{
    struct bnc_session ss;
    struct bnc_err err;
    size_t i;
    int stop;

    for (i = 0; i < n; i++) {
        bnc_err_clear(&err);
        if (bnc_session_decode(it[i].val, it[i].vlen, &ss, &err) != 0) {
            bnc_log(BNC_LOG_ERR, "store %s: list sessions: %s", s->st_path,
                    err.msg);
            return -1;
        }
        ss.last_seen = it[i].aux;
        stop = fn(&ss, arg) != 0;
        bnc_session_cleanup(&ss);
        if (stop)
            return 1;
    }
    return 0;
}

static int
bnc_store_bdb_session_foreach_user(struct bnc_store *s, const char *user,
                                   int (*fn)(const struct bnc_session *t,
                                             void *arg),
                                   void *arg)
{
    struct bnc_store_bdb_tlist l = {NULL, 0, 0};
    int rc;

    rc = bnc_store_bdb_collect_user(s, &s->st_sessions,
                                    &s->st_sessions_by_user,
                                    &s->st_sessions_seen,
                                    "list sessions of user", user, &l);
    if (rc == BNC_STORE_OK)
        rc = bnc_store_bdb_sdeliver(s, l.it, l.n, fn, arg) < 0
                 ? BNC_STORE_ERROR
                 : BNC_STORE_OK;
    bnc_store_bdb_items_free(l.it, l.n);
    free(l.it);
    return rc;
}

int
bnc_store_session_foreach(struct bnc_store *s, const char *user,
                          int (*fn)(const struct bnc_session *t, void *arg),
                          void *arg)
{
    struct bnc_store_bdb_item it[BNC_STORE_FOREACH_BATCH];
    struct bnc_store_bdb_item last = {NULL, 0, NULL, 0, 0};
    size_t n = 0;
    int rc, d;

    if (user != NULL)
        return bnc_store_bdb_session_foreach_user(s, user, fn, arg);
    /* Every session in id order: batches over sessions_by_id.db, whose
     * cursor returns the primary records; no lock while fn runs. */
    for (;;) {
        rc = bnc_store_bdb_locked_batch(s, bnc_store_bdb_pick_sessions, NULL,
                                        last.key != NULL ? &last : NULL, it,
                                        &n, "sessions");
        if (rc != BNC_STORE_OK)
            goto out;
        d = bnc_store_bdb_sdeliver(s, it, n, fn, arg);
        if (d != 0 || n < BNC_STORE_FOREACH_BATCH) {
            bnc_store_bdb_items_free(it, n);
            rc = d < 0 ? BNC_STORE_ERROR : BNC_STORE_OK;
            goto out;
        }
        bnc_store_bdb_batch_advance(&last, it, n);
    }
out:
    free(last.key);
    return rc;
}

struct bnc_store_bdb_sgc {
    char (*ids)[BNC_SESSION_ID_LEN]; /* candidates */
    size_t n;
    int64_t now;
    size_t count; /* removed by this (last) attempt */
};

/*
 * Removes the candidates that are still over: each is read again with
 * DB_RMW, together with its last-seen time, because a request may have
 * touched it since the scan. Repeatable: count restarts every attempt.
 */
static int
bnc_store_bdb_sgc_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_sgc *a = arg;
    unsigned char hdr[BNC_SESSION_REC_USER_OFF], v[8];
    DBT key, data;
    int64_t seen;
    size_t i;
    int ret;

    a->count = 0;
    for (i = 0; i < a->n; i++) {
        memset(&key, 0, sizeof(key));
        memset(&data, 0, sizeof(data));
        key.data = a->ids[i];
        key.size = BNC_SESSION_ID_LEN;
        /* The fixed header is all the test needs. */
        data.data = hdr;
        data.ulen = sizeof(hdr);
        data.doff = 0;
        data.dlen = sizeof(hdr);
        data.flags = DB_DBT_USERMEM | DB_DBT_PARTIAL;
        ret = s->st_sessions_by_id->get(s->st_sessions_by_id, t, &key, &data,
                                        DB_RMW);
        if (ret == DB_NOTFOUND)
            continue; /* gone meanwhile (logout, revoke) */
        if (ret != 0)
            return ret;
        if (data.size != sizeof(hdr))
            continue; /* not a record we understand: leave it */
        memset(&data, 0, sizeof(data));
        data.data = v;
        data.ulen = sizeof(v);
        data.flags = DB_DBT_USERMEM;
        ret = s->st_sessions_seen->get(s->st_sessions_seen, t, &key, &data,
                                       DB_RMW);
        if (ret == 0 && data.size == 8)
            seen = (int64_t)bnc_codec_get_u64(v);
        else if (ret == 0 || ret == DB_NOTFOUND || ret == DB_BUFFER_SMALL)
            seen = 0;
        else
            return ret;
        if (!bnc_store_bdb_session_over(a->now,
                                        (int64_t)bnc_codec_get_u64(hdr + 49),
                                        (int64_t)bnc_codec_get_u64(hdr + 57),
                                        (int64_t)bnc_codec_get_u64(hdr + 65),
                                        seen))
            continue;
        ret = s->st_sessions_by_id->del(s->st_sessions_by_id, t, &key, 0);
        if (ret != 0)
            return ret;
        ret = s->st_sessions_seen->del(s->st_sessions_seen, t, &key, 0);
        if (ret != 0 && ret != DB_NOTFOUND)
            return ret;
        a->count++;
    }
    return 0;
}

/*
 * Walks every session in batches (short read transactions, as foreach)
 * and removes those over as of now, one WRITE_NOSYNC transaction per
 * batch: no long transaction holds up the authorizer's reads, and a crash
 * loses at most work the next gc does again.
 */
int
bnc_store_session_gc(struct bnc_store *s, int64_t now, size_t *count)
{
    struct bnc_store_bdb_item it[BNC_STORE_FOREACH_BATCH];
    struct bnc_store_bdb_item last = {NULL, 0, NULL, 0, 0};
    char ids[BNC_STORE_FOREACH_BATCH][BNC_SESSION_ID_LEN];
    struct bnc_store_bdb_sgc a;
    const unsigned char *p;
    size_t n = 0, i, total = 0;
    int rc;

    if (count != NULL)
        *count = 0;
    if (s->st_readonly) {
        bnc_log(BNC_LOG_ERR, "store %s is open read-only: session gc refused",
                s->st_path);
        return BNC_STORE_ERROR;
    }
    for (;;) {
        rc = bnc_store_bdb_locked_batch(s, bnc_store_bdb_pick_sessions, NULL,
                                        last.key != NULL ? &last : NULL, it,
                                        &n, "sessions");
        if (rc != BNC_STORE_OK)
            break;
        a.ids = ids;
        a.n = 0;
        a.now = now;
        a.count = 0;
        for (i = 0; i < n; i++) {
            p = it[i].val;
            if (it[i].vlen < BNC_SESSION_REC_USER_OFF ||
                it[i].klen != BNC_SESSION_ID_LEN)
                continue;
            if (bnc_store_bdb_session_over(now,
                                           (int64_t)bnc_codec_get_u64(p + 49),
                                           (int64_t)bnc_codec_get_u64(p + 57),
                                           (int64_t)bnc_codec_get_u64(p + 65),
                                           it[i].aux))
                memcpy(ids[a.n++], it[i].key, BNC_SESSION_ID_LEN);
        }
        if (a.n > 0) {
            rc = bnc_store_bdb_enter(s);
            if (rc == BNC_STORE_OK) {
                rc = bnc_store_bdb_rc(s,
                                      bnc_store_bdb_txn(
                                          s, BNC_STORE_NOSYNC,
                                          bnc_store_bdb_sgc_work, &a),
                                      "remove expired sessions", "");
                bnc_store_bdb_leave(s);
            }
            if (rc == BNC_STORE_OK)
                total += a.count;
        }
        if (rc != BNC_STORE_OK || n < BNC_STORE_FOREACH_BATCH) {
            bnc_store_bdb_items_free(it, n);
            break;
        }
        bnc_store_bdb_batch_advance(&last, it, n);
    }
    free(last.key);
    if (count != NULL)
        *count = total;
    return rc;
}

/* ---- admin --------------------------------------------------------------- */

static void
bnc_store_bdb_file_size(FILE *out, const char *dir, const char *file)
{
    char *path = bnc_store_bdb_join(dir, file);
    struct stat st;

    if (stat(path, &st) == 0)
        fprintf(out, "  %-16s %jd bytes\n", file, (intmax_t)st.st_size);
    else
        fprintf(out, "  %-16s (missing: %s)\n", file, strerror(errno));
    free(path);
}

/* Key count of db (a full statistics walk, like the users line). */
static int
bnc_store_bdb_count(struct bnc_store *s, DB *db, uintmax_t *n)
{
    DB_BTREE_STAT *bsp = NULL;
    DB_TXN *t;
    int ret;

    ret = s->st_env->txn_begin(s->st_env, NULL, &t,
                               DB_TXN_NOWAIT | DB_READ_COMMITTED);
    if (ret != 0)
        return ret;
    ret = db->stat(db, t, &bsp, 0);
    if (ret == 0)
        ret = t->commit(t, 0);
    else
        (void)t->abort(t);
    if (ret == 0 && bsp != NULL)
        *n = bsp->bt_nkeys;
    free(bsp);
    return ret;
}

static int
bnc_store_bdb_stats(struct bnc_store *s, FILE *out, struct bnc_err *err)
{
    DB_ENV *env = s->st_env;
    DB_BTREE_STAT *bsp = NULL;
    DB_MPOOL_STAT *msp = NULL;
    DB_LOCK_STAT *lsp = NULL;
    DB_TXN_STAT *tsp = NULL;
    DB_TXN *t;
    char **logs = NULL, **lp, *path;
    uintmax_t logbytes = 0, total;
    struct stat st;
    size_t nlogs = 0;
    uintmax_t tokens = 0, sessions = 0;
    int ret, rc = -1, tries;

    fprintf(out, "store %s\n", s->st_path);
    fprintf(out, "  format version   %d (user records %d)\n", BNC_STORE_SCHEMA,
            BNC_USER_RECORD_VERSION);
    fprintf(out, "  library          %s\n", db_version(NULL, NULL, NULL));
    for (tries = 0;; tries++) {
        ret = env->txn_begin(env, NULL, &t, DB_TXN_NOWAIT | DB_READ_COMMITTED);
        if (ret != 0)
            break;
        ret = s->st_users->stat(s->st_users, t, &bsp, 0);
        if (ret == 0) {
            ret = t->commit(t, 0);
            break;
        }
        (void)t->abort(t);
        if ((ret != DB_LOCK_DEADLOCK && ret != DB_LOCK_NOTGRANTED) ||
            tries == BNC_STORE_RETRIES)
            break;
        bnc_store_bdb_backoff(tries);
    }
    if (ret != 0) {
        bnc_err_set(err, "store %s: users statistics: %s", s->st_path,
                    db_strerror(ret));
        goto out;
    }
    fprintf(out, "  users            %lu (%lu pages of %lu bytes, %lu levels)\n",
            (unsigned long)bsp->bt_nkeys, (unsigned long)bsp->bt_pagecnt,
            (unsigned long)bsp->bt_pagesize, (unsigned long)bsp->bt_levels);
    if (s->st_tokens != NULL &&
        bnc_store_bdb_count(s, s->st_tokens, &tokens) == 0)
        fprintf(out, "  tokens           %ju\n", tokens);
    if (s->st_sessions != NULL &&
        bnc_store_bdb_count(s, s->st_sessions, &sessions) == 0)
        fprintf(out, "  sessions         %ju\n", sessions);
    fprintf(out, "files\n");
    bnc_store_bdb_file_size(out, s->st_path, BNC_STORE_META_FILE);
    bnc_store_bdb_file_size(out, s->st_path, BNC_STORE_USERS_FILE);
    bnc_store_bdb_file_size(out, s->st_path, BNC_STORE_USERS_BY_ID_FILE);
    if (s->st_tokens != NULL) {
        bnc_store_bdb_file_size(out, s->st_path, BNC_STORE_TOKENS_FILE);
        bnc_store_bdb_file_size(out, s->st_path, BNC_STORE_TOKENS_BY_ID_FILE);
        bnc_store_bdb_file_size(out, s->st_path,
                                BNC_STORE_TOKENS_BY_USER_FILE);
        bnc_store_bdb_file_size(out, s->st_path, BNC_STORE_TOKENS_USED_FILE);
    }
    if (s->st_sessions != NULL) {
        bnc_store_bdb_file_size(out, s->st_path, BNC_STORE_SESSIONS_FILE);
        bnc_store_bdb_file_size(out, s->st_path,
                                BNC_STORE_SESSIONS_BY_ID_FILE);
        bnc_store_bdb_file_size(out, s->st_path,
                                BNC_STORE_SESSIONS_BY_USER_FILE);
        bnc_store_bdb_file_size(out, s->st_path,
                                BNC_STORE_SESSIONS_SEEN_FILE);
    }
    ret = env->log_archive(env, &logs, DB_ARCH_LOG);
    if (ret == 0 && logs != NULL) {
        for (lp = logs; *lp != NULL; lp++) {
            path = bnc_store_bdb_join(s->st_path, *lp);
            if (stat(path, &st) == 0)
                logbytes += (uintmax_t)st.st_size;
            free(path);
            nlogs++;
        }
    }
    fprintf(out, "  log files        %zu (%ju bytes)\n", nlogs, logbytes);
    ret = env->memp_stat(env, &msp, NULL, 0);
    if (ret == 0) {
        total = msp->st_cache_hit + msp->st_cache_miss;
        fprintf(out,
                "cache\n  size             %ju bytes\n"
                "  hits             %ju\n  misses           %ju\n"
                "  hit rate         %.2f%%\n",
                (uintmax_t)msp->st_gbytes * 1073741824u +
                    (uintmax_t)msp->st_bytes,
                msp->st_cache_hit, msp->st_cache_miss,
                total > 0 ? 100.0 * (double)msp->st_cache_hit / (double)total
                          : 100.0);
    }
    ret = env->lock_stat(env, &lsp, 0);
    if (ret == 0)
        fprintf(out,
                "locks\n  locks            %lu now, %lu at most, limit %lu\n"
                "  lockers          %lu\n  waits            %ju\n"
                "  deadlocks        %ju\n",
                (unsigned long)lsp->st_nlocks,
                (unsigned long)lsp->st_maxnlocks,
                (unsigned long)lsp->st_maxlocks,
                (unsigned long)lsp->st_nlockers, lsp->st_lock_wait,
                lsp->st_ndeadlocks);
    ret = env->txn_stat(env, &tsp, 0);
    if (ret == 0) {
        fprintf(out,
                "transactions\n  active           %lu (at most %lu)\n"
                "  begun            %ju\n  committed        %ju\n"
                "  aborted          %ju\n",
                (unsigned long)tsp->st_nactive,
                (unsigned long)tsp->st_maxnactive, tsp->st_nbegins,
                tsp->st_ncommits, tsp->st_naborts);
        if (tsp->st_time_ckp != 0)
            fprintf(out, "  last checkpoint  %ld s ago\n",
                    (long)(time(NULL) - tsp->st_time_ckp));
        else
            fprintf(out, "  last checkpoint  never\n");
    }
    rc = 0;
out:
    free(bsp);
    free(msp);
    free(lsp);
    free(tsp);
    free(logs);
    return rc;
}

int
bnc_store_stats(struct bnc_store *s, FILE *out, struct bnc_err *err)
{
    int rc;

    if (bnc_store_bdb_enter(s) != BNC_STORE_OK) {
        bnc_err_set(err, "store %s needs recovery: reopen it", s->st_path);
        return -1;
    }
    rc = bnc_store_bdb_stats(s, out, err);
    bnc_store_bdb_leave(s);
    return rc;
}

int
bnc_store_verify(struct bnc_store *s, FILE *out, struct bnc_err *err)
{
    static const char *const files[] = {
        BNC_STORE_META_FILE,          BNC_STORE_USERS_FILE,
        BNC_STORE_USERS_BY_ID_FILE,   BNC_STORE_TOKENS_FILE,
        BNC_STORE_TOKENS_BY_ID_FILE,  BNC_STORE_TOKENS_BY_USER_FILE,
        BNC_STORE_TOKENS_USED_FILE,   BNC_STORE_SESSIONS_FILE,
        BNC_STORE_SESSIONS_BY_ID_FILE, BNC_STORE_SESSIONS_BY_USER_FILE,
        BNC_STORE_SESSIONS_SEEN_FILE, BNC_STORE_JWT_DENY_FILE,
        BNC_STORE_JWT_FAMILIES_FILE,  BNC_STORE_THROTTLE_FILE, NULL};
    struct stat st;
    DB *vdb;
    char *path;
    size_t i;
    int ret, bad = 0;

    fprintf(out,
            "verifying store %s\n"
            "note: verification reads the files without locks; run it when "
            "the store is quiet, or verify a backup copy\n",
            s->st_path);
    /* Put cached changes into the files we are about to read. */
    if (bnc_store_bdb_enter(s) == BNC_STORE_OK) {
        (void)s->st_env->memp_sync(s->st_env, NULL);
        bnc_store_bdb_leave(s);
    }
    for (i = 0; files[i] != NULL; i++) {
        path = bnc_store_bdb_join(s->st_path, files[i]);
        if (stat(path, &st) != 0 && errno == ENOENT) {
            free(path); /* a store without tokens or sessions yet */
            continue;
        }
        free(path);
        /* A fresh handle outside the environment: verify must never run on
         * an open database handle, and the handle is gone afterwards. */
        ret = db_create(&vdb, NULL, 0);
        if (ret != 0) {
            bnc_err_set(err, "verify: db_create: %s", db_strerror(ret));
            return -1;
        }
        vdb->set_errfile(vdb, out);
        vdb->set_errpfx(vdb, files[i]);
        path = bnc_store_bdb_join(s->st_path, files[i]);
        ret = vdb->verify(vdb, path, NULL, NULL, 0);
        free(path);
        fprintf(out, "  %-16s %s\n", files[i],
                ret == 0 ? "OK" : db_strerror(ret));
        if (ret != 0 && !bad) {
            bad = 1;
            bnc_err_set(err, "store %s: %s failed verification: %s",
                        s->st_path, files[i], db_strerror(ret));
        }
    }
    return bad ? -1 : 0;
}

static int
bnc_store_bdb_backup_dir(const char *dir, struct bnc_err *err)
{
    struct dirent *de;
    struct stat st;
    DIR *d;
    int rc = 0;

    if (stat(dir, &st) != 0) {
        if (errno == ENOENT && mkdir(dir, 0770) == 0)
            return 0;
        bnc_err_set(err, "backup directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode)) {
        bnc_err_set(err, "backup directory %s is not a directory", dir);
        return -1;
    }
    d = opendir(dir);
    if (d == NULL) {
        bnc_err_set(err, "backup directory %s: %s", dir, strerror(errno));
        return -1;
    }
    while ((de = readdir(d)) != NULL) {
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            /* DB_BACKUP_CLEAN would delete what is there: refuse instead. */
            bnc_err_set(err, "backup directory %s is not empty", dir);
            rc = -1;
            break;
        }
    }
    (void)closedir(d);
    return rc;
}

/* Region files copied from a live environment describe that environment,
 * not the copy: drop them before recovering the copy. */
static void
bnc_store_bdb_drop_regions(const char *dir)
{
    struct dirent *de;
    char *path;
    DIR *d = opendir(dir);

    if (d == NULL)
        return;
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, "__db.", 5) != 0)
            continue;
        path = bnc_store_bdb_join(dir, de->d_name);
        (void)unlink(path);
        free(path);
    }
    (void)closedir(d);
}

int
bnc_store_backup(struct bnc_store *s, const char *dir, struct bnc_err *err)
{
    DB_ENV *benv = NULL;
    mode_t old_mask;
    int ret, rc = -1;

    old_mask = umask(007);
    if (bnc_store_bdb_backup_dir(dir, err) != 0)
        goto out;
    if (bnc_store_bdb_enter(s) != BNC_STORE_OK) {
        bnc_err_set(err, "store %s needs recovery: reopen it", s->st_path);
        goto out;
    }
    bnc_store_bdb_lastmsg[0] = '\0';
    ret = s->st_env->backup(s->st_env, dir,
                            DB_CREATE | DB_BACKUP_CLEAN | DB_BACKUP_FILES |
                                DB_BACKUP_SINGLE_DIR);
    bnc_store_bdb_leave(s);
    if (ret != 0) {
        if (ret == DB_RUNRECOVERY)
            bnc_store_bdb_mark_dead(s, "DB_RUNRECOVERY during backup");
        bnc_err_set(err, "backup of store %s into %s failed: %s", s->st_path,
                    dir, db_strerror(ret));
        goto out;
    }
    bnc_store_bdb_drop_regions(dir);
    /*
     * A hot copy is only consistent after catastrophic recovery over its
     * logs. Run it here on a separate, private environment handle: no
     * DB_REGISTER, which allows one registered handle per process.
     */
    ret = db_env_create(&benv, 0);
    if (ret != 0) {
        bnc_err_set(err, "backup %s: db_env_create: %s", dir,
                    db_strerror(ret));
        goto out;
    }
    benv->set_errcall(benv, bnc_store_bdb_errcall);
    ret = benv->open(benv, dir,
                     DB_CREATE | DB_INIT_MPOOL | DB_INIT_LOCK | DB_INIT_LOG |
                         DB_INIT_TXN | DB_PRIVATE | DB_RECOVER_FATAL,
                     0660);
    if (ret != 0) {
        bnc_err_set(err,
                    "backup %s was copied but its recovery failed: %s%s%s; "
                    "run db5.3_recover -c -h %s before using it",
                    dir, db_strerror(ret),
                    bnc_store_bdb_lastmsg[0] != '\0' ? ": " : "",
                    bnc_store_bdb_lastmsg, dir);
        goto out;
    }
    rc = 0;
out:
    if (benv != NULL)
        (void)benv->close(benv, 0);
    (void)umask(old_mask);
    return rc;
}

/*
 * Holds the handle lock for reading for the whole round, like any other
 * call: a reopen waits for the round to end. The round only marks the store
 * dead; whoever owns the process (bouncer's main thread) calls
 * bnc_store_recover(), which it could not do here without taking the lock
 * twice.
 */
int
bnc_store_maintain(struct bnc_store *s)
{
    DB_ENV *env;
    u_int32_t flags = 0;
    int64_t now;
    int ret, rc;

    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    env = s->st_env;
    pthread_mutex_lock(&s->st_maint_mu);
    /* Abort the transactions of dead processes and free their locks. EBUSY
     * (seen in 5.3.28 right after a kill) means: done next round. */
    ret = env->failchk(env, 0);
    if (ret == DB_RUNRECOVERY) {
        /*
         * A process died inside the library ("Thread died in Berkeley DB
         * library"): its locks stay taken. failchk only tells us, so
         * panic the shared environment: every process then gets
         * DB_RUNRECOVERY, reopens, and the first reopen runs recovery.
         */
        bnc_store_bdb_mark_dead(s, "failchk found damage it cannot repair");
        (void)env->set_flags(env, DB_PANIC_ENVIRONMENT, 1);
        rc = BNC_STORE_DEAD;
        goto unlock;
    }
    if (ret != 0 && ret != EBUSY) {
        bnc_log(BNC_LOG_WARN, "store %s: failchk: %s", s->st_path,
                db_strerror(ret));
        rc = BNC_STORE_ERROR;
    }
    if (s->st_readonly)
        goto unlock;
    now = bnc_store_bdb_mono();
    if (s->st_last_ckpt != 0 && now - s->st_last_ckpt < BNC_STORE_CKPT_SECONDS)
        goto unlock;
    s->st_last_ckpt = now;
    /* Checkpoints bound recovery time and let old logs go. */
    ret = env->txn_checkpoint(env, 1024, 1, 0);
    if (ret != 0) {
        rc = bnc_store_bdb_rc(s, ret, "checkpoint", "");
        goto unlock;
    }
    ret = env->get_flags(env, &flags);
    if (ret == 0 && (flags & DB_HOTBACKUP_IN_PROGRESS) != 0)
        goto unlock; /* a backup still needs those logs */
    ret = env->log_archive(env, NULL, DB_ARCH_REMOVE);
    if (ret != 0)
        rc = bnc_store_bdb_rc(s, ret, "remove old logs", "");
unlock:
    pthread_mutex_unlock(&s->st_maint_mu);
    bnc_store_bdb_leave(s);
    return rc;
}

/* ---- small keyed records ---------------------------------------------------- */

static DB *
bnc_store_bdb_kv_db(struct bnc_store *s, enum bnc_store_kv db)
{
    return (unsigned)db < BNC_KV_COUNT ? s->st_kv[db] : NULL;
}

static int
bnc_store_bdb_kv_get_once(struct bnc_store *s, enum bnc_store_kv db,
                          const void *key, size_t klen, unsigned char **val,
                          size_t *vlen)
{
    unsigned char stackbuf[512], *p = NULL;
    size_t len = 0;
    DB *h;
    int rc, ret;

    rc = bnc_store_bdb_enter(s);
    if (rc != BNC_STORE_OK)
        return rc;
    h = bnc_store_bdb_kv_db(s, db);
    if (h == NULL) {
        bnc_store_bdb_leave(s);
        return BNC_STORE_NOTFOUND;
    }
    ret = bnc_store_bdb_read(s, h, key, klen, stackbuf, sizeof(stackbuf), &p,
                             &len);
    if (ret == 0) {
        *val = bnc_malloc(len ? len : 1);
        memcpy(*val, p, len);
        *vlen = len;
        if (p != stackbuf)
            free(p);
    }
    rc = bnc_store_bdb_rc(s, ret, "get", bnc_store_bdb_kv_files[db]);
    bnc_store_bdb_leave(s);
    return rc;
}

int
bnc_store_kv_get(struct bnc_store *s, enum bnc_store_kv db, const void *key,
                 size_t klen, unsigned char **val, size_t *vlen)
{
    int rc;

    *val = NULL;
    *vlen = 0;
    rc = bnc_store_bdb_kv_get_once(s, db, key, klen, val, vlen);
    if (rc == BNC_STORE_DEAD && bnc_store_bdb_revive(s) == 0)
        rc = bnc_store_bdb_kv_get_once(s, db, key, klen, val, vlen);
    return rc;
}

struct bnc_store_bdb_kv_mod {
    DB *db;
    const void *key;
    size_t klen;
    bnc_store_kv_modify_fn fn;
    void *arg;
};

static int
bnc_store_bdb_kv_modify_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_kv_mod *m = arg;
    unsigned char stackbuf[512], *old = NULL, *newv = NULL;
    size_t oldlen = 0, newlen = 0;
    DBT key, data;
    int ret, op;

    (void)s;
    ret = bnc_store_bdb_fetch(m->db, t, m->key, m->klen, DB_RMW, stackbuf,
                              sizeof(stackbuf), &old, &oldlen);
    if (ret == DB_NOTFOUND) {
        old = NULL;
        oldlen = 0;
    } else if (ret != 0) {
        return ret;
    }
    op = m->fn(old, oldlen, &newv, &newlen, m->arg);
    if (old != NULL && old != stackbuf)
        free(old);
    memset(&key, 0, sizeof(key));
    key.data = (void *)m->key;
    key.size = (u_int32_t)m->klen;
    switch (op) {
    case BNC_KV_KEEP:
        free(newv);
        return 0;
    case BNC_KV_WRITE:
        if (newv == NULL)
            return BNC_STORE_BDB_EINVAL;
        memset(&data, 0, sizeof(data));
        data.data = newv;
        data.size = (u_int32_t)newlen;
        ret = m->db->put(m->db, t, &key, &data, 0);
        free(newv);
        return ret;
    case BNC_KV_DELETE:
        free(newv);
        ret = m->db->del(m->db, t, &key, 0);
        return ret == DB_NOTFOUND ? 0 : ret;
    default:
        free(newv);
        return BNC_STORE_BDB_EABORT;
    }
}

static int
bnc_store_bdb_kv_modify_once(struct bnc_store *s, enum bnc_store_kv db,
                             const void *key, size_t klen,
                             bnc_store_kv_modify_fn fn, void *arg,
                             enum bnc_store_sync sync)
{
    struct bnc_store_bdb_kv_mod m;
    int rc, ret;

    rc = bnc_store_bdb_enter_write(s, bnc_store_bdb_kv_files[db]);
    if (rc != BNC_STORE_OK)
        return rc;
    m.db = bnc_store_bdb_kv_db(s, db);
    m.key = key;
    m.klen = klen;
    m.fn = fn;
    m.arg = arg;
    if (m.db == NULL) {
        bnc_store_bdb_leave(s);
        return BNC_STORE_ERROR;
    }
    ret = bnc_store_bdb_txn(s, sync, bnc_store_bdb_kv_modify_work, &m);
    rc = bnc_store_bdb_rc(s, ret, "update", bnc_store_bdb_kv_files[db]);
    bnc_store_bdb_leave(s);
    return rc;
}

int
bnc_store_kv_modify(struct bnc_store *s, enum bnc_store_kv db,
                    const void *key, size_t klen, bnc_store_kv_modify_fn fn,
                    void *arg, enum bnc_store_sync sync)
{
    int rc;

    if ((unsigned)db >= BNC_KV_COUNT)
        return BNC_STORE_ERROR;
    rc = bnc_store_bdb_kv_modify_once(s, db, key, klen, fn, arg, sync);
    if (rc == BNC_STORE_DEAD && bnc_store_bdb_revive(s) == 0)
        rc = bnc_store_bdb_kv_modify_once(s, db, key, klen, fn, arg, sync);
    return rc;
}

struct bnc_store_bdb_kv_value {
    const void *val;
    size_t vlen;
    int del;
    int found;
};

static int
bnc_store_bdb_kv_set_fn(const unsigned char *old, size_t oldlen,
                        unsigned char **newv, size_t *newlen, void *arg)
{
    struct bnc_store_bdb_kv_value *v = arg;

    (void)oldlen;
    v->found = old != NULL;
    if (v->del)
        return old != NULL ? BNC_KV_DELETE : BNC_KV_KEEP;
    *newv = bnc_malloc(v->vlen ? v->vlen : 1);
    memcpy(*newv, v->val, v->vlen);
    *newlen = v->vlen;
    return BNC_KV_WRITE;
}

int
bnc_store_kv_put(struct bnc_store *s, enum bnc_store_kv db, const void *key,
                 size_t klen, const void *val, size_t vlen,
                 enum bnc_store_sync sync)
{
    struct bnc_store_bdb_kv_value v = {val, vlen, 0, 0};

    return bnc_store_kv_modify(s, db, key, klen, bnc_store_bdb_kv_set_fn, &v,
                               sync);
}

int
bnc_store_kv_del(struct bnc_store *s, enum bnc_store_kv db, const void *key,
                 size_t klen, enum bnc_store_sync sync)
{
    struct bnc_store_bdb_kv_value v = {NULL, 0, 1, 0};
    int rc;

    rc = bnc_store_kv_modify(s, db, key, klen, bnc_store_bdb_kv_set_fn, &v,
                             sync);
    if (rc == BNC_STORE_OK && !v.found)
        return BNC_STORE_NOTFOUND;
    return rc;
}

/* Deletes key if its value is still exactly (val, vlen): a sweep must not
 * remove a record that changed after it was read. */
struct bnc_store_bdb_kv_same {
    const unsigned char *val;
    size_t vlen;
    int deleted;
};

static int
bnc_store_bdb_kv_del_same_fn(const unsigned char *old, size_t oldlen,
                             unsigned char **newv, size_t *newlen, void *arg)
{
    struct bnc_store_bdb_kv_same *m = arg;

    (void)newv;
    (void)newlen;
    m->deleted = 0;
    if (old == NULL || oldlen != m->vlen || memcmp(old, m->val, oldlen) != 0)
        return BNC_KV_KEEP;
    m->deleted = 1;
    return BNC_KV_DELETE;
}

int
bnc_store_kv_foreach(struct bnc_store *s, enum bnc_store_kv db,
                     bnc_store_kv_visit_fn fn, void *arg, size_t *deleted)
{
    struct bnc_store_bdb_item it[BNC_STORE_FOREACH_BATCH];
    struct bnc_store_bdb_item last = {NULL, 0, NULL, 0, 0};
    struct bnc_store_bdb_kv_same same;
    size_t n = 0, i, ndel = 0;
    int rc = BNC_STORE_ERROR, stop = 0, op;

    if ((unsigned)db >= BNC_KV_COUNT)
        return BNC_STORE_ERROR;
    for (;;) {
        rc = bnc_store_bdb_locked_batch(s, bnc_store_bdb_pick_kv, &db,
                                        last.key != NULL ? &last : NULL, it,
                                        &n, bnc_store_bdb_kv_files[db]);
        if (rc != BNC_STORE_OK)
            goto out;
        for (i = 0; i < n && !stop; i++) {
            op = fn(it[i].key, it[i].klen, it[i].val, it[i].vlen, arg);
            if (op < 0) {
                stop = 1;
            } else if (op == BNC_KV_DELETE) {
                same.val = it[i].val;
                same.vlen = it[i].vlen;
                same.deleted = 0;
                rc = bnc_store_kv_modify(s, db, it[i].key, it[i].klen,
                                         bnc_store_bdb_kv_del_same_fn, &same,
                                         BNC_STORE_NOSYNC);
                if (rc != BNC_STORE_OK) {
                    bnc_store_bdb_items_free(it, n);
                    goto out;
                }
                ndel += (size_t)same.deleted;
            }
        }
        if (stop || n < BNC_STORE_FOREACH_BATCH) {
            bnc_store_bdb_items_free(it, n);
            break;
        }
        bnc_store_bdb_batch_advance(&last, it, n);
    }
    rc = BNC_STORE_OK;
out:
    free(last.key);
    if (deleted != NULL)
        *deleted = ndel;
    return rc;
}

/* ---- bulk user upsert (bouncerctl import) -------------------------------- */

/* import.db value: format version byte + SHA-256 of the imported hash. */
#define BNC_STORE_IMPORT_RECORD_VERSION 1
#define BNC_STORE_IMPORT_RECORD_LEN 33

static int
bnc_store_bdb_streq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Same group names, in any order (a user's groups hold no duplicates). */
static int
bnc_store_bdb_groups_same(char *const *a, char *const *b)
{
    size_t i, na = bnc_strv_len(a);

    if (na != bnc_strv_len(b))
        return 0;
    for (i = 0; i < na; i++)
        if (!bnc_strv_contains(b, a[i]))
            return 0;
    return 1;
}

/* old's groups followed by those of add it lacks: a new array of borrowed
 * strings (free the array only), or NULL when both are empty. */
static char **
bnc_store_bdb_groups_union(char *const *old, char *const *add)
{
    size_t no = bnc_strv_len(old), na = bnc_strv_len(add), n = 0, i;
    char **g;

    if (no + na == 0)
        return NULL;
    g = bnc_calloc(no + na + 1, sizeof(*g));
    for (i = 0; i < no; i++)
        g[n++] = old[i];
    for (i = 0; i < na; i++)
        if (!bnc_strv_contains(old, add[i]) && !bnc_strv_contains(g, add[i]))
            g[n++] = add[i];
    return g;
}

/* Whether import.db says sum is the hash imported last for name. */
static int
bnc_store_bdb_import_seen(struct bnc_store *s, DB_TXN *t, const char *name,
                          const unsigned char sum[32], u_int32_t flags,
                          int *seen)
{
    DB *db = s->st_kv[BNC_KV_IMPORT];
    unsigned char buf[64], *p = NULL;
    size_t len = 0;
    int ret;

    *seen = 0;
    ret = bnc_store_bdb_fetch(db, t, name, strlen(name), flags, buf,
                              sizeof(buf), &p, &len);
    if (ret == DB_NOTFOUND)
        return 0;
    if (ret != 0)
        return ret;
    *seen = len == BNC_STORE_IMPORT_RECORD_LEN &&
            p[0] == BNC_STORE_IMPORT_RECORD_VERSION &&
            bnc_memeq_ct(p + 1, 32, sum, 32);
    if (p != buf)
        free(p);
    return 0;
}

static int
bnc_store_bdb_import_note(struct bnc_store *s, DB_TXN *t, const char *name,
                          const unsigned char sum[32])
{
    DB *db = s->st_kv[BNC_KV_IMPORT];
    unsigned char v[BNC_STORE_IMPORT_RECORD_LEN];
    DBT key, data;

    v[0] = BNC_STORE_IMPORT_RECORD_VERSION;
    memcpy(v + 1, sum, 32);
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = (void *)name;
    key.size = (u_int32_t)strlen(name);
    data.data = v;
    data.size = sizeof(v);
    return db->put(db, t, &key, &data, 0);
}

struct bnc_store_bdb_putmany {
    struct bnc_user_put *p;
    size_t n;
    int dry;
    int64_t now;
};

/* The id for a new user: the one asked for if it is free, else the next
 * counter value. *next always stays above every id handed out. */
static int
bnc_store_bdb_putmany_id(struct bnc_store *s, DB_TXN *t,
                         struct bnc_user_put *p, uint32_t *next,
                         uint32_t *id)
{
    unsigned char k[4];
    DBT key;
    int ret;

    *id = 0;
    if ((p->up_fields & BNC_USER_PUT_ID) && p->up_user.id != 0) {
        bnc_codec_put_u32(k, p->up_user.id);
        memset(&key, 0, sizeof(key));
        key.data = k;
        key.size = 4;
        ret = s->st_users_by_id->exists(s->st_users_by_id, t, &key, 0);
        if (ret == DB_NOTFOUND)
            *id = p->up_user.id;
        else if (ret == 0)
            p->up_id_taken = 1;
        else
            return ret;
    }
    if (*id == 0) {
        if (*next == 0 || *next == UINT32_MAX)
            return BNC_STORE_BDB_EFULL;
        *id = (*next)++;
    } else if (*id >= *next) {
        *next = *id == UINT32_MAX ? UINT32_MAX : *id + 1;
    }
    return 0;
}

/* One item: the user as it is (DB_RMW), merged with what the import sets. */
static int
bnc_store_bdb_putmany_one(struct bnc_store *s, DB_TXN *t,
                          struct bnc_store_bdb_putmany *a,
                          struct bnc_user_put *p, uint32_t *next)
{
    const struct bnc_user *w = &p->up_user;
    unsigned f = p->up_fields;
    struct bnc_user old, rec;
    unsigned char buf[1024], *raw = NULL, sum[32];
    size_t len = 0;
    char **groups = NULL;
    int ret, has_old = 0, seen = 0, changed;

    memset(&old, 0, sizeof(old));
    p->up_result = 0;
    p->up_id_taken = 0;
    p->up_hash_kept = 0;
    p->up_disabled_kept = 0;
    ret = bnc_store_bdb_fetch(s->st_users, t, w->name, strlen(w->name),
                              a->dry ? 0 : DB_RMW, buf, sizeof(buf), &raw,
                              &len);
    if (ret == 0) {
        ret = bnc_store_bdb_decode(s, raw, len, w->name, &old);
        bnc_store_bdb_release(raw, len, buf);
        if (ret != 0)
            return ret;
        has_old = 1;
    } else if (ret != DB_NOTFOUND) {
        return ret;
    }
    if (f & BNC_USER_PUT_HASH) {
        bnc_sha256(w->hash, strlen(w->hash), sum);
        ret = bnc_store_bdb_import_seen(s, t, w->name, sum,
                                        a->dry ? 0 : DB_RMW, &seen);
        if (ret != 0)
            goto out;
    }
    if (!has_old) {
        memset(&rec, 0, sizeof(rec));
        rec.name = w->name;
        rec.hash = (f & BNC_USER_PUT_HASH) ? w->hash : (char *)"";
        rec.email = (f & BNC_USER_PUT_EMAIL) ? w->email : NULL;
        rec.display_name = (f & BNC_USER_PUT_NAME) ? w->display_name : NULL;
        rec.disabled = (f & BNC_USER_PUT_DISABLED) ? w->disabled != 0 : 0;
        if (f & (BNC_USER_PUT_GROUPS | BNC_USER_PUT_GROUPS_ADD))
            rec.groups = w->groups;
        ret = bnc_store_bdb_putmany_id(s, t, p, next, &rec.id);
        if (ret != 0)
            goto out;
        rec.created = (f & BNC_USER_PUT_TIMES) && w->created > 0 ? w->created
                                                                  : a->now;
        rec.changed = a->now;
        rec.not_before = (f & BNC_USER_PUT_TIMES) ? w->not_before : 0;
        rec.rev = 1;
        if (!a->dry)
            ret = bnc_store_bdb_put_user(s, t, &rec, DB_NOOVERWRITE);
        p->up_result = BNC_USER_PUT_ADDED;
    } else {
        rec = old; /* members borrowed from old or w: never cleaned up */
        if ((f & BNC_USER_PUT_HASH) && !bnc_store_bdb_streq(old.hash, w->hash)) {
            if (seen)
                p->up_hash_kept = 1;
            else
                rec.hash = w->hash;
        }
        if (f & BNC_USER_PUT_EMAIL)
            rec.email = w->email;
        if (f & BNC_USER_PUT_NAME)
            rec.display_name = w->display_name;
        if ((f & BNC_USER_PUT_DISABLED) && old.disabled && !w->disabled &&
            !(f & BNC_USER_PUT_DISABLED_SYNC))
            p->up_disabled_kept = 1; /* an admin's disable stays */
        else if (f & BNC_USER_PUT_DISABLED)
            rec.disabled = w->disabled != 0;
        if (f & BNC_USER_PUT_GROUPS)
            rec.groups = w->groups;
        else if (f & BNC_USER_PUT_GROUPS_ADD)
            rec.groups = groups = bnc_store_bdb_groups_union(old.groups,
                                                             w->groups);
        changed = !bnc_store_bdb_streq(rec.hash, old.hash) ||
                  !bnc_store_bdb_streq(rec.email, old.email) ||
                  !bnc_store_bdb_streq(rec.display_name, old.display_name) ||
                  (rec.disabled != 0) != (old.disabled != 0) ||
                  !bnc_store_bdb_groups_same(rec.groups, old.groups);
        if (changed) {
            rec.changed = a->now > old.changed ? a->now : old.changed;
            rec.rev = old.rev + 1;
            if (!a->dry)
                ret = bnc_store_bdb_put_user(s, t, &rec, 0);
            p->up_result = BNC_USER_PUT_UPDATED;
        } else {
            p->up_result = BNC_USER_PUT_UNCHANGED;
        }
    }
    /* Not seen means the user's hash is now the incoming one: remember it
     * as the last import of this user. */
    if (ret == 0 && (f & BNC_USER_PUT_HASH) && !seen && !a->dry)
        ret = bnc_store_bdb_import_note(s, t, w->name, sum);
out:
    free(groups);
    if (has_old)
        bnc_user_cleanup(&old);
    return ret;
}

static int
bnc_store_bdb_putmany_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_putmany *a = arg;
    unsigned char buf[16], *p = NULL, idbuf[4];
    size_t len = 0, i;
    uint32_t next = 1, next0;
    DBT key, data;
    int ret;

    ret = bnc_store_bdb_fetch(s->st_meta, t, "next_user_id", 12,
                              a->dry ? 0 : DB_RMW, buf, sizeof(buf), &p,
                              &len);
    if (ret == 0) {
        if (len != 4) {
            bnc_store_bdb_release(p, len, buf);
            bnc_log(BNC_LOG_ERR, "store %s: meta next_user_id is corrupt",
                    s->st_path);
            return BNC_STORE_BDB_ECORRUPT;
        }
        next = bnc_codec_get_u32(p);
        bnc_store_bdb_release(p, len, buf);
    } else if (ret != DB_NOTFOUND) {
        return ret;
    }
    next0 = next;
    for (i = 0; i < a->n; i++) {
        ret = bnc_store_bdb_putmany_one(s, t, a, &a->p[i], &next);
        if (ret != 0)
            return ret;
    }
    if (next == next0 || a->dry)
        return 0;
    bnc_codec_put_u32(idbuf, next);
    memset(&key, 0, sizeof(key));
    memset(&data, 0, sizeof(data));
    key.data = (void *)"next_user_id";
    key.size = 12;
    data.data = idbuf;
    data.size = 4;
    return s->st_meta->put(s->st_meta, t, &key, &data, 0);
}

int
bnc_store_user_put_many(struct bnc_store *s, struct bnc_user_put *p,
                        size_t n, size_t batch, int dry_run, size_t *done)
{
    struct bnc_store_bdb_putmany a;
    size_t off, k, i;
    const char *why;
    int rc;

    if (done != NULL)
        *done = 0;
    if (batch == 0)
        batch = 1;
    for (i = 0; i < n; i++)
        if (!bnc_user_name_valid(p[i].up_user.name, &why) ||
            ((p[i].up_fields & BNC_USER_PUT_HASH) &&
             p[i].up_user.hash == NULL)) {
            bnc_log(BNC_LOG_ERR, "store %s: user import: %s", s->st_path,
                    p[i].up_user.hash == NULL ? "no hash" : why);
            return BNC_STORE_ERROR;
        }
    rc = dry_run ? bnc_store_bdb_enter(s)
                 : bnc_store_bdb_enter_write(s, "user import");
    if (rc != BNC_STORE_OK)
        return rc;
    if (s->st_kv[BNC_KV_IMPORT] == NULL) {
        /* A read-only open of a store older than import.db: nothing was
         * ever imported, but we cannot tell the reads from that. */
        bnc_log(BNC_LOG_ERR, "store %s has no import.db yet (run bouncerctl "
                "db init)", s->st_path);
        rc = BNC_STORE_ERROR;
        goto out;
    }
    a.dry = dry_run;
    a.now = (int64_t)time(NULL);
    for (off = 0; off < n; off += k) {
        k = n - off < batch ? n - off : batch;
        a.p = p + off;
        a.n = k;
        /* A dry run's transaction only reads: commit or abort alike. */
        rc = bnc_store_bdb_rc(s,
                              bnc_store_bdb_txn(s, BNC_STORE_SYNC,
                                                bnc_store_bdb_putmany_work,
                                                &a),
                              "import users", p[off].up_user.name);
        if (rc != BNC_STORE_OK)
            break;
        if (done != NULL)
            *done += k;
    }
out:
    bnc_store_bdb_leave(s);
    return rc;
}

/* ---- expired API tokens (bouncerctl db gc) -------------------------------- */

struct bnc_store_bdb_tgc {
    char (*ids)[BNC_TOKEN_ID_LEN];
    size_t n;
    size_t cap;
    int64_t now;
    size_t count; /* removed by this (last) attempt */
};

static int
bnc_store_bdb_tgc_collect(const struct bnc_token *t, void *arg)
{
    struct bnc_store_bdb_tgc *g = arg;

    /* As the token scheme: dead from the second of its expiry on. */
    if (t->expires <= 0 || g->now < t->expires)
        return 0;
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->ids = bnc_realloc(g->ids, g->cap * sizeof(*g->ids));
    }
    memcpy(g->ids[g->n++], t->id, BNC_TOKEN_ID_LEN);
    return 0;
}

/* Deletes the listed tokens that are still there (records never change,
 * so an expired one stays expired). Repeatable: count restarts. */
static int
bnc_store_bdb_tgc_work(struct bnc_store *s, DB_TXN *t, void *arg)
{
    struct bnc_store_bdb_tgc *g = arg;
    DBT key;
    size_t i;
    int ret;

    g->count = 0;
    for (i = 0; i < g->n; i++) {
        memset(&key, 0, sizeof(key));
        key.data = g->ids[i];
        key.size = BNC_TOKEN_ID_LEN;
        ret = s->st_tokens_by_id->del(s->st_tokens_by_id, t, &key, 0);
        if (ret == DB_NOTFOUND)
            continue; /* revoked meanwhile */
        if (ret != 0)
            return ret;
        ret = s->st_tokens_used->del(s->st_tokens_used, t, &key, 0);
        if (ret != 0 && ret != DB_NOTFOUND)
            return ret;
        g->count++;
    }
    return 0;
}

/*
 * Lists the expired tokens (foreach: short read transactions), then removes
 * them BNC_STORE_REVOKE_BATCH per WRITE_NOSYNC transaction, like session gc:
 * a crash loses at most work the next gc does again.
 */
int
bnc_store_token_gc(struct bnc_store *s, int64_t now, size_t *count)
{
    struct bnc_store_bdb_tgc g, part;
    size_t off, total = 0;
    int rc;

    if (count != NULL)
        *count = 0;
    if (s->st_readonly) {
        bnc_log(BNC_LOG_ERR, "store %s is open read-only: token gc refused",
                s->st_path);
        return BNC_STORE_ERROR;
    }
    memset(&g, 0, sizeof(g));
    g.now = now;
    rc = bnc_store_token_foreach(s, NULL, bnc_store_bdb_tgc_collect, &g);
    for (off = 0; rc == BNC_STORE_OK && off < g.n;
         off += BNC_STORE_REVOKE_BATCH) {
        part = g;
        part.ids = g.ids + off;
        part.n = g.n - off < BNC_STORE_REVOKE_BATCH ? g.n - off
                                                    : BNC_STORE_REVOKE_BATCH;
        rc = bnc_store_bdb_enter_write(s, "token gc");
        if (rc != BNC_STORE_OK)
            break;
        if (s->st_tokens == NULL)
            rc = BNC_STORE_OK;
        else
            rc = bnc_store_bdb_rc(s,
                                  bnc_store_bdb_txn(s, BNC_STORE_NOSYNC,
                                                    bnc_store_bdb_tgc_work,
                                                    &part),
                                  "remove expired tokens", "");
        bnc_store_bdb_leave(s);
        if (rc == BNC_STORE_OK)
            total += part.count;
    }
    free(g.ids);
    if (count != NULL)
        *count = total;
    return rc;
}
