/* SPDX-License-Identifier: MIT */
/* Error slot and diagnostics list. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/err.h"
#include "util/mem.h"

void
bnc_err_clear(struct bnc_err *err)
{
    err->set = 0;
    err->msg[0] = '\0';
}

void
bnc_err_set(struct bnc_err *err, const char *fmt, ...)
{
    va_list ap;

    if (err == NULL || err->set)
        return; /* first error wins: it is usually the cause */
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    err->set = 1;
}

void
bnc_diag_init(struct bnc_diag *d)
{
    memset(d, 0, sizeof(*d));
}

void
bnc_diag_cleanup(struct bnc_diag *d)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        free(d->lines[i]);
    free(d->lines);
    memset(d, 0, sizeof(*d));
}

static void
bnc_diag_add(struct bnc_diag *d, const char *kind, const char *file,
             unsigned line, const char *fmt, va_list ap)
{
    char msg[1024], *out;
    size_t n;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg) + (file ? strlen(file) : 0) + strlen(kind) + 32;
    out = bnc_malloc(n);
    if (file != NULL && line > 0)
        snprintf(out, n, "%s:%u: %s%s", file, line, kind, msg);
    else if (file != NULL)
        snprintf(out, n, "%s: %s%s", file, kind, msg);
    else
        snprintf(out, n, "%s%s", kind, msg);
    d->lines = bnc_realloc(d->lines, (d->n + 1) * sizeof(*d->lines));
    d->lines[d->n++] = out;
}

void
bnc_diag_error(struct bnc_diag *d, const char *file, unsigned line,
               const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bnc_diag_add(d, "", file, line, fmt, ap);
    va_end(ap);
    d->nerrors++;
}

void
bnc_diag_warn(struct bnc_diag *d, const char *file, unsigned line,
              const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    bnc_diag_add(d, "warning: ", file, line, fmt, ap);
    va_end(ap);
    d->nwarnings++;
}

void
bnc_diag_print(const struct bnc_diag *d, FILE *stream)
{
    size_t i;

    for (i = 0; i < d->n; i++)
        fprintf(stream, "%s\n", d->lines[i]);
    fflush(stream);
}
