#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# Key and token factory for tests/integration/jwt.sh: the peers bouncer must
# interoperate with are PyJWT (python3-jwt) and djangorestframework-simplejwt
# itself. Writes keys into KEYDIR (private PEMs, jwks.json of the public
# halves) and prints NAME=TOKEN lines for the shell.
#
# usage: jwt_mint.py KEYDIR HS256-SECRET-FILE ISSUER AUDIENCE ALICE_ID BOB_ID CAROL_ID
import base64
import json
import os
import sys
import time
import uuid

import jwt
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from jwt.algorithms import ECAlgorithm, OKPAlgorithm, RSAAlgorithm

keydir, secret_file, ISS, AUD = sys.argv[1:5]
alice, bob, carol = (int(x) for x in sys.argv[5:8])
NOW = int(time.time())


def b64(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def pem_private(k):
    return k.private_bytes(serialization.Encoding.PEM,
                           serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption())


def save(name, data, mode=0o600):
    path = os.path.join(keydir, name)
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, mode)
    return path


with open(secret_file, "rb") as f:
    HS256 = f.read()
if HS256.endswith(b"\n"):
    HS256 = HS256[:-1]

rsa_key = rsa.generate_private_key(65537, 2048)
ec_keys = {"ES256": ec.generate_private_key(ec.SECP256R1()),
           "ES384": ec.generate_private_key(ec.SECP384R1()),
           "ES512": ec.generate_private_key(ec.SECP521R1())}
ed_key = ed25519.Ed25519PrivateKey.generate()
oct_keys = {"HS384": os.urandom(48), "HS512": os.urandom(64)}
save("es256.pem", pem_private(ec_keys["ES256"]))

# The public JWKS bouncer verifies with: each key with its own alg and kid.
keys = []
signing = {}
for alg in ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512"):
    j = json.loads(RSAAlgorithm.to_jwk(rsa_key.public_key()))
    j.update(alg=alg, kid=alg.lower(), use="sig")
    keys.append(j)
    signing[alg] = rsa_key
for alg, k in ec_keys.items():
    j = json.loads(ECAlgorithm.to_jwk(k.public_key()))
    j.update(alg=alg, kid=alg.lower())
    keys.append(j)
    signing[alg] = k
j = json.loads(OKPAlgorithm.to_jwk(ed_key.public_key()))
j.update(alg="EdDSA", kid="eddsa")
keys.append(j)
signing["EdDSA"] = ed_key
for alg, s in oct_keys.items():
    keys.append({"kty": "oct", "alg": alg, "kid": alg.lower(), "k": b64(s)})
    signing[alg] = s
signing["HS256"] = HS256
save("jwks.json", json.dumps({"keys": keys}).encode(), 0o640)


def claims(**kw):
    c = {"token_type": "access", "exp": NOW + 3600, "iat": NOW - 5,
         "jti": uuid.uuid4().hex, "user_id": alice, "iss": ISS, "aud": AUD,
         "scope": "read write", "tenant": "acme\r\nX-Evil: 1",
         "email": "alice@example.org"}
    for k, v in kw.items():
        if v is None:
            c.pop(k, None)
        else:
            c[k] = v
    return c


out = {}


def emit(name, token):
    out[name] = token.decode() if isinstance(token, bytes) else token


# ---- PyJWT, every algorithm --------------------------------------------
for alg in ("HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256",
            "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"):
    headers = {} if alg == "HS256" else {"kid": alg.lower()}
    c = claims(jti="py-" + alg.lower())
    emit("PY_" + alg.upper(), jwt.encode(c, signing[alg], alg, headers=headers))
emit("PY_AUDLIST", jwt.encode(claims(aud=["web", AUD]), HS256, "HS256"))

# ---- simplejwt itself ----------------------------------------------------
import django
from django.conf import settings

settings.configure(
    SECRET_KEY="not-used-by-the-tokens",
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth",
                    "rest_framework_simplejwt"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3",
                           "NAME": ":memory:"}},
    SIMPLE_JWT={"ALGORITHM": "HS256", "SIGNING_KEY": HS256.decode(),
                "ISSUER": ISS, "AUDIENCE": AUD},
)
django.setup()
from django.contrib.auth.models import User  # noqa: E402
from rest_framework_simplejwt.backends import TokenBackend  # noqa: E402
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken  # noqa: E402

user = User(id=alice, username="alice")
sj = AccessToken.for_user(user)
emit("SJ_HS256", str(sj))
out["SJ_HS256_JTI"] = sj["jti"]
out["SJ_HS256_EXP"] = str(sj["exp"])
es_pem = pem_private(ec_keys["ES256"]).decode()
sj2 = AccessToken.for_user(user)
emit("SJ_ES256", TokenBackend("ES256", es_pem, None, AUD, ISS).encode(sj2.payload))
out["SJ_ES256_JTI"] = sj2["jti"]
emit("SJ_REFRESH", str(RefreshToken.for_user(user)))

# ---- hostile -------------------------------------------------------------
def raw(header, payload, sig=b""):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    p = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return b64(h) + "." + b64(p) + "." + b64(sig)


def hmac256(key, text):
    import hmac
    import hashlib
    return hmac.new(key, text.encode(), hashlib.sha256).digest()


def signed_hs(header, payload):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    p = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    si = b64(h) + "." + b64(p)
    return si + "." + b64(hmac256(HS256, si))


emit("H_NONE", raw({"alg": "none", "typ": "JWT"}, claims()))
emit("H_NONE2", raw({"alg": "nOnE", "typ": "JWT"}, claims()))
# Key confusion: HMAC keyed with the published ES256 public key (PEM).
pub_pem = ec_keys["ES256"].public_key().public_bytes(
    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
for name, hdr in (("H_CONFUSE_KID", {"alg": "HS256", "kid": "es256"}),
                  ("H_CONFUSE", {"alg": "HS256"})):
    si = b64(json.dumps(hdr).encode()) + "." + b64(json.dumps(claims()).encode())
    emit(name, si + "." + b64(hmac256(pub_pem, si)))
good_es = jwt.encode(claims(), ec_keys["ES256"], "ES256", headers={"kid": "es256"})
h, p, s = good_es.split(".")
sig = base64.urlsafe_b64decode(s + "==")
emit("H_STRIPPED", h + "." + p + ".")
emit("H_TRUNC", h + "." + p + "." + b64(sig[:-3]))
der = ec_keys["ES256"].sign((h + "." + p).encode(), ec.ECDSA(hashes.SHA256()))
emit("H_DER", h + "." + p + "." + b64(der))
emit("H_RS0", h + "." + p + "." + b64(bytes(64)))
good_hs = jwt.encode(claims(), HS256, "HS256")
gh, gp, gs = good_hs.split(".")
emit("H_PAD", gh + "=." + gp + "." + gs)
emit("H_PLUS", gh + "." + gp + "." + gs[:5] + "+" + gs[6:])
emit("H_EXPIRED", jwt.encode(claims(exp=NOW - 60, iat=NOW - 400), HS256, "HS256"))
emit("H_NBF", jwt.encode(claims(nbf=NOW + 600), HS256, "HS256"))
emit("H_IAT", jwt.encode(claims(iat=NOW + 600), HS256, "HS256"))
emit("H_ISS", jwt.encode(claims(iss="https://evil.example"), HS256, "HS256"))
emit("H_AUD", jwt.encode(claims(aud="other"), HS256, "HS256"))
emit("H_CRIT", signed_hs({"alg": "HS256", "crit": ["exp"], "exp": 1}, claims()))
emit("H_BIG", jwt.encode(claims(pad="x" * 4200), HS256, "HS256"))
emit("H_LIST", signed_hs({"alg": "HS256"}, [claims()]))
emit("H_DUP", signed_hs({"alg": "HS256"},
                        json.dumps(claims())[:-1].encode() + b', "user_id": 1}'))
emit("H_REFRESH", jwt.encode(claims(token_type="refresh"), HS256, "HS256"))
emit("H_STREXP", signed_hs({"alg": "HS256"}, claims(exp=str(NOW + 3600))))
emit("H_NOEXP", jwt.encode(claims(exp=None), HS256, "HS256"))
emit("H_EVILJWK", jwt.encode(claims(), ec.generate_private_key(ec.SECP256R1()),
                             "ES256", headers={"jku": "https://evil.example/k"}))
emit("T_REVOKED", jwt.encode(claims(jti="revoked-jti-1"), HS256, "HS256"))
emit("T_BOB", jwt.encode(claims(user_id=bob, jti="bob-1"), HS256, "HS256"))
emit("T_CAROL", jwt.encode(claims(user_id=carol, jti="carol-1"), HS256, "HS256"))
emit("T_GHOST", jwt.encode(claims(user_id=987654), HS256, "HS256"))
emit("T_NOUSER", jwt.encode(claims(user_id=None), HS256, "HS256"))

for k, v in out.items():
    print("%s='%s'" % (k, v))
