/* SPDX-License-Identifier: MIT */
/* What the src/jwt/ files share and nothing else sees: the key and keyset
 * layout, the per-algorithm facts and the raw signature primitives. */
#ifndef BNC_JWT_INTERNAL_H
#define BNC_JWT_INTERNAL_H

#include <openssl/evp.h>
#include <stddef.h>
#include "jwt/jwt.h"

/* Largest signature any of our algorithms makes (RSA 16384 bits), and the
 * most keys one configuration may hold: verification tries every key of
 * the token's alg, so the count bounds the work per token. */
#define BNC_JWT_SIG_MAX 2048
#define BNC_JWT_KEYS_MAX 32
#define BNC_JWT_KID_MAX 128

enum bnc_jwt_kind { BNC_JWT_KIND_HMAC, BNC_JWT_KIND_RSA, BNC_JWT_KIND_PSS,
                    BNC_JWT_KIND_EC, BNC_JWT_KIND_ED };

struct bnc_jwt_alginfo {
    enum bnc_jwt_alg alg;
    const char *name;     /* RFC 7518 spelling */
    enum bnc_jwt_kind kind;
    const char *digest;   /* OpenSSL digest name; NULL for EdDSA */
    size_t hash_len;      /* bytes: HMAC secret minimum, PSS salt */
    const char *curve;    /* ES*: OpenSSL group name */
    size_t coord_len;     /* ES*: bytes of r and of s in the JOSE form */
};

const struct bnc_jwt_alginfo *bnc_jwt_alg_info(enum bnc_jwt_alg a);

struct bnc_jwt_key {
    enum bnc_jwt_alg alg;
    char *kid;                 /* NULL = none */
    EVP_PKEY *pkey;            /* asymmetric: public (and private if signing) */
    int is_private;
    unsigned char *secret;     /* HMAC */
    size_t secret_len;
    EVP_MAC_CTX *mac;          /* HMAC: keyed template, dup'ed per use */
    /* Asymmetric: a verification context set up once (algorithm fetches,
     * padding), copied per use; NULL = set one up each time. */
    EVP_MD_CTX *vtmpl;
};

struct bnc_jwt_keyset {
    struct bnc_jwt_key **keys; /* verifying keys */
    size_t nkeys;
    struct bnc_jwt_key *signer; /* may also be in keys; NULL = verify only */
    int signer_owned;           /* signer not in keys: freed separately */
};

void bnc_jwt_key_free(struct bnc_jwt_key *k);
/* A new HMAC key (copies secret); NULL with err if too short. */
struct bnc_jwt_key *bnc_jwt_key_hmac(enum bnc_jwt_alg alg,
                                     const unsigned char *secret, size_t len,
                                     struct bnc_err *err);
/* Checks that pkey fits alg (type, curve, RSA size); 0 or -1 with err. */
int bnc_jwt_key_check(enum bnc_jwt_alg alg, EVP_PKEY *pkey,
                      struct bnc_err *err);
/* The algorithm a PEM key implies: ES by curve, EdDSA, RSA -> rsa_alg. */
enum bnc_jwt_alg bnc_jwt_alg_of_pkey(EVP_PKEY *pkey, enum bnc_jwt_alg rsa_alg);
/* RFC 7638 thumbprint (base64url SHA-256) of an asymmetric key; 0 or -1. */
int bnc_jwt_key_thumbprint(const struct bnc_jwt_key *k, char *out,
                           size_t size);
/* The key's public JWK members (kty ... x/y/n/e), new object or NULL. */
json_t *bnc_jwt_key_public_jwk(const struct bnc_jwt_key *k);

/* Signature primitives over data (the JWS signing input). verify returns
 * 1 good, 0 bad; sign 0 or -1 with err. sig is the JOSE form (ECDSA raw
 * R||S). */
int bnc_jwt_sig_verify(const struct bnc_jwt_key *k, const void *data,
                       size_t len, const unsigned char *sig, size_t siglen);
/* Prepares k->vtmpl (best effort: without it verification still works). */
void bnc_jwt_sig_prepare(struct bnc_jwt_key *k);
int bnc_jwt_sig_sign(const struct bnc_jwt_key *k, const void *data,
                     size_t len, unsigned char *sig, size_t cap,
                     size_t *siglen, struct bnc_err *err);

#endif
