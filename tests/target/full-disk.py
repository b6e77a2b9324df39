#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A full disk under a local target (issue 10): `farceur send` to an mbox and
to a Maildir on a 256 KiB tmpfs, with a message that does not fit.  The
delivery fails as an I/O error (74) that says the disk is full and names the
file; the mbox is cut back to what it held, the Maildir keeps nothing in tmp/
or new/, and the next message that fits is delivered into a valid mbox
(read back with Python's mailbox module).  The tmpfs lives in a mount
namespace of this test's own (root only; skipped, with the reason, when it
cannot be made).  TAP."""

import ctypes
import mailbox
import os
import shutil
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
CLONE_NEWNS = 0x00020000
results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))


def skip_all(why):
    print(f"1..0 # SKIP {why}")
    sys.exit(0)


def private_tmpfs(path):
    """Mounts a 256 KiB tmpfs on @path in a mount namespace of our own."""
    if os.geteuid() != 0:
        skip_all("mounting a tmpfs needs root")
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNS) != 0:
        skip_all(f"unshare(CLONE_NEWNS): {os.strerror(ctypes.get_errno())}")
    for argv in (["mount", "--make-rprivate", "/"],
                 ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", path]):
        proc = subprocess.run(argv, capture_output=True, text=True)
        if proc.returncode != 0:
            skip_all(f"{' '.join(argv)}: {proc.stderr.strip()}")


def send(via, message, *extra):
    proc = subprocess.run([FARCEUR, "send", "--via", via, "--from", "a@example.org",
                           "--rcpt", "b@example.org", *extra, message],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stderr


def main():
    work = tempfile.mkdtemp(prefix="farceur-full-disk-")
    disk = os.path.join(work, "disk")
    os.mkdir(disk)
    private_tmpfs(disk)
    try:
        big = os.path.join(work, "big.eml")
        small = os.path.join(work, "small.eml")
        with open(big, "w") as f:  # 1 MiB: four times the file system
            f.write("From: a@example.org\nTo: b@example.org\nSubject: big\n\n")
            f.write(("x" * 70 + "\n") * 15000)
        with open(small, "w") as f:
            f.write("From: a@example.org\nTo: b@example.org\nSubject: small\n\nfits\n")

        mbox = os.path.join(disk, "inbox.mbox")
        before = b"From x@example.org Mon Jan  1 00:00:00 2024\nSubject: first\n\nhello\n\n"
        with open(mbox, "wb") as f:
            f.write(before)
        status, err = send(f"mbox:{mbox}", big, "--retries", "0")
        check("mbox, disk full: exit 74 (I/O), not 75", status == 74, f"{status}\n{err}")
        check("mbox, disk full: says so and names the mbox",
              f"cannot write the message to mbox '{mbox}': no space left on device" in err, err)
        with open(mbox, "rb") as f:
            check("mbox, disk full: cut back to what it held", f.read() == before)
        check("mbox, disk full: no dotlock left", not os.path.exists(mbox + ".lock"))
        status, err = send(f"mbox:{mbox}", small)
        check("mbox: the next message that fits is delivered", status == 0, f"{status}\n{err}")
        subjects = [m["Subject"] for m in mailbox.mbox(mbox)]
        check("mbox: Python reads both messages, whole", subjects == ["first", "small"], subjects)

        maildir = os.path.join(disk, "md")
        status, err = send(f"maildir:{maildir}", big, "--retries", "0")
        check("Maildir, disk full: exit 74 (I/O)", status == 74, f"{status}\n{err}")
        check("Maildir, disk full: says so and names the Maildir",
              f"to Maildir '{maildir}'" in err and "no space left on device" in err, err)
        for sub in ("tmp", "new"):
            left = os.listdir(os.path.join(maildir, sub))
            check(f"Maildir, disk full: nothing left in {sub}/", left == [], left)
    finally:
        subprocess.run(["umount", disk], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)

    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            for line in str(detail).splitlines() or [""]:
                print(f"# {line}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
