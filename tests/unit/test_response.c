/* SPDX-License-Identifier: MIT */
/* Request view and response builder. */
#include <string.h>

#include "auth/scheme.h"
#include "fcgi/request.h"
#include "fcgi/response.h"
#include "unit.h"
#include "util/mem.h"

static void
test_response_status_line_has_reason(void)
{
    struct bnc_response r;
    struct bnc_buf out;

    bnc_response_init(&r);
    bnc_buf_init(&out);
    r.status = 401;
    bnc_response_serialize(&r, &out);
    CU_ASSERT_STRING_EQUAL(out.data, "Status: 401 Unauthorized\r\n\r\n");
    bnc_buf_reset(&out);
    r.status = 599;
    bnc_response_serialize(&r, &out);
    CU_ASSERT_STRING_EQUAL(out.data, "Status: 599 Unknown\r\n\r\n");
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&r);
}

static void
test_response_json_error_body(void)
{
    struct bnc_response r;
    struct bnc_buf out;

    bnc_response_init(&r);
    bnc_buf_init(&out);
    bnc_response_json_error(&r, 403, "You do not have \"permission\".",
                            "permission_denied");
    bnc_response_serialize(&r, &out);
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "Status: 403 Forbidden\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data, "Content-Type: application/json\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(out.data,
        "\r\n\r\n{\"detail\": \"You do not have \\\"permission\\\".\", "
        "\"code\": \"permission_denied\"}\n"));
    bnc_buf_cleanup(&out);
    bnc_response_cleanup(&r);
}

static void
test_response_header_injection_neutralised(void)
{
    struct bnc_response r;

    bnc_response_init(&r);
    bnc_response_header(&r, "Variable-AUTH_NAME", "Eve\r\nSet-Cookie: x=1");
    CU_ASSERT_STRING_EQUAL(r.headers.data,
                           "Variable-AUTH_NAME: Eve  Set-Cookie: x=1\r\n");
    bnc_response_cleanup(&r);
}

static void
test_response_identity_variables(void)
{
    struct bnc_response r;
    struct bnc_identity id;

    memset(&id, 0, sizeof(id));
    bnc_identity_set(&id.user, "j\xc3\xbcrgen");
    bnc_identity_set(&id.auth_type, "Basic");
    bnc_identity_set(&id.user_id, "7");
    bnc_identity_set(&id.groups, "staff,admin");
    bnc_response_init(&r);
    bnc_response_identity(&r, &id, BNC_IDENT_VARIABLES);
    CU_ASSERT_STRING_EQUAL(r.headers.data,
                           "Variable-REMOTE_USER: j\xc3\xbcrgen\r\n"
                           "Variable-AUTH_TYPE: Basic\r\n"
                           "Variable-AUTH_USER_ID: 7\r\n"
                           "Variable-AUTH_GROUPS: staff,admin\r\n");
    bnc_response_cleanup(&r);
    bnc_response_init(&r);
    id.expires = 1700000000;
    bnc_response_identity(&r, &id, BNC_IDENT_NGINX);
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers.data, "X-Remote-User: j\xc3\xbcrgen\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers.data, "X-Auth-Groups: staff,admin\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers.data, "Variable-AUTH_EXPIRES: 1700000000\r\n"));
    CU_ASSERT_PTR_NOT_NULL(strstr(r.headers.data, "X-Auth-Expires: 1700000000\r\n"));
    CU_ASSERT_PTR_NULL(strstr(r.headers.data, "AUTH_EMAIL"));
    bnc_response_cleanup(&r);
    bnc_identity_cleanup(&id);
    CU_ASSERT_PTR_NULL(id.user);
}

static void
test_request_roles_and_first_param_wins(void)
{
    char *env1[] = {"FCGI_ROLE=AUTHORIZER", "FCGI_ROLE=AUTHORIZER",
                    "FCGI_APACHE_ROLE=ACCESS_CHECKER", "REQUEST_METHOD=GET",
                    "REQUEST_URI=/app/x?y=1", "REMOTE_USER=",
                    "REMOTE_USER=alice", "Authorization=Basic Zm9vOmJhcg==",
                    "REQUEST_SCHEME=https", NULL};
    char *env2[] = {"FCGI_ROLE=RESPONDER", "BOUNCER_MODE=authorize",
                    "HTTP_AUTHORIZATION=Token abc", "HTTPS=on",
                    "SERVER_NAME=example.org", NULL};
    char *env3[] = {"FCGI_ROLE=RESPONDER", NULL};
    struct bnc_request r;

    bnc_request_init(&r, env1);
    CU_ASSERT_EQUAL(r.role, BNC_ROLE_AUTHORIZER);
    CU_ASSERT_EQUAL(r.apache_role, BNC_APACHE_ACCESS_CHECKER);
    CU_ASSERT_STRING_EQUAL(r.method, "GET");
    CU_ASSERT_STRING_EQUAL(r.remote_user, "");   /* first one wins */
    CU_ASSERT_STRING_EQUAL(r.authorization, "Basic Zm9vOmJhcg==");
    CU_ASSERT_TRUE(r.https);
    CU_ASSERT_STRING_EQUAL(r.remote_addr, "");
    CU_ASSERT_PTR_NULL(r.oversized);
    bnc_request_init(&r, env2);
    CU_ASSERT_EQUAL(r.role, BNC_ROLE_NGINX);
    CU_ASSERT_STRING_EQUAL(r.authorization, "Token abc");
    CU_ASSERT_STRING_EQUAL(r.host, "example.org");
    CU_ASSERT_TRUE(r.https);
    bnc_request_init(&r, env3);
    CU_ASSERT_EQUAL(r.role, BNC_ROLE_RESPONDER);
    CU_ASSERT_FALSE(r.https);
    CU_ASSERT_TRUE(bnc_request_elapsed_us(&r) >= 0);
}

static void
test_request_oversized_credential_flagged(void)
{
    size_t n = BNC_PARAM_MAX + 100;
    char *big = bnc_malloc(n + 32);
    char *env[] = {"FCGI_ROLE=AUTHORIZER", big, NULL};
    struct bnc_request r;

    memcpy(big, "HTTP_AUTHORIZATION=Basic ", 25);
    memset(big + 25, 'A', n);
    big[25 + n] = '\0';
    bnc_request_init(&r, env);
    CU_ASSERT_STRING_EQUAL(r.authorization, "");
    CU_ASSERT_PTR_NOT_NULL(r.oversized);
    CU_ASSERT_PTR_NULL(bnc_request_param(&r, "HTTP_AUTHORIZATION"));
    free(big);
}

static void
test_request_client_from_trusted_proxies(void)
{
    char *env[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                   "HTTP_X_FORWARDED_FOR=203.0.113.9, 198.51.100.1 ,10.0.0.7",
                   NULL};
    char *env_bad[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                       "HTTP_X_FORWARDED_FOR=evil, 10.0.0.7", NULL};
    char *env_direct[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=192.0.2.1",
                          "HTTP_X_FORWARDED_FOR=127.0.0.1", NULL};
    struct bnc_cidr *proxies;
    size_t n;
    struct bnc_request r;

    CU_ASSERT_EQUAL_FATAL(bnc_cidr_parse_list("10.0.0.0/8", &proxies, &n, "t",
                                              NULL, 0, NULL), 0);
    bnc_request_init(&r, env);
    CU_ASSERT_STRING_EQUAL(r.client, "10.0.0.5");
    bnc_request_resolve_client(&r, proxies, 0);
    CU_ASSERT_STRING_EQUAL(r.client, "10.0.0.5");  /* no proxies: no belief */
    bnc_request_resolve_client(&r, proxies, n);
    CU_ASSERT_STRING_EQUAL(r.client, "198.51.100.1"); /* nearest untrusted hop */
    CU_ASSERT_TRUE(r.client_ok);
    bnc_request_init(&r, env_bad);
    bnc_request_resolve_client(&r, proxies, n);
    /* Garbage from a trusted proxy: the client is unknown, never the
     * proxy (whose network may be trusted by [ip] or network: rules). */
    CU_ASSERT_STRING_EQUAL(r.client, "");
    CU_ASSERT_FALSE(r.client_ok);
    {
        char *port4[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                         "HTTP_X_FORWARDED_FOR=203.0.113.9:5555", NULL};
        char *port6[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                         "HTTP_X_FORWARDED_FOR=[2001:db8::1]:443", NULL};
        char *bare6[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                         "HTTP_X_FORWARDED_FOR=2001:db8::2", NULL};
        char *unknown[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                           "HTTP_X_FORWARDED_FOR=unknown", NULL};
        char *empty[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                         "HTTP_X_FORWARDED_FOR=", NULL};
        char *none[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5", NULL};

        bnc_request_init(&r, port4);
        bnc_request_resolve_client(&r, proxies, n);
        CU_ASSERT_STRING_EQUAL(r.client, "203.0.113.9");
        bnc_request_init(&r, port6);
        bnc_request_resolve_client(&r, proxies, n);
        CU_ASSERT_STRING_EQUAL(r.client, "2001:db8::1");
        bnc_request_init(&r, bare6);
        bnc_request_resolve_client(&r, proxies, n);
        CU_ASSERT_STRING_EQUAL(r.client, "2001:db8::2");
        bnc_request_init(&r, unknown);
        bnc_request_resolve_client(&r, proxies, n);
        CU_ASSERT_FALSE(r.client_ok);
        bnc_request_init(&r, empty);
        bnc_request_resolve_client(&r, proxies, n);
        CU_ASSERT_FALSE(r.client_ok);
        bnc_request_init(&r, none);  /* the proxy itself (health check) */
        bnc_request_resolve_client(&r, proxies, n);
        CU_ASSERT_STRING_EQUAL(r.client, "10.0.0.5");
        CU_ASSERT_TRUE(r.client_ok);
    }
    bnc_request_init(&r, env_direct);
    bnc_request_resolve_client(&r, proxies, n);
    CU_ASSERT_STRING_EQUAL(r.client, "192.0.2.1"); /* not from a proxy */
    free(proxies);
}

/* X-Forwarded-Proto counts only from a trusted proxy, and only when every
 * value says https. */
static void
test_request_forwarded_proto(void)
{
    static const struct {
        const char *remote, *proto;
        int https;
    } c[] = {
        {"10.0.0.5", "https", 1},
        {"10.0.0.5", "HTTPS", 1},
        {"10.0.0.5", "https, https", 1},
        {"10.0.0.5", "http", 0},
        {"10.0.0.5", "https, http", 0},
        {"10.0.0.5", "http, https", 0},
        {"10.0.0.5", "", 0},
        {"10.0.0.5", "httpsx", 0},
        {"10.0.0.5", "ws", 0},
        {"192.0.2.1", "https", 0},   /* not a proxy: ignored */
        {"10.0.0.5", NULL, 0},
    };
    struct bnc_cidr *proxies;
    size_t n, i;

    CU_ASSERT_EQUAL_FATAL(bnc_cidr_parse_list("10.0.0.0/8", &proxies, &n, "t",
                                              NULL, 0, NULL), 0);
    for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
        char remote[64], proto[128];
        char *env[] = {"FCGI_ROLE=AUTHORIZER", remote, proto, NULL};
        struct bnc_request r;

        snprintf(remote, sizeof(remote), "REMOTE_ADDR=%s", c[i].remote);
        if (c[i].proto != NULL)
            snprintf(proto, sizeof(proto), "HTTP_X_FORWARDED_PROTO=%s",
                     c[i].proto);
        else
            env[2] = NULL;
        bnc_request_init(&r, env);
        CU_ASSERT_FALSE(r.https);
        bnc_request_resolve_client(&r, proxies, n);
        if (r.https != c[i].https) {
            printf("\nX-Forwarded-Proto '%s' from %s: https=%d\n",
                   c[i].proto ? c[i].proto : "(none)", c[i].remote, r.https);
            CU_FAIL("forwarded proto");
        }
    }
    {
        /* The server's own HTTPS=on stays whatever a proxy says. */
        char *env[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                       "HTTPS=on", "HTTP_X_FORWARDED_PROTO=http", NULL};
        struct bnc_request r;

        bnc_request_init(&r, env);
        bnc_request_resolve_client(&r, proxies, n);
        CU_ASSERT_TRUE(r.https);
    }
    free(proxies);
}

/* lighttpd passes "X_Forwarded_For" from the client as HTTP_X_FORWARDED_FOR
 * too, before or after the proxy's copy: two different copies fail closed
 * (client unknown, https off); two different Authorization or Cookie copies
 * are flagged (answered 400). Equal copies say one thing. */
static void
test_request_duplicate_params_fail_closed(void)
{
    char *xff2[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                    "HTTP_X_FORWARDED_FOR=10.1.2.3",
                    "HTTP_X_FORWARDED_FOR=203.0.113.9", NULL};
    char *xff_same[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                        "HTTP_X_FORWARDED_FOR=203.0.113.9",
                        "HTTP_X_FORWARDED_FOR=203.0.113.9", NULL};
    char *xfp2[] = {"FCGI_ROLE=AUTHORIZER", "REMOTE_ADDR=10.0.0.5",
                    "HTTP_X_FORWARDED_PROTO=https",
                    "HTTP_X_FORWARDED_PROTO=http", NULL};
    char *auth2[] = {"FCGI_ROLE=AUTHORIZER",
                     "HTTP_AUTHORIZATION=Basic Zm9vOmJhcg==",
                     "HTTP_AUTHORIZATION=Token abc", NULL};
    char *auth_same[] = {"FCGI_ROLE=AUTHORIZER",
                         "HTTP_AUTHORIZATION=Token abc",
                         "HTTP_AUTHORIZATION=Token abc", NULL};
    char *cookie2[] = {"FCGI_ROLE=RESPONDER", "HTTP_COOKIE=sessionid=a",
                       "HTTP_COOKIE=sessionid=b", NULL};
    struct bnc_cidr *proxies;
    size_t n;
    struct bnc_request r;

    CU_ASSERT_EQUAL_FATAL(bnc_cidr_parse_list("10.0.0.0/8", &proxies, &n, "t",
                                              NULL, 0, NULL), 0);
    bnc_request_init(&r, xff2);
    bnc_request_resolve_client(&r, proxies, n);
    CU_ASSERT_FALSE(r.client_ok);
    CU_ASSERT_STRING_EQUAL(r.client, "");
    bnc_request_init(&r, xff_same);
    bnc_request_resolve_client(&r, proxies, n);
    CU_ASSERT_TRUE(r.client_ok);
    CU_ASSERT_STRING_EQUAL(r.client, "203.0.113.9");
    bnc_request_init(&r, xfp2);
    bnc_request_resolve_client(&r, proxies, n);
    CU_ASSERT_FALSE(r.https);
    xfp2[3] = "HTTP_X_FORWARDED_PROTO=https"; /* equal copies */
    bnc_request_init(&r, xfp2);
    bnc_request_resolve_client(&r, proxies, n);
    CU_ASSERT_TRUE(r.https);
    bnc_request_init(&r, auth2);
    CU_ASSERT_STRING_EQUAL(r.authorization, "");
    CU_ASSERT_PTR_NOT_NULL(r.ambiguous);
    bnc_request_init(&r, auth_same);
    CU_ASSERT_STRING_EQUAL(r.authorization, "Token abc");
    CU_ASSERT_PTR_NULL(r.ambiguous);
    bnc_request_init(&r, cookie2);
    CU_ASSERT_STRING_EQUAL(r.cookie, "");
    CU_ASSERT_PTR_NOT_NULL(r.ambiguous);
    free(proxies);
}

static const struct bnc_unit_case cases[] = {
    {"test_request_duplicate_params_fail_closed", test_request_duplicate_params_fail_closed},
    {"test_request_forwarded_proto", test_request_forwarded_proto},
    {"test_request_client_from_trusted_proxies", test_request_client_from_trusted_proxies},
    {"test_response_status_line_has_reason", test_response_status_line_has_reason},
    {"test_response_json_error_body", test_response_json_error_body},
    {"test_response_header_injection_neutralised", test_response_header_injection_neutralised},
    {"test_response_identity_variables", test_response_identity_variables},
    {"test_request_roles_and_first_param_wins", test_request_roles_and_first_param_wins},
    {"test_request_oversized_credential_flagged", test_request_oversized_credential_flagged},
    {NULL, NULL},
};

BNC_UNIT_MAIN("response", cases, NULL, NULL)
