#!/bin/sh
# SPDX-License-Identifier: MIT
# Try bouncer in one command: lighttpd on 127.0.0.1 serving a small CGI under
# /app/, protected by bouncer through the shipped lighttpd/bouncer.conf.
#
#   scripts/demo.sh          install deps, build, (re)start the demo
#   scripts/demo.sh stop     stop it
#   scripts/demo.sh status   is it running?
#
# Everything lives in ./_demo/ (store, config, logs). Each start makes a fresh
# store with user "demo" (groups staff, demo) and a new random password,
# printed once. Set DEMO_SKIP_DEPS=1 to skip scripts/deps.sh, DEMO_PORT to
# choose the first port tried (default 8080).
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DEMO="$ROOT/_demo"
PIDFILE="$DEMO/run/lighttpd.pid"
WWW_USER=www-data
WWW_GROUP=www-data

say() { printf '%s\n' "$*"; }
die() { printf 'demo: %s\n' "$*" >&2; exit 1; }

demo_stop() {
    pid=""
    [ -f "$PIDFILE" ] && pid=$(cat "$PIDFILE" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 100 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        if kill -0 "$pid" 2>/dev/null; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        # lighttpd SIGTERMs its bouncer processes; let them close the store.
        i=0
        while pgrep -f "$DEMO/bouncer.conf" >/dev/null 2>&1 && [ "$i" -lt 50 ]; do
            sleep 0.1
            i=$((i + 1))
        done
        say "demo: stopped lighttpd (pid $pid)"
    else
        say "demo: not running"
    fi
    rm -f "$PIDFILE"
}

# 0 if nothing accepts connections on 127.0.0.1:$1.
port_free() {
    if bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; then
        return 1
    fi
    return 0
}

case "${1:-start}" in
stop)
    demo_stop
    exit 0
    ;;
status)
    if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
        say "demo: running (pid $(cat "$PIDFILE")), config in $DEMO"
    else
        say "demo: not running"
        exit 1
    fi
    exit 0
    ;;
start) ;;
*)
    die "usage: scripts/demo.sh [start|stop|status]"
    ;;
esac

# ---- 1. dependencies and build -------------------------------------------
if [ -z "${DEMO_SKIP_DEPS:-}" ]; then
    "$ROOT/scripts/deps.sh"
fi
cd "$ROOT"
if [ ! -x configure ]; then
    say "demo: ./autogen.sh"
    ./autogen.sh >/dev/null 2>&1 || die "./autogen.sh failed"
fi
if [ ! -f Makefile ]; then
    say "demo: ./configure"
    ./configure -q >/dev/null || die "./configure failed (see config.log)"
fi
say "demo: make"
make -s -j"$(nproc 2>/dev/null || echo 2)" bouncer bouncerctl >"$ROOT/.demo-make.log" 2>&1 ||
    { tail -n 30 "$ROOT/.demo-make.log" >&2; die "make failed (full log: .demo-make.log)"; }
rm -f "$ROOT/.demo-make.log"
BOUNCER="$ROOT/bouncer"
CTL="$ROOT/bouncerctl"
[ -x "$BOUNCER" ] && [ -x "$CTL" ] || die "bouncer/bouncerctl not built"
command -v lighttpd >/dev/null 2>&1 || die "lighttpd not installed (scripts/deps.sh)"

# ---- 2. a fresh _demo/ ---------------------------------------------------
demo_stop >/dev/null
rm -rf "$DEMO/store" "$DEMO/www" "$DEMO/run"
mkdir -p "$DEMO/log" "$DEMO/run" "$DEMO/www/app"

# As root, lighttpd and bouncer run as www-data; that user must reach the
# tree. If the checkout is somewhere www-data cannot enter (e.g. /root),
# stay root rather than fail: this is a demo on the loopback address only.
DROP=""
if [ "$(id -u)" -eq 0 ]; then
    if getent passwd "$WWW_USER" >/dev/null &&
        setpriv --reuid="$WWW_USER" --regid="$WWW_GROUP" --init-groups \
            test -x "$BOUNCER" -a -r "$ROOT/lighttpd/bouncer.conf" 2>/dev/null; then
        DROP=yes
        chmod 755 "$DEMO"
    else
        say "demo: note: $WWW_USER cannot reach $ROOT; lighttpd will run as root"
    fi
fi

if [ -n "$DROP" ]; then
    # setgid + group www-data: every store file bouncerctl creates (umask 007)
    # is shared with the bouncer processes (berkeley-db.md §8).
    install -d -m 2770 -g "$WWW_GROUP" "$DEMO/store"
    chown "$WWW_USER:$WWW_GROUP" "$DEMO/log" "$DEMO/run"
else
    install -d -m 2770 "$DEMO/store"
fi

BOUNCER_HOME="$DEMO/store" "$CTL" db init >/dev/null || die "bouncerctl db init failed"
PASSWORD=$(head -c 24 /dev/urandom | base64 | tr -d '+/=\n' | cut -c1-20)
printf '%s\n' "$PASSWORD" |
    BOUNCER_HOME="$DEMO/store" "$CTL" user add demo --group staff --group demo \
        --email demo@example.invalid --name "Demo User" --password-stdin >/dev/null ||
    die "bouncerctl user add demo failed"

cat >"$DEMO/bouncer.conf" <<EOF
; bouncer config for the demo (scripts/demo.sh)
[store]
path = $DEMO/store

[auth]
schemes = basic
realm = bouncer demo

[rules]
/app/ = authenticated
EOF
chmod 644 "$DEMO/bouncer.conf"
"$BOUNCER" -c "$DEMO/bouncer.conf" --check-config >/dev/null 2>&1 ||
    die "bouncer --check-config rejected $DEMO/bouncer.conf"

cp "$ROOT/examples/env.cgi" "$DEMO/www/app/index.cgi"
chmod 755 "$DEMO/www/app/index.cgi"
printf '<p>bouncer demo: try <a href="/app/">/app/</a></p>\n' >"$DEMO/www/index.html"
chmod -R a+rX "$DEMO/www"

# ---- 3. lighttpd ---------------------------------------------------------
PORT=${DEMO_PORT:-8080}
tries=0
while ! port_free "$PORT"; do
    PORT=$((PORT + 1))
    tries=$((tries + 1))
    [ "$tries" -lt 100 ] || die "no free port from ${DEMO_PORT:-8080} on"
done

{
    printf 'server.document-root = "%s"\n' "$DEMO/www"
    printf 'server.bind          = "127.0.0.1"\n'
    printf 'server.port          = %s\n' "$PORT"
    if [ -n "$DROP" ]; then
        printf 'server.username      = "%s"\n' "$WWW_USER"
        printf 'server.groupname     = "%s"\n' "$WWW_GROUP"
    fi
    printf 'server.pid-file      = "%s"\n' "$PIDFILE"
    printf 'server.errorlog      = "%s"\n' "$DEMO/log/error.log"
    printf '# FastCGI children (bouncer) write their stderr here:\n'
    printf 'server.breakagelog   = "%s"\n' "$DEMO/log/bouncer.log"
    printf 'server.modules       = ( "mod_access", "mod_accesslog", "mod_cgi" )\n'
    printf 'accesslog.filename   = "%s"\n' "$DEMO/log/access.log"
    printf 'accesslog.format     = "%%h %%u %%t \\"%%r\\" %%>s %%b"\n'
    printf 'index-file.names     = ( "index.cgi", "index.html" )\n'
    printf 'cgi.assign           = ( ".cgi" => "" )\n'
    printf 'mimetype.assign      = ( ".html" => "text/html" )\n'
    printf '\n# The shipped snippet, configured by these variables:\n'
    printf 'var.bouncer_bin        = "%s"\n' "$BOUNCER"
    printf 'var.bouncer_conf       = "%s"\n' "$DEMO/bouncer.conf"
    printf 'var.bouncer_socket_dir = "%s"\n' "$DEMO/run"
    printf 'var.bouncer_prefix     = "/app/"\n'
    printf 'include "%s"\n' "$ROOT/lighttpd/bouncer.conf"
} >"$DEMO/lighttpd.conf"

lighttpd -tt -f "$DEMO/lighttpd.conf" || die "lighttpd rejected $DEMO/lighttpd.conf"
lighttpd -f "$DEMO/lighttpd.conf" || die "lighttpd did not start (see $DEMO/log/error.log)"

i=0
while ! bash -c "exec 3<>/dev/tcp/127.0.0.1/$PORT" 2>/dev/null; do
    i=$((i + 1))
    [ "$i" -lt 100 ] || die "lighttpd is not answering on port $PORT (see $DEMO/log/error.log)"
    sleep 0.1
done

URL="http://127.0.0.1:$PORT"
cat <<EOF

bouncer demo is running: lighttpd on $URL, /app/ protected by bouncer.

  user:     demo  (groups staff, demo)
  password: $PASSWORD      (shown only now; re-run the demo for a new one)

Try it:

  curl -u demo:$PASSWORD $URL/app/
      -> 200 and the identity the CGI received (REMOTE_USER=demo, AUTH_GROUPS=...)

  curl -i $URL/app/
      -> 401, WWW-Authenticate: Basic realm="bouncer demo", charset="UTF-8"
         and {"detail": "Authentication credentials were not provided.", ...}

  curl -i -u demo:wrong $URL/app/
      -> 401 {"detail": "Invalid username/password.", ...}
         five of those within 15 minutes ban the name for a minute: then even
         the right password gets 429 + Retry-After (brute-force protection);
         BOUNCER_HOME=$DEMO/store $CTL ban clear demo   lifts it

Add a user:   printf 'PASSWORD\\n' | BOUNCER_HOME=$DEMO/store $CTL user add alice --password-stdin
Logs:         $DEMO/log/bouncer.log (bouncer's decisions), $DEMO/log/access.log
Stop it:      scripts/demo.sh stop
EOF
