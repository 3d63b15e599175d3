#!/bin/bash
# SPDX-License-Identifier: MIT
# Several bouncer processes and bouncerctl writers share one store while
# processes are SIGKILLed mid-load (what mod_fcgid/lighttpd do at any time).
#
# 3 bouncer daemons (Unix sockets) take Basic-auth load from bnc-fcgi --bench
# while a loop adds users with bouncerctl. After ~1 s one bouncer is
# SIGKILLed, and so are running bouncerctl processes. Then: the surviving
# bouncers still answer (0 errors, bounded time), a new bouncer answers within
# 2 s, writes go on, every add that exited 0 is in the store, and
# `bouncerctl db verify` passes.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_cmd base64 timeout
need_built "$BIN_BOUNCER" "$BIN_CTL" "$BIN_FCGI"
bnc_init multiproc

STORE="$T/store"
CONF="$T/bouncer.conf"
LOAD_SECS=${BNC_MULTIPROC_SECS:-5}     # length of the load and write phase
KILL_AT_MS=1000                        # when the bouncer is killed
LOAD_PW="load-pw-$(head -c 6 /dev/urandom | base64 | tr -d '+/=')"
AUTH="Basic $(b64 "loader:$LOAD_PW")"

# As root, the bouncers run as the server user (like under lighttpd or
# mod_fcgid) and bouncerctl as root, sharing the store through its group.
AS_WWW=()
if [ "$(id -u)" -eq 0 ] && getent passwd "$WWW_USER" >/dev/null; then
    AS_WWW=(setpriv --reuid="$WWW_USER" --regid="$WWW_GROUP" --init-groups --)
fi

make_store "$STORE" || bnc_finish
add_user "$STORE" loader "$LOAD_PW" --group load || bnc_finish
write_bouncer_conf "$CONF" "$STORE" "multiproc" "/ = authenticated"

# start_bouncer N: bouncer N on $T/run/bN.sock, pid in BPID[N].
declare -A BPID
start_bouncer() {
    local n=$1
    rm -f "$T/run/b$n.sock"
    "${AS_WWW[@]}" "$BIN_BOUNCER" -c "$CONF" --listen "unix:$T/run/b$n.sock" \
        >>"$T/log/bouncer-$n.log" 2>&1 &
    BPID[$n]=$!
    bnc_track "${BPID[$n]}"
}

# ask N [timeout]: one authorizer request to bouncer N; prints the status.
ask() {
    local n=$1 to=${2:-5} out
    out=$(timeout $((to + 2)) "$BIN_FCGI" --connect "unix:$T/run/b$n.sock" \
        --role authorizer --timeout "$to" \
        -p "HTTP_AUTHORIZATION=$AUTH" -p REQUEST_METHOD=GET \
        -p REQUEST_URI=/app/ -p REMOTE_ADDR=127.0.0.1 -p SERVER_PROTOCOL=HTTP/1.1 \
        2>/dev/null | tr -d '\r')
    printf '%s\n' "$out" | sed -n 's/^Status: *\([0-9][0-9][0-9]\).*/\1/p' | head -n 1
}

# bench N SECONDS CONCURRENCY OUTFILE [extra...]: bounded bench run.
bench() {
    local n=$1 secs=$2 conc=$3 outf=$4
    shift 4
    timeout $((secs + 15)) "$BIN_FCGI" --bench --connect "unix:$T/run/b$n.sock" \
        --role authorizer --timeout 5 --duration "$secs" --concurrency "$conc" \
        --expect-status 200 \
        -p "HTTP_AUTHORIZATION=$AUTH" -p REQUEST_METHOD=GET \
        -p REQUEST_URI=/app/ -p REMOTE_ADDR=127.0.0.1 -p SERVER_PROTOCOL=HTTP/1.1 \
        "$@" >"$outf" 2>&1
}

for n in 1 2 3; do
    start_bouncer "$n"
done
for n in 1 2 3; do
    if wait_sock "$T/run/b$n.sock" 5; then
        pass "bouncer $n (pid ${BPID[$n]}) listens on b$n.sock"
    else
        die "bouncer $n did not start" "$(cat "$T/log/bouncer-$n.log")"
    fi
done
for n in 1 2 3; do
    check_eq "bouncer $n grants loader before the load" 200 "$(ask "$n")"
done

# ---- writer: bouncerctl user add in a loop -------------------------------
# Each line of added.txt: NAME EXIT-CODE END-MS. The pid of the running
# bouncerctl is kept in ctl.pid so that the main script can SIGKILL it.
writer() {
    local i=0 name rc pid end
    end=$(($(now_ms) + LOAD_SECS * 1000))
    while [ "$(now_ms)" -lt "$end" ] && [ "$i" -lt 2000 ]; do
        i=$((i + 1))
        name=$(printf 'u%04d' "$i")
        printf 'pw-%s\n' "$name" | BOUNCER_HOME=$STORE "$BIN_CTL" user add "$name" \
            --group load --password-stdin >>"$T/log/writer.log" 2>&1 &
        pid=$!
        printf '%s\n' "$pid" >"$T/ctl.pid"
        wait "$pid"
        rc=$?
        # 75 (EX_TEMPFAIL) = the store was being recovered after a process
        # died inside it; the documented answer is to run the command again.
        # "already exists" then means the first attempt did commit.
        if [ "$rc" -eq 75 ]; then
            printf 'pw-%s\n' "$name" | BOUNCER_HOME=$STORE "$BIN_CTL" user add "$name" \
                --group load --password-stdin >>"$T/log/writer.log" 2>&1
            rc=$?
            if [ "$rc" -ne 0 ] && BOUNCER_HOME=$STORE "$BIN_CTL" user show "$name" >/dev/null 2>&1; then
                rc=0
            fi
            echo "$name: retried after exit 75, now $rc" >>"$T/log/writer.log"
        fi
        printf '%s %s %s\n' "$name" "$rc" "$(now_ms)" >>"$T/added.txt"
    done
    : >"$T/ctl.pid"
}
: >"$T/added.txt"

# ---- load ---------------------------------------------------------------
T0=$(now_ms)
for n in 1 2 3; do
    bench "$n" "$LOAD_SECS" 4 "$T/load-$n.out" &
    LOADPID[$n]=$!
done
writer 2>/dev/null &
WPID=$!
bnc_track "$WPID"

sleep "$(printf '%d.%03d' $((KILL_AT_MS / 1000)) $((KILL_AT_MS % 1000)))"
T_KILL=$(now_ms)
kill -KILL "${BPID[2]}"
wait "${BPID[2]}" 2>/dev/null
note "SIGKILLed bouncer 2 (pid ${BPID[2]}) at +$((T_KILL - T0)) ms, under load"

# SIGKILL running bouncerctl processes (a few tries, at staggered moments, so
# that at least one dies inside the store rather than while hashing).
KILLED_CTL=0
for delay in 0.05 0.13 0.21; do
    sleep "$delay"
    cp=$(cat "$T/ctl.pid" 2>/dev/null)
    if [ -n "$cp" ] && kill -KILL "$cp" 2>/dev/null; then
        KILLED_CTL=$((KILLED_CTL + 1))
        note "SIGKILLed bouncerctl pid $cp at +$(($(now_ms) - T0)) ms"
    fi
done
if [ "$KILLED_CTL" -ge 1 ]; then
    pass "SIGKILLed $KILLED_CTL running bouncerctl process(es) mid-write"
else
    fail "SIGKILLed a running bouncerctl mid-write" "no bouncerctl was running at the kill times"
fi

# ---- the survivors right after the kill ----------------------------------
# One case is outside what any process can repair in place: the victim died
# inside Berkeley DB holding one of its internal mutexes. 5.3 cannot wake a
# thread waiting on it (berkeley-db.md 9), so such a survivor logs that it is
# stuck and exits, and the web server starts a fresh one (every server
# supervises its FastCGI processes). The test then plays the server: it
# requires the survivor to have left for exactly that logged reason, restarts
# it, and requires the replacement to answer within 3 s. Any other failure
# fails as before.
declare -A REPLACED
bdb_stuck_exit() {
    local n=$1 end=$((SECONDS + 15))
    while kill -0 "${BPID[$n]}" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
        sleep 0.2
    done
    ! kill -0 "${BPID[$n]}" 2>/dev/null &&
        grep -qE "stuck inside Berkeley DB|did not finish within" "$T/log/bouncer-$n.log"
}
replace_bouncer() {
    local n=$1 t st=""
    start_bouncer "$n"
    t=$(now_ms)
    while [ $(($(now_ms) - t)) -lt 3000 ]; do
        if [ -S "$T/run/b$n.sock" ]; then
            st=$(ask "$n" 1)
            [ "$st" = 200 ] && break
        fi
        sleep 0.05
    done
    [ "$st" = 200 ]
}
for n in 1 3; do
    t=$(now_ms)
    bench "$n" 1 2 "$T/after-$n.out"
    rc=$?
    line=$(grep '^requests=' "$T/after-$n.out")
    if [ "$rc" -eq 0 ] && [[ "$line" == *" errors=0 "* ]]; then
        pass "bouncer $n answers correctly right after the kill ($line)"
    elif bdb_stuck_exit "$n"; then
        REPLACED[$n]=1
        note "bouncer $n was stuck on a mutex the killed process held inside Berkeley DB, and exited as designed"
        if replace_bouncer "$n"; then
            pass "bouncer $n, stuck on the dead process's Berkeley DB mutex, exited and its replacement answers 200"
        else
            fail "bouncer $n's replacement answers 200 within 3 s" "$(tail -n 5 "$T/log/bouncer-$n.log")"
        fi
    elif [ "$rc" -eq 124 ]; then
        fail "bouncer $n answers right after the kill" "HUNG: bench did not finish in 16 s"
    else
        fail "bouncer $n answers correctly right after the kill" "exit $rc" \
            "$(cat "$T/after-$n.out")" "$(tail -n 5 "$T/log/bouncer-$n.log")"
    fi
    note "post-kill bench on bouncer $n took $(($(now_ms) - t)) ms"
done

# ---- a new process joins -------------------------------------------------
t=$(now_ms)
start_bouncer 4
st=""
while [ $(($(now_ms) - t)) -lt 2000 ]; do
    if [ -S "$T/run/b4.sock" ]; then
        st=$(ask 4 1)
        [ "$st" = 200 ] && break
    fi
    sleep 0.05
done
T_NEW=$(($(now_ms) - t))
if [ "$st" = 200 ]; then
    pass "a new bouncer answered 200 within 2 s (${T_NEW} ms after start)"
else
    fail "a new bouncer answered 200 within 2 s" "last status '${st}' after ${T_NEW} ms" \
        "$(tail -n 5 "$T/log/bouncer-4.log")"
fi

# ---- end of the load phase -----------------------------------------------
end=$((SECONDS + LOAD_SECS + 30))
while kill -0 "$WPID" 2>/dev/null && [ "$SECONDS" -lt "$end" ]; do
    sleep 0.2
done
if kill -0 "$WPID" 2>/dev/null; then
    fail "writer loop finished" "still running after $((LOAD_SECS + 30)) s (bouncerctl hung?)" \
        "$(tail -n 5 "$T/log/writer.log")"
    cp=$(cat "$T/ctl.pid" 2>/dev/null)
    [ -n "$cp" ] && kill -KILL "$cp" 2>/dev/null
fi
wait "$WPID" 2>/dev/null
for n in 1 2 3; do
    wait "${LOADPID[$n]}"
    rc=$?
    line=$(grep '^requests=' "$T/load-$n.out")
    note "load on bouncer $n: exit $rc: ${line:-no summary}"
    if [ "$n" != 2 ]; then
        if [ "$rc" -eq 0 ]; then
            pass "bouncer $n: 0 errors during the whole load phase"
        elif [ -n "${REPLACED[$n]:-}" ]; then
            pass "bouncer $n: errors only while it was stuck and replaced (the Berkeley DB mutex case above)"
        else
            fail "bouncer $n: 0 errors during the whole load phase" "$(cat "$T/load-$n.out")"
        fi
    fi
done

n_ok=$(awk '$2 == 0' "$T/added.txt" | wc -l)
n_bad=$(awk '$2 != 0' "$T/added.txt" | wc -l)
n_after=$(awk -v k="$T_KILL" '$2 == 0 && $3 > k' "$T/added.txt" | wc -l)
note "bouncerctl user add: $n_ok exited 0, $n_bad did not ($(awk '$2 != 0 {print $1"="$2}' "$T/added.txt" | tr '\n' ' '))"
if [ "$n_ok" -ge 3 ]; then
    pass "bouncerctl wrote users during the load ($n_ok adds in ${LOAD_SECS} s)"
else
    fail "bouncerctl wrote users during the load" "only $n_ok succeeded" \
        "$(tail -n 5 "$T/log/writer.log")"
fi
if [ "$n_after" -ge 1 ]; then
    pass "writes continued after the kills ($n_after adds)"
else
    fail "writes continued after the kills" "$(tail -n 5 "$T/log/writer.log")"
fi
n_unexpected=$(awk '$2 != 0 && $2 != 137' "$T/added.txt" | wc -l)
check_eq "no bouncerctl add failed except the SIGKILLed ones" 0 "$n_unexpected"

# ---- every acknowledged write is there -----------------------------------
missing=""
while read -r name rc _; do
    [ "$rc" = 0 ] || continue
    if ! timeout 20 env BOUNCER_HOME="$STORE" "$BIN_CTL" user show "$name" >/dev/null 2>&1; then
        missing="$missing $name"
    fi
done <"$T/added.txt"
check_eq "every user whose add exited 0 exists ($n_ok checked)" "" "$missing"

last=$(awk '$2 == 0 {n = $1} END {print n}' "$T/added.txt")
if [ -n "$last" ]; then
    st=$(timeout 10 "$BIN_FCGI" --connect "unix:$T/run/b4.sock" --role authorizer --timeout 5 \
        -p "HTTP_AUTHORIZATION=Basic $(b64 "$last:pw-$last")" -p REQUEST_METHOD=GET \
        -p REQUEST_URI=/app/ -p REMOTE_ADDR=127.0.0.1 2>/dev/null |
        tr -d '\r' | sed -n 's/^Status: *\([0-9]*\).*/\1/p')
    check_eq "a user added during the load ($last) can log in" 200 "$st"
fi
for n in 1 3; do
    check_eq "surviving bouncer $n still grants at the end" 200 "$(ask "$n")"
done

# ---- store integrity -----------------------------------------------------
t=$(now_ms)
if out=$(timeout 60 env BOUNCER_HOME="$STORE" "$BIN_CTL" db verify 2>&1); then
    pass "bouncerctl db verify passes ($(($(now_ms) - t)) ms)"
else
    fail "bouncerctl db verify passes" "$out"
fi

# ---- shutdown ------------------------------------------------------------
for n in 1 3 4; do
    bnc_stop_pid "${BPID[$n]}" 10
    check_eq "bouncer $n exits 0 on SIGTERM" 0 "$BNC_LAST_RC"
done
for f in "$T"/log/bouncer-*.log; do
    check_file_not_contains "$(basename "$f"): password never logged" "$f" "$LOAD_PW"
done

note "timings: kill at +$((T_KILL - T0)) ms; new bouncer ready in ${T_NEW} ms; $n_ok adds in ${LOAD_SECS} s"
bnc_finish
