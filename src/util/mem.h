/* SPDX-License-Identifier: MIT */
/* Allocation helpers: out of memory prints and aborts (lighttpd ck_malloc). */
#ifndef BNC_UTIL_MEM_H
#define BNC_UTIL_MEM_H

#include <stddef.h>

void *bnc_malloc(size_t n);
void *bnc_calloc(size_t nmemb, size_t size); /* aborts on overflow too */
void *bnc_realloc(void *p, size_t n);
char *bnc_strdup(const char *s);              /* NULL in, NULL out */
char *bnc_strndup(const char *s, size_t n);
/* Reads up to size bytes from fd (EINTR retried) into a new buffer with a
 * NUL after them; *len gets the count (short if the file shrank). The
 * caller checked the size (fstat) and closes fd. */
char *bnc_read_fd(int fd, size_t size, size_t *len);
/* Free and set to NULL. */
#define bnc_free(p) do { free(p); (p) = NULL; } while (0)

#endif
