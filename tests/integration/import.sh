#!/bin/bash
# SPDX-License-Identifier: MIT
# Migration (issue 8): bouncerctl import htpasswd / htdbm / django / bouncer,
# export and db gc, with fixtures made here by the real tools: Apache's
# htpasswd (-B -m -s -d -p) and htdbm (-TDB), libxcrypt for sha512-crypt and
# yescrypt lines, and Django itself (tests/integration/django_fixture.py:
# users hashed by five Django hashers plus a Django 4 scrypt hash, groups,
# an inactive user, an unusable password, DRF tokens, manage.py dumpdata).
#
# After the imports every user logs in with the original password through
# the authorizer (lighttpd with the shipped lighttpd/bouncer.conf, Basic)
# and every DRF token works as "Authorization: Token <key>". Also: dry runs
# write nothing, re-runs change nothing (even after logins re-hashed the
# legacy hashes), malformed lines and records are reported with their line
# number / record index and left out, export -> import into a fresh store
# gives the same users, db gc counts what it removes.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd curl
need_built "$BIN_BOUNCER" "$BIN_CTL" "$top_builddir/bench/bnc-fill-sessions"
# The fixture tools are test dependencies (scripts/deps.sh), not servers:
# their absence is a failure, not a skip.
command -v htpasswd >/dev/null && command -v htdbm >/dev/null ||
    die "htpasswd/htdbm missing (apache2-utils)"
/usr/bin/python3 -c 'import django, rest_framework, bcrypt, argon2, crypt' 2>/dev/null ||
    die "/usr/bin/python3 lacks django, rest_framework, bcrypt, argon2 or crypt"
bnc_init import

STORE="$T/store"
CONF="$T/bouncer.conf"
REALM="bouncer-import"
FIX="$T/fixtures"
mkdir -p "$FIX"

# out_of CMD...: runs bouncerctl against $STORE; sets OUT (stdout+stderr)
# and RC.
OUT=
RC=0
run_ctl() {
    OUT=$(ctl "$STORE" "$@" 2>&1)
    RC=$?
}

# ---- htpasswd fixture (Apache's own tool) --------------------------------
declare -A PW   # user -> clear-text password, for the logins
HT="$FIX/users.htpasswd"
rpw() { printf 'pw-%s' "$(head -c 9 /dev/urandom | base64 | tr -d '+/=')"; }
PW[ht_bcrypt]=$(rpw); htpasswd -cbB "$HT" ht_bcrypt "${PW[ht_bcrypt]}" 2>/dev/null
PW[ht_apr1]=$(rpw);   htpasswd -bm "$HT" ht_apr1 "${PW[ht_apr1]}" 2>/dev/null
PW[ht_sha]=$(rpw);    htpasswd -bs "$HT" ht_sha "${PW[ht_sha]}" 2>/dev/null
# crypt(3) DES keeps 8 characters: a password of 8.
PW[ht_crypt]="c$(head -c 6 /dev/urandom | base64 | tr -d '+/=' | head -c 7)"
htpasswd -bd "$HT" ht_crypt "${PW[ht_crypt]}" 2>/dev/null
PW[ht_plain]=$(rpw);  htpasswd -bp "$HT" ht_plain "${PW[ht_plain]}" 2>/dev/null
for u in ht_sha512 ht_yescrypt; do
    PW[$u]=$(rpw)
done
# sha512-crypt and yescrypt as libxcrypt writes them (/etc/shadow style).
/usr/bin/python3 -W ignore -c 'import crypt, sys
print("ht_sha512:" + crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_SHA512)))
print("ht_yescrypt:" + crypt.crypt(sys.argv[2], "$y$j9T$" + crypt.mksalt(crypt.METHOD_SHA512)[3:19]))' \
    "${PW[ht_sha512]}" "${PW[ht_yescrypt]}" >>"$HT"
HT_USERS="ht_bcrypt ht_apr1 ht_sha ht_crypt ht_plain ht_sha512 ht_yescrypt"
NHT=7
check_eq "htpasswd fixture has the 7 users" 7 "$(grep -c '^ht_' "$HT")"
check_match "htpasswd -B wrote bcrypt" "$(grep ^ht_bcrypt: "$HT")" '^ht_bcrypt:\$2y\$'
check_match "htpasswd -m wrote apr1" "$(grep ^ht_apr1: "$HT")" '^ht_apr1:\$apr1\$'
check_match "htpasswd -s wrote {SHA}" "$(grep ^ht_sha: "$HT")" '^ht_sha:\{SHA\}'
check_match "htpasswd -d wrote DES crypt" "$(grep ^ht_crypt: "$HT")" '^ht_crypt:[./0-9A-Za-z]{13}$'
check_eq "htpasswd -p wrote the clear text" "ht_plain:${PW[ht_plain]}" "$(grep ^ht_plain: "$HT")"
check_match "libxcrypt wrote yescrypt" "$(grep ^ht_yescrypt: "$HT")" '^ht_yescrypt:\$y\$j9T\$'

# The same file with every kind of bad line, at known line numbers.
BAD="$FIX/bad.htpasswd"
{
    cat "$HT"                                           # lines 1-7
    printf '# a comment\n\n'                            # 8, 9
    printf 'no-colon-here\n'                            # 10
    printf 'ht_unknown:$9$abc$def\n'                    # 11
    printf 'ht_badsha:{SHA}not-base64!\n'               # 12
    printf 'ht_short:$2y$05$tooshort\n'                 # 13
    printf ':$apr1$abcdefgh$0123456789012345678901\n'   # 14
    printf 'ht_bcrypt:{SHA}%s\n' "$(printf x | openssl sha1 -binary | base64)"  # 15 duplicate
    printf 'ht_ctl\001name:{SHA}%s\n' "$(printf x | openssl sha1 -binary | base64)"  # 16
    printf 'ht_empty:\n'                                # 17
    printf '  ht_spaced:%s  \n' "$(grep ^ht_sha: "$HT" | cut -d: -f2)"  # 18 ok
} >"$BAD"
PW[ht_spaced]=${PW[ht_sha]}

# ---- htdbm fixture (Berkeley DB, as mod_authn_dbm reads it) ---------------
DBM="$FIX/users.db"
PW[dbm_bcrypt]=$(rpw); htdbm -cbB -TDB "$DBM" dbm_bcrypt "${PW[dbm_bcrypt]}" >/dev/null 2>&1
PW[dbm_md5]=$(rpw);    htdbm -bm -TDB "$DBM" dbm_md5 "${PW[dbm_md5]}" >/dev/null 2>&1
PW[dbm_sha]=$(rpw);    htdbm -bs -TDB "$DBM" dbm_sha "${PW[dbm_sha]}" >/dev/null 2>&1
# -t: the last argument is the "comment", which mod_authz_dbm reads as the
# user's groups.
PW[dbm_groups]=$(rpw); htdbm -btB -TDB "$DBM" dbm_groups "${PW[dbm_groups]}" "dbmadmin,dbmstaff" >/dev/null 2>&1
PW[dbm_comment]=$(rpw); htdbm -btm -TDB "$DBM" dbm_comment "${PW[dbm_comment]}" "Jane Doe, room 4" >/dev/null 2>&1
DBM_USERS="dbm_bcrypt dbm_md5 dbm_sha dbm_groups dbm_comment"
check_eq "htdbm wrote a Berkeley DB hash database" "Berkeley DB (Hash" \
    "$(file -b "$DBM" | cut -c1-17)"
check_eq "htdbm -l lists the 5 users" 5 "$(htdbm -l -TDB "$DBM" 2>&1 | grep -c '^ *dbm_')"

# ---- Django fixture (Django itself) --------------------------------------
if ! out=$(/usr/bin/python3 "$top_srcdir/tests/integration/django_fixture.py" "$FIX/django" 2>&1); then
    die "django_fixture.py failed" "$out"
fi
DJ="$FIX/django/dump.json"
EXPECT="$FIX/django/expect.txt"
check_eq "dumpdata wrote 9 users" 9 "$(grep -c '"model": "auth.user"' "$DJ")"
check_eq "dumpdata wrote 4 DRF tokens" 4 "$(grep -c '"model": "authtoken.token"' "$DJ")"
for h in pbkdf2_sha256 pbkdf2_sha1 bcrypt_sha256 'bcrypt\$\$2b' 'argon2\$argon2' 'scrypt\$16384'; do
    check_match "dumpdata holds a $h hash" "$(grep -o "\"password\": \"$h[^\"]*" "$DJ" | head -1)" "$h"
done
check_match "dumpdata holds an unusable (!) password" "$(cat "$DJ")" '"password": "!'

# Bad records beside good ones, at known indexes (appended after the dump).
DJBAD="$FIX/django/bad.json"
/usr/bin/python3 - "$DJ" "$DJBAD" <<'EOF'
import json, sys
recs = json.load(open(sys.argv[1]))
n = len(recs)
recs += [
    {"model": "auth.user", "pk": 900, "fields": {"username": "bad name\u0001",
        "password": "!x", "groups": []}},                          # n
    {"model": "auth.user", "pk": 901, "fields": {"username": "dj_md5",
        "password": "md5$salt$0123456789abcdef0123456789abcdef"}},  # n+1
    {"model": "auth.user", "pk": 902, "fields": {"password": "!"}},  # n+2
    {"model": "authtoken.token", "pk": "f" * 40,
        "fields": {"user": 901, "created": "2024-01-01T00:00:00Z"}},  # n+3
    "not a record",                                                 # n+4
    {"model": "auth.user", "pk": 903, "fields": {"username": "dj_date",
        "password": "!", "date_joined": "yesterday"}},              # n+5
]
json.dump(recs, open(sys.argv[2], "w"), indent=1)
print(n)
EOF
NREC=$(/usr/bin/python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$DJ")

# ---- store and authorizer ------------------------------------------------
make_store "$STORE" || bnc_finish
{
    printf '[store]\npath = %s\n\n' "$STORE"
    printf '[auth]\nschemes = token, basic\nrealm = %s\n\n' "$REALM"
    printf '[rules]\n/app/ = authenticated\n'
} >"$CONF"
chmod 644 "$CONF"
if out=$("$BIN_BOUNCER" -c "$CONF" --check-config 2>&1); then
    pass "bouncer --check-config accepts the config"
else
    die "bouncer --check-config rejected the config" "$out"
fi
users_list() { ctl "$STORE" user list 2>/dev/null | awk 'NR > 1 { print $1 }' | sort | tr '\n' ' '; }

# ---- dry runs write nothing ----------------------------------------------
run_ctl import htpasswd "$HT" --allow-plaintext --dry-run
check_eq "import htpasswd --dry-run: exit 0" 0 "$RC"
check_contains "import htpasswd --dry-run: summary" "$OUT" \
    "dry run, nothing written: would import $NHT, would update 0, unchanged 0, skipped 0"
run_ctl import django "$DJ" --dry-run
check_contains "import django --dry-run: summary" "$OUT" \
    "dry run, nothing written: would import 9, would update 0, unchanged 0, skipped 1"
check_contains "import django --dry-run: token summary" "$OUT" "tokens: would import 4, unchanged 0, skipped 0"
run_ctl import htpasswd "$DBM" --dry-run
check_contains "import htpasswd (htdbm) --dry-run: summary" "$OUT" \
    "import htdbm $DBM: dry run, nothing written: would import 5"
check_eq "after three dry runs the store has no user" "" "$(users_list)"
check_eq "after three dry runs the store has no token" 1 "$(ctl "$STORE" token list | wc -l)"

# ---- htpasswd --------------------------------------------------------------
run_ctl import htpasswd "$HT"
check_eq "import htpasswd without --allow-plaintext: exit 1 (a line skipped)" 1 "$RC"
check_contains "the clear-text line is refused with its line number" "$OUT" \
    "$HT: line 5: skipped: user 'ht_plain': unknown hash format (clear-text passwords need --allow-plaintext)"
check_contains "the other 6 are imported" "$OUT" "imported 6, updated 0, unchanged 0, skipped 1"
run_ctl import htpasswd "$HT" --allow-plaintext --group web
check_eq "import htpasswd --allow-plaintext --group web: exit 0" 0 "$RC"
check_contains "import htpasswd --allow-plaintext: the clear-text user is added, --group updates the 6" "$OUT" \
    "imported 1, updated 6, unchanged 0, skipped 0"
check_eq "the clear-text password was re-hashed to Argon2id at once" argon2id \
    "$(ctl "$STORE" user show ht_plain --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["hash_format"])')"
run_ctl import htpasswd "$HT" --allow-plaintext --group web
check_contains "import htpasswd again: idempotent" "$OUT" "imported 0, updated 0, unchanged $NHT, skipped 0"
check_not_contains "no progress bar when stderr is not a terminal" "$OUT" "importing users"
if command -v script >/dev/null; then
    # script(1) gives the command a pseudo-terminal.
    tty_out=$(BOUNCER_HOME=$STORE script -qec "$BIN_CTL import htpasswd $HT --allow-plaintext --group web" /dev/null 2>&1)
    check_contains "a progress bar on a terminal" "$tty_out" "importing users $NHT/$NHT ["
    check_contains "the progress bar reaches 100%" "$tty_out" "100%"
fi

run_ctl import htpasswd "$BAD" --allow-plaintext --group web
check_eq "import of the file with bad lines: exit 1" 1 "$RC"
check_contains "line 10: no colon" "$OUT" "line 10: skipped: no ':' between user name and password hash"
check_contains "line 11: an unknown \$9\$ hash is refused, not taken as clear text" "$OUT" \
    "line 11: skipped: user 'ht_unknown': unknown hash format"
check_contains "line 12: malformed {SHA}" "$OUT" "line 12: skipped: user 'ht_badsha': sha1 hash cannot be verified"
check_contains "line 13: malformed bcrypt" "$OUT" "line 13: skipped: user 'ht_short': bcrypt hash cannot be verified"
check_contains "line 14: empty user name" "$OUT" "line 14: skipped: empty user name"
check_contains "line 15: duplicate name, the first counts" "$OUT" \
    "line 15: skipped: user 'ht_bcrypt' already appeared at line 1; the first one counts"
check_contains "line 16: control character in the name" "$OUT" "line 16: skipped: invalid user name"
check_contains "line 17: empty password field" "$OUT" "line 17: skipped: user 'ht_empty' has an empty password field"
check_not_contains "comment and blank lines are not reported" "$OUT" "line 8:"
check_contains "bad-line file: the good lines count (ht_spaced added, 7 unchanged)" "$OUT" \
    "imported 1, updated 0, unchanged 7, skipped 8"
check_not_contains "no half user: ht_badsha is not in the store" "$(users_list)" "ht_badsha"
check_not_contains "no message quotes a password or hash" "$OUT" "${PW[ht_plain]}"

# ---- htdbm (auto-detected, and with --dbm) -----------------------------------
run_ctl import htpasswd "$DBM"
check_eq "import htpasswd of the htdbm file: exit 0" 0 "$RC"
check_contains "the Berkeley DB file is recognised and imported" "$OUT" \
    "import htdbm $DBM: imported 5, updated 0, unchanged 0, skipped 0"
check_eq "htdbm groups (mod_authz_dbm) become the user's groups" "dbmadmin, dbmstaff" \
    "$(ctl "$STORE" user show dbm_groups | sed -n 's/^groups: *//p')"
check_eq "an htdbm comment that is no group list is not taken as groups" "-" \
    "$(ctl "$STORE" user show dbm_comment | sed -n 's/^groups: *//p')"
run_ctl import htpasswd "$DBM" --dbm
check_contains "import htpasswd --dbm again: idempotent" "$OUT" "imported 0, updated 0, unchanged 5, skipped 0"

# ---- an interrupted import leaves whole batches only ------------------------------
# SIGKILL in the middle of a 60,000-user import: every batch of 500 users is
# one transaction, so the store holds a multiple of 500 users, each with its
# group, and running the import again finishes the job.
STORE4="$T/store4"
make_store "$STORE4" || bnc_finish
BIG="$FIX/big.htpasswd"
/usr/bin/python3 -c 'import base64, hashlib
for i in range(60000):
    print("bulk%05d:{SHA}%s" % (i, base64.b64encode(hashlib.sha1(b"pw%d" % i).digest()).decode()))' >"$BIG"
BOUNCER_HOME=$STORE4 "$BIN_CTL" import htpasswd "$BIG" --group bulk >/dev/null 2>&1 &
IPID=$!   # bouncerctl itself, not a subshell
# Berkeley DB log files are 10 MB each, preallocated: a second one means
# the import is well on (about a fifth of it) and far from done. A glob, not
# a bouncerctl call, so that polling does not slow it down.
for ((i = 0; i < 1500; i++)); do
    logs=("$STORE4"/log.*)
    [ "${#logs[@]}" -ge 2 ] && break
    sleep 0.01
done
kill -KILL "$IPID" 2>/dev/null
wait "$IPID" 2>/dev/null
krc=$?
# The next opener recovers the environment the killed process left; a
# command that meets the recovery exits 75: run it again, as documented.
for ((i = 0; i < 5; i++)); do
    bulk=$(ctl "$STORE4" user list 2>/dev/null) && break
    sleep 0.5
done
nbulk=$(printf '%s\n' "$bulk" | tail -n +2 | grep -c '^bulk')
nfull=$(printf '%s\n' "$bulk" | tail -n +2 | awk '$1 ~ /^bulk/ && $3 == "bulk"' | wc -l)
if [ "$krc" -eq 137 ] && [ "$nbulk" -lt 60000 ]; then
    pass "the import was killed in the middle ($nbulk of 60000 users written)"
else
    fail "the import was killed in the middle" "exit $krc, $nbulk users"
fi
check_eq "after the kill: whole batches only ($nbulk users, a multiple of 500)" 0 $((nbulk % 500))
check_eq "after the kill: every user written has its group" "$nbulk" "$nfull"
OUT=$(ctl "$STORE4" import htpasswd "$BIG" --group bulk 2>&1)
check_contains "running it again finishes the job" "$OUT" \
    "imported $((60000 - nbulk)), updated 0, unchanged $nbulk, skipped 0"

# ---- Django --------------------------------------------------------------------
run_ctl import django "$DJ"
check_eq "import django: exit 1 (the 'Site Editors' group is left out)" 1 "$RC"
check_contains "the group name bouncer cannot carry is reported with record and pk" "$OUT" \
    "(auth.group pk 3): skipped: group name 'Site Editors' is not a bouncer group name"
check_contains "import django: 9 users" "$OUT" "import django $DJ: imported 9, updated 0, unchanged 0, skipped 1"
check_contains "import django: 4 tokens" "$OUT" "tokens: imported 4, unchanged 0, skipped 0"
check_contains "a Django pk taken by an htpasswd user is reported" "$OUT" \
    "warning: $DJ: record [0] (auth.user pk 1): user id 1 is taken by another user: 'dj_pbkdf2' got a new id"
run_ctl import django "$DJ"
check_contains "import django again: users unchanged" "$OUT" "imported 0, updated 0, unchanged 9, skipped 1"
check_contains "import django again: tokens unchanged" "$OUT" "tokens: imported 0, unchanged 4, skipped 0"
run_ctl import django "$DJBAD"
check_contains "record [$NREC]: bad user name" "$OUT" "record [$NREC] (auth.user pk 900): skipped: invalid user name"
check_contains "record [$((NREC + 1))]: unsupported Django hasher" "$OUT" \
    "record [$((NREC + 1))] (auth.user pk 901): skipped: unsupported password hash format 'md5'"
check_contains "record [$((NREC + 2))]: no username" "$OUT" "record [$((NREC + 2))] (auth.user pk 902): skipped: no username"
check_contains "record [$((NREC + 3))]: the token of a skipped user" "$OUT" \
    "record [$((NREC + 3))] (authtoken.token of user pk 901): skipped: user pk 901 was skipped, so is its token"
check_not_contains "the token key is never printed" "$OUT" "ffffffffffffffffffff"
check_contains "record [$((NREC + 4))]: not a record" "$OUT" "record [$((NREC + 4))]: skipped: not a dumpdata record"
check_contains "record [$((NREC + 5))]: bad date_joined" "$OUT" \
    "record [$((NREC + 5))] (auth.user pk 903): skipped: date_joined 'yesterday' is not an ISO 8601 time"
check_contains "bad-record file: the good records are unchanged (6 bad + the group)" "$OUT" \
    "imported 0, updated 0, unchanged 9, skipped 7"
check_not_contains "no half user from the bad records" "$(users_list)" "dj_md5"

# What the Django users became.
while IFS='|' read -r kind name pw hasher active groups email display; do
    [ "$kind" = user ] || continue
    js=$(ctl "$STORE" user show "$name" --json 2>&1)
    field() { printf '%s' "$js" | /usr/bin/python3 -c 'import json,sys
v = json.load(sys.stdin).get(sys.argv[1])
print(",".join(sorted(v)) if isinstance(v, list) else ("" if v is None else v), end="")' "$1"; }
    check_eq "django $name: groups" "$groups" "$(field groups)"
    check_eq "django $name: email" "$email" "$(field email)"
    check_eq "django $name: display name" "$display" "$(field display_name)"
    check_eq "django $name: disabled = not is_active" "$([ "$active" = 1 ] && echo False || echo True)" "$(field disabled)"
    [ "$hasher" = unusable ] || PW[$name]=$pw
done <"$EXPECT"
uid() { ctl "$1" user show "$2" --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'; }
check_ne "dj_pbkdf2 did not take id 1 (ht_bcrypt has it)" 1 "$(uid "$STORE" dj_pbkdf2)"
STORE3="$T/store3"
make_store "$STORE3" || bnc_finish
OUT=$(ctl "$STORE3" import django "$DJ" 2>&1)
check_contains "import django into an empty store" "$OUT" "imported 9, updated 0, unchanged 0, skipped 1"
check_eq "in an empty store the Django pk becomes the user id (simplejwt user_id)" 1 "$(uid "$STORE3" dj_pbkdf2)"
check_eq "... for every user (dj_scrypt, pk 8)" 8 "$(uid "$STORE3" dj_scrypt)"

# ---- logins through the authorizer (lighttpd) -----------------------------------
www_cgi app
PORT=$(free_port) || die "no free port"
lighttpd_conf "$PORT" "$CONF" "$T/run" "$T/log/" >"$T/lighttpd.conf"
start_lighttpd "$T/lighttpd.conf" "$PORT"
URL="$URL/app/"

basic() { http "$URL" -H "Authorization: Basic $(b64 "$1:$2")"; }
login_ok() { # USER PASSWORD WHAT
    basic "$1" "$2"
    check_eq "$3: $1 logs in with the original password (200)" 200 "$S"
    check_line "$3: the application sees REMOTE_USER=$1" "$B" "REMOTE_USER=$1"
}
for u in $HT_USERS ht_spaced; do
    login_ok "$u" "${PW[$u]}" htpasswd
done
basic ht_bcrypt "${PW[ht_bcrypt]}x"
check_eq "htpasswd: a wrong password is refused (401)" 401 "$S"
for u in $DBM_USERS; do
    login_ok "$u" "${PW[$u]}" htdbm
done
basic dbm_groups "${PW[dbm_groups]}"
check_line "htdbm: the groups reach the application" "$B" "AUTH_GROUPS=dbmadmin,dbmstaff"
while IFS='|' read -r kind name pw hasher active groups email display; do
    case "$kind:$hasher:$active" in
    user:unusable:*)
        basic "$name" ""
        check_eq "django $name (unusable password): Basic is refused" 401 "$S"
        ;;
    user:*:0)
        basic "$name" "$pw"
        check_eq "django $name (is_active false): refused" 401 "$S"
        check_eq "django $name: detail" "User inactive or deleted." "$(json_field detail)"
        ;;
    user:*)
        login_ok "$name" "$pw" "django $hasher"
        [ -n "$email" ] && check_line "django $name: AUTH_EMAIL" "$B" "AUTH_EMAIL=$email"
        [ -n "$display" ] && check_line "django $name: AUTH_NAME" "$B" "AUTH_NAME=$display"
        ;;
    token:*)
        http "$URL" -H "Authorization: Token $pw"
        if [ "$name" = dj_inactive ]; then
            check_eq "DRF token of the inactive user: refused" 401 "$S"
        else
            check_eq "DRF token of $name works as Authorization: Token (200)" 200 "$S"
            check_line "DRF token of $name: REMOTE_USER=$name" "$B" "REMOTE_USER=$name"
            check_line "DRF token of $name: AUTH_TYPE=Token" "$B" "AUTH_TYPE=Token"
        fi
        ;;
    esac
done <"$EXPECT"
http "$URL" -H "Authorization: Token ffffffffffffffffffffffffffffffffffffffff"
check_eq "a token key that was not imported is refused" 401 "$S"

# ---- locked htpasswd lines, a skipped first line, short clear text -------------
# Apache lets nobody in with "!", "*", "x" or "!<hash>"; it reads only the
# first line for a name, skipped here or not.
LOCK="$FIX/locked.htpasswd"
PW[lk_prefixed]=$(rpw)
LKHASH=$(htpasswd -nbm x "${PW[lk_prefixed]}" | cut -d: -f2)
{
    printf 'lk_bang:!\n'                    # 1
    printf 'lk_star:*\n'                    # 2
    printf 'lk_x:x\n'                       # 3
    printf 'lk_prefixed:!%s\n' "$LKHASH"    # 4
    printf 'lk_first:$9$abc$def\n'          # 5 skipped
    printf 'lk_first:%s\n' "$LKHASH"        # 6 a later line for a skipped name
    printf 'lk_short:abc\n'                 # 7 too short for clear text
} >"$LOCK"
run_ctl import htpasswd "$LOCK" --allow-plaintext
check_eq "import of locked lines: exit 1 (lines 5 to 7 skipped)" 1 "$RC"
for l in "1 lk_bang" "2 lk_star" "3 lk_x" "4 lk_prefixed"; do
    check_contains "line ${l% *}: ${l#* } is locked: imported with no password" "$OUT" \
        "line ${l% *}: user '${l#* }' is locked in the file: imported with no password"
done
check_contains "line 6: the name of skipped line 5 is not imported from a later line" "$OUT" \
    "line 6: skipped: user 'lk_first' already appeared at line 5, which was skipped"
check_contains "line 7: clear text under 4 characters is refused" "$OUT" \
    "line 7: skipped: user 'lk_short': clear-text password shorter than 4 characters"
check_contains "locked lines: summary" "$OUT" "imported 4, updated 0, unchanged 0, skipped 3"
check_contains "locked lines: counted in the summary" "$OUT" "4 users locked in the file"
check_not_contains "lk_first is not in the store" "$(users_list)" "lk_first"
check_not_contains "lk_short is not in the store" "$(users_list)" "lk_short"
for c in "lk_bang:!" "lk_star:*" "lk_x:x" "lk_prefixed:${PW[lk_prefixed]}"; do
    basic "${c%%:*}" "${c#*:}"
    check_eq "locked ${c%%:*}: no Basic login with the lock marker or the hash's password" 401 "$S"
done

# ---- Django: only Django hasher formats; an admin's disable stays --------------
DJX="$FIX/django/extra.json"
PW[dj_keep]=$(rpw)
/usr/bin/python3 - "$DJX" "$LKHASH" "${PW[dj_keep]}" <<'EOF'
import base64, hashlib, json, sys
salt = "c2FsdHNhbHQ"
dk = hashlib.pbkdf2_hmac("sha256", sys.argv[3].encode(), salt.encode(), 20000)
recs = [
    {"model": "auth.user", "pk": 950, "fields": {"username": "dj_foreign",
        "password": sys.argv[2], "is_active": True}},
    {"model": "auth.user", "pk": 951, "fields": {"username": "dj_keep",
        "password": "pbkdf2_sha256$20000$%s$%s" % (salt, base64.b64encode(dk).decode()),
        "is_active": True}},
]
json.dump(recs, open(sys.argv[1], "w"))
EOF
run_ctl import django "$DJX"
check_eq "import django of a non-Django hash: exit 0 (imported, warned)" 0 "$RC"
check_contains "a crypt-style hash in a Django dump becomes no password" "$OUT" \
    "user 'dj_foreign': the password is not in a Django hasher format ('\$apr1\$'): imported with no password"
basic dj_foreign "${PW[lk_prefixed]}"
check_eq "dj_foreign cannot log in with the apr1 hash's password" 401 "$S"
login_ok dj_keep "${PW[dj_keep]}" "django pbkdf2 (hashlib)"
ctl "$STORE" user disable dj_keep >/dev/null 2>&1
run_ctl import django "$DJX"
check_contains "re-import: a user disabled in bouncer stays disabled (named)" "$OUT" \
    "user 'dj_keep' is disabled in bouncer and active in the file: kept disabled"
check_contains "re-import: the summary counts it" "$OUT" "kept 1 user disabled that the file has active"
check_contains "re-import: nothing changed" "$OUT" "imported 0, updated 0, unchanged 2"
basic dj_keep "${PW[dj_keep]}"
check_eq "dj_keep is still refused after the re-import" 401 "$S"
run_ctl import django "$DJX" --sync-disabled
check_contains "--sync-disabled: the file's active wins" "$OUT" "imported 0, updated 1, unchanged 1"
check_not_contains "--sync-disabled: nothing kept" "$OUT" "kept disabled"
login_ok dj_keep "${PW[dj_keep]}" "after --sync-disabled"
check_eq "legacy hashes were re-hashed to Argon2id at login" argon2id \
    "$(ctl "$STORE" user show dj_pbkdf2 --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["hash_format"])')"

# Re-running after the logins: the re-hashed passwords stay (the file still
# has the old hashes, imported last time).
run_ctl import htpasswd "$HT" --allow-plaintext --group web
check_contains "htpasswd re-run after logins re-hashed them: nothing updated" "$OUT" \
    "imported 0, updated 0, unchanged $NHT, skipped 0"
check_contains "htpasswd re-run: says which passwords it kept" "$OUT" "kept the password of"
run_ctl import django "$DJ"
check_contains "django re-run after logins: nothing updated" "$OUT" "imported 0, updated 0, unchanged 9, skipped 1"
basic dj_pbkdf2 "${PW[dj_pbkdf2]}"
check_eq "after the re-run dj_pbkdf2 still logs in" 200 "$S"
# A hash that did change at the source does replace bouncer's.
NEWPW=$(rpw)
htpasswd -bB "$HT" ht_apr1 "$NEWPW" 2>/dev/null
run_ctl import htpasswd "$HT" --allow-plaintext --group web
check_contains "a password changed at the source is updated" "$OUT" "imported 0, updated 1, unchanged $((NHT - 1)), skipped 0"
basic ht_apr1 "$NEWPW"
check_eq "ht_apr1 logs in with the new password" 200 "$S"
basic ht_apr1 "${PW[ht_apr1]}"
check_eq "ht_apr1's old password no longer works" 401 "$S"
PW[ht_apr1]=$NEWPW

# ---- export -> import into a fresh store --------------------------------------
run_ctl export --output "$T/export.json"
check_eq "export --output: exit 0" 0 "$RC"
check_eq "export file is readable by its owner only" 600 "$(stat -c %a "$T/export.json")"
NUSERS=$(ctl "$STORE" user list | tail -n +2 | wc -l)
check_contains "export says how many users" "$OUT" "exported $NUSERS users to $T/export.json"
check_not_contains "export holds no token key" "$(cat "$T/export.json")" \
    "$(awk -F'|' '$1 == "token" { print $3; exit }' "$EXPECT")"
STORE2="$T/store2"
make_store "$STORE2" || bnc_finish
OUT=$(ctl "$STORE2" import bouncer "$T/export.json" 2>&1)
check_contains "import bouncer into a fresh store" "$OUT" "imported $NUSERS, updated 0, unchanged 0, skipped 0"
OUT=$(ctl "$STORE2" import bouncer "$T/export.json" 2>&1)
check_contains "import bouncer again: idempotent" "$OUT" "imported 0, updated 0, unchanged $NUSERS"
strip() { /usr/bin/python3 -c 'import json,sys
d = json.load(open(sys.argv[1]))
for u in d["users"]:
    u.pop("changed")
print(json.dumps(d["users"], sort_keys=True))' "$1"; }
ctl "$STORE2" export >"$T/export2.json" 2>/dev/null
if [ "$(strip "$T/export.json")" = "$(strip "$T/export2.json")" ]; then
    pass "export -> import bouncer -> export gives the same users (ids, hashes, groups, attributes, times)"
else
    fail "export -> import bouncer -> export gives the same users" \
        "$(diff <(strip "$T/export.json" | tr '{' '\n') <(strip "$T/export2.json" | tr '{' '\n') | head -20)"
fi
# Logins against the new store, through the same authorizer.
sed -i "s|^path = .*|path = $STORE2|" "$CONF"
kill -TERM "$(cat "$T/run/lighttpd.pid")" 2>/dev/null
wait_gone "$PORT" 10
if out=$(lighttpd -f "$T/lighttpd.conf" 2>&1) && wait_port "$PORT" 10; then
    bnc_track "$(cat "$T/run/lighttpd.pid")"
    for u in ht_apr1 ht_yescrypt dbm_groups dj_scrypt dj_argon; do
        login_ok "$u" "${PW[$u]}" "restored store"
    done
else
    fail "lighttpd restarted on the restored store" "$out"
fi

# ---- the audit log (bouncerctl's admin lines) -------------------------------------
ACONF="$T/audit.conf"
printf '[store]\npath = %s\n\n[log]\naudit = file:%s\nformat = json\n' "$STORE" "$T/audit.log" >"$ACONF"
"$BIN_CTL" -c "$ACONF" import htpasswd "$HT" --allow-plaintext --group web >/dev/null 2>&1
"$BIN_CTL" -c "$ACONF" export --output "$T/export3.json" >/dev/null 2>&1
check_contains "audit: import htpasswd, with its counts" "$(cat "$T/audit.log" 2>/dev/null)" \
    "\"action\":\"import htpasswd\",\"target\":\"$HT\",\"outcome\":\"ok\",\"detail\":\"imported=0 updated=0 unchanged=7 skipped=0 tokens=0\""
check_contains "audit: export (it hands out hashes)" "$(cat "$T/audit.log" 2>/dev/null)" \
    "\"action\":\"export\",\"target\":\"$T/export3.json\",\"outcome\":\"ok\",\"detail\":\"users=$NUSERS\""

# ---- db gc -----------------------------------------------------------------------
out=$("$top_builddir/bench/bnc-fill-sessions" --store "$STORE" --user ht_sha --count 3 \
    --lifetime 1s --print-cookies 0 2>&1) || fail "setup: bnc-fill-sessions" "$out"
"$top_builddir/bench/bnc-fill-sessions" --store "$STORE" --user ht_sha --count 2 \
    --print-cookies 0 >/dev/null 2>&1
token_create "$STORE" ht_sha --expires 1s
token_create "$STORE" ht_sha --expires 30d
sleep 2.2
run_ctl db gc
check_eq "db gc: exit 0" 0 "$RC"
check_line "db gc: removed the 3 expired sessions" "$OUT" "^removed 3 expired sessions$"
check_line "db gc: removed the 1 expired token" "$OUT" "^removed 1 expired API tokens$"
check_line "db gc: counts denylist entries" "$OUT" "^removed 0 JWT denylist entries past their expiry$"
check_line "db gc: counts throttle counters" "$OUT" "^removed [0-9]+ expired throttle counters$"
check_eq "db gc: live sessions stay" 2 "$(ctl "$STORE" session list ht_sha | tail -n +2 | wc -l)"
check_eq "db gc: the live token and the 4 DRF tokens stay" 5 "$(ctl "$STORE" token list | tail -n +2 | wc -l)"
run_ctl db gc
check_line "db gc again: nothing left to remove" "$OUT" "^removed 0 expired sessions$"

bnc_finish
