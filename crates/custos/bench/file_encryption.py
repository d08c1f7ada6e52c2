#!/usr/bin/env python3
"""The file-encryption benchmark of BENCHMARKS.md ("File encryption").

    file_encryption.py WORKDIR ROUNDS OFFICIAL_RUNS

Needs, in the environment: the `export` lines of a running `custos server`,
KEY (a KMS key ARN on it), CUSTOS (the release `custos` binary), AGE_KEY
(a file made by `age-keygen -o`), and `age`, `aws-encryption-cli` and
/usr/bin/time (Debian package `time`) on the PATH. WORKDIR/in.bin is the
input (1 GiB of random bytes: `head -c 1G /dev/urandom > WORKDIR/in.bin`).

Every tool is run in turn, round after round, so that all meet the same
disk and machine load; `sync` runs before each run. The table gives the
median and the range of the rounds, and the highest peak RSS. The official
CLI is slow, so it gets OFFICIAL_RUNS runs (0 to skip it).
"""
import os
import statistics
import subprocess
import sys
from collections import defaultdict

work, rounds, official_runs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.chdir(work)
KEY, CUSTOS, AGE_KEY = os.environ['KEY'], os.environ['CUSTOS'], os.environ['AGE_KEY']
size_mib = os.path.getsize('in.bin') / (1 << 20)
age_recipient = subprocess.run(['age-keygen', '-y', AGE_KEY], capture_output=True,
                               text=True, check=True).stdout.strip()


def rm(*names):
    return lambda: [os.remove(n) for n in names if os.path.exists(n)]


def nothing():
    pass


# (label, command, after). Each encryption writes what the next line decrypts.
items = [('cp (I/O ceiling)', ['cp', 'in.bin', 'out.bin'], rm('out.bin'))]
for alg, name in [('0x0478', 'unsigned 0x0478'), ('0x0578', 'signed 0x0578')]:
    for frame in (4096, 65536):
        ct = f'custos-{alg}-{frame}.ct'
        items.append((f'custos encrypt, {name}, {frame // 1024} KiB frames',
                      [CUSTOS, 'encrypt', '-i', 'in.bin', '-o', ct, '-w', f'key={KEY}',
                       '--algorithm', alg, '--frame-length', str(frame)], nothing))
        items.append((f'custos decrypt, {name}, {frame // 1024} KiB frames',
                      [CUSTOS, 'decrypt', '-i', ct, '-o', 'out.bin', '-w', f'key={KEY}'],
                      rm('out.bin')))
items.append(('age encrypt (X25519 recipient)',
              ['age', '-r', age_recipient, '-o', 'age.ct', 'in.bin'], nothing))
items.append(('age decrypt', ['age', '-d', '-i', AGE_KEY, '-o', 'out.bin', 'age.ct'], rm('out.bin')))

times, rss = defaultdict(list), defaultdict(list)


def run(label, cmd, after):
    subprocess.run(['sync'], check=True)
    r = subprocess.run(['/usr/bin/time', '-f', '%e %M', '-o', 'time.out'] + cmd,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if r.returncode != 0:
        sys.exit(f'{label} failed: {r.stderr.decode()}')
    secs, kib = open('time.out').read().split()
    times[label].append(float(secs))
    rss[label].append(int(kib) / 1024)
    after()


def uptime():
    return subprocess.run(['uptime'], capture_output=True, text=True).stdout.strip()


print(f'# {work}, {size_mib:.0f} MiB, {rounds} rounds; start: {uptime()}', flush=True)
order = [label for label, _, _ in items]
for _ in range(rounds):
    for item in items:
        run(*item)
for alg, name in [('AES_256_GCM_HKDF_SHA512_COMMIT_KEY', 'unsigned 0x0478'),
                  ('AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384', 'signed 0x0578')]:
    for frame in (4096, 65536):
        e = f'aws-encryption-cli encrypt, {name}, {frame // 1024} KiB frames'
        d = f'aws-encryption-cli decrypt, {name}, {frame // 1024} KiB frames'
        for _ in range(official_runs):
            run(e, ['aws-encryption-cli', '-e', '-i', 'in.bin', '-o', 'py.ct', '-w', f'key={KEY}',
                    '--algorithm', alg, '--frame-length', str(frame), '-S'], nothing)
            run(d, ['aws-encryption-cli', '-d', '-i', 'py.ct', '-o', 'out.bin', '-w', f'key={KEY}',
                    '-S'], rm('out.bin', 'py.ct'))
        if official_runs:
            order += [e, d]
for f in os.listdir('.'):
    if f.endswith('.ct') or f in ('out.bin', 'time.out'):
        os.remove(f)
print(f'# end: {uptime()}')
print('| run | MiB/s (median) | range | runs | peak RSS |')
print('| --- | ---: | ---: | ---: | ---: |')
for label in order:
    t = times[label]
    print(f'| {label} | {size_mib / statistics.median(t):.0f} | '
          f'{size_mib / max(t):.0f}–{size_mib / min(t):.0f} | {len(t)} | '
          f'{max(rss[label]):.1f} MiB |', flush=True)
