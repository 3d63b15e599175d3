#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark, access rules (issue 6): what 1, 100 and 1000 [rules] cost on a
# token decision, as a ratio to the no-op floor, straight over FastCGI;
# plus the in-process cost of one rule decision (bench/bnc-rules-cost),
# with the first-segment index and without it.
#
# usage: bench/rules.sh [BUILD_DIR]   (run by bench/run.sh unless BENCH_RULES=0)
# env:   BENCH_RULES_ROUNDS (default 15), BENCH_RULES_REQUESTS (per round
#        and case, default 2000)
#
# Never fails on a number: it exits non-zero only when it cannot run at all.

set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC}" && pwd) || exit 1
BOUNCER=$B/bouncer
CLIENT=$B/tools/bnc-fcgi
NOOP=$B/tools/noop-authorizer
FILL=$B/bench/bnc-fill-tokens
COST=$B/bench/bnc-rules-cost
REPS=${BENCH_RULES_ROUNDS:-15}
NREQ=${BENCH_RULES_REQUESTS:-2000}
SIZES="1 100 1000"

for f in "$BOUNCER" "$CLIENT" "$NOOP" "$FILL" "$COST"; do
    if [ ! -x "$f" ]; then
        echo "bench/rules.sh: $f is missing: build first (make)" >&2
        exit 1
    fi
done

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bnc-bench-rules.XXXXXX") || exit 1
PIDS=()
cleanup() {
    local p
    for p in "${PIDS[@]}"; do
        kill -TERM "$p" 2>/dev/null
    done
    for p in "${PIDS[@]}"; do
        wait "$p" 2>/dev/null
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP PIPE
log() { echo "bench/rules: $*" >&2; }

median() {
    sort -n | awk '{ v[NR] = $1 } END {
        if (NR == 0) { print 0; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p" | sed 's|/s$||'; }

# rules N: N rules, the last "/ = authenticated" (the one the request
# meets). The others are a mix a large site might have, chosen so that many
# must still be looked at: a quarter under the request's own first segment
# /api/ (same index bucket), a quarter host rules for "/" (no segment, so
# never skipped by the index), a quarter globs and a quarter plain prefixes
# elsewhere.
rules() {
    local n=$1 i
    for ((i = 1; i < n; i++)); do
        case $((i % 4)) in
        0) echo "/s$i/ = group:g$i" ;;
        1) echo "GET,HEAD /api/r$i/ = scope:s$i" ;;
        2) echo "/s$i/**/*.php = authenticated" ;;
        3) echo "h$i.example.org/ = anonymous" ;;
        esac
    done
    echo "/ = authenticated"
}

log "filling a 1,000-token store"
if ! "$FILL" --store "$TMP/store" --user bench --count 1000 --cache-size 64M \
    --print-keys 1 >"$TMP/keys" 2>"$TMP/fill.err"; then
    cat "$TMP/fill.err" >&2
    exit 1
fi
KEY="Token $(head -n 1 "$TMP/keys")"
for n in $SIZES; do
    {
        printf '[store]\npath = %s\n\n[auth]\nschemes = token\n\n' "$TMP/store"
        printf '[log]\nlevel = info\n\n[rules]\n'
        rules "$n"
    } >"$TMP/r$n.conf"
done

wait_sock() {
    local i
    for i in $(seq 100); do
        [ -S "$1" ] && return 0
        kill -0 "$2" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}
start() { # name sock err cmd...
    local name=$1 sock=$2 err=$3
    shift 3
    "$@" --listen "unix:$sock" 2>"$err" &
    PIDS+=($!)
    wait_sock "$sock" $! || { cat "$err" >&2; log "$name did not start"; exit 1; }
}
start noop "$TMP/noop.sock" "$TMP/noop.err" "$NOOP"
for n in $SIZES; do
    start "bouncer ($n rules)" "$TMP/r$n.sock" "$TMP/r$n.err" \
        env BOUNCER_HOME="$TMP/store" "$BOUNCER" -c "$TMP/r$n.conf" --threads 1
done

PARAMS=(-p REQUEST_METHOD=GET -p REQUEST_URI=/api/items/42
    -p REMOTE_ADDR=127.0.0.1 -p REMOTE_PORT=50000 -p SERVER_NAME=localhost
    -p HTTP_HOST=localhost -p HTTP_USER_AGENT=bnc-bench/1
    -p "HTTP_AUTHORIZATION=$KEY")
run() { # key sock
    "$CLIENT" --bench --connect "unix:$2" --timeout 30 --concurrency 1 \
        --requests "$NREQ" --expect-status 200 "${PARAMS[@]}" \
        2>>"$TMP/client.err" >>"$TMP/$1"
}
# Every bouncer must grant the request before anything is measured.
for n in $SIZES; do
    out=$("$CLIENT" --bench --connect "unix:$TMP/r$n.sock" --requests 300 \
        --expect-status 200 "${PARAMS[@]}" 2>&1)
    if [ "$(field "$out" errors)" != 0 ]; then
        log "bouncer with $n rules does not grant the request: $out"
        exit 1
    fi
done
"$CLIENT" --bench --connect "unix:$TMP/noop.sock" --requests 300 "${PARAMS[@]}" >/dev/null 2>&1

log "$REPS rounds of $NREQ requests: floor, 1, 100, 1000 rules in turn"
# The order rotates from round to round, so that a slow moment on a shared
# machine does not always hit the same case.
ORDER=(floor 1 100 1000)
for ((r = 0; r < REPS; r++)); do
    for ((i = 0; i < 4; i++)); do
        n=${ORDER[$(((i + r) % 4))]}
        if [ "$n" = floor ]; then
            run floor "$TMP/noop.sock"
        else
            run "r$n" "$TMP/r$n.sock"
        fi
    done
done

col() { while read -r l; do field "$l" "$2"; done <"$TMP/$1" | median; }
errs() { while read -r l; do field "$l" errors; done <"$TMP/$1" | awk '{ s += $1 } END { print s + 0 }'; }
usreq() { # key -> median of 1e6 / rate
    while read -r l; do
        awk -v r="$(field "$l" rate)" 'BEGIN { if (r > 0) printf "%.2f\n", 1e6 / r }'
    done <"$TMP/$1" | median
}

echo
echo "Access rules (issue 6): a token decision ([auth] schemes = token, 1k-token"
echo "store) with 1, 100 and 1000 rules; the request GET /api/items/42 meets the"
echo "last rule. Direct FastCGI over a Unix socket, one connection per request,"
echo "single-threaded servers. Median of $REPS rounds of $NREQ requests."
echo
printf '%-34s %9s %8s %8s %7s  %-13s %s\n' case us/req p50_us p99_us errors "time vs floor" "vs 1 rule"
fus=$(usreq floor)
r1us=$(usreq r1)
for k in floor:"floor: noop-authorizer" r1:"bouncer Token, 1 rule" \
    r100:"bouncer Token, 100 rules" r1000:"bouncer Token, 1000 rules"; do
    key=${k%%:*}
    u=$(usreq "$key")
    awk -v n="${k#*:}" -v u="$u" -v f="$fus" -v b="$r1us" -v p50="$(col "$key" p50_us)" \
        -v p99="$(col "$key" p99_us)" -v e="$(errs "$key")" -v k="$key" 'BEGIN {
        printf "%-34s %9.1f %8s %8s %7s  %-13s %s\n", n, u, p50, p99, e,
            (f > 0) ? sprintf("%.2fx", u / f) : "?",
            (k == "floor" || b <= 0) ? "" : sprintf("%+.1f%%", (u / b - 1) * 100) }'
done

# Paired: within one round the cases ran back to back, so the ratio of two
# of them is less exposed to the machine's load changing between rounds.
paired() { # key-a key-b -> median over rounds of us(a)/us(b)
    paste -d ' ' "$TMP/$1" "$TMP/$2" | while read -r l; do
        ra=$(field "$l" rate | head -n 1)
        rb=$(field "$l" rate | tail -n 1)
        awk -v a="$ra" -v b="$rb" 'BEGIN { if (a > 0) printf "%.4f\n", b / a }'
    done | median
}
echo
awk -v p100="$(paired r100 r1)" -v p1000="$(paired r1000 r1)" 'BEGIN {
    printf "Paired per round (median of us/req ratios in the same round): 100 rules %+.1f%%, 1000 rules %+.1f%% vs 1 rule\n",
        (p100 - 1) * 100, (p1000 - 1) * 100 }'
P100=$(paired r100 r1)

echo
echo "In-process cost of one rule decision (normalise + match + evaluate),"
echo "bench/bnc-rules-cost, 200000 decisions:"
echo
printf '%-12s %-14s %14s %14s\n' rules "matched line" "indexed ns" "linear ns"
for n in $SIZES; do
    line=$("$COST" "$TMP/r$n.conf" GET localhost /api/items/42 200000 2>/dev/null)
    printf '%-12s %-14s %14s %14s\n' "$n" "$(field "$line" line)" \
        "$(field "$line" indexed_ns)" "$(field "$line" linear_ns)"
    eval "ns$n=$(field "$line" indexed_ns)"
done
echo
awk -v a="${ns100:-0}" -v b="${ns1:-0}" -v t="$r1us" -v u100="$(usreq r100)" -v p="$P100" 'BEGIN {
    add = (a - b) / 1000; pct = (t > 0) ? add / t * 100 : 0
    printf "Issue 6 target, 100 rules add < 5%% to a token decision:\n"
    printf "  in-process: +%.2f us on a %.1f us decision = %.2f%% -> %s\n", add, t, pct,
        (pct < 5) ? "met" : "NOT met"
    printf "  end to end: %+.1f%% paired per round (medians: 1 rule %.1f us, 100 rules %.1f us;\n", (p - 1) * 100, t, u100
    printf "              on a shared machine the noise is several %%: see the paired figure)\n" }'
if [ -s "$TMP/client.err" ]; then
    log "client errors (first 5):"
    head -n 5 "$TMP/client.err" >&2
fi
exit 0
