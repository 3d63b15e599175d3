/* SPDX-License-Identifier: MIT */
/* HTML of GET /auth/login and of whoami for browsers: plain forms that
 * work without JavaScript, every interpolated value escaped. */
#include <string.h>

#include "auth/scheme.h"
#include "fcgi/login_page.h"
#include "fcgi/response.h"

/* Small, readable, high-contrast; inline because the CSP allows nothing
 * else (no external style sheet to serve or cache). */
static const char bnc_login_page_css[] =
    "body{font-family:system-ui,-apple-system,\"Segoe UI\",sans-serif;"
    "background:#f3f4f6;color:#111827;margin:0;line-height:1.5}"
    "main{max-width:22rem;margin:4rem auto;padding:2rem;background:#fff;"
    "border:1px solid #d1d5db;border-radius:.5rem}"
    "h1{font-size:1.5rem;margin:0 0 1rem}"
    "label{display:block;font-weight:600;margin:.75rem 0 .25rem}"
    "input{box-sizing:border-box;width:100%;padding:.5rem;font-size:1rem;"
    "border:1px solid #6b7280;border-radius:.25rem}"
    "button{margin-top:1.25rem;width:100%;padding:.6rem;font-size:1rem;"
    "border:0;border-radius:.25rem;background:#1d4ed8;color:#fff;"
    "cursor:pointer}"
    "button:hover{background:#1e40af}"
    "input:focus,button:focus{outline:3px solid #93c5fd;outline-offset:1px}"
    ".error{background:#fef2f2;border:1px solid #b91c1c;color:#7f1d1d;"
    "padding:.5rem .75rem;border-radius:.25rem;margin:0 0 .5rem}"
    ".muted{color:#4b5563;font-size:.9rem}";

void
bnc_html_escape(struct bnc_buf *b, const char *s)
{
    const char *p;

    if (s == NULL)
        return;
    for (p = s; *p != '\0'; p++) {
        switch (*p) {
        case '&': bnc_buf_puts(b, "&amp;"); break;
        case '<': bnc_buf_puts(b, "&lt;"); break;
        case '>': bnc_buf_puts(b, "&gt;"); break;
        case '"': bnc_buf_puts(b, "&quot;"); break;
        case '\'': bnc_buf_puts(b, "&#39;"); break;
        default: bnc_buf_putc(b, *p);
        }
    }
}

void
bnc_login_page_headers(struct bnc_response *resp)
{
    bnc_response_header(resp, "Content-Type", "text/html; charset=utf-8");
    bnc_response_header(resp, "Cache-Control", "no-store");
    bnc_response_header(resp, "X-Frame-Options", "DENY");
    bnc_response_header(resp, "X-Content-Type-Options", "nosniff");
    bnc_response_header(resp, "Content-Security-Policy",
                        "default-src 'none'; style-src 'unsafe-inline'; "
                        "form-action 'self'; frame-ancestors 'none'");
}

static void
bnc_login_page_head(struct bnc_buf *b, const char *title)
{
    bnc_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
                    "<meta charset=\"utf-8\">\n"
                    "<meta name=\"viewport\" content=\"width=device-width, "
                    "initial-scale=1\">\n"
                    "<meta name=\"robots\" content=\"noindex\">\n<title>");
    bnc_html_escape(b, title);
    bnc_buf_puts(b, "</title>\n<style>");
    bnc_buf_puts(b, bnc_login_page_css);
    bnc_buf_puts(b, "</style>\n</head>\n<body>\n<main>\n");
}

static void
bnc_login_page_tail(struct bnc_buf *b)
{
    bnc_buf_puts(b, "</main>\n</body>\n</html>\n");
}

void
bnc_login_page_render(struct bnc_response *resp, int status,
                      const struct bnc_login_view *v)
{
    struct bnc_buf *b = &resp->body;
    int err = v->error != NULL && *v->error != '\0';

    resp->status = status;
    bnc_login_page_headers(resp);
    bnc_buf_reset(b);
    bnc_login_page_head(b, "Sign in");
    bnc_buf_puts(b, "<h1>Sign in</h1>\n");
    if (err) {
        bnc_buf_puts(b, "<p class=\"error\" id=\"login-error\" "
                        "role=\"alert\">");
        bnc_html_escape(b, v->error);
        bnc_buf_puts(b, "</p>\n");
    }
    /* Relative action: the form posts back to the URL it came from, wherever
     * the server mounts the API. */
    bnc_buf_puts(b, "<form method=\"post\" action=\"login\">\n"
                    "<input type=\"hidden\" name=\"next\" value=\"");
    bnc_html_escape(b, v->next != NULL ? v->next : "/");
    bnc_buf_puts(b, "\">\n<label for=\"username\">Username</label>\n"
                    "<input id=\"username\" name=\"username\" type=\"text\" "
                    "autocomplete=\"username\" autocapitalize=\"none\" "
                    "spellcheck=\"false\" required");
    if (err)
        bnc_buf_puts(b, " aria-invalid=\"true\" "
                        "aria-describedby=\"login-error\"");
    if (v->username != NULL && *v->username != '\0') {
        bnc_buf_puts(b, " value=\"");
        bnc_html_escape(b, v->username);
        bnc_buf_puts(b, "\"");
    } else {
        bnc_buf_puts(b, " autofocus");
    }
    bnc_buf_puts(b, ">\n<label for=\"password\">Password</label>\n"
                    "<input id=\"password\" name=\"password\" "
                    "type=\"password\" autocomplete=\"current-password\" "
                    "required");
    if (err)
        bnc_buf_puts(b, " aria-invalid=\"true\" "
                        "aria-describedby=\"login-error\" autofocus");
    bnc_buf_puts(b, ">\n<button type=\"submit\">Sign in</button>\n"
                    "</form>\n");
    bnc_login_page_tail(b);
}

void
bnc_login_page_whoami(struct bnc_response *resp,
                      const struct bnc_identity *id, const char *csrf_field,
                      const char *csrf_token)
{
    struct bnc_buf *b = &resp->body;
    const char *shown = id->name != NULL && *id->name != '\0' ? id->name
                                                              : id->user;

    resp->status = 200;
    bnc_login_page_headers(resp);
    bnc_buf_reset(b);
    bnc_login_page_head(b, "Signed in");
    bnc_buf_puts(b, "<h1>Signed in as ");
    bnc_html_escape(b, shown != NULL ? shown : "");
    bnc_buf_puts(b, "</h1>\n<p class=\"muted\">User name: <span "
                    "id=\"username\">");
    bnc_html_escape(b, id->user != NULL ? id->user : "");
    bnc_buf_puts(b, "</span>");
    if (id->auth_type != NULL) {
        bnc_buf_puts(b, " &middot; signed in with ");
        bnc_html_escape(b, id->auth_type);
    }
    bnc_buf_puts(b, "</p>\n");
    if (csrf_token != NULL && csrf_field != NULL) {
        bnc_buf_puts(b, "<form method=\"post\" action=\"logout\">\n"
                        "<input type=\"hidden\" name=\"");
        bnc_html_escape(b, csrf_field);
        bnc_buf_puts(b, "\" value=\"");
        bnc_html_escape(b, csrf_token);
        bnc_buf_puts(b, "\">\n<button type=\"submit\">Log out</button>\n"
                        "</form>\n");
    }
    bnc_login_page_tail(b);
}
