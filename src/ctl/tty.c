/* SPDX-License-Identifier: MIT */
/* Password input for bouncerctl: a no-echo prompt on /dev/tty, or one line
 * of standard input; buffers are the caller's and are wiped. Also the
 * progress bar of long imports. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <termios.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "ctl/ctl.h"

/* Reads one byte at a time with read(2): stdio would keep a copy of the
 * secret in its buffer, out of our reach for wiping. */
static int
bnc_ctl_pw_readline(int fd, char *buf, size_t size, size_t *len, int *eof,
                    struct bnc_err *err, volatile sig_atomic_t *sig)
{
    size_t n = 0;
    int too_long = 0, got = 0;
    ssize_t r;
    char c = 0;

    *eof = 0;
    for (;;) {
        r = read(fd, &c, 1);
        if (r < 0 && errno == EINTR) {
            if (sig != NULL && *sig != 0)
                break;
            continue;
        }
        if (r < 0) {
            bnc_err_set(err, "cannot read the password: %s",
                        strerror(errno));
            goto fail;
        }
        if (r == 0) {
            *eof = !got;
            break;
        }
        got = 1;
        if (c == '\n')
            break;
        if (c == '\0') {
            bnc_err_set(err, "the password contains a NUL byte");
            goto fail;
        }
        /* Keep reading to the end of the line so the rest of an overlong
         * password does not become the next answer. */
        if (n >= BNC_CTL_PW_MAX || n + 1 >= size) {
            too_long = 1;
            continue;
        }
        buf[n++] = c;
    }
    c = 0;
    /* A file written on Windows ends its line with CRLF: the CR is not part
     * of a password anyone could type. */
    if (!too_long && n > 0 && buf[n - 1] == '\r')
        buf[--n] = '\0';
    if (too_long) {
        bnc_err_set(err, "the password is longer than %d bytes",
                    BNC_CTL_PW_MAX);
        goto fail;
    }
    buf[n] = '\0';
    *len = n;
    return 0;
fail:
    bnc_memzero(&c, sizeof(c));
    bnc_memzero(buf, size);
    *len = 0;
    return -1;
}

int
bnc_ctl_pw_stdin(char *buf, size_t size, size_t *len, struct bnc_err *err)
{
    int eof;

    if (bnc_ctl_pw_readline(STDIN_FILENO, buf, size, len, &eof, err,
                            NULL) != 0)
        return -1;
    if (eof) {
        bnc_err_set(err, "no password on standard input");
        return -1;
    }
    return 0;
}

static volatile sig_atomic_t bnc_ctl_tty_sig;

static void
bnc_ctl_tty_onsig(int sig)
{
    bnc_ctl_tty_sig = sig;
}

int
bnc_ctl_pw_tty(const char *prompt, char *buf, size_t size, size_t *len,
               struct bnc_err *err)
{
    /* Signals that would leave the terminal without echo if they killed
     * us mid-prompt: catch, restore the terminal, then re-raise. */
    static const int sigs[] = {SIGINT, SIGHUP, SIGQUIT, SIGTERM};
    struct sigaction sa, old[sizeof(sigs) / sizeof(sigs[0])];
    struct termios saved, t;
    size_t i;
    int fd, rc = -1, restore = 0, eof = 0, sig;

    *len = 0;
    fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
    if (fd < 0) {
        bnc_err_set(err, "cannot open /dev/tty to prompt for the password "
                    "(%s); use --password-stdin", strerror(errno));
        return -1;
    }
    bnc_ctl_tty_sig = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = bnc_ctl_tty_onsig;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: read() must return EINTR */
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, &old[i]);

    if (tcgetattr(fd, &saved) == 0) {
        t = saved;
        t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
        t.c_lflag |= ICANON;
        if (tcsetattr(fd, TCSAFLUSH, &t) == 0)
            restore = 1;
    }
    if (!restore) {
        /* Never read a secret with echo on. */
        bnc_err_set(err, "cannot turn off echo on /dev/tty (%s); use "
                    "--password-stdin", strerror(errno));
        goto out;
    }
    if (write(fd, prompt, strlen(prompt)) < 0) {
        bnc_err_set(err, "cannot write to /dev/tty: %s", strerror(errno));
        goto out;
    }
    if (bnc_ctl_pw_readline(fd, buf, size, len, &eof, err,
                            &bnc_ctl_tty_sig) != 0)
        goto out;
    if (bnc_ctl_tty_sig != 0) {
        bnc_memzero(buf, size);
        *len = 0;
        bnc_err_set(err, "interrupted");
        goto out;
    }
    rc = 0;
out:
    if (restore) {
        tcsetattr(fd, TCSAFLUSH, &saved);
        /* The user's Enter was not echoed. */
        if (write(fd, "\n", 1) < 0) {
            /* cosmetic only: the answer is read already */
        }
    }
    close(fd);
    for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &old[i], NULL);
    sig = bnc_ctl_tty_sig;
    if (sig != 0)
        raise(sig); /* the terminal is sane again: now die as asked */
    return rc;
}

/* Characters, not bytes: "ü" is one for the length warning. */
static size_t
bnc_ctl_utf8_chars(const char *s, size_t len)
{
    size_t i, n = 0;

    for (i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            n++;
    return n;
}

int
bnc_ctl_pw_new(int from_stdin, char *buf, size_t size, size_t *len)
{
    char again[BNC_CTL_PW_MAX + 2];
    size_t alen = 0;
    struct bnc_err err;
    int rc = -1;

    bnc_err_clear(&err);
    *len = 0;
    if (from_stdin) {
        if (bnc_ctl_pw_stdin(buf, size, len, &err) != 0)
            goto out;
    } else {
        if (bnc_ctl_pw_tty("Password: ", buf, size, len, &err) != 0)
            goto out;
        if (*len == 0) {
            bnc_err_set(&err, "empty password refused");
            goto out;
        }
        if (bnc_ctl_pw_tty("Retype password: ", again, sizeof(again), &alen,
                           &err) != 0)
            goto out;
        if (!bnc_memeq_ct(again, alen, buf, *len)) {
            bnc_err_set(&err, "passwords do not match");
            goto out;
        }
    }
    if (*len == 0) {
        bnc_err_set(&err, "empty password refused");
        goto out;
    }
    if (bnc_ctl_utf8_chars(buf, *len) < BNC_CTL_PW_WARN_CHARS)
        bnc_ctl_warnx("password is shorter than %d characters",
                      BNC_CTL_PW_WARN_CHARS);
    rc = 0;
out:
    bnc_memzero(again, sizeof(again));
    if (rc != 0) {
        bnc_memzero(buf, size);
        *len = 0;
        if (err.set)
            bnc_ctl_errx("%s", err.msg);
    }
    return rc;
}

/* ---- progress bar ---------------------------------------------------------- */

static int64_t
bnc_ctl_progress_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
bnc_ctl_progress_start(struct bnc_ctl_progress *p, const char *what,
                       size_t total)
{
    memset(p, 0, sizeof(*p));
    p->pg_what = what;
    p->pg_total = total;
    /* Logs and pipes get the summary only. */
    p->pg_on = isatty(STDERR_FILENO) && total > 0;
}

void
bnc_ctl_progress_update(struct bnc_ctl_progress *p, size_t done)
{
    char bar[31];
    size_t fill, i;
    int64_t now;

    if (!p->pg_on)
        return;
    now = bnc_ctl_progress_ms();
    if (done < p->pg_total && p->pg_shown && now - p->pg_last_ms < 100)
        return;
    p->pg_last_ms = now;
    if (done > p->pg_total)
        done = p->pg_total;
    fill = done * (sizeof(bar) - 1) / p->pg_total;
    for (i = 0; i < sizeof(bar) - 1; i++)
        bar[i] = i < fill ? '#' : ' ';
    bar[sizeof(bar) - 1] = '\0';
    fprintf(stderr, "\r%s %zu/%zu [%s] %3u%%", p->pg_what, done, p->pg_total,
            bar, (unsigned)(done * 100 / p->pg_total));
    fflush(stderr);
    p->pg_shown = 1;
}

void
bnc_ctl_progress_clear(struct bnc_ctl_progress *p)
{
    if (!p->pg_on || !p->pg_shown)
        return;
    fputs("\r\033[K", stderr);
    fflush(stderr);
    p->pg_shown = 0;
}
