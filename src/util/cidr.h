/* SPDX-License-Identifier: MIT */
/* IPv4/IPv6 addresses and CIDR blocks; IPv4-mapped IPv6 matches IPv4 blocks. */
#ifndef BNC_UTIL_CIDR_H
#define BNC_UTIL_CIDR_H

#include <stddef.h>
#include <stdint.h>

struct bnc_addr {
    int family;            /* 4 or 6 */
    unsigned char a[16];   /* IPv4 in a[0..3] */
};

struct bnc_cidr {
    struct bnc_addr net;   /* host bits cleared */
    unsigned prefix;       /* 0..32 or 0..128 */
};

/* Parses a literal address ("192.0.2.1", "2001:db8::1", "::ffff:192.0.2.1"
 * which becomes family 4). Returns 0 or -1. */
int bnc_addr_parse(const char *s, struct bnc_addr *out);
/* "10.0.0.0/8", "2001:db8::/32", or a bare address (full prefix). Host bits
 * set below the prefix are an error (*host_bits set to 1 and -1 returned) so
 * config can say so. host_bits may be NULL. */
int bnc_cidr_parse(const char *s, struct bnc_cidr *out, int *host_bits);
int bnc_cidr_match(const struct bnc_cidr *c, const struct bnc_addr *a);
/* 1 if a is inside any of the n blocks. */
int bnc_cidr_match_any(const struct bnc_cidr *v, size_t n,
                       const struct bnc_addr *a);

struct bnc_diag;
/* Parses a comma-separated list of CIDR blocks (config values, rule words,
 * token restrictions). *out is malloc'ed (caller frees), *n its length.
 * Errors go to d as "file:line: what: ..." (d may be NULL). 0 or -1. */
int bnc_cidr_parse_list(const char *list, struct bnc_cidr **out, size_t *n,
                        const char *what, const char *file, unsigned line,
                        struct bnc_diag *d);

#endif
