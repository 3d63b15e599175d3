#!/bin/bash
# SPDX-License-Identifier: MIT
# Regenerates vectors.txt, the known-answer hashes for tests/unit/test_password.c,
# with the real tools that write each format. The output is committed, so the
# tests need none of these at run time. Needs (Debian 12): apache2-utils
# (htpasswd), whois (mkpasswd), python3-django, python3-bcrypt, python3-argon2.
# Salts are random: every run gives a different, equally valid file.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
out="$here/vectors.txt"
for tool in htpasswd mkpasswd /usr/bin/python3; do
    command -v "$tool" >/dev/null || { echo "gen-vectors: $tool missing" >&2; exit 1; }
done

PYTHONWARNINGS=ignore /usr/bin/python3 - "$out.tmp" <<'PY'
import base64, hashlib, subprocess, sys

from django.conf import settings
settings.configure(PASSWORD_HASHERS=[
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
])
from django.contrib.auth import hashers as dj
from django.utils.crypto import get_random_string
import argon2
from argon2.low_level import Type, hash_secret

# No TAB or newline (the file's separators); ':' and UTF-8 on purpose.
PWS = [
    "password",
    "correct horse battery staple",
    "pa:ss:word",
    "pässwörd",
    "密码",
    " spaced out ",
    "p@$$w0rd\\\"'`{}",
    "L" * 100 + "ong",
]
SHORT = ["secret", "pass:1", "pässw", "a"]   # DES reads 8 bytes only
lines = []

def add(fmt, pw, h):
    assert "\t" not in pw and "\n" not in pw and "\t" not in h, (fmt, pw, h)
    lines.append("%s\t%s\t%s" % (fmt, pw, h))

def htpasswd(flags, pw):
    r = subprocess.run(["htpasswd", "-nb"] + flags + ["u", pw],
                       check=True, capture_output=True, text=True)
    return r.stdout.splitlines()[0].split(":", 1)[1]

def mkpasswd(method, pw, rounds=None):
    cmd = ["mkpasswd", "-s", "-m", method]
    if rounds:
        cmd += ["-R", str(rounds)]
    r = subprocess.run(cmd, input=pw + "\n", check=True, capture_output=True,
                       text=True)
    return r.stdout.strip()

# --- Apache htpasswd -------------------------------------------------------
lines.append("# Apache htpasswd (apache2-utils)")
for i, pw in enumerate(PWS + [""]):
    add("bcrypt", pw, htpasswd(["-B"] if i == 0 else ["-B", "-C", "4"], pw))
    add("apr1", pw, htpasswd(["-m"], pw))
    add("sha1", pw, htpasswd(["-s"], pw))
for pw in PWS[:4]:
    add("sha256-crypt", pw, htpasswd(["-2"], pw))
    add("sha512-crypt", pw, htpasswd(["-5", "-r", "1000"], pw))
for pw in SHORT:
    add("des-crypt", pw, htpasswd(["-d"], pw))

# --- mkpasswd (whois), libxcrypt -------------------------------------------
lines.append("# mkpasswd (whois)")
for i, pw in enumerate(PWS):
    add("yescrypt", pw, mkpasswd("yescrypt", pw, None if i == 0 else 1))
    add("md5-crypt", pw, mkpasswd("md5crypt", pw))
for pw in PWS[:4]:
    add("bcrypt", pw, mkpasswd("bcrypt", pw, 4))
    add("bcrypt", pw, mkpasswd("bcrypt-a", pw, 4))
    add("sha512-crypt", pw, mkpasswd("sha512crypt", pw))
    add("sha256-crypt", pw, mkpasswd("sha256crypt", pw, 2000))
for pw in SHORT:
    add("des-crypt", pw, mkpasswd("descrypt", pw))

# --- Django 3.2 hashers ----------------------------------------------------
lines.append("# Django %s hashers" % ".".join(map(str, __import__("django").VERSION[:3])))

class FastArgon2(dj.Argon2PasswordHasher):
    time_cost = 1
    memory_cost = 1024
    parallelism = 1

class FastBCryptSHA256(dj.BCryptSHA256PasswordHasher):
    rounds = 4

class FastBCrypt(dj.BCryptPasswordHasher):
    rounds = 4

# Django's default cost for the first password only: the tests verify every
# vector several times.
for i, pw in enumerate(PWS + [""]):
    s = dj.PBKDF2PasswordHasher()
    add("pbkdf2_sha256", pw, s.encode(pw, s.salt(), None if i == 0 else 1000))
    s = dj.PBKDF2SHA1PasswordHasher()
    add("pbkdf2_sha1", pw, s.encode(pw, s.salt(), None if i == 0 else 1000))
    add("django-argon2", pw, (dj.Argon2PasswordHasher() if i == 0
                              else FastArgon2()).encode(pw, dj.Argon2PasswordHasher().salt()))
    s = dj.BCryptSHA256PasswordHasher() if i == 0 else FastBCryptSHA256()
    add("bcrypt_sha256", pw, s.encode(pw, s.salt()))
    s = dj.BCryptPasswordHasher() if i == 0 else FastBCrypt()
    add("django-bcrypt", pw, s.encode(pw, s.salt()))

# Django 3.2 has no scrypt hasher: this is Django 4.0's
# ScryptPasswordHasher.encode (N=2**14, r=8, p=1, dklen=64) line for line.
lines.append("# Django 4.0 ScryptPasswordHasher layout via hashlib.scrypt")
for i, pw in enumerate(PWS + [""]):
    n = 2 ** 14 if i == 0 else 1024
    salt = get_random_string(22)
    h = hashlib.scrypt(pw.encode(), salt=salt.encode(), n=n, r=8, p=1,
                       maxmem=0, dklen=64)
    add("scrypt", pw, "scrypt$%d$%s$%d$%d$%s" % (
        n, salt, 8, 1, base64.b64encode(h).decode("ascii").strip()))

# --- Argon2 PHC (argon2-cffi over libargon2) -------------------------------
lines.append("# argon2-cffi %s" % argon2.__version__)
for i, pw in enumerate(PWS + [""]):
    ph = argon2.PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1,
                               type=Type.ID)
    add("argon2id", pw, ph.hash(pw))
    add("argon2i", pw, argon2.PasswordHasher(time_cost=2, memory_cost=512,
                                             parallelism=2, type=Type.I).hash(pw))
    add("argon2d", pw, hash_secret(pw.encode(), b"saltsaltsalt%04d" % i, 1,
                                   256, 1, 32, Type.D).decode())
pw = PWS[0]
add("argon2id", pw, argon2.PasswordHasher().hash(pw))  # library defaults
add("argon2id", pw, argon2.PasswordHasher(time_cost=2, memory_cost=19456,
                                          parallelism=1, hash_len=32).hash(pw))
add("argon2i", pw, hash_secret(pw.encode(), b"somesaltsomesalt", 1, 256, 1, 32,
                               Type.I, version=16).decode())

with open(sys.argv[1], "w", encoding="utf-8") as f:
    f.write("# Generated by gen-vectors.sh: FORMAT<TAB>PASSWORD<TAB>HASH\n")
    f.write("# FORMAT is bnc_password_format()'s name for HASH.\n")
    for l in lines:
        f.write(l + "\n")
PY
mv "$out.tmp" "$out"
echo "gen-vectors: wrote $(grep -vc '^#' "$out") vectors to $out"
