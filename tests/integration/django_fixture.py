#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Makes a Django project's user data with Django itself, for import.sh.

usage: django_fixture.py DIR

In DIR: a throw-away project (settings with sqlite, PASSWORD_HASHERS for
pbkdf2_sha256, pbkdf2_sha1, bcrypt_sha256, bcrypt, argon2), users created
with the ORM (each hashed by a different hasher), groups, an inactive user,
an unusable password, DRF tokens, then `manage.py dumpdata auth.User
auth.Group authtoken.Token` into DIR/dump.json. Django 3.2 (Debian 12) has
no scrypt hasher: one user gets a hash in Django 4's scrypt format made
with hashlib.scrypt (N=2**14, r=8, p=1, 64-byte key, as
ScryptPasswordHasher) and written to the database directly.

DIR/expect.txt lists what the test checks, one per line, fields separated
by "|" (a shell's read would merge empty tab-separated fields):
  user|NAME|PASSWORD|HASHER|ACTIVE|GROUPS|EMAIL|DISPLAY
  token|NAME|KEY
"""
import base64
import hashlib
import os
import secrets
import subprocess
import sys

d = sys.argv[1]
os.makedirs(d, exist_ok=True)
with open(os.path.join(d, "fixture_settings.py"), "w") as f:
    f.write(f"""
SECRET_KEY = "import-test-{secrets.token_hex(8)}"
INSTALLED_APPS = ["django.contrib.auth", "django.contrib.contenttypes",
                  "rest_framework", "rest_framework.authtoken"]
DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                         "NAME": {os.path.join(d, "db.sqlite3")!r}}}}}
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2SHA1PasswordHasher",
    "django.contrib.auth.hashers.BCryptSHA256PasswordHasher",
    "django.contrib.auth.hashers.BCryptPasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
""")
sys.path.insert(0, d)
os.environ["DJANGO_SETTINGS_MODULE"] = "fixture_settings"
import django  # noqa: E402

django.setup()
from django.core.management import call_command  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

call_command("migrate", verbosity=0)

staff = Group.objects.create(name="staff")
admins = Group.objects.create(name="admins")
Group.objects.create(name="Site Editors")   # not a bouncer group name


def pw():
    return "pw-" + secrets.token_urlsafe(9)


rows = []
users = [
    # name, hasher, active, groups, email, first, last
    ("dj_pbkdf2", "pbkdf2_sha256", True, [staff], "p256@example.org",
     "Pat", "Bee"),
    ("dj_sha1", "pbkdf2_sha1", True, [], "", "", ""),
    ("dj_bsha", "bcrypt_sha256", True, [staff, admins], "bs@example.org",
     "Bea", ""),
    ("dj_bcrypt", "bcrypt", True, [admins], "", "", "Crypt"),
    ("dj_argon", "argon2", True, [], "ar@example.org", "Ari", "Gon"),
    ("dj_inactive", "pbkdf2_sha256", False, [staff], "", "In", "Active"),
    ("ünïcode.user@x", "pbkdf2_sha256", True, [], "", "Ü", "Ñ"),
]
for name, hasher, active, groups, email, first, last in users:
    p = pw()
    u = User(username=name, email=email, first_name=first, last_name=last,
             is_active=active)
    u.password = make_password(p, hasher=hasher)
    u.save()
    u.groups.set(groups)
    rows.append(["user", name, p, hasher, "1" if active else "0",
                 ",".join(sorted(g.name for g in groups)), email,
                 (first + " " + last).strip()])

# Django 4's ScryptPasswordHasher format, by hand (Django 3.2 lacks it).
p = pw()
salt = secrets.token_urlsafe(16)
dk = hashlib.scrypt(p.encode(), salt=salt.encode(), n=2 ** 14, r=8, p=1,
                    maxmem=64 * 1024 * 1024, dklen=64)
u = User(username="dj_scrypt", email="", is_active=True)
u.password = "scrypt$%d$%s$%d$%d$%s" % (2 ** 14, salt, 8, 1,
                                        base64.b64encode(dk).decode())
u.save()
rows.append(["user", "dj_scrypt", p, "scrypt", "1", "", "", ""])

# An unusable password: no Basic login, but the DRF token works.
u = User(username="dj_nopw", is_active=True)
u.set_unusable_password()
u.save()
u.groups.set([staff, Group.objects.get(name="Site Editors")])
rows.append(["user", "dj_nopw", "", "unusable", "1", "staff", "", ""])

for name in ("dj_pbkdf2", "dj_bcrypt", "dj_nopw", "dj_inactive"):
    t = Token.objects.create(user=User.objects.get(username=name))
    rows.append(["token", name, t.key])

with open(os.path.join(d, "dump.json"), "w") as f:
    subprocess.run([sys.executable, "-c",
                    "import django, sys; sys.path.insert(0, %r);"
                    "from django.core.management import execute_from_command_line;"
                    "execute_from_command_line(['manage.py', 'dumpdata', "
                    "'auth.User', 'auth.Group', 'authtoken.Token', "
                    "'--indent', '1'])" % d],
                   env=dict(os.environ), stdout=f, check=True)
with open(os.path.join(d, "expect.txt"), "w") as f:
    for r in rows:
        assert not any("|" in v for v in r)
        f.write("|".join(r) + "\n")
