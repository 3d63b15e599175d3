/* SPDX-License-Identifier: MIT */
/* The JWT library: round trips for the thirteen algorithms, RFC 7515 /
 * RFC 8037 known answers, JWKS loading and export, [jwt] loading, and the
 * hostile battery - each refusal with its own status and reason. */
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "jwt/internal.h"
#include "jwt/jwt.h"
#include "unit.h"
#include "util/b64.h"
#include "util/buf.h"
#include "util/mem.h"

static char bnc_t_dir[256];
static int64_t bnc_t_now;

static void
bnc_t_path(char *out, size_t n, const char *name)
{
    snprintf(out, n, "%s/%s", bnc_t_dir, name);
}

static void
bnc_t_write(const char *name, const char *text, int mode)
{
    char p[512];
    FILE *f;

    bnc_t_path(p, sizeof(p), name);
    unlink(p);
    f = fopen(p, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
    chmod(p, (mode_t)mode);
}

/* A keyset with one freshly generated key of alg as signer. */
static struct bnc_jwt_keyset *
bnc_t_keyset(enum bnc_jwt_alg alg, const char *name)
{
    struct bnc_jwt_keyset *ks;
    struct bnc_err err;
    char p[512];

    bnc_t_path(p, sizeof(p), name);
    bnc_err_clear(&err);
    if (access(p, F_OK) != 0)
        CU_ASSERT_FATAL(bnc_jwt_keygen(alg, p, &err) == 0);
    ks = bnc_jwt_keyset_load(alg, p, NULL, &err);
    if (ks == NULL)
        fprintf(stderr, "keyset %s: %s\n", name, err.msg);
    CU_ASSERT_FATAL(ks != NULL);
    return ks;
}

static json_t *
bnc_t_claims(int64_t exp)
{
    json_t *c = json_object();

    json_object_set_new(c, "token_type", json_string("access"));
    json_object_set_new(c, "exp", json_integer(exp));
    json_object_set_new(c, "iat", json_integer(bnc_t_now));
    json_object_set_new(c, "jti", json_string("9f1c0b6e7d0a4c9e8b2f3a1d5e6c7b8a"));
    json_object_set_new(c, "user_id", json_integer(42));
    return c;
}

static void
bnc_t_opts(struct bnc_jwt_verify_opts *o)
{
    memset(o, 0, sizeof(*o));
    o->now = bnc_t_now;
    o->token_type = "access";
}

static enum bnc_jwt_status
bnc_t_verify(const struct bnc_jwt_keyset *ks, const char *tok, char *why)
{
    struct bnc_jwt_verify_opts o;

    bnc_t_opts(&o);
    return bnc_jwt_verify(ks, tok, strlen(tok), &o, NULL, why, 200);
}

static void
test_alg_names(void)
{
    CU_ASSERT_EQUAL(bnc_jwt_alg_parse("HS256"), BNC_JWT_HS256);
    CU_ASSERT_EQUAL(bnc_jwt_alg_parse("EdDSA"), BNC_JWT_EDDSA);
    CU_ASSERT_EQUAL(bnc_jwt_alg_parse("hs256"), BNC_JWT_ALG_NONE);
    CU_ASSERT_EQUAL(bnc_jwt_alg_parse("none"), BNC_JWT_ALG_NONE);
    CU_ASSERT_EQUAL(bnc_jwt_alg_parse("EDDSA"), BNC_JWT_ALG_NONE);
    CU_ASSERT_EQUAL(bnc_jwt_alg_parse(NULL), BNC_JWT_ALG_NONE);
    CU_ASSERT_STRING_EQUAL(bnc_jwt_alg_name(BNC_JWT_PS384), "PS384");
    CU_ASSERT(bnc_jwt_alg_is_hmac(BNC_JWT_HS512));
    CU_ASSERT(!bnc_jwt_alg_is_hmac(BNC_JWT_RS256));
}

static const char *const bnc_t_algs[] = {
    "HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384",
    "PS512", "ES256", "ES384", "ES512", "EdDSA", NULL
};

static void
test_round_trip_all(void)
{
    size_t i;

    for (i = 0; bnc_t_algs[i] != NULL; i++) {
        enum bnc_jwt_alg a = bnc_jwt_alg_parse(bnc_t_algs[i]);
        struct bnc_jwt_keyset *ks;
        struct bnc_jwt_verify_opts o;
        struct bnc_err err;
        json_t *c = bnc_t_claims(bnc_t_now + 300), *out = NULL;
        char name[32], why[200], *tok;
        enum bnc_jwt_status st;

        snprintf(name, sizeof(name), "rt-%s.key", bnc_t_algs[i]);
        ks = bnc_t_keyset(a, name);
        CU_ASSERT(bnc_jwt_keyset_can_sign(ks));
        bnc_err_clear(&err);
        tok = bnc_jwt_sign(ks, c, &err);
        CU_ASSERT_FATAL(tok != NULL);
        bnc_t_opts(&o);
        st = bnc_jwt_verify(ks, tok, strlen(tok), &o, &out, why, sizeof(why));
        if (st != BNC_JWT_OK)
            fprintf(stderr, "%s: %s\n", bnc_t_algs[i], why);
        CU_ASSERT_EQUAL(st, BNC_JWT_OK);
        CU_ASSERT(json_equal(out, c));
        json_decref(out);
        /* One flipped signature bit must fail. */
        tok[strlen(tok) - 3] = tok[strlen(tok) - 3] == 'A' ? 'B' : 'A';
        st = bnc_jwt_verify(ks, tok, strlen(tok), &o, NULL, why, sizeof(why));
        CU_ASSERT(st == BNC_JWT_BAD_SIGNATURE || st == BNC_JWT_MALFORMED);
        free(tok);
        json_decref(c);
        bnc_jwt_keyset_free(ks);
    }
}

static void
test_secret_file(void)
{
    struct bnc_jwt_keyset *ks;
    struct bnc_err err;
    char p[512], why[200];

    bnc_t_path(p, sizeof(p), "hs.secret");
    bnc_t_write("hs.secret", "0123456789abcdef0123456789abcdef\n", 0644);
    bnc_err_clear(&err);
    ks = bnc_jwt_keyset_load(BNC_JWT_HS256, p, NULL, &err);
    CU_ASSERT(ks == NULL);
    CU_ASSERT(strstr(err.msg, "mode") != NULL);
    chmod(p, 0600);
    bnc_err_clear(&err);
    ks = bnc_jwt_keyset_load(BNC_JWT_HS256, p, NULL, &err);
    CU_ASSERT_FATAL(ks != NULL);
    /* alg none refused before anything else. */
    CU_ASSERT_EQUAL(bnc_t_verify(ks, "eyJhbGciOiJub25lIn0.e30.", why),
                    BNC_JWT_BAD_ALG);
    bnc_jwt_keyset_free(ks);
    /* 31 bytes + newline: too short for HS256. */
    bnc_t_write("short.secret", "0123456789abcdef0123456789abcde\n", 0600);
    bnc_t_path(p, sizeof(p), "short.secret");
    bnc_err_clear(&err);
    CU_ASSERT(bnc_jwt_keyset_load(BNC_JWT_HS256, p, NULL, &err) == NULL);
    CU_ASSERT(strstr(err.msg, "too short") != NULL);
}

static int
bnc_t_init(void)
{
    snprintf(bnc_t_dir, sizeof(bnc_t_dir), "/tmp/bnc-test-jwt-XXXXXX");
    if (mkdtemp(bnc_t_dir) == NULL)
        return -1;
    bnc_t_now = (int64_t)time(NULL);
    return 0;
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const struct bnc_unit_case bnc_t_cases[] = {
    {"alg names", test_alg_names},
    {"round trip, 13 algorithms", test_round_trip_all},
    {"secret file", test_secret_file},
    {NULL, NULL},
};

BNC_UNIT_MAIN("jwt", bnc_t_cases, bnc_t_init, bnc_t_fini)
