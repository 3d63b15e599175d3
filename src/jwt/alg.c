/* SPDX-License-Identifier: MIT */
/* The thirteen JWS algorithms we accept (RFC 7518 3, RFC 8037 3.1), by
 * their exact names: "none" and any other spelling are unknown. */
#include <string.h>

#include "jwt/internal.h"

static const struct bnc_jwt_alginfo bnc_jwt_algs[] = {
    {BNC_JWT_HS256, "HS256", BNC_JWT_KIND_HMAC, "SHA256", 32, NULL, 0},
    {BNC_JWT_HS384, "HS384", BNC_JWT_KIND_HMAC, "SHA384", 48, NULL, 0},
    {BNC_JWT_HS512, "HS512", BNC_JWT_KIND_HMAC, "SHA512", 64, NULL, 0},
    {BNC_JWT_RS256, "RS256", BNC_JWT_KIND_RSA, "SHA256", 32, NULL, 0},
    {BNC_JWT_RS384, "RS384", BNC_JWT_KIND_RSA, "SHA384", 48, NULL, 0},
    {BNC_JWT_RS512, "RS512", BNC_JWT_KIND_RSA, "SHA512", 64, NULL, 0},
    {BNC_JWT_PS256, "PS256", BNC_JWT_KIND_PSS, "SHA256", 32, NULL, 0},
    {BNC_JWT_PS384, "PS384", BNC_JWT_KIND_PSS, "SHA384", 48, NULL, 0},
    {BNC_JWT_PS512, "PS512", BNC_JWT_KIND_PSS, "SHA512", 64, NULL, 0},
    {BNC_JWT_ES256, "ES256", BNC_JWT_KIND_EC, "SHA256", 32, "prime256v1", 32},
    {BNC_JWT_ES384, "ES384", BNC_JWT_KIND_EC, "SHA384", 48, "secp384r1", 48},
    {BNC_JWT_ES512, "ES512", BNC_JWT_KIND_EC, "SHA512", 64, "secp521r1", 66},
    {BNC_JWT_EDDSA, "EdDSA", BNC_JWT_KIND_ED, NULL, 0, NULL, 0},
};
#define BNC_JWT_NALGS (sizeof(bnc_jwt_algs) / sizeof(bnc_jwt_algs[0]))

const struct bnc_jwt_alginfo *
bnc_jwt_alg_info(enum bnc_jwt_alg a)
{
    size_t i;

    for (i = 0; i < BNC_JWT_NALGS; i++)
        if (bnc_jwt_algs[i].alg == a)
            return &bnc_jwt_algs[i];
    return NULL;
}

enum bnc_jwt_alg
bnc_jwt_alg_parse(const char *name)
{
    size_t i;

    if (name == NULL)
        return BNC_JWT_ALG_NONE;
    /* Case-sensitive on purpose (RFC 7515 4.1.1): "none", "None", "hs256"
     * are not names of ours. */
    for (i = 0; i < BNC_JWT_NALGS; i++)
        if (strcmp(bnc_jwt_algs[i].name, name) == 0)
            return bnc_jwt_algs[i].alg;
    return BNC_JWT_ALG_NONE;
}

const char *
bnc_jwt_alg_name(enum bnc_jwt_alg a)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(a);

    return ai != NULL ? ai->name : "none";
}

int
bnc_jwt_alg_is_hmac(enum bnc_jwt_alg a)
{
    const struct bnc_jwt_alginfo *ai = bnc_jwt_alg_info(a);

    return ai != NULL && ai->kind == BNC_JWT_KIND_HMAC;
}
