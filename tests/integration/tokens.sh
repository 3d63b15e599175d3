#!/bin/bash
# SPDX-License-Identifier: MIT
# API tokens (issue 3) behind real servers: lighttpd in authorizer mode with
# the shipped lighttpd/bouncer.conf, then Apache + mod_fcgid with the shipped
# apache/bouncer-fcgid.conf, both protecting examples/env.cgi.
#
# Tokens come from bouncerctl token create: valid, scoped, expiring, expired,
# revoked (by id and per user), network-bound, device-bound, of a disabled, a
# deleted and a re-created user; also the X-API-Key header, a battery of
# malformed headers, the ip scheme and X-Forwarded-For from untrusted and
# trusted clients. No key may ever reach a log.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd apache2 curl
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
    skip_all "mod_fcgid not installed (run scripts/deps.sh)"
need_built "$BIN_BOUNCER" "$BIN_CTL"
bnc_init tokens

REALM="bouncer-tokens"
STORE="$T/store"
CONF="$T/bouncer.conf"       # schemes = token, basic; X-API-Key
CONF_IP="$T/ip.conf"         # schemes = token, ip; no trusted proxy
CONF_PX="$T/px.conf"         # schemes = token, ip; 127.0.0.1 is a trusted proxy
ALICE_PW="al-$(head -c 9 /dev/urandom | base64 | tr -d '+/=')"
DEVICE="dev-7f3a-ios"
NOCRED="Invalid token header. No credentials provided."
SPACES="Invalid token header. Token string should not contain spaces."
BADCHAR="Invalid token header. Token string should not contain invalid characters."
INVALID="Invalid token."
INACTIVE="User inactive or deleted."
FORBIDDEN="You do not have permission to perform this action."
NOTPROV="Authentication credentials were not provided."
DEV_MISSING="Device id required for this token."
DEV_WRONG="Device id does not match this token."
KEYS=()     # every key handed out: none may appear in a log

# ---- store, users --------------------------------------------------------
make_store "$STORE" || bnc_finish
add_user "$STORE" alice "$ALICE_PW" --group staff --email alice@example.org \
    --name "Alice Token" || bnc_finish
for u in bob carol dave erin; do
    add_user "$STORE" "$u" "pw-$u-$RANDOM" || bnc_finish
done

# mk VAR USER [token create options]: a new token; its key goes into VAR.
mk() {
    local var=$1
    shift
    token_create "$STORE" "$@" || bnc_finish
    printf -v "$var" '%s' "$TOKEN_KEY"
    KEYS+=("$TOKEN_KEY")
}

# ---- tokens (bouncerctl token create) -------------------------------------
mk K_EXP alice --label exp --expires 1s
T_EXP=$(date +%s)
mk K_MAIN alice --label main --scope read --scope write
mk K_READ alice --label ro --scope read
mk K_FUT alice --label fut --expires 30d --scope read
mk K_REV alice --label rev
mk K_REV2 alice --label rev2
mk K_CBAD alice --label cidr-bad --allow-cidr 192.0.2.0/24
mk K_COK alice --label cidr-ok --allow-cidr 127.0.0.0/8
mk K_DEV alice --label dev --device "$DEVICE"
mk K_BOB bob --label b
mk K_CAROL carol --label c
mk K_DAVE1 dave --label d1
mk K_DAVE2 dave --label d2
mk K_ERIN erin --label e
T_LAST=$(date +%s)
ID_MAIN=$(token_field "$STORE" alice main id)
ID_FUT=$(token_field "$STORE" alice fut id)
ID_REV=$(token_field "$STORE" alice rev id)
ID_REV2=$(token_field "$STORE" alice rev2 id)
EXP_FUT=$(token_field "$STORE" alice fut expires)
check_match "token list --json gives the public id of 'main'" "$ID_MAIN" '^tk_[a-z2-7]{13}$'
ahead=$(( ${EXP_FUT:-0} - T_LAST ))
if [ "$ahead" -ge $((30 * 86400 - 60)) ] && [ "$ahead" -le $((30 * 86400)) ]; then
    pass "token list --json gives the expiry of 'fut' (30 days ahead)"
else
    fail "token list --json gives the expiry of 'fut' (30 days ahead)" \
        "expires=$EXP_FUT, $ahead s after the last create"
fi
check_eq "every key is distinct" "${#KEYS[@]}" \
    "$(printf '%s\n' "${KEYS[@]}" | sort -u | wc -l)"

# What the CLI accepts for --expires: no date in the past.
if out=$(ctl "$STORE" token create alice --quiet --expires 2020-01-01 2>&1); then
    fail "token create --expires 2020-01-01 (past) is refused" "$out"
    KEYS+=("$out")
else
    check_contains "token create --expires 2020-01-01 (past) is refused" "$out" "in the past"
fi

# Listings never show a key.
LIST=$(ctl "$STORE" token list --json 2>&1; ctl "$STORE" token list 2>&1)
leak=""
for k in "${KEYS[@]}"; do
    case "$LIST" in *"$k"*) leak="$leak ${k:0:6}..." ;; esac
done
check_eq "token list (text and --json) shows no key" "" "$leak"

# ---- bouncer configs -----------------------------------------------------
# write_conf FILE SCHEMES EXTRA-SECTIONS RULE...
write_conf() {
    local file=$1 schemes=$2 extra=$3 rule
    shift 3
    {
        printf '[store]\npath = %s\n\n' "$STORE"
        printf '[auth]\nschemes = %s\nrealm = %s\n%s\n' "$schemes" "$REALM" "$extra"
        # The one test client (loopback) sends bad keys on purpose.
        printf '[throttle]\ntrusted = 127.0.0.1, ::1\n\n'
        printf '[rules]\n'
        for rule in "$@"; do
            printf '%s\n' "$rule"
        done
    } >"$file"
    chmod 644 "$file"
}
write_conf "$CONF" "token, basic" \
    "$(printf '\n[token]\nkeyword = Token\nheader = X-API-Key\n')" \
    "/app/write/ = scope:write" \
    "/app/ = authenticated"
write_conf "$CONF_IP" "token, ip" \
    "$(printf '\n[ip]\n127.0.0.1 = healthcheck group:monitoring\n')" \
    "/ipapp/net/ = network:10.0.0.0/8" \
    "/ipapp/mon/ = group:monitoring" \
    "/ipapp/ = authenticated"
write_conf "$CONF_PX" "token, ip" \
    "$(printf 'trusted_proxies = 127.0.0.1/32\n\n[ip]\n127.0.0.1 = healthcheck group:monitoring\n')" \
    "/proxied/tls/ = https" \
    "/proxied/ = network:10.0.0.0/8"
for c in "$CONF" "$CONF_IP" "$CONF_PX"; do
    if out=$("$BIN_BOUNCER" -c "$c" --check-config 2>&1); then
        pass "bouncer --check-config accepts $(basename "$c")"
    else
        fail "bouncer --check-config accepts $(basename "$c")" "$out" "$(cat "$c")"
    fi
done

# ---- document root ---------------------------------------------------------
www_cgi app app/write ipapp ipapp/net ipapp/mon proxied proxied/tls index.html
mkdir -p "$T/run-ip" "$T/run-px"
chown "$WWW_USER:$WWW_GROUP" "$T/run-ip" "$T/run-px"

# ---- helpers ---------------------------------------------------------------
SRV=
URL=

# All WWW-Authenticate values of $H, joined with " | ".
challenges() {
    printf '%s\n' "$H" | awk 'tolower(substr($0, 1, 17)) == "www-authenticate:" {
        v = substr($0, 18); sub(/^[ \t]+/, "", v); out = out (n++ ? " | " : "") v }
        END { printf "%s", out }'
}

no_variable_headers() { # WHAT
    if printf '%s\n' "$H" | grep -qi '^variable-'; then
        fail "$1: no Variable-* header reaches the client" \
            "$(printf '%s\n' "$H" | grep -i '^variable-')"
    else
        pass "$1: no Variable-* header reaches the client"
    fi
}

# grant WHAT USER [SCOPES] [ID]: the request in $S/$H/$B was let in as a token.
grant() {
    local what=$1 user=$2 scopes=${3-} id=${4-}
    check_eq "$what: 200" 200 "$S"
    check_line "$what: CGI sees REMOTE_USER=$user" "$B" "REMOTE_USER=$user"
    check_line "$what: CGI sees AUTH_TYPE=Token" "$B" "AUTH_TYPE=Token"
    if [ -n "$id" ]; then
        check_line "$what: CGI sees AUTH_CREDENTIAL_ID=$id" "$B" "AUTH_CREDENTIAL_ID=$id"
    else
        check_line "$what: CGI sees an AUTH_CREDENTIAL_ID" "$B" 'AUTH_CREDENTIAL_ID=tk_[a-z2-7]{13}'
    fi
    if [ -n "$scopes" ]; then
        check_line "$what: CGI sees AUTH_SCOPES=$scopes" "$B" "AUTH_SCOPES=$scopes"
    fi
    no_variable_headers "$what"
}

# deny WHAT STATUS DETAIL [CHALLENGES]: bouncer's answer as the client sees
# it: under lighttpd status, JSON detail and challenge pass unchanged; under
# mod_fcgid every denial is Apache's own 401 page, but our headers pass.
deny() {
    local what=$1 st=$2 detail=$3 ch=${4-Token}
    if [ "$SRV" = lighttpd ]; then
        check_eq "$what: $st" "$st" "$S"
        check_eq "$what: detail \"$detail\"" "$detail" "$(json_field detail)"
    else
        if [ "$st" = 401 ]; then
            check_eq "$what: 401" 401 "$S"
        else
            check_eq "$what: 401 (mod_fcgid turns bouncer's $st into 401)" 401 "$S"
        fi
        check_not_contains "$what: Apache's page, not our JSON (mod_fcgid drops it)" \
            "$B" '"detail"'
    fi
    check_eq "$what: WWW-Authenticate [${ch:-none}]" "$ch" "$(challenges)"
    check_not_contains "$what: CGI did not run" "$B" "REQUEST_URI="
}

tok() { # PATH KEY [curl args]: GET with Authorization: Token KEY
    local path=$1 key=$2
    shift 2
    http "$URL$path" -H "Authorization: Token $key" "$@"
}

# The cases both servers must get right. Revocations and user changes made
# by the lighttpd pass stay in force for the Apache pass (same store).
common_cases() {
    local p=$SRV
    http "$URL/index.html"
    check_eq "$p: / (outside the prefix) is served without credentials" 200 "$S"

    # bouncer sends one WWW-Authenticate per enabled scheme; lighttpd passes
    # both headers, Apache's CGI header parsing merges them into one.
    http "$URL/app/"
    if [ "$SRV" = lighttpd ]; then
        deny "$p: no credentials" 401 "$NOTPROV" \
            "Token | Basic realm=\"$REALM\", charset=\"UTF-8\""
    else
        deny "$p: no credentials" 401 "$NOTPROV" \
            "Token, Basic realm=\"$REALM\", charset=\"UTF-8\""
    fi

    tok /app/ "$K_MAIN"
    grant "$p: valid token" alice "read write" "$ID_MAIN"
    check_line "$p: CGI sees AUTH_GROUPS=staff (the user's groups)" "$B" "AUTH_GROUPS=staff"
    check_line "$p: CGI sees AUTH_EMAIL of the token's user" "$B" "AUTH_EMAIL=alice@example\.org"
    check_not_contains "$p: no AUTH_EXPIRES for a token without expiry" "$B" "AUTH_EXPIRES="
    check_not_contains "$p: the key is not in what the CGI sees" "$B" "$K_MAIN"

    tok /app/ "$K_FUT"
    grant "$p: token expiring in 30 days" alice "read" "$ID_FUT"
    check_line "$p: CGI sees AUTH_EXPIRES=$EXP_FUT" "$B" "AUTH_EXPIRES=$EXP_FUT"

    http "$URL/app/" -H "X-API-Key: $K_MAIN"
    grant "$p: X-API-Key header" alice "read write" "$ID_MAIN"
    http "$URL/app/" -H "X-API-Key: not-a-key-$RANDOM"
    deny "$p: X-API-Key with an unknown key" 401 "$INVALID"

    http "$URL/app/" -u "alice:$ALICE_PW"
    check_eq "$p: Basic still works next to token" 200 "$S"
    check_line "$p: Basic: CGI sees AUTH_TYPE=Basic" "$B" "AUTH_TYPE=Basic"

    # scope rule
    tok /app/write/ "$K_MAIN"
    grant "$p: scope:write with a read+write token" alice "read write"
    tok /app/write/ "$K_READ"
    deny "$p: scope:write with a read-only token" 403 "$FORBIDDEN" ""
    http "$URL/app/write/" -u "alice:$ALICE_PW"
    deny "$p: scope:write with Basic (no scopes)" 403 "$FORBIDDEN" ""

    # expired (created with --expires 1s at setup)
    while [ "$(date +%s)" -le $((T_EXP + 1)) ]; do sleep 0.2; done
    tok /app/ "$K_EXP"
    deny "$p: expired token" 401 "$INVALID"

    # networks
    tok /app/ "$K_CBAD"
    deny "$p: token bound to 192.0.2.0/24, client 127.0.0.1" 401 "$INVALID"
    tok /app/ "$K_COK"
    grant "$p: token bound to 127.0.0.0/8, client 127.0.0.1" alice

    # device binding
    tok /app/ "$K_DEV"
    deny "$p: device-bound token without X-Device-Id" 401 "$DEV_MISSING"
    tok /app/ "$K_DEV" -H "X-Device-Id: other-device"
    deny "$p: device-bound token with the wrong X-Device-Id" 401 "$DEV_WRONG"
    tok /app/ "$K_DEV" -H "X-Device-Id: ${DEVICE}x"
    deny "$p: device-bound token with a longer X-Device-Id" 401 "$DEV_WRONG"
    tok /app/ "$K_DEV" -H "X-Device-Id: $DEVICE"
    grant "$p: device-bound token with the right X-Device-Id" alice

    # unknown key, and one character changed
    tok /app/ "nosuchkey$RANDOM$RANDOM"
    deny "$p: unknown key" 401 "$INVALID"
    tok /app/ "${K_MAIN%?}$(if [ "${K_MAIN: -1}" = A ]; then echo B; else echo A; fi)"
    deny "$p: valid key with its last character changed" 401 "$INVALID"
}

# ---- lighttpd ----------------------------------------------------------------
note "--- lighttpd (lighttpd/bouncer.conf, three prefixes) ---"
SRV=lighttpd
PORT=$(free_port) || die "no free port"
{
    lighttpd_conf "$PORT" "$CONF" "$T/run" "$T/log/"
    cat <<EOF
# The 10 KB key of the malformed battery must reach bouncer (default 8 KB).
server.max-request-field-size = 65536

# lighttpd refuses to assign a variable twice ("Duplicate config
# variable"); := replaces the value for the next include.
var.bouncer_conf       := "$CONF_IP"
var.bouncer_socket_dir := "$T/run-ip"
var.bouncer_prefix     := "/ipapp/"
include "$top_srcdir/lighttpd/bouncer.conf"

var.bouncer_conf       := "$CONF_PX"
var.bouncer_socket_dir := "$T/run-px"
var.bouncer_prefix     := "/proxied/"
include "$top_srcdir/lighttpd/bouncer.conf"
EOF
} >"$T/lighttpd.conf"
start_lighttpd -t "lighttpd accepts the config including lighttpd/bouncer.conf three times" \
    "$T/lighttpd.conf" "$PORT"
for s in run/bouncer.sock-0 run-ip/bouncer.sock-0 run-px/bouncer.sock-0; do
    wait_sock "$T/$s" 5 || fail "lighttpd spawned bouncer ($s)" "$(ls -l "$T/run" "$T/run-ip")"
done
BPIDS=$(pgrep -P "$LPID" -f "$BIN_BOUNCER" | tr '\n' ' ')
note "bouncer pids under lighttpd: $BPIDS"
URL="http://127.0.0.1:$PORT"

# Positive controls for what is revoked or disabled below.
tok /app/ "$K_REV"
grant "lighttpd: token 'rev' works before it is revoked" alice "" "$ID_REV"
tok /app/ "$K_BOB"
grant "lighttpd: bob's token works before bob is disabled" bob
tok /app/ "$K_CAROL"
grant "lighttpd: carol's token works before carol is deleted" carol
tok /app/ "$K_DAVE1"
grant "lighttpd: dave's first token works before revoke --user" dave
tok /app/ "$K_DAVE2"
grant "lighttpd: dave's second token works before revoke --user" dave

if out=$(ctl "$STORE" token revoke "$ID_REV" 2>&1); then
    check_eq "token revoke $ID_REV" "token $ID_REV revoked" "$out"
else
    fail "token revoke $ID_REV" "$out"
fi
if out=$(ctl "$STORE" token revoke --user dave 2>&1); then
    check_eq "token revoke --user dave" "2 tokens of user dave revoked" "$out"
else
    fail "token revoke --user dave" "$out"
fi
out=$(ctl "$STORE" user disable bob 2>&1) || fail "user disable bob" "$out"
out=$(ctl "$STORE" user del carol 2>&1) || fail "user del carol" "$out"
check_eq "token list --json no longer has 'rev'" "" "$(token_field "$STORE" alice rev id)"

tok /app/ "$K_REV"
deny "lighttpd: revoked token (by id)" 401 "$INVALID"
tok /app/ "$K_DAVE1"
deny "lighttpd: dave's first token after revoke --user" 401 "$INVALID"
tok /app/ "$K_DAVE2"
deny "lighttpd: dave's second token after revoke --user" 401 "$INVALID"
tok /app/ "$K_BOB"
deny "lighttpd: token of disabled bob" 401 "$INACTIVE"
# user del drops the user's tokens with it, so the key is simply unknown.
tok /app/ "$K_CAROL"
deny "lighttpd: token of deleted carol" 401 "$INVALID"
check_eq "user del carol removed carol's tokens (token list carol --json)" "[]" \
    "$(ctl "$STORE" token list carol --json 2>/dev/null | tr -d ' \n')"
if out=$(ctl "$STORE" token create bob --quiet 2>&1); then
    fail "token create for disabled bob is refused" "(a key was printed)"
    KEYS+=("$out")
else
    check_contains "token create for disabled bob is refused" "$out" "disabled"
fi

# A user re-created under the same name does not inherit the old tokens.
while [ "$(date +%s)" -le "$T_LAST" ]; do sleep 0.2; done
add_user "$STORE" carol "pw-carol-new" || bnc_finish
tok /app/ "$K_CAROL"
deny "lighttpd: old token of a re-created carol" 401 "$INVALID"

common_cases

# ---- lighttpd: malformed headers (exact DRF messages) ---------------------
LONGKEY=$(head -c 10240 /dev/zero | tr '\0' a)
# header line | expected status | expected detail ("*" = any JSON detail)
CASES=(
    "Authorization: Token|401|$NOCRED"
    "Authorization: Token    |401|$NOCRED"
    "Authorization: token|401|$NOCRED"
    "Authorization: TOKEN|401|$NOCRED"
    "Authorization: Token a b|401|$SPACES"
    "Authorization: Token $K_MAIN $K_MAIN|401|$SPACES"
    "Authorization: Token $K_MAIN	x|401|$SPACES"
    $'Authorization: Token a\x01b|*|*'
    $'Authorization: Token a\x7fb|*|*'
    "Authorization: Token $LONGKEY|401|$INVALID"
    "Authorization: Token kéy|401|$BADCHAR"
    "Authorization: Token ${K_MAIN}é|401|$BADCHAR"
    $'Authorization: Token \xff\xfe|401|'"$BADCHAR"
    "Authorization: Token \"$K_MAIN\"|401|$INVALID"
    "Authorization: Bearer $K_MAIN|401|$NOTPROV"
    "Authorization: Tokenx $K_MAIN|401|$NOTPROV"
    "Authorization: Token,$K_MAIN|401|$NOTPROV"
    "X-API-Key: a b|401|$SPACES"
    "X-API-Key: kéy|401|$BADCHAR"
    "X-API-Key: $LONGKEY|401|$INVALID"
)
n=0
for c in "${CASES[@]}"; do
    want_d=${c##*|}
    rest=${c%|*}
    want_s=${rest##*|}
    hv=${rest%|*}
    n=$((n + 1))
    shown=$(printf '%s' "$hv" | head -c 60 | LC_ALL=C tr -c '[:print:]' '?')
    http "$URL/app/" -H "$hv"
    d=$(json_field detail)
    if [ "$want_s" = "*" ]; then
        # Control characters: lighttpd itself may refuse the request
        # (400, no JSON) before bouncer sees it; any 4xx will do, and when
        # bouncer answered it must be the invalid-characters message.
        if [ "$S" -ge 400 ] && [ "$S" -lt 500 ] &&
            { [ -z "$d" ] || [ "$d" = "$BADCHAR" ]; }; then
            pass "malformed #$n [$shown]: $S${d:+ \"$d\"}${d:- (refused by lighttpd)}"
        else
            fail "malformed #$n [$shown]: 4xx" "status $S, body: $(_bnc_show "$B")"
        fi
    elif [ "$S" = "$want_s" ] && [ "$d" = "$want_d" ]; then
        pass "malformed #$n [$shown]: $S \"$d\""
    else
        fail "malformed #$n [$shown]" "expected: $want_s \"$want_d\"" \
            "actual:   $S \"$d\" $(_bnc_show "$B")"
    fi
done
# Whitespace that DRF's split() tolerates around the key.
http "$URL/app/" -H "Authorization: Token 	$K_MAIN"
check_match "tab between 'Token' and the key: 200 or 4xx, never 5xx (got $S)" "$S" '^(200|4[0-9][0-9])$'
http "$URL/app/" -H "Authorization: token $K_MAIN"
check_eq "lower-case keyword 'token' (DRF compares case-insensitively): 200" 200 "$S"
tok /app/ "$K_MAIN"
check_eq "after the malformed battery a valid token still gets 200" 200 "$S"
for p in $BPIDS; do
    if pid_alive "$p"; then
        pass "bouncer pid $p still alive after the battery"
    else
        fail "bouncer pid $p still alive after the battery"
    fi
done

# ---- lighttpd: ip scheme, X-Forwarded-For ---------------------------------
http "$URL/ipapp/"
check_eq "ip: no credentials from 127.0.0.1: 200" 200 "$S"
check_line "ip: CGI sees REMOTE_USER=healthcheck" "$B" "REMOTE_USER=healthcheck"
check_line "ip: CGI sees AUTH_TYPE=IP" "$B" "AUTH_TYPE=IP"
check_line "ip: CGI sees AUTH_GROUPS=monitoring" "$B" "AUTH_GROUPS=monitoring"
no_variable_headers "ip"
http "$URL/ipapp/mon/"
check_eq "ip: group:monitoring rule grants healthcheck" 200 "$S"
tok /ipapp/ "$K_MAIN"
grant "ip config: a token comes first (schemes = token, ip)" alice "read write" "$ID_MAIN"
tok /ipapp/ "bogus$RANDOM"
deny "ip config: a bad token is denied, not rescued by ip" 401 "$INVALID"
http "$URL/ipapp/net/" -H "X-Forwarded-For: 10.9.9.9"
deny "ip: X-Forwarded-For 10.9.9.9 from untrusted 127.0.0.1 does not satisfy network:10.0.0.0/8" \
    403 "$FORBIDDEN" ""
http "$URL/ipapp/" -H "X-Forwarded-For: 10.9.9.9"
check_line "ip: with X-Forwarded-For the client is still 127.0.0.1 (healthcheck)" "$B" \
    "REMOTE_USER=healthcheck"
# Positive control: the same header from a trusted proxy is believed.
http "$URL/proxied/" -H "X-Forwarded-For: 10.9.9.9"
check_eq "trusted proxy 127.0.0.1: X-Forwarded-For 10.9.9.9 satisfies network:10.0.0.0/8" 200 "$S"
check_not_contains "trusted proxy: client 10.9.9.9 is not the [ip] healthcheck" "$B" \
    "REMOTE_USER=healthcheck"
http "$URL/proxied/" -H "X-Forwarded-For: 10.9.9.9, 127.0.0.1"
check_eq "trusted proxy: trusted hops are skipped from the right (10.9.9.9, 127.0.0.1): 200" 200 "$S"
http "$URL/proxied/" -H "X-Forwarded-For: 10.9.9.9, 192.0.2.7"
deny "trusted proxy: a forged left hop behind an untrusted one is not believed" 403 "$FORBIDDEN" ""
http "$URL/proxied/"
deny "trusted proxy: no X-Forwarded-For, client 127.0.0.1 outside 10.0.0.0/8" 403 "$FORBIDDEN" ""
# lighttpd passes the client's "X_Forwarded_For" as HTTP_X_FORWARDED_FOR
# too, in arrival order: a forged copy ahead of the proxy's must not win.
http "$URL/proxied/" -H "X_Forwarded_For: 10.1.2.3" -H "X-Forwarded-For: 192.0.2.7"
deny "trusted proxy: X_Forwarded_For 10.1.2.3 ahead of X-Forwarded-For 192.0.2.7: client unknown" \
    403 "$FORBIDDEN" ""
http "$URL/proxied/" -H "X-Forwarded-For: 192.0.2.7" -H "X_Forwarded_For: 10.1.2.3"
deny "trusted proxy: X_Forwarded_For 10.1.2.3 after X-Forwarded-For 192.0.2.7: client unknown" \
    403 "$FORBIDDEN" ""
http "$URL/proxied/" -H "X-Forwarded-For: 10.9.9.9" -H "X_Forwarded_For: 10.9.9.9"
check_eq "trusted proxy: two equal copies say one thing: 200" 200 "$S"
# The same for X-Forwarded-Proto: a client's "X_Forwarded_Proto: https"
# next to the proxy's "http" must not make the request https.
http "$URL/proxied/tls/" -H "X-Forwarded-Proto: https"
check_eq "trusted proxy: X-Forwarded-Proto https satisfies an https rule" 200 "$S"
http "$URL/proxied/tls/" -H "X_Forwarded_Proto: https" -H "X-Forwarded-Proto: http"
check_eq "trusted proxy: X_Forwarded_Proto https ahead of X-Forwarded-Proto http: not https" 403 "$S"
check_eq "trusted proxy: ... code https_required" https_required "$(json_field code)"
http "$URL/proxied/tls/" -H "X-Forwarded-Proto: http" -H "X_Forwarded_Proto: https"
check_eq "trusted proxy: X_Forwarded_Proto https after X-Forwarded-Proto http: not https" 403 "$S"

# ---- lighttpd: logs -------------------------------------------------------
ELOG="$T/log/bouncer.log"
check_file_contains "decision log names token $ID_MAIN" "$ELOG" "$ID_MAIN"
check_file_contains "decision log names user healthcheck" "$ELOG" "healthcheck"
leak=""
for k in "${KEYS[@]}" "$LONGKEY"; do
    grep -Fq -- "$k" "$ELOG" && leak="$leak ${k:0:6}..."
done
check_eq "decision log contains none of the ${#KEYS[@]} keys" "" "$leak"
check_file_not_contains "decision log: no crash" "$ELOG" "Segmentation"
bnc_stop_pid "$LPID" 10
if wait_gone "$PORT" 5; then
    pass "lighttpd stopped"
else
    fail "lighttpd stopped"
fi
check_eq "bouncer processes exited with lighttpd" "" "$(wait_pids_gone 10 $BPIDS)"
if grep -Eq '^127\.0\.0\.1 alice "GET /app/ HTTP/1\.1" 200$' "$T/log/access.log"; then
    pass "lighttpd access log %u shows alice for a token request"
else
    fail "lighttpd access log %u shows alice for a token request" "$(tail -n 5 "$T/log/access.log")"
fi

# ---- Apache + mod_fcgid ------------------------------------------------------
note "--- Apache mod_fcgid (apache/bouncer-fcgid.conf) ---"
SRV=fcgid
if [ "${#CONF}" -ge 128 ]; then
    die "config path too long for FcgidInitialEnv (< 128 bytes): $CONF"
fi
AP=$(free_port) || die "no free port"
{
    apache_conf apache "$AP"
    apache_fcgid_snippet apache "$CONF"
} >"$T/apache.conf"
start_apache -t apache "$AP"

common_cases

# A revocation takes effect at once in processes that already run.
tok /app/ "$K_REV2"
grant "fcgid: token 'rev2' works before it is revoked" alice "" "$ID_REV2"
out=$(ctl "$STORE" token revoke "$ID_REV2" 2>&1) || fail "token revoke $ID_REV2" "$out"
tok /app/ "$K_REV2"
deny "fcgid: token 'rev2' right after its revocation" 401 "$INVALID"
tok /app/ "$K_REV"
deny "fcgid: revoked token" 401 "$INVALID"
tok /app/ "$K_DAVE1"
deny "fcgid: token revoked with --user" 401 "$INVALID"
tok /app/ "$K_ERIN"
grant "fcgid: erin's token works before erin is disabled" erin
out=$(ctl "$STORE" user disable erin 2>&1) || fail "user disable erin" "$out"
tok /app/ "$K_ERIN"
deny "fcgid: erin's token right after user disable" 401 "$INACTIVE"
tok /app/ "$K_BOB"
deny "fcgid: token of disabled bob" 401 "$INACTIVE"
tok /app/ "$K_CAROL"
deny "fcgid: token of deleted (then re-created) carol" 401 "$INVALID"

# Apache itself answers 400 to a control character (HttpProtocolOptions
# Strict) and to a header over LimitRequestFieldSize (8190 bytes) before
# mod_fcgid runs; the others are bouncer's denials as Apache's 401.
n=0
for c in "Authorization: Token|401" "Authorization: Token a b|401" \
    $'Authorization: Token a\x01b|400' "Authorization: Token $LONGKEY|400" \
    "Authorization: Token kéy|401" "Authorization: Token ${K_MAIN}é|401" \
    "X-API-Key: a b|401" "X-API-Key: kéy|401"; do
    hv=${c%|*}
    want=${c##*|}
    n=$((n + 1))
    shown=$(printf '%s' "$hv" | head -c 40 | LC_ALL=C tr -c '[:print:]' '?')
    http "$URL/app/" -H "$hv"
    check_eq "fcgid: malformed #$n [$shown]: $want" "$want" "$S"
    if [ "$want" = 401 ]; then
        check_eq "fcgid: malformed #$n: WWW-Authenticate: Token" "Token" "$(challenges)"
    fi
done
tok /app/ "$K_MAIN"
check_eq "fcgid: after the malformed battery a valid token still gets 200" 200 "$S"

sleep 0.3
if grep -Eq '^127\.0\.0\.1 - "alice" "GET /app/ HTTP/1\.1" 200$' "$T/log/apache-access.log"; then
    pass "fcgid: access log has %{REMOTE_USER}e=alice for a token request"
else
    fail "fcgid: access log has %{REMOTE_USER}e=alice" "$(tail -n 5 "$T/log/apache-access.log")"
fi
ALOG="$T/log/apache-error.log"
check_file_contains "fcgid: bouncer's decision lines in Apache's error log name $ID_MAIN" \
    "$ALOG" "$ID_MAIN"
leak=""
for k in "${KEYS[@]}" "$LONGKEY"; do
    grep -Fq -- "$k" "$ALOG" && leak="$leak ${k:0:6}..."
done
check_eq "fcgid: Apache's error log contains none of the keys" "" "$leak"
check_file_not_contains "fcgid: no crashed process" "$ALOG" "Segmentation"

FPIDS=$(pgrep -u "$WWW_USER" -f "^$BIN_BOUNCER" | tr '\n' ' ')
stop_apache apache "$AP"
check_eq "fcgid: bouncer processes exited after apache stop" "" "$(wait_pids_gone 10 $FPIDS)"

bnc_finish
