/* SPDX-License-Identifier: MIT */
/* libFuzzer target: request bodies of the Responder. Byte 0 picks the
 * Content-Type (form, JSON, JSON with charset, text/plain, none), the
 * endpoint (login or logout), HTTPS, and a lying Content-Length; the rest is
 * the body, through bnc_body_parse and the whole POST /auth/login or
 * /auth/logout on a real store. A login may succeed only when an
 * independent reading of the body (jansson, or a small form decoder here)
 * finds exactly one username and one password of an enabled account; every
 * response must be well formed, and every JSON body valid JSON. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* fuzz_common.h's Basic oracles are not used here. */
#pragma GCC diagnostic ignored "-Wunused-function"
#include "fuzz_common.h"
#include "fcgi/body.h"
#include "fcgi/responder.h"

static const char bnc_fuzz_body_conf[] =
    "[auth]\n"
    "schemes = session, basic\n"
    "[passwords]\n"
    "argon2_memory = 8\n"
    "argon2_time = 1\n"
    "[session]\n"
    "trusted_origins = https://trusted.example\n"
    /* The oracle knows valid credentials, not bans: no throttle here. */
    "[throttle]\n"
    "enabled = no\n"
    "[rules]\n"
    "/auth/ = anonymous\n"
    "/ = authenticated\n";

static struct bnc_runtime *bnc_fuzz_body_rt;

static void
bnc_fuzz_body_teardown(void)
{
    bnc_runtime_release(bnc_fuzz_body_rt);
    bnc_fuzz_body_rt = NULL;
}

static void
bnc_fuzz_body_setup(void)
{
    struct bnc_conf *conf;
    struct bnc_diag d;

    if (bnc_fuzz_body_rt != NULL)
        return;
    bnc_fuzz_setup();
    bnc_diag_init(&d);
    conf = bnc_conf_load_mem("fuzz-body.conf", bnc_fuzz_body_conf,
                             strlen(bnc_fuzz_body_conf), &d);
    if (conf != NULL)
        bnc_fuzz_body_rt = bnc_runtime_new(conf, bnc_fuzz_store, &d);
    if (bnc_fuzz_body_rt == NULL || d.nerrors > 0) {
        bnc_diag_print(&d, stderr);
        BNC_FUZZ_FAIL("fuzz body config refused");
    }
    bnc_diag_cleanup(&d);
    /* Registered after bnc_fuzz_setup's: runs first, before the store
     * closes. */
    atexit(bnc_fuzz_body_teardown);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    bnc_fuzz_body_setup();
    return 0;
}

/* ---- the oracle ------------------------------------------------------ */

static int
bnc_fuzz_body_hex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes [s, s+n) as a form component into out (cap >= n+1); -1 if a '%'
 * is not followed by two hex digits. */
static int
bnc_fuzz_body_unform(const uint8_t *s, size_t n, char *out, size_t *outlen)
{
    size_t i, j = 0;

    for (i = 0; i < n; i++) {
        if (s[i] == '%') {
            if (n - i < 3)
                return -1;
            if (bnc_fuzz_body_hex(s[i + 1]) < 0 ||
                bnc_fuzz_body_hex(s[i + 2]) < 0)
                return -1;
            out[j++] = (char)(bnc_fuzz_body_hex(s[i + 1]) * 16 +
                              bnc_fuzz_body_hex(s[i + 2]));
            i += 2;
        } else {
            out[j++] = s[i] == '+' ? ' ' : (char)s[i];
        }
    }
    out[j] = '\0';
    *outlen = j;
    return 0;
}

/* 1 when the form body names exactly one username and one password, and
 * they are an enabled account's. */
static int
bnc_fuzz_body_form_ok(const uint8_t *p, size_t n)
{
    char *name = malloc(n + 1), *val = malloc(n + 1);
    const char *user = NULL, *pass = NULL;
    char *ubuf = NULL, *pbuf = NULL;
    size_t off = 0, nl, vl, i;
    int nu = 0, np = 0, ok = 0;

    if (name == NULL || val == NULL)
        BNC_FUZZ_FAIL("out of memory");
    while (off < n) {
        size_t end = off, eq;

        while (end < n && p[end] != '&')
            end++;
        eq = off;
        while (eq < end && p[eq] != '=')
            eq++;
        if (end > off && bnc_fuzz_body_unform(p + off, eq - off, name,
                                              &nl) == 0 &&
            bnc_fuzz_body_unform(p + eq + (eq < end), end - eq - (eq < end),
                                 val, &vl) == 0) {
            if (strcmp(name, "username") == 0 && strlen(name) == nl) {
                nu++;
                free(ubuf);
                ubuf = strdup(val);
                if (strlen(val) != vl)
                    ubuf[0] = '\x01';
            } else if (strcmp(name, "password") == 0 && strlen(name) == nl) {
                np++;
                free(pbuf);
                pbuf = strdup(val);
                if (strlen(val) != vl)
                    pbuf[0] = '\x01';
            }
        }
        off = end + 1;
    }
    user = ubuf;
    pass = pbuf;
    if (nu == 1 && np == 1)
        for (i = 0; i < BNC_FUZZ_NACCOUNTS; i++)
            if (!bnc_fuzz_accounts[i].disabled &&
                strcmp(user, bnc_fuzz_accounts[i].user) == 0 &&
                strcmp(pass, bnc_fuzz_accounts[i].pass) == 0)
                ok = 1;
    free(ubuf);
    free(pbuf);
    free(name);
    free(val);
    return ok;
}

static int
bnc_fuzz_body_json_ok(const uint8_t *p, size_t n)
{
    json_error_t je;
    json_t *j = json_loadb((const char *)p, n, JSON_REJECT_DUPLICATES, &je);
    const char *user, *pass;
    size_t i;
    int ok = 0;

    if (j == NULL)
        return 0;
    user = json_string_value(json_object_get(j, "username"));
    pass = json_string_value(json_object_get(j, "password"));
    if (user != NULL && pass != NULL)
        for (i = 0; i < BNC_FUZZ_NACCOUNTS; i++)
            if (!bnc_fuzz_accounts[i].disabled &&
                strcmp(user, bnc_fuzz_accounts[i].user) == 0 &&
                strcmp(pass, bnc_fuzz_accounts[i].pass) == 0)
                ok = 1;
    json_decref(j);
    return ok;
}

/* ---- the request body ----------------------------------------------- */

struct bnc_fuzz_body_src {
    const uint8_t *p;
    size_t n, off;
};

/* Hands the fuzz bytes out 7 at a time, so reads cross chunk borders. */
static long
bnc_fuzz_body_read(void *ctx, char *buf, size_t n)
{
    struct bnc_fuzz_body_src *s = ctx;
    size_t k = s->n - s->off;

    if (k > n)
        k = n;
    if (k > 7)
        k = 7;
    memcpy(buf, s->p + s->off, k);
    s->off += k;
    return (long)k;
}

/* ---- the response ---------------------------------------------------- */

static void
bnc_fuzz_body_check(const struct bnc_buf *out, int status)
{
    const char *s = bnc_buf_str(out);
    const char *end = strstr(s, "\r\n\r\n");
    const char *p;
    char ct[128];

    if (strlen(s) != out->len)
        BNC_FUZZ_FAIL("NUL byte in the response");
    if (end == NULL || strncmp(s, "Status: ", 8) != 0)
        BNC_FUZZ_FAIL("no Status line or no end of headers");
    for (p = s; p < end; p++) {
        unsigned char c = (unsigned char)*p;

        if ((c < 0x20 && c != '\r' && c != '\n') || c == 0x7f)
            BNC_FUZZ_FAIL("control byte 0x%02x in the headers", c);
        if ((c == '\r') != (p[1] == '\n'))
            BNC_FUZZ_FAIL("bare CR or LF in the headers");
        if (c == '\n' && p[-1] != '\r')
            BNC_FUZZ_FAIL("bare LF in the headers");
    }
    switch (status) {
    case 200: case 302: case 400: case 401: case 403: case 404: case 405:
    case 413: case 415:
        break;
    default:
        BNC_FUZZ_FAIL("unexpected status %d", status);
    }
    if (bnc_fuzz_header(s, (size_t)(end - s) + 2, "Content-Type", ct,
                        sizeof(ct)) &&
        strcmp(ct, "application/json") == 0) {
        json_error_t je;
        json_t *j = json_loads(end + 4, JSON_REJECT_DUPLICATES, &je);

        if (j == NULL || !json_is_object(j))
            BNC_FUZZ_FAIL("JSON answer is not a JSON object: %s", je.text);
        json_decref(j);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {
        "CONTENT_TYPE=application/x-www-form-urlencoded",
        "CONTENT_TYPE=application/json",
        "CONTENT_TYPE=application/json; charset=utf-8",
        "CONTENT_TYPE=text/plain",
    };
    char cl[64], *env[16];
    struct bnc_request req;
    struct bnc_response resp;
    struct bnc_decision d;
    struct bnc_buf out;
    struct bnc_body b;
    struct bnc_body_err err;
    struct bnc_io io;
    struct bnc_fuzz_body_src src;
    const uint8_t *body;
    size_t blen, n = 0;
    unsigned mode;
    int login, ok;

    if (size < 1 || size > BNC_BODY_MAX + 64)
        return 0;
    bnc_fuzz_body_setup();
    mode = data[0];
    body = data + 1;
    blen = size - 1;
    login = (mode & 0x10) == 0;

    /* The parser alone, under every type. */
    memset(&err, 0, sizeof(err));
    if (bnc_body_parse(types[mode & 3] + 13, (const char *)body, blen, &b,
                       &err) != 0 &&
        (err.status < 400 || err.status > 499 || err.detail[0] == '\0'))
        BNC_FUZZ_FAIL("parse failure without a 4xx and a message");
    bnc_body_cleanup(&b);

    env[n++] = (char *)"FCGI_ROLE=RESPONDER";
    env[n++] = (char *)"REQUEST_METHOD=POST";
    env[n++] = (char *)(login ? "REQUEST_URI=/auth/login"
                              : "REQUEST_URI=/auth/logout");
    env[n++] = (char *)"REMOTE_ADDR=192.0.2.1";
    env[n++] = (char *)"HTTP_HOST=example.org";
    if ((mode & 0x0c) != 0x0c)
        env[n++] = (char *)types[mode & 3];
    if (mode & 0x20)
        env[n++] = (char *)"HTTPS=on";
    if (!login)
        env[n++] = (char *)"HTTP_COOKIE=sessionid="
                           "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
    /* 0x40: claim one byte more than is sent (a short body). */
    snprintf(cl, sizeof(cl), "CONTENT_LENGTH=%zu",
             blen + ((mode & 0x40) != 0));
    env[n++] = cl;
    env[n] = NULL;

    src.p = body;
    src.n = blen;
    src.off = 0;
    io.ctx = &src;
    io.read = bnc_fuzz_body_read;
    bnc_request_init(&req, env);
    bnc_response_init(&resp);
    bnc_buf_init(&out);
    memset(&d, 0, sizeof(d));
    bnc_responder_handle(bnc_fuzz_body_rt, &req, &io, &resp, &d);
    bnc_response_serialize(&resp, &out);
    bnc_fuzz_body_check(&out, resp.status);
    if (d.status != resp.status)
        BNC_FUZZ_FAIL("decision status %d, response %d", d.status,
                      resp.status);
    ok = resp.status == 200 || resp.status == 302;
    if (login && ok) {
        int type_ok = (mode & 0x0c) != 0x0c && (mode & 3) != 3 &&
                      (mode & 0x40) == 0;
        int cred_ok = (mode & 3) == 0 ? bnc_fuzz_body_form_ok(body, blen)
                                      : bnc_fuzz_body_json_ok(body, blen);

        if (!type_ok || !cred_ok)
            BNC_FUZZ_FAIL("login succeeded without exactly a valid "
                          "credential (mode 0x%02x)", mode);
        if (strstr(bnc_buf_str(&resp.headers), "Set-Cookie: sessionid=") ==
            NULL)
            BNC_FUZZ_FAIL("login succeeded without a session cookie");
    }
    /* A form post without a valid session goes back to the login page
     * (302); nothing else may look like a successful logout. Clearing the
     * cookies (an empty value) is what a failed logout does on purpose;
     * setting one is never right. */
    if (!login) {
        const char *h = bnc_buf_str(&resp.headers), *sc = h;

        if (resp.status == 200)
            BNC_FUZZ_FAIL("logout with a forged cookie succeeded");
        while ((sc = strstr(sc, "Set-Cookie: ")) != NULL) {
            const char *eq = strchr(sc, '=');

            if (eq == NULL || eq[1] != ';')
                BNC_FUZZ_FAIL("logout with a forged cookie set a cookie");
            sc += 12;
        }
    }
    bnc_decision_cleanup(&d);
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
    return 0;
}
