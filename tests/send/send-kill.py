#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""kill -9 during `farceur send --journal`, then re-runs (issue 10, finding 3).

Seeded trials against aiosmtpd: each sends its own messages, is killed
(SIGKILL) after a random delay, then re-run with the same journal.  After
the re-run every message must be delivered exactly once, or reported
`unknown` (then delivered at most once): none lost silently, none twice.
The re-run's exit status says so: 75 when it reports an unknown message
(and its summary names each one), 0 otherwise.  A run with
--forget-unknown records the decision and exits 0 sending nothing; the run
after it is clean (0, nothing sent, nothing reported unknown).

FARCEUR_KILL_SEED and FARCEUR_KILL_TRIALS change the seed and the count.
"""
import email
import email.policy
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FARCEUR, Aiosmtpd, fail  # noqa: E402

SEED = int(os.environ.get("FARCEUR_KILL_SEED", "20261207"))
TRIALS = int(os.environ.get("FARCEUR_KILL_TRIALS", "8"))
MESSAGES = 30


def arrived(srv):
    """Message-ID -> how many copies aiosmtpd stored."""
    counts = {}
    for eml in srv.messages():
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        mid = msg["Message-ID"].strip("<>")
        counts[mid] = counts.get(mid, 0) + 1
    return counts


def send(port, journal, inputs, *extra, json_out=True):
    args = [FARCEUR, "send", "--via", f"127.0.0.1:{port}", "--journal", str(journal),
            "--connections", "2", "--retries", "0", *extra]
    if json_out:
        args.append("--json")
    return subprocess.run([*args, *map(str, inputs)], capture_output=True, text=True, timeout=60)


def trial(n, rng, srv, tmp):
    box = tmp / f"t{n}"
    box.mkdir()
    inputs = []
    for i in range(MESSAGES):
        path = box / f"{i}.eml"
        path.write_text(f"From: alice@a.test\nTo: bob@b.test\nMessage-ID: <t{n}m{i}@kill.test>\n"
                        f"Subject: trial {n} message {i}\n\nbody {i}\n")
        inputs.append(path)
    journal = tmp / f"t{n}.journal"
    delay = rng.uniform(0.005, 0.06)
    proc = subprocess.Popen([FARCEUR, "send", "--via", f"127.0.0.1:{srv.port}", "--journal",
                             str(journal), "--connections", "2", "--retries", "0", "-q",
                             *map(str, inputs)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(0.1)  # what the server had in hand when the client died is stored
    before = sum(1 for i in range(MESSAGES) if f"t{n}m{i}@kill.test" in arrived(srv))
    rerun = send(srv.port, journal, inputs)
    results = {}
    for line in rerun.stdout.splitlines():
        r = json.loads(line)
        results[r["source"]] = r
    counts = arrived(srv)
    unknown = []
    for i, path in enumerate(inputs):
        mid, r = f"t{n}m{i}@kill.test", results.get(str(path))
        copies = counts.get(mid, 0)
        if r is None:
            fail(f"trial {n}: the re-run did not report {path.name}: {rerun.stdout}")
        if copies > 1:
            fail(f"trial {n}: {path.name} delivered {copies} times")
        if r["state"] == "unknown":
            unknown.append(path)
            if f"'{path}'" not in rerun.stderr:
                fail(f"trial {n}: the summary does not name unknown {path.name}: {rerun.stderr}")
        elif r["state"] not in ("delivered", "skipped") or copies != 1:
            fail(f"trial {n}: {path.name} is {r['state']} with {copies} copies at the server")
    want = 75 if unknown else 0
    if rerun.returncode != want:
        fail(f"trial {n}: re-run exit {rerun.returncode}, expected {want} "
             f"({len(unknown)} unknown): {rerun.stderr}")
    if unknown:
        forget = send(srv.port, journal, inputs, "--forget-unknown")
        if forget.returncode != 0 or arrived(srv) != counts:
            fail(f"trial {n}: --forget-unknown exit {forget.returncode}, or it sent: "
                 f"{forget.stderr}")
    clean = send(srv.port, journal, inputs)
    states = {json.loads(line)["state"] for line in clean.stdout.splitlines()}
    if clean.returncode != 0 or states != {"skipped"} or arrived(srv) != counts:
        fail(f"trial {n}: the run after the decision: exit {clean.returncode}, states {states}: "
             f"{clean.stderr}")
    return delay, len(unknown), before


def main():
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="farceur-kill-") as name:
        tmp = pathlib.Path(name)
        (tmp / "srv").mkdir()
        srv = Aiosmtpd(tmp / "srv", "--tls", "none")
        try:
            for n in range(TRIALS):
                delay, unknown, delivered = trial(n, rng, srv, tmp)
                print(f"ok: trial {n}: killed after {delay * 1000:.0f} ms with {delivered}/{MESSAGES} "
                      f"at the server; after the re-run each delivered once or reported unknown "
                      f"({unknown} unknown)")
        finally:
            srv.stop()


if __name__ == "__main__":
    main()
