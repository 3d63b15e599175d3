/* SPDX-License-Identifier: MIT */
/* libFuzzer target: the bytes as an Authorization value (and as the Apache
 * authenticator's REMOTE_USER:REMOTE_PASSWD) through the basic scheme and
 * the whole decision, on a real store; nothing but an exact valid
 * credential may be allowed, and no response may break its headers. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"

/* "NAME=" + value as one malloc'ed envp string. */
static char *
bnc_fuzz_basic_param(const char *name, const char *value)
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

/* Runs the basic scheme alone and then the whole decision for envp; expect
 * is the only account that may be allowed (NULL: none), and must be when
 * must_allow is set. */
static void
bnc_fuzz_basic_run(char **envp, const struct bnc_fuzz_account *expect,
                   int must_allow)
{
    const struct bnc_scheme_inst *si = &bnc_fuzz_rt->schemes[0];
    struct bnc_request req;
    struct bnc_result res;
    struct bnc_decision d;
    enum bnc_verdict v;

    bnc_request_init(&req, envp);
    memset(&res, 0, sizeof(res));
    v = si->scheme->check(si->state, &req, &res);
    switch (v) {
    case BNC_ALLOW:
        if (expect == NULL)
            BNC_FUZZ_FAIL("basic allowed a credential that is not valid "
                          "(reason: %s)", res.reason);
        if (res.id.user == NULL || strcmp(res.id.user, expect->user) != 0)
            BNC_FUZZ_FAIL("basic allowed the wrong user");
        break;
    case BNC_DECLINED:
    case BNC_DENY:
        if (must_allow)
            BNC_FUZZ_FAIL("basic refused %s's valid credential (verdict %d, "
                          "reason: %s)", expect->user, (int)v, res.reason);
        if (v == BNC_DENY && (res.status < 400 || res.status > 499) &&
            res.status != 0)
            BNC_FUZZ_FAIL("basic denied with status %d", res.status);
        break;
    default:
        /* The store is local and healthy: an error here is a bug. */
        BNC_FUZZ_FAIL("basic returned verdict %d (reason: %s)", (int)v,
                      res.reason);
    }
    bnc_result_cleanup(&res);

    /* REQUEST_URI is "/" = authenticated: allowed iff the scheme allowed. */
    bnc_fuzz_decide(&req, &d);
    if ((d.outcome == BNC_OUT_ALLOW) != (v == BNC_ALLOW))
        BNC_FUZZ_FAIL("decision outcome %d but basic verdict %d",
                      (int)d.outcome, (int)v);
    if (d.outcome == BNC_OUT_ALLOW &&
        (!d.authenticated || strcmp(d.id.user, expect->user) != 0))
        BNC_FUZZ_FAIL("decision allowed without the expected identity");
    bnc_decision_cleanup(&d);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bnc_fuzz_setup();
    return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s, *colon, *user, *pass;
    char *authz = NULL, *fcgid = NULL, *ruser = NULL, *rpass = NULL;
    const struct bnc_fuzz_account *a;
    int fits;

    bnc_fuzz_setup();
    /* The server hands us C strings: the value ends at the first NUL. */
    s = malloc(size + 1);
    if (s == NULL)
        return 0;
    memcpy(s, data, size);
    s[size] = '\0';
    fits = strlen(s) <= BNC_PARAM_MAX;
    a = bnc_fuzz_oracle_authz(s);
    authz = bnc_fuzz_basic_param("HTTP_AUTHORIZATION", s);
    fcgid = bnc_fuzz_basic_param("Authorization", s);

    {
        /* lighttpd / mod_authnz_fcgi: FCGI_AUTHORIZER role. */
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REQUEST_METHOD=GET",
                       "REQUEST_URI=/", "REMOTE_ADDR=192.0.2.1", authz, NULL};

        bnc_fuzz_basic_run(env, a, a != NULL && fits);
    }
    {
        /* nginx auth_request: RESPONDER role told to authorize. */
        char *env[] = {"FCGI_ROLE=RESPONDER", "BOUNCER_MODE=authorize",
                       "REQUEST_METHOD=GET", "REQUEST_URI=/",
                       "REMOTE_ADDR=::1", authz, NULL};

        bnc_fuzz_basic_run(env, a, a != NULL && fits);
    }
    {
        /* mod_fcgid access checker: FcgidPassHeader Authorization. */
        char *env[] = {"FCGI_ROLE=AUTHORIZER",
                       "FCGI_APACHE_ROLE=ACCESS_CHECKER",
                       "REQUEST_METHOD=POST", "REQUEST_URI=/", fcgid, NULL};

        bnc_fuzz_basic_run(env, a, a != NULL && fits);
    }

    /* Apache authenticator role: the bytes as REMOTE_USER:REMOTE_PASSWD,
     * split at the first ':'. */
    colon = strchr(s, ':');
    user = s;
    pass = colon != NULL ? colon + 1 : s + strlen(s);
    if (colon != NULL)
        *colon = '\0';
    a = bnc_fuzz_oracle_pair(user, pass);
    ruser = bnc_fuzz_basic_param("REMOTE_USER", user);
    rpass = bnc_fuzz_basic_param("REMOTE_PASSWD", pass);
    {
        char *env[] = {"FCGI_ROLE=AUTHORIZER",
                       "FCGI_APACHE_ROLE=AUTHENTICATOR",
                       "REQUEST_METHOD=GET", "REQUEST_URI=/", ruser, rpass,
                       NULL};

        bnc_fuzz_basic_run(env, a,
                           a != NULL && strlen(user) <= BNC_PARAM_MAX &&
                               strlen(pass) <= BNC_PARAM_MAX);
    }

    free(rpass);
    free(ruser);
    free(fcgid);
    free(authz);
    free(s);
    return 0;
}
