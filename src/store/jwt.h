/* SPDX-License-Identifier: MIT */
/* JWT state in the store: the denylist of revoked jti (BNC_KV_JWT_DENY)
 * and the refresh-token families (BNC_KV_JWT_FAMILY). A JWT itself is
 * never stored. */
#ifndef BNC_STORE_JWT_H
#define BNC_STORE_JWT_H

#include <stddef.h>
#include <stdint.h>
#include "store/store.h"

#define BNC_JWT_DENY_RECORD_VERSION 1
#define BNC_JWT_JTI_MAX 255   /* bytes; longer jti are refused before any lookup */

/* Revokes jti until expires (unix seconds; after that the token is dead by
 * itself and gc may drop the entry). Idempotent: a later expiry wins. */
int bnc_store_jwt_deny(struct bnc_store *s, const char *jti, int64_t expires,
                       enum bnc_store_sync sync);
/* 1 if jti is on the denylist, 0 if not, or a negative BNC_STORE_* code
 * (the caller must then deny: fail closed). One get. */
int bnc_store_jwt_denied(struct bnc_store *s, const char *jti);
/* Removes entries whose expiry is before now; *count (may be NULL) removed. */
int bnc_store_jwt_deny_gc(struct bnc_store *s, int64_t now, size_t *count);

/* ---- refresh-token families (BNC_KV_JWT_FAMILY) ----------------------
 * A family is one login at POST /auth/token: every refresh token rotated
 * out of it carries the same family id (claim "fam"). The record says
 * which refresh token of the family is the current one, so a token
 * presented again after its rotation (a stolen copy, or the victim after
 * the thief) is recognised and the whole family revoked (reuse detection).
 * key = the family id's bytes; value = format version byte, then
 * (big-endian) user id u32, created i64, expires i64, flags u8 (bit 0
 * revoked), jti length u8 + bytes, user name length u8 + bytes. */
#define BNC_JWT_FAMILY_RECORD_VERSION 1
#define BNC_JWT_FAMILY_ID_MAX 64   /* bytes of the family id */

struct bnc_jwt_family {
    uint32_t user_id;
    char *user;           /* name at issue, for listings and logs */
    int64_t created;      /* unix seconds: the login */
    int64_t expires;      /* expiry of the newest refresh token */
    char *jti;            /* jti of the current refresh token */
    int revoked;
};

void bnc_jwt_family_cleanup(struct bnc_jwt_family *f);
/* Record codec, exposed for tests. encode: *out malloc'ed; 0 or -1. */
int bnc_jwt_family_encode(const struct bnc_jwt_family *f, unsigned char **out,
                          size_t *len);
int bnc_jwt_family_decode(const unsigned char *p, size_t len,
                          struct bnc_jwt_family *f, struct bnc_err *err);

/* Stores a new family under id. EXISTS if the id is taken. */
int bnc_store_jwt_family_add(struct bnc_store *s, const char *id,
                             const struct bnc_jwt_family *f,
                             enum bnc_store_sync sync);
/* One get: OK (out filled), NOTFOUND, ERROR or DEAD. */
int bnc_store_jwt_family_get(struct bnc_store *s, const char *id,
                             struct bnc_jwt_family *out);

/* What bnc_store_jwt_family_use() found. */
enum bnc_jwt_family_state {
    BNC_JWT_FAMILY_CURRENT = 0,  /* jti was the current token: used (rotated) */
    BNC_JWT_FAMILY_MISSING,      /* no such family (or gc'ed) */
    BNC_JWT_FAMILY_REVOKED,      /* revoked earlier: refused */
    BNC_JWT_FAMILY_REUSED        /* jti is an older token: family revoked now */
};

/* The refresh step, in one transaction: when family id is live and jti is
 * its current token, makes new_jti the current one (new_jti NULL: no
 * rotation, the same token stays current) and raises expires to
 * new_expires; when jti is not the current token, revokes the family.
 * *state tells which; *out (may be NULL) gets the record as it was found.
 * Returns OK (see *state), ERROR or DEAD. */
int bnc_store_jwt_family_use(struct bnc_store *s, const char *id,
                             const char *jti, const char *new_jti,
                             int64_t new_expires,
                             enum bnc_jwt_family_state *state,
                             struct bnc_jwt_family *out,
                             enum bnc_store_sync sync);
/* Revokes the family (idempotent). OK, NOTFOUND, ERROR or DEAD. */
int bnc_store_jwt_family_revoke(struct bnc_store *s, const char *id,
                                enum bnc_store_sync sync);
/* Removes families whose expiry is before now (revoked or not: their
 * tokens are dead by themselves then); *count (may be NULL) removed. */
int bnc_store_jwt_family_gc(struct bnc_store *s, int64_t now, size_t *count);

#endif
