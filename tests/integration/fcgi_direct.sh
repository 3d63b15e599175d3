#!/bin/bash
# SPDX-License-Identifier: MIT
# Drives the bouncer binary straight over FastCGI with tools/bnc-fcgi:
# allow/deny answers, hostile Authorization values, nginx mode, signals,
# threads, and that no credential reaches the decision log.

set -u

top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/../.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir}
BOUNCER=$top_builddir/bouncer
CTL=$top_builddir/bouncerctl
CLIENT=$top_builddir/tools/bnc-fcgi
PY=/usr/bin/python3

for f in "$BOUNCER" "$CTL" "$CLIENT"; do
    if [ ! -x "$f" ]; then
        echo "FAIL: $f not built" >&2
        exit 1
    fi
done
if ! command -v spawn-fcgi >/dev/null 2>&1; then
    echo "SKIP: spawn-fcgi not installed (Debian: spawn-fcgi)" >&2
    exit 77
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bnc-fcgi-direct.XXXXXX") || exit 1
PIDS=()
cleanup() {
    local rc=$? p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        # bounded: SIGKILL whatever is still there after ~3 s
        for _ in $(seq 30); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    if [ "$rc" -ne 0 ] || [ -n "${BNC_KEEP_TMP:-}" ]; then
        echo "# kept $TMP for inspection"
    else
        rm -rf "$TMP"
    fi
    exit "$rc"
}
trap cleanup EXIT
# A signal (or a closed pipe) must still run cleanup: exit through the trap.
trap 'exit 1' INT TERM HUP PIPE

PASS=0
FAILS=0
ok() {
    PASS=$((PASS + 1))
    echo "ok - $1"
}
not_ok() {
    FAILS=$((FAILS + 1))
    echo "not ok - $1"
    if [ -s "$TMP/out" ]; then
        echo "   --- response:"
        head -c 600 "$TMP/out" | cat -v | sed 's/^/   /'
        echo
    fi
    if [ -s "$TMP/cerr" ]; then
        echo "   --- client stderr:"
        head -c 400 "$TMP/cerr" | sed 's/^/   /'
    fi
}

b64() { printf '%s' "$1" | base64 -w0; }

export BOUNCER_HOME=$TMP/store
mkdir -p "$BOUNCER_HOME"
CONF=$TMP/bouncer.conf
write_conf() { # realm
    cat >"$CONF" <<EOF
[store]
path = $BOUNCER_HOME

[auth]
schemes = basic
realm = $1

# The battery's one client fails on purpose, hundreds of times.
[throttle]
trusted = 127.0.0.1

[log]
level = info

[rules]
/admin/ = group:admin
/ = authenticated
EOF
}
write_conf testrealm

# ---- the store ----------------------------------------------------------
if ! "$CTL" -c "$CONF" db init >"$TMP/ctl.log" 2>&1; then
    cat "$TMP/ctl.log"
    echo "FAIL: bouncerctl db init" >&2
    exit 1
fi
adduser() { # name password [--group G]...
    local name=$1 pw=$2
    shift 2
    if ! printf '%s\n' "$pw" |
        "$CTL" -c "$CONF" user add "$name" "$@" --password-stdin \
            >>"$TMP/ctl.log" 2>&1; then
        cat "$TMP/ctl.log"
        echo "FAIL: bouncerctl user add $name" >&2
        exit 1
    fi
}
adduser demo 'demo-pw-1' --group staff --group dev
adduser boss 'boss-pw-2' --group admin
adduser colon 'a:b:c'
adduser 'jürgen' 'pä55wörd'
adduser gone 'gone-pw-3'
if ! "$CTL" -c "$CONF" user disable gone >>"$TMP/ctl.log" 2>&1; then
    cat "$TMP/ctl.log"
    echo "FAIL: bouncerctl user disable" >&2
    exit 1
fi

VALID=$(b64 'demo:demo-pw-1')

# ---- helpers ------------------------------------------------------------
start_bouncer() { # sockpath logfile extra-args... ; sets BPID
    local sock=$1 log=$2
    shift 2
    rm -f "$sock"
    "$BOUNCER" -c "$CONF" --listen "unix:$sock" "$@" 2>"$log" &
    BPID=$!
    PIDS+=("$BPID")
    wait_sock "$sock" "$BPID"
}
wait_sock() { # sockpath pid
    local i
    for i in $(seq 100); do
        [ -S "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    echo "bouncer did not come up on $1" >&2
    return 1
}

ADDR=
# req URI AUTH|- [extra client args...]: the params lighttpd sends.
req() {
    local uri=$1 auth=$2
    shift 2
    local a=()
    [ "$auth" != - ] && a=(-p "HTTP_AUTHORIZATION=$auth")
    "$CLIENT" --connect "$ADDR" --timeout 20 \
        -p REQUEST_METHOD=GET -p "REQUEST_URI=$uri" -p REMOTE_ADDR=127.0.0.1 \
        -p REMOTE_PORT=40000 -p SERVER_NAME=localhost -p HTTP_HOST=localhost \
        "${a[@]}" "$@" >"$TMP/out" 2>"$TMP/cerr"
    CRC=$?
    tr -d '\r' <"$TMP/out" >"$TMP/out.txt"
}
# req_file URI PARAMS-FILE-LINE...: the Authorization and extra params come
# from a params file (\xNN escapes), for bytes a command line cannot carry.
req_file() {
    local uri=$1
    shift
    : >"$TMP/params"
    local l
    for l in "$@"; do
        printf '%s\n' "$l" >>"$TMP/params"
    done
    req "$uri" - --params-file "$TMP/params"
}
status() { # first Status header of the last response, 200 when absent
    local s
    s=$(sed -n '/^$/q; s/^Status: *\([0-9][0-9][0-9]\).*/\1/p' "$TMP/out.txt" |
        head -n1)
    echo "${s:-200}"
}
has_line() { grep -qxF -- "$1" "$TMP/out.txt"; }
body() { sed '1,/^$/d' "$TMP/out.txt"; }
json_is() { # detail code
    body | "$PY" -c '
import json, sys
d = json.load(sys.stdin)
want = {"detail": sys.argv[1], "code": sys.argv[2]}
sys.exit(0 if d == want else 1)' "$1" "$2" 2>/dev/null
}
expect_deny() { # name status detail code [realm]
    local name=$1 st=$2 detail=$3 code=$4 realm=${5:-testrealm}
    if [ "$CRC" -ne 0 ]; then
        not_ok "$name: client exit $CRC"
        return
    fi
    if [ "$(status)" != "$st" ]; then
        not_ok "$name: status $(status), expected $st"
        return
    fi
    if [ "$st" = 401 ] &&
        ! has_line "WWW-Authenticate: Basic realm=\"$realm\", charset=\"UTF-8\""; then
        not_ok "$name: missing or wrong WWW-Authenticate"
        return
    fi
    if ! has_line "Content-Type: application/json"; then
        not_ok "$name: Content-Type is not application/json"
        return
    fi
    if ! json_is "$detail" "$code"; then
        not_ok "$name: body is not {\"detail\": \"$detail\", \"code\": \"$code\"}"
        return
    fi
    ok "$name"
}
expect_allow() { # name user
    local name=$1 user=$2
    if [ "$CRC" -eq 0 ] && [ "$(status)" = 200 ] &&
        has_line "Variable-REMOTE_USER: $user" &&
        has_line "Variable-AUTH_TYPE: Basic"; then
        ok "$name"
    else
        not_ok "$name: expected 200 for $user (client exit $CRC, status $(status))"
    fi
}
expect_4xx() { # name
    local st
    st=$(status)
    if [ "$CRC" -eq 0 ] && [ "${st:0:1}" = 4 ]; then
        ok "$1 -> $st"
    else
        not_ok "$1: expected 4xx (client exit $CRC, status $st)"
    fi
}
alive() { # name pid
    if kill -0 "$2" 2>/dev/null; then
        req /private/ "Basic $VALID"
        if [ "$CRC" -eq 0 ] && [ "$(status)" = 200 ]; then
            ok "$1"
            return
        fi
    fi
    not_ok "$1: process gone or not answering"
}
term_exits_0() { # name pid
    local i rc
    kill -TERM "$2"
    for i in $(seq 20); do
        kill -0 "$2" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$2" 2>/dev/null; then
        not_ok "$1: still running 2 s after SIGTERM"
        return
    fi
    wait "$2"
    rc=$?
    if [ "$rc" -eq 0 ]; then
        ok "$1"
    else
        not_ok "$1: exit status $rc"
    fi
}

# ---- bouncer --listen, one thread ----------------------------------------
SOCK=$TMP/b.sock
LOG1=$TMP/bouncer1.err
if ! start_bouncer "$SOCK" "$LOG1" --threads 1; then
    cat "$LOG1" >&2
    exit 1
fi
MAIN=$BPID
ADDR=unix:$SOCK

# Allow, with the identity variables.
req /private/ "Basic $VALID"
expect_allow "valid credential" demo
if has_line "Variable-AUTH_GROUPS: staff,dev" ||
    has_line "Variable-AUTH_GROUPS: dev,staff"; then
    ok "AUTH_GROUPS lists both groups"
else
    not_ok "AUTH_GROUPS lists both groups"
fi
if grep -qE '^Variable-AUTH_USER_ID: [0-9]+$' "$TMP/out.txt"; then
    ok "AUTH_USER_ID is numeric"
else
    not_ok "AUTH_USER_ID is numeric"
fi
if [ "$(head -n1 "$TMP/out")" = $'Status: 200 OK\r' ]; then
    ok "first line is Status: 200 OK"
else
    not_ok "first line is Status: 200 OK"
fi
req /private/ "Basic $VALID"
expect_allow "valid credential again (cache)" demo

# The deny cases, with DRF's wording.
req /private/ -
expect_deny "no credentials" 401 \
    "Authentication credentials were not provided." not_authenticated
if [ "$(head -n1 "$TMP/out")" = $'Status: 401 Unauthorized\r' ]; then
    ok "first line is Status: 401 Unauthorized"
else
    not_ok "first line is Status: 401 Unauthorized"
fi
req /private/ "Basic $(b64 'demo:wrong')"
expect_deny "wrong password" 401 "Invalid username/password." \
    authentication_failed
body >"$TMP/body.wrong"
req /private/ "Basic $(b64 'nobody:demo-pw-1')"
expect_deny "unknown user" 401 "Invalid username/password." \
    authentication_failed
if body | cmp -s - "$TMP/body.wrong"; then
    ok "unknown user and wrong password give the same body"
else
    not_ok "unknown user and wrong password give the same body"
fi
req /private/ "Basic $(b64 'gone:gone-pw-3')"
expect_deny "disabled user" 401 "User inactive or deleted." \
    authentication_failed
req /private/ "Basic"
expect_deny "Basic alone" 401 \
    "Invalid basic header. No credentials provided." authentication_failed
req /private/ "Basic a b"
expect_deny "Basic with spaces" 401 \
    "Invalid basic header. Credentials string should not contain spaces." \
    authentication_failed
req /private/ "Basic !!!!"
expect_deny "bad base64" 401 \
    "Invalid basic header. Credentials not correctly base64 encoded." \
    authentication_failed
req /private/ "Basic $(b64 'demo')"
expect_deny "base64 without a colon" 401 \
    "Invalid basic header. Credentials not correctly base64 encoded." \
    authentication_failed
req /admin/panel "Basic $VALID"
expect_deny "rule forbids (user without group admin)" 403 \
    "You do not have permission to perform this action." permission_denied
req /admin/panel "Basic $(b64 'boss:boss-pw-2')"
expect_allow "rule allows (group admin)" boss

# Credentials that are odd but valid.
req /private/ "Basic $(b64 'colon:a:b:c')"
expect_allow "':' inside the password" colon
req /private/ "Basic $(b64 'jürgen:pä55wörd')"
expect_allow "UTF-8 user name and password" "jürgen"
req /private/ "basic $VALID"
expect_allow "scheme name is case-insensitive (RFC 7235)" demo
many=()
for i in $(seq 400); do
    many+=(-p "HTTP_X_FILLER_$i=$(printf 'v%.0s' $(seq 40))")
done
req /private/ "Basic $VALID" "${many[@]}"
expect_allow "400 extra params spread over several PARAMS records" demo

# ---- battery of malformed Authorization values ---------------------------
LONG=$(head -c 102400 /dev/zero | tr '\0' A)
PW5000=$(head -c 5000 /dev/zero | tr '\0' x)
NONCANON=$("$PY" -c '
import base64
s = base64.b64encode(b"demo:demo-pw-1").decode()   # ...MQ== style tail
alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
i = len(s.rstrip("=")) - 1
c = alphabet.index(s[i])
# set the unused low bits of the last data character: same bytes, other text
print(s[:i] + alphabet[c | (0x0f if s.endswith("==") else 0x03)] + s[i + 1:])')
NOPAD=${VALID%%=*}
BADUTF8=$(printf '\xff\xfe\xc3:pw' | base64 -w0)
NULUSER=$(printf 'demo\0:demo-pw-1' | base64 -w0)
NULPW=$(printf 'demo:demo-pw-1\0' | base64 -w0)
CRLFPW=$(printf 'demo:demo-pw-1\r\n' | base64 -w0)
URLSAFE=$(printf 'demo:\xfb\xff\xbf?>' | base64 -w0 | tr '+/' '-_')

battery=(
    "empty|HTTP_AUTHORIZATION="
    "only spaces|HTTP_AUTHORIZATION=    "
    "Basic and tabs|HTTP_AUTHORIZATION=Basic\\x09\\x09"
    "upper-case BASIC alone|HTTP_AUTHORIZATION=BASIC"
    "lower-case basic, wrong password|HTTP_AUTHORIZATION=basic $(b64 demo:nope)"
    "100 KB header|HTTP_AUTHORIZATION=Basic $LONG"
    "100 KB header of valid prefix|HTTP_AUTHORIZATION=Basic $VALID$LONG"
    "base64 of no colon|HTTP_AUTHORIZATION=Basic $(b64 nocolonhere)"
    "base64 with invalid UTF-8 user|HTTP_AUTHORIZATION=Basic $BADUTF8"
    "NUL right after Basic|HTTP_AUTHORIZATION=Basic \\x00$VALID"
    "NUL in the decoded user|HTTP_AUTHORIZATION=Basic $NULUSER"
    "NUL in the decoded password|HTTP_AUTHORIZATION=Basic $NULPW"
    "control characters|HTTP_AUTHORIZATION=Basic \\x01\\x02\\x03\\x7f"
    "CRLF header injection|HTTP_AUTHORIZATION=Basic x\\x0d\\x0aX-Injected: 1"
    "Basic ===|HTTP_AUTHORIZATION=Basic ==="
    "Basic =|HTTP_AUTHORIZATION=Basic ="
    "Basic ====|HTTP_AUTHORIZATION=Basic ===="
    "single base64 character|HTTP_AUTHORIZATION=Basic A"
    "missing padding|HTTP_AUTHORIZATION=Basic $NOPAD"
    "extra padding|HTTP_AUTHORIZATION=Basic $VALID=="
    "padding in the middle|HTTP_AUTHORIZATION=Basic ${VALID:0:4}=${VALID:4}"
    "non-canonical base64 of a valid credential|HTTP_AUTHORIZATION=Basic $NONCANON"
    "base64url alphabet|HTTP_AUTHORIZATION=Basic $URLSAFE"
    "tab inside the base64|HTTP_AUTHORIZATION=Basic ${VALID:0:4}\\x09${VALID:4}"
    "valid credential plus a third word|HTTP_AUTHORIZATION=Basic $VALID extra"
    "no space after Basic|HTTP_AUTHORIZATION=Basic$VALID"
    "empty user|HTTP_AUTHORIZATION=Basic $(b64 ':demo-pw-1')"
    "empty password|HTTP_AUTHORIZATION=Basic $(b64 'demo:')"
    "only a colon|HTTP_AUTHORIZATION=Basic $(b64 ':')"
    "password with trailing CRLF|HTTP_AUTHORIZATION=Basic $CRLFPW"
    "user with a space|HTTP_AUTHORIZATION=Basic $(b64 'de mo:demo-pw-1')"
    "upper-case user name|HTTP_AUTHORIZATION=Basic $(b64 'DEMO:demo-pw-1')"
    "password in other case|HTTP_AUTHORIZATION=Basic $(b64 'demo:DEMO-PW-1')"
    "5000-byte password|HTTP_AUTHORIZATION=Basic $(b64 "demo:$PW5000")"
    "5000-byte user|HTTP_AUTHORIZATION=Basic $(b64 "$PW5000:x")"
    "raw non-UTF-8 bytes|HTTP_AUTHORIZATION=\\xff\\xfe\\xfd"
    "raw UTF-8 instead of base64|HTTP_AUTHORIZATION=Basic jürgen:pä55wörd"
    "Bearer with a Basic payload|HTTP_AUTHORIZATION=Bearer $VALID"
    "Token keyword|HTTP_AUTHORIZATION=Token 0123456789abcdef"
    "first of two Authorization params is wrong|HTTP_AUTHORIZATION=Basic $(b64 demo:nope)|HTTP_AUTHORIZATION=Basic $VALID"
    "first of two Authorization params is empty|HTTP_AUTHORIZATION=|HTTP_AUTHORIZATION=Basic $VALID"
    "disabled user with wrong password|HTTP_AUTHORIZATION=Basic $(b64 'gone:nope')"
)
for entry in "${battery[@]}"; do
    IFS='|' read -r -a parts <<<"$entry"
    name=${parts[0]}
    req_file /private/ "${parts[@]:1}"
    expect_4xx "malformed: $name"
done
# A huge parameter name (4-byte length, several records) next to a valid one.
printf 'HTTP_X_%s=1\nHTTP_AUTHORIZATION=Basic %s\n' \
    "$(head -c 70000 /dev/zero | tr '\0' N)" "$VALID" >"$TMP/params"
req /private/ - --params-file "$TMP/params"
st=$(status)
if [ "$CRC" -eq 0 ] && { [ "$st" = 200 ] || [ "${st:0:1}" = 4 ]; }; then
    ok "70 KB parameter name answered ($st)"
else
    not_ok "70 KB parameter name: client exit $CRC, status $st"
fi
alive "still alive and correct after the battery" "$MAIN"

# ---- nginx mode: RESPONDER role + BOUNCER_MODE=authorize ------------------
req /private/ "Basic $VALID" --role responder -p BOUNCER_MODE=authorize
if [ "$CRC" -eq 0 ] && [ "$(status)" = 200 ] &&
    grep -qixF "X-Remote-User: demo" "$TMP/out.txt"; then
    ok "nginx mode: 200 with X-Remote-User"
else
    not_ok "nginx mode: 200 with X-Remote-User"
fi
req /private/ "Basic $(b64 demo:nope)" --role responder -p BOUNCER_MODE=authorize
if [ "$CRC" -eq 0 ] && [ "$(status)" = 401 ] &&
    has_line 'WWW-Authenticate: Basic realm="testrealm", charset="UTF-8"'; then
    ok "nginx mode: 401 with the challenge"
else
    not_ok "nginx mode: 401 with the challenge"
fi
req /admin/x "Basic $VALID" --role responder -p BOUNCER_MODE=authorize
if [ "$CRC" -eq 0 ] && [ "$(status)" = 403 ]; then
    ok "nginx mode: 403"
else
    not_ok "nginx mode: 403"
fi

# ---- SIGHUP: reload, and keep the old config when the new one is bad -----
write_conf newrealm
kill -HUP "$MAIN"
seen=0
for i in $(seq 50); do
    req /private/ -
    if has_line 'WWW-Authenticate: Basic realm="newrealm", charset="UTF-8"'; then
        seen=1
        break
    fi
    sleep 0.1
done
if [ $seen = 1 ]; then
    ok "SIGHUP: the next 401 shows the new realm"
else
    not_ok "SIGHUP: the next 401 shows the new realm"
fi
write_conf brokenrealm
printf '[auth]\nthis line is not a key value pair\n' >>"$CONF"
kill -HUP "$MAIN"
sleep 1
req /private/ -
if kill -0 "$MAIN" 2>/dev/null && [ "$CRC" -eq 0 ] && [ "$(status)" = 401 ] &&
    has_line 'WWW-Authenticate: Basic realm="newrealm", charset="UTF-8"'; then
    ok "SIGHUP with a broken config keeps the old one"
else
    not_ok "SIGHUP with a broken config keeps the old one"
fi
alive "still allows after the failed reload" "$MAIN"
write_conf testrealm

term_exits_0 "SIGTERM while idle: exit 0 within 2 s" "$MAIN"

# ---- --threads 4: 200 concurrent requests --------------------------------
TSOCK=$TMP/t.sock
LOG2=$TMP/bouncer4.err
if start_bouncer "$TSOCK" "$LOG2" --threads 4; then
    T4=$BPID
    out=$("$CLIENT" --bench --connect "unix:$TSOCK" --timeout 60 \
        -p REQUEST_METHOD=GET -p REQUEST_URI=/private/ \
        -p REMOTE_ADDR=127.0.0.1 -p HTTP_HOST=localhost \
        -p "HTTP_AUTHORIZATION=Basic $VALID" \
        --requests 200 --concurrency 200 --expect-status 200 2>&1)
    rc=$?
    echo "   $out" | head -n 6
    if [ $rc -eq 0 ] && echo "$out" | grep -q 'requests=200 errors=0'; then
        ok "--threads 4: 200 concurrent valid requests all 200"
    else
        not_ok "--threads 4: 200 concurrent valid requests all 200"
    fi
    out=$("$CLIENT" --bench --connect "unix:$TSOCK" --timeout 60 \
        -p REQUEST_METHOD=GET -p REQUEST_URI=/private/ \
        -p REMOTE_ADDR=127.0.0.1 -p HTTP_HOST=localhost \
        -p "HTTP_AUTHORIZATION=Basic $(b64 demo:nope)" \
        --requests 200 --concurrency 200 --expect-status 401 2>&1)
    rc=$?
    echo "   $out" | head -n 6
    if [ $rc -eq 0 ] && echo "$out" | grep -q 'requests=200 errors=0'; then
        ok "--threads 4: 200 concurrent wrong passwords all 401"
    else
        not_ok "--threads 4: 200 concurrent wrong passwords all 401"
    fi
    term_exits_0 "--threads 4: SIGTERM exits 0 within 2 s" "$T4"
else
    not_ok "--threads 4: bouncer did not start"
    cat "$LOG2"
fi

# ---- socket on fd 0, as spawn-fcgi (and mod_fcgid, lighttpd) pass it -----
SSOCK=$TMP/s.sock
LOG3=$TMP/spawned.err
spawn-fcgi -n -s "$SSOCK" -- "$BOUNCER" -c "$CONF" 2>"$LOG3" &
SP=$!
PIDS+=("$SP")
if wait_sock "$SSOCK" "$SP"; then
    ADDR=unix:$SSOCK
    req /private/ "Basic $VALID"
    expect_allow "socket on fd 0 (spawn-fcgi -n): allow" demo
    req /private/ -
    expect_deny "socket on fd 0 (spawn-fcgi -n): deny" 401 \
        "Authentication credentials were not provided." not_authenticated
    term_exits_0 "socket on fd 0: SIGTERM exits 0 within 2 s" "$SP"
else
    not_ok "spawn-fcgi -n: bouncer did not come up"
    cat "$LOG3"
fi

# ---- no credential in the decision log -----------------------------------
cat "$LOG1" "$LOG2" "$LOG3" >"$TMP/all.err" 2>/dev/null
if [ -s "$TMP/all.err" ]; then
    ok "bouncer logged its decisions to stderr ($(wc -l <"$TMP/all.err") lines)"
else
    not_ok "bouncer logged nothing to stderr at level info"
fi
leak=0
for secret in "$VALID" 'demo-pw-1' "$(b64 'demo:wrong')" 'boss-pw-2' \
    "$(b64 'boss:boss-pw-2')" 'a:b:c' "$(b64 'colon:a:b:c')" 'pä55wörd' \
    'gone-pw-3' "$NULPW" "$CRLFPW"; do
    if grep -qF -- "$secret" "$TMP/all.err"; then
        echo "   secret found in the log: $secret"
        leak=1
    fi
done
if [ $leak = 0 ]; then
    ok "no Authorization value or password in the log"
else
    not_ok "no Authorization value or password in the log"
fi

echo "# fcgi_direct: $PASS passed, $FAILS failed"
[ "$FAILS" -eq 0 ]
