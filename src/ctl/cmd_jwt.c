/* SPDX-License-Identifier: MIT */
/* bouncerctl jwt keygen | jwks | revoke: signing keys, the public JWKS of
 * the verifying keys, and the jti denylist. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf/conf.h"
#include "ctl/ctl.h"
#include "jwt/jwt.h"
#include "store/jwt.h"
#include "util/buf.h"
#include "util/str.h"

/* [jwt] of the configuration, keys loaded; NULL after printing why. */
static struct bnc_jwt_conf *
bnc_ctl_jwt_conf(struct bnc_ctl *ctx)
{
    struct bnc_conf *c = bnc_ctl_conf(ctx);
    struct bnc_jwt_conf *jc;
    struct bnc_diag d;

    if (c == NULL)
        return NULL;
    bnc_diag_init(&d);
    jc = bnc_jwt_conf_load(c, bnc_conf_section(c, "jwt"), &d);
    bnc_diag_print(&d, stderr);
    bnc_diag_cleanup(&d);
    return jc;
}

int
bnc_ctl_jwt_keygen(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    enum bnc_jwt_alg alg = bnc_jwt_alg_parse(a->alg);
    struct bnc_jwt_keyset *ks;
    struct bnc_err err;
    (void)ctx;
    if (a->alg == NULL || alg == BNC_JWT_ALG_NONE) {
        bnc_ctl_errx("jwt keygen: --alg is one of HS256, HS384, HS512, RS256, "
                     "RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, "
                     "EdDSA");
        return BNC_CTL_EXIT_USAGE;
    }
    if (a->kid != NULL && bnc_jwt_alg_is_hmac(alg)) {
        bnc_ctl_errx("jwt keygen: --kid: an HMAC secret file holds only the "
                     "secret (tokens are matched by algorithm)");
        return BNC_CTL_EXIT_USAGE;
    }
    bnc_err_clear(&err);
    if (bnc_jwt_keygen_ex(alg, a->output, a->kid, &err) != 0) {
        bnc_ctl_errx("jwt keygen: %s", err.msg);
        return BNC_CTL_EXIT_FAIL;
    }
    if (a->output == NULL)
        return BNC_CTL_EXIT_OK;
    /* Read it back: proves the file loads, and tells the kid in use. */
    ks = bnc_jwt_keyset_load(alg, a->output, NULL, &err);
    if (ks == NULL) {
        bnc_ctl_errx("jwt keygen: wrote %s but cannot load it: %s", a->output,
                     err.msg);
        return BNC_CTL_EXIT_FAIL;
    }
    if (!a->quiet) {
        struct bnc_buf b;

        bnc_buf_init(&b);
        bnc_jwt_keyset_jwks(ks, &b);
        fprintf(stderr, "bouncerctl: wrote a %s key to %s (mode 0600)\n",
                bnc_jwt_alg_name(alg), a->output);
        if (!bnc_jwt_alg_is_hmac(alg))
            printf("%s\n", bnc_buf_str(&b));
        bnc_buf_cleanup(&b);
    }
    bnc_jwt_keyset_free(ks);
    return BNC_CTL_EXIT_OK;
}

int
bnc_ctl_jwt_jwks(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    struct bnc_jwt_conf *jc = NULL;
    struct bnc_jwt_keyset *ks;
    struct bnc_buf b;
    struct bnc_err err;
    enum bnc_jwt_alg alg = BNC_JWT_ALG_NONE;

    if (a->npos == 0) {
        jc = bnc_ctl_jwt_conf(ctx);
        if (jc == NULL)
            return BNC_CTL_EXIT_FAIL;
        if (jc->keys == NULL) {
            bnc_ctl_errx("jwt jwks: no keys in [jwt] (signing_key, "
                         "verifying_keys); or name key files");
            bnc_jwt_conf_free(jc);
            return BNC_CTL_EXIT_FAIL;
        }
        ks = jc->keys;
    } else {
        if (a->alg != NULL) {
            alg = bnc_jwt_alg_parse(a->alg);
            if (alg == BNC_JWT_ALG_NONE) {
                bnc_ctl_errx("jwt jwks: unknown --alg");
                return BNC_CTL_EXIT_USAGE;
            }
        }
        bnc_err_clear(&err);
        /* Files given: a PEM key's type decides its algorithm (RSA: RS256
         * unless --alg), a JWKS keeps its own. */
        ks = bnc_jwt_keyset_load(alg, NULL, (const char *const *)a->pos,
                                 &err);
        if (ks == NULL) {
            bnc_ctl_errx("jwt jwks: %s", err.msg);
            return BNC_CTL_EXIT_FAIL;
        }
    }
    bnc_buf_init(&b);
    bnc_jwt_keyset_jwks(ks, &b);
    printf("%s\n", bnc_buf_str(&b));
    bnc_buf_cleanup(&b);
    if (jc != NULL)
        bnc_jwt_conf_free(jc);
    else
        bnc_jwt_keyset_free(ks);
    return BNC_CTL_EXIT_OK;
}

int
bnc_ctl_jwt_revoke(struct bnc_ctl *ctx, const struct bnc_ctl_args *a)
{
    const char *jti = a->pos[0];
    int64_t now = (int64_t)time(NULL), expires;
    struct bnc_jwt_conf *jc;
    struct bnc_buf vis;
    size_t i, len = strlen(jti);
    int rc;

    bnc_buf_init(&vis);
    for (i = 0; i < len; i++)
        if ((unsigned char)jti[i] <= 0x20 || jti[i] == 0x7f)
            break;
    if (len == 0 || len > BNC_JWT_JTI_MAX || i < len) {
        bnc_ctl_errx("jwt revoke: '%.80s' is not a jti (1 to %d printable "
                     "bytes, no spaces)", bnc_ctl_vis(&vis, jti),
                     BNC_JWT_JTI_MAX);
        bnc_buf_cleanup(&vis);
        return BNC_CTL_EXIT_USAGE;
    }
    bnc_buf_cleanup(&vis);
    if (a->expires != NULL) {
        if (bnc_ctl_token_expires(a->expires, now, &expires) != 0)
            return BNC_CTL_EXIT_USAGE;
    } else {
        /* Long enough for any token with this jti to have died by itself:
         * the longer lifetime plus the clock leeway. */
        jc = bnc_ctl_jwt_conf(ctx);
        if (jc == NULL)
            return BNC_CTL_EXIT_FAIL;
        expires = now + (jc->refresh_lifetime > jc->access_lifetime
                             ? jc->refresh_lifetime
                             : jc->access_lifetime) + jc->leeway;
        bnc_jwt_conf_free(jc);
    }
    /* A jti names a token, it is not one: fine for the audit line. */
    bnc_strlcpy(ctx->audit_target, jti, sizeof(ctx->audit_target));
    snprintf(ctx->audit_detail, sizeof(ctx->audit_detail), "expires=%lld",
             (long long)expires);
    if (bnc_ctl_store(ctx, 0) == NULL)
        return BNC_CTL_EXIT_FAIL;
    rc = bnc_store_jwt_deny(ctx->store, jti, expires, BNC_STORE_SYNC);
    if (rc != BNC_STORE_OK) {
        if (rc == BNC_STORE_DEAD)
            bnc_ctl_store_dead("revoke the jti");
        else
            bnc_ctl_errx("cannot revoke the jti: store error");
        return BNC_CTL_EXIT_FAIL;
    }
    if (!a->quiet)
        printf("revoked jti %s until %lld\n", jti, (long long)expires);
    return BNC_CTL_EXIT_OK;
}
