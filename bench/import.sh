#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: bouncerctl import of 100,000 users (issue 8), without any
# password hashing or verification (an import never verifies: it has no
# passwords, and a stored hash is only parsed).
#
# usage: bench/import.sh [BUILD_DIR]     (expects a built tree: make first)
# env:   BENCH_IMPORT_USERS (default 100000), BENCH_REPS (default 3)
#
# Inputs, generated once per run in a temp dir:
#   * an htpasswd file: one {SHA} line per user (htpasswd -s format, each
#     user's own SHA-1 of "pw-N");
#   * a Django dumpdata JSON of the same size: auth.user records with one
#     pbkdf2_sha256 hash repeated (made once with Django's algorithm), 3
#     groups, every 10th user with a DRF token (10,000 tokens).
# Timed (wall clock, best and median of BENCH_REPS): import htpasswd into
# an empty store, the same again (all unchanged), import django into an
# empty store (users + tokens), the same again, --dry-run, export of the
# 100k users, import bouncer of that export into an empty store.
#
# Never fails on a number: exits non-zero only when it cannot run at all.

set -u

SRC=$(cd "$(dirname "$0")/.." && pwd)
B=$(cd "${1:-$SRC}" && pwd) || exit 1
CTL=$B/bouncerctl
N=${BENCH_IMPORT_USERS:-100000}
REPS=${BENCH_REPS:-3}
PY=/usr/bin/python3

[ -x "$CTL" ] || { echo "bench: $CTL is missing: build first (make)" >&2; exit 1; }
TMP=$(mktemp -d "${TMPDIR:-/tmp}/bnc-bench-import.XXXXXX") || exit 1
trap 'rm -rf "$TMP"' EXIT
umask 007

echo "# generating $N-user inputs in $TMP"
$PY - "$N" "$TMP" <<'EOF'
import base64, hashlib, json, os, sys
n, d = int(sys.argv[1]), sys.argv[2]
with open(os.path.join(d, "users.htpasswd"), "w") as f:
    for i in range(n):
        h = base64.b64encode(hashlib.sha1(b"pw-%d" % i).digest()).decode()
        f.write("user%06d:{SHA}%s\n" % (i, h))
salt = "benchsalt0123456789abc"
dk = hashlib.pbkdf2_hmac("sha256", b"pw", salt.encode(), 260000)
pw = "pbkdf2_sha256$260000$%s$%s" % (salt, base64.b64encode(dk).decode())
recs = [{"model": "auth.group", "pk": g, "fields": {"name": name, "permissions": []}}
        for g, name in ((1, "staff"), (2, "admins"), (3, "web"))]
for i in range(n):
    recs.append({"model": "auth.user", "pk": i + 1, "fields": {
        "password": pw, "last_login": None, "is_superuser": False,
        "username": "dj%06d" % i, "first_name": "First%d" % i,
        "last_name": "Last", "email": "u%d@example.org" % i,
        "is_staff": False, "is_active": i % 50 != 0,
        "date_joined": "2023-01-02T03:04:05.678Z",
        "groups": [1 + i % 3], "user_permissions": []}})
for i in range(0, n, 10):
    recs.append({"model": "authtoken.token", "pk": hashlib.sha1(b"k%d" % i).hexdigest(),
                 "fields": {"user": i + 1, "created": "2023-02-03T04:05:06.789Z"}})
with open(os.path.join(d, "dump.json"), "w") as f:
    json.dump(recs, f, indent=1)
EOF
ls -l "$TMP/users.htpasswd" "$TMP/dump.json" | awk '{ print "# " $5 " bytes  " $9 }'

# timeit LABEL CMD...: prints seconds of one run; the store is $STORE.
secs() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>"$TMP/err" || {
        # import exits 1 when something was skipped: that is not expected here.
        echo "bench: failed: $*" >&2
        cat "$TMP/err" >&2
    }
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }'
}
fresh() {
    rm -rf "$TMP/store"
    mkdir -m 2770 "$TMP/store"
    BOUNCER_HOME=$TMP/store "$CTL" db init >/dev/null
}
stat_line() { # LABEL values...
    local label=$1
    shift
    printf '%s\n' "$@" | sort -n | awk -v l="$label" '{ v[NR] = $1 }
        END { printf "%-44s best %6.2f s   median %6.2f s   (%d runs)\n", l, v[1], v[int((NR + 1) / 2)], NR }'
}

export BOUNCER_HOME=$TMP/store
declare -a a b c d e f g
for ((r = 0; r < REPS; r++)); do
    fresh
    a+=("$(secs "$CTL" import htpasswd "$TMP/users.htpasswd")")
    b+=("$(secs "$CTL" import htpasswd "$TMP/users.htpasswd")")
    fresh
    c+=("$(secs "$CTL" import django "$TMP/dump.json" --dry-run)")
    d+=("$(secs "$CTL" import django "$TMP/dump.json")")
    e+=("$(secs "$CTL" import django "$TMP/dump.json")")
    f+=("$(secs "$CTL" export --output "$TMP/export.json")")
    fresh
    g+=("$(secs "$CTL" import bouncer "$TMP/export.json")")
done
echo "# $N users; $(nproc) CPUs; $(date -u +%Y-%m-%dT%H:%MZ)"
stat_line "import htpasswd, empty store" "${a[@]}"
stat_line "import htpasswd again (all unchanged)" "${b[@]}"
stat_line "import django --dry-run (empty store)" "${c[@]}"
stat_line "import django, empty store (+$((N / 10)) tokens)" "${d[@]}"
stat_line "import django again (all unchanged)" "${e[@]}"
stat_line "export --output" "${f[@]}"
stat_line "import bouncer (the export), empty store" "${g[@]}"
