/* SPDX-License-Identifier: MIT */
/* Error reporting: a first-error-wins slot, and a diagnostics list for config checks. */
#ifndef BNC_UTIL_ERR_H
#define BNC_UTIL_ERR_H

#include <stddef.h>
#include <stdio.h>

#define BNC_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* One error, caller storage. The first bnc_err_set() wins; later calls are ignored. */
struct bnc_err {
    int set;
    char msg[1024];
};

void bnc_err_clear(struct bnc_err *err);
void bnc_err_set(struct bnc_err *err, const char *fmt, ...) BNC_PRINTF(2, 3);

/* Diagnostics collected while reading a config: "file:line: message" lines,
 * errors and warnings, printed all at once (OpenBSD file->errors). */
struct bnc_diag {
    size_t nerrors;
    size_t nwarnings;
    size_t n;
    char **lines; /* owned; each "file:line: error: ..." or "...: warning: ..." */
};

void bnc_diag_init(struct bnc_diag *d);
void bnc_diag_cleanup(struct bnc_diag *d);
/* file may be NULL (no location); line 0 = no line number. */
void bnc_diag_error(struct bnc_diag *d, const char *file, unsigned line,
                    const char *fmt, ...) BNC_PRINTF(4, 5);
void bnc_diag_warn(struct bnc_diag *d, const char *file, unsigned line,
                   const char *fmt, ...) BNC_PRINTF(4, 5);
/* Writes every line to stream, in order. */
void bnc_diag_print(const struct bnc_diag *d, FILE *stream);

#endif
