/* SPDX-License-Identifier: MIT */
/* The request view: borrowed pointers into libfcgi's envp, no copies. */
#include <string.h>
#include <strings.h>

#include "fcgi/request.h"
#include "util/str.h"

/* First "NAME=" in envp, like FCGX_GetParam (a duplicate later in the list
 * must not win: web-servers.md 1). */
static const char *
bnc_request_find(char **envp, const char *name)
{
    size_t n = strlen(name);

    if (envp == NULL)
        return NULL;
    for (; *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return *envp + n + 1;
    return NULL;
}

/* Like bnc_request_find, but NULL with *ambiguous = 1 when NAME comes more
 * than once with different values. lighttpd maps both "X-Forwarded-For"
 * and "X_Forwarded_For" to HTTP_X_FORWARDED_FOR and sends both copies in
 * arrival order, so a client's copy can come before the proxy's: for
 * proxy-set and credential params no copy can be believed. Equal copies
 * (mod_fcgid may pass a header twice) say one thing and are fine. */
static const char *
bnc_request_find_unique(char **envp, const char *name, int *ambiguous)
{
    const char *first = bnc_request_find(envp, name);
    size_t n = strlen(name);

    *ambiguous = 0;
    if (first == NULL)
        return NULL;
    for (; *envp != NULL; envp++)
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=' &&
            strcmp(*envp + n + 1, first) != 0) {
            *ambiguous = 1;
            return NULL;
        }
    return first;
}

const char *
bnc_request_param(const struct bnc_request *r, const char *name)
{
    const char *v = bnc_request_find(r->envp, name);

    if (v != NULL && strnlen(v, BNC_PARAM_MAX + 1) > BNC_PARAM_MAX)
        return NULL;
    return v;
}

static const char *
bnc_request_get(const struct bnc_request *r, const char *name)
{
    const char *v = bnc_request_param(r, name);

    return v != NULL ? v : "";
}

/* Like bnc_request_get, but remembers an oversized or ambiguous value: a
 * credential we cannot read must not look like "no credential" (that would
 * be anonymous). */
static const char *
bnc_request_get_cred(struct bnc_request *r, const char *name)
{
    int ambiguous;
    const char *v = bnc_request_find_unique(r->envp, name, &ambiguous);

    if (ambiguous) {
        if (r->ambiguous == NULL)
            r->ambiguous = name;
        return "";
    }
    if (v != NULL && strnlen(v, BNC_PARAM_MAX + 1) > BNC_PARAM_MAX) {
        if (r->oversized == NULL)
            r->oversized = name;
        return "";
    }
    return v != NULL ? v : "";
}

void
bnc_request_init(struct bnc_request *r, char **envp)
{
    const char *role, *mode, *arole, *scheme;

    memset(r, 0, sizeof(*r));
    clock_gettime(CLOCK_MONOTONIC, &r->start);
    r->envp = envp;
    role = bnc_request_get(r, "FCGI_ROLE");
    mode = bnc_request_get(r, "BOUNCER_MODE");
    if (strcmp(role, "AUTHORIZER") == 0)
        r->role = BNC_ROLE_AUTHORIZER;
    else if (bnc_str_ieq(mode, "authorize") || bnc_str_ieq(mode, "authorizer"))
        r->role = BNC_ROLE_NGINX; /* nginx sends RESPONDER (web-servers.md 6.2) */
    else
        r->role = BNC_ROLE_RESPONDER;
    arole = bnc_request_get(r, "FCGI_APACHE_ROLE");
    if (strcmp(arole, "ACCESS_CHECKER") == 0)
        r->apache_role = BNC_APACHE_ACCESS_CHECKER;
    else if (strcmp(arole, "AUTHENTICATOR") == 0)
        r->apache_role = BNC_APACHE_AUTHENTICATOR;
    else if (strcmp(arole, "AUTHORIZER") == 0)
        r->apache_role = BNC_APACHE_AUTHORIZER;
    r->method = bnc_request_get(r, "REQUEST_METHOD");
    r->uri = bnc_request_get(r, "REQUEST_URI");
    r->remote_addr = bnc_request_get(r, "REMOTE_ADDR");
    r->client = r->remote_addr;
    r->client_ok = bnc_addr_parse(r->remote_addr, &r->client_addr) == 0;
    r->host = bnc_request_get(r, "HTTP_HOST");
    if (*r->host == '\0')
        r->host = bnc_request_get(r, "SERVER_NAME");
    /* lighttpd/nginx send HTTP_AUTHORIZATION; mod_fcgid's FcgidPassHeader
     * adds both "Authorization" and "HTTP_AUTHORIZATION". */
    r->authorization = bnc_request_get_cred(r, "HTTP_AUTHORIZATION");
    if (*r->authorization == '\0')
        r->authorization = bnc_request_get_cred(r, "Authorization");
    r->cookie = bnc_request_get_cred(r, "HTTP_COOKIE");
    r->accept = bnc_request_get(r, "HTTP_ACCEPT");
    r->remote_user = bnc_request_get(r, "REMOTE_USER");
    r->remote_passwd = bnc_request_get_cred(r, "REMOTE_PASSWD");
    r->has_remote_passwd = bnc_request_find(envp, "REMOTE_PASSWD") != NULL;
    /* Apache's authorizer gets REQUEST_SCHEME but no HTTPS=on
     * (web-servers.md 2); lighttpd and nginx set HTTPS=on. */
    scheme = bnc_request_get(r, "REQUEST_SCHEME");
    r->https = bnc_str_ieq(bnc_request_get(r, "HTTPS"), "on") ||
               bnc_str_ieq(scheme, "https");
}

/* One X-Forwarded-For hop: "a.b.c.d", "a.b.c.d:port", "v6", "[v6]" or
 * "[v6]:port" (proxies write all of these). 0 or -1. */
static int
bnc_request_parse_hop(const char *item, size_t len, struct bnc_addr *a,
                      char *text, size_t cap)
{
    const char *end = item + len, *colon;

    if (len > 0 && item[0] == '[') {
        const char *close = memchr(item, ']', len);

        if (close == NULL ||
            (close + 1 != end &&
             (close[1] != ':' || close + 2 == end)))
            return -1;
        item++;
        len = (size_t)(close - item);
    } else {
        colon = memchr(item, ':', len);
        /* Exactly one ':' is IPv4 with a port; more is bare IPv6. */
        if (colon != NULL && memchr(colon + 1, ':', (size_t)(end - colon - 1)) == NULL)
            len = (size_t)(colon - item);
    }
    if (len == 0 || len >= cap)
        return -1;
    memcpy(text, item, len);
    text[len] = '\0';
    return bnc_addr_parse(text, a);
}

/* X-Forwarded-Proto from a trusted proxy that terminated TLS: https only
 * when every listed value says so (a client may have sent its own value
 * that the proxy appended to), never from anyone else. */
static void
bnc_request_forwarded_proto(struct bnc_request *r)
{
    const char *v, *p;
    int all = 1, any = 0, ambiguous;

    v = bnc_request_find_unique(r->envp, "HTTP_X_FORWARDED_PROTO", &ambiguous);
    if (ambiguous || v == NULL || r->https)
        return; /* two different copies: one is the client's, stay http */
    if (strnlen(v, BNC_PARAM_MAX + 1) > BNC_PARAM_MAX)
        return;
    for (p = v; *p != '\0';) {
        size_t len;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        len = strcspn(p, " \t,");
        if (len == 0)
            break;
        any = 1;
        if (!(len == 5 && strncasecmp(p, "https", 5) == 0))
            all = 0;
        p += len;
    }
    r->https = any && all;
}

void
bnc_request_resolve_client(struct bnc_request *r,
                           const struct bnc_cidr *proxies, size_t n)
{
    const char *xff, *p;
    int ambiguous;

    if (n == 0 || !r->client_ok ||
        !bnc_cidr_match_any(proxies, n, &r->client_addr))
        return;
    bnc_request_forwarded_proto(r);
    if (bnc_request_find(r->envp, "HTTP_X_FORWARDED_FOR") == NULL)
        return; /* no header: the proxy itself asks (health checks) */
    xff = bnc_request_find_unique(r->envp, "HTTP_X_FORWARDED_FOR", &ambiguous);
    if (ambiguous)
        goto unknown; /* "X_Forwarded_For" from the client and the proxy's */
    if (strnlen(xff, BNC_PARAM_MAX + 1) > BNC_PARAM_MAX || *xff == '\0')
        goto unknown; /* present but oversized or empty */
    /* Right to left: each hop was appended by the proxy before it. */
    p = xff + strlen(xff);
    while (p > xff) {
        const char *item_end = p, *item;
        char hop[64];
        struct bnc_addr a;

        while (p > xff && p[-1] != ',')
            p--;
        item = p;
        if (p > xff)
            p--; /* step over the comma for the next round */
        while (item < item_end && (*item == ' ' || *item == '\t'))
            item++;
        while (item_end > item && (item_end[-1] == ' ' || item_end[-1] == '\t'))
            item_end--;
        if (bnc_request_parse_hop(item, (size_t)(item_end - item), &a, hop,
                                  sizeof(hop)) != 0)
            goto unknown;
        memcpy(r->client_buf, hop, strlen(hop) + 1);
        r->client = r->client_buf;
        r->client_addr = a;
        if (!bnc_cidr_match_any(proxies, n, &a))
            return; /* the first untrusted hop is the client */
    }
    /* Every hop was a trusted proxy: the last one is as far as we know. */
    return;
unknown:
    /* A trusted proxy sent a header we cannot read ("unknown", garbage,
     * too long): the client is unknown. Falling back to the proxy's own
     * address would hand every client the proxy's network rights. */
    r->client = "";
    r->client_ok = 0;
}

int
bnc_request_is_authenticator(const struct bnc_request *r)
{
    /* REMOTE_PASSWD is what marks it: mod_auth_basic's providers
     * (mod_authnz_fcgi authn/authnz, FcgidAuthenticator) always send it.
     * AuthnzFcgiCheckAuthnProvider also says AUTHENTICATOR but sends no
     * REMOTE_PASSWD: there Apache takes the user from our answer
     * (UserExpr), so the request is decided as usual. */
    return r->role == BNC_ROLE_AUTHORIZER && r->has_remote_passwd;
}

long long
bnc_request_elapsed_us(const struct bnc_request *r)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (long long)(now.tv_sec - r->start.tv_sec) * 1000000LL +
           (now.tv_nsec - r->start.tv_nsec) / 1000;
}
