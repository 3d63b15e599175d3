#!/bin/bash
# SPDX-License-Identifier: MIT
# Real nginx (auth_request) + nginx/bouncer-auth.conf and
# nginx/bouncer-protect.conf (as shipped) + a bouncer daemon (--listen), as
# DESIGN 1 wires nginx: what a client sees for good, wrong, missing and
# forbidden credentials, the identity nginx gets back, per-location rules,
# a POST with a body (bouncer must not wait for it), and no status nginx would
# turn into a 500.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd nginx curl setpriv
need_built "$BIN_BOUNCER" "$BIN_CTL"
[ -f /etc/nginx/fastcgi_params ] || skip_all "/etc/nginx/fastcgi_params missing (nginx package)"
bnc_init nginx

REALM="nginx-test"
STORE="$T/store"
CONF="$T/bouncer.conf"
DEMO_PW="s3cret-$(head -c 9 /dev/urandom | base64 | tr -d '+/=')"

# ---- store, users, bouncer config ----------------------------------------------
make_store "$STORE" || bnc_finish
add_user "$STORE" demo "$DEMO_PW" --group staff --email demo@example.org || bnc_finish
add_user "$STORE" boss "boss-pw-9" --group admin || bnc_finish
token_create "$STORE" demo --label nginx --scope read || bnc_finish
KEY=$TOKEN_KEY
{
    printf '[store]\npath = %s\n\n' "$STORE"
    printf '[auth]\nschemes = session, token, basic\nrealm = %s\n\n' "$REALM"
    printf '[throttle]\ntrusted = 127.0.0.1, ::1\n\n'
    printf '[rules]\n'
    printf '/pub/ = anonymous\n/app/admin/ = group:admin\n/app/ = authenticated\n'
} >"$CONF"
chmod 644 "$CONF"
if out=$("$BIN_BOUNCER" -c "$CONF" --check-config 2>&1); then
    pass "bouncer --check-config accepts the test config"
else
    fail "bouncer --check-config accepts the test config" "$out"
fi

# ---- the bouncer daemon, as the web server's user -------------------------------
SOCK="$T/run/bouncer.sock"
setpriv --reuid "$WWW_USER" --regid "$WWW_GROUP" --init-groups -- \
    "$BIN_BOUNCER" -c "$CONF" --listen "unix:$SOCK" --threads 4 \
    2>>"$T/log/bouncer.log" &
BPID=$!
bnc_track "$BPID"
wait_sock "$SOCK" 5 || die "bouncer --listen did not start" "$(cat "$T/log/bouncer.log")"
pass "bouncer --listen unix:$SOCK runs as $WWW_USER"

# ---- document root -------------------------------------------------------------
mkdir -p "$T/www/app/admin" "$T/www/pub" "$T/www/loc"
printf 'APP\n' >"$T/www/app/index.html"
printf 'ADMIN\n' >"$T/www/app/admin/index.html"
printf 'PUBLIC\n' >"$T/www/pub/index.html"
printf 'LOC\n' >"$T/www/loc/index.html"
chmod -R a+rX "$T/www"

# ---- nginx: ours around the shipped snippets ----------------------------------
PORT=$(free_port) || die "no free port"
cat >"$T/nginx.conf" <<NGX
user $WWW_USER $WWW_GROUP;
worker_processes 2;
daemon off;
pid $T/run/nginx.pid;
error_log $T/log/nginx-error.log info;
events { worker_connections 64; }
http {
    access_log $T/log/nginx-access.log;
    client_body_temp_path $T/run/body;
    fastcgi_temp_path $T/run/fastcgi;
    proxy_temp_path $T/run/proxy;
    uwsgi_temp_path $T/run/uwsgi;
    scgi_temp_path $T/run/scgi;
    upstream bouncer { server unix:$SOCK; }
    server {
        listen 127.0.0.1:$PORT;
        root $T/www;
        include $top_srcdir/nginx/bouncer-auth.conf;
        location /app/ {
            include $top_srcdir/nginx/bouncer-protect.conf;
            add_header X-Seen-User \$bouncer_user always;
            add_header X-Seen-Type \$bouncer_type always;
            add_header X-Seen-Groups \$bouncer_groups always;
            add_header X-Seen-Cred \$bouncer_cred always;
            add_header X-Seen-Scopes \$bouncer_scopes always;
        }
        location /pub/ {
            include $top_srcdir/nginx/bouncer-protect.conf;
        }
        location /loc/ {
            # A location the rules do not name: bouncer's default policy.
            include $top_srcdir/nginx/bouncer-protect.conf;
        }
    }
}
NGX
if out=$(nginx -t -p "$T" -c "$T/nginx.conf" 2>&1); then
    pass "nginx accepts the config including nginx/bouncer-*.conf"
else
    die "nginx -t" "$out"
fi
nginx -p "$T" -c "$T/nginx.conf" 2>>"$T/log/nginx-stderr.log" &
NPID=$!
bnc_track "$NPID"
wait_port "$PORT" 10 || die "nginx did not listen on $PORT" "$(cat "$T/log/nginx-error.log")"
URL="http://127.0.0.1:$PORT"

# ---- answers ---------------------------------------------------------------------
http "$URL/app/"
check_eq "anonymous /app/: 401" 401 "$S"
# nginx copies only the first WWW-Authenticate: bouncer sends them as one list.
check_contains "anonymous: the Basic challenge reaches the client" \
    "$(header WWW-Authenticate)" "Basic realm=\"$REALM\""
check_contains "anonymous: ... in the same header as the Token challenge" \
    "$(header WWW-Authenticate)" "Token, "
check_not_contains "anonymous: the page is not served" "$B" "APP"

http "$URL/app/" -u "demo:$DEMO_PW"
check_eq "Basic demo: 200" 200 "$S"
check_contains "Basic demo: the page" "$B" "APP"
check_eq "identity: X-Remote-User -> \$bouncer_user" demo "$(header X-Seen-User)"
check_eq "identity: AUTH_TYPE" Basic "$(header X-Seen-Type)"
check_eq "identity: groups" staff "$(header X-Seen-Groups)"

http "$URL/app/" -u "demo:wrong-$DEMO_PW"
check_eq "wrong password: 401" 401 "$S"
check_eq "wrong password: no identity" "" "$(header X-Seen-User)"
http "$URL/app/" -u "nobody:$DEMO_PW"
check_eq "unknown user: 401" 401 "$S"

# nginx sets \$remote_user from any Basic header, verified or not, and
# fastcgi_params passes it as REMOTE_USER: it must never count as a login.
http "$URL/app/" -H "Authorization: Basic $(printf 'boss:nope' | base64)"
check_eq "REMOTE_USER from an unverified Basic header: 401" 401 "$S"

http "$URL/app/" -H "Authorization: Token $KEY"
check_eq "API token: 200" 200 "$S"
check_eq "token: AUTH_TYPE" Token "$(header X-Seen-Type)"
check_eq "token: scopes" read "$(header X-Seen-Scopes)"
check_match "token: credential id, never the key" "$(header X-Seen-Cred)" '^tk_[a-z2-7]{13}$'
http "$URL/app/" -H "Authorization: Token x$KEY"
check_eq "bad token: 401" 401 "$S"
check_contains "bad token: Token challenge" "$(header WWW-Authenticate)" "Token"

http "$URL/app/admin/" -u "demo:$DEMO_PW"
check_eq "demo on /app/admin/: 403" 403 "$S"
http "$URL/app/admin/" -u "boss:boss-pw-9"
check_eq "boss on /app/admin/: 200" 200 "$S"
check_contains "boss: the admin page" "$B" "ADMIN"

http "$URL/pub/"
check_eq "anonymous /pub/: 200" 200 "$S"
check_contains "the public page" "$B" "PUBLIC"
http "$URL/loc/" -u "demo:$DEMO_PW"
check_eq "no rule matches, authenticated: 403 (default policy deny)" 403 "$S"

# A browser without a session: bouncer's login redirect would be a 500 under
# nginx, so it answers 401 (error_page 401 can redirect).
http "$URL/app/" -H 'Accept: text/html' -H 'Sec-Fetch-Mode: navigate'
check_eq "browser navigation without a session: 401, not 302/500" 401 "$S"
http "$URL/app/" -H 'Cookie: sessionid=forged-session-id' -H 'Accept: text/html'
check_eq "forged session cookie: 401" 401 "$S"

# nginx passes the original CONTENT_LENGTH but no body: bouncer must not wait.
big=$(head -c 5000 /dev/zero | tr '\0' 'a')
t0=$(now_ms)
http "$URL/app/" -u "demo:$DEMO_PW" -X POST --data "$big"
t1=$(now_ms)
check_ne "POST with a body: decided (no 500/timeout)" 500 "$S"
check_eq "POST with a body: answered in under 3 s" 1 "$(( t1 - t0 < 3000 ))"

# Path tricks nginx normalises before the subrequest: same answers.
for p in "/app/../app/admin/" "/pub/../app/admin/" "//app/admin/" "/app/./admin/" \
    "/pub/%2e%2e/app/admin/" "/app/%61dmin/"; do
    http "$URL$p" -u "demo:$DEMO_PW" --path-as-is
    check_ne "demo on $p: never the admin page" "ADMIN" "$B"
done

# ---- statuses nginx would turn into 500 ------------------------------------------
n500=$(grep -c 'auth request unexpected status' "$T/log/nginx-error.log" 2>/dev/null)
check_eq "nginx never saw a status other than 2xx/401/403" 0 "${n500:-0}"

# ---- logs: decisions, no secrets -------------------------------------------------
bnc_stop_pid "$NPID"
ndec=$(grep -c 'event=decision' "$T/log/bouncer.log" 2>/dev/null)
check_ne "bouncer logged its decisions" 0 "${ndec:-0}"
check_file_not_contains "bouncer log: no password" "$T/log/bouncer.log" "$DEMO_PW"
check_file_not_contains "bouncer log: no token key" "$T/log/bouncer.log" "$KEY"
check_file_not_contains "nginx error log: no crashed worker" "$T/log/nginx-error.log" "exited on signal"

bnc_finish
