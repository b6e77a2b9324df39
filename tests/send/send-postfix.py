# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur send through a private Postfix on loopback: every recipient
(Bcc too) gets the message with Postfix's Received: hop (which farceur
trace reads) and without the Bcc header; bodies built to smuggle a second
message arrive as exactly one message with the intended content; a re-run with the journal sends nothing;
exec: speaks SMTP to Postfix's own `sendmail -bs`."""
import json
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, Postfix, fail

SMUGGLE = (b"From: mallory@example.com\r\nTo: bob@example.org\r\nSubject: smuggle\r\n\r\n"
           b"bare LF\n.\nafter a dot line\r.\rlone CRs\r\n"
           b"..two dots\r\n.one dot\r\n"
           b"\r\n.\r\nMAIL FROM:<evil@example.com>\r\nRCPT TO:<victim@example.org>\r\nDATA\r\n"
           b"Subject: smuggled\r\n\r\nowned\r\n.\r\nend\r\n")


def intended_body(raw):
    body = raw.split(b"\r\n\r\n", 1)[1]
    return body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def write_inputs(d):
    (d / "1-plain.eml").write_bytes(
        b"From: Alice <alice@example.com>\nTo: bob@example.org\nCc: carol@example.net\n"
        b"Bcc: secret@example.org\nReturn-Path: <forged@example.com>\nSubject: plain\n\n"
        b"Hello Bob.\n")
    (d / "2-smuggle.eml").write_bytes(SMUGGLE)
    (d / "3-long.eml").write_bytes(
        b"From: alice@example.com\nTo: dave@example.org\nSubject: long line\n\n"
        + b"x" * 3000 + b"\n")


def farceur(*args):
    return subprocess.run([FARCEUR, "send", *args], capture_output=True)


def check_first_run(pf, r):
    if r.returncode != 0:
        fail(f"send exited {r.returncode}: {r.stderr.decode()}")
    results = [json.loads(line) for line in r.stdout.decode().splitlines()]
    if [x["state"] for x in results] != ["delivered"] * 3:
        fail(f"states {[x['state'] for x in results]}")
    # 1-plain: bob, carol, secret; 2-smuggle: bob; 3-long: dave.
    msgs = pf.wait_delivered(5)
    by_rcpt = {}
    for m in msgs:
        if "by postfix.farceur.test (Postfix)" not in str(m.get_all("Received")):
            fail(f"no Postfix Received: hop in {m['Subject']}")
        if m["Bcc"] is not None or m["Subject"] == "smuggled":
            fail(f"Bcc left or smuggled message delivered: {m}")
        by_rcpt.setdefault(m["Subject"], []).append(m["X-Original-To"])
    if sorted(by_rcpt["plain"]) != ["bob@example.org", "carol@example.net", "secret@example.org"]:
        fail(f"plain went to {by_rcpt['plain']}")
    if by_rcpt["smuggle"] != ["bob@example.org"] or by_rcpt["long line"] != ["dave@example.org"]:
        fail(f"recipients {by_rcpt}")
    for m in msgs:
        if m["Subject"] == "smuggle":
            got = m.get_payload(decode=False).encode()
            if got != intended_body(SMUGGLE).decode().encode():
                fail(f"smuggle body {got!r}\nwanted {intended_body(SMUGGLE)!r}")
        if m["Subject"] == "long line" and "x" * 3000 not in m.get_content().replace("\n", ""):
            fail("long line lost content")
        if m["Subject"] == "plain" and m["Return-Path"] != "<alice@example.com>":
            fail(f"Return-Path {m['Return-Path']}: the input's one must be stripped")


with Postfix() as pf, tempfile.TemporaryDirectory() as tmp:
    d = pathlib.Path(tmp) / "in"
    d.mkdir()
    write_inputs(d)
    journal = pathlib.Path(tmp) / "journal"
    via = f"smtp://127.0.0.1:{pf.port}"
    r = farceur("--via", via, "--json", "--journal", str(journal), "--helo", "test.farceur",
                str(d))
    check_first_run(pf, r)
    delivered = sorted((pf.maildir / "new").iterdir())[0]
    t = subprocess.run([FARCEUR, "trace", "--json", str(delivered)], capture_output=True, text=True)
    hops = json.loads(t.stdout.splitlines()[0])["hops"] if t.returncode == 0 and t.stdout else []
    if not any(h.get("by") == "postfix.farceur.test" and h.get("from_ip") == "127.0.0.1"
               for h in hops):
        fail(f"farceur trace does not show Postfix's hop (exit {t.returncode}): {t.stdout}{t.stderr}")
    r = farceur("--via", via, "--json", "--journal", str(journal), str(d))
    states = [json.loads(line)["state"] for line in r.stdout.decode().splitlines()]
    if r.returncode != 0 or states != ["skipped"] * 3:
        fail(f"re-run: exit {r.returncode}, states {states}: {r.stderr.decode()}")
    pf.wait_delivered(5)

    r = farceur("--via", f"exec:/usr/sbin/sendmail -C {pf.base}/conf -bs", str(d / "1-plain.eml"))
    if r.returncode != 0:
        fail(f"exec: exited {r.returncode}: {r.stderr.decode()}")
    pf.wait_delivered(8)
    print("ok: 8 deliveries through Postfix (smtp:// and exec:sendmail -bs), re-run skipped all")
