/* SPDX-License-Identifier: MIT */
/* Refresh-token families (store/jwt.h describes the record): one record
 * per login, read and rewritten in one transaction at every refresh so
 * that two refreshes racing with the same token cannot both win. */
#include <stdlib.h>
#include <string.h>

#include "store/codec.h"
#include "store/jwt.h"
#include "util/mem.h"

/* version, user id, created, expires, flags, jti length, name length */
#define BNC_JWT_FAMILY_FIXED_LEN (1 + 4 + 8 + 8 + 1)
#define BNC_JWT_FAMILY_REVOKED_FLAG 0x01u

void
bnc_jwt_family_cleanup(struct bnc_jwt_family *f)
{
    if (f == NULL)
        return;
    free(f->user);
    free(f->jti);
    memset(f, 0, sizeof(*f));
}

static int
bnc_jwt_family_id_ok(const char *id)
{
    size_t n = id != NULL ? strlen(id) : 0;

    return n > 0 && n <= BNC_JWT_FAMILY_ID_MAX;
}

int
bnc_jwt_family_encode(const struct bnc_jwt_family *f, unsigned char **out,
                      size_t *len)
{
    size_t jl = f->jti != NULL ? strlen(f->jti) : 0;
    size_t ul = f->user != NULL ? strlen(f->user) : 0;
    unsigned char *p;

    *out = NULL;
    *len = 0;
    /* One length byte each: a jti over 255 is refused before any write
     * (BNC_JWT_JTI_MAX), a name is at most 150. */
    if (jl == 0 || jl > BNC_JWT_JTI_MAX || ul > BNC_USER_NAME_MAX)
        return -1;
    p = bnc_malloc(BNC_JWT_FAMILY_FIXED_LEN + 2 + jl + ul);
    *out = p;
    p[0] = BNC_JWT_FAMILY_RECORD_VERSION;
    bnc_codec_put_u32(p + 1, f->user_id);
    bnc_codec_put_u64(p + 5, (uint64_t)f->created);
    bnc_codec_put_u64(p + 13, (uint64_t)f->expires);
    p[21] = f->revoked ? BNC_JWT_FAMILY_REVOKED_FLAG : 0;
    p += BNC_JWT_FAMILY_FIXED_LEN;
    *p++ = (unsigned char)jl;
    memcpy(p, f->jti, jl);
    p += jl;
    *p++ = (unsigned char)ul;
    if (ul > 0)
        memcpy(p, f->user, ul);
    *len = BNC_JWT_FAMILY_FIXED_LEN + 2 + jl + ul;
    return 0;
}

/* A u8-length string of at most max bytes, no NUL, UTF-8. */
static int
bnc_jwt_family_str(struct bnc_codec_rd *rd, const char *field, size_t max,
                   int required, char **out)
{
    size_t n;

    if (bnc_codec_need(rd, 1, field) != 0)
        return -1;
    n = rd->p[rd->off++];
    if (n > max || (required && n == 0)) {
        bnc_err_set(rd->err, "%s field '%s' has a bad length %zu", rd->what,
                    field, n);
        return -1;
    }
    if (bnc_codec_need(rd, n, field) != 0)
        return -1;
    if (memchr(rd->p + rd->off, '\0', n) != NULL ||
        !bnc_utf8_valid(rd->p + rd->off, n)) {
        bnc_err_set(rd->err, "%s field '%s' is not a valid string", rd->what,
                    field);
        return -1;
    }
    *out = bnc_strndup((const char *)rd->p + rd->off, n);
    rd->off += n;
    return 0;
}

int
bnc_jwt_family_decode(const unsigned char *p, size_t len,
                      struct bnc_jwt_family *f, struct bnc_err *err)
{
    struct bnc_codec_rd rd = {p, len, 0, err, "jwt family record"};
    unsigned flags;

    memset(f, 0, sizeof(*f));
    if (bnc_codec_version(p, len, BNC_JWT_FAMILY_RECORD_VERSION,
                          "jwt family record", err) != 0)
        return -1;
    if (bnc_codec_need(&rd, BNC_JWT_FAMILY_FIXED_LEN, "header") != 0)
        return -1;
    f->user_id = bnc_codec_get_u32(p + 1);
    f->created = (int64_t)bnc_codec_get_u64(p + 5);
    f->expires = (int64_t)bnc_codec_get_u64(p + 13);
    flags = p[21];
    if ((flags & ~BNC_JWT_FAMILY_REVOKED_FLAG) != 0) {
        bnc_err_set(err, "jwt family record has unknown flag bits 0x%02x",
                    flags);
        return -1;
    }
    f->revoked = (flags & BNC_JWT_FAMILY_REVOKED_FLAG) != 0;
    rd.off = BNC_JWT_FAMILY_FIXED_LEN;
    if (bnc_jwt_family_str(&rd, "jti", BNC_JWT_JTI_MAX, 1, &f->jti) != 0 ||
        bnc_jwt_family_str(&rd, "user", BNC_USER_NAME_MAX, 0, &f->user) != 0)
        goto bad;
    if (rd.off != len) {
        bnc_err_set(err, "jwt family record has %zu trailing bytes",
                    len - rd.off);
        goto bad;
    }
    return 0;
bad:
    bnc_jwt_family_cleanup(f);
    return -1;
}

/* ---- store operations -------------------------------------------------- */

struct bnc_jwt_family_op {
    const struct bnc_jwt_family *add;  /* add: the new record */
    const char *jti;                   /* use: the presented token */
    const char *new_jti;               /* use: its successor, or NULL */
    int64_t new_expires;
    int revoke;                        /* revoke */
    /* out, reset at every (re)try */
    int found;
    enum bnc_jwt_family_state state;
    struct bnc_jwt_family seen;
};

static int
bnc_jwt_family_write(const struct bnc_jwt_family *f, unsigned char **newv,
                     size_t *newlen)
{
    return bnc_jwt_family_encode(f, newv, newlen) == 0 ? BNC_KV_WRITE : -1;
}

static int
bnc_jwt_family_modify_fn(const unsigned char *old, size_t oldlen,
                         unsigned char **newv, size_t *newlen, void *arg)
{
    struct bnc_jwt_family_op *op = arg;
    struct bnc_jwt_family f;
    struct bnc_err err;
    char *keep;
    int rc;

    /* The store may call us again after a lock conflict. */
    bnc_jwt_family_cleanup(&op->seen);
    op->found = old != NULL;
    op->state = BNC_JWT_FAMILY_MISSING;
    if (op->add != NULL)
        return old != NULL ? BNC_KV_KEEP
                           : bnc_jwt_family_write(op->add, newv, newlen);
    if (old == NULL)
        return BNC_KV_KEEP;
    memset(&err, 0, sizeof(err));
    if (bnc_jwt_family_decode(old, oldlen, &f, &err) != 0)
        return -1; /* unreadable: the caller fails closed */
    /* What the caller sees is the record as found. */
    op->seen = f;
    op->seen.user = f.user != NULL ? bnc_strdup(f.user) : NULL;
    op->seen.jti = bnc_strdup(f.jti);
    if (op->revoke) {
        op->state = f.revoked ? BNC_JWT_FAMILY_REVOKED : BNC_JWT_FAMILY_CURRENT;
        rc = BNC_KV_KEEP;
        if (!f.revoked) {
            f.revoked = 1;
            rc = bnc_jwt_family_write(&f, newv, newlen);
        }
        bnc_jwt_family_cleanup(&f);
        return rc;
    }
    if (f.revoked) {
        op->state = BNC_JWT_FAMILY_REVOKED;
        rc = BNC_KV_KEEP;
    } else if (strcmp(f.jti, op->jti) != 0) {
        /* An older token of this family: someone holds a copy. */
        op->state = BNC_JWT_FAMILY_REUSED;
        f.revoked = 1;
        rc = bnc_jwt_family_write(&f, newv, newlen);
    } else {
        op->state = BNC_JWT_FAMILY_CURRENT;
        rc = BNC_KV_KEEP;
        if (op->new_jti != NULL) {
            keep = f.jti;
            f.jti = (char *)op->new_jti;
            if (op->new_expires > f.expires)
                f.expires = op->new_expires;
            rc = bnc_jwt_family_write(&f, newv, newlen);
            f.jti = keep;
        }
    }
    bnc_jwt_family_cleanup(&f);
    return rc;
}

static int
bnc_jwt_family_run(struct bnc_store *s, const char *id,
                   struct bnc_jwt_family_op *op, enum bnc_store_sync sync)
{
    int rc;

    if (!bnc_jwt_family_id_ok(id))
        return BNC_STORE_ERROR;
    rc = bnc_store_kv_modify(s, BNC_KV_JWT_FAMILY, id, strlen(id),
                             bnc_jwt_family_modify_fn, op, sync);
    if (rc != BNC_STORE_OK)
        bnc_jwt_family_cleanup(&op->seen);
    return rc;
}

int
bnc_store_jwt_family_add(struct bnc_store *s, const char *id,
                         const struct bnc_jwt_family *f,
                         enum bnc_store_sync sync)
{
    struct bnc_jwt_family_op op;
    int rc;

    memset(&op, 0, sizeof(op));
    op.add = f;
    rc = bnc_jwt_family_run(s, id, &op, sync);
    bnc_jwt_family_cleanup(&op.seen);
    if (rc == BNC_STORE_OK && op.found)
        return BNC_STORE_EXISTS;
    return rc;
}

int
bnc_store_jwt_family_get(struct bnc_store *s, const char *id,
                         struct bnc_jwt_family *out)
{
    unsigned char *v = NULL;
    size_t len = 0;
    struct bnc_err err;
    int rc;

    memset(out, 0, sizeof(*out));
    if (!bnc_jwt_family_id_ok(id))
        return BNC_STORE_ERROR;
    rc = bnc_store_kv_get(s, BNC_KV_JWT_FAMILY, id, strlen(id), &v, &len);
    if (rc == BNC_STORE_OK) {
        memset(&err, 0, sizeof(err));
        if (bnc_jwt_family_decode(v, len, out, &err) != 0)
            rc = BNC_STORE_ERROR;
    }
    free(v);
    return rc;
}

int
bnc_store_jwt_family_use(struct bnc_store *s, const char *id, const char *jti,
                         const char *new_jti, int64_t new_expires,
                         enum bnc_jwt_family_state *state,
                         struct bnc_jwt_family *out, enum bnc_store_sync sync)
{
    struct bnc_jwt_family_op op;
    int rc;

    *state = BNC_JWT_FAMILY_MISSING;
    if (out != NULL)
        memset(out, 0, sizeof(*out));
    if (jti == NULL || *jti == '\0' ||
        (new_jti != NULL && (*new_jti == '\0' ||
                             strlen(new_jti) > BNC_JWT_JTI_MAX)))
        return BNC_STORE_ERROR;
    memset(&op, 0, sizeof(op));
    op.jti = jti;
    op.new_jti = new_jti;
    op.new_expires = new_expires;
    rc = bnc_jwt_family_run(s, id, &op, sync);
    if (rc != BNC_STORE_OK)
        return rc;
    *state = op.state;
    if (out != NULL)
        *out = op.seen;
    else
        bnc_jwt_family_cleanup(&op.seen);
    return BNC_STORE_OK;
}

int
bnc_store_jwt_family_revoke(struct bnc_store *s, const char *id,
                            enum bnc_store_sync sync)
{
    struct bnc_jwt_family_op op;
    int rc;

    memset(&op, 0, sizeof(op));
    op.revoke = 1;
    rc = bnc_jwt_family_run(s, id, &op, sync);
    bnc_jwt_family_cleanup(&op.seen);
    if (rc == BNC_STORE_OK && !op.found)
        return BNC_STORE_NOTFOUND;
    return rc;
}

static int
bnc_jwt_family_gc_visit(const unsigned char *key, size_t klen,
                        const unsigned char *val, size_t vlen, void *arg)
{
    int64_t now = *(const int64_t *)arg;

    (void)key;
    (void)klen;
    /* Only the fixed header is needed; a newer format is kept. */
    if (vlen < BNC_JWT_FAMILY_FIXED_LEN ||
        val[0] != BNC_JWT_FAMILY_RECORD_VERSION)
        return BNC_KV_KEEP;
    return (int64_t)bnc_codec_get_u64(val + 13) < now ? BNC_KV_DELETE
                                                      : BNC_KV_KEEP;
}

int
bnc_store_jwt_family_gc(struct bnc_store *s, int64_t now, size_t *count)
{
    return bnc_store_kv_foreach(s, BNC_KV_JWT_FAMILY, bnc_jwt_family_gc_visit,
                                &now, count);
}
