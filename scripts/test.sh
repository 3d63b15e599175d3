#!/bin/bash
# SPDX-License-Identifier: MIT
# The whole test suite in one command (the README's, and what CI runs):
#
#   1. installs missing Debian packages with scripts/deps.sh;
#   2. ./autogen.sh when configure is missing or stale;
#   3. build/werror: ./configure --enable-werror, make, make check
#      (unit, integration and fuzz corpus replay tests);
#   4. build/asan: ./configure --enable-sanitizers (ASan + UBSan, leak
#      detection on), make, make check under the sanitizers; any sanitizer
#      report file (build/asan/sanitizer-reports/) is a failure;
#   5. with BNC_DISTCHECK=1: make distcheck (in build/dist);
#   6. prints "N passed, M failed[, K skipped]" on a line of its own, the
#      tail of every failing test's log, and exits non-zero on any failure,
#      or on any skip when CI=true (in CI a skip means a missing dependency).
#
# Environment: BNC_JOBS (make -j, default: number of CPUs), BNC_DISTCHECK=1,
# BNC_ASAN_TESTS (the TESTS list for the sanitizer build; default: all),
# BNC_SKIP_ASAN=1 (local quick runs only), CI=true, CC (werror build).
set -u

cd "$(dirname "$0")/.." || exit 1
top=$(pwd)

jobs="${BNC_JOBS:-$(nproc 2>/dev/null || echo 2)}"
started=$(date +%s)
failed_stages=()
timings=()

say() { printf '==> %s\n' "$*"; }

# Logs of this run only: the summary reads them.
rm -rf build/logs

# Runs one stage "name cmd..." with its output in build/logs/<name>.log,
# and records its time; a failing stage is reported at the end.
stage() {
    local name=$1 t0 rc
    shift
    t0=$(date +%s)
    say "$name"
    mkdir -p "$top/build/logs"
    "$@" >"$top/build/logs/$name.log" 2>&1
    rc=$?
    timings+=("$name $(($(date +%s) - t0))s")
    if [ "$rc" -ne 0 ]; then
        say "$name FAILED (exit $rc), last lines of build/logs/$name.log:"
        tail -n 40 "$top/build/logs/$name.log" | sed -e 's/^/    /'
        failed_stages+=("$name")
    fi
    return "$rc"
}

# ---- 1. packages -----------------------------------------------------------
deps_missing() {
    local p st
    command -v dpkg-query >/dev/null 2>&1 || return 1
    [ -x scripts/deps.sh ] || [ -f scripts/deps.sh ] || return 1
    for p in $(sh scripts/deps.sh --list); do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        case "$st" in
        *" installed") ;;
        *) return 0 ;;
        esac
    done
    return 1
}
if deps_missing; then
    say "installing missing packages (scripts/deps.sh)"
    if ! sh scripts/deps.sh; then
        say "scripts/deps.sh failed: the build or some tests may fail"
    fi
fi

# ---- 2. build system ------------------------------------------------------
if [ ! -x configure ] || [ configure.ac -nt configure ] ||
    [ Makefile.am -nt Makefile.in ]; then
    stage autogen ./autogen.sh || {
        echo "0 passed, 1 failed"
        exit 1
    }
fi

# Automake refuses out-of-tree builds of a source tree configured in place;
# say so plainly instead of failing inside configure.
if [ -f config.status ]; then
    echo "scripts/test.sh: this source tree is configured in place" \
        "(./config.status exists); the test builds are out of tree in" \
        "build/. Run 'make distclean' here first." >&2
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- 3. warnings-as-errors build, the full make check --------------------
mkdir -p build/werror build/asan
rm -f build/werror/test-suite.log build/asan/test-suite.log
werror_ok=0
if stage werror-configure sh -c 'cd build/werror && ../../configure --enable-werror' &&
    stage werror-make make -C build/werror -j"$jobs"; then
    werror_ok=1
    # Tests in parallel too: each picks its own free ports and temp dirs.
    stage werror-check make -C build/werror -j"$jobs" check
fi

# ---- 4. ASan + UBSan build ------------------------------------------------
asan_ok=0
if [ -z "${BNC_SKIP_ASAN:-}" ]; then
    # Leak detection stays on; the one suppression (tests/lsan.supp) is
    # libdb's own memory, which a panicked environment never frees (the
    # store's recovery tests panic it on purpose). Reports from every
    # process, also those the web servers spawn, go to files here and each
    # one is a failure.
    reports="$top/build/asan/sanitizer-reports"
    rm -rf "$reports"
    mkdir -p "$reports"
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1:check_initialization_order=1:log_path=$reports/asan"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$reports/ubsan"
    export LSAN_OPTIONS="suppressions=$top/tests/lsan.supp:print_suppressions=0"
    if stage asan-configure sh -c 'cd build/asan && ../../configure --enable-sanitizers CC="${BNC_ASAN_CC:-gcc}"' &&
        stage asan-make make -C build/asan -j"$jobs"; then
        asan_ok=1
        if [ -n "${BNC_ASAN_TESTS:-}" ]; then
            stage asan-check make -C build/asan -j"$jobs" check \
                TESTS="$BNC_ASAN_TESTS"
        else
            stage asan-check make -C build/asan -j"$jobs" check
        fi
    fi
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

# ---- 5. distcheck ---------------------------------------------------------
# In its own never-tested build dir: make dist copies EXTRA_DIST directories
# from the build tree too, so the .log/.trs files make check leaves in
# build/werror/tests/integration would end up in the tarball and make the
# distcheck build believe its tests already ran.
if [ "${BNC_DISTCHECK:-}" = 1 ] && [ "$werror_ok" = 1 ]; then
    rm -rf build/dist
    mkdir -p build/dist
    stage dist-configure sh -c 'cd build/dist && ../../configure' &&
        stage distcheck make -C build/dist -j"$jobs" distcheck \
            DISTCHECK_CONFIGURE_FLAGS=--enable-werror
fi

# ---- 6. summary -----------------------------------------------------------
pass=0
fail=0
skip=0
# "# PASS:  12" lines: from each test-suite.log, and from the distcheck
# output (its build tree is deleted when it succeeds).
count_from() {
    local f=$1 k v
    [ -f "$f" ] || return 0
    while read -r k v; do
        case "$k" in
        PASS: | XPASS:) pass=$((pass + v)) ;;
        FAIL: | XFAIL: | ERROR:) fail=$((fail + v)) ;;
        SKIP:) skip=$((skip + v)) ;;
        esac
    done < <(sed -n -e 's/\x1b\[[0-9;]*m//g' -e 's/^# \([A-Z]*:\) *\([0-9][0-9]*\)$/\1 \2/p' "$f" | head -n 7)
}
# When make check could not write its test-suite.log (a test script listed
# in TESTS is missing, say), count the .trs files it did write, plus one
# failure for the harness error.
count_trs() {
    local dir=$1 r
    while read -r r; do
        case "$r" in
        PASS | XPASS) pass=$((pass + 1)) ;;
        SKIP) skip=$((skip + 1)) ;;
        *) fail=$((fail + 1)) ;;
        esac
    done < <(find "$dir" -name '*.trs' -newer build/logs/werror-configure.log \
        -exec sed -n 's/^:global-test-result: //p' {} + 2>/dev/null)
}
for b in werror asan; do
    if [ -f "build/$b/test-suite.log" ]; then
        count_from "build/$b/test-suite.log"
    elif [ -f "build/logs/$b-check.log" ] &&
        [ build/logs/$b-check.log -nt build/logs/werror-configure.log ]; then
        count_trs "build/$b"
    fi
done
if [ -f build/logs/distcheck.log ] && [ "${BNC_DISTCHECK:-}" = 1 ]; then
    count_from build/logs/distcheck.log
fi

# Every sanitizer report file is a failure, even from a process whose exit
# status no test looked at.
sanitizer_reports=()
if [ -d build/asan/sanitizer-reports ]; then
    while IFS= read -r f; do
        sanitizer_reports+=("$f")
        fail=$((fail + 1))
    done < <(find build/asan/sanitizer-reports -type f | sort)
fi

# A stage that failed outside its tests counts as one failure, so a broken
# build can never print "0 failed".
for s in "${failed_stages[@]+"${failed_stages[@]}"}"; do
    case "$s" in
    werror-check | asan-check)
        # Its test failures are counted above; no test-suite.log means the
        # harness itself failed.
        [ -f "build/${s%-check}/test-suite.log" ] || fail=$((fail + 1)) ;;
    distcheck)
        grep -q '^# FAIL: *[1-9]\|^# ERROR: *[1-9]' build/logs/distcheck.log ||
            fail=$((fail + 1)) ;;
    *) fail=$((fail + 1)) ;;
    esac
done

# Logs of failing and skipped tests: the .trs says which.
show_logs() {
    local trs log res
    while IFS= read -r trs; do
        res=$(sed -n 's/^:test-result: //p' "$trs" | sort -u | tr '\n' ' ')
        log="${trs%.trs}.log"
        case "$res" in
        *FAIL* | *ERROR* | *XPASS*)
            echo "---- $log ($res) ----"
            tail -n 50 "$log" 2>/dev/null
            ;;
        *SKIP*)
            echo "---- skipped: $log: $(grep -m1 -i 'skip' "$log" 2>/dev/null)"
            ;;
        esac
    done < <(find build/werror build/asan build/dist -name '*.trs' -newer build/logs/werror-configure.log 2>/dev/null | sort)
}
if [ "$fail" -gt 0 ] || [ "$skip" -gt 0 ]; then
    show_logs
fi
for f in "${sanitizer_reports[@]+"${sanitizer_reports[@]}"}"; do
    echo "---- sanitizer report $f ----"
    head -n 40 "$f"
done

echo "---- times: ${timings[*]+"${timings[*]}"}, total $(($(date +%s) - started))s"
if [ "${#failed_stages[@]}" -gt 0 ]; then
    echo "---- failed stages (logs in build/logs/): ${failed_stages[*]}"
fi
summary="$pass passed, $fail failed"
if [ "$skip" -gt 0 ]; then
    summary="$summary, $skip skipped"
fi
echo "$summary"
if [ "$fail" -gt 0 ]; then
    exit 1
fi
if [ "$skip" -gt 0 ] && [ "${CI:-}" = true ]; then
    echo "skipped tests are failures in CI (CI=true): a dependency is missing" >&2
    exit 1
fi
exit 0
