#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Golden tests of the shipped templates (templates/*.tmpl): each is composed
with fixed inputs (Date, Message-ID, so boundaries too) and compared with
tests/data/campaign/golden/NAME.eml, with a readable diff on failure.
FARCEUR_REGENERATE=1 rewrites the goldens instead of comparing.  Also checks
that every shipped template says it is a prank.  TAP output."""
import difflib
import email
import email.policy
import glob
import os
import subprocess
import sys

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = os.path.dirname(TESTS)
GOLDEN = os.path.join(TESTS, "data", "campaign", "golden")
FIXED = ["--from", "Alice Martin <alice@example.org>",
         "--to", "Bob Dupont <bob@example.com>", "--to", "Zoé Lefèvre <zoe@example.org>",
         "--cc", "Prof <prof@example.edu>",
         "--var", "group.index=2", "--var", "group.size=3",  # bound by prank, not compose
         "--date", "2026-04-01T09:00:00Z", "--message-id", "golden@farceur.test"]
PRANK_WORDS = ("prank", "farce", "blague")

results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))
    return ok


def main():
    regenerate = os.environ.get("FARCEUR_REGENERATE") == "1"
    templates = sorted(glob.glob(os.path.join(ROOT, "templates", "*.tmpl")))
    check("at least six shipped templates", len(templates) >= 6, str(len(templates)))
    for path in templates:
        name = os.path.basename(path)
        proc = subprocess.run([FARCEUR, "compose", path, *FIXED], capture_output=True)
        if not check(f"{name}: composes", proc.returncode == 0, proc.stderr.decode(errors="replace")):
            continue
        golden = os.path.join(GOLDEN, name[:-len(".tmpl")] + ".eml")
        if regenerate:
            os.makedirs(GOLDEN, exist_ok=True)
            with open(golden, "wb") as f:
                f.write(proc.stdout)
        with open(golden, "rb") as f:
            want = f.read()
        diff = "".join(difflib.unified_diff(want.decode(errors="replace").splitlines(True),
                                            proc.stdout.decode(errors="replace").splitlines(True),
                                            "golden", "composed", n=2))
        check(f"{name}: matches {os.path.relpath(golden, TESTS)}", proc.stdout == want, diff[:3000])
        msg = email.message_from_bytes(proc.stdout, policy=email.policy.default)
        text = msg.get_body(("plain",)).get_content().lower()
        check(f"{name}: says it is a prank", any(w in text for w in PRANK_WORDS))
        check(f"{name}: read back without defects",
              not msg.defects and all(not p.defects for p in msg.walk()))
    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            for line in detail.splitlines() or [""]:
                print(f"# {line}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
