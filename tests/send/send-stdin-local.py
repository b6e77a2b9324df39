# SPDX-License-Identifier: LGPL-2.1-or-later
"""An mbox given on stdin (`send -`, kept: stdin cannot be read twice) and
delivered to a local target, whose writer threads read the kept messages
while others are read: every message stored with its own octets, the same
files as from the mbox given by path.  With one GMime fs stream over the
spooled stdin the threads shared one file offset, and some messages were
stored with another's octets or refused."""
import hashlib
import pathlib
import random
import subprocess
import tempfile

from harness import FARCEUR, fail


def make_mbox(path, count, seed):
    rng = random.Random(seed)
    with open(path, "w") as box:
        for i in range(count):
            size = rng.choice([300, 5_000, 70_000, 140_000, 260_000])
            line = f"message {i} line ".ljust(70, "abcdefghij"[i % 10]) + "\n"
            body = line * (size // len(line) + 1)
            box.write(f"From s@example.com Thu Jan  1 00:00:00 2026\nFrom: s@example.com\n"
                      f"To: r{i}@example.org\nSubject: m{i}\n\n{body}\n")


def stored(maildir):
    return sorted(hashlib.sha256(f.read_bytes()).hexdigest() for f in (maildir / "new").iterdir())


with tempfile.TemporaryDirectory(prefix="farceur-stdin-local-") as tmp:
    tmp = pathlib.Path(tmp)
    mbox = tmp / "in.mbox"
    make_mbox(mbox, 150, 7)
    r = subprocess.run([FARCEUR, "send", "-q", "--via", f"maildir:{tmp / 'by-path'}", str(mbox)],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        fail(f"from the path: exit {r.returncode}: {r.stderr}")
    want = stored(tmp / "by-path")
    for run in range(3):
        out = tmp / f"stdin-{run}"
        with open(mbox, "rb") as stdin:
            r = subprocess.run([FARCEUR, "send", "-q", "--via", f"maildir:{out}", "-"],
                               stdin=stdin, capture_output=True, text=True, timeout=120)
        got = stored(out) if (out / "new").exists() else []
        if r.returncode != 0 or got != want:
            wrong = len(set(want) - set(got))
            fail(f"from stdin, run {run + 1}: exit {r.returncode}, {len(got)} stored, "
                 f"{wrong} of {len(want)} not as from the path: {r.stderr[-500:]}")
print("ok: an mbox on stdin stored by a local target as from its path, three times")
