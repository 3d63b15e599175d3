/* SPDX-License-Identifier: MIT */
/* libFuzzer target: a FastCGI PARAMS stream (fcgi-spec 3.4) decoded like
 * libfcgi does into envp, then the request view, the whole decision and the
 * serialized response, and path normalisation of REQUEST_URI.
 *
 * Input: byte 0 picks the role libfcgi puts first in envp (0 RESPONDER,
 * 1 AUTHORIZER, 2 FILTER, modulo 3); the rest is name-value pairs, each
 * length 1 byte (< 0x80) or 4 bytes big-endian with the top bit set. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/rules.h"
#include "fuzz_common.h"

/* More pairs than any server sends; the fuzzer need not build huge envps. */
#define BNC_FUZZ_PARAMS_MAX 512

/* Reads one length at *off; -1 if the stream ends inside it. */
static int
bnc_fuzz_params_len(const uint8_t *p, size_t size, size_t *off, size_t *len)
{
    if (*off >= size)
        return -1;
    if ((p[*off] & 0x80) == 0) {
        *len = p[(*off)++];
        return 0;
    }
    if (size - *off < 4)
        return -1;
    *len = ((size_t)(p[*off] & 0x7f) << 24) | ((size_t)p[*off + 1] << 16) |
           ((size_t)p[*off + 2] << 8) | (size_t)p[*off + 3];
    *off += 4;
    return 0;
}

/* Decodes the pairs into envp[first..] as "name=value" strings (libfcgi
 * builds the same, so a NUL in a name or value cuts it there). A truncated
 * pair ends the stream. Returns the new count. */
static size_t
bnc_fuzz_params_decode(const uint8_t *p, size_t size, char **envp,
                       size_t first, size_t max)
{
    size_t off = 0, n = first;

    while (n < max) {
        size_t nlen, vlen;
        char *s;

        if (bnc_fuzz_params_len(p, size, &off, &nlen) != 0 ||
            bnc_fuzz_params_len(p, size, &off, &vlen) != 0)
            break;
        /* Compare against what is left, never add: no overflow. */
        if (nlen > size - off || vlen > size - off - nlen)
            break;
        s = malloc(nlen + vlen + 2);
        if (s == NULL)
            break;
        memcpy(s, p + off, nlen);
        s[nlen] = '=';
        memcpy(s + nlen + 1, p + off + nlen, vlen);
        s[nlen + 1 + vlen] = '\0';
        off += nlen + vlen;
        envp[n++] = s;
    }
    envp[n] = NULL;
    return n;
}

static int
bnc_fuzz_params_has_seg(const char *path, const char *seg)
{
    size_t n = strlen(seg);
    const char *p;

    for (p = path; (p = strstr(p, seg)) != NULL; p++)
        if (p[n] == '/' || p[n] == '\0')
            return 1;
    return 0;
}

/* Properties of a normalised path, and that normalising again changes
 * nothing (when no byte in it could be read as an escape or a query). */
static void
bnc_fuzz_params_path(const char *uri)
{
    static char out[8192], again[8192], small[8];
    const char *why = NULL;
    size_t len;

    if (bnc_path_normalize(uri, out, sizeof(out), &why) != 0) {
        if (why == NULL)
            BNC_FUZZ_FAIL("path refused without a reason");
        if (bnc_path_normalize(uri, small, sizeof(small), &why) == 0)
            BNC_FUZZ_FAIL("path refused with 8192 bytes but not with 8");
        return;
    }
    len = strlen(out);
    if (len == 0 || out[0] != '/' || len >= sizeof(out))
        BNC_FUZZ_FAIL("normalised path '%s' does not start with '/'", out);
    if (strstr(out, "//") != NULL || bnc_fuzz_params_has_seg(out, "/.") ||
        bnc_fuzz_params_has_seg(out, "/.."))
        BNC_FUZZ_FAIL("normalised path '%s' keeps '//', '.' or '..'", out);
    if (strpbrk(out, "%?#") == NULL) {
        if (bnc_path_normalize(out, again, sizeof(again), &why) != 0 ||
            strcmp(out, again) != 0)
            BNC_FUZZ_FAIL("normalising '%s' again gives '%s'", out, again);
    }
    if (bnc_path_normalize(uri, small, sizeof(small), &why) == 0 &&
        strcmp(small, out) != 0)
        BNC_FUZZ_FAIL("path normalised differently with a small buffer");
}

static int
bnc_fuzz_params_ends(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);

    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* Whatever the params say, only a valid credential authenticates, and only
 * the anonymous rules allow without one. */
static void
bnc_fuzz_params_check(const struct bnc_request *req,
                      const struct bnc_decision *d)
{
    const struct bnc_fuzz_account *a;
    char path[8192];
    const char *why;

    if (d->authenticated) {
        a = bnc_fuzz_oracle_authz(req->authorization);
        if (a == NULL && req->apache_role == BNC_APACHE_AUTHENTICATOR)
            a = bnc_fuzz_oracle_pair(req->remote_user, req->remote_passwd);
        if (a == NULL)
            BNC_FUZZ_FAIL("authenticated without a valid credential");
        if (d->id.user == NULL || strcmp(d->id.user, a->user) != 0)
            BNC_FUZZ_FAIL("authenticated as the wrong user");
    }
    if (d->outcome != BNC_OUT_ALLOW || d->authenticated)
        return;
    if (bnc_path_normalize(req->uri, path, sizeof(path), &why) != 0)
        BNC_FUZZ_FAIL("allowed a request whose path is refused");
    if (strncmp(path, "/pub/", 5) != 0 && strcmp(path, "/pub") != 0 &&
        strncmp(path, "/net/", 5) != 0 && strcmp(path, "/net") != 0 &&
        !bnc_fuzz_params_ends(path, ".png") &&
        !bnc_fuzz_params_ends(path, ".gif"))
        BNC_FUZZ_FAIL("anonymous request allowed on '%s'", path);
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
    static const char *const roles[] = {
        "FCGI_ROLE=RESPONDER", "FCGI_ROLE=AUTHORIZER", "FCGI_ROLE=FILTER"};
    char *envp[BNC_FUZZ_PARAMS_MAX + 2];
    struct bnc_request req;
    struct bnc_decision d;
    size_t n, i;

    bnc_fuzz_setup();
    if (size == 0)
        return 0;
    /* libfcgi puts FCGI_ROLE first, from the BEGIN_REQUEST record, so a
     * FCGI_ROLE param sent by the server can never override it. */
    envp[0] = strdup(roles[data[0] % 3]);
    if (envp[0] == NULL)
        return 0;
    n = bnc_fuzz_params_decode(data + 1, size - 1, envp, 1,
                               BNC_FUZZ_PARAMS_MAX + 1);

    bnc_request_init(&req, envp);
    /* Borrowed pointers are never NULL, per the request.h contract. */
    if (req.method == NULL || req.uri == NULL || req.remote_addr == NULL ||
        req.host == NULL || req.authorization == NULL ||
        req.cookie == NULL || req.accept == NULL ||
        req.remote_user == NULL || req.remote_passwd == NULL)
        BNC_FUZZ_FAIL("bnc_request_init left a NULL field");
    (void)bnc_request_param(&req, "HTTP_X_DEVICE_ID");
    bnc_fuzz_params_path(req.uri);
    bnc_fuzz_decide(&req, &d);
    bnc_fuzz_params_check(&req, &d);
    bnc_decision_cleanup(&d);

    for (i = 0; i < n; i++)
        free(envp[i]);
    return 0;
}
