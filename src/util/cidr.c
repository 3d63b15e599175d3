/* SPDX-License-Identifier: MIT */
/* IPv4/IPv6 addresses and CIDR blocks, with IPv4-mapped IPv6 folded to IPv4. */
#include <arpa/inet.h>
#include <string.h>

#include <stdio.h>
#include <stdlib.h>

#include "util/cidr.h"
#include "util/err.h"
#include "util/mem.h"
#include "util/str.h"

/* Longest textual address inet_pton accepts (INET6_ADDRSTRLEN) plus slack;
 * anything longer is refused before it reaches the parser. */
#define BNC_CIDR_ADDR_MAX 64

static const unsigned char bnc_cidr_mapped_prefix[12] = {
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};

/* Parses s without folding ::ffff:a.b.c.d; family 4 or 6. */
static int
bnc_cidr_addr_raw(const char *s, struct bnc_addr *out)
{
    memset(out, 0, sizeof(*out));
    if (s == NULL || *s == '\0' || strlen(s) >= BNC_CIDR_ADDR_MAX)
        return -1;
    /* inet_pton is strict already: no spaces, no zone ids, and glibc's IPv4
     * parser refuses leading zeros, so "010.1.1.1" cannot mean octal. */
    if (strchr(s, ':') != NULL) {
        if (inet_pton(AF_INET6, s, out->a) != 1)
            return -1;
        out->family = 6;
        return 0;
    }
    if (inet_pton(AF_INET, s, out->a) != 1)
        return -1;
    out->family = 4;
    return 0;
}

static int
bnc_cidr_is_mapped(const struct bnc_addr *a)
{
    return a->family == 6 &&
           memcmp(a->a, bnc_cidr_mapped_prefix,
                  sizeof(bnc_cidr_mapped_prefix)) == 0;
}

/* ::ffff:a.b.c.d -> a.b.c.d: a dual-stack socket reports IPv4 clients that
 * way, and rules written for 192.0.2.0/24 must still apply to them. */
static void
bnc_cidr_fold(struct bnc_addr *a)
{
    unsigned char v4[4];

    if (!bnc_cidr_is_mapped(a))
        return;
    memcpy(v4, a->a + 12, 4);
    memset(a->a, 0, sizeof(a->a));
    memcpy(a->a, v4, 4);
    a->family = 4;
}

int
bnc_addr_parse(const char *s, struct bnc_addr *out)
{
    struct bnc_addr a;

    if (out == NULL || bnc_cidr_addr_raw(s, &a) != 0)
        return -1;
    bnc_cidr_fold(&a);
    *out = a;
    return 0;
}

/* Strict decimal prefix: 1-3 digits, no sign, no leading zero. */
static int
bnc_cidr_parse_prefix(const char *s, unsigned *out)
{
    unsigned v = 0;
    size_t i;

    if (s[0] == '\0' || strlen(s) > 3 || (s[0] == '0' && s[1] != '\0'))
        return -1;
    for (i = 0; s[i] != '\0'; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    *out = v;
    return 0;
}

/* 1 if any bit at or after position prefix is set in the 16-byte a. */
static int
bnc_cidr_host_bits(const unsigned char *a, unsigned bytes, unsigned prefix)
{
    unsigned i;

    for (i = 0; i < bytes; i++) {
        unsigned bit = i * 8;
        unsigned char keep;

        if (bit + 8 <= prefix)
            continue;
        keep = bit >= prefix ? 0 : (unsigned char)(0xff << (8 - (prefix - bit)));
        if ((a[i] & (unsigned char)~keep) != 0)
            return 1;
    }
    return 0;
}

int
bnc_cidr_parse(const char *s, struct bnc_cidr *out, int *host_bits)
{
    char addr[BNC_CIDR_ADDR_MAX];
    const char *slash;
    size_t alen;
    unsigned prefix, max;
    struct bnc_cidr c;

    if (host_bits != NULL)
        *host_bits = 0;
    if (s == NULL || out == NULL)
        return -1;
    slash = strchr(s, '/');
    alen = slash != NULL ? (size_t)(slash - s) : strlen(s);
    if (alen == 0 || alen >= sizeof(addr))
        return -1;
    memcpy(addr, s, alen);
    addr[alen] = '\0';
    memset(&c, 0, sizeof(c));
    if (bnc_cidr_addr_raw(addr, &c.net) != 0)
        return -1;
    max = c.net.family == 4 ? 32 : 128;
    if (slash == NULL) {
        prefix = max;
    } else if (bnc_cidr_parse_prefix(slash + 1, &prefix) != 0 ||
               prefix > max) {
        return -1;
    }
    if (bnc_cidr_host_bits(c.net.a, max / 8, prefix)) {
        if (host_bits != NULL)
            *host_bits = 1;
        return -1;
    }
    c.prefix = prefix;
    /* ::ffff:0:0/96 and longer lie wholly inside the mapped space: the same
     * block written as IPv4, so it matches folded addresses. */
    if (bnc_cidr_is_mapped(&c.net) && prefix >= 96) {
        bnc_cidr_fold(&c.net);
        c.prefix = prefix - 96;
    }
    *out = c;
    return 0;
}

static int
bnc_cidr_prefix_eq(const unsigned char *a, const unsigned char *b,
                   unsigned prefix)
{
    unsigned full = prefix / 8, rest = prefix % 8;
    unsigned char mask;

    if (memcmp(a, b, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    mask = (unsigned char)(0xff << (8 - rest));
    return (a[full] & mask) == (b[full] & mask);
}

int
bnc_cidr_match(const struct bnc_cidr *c, const struct bnc_addr *a)
{
    unsigned char mapped[16];

    if (c == NULL || a == NULL)
        return 0;
    if (c->net.family == a->family)
        return bnc_cidr_prefix_eq(c->net.a, a->a, c->prefix);
    if (c->net.family == 6 && a->family == 4) {
        /* A short IPv6 block such as ::/0 or ::/64 covers the mapped space
         * too: compare the IPv4 address in its ::ffff:a.b.c.d form. */
        memcpy(mapped, bnc_cidr_mapped_prefix, 12);
        memcpy(mapped + 12, a->a, 4);
        return bnc_cidr_prefix_eq(c->net.a, mapped, c->prefix);
    }
    /* An IPv6 address never matches an IPv4 block (mapped ones were folded). */
    return 0;
}

/* "10.1.2.3/8" -> "10.0.0.0/8" into buf, for the host-bits message. */
static const char *
bnc_cidr_masked(const char *cidr, char *buf, size_t cap)
{
    char addr[64];
    unsigned char a[16];
    const char *slash = strchr(cidr, '/');
    size_t len = slash != NULL ? (size_t)(slash - cidr) : 0;
    unsigned prefix, i;
    int af;

    buf[0] = '\0';
    if (slash == NULL || len >= sizeof(addr))
        return buf;
    memcpy(addr, cidr, len);
    addr[len] = '\0';
    af = strchr(addr, ':') != NULL ? AF_INET6 : AF_INET;
    prefix = (unsigned)strtoul(slash + 1, NULL, 10);
    if (inet_pton(af, addr, a) != 1)
        return buf;
    for (i = 0; i < (af == AF_INET ? 32u : 128u); i++)
        if (i >= prefix)
            a[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
    if (inet_ntop(af, a, addr, sizeof(addr)) == NULL)
        return buf;
    snprintf(buf, cap, "%s/%u", addr, prefix);
    return buf;
}

int
bnc_cidr_match_any(const struct bnc_cidr *v, size_t n, const struct bnc_addr *a)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (bnc_cidr_match(&v[i], a))
            return 1;
    return 0;
}

int
bnc_cidr_parse_list(const char *list, struct bnc_cidr **out, size_t *n,
                    const char *what, const char *file, unsigned line,
                    struct bnc_diag *d)
{
    char **items = NULL;
    size_t i, count;
    int rc = -1;

    *out = NULL;
    *n = 0;
    if (bnc_split_list(list, &items) < 0) {
        if (d != NULL)
            bnc_diag_error(d, file, line,
                           "%s: expected a comma-separated list of CIDR "
                           "blocks, got '%s'", what, list);
        goto out;
    }
    count = bnc_strv_len(items);
    *out = bnc_calloc(count, sizeof(**out));
    for (i = 0; i < count; i++) {
        int host_bits = 0;

        if (bnc_cidr_parse(items[i], &(*out)[i], &host_bits) != 0) {
            char masked[80];

            if (d != NULL && host_bits)
                bnc_diag_error(d, file, line,
                               "%s: '%s' has host bits set beyond the "
                               "prefix length (did you mean %s?)", what,
                               items[i],
                               bnc_cidr_masked(items[i], masked,
                                               sizeof(masked)));
            else if (d != NULL)
                bnc_diag_error(d, file, line,
                               "%s: expected an IP address or CIDR "
                               "block like 192.0.2.0/24 or 2001:db8::/32, "
                               "got '%s'", what, items[i]);
            goto out;
        }
        (*n)++;
    }
    rc = 0;
out:
    if (rc != 0) {
        free(*out);
        *out = NULL;
        *n = 0;
    }
    bnc_strv_free(items);
    return rc;
}
