"""Concurrent writers against Custos, for the kill -9 test.

load <out file> <seconds> <threads> <tag>
    Each thread loops: CreateKey, CreateAlias for it, Encrypt under it.
    Every answered write is written down at once, one JSON line each:
    {"key": id} after CreateKey, {"alias": name, "key": id} after
    CreateAlias, {"key": id, "blob": base64} after Encrypt. Runs until the
    time is up; errors (the server being killed) are retried.
check <out file>
    Checks that every written-down write is there: each key described and
    enabled, each alias pointing to its key, each ciphertext decrypting
    under its key to what was encrypted. Prints counts as JSON; exits 1
    listing what is missing.
(endpoint, CA bundle and credentials from the environment)"""

import base64
import json
import sys
import threading
import time

import boto3
import botocore.config

PLAINTEXT = b"crash-test plaintext"


def load(path, seconds, threads, tag):
    config = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=2,
                                    read_timeout=5)
    lock = threading.Lock()
    out = open(path, "a", buffering=1)
    deadline = time.time() + seconds

    def note(record):
        with lock:
            out.write(json.dumps(record) + "\n")
            out.flush()

    def work(n):
        kms = boto3.session.Session().client("kms", config=config)
        i = 0
        while time.time() < deadline:
            i += 1
            try:
                key = kms.create_key(Description=f"{tag}-{n}-{i}")["KeyMetadata"]["KeyId"]
                note({"key": key})
                alias = f"alias/{tag}-{n}-{i}"
                kms.create_alias(AliasName=alias, TargetKeyId=key)
                note({"alias": alias, "key": key})
                blob = kms.encrypt(KeyId=key, Plaintext=PLAINTEXT)["CiphertextBlob"]
                note({"key": key, "blob": base64.b64encode(blob).decode()})
            except Exception:  # the server is down or being killed: retry
                time.sleep(0.05)

    workers = [threading.Thread(target=work, args=(n,)) for n in range(threads)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()


def check(path):
    kms = boto3.client("kms")
    records = [json.loads(line) for line in open(path) if line.strip()]
    missing = []
    counts = {"keys": 0, "aliases": 0, "ciphertexts": 0}
    for r in records:
        try:
            if "alias" in r:
                target = kms.describe_key(KeyId=r["alias"])["KeyMetadata"]["KeyId"]
                ok = target == r["key"]
                counts["aliases"] += 1
            elif "blob" in r:
                answer = kms.decrypt(CiphertextBlob=base64.b64decode(r["blob"]), KeyId=r["key"])
                ok = answer["Plaintext"] == PLAINTEXT
                counts["ciphertexts"] += 1
            else:
                ok = kms.describe_key(KeyId=r["key"])["KeyMetadata"]["KeyState"] == "Enabled"
                counts["keys"] += 1
        except Exception as e:  # noqa: BLE001 - reported below
            ok = False
            r["error"] = repr(e)
        if not ok:
            missing.append(r)
    print(json.dumps(counts))
    if missing:
        print(json.dumps(missing[:10]), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    if sys.argv[1] == "load":
        load(sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5])
    else:
        check(sys.argv[2])
