/* SPDX-License-Identifier: MIT */
/* JSON Web Tokens (RFC 7515/7519) compatible with djangorestframework-
 * simplejwt: keys, verification and signing on OpenSSL EVP and jansson.
 * No hand-written cryptography. The jwt scheme (src/schemes/jwt.c), the
 * Responder's /auth/token endpoints (src/fcgi/jwt_api.c) and
 * `bouncerctl jwt` share this interface. */
#ifndef BNC_JWT_JWT_H
#define BNC_JWT_JWT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include "util/err.h"
#include "util/buf.h"

struct bnc_conf;
struct bnc_conf_section;

enum bnc_jwt_alg {
    BNC_JWT_ALG_NONE = 0,   /* never accepted: "unknown" */
    BNC_JWT_HS256, BNC_JWT_HS384, BNC_JWT_HS512,
    BNC_JWT_RS256, BNC_JWT_RS384, BNC_JWT_RS512,
    BNC_JWT_PS256, BNC_JWT_PS384, BNC_JWT_PS512,
    BNC_JWT_ES256, BNC_JWT_ES384, BNC_JWT_ES512,
    BNC_JWT_EDDSA           /* Ed25519 only */
};

/* "HS256" ... "EdDSA" (exact case, RFC 7518 names) -> alg; NONE if unknown. */
enum bnc_jwt_alg bnc_jwt_alg_parse(const char *name);
const char *bnc_jwt_alg_name(enum bnc_jwt_alg a);
int bnc_jwt_alg_is_hmac(enum bnc_jwt_alg a);

/* One key with the one algorithm it may be used with. Opaque. */
struct bnc_jwt_key;
/* The verifying keys (several during a rotation) and at most one signing
 * key. Immutable once loaded; shared read-only by all threads. */
struct bnc_jwt_keyset;

/* Loads the keys the way [jwt] names them (DESIGN 8): signing_path (PEM
 * private key, or a file holding the HMAC secret; may be NULL when bouncer
 * only verifies) used with algorithm; verifying paths (JWKS files, PEM
 * public keys, HMAC secret files; NULL-terminated, may be NULL = the
 * signing key). A key from a JWKS file is allowed only its "alg"; a PEM or
 * secret file only `algorithm`; algorithm BNC_JWT_ALG_NONE lets a PEM
 * key's type decide (EC by curve, Ed25519, RSA = RS256: `jwt jwks FILE`).
 * The signing key is always also a verifying key. NULL with err on any problem (unreadable
 * file, key type that does not fit the algorithm, HMAC secret shorter than
 * the hash, RSA under 2048 bits, duplicate kid). */
struct bnc_jwt_keyset *bnc_jwt_keyset_load(enum bnc_jwt_alg algorithm,
                                           const char *signing_path,
                                           const char *const *verifying_paths,
                                           struct bnc_err *err);
void bnc_jwt_keyset_free(struct bnc_jwt_keyset *ks);
int bnc_jwt_keyset_can_sign(const struct bnc_jwt_keyset *ks);
/* The public JWKS ({"keys":[...]}) of the asymmetric verifying keys, with
 * kid, alg, use "sig"; HMAC secrets are never published. Appends to out. */
void bnc_jwt_keyset_jwks(const struct bnc_jwt_keyset *ks, struct bnc_buf *out);

/* Why a token was refused: each has a precise message for the client
 * (error_description) and the log. */
enum bnc_jwt_status {
    BNC_JWT_OK = 0,
    BNC_JWT_MALFORMED,      /* not three base64url parts, bad JSON, not objects ... */
    BNC_JWT_TOO_LARGE,
    BNC_JWT_BAD_ALG,        /* alg missing, "none", or not the key's */
    BNC_JWT_NO_KEY,         /* no key for this kid / alg */
    BNC_JWT_BAD_SIGNATURE,
    BNC_JWT_CRIT,           /* unknown "crit" header */
    BNC_JWT_EXPIRED,
    BNC_JWT_NOT_YET_VALID,  /* nbf in the future */
    BNC_JWT_IAT_FUTURE,
    BNC_JWT_BAD_ISSUER,
    BNC_JWT_BAD_AUDIENCE,
    BNC_JWT_BAD_TYPE,       /* token_type is not the one expected */
    BNC_JWT_BAD_CLAIM       /* a required claim missing or of the wrong type */
};

struct bnc_jwt_verify_opts {
    int64_t now;            /* unix seconds */
    int64_t leeway;         /* seconds */
    const char *issuer;     /* NULL = not checked */
    const char *audience;   /* NULL = not checked; else aud (string or array) must hold it */
    const char *token_type; /* "access", "refresh", or NULL = not checked */
    size_t max_len;         /* 0 = the built-in limit (8 KiB) */
};

/* Verifies token (len bytes, not NUL-terminated necessarily): signature
 * with the key kid/alg select (never the other way round), then the time
 * and identity claims (exp is required, whatever token_type). On OK, *payload (if not NULL) gets the claims
 * object (caller json_decref's). On failure why gets a short reason for
 * the log and the client (never the token). */
enum bnc_jwt_status bnc_jwt_verify(const struct bnc_jwt_keyset *ks,
                                   const char *token, size_t len,
                                   const struct bnc_jwt_verify_opts *o,
                                   json_t **payload, char *why, size_t whylen);

/* Signs payload with the signing key (header: alg, typ "JWT", kid if the
 * key has one). Returns a malloc'ed compact JWS, or NULL with err. */
char *bnc_jwt_sign(const struct bnc_jwt_keyset *ks, json_t *payload,
                   struct bnc_err *err);

/* Writes a new key for alg to path (mode 0600, refusing to overwrite):
 * PEM private key for RS256 (3072 bits), ES256, EdDSA; 64 random bytes,
 * base64url-encoded on one line, for HS256 (the secret file's bytes are the
 * secret). 0 or -1 with err. */
int bnc_jwt_keygen(enum bnc_jwt_alg alg, const char *path,
                   struct bnc_err *err);
/* Same, with kid written on a "kid: K" line before the PEM block (where the
 * loader finds it; a PEM key without one gets its RFC 7638 thumbprint as
 * kid). kid must be NULL for HMAC. path NULL = standard output. */
int bnc_jwt_keygen_ex(enum bnc_jwt_alg alg, const char *path,
                      const char *kid, struct bnc_err *err);

/* A short fixed text per status ("Token is expired"), for logs and the
 * simplejwt-shaped "messages" of a 401. Static. */
const char *bnc_jwt_status_text(enum bnc_jwt_status st);

/* ---- [jwt] configuration (DESIGN 8), shared by the scheme and the
 * Responder; built by the runtime when [jwt] exists or jwt is a scheme. */
struct bnc_jwt_conf {
    struct bnc_jwt_keyset *keys;
    enum bnc_jwt_alg algorithm;   /* what bouncer signs with; default HS256 */
    char *issuer;                 /* NULL = none (not set, not checked) */
    char *audience;               /* NULL = none */
    int64_t leeway;               /* default 0 */
    int64_t access_lifetime;      /* default 300 */
    int64_t refresh_lifetime;     /* default 86400 */
    int rotate_refresh;           /* default no (simplejwt ROTATE_REFRESH_TOKENS) */
    char **header_types;          /* default Bearer (simplejwt AUTH_HEADER_TYPES) */
    int check_user;               /* default yes */
    char *user_id_claim;          /* default "user_id" (simplejwt USER_ID_CLAIM) */
    int user_id_is_name;          /* user_id claim holds the name, not the numeric id */
    char **claims;                /* claims exported as AUTH_CLAIM_<NAME>; NULL = none */
    char **extra_claims;          /* added to issued tokens: groups, scopes, name, email */
    size_t max_len;               /* bytes of a token; default 8192 */
    /* [jwt] keys: algorithm, signing_key, verifying_keys, issuer, audience,
     * leeway, access_lifetime, refresh_lifetime, rotate_refresh,
     * header_types, check_user, user_id_claim, user_id_field (id |
     * username -> user_id_is_name), claims, extra_claims, max_length. */
};

/* Reads [jwt] (section may be NULL: defaults; then there is no key and
 * the jwt scheme refuses to start). Keys are loaded here, so a SIGHUP that
 * builds a new runtime reloads them. NULL with errors in d (file:line). */
struct bnc_jwt_conf *bnc_jwt_conf_load(const struct bnc_conf *c,
                                       struct bnc_conf_section *section,
                                       struct bnc_diag *d);
void bnc_jwt_conf_free(struct bnc_jwt_conf *jc);

#endif
