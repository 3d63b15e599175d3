/* SPDX-License-Identifier: MIT */
/* Base64 (RFC 4648 section 4) and base64url (section 5), strict decoding. */
#ifndef BNC_UTIL_B64_H
#define BNC_UTIL_B64_H

#include <stddef.h>

/* Size needed to encode n bytes, including the NUL. */
size_t bnc_b64_encoded_size(size_t n);
/* Encodes with padding; out must hold bnc_b64_encoded_size(n). Returns length. */
size_t bnc_b64_encode(const unsigned char *in, size_t n, char *out);
/* URL-safe alphabet, no padding. */
size_t bnc_b64url_encode(const unsigned char *in, size_t n, char *out);

/* Strict decode: standard alphabet, padding required to a multiple of 4, no
 * whitespace, no bits set in the unused tail (non-canonical input refused).
 * out must hold at least (len/4)*3 bytes (cap). Returns 0 and *outlen, or -1. */
int bnc_b64_decode(const char *in, size_t len, unsigned char *out, size_t cap,
                   size_t *outlen);
/* URL-safe alphabet, padding optional but must be correct if present. */
int bnc_b64url_decode(const char *in, size_t len, unsigned char *out,
                      size_t cap, size_t *outlen);

#endif
