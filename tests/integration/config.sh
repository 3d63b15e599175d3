#!/bin/bash
# SPDX-License-Identifier: MIT
# bouncer --check-config on every tests/data/conf case: valid ones print
# "configuration OK" and exit 0; invalid ones exit 1 with the pinned first
# message ("FILE:LINE: ...", FILE = the path given with -c) on stderr.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
BOUNCER="$top_builddir/bouncer"
CTL="$top_builddir/bouncerctl"
DATA="${BNC_TEST_DATA:-$top_srcdir/tests/data}/conf"

for bin in "$BOUNCER" "$CTL"; do
    if [ ! -x "$bin" ]; then
        echo "config.sh: $bin is not built" >&2
        exit 1
    fi
done
if [ ! -d "$DATA/valid" ] || [ ! -d "$DATA/invalid" ]; then
    echo "config.sh: no cases under $DATA" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bnc-config.XXXXXX") || exit 1
cleanup() {
    rm -rf "$tmp"
}
trap cleanup EXIT
# Only what -c names may be read: no stray config from the environment.
unset BOUNCER_CONF

pass=0
fail=0
ok() { pass=$((pass + 1)); printf 'ok - %s\n' "$1"; }
bad() {
    fail=$((fail + 1))
    printf 'not ok - %s\n' "$1"
    shift
    printf '#   %s\n' "$@"
}

# check_config CONF HOME: runs bouncer --check-config with a time limit;
# sets rc, out (stdout) and err (stderr).
check_config() {
    BOUNCER_HOME="$2" timeout 20 "$BOUNCER" --check-config -c "$1" \
        </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# new_store DIR CONF: a fresh, initialised store at DIR.
new_store() {
    mkdir -p "$1" &&
        BOUNCER_HOME="$1" timeout 20 "$CTL" -c "$2" db init \
            </dev/null >"$tmp/ctl.out" 2>&1
}

n=0
for dir in "$DATA"/valid/*/; do
    name=valid/$(basename "$dir")
    conf=${dir}bouncer.conf
    home="$tmp/home$n"
    n=$((n + 1))
    if ! new_store "$home" "$conf"; then
        bad "$name: bouncerctl db init" "$(cat "$tmp/ctl.out")"
        continue
    fi
    check_config "$conf" "$home"
    if [ "$rc" -eq 0 ] && [[ "$out" == *"configuration OK"* ]]; then
        ok "$name"
    else
        bad "$name: expected exit 0 and 'configuration OK'" \
            "exit $rc" "stdout: $out" "stderr: $err"
    fi
done

# One store for the invalid cases, so only the config can be at fault.
home="$tmp/home-invalid"
printf '[auth]\nschemes = basic\n' >"$tmp/plain.conf"
if ! new_store "$home" "$tmp/plain.conf"; then
    bad "bouncerctl db init for the invalid cases" "$(cat "$tmp/ctl.out")"
fi
for dir in "$DATA"/invalid/*/; do
    name=invalid/$(basename "$dir")
    conf=${dir}bouncer.conf
    if [ ! -f "${dir}error" ]; then
        bad "$name: no error file"
        continue
    fi
    expected=$(head -n 1 "${dir}error")
    expected="${conf}${expected#FILE}"
    check_config "$conf" "$home"
    first=$(head -n 1 "$tmp/err")
    if [ "$rc" -eq 1 ] && [ "$first" = "$expected" ] &&
        [[ "$out" != *"configuration OK"* ]]; then
        ok "$name"
    else
        bad "$name: expected exit 1 and the pinned message" \
            "exit $rc" "expected: $expected" "actual:   $first" \
            "stdout: $out"
    fi
done

# A file that does not exist is an error too, never the built-in defaults.
check_config "$tmp/missing.conf" "$home"
if [ "$rc" -eq 1 ] && [[ "$err" == "$tmp/missing.conf: "* ]]; then
    ok "missing file"
else
    bad "missing file: expected exit 1 and a located message" "exit $rc" \
        "stderr: $err"
fi

echo "# config.sh: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
