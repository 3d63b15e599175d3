/* SPDX-License-Identifier: MIT */
/* New signing keys for `bouncerctl jwt keygen`: written once, mode 0600,
 * never over an existing file. */
#include <errno.h>
#include <fcntl.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/ct.h"
#include "crypto/rand.h"
#include "jwt/internal.h"
#include "util/b64.h"
#include "util/buf.h"

#define BNC_JWT_RSA_BITS 3072
#define BNC_JWT_HMAC_BYTES 64

static EVP_PKEY *
bnc_jwt_keygen_pkey(enum bnc_jwt_alg alg)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(alg);

    switch (ai->kind) {
    case BNC_JWT_KIND_RSA:
    case BNC_JWT_KIND_PSS:
        return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)BNC_JWT_RSA_BITS);
    case BNC_JWT_KIND_EC:
        return EVP_PKEY_Q_keygen(NULL, NULL, "EC", ai->curve);
    case BNC_JWT_KIND_ED:
        return EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
    default:
        return NULL;
    }
}

/* Writes all of data to path (created 0600, O_EXCL) or stdout (NULL). */
static int
bnc_jwt_keygen_write(const char *path, const char *data, size_t len,
                     struct bnc_err *err)
{
    size_t off = 0;
    ssize_t w;
    int fd = 1;

    if (path != NULL) {
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0600);
        if (fd < 0) {
            bnc_err_set(err, "%s: %s", path,
                        errno == EEXIST ? "exists; not overwriting a key"
                                        : strerror(errno));
            return -1;
        }
    }
    while (off < len) {
        w = write(fd, data + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    if (path != NULL && (fsync(fd) != 0 || close(fd) != 0))
        off = 0;
    if (off < len) {
        bnc_err_set(err, "%s: write failed: %s", path ? path : "stdout",
                    strerror(errno));
        if (path != NULL)
            unlink(path);
        return -1;
    }
    return 0;
}

int
bnc_jwt_keygen_ex(enum bnc_jwt_alg alg, const char *path, const char *kid,
                  struct bnc_err *err)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(alg);
    unsigned char raw[BNC_JWT_HMAC_BYTES];
    char enc[2 * BNC_JWT_HMAC_BYTES];
    struct bnc_buf out;
    EVP_PKEY *pkey;
    BIO *bio;
    char *pem;
    long n;
    int rc;

    if (ai == NULL) {
        bnc_err_set(err, "unknown algorithm");
        return -1;
    }
    if (kid != NULL && (strlen(kid) == 0 || strlen(kid) > BNC_JWT_KID_MAX ||
                        strpbrk(kid, "\r\n") != NULL)) {
        bnc_err_set(err, "kid must be one line of 1 to %d bytes",
                    BNC_JWT_KID_MAX);
        return -1;
    }
    if (ai->kind == BNC_JWT_KIND_HMAC) {
        if (kid != NULL) {
            bnc_err_set(err, "an HMAC secret file holds only the secret; it "
                        "has no kid");
            return -1;
        }
        if (bnc_rand_bytes(raw, sizeof(raw)) != 0) {
            bnc_err_set(err, "random generator failed");
            return -1;
        }
        n = (long)bnc_b64url_encode(raw, sizeof(raw), enc);
        enc[n++] = '\n';
        rc = bnc_jwt_keygen_write(path, enc, (size_t)n, err);
        bnc_memzero(raw, sizeof(raw));
        bnc_memzero(enc, sizeof(enc));
        return rc;
    }
    pkey = bnc_jwt_keygen_pkey(alg);
    bio = BIO_new(BIO_s_secmem());
    if (pkey == NULL || bio == NULL ||
        PEM_write_bio_PrivateKey(bio, pkey, NULL, NULL, 0, NULL, NULL) != 1) {
        bnc_err_set(err, "OpenSSL could not make a %s key", ai->name);
        EVP_PKEY_free(pkey);
        BIO_free(bio);
        ERR_clear_error();
        return -1;
    }
    EVP_PKEY_free(pkey);
    n = BIO_get_mem_data(bio, &pem);
    bnc_buf_init(&out);
    /* The kid rides in front of the PEM block (see keyset.c). */
    if (kid != NULL)
        bnc_buf_printf(&out, "kid: %s\n", kid);
    bnc_buf_append(&out, pem, (size_t)n);
    rc = bnc_jwt_keygen_write(path, out.data, out.len, err);
    bnc_buf_cleanup(&out);
    BIO_free(bio);
    return rc;
}

int
bnc_jwt_keygen(enum bnc_jwt_alg alg, const char *path, struct bnc_err *err)
{
    return bnc_jwt_keygen_ex(alg, path, NULL, err);
}
