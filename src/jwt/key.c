/* SPDX-License-Identifier: MIT */
/* One key and the one algorithm it may be used with: type checks, HMAC
 * setup, its public JWK (RFC 7517/7518 6, RFC 8037) and thumbprint (RFC
 * 7638). */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdlib.h>
#include <string.h>

#include "crypto/ct.h"
#include "crypto/digest.h"
#include "jwt/internal.h"
#include "util/b64.h"
#include "util/mem.h"

void
bnc_jwt_key_free(struct bnc_jwt_key *k)
{
    if (k == NULL)
        return;
    free(k->kid);
    EVP_PKEY_free(k->pkey);
    EVP_MAC_CTX_free(k->mac);
    EVP_MD_CTX_free(k->vtmpl);
    if (k->secret != NULL) {
        /* Keys are wiped when a reload drops them (STYLE 6). */
        bnc_memzero(k->secret, k->secret_len);
        free(k->secret);
    }
    free(k);
}

struct bnc_jwt_key *
bnc_jwt_key_hmac(enum bnc_jwt_alg alg, const unsigned char *secret,
                 size_t len, struct bnc_err *err)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(alg);
    struct bnc_jwt_key *k;
    OSSL_PARAM params[2];
    EVP_MAC *mac;

    if (ai == NULL || ai->kind != BNC_JWT_KIND_HMAC) {
        bnc_err_set(err, "an HMAC secret cannot be used with %s",
                    bnc_jwt_alg_name(alg));
        return NULL;
    }
    /* RFC 7518 3.2: a key of the same size as the hash output or larger. */
    if (len < ai->hash_len) {
        bnc_err_set(err, "%s secret of %zu bytes is too short (at least %zu)",
                    ai->name, len, ai->hash_len);
        return NULL;
    }
    k = bnc_calloc(1, sizeof(*k));
    k->alg = alg;
    k->secret = bnc_malloc(len);
    memcpy(k->secret, secret, len);
    k->secret_len = len;
    mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    k->mac = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    EVP_MAC_free(mac);
    params[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
                                                 (char *)ai->digest, 0);
    params[1] = OSSL_PARAM_construct_end();
    if (k->mac == NULL ||
        EVP_MAC_init(k->mac, k->secret, k->secret_len, params) != 1) {
        bnc_err_set(err, "OpenSSL cannot set up HMAC-%s", ai->digest);
        bnc_jwt_key_free(k);
        return NULL;
    }
    return k;
}

static const char *
bnc_jwt_key_group(EVP_PKEY *pkey, char *buf, size_t size)
{
    size_t n = 0;

    if (EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME, buf,
                                       size, &n) != 1)
        return "";
    return buf;
}

enum bnc_jwt_alg
bnc_jwt_alg_of_pkey(EVP_PKEY *pkey, enum bnc_jwt_alg rsa_alg)
{
    char g[64];
    const char *grp;

    if (EVP_PKEY_is_a(pkey, "ED25519"))
        return BNC_JWT_EDDSA;
    if (EVP_PKEY_is_a(pkey, "RSA"))
        return rsa_alg;
    if (EVP_PKEY_is_a(pkey, "EC")) {
        grp = bnc_jwt_key_group(pkey, g, sizeof(g));
        if (strcmp(grp, "prime256v1") == 0)
            return BNC_JWT_ES256;
        if (strcmp(grp, "secp384r1") == 0)
            return BNC_JWT_ES384;
        if (strcmp(grp, "secp521r1") == 0)
            return BNC_JWT_ES512;
    }
    return BNC_JWT_ALG_NONE;
}

int
bnc_jwt_key_check(enum bnc_jwt_alg alg, EVP_PKEY *pkey, struct bnc_err *err)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(alg);
    char g[64];

    if (ai == NULL) {
        bnc_err_set(err, "no algorithm for this key");
        return -1;
    }
    switch (ai->kind) {
    case BNC_JWT_KIND_HMAC:
        bnc_err_set(err, "%s needs an HMAC secret, not a public-key key "
                    "(no HMAC with a public key)", ai->name);
        return -1;
    case BNC_JWT_KIND_RSA:
    case BNC_JWT_KIND_PSS:
        if (!EVP_PKEY_is_a(pkey, "RSA") &&
            !(ai->kind == BNC_JWT_KIND_PSS && EVP_PKEY_is_a(pkey, "RSA-PSS"))) {
            bnc_err_set(err, "%s needs an RSA key", ai->name);
            return -1;
        }
        if (EVP_PKEY_get_bits(pkey) < 2048) {
            bnc_err_set(err, "RSA key of %d bits is too small for %s (at "
                        "least 2048)", EVP_PKEY_get_bits(pkey), ai->name);
            return -1;
        }
        return 0;
    case BNC_JWT_KIND_EC:
        if (!EVP_PKEY_is_a(pkey, "EC") ||
            strcmp(bnc_jwt_key_group(pkey, g, sizeof(g)), ai->curve) != 0) {
            bnc_err_set(err, "%s needs an EC key on curve %s", ai->name,
                        ai->curve);
            return -1;
        }
        return 0;
    case BNC_JWT_KIND_ED:
        if (!EVP_PKEY_is_a(pkey, "ED25519")) {
            bnc_err_set(err, "EdDSA needs an Ed25519 key");
            return -1;
        }
        return 0;
    }
    return -1;
}

static void
bnc_jwt_key_set_b64(json_t *o, const char *name, const unsigned char *p,
                    size_t n)
{
    char *s = bnc_malloc(bnc_b64_encoded_size(n));

    bnc_b64url_encode(p, n, s);
    json_object_set_new(o, name, json_string(s));
    free(s);
}

/* A BIGNUM member, big-endian; pad > 0 = exactly that many bytes. */
static int
bnc_jwt_key_set_bn(json_t *o, const char *member, EVP_PKEY *pkey,
                   const char *param, size_t pad)
{
    BIGNUM *bn = NULL;
    unsigned char *buf;
    size_t n;
    int rc = -1;

    if (EVP_PKEY_get_bn_param(pkey, param, &bn) != 1)
        return -1;
    n = pad > 0 ? pad : (size_t)BN_num_bytes(bn);
    if (n == 0)
        n = 1;
    buf = bnc_malloc(n);
    if (BN_bn2binpad(bn, buf, (int)n) == (int)n) {
        bnc_jwt_key_set_b64(o, member, buf, n);
        rc = 0;
    }
    free(buf);
    BN_free(bn);
    return rc;
}

json_t *
bnc_jwt_key_public_jwk(const struct bnc_jwt_key *k)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(k->alg);
    json_t *o;
    unsigned char raw[64];
    size_t n = sizeof(raw);
    int rc = 0;

    if (ai == NULL || k->pkey == NULL)
        return NULL;
    o = json_object();
    switch (ai->kind) {
    case BNC_JWT_KIND_RSA:
    case BNC_JWT_KIND_PSS:
        json_object_set_new(o, "kty", json_string("RSA"));
        rc |= bnc_jwt_key_set_bn(o, "n", k->pkey, OSSL_PKEY_PARAM_RSA_N, 0);
        rc |= bnc_jwt_key_set_bn(o, "e", k->pkey, OSSL_PKEY_PARAM_RSA_E, 0);
        break;
    case BNC_JWT_KIND_EC:
        json_object_set_new(o, "kty", json_string("EC"));
        json_object_set_new(o, "crv", json_string(
            k->alg == BNC_JWT_ES256 ? "P-256"
            : k->alg == BNC_JWT_ES384 ? "P-384" : "P-521"));
        rc |= bnc_jwt_key_set_bn(o, "x", k->pkey, OSSL_PKEY_PARAM_EC_PUB_X,
                                 ai->coord_len);
        rc |= bnc_jwt_key_set_bn(o, "y", k->pkey, OSSL_PKEY_PARAM_EC_PUB_Y,
                                 ai->coord_len);
        break;
    case BNC_JWT_KIND_ED:
        json_object_set_new(o, "kty", json_string("OKP"));
        json_object_set_new(o, "crv", json_string("Ed25519"));
        if (EVP_PKEY_get_raw_public_key(k->pkey, raw, &n) != 1)
            rc = -1;
        else
            bnc_jwt_key_set_b64(o, "x", raw, n);
        break;
    default:
        rc = -1;
    }
    if (rc != 0) {
        json_decref(o);
        return NULL;
    }
    return o;
}

int
bnc_jwt_key_thumbprint(const struct bnc_jwt_key *k, char *out, size_t size)
{
    /* RFC 7638 3: the required members only, sorted, no whitespace - which
     * is what the public JWK holds and jansson's compact sorted dump is. */
    json_t *o = bnc_jwt_key_public_jwk(k);
    unsigned char d[BNC_SHA256_LEN];
    char *s;

    if (o == NULL || size < bnc_b64_encoded_size(sizeof(d))) {
        json_decref(o);
        return -1;
    }
    s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (s == NULL)
        return -1;
    bnc_sha256(s, strlen(s), d);
    free(s);
    bnc_b64url_encode(d, sizeof(d), out);
    return 0;
}
