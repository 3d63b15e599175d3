#!/bin/bash
# SPDX-License-Identifier: MIT
# Real lighttpd + lighttpd/bouncer.conf (as shipped) in front of examples/env.cgi.
#
# lighttpd starts as root and drops to www-data; it spawns two bouncer
# processes (bin-path) that share one store. Checks what a client and the CGI
# see for good, wrong, unknown, disabled and malformed credentials, the access
# log user, and that bouncer's decision log never holds a secret.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd curl base64
need_built "$BIN_BOUNCER" "$BIN_CTL"
bnc_init lighttpd

REALM="bouncer-test"
STORE="$T/store"
CONF="$T/bouncer.conf"
DEMO_PW="s3cret-$(head -c 9 /dev/urandom | base64 | tr -d '+/=')"
JU_NAME="jürgen"
JU_PW="pa:ss:wört"
OFF_PW="old-password-1"

# ---- store, users, bouncer config ----------------------------------------
make_store "$STORE" || bnc_finish
add_user "$STORE" demo "$DEMO_PW" --group staff --group demo \
    --email demo@example.org --name "Demo User" || bnc_finish
add_user "$STORE" "$JU_NAME" "$JU_PW" --group staff || bnc_finish
add_user "$STORE" boss "boss-pw-9" --group admin || bnc_finish
add_user "$STORE" olduser "$OFF_PW" || bnc_finish
if ! out=$(ctl "$STORE" user disable olduser 2>&1); then
    die "bouncerctl user disable olduser" "$out"
fi

write_bouncer_conf "$CONF" "$STORE" "$REALM" \
    "/app/admin/ = group:admin" \
    "/app/ = authenticated"
if out=$("$BIN_BOUNCER" -c "$CONF" --check-config 2>&1); then
    pass "bouncer --check-config accepts the test config"
else
    fail "bouncer --check-config accepts the test config" "$out"
fi

# ---- document root: env.cgi under /app/ and /app/admin/ ------------------
www_cgi app app/admin index.html

# ---- lighttpd config: ours around the shipped snippet --------------------
PORT=$(free_port) || die "no free port"
lighttpd_conf "$PORT" "$CONF" "$T/run" "$T/log/" >"$T/lighttpd.conf"
# Daemon mode (not -D): lighttpd then points its FastCGI children's stderr at
# server.breakagelog, which is where bouncer's decision lines must show up.
start_lighttpd -t "lighttpd accepts the config including lighttpd/bouncer.conf" \
    "$T/lighttpd.conf" "$PORT"
if wait_sock "$T/run/bouncer.sock-0" 5 && wait_sock "$T/run/bouncer.sock-1" 5; then
    pass "lighttpd spawned max-procs 2 bouncer processes (bouncer.sock-0, -1)"
else
    fail "lighttpd spawned max-procs 2 bouncer processes" "$(ls -l "$T/run")"
fi
BPIDS=$(pgrep -P "$LPID" -f "$BIN_BOUNCER" | tr '\n' ' ')
note "bouncer pids under lighttpd: $BPIDS"
for p in $BPIDS; do
    check_eq "bouncer pid $p runs as $WWW_USER" "$WWW_USER" "$(ps -o user= -p "$p" | tr -d ' ')"
done

# ---- outside the prefix: not protected -----------------------------------
http "$URL/index.html"
check_eq "GET / (outside the prefix) is served without credentials" 200 "$S"

# ---- no credentials ------------------------------------------------------
http "$URL/app/"
check_eq "no credentials: 401" 401 "$S"
check_eq "no credentials: WWW-Authenticate challenge" \
    "Basic realm=\"$REALM\", charset=\"UTF-8\"" "$(header WWW-Authenticate)"
check_match "no credentials: JSON content type" "$(header Content-Type)" '^application/json'
check_eq "no credentials: detail" "Authentication credentials were not provided." "$(json_field detail)"
check_eq "no credentials: code" "not_authenticated" "$(json_field code)"
check_not_contains "no credentials: CGI did not run" "$B" "REQUEST_URI="

# ---- wrong password / unknown user ---------------------------------------
http "$URL/app/" -u "demo:wrong-$DEMO_PW"
WRONG_S=$S WRONG_B=$B WRONG_H=$H
check_eq "wrong password: 401" 401 "$S"
check_eq "wrong password: detail" "Invalid username/password." "$(json_field detail)"
check_eq "wrong password: code" "authentication_failed" "$(json_field code)"
check_eq "wrong password: WWW-Authenticate challenge" \
    "Basic realm=\"$REALM\", charset=\"UTF-8\"" "$(header WWW-Authenticate)"

http "$URL/app/" -u "nosuchuser:wrong-$DEMO_PW"
check_eq "unknown user: 401" 401 "$S"
check_eq "unknown user: body byte-identical to wrong password" "$WRONG_B" "$B"
H1=$(printf '%s\n' "$WRONG_H" | grep -vi '^date:' | sort)
H2=$(printf '%s\n' "$H" | grep -vi '^date:' | sort)
check_eq "unknown user: headers identical to wrong password (Date aside)" "$H1" "$H2"

# ---- disabled user -------------------------------------------------------
http "$URL/app/" -u "olduser:$OFF_PW"
check_eq "disabled user: 401" 401 "$S"
check_eq "disabled user: detail" "User inactive or deleted." "$(json_field detail)"

# ---- right password ------------------------------------------------------
http "$URL/app/" -u "demo:$DEMO_PW"
check_eq "right password: 200" 200 "$S"
check_line "CGI sees REMOTE_USER=demo" "$B" 'REMOTE_USER=demo'
check_line "CGI sees AUTH_TYPE=Basic" "$B" 'AUTH_TYPE=Basic'
check_line "CGI sees AUTH_GROUPS with staff and demo" "$B" 'AUTH_GROUPS=(staff,demo|demo,staff)'
check_line "CGI sees a non-empty AUTH_USER_ID" "$B" 'AUTH_USER_ID=.+'
check_line "CGI sees AUTH_EMAIL" "$B" 'AUTH_EMAIL=demo@example\.org'
check_line "CGI sees AUTH_NAME" "$B" 'AUTH_NAME=Demo User'
if printf '%s\n' "$H" | grep -qi '^variable-'; then
    fail "no Variable-* header reaches the client" "$(printf '%s\n' "$H" | grep -i '^variable-')"
else
    pass "no Variable-* header reaches the client"
fi
check_not_contains "CGI output does not contain the password" "$B" "$DEMO_PW"

# A POST with a body: the authorizer must not read stdin (lighttpd never ends it).
t0=$(now_ms)
http "$URL/app/" -u "demo:$DEMO_PW" --data-binary "$(head -c 5000 /dev/zero | tr '\0' x)"
check_eq "POST with a 5000-byte body: 200 (authorizer did not wait for stdin)" 200 "$S"
note "POST took $(($(now_ms) - t0)) ms"

# ---- UTF-8 user name, ':' in the password --------------------------------
http "$URL/app/" -u "$JU_NAME:$JU_PW"
check_eq "UTF-8 user $JU_NAME with ':' in the password: 200" 200 "$S"
check_line "CGI sees REMOTE_USER=$JU_NAME" "$B" "REMOTE_USER=$JU_NAME"
http "$URL/app/" -u "$JU_NAME:pa:ss"
check_eq "$JU_NAME with a password cut at the second ':': 401" 401 "$S"

# ---- rules: 403 ----------------------------------------------------------
http "$URL/app/admin/" -u "demo:$DEMO_PW"
check_eq "demo on /app/admin/ (group:admin): 403" 403 "$S"
check_eq "403 detail" "You do not have permission to perform this action." "$(json_field detail)"
check_eq "403 code" "permission_denied" "$(json_field code)"
http "$URL/app/admin/" -u "boss:boss-pw-9"
check_eq "boss (group admin) on /app/admin/: 200" 200 "$S"
check_line "CGI under /app/admin/ sees REMOTE_USER=boss" "$B" "REMOTE_USER=boss"

# ---- malformed Authorization headers -------------------------------------
# header value | expected detail ("*" = any 4xx JSON detail)
NOCRED="Invalid basic header. No credentials provided."
SPACES="Invalid basic header. Credentials string should not contain spaces."
BADB64="Invalid basic header. Credentials not correctly base64 encoded."
NOTPROV="Authentication credentials were not provided."
BADPW="Invalid username/password."
LONG=$(head -c 6000 /dev/zero | tr '\0' A)
CASES=(
    "Basic|$NOCRED"
    "Basic    |$NOCRED"
    "basic|$NOCRED"
    "BASIC|$NOCRED"
    "Basic a b|$SPACES"
    "Basic $(b64 demo:x) $(b64 demo:y)|$SPACES"
    "Basic !!!!|$BADB64"
    "Basic ====|$BADB64"
    "Basic YWJjZA|*"
    "Basic @@@@@@@@|$BADB64"
    "Basic $(b64 nocolon)|*"
    "Basic $(b64 ':')|*"
    "Basic $(b64 ':nopass')|*"
    "Basic $(b64 'demo:')|$BADPW"
    "Basic $(printf 'demo\0x:y' | base64 -w0)|*"
    "Basic $(printf '\377\376:\375' | base64 -w0)|*"
    "Basic $(printf '\303(:x' | base64 -w0)|*"
    "Basic $LONG|*"
    "Basic $(b64 "$(head -c 3000 /dev/zero | tr '\0' u):pw")|*"
    "Basic $(b64 "demo:$DEMO_PW")x|*"
    "Basic =$(b64 "demo:$DEMO_PW")|*"
    "Basic $(b64 "demo:$DEMO_PW" | tr 'A-Za-z' 'a-zA-Z')|*"
    "Bearer abc.def.ghi|$NOTPROV"
    "Digest username=\"demo\"|$NOTPROV"
    "Basicx $(b64 "demo:$DEMO_PW")|$NOTPROV"
    "Basic,$(b64 "demo:$DEMO_PW")|*"
)
n=0
for c in "${CASES[@]}"; do
    hv=${c%|*}
    want=${c##*|}
    n=$((n + 1))
    shown=$(printf '%s' "$hv" | head -c 48 | LC_ALL=C tr -c '[:print:]' '?')
    http "$URL/app/" -H "Authorization: $hv"
    d=$(json_field detail)
    if [ "$S" -lt 400 ] || [ "$S" -ge 500 ]; then
        fail "malformed #$n [$shown]: 4xx" "status $S" "body: $B"
    elif [ "$want" = "*" ] && [ -n "$d" ]; then
        pass "malformed #$n [$shown]: $S \"$d\""
    elif [ "$want" = "$d" ]; then
        pass "malformed #$n [$shown]: $S \"$d\""
    else
        fail "malformed #$n [$shown]: detail" "expected: $want" "status $S, body: $(_bnc_show "$B")"
    fi
done

# A tab between scheme and credentials: DRF splits on any whitespace and
# accepts it; either a grant or a clean 4xx is fine, never a 5xx.
http "$URL/app/" -H "Authorization: Basic	$(b64 "demo:$DEMO_PW")"
check_match "tab after 'Basic': 200 or 4xx, not 5xx (got $S)" "$S" '^(200|4[0-9][0-9])$'

http "$URL/app/" -u "demo:$DEMO_PW"
check_eq "after the malformed battery a valid request still gets 200" 200 "$S"
for p in $BPIDS; do
    if pid_alive "$p"; then
        pass "bouncer pid $p still alive after the battery (no crash)"
    else
        fail "bouncer pid $p still alive after the battery (no crash)"
    fi
done

# ---- decision log --------------------------------------------------------
ELOG="$T/log/bouncer.log"
check_file_contains "breakagelog holds bouncer's decision lines (demo)" "$ELOG" "demo"
ndec=$(grep -c "/app/" "$ELOG" 2>/dev/null)
if [ "${ndec:-0}" -ge 30 ]; then
    pass "breakagelog has one decision line per request ($ndec lines naming /app/)"
else
    fail "breakagelog has one decision line per request" "only ${ndec:-0} lines name /app/" \
        "$(tail -n 5 "$ELOG")"
fi
check_file_not_contains "decision log does not contain demo's password" "$ELOG" "$DEMO_PW"
check_file_not_contains "decision log does not contain the base64 credential" "$ELOG" \
    "$(b64 "demo:$DEMO_PW")"
check_file_not_contains "decision log does not contain the wrong password" "$ELOG" "wrong-$DEMO_PW"
check_file_not_contains "decision log does not contain $JU_NAME's password" "$ELOG" "$JU_PW"
check_file_not_contains "breakagelog: no crash reported" "$ELOG" "Segmentation"

# ---- clean stop ----------------------------------------------------------
bnc_stop_pid "$LPID" 10
if wait_gone "$PORT" 5; then
    pass "lighttpd stopped"
else
    fail "lighttpd stopped"
fi
check_eq "bouncer processes exited with lighttpd (SIGTERM)" "" "$(wait_pids_gone 10 $BPIDS)"
if wait_grep "$ELOG" "stopped (status 0)" 5; then
    pass "bouncer logged a clean exit on SIGTERM"
else
    fail "bouncer logged a clean exit on SIGTERM" "$(tail -n 4 "$ELOG")"
fi

# ---- access log shows the user (%u); lighttpd flushes it at the latest on stop
if grep -Eq "^127\.0\.0\.1 demo \"GET /app/ HTTP/1\.1\" 200$" "$T/log/access.log"; then
    pass "access log %u shows demo on the granted request"
else
    fail "access log %u shows demo on the granted request" "$(tail -n 5 "$T/log/access.log")"
fi


bnc_finish
