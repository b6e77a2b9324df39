#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""--shard K/N for inspect and trace (data/doc/formats.md, Shards): the N
shards of a corpus (an mbox, a Maildir, a folder, several inputs) hold every
message exactly once; a message's shard is the documented hash of its key
(its file name, a Maildir's without the ":2," info, then "#N" in an mbox),
so it does not move when a Maildir message goes from new/ to cur/; a
message outside the shard is not even parsed; bad values are usage errors.
TAP output.  Env: FARCEUR."""
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
COMMANDS = ("inspect", "trace")
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def message(i, received=True):
    hop = (f"Received: from h{i}.example (h{i}.example [192.0.2.{i % 250 + 1}])\n"
           f"\tby mx.example with ESMTPS id {i}; Mon, 1 Jan 2024 10:00:{i % 60:02d} +0000\n"
           if received else "")
    return (f"{hop}From: a{i}@example.com\nTo: b@example.net\nSubject: message {i}\n"
            f"Date: Mon, 1 Jan 2024 09:59:00 +0000\nMessage-ID: <{i}@example.com>\n\nbody {i}\n")


def make_corpus(tmp):
    """An mbox of 40, a Maildir of 30 (new/ and cur/), a folder of 20 files."""
    mbox = os.path.join(tmp, "box.mbox")
    with open(mbox, "w") as f:
        for i in range(40):
            f.write(f"From x@example.com Mon Jan  1 00:00:00 2024\n{message(i)}\n")
    maildir = os.path.join(tmp, "Maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(maildir, sub))
    for i in range(30):
        sub, info = ("new", "") if i % 2 else ("cur", ":2,S")
        with open(os.path.join(maildir, sub, f"17000000{i:02d}.M{i}P1.host{info}"), "w") as f:
            f.write(message(100 + i))
    folder = os.path.join(tmp, "folder")
    os.makedirs(folder)
    for i in range(20):
        with open(os.path.join(folder, f"m{i:02d}.eml"), "w") as f:
            f.write(message(200 + i))
    return [mbox, maildir, folder]


def sources(command, inputs, shard=None):
    args = [FARCEUR, command, "--json", *inputs]
    if shard:
        args[2:2] = ["--shard", shard]
    proc = subprocess.run(args, capture_output=True, timeout=60)
    check(proc.returncode == 0, f"{args}: exit {proc.returncode}: {proc.stderr.decode()}")
    return [json.loads(line)["source"] for line in proc.stdout.decode().splitlines()]


def key(source):
    """The documented key: the file name (a Maildir's less its info), then #N."""
    path, _, place = source.partition("#")
    name = os.path.basename(path)
    if "/Maildir/" in path:
        name = name.split(":")[0]
    return name + ("#" + place if place else "")


def shard_of(source, n):
    return int.from_bytes(hashlib.sha256(key(source).encode()).digest()[:8], "big") % n + 1


@test
def shards_partition_the_corpus():
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_corpus(tmp)
        for command in COMMANDS:
            every = sources(command, inputs)
            check(len(every) == 90 and len(set(every)) == 90, f"{command}: {len(every)} messages")
            for n in (1, 2, 3, 5):
                seen = []
                for k in range(1, n + 1):
                    part = sources(command, inputs, f"{k}/{n}")
                    check(all(shard_of(s, n) == k for s in part),
                          f"{command} {k}/{n}: not the documented hash: {part}")
                    seen += part
                check(sorted(seen) == sorted(every),
                      f"{command}, {n} shards: {len(seen)} messages for {len(every)}")


@test
def order_is_kept_within_a_shard():
    with tempfile.TemporaryDirectory() as tmp:
        inputs = make_corpus(tmp)
        every = sources("trace", inputs)
        part = sources("trace", inputs, "2/3")
        check(part == [s for s in every if s in set(part)], part)


@test
def maildir_message_keeps_its_shard_from_new_to_cur():
    with tempfile.TemporaryDirectory() as tmp:
        maildir = make_corpus(tmp)[1]
        before = {key(s): shard_of(s, 4) for s in sources("inspect", [maildir])}
        for name in os.listdir(os.path.join(maildir, "new")):
            shutil.move(os.path.join(maildir, "new", name),
                        os.path.join(maildir, "cur", name + ":2,RS"))
        for k in range(1, 5):
            for s in sources("inspect", [maildir], f"{k}/4"):
                check(before[key(s)] == k, f"{s} moved from shard {before[key(s)]} to {k}")


@test
def messages_outside_the_shard_are_not_read():
    with tempfile.TemporaryDirectory() as tmp:
        mbox = os.path.join(tmp, "box.mbox")
        bad = [i for i in range(1, 30) if shard_of(f"{mbox}#{i}", 2) == 2][0]
        with open(mbox, "w") as f:
            for i in range(1, 30):
                text = "no header block here\n\n" if i == bad else message(i)
                f.write(f"From x@example.com Mon Jan  1 00:00:00 2024\n{text}\n")
        for command in COMMANDS:
            proc = subprocess.run([FARCEUR, command, "--json", "--shard", "1/2", mbox],
                                  capture_output=True, timeout=60)
            check(proc.returncode == 0, f"{command} 1/2: {proc.stderr.decode()}")
            proc = subprocess.run([FARCEUR, command, "--json", "--shard", "2/2", mbox],
                                  capture_output=True, timeout=60)
            check(proc.returncode == 65 and f"#{bad}': no header block".encode() in proc.stderr,
                  f"{command} 2/2: exit {proc.returncode}: {proc.stderr.decode()}")
            check(len(proc.stdout.decode().splitlines()) > 0, "the rest of the mbox was read")


@test
def bad_shards_are_usage_errors():
    for command in COMMANDS:
        for bad in ("0/2", "3/2", "1/0", "x", "1/", "/2", "1/2/3", "-1/2"):
            proc = subprocess.run([FARCEUR, command, "--shard", bad, "/dev/null"],
                                  capture_output=True, timeout=60)
            check(proc.returncode == 64 and b"not K/N" in proc.stderr,
                  f"{command} --shard {bad}: exit {proc.returncode}: {proc.stderr.decode()}")


def main():
    print(f"1..{len(TESTS)}")
    failed = 0
    for n, fn in enumerate(TESTS, 1):
        try:
            fn()
            print(f"ok {n} {fn.__name__}")
        except Exception as e:  # noqa: BLE001 - every failure is a TAP line
            failed += 1
            print(f"not ok {n} {fn.__name__}")
            for line in str(e).splitlines():
                print(f"# {line}")
    return 1 if failed else 0


sys.exit(main())
