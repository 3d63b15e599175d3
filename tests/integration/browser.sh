#!/bin/bash
# SPDX-License-Identifier: MIT
# End-to-end browser test of sessions (issue 4): lighttpd with the shipped
# lighttpd/bouncer.conf (authorizer on /app/) and lighttpd/bouncer-auth.conf
# (the /auth/ responder) in front of examples/env.cgi, driven by Debian's
# headless chromium through chromedriver (tests/integration/browser_e2e.py,
# Debian's python3-selenium):
#
#   protected page -> login form -> a wrong password (the form again, with
#   a message) -> log in -> the page shows the user's
#   name -> whoami page, Log out -> protected page -> login form again.
#
# The screenshots stay in $top_builddir/tests/artifacts/browser/ (ignored by
# git) for a person to look at; their paths are printed.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd curl
for f in /usr/bin/chromium /usr/bin/chromedriver; do
    [ -x "$f" ] || skip_all "$f not installed (run scripts/deps.sh)"
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null ||
    skip_all "python3-selenium not installed (run scripts/deps.sh)"
need_built "$BIN_BOUNCER" "$BIN_CTL"
bnc_init browser

STORE="$T/store"
CONF="$T/bouncer.conf"
USER_NAME=alice
USER_PW="al-$(head -c 12 /dev/urandom | base64 | tr -d '+/=')"
ART="$top_builddir/tests/artifacts/browser"
E2E="$top_srcdir/tests/integration/browser_e2e.py"
# Generous: chromium's first start on a cold machine takes a few seconds,
# every wait inside the script is bounded by 10 s.
LIMIT=${BNC_BROWSER_TIMEOUT:-180}

make_store "$STORE" || bnc_finish
add_user "$STORE" "$USER_NAME" "$USER_PW" --name "Alice Browser" || bnc_finish
cat >"$CONF" <<EOF
[store]
path = $STORE

[auth]
schemes = session, basic
realm = bouncer-browser

[rules]
/auth/ = anonymous
/app/ = authenticated
EOF
chmod 644 "$CONF"
if out=$("$BIN_BOUNCER" -c "$CONF" --check-config 2>&1); then
    pass "bouncer --check-config accepts the session config"
else
    die "bouncer --check-config refuses the session config" "$out"
fi

www_cgi app

# ---- lighttpd with the shipped snippets -------------------------------------
PORT=$(free_port) || die "no free port"
lighttpd_conf "$PORT" "$CONF" "$T/run" "$T/log/" \
    bouncer.conf bouncer-auth.conf >"$T/lighttpd.conf"
start_lighttpd "$T/lighttpd.conf" "$PORT"
# What the browser is about to see, checked with curl first so that a
# server-side problem is reported as such and not as a browser failure.
http "$URL/app/" -H "Accept: text/html"
check_eq "curl: a browser navigation to /app/ gets 302" 302 "$S"
check_match "curl: to the login page" "$(header Location)" '/auth/login\?next='
http "$URL/auth/login?next=%2Fapp%2F" -H "Accept: text/html"
check_eq "curl: GET /auth/login: 200" 200 "$S"

# ---- the browser ------------------------------------------------------------
rm -rf "$ART"
mkdir -p "$ART"
PWFILE="$T/password"
(umask 077 && printf '%s\n' "$USER_PW" >"$PWFILE")
# Its own process group (setsid), so chromium and chromedriver go with it
# whatever happens to the Python process.
setsid /usr/bin/python3 "$E2E" --base "$URL" --protected /app/ \
    --user "$USER_NAME" --password-file "$PWFILE" --artifacts "$ART" \
    >"$T/e2e.out" 2>&1 &
PYPID=$!
bnc_at_exit "kill -TERM -- -$PYPID 2>/dev/null; sleep 1; kill -KILL -- -$PYPID 2>/dev/null"
end=$((SECONDS + LIMIT))
while pid_alive "$PYPID" && [ "$SECONDS" -lt "$end" ]; do
    sleep 0.5
done
if pid_alive "$PYPID"; then
    kill -TERM -- "-$PYPID" 2>/dev/null
    sleep 1
    kill -KILL -- "-$PYPID" 2>/dev/null
    fail "browser_e2e.py finished within $LIMIT s" "$(tail -n 30 "$T/e2e.out")"
fi
wait "$PYPID" 2>/dev/null
rc=$?

# Its ok / not ok lines become ours (with their detail lines).
summary=
cur=
flush_fail() {
    if [ -n "$cur" ]; then
        fail "browser: $cur" "$detail"
        cur=
    fi
}
detail=
while IFS= read -r line; do
    case "$line" in
    "ok "*)
        flush_fail
        pass "browser: ${line#ok * - }"
        ;;
    "not ok "*)
        flush_fail
        cur=${line#not ok * - }
        detail=
        ;;
    "#     "*)
        if [ -n "$cur" ]; then
            detail="$detail${detail:+$'\n'}${line#\#     }"
        fi
        ;;
    *" passed, "*" failed")
        flush_fail
        summary=$line
        ;;
    *)
        flush_fail
        printf '# browser: %s\n' "$line"
        ;;
    esac
done <"$T/e2e.out"
flush_fail
if [ -z "$summary" ]; then
    fail "browser_e2e.py printed its summary (exit $rc)" "$(tail -n 30 "$T/e2e.out")"
elif [ "$rc" -ne 0 ]; then
    note "browser_e2e.py: $summary (exit $rc)"
fi

for f in 01-login.png 01b-login-failed.png 02-protected.png 02b-whoami.png 03-logged-out.png 04-protected-again.png; do
    if [ -s "$ART/$f" ] && [ "$(head -c 8 "$ART/$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ]; then
        pass "screenshot kept: $ART/$f"
    else
        fail "screenshot kept: $ART/$f"
    fi
done

# The server side of what the browser did.
ELOG="$T/log/bouncer.log"
check_file_contains "decision log: the browser's login" "$ELOG" "uri=/auth/login"
check_file_contains "decision log: a session decision" "$ELOG" "scheme=session"
check_file_not_contains "decision log: never the password" "$ELOG" "$USER_PW"
# lighttpd buffers its access log: stop it first so the lines are written.
bnc_stop_pid "$LPID" 10
if grep -Eq "^127\\.0\\.0\\.1 $USER_NAME \"GET /app/ " "$T/log/access.log"; then
    pass "access log: the browser's GET /app/ as $USER_NAME"
else
    fail "access log: the browser's GET /app/ as $USER_NAME" "$(tail -n 8 "$T/log/access.log")"
fi
left=$(wait_pids_gone 5 $(pgrep -g "$PYPID" 2>/dev/null))
check_eq "no chromium or chromedriver left running (process group $PYPID)" "" "$left"
bnc_finish
