#!/bin/bash
# SPDX-License-Identifier: MIT
# Browser sessions (issue 4) behind real servers: lighttpd with the shipped
# lighttpd/bouncer.conf (authorizer on /app/) and lighttpd/bouncer-auth.conf
# (responder on /auth/), then Apache + mod_fcgid with the shipped
# apache/bouncer-fcgid.conf (access checker on /app, responder on /auth/),
# both protecting examples/env.cgi.
#
# curl logs in through /auth/login (form and JSON, with a cookie jar), then:
# the CGI sees REMOTE_USER and AUTH_TYPE=Session; forged, ambiguous, expired,
# revoked and logged-out sessions are refused (401 for API clients, 302 to the
# login page for browser navigations where the server lets a 302 through);
# unsafe methods need X-CSRFToken and a same-site or trusted Origin;
# bouncerctl user passwd / user disable / session revoke end sessions; bad
# login bodies get 4xx; "next" never sends anyone off-site; a login survives
# SIGKILL of every bouncer process right after it; no password, session id
# or CSRF token ever reaches a log.
#
# What each server really does with a denial (web-servers.md 3.3, 5.3):
# lighttpd passes bouncer's status, headers and JSON; mod_fcgid turns every
# access-checker denial into Apache's own 401 page and drops Location, so
# under Apache a browser gets 401, not the redirect. The /auth/ responder's
# answers reach the client unchanged under both.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd apache2 curl
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
    skip_all "mod_fcgid not installed (run scripts/deps.sh)"
need_built "$BIN_BOUNCER" "$BIN_CTL"
bnc_init sessions

REALM="bouncer-sessions"
STORE="$T/store"
CONF="$T/bouncer.conf"       # schemes = session, basic; defaults otherwise
CONF_SHORT="$T/short.conf"   # schemes = session; idle_timeout 2s; secure always
TRUSTED="https://trusted.example"
rpw() { printf '%s-%s' "$1" "$(head -c 12 /dev/urandom | base64 | tr -d '+/=')"; }
ALICE_PW=$(rpw al)
BOB_PW=$(rpw bo)
CAROL_PW=$(rpw ca)
NOTPROV="Authentication credentials were not provided."
INVALID="Invalid session."
CSRF_MISSING="CSRF Failed: CSRF token missing."
SECRETS=()   # passwords, session ids, CSRF tokens: none may reach a log
SECRETS_ARE="password, session id or CSRF token"
SECRETS+=("$ALICE_PW" "$BOB_PW" "$CAROL_PW")

# ---- store, users, configs -----------------------------------------------
make_store "$STORE" || bnc_finish
add_user "$STORE" alice "$ALICE_PW" --group staff --email alice@example.org \
    --name "Alice Session" || bnc_finish
add_user "$STORE" bob "$BOB_PW" || bnc_finish
add_user "$STORE" carol "$CAROL_PW" || bnc_finish

# write_conf FILE SCHEMES SESSION-LINES...
write_conf() {
    local file=$1 schemes=$2 line
    shift 2
    {
        printf '[store]\npath = %s\n\n' "$STORE"
        printf '[auth]\nschemes = %s\nrealm = %s\n\n' "$schemes" "$REALM"
        # The one test client (loopback) fails on purpose, many times.
        printf '[throttle]\ntrusted = 127.0.0.1, ::1\n\n'
        printf '[session]\n'
        for line in "$@"; do
            printf '%s\n' "$line"
        done
        printf '\n[rules]\n/auth/ = anonymous\n/app/ = authenticated\n'
    } >"$file"
    chmod 644 "$file"
}
write_conf "$CONF" "session, basic" "trusted_origins = $TRUSTED"
write_conf "$CONF_SHORT" "session" "idle_timeout = 2s" "secure = always"
for c in "$CONF" "$CONF_SHORT"; do
    if [ "${#c}" -ge 128 ]; then
        die "config path too long for FcgidInitialEnv (< 128 bytes): $c"
    fi
    if out=$("$BIN_BOUNCER" -c "$c" --check-config 2>&1); then
        pass "bouncer --check-config accepts $(basename "$c")"
    else
        die "bouncer --check-config refuses $(basename "$c")" "$out" "$(cat "$c")"
    fi
done

www_cgi app index.html

# ---- HTTP helpers ----------------------------------------------------------
SRV=
URL=
JAR=

# set_cookie NAME: the value NAME gets in a Set-Cookie header of $H ("" if none).
set_cookie() {
    printf '%s\n' "$H" | awk -v n="$1" '
        tolower(substr($0, 1, 11)) == "set-cookie:" {
            v = substr($0, 12); sub(/^[ \t]+/, "", v)
            if (index(v, n "=") == 1) { v = substr(v, length(n) + 2); sub(/;.*/, "", v); print v; exit }
        }'
}

# set_cookie_line NAME: the whole Set-Cookie value for NAME ("" if none).
set_cookie_line() {
    printf '%s\n' "$H" | awk -v n="$1" '
        tolower(substr($0, 1, 11)) == "set-cookie:" {
            v = substr($0, 12); sub(/^[ \t]+/, "", v)
            if (index(v, n "=") == 1) { print v; exit }
        }'
}

# has_attr SETCOOKIE ATTR: 0 if ATTR (case-insensitive, e.g. HttpOnly,
# SameSite=Lax, Max-Age=0) is one of the cookie's attributes.
has_attr() {
    printf '%s' "$1" | tr ';' '\n' | sed -e 's/^ *//' -e 's/ *$//' |
        grep -Fixq -- "$2"
}

# The CGI ran (its output is in $B).
cgi_ran() { printf '%s\n' "$B" | grep -q '^REQUEST_URI='; }

# urldecode STRING
urldecode() {
    /usr/bin/python3 -c 'import sys, urllib.parse
print(urllib.parse.unquote(sys.argv[1]), end="")' "$1"
}

# query_param URL NAME: the decoded value of NAME in URL's query.
query_param() {
    /usr/bin/python3 -c 'import sys, urllib.parse
q = urllib.parse.urlsplit(sys.argv[1]).query
v = urllib.parse.parse_qs(q, keep_blank_values=True).get(sys.argv[2], [""])[0]
print(v, end="")' "$1" "$2"
}

# on_site LOCATION: 0 if a browser following LOCATION stays on $URL.
on_site() {
    local loc=$1
    # Browsers drop tabs and newlines inside URLs and treat "\" as "/".
    case "$loc" in
    *[[:cntrl:]]* | *' '*) return 1 ;;
    esac
    case "$loc" in
    "$URL"/*) loc=${loc#"$URL"} ;;
    esac
    case "$loc" in
    //* | /\\*) return 1 ;;
    /*) return 0 ;;
    esac
    return 1
}

# login_form NEXT USER PASSWORD [curl args]: POST the login form.
login_form() {
    local next=$1 user=$2 pw=$3
    shift 3
    http "$URL/auth/login" --data-urlencode "username=$user" \
        --data-urlencode "password=$pw" --data-urlencode "next=$next" "$@"
}

# login_json USER PASSWORD [curl args]: POST {"username","password"}.
login_json() {
    local body
    body=$(/usr/bin/python3 -c 'import json, sys
print(json.dumps({"username": sys.argv[1], "password": sys.argv[2]}), end="")' "$1" "$2")
    shift 2
    http "$URL/auth/login" -H "Content-Type: application/json" \
        -H "Accept: application/json" --data-binary "$body" "$@"
}

# new_session WHAT USER PASSWORD: logs in (JSON); sets SID and CSRF, or
# records a failure and sets both empty.
SID=
CSRF=
new_session() {
    login_json "$2" "$3"
    SID=$(set_cookie sessionid)
    CSRF=$(set_cookie csrftoken)
    if [ "$S" = 200 ] && [ -n "$SID" ] && [ -n "$CSRF" ]; then
        SECRETS+=("$SID" "$CSRF")
        return 0
    fi
    fail "$1: JSON login of $2 gives 200 and both cookies" "status $S" \
        "headers: $(printf '%s' "$H" | head -n 12)" "body: $(_bnc_show "$B")"
    SID=
    CSRF=
    return 1
}

# json_msg: what a JSON error in $B says: detail, or DRF's first field or
# non_field_errors message.
json_msg() {
    printf '%s' "$B" | /usr/bin/python3 -c 'import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    d = None
m = ""
if isinstance(d, dict):
    m = d.get("detail") or ""
    if not m:
        for k, v in d.items():
            if isinstance(v, list) and v:
                m = "%s: %s" % (k, v[0]) if k != "non_field_errors" else str(v[0])
                break
print(m, end="")'
}

# with_sid SID PATH [curl args]: a request carrying only that session cookie.
with_sid() {
    local sid=$1 path=$2
    shift 2
    http "$URL$path" -H "Cookie: sessionid=$sid" "$@"
}

# deny WHAT STATUS DETAIL: what a client sees when the authorizer refuses
# (lighttpd: bouncer's answer; mod_fcgid: Apache's 401 page, no Location).
deny() {
    local what=$1 st=$2 detail=$3
    if [ "$SRV" = lighttpd ]; then
        check_eq "$what: $st" "$st" "$S"
        check_eq "$what: detail \"$detail\"" "$detail" "$(json_field detail)"
    else
        if [ "$st" = 401 ]; then
            check_eq "$what: 401" 401 "$S"
        else
            check_eq "$what: 401 (mod_fcgid turns bouncer's $st into its 401)" 401 "$S"
        fi
        check_not_contains "$what: Apache's own page (mod_fcgid drops our body)" "$B" '"detail"'
    fi
    check_eq "$what: no Location" "" "$(header Location)"
    if cgi_ran; then
        fail "$what: the CGI did not run" "$(_bnc_show "$B")"
    else
        pass "$what: the CGI did not run"
    fi
}

# to_login WHAT NEXT: a browser navigation without a valid session.
to_login() {
    local what=$1 next=$2 loc
    loc=$(header Location)
    if [ "$SRV" = lighttpd ]; then
        check_eq "$what: 302" 302 "$S"
        check_match "$what: Location is the login page" "$loc" '^(http://127\.0\.0\.1:[0-9]+)?/auth/login\?next='
        check_eq "$what: next=$next" "$next" "$(query_param "$loc" next)"
    else
        check_eq "$what: 401 (mod_fcgid drops the 302's Location)" 401 "$S"
        check_eq "$what: no Location" "" "$loc"
    fi
    if cgi_ran; then
        fail "$what: the CGI did not run" "$(_bnc_show "$B")"
    else
        pass "$what: the CGI did not run"
    fi
}

# granted WHAT USER: the CGI ran as USER through a session.
granted() {
    check_eq "$1: 200" 200 "$S"
    check_line "$1: CGI sees REMOTE_USER=$2" "$B" "REMOTE_USER=$2"
    check_line "$1: CGI sees AUTH_TYPE=Session" "$B" "AUTH_TYPE=Session"
}

HTML="Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
JSON="Accept: application/json"

# ---- the cases both servers must get right --------------------------------
common_cases() {
    local p=$SRV loc sid1 sid2 sid3 csrf1 csrf2 id1 now exp ct next n bad sc body
    local d_wrong s_wrong

    http "$URL/index.html"
    check_eq "$p: / (outside the prefix) is served without credentials" 200 "$S"
    http "$URL/auth/healthz"
    check_eq "$p: GET /auth/healthz: 200" 200 "$S"
    check_eq "$p: healthz says ok" ok "$(json_field status)"

    # The login page: a plain HTML form that works without JavaScript.
    http "$URL/auth/login?next=%2Fapp%2F" -H "$HTML"
    check_eq "$p: GET /auth/login: 200" 200 "$S"
    check_match "$p: login page is text/html" "$(header Content-Type)" '^text/html'
    check_contains "$p: login page has a form" "$B" "<form"
    check_match "$p: login form posts" "$B" '[Mm][Ee][Tt][Hh][Oo][Dd]="?[Pp][Oo][Ss][Tt]'
    check_contains "$p: login form has a username field" "$B" 'name="username"'
    check_contains "$p: login form has a password field" "$B" 'type="password"'

    # Not signed in: API client and browser navigation.
    http "$URL/app/" -H "$JSON"
    deny "$p: no session, API client" 401 "$NOTPROV"
    http "$URL/app/" -H "$HTML"
    to_login "$p: no session, browser GET /app/" "/app/"
    http "$URL/app/?x=1&y=a%20b" -H "$HTML"
    to_login "$p: no session, browser GET with a query" "/app/?x=1&y=a%20b"
    http "$URL/app/" -H "$HTML" -X POST -d "a=b"
    deny "$p: no session, browser POST (not a navigation to redirect)" 401 "$NOTPROV"

    # Log in with the form, with a cookie jar, as a browser would.
    JAR="$T/$p.jar"
    rm -f "$JAR"
    login_form "/app/?x=1" alice "$ALICE_PW" -c "$JAR" -b "$JAR" -H "$HTML"
    loc=$(header Location)
    sid1=$(set_cookie sessionid)
    csrf1=$(set_cookie csrftoken)
    SECRETS+=("$sid1" "$csrf1")
    check_eq "$p: form login: 302" 302 "$S"
    check_match "$p: form login: back to next (/app/?x=1)" "$loc" \
        "^(http://127\\.0\\.0\\.1:[0-9]+)?/app/\\?x=1\$"
    check_match "$p: form login: session id has >= 256 bits (43+ base64url chars)" \
        "$sid1" '^[A-Za-z0-9_-]{43,}$'
    check_match "$p: form login: CSRF token is 43 base64url chars" "$csrf1" '^[A-Za-z0-9_-]{43}$'
    sc=$(set_cookie_line sessionid)
    has_attr "$sc" HttpOnly && pass "$p: sessionid cookie is HttpOnly" ||
        fail "$p: sessionid cookie is HttpOnly" "$sc"
    has_attr "$sc" SameSite=Lax && pass "$p: sessionid cookie is SameSite=Lax" ||
        fail "$p: sessionid cookie is SameSite=Lax" "$sc"
    has_attr "$sc" Path=/ && pass "$p: sessionid cookie has Path=/" ||
        fail "$p: sessionid cookie has Path=/" "$sc"
    has_attr "$sc" Secure && fail "$p: no Secure over plain HTTP (secure = auto)" "$sc" ||
        pass "$p: no Secure over plain HTTP (secure = auto)"
    sc=$(set_cookie_line csrftoken)
    has_attr "$sc" HttpOnly && fail "$p: csrftoken cookie is readable by scripts" "$sc" ||
        pass "$p: csrftoken cookie is readable by scripts (not HttpOnly)"
    has_attr "$sc" SameSite=Lax && pass "$p: csrftoken cookie is SameSite=Lax" ||
        fail "$p: csrftoken cookie is SameSite=Lax" "$sc"
    check_not_contains "$p: form login: the password is not echoed" "$B" "$ALICE_PW"

    # The protected page with the jar.
    http "$URL/app/?x=1" -b "$JAR" -H "$HTML"
    granted "$p: with the session cookie (jar)" alice
    check_line "$p: CGI sees AUTH_NAME of alice" "$B" "AUTH_NAME=Alice Session"
    check_line "$p: CGI sees AUTH_GROUPS=staff" "$B" "AUTH_GROUPS=staff"
    check_line "$p: CGI sees AUTH_CREDENTIAL_ID=ss_..." "$B" 'AUTH_CREDENTIAL_ID=ss_[a-z2-7]{13}'
    id1=$(printf '%s\n' "$B" | sed -n 's/^AUTH_CREDENTIAL_ID=//p')
    exp=$(printf '%s\n' "$B" | sed -n 's/^AUTH_EXPIRES=//p')
    now=$(date +%s)
    if [ -n "$exp" ] && [ "$exp" -ge $((now + 14 * 86400 - 120)) ] &&
        [ "$exp" -le $((now + 14 * 86400 + 5)) ]; then
        pass "$p: AUTH_EXPIRES is the absolute end, 14 days (default lifetime) ahead"
    else
        fail "$p: AUTH_EXPIRES is 14 days ahead" "AUTH_EXPIRES=$exp now=$now"
    fi
    check_not_contains "$p: the CGI never sees the session id" "$B" "$sid1"
    if printf '%s\n' "$H" | grep -qi '^variable-'; then
        fail "$p: no Variable-* header reaches the client" "$(printf '%s\n' "$H" | grep -i '^variable-')"
    else
        pass "$p: no Variable-* header reaches the client"
    fi
    check_contains "$p: session list alice shows the session ($id1)" \
        "$(ctl "$STORE" session list alice 2>&1)" "$id1"

    # whoami: JSON for programs, a page with a Log out button for people.
    http "$URL/auth/whoami" -b "$JAR" -H "$JSON"
    check_eq "$p: whoami (JSON): 200" 200 "$S"
    check_eq "$p: whoami: username alice" alice "$(json_field username)"
    check_eq "$p: whoami: auth_type Session" Session "$(json_field auth_type)"
    http "$URL/auth/whoami" -b "$JAR" -H "$HTML"
    check_eq "$p: whoami (HTML): 200" 200 "$S"
    check_match "$p: whoami (HTML) is text/html" "$(header Content-Type)" '^text/html'
    check_contains "$p: whoami page says who is signed in" "$B" "Signed in as"
    check_contains "$p: whoami page names alice" "$B" "alice"
    check_match "$p: whoami page has a logout form" "$B" 'action="(/auth/)?logout"'
    check_contains "$p: whoami page's form carries the CSRF token" "$B" "$csrf1"
    http "$URL/auth/whoami" -H "$JSON"
    check_eq "$p: whoami without a session: 401" 401 "$S"

    # JSON login: a new session each time, never the one the client brings
    # (the old one ends, as Django's login() cycles the key).
    login_json alice "$ALICE_PW"
    sid2=$(set_cookie sessionid)
    SECRETS+=("$sid2" "$(set_cookie csrftoken)")
    check_eq "$p: JSON login: 200" 200 "$S"
    check_match "$p: JSON login answers JSON" "$(header Content-Type)" '^application/json'
    check_eq "$p: JSON login: username" alice "$(json_field username)"
    check_eq "$p: JSON login: csrftoken in the body = csrftoken cookie" \
        "$(set_cookie csrftoken)" "$(json_field csrftoken)"
    check_match "$p: JSON login sets a session cookie" "$sid2" '^[A-Za-z0-9_-]{43,}$'
    check_ne "$p: two logins, two session ids" "$sid1" "$sid2"
    with_sid "$sid1" /app/ -H "$JSON"
    granted "$p: the first (jar) session still works next to the second" alice
    with_sid "$sid2" /app/ -H "$JSON"
    granted "$p: the second session works" alice
    login_json alice "$ALICE_PW" -H "Cookie: sessionid=$sid2"
    sid3=$(set_cookie sessionid)
    SECRETS+=("$sid3" "$(set_cookie csrftoken)")
    check_eq "$p: JSON login over an existing session: 200" 200 "$S"
    check_ne "$p: login over an existing session gets a NEW id (no fixation)" "$sid2" "$sid3"
    with_sid "$sid2" /app/ -H "$JSON"
    deny "$p: the session the client brought to the login has ended" 401 "$INVALID"
    with_sid "$sid3" /app/ -H "$JSON"
    granted "$p: the new session works" alice
    login_form /app/ alice "$ALICE_PW" -H "Origin: http://evil.example"
    check_eq "$p: login POST from a foreign Origin (login CSRF): 403" 403 "$S"
    check_eq "$p: login from a foreign Origin: DRF's message" \
        "CSRF Failed: Origin checking failed - http://evil.example does not match any trusted origins." \
        "$(json_field detail)"
    check_eq "$p: login from a foreign Origin: no session" "" "$(set_cookie sessionid)"
    login_form /app/ alice "$ALICE_PW" -H "Origin: $URL"
    SECRETS+=("$(set_cookie sessionid)" "$(set_cookie csrftoken)")
    check_eq "$p: login POST from our own Origin: 302" 302 "$S"

    # Wrong password and unknown user: the same clear 4xx, no cookie.
    login_json alice "wrong-$ALICE_PW"
    check_match "$p: JSON login, wrong password: 4xx (got $S)" "$S" '^4[0-9][0-9]$'
    check_eq "$p: wrong password: no session cookie" "" "$(set_cookie sessionid)"
    d_wrong=$(json_msg)
    s_wrong=$S
    check_ne "$p: wrong password: a message ($d_wrong)" "" "$d_wrong"
    login_json "nosuchuser$RANDOM" "whatever"
    check_eq "$p: unknown user: same status as a wrong password" "$s_wrong" "$S"
    check_eq "$p: unknown user: same message as a wrong password (no enumeration)" \
        "$d_wrong" "$(json_msg)"
    login_form /app/ alice "wrong-$ALICE_PW" -H "$HTML"
    check_match "$p: form login, wrong password: 4xx (got $S)" "$S" '^4[0-9][0-9]$'
    check_contains "$p: form login, wrong password: the form again" "$B" 'type="password"'
    check_eq "$p: form login, wrong password: no session cookie" "" "$(set_cookie sessionid)"

    # Forged, malformed and ambiguous cookies.
    bad="$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')"
    with_sid "$bad" /app/ -H "$JSON"
    deny "$p: forged session cookie, API client" 401 "$INVALID"
    [ "$SRV" = lighttpd ] && check_eq "$p: forged cookie: code session_invalid" \
        session_invalid "$(json_field code)"
    with_sid "$bad" /app/ -H "$HTML"
    to_login "$p: forged session cookie, browser" "/app/"
    with_sid "${sid1%?}$(if [ "${sid1: -1}" = A ]; then echo B; else echo A; fi)" /app/ -H "$JSON"
    deny "$p: a real session id with its last character changed" 401 "$INVALID"
    n=0
    for c in "sessionid=" "sessionid=\"$bad\"" "sessionid=$(head -c 6000 /dev/zero | tr '\0' a)" \
        "sessionid=a b" "sessionid=$sid1; sessionid=$bad" "sessionid=$bad; sessionid=$sid1" \
        $'sessionid=\xff\xfe' "sessionid=$sid1%00"; do
        n=$((n + 1))
        http "$URL/app/" -H "Cookie: $c" -H "$JSON"
        if [ "$S" -ge 400 ] && [ "$S" -lt 500 ] && ! cgi_ran; then
            pass "$p: malformed/ambiguous cookie #$n: $S, not let in"
        else
            fail "$p: malformed/ambiguous cookie #$n: 4xx, not let in" "status $S" "$(_bnc_show "$B")"
        fi
    done
    http "$URL/app/" -H "Cookie: sessionid=$sid1; sessionid=$sid1; other=1" -H "$JSON"
    granted "$p: the same session cookie twice (same value) is not ambiguous" alice
    http "$URL/app/" -H "Cookie: theme=dark; sessionid=\"$sid1\"; lang=en" -H "$JSON"
    granted "$p: a quoted session cookie among others" alice

    # CSRF on unsafe methods (session from the JSON login: sid2).
    login_json alice "$ALICE_PW"
    sid2=$(set_cookie sessionid)
    csrf2=$(set_cookie csrftoken)
    SECRETS+=("$sid2" "$csrf2")
    with_sid "$sid2" /app/ -X POST -d "a=1" -H "$JSON"
    deny "$p: POST with the session, without X-CSRFToken" 403 "$CSRF_MISSING"
    with_sid "$sid2" /app/ -X POST -d "a=1" -H "$JSON" -H "X-CSRFToken: $csrf1"
    deny "$p: POST with another session's CSRF token" 403 \
        "$( [ "$SRV" = lighttpd ] && json_field detail)"
    [ "$SRV" = lighttpd ] && check_match "$p: wrong token: a DRF-style CSRF message" \
        "$(json_field detail)" "^CSRF Failed: CSRF token (from the 'X-Csrftoken' HTTP header )?incorrect\\.\$"
    with_sid "$sid2" /app/ -X POST -d "a=1" -H "$JSON" -H "X-CSRFToken: $csrf2" \
        -H "Origin: http://evil.example"
    deny "$p: POST with the token, foreign Origin" 403 \
        "CSRF Failed: Origin checking failed - http://evil.example does not match any trusted origins."
    with_sid "$sid2" /app/ -X POST -d "a=1" -H "$JSON" -H "X-CSRFToken: $csrf2" \
        -H "Origin: ${URL}.evil.example"
    deny "$p: POST with the token, Origin that only starts like ours" 403 \
        "CSRF Failed: Origin checking failed - ${URL}.evil.example does not match any trusted origins."
    with_sid "$sid2" /app/ -X POST -d "a=1" -H "$JSON" -H "X-CSRFToken: $csrf2" \
        -H "Origin: $URL"
    granted "$p: POST with the token and the same Origin" alice
    with_sid "$sid2" /app/ -X POST -d "a=1" -H "$JSON" -H "X-CSRFToken: $csrf2"
    granted "$p: POST with the token and no Origin (plain HTTP)" alice
    with_sid "$sid2" /app/ -X POST -d "a=1" -H "$JSON" -H "X-CSRFToken: $csrf2" \
        -H "Origin: $TRUSTED"
    granted "$p: POST with the token and a trusted_origins Origin" alice
    with_sid "$sid2" /app/ -X DELETE -H "$JSON"
    deny "$p: DELETE with the session, without X-CSRFToken" 403 "$CSRF_MISSING"
    with_sid "$sid2" /app/ -H "$JSON" -H "Origin: http://evil.example"
    granted "$p: GET (safe) needs no token, whatever the Origin" alice

    # Logout: needs the token; clears both cookies; the session is gone.
    # As fetch() sends a POST without a body: Content-Length: 0 (lighttpd
    # answers 411 to a POST without any).
    with_sid "$sid2" /auth/logout -X POST -H "Content-Length: 0" -H "$JSON"
    check_eq "$p: logout without the CSRF token: 403" 403 "$S"
    check_eq "$p: logout without the token: DRF's message" "$CSRF_MISSING" "$(json_field detail)"
    with_sid "$sid2" /app/ -H "$JSON"
    granted "$p: the session survives a refused logout" alice
    with_sid "$sid2" /auth/logout -X POST -H "Content-Length: 0" -H "$JSON" \
        -H "X-CSRFToken: $csrf2" -H "Origin: $URL"
    check_match "$p: logout with the token: 2xx/3xx (got $S)" "$S" '^(200|204|302|303)$'
    sc=$(set_cookie_line sessionid)
    if [ -n "$sc" ] && { has_attr "$sc" Max-Age=0 || [ -z "$(set_cookie sessionid)" ]; }; then
        pass "$p: logout clears the sessionid cookie"
    else
        fail "$p: logout clears the sessionid cookie" "Set-Cookie: $sc"
    fi
    [ -n "$(set_cookie_line csrftoken)" ] && pass "$p: logout clears the csrftoken cookie" ||
        fail "$p: logout clears the csrftoken cookie" "$H"
    with_sid "$sid2" /app/ -H "$JSON"
    deny "$p: the logged-out session id, API client" 401 "$INVALID"
    with_sid "$sid2" /app/ -H "$HTML"
    to_login "$p: the logged-out session id, browser" "/app/"

    # The browser's logout: the whoami page's form (csrfmiddlewaretoken field).
    http "$URL/auth/logout" -b "$JAR" -c "$JAR" -X POST -H "$HTML" \
        --data-urlencode "csrfmiddlewaretoken=$csrf1"
    check_match "$p: form logout (csrfmiddlewaretoken): 2xx/3xx (got $S)" "$S" '^(200|204|302|303)$'
    http "$URL/app/" -b "$JAR" -H "$HTML"
    to_login "$p: after the form logout the jar's session is protected again" "/app/"
    with_sid "$sid1" /app/ -H "$JSON"
    deny "$p: the form-logged-out session id" 401 "$INVALID"

    # bouncerctl session list / revoke.
    new_session "$p" alice "$ALICE_PW" || return
    sid1=$SID
    with_sid "$sid1" /app/ -H "$JSON"
    granted "$p: session to be revoked works" alice
    id1=$(printf '%s\n' "$B" | sed -n 's/^AUTH_CREDENTIAL_ID=//p')
    out=$(ctl "$STORE" session list alice 2>&1)
    check_contains "$p: session list alice names $id1" "$out" "$id1"
    check_contains "$p: session list shows the client address" "$out" "127.0.0.1"
    out=$(ctl "$STORE" session list 2>&1)
    check_contains "$p: session list (all users) names $id1" "$out" "$id1"
    if out=$(ctl "$STORE" session revoke "$id1" 2>&1); then
        pass "$p: session revoke $id1"
    else
        fail "$p: session revoke $id1" "$out"
    fi
    check_not_contains "$p: session list no longer names $id1" \
        "$(ctl "$STORE" session list alice 2>&1)" "$id1"
    with_sid "$sid1" /app/ -H "$JSON"
    deny "$p: revoked session" 401 "$INVALID"
    if out=$(ctl "$STORE" session revoke "ss_aaaaaaaaaaaaa" 2>&1); then
        fail "$p: session revoke of an unknown id fails" "$out"
    else
        pass "$p: session revoke of an unknown id fails ($(printf '%s' "$out" | head -n 1))"
    fi
    new_session "$p" bob "$BOB_PW" || return
    sid1=$SID
    new_session "$p" bob "$BOB_PW" || return
    sid2=$SID
    new_session "$p" alice "$ALICE_PW" || return
    out=$(ctl "$STORE" session revoke --user bob 2>&1) &&
        pass "$p: session revoke --user bob ($out)" || fail "$p: session revoke --user bob" "$out"
    with_sid "$sid1" /app/ -H "$JSON"
    deny "$p: bob's first session after revoke --user" 401 "$INVALID"
    with_sid "$sid2" /app/ -H "$JSON"
    deny "$p: bob's second session after revoke --user" 401 "$INVALID"
    with_sid "$SID" /app/ -H "$JSON"
    granted "$p: alice's session is untouched by revoke --user bob" alice

    # A password change ends every session of the user.
    sid1=$SID
    ALICE_PW=$(rpw al2)
    SECRETS+=("$ALICE_PW")
    if out=$(printf '%s\n' "$ALICE_PW" | ctl "$STORE" user passwd alice --password-stdin 2>&1); then
        pass "$p: bouncerctl user passwd alice"
    else
        fail "$p: bouncerctl user passwd alice" "$out"
    fi
    with_sid "$sid1" /app/ -H "$JSON"
    deny "$p: session from before the password change" 401 "$INVALID"
    new_session "$p" alice "$ALICE_PW" || return
    with_sid "$SID" /app/ -H "$JSON"
    granted "$p: a login with the new password works" alice

    # Open redirects: next never leads off-site.
    n=0
    for next in "//evil.example" "//evil.example/app/" "https://evil.example" \
        "http://evil.example/" "/\\evil.example" "\\\\evil.example" "///evil.example" \
        "javascript:alert(1)" "/	/evil.example" "$(printf '/\r\nLocation: http://evil.example')" \
        "https:evil.example" " //evil.example" "http:/\\evil.example"; do
        n=$((n + 1))
        login_form "$next" alice "$ALICE_PW"
        SECRETS+=("$(set_cookie sessionid)" "$(set_cookie csrftoken)")
        loc=$(header Location)
        if [ "$S" = 302 ] && on_site "$loc"; then
            pass "$p: open redirect #$n (form next): 302 to on-site '$loc'"
        elif [ "$S" != 302 ] && [ -z "$loc" ] && [ "$S" -lt 500 ]; then
            pass "$p: open redirect #$n (form next): $S without Location"
        else
            fail "$p: open redirect #$n (form next) stays on-site" "status $S" "Location: $loc"
        fi
        http "$URL/auth/login?next=$(/usr/bin/python3 -c 'import sys, urllib.parse
print(urllib.parse.quote(sys.argv[1], safe=""), end="")' "$next")" \
            --data-urlencode "username=alice" --data-urlencode "password=$ALICE_PW"
        SECRETS+=("$(set_cookie sessionid)" "$(set_cookie csrftoken)")
        loc=$(header Location)
        if [ -z "$loc" ] || on_site "$loc"; then
            pass "$p: open redirect #$n (query next): Location '${loc:-none}' is on-site"
        else
            fail "$p: open redirect #$n (query next) stays on-site" "status $S" "Location: $loc"
        fi
    done
    http "$URL/auth/login?next=https%3A%2F%2Fevil.example" -H "$HTML"
    check_not_contains "$p: login page never links off-site from next" \
        "$(printf '%s' "$B" | grep -io 'href="[^"]*"\|action="[^"]*"')" "evil.example"

    # Bad login bodies: clear 4xx, never 5xx, nothing let in.
    body=$(head -c 100000 /dev/zero | tr '\0' a)
    http "$URL/auth/login" -H "Content-Type: application/x-www-form-urlencoded" \
        --data-binary "username=alice&password=$body"
    check_match "$p: oversized login body (100 kB): 4xx (got $S)" "$S" '^4[0-9][0-9]$'
    check_eq "$p: oversized login body: no session" "" "$(set_cookie sessionid)"
    n=0
    for c in 'application/json|{"username": "alice", "password":' \
        'application/json|{"username": 5, "password": []}' \
        'application/json|["alice", "x"]' \
        'application/json|{"username": "alice"}' \
        'application/json|' \
        'application/json|{"username": "al\u0000ice", "password": "x"}' \
        'application/x-www-form-urlencoded|username=%zz&password=%' \
        'application/x-www-form-urlencoded|password=x' \
        'application/x-www-form-urlencoded|username=alice&username=bob&password=x' \
        'text/plain|username=alice&password=x' \
        'multipart/form-data; boundary=zz|--zz--'; do
        n=$((n + 1))
        ct=${c%%|*}
        http "$URL/auth/login" -H "Content-Type: $ct" -H "$JSON" --data-binary "${c#*|}"
        if [ "$S" -ge 400 ] && [ "$S" -lt 500 ] && [ -z "$(set_cookie sessionid)" ]; then
            pass "$p: malformed login body #$n ($ct): $S \"$(json_msg | head -c 80)\""
        else
            fail "$p: malformed login body #$n ($ct): 4xx, no session" "status $S" \
                "$(_bnc_show "$B")"
        fi
    done
    http "$URL/auth/logout" -H "$JSON"
    check_eq "$p: GET /auth/logout: 405" 405 "$S"
    http "$URL/auth/nosuch" -H "$JSON"
    check_eq "$p: unknown /auth/ endpoint: 404" 404 "$S"
    new_session "$p" alice "$ALICE_PW" && with_sid "$SID" /app/ -H "$JSON" &&
        granted "$p: after the bad bodies a login still works" alice
}

# expiry_cases: against the short-config server (idle_timeout 2s, secure
# always, sessions only). The Secure cookies are sent by hand (curl keeps
# them out of a jar over plain HTTP).
expiry_cases() {
    local p="$SRV (short)" sc
    login_json alice "$ALICE_PW"
    SID=$(set_cookie sessionid)
    SECRETS+=("$SID" "$(set_cookie csrftoken)")
    check_eq "$p: JSON login: 200" 200 "$S"
    sc=$(set_cookie_line sessionid)
    has_attr "$sc" Secure && pass "$p: secure = always: the cookie is Secure over HTTP too" ||
        fail "$p: secure = always: the cookie is Secure" "$sc"
    with_sid "$SID" /app/ -H "$JSON"
    granted "$p: fresh session" alice
    http "$URL/app/" -H "$JSON"
    if [ "$SRV" = lighttpd ]; then
        check_eq "$p: sessions only, no credentials: 401" 401 "$S"
        check_eq "$p: sessions only: no WWW-Authenticate challenge" "" "$(header WWW-Authenticate)"
    else
        check_eq "$p: sessions only, no credentials: 401" 401 "$S"
    fi
    sleep 3
    with_sid "$SID" /app/ -H "$JSON"
    deny "$p: session idle for 3 s (idle_timeout 2s)" 401 "$INVALID"
    with_sid "$SID" /app/ -H "$HTML"
    to_login "$p: idle session, browser" "/app/"
}

# ---- lighttpd ------------------------------------------------------------
# lighttpd_up NAME CONF: lighttpd in $T/NAME with the shipped snippets; sets
# URL, LPID.
lighttpd_up() {
    local name=$1 port d="$T/$1"
    port=$(free_port) || die "no free port"
    mkdir -p "$d"
    lighttpd_conf "$port" "$2" "$d/run" "$T/log/$name-" \
        bouncer.conf bouncer-auth.conf >"$d/lighttpd.conf"
    start_lighttpd -n "$name" -t "lighttpd ($name) accepts lighttpd/bouncer.conf + lighttpd/bouncer-auth.conf" \
        "$d/lighttpd.conf" "$port"
    wait_sock "$d/run/bouncer-auth.sock-0" 5 ||
        fail "lighttpd ($name) spawned the /auth/ responder" "$(ls -l "$d/run")"
}

# stop_lighttpd NAME PID
stop_lighttpd() {
    local bp
    bp=$(pgrep -P "$2" -f "$BIN_BOUNCER" | tr '\n' ' ')
    bnc_stop_pid "$2" 10
    check_eq "lighttpd ($1): bouncer processes exited with lighttpd" "" "$(wait_pids_gone 10 $bp)"
}

note "--- lighttpd (lighttpd/bouncer.conf + lighttpd/bouncer-auth.conf) ---"
SRV=lighttpd
lighttpd_up lighttpd "$CONF"
LMAIN=$LPID
BPIDS=$(pgrep -P "$LMAIN" -f "$BIN_BOUNCER" | tr '\n' ' ')

# user disable ends bob's sessions (lighttpd pass only: bob stays disabled).
new_session "lighttpd" bob "$BOB_PW" && {
    with_sid "$SID" /app/ -H "$JSON"
    granted "lighttpd: bob's session before user disable" bob
    out=$(ctl "$STORE" user disable bob 2>&1) || fail "user disable bob" "$out"
    with_sid "$SID" /app/ -H "$JSON"
    deny "lighttpd: bob's session after user disable (it ended)" 401 "$INVALID"
    out=$(ctl "$STORE" user enable bob 2>&1) || fail "user enable bob" "$out"
    with_sid "$SID" /app/ -H "$JSON"
    deny "lighttpd: bob's old session stays dead after user enable" 401 "$INVALID"
}
# user del ends carol's.
new_session "lighttpd" carol "$CAROL_PW" && {
    out=$(ctl "$STORE" user del carol 2>&1) || fail "user del carol" "$out"
    with_sid "$SID" /app/ -H "$JSON"
    deny "lighttpd: carol's session after user del" 401 "$INVALID"
    check_eq "lighttpd: user del carol leaves no session of carol listed" "" \
        "$(ctl "$STORE" session list carol 2>/dev/null | grep -o 'ss_[a-z2-7]*')"
}

common_cases

for p in $BPIDS; do
    if pid_alive "$p"; then
        pass "lighttpd: bouncer pid $p still alive after all the cases"
    else
        fail "lighttpd: bouncer pid $p still alive after all the cases"
    fi
done

# A login is stored before the answer leaves bouncer (WRITE_NOSYNC: in the
# OS, not only in the process): SIGKILL every bouncer process right after
# one, and the session still works once lighttpd has respawned them.
if new_session "lighttpd" alice "$ALICE_PW"; then
    KPIDS=$(pgrep -P "$LMAIN" -f "$BIN_BOUNCER" | tr '\n' ' ')
    # shellcheck disable=SC2086
    kill -KILL $KPIDS 2>/dev/null
    check_eq "lighttpd: SIGKILL reached every bouncer process ($KPIDS)" "" \
        "$(wait_pids_gone 5 $KPIDS)"
    end=$((SECONDS + 20))
    codes=
    while :; do
        with_sid "$SID" /app/ -H "$JSON"
        codes="$codes $S"
        [ "$S" = 200 ] || [ "$SECONDS" -ge "$end" ] && break
        sleep 0.3
    done
    note "statuses while lighttpd respawned bouncer:$codes"
    granted "lighttpd: the session of a login right before SIGKILL of all bouncers" alice
fi
ELOG="$T/log/lighttpd-bouncer.log"
check_file_contains "lighttpd: decision log has session decisions (scheme=session)" "$ELOG" "scheme=session"
check_file_contains "lighttpd: decision log has the login requests" "$ELOG" "uri=/auth/login"
no_leaks "$ELOG" "lighttpd decision log"

lighttpd_up lshort "$CONF_SHORT"
LSHORT=$LPID
expiry_cases
no_leaks "$T/log/lshort-bouncer.log" "lighttpd (short) decision log"
stop_lighttpd lshort "$LSHORT"
stop_lighttpd lighttpd "$LMAIN"
# lighttpd buffers its access log: read it once lighttpd has stopped.
no_leaks "$T/log/lighttpd-access.log" "lighttpd access log"
if grep -Eq '^127\.0\.0\.1 alice "GET /app/' "$T/log/lighttpd-access.log"; then
    pass "lighttpd: access log %u shows alice for a session request"
else
    fail "lighttpd: access log %u shows alice" "$(tail -n 5 "$T/log/lighttpd-access.log")"
fi

# ---- Apache + mod_fcgid --------------------------------------------------
# apache_up NAME CONF: Apache with the shipped bouncer-fcgid.conf; sets URL,
# APORT.
APORT=
apache_up() {
    APORT=$(free_port) || die "no free port"
    {
        apache_conf "$1" "$APORT"
        apache_fcgid_snippet "$1" "$2"
    } >"$T/$1.conf"
    start_apache -t "$1" "$APORT"
}

# apache_down NAME PORT: stops it; the bouncer processes must exit with it.
apache_down() {
    local fp
    fp=$(pgrep -u "$WWW_USER" -f "^$BIN_BOUNCER" | tr '\n' ' ')
    stop_apache "$1" "$2"
    check_eq "apache ($1): bouncer processes exited" "" "$(wait_pids_gone 10 $fp)"
}

note "--- Apache mod_fcgid (apache/bouncer-fcgid.conf) ---"
SRV=fcgid
apache_up apache "$CONF"
AMAIN=$APORT
common_cases
sleep 0.3
if grep -Eq '^127\.0\.0\.1 - "alice" "GET /app/' "$T/log/apache-access.log"; then
    pass "fcgid: access log has %{REMOTE_USER}e=alice for a session request"
else
    fail "fcgid: access log has %{REMOTE_USER}e=alice" "$(tail -n 5 "$T/log/apache-access.log")"
fi
ALOG="$T/log/apache-error.log"
check_file_contains "fcgid: decision lines in Apache's error log (scheme=session)" "$ALOG" "scheme=session"
check_file_contains "fcgid: the responder's login decisions in Apache's error log" "$ALOG" "uri=/auth/login"
no_leaks "$ALOG" "fcgid: Apache's error log"
no_leaks "$T/log/apache-access.log" "fcgid: Apache's access log"

apache_down apache "$AMAIN"

# One Apache at a time: apache_down waits for every bouncer run as www-data.
apache_up ashort "$CONF_SHORT"
ASHORT=$APORT
expiry_cases
no_leaks "$T/log/ashort-error.log" "fcgid (short): Apache's error log"
apache_down ashort "$ASHORT"

bnc_finish
