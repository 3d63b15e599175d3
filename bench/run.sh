#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: what one bouncer decision costs next to a no-op FastCGI
# authorizer (the floor), straight over FastCGI and through lighttpd.
#
# usage: bench/run.sh [BUILD_DIR]     (expects a built tree: make first)
# env:   BENCH_REPS (default 5), BENCH_SECONDS (wrk seconds per run, 3)
#
# Never fails on a number: it exits non-zero only when it cannot run at all.

set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC}" && pwd) || exit 1
BOUNCER=$B/bouncer
CTL=$B/bouncerctl
CLIENT=$B/tools/bnc-fcgi
NOOP=$B/tools/noop-authorizer
REPS=${BENCH_REPS:-5}
WSECS=${BENCH_SECONDS:-3}
PY=/usr/bin/python3

for f in "$BOUNCER" "$CTL" "$CLIENT" "$NOOP"; do
    if [ ! -x "$f" ]; then
        echo "bench: $f is missing: build first (make)" >&2
        exit 1
    fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bnc-bench.XXXXXX") || exit 1
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        for _ in $(seq 30); do
            kill -0 "$p" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$p" 2>/dev/null
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
# A signal (or a closed pipe) must still run cleanup: exit through the trap.
trap 'exit 1' INT TERM HUP PIPE

log() { echo "bench: $*" >&2; }

wait_sock() { # path pid
    local i
    for i in $(seq 100); do
        [ -S "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}

free_port() {
    "$PY" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

median() { # numbers on stdin -> median (mean of the middle two when even)
    sort -g | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print "nan"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

field() { # line name -> value of name=VALUE (without "/s")
    echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | sed 's,/s$,,'
}

# ---- store and configurations -------------------------------------------
export BOUNCER_HOME=$TMP/store
mkdir -p "$BOUNCER_HOME" "$TMP/www/static" "$TMP/www/noop" "$TMP/www/auth"
write_conf() { # file extra-basic-lines
    cat >"$1" <<EOF
[store]
path = $BOUNCER_HOME

[auth]
schemes = basic
realm = bench

[basic]
$2

[log]
level = info

[rules]
/ = authenticated
EOF
}
CONF=$TMP/cached.conf
CONF0=$TMP/nocache.conf
write_conf "$CONF" "cache_ttl = 60"
write_conf "$CONF0" "cache_ttl = 0"

if ! "$CTL" -c "$CONF" db init >"$TMP/ctl.log" 2>&1 ||
    ! printf 'pw\n' | "$CTL" -c "$CONF" user add bench --password-stdin \
        >>"$TMP/ctl.log" 2>&1; then
    cat "$TMP/ctl.log" >&2
    log "could not create the store"
    exit 1
fi
AUTH="Basic $(printf 'bench:pw' | base64 -w0)"
echo "hello" >"$TMP/www/static/index.html"
cp "$TMP/www/static/index.html" "$TMP/www/noop/index.html"
cp "$TMP/www/static/index.html" "$TMP/www/auth/index.html"

# ---- direct FastCGI -------------------------------------------------------
start() { # name sock log cmd...
    local name=$1 sock=$2 err=$3
    shift 3
    "$@" --listen "unix:$sock" 2>"$err" &
    PIDS+=($!)
    if ! wait_sock "$sock" $!; then
        cat "$err" >&2
        log "$name did not start"
        exit 1
    fi
}
start noop-authorizer "$TMP/noop.sock" "$TMP/noop.err" "$NOOP"
start "bouncer (cache)" "$TMP/b.sock" "$TMP/bouncer.err" \
    "$BOUNCER" -c "$CONF" --threads 1
start "bouncer (no cache)" "$TMP/b0.sock" "$TMP/bouncer0.err" \
    "$BOUNCER" -c "$CONF0" --threads 1

PARAMS=(-p REQUEST_METHOD=GET -p REQUEST_URI=/private/index.html
    -p REMOTE_ADDR=127.0.0.1 -p REMOTE_PORT=50000 -p SERVER_NAME=localhost
    -p HTTP_HOST=localhost -p HTTP_USER_AGENT=bnc-bench/1)

# bench KEY SOCK STATUS N [extra client args]: one run, appended to $TMP/KEY
bench() {
    local key=$1 sock=$2 st=$3 n=$4 line
    shift 4
    line=$("$CLIENT" --bench --connect "unix:$sock" --timeout 30 \
        --concurrency 1 --requests "$n" --expect-status "$st" \
        "${PARAMS[@]}" "$@" 2>>"$TMP/client.err")
    echo "$line" >>"$TMP/$key"
}

# Warm-up: page cache, Berkeley DB cache, the credential cache.
"$CLIENT" --bench --connect "unix:$TMP/noop.sock" --requests 500 "${PARAMS[@]}" >/dev/null 2>&1
"$CLIENT" --bench --connect "unix:$TMP/b.sock" --requests 500 "${PARAMS[@]}" \
    -p "HTTP_AUTHORIZATION=$AUTH" >/dev/null 2>&1

# Size the Argon2id run to about 3 s on this machine (20..200 requests).
pilot=$("$CLIENT" --bench --connect "unix:$TMP/b0.sock" --requests 5 \
    --concurrency 1 "${PARAMS[@]}" -p "HTTP_AUTHORIZATION=$AUTH" 2>/dev/null)
p50=$(field "$pilot" p50_us)
NARGON=$(awk -v p="${p50:-0}" 'BEGIN { n = (p > 0) ? int(3000000 / p) : 200;
    if (n > 200) n = 200; if (n < 20) n = 20; print n }')
NFAST=5000

log "direct FastCGI: $REPS rounds (floor/cached/401: $NFAST requests, Argon2id: $NARGON)"
for r in $(seq "$REPS"); do
    bench floor "$TMP/noop.sock" 200 "$NFAST" -p "HTTP_AUTHORIZATION=$AUTH"
    bench cached "$TMP/b.sock" 200 "$NFAST" -p "HTTP_AUTHORIZATION=$AUTH"
    bench argon2 "$TMP/b0.sock" 200 "$NARGON" -p "HTTP_AUTHORIZATION=$AUTH"
    bench anon "$TMP/b.sock" 401 "$NFAST"
done

# ---- through lighttpd -------------------------------------------------------
LT=
if command -v lighttpd >/dev/null 2>&1; then
    PORT=$(free_port)
    cat >"$TMP/lighttpd.conf" <<EOF
server.modules = ( "mod_fastcgi" )
server.document-root = "$TMP/www"
server.bind = "127.0.0.1"
server.port = $PORT
server.errorlog = "$TMP/lighttpd.err"
server.pid-file = "$TMP/lighttpd.pid"
server.max-keep-alive-requests = 1000
mimetype.assign = ( ".html" => "text/html" )
fastcgi.server = (
    "/noop/" => ((
        "bin-path" => "$NOOP",
        "socket" => "$TMP/lt-noop.sock",
        "mode" => "authorizer",
        "check-local" => "disable",
        "max-procs" => 1 )),
    "/auth/" => ((
        "bin-path" => "$BOUNCER",
        "socket" => "$TMP/lt-bouncer.sock",
        "mode" => "authorizer",
        "check-local" => "disable",
        "max-procs" => 1,
        "bin-environment" => ( "BOUNCER_CONF" => "$CONF",
                               "BOUNCER_HOME" => "$BOUNCER_HOME" ) ))
)
EOF
    lighttpd -D -f "$TMP/lighttpd.conf" 2>"$TMP/lighttpd.stderr" &
    LPID=$!
    PIDS+=("$LPID")
    up=0
    for _ in $(seq 50); do
        if curl -fsS -o /dev/null "http://127.0.0.1:$PORT/static/index.html" 2>/dev/null; then
            up=1
            break
        fi
        kill -0 "$LPID" 2>/dev/null || break
        sleep 0.1
    done
    if [ $up = 1 ] &&
        [ "$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: $AUTH" \
            "http://127.0.0.1:$PORT/auth/index.html")" = 200 ] &&
        [ "$(curl -s -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:$PORT/auth/index.html")" = 401 ] &&
        [ "$(curl -s -o /dev/null -w '%{http_code}' \
            "http://127.0.0.1:$PORT/noop/index.html")" = 200 ]; then
        LT=ok
    else
        log "lighttpd did not come up as expected; skipping its part"
        cat "$TMP/lighttpd.stderr" "$TMP/lighttpd.err" >&2 2>/dev/null
    fi
fi

# http KEY PATH [header]: requests/s of one run, appended to $TMP/KEY
http() {
    local key=$1 path=$2 hdr=${3:-} out rate bad
    local url="http://127.0.0.1:$PORT$path"
    if [ -n "$WRK" ]; then
        if [ -n "$hdr" ]; then
            out=$(wrk -t1 -c4 -d"${WSECS}s" -H "$hdr" "$url" 2>&1)
        else
            out=$(wrk -t1 -c4 -d"${WSECS}s" "$url" 2>&1)
        fi
        rate=$(echo "$out" | sed -n 's/^Requests\/sec: *//p')
        bad=$(echo "$out" | sed -n 's/.*Non-2xx or 3xx responses: *//p')
    else
        if [ -n "$hdr" ]; then
            out=$(ab -q -k -c 4 -n 3000 -H "$hdr" "$url" 2>&1)
        else
            out=$(ab -q -k -c 4 -n 3000 "$url" 2>&1)
        fi
        rate=$(echo "$out" | sed -n 's/^Requests per second: *\([0-9.]*\).*/\1/p')
        bad=$(echo "$out" | sed -n 's/^Non-2xx responses: *//p')
    fi
    echo "${rate:-0} ${bad:-0}" >>"$TMP/$key"
}
WRK=
command -v wrk >/dev/null 2>&1 && WRK=wrk
if [ -n "$LT" ]; then
    tool=${WRK:-ab}
    log "lighttpd: $REPS rounds with $tool (4 connections)"
    for r in $(seq "$REPS"); do
        http lt_static /static/index.html
        http lt_noop /noop/index.html
        http lt_bouncer /auth/index.html "Authorization: $AUTH"
    done
fi

# ---- report -------------------------------------------------------------
stat_direct() { # key -> "rate us_per_req p50 p99 errors" (medians; errors summed)
    local f=$TMP/$1
    local rate us p50 p99 errs
    rate=$(while read -r l; do field "$l" rate; done <"$f" | median)
    us=$(while read -r l; do
        awk -v n="$(field "$l" requests)" -v s="$(field "$l" seconds)" \
            'BEGIN { if (n > 0) printf "%.2f\n", s * 1e6 / n }'
    done <"$f" | median)
    p50=$(while read -r l; do field "$l" p50_us; done <"$f" | median)
    p99=$(while read -r l; do field "$l" p99_us; done <"$f" | median)
    errs=$(while read -r l; do field "$l" errors; done <"$f" | awk '{ s += $1 } END { print s + 0 }')
    echo "$rate $us $p50 $p99 $errs"
}

OUT=$SRC/bench/results
mkdir -p "$OUT"
{
    echo "bouncer benchmark  $(date -u '+%Y-%m-%d %H:%M UTC')  host=$(uname -n) cpus=$(nproc)" \
        "rev=$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || echo '?')"
    echo
    echo "Direct FastCGI over a Unix socket, one connection per request, 1 client,"
    echo "single-threaded servers, decision log at level info to a file. Median of $REPS runs."
    echo
    read -r frate fus fp50 fp99 ferr < <(stat_direct floor)
    printf '%-38s %10s %9s %8s %8s %7s  %s\n' case "req/s" "us/req" p50_us p99_us errors "time vs floor"
    printf '%-38s %10.0f %9.1f %8s %8s %7s  %s\n' "floor: noop-authorizer" \
        "$frate" "$fus" "$fp50" "$fp99" "$ferr" "1.00x"
    for k in cached:"bouncer Basic, cached credential" \
        argon2:"bouncer Basic, Argon2id every time" \
        anon:"bouncer 401, no credentials"; do
        key=${k%%:*}
        read -r rate us p50 p99 errs < <(stat_direct "$key")
        ratio=$(awk -v a="$us" -v b="$fus" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "?" }')
        printf '%-38s %10.0f %9.1f %8s %8s %7s  %s\n' "$(echo "${k#*:}")" \
            "$rate" "$us" "$p50" "$p99" "$errs" "$ratio"
    done
    read -r rate us _ _ _ < <(stat_direct cached)
    echo
    awk -v a="$us" -v b="$fus" 'BEGIN { if (b > 0) printf "bouncer (Basic, cached) costs %.2fx the floor per request (%.1f us more).\n", a / b, a - b }'
    read -r rate us _ _ _ < <(stat_direct argon2)
    awk -v a="$us" -v b="$fus" 'BEGIN { if (b > 0) printf "bouncer (Basic, Argon2id, cache off) costs %.2fx the floor per request.\n", a / b }'
    if [ -n "$LT" ]; then
        echo
        echo "Through lighttpd $(lighttpd -v 2>/dev/null | sed -n 's/^lighttpd\/\([^ ]*\).*/\1/p')" \
            "(mode authorizer, max-procs 1, static file), ${WRK:-ab} with 4 keep-alive" \
            "connections${WRK:+, ${WSECS} s per run}. Median of $REPS runs."
        echo
        printf '%-38s %10s %9s %12s  %s\n' case "req/s" "us/req" "non-2xx" "time vs noop"
        lrate() { awk '{ print $1 }' "$TMP/$1" | median; }
        lbad() { awk '{ s += $2 } END { print s + 0 }' "$TMP/$1"; }
        nrate=$(lrate lt_noop)
        for k in lt_static:"static file, no authorizer" \
            lt_noop:"noop-authorizer (floor)" \
            lt_bouncer:"bouncer Basic, cached credential"; do
            key=${k%%:*}
            r=$(lrate "$key")
            awk -v r="$r" -v n="$nrate" -v name="${k#*:}" -v bad="$(lbad "$key")" 'BEGIN {
                us = (r > 0) ? 1e6 / r : 0
                printf "%-38s %10.0f %9.1f %12s  %s\n", name, r, us, bad,
                    (r > 0 && n > 0) ? sprintf("%.2fx", n / r) : "?" }'
        done
        br=$(lrate lt_bouncer)
        awk -v r="$br" -v n="$nrate" 'BEGIN { if (r > 0 && n > 0)
            printf "\nThrough lighttpd, bouncer costs %.2fx the noop floor per request (%.0f vs %.0f req/s).\n", n / r, r, n }'
    else
        echo
        echo "lighttpd part skipped (lighttpd missing or not working)."
    fi
    echo
    echo "decision log: $(wc -l <"$TMP/bouncer.err") lines written by the cached bouncer" \
        "($(wc -c <"$TMP/bouncer.err") bytes)"
} | tee "$OUT/latest.txt"
if [ -s "$TMP/client.err" ]; then
    log "client errors (first 5):"
    head -n 5 "$TMP/client.err" >&2
fi
exit 0
