#!/bin/bash
# SPDX-License-Identifier: MIT
# bouncerctl end to end on a temporary store: db, user, group, token and session
# commands, error messages and exit status, no hash ever printed, the no-echo prompt.
set -u

: "${top_builddir:=$(cd "$(dirname "$0")/../.." && pwd)}"
CTL="$top_builddir/bouncerctl"
if [ ! -x "$CTL" ]; then
    echo "cli.sh: $CTL is not built" >&2
    exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bnc-cli.XXXXXX") || exit 1
bgpid=
cleanup() {
    if [ -n "$bgpid" ]; then
        kill "$bgpid" 2>/dev/null
        wait "$bgpid" 2>/dev/null
    fi
    chmod -R u+rwx "$tmp" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

unset BOUNCER_CONF
export BOUNCER_HOME="$tmp/store"
# Every stdout and stderr of every run, to check no hash ever leaks.
all="$tmp/all.log"
: >"$all"

pass=0
fail=0
rc=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# run ARGS...: stdin from /dev/null; sets rc, out, err.
run() {
    "$CTL" "$@" </dev/null >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
    { printf '$ bouncerctl %s\n' "$*"; cat "$tmp/out" "$tmp/err"; } >>"$all"
}
# runin INPUT ARGS...: INPUT (printf %s, so add \n yourself) on stdin.
runin() {
    local input=$1
    shift
    printf '%s' "$input" | "$CTL" "$@" >"$tmp/out" 2>"$tmp/err"
    rc=${PIPESTATUS[1]}
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
    { printf '$ bouncerctl %s\n' "$*"; cat "$tmp/out" "$tmp/err"; } >>"$all"
}
# expect WHAT RC [stdout-regex] [stderr-regex]: checks the last run.
expect() {
    local what=$1 want=$2 o=${3:-} e=${4:-}
    if [ "$rc" != "$want" ]; then
        bad "$what: exit $rc, want $want; stdout: $out; stderr: $err"
        return
    fi
    if [ -n "$o" ] && ! grep -qE -- "$o" "$tmp/out"; then
        bad "$what: stdout does not match /$o/: $out"
        return
    fi
    if [ -n "$e" ] && ! grep -qE -- "$e" "$tmp/err"; then
        bad "$what: stderr does not match /$e/: $err"
        return
    fi
    # Every error message starts with "bouncerctl: " (usage lines aside).
    if [ "$want" != 0 ] && ! grep -q '^bouncerctl: ' "$tmp/err"; then
        bad "$what: no 'bouncerctl: ' message on stderr: $err"
        return
    fi
    ok
}
# field NAME: value of "NAME: value" in the last `user show` output.
field() {
    sed -n "s/^$1: *//p" "$tmp/out"
}

# ---- basics, usage errors (exit 2) -----------------------------------------
run --version
expect "--version" 0 '^bouncerctl [0-9]'
run --help
expect "--help" 0 'user add NAME' ''
run
expect "no command" 2 '' 'missing command'
run frob
expect "unknown noun" 2 '' "unknown command 'frob' \(valid: user, group, token, session, jwt, db, ban, explain, import, export\)"
run user frob
expect "unknown verb" 2 '' "unknown command 'user frob' \(valid: add, passwd, del, list, show, disable, enable, logout-all\)"
run user
expect "missing verb" 2 '' "missing command after 'user'"
run user d alice
expect "ambiguous verb" 2 '' "ambiguous command 'user d' \(could be: del, disable\)"
run user add
expect "missing argument" 2 '' "missing argument for 'user add'"
grep -q '^usage: bouncerctl \[-c FILE\] user add NAME' "$tmp/err" && ok ||
    bad "missing argument: no usage line: $err"
run user del alice bob
expect "superfluous argument" 2 '' "superfluous argument 'bob' for 'user del'"
run group add admin
expect "group add needs a user" 2 '' "missing argument"
run db backup
expect "db backup needs DIR" 2 '' "missing argument"
run db stats extra
expect "db stats superfluous" 2 '' "superfluous argument 'extra'"
echoed=
run user add alice --password hunter2
expect "--password on argv" 2 '' 'not accepted on the command line'
echoed="$echoed$out$err"
run user add alice --password=hunter2
expect "--password= on argv" 2 '' 'not accepted on the command line'
echoed="$echoed$out$err"
run user passwd alice --passwd hunter2
expect "--passwd on argv" 2 '' 'not accepted on the command line'
echoed="$echoed$out$err"
run user add alice --pw=hunter2
expect "unknown option with value" 2 '' "unknown option '--pw' for 'user add'"
echoed="$echoed$out$err"
case $echoed in
*hunter2*) bad "a password given on argv was echoed back" ;;
*) ok ;;
esac
run user list --bogus
expect "unknown option" 2 '' "unknown option '--bogus' for 'user list' \(valid: --json\)"
run user add alice --password-stdin --no-password
expect "exclusive options" 2 '' 'exclude each other'
run user add alice --email
expect "option without value" 2 '' 'option --email needs a value'
run -c
expect "-c without file" 2 '' 'option -c needs an argument'
run -x user list
expect "unknown global option" 2 '' 'unknown option -x'
run user add --help
expect "verb help" 0 '^usage: bouncerctl \[-c FILE\] user add NAME'

# ---- store missing, db init ------------------------------------------------
run user list
expect "store missing" 1 '' "^bouncerctl: store directory $BOUNCER_HOME does not exist \(run 'bouncerctl db init' first\)$"
run db stats
expect "store missing (db stats)" 1 '' "does not exist \(run 'bouncerctl db init' first\)"
[ ! -e "$BOUNCER_HOME" ] && ok || bad "a command other than db init created the store"
run db init
expect "db init" 0 "store created at $BOUNCER_HOME"
mode=$(stat -c %a "$BOUNCER_HOME" 2>/dev/null)
[ "$mode" = 2770 ] && ok || bad "store directory mode is '$mode', want 2770"
run db init
expect "db init again" 0 'already exists'
mkdir "$tmp/foreign" && touch "$tmp/foreign/notes.txt"
BOUNCER_HOME="$tmp/foreign" run db init
expect "db init in a foreign non-empty dir" 1 '' "directory $tmp/foreign is not empty and holds no store"
[ ! -e "$tmp/foreign/DB_CONFIG" ] && ok || bad "db init wrote into a foreign directory"
mkdir "$tmp/empty"
BOUNCER_HOME="$tmp/empty" run db init
expect "db init in an empty dir" 0 "store created at $tmp/empty"

# ---- user add --------------------------------------------------------------
runin $'correct horse battery\n' user add alice --password-stdin
expect "user add" 0 '^user alice added \(id [0-9]+\)$'
[ -z "$err" ] && ok || bad "user add printed on stderr: $err"
runin $'correct horse battery\n' user add alice --password-stdin
expect "duplicate user" 1 '' "^bouncerctl: user 'alice' already exists$"
runin $'short\n' user add bob --group staff --group admin --group staff \
    --email bob@example.org --name 'Bob the Builder' --password-stdin
expect "user add with options, short password" 0 '^user bob added' 'warning: password is shorter than 8 characters'
runin $'\n' user add carl --password-stdin
expect "empty password" 1 '' 'empty password refused'
run user add carl --password-stdin
expect "no password on stdin" 1 '' 'no password on standard input'
run user add carl
expect "no tty for the prompt" 1 '' 'use --password-stdin'
run user show carl
expect "refused adds leave no user" 1 '' "no such user 'carl'"
run user add svc --no-password --disabled
expect "user add --no-password" 0 '^user svc added'
runin $'password1\n' user add dora --email 'not-an-address' --password-stdin
expect "invalid e-mail" 1 '' "invalid e-mail address 'not-an-address'"
runin $'password1\n' user add dora --group 'bad group' --password-stdin
expect "invalid group on add" 1 '' "invalid group name 'bad group'"

# ---- user names ------------------------------------------------------------
runin $'password1\n' user add 'a:b' --password-stdin
expect "name with ':'" 1 '' "invalid user name 'a:b' \(user name contains ':'\)"
runin $'password1\n' user add '' --password-stdin
expect "empty name" 1 '' "invalid user name '' \(user name is empty\)"
runin $'password1\n' user add $'tab\tname' --password-stdin
expect "name with a control character" 1 '' 'invalid user name .tab\\x09name. \(user name contains a control character\)'
long=$(printf 'x%.0s' $(seq 151))
runin $'password1\n' user add "$long" --password-stdin
expect "151-byte name" 1 '' 'invalid user name .*longer than 150 bytes'
runin $'password1\n' user add "${long:1}" --password-stdin
expect "150-byte name" 0 '^user x{150} added'
runin $'passwort1\n' user add 'jürgen' --password-stdin
expect "UTF-8 name" 0 '^user jürgen added'
runin $'password1\n' user add --password-stdin -- -dash
expect "name after --" 0 '^user -dash added'

# ---- list / show -----------------------------------------------------------
run user list
expect "user list" 0 '^NAME +ID +GROUPS +DISABLED +HASH-FORMAT +CHANGED$'
grep -qE '^alice +[0-9]+ +- +no +argon2id +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$' "$tmp/out" &&
    ok || bad "user list: alice row: $out"
grep -qE '^bob +[0-9]+ +staff,admin +no +argon2id ' "$tmp/out" &&
    ok || bad "user list: bob row: $out"
grep -qE '^svc +[0-9]+ +- +yes +none ' "$tmp/out" && ok || bad "user list: svc row: $out"
grep -qE '^jürgen +[0-9]+ ' "$tmp/out" && ok || bad "user list: jürgen row: $out"
# Columns line up by characters, UTF-8 names included.
cols=$(/usr/bin/python3 -c '
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
print(len({l.index(l.split()[1], len(l.split()[0])) for l in lines}))' "$tmp/out" 2>&1)
[ "$cols" = 1 ] && ok || bad "user list: ID column not aligned ($cols): $out"
[ "$(grep -c . "$tmp/out")" = 7 ] && ok || bad "user list: want header + 6 users: $out"

run user list --json
expect "user list --json" 0 '"name": "alice"'
/usr/bin/python3 - "$tmp/out" <<'EOF' && ok || bad "user list --json content: $out"
import json, sys
users = json.load(open(sys.argv[1], encoding="utf-8"))
names = [u["name"] for u in users]
assert "alice" in names and "jürgen" in names and "bob" in names, names
bob = [u for u in users if u["name"] == "bob"][0]
assert bob["groups"] == ["staff", "admin"], bob
assert bob["email"] == "bob@example.org" and bob["display_name"] == "Bob the Builder"
assert bob["disabled"] is False and bob["hash_format"] == "argon2id"
for u in users:
    assert not any("hash" == k or k == "password" for k in u), u
    assert isinstance(u["id"], int) and u["created"] > 0
EOF

run user show bob
expect "user show" 0 '^name: +bob$'
[ "$(field groups)" = "staff, admin" ] && ok || bad "show groups: $(field groups)"
[ "$(field email)" = "bob@example.org" ] && ok || bad "show email: $(field email)"
[ "$(field 'display name')" = "Bob the Builder" ] && ok || bad "show display name"
[ "$(field disabled)" = no ] && ok || bad "show disabled"
[ "$(field 'hash format')" = argon2id ] && ok || bad "show hash format"
[ "$(field 'not before')" = - ] && ok || bad "show not before on a new user: $(field 'not before')"
grep -q 'legacy format' "$tmp/out" && bad "argon2id shown as legacy" || ok
run user show svc
[ "$(field 'hash format')" = none ] && ok || bad "--no-password: hash format $(field 'hash format')"
grep -q 'password logins are refused' "$tmp/out" && ok || bad "--no-password: no note: $out"
[ "$(field disabled)" = yes ] && ok || bad "--disabled not stored"
run user show bob --json
expect "user show --json" 0 '^\{"name": "bob", "id": [0-9]+, "groups": \["staff", "admin"\]'
/usr/bin/python3 -c 'import json,sys; u=json.load(open(sys.argv[1])); assert "hash" not in u' "$tmp/out" &&
    ok || bad "user show --json is not JSON without a hash: $out"
run user show nosuch
expect "show unknown user" 1 '' "^bouncerctl: no such user 'nosuch'$"
run us sh alice
expect "unique prefixes" 0 '^name: +alice$'

# ---- passwd, disable, enable -----------------------------------------------
run user show alice
rev1=$(field revision)
runin $'another good one\n' user passwd alice --password-stdin
expect "user passwd" 0 '^password of user alice changed$'
run user show alice
[ "$(field 'not before')" != - ] && ok || bad "passwd did not set not before"
[ "$(field revision)" -gt "$rev1" ] && ok || bad "passwd did not bump the revision"
runin $'x\n' user passwd nosuch --password-stdin
expect "passwd unknown user" 1 '' "no such user 'nosuch'"
runin $'\n' user passwd alice --password-stdin
expect "passwd empty" 1 '' 'empty password refused'

run user disable bob
expect "user disable" 0 '^user bob disabled$'
run user show bob
[ "$(field disabled)" = yes ] && ok || bad "disable not shown"
[ "$(field 'not before')" != - ] && ok || bad "disable did not set not before"
run user disable bob
expect "disable again" 0 'was already disabled'
run user enable bob
expect "user enable" 0 '^user bob enabled$'
run user show bob
[ "$(field disabled)" = no ] && ok || bad "enable not shown"
run user disable nosuch
expect "disable unknown user" 1 '' "no such user 'nosuch'"
run user enable nosuch
expect "enable unknown user" 1 '' "no such user 'nosuch'"

# ---- logout-all: not_before always, tokens_not_before only with --tokens ---
run user show bob
[ "$(field 'tokens not before')" = - ] && ok || bad "disable set tokens not before"
run user logout-all bob
expect "user logout-all" 0 '^user bob logged out everywhere: .*API tokens kept$'
run user show bob
[ "$(field 'not before')" != - ] && ok || bad "logout-all did not set not before"
[ "$(field 'tokens not before')" = - ] && ok || bad "logout-all without --tokens set tokens not before"
run user logout-all bob --tokens
expect "user logout-all --tokens" 0 'API tokens too$'
run user show bob --json
expect "show --json tokens_not_before" 0 '"tokens_not_before": [1-9][0-9]+'
run user logout-all nosuch
expect "logout-all unknown user" 1 '' "no such user 'nosuch'"
run user logout-all bob --group x
expect "logout-all bad option" 2 '' "--group"

# ---- group add/del ---------------------------------------------------------
run group add admin alice jürgen
expect "group add" 0 '^user alice added to group admin$'
run user show alice
[ "$(field groups)" = admin ] && ok || bad "group add: alice groups '$(field groups)'"
run group add admin alice
expect "group add again" 0 'already in group admin'
run group add ops alice nosuch
expect "group add with an unknown user" 1 '' "no such user 'nosuch'"
run user show alice
[ "$(field groups)" = admin ] && ok || bad "failed group add changed alice: '$(field groups)'"
run group add 'no/slash' alice
expect "invalid group name" 1 '' "invalid group name 'no/slash'"
run group del admin alice
expect "group del" 0 '^user alice removed from group admin$'
run user show alice
[ "$(field groups)" = - ] && ok || bad "group del: alice groups '$(field groups)'"
run group del admin alice
expect "group del non-member" 1 '' "user 'alice' is not in group 'admin'"
run user show jürgen
[ "$(field groups)" = admin ] && ok || bad "group add second user: '$(field groups)'"

# ---- token create / list / revoke ------------------------------------------
run token create
expect "token create needs a user" 2 '' "missing argument for 'token create'"
run token frob
expect "unknown token verb" 2 '' "unknown command 'token frob' \(valid: create, list, revoke\)"
run token create alice --group x
expect "token create: foreign option" 2 '' "unknown option '--group' for 'token create'"
run token create nosuch
expect "token for unknown user" 1 '' "no such user 'nosuch'"
run token create svc
expect "token for disabled user" 1 '' "user 'svc' is disabled"
run token create alice --scope 'bad scope!'
expect "bad scope" 1 '' "invalid scope 'bad scope!'"
run token create alice --scope ''
expect "empty scope" 1 '' "invalid scope ''"
run token create alice --allow-cidr 10.0.0.1/8
expect "cidr host bits" 1 '' "--allow-cidr: '10.0.0.1/8' has host bits set beyond the prefix length \(did you mean 10.0.0.0/8\?\)"
run token create alice --allow-cidr 'example.org'
expect "cidr garbage" 1 '' "--allow-cidr: expected an IP address or CIDR block"
run token create alice --expires 30
expect "expires without unit" 1 '' "--expires: expected a lifetime like 30d"
run token create alice --expires 2020-01-01
expect "expires in the past" 1 '' "--expires 2020-01-01 is in the past"
run token create alice --expires 2031-02-30
expect "expires impossible date" 1 '' "--expires: expected"
run token create alice --expires 0d
expect "expires zero" 1 '' "between 1s and 100 years"
run token create alice --device ''
expect "empty device" 1 '' "invalid device id ''"
run token create alice --device $'dev\x01'
expect "device control char" 1 '' 'invalid device id .dev\\x01.'
run token create alice --label $'a\nb'
expect "label control char" 1 '' "invalid label"
run token create alice --label a --label b
expect "label twice" 2 '' "option --label given twice"

run token create alice --label ci --expires 30d --scope read --scope write \
    --scope read --allow-cidr '192.0.2.0/24, 2001:db8::/32' --device dev-1
expect "token create" 0 '^token tk_[a-z2-7]{13} created for alice, expires 20[0-9-]{8}T' \
    'Store the key now: it cannot be shown again\.'
key1=$(sed -n 2p "$tmp/out")
id1=$(sed -n 's/^token \(tk_[a-z2-7]*\) created.*/\1/p' "$tmp/out")
[ "$(wc -l <"$tmp/out")" = 2 ] && ok || bad "token create: want 2 lines on stdout: $out"
printf '%s' "$key1" | grep -Eqx '[A-Za-z0-9_-]{43}' && ok || bad "key is not 43 base64url chars: '$key1'"
run token create alice --quiet --expires 2031-01-31
expect "token create --quiet" 0 '^[A-Za-z0-9_-]{43}$'
key2=$out
[ "$(wc -l <"$tmp/out")" = 1 ] && [ ! -s "$tmp/err" ] && ok ||
    bad "--quiet: want the key alone: $out / $err"
[ "$key1" != "$key2" ] && ok || bad "two tokens got the same key"
run token create jürgen --label 'ci ünïcode' --expires 2031-01-31T12:00:00Z
expect "token create, UTC time" 0 'expires 2031-01-31T12:00:00Z$'
key3=$(sed -n 2p "$tmp/out")
run token create bob --quiet
expect "token create for bob" 0 '^[A-Za-z0-9_-]{43}$'
run token create bob --quiet --label second
expect "second token for bob" 0 '^[A-Za-z0-9_-]{43}$'

run token list
expect "token list" 0 '^ID +USER +LABEL +CREATED +EXPIRES +LAST-USED +SCOPES +CIDRS +DEVICE$'
grep -Eq "^$id1 +alice +ci +20[^ ]+ +20[^ ]+ +- +read,write +192\.0\.2\.0/24,2001:db8::/32 +dev-1\$" "$tmp/out" &&
    ok || bad "token list row for $id1: $out"
[ "$(grep -c '^tk_' "$tmp/out")" = 5 ] && ok || bad "token list: want 5 tokens: $out"
grep -q 'ci ünïcode' "$tmp/out" && ok || bad "token list: UTF-8 label: $out"
run token list bob
expect "token list USER" 0 '^ID'
[ "$(grep -c '^tk_' "$tmp/out")" = 2 ] && ! grep -q alice "$tmp/out" && ok ||
    bad "token list bob: $out"
run token list nosuch
expect "token list unknown user" 0 '^ID' "warning: no such user 'nosuch'"
run token list alice --json
expect "token list --json" 0 '^\['
if /usr/bin/python3 - "$tmp/out" "$id1" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 2, doc
t = [x for x in doc if x["id"] == sys.argv[2]][0]
assert t["user"] == "alice" and t["label"] == "ci", t
assert t["scopes"] == ["read", "write"], t
assert t["allowed_cidrs"] == ["192.0.2.0/24", "2001:db8::/32"], t
assert t["device"] == "dev-1" and t["last_used"] is None and not t["expired"], t
assert 29 * 86400 < t["expires"] - t["created"] <= 30 * 86400, t
other = [x for x in doc if x["id"] != sys.argv[2]][0]
assert other["expires"] == 1927584000 and other["label"] is None, other
for x in doc:
    assert set(x) == {"id", "user", "label", "created", "expires", "expired",
                      "last_used", "scopes", "allowed_cidrs", "device"}, x
PY
then ok; else bad "token list --json content: $out"; fi
run token list bob extra
expect "token list: one user at most" 2 '' "superfluous argument 'extra'"

run token revoke
expect "revoke needs an id or --user" 2 '' "takes a token ID or --user USER"
run token revoke "$id1" --user alice
expect "revoke id and --user" 2 '' "one of them"
run token revoke "$key1"
expect "revoke with a key" 2 '' "not a token id"
grep -qF -- "$key1" "$tmp/err" && bad "revoke echoed the key it was given" || ok
# A base64url key may start with '-' or '--': still an argument, never echoed.
for k in "-${key1#?}" "--${key1#??}"; do
    run token revoke "$k"
    expect "revoke with a key starting with '${k%"${k#??}"}'" 2 '' "not a token id|not shown: it may be a secret"
    grep -qF -- "${k#--}" "$tmp/err" && bad "revoke echoed a key starting with '-'" || ok
done
run token revoke tk_aaaaaaaaaaaaa
expect "revoke unknown id" 1 '' "no such token 'tk_aaaaaaaaaaaaa'"
run token revoke "$id1"
expect "revoke by id" 0 "^token $id1 revoked\$"
run token revoke "$id1"
expect "revoke twice" 1 '' "no such token '$id1'"
run token list alice
[ "$(grep -c '^tk_' "$tmp/out")" = 1 ] && ! grep -q "$id1" "$tmp/out" && ok ||
    bad "revoked token still listed: $out"
run token revoke --user bob
expect "revoke --user" 0 '^2 tokens of user bob revoked$'
run token revoke --user bob
expect "revoke --user again" 0 '^user bob has no tokens$'
run token revoke --user nosuch
expect "revoke --user unknown" 1 '' "no such user 'nosuch'"

# No key, nor its SHA-256, after creation: only the create runs show keys.
for k in "$key1" "$key2" "$key3"; do
    n=$(grep -v '^\$ bouncerctl ' "$all" | grep -cF -- "$k")
    [ "$n" = 1 ] && ok || bad "a key appears $n times in the output (want once, at creation)"
    d=$(printf '%s' "$k" | sha256sum | cut -d' ' -f1)
    grep -qiF -- "$d" "$all" && bad "a key's SHA-256 was printed" || ok
done
# ... and the store holds neither the key nor anything but its digest.
if command -v db5.3_dump >/dev/null 2>&1; then
    leaked=0
    for f in "$BOUNCER_HOME"/*.db; do
        db5.3_dump -p -h "$BOUNCER_HOME" "$(basename "$f")" 2>/dev/null |
            grep -qF -- "$key2" && leaked=1
    done
    [ "$leaked" = 0 ] && ok || bad "a token key is stored in clear"
fi

# ---- session list / revoke -------------------------------------------------
# Sessions come from the benchmark filler (what a login stores).
FILL="$top_builddir/bench/bnc-fill-sessions"
if [ -x "$FILL" ]; then
    fill() { # fill USER N: N sessions for USER; cookie values in $tmp/cookies
        "$FILL" --store "$BOUNCER_HOME" --user "$1" --count "$2" \
            --print-cookies "$2" >>"$tmp/cookies" 2>"$tmp/fill.err" ||
            bad "bnc-fill-sessions $1 $2: $(cat "$tmp/fill.err")"
    }
    : >"$tmp/cookies"
    run session frob
    expect "unknown session verb" 2 '' "unknown command 'session frob' \(valid: list, revoke\)"
    run session list
    expect "session list, empty" 0 '^ID +USER +CREATED +LAST-SEEN +EXPIRES +CLIENT +USER-AGENT$'
    [ "$(grep -c '^ss_' "$tmp/out")" = 0 ] && ok || bad "sessions listed before any: $out"
    fill alice 2
    fill carol 3
    run session list
    expect "session list" 0 '^ID +USER +CREATED +LAST-SEEN +EXPIRES +CLIENT +USER-AGENT$'
    [ "$(grep -cE '^ss_[a-z2-7]{13} +(alice|carol) +20' "$tmp/out")" = 5 ] && ok ||
        bad "session list: want 5 sessions: $out"
    run session list alice
    [ "$(grep -cE '^ss_[a-z2-7]{13} +alice ' "$tmp/out")" = 2 ] &&
        ! grep -q carol "$tmp/out" && ok || bad "session list alice: $out"
    run session list nosuch
    expect "session list unknown user" 0 '^ID' "warning: no such user 'nosuch'"
    run session list alice --json
    expect "session list --json" 0 '^\['
    if /usr/bin/python3 - "$tmp/out" <<'PY'
import json, sys
doc = json.load(open(sys.argv[1]))
assert isinstance(doc, list) and len(doc) == 2, doc
for x in doc:
    assert set(x) == {"id", "user", "created", "last_seen", "expires",
                      "idle_timeout", "ends", "expired", "client",
                      "user_agent", "device"}, x
    assert x["user"] == "alice" and x["id"].startswith("ss_"), x
    assert x["expires"] > x["created"] and not x["expired"], x
PY
    then ok; else bad "session list --json content: $out"; fi
    run session list alice bob
    expect "session list: one user at most" 2 '' "superfluous argument 'bob'"
    sid=$(head -n 1 "$tmp/cookies")
    [ "${#sid}" = 43 ] && ok || bad "filler printed no cookie value: $sid"
    run session revoke
    expect "session revoke needs an id or --user" 2 '' "takes a session ID or --user USER"
    run session revoke "$sid"
    expect "session revoke with a cookie value" 2 '' "not a session id"
    grep -qF -- "$sid" "$tmp/err" && bad "revoke echoed the cookie value" || ok
    run session revoke ss_aaaaaaaaaaaaa
    expect "session revoke unknown id" 1 '' "no such session 'ss_aaaaaaaaaaaaa'"
    run session list alice
    id1=$(sed -n 's/^\(ss_[a-z2-7]*\) .*/\1/p' "$tmp/out" | head -n 1)
    run session revoke "$id1" --user alice
    expect "session revoke id and --user" 2 '' "one of them"
    run session revoke "$id1"
    expect "session revoke by id" 0 "^session $id1 revoked\$"
    run session revoke "$id1"
    expect "session revoke twice" 1 '' "no such session '$id1'"
    run session revoke --user alice
    expect "session revoke --user" 0 '^1 session of user alice revoked$'
    run session revoke --user alice
    expect "session revoke --user again" 0 '^user alice has no sessions$'
    run session revoke --user nosuch
    expect "session revoke --user unknown" 1 '' "no such user 'nosuch'"
    # A new password, a disable, a delete: the user's sessions end.
    runin $'carol-New-pw-1\n' user passwd carol --password-stdin
    expect "passwd ends sessions" 0 '^3 sessions of user carol ended$'
    run session list carol
    [ "$(grep -c '^ss_' "$tmp/out")" = 0 ] && ok || bad "sessions left after passwd: $out"
    fill carol 1
    run user disable carol
    expect "disable ends sessions" 0 '^1 session of user carol ended$'
    run user enable carol
    fill carol 1
    run user del carol
    expect "del ends sessions" 0 '^user carol deleted$'
    run session list carol
    [ "$(grep -c '^ss_' "$tmp/out")" = 0 ] && ok || bad "sessions left after del: $out"
    # No cookie value anywhere in what bouncerctl printed.
    while read -r c; do
        grep -v '^\$ bouncerctl ' "$all" | grep -qF -- "$c" &&
            bad "a session cookie value was printed" || ok
    done <"$tmp/cookies"
else
    bad "$FILL is not built"
fi

# ---- del -------------------------------------------------------------------
run user del bob
expect "user del" 0 '^user bob deleted$'
run user show bob
expect "deleted user is gone" 1 '' "no such user 'bob'"
run user del bob
expect "del unknown user" 1 '' "^bouncerctl: no such user 'bob'$"

# ---- db stats / verify / backup --------------------------------------------
run db stats
expect "db stats" 0 '.'
run db verify
expect "db verify" 0 'verified: OK'
run db gc
expect "db gc" 0 '^removed [0-9]+ expired JWT refresh-token families$'
run db gc extra
expect "db gc takes no argument" 2 '' "superfluous argument"
run db backup "$tmp/backup"
expect "db backup" 0 "written to $tmp/backup"
ls "$tmp/backup"/*.db >/dev/null 2>&1 && ok || bad "backup has no .db files: $(ls "$tmp/backup")"
run db backup "$tmp/backup"
expect "backup into a non-empty dir" 1 '' 'backup to .* failed'

# ---- config ----------------------------------------------------------------
conf="$tmp/bouncer.conf"
printf '[store]\npath = %s\n\n[passwords]\nargon2_memory = 1024\nargon2_time = 1\n' \
    "$tmp/store2" >"$conf"
# $BOUNCER_HOME overrides [store] path: without it, -c decides.
(unset BOUNCER_HOME; "$CTL" -c "$conf" db init >"$tmp/out" 2>"$tmp/err"); rc=$?
out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
expect "-c FILE db init" 0 "store created at $tmp/store2"
printf 'hello world\n' | (unset BOUNCER_HOME; "$CTL" -c "$conf" user add eve --password-stdin) \
    >"$tmp/out" 2>"$tmp/err"; rc=$?
out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
expect "-c FILE user add" 0 '^user eve added \(id [0-9]+\)'
run user show eve
expect "-c store is separate from BOUNCER_HOME" 1 '' "no such user 'eve'"
printf '[store]\npath = %s\nbogus_key = 1\n' "$tmp/store2" >"$tmp/bad.conf"
run -c "$tmp/bad.conf" user list
expect "bad config" 1 '' "bad\.conf:3: "
run -c "$tmp/nonexistent.conf" user list
expect "missing config" 1 '' 'nonexistent\.conf'

# ---- permission denied -----------------------------------------------------
if [ "$(id -u)" = 0 ]; then
    if command -v setpriv >/dev/null 2>&1; then
        # $tmp is 0700 root: nobody cannot reach the store.
        setpriv --reuid=65534 --regid=65534 --clear-groups "$CTL" user list \
            </dev/null >"$tmp/out" 2>"$tmp/err"
        rc=$?; out=$(cat "$tmp/out"); err=$(cat "$tmp/err")
        expect "permission denied" 1 '' "permission denied.*$BOUNCER_HOME"
    else
        echo "cli.sh: setpriv missing, permission test skipped" >&2
    fi
else
    chmod 0 "$BOUNCER_HOME"
    run user list
    expect "permission denied" 1 '' "permission denied.*$BOUNCER_HOME"
    chmod 2770 "$BOUNCER_HOME"
fi

# ---- the no-echo prompt on a terminal --------------------------------------
# script(1) gives bouncerctl a pty as /dev/tty; we type only after each
# prompt appears (TCSAFLUSH discards type-ahead, as it should).
tty_add() { # tty_add NAME FIRST SECOND: sets rc and $tmp/tty.out
    local fifo="$tmp/tty.in" i
    rm -f "$fifo" "$tmp/tty.out"
    mkfifo "$fifo"
    script -qefc "'$CTL' user add '$1'; echo \"[exit \$?]\"" /dev/null \
        <"$fifo" >"$tmp/tty.out" 2>&1 &
    bgpid=$!
    exec 3>"$fifo"
    for i in $(seq 100); do grep -q 'Password:' "$tmp/tty.out" && break; sleep 0.1; done
    printf '%s\n' "$2" >&3
    for i in $(seq 100); do grep -q 'Retype password:' "$tmp/tty.out" && break; sleep 0.1; done
    printf '%s\n' "$3" >&3
    for i in $(seq 100); do grep -q '\[exit' "$tmp/tty.out" && break; sleep 0.1; done
    exec 3>&-
    for i in $(seq 50); do kill -0 "$bgpid" 2>/dev/null || break; sleep 0.1; done
    kill "$bgpid" 2>/dev/null
    wait "$bgpid" 2>/dev/null
    bgpid=
    rc=$(sed -n 's/.*\[exit \([0-9]*\)\].*/\1/p' "$tmp/tty.out" | tr -d '\r')
    cat "$tmp/tty.out" >>"$all"
}
if command -v script >/dev/null 2>&1 && command -v mkfifo >/dev/null 2>&1; then
    tty_add frank 'Tty-Secret-42' 'Tty-Secret-42'
    if [ "$rc" = 0 ] && grep -q 'user frank added' "$tmp/tty.out"; then ok; else
        bad "tty prompt add: exit '$rc': $(cat "$tmp/tty.out")"; fi
    grep -q 'Tty-Secret-42' "$tmp/tty.out" && bad "the password was echoed on the tty" || ok
    tty_add grace 'One-Password-1' 'Another-Password-2'
    if [ "$rc" = 1 ] && grep -q 'passwords do not match' "$tmp/tty.out"; then ok; else
        bad "tty mismatch: exit '$rc': $(cat "$tmp/tty.out")"; fi
    run user show grace
    expect "mismatch adds nobody" 1 '' "no such user 'grace'"
else
    echo "cli.sh: script(1) missing, tty prompt test skipped" >&2
fi

# ---- no hash ever printed --------------------------------------------------
if grep -qF '$argon2id$' "$all"; then
    bad "an Argon2id hash appeared in bouncerctl output"
else
    ok
fi
# ... while the store does hold them (so the check above means something).
if command -v db5.3_dump >/dev/null 2>&1; then
    found=0
    for f in "$BOUNCER_HOME"/*.db; do
        db5.3_dump -p -h "$BOUNCER_HOME" "$(basename "$f")" 2>/dev/null |
            grep -qF '$argon2id$' && found=1
    done
    [ "$found" = 1 ] && ok || bad "no Argon2id hash found in the store files"
fi

# ---- the stored hash verifies the password as typed -------------------------
# With python3-argon2 (independent of our code): one trailing newline is
# stripped, inner and trailing spaces are kept, passwd replaces the hash.
stored_hash() { # stored_hash HOME: the one Argon2id string in HOME's users.db
    db5.3_dump -p -h "$1" users.db 2>/dev/null | grep -o '\$argon2id\$[^\\]*' | head -n 1
}
argon2_check() { # argon2_check HASH PASSWORD: exit 0 if it matches
    /usr/bin/python3 -c '
import sys, argon2
try:
    argon2.PasswordHasher().verify(sys.argv[1], sys.argv[2])
except argon2.exceptions.VerifyMismatchError:
    sys.exit(1)' "$1" "$2"
}
if command -v db5.3_dump >/dev/null 2>&1 &&
    /usr/bin/python3 -c 'import argon2' 2>/dev/null; then
    pwhome="$tmp/pwstore"
    BOUNCER_HOME="$pwhome" run db init
    BOUNCER_HOME="$pwhome" runin $' spaced  pass \n\nsecond line\n' user add pw --password-stdin
    expect "add for hash check" 0 '^user pw added'
    h=$(stored_hash "$pwhome")
    case $h in '$argon2id$v=19$m=19456,t=2,p=1$'*) ok ;; *) bad "stored hash has unexpected parameters: $h" ;; esac
    argon2_check "$h" ' spaced  pass ' && ok || bad "stored hash does not verify the password from stdin"
    argon2_check "$h" ' spaced  pass '$'\n' && bad "the newline became part of the password" || ok
    BOUNCER_HOME="$pwhome" runin $'new-Password-9' user passwd pw --password-stdin
    expect "passwd without a trailing newline" 0 'changed'
    h2=$(stored_hash "$pwhome")
    argon2_check "$h2" 'new-Password-9' && ok || bad "new hash does not verify the new password"
    argon2_check "$h2" ' spaced  pass ' && bad "old password still verifies after passwd" || ok
else
    echo "cli.sh: db5.3_dump or python3-argon2 missing, hash check skipped" >&2
fi

echo "cli.sh: $pass passed, $fail failed"
[ "$fail" = 0 ]
