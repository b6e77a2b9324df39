#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Standard output is checked after every command (src/cli/cli-output.c, as
git's run_builtin()): with stdout on /dev/full each command exits 74 and
says "farceur COMMAND: cannot write standard output: REASON"; --help too.
A closed stdout is not an error.  TAP output.  Env: FARCEUR, G_TEST_SRCDIR."""
import os
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = os.path.dirname(TESTS)
TEMPLATE = os.path.join(TESTS, "data", "compose", "plain.tmpl")
CONF = os.path.join(ROOT, "data", "example", "farceur.conf")
MESSAGE = (b"Received: from a.test by b.test; Mon, 1 Jan 2024 10:00:00 +0000\n"
           b"From: Alice <alice@a.test>\nTo: bob@b.test\nSubject: hi\n\nHello.\n")
REASON = "no space left on device"

results = []


def run(args, stdout):
    """Runs farceur ARGS with stdout on the file STDOUT, or closed when None."""
    if stdout is None:
        return subprocess.run([FARCEUR, *args], stderr=subprocess.PIPE, timeout=60,
                              preexec_fn=lambda: os.close(1))
    with open(stdout, "wb") as out:
        return subprocess.run([FARCEUR, *args], stdout=out, stderr=subprocess.PIPE, timeout=60)


def full(label, args, expected):
    if not os.path.exists("/dev/full"):
        results.append((None, label, "no /dev/full"))
        return
    proc = run(args, "/dev/full")
    err = proc.stderr.decode(errors="replace")
    ok = proc.returncode == 74 and expected in err and err.count(expected) == 1
    results.append((ok, label, f"exit {proc.returncode}, stderr: {err.strip()}"))


def main():
    with tempfile.TemporaryDirectory() as tmp:
        msg = os.path.join(tmp, "msg.eml")
        with open(msg, "wb") as f:
            f.write(MESSAGE)
        compose = ["compose", TEMPLATE, "--from", "a@a.test", "--to", "b@b.test", "-o", "-"]
        # compose writes through a GMime stream: the library's write error, same status
        full("compose -o - > /dev/full: 74", compose, "farceur compose: cannot write")
        for name, args in [
            ("inspect", ["inspect", msg]),
            ("inspect --json", ["inspect", "--json", msg]),
            ("inspect --part", ["inspect", "--part", "1", msg]),
            ("trace", ["trace", msg]),
            ("trace --json", ["trace", "--json", msg]),
            ("send --dry-run", ["send", "--dry-run", msg]),
            ("send --dry-run --json", ["send", "--dry-run", "--json", msg]),
            ("prank --dry-run", ["prank", "--config", CONF, "--seed", "1", "--dry-run"]),
            ("prank --dry-run --json", ["prank", "--config", CONF, "--seed", "1", "--dry-run", "--json"]),
            # web cannot say where it listens: it stops rather than serve unseen
            ("web", ["web", "--listen", "127.0.0.1:0", msg]),
        ]:
            full(f"{name} > /dev/full: 74", args, f"farceur {args[0]}: cannot write standard output: {REASON}")
        full("send to a Maildir, --json > /dev/full: 74",
             ["send", "--via", f"maildir:{os.path.join(tmp, 'out')}", "--json", msg],
             f"farceur send: cannot write standard output: {REASON}")
        for command in ["compose", "inspect", "trace", "send", "prank", "web", "help"]:
            full(f"{command} --help > /dev/full: 74", [command, "--help"],
                 f"farceur {command}: cannot write standard output: {REASON}")
        full("farceur --help > /dev/full: 74", ["--help"], f"farceur: cannot write standard output: {REASON}")
        full("farceur --version > /dev/full: 74", ["--version"],
             f"farceur: cannot write standard output: {REASON}")
        proc = run(["inspect", msg], None)
        results.append((proc.returncode == 0 and not proc.stderr, "inspect >&-: 0, nothing said",
                        f"exit {proc.returncode}, stderr: {proc.stderr.decode(errors='replace').strip()}"))
        proc = run(["send", "--help"], os.path.join(tmp, "help.txt"))
        with open(os.path.join(tmp, "help.txt")) as f:
            text = f.read()
        results.append((proc.returncode == 0 and "  -h, --help " in text and "--dry-run" in text,
                        "send --help: 0, -h listed as GLib lists it", text[:300]))

    print(f"1..{len(results)}")
    failed = 0
    for i, (ok, label, detail) in enumerate(results, 1):
        if ok is None:
            print(f"ok {i} {label} # SKIP {detail}")
            continue
        print(f"{'ok' if ok else 'not ok'} {i} {label}")
        if not ok:
            failed += 1
            for line in detail.splitlines():
                print(f"# {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
