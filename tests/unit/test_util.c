/* SPDX-License-Identifier: MIT */
/* util/: base64, string and number parsers, buffers with escaping, CIDR. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/b64.h"
#include "util/buf.h"
#include "util/cidr.h"
#include "util/str.h"
#include "unit.h"

/* ---- base64 --------------------------------------------------------------- */

static void
test_util_b64_rfc4648(void)
{
    /* RFC 4648 section 10 test vectors. */
    static const char *const v[][2] = {
        {"", ""},           {"f", "Zg=="},         {"fo", "Zm8="},
        {"foo", "Zm9v"},    {"foob", "Zm9vYg=="},  {"fooba", "Zm9vYmE="},
        {"foobar", "Zm9vYmFy"},
    };
    size_t i;

    for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        char enc[32];
        unsigned char dec[32];
        size_t n = strlen(v[i][0]), outlen = 99;

        CU_ASSERT_EQUAL(bnc_b64_encoded_size(n), strlen(v[i][1]) + 1);
        CU_ASSERT_EQUAL(bnc_b64_encode((const unsigned char *)v[i][0], n, enc),
                        strlen(v[i][1]));
        CU_ASSERT_STRING_EQUAL(enc, v[i][1]);
        CU_ASSERT_EQUAL(bnc_b64_decode(v[i][1], strlen(v[i][1]), dec,
                                       sizeof(dec), &outlen), 0);
        CU_ASSERT_EQUAL(outlen, n);
        CU_ASSERT(memcmp(dec, v[i][0], n) == 0);
    }
}

static void
test_util_b64_binary_roundtrip(void)
{
    unsigned char in[256], dec[256];
    char enc[400], url[400];
    size_t n, outlen, i;

    for (i = 0; i < sizeof(in); i++)
        in[i] = (unsigned char)(255 - i);
    for (n = 0; n <= sizeof(in); n += 17) {
        CU_ASSERT_EQUAL(bnc_b64_encode(in, n, enc), (n + 2) / 3 * 4);
        CU_ASSERT_EQUAL(bnc_b64_decode(enc, strlen(enc), dec, sizeof(dec),
                                       &outlen), 0);
        CU_ASSERT_EQUAL(outlen, n);
        CU_ASSERT(memcmp(in, dec, n) == 0);
        bnc_b64url_encode(in, n, url);
        CU_ASSERT_PTR_NULL(strpbrk(url, "+/="));
        CU_ASSERT_EQUAL(bnc_b64url_decode(url, strlen(url), dec, sizeof(dec),
                                          &outlen), 0);
        CU_ASSERT_EQUAL(outlen, n);
        CU_ASSERT(memcmp(in, dec, n) == 0);
    }
    /* the two alphabets differ exactly in 62 and 63 */
    in[0] = 0xfb;
    in[1] = 0xff;
    in[2] = 0xbf;
    bnc_b64_encode(in, 3, enc);
    CU_ASSERT_STRING_EQUAL(enc, "+/+/");
    bnc_b64url_encode(in, 3, url);
    CU_ASSERT_STRING_EQUAL(url, "-_-_");
}

static int
b64_rejects(const char *s)
{
    unsigned char out[64];
    size_t outlen;

    return bnc_b64_decode(s, strlen(s), out, sizeof(out), &outlen) == -1;
}

static void
test_util_b64_strict(void)
{
    unsigned char out[8];
    size_t outlen;

    CU_ASSERT(b64_rejects("Zm9v!"));
    CU_ASSERT(b64_rejects("Zm9*"));
    CU_ASSERT(b64_rejects("Zm9-"));      /* url alphabet in standard */
    CU_ASSERT(b64_rejects("Zm9_"));
    CU_ASSERT(b64_rejects("Zg"));        /* padding required */
    CU_ASSERT(b64_rejects("Zg="));
    CU_ASSERT(b64_rejects("Zg==="));
    CU_ASSERT(b64_rejects("Z==="));
    CU_ASSERT(b64_rejects("===="));
    CU_ASSERT(b64_rejects("=Zg="));
    CU_ASSERT(b64_rejects("Z=g="));
    CU_ASSERT(b64_rejects("Zg==Zg=="));  /* padding in the middle */
    CU_ASSERT(b64_rejects("Zh=="));      /* non-canonical: low bits set */
    CU_ASSERT(b64_rejects("Zm9="));      /* "fo" is Zm8= */
    CU_ASSERT(b64_rejects("Zm9v "));     /* whitespace */
    CU_ASSERT(b64_rejects(" Zm9v"));
    CU_ASSERT(b64_rejects("Zm 9v"));
    CU_ASSERT(b64_rejects("Zm9v\n"));
    CU_ASSERT(b64_rejects("Zm9v\r\n"));
    CU_ASSERT(b64_rejects("Zm\t9v"));
    CU_ASSERT(b64_rejects("Zm9vY"));
    CU_ASSERT(b64_rejects("\xc3\xa9\xc3\xa9"));
    /* embedded NUL within len */
    CU_ASSERT_EQUAL(bnc_b64_decode("Zm\0v", 4, out, sizeof(out), &outlen), -1);
    /* output capacity honoured */
    CU_ASSERT_EQUAL(bnc_b64_decode("Zm9vYmFy", 8, out, 5, &outlen), -1);
    CU_ASSERT_EQUAL(bnc_b64_decode("Zm9vYmFy", 8, out, 6, &outlen), 0);
    CU_ASSERT_EQUAL(outlen, 6);
    /* empty input is the empty string */
    CU_ASSERT_EQUAL(bnc_b64_decode("", 0, out, 0, &outlen), 0);
    CU_ASSERT_EQUAL(outlen, 0);
}

static void
test_util_b64url_strict(void)
{
    unsigned char out[16];
    size_t outlen;

    CU_ASSERT_EQUAL(bnc_b64url_decode("Zg", 2, out, sizeof(out), &outlen), 0);
    CU_ASSERT_EQUAL(outlen, 1);
    CU_ASSERT_EQUAL(out[0], 'f');
    CU_ASSERT_EQUAL(bnc_b64url_decode("Zg==", 4, out, sizeof(out), &outlen), 0);
    CU_ASSERT_EQUAL(outlen, 1);
    CU_ASSERT_EQUAL(bnc_b64url_decode("Zg=", 3, out, sizeof(out), &outlen), -1);
    CU_ASSERT_EQUAL(bnc_b64url_decode("Zh", 2, out, sizeof(out), &outlen), -1);
    CU_ASSERT_EQUAL(bnc_b64url_decode("Z", 1, out, sizeof(out), &outlen), -1);
    CU_ASSERT_EQUAL(bnc_b64url_decode("-_8", 3, out, sizeof(out), &outlen), 0);
    CU_ASSERT_EQUAL(outlen, 2);
    CU_ASSERT_EQUAL(out[0], 0xfb);
    CU_ASSERT_EQUAL(out[1], 0xff);
    CU_ASSERT_EQUAL(bnc_b64url_decode("+/8", 3, out, sizeof(out), &outlen), -1);
    CU_ASSERT_EQUAL(bnc_b64url_decode("Zm9v ", 5, out, sizeof(out), &outlen),
                    -1);
}

/* ---- strings and numbers -------------------------------------------------- */

static void
test_util_str_durations(void)
{
    static const struct {
        const char *in;
        int rc;
        uint64_t v;
    } d[] = {
        {"0", 0, 0},          {"30", 0, 30},       {"30s", 0, 30},
        {"5m", 0, 300},       {"2h", 0, 7200},     {"1d", 0, 86400},
        {"1w", 0, 604800},    {"", -1, 0},         {"s", -1, 0},
        {"-1", -1, 0},        {"+1", -1, 0},       {"1.5h", -1, 0},
        {"1 h", -1, 0},       {" 1h", -1, 0},      {"1h ", -1, 0},
        {"1H", -1, 0},        {"1y", -1, 0},       {"1hm", -1, 0},
        {"0x10", -1, 0},      {"10ms", -1, 0},
        {"18446744073709551615", 0, UINT64_MAX},
        {"18446744073709551616", -1, 0},
        {"30500568904943145w", -1, 0}, /* * 604800 overflows */
    };
    size_t i;

    for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        uint64_t v = 12345;
        int rc = bnc_parse_duration(d[i].in, &v);

        if (rc != d[i].rc || (rc == 0 && v != d[i].v)) {
            printf("\nduration '%s': rc=%d v=%llu\n", d[i].in, rc,
                   (unsigned long long)v);
            CU_FAIL("duration");
        }
    }
    CU_ASSERT_EQUAL(bnc_parse_duration(NULL, NULL), -1);
}

static void
test_util_str_sizes(void)
{
    static const struct {
        const char *in;
        int rc;
        uint64_t v;
    } d[] = {
        {"64", 0, 64},            {"64k", 0, 65536},
        {"64K", 0, 65536},        {"512M", 0, 536870912},
        {"512m", 0, 536870912},   {"1G", 0, 1073741824},
        {"0", 0, 0},              {"", -1, 0},
        {"M", -1, 0},             {"1T", -1, 0},
        {"1KB", -1, 0},           {"1.5G", -1, 0},
        {"-1k", -1, 0},           {"1 k", -1, 0},
        {"17179869183G", 0, UINT64_C(17179869183) * 1073741824},
        {"17179869184G", -1, 0}, /* 2^64 */
    };
    size_t i;

    for (i = 0; i < sizeof(d) / sizeof(d[0]); i++) {
        uint64_t v = 12345;
        int rc = bnc_parse_size(d[i].in, &v);

        if (rc != d[i].rc || (rc == 0 && v != d[i].v)) {
            printf("\nsize '%s': rc=%d v=%llu\n", d[i].in, rc,
                   (unsigned long long)v);
            CU_FAIL("size");
        }
    }
}

static void
test_util_str_u64(void)
{
    uint64_t v = 7;

    CU_ASSERT_EQUAL(bnc_parse_u64("0", 10, &v), 0);
    CU_ASSERT_EQUAL(v, 0);
    CU_ASSERT_EQUAL(bnc_parse_u64("10", 10, &v), 0);
    CU_ASSERT_EQUAL(v, 10);
    v = 7;
    CU_ASSERT_EQUAL(bnc_parse_u64("11", 10, &v), -1);
    CU_ASSERT_EQUAL(v, 7); /* untouched on failure */
    CU_ASSERT_EQUAL(bnc_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
    CU_ASSERT_EQUAL(v, UINT64_MAX);
    CU_ASSERT_EQUAL(bnc_parse_u64("18446744073709551616", UINT64_MAX, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64("99999999999999999999", UINT64_MAX, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64("", 10, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64(NULL, 10, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64("-0", 10, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64("+1", 10, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64(" 1", 10, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64("1 ", 10, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64("1e3", 10000, &v), -1);
    CU_ASSERT_EQUAL(bnc_parse_u64("0x1", 10, &v), -1);
    /* leading zeros are still the same decimal number */
    CU_ASSERT_EQUAL(bnc_parse_u64("007", 10, &v), 0);
    CU_ASSERT_EQUAL(v, 7);
}

static void
test_util_str_bools(void)
{
    static const char *const yes[] = {"yes", "YES", "true", "True", "on",
                                      "1"};
    static const char *const no[] = {"no", "No", "false", "FALSE", "off",
                                     "0"};
    static const char *const bad[] = {"", "y", "n", "2", "yes ", " no",
                                      "enable", "ja", "01"};
    size_t i;
    int v;

    for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
        v = -1;
        CU_ASSERT_EQUAL(bnc_parse_bool(yes[i], &v), 0);
        CU_ASSERT_EQUAL(v, 1);
    }
    for (i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
        v = -1;
        CU_ASSERT_EQUAL(bnc_parse_bool(no[i], &v), 0);
        CU_ASSERT_EQUAL(v, 0);
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = -1;
        CU_ASSERT_EQUAL(bnc_parse_bool(bad[i], &v), -1);
        CU_ASSERT_EQUAL(v, -1);
    }
    CU_ASSERT_EQUAL(bnc_parse_bool(NULL, &v), -1);
}

static void
test_util_str_split_list(void)
{
    char **v = NULL;

    CU_ASSERT_EQUAL(bnc_split_list("a", &v), 1);
    CU_ASSERT_STRING_EQUAL(v[0], "a");
    CU_ASSERT_PTR_NULL(v[1]);
    bnc_strv_free(v);
    CU_ASSERT_EQUAL(bnc_split_list(" session , token,jwt ,  basic", &v), 4);
    CU_ASSERT_STRING_EQUAL(v[0], "session");
    CU_ASSERT_STRING_EQUAL(v[1], "token");
    CU_ASSERT_STRING_EQUAL(v[2], "jwt");
    CU_ASSERT_STRING_EQUAL(v[3], "basic");
    CU_ASSERT_PTR_NULL(v[4]);
    CU_ASSERT_EQUAL(bnc_strv_len(v), 4);
    CU_ASSERT(bnc_strv_contains(v, "jwt"));
    CU_ASSERT(!bnc_strv_contains(v, "JWT"));
    CU_ASSERT(!bnc_strv_contains(v, "bas"));
    bnc_strv_free(v);
    /* items keep inner spaces */
    CU_ASSERT_EQUAL(bnc_split_list("a b, c", &v), 2);
    CU_ASSERT_STRING_EQUAL(v[0], "a b");
    bnc_strv_free(v);

    v = (char **)1;
    CU_ASSERT_EQUAL(bnc_split_list("", &v), -1);
    CU_ASSERT_PTR_NULL(v);
    CU_ASSERT_EQUAL(bnc_split_list("   ", &v), -1);
    CU_ASSERT_EQUAL(bnc_split_list("a,", &v), -1);
    CU_ASSERT_EQUAL(bnc_split_list(",a", &v), -1);
    CU_ASSERT_EQUAL(bnc_split_list("a,,b", &v), -1);
    CU_ASSERT_EQUAL(bnc_split_list("a, ,b", &v), -1);
    CU_ASSERT_EQUAL(bnc_split_list(NULL, &v), -1);
    CU_ASSERT_PTR_NULL(v);
    bnc_strv_free(NULL);
    CU_ASSERT_EQUAL(bnc_strv_len(NULL), 0);
    CU_ASSERT(!bnc_strv_contains(NULL, "a"));
}

static void
test_util_str_utf8(void)
{
    static const struct {
        const char *s;
        int valid;
    } u[] = {
        {"", 1},
        {"plain ascii", 1},
        {"caf\xc3\xa9", 1},                 /* U+00E9 */
        {"\xe2\x82\xac", 1},                /* U+20AC */
        {"\xf0\x9f\x98\x80", 1},            /* U+1F600 */
        {"\xed\x9f\xbf", 1},                /* U+D7FF, below surrogates */
        {"\xee\x80\x80", 1},                /* U+E000, above them */
        {"\xf4\x8f\xbf\xbf", 1},            /* U+10FFFF */
        {"\xc2\x80", 1},                    /* U+0080, smallest 2-byte */
        {"\xc0\xaf", 0},                    /* overlong '/' */
        {"\xc1\xbf", 0},                    /* overlong */
        {"\xe0\x80\xaf", 0},                /* overlong 3-byte '/' */
        {"\xe0\x9f\xbf", 0},                /* overlong U+07FF */
        {"\xf0\x80\x80\xaf", 0},            /* overlong 4-byte */
        {"\xf0\x8f\xbf\xbf", 0},            /* overlong U+FFFF */
        {"\xed\xa0\x80", 0},                /* U+D800 surrogate */
        {"\xed\xbf\xbf", 0},                /* U+DFFF surrogate */
        {"\xf4\x90\x80\x80", 0},            /* U+110000 */
        {"\xf5\x80\x80\x80", 0},
        {"\xff", 0},
        {"\xfe", 0},
        {"\x80", 0},                        /* lone continuation */
        {"a\xbf", 0},
        {"\xc3", 0},                        /* truncated */
        {"\xe2\x82", 0},
        {"\xf0\x9f\x98", 0},
        {"\xc3(", 0},                       /* bad continuation */
        {"\xe2(\xac", 0},
        {"\xf0\x9f(\x80", 0},
    };
    size_t i;

    for (i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
        int got = bnc_utf8_valid((const unsigned char *)u[i].s, strlen(u[i].s));

        if (got != u[i].valid) {
            printf("\nutf8 case %zu: got %d\n", i, got);
            CU_FAIL("utf8");
        }
    }
    /* exactly len bytes: a truncated sequence at the end of the slice */
    CU_ASSERT_EQUAL(bnc_utf8_valid((const unsigned char *)"\xc3\xa9", 1), 0);
    /* NUL is a valid code point inside len */
    CU_ASSERT_EQUAL(bnc_utf8_valid((const unsigned char *)"a\0b", 3), 1);
}

static void
test_util_str_misc(void)
{
    char buf[8], s[32];

    CU_ASSERT_EQUAL(bnc_strlcpy(buf, "hello world", sizeof(buf)), 11);
    CU_ASSERT_STRING_EQUAL(buf, "hello w");
    CU_ASSERT_EQUAL(bnc_strlcpy(buf, "", sizeof(buf)), 0);
    CU_ASSERT_STRING_EQUAL(buf, "");
    buf[0] = 'x';
    CU_ASSERT_EQUAL(bnc_strlcpy(buf, "abc", 0), 3);
    CU_ASSERT_EQUAL(buf[0], 'x');
    CU_ASSERT(bnc_str_ieq("Basic", "basic"));
    CU_ASSERT(bnc_str_ieq("", ""));
    CU_ASSERT(!bnc_str_ieq("basic", "basics"));
    CU_ASSERT(!bnc_str_ieq("basics", "basic"));
    CU_ASSERT(!bnc_str_ieq("b@sic", "b`sic"));
    memcpy(s, " \t x y \r\n", 10);
    CU_ASSERT_STRING_EQUAL(bnc_str_trim(s), "x y");
    memcpy(s, "   ", 4);
    CU_ASSERT_STRING_EQUAL(bnc_str_trim(s), "");
    CU_ASSERT(bnc_has_ctl("a\x01", 2));
    CU_ASSERT(bnc_has_ctl("a\x7f", 2));
    CU_ASSERT(bnc_has_ctl("a\nb", 3));
    CU_ASSERT(!bnc_has_ctl("caf\xc3\xa9 ~", 7));
}

/* ---- buffers ------------------------------------------------------------------ */

static void
check_json(const char *in, const char *want)
{
    struct bnc_buf b;

    bnc_buf_init(&b);
    bnc_buf_json_str(&b, in);
    if (strcmp(bnc_buf_str(&b), want) != 0) {
        printf("\njson: got %s want %s\n", bnc_buf_str(&b), want);
        CU_FAIL("json escaping");
    }
    CU_ASSERT_EQUAL(b.len, strlen(want));
    bnc_buf_cleanup(&b);
}

static void
test_util_buf_json(void)
{
    check_json("", "\"\"");
    check_json("plain", "\"plain\"");
    check_json("say \"hi\"", "\"say \\\"hi\\\"\"");
    check_json("back\\slash", "\"back\\\\slash\"");
    check_json("a\nb\rc\td", "\"a\\nb\\rc\\td\"");
    check_json("\x01\x1f\x7f", "\"\\u0001\\u001f\\u007f\"");
    check_json("\b\f", "\"\\u0008\\u000c\"");
    check_json("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
               "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
    check_json("</script>", "\"</script>\"");
    /* invalid UTF-8 must not reach a JSON document as raw bytes */
    check_json("bad\xff", "\"bad\\u00ff\"");
}

static void
check_logfmt(const char *in, const char *want)
{
    struct bnc_buf b;

    bnc_buf_init(&b);
    bnc_buf_logfmt_val(&b, in);
    if (strcmp(bnc_buf_str(&b), want) != 0) {
        printf("\nlogfmt: got %s want %s\n", bnc_buf_str(&b), want);
        CU_FAIL("logfmt quoting");
    }
    bnc_buf_cleanup(&b);
}

static void
test_util_buf_logfmt(void)
{
    check_logfmt("alice", "alice");
    check_logfmt("/a/b?c", "/a/b?c");
    check_logfmt("", "\"\"");
    check_logfmt("two words", "\"two words\"");
    check_logfmt("k=v", "\"k=v\"");
    check_logfmt("say \"x\"", "\"say \\\"x\\\"\"");
    check_logfmt("a\\b", "\"a\\\\b\"");
    check_logfmt("line\nbreak", "\"line\\nbreak\"");
    check_logfmt("cr\r", "\"cr\\x0d\"");
    check_logfmt("esc\x1b[31m", "\"esc\\x1b[31m\"");
    check_logfmt("caf\xc3\xa9", "\"caf\\xc3\\xa9\"");
    check_logfmt("tab\t", "\"tab\\x09\"");
}

static void
test_util_buf_basics(void)
{
    struct bnc_buf b;
    size_t i;

    bnc_buf_init(&b);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b), "");
    CU_ASSERT_EQUAL(b.len, 0);
    bnc_buf_puts(&b, "ab");
    bnc_buf_putc(&b, 'c');
    bnc_buf_append(&b, "d\0e", 3);
    CU_ASSERT_EQUAL(b.len, 6);
    CU_ASSERT(memcmp(b.data, "abcd\0e", 7) == 0);
    bnc_buf_reset(&b);
    CU_ASSERT_EQUAL(b.len, 0);
    CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b), "");
    for (i = 0; i < 1000; i++)
        bnc_buf_printf(&b, "%zu,", i);
    CU_ASSERT_EQUAL(b.len, 10 * 2 + 90 * 3 + 900 * 4);
    CU_ASSERT(strncmp(b.data, "0,1,2,", 6) == 0);
    CU_ASSERT_EQUAL(b.data[b.len], '\0');
    bnc_buf_cleanup(&b);
    CU_ASSERT_PTR_NULL(b.data);
    bnc_buf_cleanup(&b); /* twice is fine */
}

/* ---- CIDR ------------------------------------------------------------------- */

static void
test_util_cidr_addr(void)
{
    struct bnc_addr a;

    CU_ASSERT_EQUAL(bnc_addr_parse("192.0.2.1", &a), 0);
    CU_ASSERT_EQUAL(a.family, 4);
    CU_ASSERT(memcmp(a.a, "\xc0\x00\x02\x01", 4) == 0);
    CU_ASSERT_EQUAL(bnc_addr_parse("2001:db8::1", &a), 0);
    CU_ASSERT_EQUAL(a.family, 6);
    CU_ASSERT_EQUAL(a.a[0], 0x20);
    CU_ASSERT_EQUAL(a.a[15], 1);
    CU_ASSERT_EQUAL(bnc_addr_parse("::ffff:192.0.2.1", &a), 0);
    CU_ASSERT_EQUAL(a.family, 4);
    CU_ASSERT(memcmp(a.a, "\xc0\x00\x02\x01", 4) == 0);
    CU_ASSERT_EQUAL(a.a[4], 0);
    CU_ASSERT_EQUAL(bnc_addr_parse("::FFFF:c000:0201", &a), 0);
    CU_ASSERT_EQUAL(a.family, 4);
    CU_ASSERT_EQUAL(bnc_addr_parse("::", &a), 0);
    CU_ASSERT_EQUAL(a.family, 6);
    CU_ASSERT_EQUAL(bnc_addr_parse("::1", &a), 0);
    CU_ASSERT_EQUAL(a.family, 6);
    /* ::fffe:... is not the mapped range */
    CU_ASSERT_EQUAL(bnc_addr_parse("::fffe:192.0.2.1", &a), 0);
    CU_ASSERT_EQUAL(a.family, 6);
    CU_ASSERT_EQUAL(bnc_addr_parse("0.0.0.0", &a), 0);
    CU_ASSERT_EQUAL(bnc_addr_parse("255.255.255.255", &a), 0);

    CU_ASSERT_EQUAL(bnc_addr_parse("", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse(NULL, &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("256.0.0.1", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("1.2.3", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("1.2.3.4.5", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("01.2.3.4", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("1.2.3.4 ", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse(" 1.2.3.4", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("0x7f.0.0.1", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("2130706433", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("1.2.3.4/32", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("fe80::1%eth0", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("[::1]", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("1:2:3:4:5:6:7:8:9", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse(":::", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("localhost", &a), -1);
    CU_ASSERT_EQUAL(bnc_addr_parse("1.2.3.4", NULL), -1);
}

static void
test_util_cidr_parse(void)
{
    struct bnc_cidr c;
    int hb = 7;

    CU_ASSERT_EQUAL(bnc_cidr_parse("10.0.0.0/8", &c, &hb), 0);
    CU_ASSERT_EQUAL(hb, 0);
    CU_ASSERT_EQUAL(c.net.family, 4);
    CU_ASSERT_EQUAL(c.prefix, 8);
    CU_ASSERT_EQUAL(bnc_cidr_parse("0.0.0.0/0", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.prefix, 0);
    CU_ASSERT_EQUAL(bnc_cidr_parse("192.0.2.7/32", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.prefix, 32);
    CU_ASSERT_EQUAL(bnc_cidr_parse("192.0.2.7", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.prefix, 32);
    CU_ASSERT_EQUAL(bnc_cidr_parse("2001:db8::/32", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.net.family, 6);
    CU_ASSERT_EQUAL(c.prefix, 32);
    CU_ASSERT_EQUAL(bnc_cidr_parse("::/0", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.prefix, 0);
    CU_ASSERT_EQUAL(bnc_cidr_parse("2001:db8::1/128", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.prefix, 128);
    CU_ASSERT_EQUAL(bnc_cidr_parse("::1", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.prefix, 128);
    CU_ASSERT_EQUAL(bnc_cidr_parse("10.128.0.0/9", &c, &hb), 0);
    CU_ASSERT_EQUAL(bnc_cidr_parse("10.0.0.0/7", &c, &hb), 0);
    /* mapped blocks become IPv4 */
    CU_ASSERT_EQUAL(bnc_cidr_parse("::ffff:10.0.0.0/104", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.net.family, 4);
    CU_ASSERT_EQUAL(c.prefix, 8);
    CU_ASSERT(memcmp(c.net.a, "\x0a\0\0\0", 4) == 0);
    CU_ASSERT_EQUAL(bnc_cidr_parse("::ffff:0:0/96", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.net.family, 4);
    CU_ASSERT_EQUAL(c.prefix, 0);
    CU_ASSERT_EQUAL(bnc_cidr_parse("::ffff:192.0.2.1", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.net.family, 4);
    CU_ASSERT_EQUAL(c.prefix, 32);
    /* a block wider than the mapped range stays IPv6 */
    CU_ASSERT_EQUAL(bnc_cidr_parse("::/64", &c, &hb), 0);
    CU_ASSERT_EQUAL(c.net.family, 6);

    /* host bits */
    hb = 0;
    CU_ASSERT_EQUAL(bnc_cidr_parse("10.0.0.1/8", &c, &hb), -1);
    CU_ASSERT_EQUAL(hb, 1);
    hb = 0;
    CU_ASSERT_EQUAL(bnc_cidr_parse("11.0.0.0/7", &c, &hb), -1);
    CU_ASSERT_EQUAL(hb, 1);
    hb = 0;
    CU_ASSERT_EQUAL(bnc_cidr_parse("1.0.0.0/0", &c, &hb), -1);
    CU_ASSERT_EQUAL(hb, 1);
    hb = 0;
    CU_ASSERT_EQUAL(bnc_cidr_parse("2001:db8::1/64", &c, &hb), -1);
    CU_ASSERT_EQUAL(hb, 1);
    hb = 0;
    CU_ASSERT_EQUAL(bnc_cidr_parse("::1/127", &c, &hb), -1);
    CU_ASSERT_EQUAL(hb, 1);
    hb = 0;
    CU_ASSERT_EQUAL(bnc_cidr_parse("::ffff:10.0.0.1/104", &c, &hb), -1);
    CU_ASSERT_EQUAL(hb, 1);
    CU_ASSERT_EQUAL(bnc_cidr_parse("10.0.0.1/8", &c, NULL), -1);

    /* garbage: host_bits stays 0 */
    static const char *const bad[] = {
        "", "/", "/8", "10.0.0.0/", "10.0.0.0/33", "::/129", "10.0.0.0/-1",
        "10.0.0.0/+8", "10.0.0.0/08", "10.0.0.0/8/8", "10.0.0.0 /8",
        "10.0.0.0/ 8", "10.0.0.0/8 ", "10.0.0/8", "10.0.0.0/1000",
        "10.0.0.0/4294967304", "a.b.c.d/8", "2001:db8::/3x", "::ffff:1.2.3/120",
        "fe80::/10%eth0", "[::]/0", "10.0.0.0/0x8",
        "1234567890123456789012345678901234567890123456789012345678901234/8",
    };
    size_t i;

    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        hb = 5;
        if (bnc_cidr_parse(bad[i], &c, &hb) != -1 || hb != 0) {
            printf("\ncidr '%s' accepted or host_bits=%d\n", bad[i], hb);
            CU_FAIL("cidr garbage");
        }
    }
    CU_ASSERT_EQUAL(bnc_cidr_parse(NULL, &c, &hb), -1);
}

static int
cidr_has(const char *cidr, const char *addr)
{
    struct bnc_cidr c;
    struct bnc_addr a;

    CU_ASSERT_EQUAL_FATAL(bnc_cidr_parse(cidr, &c, NULL), 0);
    CU_ASSERT_EQUAL_FATAL(bnc_addr_parse(addr, &a), 0);
    return bnc_cidr_match(&c, &a);
}

static void
test_util_cidr_match(void)
{
    CU_ASSERT(cidr_has("10.0.0.0/8", "10.0.0.0"));
    CU_ASSERT(cidr_has("10.0.0.0/8", "10.255.255.255"));
    CU_ASSERT(!cidr_has("10.0.0.0/8", "11.0.0.0"));
    CU_ASSERT(!cidr_has("10.0.0.0/8", "9.255.255.255"));
    CU_ASSERT(cidr_has("10.0.0.0/8", "::ffff:10.1.2.3"));
    CU_ASSERT(cidr_has("0.0.0.0/0", "255.255.255.255"));
    CU_ASSERT(cidr_has("0.0.0.0/0", "::ffff:1.2.3.4"));
    CU_ASSERT(!cidr_has("0.0.0.0/0", "2001:db8::1"));
    CU_ASSERT(!cidr_has("0.0.0.0/0", "::"));
    CU_ASSERT(cidr_has("192.0.2.1/32", "192.0.2.1"));
    CU_ASSERT(!cidr_has("192.0.2.1/32", "192.0.2.0"));
    CU_ASSERT(cidr_has("192.0.2.1", "192.0.2.1"));
    CU_ASSERT(cidr_has("192.0.2.128/25", "192.0.2.200"));
    CU_ASSERT(!cidr_has("192.0.2.128/25", "192.0.2.127"));
    CU_ASSERT(cidr_has("172.16.0.0/12", "172.31.255.255"));
    CU_ASSERT(!cidr_has("172.16.0.0/12", "172.32.0.0"));
    CU_ASSERT(cidr_has("2001:db8::/32", "2001:db8:ffff:ffff::1"));
    CU_ASSERT(!cidr_has("2001:db8::/32", "2001:db9::"));
    CU_ASSERT(cidr_has("2001:db8::/33", "2001:db8:7fff::"));
    CU_ASSERT(!cidr_has("2001:db8::/33", "2001:db8:8000::"));
    CU_ASSERT(cidr_has("::1/128", "::1"));
    CU_ASSERT(!cidr_has("::1/128", "::2"));
    CU_ASSERT(!cidr_has("::1/128", "127.0.0.1"));
    CU_ASSERT(cidr_has("::/0", "2001:db8::1"));
    /* ::/0 and ::/64 include the mapped range, hence IPv4 clients */
    CU_ASSERT(cidr_has("::/0", "192.0.2.1"));
    CU_ASSERT(cidr_has("::/64", "192.0.2.1"));
    CU_ASSERT(!cidr_has("2001:db8::/32", "192.0.2.1"));
    /* IPv4 blocks never match real IPv6 */
    CU_ASSERT(!cidr_has("10.0.0.0/8", "a00::"));
    CU_ASSERT(!cidr_has("10.0.0.0/8", "::10.0.0.1"));
    /* a mapped block is the IPv4 block */
    CU_ASSERT(cidr_has("::ffff:10.0.0.0/104", "10.9.9.9"));
    CU_ASSERT(cidr_has("::ffff:10.0.0.0/104", "::ffff:10.9.9.9"));
    CU_ASSERT(!cidr_has("::ffff:10.0.0.0/104", "11.0.0.0"));
    CU_ASSERT_EQUAL(bnc_cidr_match(NULL, NULL), 0);
}

static const struct bnc_unit_case cases[] = {
    {"test_util_b64_rfc4648", test_util_b64_rfc4648},
    {"test_util_b64_binary_roundtrip", test_util_b64_binary_roundtrip},
    {"test_util_b64_strict", test_util_b64_strict},
    {"test_util_b64url_strict", test_util_b64url_strict},
    {"test_util_str_durations", test_util_str_durations},
    {"test_util_str_sizes", test_util_str_sizes},
    {"test_util_str_u64", test_util_str_u64},
    {"test_util_str_bools", test_util_str_bools},
    {"test_util_str_split_list", test_util_str_split_list},
    {"test_util_str_utf8", test_util_str_utf8},
    {"test_util_str_misc", test_util_str_misc},
    {"test_util_buf_json", test_util_buf_json},
    {"test_util_buf_logfmt", test_util_buf_logfmt},
    {"test_util_buf_basics", test_util_buf_basics},
    {"test_util_cidr_addr", test_util_cidr_addr},
    {"test_util_cidr_parse", test_util_cidr_parse},
    {"test_util_cidr_match", test_util_cidr_match},
    {NULL, NULL},
};

BNC_UNIT_MAIN("util", cases, NULL, NULL)
