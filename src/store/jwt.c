/* SPDX-License-Identifier: MIT */
/* The jti denylist: key = the jti's bytes, value = version byte + the
 * big-endian expiry, so gc can drop what can no longer be presented. */
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/jwt.h"
#include "util/mem.h"

#define BNC_JWT_DENY_LEN 9

static int
bnc_store_jwt_jti_ok(const char *jti)
{
    size_t n = jti != NULL ? strlen(jti) : 0;

    return n > 0 && n <= BNC_JWT_JTI_MAX;
}

static int
bnc_store_jwt_deny_expiry(const unsigned char *v, size_t len, int64_t *out)
{
    if (len != BNC_JWT_DENY_LEN || v[0] != BNC_JWT_DENY_RECORD_VERSION)
        return -1;
    *out = (int64_t)bnc_codec_get_u64(v + 1);
    return 0;
}

static int
bnc_store_jwt_deny_fn(const unsigned char *old, size_t oldlen,
                      unsigned char **newv, size_t *newlen, void *arg)
{
    int64_t expires = *(const int64_t *)arg, cur;

    if (old != NULL && bnc_store_jwt_deny_expiry(old, oldlen, &cur) == 0 &&
        cur >= expires)
        return BNC_KV_KEEP;
    *newv = bnc_malloc(BNC_JWT_DENY_LEN);
    (*newv)[0] = BNC_JWT_DENY_RECORD_VERSION;
    bnc_codec_put_u64(*newv + 1, (uint64_t)expires);
    *newlen = BNC_JWT_DENY_LEN;
    return BNC_KV_WRITE;
}

int
bnc_store_jwt_deny(struct bnc_store *s, const char *jti, int64_t expires,
                   enum bnc_store_sync sync)
{
    if (!bnc_store_jwt_jti_ok(jti))
        return BNC_STORE_ERROR;
    return bnc_store_kv_modify(s, BNC_KV_JWT_DENY, jti, strlen(jti),
                               bnc_store_jwt_deny_fn, &expires, sync);
}

int
bnc_store_jwt_denied(struct bnc_store *s, const char *jti)
{
    unsigned char *v = NULL;
    size_t len = 0;
    int rc;

    if (!bnc_store_jwt_jti_ok(jti))
        return BNC_STORE_ERROR;
    rc = bnc_store_kv_get(s, BNC_KV_JWT_DENY, jti, strlen(jti), &v, &len);
    free(v);
    if (rc == BNC_STORE_NOTFOUND)
        return 0;
    /* Any record, even one we cannot read, means revoked. */
    return rc == BNC_STORE_OK ? 1 : rc;
}

static int
bnc_store_jwt_gc_visit(const unsigned char *key, size_t klen,
                       const unsigned char *val, size_t vlen, void *arg)
{
    int64_t now = *(const int64_t *)arg, exp;

    (void)key;
    (void)klen;
    if (bnc_store_jwt_deny_expiry(val, vlen, &exp) != 0)
        return BNC_KV_KEEP; /* unknown format: a newer bouncer's, keep it */
    return exp < now ? BNC_KV_DELETE : BNC_KV_KEEP;
}

int
bnc_store_jwt_deny_gc(struct bnc_store *s, int64_t now, size_t *count)
{
    return bnc_store_kv_foreach(s, BNC_KV_JWT_DENY, bnc_store_jwt_gc_visit,
                                &now, count);
}
