# SPDX-License-Identifier: MIT
# Shared helpers for the real-server integration tests (sourced by bash).
#
# Provides: a temp dir removed on exit, cleanup of every process started,
# free loopback ports, bounded waits, store and user creation, assertions that
# say what was expected, and the closing "N passed, M failed" line.
#
# Usage:
#   . "$(dirname "$0")/lib.sh"
#   bnc_init lighttpd            # sets T (temp root), BIN_BOUNCER, ...
#   ...
#   bnc_finish                   # prints the count, exits 0 or 1

set -u

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
export top_srcdir top_builddir

BIN_BOUNCER="$top_builddir/bouncer"
BIN_CTL="$top_builddir/bouncerctl"
BIN_FCGI="$top_builddir/tools/bnc-fcgi"
WWW_USER="${BNC_WWW_USER:-www-data}"
WWW_GROUP="${BNC_WWW_GROUP:-www-data}"

BNC_PASSED=0
BNC_FAILED=0
BNC_PIDS=()
BNC_CLEANUPS=()
BNC_NAME=test
T=

# ---- output -------------------------------------------------------------

note() { printf '# %s\n' "$*"; }

pass() {
    BNC_PASSED=$((BNC_PASSED + 1))
    printf 'ok %d - %s\n' "$((BNC_PASSED + BNC_FAILED))" "$1"
}

# fail DESC [DETAIL...]: DETAIL lines explain what was wrong.
fail() {
    BNC_FAILED=$((BNC_FAILED + 1))
    printf 'not ok %d - %s\n' "$((BNC_PASSED + BNC_FAILED))" "$1"
    shift
    local line
    for line in "$@"; do
        printf '%s\n' "$line" | sed -e 's/^/#     /' | head -n 40
    done
}

# Shows at most the first 400 bytes of a value, one line per line.
_bnc_show() { printf '%s' "$1" | head -c 400; }

check_eq() { # DESC EXPECTED ACTUAL
    if [ "$2" = "$3" ]; then
        pass "$1"
    else
        fail "$1" "expected: $(_bnc_show "$2")" "actual:   $(_bnc_show "$3")"
    fi
}

check_ne() { # DESC UNEXPECTED ACTUAL
    if [ "$2" != "$3" ]; then
        pass "$1"
    else
        fail "$1" "did not expect: $(_bnc_show "$2")"
    fi
}

check_contains() { # DESC HAYSTACK NEEDLE (fixed string)
    case "$2" in
    *"$3"*) pass "$1" ;;
    *) fail "$1" "expected to contain: $(_bnc_show "$3")" "actual: $(_bnc_show "$2")" ;;
    esac
}

check_not_contains() { # DESC HAYSTACK NEEDLE (fixed string)
    case "$2" in
    *"$3"*) fail "$1" "must not contain: $(_bnc_show "$3")" "actual: $(_bnc_show "$2")" ;;
    *) pass "$1" ;;
    esac
}

check_match() { # DESC STRING ERE
    if printf '%s' "$2" | grep -Eq -- "$3"; then
        pass "$1"
    else
        fail "$1" "expected to match /$3/" "actual: $(_bnc_show "$2")"
    fi
}

check_line() { # DESC TEXT ERE: some whole line of TEXT matches ERE
    if printf '%s\n' "$2" | grep -Eqx -- "$3"; then
        pass "$1"
    else
        fail "$1" "expected a line matching /$3/" "actual: $(_bnc_show "$2")"
    fi
}

check_file_contains() { # DESC FILE NEEDLE (fixed string)
    if [ -f "$2" ] && grep -Fq -- "$3" "$2"; then
        pass "$1"
    else
        fail "$1" "expected $2 to contain: $3" \
            "last lines: $(tail -n 5 "$2" 2>/dev/null)"
    fi
}

check_file_not_contains() { # DESC FILE NEEDLE (fixed string)
    if [ ! -f "$2" ]; then
        fail "$1" "$2 does not exist"
    elif grep -Fq -- "$3" "$2"; then
        fail "$1" "$2 must not contain: $3" \
            "found: $(grep -F -- "$3" "$2" | head -n 3)"
    else
        pass "$1"
    fi
}

# Prints the closing line (read by CI) and exits 1 on any failure.
bnc_finish() {
    printf '%d passed, %d failed\n' "$BNC_PASSED" "$BNC_FAILED"
    if [ "$BNC_FAILED" -ne 0 ]; then
        exit 1
    fi
    exit 0
}

# Exits 77 (skip) with a reason: only for a machine that truly lacks a tool.
skip_all() {
    printf '# SKIP %s\n' "$*"
    exit 77
}

# Aborts the test with a failure (setup could not be done).
die() {
    fail "setup: $1" "${@:2}"
    bnc_finish
}

# ---- temp dir, processes, cleanup ---------------------------------------

# bnc_at_exit CMD...: run CMD (a string for eval) at exit, last added first.
bnc_at_exit() { BNC_CLEANUPS+=("$*"); }

# bnc_track PID: kill PID (TERM, then KILL after 3 s) at exit.
bnc_track() { BNC_PIDS+=("$1"); }

# pid_alive PID: running (a zombie left to a non-reaping init is not).
pid_alive() {
    local st
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 1
    case "$st" in
    Z* | "") return 1 ;;
    esac
    return 0
}

# Stops one process: SIGTERM, wait up to $2 seconds (default 5), then SIGKILL.
# BNC_LAST_RC: its exit status when it is our child (128+N: killed by signal
# N; "killed" when SIGKILL was needed), "gone" if it had already exited.
BNC_LAST_RC=
bnc_stop_pid() {
    local pid=$1 limit=${2:-5} i=0 killed=
    BNC_LAST_RC=gone
    if ! pid_alive "$pid"; then
        wait "$pid" 2>/dev/null && BNC_LAST_RC=0 || BNC_LAST_RC=$?
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null
    while pid_alive "$pid" && [ "$i" -lt $((limit * 10)) ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if pid_alive "$pid"; then
        kill -KILL "$pid" 2>/dev/null
        killed=yes
    fi
    wait "$pid" 2>/dev/null && BNC_LAST_RC=0 || BNC_LAST_RC=$?
    [ -n "$killed" ] && BNC_LAST_RC=killed
    return 0
}

_bnc_exit() {
    local rc=$? i pid
    set +e
    trap - EXIT INT TERM
    for ((i = ${#BNC_CLEANUPS[@]} - 1; i >= 0; i--)); do
        eval "${BNC_CLEANUPS[$i]}" >/dev/null 2>&1
    done
    for pid in "${BNC_PIDS[@]}"; do
        bnc_stop_pid "$pid" 3
    done
    if [ -n "$T" ] && [ -d "$T" ]; then
        if [ "$rc" -ne 0 ] && [ "$rc" -ne 77 ] || [ -n "${BNC_KEEP_TMP:-}" ]; then
            note "kept $T for inspection (logs in $T/log)"
        else
            rm -rf "$T"
        fi
    fi
    exit "$rc"
}

# bnc_init NAME: temp root T (mode 755 so the server user can traverse it),
# with log/ (writable by the server user) and the EXIT trap.
bnc_init() {
    BNC_NAME=$1
    trap _bnc_exit EXIT
    trap 'exit 1' INT TERM
    T=$(mktemp -d "${TMPDIR:-/tmp}/bnc-$BNC_NAME.XXXXXX") || die "mktemp failed"
    # mktemp -d makes 0700; the server user must reach the store, the config
    # and the sockets below it.
    chmod 755 "$T"
    # Every parent must be traversable too (e.g. a 0700 $TMPDIR).
    local d=$T
    while [ "$d" != / ]; do
        d=$(dirname "$d")
        if [ "$(id -u)" -eq 0 ] && ! runuser -u "$WWW_USER" -- test -x "$d" 2>/dev/null; then
            die "$d is not traversable by $WWW_USER; set TMPDIR to a directory that is"
        fi
    done
    mkdir -p "$T/log" "$T/run"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$WWW_USER:$WWW_GROUP" "$T/log" "$T/run"
    fi
    # The servers run a private copy of bouncer: scripts running at the
    # same time (make -j) find their own processes by the binary's path
    # (pgrep -f) and must not count or wait for another script's.
    if [ -x "$BIN_BOUNCER" ] && [ "${BIN_BOUNCER#"$T"/}" = "$BIN_BOUNCER" ]; then
        mkdir -p "$T/bin"
        install -m 755 "$BIN_BOUNCER" "$T/bin/bouncer"
        BIN_BOUNCER="$T/bin/bouncer"
    fi
    note "$BNC_NAME: temp dir $T"
}

# Requires root (the servers are started as root and drop to www-data).
need_root() {
    [ "$(id -u)" -eq 0 ] || skip_all "needs root (servers drop privileges to $WWW_USER)"
    getent passwd "$WWW_USER" >/dev/null || skip_all "no user $WWW_USER"
}

# need_cmd CMD...: skip when a system tool is missing (scripts/deps.sh installs them).
need_cmd() {
    local c
    for c in "$@"; do
        command -v "$c" >/dev/null 2>&1 || skip_all "$c not installed (run scripts/deps.sh)"
    done
}

# Our own binaries must have been built: their absence is a failure.
need_built() {
    local f
    for f in "$@"; do
        [ -x "$f" ] || die "$f not built (run make)"
    done
}

# wait_pids_gone SECONDS PID...: until none runs; prints the ones left.
wait_pids_gone() {
    local limit=$1 end p left
    shift
    end=$((SECONDS + limit))
    while :; do
        left=""
        for p in "$@"; do
            pid_alive "$p" && left="$left $p"
        done
        if [ -z "$left" ] || [ "$SECONDS" -gt "$end" ]; then
            break
        fi
        sleep 0.1
    done
    printf '%s' "${left# }"
}

# ---- ports and waits ----------------------------------------------------

# Prints a TCP port on 127.0.0.1 that nobody listens on right now.
free_port() {
    local port i
    if [ -x /usr/bin/python3 ]; then
        /usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()' && return 0
    fi
    for ((i = 0; i < 200; i++)); do
        port=$((20000 + RANDOM % 30000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# wait_port PORT [SECONDS]: until something accepts on 127.0.0.1:PORT.
wait_port() {
    local port=$1 limit=${2:-10} end
    end=$((SECONDS + limit))
    while [ "$SECONDS" -le "$end" ]; do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# wait_gone PORT [SECONDS]: until nothing accepts on 127.0.0.1:PORT.
wait_gone() {
    local port=$1 limit=${2:-10} end
    end=$((SECONDS + limit))
    while [ "$SECONDS" -le "$end" ]; do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    return 1
}

# wait_sock PATH [SECONDS]: until PATH is a Unix socket.
wait_sock() {
    local path=$1 limit=${2:-10} end
    end=$((SECONDS + limit))
    while [ "$SECONDS" -le "$end" ]; do
        [ -S "$path" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_file PATH [SECONDS]: until PATH exists and is not empty.
wait_file() {
    local path=$1 limit=${2:-10} end
    end=$((SECONDS + limit))
    while [ "$SECONDS" -le "$end" ]; do
        [ -s "$path" ] && return 0
        sleep 0.05
    done
    return 1
}

# wait_grep FILE FIXED-STRING [SECONDS]
wait_grep() {
    local file=$1 str=$2 limit=${3:-10} end
    end=$((SECONDS + limit))
    while [ "$SECONDS" -le "$end" ]; do
        grep -Fq -- "$str" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

# Milliseconds since the epoch.
now_ms() { date +%s%3N; }

# ---- store and users ----------------------------------------------------

# make_store DIR: an empty store the server user can share. The setgid
# directory makes every file bouncerctl (umask 007) creates group-owned by the
# server group (berkeley-db.md §8).
make_store() {
    local dir=$1 out
    if [ "$(id -u)" -eq 0 ]; then
        install -d -m 2770 -g "$WWW_GROUP" "$dir" || return 1
    else
        install -d -m 2770 "$dir" || return 1
    fi
    if ! out=$(BOUNCER_HOME=$dir "$BIN_CTL" db init 2>&1); then
        fail "setup: bouncerctl db init $dir" "$out"
        return 1
    fi
    return 0
}

# add_user STORE NAME PASSWORD [bouncerctl options...]
add_user() {
    local store=$1 name=$2 pw=$3 out
    shift 3
    if ! out=$(printf '%s\n' "$pw" |
        BOUNCER_HOME=$store "$BIN_CTL" user add "$name" "$@" --password-stdin 2>&1); then
        fail "setup: bouncerctl user add $name" "$out"
        return 1
    fi
    return 0
}

# ctl STORE ARGS...: bouncerctl against STORE.
ctl() {
    local store=$1
    shift
    BOUNCER_HOME=$store "$BIN_CTL" "$@"
}

# token_create STORE USER [token create options...]: sets TOKEN_KEY to the
# new key (bouncerctl token create --quiet prints only that); on failure
# records a failed setup step and returns 1.
TOKEN_KEY=
token_create() {
    local store=$1 user=$2 out
    shift 2
    TOKEN_KEY=
    if ! out=$(ctl "$store" token create "$user" --quiet "$@" 2>&1) ||
        ! printf '%s' "$out" | grep -Eqx '[A-Za-z0-9_-]{20,}'; then
        fail "setup: bouncerctl token create $user $*" "$out"
        return 1
    fi
    TOKEN_KEY=$out
    return 0
}

# token_field STORE USER LABEL FIELD: FIELD (id, expires, ...) of USER's token
# labelled LABEL, from bouncerctl token list USER --json ("" if none).
token_field() {
    ctl "$1" token list "$2" --json 2>/dev/null | /usr/bin/python3 -c 'import json, sys
try:
    doc = json.load(sys.stdin)
except Exception:
    doc = []
for t in doc:
    if isinstance(t, dict) and t.get("label") == sys.argv[1]:
        v = t.get(sys.argv[2])
        print("" if v is None else v, end="")
        break' "$3" "$4"
}

# write_bouncer_conf FILE STORE REALM [RULE-LINE...]: a minimal config
# (Basic only) readable by the server user.
write_bouncer_conf() {
    local file=$1 store=$2 realm=$3 rule
    shift 3
    {
        printf '[store]\npath = %s\n\n' "$store"
        printf '[auth]\nschemes = basic\nrealm = %s\n\n' "$realm"
        # The tests' one client (loopback) fails on purpose, many times;
        # throttle.sh tests the throttle.
        printf '[throttle]\ntrusted = 127.0.0.1, ::1\n\n'
        printf '[rules]\n'
        for rule in "$@"; do
            printf '%s\n' "$rule"
        done
    } >"$file"
    chmod 644 "$file"
}

# no_leaks LOG WHAT: no value of the array SECRETS (SECRETS_ARE says what
# they are) is in LOG, and no process crashed there.
SECRETS=()
SECRETS_ARE="secret"
no_leaks() {
    local leak="" s
    for s in "${SECRETS[@]}"; do
        [ -n "$s" ] || continue
        grep -Fq -- "$s" "$1" && leak="$leak ${s:0:6}..."
    done
    check_eq "$2: no $SECRETS_ARE in the log (${#SECRETS[@]} secrets)" "" "$leak"
    check_file_not_contains "$2: no crash" "$1" "Segmentation"
}

# ---- HTTP ---------------------------------------------------------------

# http URL [curl args...]: sets H (headers, CR removed), B (body), S (status).
# A failed connection gives S=000.
H=
B=
S=
http() {
    local url=$1 hf bf
    shift
    hf="$T/.hdr.$$"
    bf="$T/.body.$$"
    : >"$hf"
    : >"$bf"
    S=$(curl -sS --max-time 10 -o "$bf" -D "$hf" -w '%{http_code}' "$@" "$url" 2>/dev/null) || true
    [ -n "$S" ] || S=000
    H=$(tr -d '\r' <"$hf")
    B=$(cat "$bf")
    rm -f "$hf" "$bf"
}

# header NAME: the value of the first NAME header in $H (case-insensitive).
header() {
    printf '%s\n' "$H" | awk -v n="$1" 'BEGIN { n = tolower(n) ":" }
        tolower(substr($0, 1, length(n))) == n {
            v = substr($0, length(n) + 1); sub(/^[ \t]+/, "", v); print v; exit }'
}

# json_field FIELD: a top-level string field of the JSON in $B.
json_field() {
    printf '%s' "$B" | /usr/bin/python3 -c 'import json, sys
try:
    v = json.load(sys.stdin).get(sys.argv[1])
except Exception:
    v = None
print("" if v is None else v, end="")' "$1"
}

# b64 STRING: base64 without line breaks.
b64() { printf '%s' "$1" | base64 -w0; }

# The servers (lighttpd, Apache, a bouncer daemon) and their configs.
. "$(dirname "${BASH_SOURCE[0]}")/servers.sh"
