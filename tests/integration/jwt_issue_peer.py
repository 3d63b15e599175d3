# SPDX-License-Identifier: MIT
"""Independent checks of the tokens bouncer issues (tests/integration/jwt_issue.sh).

Run with /usr/bin/python3 (Debian's python3-jwt, python3-django,
python3-djangorestframework-simplejwt):

  jwks JWKS-FILE TOKEN ALG     PyJWT verifies TOKEN with the key of the JWKS
                               (as fetched from /auth/jwks.json) whose kid the
                               token names; prints the claims as JSON
  hs SECRET-FILE TOKEN         PyJWT verifies an HS256 TOKEN with the secret
                               file's bytes (one trailing newline dropped)
  simplejwt SECRET-FILE TOKEN  Django REST framework simplejwt's
                               JWTAuthentication validates TOKEN as an access
                               token, SIGNING_KEY read from the same file;
                               prints the user id claim

Exit 0 when the token verifies, 1 when it is refused (reason on stderr).
"""
import json
import sys


def secret(path):
    with open(path, "rb") as f:
        data = f.read()
    if data.endswith(b"\n"):
        data = data[:-1]
    return data


def cmd_jwks(path, token, alg):
    import jwt

    with open(path) as f:
        jwks = json.load(f)
    kid = jwt.get_unverified_header(token).get("kid")
    keys = [k for k in jwks.get("keys", []) if k.get("kid") == kid]
    if len(keys) != 1:
        print("no key with kid %r in the JWKS" % kid, file=sys.stderr)
        return 1
    if keys[0].get("alg") != alg:
        print("JWKS key alg %r, wanted %r" % (keys[0].get("alg"), alg),
              file=sys.stderr)
        return 1
    key = jwt.PyJWK(keys[0], algorithm=alg).key
    claims = jwt.decode(token, key=key, algorithms=[alg],
                        options={"verify_aud": False})
    print(json.dumps(claims, sort_keys=True))
    return 0


def cmd_hs(path, token):
    import jwt

    claims = jwt.decode(token, key=secret(path), algorithms=["HS256"],
                        options={"verify_aud": False})
    print(json.dumps(claims, sort_keys=True))
    return 0


def cmd_simplejwt(path, token):
    import django
    from django.conf import settings

    settings.configure(
        SECRET_KEY="not-the-jwt-key",
        INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                        "rest_framework", "rest_framework_simplejwt"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                               "NAME": ":memory:"}},
        SIMPLE_JWT={"ALGORITHM": "HS256",
                    "SIGNING_KEY": secret(path).decode("utf-8")},
        USE_TZ=True,
    )
    django.setup()
    from rest_framework_simplejwt.authentication import JWTAuthentication

    validated = JWTAuthentication().get_validated_token(token.encode())
    print(validated["user_id"])
    return 0


def main(argv):
    try:
        if argv[1] == "jwks":
            return cmd_jwks(argv[2], argv[3], argv[4])
        if argv[1] == "hs":
            return cmd_hs(argv[2], argv[3])
        if argv[1] == "simplejwt":
            return cmd_simplejwt(argv[2], argv[3])
    except Exception as e:  # any refusal: say which, exit 1
        print("%s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
