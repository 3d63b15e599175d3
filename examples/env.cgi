#!/bin/sh
# SPDX-License-Identifier: MIT
# Example CGI behind bouncer: prints the identity the web server handed over.
#
# bouncer answers a granted request with "Variable-NAME: value" headers; the
# web server turns them into environment variables for the application. This
# script shows which ones arrived. Apache renames them REDIRECT_NAME after an
# internal redirect (e.g. a front-controller RewriteRule), so those are shown
# too when set.
#
# It never prints HTTP_AUTHORIZATION (that would echo the caller's password);
# it only says whether the application could see the header at all.

printf 'Content-Type: text/plain; charset=utf-8\r\n'
printf 'Cache-Control: no-store\r\n'
printf '\r\n'

for name in REMOTE_USER AUTH_TYPE AUTH_USER_ID AUTH_GROUPS AUTH_SCOPES \
            AUTH_EXPIRES AUTH_CREDENTIAL_ID AUTH_EMAIL AUTH_NAME; do
    # ${name} is one of the fixed names above, so eval is safe here.
    eval "set=\${$name+x} value=\${$name-}"
    if [ -n "$set" ]; then
        printf '%s=%s\n' "$name" "$value"
    fi
    eval "set=\${REDIRECT_$name+x} value=\${REDIRECT_$name-}"
    if [ -n "$set" ]; then
        printf 'REDIRECT_%s=%s\n' "$name" "$value"
    fi
done
# Configured JWT claims arrive as AUTH_CLAIM_<NAME> ([jwt] claims).
env | grep -E '^(REDIRECT_)?AUTH_CLAIM_[A-Z0-9_]*=' | sort

if [ -n "${HTTP_AUTHORIZATION+x}" ] || [ -n "${REDIRECT_HTTP_AUTHORIZATION+x}" ]; then
    printf 'AUTHORIZATION_VISIBLE=yes\n'
else
    printf 'AUTHORIZATION_VISIBLE=no\n'
fi
printf 'REQUEST_URI=%s\n' "${REQUEST_URI-}"
