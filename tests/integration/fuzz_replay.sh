#!/bin/bash
# SPDX-License-Identifier: MIT
# Replays every fuzz corpus (tests/fuzz/corpus/<name>/) through its
# tests/fuzz/replay_<name> program, the fuzz target linked with a plain
# main() by make check: a corpus input that crashes, trips a sanitizer or an
# invariant, or hangs fails the test, and so does a missing program or corpus.
set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
: "${top_builddir:=$top_srcdir}"

# The targets Makefile.am builds (FUZZ_NAMES); a corpus directory without a
# program, or a program without a corpus, is an error too.
names="basic conf params password cidr user"
corpus_root="$top_srcdir/tests/fuzz/corpus"
# Per program; a sanitizer build replays slower, but minutes mean a hang.
limit="${BNC_REPLAY_TIMEOUT:-300}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bnc-replay.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# The targets make their stores under TMPDIR; keep them in ours.
export TMPDIR="$tmp"

if [ -d "$corpus_root" ]; then
    for d in "$corpus_root"/*/; do
        [ -d "$d" ] || continue
        n=$(basename "$d")
        case " $names " in
        *" $n "*) ;;
        *) names="$names $n" ;;
        esac
    done
fi

passed=0
failed=0
i=0
for n in $names; do
    i=$((i + 1))
    prog="$top_builddir/tests/fuzz/replay_$n"
    dir="$corpus_root/$n"
    if [ ! -x "$prog" ]; then
        echo "not ok $i - replay_$n: $prog is not built"
        failed=$((failed + 1))
        continue
    fi
    if [ ! -d "$dir" ] || [ -z "$(ls -A "$dir" 2>/dev/null)" ]; then
        echo "not ok $i - replay_$n: no corpus in $dir"
        failed=$((failed + 1))
        continue
    fi
    count=$(find "$dir" -maxdepth 1 -type f ! -name '.*' | wc -l)
    out="$tmp/replay_$n.out"
    start=$(date +%s)
    # Verbose: the last file named before a crash is the culprit.
    BNC_REPLAY_VERBOSE=1 timeout -k 10 "$limit" "$prog" "$dir" >"$out" 2>&1
    rc=$?
    secs=$(($(date +%s) - start))
    if [ "$rc" -eq 0 ]; then
        echo "ok $i - replay_$n: $count inputs (${secs}s)"
        passed=$((passed + 1))
    else
        if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
            why="timed out after ${limit}s"
        else
            why="exit status $rc"
        fi
        last=$(grep '^replay: .* bytes)$' "$out" | tail -n 1)
        echo "not ok $i - replay_$n: $why"
        echo "#   last input started: ${last#replay: }"
        tail -n 60 "$out" | sed -e 's/^/#   /'
        failed=$((failed + 1))
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
