/* SPDX-License-Identifier: MIT */
/* Helpers shared by the files of src/migrate/ (not used elsewhere). */
#ifndef BNC_MIGRATE_PRIV_H
#define BNC_MIGRATE_PRIV_H

#include "migrate/migrate.h"

#define BNC_MIGRATE_EMAIL_MAX 254    /* RFC 5321 path limit, as user add */
#define BNC_MIGRATE_DISPLAY_MAX 255  /* as user add --name */

struct bnc_migrate_token *bnc_migrate_set_add_token(
    struct bnc_migrate_set *set);
/* UTF-8, no control characters, at most max bytes. 0 or -1 (err). */
int bnc_migrate_check_text(const char *what, const char *s, size_t max,
                           struct bnc_err *err);
int bnc_migrate_check_email(const char *e, struct bnc_err *err);
/* A hash bouncer can verify, or "" / "!" (no password). 0 or -1 (err). */
int bnc_migrate_check_hash(const char *hash, struct bnc_err *err);
const char *bnc_migrate_hash_kind(const char *hash);
/* The record encodes (store limits). 0 or -1 (err). */
int bnc_migrate_check_user(const struct bnc_user *u, struct bnc_err *err);

#endif
