#!/bin/bash
# SPDX-License-Identifier: MIT
# Access rules (issue 6) through real servers: lighttpd (authorizer, plain
# and TLS), Apache mod_authnz_fcgi (bouncer as a daemon) and Apache mod_fcgid
# (FcgidAccessChecker), with the shipped snippets. The same table of
# requests must get the same answers from each; path tricks the servers
# normalise themselves (.., %2e, //, %2f, ..;, backslash) must never reach
# a protected file for a caller the rules refuse. Per-location requirements
# come from each server (setenv.add-environment, SetEnvIf) as
# BOUNCER_REQUIRE; a client header of that name must change nothing.
# Also: bouncer --check-config warnings and bouncerctl explain.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd apache2 curl base64 openssl
MODS=/usr/lib/apache2/modules
[ -f "$MODS/mod_fcgid.so" ] || skip_all "mod_fcgid not installed (run scripts/deps.sh)"
[ -f "$MODS/mod_authnz_fcgi.so" ] || skip_all "mod_authnz_fcgi not installed"
need_built "$BIN_BOUNCER" "$BIN_CTL"
bnc_init rules
# bnc_init gave the servers a private copy of bouncer (lib.sh).

REALM="rules-test"
STORE="$T/store"
CONF="$T/bouncer.conf"
ALICE_PW="alice-pw-$(head -c 6 /dev/urandom | base64 | tr -d '+/=')"
BOB_PW="bob-pw-$(head -c 6 /dev/urandom | base64 | tr -d '+/=')"
REQ_LOC="group:admin network:127.0.0.0/8"

# ---- store, users, tokens, config ----------------------------------------
make_store "$STORE" || bnc_finish
add_user "$STORE" alice "$ALICE_PW" --group staff || bnc_finish
add_user "$STORE" bob "$BOB_PW" --group admin || bnc_finish
add_user "$STORE" carol "carol-pw-1" || bnc_finish
add_user "$STORE" dave "dave-pw-1" || bnc_finish
token_create "$STORE" carol --scope read || bnc_finish
TOK_READ=$TOKEN_KEY
token_create "$STORE" dave --scope write || bnc_finish
TOK_WRITE=$TOKEN_KEY
TOK_READ_ID=$(ctl "$STORE" token list carol --json | /usr/bin/python3 -c \
    'import json, sys; print(json.load(sys.stdin)[0]["id"])')

cat >"$CONF" <<EOF
[store]
path = $STORE

[auth]
schemes = basic, token
realm = $REALM

[rules]
/app/pub/              = anonymous
/app/admin/            = group:admin
GET,HEAD /app/api/     = scope:read
/app/api/              = scope:write
/app/tls/              = https authenticated
localhost/app/host/    = group:admin
127.0.0.1/app/host/    = anonymous
/app/files/*/private/  = user:bob
/app/                  = authenticated
EOF
chmod 644 "$CONF"
if [ "${#CONF}" -ge 128 ]; then
    die "config path too long for FcgidInitialEnv (< 128 bytes): $CONF"
fi

# ---- bouncer --check-config: warnings with file:line ---------------------
LINT="$T/lint.conf"
cat >"$LINT" <<EOF
[store]
path = $STORE

[auth]
schemes = basic, token

[rules]
/pub/          = anonymous
/admin/        = group:admin
/ghosts/       = group:ghost
/jwt/          = scheme:jwt
/odd/          = scheme:kerberos
/admin/x/      = group:admin
/dl            = anonymous
ops.example.org/ops/ = group:admin
/ops/          = authenticated
/              = authenticated
EOF
chmod 644 "$LINT"
if out=$("$BIN_BOUNCER" -c "$LINT" --check-config 2>&1); then
    pass "check-config: the lint config is valid (warnings only)"
else
    fail "check-config: the lint config is valid (warnings only)" "$out"
fi
check_line "check-config: anonymous rule, with file:line" "$out" \
    "^$LINT:8: warning: rule '/pub/ = anonymous' leaves /pub/ open to anonymous users .*"
check_line "check-config: group no user has" "$out" \
    "^$LINT:10: warning: rule '/ghosts/ = group:ghost': no user is in group 'ghost' .*"
check_not_contains "check-config: group admin exists (bob)" "$out" "group 'admin'"
check_line "check-config: scheme not enabled" "$out" \
    "^$LINT:11: warning: rule '/jwt/ = scheme:jwt': scheme 'jwt' is not in \[auth\] schemes.*"
check_line "check-config: unknown scheme" "$out" \
    "^$LINT:12: warning: rule '/odd/ = scheme:kerberos': unknown scheme 'kerberos' .*"
check_line "check-config: shadowed rule" "$out" \
    "^$LINT:13: warning: rule '/admin/x/' is never used: the rule at line 9 matches first"
check_line "check-config: an anonymous prefix without a trailing '/'" "$out" \
    "^$LINT:14: warning: rule '/dl = anonymous': a prefix without a trailing '/' also opens every path that starts with it, such as /dlx/ .*"
check_line "check-config: a host-less rule asks for less than the host rule before it" "$out" \
    "^$LINT:16: warning: rule '/ops/ = authenticated' asks for less than the host rule at line 15 .*a client chooses the Host header.*BOUNCER_REQUIRE per virtual host.*"
check_eq "check-config: exactly eight warnings" 8 \
    "$(printf '%s\n' "$out" | grep -c 'warning:')"
# Without the store the group check is skipped, with a note.
sed "s|^path = .*|path = $T/nostore|" "$LINT" >"$T/lint-nostore.conf"
out=$(BOUNCER_HOME= "$BIN_BOUNCER" -c "$T/lint-nostore.conf" --check-config 2>&1)
check_contains "check-config: no store: group check skipped with a note" "$out" \
    "group names in [rules] not checked: the store is not available"

# ---- bouncerctl explain --------------------------------------------------
explain() { BOUNCER_HOME= "$BIN_CTL" -c "$CONF" explain "$@" 2>&1; }
out=$(explain GET /app/admin/secret.txt)
check_line "explain: anonymous on /app/admin/: the rule with file:line" "$out" \
    "^rule: +$CONF:10: /app/admin/ += group:admin$"
check_line "explain: anonymous: requirement fails" "$out" '^  group:admin +no \(no credentials\)$'
check_line "explain: anonymous: 401 with both challenges" "$out" \
    '^ +with a WWW-Authenticate challenge for each of: basic token$'
out=$(explain GET /app/admin/secret.txt --user alice)
check_line "explain --user alice: groups from the store" "$out" '^caller: +alice, groups staff, .*'
check_line "explain --user alice: 403 and DRF's message" "$out" \
    '^answer: +403 .*You do not have permission to perform this action\..*'
out=$(explain GET /app/pub/%2e%2e/admin/ --user bob)
check_line "explain: the normalised path" "$out" '^path: +/app/admin/$'
check_line "explain --user bob: allow" "$out" '^answer: +allow \(200\)$'
out=$(explain POST /app/api/x --token "$TOK_READ_ID")
check_line "explain --token: the token's user and scopes" "$out" \
    '^caller: +carol, groups \(none\), scopes read, scheme token$'
check_line "explain --token: the POST rule" "$out" "^rule: +$CONF:12: /app/api/ += scope:write$"
check_line "explain --token: 403" "$out" '^answer: +403 .*'
out=$(explain GET http://LocalHost:8080/app/host/ --user alice)
check_line "explain: host from the URL" "$out" '^host: +localhost$'
check_line "explain: host rule" "$out" "^rule: +$CONF:14: localhost/app/host/ += group:admin$"
out=$(explain GET /app/tls/ --user alice)
check_line "explain: https required" "$out" '^answer: +403 .*https_required.*'
out=$(explain GET https://x.test/app/tls/ --user alice)
check_line "explain: https:// URL counts as https" "$out" '^answer: +allow \(200\)$'
out=$(explain GET /app/other --user alice --require "$REQ_LOC" --from 127.0.0.1)
check_line "explain --require: the server's rule" "$out" \
    "^rule: +from the server: BOUNCER_REQUIRE = $REQ_LOC$"
check_line "explain --require: network holds" "$out" '^  network:127\.0\.0\.0/8 +yes$'
check_line "explain --require: 403" "$out" '^answer: +403 .*'
out=$(explain GET /a/..%2f/x)
check_line "explain: refused path: 400" "$out" '^answer: +400 .*invalid_path.*'
out=$(explain GET /x --user nobody)
check_contains "explain: unknown user" "$out" "no user 'nobody'"
out=$(explain GET /x --token tk_nosuchtoken00)
check_contains "explain: unknown token" "$out" "no token with id 'tk_nosuchtoken00'"
BOUNCER_HOME= "$BIN_CTL" -c "$CONF" explain GET >/dev/null 2>&1
check_eq "explain: missing URL is a usage error" 2 "$?"

# ---- document root -------------------------------------------------------
W="$T/www"
mkdir -p "$W/app/pub" "$W/app/admin" "$W/app/api" "$W/app/tls" "$W/app/host" \
    "$W/app/loc" "$W/app/files/x/private"
printf 'PUBLIC\n' >"$W/app/pub/index.html"
printf 'ADMIN-SECRET\n' >"$W/app/admin/secret.txt"
printf 'ADMIN-SECRET index\n' >"$W/app/admin/index.html"
install -m 755 "$top_srcdir/examples/env.cgi" "$W/app/api/index.cgi"
printf 'TLS-PAGE\n' >"$W/app/tls/index.html"
printf 'HOST-PAGE\n' >"$W/app/host/index.html"
printf 'LOC-PAGE\n' >"$W/app/loc/index.html"
printf 'PRIVATE-FILE\n' >"$W/app/files/x/private/f.txt"
printf 'OTHER\n' >"$W/app/other.html"
printf 'ROOT\n' >"$W/index.html"
chmod -R a+rX "$W"

# ---- the request table ---------------------------------------------------
# WHO: anon, alice (staff), bob (admin), tokr (scope read), tokw (write).
auth_args() {
    case $1 in
    anon) ;;
    alice) printf '%s\n' -u "alice:$ALICE_PW" ;;
    bob) printf '%s\n' -u "bob:$BOB_PW" ;;
    tokr) printf '%s\n' -H "Authorization: Token $TOK_READ" ;;
    tokw) printf '%s\n' -H "Authorization: Token $TOK_WRITE" ;;
    esac
}

# req SERVER BASE METHOD PATH WHO [curl args...]: sets S, H, B.
req() {
    local base=$2 method=$3 path=$4 who=$5 a=()
    shift 5
    mapfile -t a < <(auth_args "$who")
    # lighttpd wants a length on a POST (411 otherwise).
    case $method in
    POST | PUT | PATCH | DELETE) a+=(--data-binary "") ;;
    esac
    http "$base$path" --path-as-is -X "$method" "${a[@]}" "$@"
}

# METHOD PATH WHO STATUS [MARKER in the body when 200]
CASES=(
    "GET /app/pub/ anon 200 PUBLIC"
    "GET /app/admin/secret.txt anon 401"
    "GET /app/admin/secret.txt alice 403"
    "GET /app/admin/secret.txt bob 200 ADMIN-SECRET"
    "GET /app/admin/secret.txt tokr 403"
    "GET /app/admin anon 401"
    "GET /app/api/index.cgi tokr 200 REMOTE_USER=carol"
    "HEAD /app/api/index.cgi tokr 200"
    "POST /app/api/index.cgi tokr 403"
    "POST /app/api/index.cgi tokw 200 REMOTE_USER=dave"
    "DELETE /app/api/index.cgi tokw 200"
    "GET /app/api/index.cgi tokw 403"
    "GET /app/api/index.cgi anon 401"
    "GET /app/tls/ alice 403"
    "GET /app/tls/ anon 403"
    "GET /app/files/x/private/f.txt alice 403"
    "GET /app/files/x/private/f.txt bob 200 PRIVATE-FILE"
    "GET /app/other.html alice 200 OTHER"
    "GET /app/other.html tokr 200 OTHER"
    "GET /app/other.html anon 401"
    "GET /app/loc/ anon 401"
    "GET /app/loc/ alice 403"
    "GET /app/loc/ bob 200 LOC-PAGE"
    "GET /index.html anon 200 ROOT"
)

# Path tricks towards /app/admin/secret.txt. Whatever the server does with
# them, no caller but bob may ever see the file.
TRICKS=(
    "/app/pub/../admin/secret.txt"
    "/app/pub/%2e%2e/admin/secret.txt"
    "/app/pub/%2E%2E/admin/secret.txt"
    "/app/pub/.%2e/admin/secret.txt"
    "/app/pub/%2e./admin/secret.txt"
    "/app//admin/secret.txt"
    "/app/./admin/secret.txt"
    "/app/admin//secret.txt"
    "/app/%61dmin/secret.txt"
    "/%61pp/admin/secret.txt"
    "/x/../app/admin/secret.txt"
    "/app/pub/..%2fadmin/secret.txt"
    "/app/pub/..%2Fadmin/secret.txt"
    "/app/pub/%2e%2e%2fadmin/secret.txt"
    "/app/pub/..;/admin/secret.txt"
    "/app/pub/..%3b/admin/secret.txt"
    "/app/pub/..\\admin/secret.txt"
    "/app/pub/..%5cadmin/secret.txt"
    "/app/admin/secret.txt?/app/pub/"
    "/app/admin/./secret.txt"
    "/app/admin/x/../secret.txt"
    "/app/pub/%252e%252e/admin/secret.txt"
    "/app/ADMIN/secret.txt"
    "/app/admin%2fsecret.txt"
    "/app/pub/../../app/admin/secret.txt"
    "/app/files/x/./private/f.txt"
    "/app/files/x//private/f.txt"
    "/app/files/y/../x/private/f.txt"
)

# run_table NAME BASE FCGID: the table, the tricks, the server's rule and
# the 401/403 answers. FCGID=1: mod_fcgid turns every denial into a plain
# 401 of Apache's (web-servers.md 3.3).
run_table() {
    local name=$1 base=$2 fcgid=$3 c m p w want marker got www
    for c in "${CASES[@]}"; do
        read -r m p w want marker <<<"$c"
        req "$name" "$base" "$m" "$p" "$w"
        got=$want
        [ "$fcgid" = 1 ] && [ "$want" = 403 ] && got=401
        check_eq "$name: $m $p as $w: $got" "$got" "$S"
        if [ "$want" = 200 ] && [ -n "${marker:-}" ]; then
            check_contains "$name: $m $p as $w: the page" "$B" "$marker"
        fi
        if [ "$want" != 200 ]; then
            check_not_contains "$name: $m $p as $w: nothing protected leaks" "$B" "SECRET"
        fi
    done
    for p in "${TRICKS[@]}"; do
        for w in anon alice tokr; do
            req "$name" "$base" GET "$p" "$w"
            if [ "$S" = 200 ] || [[ "$B" == *ADMIN-SECRET* ]] || [[ "$B" == *PRIVATE-FILE* ]]; then
                fail "$name: trick $p as $w is refused" "status $S" "$(_bnc_show "$B")"
            else
                pass "$name: trick $p as $w is refused ($S)"
            fi
        done
        # bob may read it wherever the server serves it: then it is the file.
        req "$name" "$base" GET "$p" bob
        if [ "$S" = 200 ]; then
            check_match "$name: trick $p as bob: 200 serves the file itself" "$B" \
                '^(ADMIN-SECRET|PRIVATE-FILE)$'
        fi
    done

    # One challenge per enabled scheme, DRF's texts.
    req "$name" "$base" GET /app/other.html anon
    if [ "$fcgid" != 1 ]; then
        check_eq "$name: 401 detail" "Authentication credentials were not provided." "$(json_field detail)"
    fi
    # lighttpd sends two WWW-Authenticate headers; Apache joins them into
    # one, comma-separated (RFC 9110 allows both).
    www=$(printf '%s\n' "$H" | grep -i '^www-authenticate:' | sed 's/^[^:]*: *//' |
        paste -sd '|' -)
    check_match "$name: 401 challenges Basic" "$www" \
        "(^|\\|)Basic realm=\"$REALM\", charset=\"UTF-8\"(, Token)?(\\||$)"
    check_match "$name: 401 challenges Token" "$www" '(^|\||, )Token(\||$)'
    check_eq "$name: 401 has one challenge per scheme" "1 1" \
        "$(grep -o 'Basic realm' <<<"$www" | wc -l) $(grep -o 'Token' <<<"$www" | wc -l)"
    if [ "$fcgid" != 1 ]; then
        req "$name" "$base" GET /app/admin/secret.txt alice
        check_eq "$name: 403 detail" "You do not have permission to perform this action." "$(json_field detail)"
        check_eq "$name: 403 code" "permission_denied" "$(json_field code)"
        check_eq "$name: 403 has no challenge" "" "$(header WWW-Authenticate)"
        req "$name" "$base" GET /app/tls/ alice
        check_eq "$name: plain http to an https rule: code" "https_required" "$(json_field code)"
        check_contains "$name: plain http to an https rule: says so" "$(json_field detail)" "HTTPS is required"
    fi
    # Clients cannot fake https or the server's rule.
    req "$name" "$base" GET /app/tls/ alice -H "X-Forwarded-Proto: https"
    check_ne "$name: X-Forwarded-Proto from an untrusted client: no https" 200 "$S"
    req "$name" "$base" GET /app/admin/secret.txt anon -H "Bouncer-Require: anonymous" \
        -H "BOUNCER_REQUIRE: anonymous"
    check_eq "$name: a client's BOUNCER_REQUIRE header is ignored" 401 "$S"
    # Host rules: Host: localhost needs admin; 127.0.0.1 is open.
    req "$name" "$base" GET /app/host/ anon
    if [ "$name" = authnz ]; then
        # mod_authnz_fcgi needs a user after a grant: an anonymous one is
        # its 500 (AH02520) unless DefaultUser is set (web-servers.md 4.2);
        # public paths get "Require all granted" there instead.
        check_eq "$name: Host 127.0.0.1: anonymous grant is Apache's 500" 500 "$S"
        check_file_contains "$name: Apache says why (AH02520)" \
            "$T/log/authnz-error.log" "AH02520"
    else
        check_eq "$name: Host 127.0.0.1: anonymous host rule" 200 "$S"
    fi
    req "$name" "$base" GET /app/host/ alice -H "Host: localhost"
    got=403
    [ "$fcgid" = 1 ] && got=401
    check_eq "$name: Host localhost as alice" "$got" "$S"
    req "$name" "$base" GET /app/host/ bob -H "Host: LOCALHOST:8080"
    check_eq "$name: Host LOCALHOST:8080 as bob" 200 "$S"
    check_contains "$name: Host LOCALHOST:8080 as bob: the page" "$B" HOST-PAGE
}

# =========================================================================
# lighttpd, plain and TLS
# =========================================================================
note "--- lighttpd ---"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
    -keyout "$T/key.pem" -out "$T/cert.pem" >/dev/null 2>&1 ||
    die "openssl could not make a test certificate"
cat "$T/cert.pem" "$T/key.pem" >"$T/server.pem"
chmod 644 "$T/server.pem"
LP=$(free_port) || die "no free port"
LS=$(free_port) || die "no free port"
{
    lighttpd_conf "$LP" "$CONF" "$T/run" "$T/log/lighttpd-" mod_setenv mod_openssl
    cat <<EOF
mimetype.assign      += ( ".txt" => "text/plain" )
\$SERVER["socket"] == "127.0.0.1:$LS" {
    ssl.engine  = "enable"
    ssl.pemfile = "$T/server.pem"
}
# Per-location requirements: bouncer reads BOUNCER_REQUIRE from the
# environment lighttpd hands the authorizer.
\$HTTP["url"] =~ "^/app/loc/" {
    setenv.add-environment = ( "BOUNCER_REQUIRE" => "$REQ_LOC" )
}
EOF
} >"$T/lighttpd.conf"
start_lighttpd -t "lighttpd accepts the config" -q "$T/lighttpd.conf" "$LP"
if wait_port "$LS" 5; then
    pass "lighttpd listens on $LP (http) and $LS (https)"
else
    die "lighttpd did not listen on $LS (https)" "$(cat "$T/log/lighttpd-error.log" 2>/dev/null)"
fi
run_table lighttpd "http://127.0.0.1:$LP" 0

# Over TLS the https rule holds.
http "https://127.0.0.1:$LS/app/tls/" -k -u "alice:$ALICE_PW"
check_eq "lighttpd https: /app/tls/ as alice: 200" 200 "$S"
check_contains "lighttpd https: the page" "$B" TLS-PAGE
http "https://127.0.0.1:$LS/app/tls/" -k
check_eq "lighttpd https: /app/tls/ anonymous: 401" 401 "$S"
http "https://127.0.0.1:$LS/app/admin/secret.txt" -k -u "alice:$ALICE_PW"
check_eq "lighttpd https: /app/admin/ as alice: still 403" 403 "$S"
check_file_contains "lighttpd: decisions name the server's rule" \
    "$T/log/lighttpd-bouncer.log" "(from the server)"

# =========================================================================
# Apache: mod_authnz_fcgi (daemon) and mod_fcgid
# =========================================================================
# rules_apache_conf NAME PORT: the common part of an instance's config.
rules_apache_conf() {
    apache_conf "$1" "$2" -env -alias
    cat <<EOF
# Per-location requirements: SetEnvIf runs before authentication, so the
# authorizer sees it (SetEnv runs too late: web-servers.md 2).
<Location /app/loc/>
    SetEnvIf Request_URI "." "BOUNCER_REQUIRE=$REQ_LOC"
</Location>
EOF
}

note "--- Apache mod_authnz_fcgi ---"
BP=$(free_port) || die "no free port"
start_bouncer_daemon "$BP" "$T/log/bouncer-daemon.log" --threads 2 ||
    die "bouncer --listen did not start" "$(cat "$T/log/bouncer-daemon.log")"
P2=$(free_port) || die "no free port"
{
    rules_apache_conf authnz "$P2"
    apache_authnz_snippet "127.0.0.1:$BP"
    cat <<EOF
# An anonymous path under the prefix: mod_authnz_fcgi cannot grant without a
# user, so Apache opens it itself (the rule "/app/pub/ = anonymous" agrees).
<Location /app/pub/>
    Require all granted
</Location>
EOF
} >"$T/authnz.conf"
start_apache authnz "$P2"
run_table authnz "http://127.0.0.1:$P2" 0
check_file_contains "authnz: decisions name the server's rule" \
    "$T/log/bouncer-daemon.log" "(from the server)"

# Straight to the daemon over FastCGI: what a server may send as
# BOUNCER_REQUIRE. Empty is "not set" (nginx sends "" for a location that
# set nothing); a value that does not parse is a 500 that says why.
direct() { # URI PARAM...
    local uri=$1
    shift
    "$BIN_FCGI" --connect "127.0.0.1:$BP" --role authorizer --timeout 10 \
        -p REQUEST_METHOD=GET -p "REQUEST_URI=$uri" -p REMOTE_ADDR=127.0.0.1 \
        -p SERVER_NAME=localhost -p HTTP_HOST=localhost "$@" 2>/dev/null | tr -d '\r'
}
out=$(direct /app/pub/ -p BOUNCER_REQUIRE=)
check_line "direct: empty BOUNCER_REQUIRE = the file's rules (anonymous /app/pub/)" "$out" '^Status: 200.*'
out=$(direct /app/pub/ -p "BOUNCER_REQUIRE=group:admin")
check_line "direct: BOUNCER_REQUIRE=group:admin replaces the file's rule" "$out" '^Status: 401.*'
out=$(direct /app/pub/ -p "BOUNCER_REQUIRE=group:")
check_line "direct: a bad BOUNCER_REQUIRE: 500" "$out" '^Status: 500.*'
check_contains "direct: a bad BOUNCER_REQUIRE: says so" "$out" '"code": "server_misconfigured"'
check_file_contains "direct: a bad BOUNCER_REQUIRE: the log says why" \
    "$T/log/bouncer-daemon.log" "BOUNCER_REQUIRE: group: expected group:NAME[,NAME]"
out=$(direct /app/admin/ -p HTTP_BOUNCER_REQUIRE=anonymous)
check_line "direct: HTTP_BOUNCER_REQUIRE (a client header) is ignored" "$out" '^Status: 401.*'

note "--- Apache mod_fcgid ---"
P1=$(free_port) || die "no free port"
{
    rules_apache_conf fcgid "$P1"
    apache_fcgid_snippet fcgid "$CONF" BOUNCER_NO_AUTH_API
} >"$T/fcgid.conf"
start_apache fcgid "$P1"
run_table fcgid "http://127.0.0.1:$P1" 1
check_file_contains "fcgid: decisions name the server's rule" \
    "$T/log/fcgid-error.log" "(from the server)"

bnc_finish
