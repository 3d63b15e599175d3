#!/bin/bash
# SPDX-License-Identifier: MIT
# The /auth/ Responder endpoints through the real binary: over FastCGI
# (bouncer --listen, tools/bnc-fcgi --role responder with a request body on
# FCGI_STDIN) and as plain CGI (GATEWAY_INTERFACE, body on stdin): login
# page, JSON and form logins, whoami, logout with and without the CSRF
# token, bad bodies; and that no password reaches the log.

. "$(dirname "$0")/lib.sh"

bnc_init responder
need_built "$BIN_BOUNCER" "$BIN_CTL" "$BIN_FCGI"

STORE=$T/store
CONF=$T/bouncer.conf
PW='pa55 w&rd=%+'
make_store "$STORE" || bnc_finish
add_user "$STORE" alice "$PW" --group staff || bnc_finish
cat >"$CONF" <<EOF
[store]
path = $STORE

[auth]
schemes = session, basic
realm = test

[passwords]
argon2_memory = 1024
argon2_time = 1

[log]
level = info

[rules]
/auth/ = anonymous
/ = authenticated
EOF

PORT=$(free_port) || die "no free port"
"$BIN_BOUNCER" -c "$CONF" --listen "127.0.0.1:$PORT" >"$T/log/bouncer.out" \
    2>"$T/log/bouncer.err" &
bnc_track $!
wait_port "$PORT" 10 || die "bouncer did not listen on $PORT" \
    "$(tail -n 5 "$T/log/bouncer.err")"

# fcgi METHOD URI BODY-FILE|- [NAME=VALUE...]: one Responder request; sets
# R (response, CR removed), S (status), B (body), H (headers).
R=
fcgi() {
    local method=$1 uri=$2 file=$3 args=() p
    shift 3
    args=(--connect "127.0.0.1:$PORT" --role responder
        -p "REQUEST_METHOD=$method" -p "REQUEST_URI=$uri"
        -p "HTTP_HOST=example.org" -p "REMOTE_ADDR=127.0.0.1"
        -p "HTTP_USER_AGENT=responder.sh")
    if [ "$file" != - ]; then
        args+=(-p "CONTENT_LENGTH=$(wc -c <"$file")" --stdin "$file")
    fi
    for p in "$@"; do
        args+=(-p "$p")
    done
    R=$("$BIN_FCGI" "${args[@]}" 2>"$T/log/client.err" | tr -d '\r')
    _split
}

_split() {
    S=$(printf '%s\n' "$R" | sed -n '1s/^Status: \([0-9]*\).*/\1/p')
    H=$(printf '%s\n' "$R" | sed '/^$/q')
    B=$(printf '%s\n' "$R" | sed '1,/^$/d')
}

# cookie_of NAME: the value set by the Set-Cookie header for NAME in $H.
cookie_of() {
    printf '%s\n' "$H" | sed -n "s/^Set-Cookie: $1=\([^;]*\).*/\1/p" | head -n 1
}

body() { printf '%s' "$1" >"$T/body"; }

# ---- FastCGI ------------------------------------------------------------

fcgi GET /auth/healthz -
check_eq "healthz answers 200" 200 "$S"

fcgi GET "/auth/login?next=/app/%22%3E" - "QUERY_STRING=next=/app/%22%3E"
check_eq "login page: 200" 200 "$S"
check_contains "login page: HTML form" "$B" '<form method="post" action="login">'
check_contains "login page: next escaped" "$B" 'value="/app/&quot;&gt;"'
check_contains "login page: CSP" "$H" "Content-Security-Policy: default-src 'none'"

body "{\"username\": \"alice\", \"password\": \"$PW\"}"
fcgi POST /auth/login "$T/body" CONTENT_TYPE=application/json
check_eq "JSON login: 200" 200 "$S"
check_eq "JSON login: username" alice "$(B=$B json_field username)"
SID=$(cookie_of sessionid)
CSRF=$(cookie_of csrftoken)
check_match "JSON login: session cookie set" "$SID" '^[A-Za-z0-9_-]{43}$'
check_eq "JSON login: csrftoken in body = cookie" "$CSRF" "$(B=$B json_field csrftoken)"
check_contains "JSON login: HttpOnly session cookie" "$H" "HttpOnly"

fcgi GET /auth/whoami - "HTTP_COOKIE=sessionid=$SID"
check_eq "whoami with the session: 200" 200 "$S"
check_eq "whoami: user" alice "$(B=$B json_field username)"
check_eq "whoami: auth_type" Session "$(B=$B json_field auth_type)"
check_match "whoami: credential id" "$(B=$B json_field credential_id)" '^ss_'

fcgi GET /auth/whoami - "HTTP_COOKIE=sessionid=$SID" "HTTP_ACCEPT=text/html"
check_contains "whoami page: name" "$B" "Signed in as alice"
check_contains "whoami page: logout form with the CSRF token" "$B" \
    "name=\"csrfmiddlewaretoken\" value=\"$CSRF\""

fcgi POST /auth/logout - "HTTP_COOKIE=sessionid=$SID"
check_eq "logout without CSRF token: 403" 403 "$S"
check_contains "logout without CSRF token: Django's reason" "$B" \
    "CSRF Failed: CSRF token missing."

fcgi POST /auth/logout - "HTTP_COOKIE=sessionid=$SID" "HTTP_X_CSRFTOKEN=$CSRF"
check_eq "logout with X-CSRFToken: 200" 200 "$S"
check_contains "logout: cookies cleared" "$H" "Max-Age=0"

fcgi GET /auth/whoami - "HTTP_COOKIE=sessionid=$SID"
check_eq "whoami after logout: 401" 401 "$S"
check_contains "whoami after logout: Invalid session." "$B" "Invalid session."

# Form login (the HTML page), then logout through the page's form.
body "username=alice&password=pa55+w%26rd%3D%25%2B&next=%2Fapp%2F"
fcgi POST /auth/login "$T/body" CONTENT_TYPE=application/x-www-form-urlencoded \
    HTTP_ORIGIN=http://example.org
check_eq "form login: 302" 302 "$S"
check_line "form login: to next" "$H" "Location: /app/"
SID=$(cookie_of sessionid)
CSRF=$(cookie_of csrftoken)
body "csrfmiddlewaretoken=$CSRF"
fcgi POST /auth/logout "$T/body" CONTENT_TYPE=application/x-www-form-urlencoded \
    "HTTP_COOKIE=sessionid=$SID" HTTP_ORIGIN=http://example.org
check_eq "form logout: 302" 302 "$S"
check_line "form logout: to the login page" "$H" "Location: /auth/login"

body "username=alice&password=wrong-password"
fcgi POST /auth/login "$T/body" CONTENT_TYPE=application/x-www-form-urlencoded
check_eq "form login, wrong password: 401" 401 "$S"
check_contains "form login, wrong password: message" "$B" "Invalid username/password."

body "{\"username\": \"alice\", \"password\": \"$PW\"}"
fcgi POST /auth/login "$T/body" CONTENT_TYPE=application/json \
    HTTP_ORIGIN=https://evil.example
check_eq "login from another origin: 403" 403 "$S"

head -c 20000 /dev/zero | tr '\0' a >"$T/big"
fcgi POST /auth/login "$T/big" CONTENT_TYPE=application/json
check_eq "oversized body: 413" 413 "$S"
body '{"username": "alice", "username": "bob", "password": "x"}'
fcgi POST /auth/login "$T/body" CONTENT_TYPE=application/json
check_eq "duplicate JSON keys: 400" 400 "$S"
body 'username=alice&password=x'
fcgi POST /auth/login "$T/body" CONTENT_TYPE=text/plain
check_eq "text/plain: 415" 415 "$S"
fcgi PUT /auth/login -
check_eq "PUT login: 405" 405 "$S"
check_line "PUT login: Allow" "$H" "Allow: GET, HEAD, POST"

fcgi GET /auth/healthz -
check_eq "still serving after the bad bodies" 200 "$S"

# ---- plain CGI ----------------------------------------------------------

# cgi METHOD URI BODY-FILE|- [NAME=VALUE...]: bouncer run once as CGI.
cgi() {
    local method=$1 uri=$2 file=$3 envs=()
    shift 3
    envs=(GATEWAY_INTERFACE=CGI/1.1 "REQUEST_METHOD=$method"
        "REQUEST_URI=$uri" HTTP_HOST=example.org REMOTE_ADDR=127.0.0.1
        "PATH=$PATH")
    if [ "$file" != - ]; then
        envs+=("CONTENT_LENGTH=$(wc -c <"$file")")
    else
        file=/dev/null
    fi
    R=$(env -i "${envs[@]}" "$@" "$BIN_BOUNCER" -c "$CONF" <"$file" \
        2>>"$T/log/cgi.err" | tr -d '\r')
    _split
}

body "username=alice&password=pa55+w%26rd%3D%25%2B"
cgi POST /auth/login "$T/body" CONTENT_TYPE=application/x-www-form-urlencoded
check_eq "CGI form login: 302" 302 "$S"
SID=$(cookie_of sessionid)
check_match "CGI form login: session cookie" "$SID" '^[A-Za-z0-9_-]{43}$'

# The session made by the CGI process is seen by the FastCGI daemon.
fcgi GET /auth/whoami - "HTTP_COOKIE=sessionid=$SID"
check_eq "CGI session seen over FastCGI" alice "$(B=$B json_field username)"

cgi GET /auth/whoami - "HTTP_COOKIE=sessionid=$SID"
check_eq "CGI whoami: 200" 200 "$S"
check_eq "CGI whoami: user" alice "$(B=$B json_field username)"

body "{\"username\": \"alice\", \"password\": \"nope\"}"
cgi POST /auth/login "$T/body" CONTENT_TYPE=application/json
check_eq "CGI JSON login, wrong password: 400" 400 "$S"
check_contains "CGI JSON login, wrong password: DRF wording" "$B" \
    "Unable to log in with provided credentials."

cgi POST /auth/login - CONTENT_TYPE=application/json
check_eq "CGI login without Content-Length: 400" 400 "$S"
check_contains "CGI login without Content-Length: message" "$B" \
    "Content-Length required."

# ---- the log -------------------------------------------------------------

check_file_contains "decision log names the login" "$T/log/bouncer.err" "login"
check_file_not_contains "no password in the daemon's log" "$T/log/bouncer.err" "$PW"
check_file_not_contains "no password in the CGI log" "$T/log/cgi.err" "$PW"
check_file_not_contains "no encoded password in the log" "$T/log/bouncer.err" "pa55+w"

bnc_finish
