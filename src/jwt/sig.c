/* SPDX-License-Identifier: MIT */
/* Signing and verifying the JWS signing input with one key, on OpenSSL EVP
 * only. ECDSA travels in the JOSE form (RFC 7518 3.4: R||S, each exactly
 * the curve's size) and is converted to DER for EVP here; a DER signature
 * on the wire is refused by its length. */
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <string.h>

#include "crypto/ct.h"
#include "jwt/internal.h"

static int
bnc_jwt_sig_hmac(const struct bnc_jwt_key *k, const void *data, size_t len,
                 unsigned char *out, size_t *outlen)
{
    /* The keyed template is shared read-only; each use works on a copy so
     * threads never touch the same context. */
    EVP_MAC_CTX *c = EVP_MAC_CTX_dup(k->mac);
    int ok;

    if (c == NULL)
        return -1;
    ok = EVP_MAC_update(c, data, len) &&
         EVP_MAC_final(c, out, outlen, EVP_MAX_MD_SIZE);
    EVP_MAC_CTX_free(c);
    return ok ? 0 : -1;
}

/* Digest context set up for alg's padding (PSS: salt = hash length, both
 * ways, RFC 7518 3.5). */
static EVP_MD_CTX *
bnc_jwt_sig_ctx(const struct bnc_jwt_key *k, int sign)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(k->alg);
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    EVP_PKEY_CTX *pctx = NULL;
    int ok;

    if (md == NULL || ai == NULL)
        goto fail;
    ok = sign ? EVP_DigestSignInit_ex(md, &pctx, ai->digest, NULL, NULL,
                                      k->pkey, NULL)
              : EVP_DigestVerifyInit_ex(md, &pctx, ai->digest, NULL, NULL,
                                        k->pkey, NULL);
    if (ok != 1)
        goto fail;
    if (ai->kind == BNC_JWT_KIND_PSS &&
        (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) <= 0 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) <= 0))
        goto fail;
    if (ai->kind == BNC_JWT_KIND_RSA &&
        EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) <= 0)
        goto fail;
    return md;
fail:
    EVP_MD_CTX_free(md);
    return NULL;
}

/* JOSE R||S -> DER. r or s of zero is refused before OpenSSL sees it. */
static int
bnc_jwt_sig_ec_der(const unsigned char *sig, size_t siglen, size_t n,
                   unsigned char **der, int *derlen)
{
    ECDSA_SIG *es = NULL;
    BIGNUM *r, *s;
    size_t i;
    int zr = 1, zs = 1;

    if (siglen != 2 * n)
        return -1;
    for (i = 0; i < n; i++) {
        zr &= sig[i] == 0;
        zs &= sig[n + i] == 0;
    }
    if (zr || zs)
        return -1;
    r = BN_bin2bn(sig, (int)n, NULL);
    s = BN_bin2bn(sig + n, (int)n, NULL);
    es = ECDSA_SIG_new();
    if (r == NULL || s == NULL || es == NULL || !ECDSA_SIG_set0(es, r, s)) {
        BN_free(r);
        BN_free(s);
        ECDSA_SIG_free(es);
        return -1;
    }
    *der = NULL;
    *derlen = i2d_ECDSA_SIG(es, der);
    ECDSA_SIG_free(es);
    return *derlen > 0 ? 0 : -1;
}

int
bnc_jwt_sig_verify(const struct bnc_jwt_key *k, const void *data, size_t len,
                   const unsigned char *sig, size_t siglen)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(k->alg);
    unsigned char mac[EVP_MAX_MD_SIZE], *der = NULL;
    size_t maclen = 0;
    EVP_MD_CTX *md;
    int good = 0, derlen = 0;

    if (ai == NULL)
        return 0;
    if (ai->kind == BNC_JWT_KIND_HMAC) {
        if (k->mac == NULL || bnc_jwt_sig_hmac(k, data, len, mac, &maclen) != 0)
            return 0;
        good = bnc_memeq_ct(mac, maclen, sig, siglen);
        bnc_memzero(mac, sizeof(mac));
        return good;
    }
    if (k->pkey == NULL)
        return 0;
    if (ai->kind == BNC_JWT_KIND_EC &&
        bnc_jwt_sig_ec_der(sig, siglen, ai->coord_len, &der, &derlen) != 0)
        return 0;
    if (ai->kind == BNC_JWT_KIND_ED && siglen != 64)
        return 0;
    /* A copy of the prepared context skips OpenSSL 3's per-init fetches
     * and key-context setup, most of the cost after the maths itself. */
    md = NULL;
    if (k->vtmpl != NULL) {
        md = EVP_MD_CTX_new();
        if (md != NULL && EVP_MD_CTX_copy_ex(md, k->vtmpl) != 1) {
            EVP_MD_CTX_free(md);
            md = NULL;
        }
    }
    if (md == NULL)
        md = bnc_jwt_sig_ctx(k, 0);
    if (md != NULL) {
        if (der != NULL)
            good = EVP_DigestVerify(md, der, (size_t)derlen, data, len) == 1;
        else
            good = EVP_DigestVerify(md, sig, siglen, data, len) == 1;
    }
    EVP_MD_CTX_free(md);
    OPENSSL_free(der);
    /* A failed verification leaves reasons on the thread's error queue;
     * they would pile up in a long-lived worker. */
    ERR_clear_error();
    return good;
}

void
bnc_jwt_sig_prepare(struct bnc_jwt_key *k)
{
    EVP_MD_CTX *probe;

    if (k->pkey == NULL || k->vtmpl != NULL)
        return;
    k->vtmpl = bnc_jwt_sig_ctx(k, 0);
    /* Some providers cannot duplicate a context (EdDSA before OpenSSL
     * 3.2): then verify sets one up each time. */
    probe = k->vtmpl != NULL ? EVP_MD_CTX_new() : NULL;
    if (probe == NULL || EVP_MD_CTX_copy_ex(probe, k->vtmpl) != 1) {
        EVP_MD_CTX_free(k->vtmpl);
        k->vtmpl = NULL;
    }
    EVP_MD_CTX_free(probe);
    ERR_clear_error();
}

/* DER from EVP -> JOSE R||S, each left-padded to n bytes. */
static int
bnc_jwt_sig_ec_jose(const unsigned char *der, size_t derlen, size_t n,
                    unsigned char *out, size_t cap, size_t *outlen)
{
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    const BIGNUM *r, *s;
    int ok;

    if (es == NULL || cap < 2 * n) {
        ECDSA_SIG_free(es);
        return -1;
    }
    ECDSA_SIG_get0(es, &r, &s);
    ok = BN_bn2binpad(r, out, (int)n) == (int)n &&
         BN_bn2binpad(s, out + n, (int)n) == (int)n;
    ECDSA_SIG_free(es);
    *outlen = 2 * n;
    return ok ? 0 : -1;
}

int
bnc_jwt_sig_sign(const struct bnc_jwt_key *k, const void *data, size_t len,
                 unsigned char *sig, size_t cap, size_t *siglen,
                 struct bnc_err *err)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(k->alg);
    unsigned char der[256];
    size_t n = 0;
    EVP_MD_CTX *md;
    int rc = -1;

    if (ai == NULL) {
        bnc_err_set(err, "unknown algorithm");
        return -1;
    }
    if (ai->kind == BNC_JWT_KIND_HMAC) {
        if (cap < EVP_MAX_MD_SIZE || k->mac == NULL ||
            bnc_jwt_sig_hmac(k, data, len, sig, siglen) != 0) {
            bnc_err_set(err, "HMAC failed");
            return -1;
        }
        return 0;
    }
    if (k->pkey == NULL || !k->is_private) {
        bnc_err_set(err, "the signing key is not a private key");
        return -1;
    }
    md = bnc_jwt_sig_ctx(k, 1);
    if (md == NULL)
        goto out;
    if (ai->kind == BNC_JWT_KIND_EC) {
        n = sizeof(der);
        if (EVP_DigestSign(md, der, &n, data, len) != 1 ||
            bnc_jwt_sig_ec_jose(der, n, ai->coord_len, sig, cap, siglen) != 0)
            goto out;
    } else {
        if (EVP_DigestSign(md, NULL, &n, data, len) != 1 || n > cap ||
            EVP_DigestSign(md, sig, &n, data, len) != 1)
            goto out;
        *siglen = n;
    }
    rc = 0;
out:
    if (rc != 0)
        bnc_err_set(err, "%s signature failed: %s", ai->name,
                    ERR_reason_error_string(ERR_peek_last_error())
                        ? ERR_reason_error_string(ERR_peek_last_error())
                        : "OpenSSL error");
    ERR_clear_error();
    EVP_MD_CTX_free(md);
    return rc;
}
