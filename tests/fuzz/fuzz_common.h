/* SPDX-License-Identifier: MIT */
/* Shared by the request-side fuzz targets: one real store in a temp dir with
 * known users, a runtime with the basic scheme, an independent oracle for
 * "is this exactly a valid credential", and the checks every serialized
 * response must pass. Included by fuzz_basic.c and fuzz_params.c only. */
#ifndef BNC_FUZZ_COMMON_H
#define BNC_FUZZ_COMMON_H

#include <ftw.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth/decide.h"
#include "auth/registry.h"
#include "auth/scheme.h"
#include "conf/conf.h"
#include "crypto/password.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "log/log.h"
#include "runtime.h"
#include "store/store.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* Every account in the fuzz store. Only the enabled ones with their right
 * password may ever be allowed. The {SHA} user is a legacy hash (re-hashed
 * on its first login, which exercises the store write path); jürgen tests
 * UTF-8 and the Latin-1 fallback; offuser is disabled. */
struct bnc_fuzz_account {
    const char *user;
    const char *pass;
    const char *legacy_hash;   /* NULL: Argon2id made at start-up */
    const char *group;
    int disabled;
    /* base64("user:pass") in UTF-8 and in Latin-1 (same when ASCII). Written
     * out here rather than computed, so the oracle does not depend on the
     * b64 code it checks. */
    const char *b64_utf8;
    const char *b64_latin1;
};

static const struct bnc_fuzz_account bnc_fuzz_accounts[] = {
    {"fuzzuser", "fuzz-pw", NULL, "staff", 0, "ZnV6enVzZXI6ZnV6ei1wdw==",
     "ZnV6enVzZXI6ZnV6ei1wdw=="},
    {"olduser", "old-pw", "{SHA}aJuyKIUELIIcaQ8Exq+e/lxlGLg=", NULL, 0,
     "b2xkdXNlcjpvbGQtcHc=", "b2xkdXNlcjpvbGQtcHc="},
    {"j\xc3\xbcrgen", "p\xc3\xa4ssw\xc3\xb6rd", NULL, "admin", 0,
     "asO8cmdlbjpww6Rzc3fDtnJk", "avxyZ2VuOnDkc3N39nJk"},
    {"offuser", "off-pw", NULL, NULL, 1, "b2ZmdXNlcjpvZmYtcHc=",
     "b2ZmdXNlcjpvZmYtcHc="},
};
#define BNC_FUZZ_NACCOUNTS \
    (sizeof(bnc_fuzz_accounts) / sizeof(bnc_fuzz_accounts[0]))

/* Rules touching every requirement kind, so the params target reaches them. */
static const char bnc_fuzz_conf_text[] =
    "[auth]\n"
    "schemes = basic\n"
    "realm = fuzz realm\n"
    "[passwords]\n"
    "argon2_memory = 8\n"
    "argon2_time = 1\n"
    "[basic]\n"
    "cache_ttl = 0\n"
    /* The oracles know which credentials are valid, not which client a
     * ban would refuse them to (test_throttle covers the throttle). */
    "[throttle]\n"
    "enabled = no\n"
    "[rules]\n"
    "/pub/ = anonymous\n"
    "GET,HEAD /ro/ = authenticated\n"
    "/admin/ = group:admin\n"
    "/staff/ = group:staff user:fuzzuser\n"
    "/net/ = network:127.0.0.0/8,::1\n"
    "/tls/ = https authenticated\n"
    "/u/ = user:olduser,offuser\n"
    "/scheme/ = scheme:basic\n"
    "/img/*.png = anonymous\n"
    "/**/*.gif = anonymous\n"
    "/ = authenticated\n";

static char bnc_fuzz_dir[512];
static struct bnc_store *bnc_fuzz_store;
static struct bnc_runtime *bnc_fuzz_rt;

#define BNC_FUZZ_FAIL(...)                                                   \
    do {                                                                     \
        fprintf(stderr, "fuzz invariant violated at %s:%d: ", __FILE__,      \
                __LINE__);                                                   \
        fprintf(stderr, __VA_ARGS__);                                        \
        fputc('\n', stderr);                                                 \
        abort();                                                             \
    } while (0)

static int
bnc_fuzz_rm_one(const char *path, const struct stat *st, int flag,
                struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void
bnc_fuzz_teardown(void)
{
    bnc_runtime_release(bnc_fuzz_rt);
    bnc_fuzz_rt = NULL;
    bnc_store_close(bnc_fuzz_store);
    bnc_fuzz_store = NULL;
    if (bnc_fuzz_dir[0] != '\0')
        nftw(bnc_fuzz_dir, bnc_fuzz_rm_one, 16, FTW_DEPTH | FTW_PHYS);
    bnc_fuzz_dir[0] = '\0';
}

static void
bnc_fuzz_add_user(const struct bnc_fuzz_account *a)
{
    static const struct bnc_argon2_params fast = {8, 1, 1};
    struct bnc_user u;
    char *groups[2];
    int rc;

    memset(&u, 0, sizeof(u));
    groups[0] = (char *)a->group;
    groups[1] = NULL;
    u.name = (char *)a->user;
    u.groups = a->group != NULL ? groups : NULL;
    u.email = (char *)"fuzz@example.org";
    u.display_name = (char *)"Fuzz \"Q\" User";
    u.disabled = a->disabled;
    if (a->legacy_hash != NULL) {
        u.hash = strdup(a->legacy_hash);
    } else if (bnc_password_hash(&fast, a->pass, strlen(a->pass), &u.hash) !=
               0) {
        BNC_FUZZ_FAIL("cannot hash the password of %s", a->user);
    }
    if (u.hash == NULL)
        BNC_FUZZ_FAIL("out of memory");
    rc = bnc_store_user_add(bnc_fuzz_store, &u);
    free(u.hash);
    if (rc != BNC_STORE_OK)
        BNC_FUZZ_FAIL("cannot add user %s (store code %d)", a->user, rc);
}

/* Store, users and runtime, once per process; removed again at exit. */
static void
bnc_fuzz_setup(void)
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
    /* Re-hash and store messages are expected; only warnings matter. */
    bnc_log_setup(&lo);
    snprintf(bnc_fuzz_dir, sizeof(bnc_fuzz_dir), "%s/bnc-fuzz-XXXXXX",
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
    bnc_diag_init(&d);
    conf = bnc_conf_load_mem("fuzz.conf", bnc_fuzz_conf_text,
                             strlen(bnc_fuzz_conf_text), &d);
    if (conf != NULL)
        bnc_fuzz_rt = bnc_runtime_new(conf, bnc_fuzz_store, &d);
    if (bnc_fuzz_rt == NULL || d.nerrors > 0) {
        bnc_diag_print(&d, stderr);
        BNC_FUZZ_FAIL("fuzz config or runtime refused");
    }
    bnc_diag_cleanup(&d);
}

static int
bnc_fuzz_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' ||
           c == '\f';
}

/* The account an Authorization value is exactly a valid credential for, or
 * NULL. "Exactly" = two whitespace-separated tokens: "Basic" (any case) and
 * the one canonical base64 of an enabled user's "name:password", in UTF-8
 * or, as DRF falls back, Latin-1. Nothing else may authenticate. */
static const struct bnc_fuzz_account *
bnc_fuzz_oracle_authz(const char *h)
{
    const char *tok[3];
    size_t len[3], n = 0, i;

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
    if (n != 2 || len[0] != 5)
        return NULL;
    for (i = 0; i < 5; i++)
        if ((tok[0][i] | 0x20) != "basic"[i])
            return NULL;
    for (i = 0; i < BNC_FUZZ_NACCOUNTS; i++) {
        const struct bnc_fuzz_account *a = &bnc_fuzz_accounts[i];

        if (a->disabled)
            continue;
        if ((len[1] == strlen(a->b64_utf8) &&
             memcmp(tok[1], a->b64_utf8, len[1]) == 0) ||
            (len[1] == strlen(a->b64_latin1) &&
             memcmp(tok[1], a->b64_latin1, len[1]) == 0))
            return a;
    }
    return NULL;
}

/* Same for the REMOTE_USER/REMOTE_PASSWD pair (Apache authenticator role):
 * byte-exact, no fallback. */
static const struct bnc_fuzz_account *
bnc_fuzz_oracle_pair(const char *user, const char *pass)
{
    size_t i;

    for (i = 0; i < BNC_FUZZ_NACCOUNTS; i++) {
        const struct bnc_fuzz_account *a = &bnc_fuzz_accounts[i];

        if (!a->disabled && strcmp(user, a->user) == 0 &&
            strcmp(pass, a->pass) == 0)
            return a;
    }
    return NULL;
}

static int
bnc_fuzz_is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           (c >= '0' && c <= '9') || strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Value of header name in the serialized head (first one), copied into
 * out; 1 if found. */
static int
bnc_fuzz_header(const char *head, size_t headlen, const char *name,
                char *out, size_t cap)
{
    size_t nlen = strlen(name), off = 0;

    while (off < headlen) {
        const char *line = head + off;
        const char *end = memchr(line, '\r', headlen - off);
        size_t llen = end != NULL ? (size_t)(end - line) : headlen - off;

        if (llen > nlen + 2 && strncasecmp(line, name, nlen) == 0 &&
            line[nlen] == ':' && line[nlen + 1] == ' ') {
            snprintf(out, cap, "%.*s", (int)(llen - nlen - 2),
                     line + nlen + 2);
            return 1;
        }
        off += llen + 2;
    }
    return 0;
}

/* Checks one serialized response: "Status: NNN Reason", then header lines
 * "Name: value" each ended by CRLF with no CR, LF or other control byte
 * inside, a blank line, and for a denial a JSON object body with a string
 * "detail". An ALLOW names its user in Variable-REMOTE_USER (and
 * X-Remote-User in nginx mode). */
static void
bnc_fuzz_check_response(const struct bnc_buf *out,
                        const struct bnc_decision *d, int nginx)
{
    const char *s = bnc_buf_str(out);
    const char *end = strstr(s, "\r\n\r\n");
    const char *line = s;
    size_t headlen, bodylen;
    char val[1024];
    int status = 0, nlines = 0;

    if (strlen(s) != out->len)
        BNC_FUZZ_FAIL("NUL byte inside the serialized response");
    if (end == NULL)
        BNC_FUZZ_FAIL("no blank line after the headers");
    headlen = (size_t)(end - s) + 2; /* keep the last header's CRLF */
    while (line < s + headlen) {
        const char *crlf = strstr(line, "\r\n");
        const char *p, *colon = NULL;

        if (crlf == NULL || crlf > s + headlen)
            BNC_FUZZ_FAIL("header line not ended by CRLF");
        for (p = line; p < crlf; p++) {
            unsigned char c = (unsigned char)*p;

            if (c == '\r' || c == '\n')
                BNC_FUZZ_FAIL("CR or LF inside header line %d", nlines);
            if (c < 0x20 || c == 0x7f)
                BNC_FUZZ_FAIL("control byte 0x%02x in header line %d", c,
                              nlines);
            if (colon == NULL && c == ':')
                colon = p;
        }
        if (colon == NULL || colon == line || colon + 1 >= crlf ||
            colon[1] != ' ')
            BNC_FUZZ_FAIL("header line %d is not 'Name: value'", nlines);
        for (p = line; p < colon; p++)
            if (!bnc_fuzz_is_tchar((unsigned char)*p))
                BNC_FUZZ_FAIL("bad byte in header name, line %d", nlines);
        if (nlines == 0) {
            if (strncmp(line, "Status: ", 8) != 0 ||
                sscanf(line + 8, "%3d", &status) != 1)
                BNC_FUZZ_FAIL("first line is not Status:");
        }
        nlines++;
        line = crlf + 2;
    }
    if (status != d->status)
        BNC_FUZZ_FAIL("Status %d but decision status %d", status, d->status);
    bodylen = out->len - headlen - 2;
    if (d->outcome == BNC_OUT_ALLOW) {
        if (status != 200)
            BNC_FUZZ_FAIL("allowed with status %d", status);
        if (d->authenticated) {
            if (!bnc_fuzz_header(s, headlen, "Variable-REMOTE_USER", val,
                                 sizeof(val)) ||
                strcmp(val, d->id.user ? d->id.user : "") != 0)
                BNC_FUZZ_FAIL("allowed user not in Variable-REMOTE_USER");
            if (nginx && !bnc_fuzz_header(s, headlen, "X-Remote-User", val,
                                          sizeof(val)))
                BNC_FUZZ_FAIL("nginx mode without X-Remote-User");
        }
    } else {
        json_error_t jerr;
        json_t *j;

        if (status < 400 || status > 599)
            BNC_FUZZ_FAIL("denial with status %d", status);
        if (status == 401 && !bnc_fuzz_header(s, headlen, "WWW-Authenticate",
                                              val, sizeof(val)))
            BNC_FUZZ_FAIL("401 without WWW-Authenticate");
        j = json_loadb(end + 4, bodylen, JSON_REJECT_DUPLICATES, &jerr);
        if (j == NULL || !json_is_object(j) ||
            !json_is_string(json_object_get(j, "detail")))
            BNC_FUZZ_FAIL("denial body is not {\"detail\": ...}: %s",
                          j == NULL ? jerr.text : "wrong shape");
        json_decref(j);
    }
}

/* One full decision as the FastCGI loop makes it, with every check. */
static void
bnc_fuzz_decide(const struct bnc_request *req, struct bnc_decision *d)
{
    struct bnc_response resp;
    struct bnc_buf out;

    bnc_response_init(&resp);
    bnc_buf_init(&out);
    bnc_decide(bnc_fuzz_rt, req, d);
    bnc_decision_respond(bnc_fuzz_rt, req, d, &resp);
    bnc_response_serialize(&resp, &out);
    bnc_fuzz_check_response(&out, d, req->role == BNC_ROLE_NGINX);
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&resp);
}

#endif
