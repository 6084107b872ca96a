#!/usr/bin/env python3
"""Signs FILE the way `cosign sign-blob --key` does (base64 of a DER ECDSA P-256 signature over
SHA-256 of the bytes), with the openssl CLI as the signer. warden accepts only low-S signatures,
and openssl's are high-S half the time, so this signs again until s <= n/2 (at most 64 times).
usage: openssl_cosign_sign.py KEY.pem FILE > SIG"""
import base64
import subprocess
import sys

N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551  # the P-256 group order


def der_s(der: bytes) -> int:
    # SEQUENCE { INTEGER r, INTEGER s }, short-form lengths (a P-256 signature is < 128 bytes)
    assert der[0] == 0x30 and der[2] == 0x02, der.hex()
    r_len = der[3]
    at = 4 + r_len
    assert der[at] == 0x02, der.hex()
    return int.from_bytes(der[at + 2 : at + 2 + der[at + 1]], "big")


key, file = sys.argv[1], sys.argv[2]
for _ in range(64):
    der = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key, file],
                         check=True, capture_output=True).stdout
    if der_s(der) <= N // 2:
        sys.stdout.write(base64.b64encode(der).decode())
        sys.exit(0)
sys.exit("openssl produced 64 high-S signatures in a row")
