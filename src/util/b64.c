/* SPDX-License-Identifier: MIT */
/* Base64 and base64url with strict, canonical-only decoding: two encodings of
 * one credential must not both be accepted (RFC 4648 section 3.5). */
#include <stdint.h>
#include <string.h>

#include "util/b64.h"

static const char bnc_b64_std[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char bnc_b64_url[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

size_t
bnc_b64_encoded_size(size_t n)
{
    return (n + 2) / 3 * 4 + 1;
}

static size_t
bnc_b64_encode_with(const char *alpha, int pad, const unsigned char *in,
                    size_t n, char *out)
{
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        out[o++] = alpha[(v >> 6) & 63];
        out[o++] = alpha[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        out[o++] = alpha[v >> 18];
        out[o++] = alpha[(v >> 12) & 63];
        if (i + 1 < n)
            out[o++] = alpha[(v >> 6) & 63];
        else if (pad)
            out[o++] = '=';
        if (pad)
            out[o++] = '=';
    }
    out[o] = '\0';
    return o;
}

size_t
bnc_b64_encode(const unsigned char *in, size_t n, char *out)
{
    return bnc_b64_encode_with(bnc_b64_std, 1, in, n, out);
}

size_t
bnc_b64url_encode(const unsigned char *in, size_t n, char *out)
{
    return bnc_b64_encode_with(bnc_b64_url, 0, in, n, out);
}

static int
bnc_b64_val(int url, unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == (url ? '-' : '+'))
        return 62;
    if (c == (url ? '_' : '/'))
        return 63;
    return -1;
}

/* Decodes len characters of data (no padding) into out. */
static int
bnc_b64_decode_core(int url, const char *in, size_t len, unsigned char *out,
                    size_t cap, size_t *outlen)
{
    size_t i, o = 0, need;
    uint32_t acc = 0;
    int bits = 0;

    if (len % 4 == 1)
        return -1;
    need = len / 4 * 3 + (len % 4 ? len % 4 - 1 : 0);
    if (need > cap)
        return -1;
    for (i = 0; i < len; i++) {
        int v = bnc_b64_val(url, (unsigned char)in[i]);
        if (v < 0)
            return -1;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    if (acc != 0)
        return -1; /* non-canonical: unused low bits set */
    *outlen = o;
    return 0;
}

int
bnc_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
               size_t *outlen)
{
    size_t data = len;

    if (len % 4 != 0)
        return -1;
    if (data > 0 && in[data - 1] == '=')
        data--;
    if (data > 0 && in[data - 1] == '=')
        data--;
    if (len - data > 0 && data % 4 < 2)
        return -1; /* "====" or "A===" */
    return bnc_b64_decode_core(0, in, data, out, cap, outlen);
}

int
bnc_b64url_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                  size_t *outlen)
{
    size_t data = len;

    if (data > 0 && in[data - 1] == '=')
        data--;
    if (data > 0 && in[data - 1] == '=')
        data--;
    if (data != len && len % 4 != 0)
        return -1; /* padding present but wrong */
    if (data != len && data % 4 < 2)
        return -1;
    return bnc_b64_decode_core(1, in, data, out, cap, outlen);
}
