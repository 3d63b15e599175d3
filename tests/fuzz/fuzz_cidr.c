/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the bytes as an address, a CIDR block and a request
 * path; and, split at the first newline, as a rule glob and a path, checked
 * against a slow reference matcher. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "auth/rules.h"
#include "util/cidr.h"
#include "util/err.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define BNC_FUZZ_CHECK(cond)                                                 \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_cidr: check failed: %s\n", #cond);        \
            abort();                                                         \
        }                                                                    \
    } while (0)

static void
bnc_fuzz_cidr(const char *s)
{
    struct bnc_cidr c;
    struct bnc_addr a;
    int hb = -1, rc;
    unsigned i, max;

    rc = bnc_cidr_parse(s, &c, &hb);
    BNC_FUZZ_CHECK(hb == 0 || hb == 1);
    BNC_FUZZ_CHECK(rc == 0 || rc == -1);
    if (rc == 0) {
        BNC_FUZZ_CHECK(hb == 0);
        BNC_FUZZ_CHECK(c.net.family == 4 || c.net.family == 6);
        max = c.net.family == 4 ? 32 : 128;
        BNC_FUZZ_CHECK(c.prefix <= max);
        /* host bits clear: the network address is in its own block */
        for (i = c.prefix; i < max; i++)
            BNC_FUZZ_CHECK((c.net.a[i / 8] & (0x80 >> (i % 8))) == 0);
        BNC_FUZZ_CHECK(bnc_cidr_match(&c, &c.net));
        if (c.net.family == 4)
            for (i = 4; i < 16; i++)
                BNC_FUZZ_CHECK(c.net.a[i] == 0);
    } else {
        BNC_FUZZ_CHECK(hb == 0 || strchr(s, '/') != NULL ||
                       bnc_addr_parse(s, &a) == 0);
    }
    if (bnc_addr_parse(s, &a) == 0) {
        /* a bare address is its own full-length block */
        BNC_FUZZ_CHECK(bnc_cidr_parse(s, &c, NULL) == 0);
        BNC_FUZZ_CHECK(c.prefix == (a.family == 4 ? 32u : 128u));
        BNC_FUZZ_CHECK(bnc_cidr_match(&c, &a));
    }
}

static void
bnc_fuzz_path(const char *s)
{
    char out[512], again[512];
    const char *why = NULL;
    size_t len;

    if (bnc_path_normalize(s, out, sizeof(out), &why) != 0) {
        BNC_FUZZ_CHECK(why != NULL && out[0] == '\0');
        return;
    }
    BNC_FUZZ_CHECK(why == NULL);
    len = strlen(out);
    BNC_FUZZ_CHECK(len < sizeof(out) && out[0] == '/');
    BNC_FUZZ_CHECK(strstr(out, "//") == NULL);
    BNC_FUZZ_CHECK(strstr(out, "/./") == NULL);
    BNC_FUZZ_CHECK(strstr(out, "/../") == NULL);
    BNC_FUZZ_CHECK(!(len >= 2 && strcmp(out + len - 2, "/.") == 0));
    BNC_FUZZ_CHECK(!(len >= 3 && strcmp(out + len - 3, "/..") == 0));
    /* idempotent when nothing in it would be decoded or cut again */
    if (strpbrk(out, "%?#") == NULL) {
        BNC_FUZZ_CHECK(bnc_path_normalize(out, again, sizeof(again), &why) ==
                       0);
        BNC_FUZZ_CHECK(strcmp(out, again) == 0);
    }
}

/* Reference glob matcher, exponential but obviously right. */
static int
bnc_fuzz_glob_ref(const char *p, const char *s)
{
    size_t j;

    if (*p == '\0')
        return *s == '\0';
    if (p[0] == '/' && p[1] == '*' && p[2] == '*' && p[3] == '/') {
        if (s[0] != '/')
            return 0;
        for (j = 1; s[j - 1] != '\0'; j++)
            if (s[j - 1] == '/' && bnc_fuzz_glob_ref(p + 4, s + j))
                return 1;
        return 0;
    }
    if (p[0] == '*' && p[1] == '*') {
        while (*p == '*')
            p++;
        for (j = 0;; j++) {
            if (bnc_fuzz_glob_ref(p, s + j))
                return 1;
            if (s[j] == '\0')
                return 0;
        }
    }
    if (p[0] == '*') {
        for (j = 0;; j++) {
            if (bnc_fuzz_glob_ref(p + 1, s + j))
                return 1;
            if (s[j] == '\0' || s[j] == '/')
                return 0;
        }
    }
    return *s == *p && bnc_fuzz_glob_ref(p + 1, s + 1);
}

static void
bnc_fuzz_glob(const char *pattern, const char *path)
{
    struct bnc_rules *r = bnc_rules_new();
    struct bnc_diag d;
    int got;

    bnc_diag_init(&d);
    if (bnc_rules_add(r, pattern, "anonymous", "fuzz", 1, &d) == 0) {
        BNC_FUZZ_CHECK(r->n == 1);
        got = bnc_rules_match(r, "GET", path) != NULL;
        /* the reference is exponential: only small cases; and a method
         * list other than GET's would not match anyway */
        if (r->v[0].glob && r->v[0].methods == 0 && strlen(r->v[0].pattern) <= 12 &&
            strlen(path) <= 24)
            BNC_FUZZ_CHECK(got == bnc_fuzz_glob_ref(r->v[0].pattern, path));
    } else {
        BNC_FUZZ_CHECK(d.nerrors > 0 && r->n == 0);
    }
    bnc_diag_cleanup(&d);
    bnc_rules_free(r);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1), *nl;

    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    bnc_fuzz_cidr(s);
    bnc_fuzz_path(s);
    nl = strchr(s, '\n');
    if (nl != NULL) {
        *nl = '\0';
        bnc_fuzz_glob(s, nl + 1);
    }
    free(s);
    return 0;
}
