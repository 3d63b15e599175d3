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

#endif
