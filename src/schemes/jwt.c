/* SPDX-License-Identifier: MIT */
/* JWT access tokens (simplejwt's JWTAuthentication): `Authorization:
 * <type> <jwt>` for each configured header type, verified with the [jwt]
 * keys, the jti checked against the denylist, the user against the store
 * (exists, active, token issued after the user's not-before). Refusals
 * are RFC 6750 challenges with simplejwt's JSON body. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/registry.h"
#include "auth/scheme.h"
#include "conf/conf.h"
#include "fcgi/request.h"
#include "jwt/jwt.h"
#include "store/jwt.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/mem.h"
#include "util/str.h"

/* A claim value exported as a variable: longer ones are cut. */
#define BNC_JWT_CLAIM_VALUE_MAX 1024

struct bnc_jwt_scheme {
    const struct bnc_jwt_conf *jc; /* the runtime's; outlives this state */
    struct bnc_store *store;
    char *realm;
    char **claim_vars;             /* claim i exported as AUTH_CLAIM_<this> */
};

/* simplejwt's wording (compat.md 4). */
#define BNC_JWT_DETAIL "Given token not valid for any token type"
#define BNC_JWT_CODE "token_not_valid"
#define BNC_JWT_BAD_HEADER \
    "Authorization header must contain two space-delimited values"
#define BNC_JWT_NO_USER_ID \
    "Token contained no recognizable user identification"

static int bnc_scheme_jwt_configure(const struct bnc_scheme_host *host,
                                    struct bnc_conf_section *section,
                                    void **statep, struct bnc_diag *d);
static enum bnc_verdict bnc_scheme_jwt_check(void *state,
                                             const struct bnc_request *req,
                                             struct bnc_result *res);
static int bnc_scheme_jwt_challenge(void *state, struct bnc_buf *out);
static void bnc_scheme_jwt_destroy(void *state);

const struct bnc_scheme bnc_scheme_jwt = {
    "jwt",
    BNC_SCHEME_ABI,
    bnc_scheme_jwt_configure,
    bnc_scheme_jwt_check,
    bnc_scheme_jwt_challenge,
    bnc_scheme_jwt_destroy,
};

/* "https://example.org/roles" -> "HTTPS___EXAMPLE_ORG_ROLES". */
static char *
bnc_jwt_var_name(const char *claim)
{
    char *v = bnc_strdup(claim);
    char *p;

    for (p = v; *p != '\0'; p++) {
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 'a' + 'A');
        else if (!((*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9')))
            *p = '_';
    }
    return v;
}

static int
bnc_scheme_jwt_configure(const struct bnc_scheme_host *host,
                         struct bnc_conf_section *section, void **statep,
                         struct bnc_diag *d)
{
    const struct bnc_conf *c = host->conf;
    struct bnc_jwt_scheme *j;
    size_t i, n;

    /* [jwt] was read (and checked) by the runtime. */
    if (host->jwt == NULL || host->jwt->keys == NULL) {
        bnc_diag_error(d, c->file, section != NULL ? section->line : 0,
                       "scheme jwt needs keys: set signing_key or "
                       "verifying_keys in [jwt]");
        return -1;
    }
    if (c->realm != NULL && (strchr(c->realm, '"') || strchr(c->realm, '\\'))) {
        bnc_diag_error(d, c->file, 0,
                       "[auth] realm must not contain '\"' or '\\' (it is "
                       "quoted in the Bearer challenge)");
        return -1;
    }
    j = bnc_calloc(1, sizeof(*j));
    j->jc = host->jwt;
    j->store = host->store;
    j->realm = bnc_strdup(c->realm != NULL ? c->realm : "bouncer");
    n = bnc_strv_len(host->jwt->claims);
    j->claim_vars = bnc_calloc(n + 1, sizeof(*j->claim_vars));
    for (i = 0; i < n; i++)
        j->claim_vars[i] = bnc_jwt_var_name(host->jwt->claims[i]);
    *statep = j;
    return 0;
}

static void
bnc_scheme_jwt_destroy(void *state)
{
    struct bnc_jwt_scheme *j = state;

    if (j == NULL)
        return;
    free(j->realm);
    bnc_strv_free(j->claim_vars);
    free(j);
}

/* RFC 6750 3: the first header type as the scheme name. */
static int
bnc_scheme_jwt_challenge(void *state, struct bnc_buf *out)
{
    struct bnc_jwt_scheme *j = state;

    bnc_buf_printf(out, "%s realm=\"%s\"", j->jc->header_types[0], j->realm);
    return 1;
}

/* A refused token: challenge with error_description, simplejwt's body
 * with the precise message. why is our own text (never the token's), but
 * is still kept out of the quoted-string's and JSON's way. */
static enum bnc_verdict
bnc_jwt_refuse(struct bnc_jwt_scheme *j, struct bnc_result *res,
               const char *detail, const char *code, const char *why,
               int messages)
{
    char desc[200];
    struct bnc_buf b;
    size_t i;

    snprintf(desc, sizeof(desc), "%s", why);
    for (i = 0; desc[i] != '\0'; i++)
        if (desc[i] == '"' || desc[i] == '\\' || (unsigned char)desc[i] < 0x20)
            desc[i] = '\'';
    snprintf(res->challenge, sizeof(res->challenge),
             "%s realm=\"%s\", error=\"invalid_token\", "
             "error_description=\"%s\"",
             j->jc->header_types[0], j->realm, desc);
    if (messages) {
        bnc_buf_init(&b);
        bnc_buf_puts(&b, ", \"messages\": [{\"token_class\": \"AccessToken\", "
                         "\"token_type\": \"access\", \"message\": ");
        bnc_buf_json_str(&b, desc);
        bnc_buf_puts(&b, "}]");
        snprintf(res->body_extra, sizeof(res->body_extra), "%s",
                 bnc_buf_str(&b));
        bnc_buf_cleanup(&b);
    }
    if (res->reason[0] == '\0')
        bnc_result_reason(res, "jwt: %s", desc);
    return bnc_result_deny(res, 401, detail, code);
}

static int
bnc_jwt_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

/* Python's str.split() of the header, capped at 3 parts (simplejwt). */
static int
bnc_jwt_split(const char *h, const char **p, size_t *l)
{
    int n = 0;

    while (*h != '\0' && n < 3) {
        while (bnc_jwt_is_space(*h))
            h++;
        if (*h == '\0')
            break;
        p[n] = h;
        while (*h != '\0' && !bnc_jwt_is_space(*h))
            h++;
        l[n] = (size_t)(h - p[n]);
        n++;
    }
    return n;
}

/* A scalar claim as text with control bytes dropped; NULL if not scalar. */
static char *
bnc_jwt_scalar(json_t *v)
{
    struct bnc_buf b;
    const char *s;
    char num[40];
    char *out;
    size_t i;

    if (json_is_string(v))
        s = json_string_value(v);
    else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
        s = num;
    } else if (json_is_real(v)) {
        snprintf(num, sizeof(num), "%.17g", json_real_value(v));
        s = num;
    } else if (json_is_boolean(v))
        s = json_is_true(v) ? "true" : "false";
    else
        return NULL;
    bnc_buf_init(&b);
    for (i = 0; s[i] != '\0' && b.len < BNC_JWT_CLAIM_VALUE_MAX; i++)
        if ((unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
            bnc_buf_putc(&b, s[i]);
    out = bnc_strdup(bnc_buf_str(&b));
    bnc_buf_cleanup(&b);
    return out;
}

/* 1 if s is a usable scope / group word: printable, no space or comma. */
static int
bnc_jwt_word_ok(const char *s)
{
    size_t n = 0;

    for (; *s != '\0'; s++, n++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f || *s == ',')
            return 0;
    return n > 0 && n <= 128;
}

/* AUTH_SCOPES from "scope" (RFC 8693 string) or "scopes" (array). */
static void
bnc_jwt_scopes(json_t *claims, struct bnc_identity *id)
{
    json_t *sc = json_object_get(claims, "scope");
    json_t *arr = json_object_get(claims, "scopes");
    struct bnc_buf b;
    size_t i;

    bnc_buf_init(&b);
    if (json_is_string(sc)) {
        char *copy = bnc_strdup(json_string_value(sc)), *tok, *save = NULL;

        for (tok = strtok_r(copy, " ", &save); tok != NULL;
             tok = strtok_r(NULL, " ", &save))
            if (bnc_jwt_word_ok(tok)) {
                if (b.len > 0)
                    bnc_buf_putc(&b, ' ');
                bnc_buf_puts(&b, tok);
            }
        free(copy);
    } else if (json_is_array(arr)) {
        for (i = 0; i < json_array_size(arr); i++) {
            const char *s = json_string_value(json_array_get(arr, i));

            if (s != NULL && bnc_jwt_word_ok(s)) {
                if (b.len > 0)
                    bnc_buf_putc(&b, ' ');
                bnc_buf_puts(&b, s);
            }
        }
    }
    if (b.len > 0)
        bnc_identity_set(&id->scopes, b.data);
    bnc_buf_cleanup(&b);
}

static void
bnc_jwt_claim_vars(struct bnc_jwt_scheme *j, json_t *claims,
                   struct bnc_identity *id)
{
    size_t i, n = 0, max = bnc_strv_len(j->claim_vars);
    struct bnc_buf b;

    if (max == 0)
        return;
    id->claims = bnc_calloc(max + 1, sizeof(*id->claims));
    for (i = 0; i < max; i++) {
        char *v = bnc_jwt_scalar(json_object_get(claims, j->jc->claims[i]));

        if (v == NULL)
            continue; /* absent, or an object/array: scalars only */
        bnc_buf_init(&b);
        bnc_buf_printf(&b, "%s=%s", j->claim_vars[i], v);
        id->claims[n++] = bnc_strdup(b.data);
        bnc_buf_cleanup(&b);
        free(v);
    }
}

/* The user the token names, from the store: exists, active, and not
 * logged out everywhere since the token was issued. */
static enum bnc_verdict
bnc_jwt_user(struct bnc_jwt_scheme *j, json_t *claims, struct bnc_user *u,
             struct bnc_result *res)
{
    json_t *uid = json_object_get(claims, j->jc->user_id_claim);
    json_t *iatj = json_object_get(claims, "iat");
    int64_t iat = 0;
    uint64_t id = 0;
    int rc;

    if (j->jc->user_id_is_name) {
        if (!json_is_string(uid) || json_string_length(uid) == 0)
            return bnc_jwt_refuse(j, res, BNC_JWT_NO_USER_ID, BNC_JWT_CODE,
                                  "Token contained no recognizable user "
                                  "identification", 0);
        rc = bnc_store_user_get(j->store, json_string_value(uid), u);
    } else {
        /* simplejwt <= 5.5.0 sends a number, later ones a string. */
        if (json_is_integer(uid) && json_integer_value(uid) > 0 &&
            json_integer_value(uid) <= UINT32_MAX)
            id = (uint64_t)json_integer_value(uid);
        else if (!json_is_string(uid) ||
                 bnc_parse_u64(json_string_value(uid), UINT32_MAX, &id) != 0)
            id = 0;
        if (id == 0)
            return bnc_jwt_refuse(j, res, BNC_JWT_NO_USER_ID, BNC_JWT_CODE,
                                  "Token contained no recognizable user "
                                  "identification", 0);
        rc = bnc_store_user_get_by_id(j->store, (uint32_t)id, u);
    }
    if (rc == BNC_STORE_NOTFOUND)
        return bnc_jwt_refuse(j, res, "User not found", "user_not_found",
                              "User not found", 0);
    if (rc != BNC_STORE_OK) {
        bnc_result_reason(res, "jwt: store error reading user (code %d)", rc);
        return BNC_ERROR;
    }
    if (u->disabled)
        return bnc_jwt_refuse(j, res, "User is inactive", "user_inactive",
                              "User is inactive", 0);
    if (json_is_integer(iatj))
        iat = (int64_t)json_integer_value(iatj);
    else if (json_is_real(iatj))
        iat = (int64_t)json_real_value(iatj);
    /* Log out everywhere (or a password change, a disable): whatever was
     * issued at or before not_before (whole seconds) is void. Ids are
     * never reused, but a name is: by name, a token older than the account
     * was made for an earlier user. (Not by id: users imported from Django
     * keep their ids and their tokens, issued before the import.) */
    if (bnc_user_stamp_voids(u->not_before, iat) ||
        (j->jc->user_id_is_name && iat < u->created)) {
        bnc_result_reason(res, "jwt: token of user %s issued before %s",
                          u->name, bnc_user_stamp_voids(u->not_before, iat)
                                       ? "not_before"
                                       : "the account");
        return bnc_jwt_refuse(j, res, BNC_JWT_DETAIL, BNC_JWT_CODE,
                              "Token was issued before the user's "
                              "credentials were revoked", 1);
    }
    return BNC_ALLOW;
}

static enum bnc_verdict
bnc_jwt_identity_unchecked(struct bnc_jwt_scheme *j, json_t *claims,
                           struct bnc_result *res)
{
    char *uid = bnc_jwt_scalar(json_object_get(claims, j->jc->user_id_claim));
    char *name = bnc_jwt_scalar(json_object_get(claims, "username"));
    json_t *g = json_object_get(claims, "groups");
    struct bnc_buf b;
    size_t i;

    if (uid == NULL || *uid == '\0') {
        free(uid);
        free(name);
        return bnc_jwt_refuse(j, res, BNC_JWT_NO_USER_ID, BNC_JWT_CODE,
                              "Token contained no recognizable user "
                              "identification", 0);
    }
    bnc_identity_set(&res->id.user, name != NULL && *name ? name : uid);
    bnc_identity_set(&res->id.user_id, uid);
    bnc_identity_set(&res->id.auth_type, "JWT");
    bnc_buf_init(&b);
    for (i = 0; json_is_array(g) && i < json_array_size(g); i++) {
        const char *s = json_string_value(json_array_get(g, i));

        if (s != NULL && bnc_jwt_word_ok(s)) {
            if (b.len > 0)
                bnc_buf_putc(&b, ',');
            bnc_buf_puts(&b, s);
        }
    }
    if (b.len > 0)
        bnc_identity_set(&res->id.groups, b.data);
    bnc_buf_cleanup(&b);
    free(uid);
    free(name);
    return BNC_ALLOW;
}

static enum bnc_verdict
bnc_scheme_jwt_check(void *state, const struct bnc_request *req,
                     struct bnc_result *res)
{
    struct bnc_jwt_scheme *j = state;
    const struct bnc_jwt_conf *jc = j->jc;
    const char *p[3] = {NULL, NULL, NULL};
    size_t l[3] = {0, 0, 0}, i;
    struct bnc_jwt_verify_opts o;
    enum bnc_jwt_status st;
    enum bnc_verdict v;
    json_t *claims = NULL, *jti, *exp;
    struct bnc_user u;
    char why[160];
    int n, rc;

    /* Apache's authenticator asks about a password: not ours to answer. */
    if (bnc_request_is_authenticator(req))
        return BNC_DECLINED;
    n = bnc_jwt_split(req->authorization, p, l);
    if (n == 0)
        return BNC_DECLINED;
    /* simplejwt compares the type case-sensitively; another word is
     * another scheme's credential. */
    for (i = 0; jc->header_types[i] != NULL; i++)
        if (strlen(jc->header_types[i]) == l[0] &&
            memcmp(jc->header_types[i], p[0], l[0]) == 0)
            break;
    if (jc->header_types[i] == NULL)
        return BNC_DECLINED;
    if (n != 2) {
        bnc_result_reason(res, "jwt: %d parts in Authorization", n);
        return bnc_jwt_refuse(j, res, BNC_JWT_BAD_HEADER,
                              "bad_authorization_header", BNC_JWT_BAD_HEADER,
                              0);
    }
    memset(&o, 0, sizeof(o));
    o.now = (int64_t)time(NULL);
    o.leeway = jc->leeway;
    o.issuer = jc->issuer;
    o.audience = jc->audience;
    o.token_type = "access";
    o.max_len = jc->max_len;
    st = bnc_jwt_verify(jc->keys, p[1], l[1], &o, &claims, why, sizeof(why));
    if (st != BNC_JWT_OK)
        return bnc_jwt_refuse(j, res, BNC_JWT_DETAIL, BNC_JWT_CODE, why, 1);
    jti = json_object_get(claims, "jti");
    if (jti != NULL) {
        if (json_string_length(jti) > BNC_JWT_JTI_MAX) {
            v = bnc_jwt_refuse(j, res, BNC_JWT_DETAIL, BNC_JWT_CODE,
                               "Token id (jti) is too long", 1);
            goto out;
        }
        rc = bnc_store_jwt_denied(j->store, json_string_value(jti));
        if (rc < 0) {
            /* Fail closed: an unreadable denylist allows nothing. */
            bnc_result_reason(res, "jwt: store error reading the denylist "
                              "(code %d)", rc);
            v = BNC_ERROR;
            goto out;
        }
        if (rc == 1) {
            bnc_result_reason(res, "jwt: jti %s revoked",
                              json_string_value(jti));
            v = bnc_jwt_refuse(j, res, BNC_JWT_DETAIL, BNC_JWT_CODE,
                               "Token is blacklisted", 1);
            goto out;
        }
    }
    if (jc->check_user) {
        memset(&u, 0, sizeof(u));
        v = bnc_jwt_user(j, claims, &u, res);
        if (v == BNC_ALLOW)
            bnc_identity_from_user(&res->id, &u, "JWT");
        bnc_user_cleanup(&u);
    } else {
        v = bnc_jwt_identity_unchecked(j, claims, res);
    }
    if (v != BNC_ALLOW)
        goto out;
    if (jti != NULL)
        bnc_identity_set(&res->id.cred_id, json_string_value(jti));
    exp = json_object_get(claims, "exp");
    if (json_is_integer(exp))
        res->id.expires = (int64_t)json_integer_value(exp);
    else if (json_is_real(exp))
        res->id.expires = (int64_t)json_real_value(exp);
    bnc_jwt_scopes(claims, &res->id);
    bnc_jwt_claim_vars(j, claims, &res->id);
    bnc_result_reason(res, "jwt %s", jti != NULL ? json_string_value(jti)
                                                 : "(no jti)");
out:
    json_decref(claims);
    return v;
}
