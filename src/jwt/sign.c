/* SPDX-License-Identifier: MIT */
/* Compact JWS signing with the keyset's one signing key. */
#include <stdlib.h>
#include <string.h>

#include "jwt/internal.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/mem.h"

static void
bnc_jwt_put_b64(struct bnc_buf *b, const void *p, size_t n)
{
    char *s = bnc_malloc(bnc_b64_encoded_size(n));

    bnc_b64url_encode(p, n, s);
    bnc_buf_puts(b, s);
    free(s);
}

char *
bnc_jwt_sign(const struct bnc_jwt_keyset *ks, json_t *payload,
             struct bnc_err *err)
{
    const struct bnc_jwt_key *k = ks != NULL ? ks->signer : NULL;
    unsigned char sig[BNC_JWT_SIG_MAX];
    size_t siglen = 0;
    struct bnc_buf b;
    json_t *hdr;
    char *h, *p, *out;

    if (k == NULL) {
        bnc_err_set(err, "no signing key configured ([jwt] signing_key)");
        return NULL;
    }
    if (!json_is_object(payload)) {
        bnc_err_set(err, "the payload must be a JSON object");
        return NULL;
    }
    hdr = json_object();
    json_object_set_new(hdr, "alg", json_string(bnc_jwt_alg_name(k->alg)));
    json_object_set_new(hdr, "typ", json_string("JWT"));
    if (k->kid != NULL)
        json_object_set_new(hdr, "kid", json_string(k->kid));
    h = json_dumps(hdr, JSON_COMPACT | JSON_PRESERVE_ORDER);
    p = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(hdr);
    if (h == NULL || p == NULL) {
        free(h);
        free(p);
        bnc_err_set(err, "cannot encode the token as JSON");
        return NULL;
    }
    bnc_buf_init(&b);
    bnc_jwt_put_b64(&b, h, strlen(h));
    bnc_buf_putc(&b, '.');
    bnc_jwt_put_b64(&b, p, strlen(p));
    free(h);
    free(p);
    if (bnc_jwt_sig_sign(k, b.data, b.len, sig, sizeof(sig), &siglen,
                         err) != 0) {
        bnc_buf_cleanup(&b);
        return NULL;
    }
    bnc_buf_putc(&b, '.');
    bnc_jwt_put_b64(&b, sig, siglen);
    out = bnc_strdup(bnc_buf_str(&b));
    bnc_buf_cleanup(&b);
    return out;
}
