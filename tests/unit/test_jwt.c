/* SPDX-License-Identifier: MIT */
/* The JWT library: round trips for the thirteen algorithms, RFC 7515 /
 * RFC 8037 known answers, JWKS loading and export, [jwt] loading, and the
 * hostile battery - each refusal with its own status and reason. */
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
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


/* ---- known answers ---------------------------------------------------- */

/* RFC 7515 A.1 (HS256; its header has CR LF and spaces inside the JSON). */
#define KAT_A1_KEY \
    "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}]}"
#define KAT_A1_TOKEN \
    "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
/* RFC 8037 A.4 (Ed25519; the payload is text, not claims). */
#define KAT_ED_KEY \
    "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}"
#define KAT_ED_INPUT "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc"
#define KAT_ED_SIG \
    "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg"
/* Made once by PyJWT 2.6 (python3-jwt) with fresh keys: an independent
 * implementation's ES256, RS256 and PS256 (same RSA key, two kids). */
#define KAT_PY_JWKS \
    "{\"keys\": [{\"kty\": \"EC\", \"crv\": \"P-256\", \"x\": \"E703xTFD6_6G1C7G5Gz6xH-mwn6rnRj2kVTWDVH9W3A\", \"y\": \"d1F9XLqkHs4Hjn8VOHPD5j9cSTBgsDBzs0Uc6Ntc_4k\", \"alg\": \"ES256\", \"kid\": \"kat-es\"}, " \
    "{\"kty\": \"RSA\", \"key_ops\": [\"verify\"], \"n\": \"" KAT_PY_N "\", \"e\": \"AQAB\", \"alg\": \"RS256\", \"kid\": \"kat-rs\"}, " \
    "{\"kty\": \"RSA\", \"key_ops\": [\"verify\"], \"n\": \"" KAT_PY_N "\", \"e\": \"AQAB\", \"alg\": \"PS256\", \"kid\": \"kat-ps\"}]}"
#define KAT_PY_N \
    "xqaNeZRASj3MTCvE7virK1dDyoa-k-5KNB0pAeCSvS9r5xMbNbqwpmN44g01vVzLDlONH7cwO8zfUZ1NNZkLx6xL_FN5Kff1FZRFNWF4Q8qYxpHajpUmfVw3GohEZx4RVgRuGO7cf5uZ7k7h1LBpeKvJM_lueYiZF3382Fhf5--P39QHxoeGufbgnCXsR5M-yiIg3fBZ50kpfXlGjXqP8ZigpiO7kIxKVYsDT09pvgeZJO7ly2k9wWZVlEhnI0yjrLF2iOlGqQx5VjepMeIR7wJuF7QEbaFO_UnHa6JuMGqqB9WWS9-RhdMxJbTtyoHEnLXr0O6-GiqDWiggqYRSYw"
#define KAT_PY_CLAIMS "eyJ0b2tlbl90eXBlIjoiYWNjZXNzIiwiZXhwIjoyMDAwMDAwMDAwLCJpYXQiOjE3MDAwMDAwMDAsImp0aSI6ImthdCIsInVzZXJfaWQiOjQyfQ"
#define KAT_PY_ES \
    "eyJhbGciOiJFUzI1NiIsImtpZCI6ImthdC1lcyIsInR5cCI6IkpXVCJ9." KAT_PY_CLAIMS ".BERNmeCFaek7R_DBSEKQfjWO93Rj9AqV8kzIVn9Zqrok-XVIT8L4ucAuRJDBhIXHY5p-Vpr-mh3DQXDUlkvfYA"
#define KAT_PY_RS \
    "eyJhbGciOiJSUzI1NiIsImtpZCI6ImthdC1ycyIsInR5cCI6IkpXVCJ9." KAT_PY_CLAIMS ".psRuQm7m0EU7LeK6rI90AyLEbQc1ZY9P7hcoahHv4ORVpKVHlVSzmiTzDkhhdAimx_g_eUq3C4YuY7y59dJlse3f_PMs78uf834-cROlkPbdzheC16Esfb9wh1X46_I8ksOwSM47Hsm7DoWU0DNYbRiXJWDXO2U39luH_rT1-0sN4BpmY-e3Y_pc45I0LlBGGhZCzeI43UzkiofhioHXIsyifZ6PNRTgxeXoUtd0SB-H7SjeTAX00LPdRAXXstHHWAwn3eUAHVw1aEV9duVeko3QhzIbgqpmwVDh9vNSxOftwMnBDfA48M_ufth2_GNdhPTjtxNH7PIiGeCqMBEiRw"
#define KAT_PY_PS \
    "eyJhbGciOiJQUzI1NiIsImtpZCI6ImthdC1wcyIsInR5cCI6IkpXVCJ9." KAT_PY_CLAIMS ".Jq9GbYzhizg2TlLq85AQK2PiZDqq-jaKafAHH-Cr9TZjZQLytJ2GSzPVOWVMb0Y1dNyVni3qld5rmThFuZyoYTAcE3LF90vpHl3d855SCs1SHzZXmq2mRITK0lNQ3lrQ2uiL90nFNnFinLz1f346E3tH1vSH_R2glORfNHc4vIPPdBJF05PEgBJVvqn3hKZxGKQ9UweAE53nXI3E_j3N8mrXyfDzfraKjrR5-6nYPkorcrMiXmGlPMm0O578VReE0Xjhh9VPzM4AmCQF4SVeilYT0hcotMnQoiHELKeytZJRDyFx9IkdOz37FJDfSpvT0-h7YVNcWvqkCmfSuJWjfA"

static struct bnc_jwt_keyset *
bnc_t_jwks(const char *name, const char *text, enum bnc_jwt_alg alg)
{
    const char *paths[2];
    struct bnc_jwt_keyset *ks;
    struct bnc_err err;
    char p[512];

    bnc_t_write(name, text, 0600);
    bnc_t_path(p, sizeof(p), name);
    paths[0] = p;
    paths[1] = NULL;
    bnc_err_clear(&err);
    ks = bnc_jwt_keyset_load(alg, NULL, paths, &err);
    if (ks == NULL)
        fprintf(stderr, "jwks %s: %s\n", name, err.msg);
    return ks;
}

static void
test_kat_rfc7515_a1(void)
{
    struct bnc_jwt_keyset *ks = bnc_t_jwks("a1.jwks", KAT_A1_KEY,
                                           BNC_JWT_HS256);
    struct bnc_jwt_verify_opts o;
    json_t *c = NULL;
    char why[200];

    CU_ASSERT_FATAL(ks != NULL);
    memset(&o, 0, sizeof(o));
    o.now = 1300819000;
    CU_ASSERT_EQUAL(bnc_jwt_verify(ks, KAT_A1_TOKEN, strlen(KAT_A1_TOKEN), &o,
                                   &c, why, sizeof(why)), BNC_JWT_OK);
    CU_ASSERT_STRING_EQUAL(json_string_value(json_object_get(c, "iss")), "joe");
    json_decref(c);
    /* One second after exp (1300819380): expired, and leeway saves it. */
    o.now = 1300819380;
    CU_ASSERT_EQUAL(bnc_jwt_verify(ks, KAT_A1_TOKEN, strlen(KAT_A1_TOKEN), &o,
                                   NULL, why, sizeof(why)), BNC_JWT_EXPIRED);
    o.leeway = 1;
    CU_ASSERT_EQUAL(bnc_jwt_verify(ks, KAT_A1_TOKEN, strlen(KAT_A1_TOKEN), &o,
                                   NULL, why, sizeof(why)), BNC_JWT_OK);
    /* A JWKS oct key is never published. */
    {
        struct bnc_buf b;

        bnc_buf_init(&b);
        bnc_jwt_keyset_jwks(ks, &b);
        CU_ASSERT_STRING_EQUAL(bnc_buf_str(&b), "{\"keys\":[]}");
        bnc_buf_cleanup(&b);
    }
    bnc_jwt_keyset_free(ks);
}

static void
test_kat_rfc8037_ed25519(void)
{
    struct bnc_jwt_keyset *ks = bnc_t_jwks("ed.jwks", KAT_ED_KEY,
                                           BNC_JWT_ALG_NONE);
    unsigned char sig[64];
    size_t n = 0;

    CU_ASSERT_FATAL(ks != NULL);
    CU_ASSERT_EQUAL_FATAL(ks->nkeys, 1);
    CU_ASSERT_EQUAL(ks->keys[0]->alg, BNC_JWT_EDDSA);
    CU_ASSERT_EQUAL_FATAL(bnc_b64url_decode(KAT_ED_SIG, strlen(KAT_ED_SIG),
                                            sig, sizeof(sig), &n), 0);
    CU_ASSERT_EQUAL(bnc_jwt_sig_verify(ks->keys[0], KAT_ED_INPUT,
                                       strlen(KAT_ED_INPUT), sig, n), 1);
    sig[10] ^= 1;
    CU_ASSERT_EQUAL(bnc_jwt_sig_verify(ks->keys[0], KAT_ED_INPUT,
                                       strlen(KAT_ED_INPUT), sig, n), 0);
    /* RFC 8037 A.3: the thumbprint of this key. */
    CU_ASSERT_STRING_EQUAL(ks->keys[0]->kid,
                           "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    bnc_jwt_keyset_free(ks);
}

static void
test_kat_pyjwt(void)
{
    struct bnc_jwt_keyset *ks = bnc_t_jwks("py.jwks", KAT_PY_JWKS,
                                           BNC_JWT_ALG_NONE);
    static const char *const toks[] = {KAT_PY_ES, KAT_PY_RS, KAT_PY_PS, NULL};
    struct bnc_jwt_verify_opts o;
    struct bnc_buf b;
    char why[200];
    size_t i;

    CU_ASSERT_FATAL(ks != NULL);
    CU_ASSERT_EQUAL(ks->nkeys, 3);
    bnc_t_opts(&o);
    o.now = 1800000000;
    for (i = 0; toks[i] != NULL; i++) {
        CU_ASSERT_EQUAL(bnc_jwt_verify(ks, toks[i], strlen(toks[i]), &o, NULL,
                                       why, sizeof(why)), BNC_JWT_OK);
    }
    /* The RS256 signature under the PS256 key's kid: the key decides. */
    {
        char *t = bnc_strdup(KAT_PY_RS);
        const char *hdr = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImthdC1wcyIsInR5cCI6IkpXVCJ9";
        /* {"alg":"RS256","kid":"kat-ps","typ":"JWT"} */
        struct bnc_buf x;

        bnc_buf_init(&x);
        bnc_buf_puts(&x, hdr);
        bnc_buf_puts(&x, strchr(t, '.'));
        CU_ASSERT_EQUAL(bnc_jwt_verify(ks, x.data, x.len, &o, NULL, why,
                                       sizeof(why)), BNC_JWT_BAD_ALG);
        CU_ASSERT(strstr(why, "kat-ps") != NULL);
        bnc_buf_cleanup(&x);
        free(t);
    }
    /* Export: the same public members come back, with kid/alg/use. */
    bnc_buf_init(&b);
    bnc_jwt_keyset_jwks(ks, &b);
    CU_ASSERT(strstr(b.data, "\"x\":\"E703xTFD6_6G1C7G5Gz6xH-mwn6rnRj2kVTWDVH9W3A\"") != NULL);
    CU_ASSERT(strstr(b.data, "\"kid\":\"kat-ps\",\"alg\":\"PS256\",\"use\":\"sig\"") != NULL);
    CU_ASSERT(strstr(b.data, "\"e\":\"AQAB\"") != NULL);
    bnc_buf_cleanup(&b);
    bnc_jwt_keyset_free(ks);
}

static void
test_jwks_errors(void)
{
    struct bnc_jwt_keyset *ks;

    /* Off-curve point. */
    ks = bnc_t_jwks("bad1.jwks", "{\"keys\":[{\"kty\":\"EC\",\"crv\":\"P-256\",\"alg\":\"ES256\","
                    "\"x\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\","
                    "\"y\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAE\"}]}",
                    BNC_JWT_ALG_NONE);
    CU_ASSERT(ks == NULL);
    /* RSA under 2048 bits (512 here). */
    ks = bnc_t_jwks("bad2.jwks", "{\"keys\":[{\"kty\":\"RSA\",\"alg\":\"RS256\",\"e\":\"AQAB\","
                    "\"n\":\"wY-Oi3OAx08pUoO7L8zMLrC5N33KxXpN4v1bjzsP8sEVBVlIvSh8QvqlQj3kDq2y3WGEvqyDNwQ8hPR6DtR3bQ\"}]}",
                    BNC_JWT_ALG_NONE);
    CU_ASSERT(ks == NULL);
    /* alg/kty mismatch, unknown alg, none, duplicate kid, duplicate names. */
    CU_ASSERT(bnc_t_jwks("bad3.jwks", "{\"keys\":[{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"alg\":\"ES256\","
                         "\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
                         BNC_JWT_ALG_NONE) == NULL);
    CU_ASSERT(bnc_t_jwks("bad4.jwks", "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"none\",\"k\":\"AAAA\"}]}",
                         BNC_JWT_ALG_NONE) == NULL);
    CU_ASSERT(bnc_t_jwks("bad5.jwks", "{\"keys\":[{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"a\","
                         "\"k\":\"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"},"
                         "{\"kty\":\"oct\",\"alg\":\"HS256\",\"kid\":\"a\","
                         "\"k\":\"BBM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow\"}]}",
                         BNC_JWT_HS256) == NULL);
    CU_ASSERT(bnc_t_jwks("bad6.jwks", "{\"keys\":[], \"keys\":[]}", BNC_JWT_HS256) == NULL);
    CU_ASSERT(bnc_t_jwks("bad7.jwks", "{\"nokeys\":1}", BNC_JWT_HS256) == NULL);
    /* An oct key is a secret: not in a world-readable JWKS file, even
     * when [jwt] algorithm is asymmetric. */
    {
        const char *paths[2];
        struct bnc_err err;
        char p[512];

        bnc_t_write("oct-open.jwks", KAT_A1_KEY, 0644);
        bnc_t_path(p, sizeof(p), "oct-open.jwks");
        paths[0] = p;
        paths[1] = NULL;
        bnc_err_clear(&err);
        CU_ASSERT(bnc_jwt_keyset_load(BNC_JWT_ES256, NULL, paths, &err) == NULL);
        CU_ASSERT(strstr(err.msg, "mode") != NULL);
        /* A public JWKS may be world-readable. */
        bnc_t_write("pub-open.jwks", KAT_ED_KEY, 0644);
        bnc_t_path(p, sizeof(p), "pub-open.jwks");
        bnc_err_clear(&err);
        ks = bnc_jwt_keyset_load(BNC_JWT_ES256, NULL, paths, &err);
        CU_ASSERT(ks != NULL);
        bnc_jwt_keyset_free(ks);
    }
    /* An encryption key is skipped, not an error. */
    ks = bnc_t_jwks("enc.jwks", "{\"keys\":[{\"kty\":\"RSA\",\"use\":\"enc\"},"
                    "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":\"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo\"}]}",
                    BNC_JWT_ALG_NONE);
    CU_ASSERT_FATAL(ks != NULL);
    CU_ASSERT_EQUAL(ks->nkeys, 1);
    bnc_jwt_keyset_free(ks);
}

/* ---- hostile battery --------------------------------------------------- */

static struct bnc_jwt_keyset *bnc_t_hs, *bnc_t_es, *bnc_t_rs;

static void
bnc_t_b64(struct bnc_buf *b, const void *p, size_t n)
{
    char *s = bnc_malloc(bnc_b64_encoded_size(n));

    bnc_b64url_encode(p, n, s);
    bnc_buf_puts(b, s);
    free(s);
}

/* header.payload.signature from raw JSON texts, signed by ks's signer
 * (the signature of whatever alg the key has, whatever the header says). */
static char *
bnc_t_mint(const struct bnc_jwt_keyset *ks, const char *hdr, const char *pl)
{
    unsigned char sig[BNC_JWT_SIG_MAX];
    size_t n = 0;
    struct bnc_buf b;
    struct bnc_err err;
    char *out;

    bnc_buf_init(&b);
    bnc_t_b64(&b, hdr, strlen(hdr));
    bnc_buf_putc(&b, '.');
    bnc_t_b64(&b, pl, strlen(pl));
    bnc_err_clear(&err);
    CU_ASSERT_FATAL(bnc_jwt_sig_sign(ks->signer, b.data, b.len, sig,
                                     sizeof(sig), &n, &err) == 0);
    bnc_buf_putc(&b, '.');
    bnc_t_b64(&b, sig, n);
    out = bnc_strdup(b.data);
    bnc_buf_cleanup(&b);
    return out;
}

/* A good access-token payload with one member replaced or added. */
static char *
bnc_t_payload(const char *extra)
{
    struct bnc_buf b;
    char *out;

    bnc_buf_init(&b);
    bnc_buf_printf(&b, "{\"token_type\":\"access\",\"exp\":%lld,\"iat\":%lld,"
                   "\"jti\":\"j1\",\"user_id\":42%s%s}",
                   (long long)bnc_t_now + 300, (long long)bnc_t_now,
                   extra != NULL ? "," : "", extra != NULL ? extra : "");
    out = bnc_strdup(b.data);
    bnc_buf_cleanup(&b);
    return out;
}

static void
bnc_t_expect(const struct bnc_jwt_keyset *ks, const char *tok,
             enum bnc_jwt_status want, const char *why_has)
{
    char why[200];
    enum bnc_jwt_status st = bnc_t_verify(ks, tok, why);

    if (st != want || (why_has != NULL && strstr(why, why_has) == NULL))
        fprintf(stderr, "\n  token %.80s: status %d (want %d), why '%s' "
                "(want '%s')\n", tok, st, want, why,
                why_has ? why_has : "");
    CU_ASSERT_EQUAL(st, want);
    if (why_has != NULL)
        CU_ASSERT_PTR_NOT_NULL(strstr(why, why_has));
}

static void
bnc_t_expect_mint(const struct bnc_jwt_keyset *ks, const char *hdr,
                  const char *extra, enum bnc_jwt_status want,
                  const char *why_has)
{
    char *pl = bnc_t_payload(extra), *tok = bnc_t_mint(ks, hdr, pl);

    bnc_t_expect(ks, tok, want, why_has);
    free(tok);
    free(pl);
}

#define HS "{\"alg\":\"HS256\",\"typ\":\"JWT\"}"

static void
test_hostile_alg_none(void)
{
    static const char *const nones[] = {"none", "None", "NONE", "nOnE", NULL};
    char hdr[64], *pl = bnc_t_payload(NULL);
    struct bnc_buf b;
    size_t i;

    for (i = 0; nones[i] != NULL; i++) {
        snprintf(hdr, sizeof(hdr), "{\"alg\":\"%s\",\"typ\":\"JWT\"}", nones[i]);
        bnc_buf_init(&b);
        bnc_t_b64(&b, hdr, strlen(hdr));
        bnc_buf_putc(&b, '.');
        bnc_t_b64(&b, pl, strlen(pl));
        bnc_buf_putc(&b, '.');
        bnc_t_expect(bnc_t_hs, b.data, BNC_JWT_BAD_ALG, "alg none");
        /* ... also with a (HMAC) signature appended. */
        bnc_buf_puts(&b, "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk");
        bnc_t_expect(bnc_t_es, b.data, BNC_JWT_BAD_ALG, "alg none");
        bnc_buf_cleanup(&b);
    }
    free(pl);
    bnc_t_expect_mint(bnc_t_hs, "{\"typ\":\"JWT\"}", NULL, BNC_JWT_BAD_ALG,
                      "no alg");
    bnc_t_expect_mint(bnc_t_hs, "{\"alg\":\"hs256\"}", NULL, BNC_JWT_BAD_ALG,
                      "unsupported alg");
    bnc_t_expect_mint(bnc_t_hs, "{\"alg\":256}", NULL, BNC_JWT_BAD_ALG,
                      "no alg");
}

/* HS256 "signed" with the public key's PEM bytes as the secret: the
 * classic confusion. Only asymmetric keys are configured, so no key
 * allows HS256. */
static void
test_hostile_key_confusion(void)
{
    static const char *const names[] = {"rs-pub.pem", "es-pub.pem", NULL};
    const struct bnc_jwt_keyset *sets[] = {bnc_t_rs, bnc_t_es};
    size_t i;

    for (i = 0; names[i] != NULL; i++) {
        const struct bnc_jwt_key *k = sets[i]->signer;
        struct bnc_jwt_keyset *pub, *hmac;
        struct bnc_err err;
        const char *paths[2];
        char p[512], *tok, *pl = bnc_t_payload(NULL);
        BIO *bio = BIO_new(BIO_s_mem());
        char *pem;
        long n;
        FILE *f;

        /* The public half as a PEM file: what an attacker can download. */
        CU_ASSERT_FATAL(PEM_write_bio_PUBKEY(bio, k->pkey) == 1);
        n = BIO_get_mem_data(bio, &pem);
        bnc_t_path(p, sizeof(p), names[i]);
        f = fopen(p, "w");
        fwrite(pem, 1, (size_t)n, f);
        fclose(f);
        chmod(p, 0600);
        paths[0] = p;
        paths[1] = NULL;
        bnc_err_clear(&err);
        pub = bnc_jwt_keyset_load(k->alg, NULL, paths, &err);
        CU_ASSERT_FATAL(pub != NULL);
        bnc_err_clear(&err);
        hmac = bnc_jwt_keyset_load(BNC_JWT_HS256, NULL, NULL, &err);
        CU_ASSERT(hmac == NULL);
        {
            struct bnc_jwt_keyset fake;
            struct bnc_jwt_key *hk = bnc_jwt_key_hmac(
                BNC_JWT_HS256, (const unsigned char *)pem, (size_t)n, &err);

            CU_ASSERT_FATAL(hk != NULL);
            memset(&fake, 0, sizeof(fake));
            fake.signer = hk;
            tok = bnc_t_mint(&fake, HS, pl);
            bnc_t_expect(pub, tok, BNC_JWT_BAD_ALG, "not allowed by any");
            free(tok);
            bnc_jwt_key_free(hk);
        }
        /* And the configuration refuses to make that key in the first
         * place: a PEM file with algorithm HS256. */
        bnc_err_clear(&err);
        CU_ASSERT(bnc_jwt_keyset_load(BNC_JWT_HS256, NULL, paths, &err) == NULL);
        CU_ASSERT(strstr(err.msg, "PEM") != NULL);
        bnc_jwt_keyset_free(pub);
        BIO_free(bio);
        free(pl);
    }
}

/* Replaces the signature with its first bytes minus cut, re-encoded. */
static void
bnc_t_truncate_sig(char *tok, size_t cut)
{
    char *dot = strrchr(tok, '.');
    unsigned char raw[BNC_JWT_SIG_MAX];
    size_t n = 0;

    CU_ASSERT_FATAL(bnc_b64url_decode(dot + 1, strlen(dot + 1), raw,
                                      sizeof(raw), &n) == 0 && n > cut);
    bnc_b64url_encode(raw, n - cut, dot + 1);
}

static void
test_hostile_signature(void)
{
    char *pl = bnc_t_payload(NULL);
    char *tok = bnc_t_mint(bnc_t_es, "{\"alg\":\"ES256\"}", pl);
    char *dot = strrchr(tok, '.');
    unsigned char zero[64], der[80];
    struct bnc_buf b;
    size_t n;

    /* Stripped. */
    dot[1] = '\0';
    bnc_t_expect(bnc_t_es, tok, BNC_JWT_BAD_SIGNATURE, "signature missing");
    dot[0] = '\0';
    bnc_t_expect(bnc_t_es, tok, BNC_JWT_MALFORMED, "three");
    free(tok);
    /* Truncated by 3 bytes (re-encoded canonically): wrong length for
     * ES256, a short MAC for HS256; cut mid-character: not base64url. */
    tok = bnc_t_mint(bnc_t_es, "{\"alg\":\"ES256\"}", pl);
    bnc_t_truncate_sig(tok, 3);
    bnc_t_expect(bnc_t_es, tok, BNC_JWT_BAD_SIGNATURE, "verification failed");
    free(tok);
    tok = bnc_t_mint(bnc_t_hs, HS, pl);
    bnc_t_truncate_sig(tok, 3);
    bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_SIGNATURE, "verification failed");
    free(tok);
    tok = bnc_t_mint(bnc_t_hs, HS, pl);
    tok[strlen(tok) - 2] = '\0'; /* 41 characters: no base64 is 1 mod 4 */
    bnc_t_expect(bnc_t_hs, tok, BNC_JWT_MALFORMED, "signature is not valid base64url");
    free(tok);
    /* r = s = 0, and r = 0 with s set. */
    memset(zero, 0, sizeof(zero));
    for (n = 0; n < 2; n++) {
        bnc_buf_init(&b);
        bnc_t_b64(&b, "{\"alg\":\"ES256\"}", 15);
        bnc_buf_putc(&b, '.');
        bnc_t_b64(&b, pl, strlen(pl));
        bnc_buf_putc(&b, '.');
        if (n == 1)
            zero[40] = 1;
        bnc_t_b64(&b, zero, 64);
        bnc_t_expect(bnc_t_es, b.data, BNC_JWT_BAD_SIGNATURE,
                     "verification failed");
        bnc_buf_cleanup(&b);
    }
    /* A valid ECDSA signature in DER form (what OpenSSL makes): refused. */
    {
        EVP_MD_CTX *md = EVP_MD_CTX_new();
        size_t dl = sizeof(der);

        bnc_buf_init(&b);
        bnc_t_b64(&b, "{\"alg\":\"ES256\"}", 15);
        bnc_buf_putc(&b, '.');
        bnc_t_b64(&b, pl, strlen(pl));
        CU_ASSERT_FATAL(EVP_DigestSignInit_ex(md, NULL, "SHA256", NULL, NULL,
                                              bnc_t_es->signer->pkey, NULL) == 1);
        CU_ASSERT_FATAL(EVP_DigestSign(md, der, &dl, (unsigned char *)b.data,
                                       b.len) == 1);
        EVP_MD_CTX_free(md);
        bnc_buf_putc(&b, '.');
        bnc_t_b64(&b, der, dl);
        bnc_t_expect(bnc_t_es, b.data, BNC_JWT_BAD_SIGNATURE,
                     "verification failed");
        bnc_buf_cleanup(&b);
    }
    free(pl);
}

static void
test_hostile_base64(void)
{
    char *pl = bnc_t_payload(NULL), *tok = bnc_t_mint(bnc_t_hs, HS, pl);
    size_t len = strlen(tok);
    char *bad = bnc_malloc(len + 8);
    const char *d1 = strchr(tok, '.');
    size_t h = (size_t)(d1 - tok);

    bnc_t_expect(bnc_t_hs, tok, BNC_JWT_OK, NULL);
    /* Padding after the header. */
    snprintf(bad, len + 8, "%.*s=%s", (int)h, tok, d1);
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "padding");
    /* Padding at the end of the signature. */
    snprintf(bad, len + 8, "%s=", tok);
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "padding");
    /* '+' and '/' of the standard alphabet. */
    snprintf(bad, len + 8, "%s", tok);
    bad[h + 3] = '+';
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "'+' or '/'");
    bad[h + 3] = '/';
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "'+' or '/'");
    /* Whitespace inside and around. */
    snprintf(bad, len + 8, "%.*s %s", (int)h, tok, d1);
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "whitespace");
    snprintf(bad, len + 8, "%s\n", tok);
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "whitespace");
    /* A NUL byte, passed with its length. */
    snprintf(bad, len + 8, "%s", tok);
    bad[5] = '\0';
    CU_ASSERT_EQUAL(bnc_jwt_verify(bnc_t_hs, bad, len, &(struct bnc_jwt_verify_opts){.now = bnc_t_now},
                                   NULL, NULL, 0), BNC_JWT_MALFORMED);
    /* JWE-like five parts, and an empty payload. */
    snprintf(bad, len + 8, "%s.a.b", tok);
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "more than three");
    snprintf(bad, len + 8, "%.*s..abc", (int)h, tok);
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "empty payload");
    /* Non-canonical: a length no base64 has (1 mod 4). */
    snprintf(bad, len + 8, "%.*sA%s", (int)h, tok, d1);
    bnc_t_expect(bnc_t_hs, bad, BNC_JWT_MALFORMED, "header is not valid base64url");
    free(bad);
    free(tok);
    free(pl);
}

static void
test_hostile_claims(void)
{
    char ex[128];

    /* Expired; future nbf; future iat - and leeway tolerates each. */
    snprintf(ex, sizeof(ex), "\"exp\":%lld", (long long)bnc_t_now - 1);
    {
        char *tok, pl[256];
        struct bnc_jwt_verify_opts o;
        char why[200];

        snprintf(pl, sizeof(pl), "{\"token_type\":\"access\",\"exp\":%lld,"
                 "\"user_id\":1}", (long long)bnc_t_now - 10);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_EXPIRED, "expired");
        bnc_t_opts(&o);
        o.leeway = 30;
        CU_ASSERT_EQUAL(bnc_jwt_verify(bnc_t_hs, tok, strlen(tok), &o, NULL,
                                       why, sizeof(why)), BNC_JWT_OK);
        free(tok);
        snprintf(pl, sizeof(pl), "{\"token_type\":\"access\",\"exp\":%lld,"
                 "\"nbf\":%lld}", (long long)bnc_t_now + 100,
                 (long long)bnc_t_now + 20);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_NOT_YET_VALID, "nbf");
        CU_ASSERT_EQUAL(bnc_jwt_verify(bnc_t_hs, tok, strlen(tok), &o, NULL,
                                       why, sizeof(why)), BNC_JWT_OK);
        free(tok);
        snprintf(pl, sizeof(pl), "{\"token_type\":\"access\",\"exp\":%lld,"
                 "\"iat\":%lld}", (long long)bnc_t_now + 100,
                 (long long)bnc_t_now + 20);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_IAT_FUTURE, "iat");
        CU_ASSERT_EQUAL(bnc_jwt_verify(bnc_t_hs, tok, strlen(tok), &o, NULL,
                                       why, sizeof(why)), BNC_JWT_OK);
        free(tok);
        /* Missing exp, numbers as strings, huge and overflowing exp. */
        tok = bnc_t_mint(bnc_t_hs, HS, "{\"token_type\":\"access\",\"user_id\":1}");
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_CLAIM, "no 'exp'");
        /* Also when no type is expected (/auth/token/verify, simplejwt's
         * UntypedToken): a token that never expires is refused. */
        bnc_t_opts(&o);
        o.token_type = NULL;
        CU_ASSERT_EQUAL(bnc_jwt_verify(bnc_t_hs, tok, strlen(tok), &o, NULL,
                                       why, sizeof(why)), BNC_JWT_BAD_CLAIM);
        free(tok);
        tok = bnc_t_mint(bnc_t_hs, HS, "{\"token_type\":\"access\",\"exp\":\"9999999999\"}");
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_CLAIM, "exp is not a number");
        free(tok);
        tok = bnc_t_mint(bnc_t_hs, HS, "{\"token_type\":\"access\",\"exp\":1e300}");
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_CLAIM, "exp is not a number");
        free(tok);
        tok = bnc_t_mint(bnc_t_hs, HS, "{\"token_type\":\"access\",\"exp\":99999999999999}");
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_CLAIM, "in range");
        free(tok);
        tok = bnc_t_mint(bnc_t_hs, HS, "{\"token_type\":\"access\",\"exp\":99999999999999999999999}");
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_MALFORMED, "payload is not valid JSON");
        free(tok);
        snprintf(pl, sizeof(pl), "{\"token_type\":\"access\",\"exp\":%lld.5,"
                 "\"iat\":\"1\"}", (long long)bnc_t_now + 100);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_CLAIM, "iat is not a number");
        free(tok);
        snprintf(pl, sizeof(pl), "{\"token_type\":\"access\",\"exp\":%lld,"
                 "\"nbf\":null}", (long long)bnc_t_now + 100);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_CLAIM, "nbf is not a number");
        free(tok);
    }
    /* token_type */
    bnc_t_expect_mint(bnc_t_hs, HS, "\"token_type\":\"refresh\"",
                      BNC_JWT_MALFORMED, "duplicate");
    {
        char pl[256], *tok;

        snprintf(pl, sizeof(pl), "{\"token_type\":\"refresh\",\"exp\":%lld}",
                 (long long)bnc_t_now + 100);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_TYPE, "wrong type");
        free(tok);
        snprintf(pl, sizeof(pl), "{\"exp\":%lld}", (long long)bnc_t_now + 100);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_expect(bnc_t_hs, tok, BNC_JWT_BAD_TYPE, "no type");
        free(tok);
    }
    bnc_t_expect_mint(bnc_t_hs, HS, "\"x\":1,\"x\":2", BNC_JWT_MALFORMED,
                      "duplicate");
    bnc_t_expect_mint(bnc_t_hs, "{\"alg\":\"HS256\",\"alg\":\"HS256\"}", NULL,
                      BNC_JWT_MALFORMED, "header is not valid JSON (duplicate");
    bnc_t_expect_mint(bnc_t_hs, HS, "\"aud\":\"api\"", BNC_JWT_BAD_AUDIENCE,
                      "none is configured");
    bnc_t_expect_mint(bnc_t_hs, HS, "\"jti\":7", BNC_JWT_MALFORMED,
                      "duplicate");
}

static void
test_hostile_iss_aud(void)
{
    struct bnc_jwt_verify_opts o;
    char pl[512], why[200], *tok;
    static const struct {
        const char *extra;
        enum bnc_jwt_status want;
    } cases[] = {
        {",\"iss\":\"https://example.org\",\"aud\":\"api\"", BNC_JWT_OK},
        {",\"iss\":\"https://example.org\",\"aud\":[\"web\",\"api\"]", BNC_JWT_OK},
        {",\"iss\":\"https://example.org\",\"aud\":[\"web\"]", BNC_JWT_BAD_AUDIENCE},
        {",\"iss\":\"https://example.org\",\"aud\":[\"api\",7]", BNC_JWT_BAD_AUDIENCE},
        {",\"iss\":\"https://example.org\",\"aud\":\"API\"", BNC_JWT_BAD_AUDIENCE},
        {",\"iss\":\"https://example.org\"", BNC_JWT_BAD_AUDIENCE},
        {",\"iss\":\"https://evil.example\",\"aud\":\"api\"", BNC_JWT_BAD_ISSUER},
        {",\"aud\":\"api\"", BNC_JWT_BAD_ISSUER},
        {",\"iss\":[\"https://example.org\"],\"aud\":\"api\"", BNC_JWT_BAD_ISSUER},
        {NULL, BNC_JWT_OK},
    };
    size_t i;

    bnc_t_opts(&o);
    o.issuer = "https://example.org";
    o.audience = "api";
    for (i = 0; cases[i].extra != NULL; i++) {
        snprintf(pl, sizeof(pl), "{\"token_type\":\"access\",\"exp\":%lld%s}",
                 (long long)bnc_t_now + 100, cases[i].extra);
        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        if (bnc_jwt_verify(bnc_t_hs, tok, strlen(tok), &o, NULL, why,
                           sizeof(why)) != cases[i].want) {
            fprintf(stderr, "case %s: %s\n", cases[i].extra, why);
            CU_FAIL("iss/aud case");
        }
        free(tok);
    }
}

static void
test_hostile_headers(void)
{
    char *pl = bnc_t_payload(NULL), *tok;
    struct bnc_buf b;
    char big[9000];
    char why[200];

    /* crit: we understand no extension. */
    bnc_t_expect_mint(bnc_t_hs, "{\"alg\":\"HS256\",\"crit\":[\"exp\"],\"exp\":1}",
                      NULL, BNC_JWT_CRIT, "crit");
    bnc_t_expect_mint(bnc_t_hs, "{\"alg\":\"HS256\",\"crit\":[\"b64\"],\"b64\":false}",
                      NULL, BNC_JWT_CRIT, "crit");
    /* Non-object header and payload. */
    bnc_t_expect_mint(bnc_t_hs, "[\"HS256\"]", NULL, BNC_JWT_MALFORMED,
                      "header is not a JSON object");
    tok = bnc_t_mint(bnc_t_hs, HS, "[1,2]");
    bnc_t_expect(bnc_t_hs, tok, BNC_JWT_MALFORMED, "payload is not a JSON object");
    free(tok);
    tok = bnc_t_mint(bnc_t_hs, HS, "\"claims\"");
    bnc_t_expect(bnc_t_hs, tok, BNC_JWT_MALFORMED, "payload is not a JSON object");
    free(tok);
    tok = bnc_t_mint(bnc_t_hs, HS, "{\"a\":1} trailing");
    bnc_t_expect(bnc_t_hs, tok, BNC_JWT_MALFORMED, "payload is not valid JSON");
    free(tok);
    /* Embedded keys are ignored: a token signed by the attacker's own key
     * announced in jwk / jku / x5u / x5c does not verify ... */
    {
        struct bnc_jwt_keyset *evil = bnc_t_keyset(BNC_JWT_ES256, "evil.pem");
        struct bnc_buf jwk;

        bnc_buf_init(&jwk);
        bnc_buf_puts(&jwk, "{\"alg\":\"ES256\",\"jku\":\"https://evil.example/jwks\","
                           "\"x5u\":\"https://evil.example/x\",\"x5c\":[\"AAAA\"],\"jwk\":");
        bnc_jwt_keyset_jwks(evil, &jwk);
        bnc_buf_puts(&jwk, "}");
        tok = bnc_t_mint(evil, jwk.data, pl);
        bnc_t_expect(bnc_t_es, tok, BNC_JWT_BAD_SIGNATURE, "verification failed");
        free(tok);
        /* ... while a genuine token carrying them still does. */
        tok = bnc_t_mint(bnc_t_es, jwk.data, pl);
        bnc_t_expect(bnc_t_es, tok, BNC_JWT_OK, NULL);
        free(tok);
        bnc_buf_cleanup(&jwk);
        bnc_jwt_keyset_free(evil);
    }
    /* kid: unknown kid falls back to the algorithm; a kid naming a key of
     * another algorithm is refused; a non-string kid is malformed. */
    bnc_t_expect_mint(bnc_t_es, "{\"alg\":\"ES256\",\"kid\":\"nope\"}", NULL,
                      BNC_JWT_OK, NULL);
    bnc_t_expect_mint(bnc_t_hs, "{\"alg\":\"HS256\",\"kid\":\"nope\"}", NULL,
                      BNC_JWT_OK, NULL);
    bnc_t_expect_mint(bnc_t_es, "{\"alg\":\"ES384\",\"kid\":\"nope\"}", NULL,
                      BNC_JWT_NO_KEY, "no key with this kid");
    {
        char h[256];

        snprintf(h, sizeof(h), "{\"alg\":\"ES384\",\"kid\":\"%s\"}",
                 bnc_t_es->signer->kid);
        bnc_t_expect_mint(bnc_t_es, h, NULL, BNC_JWT_BAD_ALG,
                          "is not the algorithm of key");
    }
    bnc_t_expect_mint(bnc_t_es, "{\"alg\":\"ES256\",\"kid\":1}", NULL,
                      BNC_JWT_MALFORMED, "kid");
    /* RS256 token against the ES256 key: the header cannot pick a key. */
    tok = bnc_t_mint(bnc_t_rs, "{\"alg\":\"RS256\"}", pl);
    bnc_t_expect(bnc_t_es, tok, BNC_JWT_BAD_ALG, "not allowed by any");
    free(tok);
    /* Oversize: over the default 8 KiB, and over a configured limit. */
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    bnc_t_expect(bnc_t_hs, big, BNC_JWT_TOO_LARGE, "longer than 8192");
    bnc_buf_init(&b);
    bnc_buf_printf(&b, "\"pad\":\"%0*d\"", 7000, 0);
    bnc_t_expect_mint(bnc_t_hs, HS, b.data, BNC_JWT_TOO_LARGE, "longer than");
    {
        struct bnc_jwt_verify_opts o;

        tok = bnc_t_mint(bnc_t_hs, HS, pl);
        bnc_t_opts(&o);
        o.max_len = strlen(tok) - 1;
        CU_ASSERT_EQUAL(bnc_jwt_verify(bnc_t_hs, tok, strlen(tok), &o, NULL,
                                       why, sizeof(why)), BNC_JWT_TOO_LARGE);
        free(tok);
    }
    bnc_buf_cleanup(&b);
    free(pl);
}

static void
test_keys_rotation(void)
{
    char p1[512], p2[512], p3[512];
    const char *paths[3];
    struct bnc_jwt_keyset *old_ks, *new_ks, *both;
    struct bnc_err err;
    json_t *c = bnc_t_claims(bnc_t_now + 100);
    char *old_tok, *new_tok, why[200];
    struct bnc_buf b;

    bnc_t_path(p1, sizeof(p1), "rot-old.pem");
    bnc_t_path(p2, sizeof(p2), "rot-new.pem");
    bnc_t_path(p3, sizeof(p3), "rot-new-again.pem");
    bnc_err_clear(&err);
    CU_ASSERT_FATAL(bnc_jwt_keygen_ex(BNC_JWT_ES256, p1, "2026-01", &err) == 0);
    CU_ASSERT_FATAL(bnc_jwt_keygen_ex(BNC_JWT_EDDSA, p2, "2026-02", &err) == 0);
    /* Never overwrites; HMAC has no kid; the file is 0600. */
    CU_ASSERT(bnc_jwt_keygen_ex(BNC_JWT_ES256, p1, NULL, &err) == -1);
    CU_ASSERT(strstr(err.msg, "exists") != NULL);
    bnc_err_clear(&err);
    CU_ASSERT(bnc_jwt_keygen_ex(BNC_JWT_HS256, p3, "x", &err) == -1);
    {
        struct stat st;

        CU_ASSERT(stat(p1, &st) == 0 && (st.st_mode & 0777) == 0600);
    }
    old_ks = bnc_jwt_keyset_load(BNC_JWT_ES256, p1, NULL, &err);
    new_ks = bnc_jwt_keyset_load(BNC_JWT_EDDSA, p2, NULL, &err);
    CU_ASSERT_FATAL(old_ks != NULL && new_ks != NULL);
    CU_ASSERT_STRING_EQUAL(old_ks->signer->kid, "2026-01");
    old_tok = bnc_jwt_sign(old_ks, c, &err);
    new_tok = bnc_jwt_sign(new_ks, c, &err);
    CU_ASSERT_FATAL(old_tok != NULL && new_tok != NULL);
    /* A PEM key's algorithm is [jwt] algorithm: ES256 + an Ed25519 PEM in
     * verifying_keys does not load ... */
    paths[0] = p1;
    paths[1] = NULL;
    bnc_err_clear(&err);
    CU_ASSERT(bnc_jwt_keyset_load(BNC_JWT_EDDSA, p2, paths, &err) == NULL);
    CU_ASSERT(strstr(err.msg, "Ed25519") != NULL || strstr(err.msg, "EdDSA") != NULL);
    /* ... a JWKS of the old public key does. */
    bnc_buf_init(&b);
    bnc_jwt_keyset_jwks(old_ks, &b);
    bnc_t_write("old.jwks", b.data, 0644);
    bnc_buf_cleanup(&b);
    bnc_t_path(p3, sizeof(p3), "old.jwks");
    paths[0] = p3;
    bnc_err_clear(&err);
    both = bnc_jwt_keyset_load(BNC_JWT_EDDSA, p2, paths, &err);
    if (both == NULL)
        fprintf(stderr, "rotation: %s\n", err.msg);
    CU_ASSERT_FATAL(both != NULL);
    CU_ASSERT_EQUAL(both->nkeys, 2);
    CU_ASSERT_EQUAL(bnc_t_verify(both, old_tok, why), BNC_JWT_OK);
    CU_ASSERT_EQUAL(bnc_t_verify(both, new_tok, why), BNC_JWT_OK);
    CU_ASSERT_EQUAL(bnc_t_verify(new_ks, old_tok, why), BNC_JWT_NO_KEY);
    /* The JWKS holds both public keys, never a private member. */
    bnc_buf_init(&b);
    bnc_jwt_keyset_jwks(both, &b);
    CU_ASSERT(strstr(b.data, "\"kid\":\"2026-01\"") != NULL);
    CU_ASSERT(strstr(b.data, "\"kid\":\"2026-02\"") != NULL);
    CU_ASSERT(strstr(b.data, "\"d\"") == NULL);
    bnc_buf_cleanup(&b);
    bnc_jwt_keyset_free(both);
    bnc_jwt_keyset_free(old_ks);
    bnc_jwt_keyset_free(new_ks);
    free(old_tok);
    free(new_tok);
    json_decref(c);
}

static void
test_conf_load(void)
{
    struct bnc_diag d;
    struct bnc_conf *c;
    struct bnc_jwt_conf *jc;
    char text[2048], p[512];

    bnc_t_path(p, sizeof(p), "conf.secret");
    bnc_t_write("conf.secret", "0123456789abcdef0123456789abcdef0123456789abcdef\n", 0600);
    snprintf(text, sizeof(text),
             "[jwt]\nalgorithm = HS384\nsigning_key = %s\nissuer = https://x\n"
             "audience = api\nleeway = 30s\naccess_lifetime = 10m\n"
             "refresh_lifetime = 2d\nrotate_refresh = yes\n"
             "header_types = Bearer, JWT\ncheck_user = no\n"
             "user_id_claim = sub\nuser_id_field = username\n"
             "claims = email, https://example.org/roles\n"
             "extra_claims = groups, scopes\nmax_length = 4096\n", p);
    bnc_diag_init(&d);
    c = bnc_conf_load_mem("t.conf", text, strlen(text), &d);
    CU_ASSERT_FATAL(c != NULL);
    jc = bnc_jwt_conf_load(c, bnc_conf_section(c, "jwt"), &d);
    bnc_diag_print(&d, stderr);
    CU_ASSERT_FATAL(jc != NULL);
    CU_ASSERT_EQUAL(jc->algorithm, BNC_JWT_HS384);
    CU_ASSERT(bnc_jwt_keyset_can_sign(jc->keys));
    CU_ASSERT_STRING_EQUAL(jc->issuer, "https://x");
    CU_ASSERT_EQUAL(jc->leeway, 30);
    CU_ASSERT_EQUAL(jc->access_lifetime, 600);
    CU_ASSERT_EQUAL(jc->refresh_lifetime, 2 * 86400);
    CU_ASSERT(jc->rotate_refresh);
    CU_ASSERT_STRING_EQUAL(jc->header_types[1], "JWT");
    CU_ASSERT(!jc->check_user);
    CU_ASSERT(jc->user_id_is_name);
    CU_ASSERT_STRING_EQUAL(jc->user_id_claim, "sub");
    CU_ASSERT_STRING_EQUAL(jc->claims[1], "https://example.org/roles");
    CU_ASSERT_EQUAL(jc->max_len, 4096);
    bnc_jwt_conf_free(jc);
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);
    /* Defaults. */
    bnc_diag_init(&d);
    c = bnc_conf_load_mem("t.conf", "[jwt]\n", 6, &d);
    jc = bnc_jwt_conf_load(c, bnc_conf_section(c, "jwt"), &d);
    CU_ASSERT_FATAL(jc != NULL);
    CU_ASSERT(jc->keys == NULL);
    CU_ASSERT_EQUAL(jc->algorithm, BNC_JWT_HS256);
    CU_ASSERT_EQUAL(jc->access_lifetime, 300);
    CU_ASSERT_EQUAL(jc->refresh_lifetime, 86400);
    CU_ASSERT_STRING_EQUAL(jc->header_types[0], "Bearer");
    CU_ASSERT(jc->header_types[1] == NULL);
    CU_ASSERT(jc->check_user);
    CU_ASSERT_STRING_EQUAL(jc->user_id_claim, "user_id");
    CU_ASSERT_EQUAL(jc->max_len, 8192);
    bnc_jwt_conf_free(jc);
    bnc_conf_free(c);
    bnc_diag_cleanup(&d);
    /* Errors with file:line. */
    {
        static const char *const bad[] = {
            "[jwt]\nalgorithm = none\n", "algorithm",
            "[jwt]\nalgorithm = hs256\n", "algorithm",
            "[jwt]\nleeway = soon\n", "leeway",
            "[jwt]\nheader_types = Basic\n", "header_types",
            "[jwt]\nextra_claims = password\n", "extra_claims",
            "[jwt]\nuser_id_field = email\n", "user_id_field",
            "[jwt]\nsigning_key = /nonexistent/key\n", "/nonexistent/key",
            "[jwt]\nbogus = 1\n", "bogus",
            "[jwt]\naccess_lifetime = 2d\n", "access_lifetime",
            NULL, NULL,
        };
        size_t i;

        for (i = 0; bad[i] != NULL; i += 2) {
            bnc_diag_init(&d);
            c = bnc_conf_load_mem("t.conf", bad[i], strlen(bad[i]), &d);
            CU_ASSERT_FATAL(c != NULL);
            jc = bnc_jwt_conf_load(c, bnc_conf_section(c, "jwt"), &d);
            CU_ASSERT(jc == NULL);
            CU_ASSERT(d.nerrors > 0 && strstr(d.lines[0], bad[i + 1]) != NULL &&
                      strstr(d.lines[0], "t.conf:") != NULL);
            if (d.nerrors == 0 || strstr(d.lines[0], bad[i + 1]) == NULL)
                fprintf(stderr, "case %s: %s\n", bad[i],
                        d.n ? d.lines[0] : "(no error)");
            bnc_jwt_conf_free(jc);
            bnc_conf_free(c);
            bnc_diag_cleanup(&d);
        }
    }
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

static void
test_battery_setup(void)
{
    bnc_t_write("battery.secret",
                "battery-secret-0123456789abcdef0123456789\n", 0600);
    bnc_t_hs = bnc_t_keyset(BNC_JWT_HS256, "battery.secret");
    bnc_t_es = bnc_t_keyset(BNC_JWT_ES256, "battery-es.pem");
    bnc_t_rs = bnc_t_keyset(BNC_JWT_RS256, "rt-RS256.key");
}

static int
bnc_t_fini(void)
{
    char cmd[300];

    bnc_jwt_keyset_free(bnc_t_hs);
    bnc_jwt_keyset_free(bnc_t_es);
    bnc_jwt_keyset_free(bnc_t_rs);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", bnc_t_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static const struct bnc_unit_case bnc_t_cases[] = {
    {"alg names", test_alg_names},
    {"round trip, 13 algorithms", test_round_trip_all},
    {"secret file", test_secret_file},
    {"RFC 7515 A.1 HS256", test_kat_rfc7515_a1},
    {"RFC 8037 Ed25519", test_kat_rfc8037_ed25519},
    {"PyJWT ES256 RS256 PS256", test_kat_pyjwt},
    {"JWKS errors", test_jwks_errors},
    {"battery keys", test_battery_setup},
    {"hostile: alg none", test_hostile_alg_none},
    {"hostile: key confusion", test_hostile_key_confusion},
    {"hostile: signatures", test_hostile_signature},
    {"hostile: base64url", test_hostile_base64},
    {"hostile: claims", test_hostile_claims},
    {"hostile: iss and aud", test_hostile_iss_aud},
    {"hostile: headers", test_hostile_headers},
    {"keys: kid, rotation, JWKS", test_keys_rotation},
    {"[jwt] loading", test_conf_load},
    {NULL, NULL},
};

BNC_UNIT_MAIN("jwt", bnc_t_cases, bnc_t_init, bnc_t_fini)
