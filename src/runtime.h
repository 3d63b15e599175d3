/* SPDX-License-Identifier: MIT */
/* The running configuration: config + configured scheme instances + store,
 * an immutable refcounted snapshot swapped on SIGHUP (STYLE 9). */
#ifndef BNC_RUNTIME_H
#define BNC_RUNTIME_H

#include <stddef.h>
#include "auth/scheme.h"

struct bnc_conf;
struct bnc_jwt_conf;
struct bnc_pwcheck;
struct bnc_store;

struct bnc_scheme_inst {
    const struct bnc_scheme *scheme;
    void *state;
};

struct bnc_runtime {
    int refs;                       /* guarded by the runtime lock */
    struct bnc_conf *conf;          /* owned */
    struct bnc_store *store;        /* borrowed: one per process */
    struct bnc_scheme_inst *schemes;/* in [auth] schemes order */
    size_t nschemes;
    struct bnc_pwcheck *pwcheck;    /* the login endpoint's: see
                                       bnc_runtime_pwcheck() */
    struct bnc_jwt_conf *jwt;       /* [jwt] with its keys, or NULL when
                                       neither [jwt] nor the jwt scheme is
                                       configured; reloaded with the runtime */
};

/* Configures every scheme named in conf (takes ownership of conf, also on
 * failure). Errors go to d. NULL on error. */
struct bnc_runtime *bnc_runtime_new(struct bnc_conf *conf,
                                    struct bnc_store *store,
                                    struct bnc_diag *d);
/* Makes rt current (the previous one is released). */
void bnc_runtime_install(struct bnc_runtime *rt);
/* The current runtime with one more reference; release when done. */
struct bnc_runtime *bnc_runtime_acquire(void);
void bnc_runtime_release(struct bnc_runtime *rt);
/* The password check of the login endpoint (the store, [passwords] cost and
 * rehash, no cache: a login is rare and must see a changed password at
 * once), made on first use so that a runtime that never serves a login
 * (the authorizer, a plain-CGI healthz) does not pay its dummy
 * verification. Thread-safe; borrowed for rt's life. */
struct bnc_pwcheck *bnc_runtime_pwcheck(struct bnc_runtime *rt);

#endif
