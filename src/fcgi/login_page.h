/* SPDX-License-Identifier: MIT */
/* The HTML pages of the /auth/ API: the login form and "signed in as". */
#ifndef BNC_FCGI_LOGIN_PAGE_H
#define BNC_FCGI_LOGIN_PAGE_H

#include "util/buf.h"

struct bnc_identity;
struct bnc_response;

/* What the login form shows. Every string is escaped on output. */
struct bnc_login_view {
    const char *next;       /* validated same-site path for the hidden field */
    const char *username;   /* refilled after a failure; NULL = empty */
    const char *error;      /* shown in a role="alert" box; NULL = none */
};

/* Appends s with & < > " ' escaped for HTML text and quoted attributes. */
void bnc_html_escape(struct bnc_buf *b, const char *s);
/* Content-Type, Cache-Control: no-store, X-Frame-Options, CSP (no script,
 * inline style only, forms post to this site only), nosniff. */
void bnc_login_page_headers(struct bnc_response *resp);
/* The login form with status (200; 400 or 401 after a failed post). */
void bnc_login_page_render(struct bnc_response *resp, int status,
                           const struct bnc_login_view *v);
/* 200 "Signed in as NAME". With csrf_token (a session login) also a
 * "Log out" form posting csrf_field=csrf_token to the logout endpoint. */
void bnc_login_page_whoami(struct bnc_response *resp,
                           const struct bnc_identity *id,
                           const char *csrf_field, const char *csrf_token);

#endif
