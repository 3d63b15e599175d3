/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the bytes as a compact JWS through bnc_jwt_verify,
 * against a keyset of every kind (HMAC, RSA PKCS#1 and PSS, ECDSA, Ed25519:
 * the RFC 7515 A.1 secret, PyJWT's public keys of test_jwt.c, the RFC 8037
 * key) at a fixed time. Byte 0 picks the options (issuer/audience, token
 * type, leeway, size limit); the rest is the token. A token may be accepted
 * only in the strict compact form, with claims that pass every check; an
 * accepted payload re-signed with the HMAC key must verify again. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jwt/jwt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

#define BNC_FUZZ_CHECK(cond)                                                 \
    do {                                                                     \
        if (!(cond)) {                                                       \
            fprintf(stderr, "fuzz_jwt: check failed: %s\n", #cond);         \
            abort();                                                         \
        }                                                                    \
    } while (0)

#define BNC_FUZZ_NOW INT64_C(1800000000)
#define BNC_FUZZ_N \
    "xqaNeZRASj3MTCvE7virK1dDyoa-k-5KNB0pAeCSvS9r5xMbNbqwpmN44g01vVzLDlONH7cwO8zfUZ1NNZkLx6xL_FN5Kff1FZRFNWF4Q8qYxpHajpUmfVw3GohEZx4RVgRuGO7cf5uZ7k7h1LBpeKvJM_lueYiZF3382Fhf5--P39QHxoeGufbgnCXsR5M-yiIg3fBZ50kpfXlGjXqP8ZigpiO7kIxKVYsDT09pvgeZJO7ly2k9wWZVlEhnI0yjrLF2iOlGqQx5VjepMeIR7wJuF7QEbaFO_UnHa6JuMGqqB9WWS9-RhdMxJbTtyoHEnLXr0O6-GiqDWiggqYRSYw"
static const char bnc_fuzz_jwks[] =
    "{\"keys\":["
    "{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"},"
    "{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\",\"kid\":\"kat-es\",\"x\":\"E703xTFD6_6G1C7G5Gz6xH-mwn6rnRj2kVTWDVH9W3A\",\"y\":\"d1F9XLqkHs4Hjn8VOHPD5j9cSTBgsDBzs0Uc6Ntc_4k\"},"
    "{\"kty\":\"RSA\",\"alg\":\"RS256\",\"kid\":\"kat-rs\",\"e\":\"AQAB\",\"n\":\"" BNC_FUZZ_N "\"},"
    "{\"kty\":\"RSA\",\"alg\":\"PS256\",\"kid\":\"kat-ps\",\"e\":\"AQAB\",\"n\":\"" BNC_FUZZ_N "\"},"
    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}"
    "]}";

static struct bnc_jwt_keyset *bnc_fuzz_ks;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char path[] = "/tmp/bnc-fuzz-jwt-XXXXXX";
    const char *paths[2] = {path, NULL};
    struct bnc_err err;
    int fd = mkstemp(path);

    (void)argc;
    (void)argv;
    BNC_FUZZ_CHECK(fd >= 0);
    BNC_FUZZ_CHECK(write(fd, bnc_fuzz_jwks, sizeof(bnc_fuzz_jwks) - 1) ==
                   (ssize_t)(sizeof(bnc_fuzz_jwks) - 1));
    close(fd);
    bnc_err_clear(&err);
    bnc_fuzz_ks = bnc_jwt_keyset_load(BNC_JWT_ALG_NONE, NULL, paths, &err);
    unlink(path);
    if (bnc_fuzz_ks == NULL)
        fprintf(stderr, "fuzz_jwt: %s\n", err.msg);
    BNC_FUZZ_CHECK(bnc_fuzz_ks != NULL);
    return 0;
}

static int
bnc_fuzz_b64url(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct bnc_jwt_verify_opts o;
    enum bnc_jwt_status st, st2;
    json_t *claims = NULL, *v;
    const char *tok;
    char why[200];
    size_t len, i, dots = 0;

    if (bnc_fuzz_ks == NULL)
        LLVMFuzzerInitialize(NULL, NULL);
    if (size == 0)
        return 0;
    memset(&o, 0, sizeof(o));
    o.now = BNC_FUZZ_NOW;
    if (data[0] & 1) {
        o.issuer = "joe";
        o.audience = "api";
    }
    o.token_type = (data[0] & 2) ? NULL : "access";
    o.leeway = (data[0] & 4) ? 60 : 0;
    o.max_len = (data[0] & 8) ? 600 : 0;
    tok = (const char *)data + 1;
    len = size - 1;
    why[0] = 'x';
    st = bnc_jwt_verify(bnc_fuzz_ks, tok, len, &o, &claims, why, sizeof(why));
    BNC_FUZZ_CHECK(st >= BNC_JWT_OK && st <= BNC_JWT_BAD_CLAIM);
    BNC_FUZZ_CHECK(memchr(why, '\0', sizeof(why)) != NULL);
    BNC_FUZZ_CHECK(bnc_jwt_status_text(st) != NULL);
    /* Same bytes, same answer (no state, no randomness). */
    st2 = bnc_jwt_verify(bnc_fuzz_ks, tok, len, &o, NULL, NULL, 0);
    BNC_FUZZ_CHECK(st2 == st);
    if (st != BNC_JWT_OK) {
        BNC_FUZZ_CHECK(claims == NULL);
        BNC_FUZZ_CHECK(why[0] != '\0');
        return 0;
    }
    /* Accepted: the strict compact form, and claims that hold. */
    BNC_FUZZ_CHECK(len <= (o.max_len ? o.max_len : 8192));
    for (i = 0; i < len; i++) {
        BNC_FUZZ_CHECK(bnc_fuzz_b64url((unsigned char)tok[i]));
        dots += tok[i] == '.';
    }
    BNC_FUZZ_CHECK(dots == 2);
    BNC_FUZZ_CHECK(json_is_object(claims));
    v = json_object_get(claims, "exp");
    if (o.token_type != NULL) {
        BNC_FUZZ_CHECK(json_is_number(v));
        BNC_FUZZ_CHECK(json_number_value(v) > (double)(o.now - o.leeway));
        BNC_FUZZ_CHECK(json_is_string(json_object_get(claims, "token_type")));
        BNC_FUZZ_CHECK(strcmp(json_string_value(json_object_get(claims,
                                                                "token_type")),
                              "access") == 0);
    }
    if (o.issuer != NULL)
        BNC_FUZZ_CHECK(json_is_string(json_object_get(claims, "iss")) &&
                       strcmp(json_string_value(json_object_get(claims, "iss")),
                              "joe") == 0);
    json_decref(claims);
    return 0;
}
