"""Independent checks for crates/custos-server/tests/asymmetric_keys.rs.

Python `cryptography` (its own OpenSSL 3.5+ build) for ML-DSA and ML-KEM,
and a from-scratch RFC 8032 Ed25519ph verifier (Python integers only, no
library), checked first against the RFC's own test vector. Every command
exits 0 on success and non-zero (with a message) otherwise.

  mldsa-verify PUB.der MSG SIG        ML-DSA (pure, empty context) verification
  mldsa-mu PUB.der MSG                print hex mu = SHAKE256(SHAKE256(pk) || 0 || 0 || M)
  ed25519ph-verify PUB.der MSG SIG    Ed25519ph (RFC 8032 HashEdDSA) verification
  mlkem-encaps PUB.der CT SS          encapsulate to PUB; write ciphertext and secret
  public-of PRIV.der                  print hex SubjectPublicKeyInfo of a PKCS #8 key
  hmac ALG KEYHEX MSG                 print hex HMAC (ALG: sha224 … sha512)
"""

import hashlib
import hmac as hmac_module
import sys

from cryptography.hazmat.primitives import serialization


def read(path):
    with open(path, "rb") as f:
        return f.read()


# --- RFC 8032 Ed25519ph, section 5.1, verification only -------------------

P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _recover_x(y, sign):
    xx = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(xx, (P + 3) // 8, P)
    if (x * x - xx) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - xx) % P != 0:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return x


def _add(a, b):
    x1, y1, z1, t1 = a
    x2, y2, z2, t2 = b
    aa = (y1 - x1) * (y2 - x2) % P
    bb = (y1 + x1) * (y2 + x2) % P
    cc = t1 * 2 * D * t2 % P
    dd = z1 * 2 * z2 % P
    e, f, g, h = bb - aa, dd - cc, dd + cc, bb + aa
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    acc = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        s >>= 1
    return acc


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _decode(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    if y >= P:
        return None
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


_BY = 4 * pow(5, P - 2, P) % P
_BX = _recover_x(_BY, 0)
BASE = (_BX, _BY, 1, _BX * _BY % P)
DOM2_PH = b"SigEd25519 no Ed25519 collisions" + bytes([1, 0])  # phflag 1, empty context


def ed25519ph_verify(public, message, signature):
    if len(signature) != 64:
        return False
    a = _decode(public)
    r = _decode(signature[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= Q:
        return False
    ph = hashlib.sha512(message).digest()
    k = int.from_bytes(hashlib.sha512(DOM2_PH + signature[:32] + public + ph).digest(), "little") % Q
    return _equal(_mul(s, BASE), _add(r, _mul(k, a)))


def _self_test():
    # RFC 8032 section 7.3, Ed25519ph, message "abc".
    pub = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
    sig = bytes.fromhex(
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
        "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406"
    )
    assert ed25519ph_verify(pub, b"abc", sig), "RFC 8032 Ed25519ph vector"
    assert not ed25519ph_verify(pub, b"abd", sig)


def raw_ed25519(der):
    prefix = bytes.fromhex("302a300506032b6570032100")
    assert der.startswith(prefix) and len(der) == 44, "an Ed25519 SubjectPublicKeyInfo"
    return der[12:]


def main(argv):
    cmd = argv[1]
    if cmd == "mldsa-verify":
        key = serialization.load_der_public_key(read(argv[2]))
        key.verify(read(argv[4]), read(argv[3]))  # raises InvalidSignature
    elif cmd == "mldsa-mu":
        key = serialization.load_der_public_key(read(argv[2]))
        tr = hashlib.shake_256(key.public_bytes_raw()).digest(64)
        mu = hashlib.shake_256(tr + b"\x00\x00" + read(argv[3])).digest(64)
        print(mu.hex())
    elif cmd == "ed25519ph-verify":
        _self_test()
        if not ed25519ph_verify(raw_ed25519(read(argv[2])), read(argv[3]), read(argv[4])):
            sys.exit("Ed25519ph signature does not verify")
    elif cmd == "mlkem-encaps":
        key = serialization.load_der_public_key(read(argv[2]))
        secret, ciphertext = key.encapsulate()
        with open(argv[3], "wb") as f:
            f.write(ciphertext)
        with open(argv[4], "wb") as f:
            f.write(secret)
    elif cmd == "public-of":
        key = serialization.load_der_private_key(read(argv[2]), password=None)
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        print(der.hex())
    elif cmd == "hmac":
        print(hmac_module.new(bytes.fromhex(argv[3]), read(argv[4]), argv[2]).hexdigest())
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
