"""A flood of slow, unauthenticated connections against a running Custos.
Prints the server's RSS before, at its peak, and after the flood (several
samples). scripts/flood runs it, and a legitimate client beside it.

Three kinds of attacker connection, in equal numbers, each kept open (a
closed one is replaced at once):
  - slow-headers: sends its request head a few bytes a second;
  - unsigned-body: a whole head with no credentials, announcing a 10 MB
    body, then trickling the body;
  - known-key-body: a head signed (wrongly) with a real access key id, so
    that it passes the header precheck, then a 500 KB body, slowly.
Connections come from many loopback source addresses (127.0.2.1 ...), a
hundred per address, so the per-address cap does not turn them away: what
is measured is what each admitted connection costs.
"""

import argparse
import asyncio
import json
import os
import ssl
import time


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def head(host, kind, access_key):
    if kind == "slow-headers":
        return (f"POST / HTTP/1.1\r\nhost: {host}\r\n" + "".join(
            f"x-filler-{i}: {'a' * 40}\r\n" for i in range(200))).encode()
    if kind == "unsigned-body":
        return (f"POST / HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-amz-json-1.1\r\n"
                "x-amz-target: TrentService.Encrypt\r\ncontent-length: 10000000\r\n\r\n").encode()
    date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    auth = (f"AWS4-HMAC-SHA256 Credential={access_key}/{date[:8]}/us-east-1/kms/aws4_request, "
            f"SignedHeaders=host;x-amz-date;x-amz-target, Signature={'0' * 64}")
    return (f"POST / HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/x-amz-json-1.1\r\n"
            f"x-amz-target: TrentService.Encrypt\r\nx-amz-date: {date}\r\n"
            f"authorization: {auth}\r\ncontent-length: 500000\r\n\r\n").encode()


async def attacker(n, args, ctx, host, port, counts, stop):
    kind = ["slow-headers", "unsigned-body", "known-key-body"][n % 3]
    source = f"127.0.2.{1 + n // 100}"
    while not stop.is_set():
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(
                host, port, ssl=ctx, server_hostname=host, local_addr=(source, 0)), 30)
            counts["connected"] += 1
            data = head(f"{host}:{port}", kind, args.access_key)
            if kind == "slow-headers":
                chunks = [data[i:i + 64] for i in range(0, len(data), 64)]
            else:
                chunks = [data] + [b"A" * 4096] * 2500
            for chunk in chunks:
                if stop.is_set() or reader.at_eof():
                    break
                writer.write(chunk)
                await writer.drain()
                await asyncio.sleep(1.0)
            writer.close()
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            # Mostly the server closing after its answer; a pause, as a
            # real client would make, then a new connection.
            await asyncio.sleep(0.5)


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--endpoint", required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--pid", type=int, required=True)
    p.add_argument("--access-key", required=True)
    p.add_argument("--connections", type=int, default=3000)
    p.add_argument("--seconds", type=int, default=60)
    p.add_argument("--rounds", type=int, default=1)
    args = p.parse_args()

    host, port = args.endpoint.removeprefix("https://").rsplit(":", 1)
    port = int(port)
    ctx = ssl.create_default_context(cafile=args.ca)
    report = {"baseline_rss_mib": round(rss_mib(args.pid), 1)}
    for round_ in range(1, args.rounds + 1):
        counts = {"connected": 0}
        stop = asyncio.Event()
        tasks = [asyncio.create_task(attacker(n, args, ctx, host, port, counts, stop))
                 for n in range(args.connections)]
        peak = 0.0
        for _ in range(args.seconds):
            await asyncio.sleep(1)
            peak = max(peak, rss_mib(args.pid))
        stop.set()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        # Closed by the server after its answer, or by us: each is replaced.
        r = {"peak_rss_mib": round(peak, 1), "attacker_connections_opened": counts["connected"]}
        elapsed = 0
        for at in (5, 15, 30, 60):
            await asyncio.sleep(at - elapsed)
            elapsed = at
            r[f"rss_{at}s_after_mib"] = round(rss_mib(args.pid), 1)
        report[f"round_{round_}"] = r
    print(json.dumps(report))


if __name__ == "__main__":
    asyncio.run(main())
