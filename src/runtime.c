/* SPDX-License-Identifier: MIT */
/* Refcounted runtime snapshots: a request keeps the snapshot it started
 * with, so SIGHUP can swap in a new config without dropping requests. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "auth/pwcheck.h"
#include "auth/registry.h"
#include "auth/rules.h"
#include "conf/conf.h"
#include "jwt/jwt.h"
#include "runtime.h"
#include "util/mem.h"
#include "util/str.h"

static pthread_mutex_t bnc_runtime_lock = PTHREAD_MUTEX_INITIALIZER;
static struct bnc_runtime *bnc_runtime_cur;
/* Separate from bnc_runtime_lock: creating a pwcheck runs one slow hash,
 * which must not hold up bnc_runtime_acquire() in every other thread. */
static pthread_mutex_t bnc_runtime_pw_lock = PTHREAD_MUTEX_INITIALIZER;

static void
bnc_runtime_free(struct bnc_runtime *rt)
{
    size_t i;

    if (rt == NULL)
        return;
    for (i = 0; i < rt->nschemes; i++)
        if (rt->schemes[i].scheme->destroy != NULL)
            rt->schemes[i].scheme->destroy(rt->schemes[i].state);
    free(rt->schemes);
    bnc_jwt_conf_free(rt->jwt);
    bnc_pwcheck_free(rt->pwcheck);
    bnc_conf_free(rt->conf);
    free(rt);
}

struct bnc_runtime *
bnc_runtime_new(struct bnc_conf *conf, struct bnc_store *store,
                struct bnc_diag *d)
{
    struct bnc_runtime *rt = bnc_calloc(1, sizeof(*rt));
    struct bnc_scheme_host host = {conf, store, NULL};
    struct bnc_conf_section *jwtsec = bnc_conf_section(conf, "jwt");
    size_t i, n = bnc_strv_len(conf->schemes);
    int failed = 0;

    rt->refs = 1;
    rt->conf = conf;
    rt->store = store;
    rt->schemes = bnc_calloc(n ? n : 1, sizeof(*rt->schemes));
    /* [jwt] serves both the jwt scheme and the Responder's token
     * endpoints, so it is read here, once, keys included: a SIGHUP that
     * builds a new runtime reloads the keys. */
    if (jwtsec != NULL || bnc_strv_contains(conf->schemes, "jwt")) {
        rt->jwt = bnc_jwt_conf_load(conf, jwtsec, d);
        if (rt->jwt == NULL)
            failed = 1;
        host.jwt = rt->jwt;
    }
    for (i = 0; i < n; i++) {
        const struct bnc_scheme *s = bnc_scheme_find(conf->schemes[i]);

        if (s == NULL && conf->schemes_default) {
            /* Built-in defaults name every default scheme of the design;
             * one this build lacks only narrows what is accepted. */
            bnc_diag_warn(d, NULL, 0, "default scheme '%s' is not available "
                          "in this build; skipped", conf->schemes[i]);
            continue;
        }
        if (s == NULL) {
            /* The config parser knows names of schemes not built in yet. */
            bnc_diag_error(d, conf->file, 0,
                           "scheme '%s' is not available in this build",
                           conf->schemes[i]);
            failed = 1;
            continue;
        }
        if (s->configure(&host, bnc_conf_section(conf, s->name),
                         &rt->schemes[rt->nschemes].state, d) != 0) {
            failed = 1;
            continue;
        }
        rt->schemes[rt->nschemes++].scheme = s;
    }
    /* A section for a built-in scheme that is not enabled is still checked,
     * so a typo there is not silently ignored. */
    for (i = 0; bnc_builtin_schemes[i] != NULL; i++) {
        const struct bnc_scheme *s = bnc_builtin_schemes[i];
        struct bnc_conf_section *sec = bnc_conf_section(conf, s->name);
        void *state = NULL;
        size_t k;
        int enabled = 0;

        for (k = 0; k < n; k++)
            if (strcmp(conf->schemes[k], s->name) == 0)
                enabled = 1;
        /* [jwt] is not the scheme's alone: read above. */
        if (sec == NULL || enabled || strcmp(s->name, "jwt") == 0)
            continue;
        bnc_diag_warn(d, conf->file, sec->line,
                      "section [%s] is ignored: '%s' is not in [auth] schemes",
                      s->name, s->name);
        if (s->configure(&host, sec, &state, d) == 0 && s->destroy != NULL)
            s->destroy(state);
    }
    if (failed || d->nerrors > 0) {
        bnc_runtime_free(rt);
        return NULL;
    }
    return rt;
}

void
bnc_runtime_install(struct bnc_runtime *rt)
{
    struct bnc_runtime *old;

    pthread_mutex_lock(&bnc_runtime_lock);
    old = bnc_runtime_cur;
    bnc_runtime_cur = rt;
    pthread_mutex_unlock(&bnc_runtime_lock);
    if (old != NULL)
        bnc_runtime_release(old);
}

struct bnc_runtime *
bnc_runtime_acquire(void)
{
    struct bnc_runtime *rt;

    pthread_mutex_lock(&bnc_runtime_lock);
    rt = bnc_runtime_cur;
    if (rt != NULL)
        rt->refs++;
    pthread_mutex_unlock(&bnc_runtime_lock);
    return rt;
}

void
bnc_runtime_release(struct bnc_runtime *rt)
{
    int last;

    if (rt == NULL)
        return;
    pthread_mutex_lock(&bnc_runtime_lock);
    last = (--rt->refs == 0);
    pthread_mutex_unlock(&bnc_runtime_lock);
    if (last)
        bnc_runtime_free(rt);
}

struct bnc_pwcheck *
bnc_runtime_pwcheck(struct bnc_runtime *rt)
{
    struct bnc_pwcheck *pw;

    pthread_mutex_lock(&bnc_runtime_pw_lock);
    if (rt->pwcheck == NULL) {
        rt->pwcheck = bnc_pwcheck_new(rt->store, &rt->conf->argon2,
                                      rt->conf->rehash, 0, 0);
        bnc_pwcheck_set_throttle(rt->pwcheck, &rt->conf->throttle);
    }
    pw = rt->pwcheck;
    pthread_mutex_unlock(&bnc_runtime_pw_lock);
    return pw;
}
