# SPDX-License-Identifier: MIT
# The real servers the integration tests put bouncer behind (sourced by
# lib.sh): one lighttpd and one Apache scaffold around the shipped snippets
# (lighttpd/, apache/), and a bouncer daemon for mod_authnz_fcgi.
#
# A test writes a config as the common part plus its own lines:
#   { lighttpd_conf "$PORT" "$CONF" "$T/run" "$T/log/" bouncer.conf
#     printf 'server.max-request-field-size = 65536\n'; } >"$T/lighttpd.conf"
#   start_lighttpd "$T/lighttpd.conf" "$PORT"
#   { apache_conf fcgid "$P" +authn_core
#     apache_fcgid_snippet fcgid "$CONF"; } >"$T/fcgid.conf"
#   start_apache fcgid "$P"
# Both serve CGI from $T/www (www_cgi fills it). A server that does not come
# up ends the test (die); what counts as a check is said per function.

MODS=/usr/lib/apache2/modules
LPID=
APID=
DPID=
URL=

# www_cgi PATH...: the document root $T/www, readable by the server user,
# with examples/env.cgi as PATH/index.cgi for each directory PATH and a
# static page ("public") for each PATH ending in .html.
www_cgi() {
    local p
    for p in "$@"; do
        case $p in
        *.html)
            mkdir -p "$(dirname "$T/www/$p")"
            printf 'public\n' >"$T/www/$p"
            ;;
        *)
            mkdir -p "$T/www/$p"
            install -m 755 "$top_srcdir/examples/env.cgi" "$T/www/$p/index.cgi"
            ;;
        esac
    done
    chmod -R a+rX "$T/www"
}

# ---- lighttpd -------------------------------------------------------------

# lighttpd_conf PORT BOUNCER-CONF RUNDIR LOGPREFIX [mod_NAME...] [SNIPPET...]:
# a config on stdout that runs as the server user on 127.0.0.1:PORT, keeps
# its pid file and bouncer's sockets in RUNDIR, logs to
# LOGPREFIX{error,bouncer,access}.log (bouncer's stderr is the "bouncer" one),
# loads mod_access, mod_accesslog, mod_cgi and each mod_NAME, and ends by
# including each shipped lighttpd/SNIPPET (default bouncer.conf) for the
# prefix /app/. The caller appends its own lines (more includes, limits).
lighttpd_conf() {
    local port=$1 conf=$2 run=$3 log=$4 mods="" s
    shift 4
    while [ $# -gt 0 ]; do
        case $1 in
        mod_*) mods="$mods, \"$1\""; shift ;;
        *) break ;;
        esac
    done
    [ $# -gt 0 ] || set -- bouncer.conf
    mkdir -p "$run"
    if [ "$(id -u)" -eq 0 ]; then
        chown "$WWW_USER:$WWW_GROUP" "$run"
    fi
    cat <<EOF
server.document-root = "$T/www"
server.bind          = "127.0.0.1"
server.port          = $port
server.username      = "$WWW_USER"
server.groupname     = "$WWW_GROUP"
server.pid-file      = "$run/lighttpd.pid"
server.errorlog      = "${log}error.log"
server.breakagelog   = "${log}bouncer.log"
server.modules       = ( "mod_access", "mod_accesslog", "mod_cgi"$mods )
accesslog.filename   = "${log}access.log"
accesslog.format     = "%h %u \"%r\" %>s"
index-file.names     = ( "index.cgi", "index.html" )
cgi.assign           = ( ".cgi" => "" )
mimetype.assign      = ( ".html" => "text/html" )

var.bouncer_bin        = "$BIN_BOUNCER"
var.bouncer_conf       = "$conf"
var.bouncer_socket_dir = "$run"
var.bouncer_prefix     = "/app/"
EOF
    for s in "$@"; do
        printf 'include "%s"\n' "$top_srcdir/lighttpd/$s"
    done
}

# _bnc_lighttpd_value FILE KEY: a quoted server.KEY value of a lighttpd config.
_bnc_lighttpd_value() {
    sed -n "s/^server\\.$2 *= *\"\\(.*\\)\"\$/\\1/p" "$1" | head -n 1
}

# start_lighttpd [-n NAME] [-t DESC] [-q] FILE PORT: lighttpd -tt must accept
# FILE (-t: a check named DESC, else only a setup step); starts lighttpd
# (stopped at exit) and waits for PORT and the pid file. Sets LPID (tracked)
# and URL; passes "lighttpd [(NAME)] listens on 127.0.0.1:PORT (pid N)"
# unless -q.
start_lighttpd() {
    local accepts="" quiet="" what=lighttpd file port pidf elog out
    while :; do
        case $1 in
        -n) what="lighttpd ($2)"; shift 2 ;;
        -t) accepts=$2; shift 2 ;;
        -q) quiet=yes; shift ;;
        *) break ;;
        esac
    done
    file=$1 port=$2
    pidf=$(_bnc_lighttpd_value "$file" pid-file)
    elog=$(_bnc_lighttpd_value "$file" errorlog)
    if ! out=$(lighttpd -tt -f "$file" 2>&1); then
        die "lighttpd -tt rejected $file" "$out"
    fi
    [ -z "$accepts" ] || pass "$accepts"
    if ! out=$(lighttpd -f "$file" 2>&1); then
        die "lighttpd did not start" "$out" "$(cat "$elog" 2>/dev/null)"
    fi
    bnc_at_exit "kill -TERM \$(cat '$pidf' 2>/dev/null) 2>/dev/null"
    if wait_port "$port" 10 && wait_file "$pidf" 5; then
        LPID=$(cat "$pidf")
        bnc_track "$LPID"
        [ -n "$quiet" ] || pass "$what listens on 127.0.0.1:$port (pid $LPID)"
    else
        die "lighttpd did not start" "$(cat "$elog" 2>/dev/null)"
    fi
    URL="http://127.0.0.1:$port"
}

# ---- Apache ---------------------------------------------------------------

# Modules in the order they are loaded; apache_conf loads the default ones.
APACHE_MODULES="authz_core authn_core mime cgi headers env setenvif alias dir"
APACHE_DEFAULT_MODULES="authz_core mime cgi headers env setenvif alias dir"

# apache_conf NAME PORT [+MODULE|-MODULE...]: the common part of an Apache
# instance's config on stdout: prefork as the server user on 127.0.0.1:PORT,
# run files in $T/NAME/run, logs in $T/log/NAME-{error,access}.log, CGI in
# $T/www and nothing else. +MODULE / -MODULE adds to or takes from
# the default modules (APACHE_MODULES names the choice). The caller appends
# the shipped snippet (apache_fcgid_snippet, apache_authnz_snippet) and its
# own lines; the config goes to $T/NAME.conf.
apache_conf() {
    local name=$1 port=$2 d="$T/$1" want m
    shift 2
    want=" $APACHE_DEFAULT_MODULES "
    for m in "$@"; do
        case $m in
        +*) want="$want${m#+} " ;;
        -*) want=${want/ ${m#-} / } ;;
        esac
    done
    mkdir -p "$d/run" "$d/fcgid"
    chown "$WWW_USER:$WWW_GROUP" "$d/fcgid"
    cat <<EOF
ServerRoot /etc/apache2
ServerName 127.0.0.1
Listen 127.0.0.1:$port
PidFile $d/run/apache2.pid
DefaultRuntimeDir $d/run
Mutex file:$d/run default
User $WWW_USER
Group $WWW_GROUP
ErrorLog $T/log/$name-error.log
LogLevel warn
LoadModule mpm_prefork_module $MODS/mod_mpm_prefork.so
StartServers 2
MinSpareServers 1
MaxSpareServers 4
EOF
    for m in $APACHE_MODULES; do
        case $want in
        *" $m "*) printf 'LoadModule %s_module %s/mod_%s.so\n' "$m" "$MODS" "$m" ;;
        esac
    done
    cat <<EOF
<IfModule !log_config_module>
LoadModule log_config_module $MODS/mod_log_config.so
</IfModule>
TypesConfig /etc/mime.types
LogFormat "%h %u \"%{REMOTE_USER}e\" \"%r\" %>s" bnc
CustomLog $T/log/$name-access.log bnc
DocumentRoot $T/www
<Directory />
    Require all denied
    AllowOverride None
</Directory>
<Directory $T/www>
    Require all granted
    Options +ExecCGI
    AddHandler cgi-script .cgi
    DirectoryIndex index.cgi index.html
</Directory>
EOF
}

# apache_fcgid_snippet NAME BOUNCER-CONF [DEFINE...]: mod_fcgid (its files in
# $T/NAME/fcgid) and the shipped apache/bouncer-fcgid.conf for /app, with
# each DEFINE (e.g. BOUNCER_NO_AUTH_API) defined before it.
apache_fcgid_snippet() {
    local d="$T/$1/fcgid" conf=$2 def
    shift 2
    cat <<EOF
LoadModule fcgid_module $MODS/mod_fcgid.so
FcgidIPCDir $d/ipc
FcgidProcessTableFile $d/shm
Define BOUNCER_BIN $BIN_BOUNCER
Define BOUNCER_CONF $conf
Define BOUNCER_PREFIX /app
EOF
    for def in "$@"; do
        printf 'Define %s\n' "$def"
    done
    printf 'Include %s\n' "$top_srcdir/apache/bouncer-fcgid.conf"
}

# apache_authnz_snippet ADDR: the shipped apache/bouncer-authnz.conf for
# /app, asking the bouncer daemon at ADDR (host:port).
apache_authnz_snippet() {
    cat <<EOF
Define BOUNCER_FCGI_ADDR $1
Define BOUNCER_PREFIX /app
Include $top_srcdir/apache/bouncer-authnz.conf
EOF
}

# start_apache [-t] [-q] NAME PORT: apache2 -t must accept $T/NAME.conf (-t:
# counted as a check, else only a setup step); starts it (stopped at exit)
# and waits for PORT and the pid file. Sets APID and URL; passes "apache
# (NAME) listens on 127.0.0.1:PORT (pid N)" unless -q.
start_apache() {
    local syntax="" quiet="" name port conf out
    while :; do
        case $1 in
        -t) syntax=yes; shift ;;
        -q) quiet=yes; shift ;;
        *) break ;;
        esac
    done
    name=$1 port=$2 conf="$T/$1.conf"
    if ! out=$(apache2 -f "$conf" -t 2>&1); then
        die "apache2 -t rejected $name.conf" "$out"
    fi
    [ -z "$syntax" ] || pass "apache2 -t accepts $name.conf (includes the shipped snippet)"
    if ! out=$(apache2 -f "$conf" -k start 2>&1); then
        die "apache2 -k start ($name)" "$out"
    fi
    bnc_at_exit "apache2 -f '$conf' -k stop; sleep 1; \
        pid=\$(cat '$T/$name/run/apache2.pid' 2>/dev/null) && kill -KILL \$pid"
    if ! wait_port "$port" 10; then
        die "apache ($name) did not listen on $port" "$(cat "$T/log/$name-error.log")"
    fi
    wait_file "$T/$name/run/apache2.pid" 5
    APID=$(cat "$T/$name/run/apache2.pid")
    [ -n "$quiet" ] || pass "apache ($name) listens on 127.0.0.1:$port (pid $APID)"
    URL="http://127.0.0.1:$port"
}

# stop_apache [-q] NAME PORT: apache2 -k stop, then waits up to 12 s for the
# parent to exit. The check "apache (NAME) stopped" (parent gone, PORT
# closed) unless -q.
stop_apache() {
    local quiet="" name port pid i=0
    if [ "$1" = -q ]; then
        quiet=yes
        shift
    fi
    name=$1 port=$2
    pid=$(cat "$T/$name/run/apache2.pid" 2>/dev/null)
    apache2 -f "$T/$name.conf" -k stop >/dev/null 2>&1
    while [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && [ "$i" -lt 120 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    [ -z "$quiet" ] || return 0
    if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null && wait_gone "$port" 2; then
        pass "apache ($name) stopped"
    else
        fail "apache ($name) stopped" "pid $pid still running"
    fi
}

# ---- bouncer daemon -------------------------------------------------------

# start_bouncer_daemon PORT LOG [OPTION...]: bouncer -c $CONF --listen
# 127.0.0.1:PORT as the server user (as in production), stderr appended to
# LOG; sets DPID (tracked). Returns 1 when it does not listen within 5 s.
start_bouncer_daemon() {
    local port=$1 log=$2
    shift 2
    setpriv --reuid="$WWW_USER" --regid="$WWW_GROUP" --init-groups -- \
        "$BIN_BOUNCER" -c "$CONF" --listen "127.0.0.1:$port" "$@" \
        >>"$log" 2>&1 &
    DPID=$!
    bnc_track "$DPID"
    wait_port "$port" 5
}
