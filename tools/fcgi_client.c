/* SPDX-License-Identifier: MIT */
/* bnc-fcgi: a FastCGI 1.0 client (no libfcgi) that sends one request, or a
 * parallel benchmark of many, to a FastCGI application such as bouncer. */

#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* FastCGI 1.0 constants (fcgi-spec.html section 8). */
#define BNC_FCGI_VERSION_1 1
#define BNC_FCGI_BEGIN_REQUEST 1
#define BNC_FCGI_END_REQUEST 3
#define BNC_FCGI_PARAMS 4
#define BNC_FCGI_STDIN 5
#define BNC_FCGI_STDOUT 6
#define BNC_FCGI_STDERR 7
#define BNC_FCGI_RESPONDER 1
#define BNC_FCGI_AUTHORIZER 2
#define BNC_FCGI_REQUEST_COMPLETE 0
#define BNC_FCGI_HEADER_LEN 8
#define BNC_FCGI_MAX_CONTENT 65535
#define BNC_FCGI_REQUEST_ID 1

/* Exit codes (part of the tool's contract with the tests). */
#define BNC_EXIT_OK 0
#define BNC_EXIT_BENCH_ERRORS 1
#define BNC_EXIT_USAGE 2
#define BNC_EXIT_CONNECT 3
#define BNC_EXIT_PROTOCOL 4

/* In bench mode only the start of STDOUT is kept: the headers are enough. */
#define BNC_BENCH_KEEP 65536

struct bnc_fcgic_buf {
    unsigned char *p;
    size_t len;
    size_t cap;
};

struct bnc_fcgic_param {
    unsigned char *name;
    size_t nlen;
    unsigned char *value;
    size_t vlen;
};

struct bnc_fcgic_opts {
    const char *connect;
    int role;
    struct bnc_fcgic_param *params;
    size_t nparams;
    const char *stdin_file;
    int no_stdin;
    double timeout;
    int bench;
    long long requests;      /* 0 = unlimited (then duration decides) */
    int concurrency;
    double duration;         /* 0 = none */
    int expect_status;
    int verbose;
};

/* Where a request's output goes. */
struct bnc_fcgic_sink {
    int stream;              /* 1: write STDOUT/STDERR to fd 1/2 as it comes */
    struct bnc_fcgic_buf out;/* otherwise: first BNC_BENCH_KEEP bytes of STDOUT */
    int app_status;
    int protocol_status;
    char err[512];           /* why the request failed */
};

/* Shared state of a benchmark. */
struct bnc_fcgic_bench {
    const struct bnc_fcgic_opts *opts;
    const struct bnc_fcgic_buf *req;
    pthread_mutex_t lock;
    long long issued;
    long long errors;
    long long done;
    struct timespec deadline;
    int have_deadline;
    int reported;            /* error messages printed so far */
};

struct bnc_fcgic_worker {
    pthread_t tid;
    struct bnc_fcgic_bench *bench;
    long long *lat;          /* microseconds, one per request */
    size_t nlat;
    size_t caplat;
};

static void bnc_fcgic_usage(FILE *f);

static void *
bnc_fcgic_xrealloc(void *p, size_t n)
{
    void *q;

    q = realloc(p, n == 0 ? 1 : n);
    if (q == NULL) {
        fputs("bnc-fcgi: out of memory\n", stderr);
        abort();
    }
    return q;
}

static void
bnc_fcgic_buf_add(struct bnc_fcgic_buf *b, const void *p, size_t n)
{
    size_t ncap;

    if (n == 0)
        return;
    if (n > SIZE_MAX / 2 - b->len) {
        fputs("bnc-fcgi: buffer too large\n", stderr);
        abort();
    }
    if (b->len + n > b->cap) {
        ncap = b->cap == 0 ? 256 : b->cap;
        while (ncap < b->len + n)
            ncap *= 2;
        b->p = bnc_fcgic_xrealloc(b->p, ncap);
        b->cap = ncap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

/* Appends one stream's bytes as records of at most 65535 bytes each, padded
 * to a multiple of 8 as the spec recommends, then the empty record that ends
 * the stream when end is set. */
static void
bnc_fcgic_add_stream(struct bnc_fcgic_buf *b, int type, const unsigned char *p,
                     size_t n, int end)
{
    static const unsigned char zeros[8];
    unsigned char h[BNC_FCGI_HEADER_LEN];
    size_t chunk, pad;

    while (n > 0 || end) {
        chunk = n > BNC_FCGI_MAX_CONTENT ? BNC_FCGI_MAX_CONTENT : n;
        pad = (8 - chunk % 8) % 8;
        h[0] = BNC_FCGI_VERSION_1;
        h[1] = (unsigned char)type;
        h[2] = (unsigned char)(BNC_FCGI_REQUEST_ID >> 8);
        h[3] = (unsigned char)(BNC_FCGI_REQUEST_ID & 0xff);
        h[4] = (unsigned char)(chunk >> 8);
        h[5] = (unsigned char)(chunk & 0xff);
        h[6] = (unsigned char)pad;
        h[7] = 0;
        bnc_fcgic_buf_add(b, h, sizeof(h));
        bnc_fcgic_buf_add(b, p, chunk);
        bnc_fcgic_buf_add(b, zeros, pad);
        p += chunk;
        n -= chunk;
        if (chunk == 0)
            break;          /* that was the terminating empty record */
    }
}

/* Name-value length: 1 byte below 128, else 4 bytes with the top bit set. */
static int
bnc_fcgic_add_len(struct bnc_fcgic_buf *b, size_t n)
{
    unsigned char l[4];

    if (n < 128) {
        l[0] = (unsigned char)n;
        bnc_fcgic_buf_add(b, l, 1);
        return 0;
    }
    if (n > 0x7fffffffUL)
        return -1;
    l[0] = (unsigned char)(((n >> 24) & 0x7f) | 0x80);
    l[1] = (unsigned char)((n >> 16) & 0xff);
    l[2] = (unsigned char)((n >> 8) & 0xff);
    l[3] = (unsigned char)(n & 0xff);
    bnc_fcgic_buf_add(b, l, 4);
    return 0;
}

/* The whole request as bytes: BEGIN_REQUEST, PARAMS..., empty PARAMS,
 * STDIN..., empty STDIN. Built once, sent on every connection. */
static int
bnc_fcgic_build(const struct bnc_fcgic_opts *o, struct bnc_fcgic_buf *req)
{
    struct bnc_fcgic_buf pv = {0};
    struct bnc_fcgic_buf in = {0};
    unsigned char begin[BNC_FCGI_HEADER_LEN + 8];
    unsigned char chunk[8192];
    FILE *f = NULL;
    size_t i, n;
    int rc = -1;

    memset(begin, 0, sizeof(begin));
    begin[0] = BNC_FCGI_VERSION_1;
    begin[1] = BNC_FCGI_BEGIN_REQUEST;
    begin[2] = (unsigned char)(BNC_FCGI_REQUEST_ID >> 8);
    begin[3] = (unsigned char)(BNC_FCGI_REQUEST_ID & 0xff);
    begin[5] = 8;
    begin[8] = (unsigned char)((o->role >> 8) & 0xff);
    begin[9] = (unsigned char)(o->role & 0xff);
    begin[10] = 0;          /* flags: no FCGI_KEEP_CONN, as the servers do */
    bnc_fcgic_buf_add(req, begin, sizeof(begin));

    for (i = 0; i < o->nparams; i++) {
        if (bnc_fcgic_add_len(&pv, o->params[i].nlen) != 0 ||
            bnc_fcgic_add_len(&pv, o->params[i].vlen) != 0) {
            fputs("bnc-fcgi: parameter too long\n", stderr);
            goto out;
        }
        bnc_fcgic_buf_add(&pv, o->params[i].name, o->params[i].nlen);
        bnc_fcgic_buf_add(&pv, o->params[i].value, o->params[i].vlen);
    }
    bnc_fcgic_add_stream(req, BNC_FCGI_PARAMS, pv.p, pv.len, 1);

    if (o->stdin_file != NULL) {
        f = fopen(o->stdin_file, "rb");
        if (f == NULL) {
            fprintf(stderr, "bnc-fcgi: %s: %s\n", o->stdin_file,
                    strerror(errno));
            goto out;
        }
        while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
            bnc_fcgic_buf_add(&in, chunk, n);
        if (ferror(f)) {
            fprintf(stderr, "bnc-fcgi: %s: read error\n", o->stdin_file);
            goto out;
        }
    }
    if (!o->no_stdin)
        bnc_fcgic_add_stream(req, BNC_FCGI_STDIN, in.p, in.len, 1);
    rc = 0;
out:
    if (f != NULL)
        fclose(f);
    free(pv.p);
    free(in.p);
    return rc;
}

static long long
bnc_fcgic_now_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000LL + ts.tv_nsec / 1000;
}

/* Milliseconds left until deadline_us (0 when passed). */
static int
bnc_fcgic_left_ms(long long deadline_us)
{
    long long left = deadline_us - bnc_fcgic_now_us();

    if (left <= 0)
        return 0;
    if (left / 1000 > INT_MAX - 1)
        return INT_MAX - 1;
    return (int)((left + 999) / 1000);
}

static int
bnc_fcgic_set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);

    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return 0;
}

/* Connects to "unix:/path" or "HOST:PORT" ("[v6]:PORT") before the deadline.
 * Returns a non-blocking socket or -1 with sink->err set. */
static int
bnc_fcgic_connect(const char *addr, long long deadline_us,
                  struct bnc_fcgic_sink *sink)
{
    struct sockaddr_un sun;
    struct addrinfo hints, *res = NULL, *ai;
    struct pollfd pfd;
    struct timeval tv;
    char host[256];
    const char *colon, *port;
    size_t hlen;
    socklen_t elen;
    int fd = -1, err = 0, left, gai;

    if (strncmp(addr, "unix:", 5) == 0) {
        if (strlen(addr + 5) >= sizeof(sun.sun_path) || addr[5] == '\0') {
            snprintf(sink->err, sizeof(sink->err), "bad unix socket path");
            goto fail;
        }
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        memcpy(sun.sun_path, addr + 5, strlen(addr + 5));
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            goto fail_errno;
        /* A blocking connect on a Unix socket waits (up to SO_SNDTIMEO) for
         * room in a full backlog, where a non-blocking one fails with
         * EAGAIN: benchmarks with many connections need the former. */
        left = bnc_fcgic_left_ms(deadline_us);
        if (left == 0) {
            errno = ETIMEDOUT;
            goto fail_errno;
        }
        tv.tv_sec = left / 1000;
        tv.tv_usec = (left % 1000) * 1000;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
            if (errno == EINPROGRESS || errno == EAGAIN)
                errno = ETIMEDOUT;
            goto fail_errno;
        }
        tv.tv_sec = 0;
        tv.tv_usec = 0;
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
        if (bnc_fcgic_set_nonblock(fd) != 0)
            goto fail_errno;
        return fd;
    }

    colon = strrchr(addr, ':');
    if (colon == NULL || colon[1] == '\0') {
        snprintf(sink->err, sizeof(sink->err),
                 "address must be unix:PATH or HOST:PORT");
        goto fail;
    }
    port = colon + 1;
    hlen = (size_t)(colon - addr);
    if (hlen >= 2 && addr[0] == '[' && addr[hlen - 1] == ']') {
        addr++;
        hlen -= 2;
    }
    if (hlen == 0 || hlen >= sizeof(host)) {
        snprintf(sink->err, sizeof(sink->err), "bad host in address");
        goto fail;
    }
    memcpy(host, addr, hlen);
    host[hlen] = '\0';
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        snprintf(sink->err, sizeof(sink->err), "%s: %s", host,
                 gai_strerror(gai));
        goto fail;
    }
    for (ai = res; ai != NULL; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
                    ai->ai_protocol);
        if (fd < 0) {
            err = errno;
            continue;
        }
        if (bnc_fcgic_set_nonblock(fd) != 0) {
            err = errno;
            goto next;
        }
        if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
            break;
        if (errno != EINPROGRESS) {
            err = errno;
            goto next;
        }
        pfd.fd = fd;
        pfd.events = POLLOUT;
        pfd.revents = 0;
        left = bnc_fcgic_left_ms(deadline_us);
        if (left == 0 || poll(&pfd, 1, left) <= 0) {
            err = ETIMEDOUT;
            goto next;
        }
        elen = sizeof(err);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0 &&
            err == 0)
            break;
next:
        close(fd);
        fd = -1;
    }
    freeaddrinfo(res);
    if (fd >= 0)
        return fd;
    errno = err;
fail_errno:
    snprintf(sink->err, sizeof(sink->err), "connect %s: %s", addr,
             strerror(errno));
fail:
    if (fd >= 0)
        close(fd);
    return -1;
}

static int
bnc_fcgic_write_all(int fd, const unsigned char *p, size_t n)
{
    ssize_t w;

    while (n > 0) {
        w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Handles one complete record. Returns 1 at END_REQUEST, 0 to go on, -1 on
 * a protocol error (sink->err set). */
static int
bnc_fcgic_record(struct bnc_fcgic_sink *sink, int type, unsigned id,
                 const unsigned char *c, size_t clen, int *out_ended,
                 int *err_ended)
{
    size_t keep;

    if (id != BNC_FCGI_REQUEST_ID) {
        snprintf(sink->err, sizeof(sink->err),
                 "record type %d for request id %u (expected %d)", type, id,
                 BNC_FCGI_REQUEST_ID);
        return -1;
    }
    switch (type) {
    case BNC_FCGI_STDOUT:
        if (*out_ended && clen > 0) {
            snprintf(sink->err, sizeof(sink->err),
                     "FCGI_STDOUT data after the end of the stream");
            return -1;
        }
        if (clen == 0) {
            *out_ended = 1;
            return 0;
        }
        if (sink->stream) {
            if (bnc_fcgic_write_all(1, c, clen) != 0) {
                snprintf(sink->err, sizeof(sink->err), "stdout: %s",
                         strerror(errno));
                return -1;
            }
        } else if (sink->out.len < BNC_BENCH_KEEP) {
            keep = BNC_BENCH_KEEP - sink->out.len;
            bnc_fcgic_buf_add(&sink->out, c, clen < keep ? clen : keep);
        }
        return 0;
    case BNC_FCGI_STDERR:
        if (*err_ended && clen > 0) {
            snprintf(sink->err, sizeof(sink->err),
                     "FCGI_STDERR data after the end of the stream");
            return -1;
        }
        if (clen == 0)
            *err_ended = 1;
        else if (sink->stream)
            (void)bnc_fcgic_write_all(2, c, clen);
        return 0;
    case BNC_FCGI_END_REQUEST:
        if (clen != 8) {
            snprintf(sink->err, sizeof(sink->err),
                     "FCGI_END_REQUEST with %zu content bytes (expected 8)",
                     clen);
            return -1;
        }
        sink->app_status = (int)(((uint32_t)c[0] << 24) |
                                 ((uint32_t)c[1] << 16) |
                                 ((uint32_t)c[2] << 8) | c[3]);
        sink->protocol_status = c[4];
        return 1;
    default:
        snprintf(sink->err, sizeof(sink->err),
                 "unexpected record type %d", type);
        return -1;
    }
}

/* Runs one request on a fresh connection. Writing and reading share one poll
 * loop, so an application that answers (or closes) before reading all of a
 * large request is still heard. Returns BNC_EXIT_OK, BNC_EXIT_CONNECT or
 * BNC_EXIT_PROTOCOL (sink->err set). */
static int
bnc_fcgic_request(const char *addr, const struct bnc_fcgic_buf *req,
                  double timeout, struct bnc_fcgic_sink *sink)
{
    static const char *const pnames[] = {"REQUEST_COMPLETE", "CANT_MPX_CONN",
                                         "OVERLOADED", "UNKNOWN_ROLE"};
    struct bnc_fcgic_buf in = {0};
    unsigned char rbuf[16384];
    struct pollfd pfd;
    long long deadline;
    size_t sent = 0, pos, clen, plen, rec;
    ssize_t n;
    unsigned id;
    int fd, rc = BNC_EXIT_PROTOCOL, writing = 1, left, r, type;
    int out_ended = 0, err_ended = 0;

    deadline = bnc_fcgic_now_us() + (long long)(timeout * 1e6);
    fd = bnc_fcgic_connect(addr, deadline, sink);
    if (fd < 0)
        return BNC_EXIT_CONNECT;

    for (;;) {
        left = bnc_fcgic_left_ms(deadline);
        if (left == 0) {
            snprintf(sink->err, sizeof(sink->err),
                     "timeout after %.3gs waiting for FCGI_END_REQUEST",
                     timeout);
            goto out;
        }
        pfd.fd = fd;
        pfd.events = POLLIN | (writing ? POLLOUT : 0);
        pfd.revents = 0;
        r = poll(&pfd, 1, left);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            snprintf(sink->err, sizeof(sink->err), "poll: %s",
                     strerror(errno));
            goto out;
        }
        if (r == 0)
            continue;
        if (writing && (pfd.revents & (POLLOUT | POLLERR | POLLHUP))) {
            n = send(fd, req->p + sent, req->len - sent, MSG_NOSIGNAL);
            if (n < 0 && errno != EAGAIN && errno != EINTR) {
                /* The application stopped reading: keep listening, its
                 * answer (or its EOF) says what happened. */
                writing = 0;
                shutdown(fd, SHUT_WR);
            } else if (n > 0) {
                sent += (size_t)n;
                if (sent == req->len)
                    writing = 0;
            }
        }
        if (!(pfd.revents & (POLLIN | POLLERR | POLLHUP)))
            continue;
        n = recv(fd, rbuf, sizeof(rbuf), 0);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR)
                continue;
            snprintf(sink->err, sizeof(sink->err),
                     "read: %s (before FCGI_END_REQUEST)", strerror(errno));
            goto out;
        }
        if (n == 0) {
            snprintf(sink->err, sizeof(sink->err),
                     "connection closed before FCGI_END_REQUEST%s",
                     in.len > 0 ? " (inside a record)" : "");
            goto out;
        }
        bnc_fcgic_buf_add(&in, rbuf, (size_t)n);

        pos = 0;
        while (in.len - pos >= BNC_FCGI_HEADER_LEN) {
            const unsigned char *h = in.p + pos;

            if (h[0] != BNC_FCGI_VERSION_1) {
                snprintf(sink->err, sizeof(sink->err),
                         "record with version %u (expected 1)", h[0]);
                goto out;
            }
            type = h[1];
            id = ((unsigned)h[2] << 8) | h[3];
            clen = ((size_t)h[4] << 8) | h[5];
            plen = h[6];
            rec = BNC_FCGI_HEADER_LEN + clen + plen;
            if (in.len - pos < rec)
                break;
            r = bnc_fcgic_record(sink, type, id, h + BNC_FCGI_HEADER_LEN,
                                 clen, &out_ended, &err_ended);
            if (r < 0)
                goto out;
            pos += rec;
            if (r == 1) {
                if (sink->protocol_status != BNC_FCGI_REQUEST_COMPLETE) {
                    snprintf(sink->err, sizeof(sink->err),
                             "FCGI_END_REQUEST protocolStatus %d (%s)",
                             sink->protocol_status,
                             sink->protocol_status < 4
                                 ? pnames[sink->protocol_status]
                                 : "unknown");
                    goto out;
                }
                rc = BNC_EXIT_OK;
                goto out;
            }
        }
        if (pos > 0) {
            memmove(in.p, in.p + pos, in.len - pos);
            in.len -= pos;
        }
    }
out:
    close(fd);
    free(in.p);
    return rc;
}

/* Status of a CGI-style response: "Status: NNN" among the headers, 200 when
 * absent; -1 when the header block is not terminated. */
static int
bnc_fcgic_status(const struct bnc_fcgic_buf *out)
{
    const char *p = (const char *)out->p;
    size_t n = out->len, i = 0, eol, j;
    int st;

    while (i < n) {
        eol = i;
        while (eol < n && p[eol] != '\n')
            eol++;
        if (eol == n)
            return -1;
        j = eol;
        if (j > i && p[j - 1] == '\r')
            j--;
        if (j == i)
            return 200;     /* blank line: end of headers, no Status */
        if (j - i > 7 && strncasecmp(p + i, "Status:", 7) == 0) {
            i += 7;
            while (i < j && (p[i] == ' ' || p[i] == '\t'))
                i++;
            if (j - i < 3 || !isdigit((unsigned char)p[i]) ||
                !isdigit((unsigned char)p[i + 1]) ||
                !isdigit((unsigned char)p[i + 2]))
                return -1;
            st = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
            return st;
        }
        i = eol + 1;
    }
    return -1;
}

static int
bnc_fcgic_cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;

    return x < y ? -1 : x > y;
}

static void *
bnc_fcgic_worker_run(void *arg)
{
    struct bnc_fcgic_worker *w = arg;
    struct bnc_fcgic_bench *b = w->bench;
    const struct bnc_fcgic_opts *o = b->opts;
    struct bnc_fcgic_sink sink;
    struct timespec now;
    long long t0, t1;
    int rc, st, bad;

    memset(&sink, 0, sizeof(sink));
    for (;;) {
        pthread_mutex_lock(&b->lock);
        if (o->requests > 0 && b->issued >= o->requests) {
            pthread_mutex_unlock(&b->lock);
            break;
        }
        if (b->have_deadline) {
            clock_gettime(CLOCK_MONOTONIC, &now);
            if (now.tv_sec > b->deadline.tv_sec ||
                (now.tv_sec == b->deadline.tv_sec &&
                 now.tv_nsec >= b->deadline.tv_nsec)) {
                pthread_mutex_unlock(&b->lock);
                break;
            }
        }
        b->issued++;
        pthread_mutex_unlock(&b->lock);

        sink.out.len = 0;
        sink.err[0] = '\0';
        t0 = bnc_fcgic_now_us();
        rc = bnc_fcgic_request(o->connect, b->req, o->timeout, &sink);
        t1 = bnc_fcgic_now_us();
        bad = 0;
        if (rc != BNC_EXIT_OK) {
            bad = 1;
        } else {
            st = bnc_fcgic_status(&sink.out);
            if (st != o->expect_status) {
                bad = 1;
                if (st < 0)
                    snprintf(sink.err, sizeof(sink.err),
                             "response without a complete header block");
                else
                    snprintf(sink.err, sizeof(sink.err),
                             "status %d (expected %d)", st, o->expect_status);
            }
        }
        if (w->nlat == w->caplat) {
            w->caplat = w->caplat == 0 ? 1024 : w->caplat * 2;
            w->lat = bnc_fcgic_xrealloc(w->lat, w->caplat * sizeof(*w->lat));
        }
        w->lat[w->nlat++] = t1 - t0;

        pthread_mutex_lock(&b->lock);
        b->done++;
        if (bad) {
            b->errors++;
            if (b->reported < 5) {
                b->reported++;
                fprintf(stderr, "bnc-fcgi: request failed: %s\n", sink.err);
            }
        }
        pthread_mutex_unlock(&b->lock);
    }
    free(sink.out.p);
    return NULL;
}

static int
bnc_fcgic_bench_run(const struct bnc_fcgic_opts *o,
                    const struct bnc_fcgic_buf *req)
{
    struct bnc_fcgic_bench b;
    struct bnc_fcgic_worker *w;
    long long *all = NULL, t0, t1;
    size_t n = 0, i, k;
    int nthreads, started = 0, rc = BNC_EXIT_BENCH_ERRORS;
    double secs;

    memset(&b, 0, sizeof(b));
    b.opts = o;
    b.req = req;
    pthread_mutex_init(&b.lock, NULL);
    nthreads = o->concurrency;
    if (o->requests > 0 && o->requests < nthreads)
        nthreads = (int)o->requests;
    w = calloc((size_t)nthreads, sizeof(*w));
    if (w == NULL) {
        fputs("bnc-fcgi: out of memory\n", stderr);
        return BNC_EXIT_USAGE;
    }
    t0 = bnc_fcgic_now_us();
    if (o->duration > 0) {
        clock_gettime(CLOCK_MONOTONIC, &b.deadline);
        b.deadline.tv_sec += (time_t)o->duration;
        b.deadline.tv_nsec +=
            (long)((o->duration - (double)(time_t)o->duration) * 1e9);
        if (b.deadline.tv_nsec >= 1000000000L) {
            b.deadline.tv_sec++;
            b.deadline.tv_nsec -= 1000000000L;
        }
        b.have_deadline = 1;
    }
    for (i = 0; i < (size_t)nthreads; i++) {
        w[i].bench = &b;
        if (pthread_create(&w[i].tid, NULL, bnc_fcgic_worker_run, &w[i]) != 0) {
            fprintf(stderr, "bnc-fcgi: pthread_create: %s\n", strerror(errno));
            break;
        }
        started++;
    }
    for (i = 0; i < (size_t)started; i++)
        pthread_join(w[i].tid, NULL);
    t1 = bnc_fcgic_now_us();

    for (i = 0; i < (size_t)started; i++)
        n += w[i].nlat;
    all = bnc_fcgic_xrealloc(NULL, (n == 0 ? 1 : n) * sizeof(*all));
    for (i = 0, k = 0; i < (size_t)started; i++) {
        if (w[i].nlat > 0)
            memcpy(all + k, w[i].lat, w[i].nlat * sizeof(*all));
        k += w[i].nlat;
        free(w[i].lat);
    }
    qsort(all, n, sizeof(*all), bnc_fcgic_cmp_ll);
    secs = (double)(t1 - t0) / 1e6;
    printf("requests=%lld errors=%lld seconds=%.3f rate=%.1f/s "
           "p50_us=%lld p90_us=%lld p99_us=%lld\n",
           b.done, b.errors, secs, secs > 0 ? (double)b.done / secs : 0.0,
           n ? all[(n - 1) * 50 / 100] : 0, n ? all[(n - 1) * 90 / 100] : 0,
           n ? all[(n - 1) * 99 / 100] : 0);
    fflush(stdout);
    if (b.errors == 0 && b.done > 0 && started == nthreads)
        rc = BNC_EXIT_OK;
    free(all);
    free(w);
    pthread_mutex_destroy(&b.lock);
    return rc;
}

static int
bnc_fcgic_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes \xNN and \\ in p[0..n) into a new buffer. -1 on a bad escape. */
static int
bnc_fcgic_unescape(const unsigned char *p, size_t n, unsigned char **outp,
                   size_t *outn)
{
    unsigned char *o = bnc_fcgic_xrealloc(NULL, n + 1);
    size_t i, k = 0;
    int hi, lo;

    for (i = 0; i < n; i++) {
        if (p[i] != '\\') {
            o[k++] = p[i];
            continue;
        }
        if (i + 1 < n && p[i + 1] == '\\') {
            o[k++] = '\\';
            i++;
            continue;
        }
        if (i + 3 < n && p[i + 1] == 'x') {
            hi = bnc_fcgic_hex(p[i + 2]);
            lo = bnc_fcgic_hex(p[i + 3]);
            if (hi >= 0 && lo >= 0) {
                o[k++] = (unsigned char)(hi * 16 + lo);
                i += 3;
                continue;
            }
        }
        free(o);
        return -1;
    }
    o[k] = '\0';
    *outp = o;
    *outn = k;
    return 0;
}

static void
bnc_fcgic_add_param(struct bnc_fcgic_opts *o, const unsigned char *name,
                    size_t nlen, const unsigned char *value, size_t vlen,
                    int escaped, int *bad)
{
    struct bnc_fcgic_param *p;

    o->params = bnc_fcgic_xrealloc(o->params,
                                   (o->nparams + 1) * sizeof(*o->params));
    p = &o->params[o->nparams];
    if (escaped) {
        if (bnc_fcgic_unescape(name, nlen, &p->name, &p->nlen) != 0)
            goto bad;
        if (bnc_fcgic_unescape(value, vlen, &p->value, &p->vlen) != 0) {
            free(p->name);
            goto bad;
        }
    } else {
        p->name = bnc_fcgic_xrealloc(NULL, nlen + 1);
        memcpy(p->name, name, nlen);
        p->nlen = nlen;
        p->value = bnc_fcgic_xrealloc(NULL, vlen + 1);
        memcpy(p->value, value, vlen);
        p->vlen = vlen;
    }
    o->nparams++;
    return;
bad:
    *bad = 1;
}

/* NAME=VALUE lines; empty lines and lines starting with '#' are skipped;
 * \xNN and \\ escapes allowed in names and values (for control bytes, NUL,
 * non-UTF-8 and newlines). */
static int
bnc_fcgic_params_file(struct bnc_fcgic_opts *o, const char *path)
{
    struct bnc_fcgic_buf f = {0};
    unsigned char chunk[8192];
    const unsigned char *line, *eq, *end, *stop;
    FILE *fp;
    size_t n, lineno = 0;
    int rc = -1, bad = 0;

    fp = fopen(path, "rb");
    if (fp == NULL) {
        fprintf(stderr, "bnc-fcgi: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        bnc_fcgic_buf_add(&f, chunk, n);
    if (ferror(fp)) {
        fprintf(stderr, "bnc-fcgi: %s: read error\n", path);
        goto out;
    }
    line = f.p;
    stop = f.p + f.len;
    while (line != NULL && line < stop) {
        lineno++;
        end = memchr(line, '\n', (size_t)(stop - line));
        if (end == NULL)
            end = stop;
        if (end > line && line[0] != '#') {
            eq = memchr(line, '=', (size_t)(end - line));
            if (eq == NULL) {
                fprintf(stderr, "bnc-fcgi: %s:%zu: expected NAME=VALUE\n",
                        path, lineno);
                goto out;
            }
            bnc_fcgic_add_param(o, line, (size_t)(eq - line), eq + 1,
                                (size_t)(end - eq - 1), 1, &bad);
            if (bad) {
                fprintf(stderr, "bnc-fcgi: %s:%zu: bad escape (use \\xNN "
                        "or \\\\)\n", path, lineno);
                goto out;
            }
        }
        line = end + 1;
    }
    rc = 0;
out:
    fclose(fp);
    free(f.p);
    return rc;
}

static int
bnc_fcgic_parse_num(const char *s, double min, double max, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

static void
bnc_fcgic_usage(FILE *f)
{
    fputs("usage: bnc-fcgi [--connect unix:PATH|HOST:PORT] "
          "[--role authorizer|responder|N]\n"
          "                [-p NAME=VALUE]... [--params-file FILE] "
          "[--stdin FILE] [--no-stdin]\n"
          "                [--timeout SEC] [-v]\n"
          "       bnc-fcgi --bench --connect ADDR [...] [--requests N] "
          "[--concurrency C]\n"
          "                [--duration SEC] [--expect-status CODE]\n"
          "Sends one FastCGI request and copies the application's STDOUT to "
          "stdout,\nSTDERR to stderr. Exit 0: FCGI_END_REQUEST received; 3: "
          "cannot connect;\n4: protocol error or timeout; 2: usage. "
          "--bench prints one summary line\nand exits 1 if any response "
          "failed or had another status.\n", f);
}

int
main(int argc, char **argv)
{
    struct bnc_fcgic_opts o;
    struct bnc_fcgic_buf req = {0};
    struct bnc_fcgic_sink sink;
    const char *arg, *eq;
    double d;
    size_t i;
    int rc = BNC_EXIT_USAGE, bad = 0, ai;

    memset(&o, 0, sizeof(o));
    o.connect = NULL;
    o.role = BNC_FCGI_AUTHORIZER;
    o.timeout = 10;
    o.concurrency = 1;
    o.expect_status = 200;
    signal(SIGPIPE, SIG_IGN);

    for (ai = 1; ai < argc; ai++) {
        arg = argv[ai];
#define BNC_FCGIC_NEED()                                                     \
    do {                                                                     \
        if (ai + 1 >= argc) {                                                \
            fprintf(stderr, "bnc-fcgi: %s needs a value\n", arg);            \
            goto out;                                                        \
        }                                                                    \
    } while (0)
        if (strcmp(arg, "--connect") == 0 || strcmp(arg, "-c") == 0) {
            BNC_FCGIC_NEED();
            o.connect = argv[++ai];
        } else if (strcmp(arg, "--role") == 0) {
            BNC_FCGIC_NEED();
            arg = argv[++ai];
            if (strcmp(arg, "authorizer") == 0) {
                o.role = BNC_FCGI_AUTHORIZER;
            } else if (strcmp(arg, "responder") == 0) {
                o.role = BNC_FCGI_RESPONDER;
            } else if (strcmp(arg, "filter") == 0) {
                o.role = 3;
            } else if (bnc_fcgic_parse_num(arg, 0, 65535, &d) == 0 &&
                       d == (double)(int)d) {
                o.role = (int)d;  /* any number: to test unknown roles */
            } else {
                fprintf(stderr, "bnc-fcgi: bad role: %s\n", arg);
                goto out;
            }
        } else if (strcmp(arg, "-p") == 0 || strcmp(arg, "--param") == 0) {
            BNC_FCGIC_NEED();
            arg = argv[++ai];
            eq = strchr(arg, '=');
            if (eq == NULL || eq == arg) {
                fprintf(stderr, "bnc-fcgi: -p wants NAME=VALUE: %s\n", arg);
                goto out;
            }
            bnc_fcgic_add_param(&o, (const unsigned char *)arg,
                                (size_t)(eq - arg),
                                (const unsigned char *)eq + 1, strlen(eq + 1),
                                0, &bad);
        } else if (strcmp(arg, "--params-file") == 0) {
            BNC_FCGIC_NEED();
            if (bnc_fcgic_params_file(&o, argv[++ai]) != 0)
                goto out;
        } else if (strcmp(arg, "--stdin") == 0) {
            BNC_FCGIC_NEED();
            o.stdin_file = argv[++ai];
        } else if (strcmp(arg, "--no-stdin") == 0) {
            o.no_stdin = 1;
        } else if (strcmp(arg, "--timeout") == 0) {
            BNC_FCGIC_NEED();
            if (bnc_fcgic_parse_num(argv[++ai], 0.001, 86400, &o.timeout)) {
                fprintf(stderr, "bnc-fcgi: bad --timeout\n");
                goto out;
            }
        } else if (strcmp(arg, "--bench") == 0) {
            o.bench = 1;
        } else if (strcmp(arg, "--requests") == 0 || strcmp(arg, "-n") == 0) {
            BNC_FCGIC_NEED();
            if (bnc_fcgic_parse_num(argv[++ai], 1, 1e12, &d) != 0) {
                fprintf(stderr, "bnc-fcgi: bad --requests\n");
                goto out;
            }
            o.requests = (long long)d;
        } else if (strcmp(arg, "--concurrency") == 0 ||
                   strcmp(arg, "-C") == 0) {
            BNC_FCGIC_NEED();
            if (bnc_fcgic_parse_num(argv[++ai], 1, 4096, &d) != 0) {
                fprintf(stderr, "bnc-fcgi: bad --concurrency (1..4096)\n");
                goto out;
            }
            o.concurrency = (int)d;
        } else if (strcmp(arg, "--duration") == 0) {
            BNC_FCGIC_NEED();
            if (bnc_fcgic_parse_num(argv[++ai], 0.001, 86400, &o.duration)) {
                fprintf(stderr, "bnc-fcgi: bad --duration\n");
                goto out;
            }
        } else if (strcmp(arg, "--expect-status") == 0) {
            BNC_FCGIC_NEED();
            if (bnc_fcgic_parse_num(argv[++ai], 100, 999, &d) != 0) {
                fprintf(stderr, "bnc-fcgi: bad --expect-status\n");
                goto out;
            }
            o.expect_status = (int)d;
        } else if (strcmp(arg, "-v") == 0 || strcmp(arg, "--verbose") == 0) {
            o.verbose = 1;
        } else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
            bnc_fcgic_usage(stdout);
            rc = BNC_EXIT_OK;
            goto out;
        } else {
            fprintf(stderr, "bnc-fcgi: unknown option: %s\n", arg);
            bnc_fcgic_usage(stderr);
            goto out;
        }
#undef BNC_FCGIC_NEED
    }
    if (o.connect == NULL) {
        fprintf(stderr, "bnc-fcgi: --connect is required\n");
        goto out;
    }
    if (o.bench && o.requests == 0 && o.duration == 0)
        o.requests = 1000;
    if (bnc_fcgic_build(&o, &req) != 0)
        goto out;

    if (o.bench) {
        rc = bnc_fcgic_bench_run(&o, &req);
        goto out;
    }
    memset(&sink, 0, sizeof(sink));
    sink.stream = 1;
    rc = bnc_fcgic_request(o.connect, &req, o.timeout, &sink);
    if (rc != BNC_EXIT_OK)
        fprintf(stderr, "bnc-fcgi: %s\n", sink.err);
    else if (o.verbose)
        fprintf(stderr, "bnc-fcgi: FCGI_END_REQUEST appStatus=%d "
                "protocolStatus=%d\n", sink.app_status, sink.protocol_status);
out:
    for (i = 0; i < o.nparams; i++) {
        free(o.params[i].name);
        free(o.params[i].value);
    }
    free(o.params);
    free(req.p);
    return rc;
}
