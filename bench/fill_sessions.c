/* SPDX-License-Identifier: MIT */
/* bnc-fill-sessions: loads N live browser sessions for one user into a store,
 * so the benchmark can measure session lookups among many sessions. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "crypto/digest.h"
#include "crypto/rand.h"
#include "store/store.h"
#include "util/b64.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

/* One transaction per batch, as in bnc-fill-tokens. */
#define BNC_FILL_BATCH 1000
/* Cookie values as a login makes them: 256 random bits as 43 base64url
 * characters; the store keeps only their SHA-256. */
#define BNC_FILL_SID_BYTES 32
#define BNC_FILL_SID_LEN 43
#define BNC_FILL_ID_BYTES 8
#define BNC_FILL_CSRF_BYTES 32
/* Checkpoint and drop old logs every this many sessions. */
#define BNC_FILL_MAINTAIN_EVERY 200000

static const char bnc_fill_b32[] = "abcdefghijklmnopqrstuvwxyz234567";

struct bnc_fill_opts {
    const char *store;
    const char *user;
    uint64_t count;
    uint64_t cache;
    uint64_t print_cookies;
    uint64_t lifetime;
    uint64_t idle;
};

static void
bnc_fill_usage(FILE *f)
{
    fputs("usage: bnc-fill-sessions --store DIR --user NAME --count N\n"
          "                         [--cache-size BYTES] [--print-cookies K]\n"
          "                         [--lifetime DURATION] [--idle DURATION]\n"
          "Creates the store (with [store] cache_size BYTES in DB_CONFIG) "
          "and the user\nif missing, then adds N sessions for that user "
          "with random ids in\ntransactions of 1000 (lifetime default 30d, "
          "idle timeout default 30d: they\nstay live for a long benchmark "
          "cache). Prints the cookie values (the secret\nsession ids) of "
          "the first K sessions (default 1) on stdout, one per line;\n"
          "progress and the fill time go to stderr.\n", f);
}

static double
bnc_fill_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* "ss_" + 13 base32 characters of 64 random bits, the way public session
 * ids look (the first character carries the top 4 bits). */
static void
bnc_fill_make_id(const unsigned char rnd[BNC_FILL_ID_BYTES],
                 char id[BNC_SESSION_ID_LEN + 1])
{
    uint64_t v = 0;
    size_t i;

    for (i = 0; i < BNC_FILL_ID_BYTES; i++)
        v = (v << 8) | rnd[i];
    memcpy(id, "ss_", 3);
    for (i = 0; i < 13; i++) {
        unsigned shift = (unsigned)(60 - 5 * i);

        id[3 + i] = bnc_fill_b32[i == 0 ? (v >> 60) & 0x0f
                                        : (v >> shift) & 0x1f];
    }
    id[BNC_SESSION_ID_LEN] = '\0';
}

static int
bnc_fill_parse(int argc, char **argv, struct bnc_fill_opts *o)
{
    int i;

    memset(o, 0, sizeof(*o));
    o->print_cookies = 1;
    o->lifetime = 30 * 86400;
    o->idle = 30 * 86400;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;

        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            bnc_fill_usage(stdout);
            exit(0);
        }
        if (v == NULL) {
            fprintf(stderr, "bnc-fill-sessions: %s: missing value or "
                    "unknown option\n", a);
            return -1;
        }
        if (strcmp(a, "--store") == 0) {
            o->store = v;
        } else if (strcmp(a, "--user") == 0) {
            o->user = v;
        } else if (strcmp(a, "--count") == 0) {
            if (bnc_parse_u64(v, 100000000, &o->count) != 0) {
                fprintf(stderr, "bnc-fill-sessions: --count: expected 0.."
                        "100000000, got '%s'\n", v);
                return -1;
            }
        } else if (strcmp(a, "--cache-size") == 0) {
            if (bnc_parse_size(v, &o->cache) != 0) {
                fprintf(stderr, "bnc-fill-sessions: --cache-size: expected "
                        "bytes such as 256M, got '%s'\n", v);
                return -1;
            }
        } else if (strcmp(a, "--print-cookies") == 0) {
            if (bnc_parse_u64(v, 1000000, &o->print_cookies) != 0) {
                fprintf(stderr, "bnc-fill-sessions: --print-cookies: "
                        "expected 0..1000000, got '%s'\n", v);
                return -1;
            }
        } else if (strcmp(a, "--lifetime") == 0 || strcmp(a, "--idle") == 0) {
            uint64_t *dst = a[2] == 'l' ? &o->lifetime : &o->idle;

            if (bnc_parse_duration(v, dst) != 0 || *dst == 0) {
                fprintf(stderr, "bnc-fill-sessions: %s: expected a "
                        "duration such as 30d, got '%s'\n", a, v);
                return -1;
            }
        } else {
            fprintf(stderr, "bnc-fill-sessions: unknown option %s\n", a);
            return -1;
        }
        i++;
    }
    if (o->store == NULL || o->user == NULL || argc < 2) {
        bnc_fill_usage(stderr);
        return -1;
    }
    if (o->print_cookies > o->count)
        o->print_cookies = o->count;
    return 0;
}

/* Creates the user without a usable password unless it exists. */
static int
bnc_fill_user(struct bnc_store *s, const char *name)
{
    struct bnc_user u;
    const char *why = NULL;
    int rc;

    memset(&u, 0, sizeof(u));
    rc = bnc_store_user_get(s, name, &u);
    bnc_user_cleanup(&u);
    if (rc == BNC_STORE_OK)
        return 0;
    if (rc != BNC_STORE_NOTFOUND) {
        fprintf(stderr, "bnc-fill-sessions: cannot read user %s\n", name);
        return -1;
    }
    if (!bnc_user_name_valid(name, &why)) {
        fprintf(stderr, "bnc-fill-sessions: invalid user name '%s': %s\n",
                name, why != NULL ? why : "invalid");
        return -1;
    }
    memset(&u, 0, sizeof(u));
    u.name = bnc_strdup(name);
    u.hash = bnc_strdup("!");
    rc = bnc_store_user_add(s, &u);
    bnc_user_cleanup(&u);
    if (rc != BNC_STORE_OK && rc != BNC_STORE_EXISTS) {
        fprintf(stderr, "bnc-fill-sessions: cannot create user %s\n", name);
        return -1;
    }
    return 0;
}

/* A checkpoint, then the logs it made unnecessary are removed; reopening
 * gives a handle whose first maintenance round always checkpoints. */
static int
bnc_fill_checkpoint(struct bnc_store **s, const struct bnc_store_opts *so)
{
    struct bnc_err err;

    bnc_store_close(*s);
    bnc_err_clear(&err);
    *s = bnc_store_open(so, &err);
    if (*s == NULL) {
        fprintf(stderr, "bnc-fill-sessions: reopening the store: %s\n",
                err.set ? err.msg : "failed");
        return -1;
    }
    if (bnc_store_maintain(*s) != BNC_STORE_OK) {
        fprintf(stderr, "bnc-fill-sessions: checkpoint failed\n");
        return -1;
    }
    return 0;
}

int
main(int argc, char **argv)
{
    struct bnc_fill_opts o;
    struct bnc_store_opts so;
    struct bnc_store *s = NULL;
    struct bnc_session *batch = NULL;
    struct bnc_err err;
    unsigned char *rnd = NULL;
    char *cookies = NULL;       /* print_cookies values of SID_LEN + 1 */
    char sid[BNC_FILL_SID_LEN + 8];
    char client[] = "127.0.0.1";
    char agent[] = "bnc-fill-sessions";
    char *user = NULL;          /* shared by every record of the batch */
    uint64_t done = 0, next_maint = BNC_FILL_MAINTAIN_EVERY, k;
    size_t i, n;
    size_t per = BNC_FILL_SID_BYTES + BNC_FILL_ID_BYTES + BNC_FILL_CSRF_BYTES;
    double t0, t1;
    int64_t now;
    int tty, rc = 1;

    if (bnc_fill_parse(argc, argv, &o) != 0)
        return 2;

    memset(&so, 0, sizeof(so));
    so.path = o.store;
    so.cache_bytes = o.cache;
    so.create = 1;
    bnc_err_clear(&err);
    s = bnc_store_open(&so, &err);
    if (s == NULL) {
        fprintf(stderr, "bnc-fill-sessions: %s\n",
                err.set ? err.msg : "cannot open the store");
        goto out;
    }
    if (bnc_fill_user(s, o.user) != 0)
        goto out;

    user = bnc_strdup(o.user);
    batch = bnc_calloc(BNC_FILL_BATCH, sizeof(*batch));
    rnd = bnc_malloc(BNC_FILL_BATCH * per);
    if (o.print_cookies > 0)
        cookies = bnc_calloc((size_t)o.print_cookies, BNC_FILL_SID_LEN + 1);
    tty = isatty(STDERR_FILENO);
    now = (int64_t)time(NULL);
    t0 = bnc_fill_now();
    while (done < o.count) {
        n = o.count - done < BNC_FILL_BATCH ? (size_t)(o.count - done)
                                            : BNC_FILL_BATCH;
        if (bnc_rand_bytes(rnd, n * per) != 0) {
            fprintf(stderr, "bnc-fill-sessions: random generator failed\n");
            goto out;
        }
        for (i = 0; i < n; i++) {
            const unsigned char *r = rnd + i * per;
            struct bnc_session *t = &batch[i];

            /* Only the digest is stored; the cookie value itself is kept
             * only for the few sessions whose cookies are printed. */
            if (bnc_b64url_encode(r, BNC_FILL_SID_BYTES, sid) !=
                BNC_FILL_SID_LEN) {
                fprintf(stderr, "bnc-fill-sessions: id encoding failed\n");
                goto out;
            }
            memset(t, 0, sizeof(*t));
            bnc_fill_make_id(r + BNC_FILL_SID_BYTES, t->id);
            bnc_sha256(sid, BNC_FILL_SID_LEN, t->digest);
            memcpy(t->csrf, r + BNC_FILL_SID_BYTES + BNC_FILL_ID_BYTES,
                   BNC_FILL_CSRF_BYTES);
            t->user = user;
            t->created = now;
            t->last_seen = now;
            t->idle_timeout = (int64_t)o.idle;
            t->expires = now + (int64_t)o.lifetime;
            t->client = client;
            t->user_agent = agent;
            k = done + i;
            if (k < o.print_cookies)
                memcpy(cookies + k * (BNC_FILL_SID_LEN + 1), sid,
                       BNC_FILL_SID_LEN + 1);
        }
        if (bnc_store_session_add_many(s, batch, n, BNC_FILL_BATCH) !=
            BNC_STORE_OK) {
            fprintf(stderr, "\nbnc-fill-sessions: adding sessions %llu..%llu "
                    "failed\n", (unsigned long long)done,
                    (unsigned long long)(done + n - 1));
            goto out;
        }
        done += n;
        if (done >= next_maint && done < o.count) {
            if (bnc_fill_checkpoint(&s, &so) != 0)
                goto out;
            next_maint += BNC_FILL_MAINTAIN_EVERY;
        }
        if (tty && (done % 10000 == 0 || done == o.count))
            fprintf(stderr, "\rbnc-fill-sessions: %llu/%llu sessions, %.0f s",
                    (unsigned long long)done, (unsigned long long)o.count,
                    bnc_fill_now() - t0);
    }
    if (bnc_fill_checkpoint(&s, &so) != 0)
        goto out;
    t1 = bnc_fill_now();
    if (tty && o.count > 0)
        fputc('\n', stderr);
    fprintf(stderr, "bnc-fill-sessions: %llu sessions for %s in %.1f s "
            "(%.0f sessions/s)\n", (unsigned long long)o.count, o.user,
            t1 - t0, t1 > t0 ? (double)o.count / (t1 - t0) : 0.0);
    for (k = 0; k < o.print_cookies; k++)
        printf("%s\n", cookies + k * (BNC_FILL_SID_LEN + 1));
    if (fflush(stdout) != 0) {
        fprintf(stderr, "bnc-fill-sessions: writing the cookies: %s\n",
                strerror(errno));
        goto out;
    }
    rc = 0;
out:
    free(cookies);
    free(user);
    free(rnd);
    free(batch);
    bnc_store_close(s);
    return rc;
}
