#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Differential test: `farceur inspect --json` against Python's email package.

For every message of third-party corpora installed from Debian packages
(tools/setup installs them), both sides list the leaf parts the way
data/doc/json.md says (IMAP section paths, descending into message/rfc822 and message/global)
and must agree on path, content type, file name, decoded size and SHA-256.

Where they legitimately differ (malformed input), the file is listed in
differential.expect with the reason; a listed file that now agrees fails too,
so the list stays honest.  Nothing is skipped silently: every file is a TAP
line.  Usage: differential.py FARCEUR EXPECT-FILE
"""
import email
import hashlib
import json
import os
import subprocess
import sys
from email import policy

CORPORA = {
    # name: (package, folder, suffixes)
    "python": ("libpython3.11-testsuite", "/usr/lib/python3.11/test/test_email/data", ("msg_",)),
    "enmime": ("golang-github-jhillyerd-enmime-dev",
               "/usr/share/gocode/src/github.com/jhillyerd/enmime/testdata", (".raw",)),
    "flufl": ("python3-flufl.bounce", "/usr/lib/python3/dist-packages/flufl/bounce/tests/data",
              (".txt",)),
}

CONTAINERS = ("message/rfc822", "message/global")


def corpus_files():
    missing = []
    files = []
    for name, (package, folder, patterns) in CORPORA.items():
        if not os.path.isdir(folder):
            missing.append(package)
            continue
        for root, _dirs, names in os.walk(folder):
            for f in sorted(names):
                if any(f.startswith(p) or f.endswith(p) for p in patterns):
                    path = os.path.join(root, f)
                    files.append((f"{name}/{os.path.relpath(path, folder)}", path))
    return sorted(files), missing


# Python parses the body of every message/* type (delivery-status into header
# blocks) and cannot give its bytes back; data/doc/json.md keeps the types other than
# rfc822/global as leaves.  Their size and digest are the one thing this test
# cannot compare: both sides then carry NOT_COMPARED, and the TAP line says so.
NOT_COMPARED = "not comparable: Python parses message/* bodies"


def py_leaf(part, path, out):
    leaf = {"path": path, "content_type": part.get_content_type(),
            "filename": part.get_filename()}
    if part.is_multipart():
        leaf.update(decoded_size=NOT_COMPARED, sha256=NOT_COMPARED)
    else:
        body = part.get_payload(decode=True) or b""
        leaf.update(decoded_size=len(body), sha256=hashlib.sha256(body).hexdigest())
    out.append(leaf)


def py_node(part, path, out):
    if part.get_content_maintype() == "multipart" and part.is_multipart():
        for i, child in enumerate(part.get_payload(), 1):
            py_node(child, f"{path}.{i}" if path else str(i), out)
    elif part.get_content_type() in CONTAINERS and part.is_multipart():
        py_body(part.get_payload(0), path, out)
    else:
        py_leaf(part, path or "1", out)


def py_body(msg, prefix, out):
    if msg.get_content_maintype() == "multipart" and msg.is_multipart():
        py_node(msg, prefix, out)
    else:
        py_node(msg, f"{prefix}.1" if prefix else "1", out)


def python_parts(path):
    # from bytes, not from a binary file: the latter reads through a
    # TextIOWrapper whose universal newlines turn CRLF into LF.
    with open(path, "rb") as f:
        msg = email.message_from_bytes(f.read(), policy=policy.default)
    out = []
    py_body(msg, "", out)
    return out


def farceur_parts(farceur, path):
    run = subprocess.run([farceur, "inspect", "--json", path], capture_output=True, timeout=60)
    if run.returncode != 0:
        return None, f"exit {run.returncode}: {run.stderr.decode(errors='replace').strip()}"
    lines = run.stdout.decode().splitlines()
    if len(lines) != 1:
        return None, f"{len(lines)} messages"
    keys = ("path", "content_type", "filename", "decoded_size", "sha256")
    return [{k: p[k] for k in keys} for p in json.loads(lines[0])["parts"]], None


def mask_not_compared(ours, theirs):
    """Blanks size and digest on our side where Python cannot give them."""
    count = 0
    for a, b in zip(ours or [], theirs):
        if b["sha256"] == NOT_COMPARED and a["path"] == b["path"]:
            a.update(decoded_size=NOT_COMPARED, sha256=NOT_COMPARED)
            count += 1
    return count


def describe(ours, theirs):
    for i in range(max(len(ours), len(theirs))):
        a = ours[i] if i < len(ours) else None
        b = theirs[i] if i < len(theirs) else None
        if a != b:
            return f"part {i + 1}: farceur {a} / python {b}"
    return "same"


def load_expectations(path):
    expected = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            name, _, reason = line.partition(" ")
            expected[name] = reason.strip()
    return expected


def main():
    farceur, expect_file = sys.argv[1], sys.argv[2]
    files, missing = corpus_files()
    if missing:
        print(f"1..0 # SKIP corpora not installed (run tools/setup): {' '.join(missing)}")
        return 77
    expected = load_expectations(expect_file)
    print(f"1..{len(files) + 1}")
    failed = 0
    agreeing = 0
    for n, (name, path) in enumerate(files, 1):
        ours, err = farceur_parts(farceur, path)
        theirs = python_parts(path)
        skipped = mask_not_compared(ours, theirs)
        same = err is None and ours == theirs
        why = err or describe(ours, theirs)
        if name in expected and same:
            failed += 1
            print(f"not ok {n} - {name}: listed in {os.path.basename(expect_file)} but agrees now")
        elif name in expected:
            print(f"ok {n} - {name} # differs as expected: {expected[name]}")
            print(f"# {why}")
        elif not same:
            failed += 1
            print(f"not ok {n} - {name}: {why}")
        else:
            agreeing += 1
            note = f" # {skipped} message/* part(s): size and sha256 {NOT_COMPARED}" if skipped else ""
            print(f"ok {n} - {name}{note}")
    unknown = sorted(set(expected) - {name for name, _ in files})
    if unknown:
        failed += 1
        print(f"not ok {len(files) + 1} - expectations name missing files: {' '.join(unknown)}")
    else:
        print(f"ok {len(files) + 1} - every expectation names a corpus file")
    print(f"# {agreeing} of {len(files)} messages agree exactly, {len(files) - agreeing - failed} "
          f"differ as listed, {failed} failures")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
