#!/bin/bash
# SPDX-License-Identifier: MIT
# JWT issuance (issue 5) through the real binary behind real servers:
# lighttpd with the shipped lighttpd/bouncer.conf (authorizer on /app/) and
# lighttpd/bouncer-auth.conf (responder on /auth/), then Apache + mod_fcgid
# with the shipped apache/bouncer-fcgid.conf (access checker on /app,
# responder on /auth/), then Apache + mod_authnz_fcgi with the shipped
# apache/bouncer-authnz.conf (a bouncer daemon, /auth/ through
# mod_proxy_fcgi), all protecting examples/env.cgi, with an ES256 key.
#
# curl obtains a pair at POST /auth/token (JSON and form), uses the access
# token on /app/ (the CGI sees REMOTE_USER, AUTH_TYPE=JWT and the jti),
# refreshes with rotation (the rotated-out refresh token presented again
# revokes its family: reuse detection), verifies, revokes; the JWKS fetched
# from /auth/jwks.json lets PyJWT verify the tokens; bad bodies get
# simplejwt's 400/401 answers. `bouncerctl user logout-all` kills access
# tokens, refresh tokens and sessions but not API tokens, `--tokens` those
# too; a password change kills the JWTs.
#
# Then straight over FastCGI (bouncer --listen): EdDSA and RS256 tokens
# verified by PyJWT with the JWKS, HS256 tokens by PyJWT and by simplejwt's
# JWTAuthentication sharing the secret file, and refresh without rotation.
# No password or token ever reaches a log.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd apache2 curl openssl
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
    skip_all "mod_fcgid not installed (run scripts/deps.sh)"
need_built "$BIN_BOUNCER" "$BIN_CTL" "$BIN_FCGI"
bnc_init jwt_issue

PEER="$top_srcdir/tests/integration/jwt_issue_peer.py"
REALM="bouncer-jwt"
ISS="https://bouncer.test"
AUD="api"
STORE="$T/store"
KEYS="$T/keys"
rpw() { printf '%s-%s' "$1" "$(head -c 12 /dev/urandom | base64 | tr -d '+/=')"; }
ALICE_PW=$(rpw al)
CAROL_PW=$(rpw ca)
SECRETS=("$ALICE_PW" "$CAROL_PW")   # none may reach a log; tokens are added
SECRETS_ARE="password or token"

# ---- store, users, keys, configs -------------------------------------------
make_store "$STORE" || bnc_finish
add_user "$STORE" alice "$ALICE_PW" --group staff --email alice@example.org \
    --name "Alice Jwt" || bnc_finish
add_user "$STORE" carol "$CAROL_PW" || bnc_finish
ALICE_ID=$(ctl "$STORE" user show alice --json | /usr/bin/python3 -c \
    'import json, sys; print(json.load(sys.stdin)["id"])')

mkdir -p "$KEYS"
chmod 755 "$KEYS"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -out "$KEYS/es256.pem" 2>/dev/null || die "openssl: EC key"
openssl genpkey -algorithm ed25519 -out "$KEYS/eddsa.pem" 2>/dev/null ||
    die "openssl: Ed25519 key"
openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 \
    -out "$KEYS/rs256.pem" 2>/dev/null || die "openssl: RSA key"
head -c 48 /dev/urandom | base64 -w0 | tr '+/' '-_' >"$KEYS/hs256.key"
printf '\n' >>"$KEYS/hs256.key"
chown "$WWW_USER" "$KEYS"/*
chmod 600 "$KEYS"/*

# write_conf FILE ALG KEY ROTATE [EXTRA-JWT-LINES...]
write_conf() {
    local file=$1 alg=$2 key=$3 rotate=$4 line
    shift 4
    {
        printf '[store]\npath = %s\n\n' "$STORE"
        printf '[auth]\nschemes = session, token, jwt, basic\nrealm = %s\n\n' "$REALM"
        printf '[jwt]\nalgorithm = %s\nsigning_key = %s\nrotate_refresh = %s\n' \
            "$alg" "$key" "$rotate"
        printf 'extra_claims = groups, email, name\n'
        for line in "$@"; do
            printf '%s\n' "$line"
        done
        # Every client here is 127.0.0.1, and the cases fail many
        # credentials on purpose: the network must not get banned. The
        # throttle itself is checked over FastCGI with another address.
        printf '\n[throttle]\ntrusted = 127.0.0.0/8\n'
        printf '\n[rules]\n/auth/ = anonymous\n/app/ = authenticated\n'
    } >"$file"
    chmod 644 "$file"
    if out=$("$BIN_BOUNCER" -c "$file" --check-config 2>&1); then
        pass "bouncer --check-config accepts $(basename "$file")"
    else
        die "bouncer --check-config refuses $(basename "$file")" "$out" "$(cat "$file")"
    fi
}
CONF="$T/es256.conf"
write_conf "$CONF" ES256 "$KEYS/es256.pem" yes "issuer = $ISS" "audience = $AUD"

www_cgi app

# ---- helpers -----------------------------------------------------------------
SRV=
URL=

# jq_py EXPR: evaluates a Python expression over d = the JSON in $B.
jq_py() {
    printf '%s' "$B" | /usr/bin/python3 -c 'import json, sys
try:
    d = json.load(sys.stdin)
except Exception:
    d = None
try:
    v = eval(sys.argv[1])
except Exception:
    v = None
print("" if v is None else v, end="")' "$1"
}

# json_body KEY VALUE [KEY VALUE...]: a JSON object of strings.
json_body() {
    /usr/bin/python3 -c 'import json, sys
a = sys.argv[1:]
print(json.dumps(dict(zip(a[::2], a[1::2]))), end="")' "$@"
}

# post PATH JSON [curl args]
post() {
    local path=$1 body=$2
    shift 2
    http "$URL$path" -H "Content-Type: application/json" \
        -H "Accept: application/json" --data-binary "$body" "$@"
}

# obtain WHAT USER PASSWORD: sets ACC and REF, or records a failure.
ACC=
REF=
obtain() {
    post /auth/token "$(json_body username "$2" password "$3")"
    ACC=$(json_field access)
    REF=$(json_field refresh)
    if [ "$S" = 200 ] && [ -n "$ACC" ] && [ -n "$REF" ]; then
        SECRETS+=("$ACC" "$REF")
        return 0
    fi
    fail "$1: POST /auth/token for $2 gives 200 and a pair" "status $S" \
        "body: $(_bnc_show "$B")"
    return 1
}

# claim TOKEN NAME: a claim of TOKEN's payload (no verification: for
# comparing what PyJWT verified with what the CGI saw).
claim() {
    /usr/bin/python3 -c 'import base64, json, sys
p = sys.argv[1].split(".")[1]
p += "=" * (-len(p) % 4)
v = json.loads(base64.urlsafe_b64decode(p)).get(sys.argv[2])
print("" if v is None else json.dumps(v) if not isinstance(v, str) else v, end="")' "$1" "$2"
}

# app WHAT AUTH-HEADER WANT [USER]: GET /app/ with that Authorization.
app() {
    local what=$1 auth=$2 want=$3 user=${4:-}
    http "$URL/app/" -H "Authorization: $auth" -H "Accept: application/json"
    check_eq "$what: status" "$want" "$S"
    if [ "$want" = 200 ] && [ -n "$user" ]; then
        check_line "$what: the CGI sees REMOTE_USER=$user" "$B" "^REMOTE_USER=$user\$"
    fi
}

# flip TOKEN: TOKEN with its tenth-last character changed (in the signature).
flip() {
    local t=$1 c
    c=${t: -10:1}
    [ "$c" = A ] && c=B || c=A
    printf '%s%s%s' "${t:0:${#t}-10}" "$c" "${t: -9}"
}

# A 401 of a token view: simplejwt's code and a Bearer challenge.
token_401() { # WHAT CODE [DETAIL]
    check_eq "$1: status" 401 "$S"
    check_eq "$1: code" "$2" "$(json_field code)"
    [ -n "${3:-}" ] && check_eq "$1: detail" "$3" "$(json_field detail)"
    check_match "$1: Bearer challenge" "$(header WWW-Authenticate)" "^Bearer realm=\"$REALM\""
}

server_cases() {
    local p=$SRV acc0 ref0 acc2 ref2 jti sid key
    note "--- $p: obtain, use, JWKS ---"
    obtain "$p" alice "$ALICE_PW" || return
    acc0=$ACC
    ref0=$REF
    check_eq "$p: access token_type" access "$(claim "$ACC" token_type)"
    check_eq "$p: refresh token_type" refresh "$(claim "$REF" token_type)"
    check_eq "$p: user_id is alice's id (a number, as simplejwt 5.2)" "$ALICE_ID" "$(claim "$ACC" user_id)"
    check_match "$p: jti is 32 hex digits" "$(claim "$ACC" jti)" '^[0-9a-f]{32}$'
    check_eq "$p: access lives access_lifetime (5m)" 300 \
        "$(( $(claim "$ACC" exp) - $(claim "$ACC" iat) ))"
    check_eq "$p: refresh lives refresh_lifetime (1d)" 86400 \
        "$(( $(claim "$REF" exp) - $(claim "$REF" iat) ))"
    check_match "$p: refresh token carries its family" "$(claim "$REF" fam)" '^[0-9a-f]{32}$'
    check_eq "$p: access token carries no family" "" "$(claim "$ACC" fam)"
    check_eq "$p: extra claim groups" '["staff"]' "$(claim "$ACC" groups)"
    check_eq "$p: extra claim email" alice@example.org "$(claim "$ACC" email)"
    check_eq "$p: extra claim name" "Alice Jwt" "$(claim "$ACC" name)"
    check_eq "$p: iss" "$ISS" "$(claim "$ACC" iss)"
    check_eq "$p: aud" "$AUD" "$(claim "$ACC" aud)"
    check_eq "$p: pair answer is no-store" no-store "$(header Cache-Control)"

    http "$URL/auth/jwks.json"
    check_eq "$p: GET /auth/jwks.json" 200 "$S"
    printf '%s' "$B" >"$T/jwks-$p.json"
    check_eq "$p: JWKS holds one ES256 key" "ES256" "$(jq_py 'd["keys"][0]["alg"] if len(d["keys"]) == 1 else None')"
    check_eq "$p: JWKS publishes no private part" "" "$(jq_py 'd["keys"][0].get("d")')"
    if out=$(/usr/bin/python3 "$PEER" jwks "$T/jwks-$p.json" "$ACC" ES256 2>&1); then
        pass "$p: PyJWT verifies the access token with the fetched JWKS"
        check_contains "$p: PyJWT sees the jti" "$out" "\"jti\": \"$(claim "$ACC" jti)\""
    else
        fail "$p: PyJWT verifies the access token with the fetched JWKS" "$out"
    fi
    # A character inside the signature (the last one may only carry
    # padding bits, which base64 decoders ignore).
    if /usr/bin/python3 "$PEER" jwks "$T/jwks-$p.json" "$(flip "$ACC")" ES256 >/dev/null 2>&1; then
        fail "$p: PyJWT refuses a token with a changed signature"
    else
        pass "$p: PyJWT refuses a token with a changed signature"
    fi

    app "$p: GET /app/ with the access token" "Bearer $ACC" 200 alice
    check_line "$p: AUTH_TYPE=JWT" "$B" '^AUTH_TYPE=JWT$'
    check_line "$p: AUTH_CREDENTIAL_ID is the jti" "$B" "^AUTH_CREDENTIAL_ID=$(claim "$ACC" jti)\$"
    check_line "$p: AUTH_USER_ID" "$B" "^AUTH_USER_ID=$ALICE_ID\$"
    app "$p: GET /app/ with the refresh token (wrong type)" "Bearer $REF" 401
    app "$p: GET /app/ with a changed signature" "Bearer $(flip "$ACC")" 401

    note "--- $p: bad requests ---"
    post /auth/token "$(json_body username alice password wrong)"
    token_401 "$p: wrong password" no_active_account \
        "No active account found with the given credentials"
    post /auth/token "$(json_body username nosuch password wrong)"
    token_401 "$p: unknown user" no_active_account
    post /auth/token "$(json_body username alice)"
    check_eq "$p: no password: 400" 400 "$S"
    check_eq "$p: no password: DRF field error" "This field is required." "$(jq_py 'd["password"][0]')"
    post /auth/token/refresh '{}'
    check_eq "$p: refresh without a token: 400" 400 "$S"
    check_eq "$p: refresh without a token: DRF field error" "This field is required." "$(jq_py 'd["refresh"][0]')"
    post /auth/token/refresh '{"refresh": 42}'
    check_eq "$p: refresh with a number: 400" 400 "$S"
    post /auth/token/refresh '["refresh"]'
    check_eq "$p: a JSON array body: 400" 400 "$S"
    head -c 20000 /dev/zero | tr '\0' 'a' >"$T/big"
    http "$URL/auth/token" --data-urlencode "username@$T/big" --data-urlencode "password=x"
    check_eq "$p: a body over the limit: 413" 413 "$S"
    http "$URL/auth/token" -H "Content-Type: text/plain" --data-binary "username=alice"
    check_eq "$p: another media type: 415" 415 "$S"
    http "$URL/auth/token"
    check_eq "$p: GET /auth/token: 405" 405 "$S"
    check_eq "$p: GET /auth/token: Allow" POST "$(header Allow)"
    post /auth/token/refresh "$(json_body refresh "not.a.jwt")"
    token_401 "$p: refresh with garbage" token_not_valid "Token is invalid or expired"
    check_match "$p: token error challenge says invalid_token" "$(header WWW-Authenticate)" 'error="invalid_token"'
    post /auth/token/refresh "$(json_body refresh "$ACC")"
    token_401 "$p: refresh with an access token" token_not_valid

    note "--- $p: form obtain, verify ---"
    http "$URL/auth/token" --data-urlencode "username=alice" \
        --data-urlencode "password=$ALICE_PW"
    check_eq "$p: form-encoded obtain" 200 "$S"
    [ -n "$(json_field access)" ] && SECRETS+=("$(json_field access)" "$(json_field refresh)")
    post /auth/token/verify "$(json_body token "$ACC")"
    check_eq "$p: verify the access token" "200 {}" "$S $B"
    post /auth/token/verify "$(json_body token "$REF")"
    check_eq "$p: verify the refresh token" "200 {}" "$S $B"
    post /auth/token/verify "$(json_body token "$(flip "$ACC")")"
    token_401 "$p: verify a changed signature" token_not_valid

    note "--- $p: refresh with rotation, reuse detection ---"
    post /auth/token/refresh "$(json_body refresh "$REF")"
    check_eq "$p: refresh" 200 "$S"
    acc2=$(json_field access)
    ref2=$(json_field refresh)
    SECRETS+=("$acc2" "$ref2")
    check_ne "$p: rotation gives a new refresh token" "" "$ref2"
    check_ne "$p: the new refresh token is another one" "$REF" "$ref2"
    check_eq "$p: the new refresh token keeps the family" "$(claim "$REF" fam)" "$(claim "$ref2" fam)"
    app "$p: the refreshed access token works" "Bearer $acc2" 200 alice
    post /auth/token/verify "$(json_body token "$REF")"
    check_eq "$p: verify the rotated-out refresh token: 400 blacklisted" \
        "400 Token is blacklisted" "$S $(jq_py 'd["non_field_errors"][0]')"
    post /auth/token/refresh "$(json_body refresh "$REF")"
    token_401 "$p: the rotated-out refresh token again (reuse)" token_not_valid "Token is blacklisted"
    post /auth/token/refresh "$(json_body refresh "$ref2")"
    token_401 "$p: after reuse the whole family is revoked (newest token too)" token_not_valid
    app "$p: access tokens already issued live on until exp" "Bearer $acc2" 200 alice

    note "--- $p: revoke ---"
    obtain "$p" alice "$ALICE_PW" || return
    post /auth/token/revoke "$(json_body refresh "$REF")"
    check_eq "$p: revoke (simplejwt's blacklist answer)" "200 {}" "$S $B"
    post /auth/token/refresh "$(json_body refresh "$REF")"
    token_401 "$p: refresh with a revoked token" token_not_valid "Token is blacklisted"
    post /auth/token/revoke "$(json_body refresh "$ACC")"
    token_401 "$p: revoke with an access token" token_not_valid

    note "--- $p: logout-all ---"
    # Credentials are stamped in whole seconds: start at a fresh one, so
    # the pair, the session and the key below are (almost always) issued
    # in the second of the logout-all, which must void them all the same.
    t=$(date +%s)
    while [ "$(date +%s)" -le "$t" ]; do sleep 0.05; done
    obtain "$p" alice "$ALICE_PW" || return
    acc0=$ACC
    ref0=$REF
    post /auth/login "$(json_body username alice password "$ALICE_PW")" -c "$T/jar-$p"
    check_eq "$p: session login" 200 "$S"
    sid=$(awk '$6 == "sessionid" { print $7 }' "$T/jar-$p")
    SECRETS+=("$sid")
    token_create "$STORE" alice --label "jwt-$p" || return
    key=$TOKEN_KEY
    SECRETS+=("$key")
    app "$p: before logout-all: access token" "Bearer $acc0" 200 alice
    app "$p: before logout-all: API token" "Token $key" 200 alice
    http "$URL/app/" -b "sessionid=$sid" -H "Accept: application/json"
    check_eq "$p: before logout-all: session" 200 "$S"
    out=$(ctl "$STORE" user logout-all alice 2>&1)
    check_match "$p: bouncerctl user logout-all alice" "$out" 'logged out everywhere'
    app "$p: after logout-all: access token refused" "Bearer $acc0" 401
    post /auth/token/refresh "$(json_body refresh "$ref0")"
    token_401 "$p: after logout-all: refresh refused" token_not_valid
    http "$URL/app/" -b "sessionid=$sid" -H "Accept: application/json"
    check_eq "$p: after logout-all: session refused" 401 "$S"
    app "$p: after logout-all: API token kept (DRF tokens outlive logins)" "Token $key" 200 alice
    out=$(ctl "$STORE" user logout-all alice --tokens 2>&1)
    check_match "$p: bouncerctl user logout-all alice --tokens" "$out" 'API tokens too'
    app "$p: after logout-all --tokens: API token refused" "Token $key" 401
    token_create "$STORE" alice --label "jwt2-$p" || return
    SECRETS+=("$TOKEN_KEY")
    app "$p: an API token made right after logout-all --tokens works" "Token $TOKEN_KEY" 200 alice
    # bouncerctl returned after the stamped second: what is issued now is
    # valid, without waiting.
    obtain "$p" alice "$ALICE_PW" || return
    app "$p: a pair obtained right after logout-all works" "Bearer $ACC" 200 alice
    post /auth/login "$(json_body username alice password "$ALICE_PW")" -c "$T/jar2-$p"
    sid=$(awk '$6 == "sessionid" { print $7 }' "$T/jar2-$p")
    SECRETS+=("$sid")
    http "$URL/app/" -b "sessionid=$sid" -H "Accept: application/json"
    check_eq "$p: a session started right after logout-all works" 200 "$S"

    note "--- $p: password change ---"
    obtain "$p" carol "$CAROL_PW" || return
    acc0=$ACC
    ref0=$REF
    app "$p: carol's access token" "Bearer $acc0" 200 carol
    CAROL_PW=$(rpw ca)
    SECRETS+=("$CAROL_PW")
    out=$(printf '%s\n' "$CAROL_PW" | ctl "$STORE" user passwd carol --password-stdin 2>&1)
    check_match "$p: bouncerctl user passwd carol" "$out" 'changed'
    app "$p: after a password change: access token refused" "Bearer $acc0" 401
    post /auth/token/refresh "$(json_body refresh "$ref0")"
    token_401 "$p: after a password change: refresh refused" token_not_valid
    obtain "$p" carol "$CAROL_PW" || return
    app "$p: a pair obtained with the new password works" "Bearer $ACC" 200 carol
}

# ---- lighttpd ------------------------------------------------------------
note "--- lighttpd (lighttpd/bouncer.conf + lighttpd/bouncer-auth.conf) ---"
SRV=lighttpd
LD="$T/lighttpd"
LPORT=$(free_port) || die "no free port"
mkdir -p "$LD"
lighttpd_conf "$LPORT" "$CONF" "$LD/run" "$T/log/lighttpd-" \
    bouncer.conf bouncer-auth.conf >"$LD/lighttpd.conf"
start_lighttpd -q "$LD/lighttpd.conf" "$LPORT"
wait_sock "$LD/run/bouncer-auth.sock-0" 5 ||
    fail "lighttpd spawned the /auth/ responder" "$(ls -l "$LD/run")"
server_cases
bp=$(pgrep -P "$LPID" | tr '\n' ' ')
bnc_stop_pid "$LPID" 10
check_eq "lighttpd: bouncer processes exited with lighttpd" "" "$(wait_pids_gone 10 $bp)"
no_leaks "$T/log/lighttpd-bouncer.log" "lighttpd decision log"
check_file_contains "lighttpd: the decision log shows the issue" \
    "$T/log/lighttpd-bouncer.log" "uri=/auth/token"
check_file_contains "lighttpd: the decision log names the reuse" \
    "$T/log/lighttpd-bouncer.log" "reused"
no_leaks "$T/log/lighttpd-access.log" "lighttpd access log"

# ---- Apache: mod_fcgid, then mod_authnz_fcgi -------------------------------
# run_apache NAME PORT: starts $T/NAME.conf, runs the cases, stops it.
run_apache() {
    start_apache -q "$1" "$2"
    server_cases
    stop_apache -q "$1" "$2"
    no_leaks "$T/log/$1-access.log" "$1 access log"
}

note "--- Apache mod_fcgid (apache/bouncer-fcgid.conf) ---"
SRV=fcgid
APORT=$(free_port) || die "no free port"
{
    apache_conf fcgid "$APORT" +authn_core -setenvif
    apache_fcgid_snippet fcgid "$CONF"
} >"$T/fcgid.conf"
run_apache fcgid "$APORT"
no_leaks "$T/log/fcgid-error.log" "mod_fcgid error log (bouncer's decision log)"
check_file_contains "fcgid: the decision log shows the issue" \
    "$T/log/fcgid-error.log" "uri=/auth/token"

# mod_authnz_fcgi asks a bouncer daemon about /app (the shipped
# apache/bouncer-authnz.conf); mod_proxy_fcgi sends /auth/ to the same
# daemon, which answers it in the Responder role.
note "--- Apache mod_authnz_fcgi (apache/bouncer-authnz.conf) + mod_proxy_fcgi ---"
SRV=authnz
BP=$(free_port) || die "no free port"
start_bouncer_daemon "$BP" "$T/log/authnz-daemon.log" --threads 4 ||
    die "bouncer --listen did not start" "$(cat "$T/log/authnz-daemon.log")"
APORT=$(free_port) || die "no free port"
{
    apache_conf authnz "$APORT" +authn_core -setenvif
    cat <<EOF
LoadModule proxy_module $MODS/mod_proxy.so
LoadModule proxy_fcgi_module $MODS/mod_proxy_fcgi.so
ProxyPass /auth/ fcgi://127.0.0.1:$BP/auth/
EOF
    apache_authnz_snippet "127.0.0.1:$BP"
} >"$T/authnz.conf"
run_apache authnz "$APORT"
bnc_stop_pid "$DPID" 10
no_leaks "$T/log/authnz-daemon.log" "authnz daemon decision log"
check_file_contains "authnz: the decision log shows the issue" \
    "$T/log/authnz-daemon.log" "uri=/auth/token"

# ---- straight over FastCGI: EdDSA, RS256, HS256, no rotation ---------------
note "--- FastCGI (bouncer --listen): other algorithms, PyJWT and simplejwt ---"
# fcgi_post PATH JSON [METHOD]: one Responder request from $FCGI_ADDR (else
# 127.0.0.1); sets S, H and B.
fcgi_post() {
    local out
    printf '%s' "$2" >"$T/fcgi-body"
    out=$("$BIN_FCGI" --connect "127.0.0.1:$FPORT" --role responder \
        -p REQUEST_METHOD="${3:-POST}" -p REQUEST_URI="$1" -p HTTP_HOST=t \
        -p REMOTE_ADDR="${FCGI_ADDR:-127.0.0.1}" -p CONTENT_TYPE=application/json \
        -p CONTENT_LENGTH="$(wc -c <"$T/fcgi-body")" --stdin "$T/fcgi-body" |
        tr -d '\r')
    S=$(printf '%s\n' "$out" | sed -n 's/^Status: \([0-9]*\).*/\1/p' | head -n 1)
    B=$(printf '%s\n' "$out" | sed '1,/^$/d')
    H=$(printf '%s\n' "$out" | sed '/^$/q')
}
# direct NAME ALG KEY ROTATE: starts bouncer on its own config; sets FPID.
FPID=
FPORT=
direct() {
    local name=$1
    write_conf "$T/$name.conf" "$2" "$3" "$4"
    FPORT=$(free_port) || die "no free port"
    "$BIN_BOUNCER" -c "$T/$name.conf" --listen "127.0.0.1:$FPORT" \
        >/dev/null 2>>"$T/log/direct.log" &
    FPID=$!
    bnc_track "$FPID"
    wait_port "$FPORT" 10 || die "bouncer ($name) did not listen" "$(tail -n 5 "$T/log/direct.log")"
}
direct_obtain() { # WHAT
    fcgi_post /auth/token "$(json_body username alice password "$ALICE_PW")"
    ACC=$(json_field access)
    REF=$(json_field refresh)
    SECRETS+=("$ACC" "$REF")
    check_eq "$1: obtain" 200 "$S"
}

for alg in EdDSA RS256; do
    key="$KEYS/$(printf '%s' "$alg" | tr 'A-Z' 'a-z').pem"
    direct "$alg" "$alg" "$key" yes
    direct_obtain "$alg"
    fcgi_post /auth/jwks.json "" GET
    printf '%s' "$B" >"$T/jwks-$alg.json"
    check_eq "$alg: JWKS holds the $alg key" "$alg" "$(jq_py 'd["keys"][0]["alg"]')"
    if out=$(/usr/bin/python3 "$PEER" jwks "$T/jwks-$alg.json" "$ACC" "$alg" 2>&1); then
        pass "$alg: PyJWT verifies the access token with the JWKS"
    else
        fail "$alg: PyJWT verifies the access token with the JWKS" "$out"
    fi
    if /usr/bin/python3 "$PEER" jwks "$T/jwks-$alg.json" "$REF" "$alg" >/dev/null 2>&1; then
        pass "$alg: PyJWT verifies the refresh token with the JWKS"
    else
        fail "$alg: PyJWT verifies the refresh token with the JWKS"
    fi
    if /usr/bin/python3 "$PEER" jwks "$T/jwks-lighttpd.json" "$ACC" "$alg" >/dev/null 2>&1; then
        fail "$alg: PyJWT refuses the token with another server's JWKS"
    else
        pass "$alg: PyJWT refuses the token with another server's JWKS"
    fi
    bnc_stop_pid "$FPID" 5
done

direct HS256 HS256 "$KEYS/hs256.key" no
direct_obtain HS256
check_eq "HS256: header alg" HS256 "$(/usr/bin/python3 -c 'import base64, json, sys
h = sys.argv[1].split(".")[0]; h += "=" * (-len(h) % 4)
print(json.loads(base64.urlsafe_b64decode(h))["alg"], end="")' "$ACC")"
fcgi_post /auth/jwks.json "" GET
check_eq "HS256: the JWKS never publishes the secret" '{"keys":[]}' "$B"
if out=$(/usr/bin/python3 "$PEER" hs "$KEYS/hs256.key" "$ACC" 2>&1); then
    pass "HS256: PyJWT verifies the access token with the secret file"
else
    fail "HS256: PyJWT verifies the access token with the secret file" "$out"
fi
if out=$(/usr/bin/python3 "$PEER" simplejwt "$KEYS/hs256.key" "$ACC" 2>&1); then
    check_eq "HS256: simplejwt's JWTAuthentication accepts it, user_id" "$ALICE_ID" "$out"
else
    fail "HS256: simplejwt's JWTAuthentication accepts the access token" "$out"
fi
if /usr/bin/python3 "$PEER" simplejwt "$KEYS/hs256.key" "$REF" >/dev/null 2>&1; then
    fail "HS256: simplejwt refuses the refresh token as an access token"
else
    pass "HS256: simplejwt refuses the refresh token as an access token"
fi
head -c 48 /dev/urandom | base64 -w0 >"$T/other.key"
if /usr/bin/python3 "$PEER" simplejwt "$T/other.key" "$ACC" >/dev/null 2>&1; then
    fail "HS256: simplejwt refuses the token under another secret"
else
    pass "HS256: simplejwt refuses the token under another secret"
fi
# rotate_refresh = no: the same refresh token serves again, no new one.
fcgi_post /auth/token/refresh "$(json_body refresh "$REF")"
check_eq "no rotation: refresh" 200 "$S"
check_eq "no rotation: no new refresh token" "" "$(json_field refresh)"
acc2=$(json_field access)
SECRETS+=("$acc2")
check_ne "no rotation: a new access token" "" "$acc2"
fcgi_post /auth/token/refresh "$(json_body refresh "$REF")"
check_eq "no rotation: the same refresh token again" 200 "$S"
SECRETS+=("$(json_field access)")
if out=$(/usr/bin/python3 "$PEER" simplejwt "$KEYS/hs256.key" "$acc2" 2>&1); then
    pass "no rotation: simplejwt accepts the refreshed access token"
else
    fail "no rotation: simplejwt accepts the refreshed access token" "$out"
fi
fcgi_post /auth/token/revoke "$(json_body refresh "$REF")"
check_eq "no rotation: revoke" "200 {}" "$S $B"
fcgi_post /auth/token/refresh "$(json_body refresh "$REF")"
check_eq "no rotation: a revoked refresh token is refused" 401 "$S"
# The obtain endpoint shares the login's brute-force throttle: from an
# untrusted address, the sixth try for one name is a 429 with Retry-After,
# even with the right password.
FCGI_ADDR=198.51.100.7
for i in 1 2 3 4 5; do
    fcgi_post /auth/token "$(json_body username carol password "wrong-$i")"
done
check_eq "throttle: five wrong passwords" 401 "$S"
fcgi_post /auth/token "$(json_body username carol password "$CAROL_PW")"
check_eq "throttle: the sixth try, right password: 429" 429 "$S"
check_eq "throttle: DRF's code" throttled "$(json_field code)"
check_match "throttle: Retry-After" "$(header Retry-After)" '^[0-9]+$'
check_eq "throttle: no token" "" "$(json_field access)"
FCGI_ADDR=
bnc_stop_pid "$FPID" 5
no_leaks "$T/log/direct.log" "FastCGI decision log"

bnc_finish
