/* SPDX-License-Identifier: MIT */
/* Small string and number parsers shared by config, CLI and schemes. */
#ifndef BNC_UTIL_STR_H
#define BNC_UTIL_STR_H

#include <stddef.h>
#include <stdint.h>

/* Copies at most size-1 bytes and NUL-terminates; returns strlen(src). */
size_t bnc_strlcpy(char *dst, const char *src, size_t size);
/* Case-insensitive ASCII compare of s against lit. */
int bnc_str_ieq(const char *s, const char *lit);
/* Trims ASCII whitespace at both ends in place; returns s. */
char *bnc_str_trim(char *s);
/* Valid UTF-8 (no overlongs, no surrogates), exactly len bytes. 1 = yes. */
int bnc_utf8_valid(const unsigned char *s, size_t len);
/* Contains a byte < 0x20 or 0x7f. */
int bnc_has_ctl(const char *s, size_t len);

/* Parsers return 0 and set *out, or -1 on anything but an exact, in-range value. */
int bnc_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* "30", "30s", "5m", "2h", "1d", "1w" -> seconds. */
int bnc_parse_duration(const char *s, uint64_t *seconds);
/* "64", "64k", "64K", "512M", "1G" -> bytes. */
int bnc_parse_size(const char *s, uint64_t *bytes);
/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int bnc_parse_bool(const char *s, int *out);

/* Splits a comma-separated list, trimming each item; empty items are an error.
 * On success *items is a NULL-terminated array the caller frees with
 * bnc_strv_free(). Returns the count, or -1. */
int bnc_split_list(const char *s, char ***items);
void bnc_strv_free(char **v);
size_t bnc_strv_len(char *const *v);
int bnc_strv_contains(char *const *v, const char *s);

#endif
