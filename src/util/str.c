/* SPDX-License-Identifier: MIT */
/* Small string and number parsers: exact, bounded, no locale. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "util/str.h"

size_t
bnc_strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = strlen(src);

    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        memcpy(dst, src, n);
        dst[n] = '\0';
    }
    return len;
}

static int
bnc_lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int
bnc_str_ieq(const char *s, const char *lit)
{
    for (; *s != '\0' && *lit != '\0'; s++, lit++)
        if (bnc_lower((unsigned char)*s) != bnc_lower((unsigned char)*lit))
            return 0;
    return *s == '\0' && *lit == '\0';
}

static int
bnc_is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

char *
bnc_str_trim(char *s)
{
    size_t len;
    char *start = s;

    while (bnc_is_space((unsigned char)*start))
        start++;
    len = strlen(start);
    while (len > 0 && bnc_is_space((unsigned char)start[len - 1]))
        len--;
    memmove(s, start, len);
    s[len] = '\0';
    return s;
}

int
bnc_utf8_valid(const unsigned char *s, size_t len)
{
    size_t i = 0;

    while (i < len) {
        unsigned char c = s[i];
        uint32_t cp;
        size_t n, k;

        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xc2 && c <= 0xdf) {
            n = 1;
            cp = c & 0x1f;
        } else if (c >= 0xe0 && c <= 0xef) {
            n = 2;
            cp = c & 0x0f;
        } else if (c >= 0xf0 && c <= 0xf4) {
            n = 3;
            cp = c & 0x07;
        } else {
            return 0; /* continuation byte, overlong lead 0xc0/0xc1, > U+10FFFF */
        }
        if (n > len - i - 1)
            return 0;
        for (k = 1; k <= n; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0; /* overlong, out of range, surrogate */
        i += n + 1;
    }
    return 1;
}

int
bnc_has_ctl(const char *s, size_t len)
{
    size_t i;

    for (i = 0; i < len; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
            return 1;
    return 0;
}

int
bnc_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (s == NULL || *s == '\0')
        return -1;
    for (; *s != '\0'; s++) {
        unsigned d;

        if (*s < '0' || *s > '9')
            return -1;
        d = (unsigned)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* Number followed by an optional one-letter unit from units/mults. */
static int
bnc_parse_scaled(const char *s, const char *units, const uint64_t *mults,
                 uint64_t *out)
{
    char num[24];
    size_t len;
    uint64_t v, m = 1;
    const char *u;

    if (s == NULL)
        return -1;
    len = strlen(s);
    if (len == 0 || len >= sizeof(num))
        return -1;
    memcpy(num, s, len + 1);
    if (num[len - 1] < '0' || num[len - 1] > '9') {
        u = strchr(units, num[len - 1]);
        if (u == NULL || len == 1)
            return -1;
        m = mults[u - units];
        num[len - 1] = '\0';
    }
    if (bnc_parse_u64(num, UINT64_MAX, &v) != 0)
        return -1;
    if (m != 0 && v > UINT64_MAX / m)
        return -1;
    *out = v * m;
    return 0;
}

int
bnc_parse_duration(const char *s, uint64_t *seconds)
{
    static const uint64_t mults[] = {1, 60, 3600, 86400, 604800};

    return bnc_parse_scaled(s, "smhdw", mults, seconds);
}

int
bnc_parse_size(const char *s, uint64_t *bytes)
{
    static const uint64_t mults[] = {1024, 1024, 1048576, 1048576,
                                     1073741824, 1073741824};

    return bnc_parse_scaled(s, "kKmMgG", mults, bytes);
}

int
bnc_parse_bool(const char *s, int *out)
{
    if (s == NULL)
        return -1;
    if (bnc_str_ieq(s, "yes") || bnc_str_ieq(s, "true") ||
        bnc_str_ieq(s, "on") || strcmp(s, "1") == 0) {
        *out = 1;
        return 0;
    }
    if (bnc_str_ieq(s, "no") || bnc_str_ieq(s, "false") ||
        bnc_str_ieq(s, "off") || strcmp(s, "0") == 0) {
        *out = 0;
        return 0;
    }
    return -1;
}

int
bnc_split_list(const char *s, char ***items)
{
    char **v = NULL;
    size_t n = 0;
    const char *p = s, *comma;

    *items = NULL;
    if (s == NULL)
        return -1;
    for (;;) {
        char *item;

        comma = strchr(p, ',');
        item = bnc_strndup(p, comma ? (size_t)(comma - p) : strlen(p));
        bnc_str_trim(item);
        if (*item == '\0') {
            free(item);
            v = bnc_realloc(v, (n + 1) * sizeof(*v));
            v[n] = NULL;
            bnc_strv_free(v);
            return -1;
        }
        v = bnc_realloc(v, (n + 2) * sizeof(*v));
        v[n++] = item;
        v[n] = NULL;
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    *items = v;
    return (int)n;
}

void
bnc_strv_free(char **v)
{
    size_t i;

    if (v == NULL)
        return;
    for (i = 0; v[i] != NULL; i++)
        free(v[i]);
    free(v);
}

size_t
bnc_strv_len(char *const *v)
{
    size_t n = 0;

    if (v != NULL)
        while (v[n] != NULL)
            n++;
    return n;
}

int
bnc_strv_contains(char *const *v, const char *s)
{
    size_t i;

    if (v == NULL)
        return 0;
    for (i = 0; v[i] != NULL; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}
