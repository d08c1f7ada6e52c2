"""Encrypt in 8 threads until told to stop or the server dies, writing the
request id of every answered request to a file as soon as it is answered.

Usage: audit_crash_load.py <key id> <ids file> <seconds>
(endpoint, CA bundle and credentials from the environment)"""

import sys
import threading
import time

import boto3
import botocore.config

key, out_path, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
config = botocore.config.Config(retries={"total_max_attempts": 1}, connect_timeout=2, read_timeout=5)
lock = threading.Lock()
out = open(out_path, "a", buffering=1)
deadline = time.time() + seconds


def work():
    kms = boto3.session.Session().client("kms", config=config)
    while time.time() < deadline:
        try:
            answer = kms.encrypt(KeyId=key, Plaintext=b"x")
        except Exception:
            time.sleep(0.05)
            continue
        with lock:
            out.write(answer["ResponseMetadata"]["RequestId"] + "\n")
            out.flush()


threads = [threading.Thread(target=work) for _ in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
