/* SPDX-License-Identifier: MIT */
/* Loading keys the way [jwt] names them (DESIGN 8): PEM files, HMAC secret
 * files and JWKS files, each key tied to one algorithm; and the public JWKS
 * of what we verify with. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <string.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "jwt/internal.h"
#include "util/b64.h"
#include "util/mem.h"

#define BNC_JWT_FILE_MAX (1024 * 1024)

/* Reads a whole key file. secret: refuse group-writable or world-accessible
 * files (OpenBSD check_file_secrecy), as a leaked or swapped key is
 * worth every token. The caller wipes and frees *data. */
static int
bnc_jwt_read_file(const char *path, int secret, char **data, size_t *len,
                  unsigned *mode, struct bnc_err *err)
{
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        bnc_err_set(err, "%s: %s", path, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
        st.st_size > BNC_JWT_FILE_MAX) {
        bnc_err_set(err, "%s: not a regular file of at most 1 MiB", path);
        close(fd);
        return -1;
    }
    if (secret && (st.st_mode & (S_IWGRP | S_IRWXO)) != 0) {
        bnc_err_set(err, "%s: holds a secret key but its mode is %04o; make "
                    "it 0600 or 0640 (chmod go-w,o-r)", path,
                    (unsigned)(st.st_mode & 07777));
        close(fd);
        return -1;
    }
    if (mode != NULL)
        *mode = (unsigned)st.st_mode;
    *data = bnc_read_fd(fd, (size_t)st.st_size, len);
    close(fd);
    return 0;
}

static void
bnc_jwt_wipe_free(char *p, size_t n)
{
    if (p != NULL) {
        bnc_memzero(p, n);
        free(p);
    }
}

/* "kid: VALUE" on a line before the PEM block (RFC 7468 allows text
 * outside the boundaries; OpenSSL skips it): how `bouncerctl jwt keygen
 * --kid` names a PEM key. Returns a malloc'ed kid or NULL. */
static char *
bnc_jwt_pem_kid(const char *text)
{
    const char *p = text, *end, *begin = strstr(text, "-----BEGIN");

    while (p != NULL && (begin == NULL || p < begin)) {
        end = strchr(p, '\n');
        if (strncmp(p, "kid: ", 5) == 0) {
            size_t n = (end != NULL ? (size_t)(end - p) : strlen(p)) - 5;

            while (n > 0 && (p[5 + n - 1] == '\r' || p[5 + n - 1] == ' '))
                n--;
            if (n > 0 && n <= BNC_JWT_KID_MAX)
                return bnc_strndup(p + 5, n);
        }
        p = end != NULL ? end + 1 : NULL;
    }
    return NULL;
}

/* A PEM key (private or public, any of OpenSSL's PEM forms). alg NONE =
 * the key's own type decides (RSA -> RS256). */
static struct bnc_jwt_key *
bnc_jwt_load_pem(const char *path, const char *text, size_t len,
                 enum bnc_jwt_alg alg, int want_private, struct bnc_err *err)
{
    OSSL_DECODER_CTX *dc;
    EVP_PKEY *pkey = NULL;
    const unsigned char *p = (const unsigned char *)text;
    size_t left = len;
    struct bnc_jwt_key *k;
    struct bnc_err e2;
    char tp[64];
    int is_private = strstr(text, "PRIVATE KEY-----") != NULL;

    if (strstr(text, "ENCRYPTED") != NULL) {
        bnc_err_set(err, "%s: encrypted PEM keys are not supported (bouncer "
                    "starts unattended)", path);
        return NULL;
    }
    if (want_private && !is_private) {
        bnc_err_set(err, "%s: the signing key must be a PEM private key",
                    path);
        return NULL;
    }
    dc = OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", NULL, NULL, 0, NULL,
                                       NULL);
    /* Never a passphrase prompt from a daemon: an empty one fails fast. */
    if (dc == NULL || OSSL_DECODER_CTX_set_passphrase(dc, (const unsigned char *)"", 0) != 1 ||
        OSSL_DECODER_from_data(dc, &p, &left) != 1 || pkey == NULL) {
        OSSL_DECODER_CTX_free(dc);
        EVP_PKEY_free(pkey);
        ERR_clear_error();
        bnc_err_set(err, "%s: not a PEM key OpenSSL can read", path);
        return NULL;
    }
    OSSL_DECODER_CTX_free(dc);
    if (alg == BNC_JWT_ALG_NONE)
        alg = bnc_jwt_alg_of_pkey(pkey, BNC_JWT_RS256);
    bnc_err_clear(&e2);
    if (bnc_jwt_key_check(alg, pkey, &e2) != 0) {
        bnc_err_set(err, "%s: %s", path, e2.msg);
        EVP_PKEY_free(pkey);
        return NULL;
    }
    k = bnc_calloc(1, sizeof(*k));
    k->alg = alg;
    k->pkey = pkey;
    k->is_private = is_private;
    k->kid = bnc_jwt_pem_kid(text);
    /* No kid written: the RFC 7638 thumbprint, stable across reloads and
     * the same in our JWKS and our tokens. */
    if (k->kid == NULL && bnc_jwt_key_thumbprint(k, tp, sizeof(tp)) == 0)
        k->kid = bnc_strdup(tp);
    return k;
}

static struct bnc_jwt_key *
bnc_jwt_load_secret(const char *path, char *text, size_t len,
                    enum bnc_jwt_alg alg, struct bnc_err *err)
{
    struct bnc_jwt_key *k;
    struct bnc_err e2;

    /* DESIGN 8: one trailing newline is not part of the secret. */
    if (len > 0 && text[len - 1] == '\n')
        len--;
    bnc_err_clear(&e2);
    k = bnc_jwt_key_hmac(alg, (const unsigned char *)text, len, &e2);
    if (k == NULL)
        bnc_err_set(err, "%s: %s", path, e2.msg);
    return k;
}

/* One base64url member of a JWK, decoded; exact = required length or 0. */
static unsigned char *
bnc_jwt_jwk_b64(json_t *jwk, const char *name, size_t exact, size_t *len)
{
    const char *s = json_string_value(json_object_get(jwk, name));
    unsigned char *out;
    size_t n;

    if (s == NULL || *s == '\0')
        return NULL;
    n = strlen(s);
    out = bnc_malloc(n);
    if (bnc_b64url_decode(s, n, out, n, len) != 0 || *len == 0 ||
        (exact != 0 && *len != exact)) {
        free(out);
        return NULL;
    }
    return out;
}

static EVP_PKEY *
bnc_jwt_jwk_fromdata(const char *type, OSSL_PARAM_BLD *bld)
{
    OSSL_PARAM *params = OSSL_PARAM_BLD_to_param(bld);
    EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, type, NULL);
    EVP_PKEY *pkey = NULL;

    if (params == NULL || ctx == NULL || EVP_PKEY_fromdata_init(ctx) != 1 ||
        EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
        pkey = NULL;
    OSSL_PARAM_free(params);
    EVP_PKEY_CTX_free(ctx);
    return pkey;
}

static EVP_PKEY *
bnc_jwt_jwk_rsa(json_t *jwk)
{
    unsigned char *n = NULL, *e = NULL;
    size_t nl = 0, el = 0;
    BIGNUM *bn = NULL, *be = NULL;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    n = bnc_jwt_jwk_b64(jwk, "n", 0, &nl);
    e = bnc_jwt_jwk_b64(jwk, "e", 0, &el);
    if (n == NULL || e == NULL || el > 8)
        goto out;
    bn = BN_bin2bn(n, (int)nl, NULL);
    be = BN_bin2bn(e, (int)el, NULL);
    bld = OSSL_PARAM_BLD_new();
    if (bn == NULL || be == NULL || bld == NULL ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn) != 1 ||
        OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be) != 1)
        goto out;
    pkey = bnc_jwt_jwk_fromdata("RSA", bld);
out:
    OSSL_PARAM_BLD_free(bld);
    BN_free(bn);
    BN_free(be);
    free(n);
    free(e);
    return pkey;
}

static EVP_PKEY *
bnc_jwt_jwk_ec(json_t *jwk, enum bnc_jwt_alg alg)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(alg);
    unsigned char *x = NULL, *y = NULL, pt[1 + 2 * 66];
    size_t xl = 0, yl = 0;
    OSSL_PARAM_BLD *bld = NULL;
    EVP_PKEY *pkey = NULL;

    /* RFC 7518 6.2.1.2 wants full-length coordinates; PyJWT before 2.8
     * writes them without leading zeros, so shorter ones are padded (same
     * integer), longer ones refused. */
    x = bnc_jwt_jwk_b64(jwk, "x", 0, &xl);
    y = bnc_jwt_jwk_b64(jwk, "y", 0, &yl);
    if (x == NULL || y == NULL || xl > ai->coord_len || yl > ai->coord_len)
        goto out;
    /* Uncompressed point; OpenSSL refuses one that is not on the curve. */
    memset(pt, 0, sizeof(pt));
    pt[0] = 0x04;
    memcpy(pt + 1 + ai->coord_len - xl, x, xl);
    memcpy(pt + 1 + 2 * ai->coord_len - yl, y, yl);
    xl = yl = ai->coord_len;
    bld = OSSL_PARAM_BLD_new();
    if (bld == NULL ||
        OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
                                        ai->curve, 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
                                         1 + xl + yl) != 1)
        goto out;
    pkey = bnc_jwt_jwk_fromdata("EC", bld);
out:
    OSSL_PARAM_BLD_free(bld);
    free(x);
    free(y);
    return pkey;
}

/* One JWK of a JWKS file. NULL with err, or NULL without err = skipped
 * (an encryption key). */
static struct bnc_jwt_key *
bnc_jwt_load_jwk(const char *path, size_t idx, json_t *jwk,
                 enum bnc_jwt_alg fallback, struct bnc_err *err)
{
    const char *kty = json_string_value(json_object_get(jwk, "kty"));
    const char *alg_s = json_string_value(json_object_get(jwk, "alg"));
    const char *use = json_string_value(json_object_get(jwk, "use"));
    const char *crv = json_string_value(json_object_get(jwk, "crv"));
    json_t *kidj = json_object_get(jwk, "kid");
    enum bnc_jwt_alg alg = bnc_jwt_alg_parse(alg_s);
    struct bnc_jwt_key *k = NULL;
    struct bnc_err e2;
    EVP_PKEY *pkey = NULL;
    unsigned char *sec;
    size_t n = 0;
    char tp[64];

    if (!json_is_object(jwk) || kty == NULL) {
        bnc_err_set(err, "%s: key %zu: not a JWK (no \"kty\")", path, idx);
        return NULL;
    }
    if (use != NULL && strcmp(use, "sig") != 0)
        return NULL;
    if (kidj != NULL && (!json_is_string(kidj) ||
                         json_string_length(kidj) == 0 ||
                         json_string_length(kidj) > BNC_JWT_KID_MAX)) {
        bnc_err_set(err, "%s: key %zu: \"kid\" must be a string of 1 to %d "
                    "bytes", path, idx, BNC_JWT_KID_MAX);
        return NULL;
    }
    if (alg_s != NULL && alg == BNC_JWT_ALG_NONE) {
        bnc_err_set(err, "%s: key %zu: unsupported \"alg\" '%s'", path, idx,
                    alg_s);
        return NULL;
    }
    /* A key without "alg" gets the one its curve implies; RSA and
     * secrets are ambiguous and need it (or [jwt] algorithm to fit). */
    if (alg == BNC_JWT_ALG_NONE && crv != NULL) {
        alg = strcmp(crv, "P-256") == 0 ? BNC_JWT_ES256
            : strcmp(crv, "P-384") == 0 ? BNC_JWT_ES384
            : strcmp(crv, "P-521") == 0 ? BNC_JWT_ES512
            : strcmp(crv, "Ed25519") == 0 ? BNC_JWT_EDDSA : BNC_JWT_ALG_NONE;
    }
    if (alg == BNC_JWT_ALG_NONE && strcmp(kty, "RSA") == 0 &&
        bnc_jwt_alg_info(fallback) != NULL &&
        (bnc_jwt_alg_info(fallback)->kind == BNC_JWT_KIND_RSA ||
         bnc_jwt_alg_info(fallback)->kind == BNC_JWT_KIND_PSS))
        alg = fallback;
    if (alg == BNC_JWT_ALG_NONE && strcmp(kty, "oct") == 0 &&
        bnc_jwt_alg_is_hmac(fallback))
        alg = fallback;
    if (alg == BNC_JWT_ALG_NONE) {
        bnc_err_set(err, "%s: key %zu: no \"alg\", and none follows from it",
                    path, idx);
        return NULL;
    }
    bnc_err_clear(&e2);
    if (strcmp(kty, "oct") == 0) {
        sec = bnc_jwt_jwk_b64(jwk, "k", 0, &n);
        if (sec == NULL) {
            bnc_err_set(err, "%s: key %zu: bad \"k\"", path, idx);
            return NULL;
        }
        k = bnc_jwt_key_hmac(alg, sec, n, &e2);
        bnc_memzero(sec, n);
        free(sec);
    } else {
        if (strcmp(kty, "RSA") == 0)
            pkey = bnc_jwt_jwk_rsa(jwk);
        else if (strcmp(kty, "EC") == 0 &&
                 bnc_jwt_alg_info(alg)->kind == BNC_JWT_KIND_EC)
            pkey = bnc_jwt_jwk_ec(jwk, alg);
        else if (strcmp(kty, "OKP") == 0 && crv != NULL &&
                 strcmp(crv, "Ed25519") == 0) {
            unsigned char *x = bnc_jwt_jwk_b64(jwk, "x", 32, &n);

            if (x != NULL)
                pkey = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519", NULL,
                                                      x, n);
            free(x);
        } else {
            bnc_err_set(err, "%s: key %zu: kty '%s' does not fit alg %s",
                        path, idx, kty, bnc_jwt_alg_name(alg));
            return NULL;
        }
        ERR_clear_error();
        if (pkey == NULL) {
            bnc_err_set(err, "%s: key %zu: invalid %s public key", path, idx,
                        kty);
            return NULL;
        }
        if (bnc_jwt_key_check(alg, pkey, &e2) == 0) {
            k = bnc_calloc(1, sizeof(*k));
            k->alg = alg;
            k->pkey = pkey;
        } else {
            EVP_PKEY_free(pkey);
        }
    }
    if (k == NULL) {
        bnc_err_set(err, "%s: key %zu: %s", path, idx, e2.msg);
        return NULL;
    }
    if (kidj != NULL)
        k->kid = bnc_strdup(json_string_value(kidj));
    else if (k->pkey != NULL && bnc_jwt_key_thumbprint(k, tp, sizeof(tp)) == 0)
        k->kid = bnc_strdup(tp);
    return k;
}

static int
bnc_jwt_keys_same(const struct bnc_jwt_key *a, const struct bnc_jwt_key *b)
{
    if (a->alg != b->alg)
        return 0;
    if (a->secret != NULL && b->secret != NULL)
        return bnc_memeq_ct(a->secret, a->secret_len, b->secret,
                            b->secret_len);
    return a->pkey != NULL && b->pkey != NULL &&
           EVP_PKEY_eq(a->pkey, b->pkey) == 1;
}

/* Adds k to the verifying set (taking it), or drops it when the same key
 * is there already. -1 with err on a clash of kid or too many keys. */
static int
bnc_jwt_keyset_add(struct bnc_jwt_keyset *ks, struct bnc_jwt_key *k,
                   const char *path, struct bnc_err *err)
{
    size_t i;

    for (i = 0; i < ks->nkeys; i++) {
        if (bnc_jwt_keys_same(ks->keys[i], k)) {
            /* The signer stays its own object (its kid is what tokens
             * carry); a duplicate verifying key is just dropped. */
            if (k != ks->signer)
                bnc_jwt_key_free(k);
            return 0;
        }
        if (k->kid != NULL && ks->keys[i]->kid != NULL &&
            strcmp(k->kid, ks->keys[i]->kid) == 0) {
            bnc_err_set(err, "%s: kid '%s' is used by two different keys",
                        path, k->kid);
            if (k != ks->signer)
                bnc_jwt_key_free(k);
            return -1;
        }
    }
    if (ks->nkeys >= BNC_JWT_KEYS_MAX) {
        bnc_err_set(err, "%s: more than %d verifying keys", path,
                    BNC_JWT_KEYS_MAX);
        if (k != ks->signer)
            bnc_jwt_key_free(k);
        return -1;
    }
    bnc_jwt_sig_prepare(k);
    ks->keys = bnc_realloc(ks->keys, (ks->nkeys + 1) * sizeof(*ks->keys));
    ks->keys[ks->nkeys++] = k;
    if (k == ks->signer)
        ks->signer_owned = 0;
    return 0;
}

static int
bnc_jwt_keyset_add_file(struct bnc_jwt_keyset *ks, enum bnc_jwt_alg algorithm,
                        const char *path, struct bnc_err *err)
{
    char *text = NULL;
    const char *p;
    size_t len = 0, i;
    json_t *doc, *arr;
    json_error_t je;
    struct bnc_jwt_key *k;
    unsigned mode = 0;
    int rc = -1, hmac = bnc_jwt_alg_is_hmac(algorithm);

    /* Whether this file is a secret is known only after reading it; an
     * HMAC configuration's files are treated as secrets throughout. */
    if (bnc_jwt_read_file(path, hmac, &text, &len, &mode, err) != 0)
        return -1;
    for (p = text; *p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'; p++)
        ;
    if (*p == '{') {
        doc = json_loadb(text, len, JSON_REJECT_DUPLICATES, &je);
        arr = json_object_get(doc, "keys");
        if (!json_is_array(arr)) {
            bnc_err_set(err, "%s: not a JWKS (%s)", path,
                        doc == NULL ? je.text : "no \"keys\" array");
            json_decref(doc);
            goto out;
        }
        for (i = 0; i < json_array_size(arr); i++) {
            struct bnc_err e2;

            bnc_err_clear(&e2);
            k = bnc_jwt_load_jwk(path, i, json_array_get(arr, i), algorithm,
                                 &e2);
            if (k == NULL && e2.set) {
                bnc_err_set(err, "%s", e2.msg);
                json_decref(doc);
                goto out;
            }
            /* An "oct" key is a secret wherever it is kept. */
            if (k != NULL && k->secret != NULL &&
                (mode & (S_IWGRP | S_IRWXO)) != 0) {
                bnc_err_set(err, "%s: holds an HMAC secret (key %zu) but its "
                            "mode is %04o; make it 0600 or 0640", path, i,
                            mode & 07777);
                bnc_jwt_key_free(k);
                json_decref(doc);
                goto out;
            }
            if (k != NULL && bnc_jwt_keyset_add(ks, k, path, err) != 0) {
                json_decref(doc);
                goto out;
            }
        }
        json_decref(doc);
        rc = 0;
        goto out;
    }
    if (strstr(text, "-----BEGIN") != NULL) {
        if (hmac) {
            bnc_err_set(err, "%s: a PEM key, but algorithm is %s (a PEM or "
                        "secret file is allowed only [jwt] algorithm; use a "
                        "JWKS file to mix algorithms)", path,
                        bnc_jwt_alg_name(algorithm));
            goto out;
        }
        k = bnc_jwt_load_pem(path, text, len, algorithm, 0, err);
    } else if (hmac) {
        k = bnc_jwt_load_secret(path, text, len, algorithm, err);
    } else {
        bnc_err_set(err, "%s: neither a JWKS nor a PEM key (an HMAC secret "
                    "file needs algorithm HS256/384/512)", path);
        goto out;
    }
    if (k != NULL)
        rc = bnc_jwt_keyset_add(ks, k, path, err);
out:
    bnc_jwt_wipe_free(text, len);
    return rc;
}

struct bnc_jwt_keyset *
bnc_jwt_keyset_load(enum bnc_jwt_alg algorithm, const char *signing_path,
                    const char *const *verifying_paths, struct bnc_err *err)
{
    struct bnc_jwt_keyset *ks = bnc_calloc(1, sizeof(*ks));
    char *text = NULL;
    size_t len = 0, i;

    if (signing_path != NULL) {
        int hmac = bnc_jwt_alg_is_hmac(algorithm);

        if (bnc_jwt_read_file(signing_path, 1, &text, &len, NULL, err) != 0)
            goto fail;
        ks->signer = hmac ? bnc_jwt_load_secret(signing_path, text, len,
                                                algorithm, err)
                          : bnc_jwt_load_pem(signing_path, text, len,
                                             algorithm, 1, err);
        bnc_jwt_wipe_free(text, len);
        if (ks->signer == NULL)
            goto fail;
        ks->signer_owned = 1;
    }
    for (i = 0; verifying_paths != NULL && verifying_paths[i] != NULL; i++)
        if (bnc_jwt_keyset_add_file(ks, algorithm, verifying_paths[i], err) != 0)
            goto fail;
    /* Our own tokens must verify: the signing key always verifies too. */
    if (ks->signer != NULL &&
        bnc_jwt_keyset_add(ks, ks->signer, signing_path, err) != 0)
        goto fail;
    if (ks->nkeys == 0) {
        bnc_err_set(err, "no JWT key: set signing_key or verifying_keys");
        goto fail;
    }
    return ks;
fail:
    bnc_jwt_keyset_free(ks);
    return NULL;
}

void
bnc_jwt_keyset_free(struct bnc_jwt_keyset *ks)
{
    size_t i;

    if (ks == NULL)
        return;
    for (i = 0; i < ks->nkeys; i++)
        bnc_jwt_key_free(ks->keys[i]);
    if (ks->signer_owned)
        bnc_jwt_key_free(ks->signer);
    free(ks->keys);
    free(ks);
}

int
bnc_jwt_keyset_can_sign(const struct bnc_jwt_keyset *ks)
{
    return ks != NULL && ks->signer != NULL;
}

void
bnc_jwt_keyset_jwks(const struct bnc_jwt_keyset *ks, struct bnc_buf *out)
{
    json_t *doc = json_object(), *arr = json_array();
    char *s;
    size_t i;

    for (i = 0; ks != NULL && i < ks->nkeys; i++) {
        const struct bnc_jwt_key *k = ks->keys[i];
        json_t *jwk;

        if (k->pkey == NULL)
            continue; /* HMAC secrets are never published */
        jwk = bnc_jwt_key_public_jwk(k);
        if (jwk == NULL)
            continue;
        if (k->kid != NULL)
            json_object_set_new(jwk, "kid", json_string(k->kid));
        json_object_set_new(jwk, "alg", json_string(bnc_jwt_alg_name(k->alg)));
        json_object_set_new(jwk, "use", json_string("sig"));
        json_array_append_new(arr, jwk);
    }
    json_object_set_new(doc, "keys", arr);
    s = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (s != NULL)
        bnc_buf_puts(out, s);
    free(s);
    json_decref(doc);
}
