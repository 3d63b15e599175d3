#!/bin/bash
# SPDX-License-Identifier: MIT
# JWT verification (issue 5) behind real servers: lighttpd with the shipped
# lighttpd/bouncer.conf, Apache + mod_fcgid with apache/bouncer-fcgid.conf,
# and Apache + mod_authnz_fcgi with apache/bouncer-authnz.conf in front of a
# bouncer daemon, all protecting examples/env.cgi.
#
# Tokens are minted here by the peers bouncer must interoperate with: PyJWT
# (all 13 algorithms) and djangorestframework-simplejwt itself (HS256 with
# the secret file bouncerctl wrote, ES256 with a PEM key). Hostile tokens
# get 401 with their precise error_description; a jti revoked with
# bouncerctl jwt revoke, a disabled, unknown or logged-out user are refused.
# Last, key rotation on the daemon: SIGHUP adds a key and drops another
# while a load runs, and no request fails.

. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need_root
need_cmd lighttpd apache2 curl
[ -f /usr/lib/apache2/modules/mod_fcgid.so ] ||
    skip_all "mod_fcgid not installed (run scripts/deps.sh)"
[ -x /usr/bin/python3 ] || skip_all "/usr/bin/python3 missing"
/usr/bin/python3 -c 'import jwt, rest_framework_simplejwt, cryptography' 2>/dev/null ||
    skip_all "python3-jwt / python3-djangorestframework-simplejwt missing (run scripts/deps.sh)"
need_built "$BIN_BOUNCER" "$BIN_CTL" "$BIN_FCGI"
bnc_init jwt

REALM="bouncer-jwt"
STORE="$T/store"
KEYS="$T/keys"
CONF="$T/bouncer.conf"
ISS="https://issuer.example"
AUD="api"
DETAIL="Given token not valid for any token type"

# ---- store, users --------------------------------------------------------
make_store "$STORE" || bnc_finish
add_user "$STORE" alice "pw-alice-$RANDOM" --group staff --group dev \
    --email alice@example.org --name "Alice JWT" || bnc_finish
for u in bob carol; do
    add_user "$STORE" "$u" "pw-$u-$RANDOM" || bnc_finish
done
uid() { ctl "$STORE" user show "$1" --json | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])'; }
ALICE_ID=$(uid alice)
BOB_ID=$(uid bob)
CAROL_ID=$(uid carol)
check_match "alice has a numeric id" "$ALICE_ID" '^[0-9]+$'

# ---- keys: bouncerctl jwt keygen, PyJWT's keys in a JWKS -------------------
install -d -m 750 -g "$WWW_GROUP" "$KEYS"
if out=$(ctl "$STORE" jwt keygen --alg HS256 --output "$KEYS/hs.secret" 2>&1); then
    pass "jwt keygen --alg HS256 writes the secret file"
else
    fail "jwt keygen --alg HS256 writes the secret file" "$out"
fi
check_eq "the secret file is mode 0600" 600 "$(stat -c %a "$KEYS/hs.secret")"
check_match "the secret is 64 random bytes, base64url on one line" \
    "$(cat "$KEYS/hs.secret")" '^[A-Za-z0-9_-]{86}$'
if out=$(ctl "$STORE" jwt keygen --alg HS256 --output "$KEYS/hs.secret" 2>&1); then
    fail "jwt keygen refuses to overwrite a key" "$out"
else
    check_contains "jwt keygen refuses to overwrite a key" "$out" "not overwriting"
fi
for k in old new; do
    if ! out=$(ctl "$STORE" jwt keygen --alg ES256 --kid "$k" --output "$KEYS/$k.pem" 2>&1); then
        fail "jwt keygen --alg ES256 --kid $k" "$out"
    fi
    # jwt jwks FILE: the public JWKS of a key file, to verify with.
    ctl "$STORE" jwt jwks "$KEYS/$k.pem" >"$KEYS/$k.jwks" 2>"$T/log/jwks-$k.err"
    check_contains "jwt jwks $k.pem: public EC key with kid $k" \
        "$(cat "$KEYS/$k.jwks")" "\"kid\":\"$k\",\"alg\":\"ES256\",\"use\":\"sig\""
    check_not_contains "jwt jwks $k.pem: no private member" "$(cat "$KEYS/$k.jwks")" '"d":'
done
if ! /usr/bin/python3 "$top_srcdir/tests/integration/jwt_mint.py" "$KEYS" \
    "$KEYS/hs.secret" "$ISS" "$AUD" "$ALICE_ID" "$BOB_ID" "$CAROL_ID" \
    >"$T/tokens.sh" 2>"$T/log/mint.err"; then
    die "jwt_mint.py failed" "$(cat "$T/log/mint.err")"
fi
. "$T/tokens.sh"
rot_token() { # KID: an ES256 token signed by PyJWT with $KEYS/KID.pem
    /usr/bin/python3 - "$KEYS/$1.pem" "$1" "$ALICE_ID" "$ISS" "$AUD" <<'PY'
import sys, time, jwt
key, kid, uid, iss, aud = sys.argv[1:6]
now = int(time.time())
print(jwt.encode({"token_type": "access", "exp": now + 3600, "iat": now - 5,
                  "jti": "rot-" + kid, "user_id": int(uid), "iss": iss,
                  "aud": aud}, open(key).read(), "ES256", headers={"kid": kid}))
PY
}
T_OLD=$(rot_token old)
T_NEW=$(rot_token new)
chgrp -R "$WWW_GROUP" "$KEYS"
chmod 640 "$KEYS"/*

# ---- revocations and user changes -------------------------------------------
if out=$(ctl "$STORE" jwt revoke revoked-jti-1 2>&1); then
    check_contains "jwt revoke prints the expiry" "$out" "revoked jti revoked-jti-1 until"
else
    fail "jwt revoke revoked-jti-1" "$out"
fi
if out=$(ctl "$STORE" jwt revoke "bad jti" 2>&1); then
    fail "jwt revoke refuses a jti with a space" "$out"
else
    pass "jwt revoke refuses a jti with a space"
fi
out=$(ctl "$STORE" user disable bob 2>&1) || fail "user disable bob" "$out"
# Log out everywhere by a password change: carol's token (iat now-5) dies.
out=$(printf 'pw-carol-new-%s\n' "$RANDOM" | ctl "$STORE" user passwd carol --password-stdin 2>&1) ||
    fail "user passwd carol" "$out"

# ---- bouncer config ---------------------------------------------------------
write_conf() { # VERIFYING-KEYS
    cat >"$CONF" <<EOF
[store]
path = $STORE

[auth]
schemes = jwt, basic
realm = $REALM

[throttle]
; This suite fails on purpose from one client: the throttle has throttle.sh.
trusted = 127.0.0.1, ::1

[jwt]
algorithm = HS256
signing_key = $KEYS/hs.secret
verifying_keys = $1
issuer = $ISS
audience = $AUD
header_types = Bearer, JWT
claims = tenant, email
max_length = 4096

[rules]
/app/ = authenticated
EOF
    chmod 644 "$CONF"
}
write_conf "$KEYS/jwks.json, $KEYS/old.jwks"
if out=$("$BIN_BOUNCER" -c "$CONF" --check-config 2>&1); then
    pass "bouncer --check-config accepts the [jwt] config"
else
    fail "bouncer --check-config accepts the [jwt] config" "$out" "$(cat "$CONF")"
fi
# A world-readable secret is refused, naming the file.
cp -p "$KEYS/hs.secret" "$T/open.secret"
chmod 644 "$T/open.secret"
sed "s|^signing_key = .*|signing_key = $T/open.secret|" "$CONF" >"$T/open.conf"
if out=$("$BIN_BOUNCER" -c "$T/open.conf" --check-config 2>&1); then
    fail "--check-config refuses a world-readable HMAC secret" "$out"
else
    check_contains "--check-config refuses a world-readable HMAC secret" "$out" "open.secret"
fi

www_cgi app index.html

# ---- helpers ---------------------------------------------------------------
SRV=
URL=

req() { # TOKEN [TYPE]: GET /app/ with Authorization: TYPE TOKEN
    http "$URL/app/" -H "Authorization: ${2:-Bearer} $1"
}

# accept WHAT JTI: the request in $S/$B was let in as alice with the JWT.
accept() {
    local what="$SRV: $1" jti=$2
    check_eq "$what: 200" 200 "$S"
    check_line "$what: REMOTE_USER" "$B" '^REMOTE_USER=alice$'
    check_line "$what: AUTH_TYPE" "$B" '^AUTH_TYPE=JWT$'
    check_line "$what: AUTH_USER_ID" "$B" "^AUTH_USER_ID=$ALICE_ID\$"
    check_line "$what: AUTH_GROUPS from the user record" "$B" '^AUTH_GROUPS=staff,dev$'
    if [ -n "$jti" ]; then
        check_line "$what: AUTH_CREDENTIAL_ID = jti" "$B" "^AUTH_CREDENTIAL_ID=$jti\$"
    fi
    check_line "$what: AUTH_EXPIRES = exp" "$B" '^AUTH_EXPIRES=[0-9]{10}$'
    if printf '%s\n' "$H" | grep -qi '^variable-'; then
        fail "$what: no Variable-* header reaches the client" \
            "$(printf '%s\n' "$H" | grep -i '^variable-')"
    else
        pass "$what: no Variable-* header reaches the client"
    fi
}

# refuse WHAT DESCRIPTION [DETAIL [CODE [MESSAGES]]]: a 401 with the RFC 6750
# challenge; where the server passes our body (not mod_fcgid), simplejwt's.
refuse() {
    local what="$SRV: $1" desc=$2 detail=${3-$DETAIL} code=${4-token_not_valid} msgs=${5-yes} got
    check_eq "$what: 401" 401 "$S"
    check_eq "$what: WWW-Authenticate" \
        "Bearer realm=\"$REALM\", error=\"invalid_token\", error_description=\"$desc\"" \
        "$(header WWW-Authenticate)"
    [ "$SRV" = fcgid ] && return 0
    got=$(printf '%s' "$B" | /usr/bin/python3 -c 'import json, sys
d = json.load(sys.stdin)
m = d.get("messages")
print(d.get("detail"), d.get("code"), sep="|", end="|")
print("%s/%s/%s" % (m[0]["token_class"], m[0]["token_type"], m[0]["message"]) if m else "-", end="")' 2>&1)
    if [ "$msgs" = yes ]; then
        check_eq "$what: simplejwt body" "$detail|$code|AccessToken/access/$desc" "$got"
    else
        check_eq "$what: simplejwt body" "$detail|$code|-" "$got"
    fi
}

cases() {
    local p=$SRV name
    http "$URL/index.html"
    check_eq "$p: public page without credentials" 200 "$S"
    http "$URL/app/"
    check_eq "$p: no credentials: 401" 401 "$S"
    check_contains "$p: no credentials: Bearer challenge" \
        "$(printf '%s\n' "$H" | grep -i '^www-authenticate')" "Bearer realm=\"$REALM\""

    # ---- accepted: PyJWT, every algorithm; simplejwt ----
    for name in HS256 HS384 HS512 RS256 RS384 RS512 PS256 PS384 PS512 ES256 ES384 ES512 EDDSA; do
        eval "req \"\$PY_$name\""
        accept "PyJWT $name" "py-$(printf '%s' "$name" | tr 'A-Z' 'a-z')"
    done
    check_line "$p: AUTH_SCOPES from the scope claim" "$B" '^AUTH_SCOPES=read write$'
    check_line "$p: AUTH_CLAIM_EMAIL" "$B" '^AUTH_CLAIM_EMAIL=alice@example.org$'
    check_line "$p: AUTH_CLAIM_TENANT without the CR LF it carried" "$B" '^AUTH_CLAIM_TENANT=acmeX-Evil: 1$'
    check_not_contains "$p: no X-Evil header from a claim" "$H" "X-Evil"
    req "$PY_AUDLIST"
    accept "aud as an array holding ours" ""
    req "$SJ_HS256"
    accept "simplejwt AccessToken HS256 (shared secret file)" "$SJ_HS256_JTI"
    check_line "$p: simplejwt: AUTH_EXPIRES is its exp" "$B" "^AUTH_EXPIRES=$SJ_HS256_EXP\$"
    req "$SJ_ES256"
    accept "simplejwt AccessToken ES256 (PEM key)" "$SJ_ES256_JTI"
    req "$SJ_HS256" JWT
    accept "Authorization: JWT (second header type)" "$SJ_HS256_JTI"
    req "$T_OLD"
    accept "ES256 key 'old' from a JWKS of bouncerctl jwt jwks" rot-old

    # ---- refused, each with its reason ----
    req "$SJ_REFRESH"
    refuse "simplejwt refresh token" "Token has wrong type"
    req "$H_NONE"
    refuse "alg none" "alg none is not accepted"
    req "$H_NONE2"
    refuse "alg nOnE" "alg none is not accepted"
    req "$H_CONFUSE_KID"
    refuse "HS256 keyed with the ES256 public key, kid es256" \
        "alg HS256 is not the algorithm of key 'es256' (ES256)"
    req "$H_CONFUSE"
    refuse "HS256 keyed with the ES256 public key" "Signature verification failed"
    req "$H_STRIPPED"
    refuse "stripped signature" "signature missing"
    req "$H_TRUNC"
    refuse "truncated ECDSA signature" "Signature verification failed"
    req "$H_DER"
    refuse "DER ECDSA signature" "Signature verification failed"
    req "$H_RS0"
    refuse "ECDSA r = s = 0" "Signature verification failed"
    req "$H_PAD"
    refuse "base64url padding" "base64url padding '=' is not allowed"
    req "$H_PLUS"
    refuse "'+' in the signature" "'+' or '/' is not base64url"
    req "$H_EXPIRED"
    refuse "expired" "Token is expired"
    req "$H_NBF"
    refuse "nbf in the future" "Token is not yet valid (nbf)"
    req "$H_IAT"
    refuse "iat in the future" "Token was issued in the future (iat)"
    req "$H_ISS"
    refuse "wrong issuer" "Token has wrong issuer"
    req "$H_AUD"
    refuse "wrong audience" "Token has wrong audience"
    req "$H_CRIT"
    refuse "crit header" "unsupported crit header parameter"
    req "$H_BIG"
    refuse "over max_length" "token longer than 4096 bytes"
    req "$H_LIST"
    refuse "payload not an object" "payload is not a JSON object"
    req "$H_DUP"
    refuse "duplicate claim names" "payload is not valid JSON (duplicate member name)"
    req "$H_STREXP"
    refuse "exp as a string" "exp is not a number of seconds in range"
    req "$H_NOEXP"
    refuse "no exp" "Token has no 'exp' claim"
    req "$H_EVILJWK"
    refuse "signed by a key named in jku" "Signature verification failed"
    req "$T_REVOKED"
    refuse "jti revoked with bouncerctl jwt revoke" "Token is blacklisted"
    req "$T_BOB"
    refuse "disabled user" "User is inactive" "User is inactive" user_inactive no
    req "$T_GHOST"
    refuse "unknown user id" "User not found" "User not found" user_not_found no
    req "$T_NOUSER"
    refuse "no user_id claim" "Token contained no recognizable user identification" \
        "Token contained no recognizable user identification" token_not_valid no
    req "$T_CAROL"
    refuse "token issued before a password change" \
        "Token was issued before the user's credentials were revoked"
    req "$SJ_HS256 extra"
    refuse "three words in Authorization" \
        "Authorization header must contain two space-delimited values" \
        "Authorization header must contain two space-delimited values" \
        bad_authorization_header no
    # simplejwt matches the type case-sensitively: "bearer" is not ours.
    req "$SJ_HS256" bearer
    check_eq "$p: 'bearer' (lower case) is another scheme's: 401" 401 "$S"
    check_not_contains "$p: 'bearer': no invalid_token" "$(header WWW-Authenticate)" invalid_token
}

# ---- lighttpd -----------------------------------------------------------------
note "--- lighttpd (lighttpd/bouncer.conf) ---"
SRV=lighttpd
PORT=$(free_port) || die "no free port"
{
    lighttpd_conf "$PORT" "$CONF" "$T/run" "$T/log/"
    printf 'server.max-request-field-size = 65536\n'
} >"$T/lighttpd.conf"
start_lighttpd "$T/lighttpd.conf" "$PORT"
cases
kill -TERM "$(cat "$T/run/lighttpd.pid")" 2>/dev/null
wait_gone "$PORT" 10 || fail "lighttpd stopped"
# lighttpd buffers its access log until it stops.
wait_grep "$T/log/access.log" ' alice "GET /app/ ' 5
if grep -Eq '^127\.0\.0\.1 alice "GET /app/ ' "$T/log/access.log"; then
    pass "lighttpd access log %u shows alice for a JWT request"
else
    fail "lighttpd access log %u shows alice for a JWT request" "$(tail -n 3 "$T/log/access.log")"
fi

# ---- Apache -------------------------------------------------------------------
note "--- Apache mod_fcgid (apache/bouncer-fcgid.conf) ---"
SRV=fcgid
AP=$(free_port) || die "no free port"
{
    apache_conf fcgid "$AP" +authn_core
    apache_fcgid_snippet fcgid "$CONF" BOUNCER_NO_AUTH_API
    cat <<EOF
# The claims this config maps (see the comment in bouncer-fcgid.conf).
<Location /app>
    Header always unset Variable-AUTH_CLAIM_TENANT
    Header always unset Variable-AUTH_CLAIM_EMAIL
</Location>
EOF
} >"$T/fcgid.conf"
start_apache fcgid "$AP"
cases

note "--- Apache mod_authnz_fcgi (apache/bouncer-authnz.conf), bouncer daemon ---"
SRV=authnz
BP=$(free_port) || die "no free port"
start_bouncer_daemon "$BP" "$T/log/bouncer-daemon.log" --threads 4 ||
    die "bouncer --listen did not start" "$(cat "$T/log/bouncer-daemon.log")"
AP2=$(free_port) || die "no free port"
{
    apache_conf authnz "$AP2" +authn_core
    apache_authnz_snippet "127.0.0.1:$BP"
} >"$T/authnz.conf"
start_apache authnz "$AP2"
cases

# ---- key rotation with SIGHUP, under load -----------------------------------
note "--- key rotation: SIGHUP on the daemon ---"
SRV=rotation
req "$T_NEW"
refuse "key 'new' before it is configured" "Signature verification failed"
# Valid HS256 decisions straight over FastCGI, across both reloads.
"$BIN_FCGI" --bench --connect "127.0.0.1:$BP" --duration 4 --concurrency 4 \
    -p REQUEST_METHOD=GET -p REQUEST_URI=/app/ -p REMOTE_ADDR=127.0.0.1 \
    -p "HTTP_AUTHORIZATION=Bearer $SJ_HS256" --expect-status 200 \
    >"$T/log/bench-hup.log" 2>&1 &
LOADPID=$!
sleep 1
write_conf "$KEYS/jwks.json, $KEYS/old.jwks, $KEYS/new.jwks"
kill -HUP "$DPID"
for _ in $(seq 50); do
    req "$T_NEW"
    [ "$S" = 200 ] && break
    sleep 0.1
done
accept "key 'new' verifies after SIGHUP" rot-new
req "$T_OLD"
accept "key 'old' still verifies while in verifying_keys" rot-old
write_conf "$KEYS/jwks.json, $KEYS/new.jwks"
kill -HUP "$DPID"
for _ in $(seq 50); do
    req "$T_OLD"
    [ "$S" = 401 ] && break
    sleep 0.1
done
refuse "key 'old' after it left verifying_keys and SIGHUP" "Signature verification failed"
req "$T_NEW"
accept "key 'new' still verifies" rot-new
if wait "$LOADPID"; then
    pass "no request failed or changed status across two SIGHUPs ($(cat "$T/log/bench-hup.log"))"
else
    fail "no request failed or changed status across two SIGHUPs" "$(cat "$T/log/bench-hup.log")"
fi
# A broken key file on reload keeps the running keys.
printf 'not a key\n' >"$KEYS/broken.jwks"
chmod 644 "$KEYS/broken.jwks"
write_conf "$KEYS/jwks.json, $KEYS/new.jwks, $KEYS/broken.jwks"
kill -HUP "$DPID"
sleep 1
req "$T_NEW"
accept "a reload with a broken key file keeps the old keys" rot-new
check_eq "the daemon survived the reloads" yes "$(kill -0 "$DPID" 2>/dev/null && echo yes)"
check_file_contains "the broken key file is named in the log" "$T/log/bouncer-daemon.log" "broken.jwks"

# No token, secret or key may reach a log.
leaks=""
for f in "$T"/log/*; do
    case "$f" in *mint.err) continue ;; esac
    for t in "$SJ_HS256" "$PY_ES256" "$(cat "$KEYS/hs.secret")"; do
        if grep -Fq -- "${t:40:40}" "$f"; then
            leaks="$leaks $(basename "$f")"
        fi
    done
done
check_eq "no token or secret in the logs" "" "$leaks"

bnc_finish
