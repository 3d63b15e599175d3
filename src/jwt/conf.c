/* SPDX-License-Identifier: MIT */
/* [jwt] (DESIGN 8, names after simplejwt's settings): read once per
 * runtime, so a SIGHUP reloads the keys with everything else. */
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "jwt/internal.h"
#include "util/mem.h"
#include "util/str.h"

#define BNC_JWT_CONF_KEYS \
    "algorithm, signing_key, verifying_keys, issuer, audience, leeway, " \
    "access_lifetime, refresh_lifetime, rotate_refresh, header_types, " \
    "check_user, user_id_claim, user_id_field, claims, extra_claims, " \
    "max_length"
#define BNC_JWT_NAME_MAX 64
#define BNC_JWT_YEAR (UINT64_C(366) * 86400)

static unsigned
bnc_jwt_conf_line(const struct bnc_conf_section *s, const char *key)
{
    size_t i;

    for (i = 0; s != NULL && i < s->nentries; i++)
        if (strcmp(s->entries[i].key, key) == 0)
            return s->entries[i].line;
    return s != NULL ? s->line : 0;
}

/* RFC 9110 token characters: an auth-scheme name. */
static int
bnc_jwt_conf_is_token(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++) {
        unsigned char c = (unsigned char)*s;

        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
              (c >= '0' && c <= '9') ||
              strchr("!#$%&'*+-.^_`|~", c) != NULL))
            return 0;
    }
    return n > 0 && n <= BNC_JWT_NAME_MAX;
}

/* A comma list into *out (NULL when unset); -1 after an error. */
static int
bnc_jwt_conf_list(const struct bnc_conf *c, struct bnc_conf_section *s,
                  const char *key, const char *def, char ***out,
                  struct bnc_diag *d)
{
    const char *v = NULL;

    *out = NULL;
    bnc_conf_get_str(c, s, key, def, &v, d);
    if (v == NULL)
        return 0;
    if (bnc_split_list(v, out) < 0) {
        bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, key),
                       "%s: expected a comma-separated list, got '%s'", key,
                       v);
        return -1;
    }
    return 0;
}

static int
bnc_jwt_conf_checks(const struct bnc_conf *c, struct bnc_conf_section *s,
                    struct bnc_jwt_conf *jc, struct bnc_diag *d)
{
    static const char *const extras[] = {"groups", "scopes", "name", "email",
                                         NULL};
    size_t i, k;
    int rc = 0;

    for (i = 0; jc->header_types != NULL && jc->header_types[i]; i++) {
        if (!bnc_jwt_conf_is_token(jc->header_types[i]) ||
            bnc_str_ieq(jc->header_types[i], "Basic")) {
            bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, "header_types"),
                           "header_types: '%s' is not an auth scheme word "
                           "like Bearer or JWT (and not Basic)",
                           jc->header_types[i]);
            rc = -1;
        }
    }
    for (i = 0; jc->claims != NULL && jc->claims[i] != NULL; i++) {
        if (strlen(jc->claims[i]) > BNC_JWT_NAME_MAX ||
            bnc_has_ctl(jc->claims[i], strlen(jc->claims[i]))) {
            bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, "claims"),
                           "claims: '%s' is not a claim name of at most %d "
                           "bytes", jc->claims[i], BNC_JWT_NAME_MAX);
            rc = -1;
        }
    }
    for (i = 0; jc->extra_claims != NULL && jc->extra_claims[i]; i++) {
        for (k = 0; extras[k] != NULL; k++)
            if (strcmp(jc->extra_claims[i], extras[k]) == 0)
                break;
        if (extras[k] == NULL) {
            bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, "extra_claims"),
                           "extra_claims: unknown claim '%s' (valid: groups, "
                           "scopes, name, email)", jc->extra_claims[i]);
            rc = -1;
        }
    }
    if (jc->access_lifetime > jc->refresh_lifetime) {
        bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, "access_lifetime"),
                       "access_lifetime is longer than refresh_lifetime");
        rc = -1;
    }
    return rc;
}

struct bnc_jwt_conf *
bnc_jwt_conf_load(const struct bnc_conf *c, struct bnc_conf_section *s,
                  struct bnc_diag *d)
{
    struct bnc_jwt_conf *jc = bnc_calloc(1, sizeof(*jc));
    const char *alg = "HS256", *signing = NULL, *iss = NULL, *aud = NULL,
               *uclaim = "user_id", *ufield = "id";
    char **verifying = NULL;
    uint64_t leeway = 0, acc = 300, ref = 86400, maxlen = 8192;
    struct bnc_err err;
    size_t errors0 = d->nerrors;
    int rc = 0;

    rc |= bnc_conf_get_str(c, s, "algorithm", alg, &alg, d);
    rc |= bnc_conf_get_str(c, s, "signing_key", NULL, &signing, d);
    rc |= bnc_jwt_conf_list(c, s, "verifying_keys", NULL, &verifying, d);
    rc |= bnc_conf_get_str(c, s, "issuer", NULL, &iss, d);
    rc |= bnc_conf_get_str(c, s, "audience", NULL, &aud, d);
    rc |= bnc_conf_get_duration(c, s, "leeway", 0, 0, 86400, &leeway, d);
    rc |= bnc_conf_get_duration(c, s, "access_lifetime", 300, 1,
                                BNC_JWT_YEAR, &acc, d);
    rc |= bnc_conf_get_duration(c, s, "refresh_lifetime", 86400, 1,
                                10 * BNC_JWT_YEAR, &ref, d);
    rc |= bnc_conf_get_bool(c, s, "rotate_refresh", 0, &jc->rotate_refresh, d);
    rc |= bnc_jwt_conf_list(c, s, "header_types", "Bearer",
                            &jc->header_types, d);
    rc |= bnc_conf_get_bool(c, s, "check_user", 1, &jc->check_user, d);
    rc |= bnc_conf_get_str(c, s, "user_id_claim", uclaim, &uclaim, d);
    rc |= bnc_conf_get_str(c, s, "user_id_field", ufield, &ufield, d);
    rc |= bnc_jwt_conf_list(c, s, "claims", NULL, &jc->claims, d);
    rc |= bnc_jwt_conf_list(c, s, "extra_claims", NULL, &jc->extra_claims, d);
    rc |= bnc_conf_get_u64(c, s, "max_length", 8192, 512, 65536, &maxlen, d);
    if (s != NULL)
        bnc_conf_check_unused(c, s, d);
    if (d->nerrors > errors0)
        rc = -1;
    jc->algorithm = bnc_jwt_alg_parse(alg);
    if (jc->algorithm == BNC_JWT_ALG_NONE) {
        bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, "algorithm"),
                       "algorithm: '%s' is not one of HS256, HS384, HS512, "
                       "RS256, RS384, RS512, PS256, PS384, PS512, ES256, "
                       "ES384, ES512, EdDSA", alg);
        rc = -1;
    }
    if (strcmp(ufield, "id") != 0 && strcmp(ufield, "username") != 0) {
        bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, "user_id_field"),
                       "user_id_field: expected id or username, got '%s'",
                       ufield);
        rc = -1;
    }
    if (*uclaim == '\0') {
        bnc_diag_error(d, c->file, bnc_jwt_conf_line(s, "user_id_claim"),
                       "user_id_claim: must not be empty");
        rc = -1;
    }
    jc->issuer = iss != NULL && *iss != '\0' ? bnc_strdup(iss) : NULL;
    jc->audience = aud != NULL && *aud != '\0' ? bnc_strdup(aud) : NULL;
    jc->leeway = (int64_t)leeway;
    jc->access_lifetime = (int64_t)acc;
    jc->refresh_lifetime = (int64_t)ref;
    jc->user_id_claim = bnc_strdup(uclaim);
    jc->user_id_is_name = strcmp(ufield, "username") == 0;
    jc->max_len = (size_t)maxlen;
    if (bnc_jwt_conf_checks(c, s, jc, d) != 0)
        rc = -1;
    if (rc == 0 && (signing != NULL || verifying != NULL)) {
        bnc_err_clear(&err);
        jc->keys = bnc_jwt_keyset_load(jc->algorithm, signing,
                                       (const char *const *)verifying, &err);
        if (jc->keys == NULL) {
            bnc_diag_error(d, c->file,
                           bnc_jwt_conf_line(s, signing != NULL
                                                    ? "signing_key"
                                                    : "verifying_keys"),
                           "[jwt] %s", err.msg);
            rc = -1;
        }
    }
    bnc_strv_free(verifying);
    if (rc != 0) {
        bnc_jwt_conf_free(jc);
        return NULL;
    }
    return jc;
}

void
bnc_jwt_conf_free(struct bnc_jwt_conf *jc)
{
    if (jc == NULL)
        return;
    bnc_jwt_keyset_free(jc->keys);
    free(jc->issuer);
    free(jc->audience);
    bnc_strv_free(jc->header_types);
    free(jc->user_id_claim);
    bnc_strv_free(jc->claims);
    bnc_strv_free(jc->extra_claims);
    free(jc);
}
