#!/bin/bash
# SPDX-License-Identifier: MIT
# Brute-force protection (issue 7), on the real binary:
#  - load: 1,000 wrong passwords for one user from 10 client addresses at
#    once (tools/bnc-fcgi straight to bouncer --listen, REMOTE_ADDR set per
#    client): a handful of 401s, then 429 + Retry-After, no hash paid for
#    the 429s (latency from the decision log), counts and timings printed;
#  - no oracle: unknown name and wrong password answer alike, the right
#    password gets the same 429 during a ban;
#  - back-off: Retry-After doubles with each ban up to max_ban;
#  - the real user from a [throttle] trusted network still gets in, and that
#    success clears the name's ban;
#  - wrong API tokens count per network; during the network's ban guesses
#    and passwords get 429, a valid key still works;
#  - bouncerctl ban list [--json] / clear USER | --network | --all;
#  - through lighttpd (lighttpd/bouncer.conf as shipped): the client gets
#    the 429 with Retry-After.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd curl base64
need_built "$BIN_BOUNCER" "$BIN_CTL" "$BIN_FCGI"
bnc_init throttle

PY=/usr/bin/python3
STORE="$T/store"
CONF="$T/bouncer.conf"
SOCK="$T/run/bouncer.sock"
LOG="$T/log/bouncer.log"
ALICE_PW="alice-$(head -c 9 /dev/urandom | base64 | tr -d '+/=')"

make_store "$STORE" || bnc_finish
add_user "$STORE" alice "$ALICE_PW" || bnc_finish
add_user "$STORE" bob "bob-pw-1" || bnc_finish
add_user "$STORE" carol "carol-pw-1" || bnc_finish
add_user "$STORE" erin "erin-pw-1" || bnc_finish
token_create "$STORE" carol || bnc_finish
CAROL_KEY=$TOKEN_KEY

# Two configs on one store. CONF_LOAD: the shipped thresholds, bans and
# window (the ban outlasts the load). CONF: bans of 2 s up to 8 s, so the
# back-off is seen in seconds. Loopback is NOT trusted: the clients are
# 192.0.2.0/24, 198.51.100.0/24, 2001:db8::/32; the office is 10.9.0.0/16.
CONF_LOAD="$T/bouncer-load.conf"
cat >"$CONF_LOAD" <<EOF
[store]
path = $STORE

[auth]
schemes = session, basic, token
realm = throttle-test

[throttle]
trusted = 10.9.0.0/16

[rules]
/auth/ = anonymous
/ = authenticated
EOF
cat >"$CONF" <<EOF
[store]
path = $STORE

[auth]
schemes = basic, token
realm = throttle-test

[throttle]
user_threshold = 5
network_threshold = 20
window = 10m
ban = 2s
max_ban = 8s
trusted = 10.9.0.0/16

[rules]
/ = authenticated
EOF
chmod 644 "$CONF" "$CONF_LOAD"
for c in "$CONF_LOAD" "$CONF"; do
    if out=$("$BIN_BOUNCER" -c "$c" --check-config 2>&1); then
        pass "bouncer --check-config accepts [throttle] in $(basename "$c")"
    else
        fail "bouncer --check-config accepts [throttle] in $(basename "$c")" "$out"
    fi
done
bctl() { "$BIN_CTL" -c "$CONF" "$@"; }

# start_bouncer CONF: one daemon with 4 threads on $SOCK; sets BPID.
start_bouncer() {
    rm -f "$SOCK"
    "$BIN_BOUNCER" -c "$1" --listen "unix:$SOCK" --threads 4 2>>"$LOG" &
    BPID=$!
    bnc_track "$BPID"
    wait_sock "$SOCK" 10 || die "bouncer did not come up on $SOCK" "$(cat "$LOG")"
}
start_bouncer "$CONF_LOAD"

# req ADDR USER:PASS|-  [-p NAME=VALUE...]: one authorizer request; sets
# S (status), RA (Retry-After), BODY.
req() {
    local addr=$1 cred=$2 out
    shift 2
    local a=()
    [ "$cred" != - ] && a=(-p "HTTP_AUTHORIZATION=Basic $(b64 "$cred")")
    out=$("$BIN_FCGI" --connect "unix:$SOCK" --timeout 20 \
        -p REQUEST_METHOD=GET -p REQUEST_URI=/app/ -p "REMOTE_ADDR=$addr" \
        -p SERVER_NAME=localhost "${a[@]}" "$@" 2>/dev/null | tr -d '\r')
    S=$(printf '%s\n' "$out" | sed -n '/^$/q; s/^Status: *\([0-9]*\).*/\1/p' | head -n1)
    S=${S:-200}
    RA=$(printf '%s\n' "$out" | sed -n '/^$/q; s/^Retry-After: *//p' | head -n1)
    BODY=$(printf '%s\n' "$out" | sed '1,/^$/d')
}
detail() { printf '%s' "$BODY" | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("detail",""))' 2>/dev/null; }
code() { printf '%s' "$BODY" | "$PY" -c 'import json,sys; print(json.load(sys.stdin).get("code",""))' 2>/dev/null; }

# ---- 1. load: 1,000 wrong passwords for alice from 10 addresses ----------
note "load: 1000 wrong passwords for alice, 10 clients x 100, in parallel"
mkdir -p "$T/load"
t0=$(now_ms)
for c in $(seq 1 10); do
    (
        for i in $(seq 1 100); do
            "$BIN_FCGI" --connect "unix:$SOCK" --timeout 30 \
                -p REQUEST_METHOD=GET -p REQUEST_URI=/app/ \
                -p "REMOTE_ADDR=192.0.2.$c" -p SERVER_NAME=localhost \
                -p "HTTP_AUTHORIZATION=Basic $(b64 "alice:guess-$c-$i")" \
                2>/dev/null | tr -d '\r' |
                sed -n '/^$/q; s/^Status: *\([0-9]*\).*/\1/p; s/^Retry-After: */RA /p' |
                tr '\n' ' '
            echo
        done >"$T/load/$c"
    ) &
done
wait_jobs() { local j; for j in $(jobs -p); do [ "$j" = "$BPID" ] || wait "$j"; done; }
wait_jobs
t1=$(now_ms)
cat "$T/load"/* >"$T/load/all"
N_TOTAL=$(wc -l <"$T/load/all")
N401=$(grep -c '^401 ' "$T/load/all")
N429=$(grep -c '^429 ' "$T/load/all")
N429RA=$(grep -Ec '^429 RA [0-9]+ ' "$T/load/all")
NOTHER=$((N_TOTAL - N401 - N429))
note "load: $N_TOTAL requests in $((t1 - t0)) ms: $N401 x 401, $N429 x 429, $NOTHER other"
check_eq "load: 1000 answers" 1000 "$N_TOTAL"
check_eq "load: every answer 401 or 429" 0 "$NOTHER"
# The 5th failure bans the name (for a minute: longer than the load);
# requests already past the check then (3 other threads) are still
# verified and answered 401.
if [ "$N401" -ge 5 ] && [ "$N401" -le 8 ]; then
    pass "load: $N401 wrong passwords verified (threshold 5, + at most 3 in flight)"
else
    fail "load: 5..8 wrong passwords verified" "got $N401"
fi
check_eq "load: every 429 carries Retry-After" "$N429" "$N429RA"
# Latency from the decision log: the 429s skipped the Argon2id hash.
LAT=$(awk '/event=decision/ && /client=192\.0\.2\./ {
        st = ""; us = ""
        for (i = 1; i <= NF; i++) {
            if ($i ~ /^status=/) st = substr($i, 8)
            if ($i ~ /^us=/) us = substr($i, 4)
        }
        if (st == 401) { n1++; s1 += us } else if (st == 429) { n2++; s2 += us }
    }
    END { printf "%d %d", (n1 ? s1 / n1 : 0), (n2 ? s2 / n2 : 0) }' "$LOG")
US401=${LAT% *}
US429=${LAT#* }
note "load: mean decision time 401 = ${US401} us (Argon2id), 429 = ${US429} us (no hash)"
if [ "$US429" -gt 0 ] && [ "$US401" -gt $((US429 * 10)) ]; then
    pass "load: a 429 costs no hash (mean ${US429} us vs ${US401} us for a 401)"
else
    fail "load: a 429 costs no hash" "401: ${US401} us, 429: ${US429} us"
fi

# ---- 2. no oracle during the ban ------------------------------------------
req 192.0.2.50 "alice:wrong-again"
WRONG_BODY=$BODY WRONG_S=$S
req 192.0.2.50 "alice:$ALICE_PW"
check_eq "ban: the right password gets 429 too" 429 "$S"
check_eq "ban: same status as a wrong one" "$WRONG_S" "$S"
check_eq "ban: code throttled" throttled "$(code)"
check_match "ban: DRF's detail" "$(detail)" '^Request was throttled\. Expected available in [0-9]+ seconds?\.$'
check_eq "ban: Retry-After matches the detail" "$RA" "$(detail | tr -dc 0-9)"
# Same body apart from the seconds.
check_eq "ban: right and wrong password bodies alike" \
    "$(printf '%s' "$WRONG_BODY" | tr -d 0-9)" "$(printf '%s' "$BODY" | tr -d 0-9)"
if grep -F "$ALICE_PW" "$LOG" >/dev/null; then
    fail "no password in bouncer's log"
else
    pass "no password in bouncer's log"
fi

# Unknown name vs wrong password: the same answers, the same ban.
for i in 1 2 3 4 5 6; do
    req 192.0.2.60 "bob:wrong-$i"
    echo "$S $(printf '%s' "$BODY" | tr -d 0-9)" >>"$T/known"
    req 192.0.2.61 "nosuchuser:wrong-$i"
    echo "$S $(printf '%s' "$BODY" | tr -d 0-9)" >>"$T/unknown"
done
check_eq "unknown name: 5 x 401 then 429, exactly like a known one" \
    "$(cat "$T/known")" "$(cat "$T/unknown")"
check_eq "unknown name: the 6th try is 429" 429 "$S"

# POST /auth/login (the Responder) shares the name's ban: JSON and form.
login() { # ADDR CONTENT-TYPE BODY: sets S, RA, BODY
    printf '%s' "$3" >"$T/login-body"
    local out
    out=$("$BIN_FCGI" --connect "unix:$SOCK" --role responder --timeout 20 \
        -p REQUEST_METHOD=POST -p REQUEST_URI=/auth/login -p "REMOTE_ADDR=$1" \
        -p HTTP_HOST=localhost -p "CONTENT_TYPE=$2" \
        -p "CONTENT_LENGTH=$(wc -c <"$T/login-body")" \
        --stdin "$T/login-body" 2>/dev/null | tr -d '\r')
    S=$(printf '%s\n' "$out" | sed -n '/^$/q; s/^Status: *\([0-9]*\).*/\1/p' | head -n1)
    RA=$(printf '%s\n' "$out" | sed -n '/^$/q; s/^Retry-After: *//p' | head -n1)
    BODY=$(printf '%s\n' "$out" | sed '1,/^$/d')
}
login 192.0.2.52 application/json "{\"username\": \"alice\", \"password\": \"$ALICE_PW\"}"
check_eq "login (JSON): right password during the ban: 429" 429 "$S"
check_eq "login (JSON): code throttled" throttled "$(code)"
check_match "login (JSON): Retry-After" "$RA" '^[0-9]+$'
login 192.0.2.52 application/x-www-form-urlencoded "username=alice&password=$ALICE_PW"
check_eq "login (form): right password during the ban: 429" 429 "$S"
check_contains "login (form): the page says so" "$BODY" "Request was throttled. Expected available in"

# ---- 3. the real user from a trusted network ------------------------------
req 10.9.4.2 "alice:$ALICE_PW"
check_eq "trusted network: alice gets in during the ban" 200 "$S"
req 192.0.2.51 "alice:$ALICE_PW"
check_eq "trusted success cleared alice's ban elsewhere" 200 "$S"

# ---- 4. back-off: Retry-After doubles up to max_ban (2, 4, 8, 8) ----------
# Now with bans of 2 s up to 8 s. erin's 5th failure starts the first ban;
# each time a ban is over, one more wrong password starts the next, twice
# as long, capped at 8 s.
bnc_stop_pid "$BPID"
start_bouncer "$CONF"
for i in 1 2 3 4 5; do req 192.0.2.70 "erin:wrong-$i"; done
req 192.0.2.70 "erin:erin-pw-1"
check_eq "back-off: erin's first ban (2 s)" 429 "$S"
SEEN="$RA"
for want in 4 8 8; do
    sleep "$((RA + 1))"
    req 192.0.2.70 "erin:still-wrong"
    r401=$S
    req 192.0.2.70 "erin:erin-pw-1"
    SEEN="$SEEN $RA"
    if [ "$r401" = 401 ] && [ "$S" = 429 ] &&
        { [ "$RA" = "$want" ] || [ "$RA" = "$((want - 1))" ]; }; then
        pass "back-off: one failure after the ban, then 429 Retry-After $RA (ban of $want s)"
    else
        fail "back-off: ban of $want s" "failure got $r401, right password got $S Retry-After $RA"
    fi
done
note "back-off: Retry-After seen: $SEEN"

# ---- 5. tokens count per network ---------------------------------------------
# One stale key sent again and again (a script with a revoked key) is one
# failure, not thirty: no ban.
for i in $(seq 1 30); do
    req 198.51.100.9 - -p "HTTP_AUTHORIZATION=Token revoked-key-0123456789abcdefghij"
    echo "$S" >>"$T/stale"
done
check_eq "tokens: one stale key 30 times: 30 x 401" 30 "$(grep -c '^401$' "$T/stale")"
req 198.51.100.9 - -p "HTTP_AUTHORIZATION=Token $CAROL_KEY"
check_eq "tokens: ... and no ban for that network" 200 "$S"
# New keys each time are guesses.
for i in $(seq 1 20); do
    req 198.51.100.7 - -p "HTTP_AUTHORIZATION=Token wrong-key-$i-0123456789abcdefghij"
    echo "$S" >>"$T/tok"
done
check_eq "tokens: 20 wrong keys from one network are 401s" 20 "$(grep -c '^401$' "$T/tok")"
req 198.51.100.7 - -p "HTTP_AUTHORIZATION=Token wrong-key-21-0123456789abcdefghij"
check_eq "tokens: the network is banned: guesses get 429" 429 "$S"
check_match "tokens: Retry-After on the 429" "$RA" '^[12]$'
# A valid key cannot be guessed: it keeps working on a banned network (a
# shared NAT must not lock out its API clients) ...
req 198.51.100.7 - -p "HTTP_AUTHORIZATION=Token $CAROL_KEY"
check_eq "tokens: a valid key still works during the ban" 200 "$S"
# ... while the ban still holds for passwords (checked after, so the 200
# was not the end of the ban).
req 198.51.100.7 "carol:carol-pw-1"
check_eq "tokens: ... and the right password from there gets 429" 429 "$S"
req 198.51.100.8 - -p "HTTP_AUTHORIZATION=Token $CAROL_KEY"
check_eq "tokens: the valid key works from another network" 200 "$S"
req 198.51.100.7 -
check_eq "tokens: no credentials from the banned network: the rules answer" 401 "$S"

# ---- 6. bouncerctl ban list / clear ------------------------------------------
# erin is in her 4th ban (8 s) since the back-off above.
for i in 1 2 3; do req 2001:db8:7:8::$i "dave:x$i"; done
out=$(bctl ban list 2>&1)
note "ban list:"
printf '%s\n' "$out" | sed 's/^/#   /'
check_line "ban list: header" "$out" '^KEY +FAILURES +BANNED-UNTIL +NEXT-BAN$'
check_line "ban list: erin banned, the next ban is max_ban" "$out" '^u:erin +0 +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z +8s$'
check_line "ban list: an unknown name counts like a known one" "$out" '^u:dave +3 +- +2s$'
check_line "ban list: an IPv6 client counted per /64" "$out" '^n:2001:db8:7:8::/64 +3 +- +2s$'
check_line "ban list: the token network" "$out" '^n:198\.51\.100\.7/32 +0 +([0-9T:Z-]+|-) +[0-9]+s$'
json=$(bctl ban list --json 2>&1)
check_eq "ban list --json: erin banned, 4 bans, next 8 s" "True 4 8" "$(printf '%s' "$json" | "$PY" -c '
import json, sys
d = {r["key"]: r for r in json.load(sys.stdin)}
r = d["u:erin"]
print(r["banned"], r["bans"], r["next_ban"])' 2>&1)"
req 192.0.2.80 "erin:erin-pw-1"
check_eq "before clear: erin 429" 429 "$S"
out=$(bctl ban clear erin 2>&1)
check_eq "ban clear erin" "cleared the counter of user erin" "$out"
req 192.0.2.80 "erin:erin-pw-1"
check_eq "after ban clear erin: erin gets in" 200 "$S"
out=$(bctl ban clear --network 198.51.100.0/24 2>&1)
check_eq "ban clear --network 198.51.100.0/24 (.7 and .9)" "cleared 2 counters" "$out"
req 198.51.100.7 - -p "HTTP_AUTHORIZATION=Token wrong-key-22-0123456789abcdefghij"
check_eq "after clear --network: a wrong key is a plain 401 again" 401 "$S"
out=$(bctl ban clear 2>&1)
rc=$?
check_eq "ban clear without a target: usage error" 2 "$rc"
out=$(bctl ban clear --all 2>&1)
check_match "ban clear --all" "$out" '^cleared [0-9]+ counters?$'
check_eq "ban list is empty after --all" "KEY  FAILURES  BANNED-UNTIL  NEXT-BAN" \
    "$(bctl ban list 2>&1 | sed 's/ *$//')"

bnc_stop_pid "$BPID"

# ---- 7. through lighttpd: the client sees 429 + Retry-After ------------------
STORE2="$T/store2"
CONF2="$T/bouncer2.conf"
make_store "$STORE2" || bnc_finish
add_user "$STORE2" alice "$ALICE_PW" || bnc_finish
printf '[store]\npath = %s\n\n[auth]\nschemes = basic\nrealm = throttle-test\n\n[throttle]\nban = 30s\n\n[rules]\n/app/ = authenticated\n' \
    "$STORE2" >"$CONF2"
chmod 644 "$CONF2"
www_cgi app
PORT=$(free_port) || die "no free port"
lighttpd_conf "$PORT" "$CONF2" "$T/run" "$T/log/lighttpd-" >"$T/lighttpd.conf"
start_lighttpd -q "$T/lighttpd.conf" "$PORT"
for i in 1 2 3 4 5; do
    http "$URL/app/" -u "alice:wrong-$i"
    echo "$S" >>"$T/l"
done
check_eq "lighttpd: 5 wrong passwords are 401s" "401 401 401 401 401" "$(tr '\n' ' ' <"$T/l" | sed 's/ $//')"
http "$URL/app/" -u "alice:$ALICE_PW"
check_eq "lighttpd: right password during the ban: 429" 429 "$S"
check_match "lighttpd: Retry-After reaches the client" "$(header Retry-After)" '^(29|30)$'
check_eq "lighttpd: throttled code in the body" throttled "$(json_field code)"
check_eq "lighttpd: no WWW-Authenticate on a 429" "" "$(header WWW-Authenticate)"
check_not_contains "lighttpd: the CGI did not run" "$B" "REQUEST_URI="

bnc_finish
