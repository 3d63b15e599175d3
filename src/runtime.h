/* SPDX-License-Identifier: MIT */
/* The running configuration: config + configured scheme instances + store,
 * an immutable refcounted snapshot swapped on SIGHUP (STYLE 9). */
#ifndef BNC_RUNTIME_H
#define BNC_RUNTIME_H

#include <stddef.h>
#include "auth/scheme.h"

struct bnc_conf;
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

#endif
