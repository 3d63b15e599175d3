/* SPDX-License-Identifier: MIT */
/* Allocation that never returns NULL: out of memory is not a state we can
 * answer requests from, so print and abort (lighttpd ck_malloc). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include "util/mem.h"

static void __attribute__((noreturn))
bnc_mem_fail(size_t n)
{
    fprintf(stderr, "bouncer: out of memory allocating %zu bytes\n", n);
    abort();
}

void *
bnc_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (p == NULL)
        bnc_mem_fail(n);
    return p;
}

void *
bnc_calloc(size_t nmemb, size_t size)
{
    void *p;

    if (size != 0 && nmemb > SIZE_MAX / size)
        bnc_mem_fail(SIZE_MAX);
    p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        bnc_mem_fail(nmemb * size);
    return p;
}

void *
bnc_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);

    if (q == NULL)
        bnc_mem_fail(n);
    return q;
}

char *
bnc_strdup(const char *s)
{
    return s == NULL ? NULL : bnc_strndup(s, strlen(s));
}

char *
bnc_strndup(const char *s, size_t n)
{
    char *p;
    size_t len;

    if (s == NULL)
        return NULL;
    len = strnlen(s, n);
    if (len == SIZE_MAX)
        bnc_mem_fail(len);
    p = bnc_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

char *
bnc_read_fd(int fd, size_t size, size_t *len)
{
    char *buf = bnc_malloc(size + 1);
    size_t got = 0;
    ssize_t r;

    while (got < size) {
        r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    buf[got] = '\0';
    *len = got;
    return buf;
}
