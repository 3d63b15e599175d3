#!/bin/bash
# SPDX-License-Identifier: MIT
# Real Apache 2.4 in front of examples/env.cgi, protected by bouncer through
# the shipped apache/bouncer-fcgid.conf (mod_fcgid FcgidAccessChecker) and, in
# a second instance, apache/bouncer-authnz.conf (mod_authnz_fcgi, bouncer run
# as a daemon). Apache starts as root and drops to www-data.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd apache2 curl base64
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
    skip_all "mod_fcgid not installed (run scripts/deps.sh)"
need_built "$BIN_BOUNCER" "$BIN_CTL"
bnc_init apache

REALM="bouncer-apache"
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
add_user "$STORE" olduser "$OFF_PW" || bnc_finish
if ! out=$(ctl "$STORE" user disable olduser 2>&1); then
    die "bouncerctl user disable olduser" "$out"
fi
write_bouncer_conf "$CONF" "$STORE" "$REALM" \
    "/app/admin/ = group:admin" \
    "/app/ = authenticated"
if [ "${#CONF}" -ge 128 ]; then
    die "config path too long for FcgidInitialEnv (< 128 bytes): $CONF"
fi

www_cgi app app/admin index.html

# Checks common to both instances for the granted request in $H/$B.
check_grant() {
    local what=$1
    check_eq "$what: 200" 200 "$S"
    check_line "$what: CGI sees REMOTE_USER=demo" "$B" 'REMOTE_USER=demo'
    check_line "$what: CGI sees AUTH_TYPE=Basic" "$B" 'AUTH_TYPE=Basic'
    check_line "$what: CGI sees AUTH_GROUPS with staff and demo" "$B" 'AUTH_GROUPS=(staff,demo|demo,staff)'
    check_line "$what: CGI sees a non-empty AUTH_USER_ID" "$B" 'AUTH_USER_ID=.+'
    check_line "$what: CGI sees AUTH_EMAIL" "$B" 'AUTH_EMAIL=demo@example\.org'
    check_line "$what: CGI sees AUTH_NAME" "$B" 'AUTH_NAME=Demo User'
    if printf '%s\n' "$H" | grep -qi '^variable-'; then
        fail "$what: no Variable-* header reaches the client" \
            "$(printf '%s\n' "$H" | grep -i '^variable-')"
    else
        pass "$what: no Variable-* header reaches the client"
    fi
}

# Malformed headers: every one must be denied (4xx) without killing anything.
MALFORMED=(
    "Basic"
    "basic"
    "Basic a b"
    "Basic !!!!"
    "Basic ===="
    "Basic YWJjZA"
    "Basic $(b64 nocolon)"
    "Basic $(b64 ':')"
    "Basic $(b64 'demo:')"
    "Basic $(printf 'demo\0x:y' | base64 -w0)"
    "Basic $(printf '\377\376:\375' | base64 -w0)"
    "Basic $(head -c 6000 /dev/zero | tr '\0' A)"
    "Basic $(b64 "demo:$DEMO_PW")x"
    "Basic =$(b64 "demo:$DEMO_PW")"
    "Bearer abc.def.ghi"
    "Digest username=\"demo\""
    "Basicx $(b64 "demo:$DEMO_PW")"
    "Basic,$(b64 "demo:$DEMO_PW")"
    "Basic $(b64 "demo:$DEMO_PW") $(b64 "demo:$DEMO_PW")"
)

# =========================================================================
# Part 1: mod_fcgid, FcgidAccessChecker
# =========================================================================
note "--- mod_fcgid (apache/bouncer-fcgid.conf) ---"
P1=$(free_port) || die "no free port"
{
    apache_conf fcgid "$P1"
    apache_fcgid_snippet fcgid "$CONF"
} >"$T/fcgid.conf"
start_apache -t fcgid "$P1"

http "$URL/index.html"
check_eq "fcgid: / (outside the prefix) is served without credentials" 200 "$S"

http "$URL/app/"
check_eq "fcgid: no credentials: 401" 401 "$S"
check_eq "fcgid: no credentials: our WWW-Authenticate passes through" \
    "Basic realm=\"$REALM\", charset=\"UTF-8\"" "$(header WWW-Authenticate)"
check_not_contains "fcgid: no credentials: body is Apache's page (mod_fcgid drops ours)" \
    "$B" '"detail"'
check_not_contains "fcgid: no credentials: CGI did not run" "$B" "REQUEST_URI="

http "$URL/app/" -u "demo:wrong-$DEMO_PW"
WRONG_B=$B
check_eq "fcgid: wrong password: 401" 401 "$S"
check_eq "fcgid: wrong password: WWW-Authenticate" \
    "Basic realm=\"$REALM\", charset=\"UTF-8\"" "$(header WWW-Authenticate)"
http "$URL/app/" -u "nosuchuser:wrong"
check_eq "fcgid: unknown user: 401" 401 "$S"
check_eq "fcgid: unknown user: same body as wrong password" "$WRONG_B" "$B"
http "$URL/app/" -u "olduser:$OFF_PW"
check_eq "fcgid: disabled user: 401" 401 "$S"

http "$URL/app/" -u "demo:$DEMO_PW"
check_grant "fcgid: right password"
check_not_contains "fcgid: CGI does not see the Authorization header (FcgidPassHeader is fcgid-only)" \
    "$B" "AUTHORIZATION_VISIBLE=yes"

http "$URL/app/" -u "$JU_NAME:$JU_PW"
check_eq "fcgid: UTF-8 user $JU_NAME with ':' in the password: 200" 200 "$S"
check_line "fcgid: CGI sees REMOTE_USER=$JU_NAME" "$B" "REMOTE_USER=$JU_NAME"

http "$URL/app/admin/" -u "demo:$DEMO_PW"
check_eq "fcgid: rule-forbidden /app/admin/: 401 (mod_fcgid turns bouncer's 403 into 401)" 401 "$S"

t0=$(now_ms)
http "$URL/app/" -u "demo:$DEMO_PW" --data-binary "$(head -c 5000 /dev/zero | tr '\0' x)"
check_eq "fcgid: POST with a body: 200" 200 "$S"
note "POST took $(($(now_ms) - t0)) ms"

n=0
for hv in "${MALFORMED[@]}"; do
    n=$((n + 1))
    shown=$(printf '%s' "$hv" | head -c 40 | LC_ALL=C tr -c '[:print:]' '?')
    http "$URL/app/" -H "Authorization: $hv"
    if [ "$S" -ge 400 ] && [ "$S" -lt 500 ]; then
        pass "fcgid: malformed #$n [$shown]: $S"
    else
        fail "fcgid: malformed #$n [$shown]: 4xx" "status $S"
    fi
done
http "$URL/app/" -H "Authorization: Basic	$(b64 "demo:$DEMO_PW")"
check_match "fcgid: tab after 'Basic': 200 or 4xx, not 5xx (got $S)" "$S" '^(200|4[0-9][0-9])$'
http "$URL/app/" -u "demo:$DEMO_PW"
check_eq "fcgid: after the malformed battery a valid request still gets 200" 200 "$S"

sleep 0.3
if grep -Eq '^127\.0\.0\.1 - "demo" "GET /app/ HTTP/1\.1" 200$' "$T/log/fcgid-access.log"; then
    pass "fcgid: access log has %{REMOTE_USER}e=demo (%u stays -, as documented)"
else
    fail "fcgid: access log has %{REMOTE_USER}e=demo" "$(tail -n 5 "$T/log/fcgid-access.log")"
fi

ELOG="$T/log/fcgid-error.log"
ndec=$(grep -c "/app/" "$ELOG" 2>/dev/null)
if [ "${ndec:-0}" -ge 25 ]; then
    pass "fcgid: bouncer's decision lines are in Apache's error log ($ndec)"
else
    fail "fcgid: bouncer's decision lines are in Apache's error log" "only ${ndec:-0}" \
        "$(tail -n 5 "$ELOG")"
fi
check_file_contains "fcgid: a decision names the 403 on /app/admin/" "$ELOG" "/app/admin/"
check_file_not_contains "fcgid: error log does not contain demo's password" "$ELOG" "$DEMO_PW"
check_file_not_contains "fcgid: error log does not contain the base64 credential" "$ELOG" \
    "$(b64 "demo:$DEMO_PW")"
check_file_not_contains "fcgid: error log: no crashed process" "$ELOG" "Segmentation"
BPIDS=$(pgrep -u "$WWW_USER" -f "^$BIN_BOUNCER" | tr '\n' ' ')
note "bouncer processes under mod_fcgid: $BPIDS"
check_ne "fcgid: mod_fcgid started bouncer as $WWW_USER" "" "$BPIDS"

stop_apache fcgid "$P1"
left=""
for ((i = 0; i < 100; i++)); do
    left=""
    for p in $BPIDS; do
        kill -0 "$p" 2>/dev/null && left="$left $p"
    done
    [ -z "$left" ] && break
    sleep 0.1
done
check_eq "fcgid: bouncer processes exited after apache stop (SIGTERM)" "" "$left"
check_file_not_contains "fcgid: no process needed SIGKILL at stop" "$ELOG" "terminating forcefully"

# =========================================================================
# Part 2: mod_authnz_fcgi, bouncer as a daemon
# =========================================================================
note "--- mod_authnz_fcgi (apache/bouncer-authnz.conf) ---"
if [ ! -f "$MODS/mod_authnz_fcgi.so" ]; then
    fail "mod_authnz_fcgi present" "$MODS/mod_authnz_fcgi.so missing"
    bnc_finish
fi
BP=$(free_port) || die "no free port"
if start_bouncer_daemon "$BP" "$T/log/bouncer-daemon.log" --threads 4; then
    pass "bouncer daemon listens on 127.0.0.1:$BP as $WWW_USER"
else
    die "bouncer --listen did not start" "$(cat "$T/log/bouncer-daemon.log")"
fi

P2=$(free_port) || die "no free port"
{
    apache_conf authnz "$P2"
    apache_authnz_snippet "127.0.0.1:$BP"
} >"$T/authnz.conf"
start_apache -t authnz "$P2"

http "$URL/app/"
check_eq "authnz: no credentials: 401" 401 "$S"
check_eq "authnz: no credentials: WWW-Authenticate" \
    "Basic realm=\"$REALM\", charset=\"UTF-8\"" "$(header WWW-Authenticate)"
check_contains "authnz: no credentials: our JSON detail passes through" "$B" \
    '"Authentication credentials were not provided."'

http "$URL/app/" -u "demo:wrong-$DEMO_PW"
WRONG_B=$B
check_eq "authnz: wrong password: 401" 401 "$S"
check_contains "authnz: wrong password: detail" "$B" '"Invalid username/password."'
http "$URL/app/" -u "nosuchuser:wrong"
check_eq "authnz: unknown user: 401" 401 "$S"
check_eq "authnz: unknown user: body identical to wrong password" "$WRONG_B" "$B"
http "$URL/app/" -u "olduser:$OFF_PW"
check_eq "authnz: disabled user: 401" 401 "$S"
check_contains "authnz: disabled user: detail" "$B" '"User inactive or deleted."'

http "$URL/app/admin/" -u "demo:$DEMO_PW"
check_eq "authnz: rule-forbidden /app/admin/: 403 passes through" 403 "$S"
check_contains "authnz: 403 detail" "$B" '"You do not have permission to perform this action."'

http "$URL/app/" -u "demo:$DEMO_PW"
check_grant "authnz: right password"
note "authnz: backend sees the Authorization header (CGIPassAuth): $(printf '%s\n' "$B" | grep AUTHORIZATION_VISIBLE)"
sleep 0.3
if grep -Eq '^127\.0\.0\.1 demo "demo" "GET /app/ HTTP/1\.1" 200$' "$T/log/authnz-access.log"; then
    pass "authnz: access log %u shows demo (UserExpr)"
else
    fail "authnz: access log %u shows demo (UserExpr)" "$(tail -n 5 "$T/log/authnz-access.log")"
fi

http "$URL/app/" -u "$JU_NAME:$JU_PW"
check_eq "authnz: UTF-8 user $JU_NAME with ':' in the password: 200" 200 "$S"

n=0
for hv in "${MALFORMED[@]}"; do
    n=$((n + 1))
    shown=$(printf '%s' "$hv" | head -c 40 | LC_ALL=C tr -c '[:print:]' '?')
    http "$URL/app/" -H "Authorization: $hv"
    if [ "$S" -ge 400 ] && [ "$S" -lt 500 ] && [[ "$B" == *'"detail"'* ]]; then
        pass "authnz: malformed #$n [$shown]: $S with a JSON detail"
    else
        fail "authnz: malformed #$n [$shown]: 4xx + JSON" "status $S" "body: $(_bnc_show "$B")"
    fi
done
http "$URL/app/" -u "demo:$DEMO_PW"
check_eq "authnz: after the malformed battery a valid request still gets 200" 200 "$S"
if kill -0 "$DPID" 2>/dev/null; then
    pass "authnz: bouncer daemon still alive"
else
    fail "authnz: bouncer daemon still alive" "$(tail -n 5 "$T/log/bouncer-daemon.log")"
fi
check_file_not_contains "authnz: daemon log does not contain demo's password" \
    "$T/log/bouncer-daemon.log" "$DEMO_PW"

stop_apache authnz "$P2"
bnc_stop_pid "$DPID" 10
if wait_gone "$BP" 3; then
    pass "bouncer daemon stopped on SIGTERM"
else
    fail "bouncer daemon stopped on SIGTERM"
fi

bnc_finish
