# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur send --shard K/N (issue 13): three processes, --shard 1/3, 2/3 and
3/3 at once, each with its own journal, send a corpus of 30 messages (20
files in a folder and an mbox of 10) to one aiosmtpd server on loopback.
Together they deliver every message exactly once (the server's copies, by
Message-ID); each process sends the messages the documented rule
(data/doc/formats.md, Shards: SHA-256 of the file name, or of the mbox's
name, "#" and the place, modulo N), computed here independently; the
journals are disjoint and cover the corpus; a second round of the three
runs, with the same journals, sends nothing again (the split is stable)."""
import hashlib
import json
import pathlib
import subprocess
import tempfile
from email import message_from_bytes

from harness import FARCEUR, Aiosmtpd, fail

N = 3


def message(i):
    return (f"From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: shard test {i}\n"
            f"Message-ID: <shard-{i}@example.com>\n\nMessage {i}.\n").encode()


def expected_shard(key):
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:8], "big") % N + 1


def make_corpus(tmp):
    """{key: Message-ID} and the inputs."""
    folder = tmp / "folder"
    folder.mkdir()
    keys = {}
    for i in range(20):
        (folder / f"msg-{i:02}.eml").write_bytes(message(i))
        keys[f"msg-{i:02}.eml"] = f"<shard-{i}@example.com>"
    mbox = tmp / "more.mbox"
    with open(mbox, "wb") as f:
        for place, i in enumerate(range(20, 30), 1):
            f.write(b"From alice@example.com Mon Nov 23 02:40:00 2026\n" + message(i) + b"\n")
            keys[f"more.mbox#{place}"] = f"<shard-{i}@example.com>"
    return keys, [str(folder), str(mbox)]


def run_shards(srv, tmp, inputs, round_):
    procs = [subprocess.Popen([FARCEUR, "send", "--via", f"smtp://127.0.0.1:{srv.port}",
                               "--connections", "2", "--shard", f"{k}/{N}", "--journal",
                               str(tmp / f"journal-{k}"), "--json", *inputs],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for k in range(1, N + 1)]
    results = {}
    for k, proc in enumerate(procs, 1):
        out, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            fail(f"round {round_}, --shard {k}/{N}: exit {proc.returncode}: {out}{err}")
        results[k] = [json.loads(line) for line in out.splitlines()]
    return results


def key_of(source):
    """The shard key of a result's source: 'DIR/NAME' or 'MBOX#PLACE'."""
    path, _, place = source.partition("#")
    name = pathlib.Path(path).name
    return f"{name}#{place}" if place else name


def stored_ids(srv):
    ids = [message_from_bytes(p.read_bytes())["Message-ID"] for p in srv.messages()]
    return ids


with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    keys, inputs = make_corpus(tmp)
    out = tmp / "server"
    out.mkdir()
    srv = Aiosmtpd(out)
    try:
        results = run_shards(srv, tmp, inputs, 1)
        ids = stored_ids(srv)
        if sorted(ids) != sorted(keys.values()):
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            missing = sorted(set(keys.values()) - set(ids))
            fail(f"the server got {len(ids)} messages, wanted each of 30 once; "
                 f"twice or more: {dupes}; missing: {missing}")
        for k, rows in results.items():
            got = sorted(key_of(r["source"]) for r in rows)
            want = sorted(key for key in keys if expected_shard(key) == k)
            if got != want:
                fail(f"--shard {k}/{N} sent {got}\nthe rule gives {want}")
            if any(r["state"] != "delivered" for r in rows):
                fail(f"--shard {k}/{N}: not all delivered: {rows}")
        sizes = [len(results[k]) for k in results]
        if 0 in sizes:
            fail(f"a shard is empty ({sizes}): the corpus does not test the split")

        journals = {}
        for k in range(1, N + 1):
            lines = (tmp / f"journal-{k}").read_text().splitlines()
            journals[k] = {key_of(json.loads(line)["source"]) for line in lines}
        union = set().union(*journals.values())
        if union != set(keys) or sum(len(j) for j in journals.values()) != len(keys):
            fail(f"the journals are not disjoint or miss messages: {journals}")

        again = run_shards(srv, tmp, inputs, 2)
        for k, rows in again.items():
            if len(rows) != len(results[k]) or any(r["state"] != "skipped" for r in rows):
                fail(f"round 2, --shard {k}/{N}: wanted the same messages, all skipped: {rows}")
        if len(stored_ids(srv)) != len(keys):
            fail(f"round 2 sent again: the server holds {len(stored_ids(srv))}")
    finally:
        srv.stop()

    r = subprocess.run([FARCEUR, "send", "--via", "maildir:" + str(tmp / "md"), "--shard", "0/3",
                        *inputs], capture_output=True, text=True)
    if r.returncode != 64 or "shard '0/3' is not K/N" not in r.stderr:
        fail(f"--shard 0/3: exit {r.returncode}, wanted 64 and the reason: {r.stderr}")
    print(f"ok: 3 shards at once ({sizes[0]}+{sizes[1]}+{sizes[2]} messages) delivered each of 30 "
          "once, as the rule splits them; disjoint journals; a second round sent nothing; "
          "--shard 0/3 is a usage error")
