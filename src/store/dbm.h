/* SPDX-License-Identifier: MIT */
/* Reading a foreign Berkeley DB file: the user database Apache's htdbm
 * writes for mod_authn_dbm (AuthDBMType db). Only store/ includes db.h. */
#ifndef BNC_STORE_DBM_H
#define BNC_STORE_DBM_H

#include <stddef.h>
#include "util/err.h"

/* 1 if path starts like a Berkeley DB database file (hash or btree, either
 * byte order), 0 if not, -1 if it cannot be read. */
int bnc_store_dbm_probe(const char *path);

/* Calls fn for every record of the database at path, opened read-only and
 * outside any environment (the file is not ours: nothing is written to
 * it). Key and value are valid during the call only. fn returns 0 to go
 * on. 0, or -1 with err. */
typedef int (*bnc_store_dbm_fn)(const void *key, size_t klen,
                                const void *val, size_t vlen, void *arg);
int bnc_store_dbm_foreach(const char *path, bnc_store_dbm_fn fn, void *arg,
                          struct bnc_err *err);

#endif
