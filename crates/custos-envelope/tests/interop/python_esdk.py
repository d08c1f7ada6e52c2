"""Cross-check with the AWS Encryption SDK for Python (driven by
tests/interop_python.rs; see there for how to run it).

    python_esdk.py decrypt DIR   decrypt every DIR/*.ct written by Custos and
                                 compare with DIR/*.pt and DIR/*.ec.json
    python_esdk.py encrypt DIR   write DIR/*.ct for every DIR/*.pt, with the
                                 suite and frame length named in DIR/*.json
"""

import json
import pathlib
import sys

import aws_encryption_sdk
from aws_encryption_sdk.identifiers import (
    Algorithm,
    CommitmentPolicy,
    EncryptionKeyType,
    WrappingAlgorithm,
)
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey

AES_KEY = bytes([0x11] * 32)


def master_key(spec):
    if spec["kind"] == "aes":
        wrapping = WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
            wrapping_key=AES_KEY,
            wrapping_key_type=EncryptionKeyType.SYMMETRIC,
        )
    else:
        wrapping = WrappingKey(
            wrapping_algorithm=WrappingAlgorithm.RSA_OAEP_SHA256_MGF1,
            wrapping_key=spec["pem"].encode(),
            wrapping_key_type=EncryptionKeyType.PRIVATE,
        )
    return RawMasterKey(provider_id="custos-test", key_id=spec["name"].encode(), wrapping_key=wrapping)


def main():
    mode, directory = sys.argv[1], pathlib.Path(sys.argv[2])
    keys = json.loads((directory / "keys.json").read_text())
    failures = 0
    count = 0
    for meta_path in sorted(directory.glob("*.json")):
        if meta_path.name == "keys.json":
            continue
        meta = json.loads(meta_path.read_text())
        stem = meta_path.with_suffix("")
        key = master_key(keys[meta["key"]])
        count += 1
        if mode == "decrypt":
            client = aws_encryption_sdk.EncryptionSDKClient(
                commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT
            )
            try:
                pt, header = client.decrypt(
                    source=stem.with_suffix(".ct").read_bytes(), key_provider=key
                )
                expected = stem.with_suffix(".pt").read_bytes()
                ok = pt == expected and all(
                    header.encryption_context.get(k) == v for k, v in meta["context"].items()
                ) and header.algorithm.algorithm_id == meta["suite"]
            except Exception as e:  # noqa: BLE001 - report and count
                print(f"FAIL {stem.name}: {type(e).__name__}: {e}")
                failures += 1
                continue
            print(("PASS " if ok else "FAIL ") + stem.name)
            failures += 0 if ok else 1
        else:
            committing = meta["suite"] in (0x0478, 0x0578)
            client = aws_encryption_sdk.EncryptionSDKClient(
                commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
                if committing
                else CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT
            )
            ct, _ = client.encrypt(
                source=stem.with_suffix(".pt").read_bytes(),
                key_provider=key,
                algorithm=Algorithm.get_by_id(meta["suite"]),
                frame_length=meta["frame_length"],
                encryption_context=meta["context"],
            )
            stem.with_suffix(".ct").write_bytes(ct)
    print(f"python {mode}: {count} messages, {failures} failures")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
