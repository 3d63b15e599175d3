/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the bytes as an Authorization value and as an X-API-Key
 * header (after a NUL: the X-Device-Id value) through the token scheme and
 * the whole decision, on a real store holding valid, expired, disabled,
 * device-bound and network-bound tokens. Only exactly a valid key, with its
 * restrictions met, may be allowed; every response must be well formed. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* fuzz_common.h's Basic oracles and setup are not used here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "fuzz_common.h"
#include "crypto/digest.h"

static const char bnc_fuzz_token_conf[] =
    "[auth]\n"
    "schemes = token\n"
    "[token]\n"
    "header = X-API-Key\n"
    "touch = no\n"
    /* The oracle knows valid credentials, not bans: no throttle here. */
    "[throttle]\n"
    "enabled = no\n"
    "[rules]\n"
    "/pub/ = anonymous\n"
    "/ = authenticated\n";

/* What each key may do. A key is valid for fuzzuser only; the others must
 * always fail. */
enum bnc_fuzz_tk_kind {
    BNC_FUZZ_TK_VALID,      /* always */
    BNC_FUZZ_TK_EXPIRED,    /* never */
    BNC_FUZZ_TK_DISABLED,   /* never: offuser */
    BNC_FUZZ_TK_DEVICE,     /* with X-Device-Id "dev-1" exactly */
    BNC_FUZZ_TK_NETWORK     /* from 192.0.2.0/24 only */
};

struct bnc_fuzz_tk {
    const char *id;
    const char *key;
    const char *user;
    enum bnc_fuzz_tk_kind kind;
};

static const struct bnc_fuzz_tk bnc_fuzz_tks[] = {
    {"tk_valid22222222", "Zm9vYmFyLXZhbGlkLWtleS0wMTIzNDU2Nzg5YWJjZGVm",
     "fuzzuser", BNC_FUZZ_TK_VALID},
    {"tk_expired222222", "ZXhwaXJlZC1rZXktMDEyMzQ1Njc4OWFiY2RlZmdoaWpr",
     "fuzzuser", BNC_FUZZ_TK_EXPIRED},
    {"tk_disabled22222", "ZGlzYWJsZWQta2V5LTAxMjM0NTY3ODlhYmNkZWZnaGlq",
     "offuser", BNC_FUZZ_TK_DISABLED},
    {"tk_device2222222", "ZGV2aWNlLWtleS0wMTIzNDU2Nzg5YWJjZGVmZ2hpamts",
     "fuzzuser", BNC_FUZZ_TK_DEVICE},
    {"tk_network222222", "bmV0d29yay1rZXktMDEyMzQ1Njc4OWFiY2RlZmdoaWpr",
     "fuzzuser", BNC_FUZZ_TK_NETWORK},
};
#define BNC_FUZZ_NTKS (sizeof(bnc_fuzz_tks) / sizeof(bnc_fuzz_tks[0]))

static void
bnc_fuzz_token_add(const struct bnc_fuzz_tk *k)
{
    static char *net[] = {"192.0.2.0/24", NULL};
    static char *scopes[] = {"read", "fuzz:x", NULL};
    int64_t now = (int64_t)time(NULL);
    struct bnc_token t;
    int rc;

    memset(&t, 0, sizeof(t));
    snprintf(t.id, sizeof(t.id), "%s", k->id);
    bnc_sha256(k->key, strlen(k->key), t.digest);
    t.user = (char *)k->user;
    t.label = (char *)"fuzz \"label\"\n";
    t.created = now;
    t.scopes = scopes;
    if (k->kind == BNC_FUZZ_TK_EXPIRED)
        t.expires = now - 60;
    else
        t.expires = now + 86400 * 365;
    if (k->kind == BNC_FUZZ_TK_DEVICE)
        t.device = (char *)"dev-1";
    if (k->kind == BNC_FUZZ_TK_NETWORK)
        t.cidrs = net;
    rc = bnc_store_token_add(bnc_fuzz_store, &t);
    if (rc != BNC_STORE_OK)
        BNC_FUZZ_FAIL("cannot add token %s (store code %d)", k->id, rc);
}

static void
bnc_fuzz_token_setup(void)
{
    struct bnc_log_opts lo = {.target = BNC_LOG_STDERR,
                              .level = BNC_LOG_WARN,
                              .format = BNC_LOG_LOGFMT,
                              .ident = "fuzz"};
    struct bnc_store_opts so;
    struct bnc_conf *conf;
    struct bnc_diag d;
    struct bnc_err err;
    const char *tmp = getenv("TMPDIR");
    size_t i;

    if (bnc_fuzz_rt != NULL)
        return;
    bnc_log_setup(&lo);
    snprintf(bnc_fuzz_dir, sizeof(bnc_fuzz_dir), "%s/bnc-fuzz-token-XXXXXX",
             tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
    if (mkdtemp(bnc_fuzz_dir) == NULL)
        BNC_FUZZ_FAIL("mkdtemp %s failed", bnc_fuzz_dir);
    atexit(bnc_fuzz_teardown);
    memset(&so, 0, sizeof(so));
    so.path = bnc_fuzz_dir;
    so.cache_bytes = 4u << 20;
    so.create = 1;
    bnc_err_clear(&err);
    bnc_fuzz_store = bnc_store_open(&so, &err);
    if (bnc_fuzz_store == NULL)
        BNC_FUZZ_FAIL("store %s: %s", bnc_fuzz_dir, err.msg);
    for (i = 0; i < BNC_FUZZ_NACCOUNTS; i++)
        bnc_fuzz_add_user(&bnc_fuzz_accounts[i]);
    for (i = 0; i < BNC_FUZZ_NTKS; i++)
        bnc_fuzz_token_add(&bnc_fuzz_tks[i]);
    bnc_diag_init(&d);
    conf = bnc_conf_load_mem("fuzz-token.conf", bnc_fuzz_token_conf,
                             strlen(bnc_fuzz_token_conf), &d);
    if (conf != NULL)
        bnc_fuzz_rt = bnc_runtime_new(conf, bnc_fuzz_store, &d);
    if (bnc_fuzz_rt == NULL || d.nerrors > 0) {
        bnc_diag_print(&d, stderr);
        BNC_FUZZ_FAIL("fuzz config or runtime refused");
    }
    bnc_diag_cleanup(&d);
}

/* Splits like bytes.split(): up to 3 parts. */
static size_t
bnc_fuzz_token_split(const char *h, const char **tok, size_t *len)
{
    size_t n = 0;

    while (n < 3) {
        while (bnc_fuzz_is_space(*h))
            h++;
        if (*h == '\0')
            break;
        tok[n] = h;
        while (*h != '\0' && !bnc_fuzz_is_space(*h))
            h++;
        len[n] = (size_t)(h - tok[n]);
        n++;
    }
    return n;
}

/* The token a key is exactly, or NULL. */
static const struct bnc_fuzz_tk *
bnc_fuzz_token_find(const char *key, size_t len)
{
    size_t i;

    for (i = 0; i < BNC_FUZZ_NTKS; i++)
        if (strlen(bnc_fuzz_tks[i].key) == len &&
            memcmp(bnc_fuzz_tks[i].key, key, len) == 0)
            return &bnc_fuzz_tks[i];
    return NULL;
}

/* Whether the key may pass, given the device header and the client. */
static int
bnc_fuzz_token_may(const struct bnc_fuzz_tk *k, const char *device,
                   int client_in_net)
{
    if (k == NULL)
        return 0;
    switch (k->kind) {
    case BNC_FUZZ_TK_VALID:
        return 1;
    case BNC_FUZZ_TK_DEVICE:
        return device != NULL && strcmp(device, "dev-1") == 0;
    case BNC_FUZZ_TK_NETWORK:
        return client_in_net;
    default:
        return 0;
    }
}

/* Independent oracle for one request: 1 if it must be allowed as
 * fuzzuser. authz/apikey NULL = header absent. */
static int
bnc_fuzz_token_oracle(const char *authz, const char *apikey,
                      const char *device, int client_in_net)
{
    const char *tok[3];
    size_t len[3], n, i;

    if (authz != NULL) {
        n = bnc_fuzz_token_split(authz, tok, len);
        if (n >= 1 && len[0] == 5) {
            for (i = 0; i < 5; i++)
                if ((tok[0][i] | 0x20) != "token"[i])
                    break;
            if (i == 5) /* the keyword: the Authorization header decides */
                return n == 2 &&
                       bnc_fuzz_token_may(bnc_fuzz_token_find(tok[1], len[1]),
                                          device, client_in_net);
        }
    }
    if (apikey == NULL)
        return 0;
    n = bnc_fuzz_token_split(apikey, tok, len);
    return n == 1 && bnc_fuzz_token_may(bnc_fuzz_token_find(tok[0], len[0]),
                                        device, client_in_net);
}

static char *
bnc_fuzz_token_param(const char *name, const char *value)
{
    size_t n = strlen(name), v = strlen(value);
    char *s = malloc(n + 1 + v + 1);

    if (s == NULL)
        BNC_FUZZ_FAIL("out of memory");
    memcpy(s, name, n);
    s[n] = '=';
    memcpy(s + n + 1, value, v + 1);
    return s;
}

/* The token scheme alone, then the whole decision, for envp. */
static void
bnc_fuzz_token_run(char **envp, int must_allow, int request_ok)
{
    const struct bnc_scheme_inst *si = &bnc_fuzz_rt->schemes[0];
    struct bnc_request req;
    struct bnc_result res;
    struct bnc_decision d;
    enum bnc_verdict v;

    bnc_request_init(&req, envp);
    memset(&res, 0, sizeof(res));
    v = si->scheme->check(si->state, &req, &res);
    if (v == BNC_ALLOW) {
        if (!must_allow)
            BNC_FUZZ_FAIL("token allowed a credential that is not valid "
                          "(reason: %s)", res.reason);
        if (res.id.user == NULL || strcmp(res.id.user, "fuzzuser") != 0 ||
            res.id.auth_type == NULL ||
            strcmp(res.id.auth_type, "Token") != 0 ||
            res.id.cred_id == NULL || strncmp(res.id.cred_id, "tk_", 3) != 0)
            BNC_FUZZ_FAIL("token allowed with the wrong identity");
    } else if (v == BNC_DECLINED || v == BNC_DENY) {
        if (must_allow && request_ok)
            BNC_FUZZ_FAIL("token refused a valid key (verdict %d, reason: "
                          "%s)", (int)v, res.reason);
        if (v == BNC_DENY && (res.status < 400 || res.status > 499) &&
            res.status != 0)
            BNC_FUZZ_FAIL("token denied with status %d", res.status);
        if (v == BNC_DENY && (res.detail == NULL || res.code == NULL))
            BNC_FUZZ_FAIL("token denied without detail or code");
    } else {
        BNC_FUZZ_FAIL("token returned verdict %d (reason: %s)", (int)v,
                      res.reason);
    }
    bnc_result_cleanup(&res);

    /* "/" = authenticated: allowed iff the scheme allowed (and the request
     * was not refused as a whole first). */
    bnc_fuzz_decide(&req, &d);
    if (d.outcome == BNC_OUT_ALLOW &&
        (v != BNC_ALLOW || !d.authenticated ||
         strcmp(d.id.user, "fuzzuser") != 0))
        BNC_FUZZ_FAIL("decision allowed without the token's identity");
    if (d.outcome != BNC_OUT_ALLOW && v == BNC_ALLOW && request_ok)
        BNC_FUZZ_FAIL("decision refused what the token allowed: %s",
                      d.reason);
    bnc_decision_cleanup(&d);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bnc_fuzz_token_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, *dev = NULL, *authz, *fcgid, *apikey, *devp = NULL;
    const char *nul;
    int fits, ok;

    bnc_fuzz_token_setup();
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    /* After the first NUL: the device header's value. */
    nul = memchr(data, '\0', size);
    if (nul != NULL) {
        dev = s + (nul - (const char *)data) + 1;
        devp = bnc_fuzz_token_param("HTTP_X_DEVICE_ID", dev);
    }
    fits = strlen(s) <= BNC_PARAM_MAX;
    authz = bnc_fuzz_token_param("HTTP_AUTHORIZATION", s);
    fcgid = bnc_fuzz_token_param("Authorization", s);
    apikey = bnc_fuzz_token_param("HTTP_X_API_KEY", s);

    {
        /* lighttpd: FCGI_AUTHORIZER, a client inside the token network. */
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                       "REQUEST_URI=/", "REMOTE_ADDR=192.0.2.1", authz, devp,
                       NULL};

        ok = bnc_fuzz_token_oracle(s, NULL, dev, 1);
        bnc_fuzz_token_run(env, ok, fits);
    }
    {
        /* nginx auth_request from IPv6 loopback: outside the network. */
        char *env[] = {"FCGI_ROLE=RESPONDER", "BOUNCER_MODE=authorize",
                       "REQUEST_METHOD=GET", "REQUEST_URI=/",
                       "REMOTE_ADDR=::1", authz, devp, NULL};

        ok = bnc_fuzz_token_oracle(s, NULL, dev, 0);
        bnc_fuzz_token_run(env, ok, fits);
    }
    {
        /* mod_fcgid: Authorization without HTTP_, mapped IPv4 client. */
        char *env[] = {"FCGI_ROLE=AUTHORIZER",
                       "FCGI_APACHE_ROLE=ACCESS_CHECKER",
                       "REQUEST_METHOD=POST", "REQUEST_URI=/",
                       "REMOTE_ADDR=::ffff:192.0.2.77", fcgid, devp, NULL};

        ok = bnc_fuzz_token_oracle(s, NULL, dev, 1);
        bnc_fuzz_token_run(env, ok, fits);
    }
    {
        /* The bytes as an API-key header (no size bound but ours). */
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                       "REQUEST_URI=/", "REMOTE_ADDR=192.0.2.9", apikey,
                       devp, NULL};

        ok = bnc_fuzz_token_oracle(NULL, s, dev, 1);
        bnc_fuzz_token_run(env, ok, 1);
    }

    free(devp);
    free(apikey);
    free(fcgid);
    free(authz);
    free(s);
    return 0;
}
