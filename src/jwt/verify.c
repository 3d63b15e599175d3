/* SPDX-License-Identifier: MIT */
/* Compact JWS verification (RFC 7515/7519/8725): strict base64url, JSON
 * objects without duplicate names, the key chosen by kid or by the
 * configured algorithms (never by the token), then the claims. Each
 * refusal names its reason; attacker-supplied text is never echoed. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jwt/internal.h"
#include "util/b64.h"
#include "util/mem.h"

#define BNC_JWT_MAX_LEN_DEFAULT 8192
/* 9999-12-31T23:59:59Z: a date past it is garbage or an attempt to wrap
 * arithmetic, not a lifetime. */
#define BNC_JWT_TIME_MAX INT64_C(253402300799)

const char *
bnc_jwt_status_text(enum bnc_jwt_status st)
{
    switch (st) {
    case BNC_JWT_OK: return "Token is valid";
    case BNC_JWT_MALFORMED: return "Token is malformed";
    case BNC_JWT_TOO_LARGE: return "Token is too large";
    case BNC_JWT_BAD_ALG: return "Token algorithm is not accepted";
    case BNC_JWT_NO_KEY: return "No key for this token";
    case BNC_JWT_BAD_SIGNATURE: return "Token signature is invalid";
    case BNC_JWT_CRIT: return "Token has an unsupported critical header";
    case BNC_JWT_EXPIRED: return "Token is expired";
    case BNC_JWT_NOT_YET_VALID: return "Token is not yet valid";
    case BNC_JWT_IAT_FUTURE: return "Token was issued in the future";
    case BNC_JWT_BAD_ISSUER: return "Token has wrong issuer";
    case BNC_JWT_BAD_AUDIENCE: return "Token has wrong audience";
    case BNC_JWT_BAD_TYPE: return "Token has wrong type";
    case BNC_JWT_BAD_CLAIM: return "Token has an invalid claim";
    }
    return "Token is invalid";
}

static enum bnc_jwt_status
bnc_jwt_fail(enum bnc_jwt_status st, char *why, size_t whylen,
             const char *fmt, ...) BNC_PRINTF(4, 5);

static enum bnc_jwt_status
bnc_jwt_fail(enum bnc_jwt_status st, char *why, size_t whylen,
             const char *fmt, ...)
{
    va_list ap;

    if (why != NULL && whylen > 0) {
        va_start(ap, fmt);
        vsnprintf(why, whylen, fmt, ap);
        va_end(ap);
    }
    return st;
}

static int
bnc_jwt_b64url_char(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/* Decodes one part into out (cap bytes) and parses it as a JSON object. */
static enum bnc_jwt_status
bnc_jwt_part_json(const char *part, size_t len, const char *what,
                  unsigned char *out, size_t cap, json_t **obj, char *why,
                  size_t whylen)
{
    json_error_t je;
    size_t n = 0;

    if (len == 0)
        return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen, "empty %s", what);
    if (bnc_b64url_decode(part, len, out, cap, &n) != 0)
        return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                            "%s is not valid base64url", what);
    /* Duplicate names are how two parsers are made to disagree (RFC 7515
     * 4, RFC 8725 3.1); jansson already refuses \u0000. */
    *obj = json_loadb((const char *)out, n,
                      JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (*obj == NULL)
        return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                            "%s is not valid JSON (%s)", what,
                            strstr(je.text, "duplicate") != NULL
                                ? "duplicate member name"
                                : "syntax");
    if (!json_is_object(*obj)) {
        json_decref(*obj);
        *obj = NULL;
        return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                            "%s is not a JSON object", what);
    }
    return BNC_JWT_OK;
}

/* A NumericDate claim (RFC 7519 2): a JSON number in range. 0 absent,
 * 1 present (*v set), -1 wrong type or out of range. */
static int
bnc_jwt_numeric(json_t *claims, const char *name, int64_t *v)
{
    json_t *j = json_object_get(claims, name);
    double d;

    if (j == NULL)
        return 0;
    if (json_is_integer(j)) {
        *v = (int64_t)json_integer_value(j);
    } else if (json_is_real(j)) {
        d = json_real_value(j);
        if (!isfinite(d) || d > (double)BNC_JWT_TIME_MAX ||
            d < -(double)BNC_JWT_TIME_MAX)
            return -1;
        *v = (int64_t)d;
        if ((double)*v > d)
            (*v)--; /* floor, without libm */
    } else {
        return -1;
    }
    if (*v > BNC_JWT_TIME_MAX || *v < -BNC_JWT_TIME_MAX)
        return -1;
    return 1;
}

static int
bnc_jwt_aud_ok(json_t *aud, const char *want)
{
    size_t i;

    if (json_is_string(aud))
        return strcmp(json_string_value(aud), want) == 0;
    if (!json_is_array(aud))
        return 0;
    /* A malformed list is refused as a whole, wherever the bad item is. */
    for (i = 0; i < json_array_size(aud); i++)
        if (!json_is_string(json_array_get(aud, i)))
            return 0;
    for (i = 0; i < json_array_size(aud); i++)
        if (strcmp(json_string_value(json_array_get(aud, i)), want) == 0)
            return 1;
    return 0;
}

static enum bnc_jwt_status
bnc_jwt_claims(json_t *c, const struct bnc_jwt_verify_opts *o, char *why,
               size_t whylen)
{
    int64_t exp = 0, nbf = 0, iat = 0, leeway = o->leeway;
    int has_exp, has_nbf, has_iat;
    json_t *j;

    has_exp = bnc_jwt_numeric(c, "exp", &exp);
    has_nbf = bnc_jwt_numeric(c, "nbf", &nbf);
    has_iat = bnc_jwt_numeric(c, "iat", &iat);
    if (has_exp < 0)
        return bnc_jwt_fail(BNC_JWT_BAD_CLAIM, why, whylen,
                            "exp is not a number of seconds in range");
    if (has_nbf < 0)
        return bnc_jwt_fail(BNC_JWT_BAD_CLAIM, why, whylen,
                            "nbf is not a number of seconds in range");
    if (has_iat < 0)
        return bnc_jwt_fail(BNC_JWT_BAD_CLAIM, why, whylen,
                            "iat is not a number of seconds in range");
    /* simplejwt refuses a token without exp (Token.__init__ checks it for
     * every type, UntypedToken at /auth/token/verify included); so do we:
     * a token that never expires cannot be denylisted for a bounded time. */
    if (!has_exp)
        return bnc_jwt_fail(BNC_JWT_BAD_CLAIM, why, whylen,
                            "Token has no 'exp' claim");
    if (leeway < 0)
        leeway = 0;
    /* PyJWT's comparisons, so both sides agree on the boundary second. */
    if (has_exp && exp <= o->now - leeway)
        return bnc_jwt_fail(BNC_JWT_EXPIRED, why, whylen, "Token is expired");
    if (has_nbf && nbf > o->now + leeway)
        return bnc_jwt_fail(BNC_JWT_NOT_YET_VALID, why, whylen,
                            "Token is not yet valid (nbf)");
    if (has_iat && iat > o->now + leeway)
        return bnc_jwt_fail(BNC_JWT_IAT_FUTURE, why, whylen,
                            "Token was issued in the future (iat)");
    j = json_object_get(c, "iss");
    if (j != NULL && !json_is_string(j))
        return bnc_jwt_fail(BNC_JWT_BAD_ISSUER, why, whylen,
                            "iss is not a string");
    if (o->issuer != NULL &&
        (j == NULL || strcmp(json_string_value(j), o->issuer) != 0))
        return bnc_jwt_fail(BNC_JWT_BAD_ISSUER, why, whylen,
                            j == NULL ? "Token has no 'iss' claim"
                                      : "Token has wrong issuer");
    j = json_object_get(c, "aud");
    if (o->audience != NULL && j == NULL)
        return bnc_jwt_fail(BNC_JWT_BAD_AUDIENCE, why, whylen,
                            "Token has no 'aud' claim");
    if (o->audience != NULL && !bnc_jwt_aud_ok(j, o->audience))
        return bnc_jwt_fail(BNC_JWT_BAD_AUDIENCE, why, whylen,
                            "Token has wrong audience");
    /* PyJWT: an audience in the token that nobody expects is an error. */
    if (o->audience == NULL && j != NULL &&
        !(json_is_array(j) && json_array_size(j) == 0) &&
        !(json_is_string(j) && json_string_length(j) == 0))
        return bnc_jwt_fail(BNC_JWT_BAD_AUDIENCE, why, whylen,
                            "Token has an audience but none is configured");
    if (o->token_type != NULL) {
        j = json_object_get(c, "token_type");
        if (j == NULL)
            return bnc_jwt_fail(BNC_JWT_BAD_TYPE, why, whylen,
                                "Token has no type");
        if (!json_is_string(j) ||
            strcmp(json_string_value(j), o->token_type) != 0)
            return bnc_jwt_fail(BNC_JWT_BAD_TYPE, why, whylen,
                                "Token has wrong type");
    }
    j = json_object_get(c, "jti");
    if (j != NULL && (!json_is_string(j) || json_string_length(j) == 0))
        return bnc_jwt_fail(BNC_JWT_BAD_CLAIM, why, whylen,
                            "jti is not a non-empty string");
    return BNC_JWT_OK;
}

/* Picks the keys to try: the one kid names, else every key whose
 * algorithm is the header's. The header alg must then equal the key's. */
static enum bnc_jwt_status
bnc_jwt_select(const struct bnc_jwt_keyset *ks, json_t *hdr,
               enum bnc_jwt_alg *alg, const struct bnc_jwt_key **cand,
               size_t *ncand, char *why, size_t whylen)
{
    json_t *a = json_object_get(hdr, "alg"), *kidj = json_object_get(hdr, "kid");
    const char *kid = NULL;
    size_t i;

    *ncand = 0;
    if (a == NULL || !json_is_string(a))
        return bnc_jwt_fail(BNC_JWT_BAD_ALG, why, whylen,
                            "no alg in the token header");
    if (strcasecmp(json_string_value(a), "none") == 0)
        return bnc_jwt_fail(BNC_JWT_BAD_ALG, why, whylen,
                            "alg none is not accepted");
    *alg = bnc_jwt_alg_parse(json_string_value(a));
    if (*alg == BNC_JWT_ALG_NONE)
        return bnc_jwt_fail(BNC_JWT_BAD_ALG, why, whylen,
                            "unsupported alg in the token header");
    if (kidj != NULL) {
        if (!json_is_string(kidj) || json_string_length(kidj) == 0 ||
            json_string_length(kidj) > BNC_JWT_KID_MAX)
            return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                                "kid is not a short string");
        kid = json_string_value(kidj);
        for (i = 0; i < ks->nkeys; i++) {
            const struct bnc_jwt_key *k = ks->keys[i];

            if (k->kid == NULL || strcmp(k->kid, kid) != 0)
                continue;
            if (k->alg != *alg)
                return bnc_jwt_fail(BNC_JWT_BAD_ALG, why, whylen,
                                    "alg %s is not the algorithm of key "
                                    "'%s' (%s)", bnc_jwt_alg_name(*alg),
                                    k->kid, bnc_jwt_alg_name(k->alg));
            cand[(*ncand)++] = k;
            return BNC_JWT_OK;
        }
    }
    /* No kid, or one we do not know (simplejwt sends none; other issuers
     * name keys we hold under a thumbprint): the algorithm decides. */
    for (i = 0; i < ks->nkeys; i++)
        if (ks->keys[i]->alg == *alg)
            cand[(*ncand)++] = ks->keys[i];
    if (*ncand > 0)
        return BNC_JWT_OK;
    if (kid != NULL)
        return bnc_jwt_fail(BNC_JWT_NO_KEY, why, whylen,
                            "no key with this kid, and no key for alg %s",
                            bnc_jwt_alg_name(*alg));
    return bnc_jwt_fail(BNC_JWT_BAD_ALG, why, whylen,
                        "alg %s is not allowed by any configured key",
                        bnc_jwt_alg_name(*alg));
}

enum bnc_jwt_status
bnc_jwt_verify(const struct bnc_jwt_keyset *ks, const char *token, size_t len,
               const struct bnc_jwt_verify_opts *o, json_t **payload,
               char *why, size_t whylen)
{
    const struct bnc_jwt_key *cand[BNC_JWT_KEYS_MAX];
    size_t max = o->max_len ? o->max_len : BNC_JWT_MAX_LEN_DEFAULT;
    size_t i, ncand = 0, dots[2], nd = 0, siglen = 0;
    enum bnc_jwt_alg alg = BNC_JWT_ALG_NONE;
    enum bnc_jwt_status st;
    json_t *hdr = NULL, *claims = NULL, *crit;
    unsigned char *buf = NULL;
    int good = 0;

    if (payload != NULL)
        *payload = NULL;
    if (why != NULL && whylen > 0)
        why[0] = '\0';
    if (len > max)
        return bnc_jwt_fail(BNC_JWT_TOO_LARGE, why, whylen,
                            "token longer than %zu bytes", max);
    if (ks == NULL || ks->nkeys == 0)
        return bnc_jwt_fail(BNC_JWT_NO_KEY, why, whylen, "no keys configured");
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)token[i];

        if (c == '.') {
            if (nd == 2)
                return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                                    "more than three parts (JWE is not "
                                    "accepted)");
            dots[nd++] = i;
        } else if (!bnc_jwt_b64url_char(c)) {
            return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                                c == '=' ? "base64url padding '=' is not "
                                           "allowed"
                                : (c == '+' || c == '/')
                                    ? "'+' or '/' is not base64url"
                                : (c == ' ' || c == '\t' || c == '\r' ||
                                   c == '\n')
                                    ? "whitespace in the token"
                                    : "invalid character in the token");
        }
    }
    if (nd != 2)
        return bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                            "not three dot-separated parts");
    buf = bnc_malloc(len + 1);
    st = bnc_jwt_part_json(token, dots[0], "header", buf, len, &hdr, why,
                           whylen);
    if (st != BNC_JWT_OK)
        goto out;
    /* RFC 7515 4.1.11: we implement no extension, so any crit is one we
     * do not understand. jwk/jku/x5u/x5c are ignored: keys come from the
     * configuration only (RFC 8725 3.10). */
    crit = json_object_get(hdr, "crit");
    if (crit != NULL) {
        st = bnc_jwt_fail(BNC_JWT_CRIT, why, whylen,
                          "unsupported crit header parameter");
        goto out;
    }
    st = bnc_jwt_select(ks, hdr, &alg, cand, &ncand, why, whylen);
    if (st != BNC_JWT_OK)
        goto out;
    if (dots[1] + 1 == len) {
        st = bnc_jwt_fail(BNC_JWT_BAD_SIGNATURE, why, whylen,
                          "signature missing");
        goto out;
    }
    if (bnc_b64url_decode(token + dots[1] + 1, len - dots[1] - 1, buf, len,
                          &siglen) != 0) {
        st = bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen,
                          "signature is not valid base64url");
        goto out;
    }
    if (dots[1] == dots[0] + 1) {
        st = bnc_jwt_fail(BNC_JWT_MALFORMED, why, whylen, "empty payload");
        goto out;
    }
    for (i = 0; i < ncand && !good; i++)
        good = bnc_jwt_sig_verify(cand[i], token, dots[1], buf, siglen);
    if (!good) {
        st = bnc_jwt_fail(BNC_JWT_BAD_SIGNATURE, why, whylen,
                          "Signature verification failed");
        goto out;
    }
    st = bnc_jwt_part_json(token + dots[0] + 1, dots[1] - dots[0] - 1,
                           "payload", buf, len, &claims, why, whylen);
    if (st != BNC_JWT_OK)
        goto out;
    st = bnc_jwt_claims(claims, o, why, whylen);
    if (st == BNC_JWT_OK && payload != NULL) {
        *payload = claims;
        claims = NULL;
    }
out:
    json_decref(hdr);
    json_decref(claims);
    free(buf);
    return st;
}
