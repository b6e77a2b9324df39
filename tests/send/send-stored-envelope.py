#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A prank outbox sent again with `farceur send` (issue 10, finding 10).

`prank` stores its messages into a Maildir with the envelope on top
(Return-Path, Envelope-to, which lists the Bcc witness).  `send` of that
outbox to aiosmtpd, with no --rcpt: every message must reach exactly the
campaign's recipients (RCPT as aiosmtpd recorded it), from the campaign's
MAIL FROM, and no withheld field (Return-Path, Envelope-to, Delivered-To,
X-Original-To, Bcc) may arrive: read back with Python's email.  Then a
message carrying all of them, sent with --rcpt: RCPT is --rcpt alone and
none of them arrives either.
"""
import email
import email.policy
import json
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FARCEUR, SRCDIR, Aiosmtpd, fail  # noqa: E402

ROOT = SRCDIR.resolve().parent
CONF = ROOT / "data" / "example" / "farceur.conf"
WITHHELD = ("Return-Path", "Envelope-to", "Delivered-To", "X-Original-To", "Bcc", "Resent-Bcc")
WITNESS = "archives@example.edu"


def farceur(*args):
    return subprocess.run([FARCEUR, *args], capture_output=True, text=True, timeout=60)


def arrived(srv):
    """(envelope, message) of each message aiosmtpd stored."""
    out = []
    for eml in srv.messages():
        env = json.loads(eml.with_suffix(".json").read_text())
        msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
        out.append((env, msg, eml.read_bytes()))
    return out


def check_withheld(msg, raw, what):
    for name in WITHHELD:
        if msg[name] is not None:
            fail(f"{what}: {name} arrived: {msg[name]!r}")
    if WITNESS.encode() in raw:
        fail(f"{what}: the Bcc witness appears in the octets that arrived")


def test_outbox(tmp):
    outbox = tmp / "outbox"
    r = farceur("prank", "--config", str(CONF), "--seed", "7", "--via", f"maildir:{outbox}",
                "--json")
    if r.returncode != 0:
        fail(f"prank exit {r.returncode}: {r.stderr}")
    planned = {}
    for line in r.stdout.splitlines():
        record = json.loads(line)
        for m in record.get("messages", []) if "group" in record else []:
            planned[m["message_id"]] = m["envelope"]
    if not planned:
        fail(f"prank planned no message: {r.stdout}")

    (tmp / "srv").mkdir()
    srv = Aiosmtpd(tmp / "srv", "--tls", "none")
    try:
        r = farceur("send", "--via", f"127.0.0.1:{srv.port}", "--json", str(outbox))
        results = [json.loads(line) for line in r.stdout.splitlines()]
        human = farceur("send", "--dry-run", str(outbox))
    finally:
        srv.stop()
    if r.returncode != 0:
        fail(f"send exit {r.returncode}: {r.stderr}")
    if len(results) != len(planned) or any(x["envelope"] != "stored" for x in results):
        fail(f"send --json does not say the stored envelope was used: {results}")
    if human.stdout.count("envelope: the one stored in the message") != len(planned):
        fail(f"send --dry-run does not say so for every message:\n{human.stdout}")
    got = arrived(srv)
    if len(got) != len(planned):
        fail(f"{len(got)} messages arrived, {len(planned)} planned")
    for env, msg, raw in got:
        mid = msg["Message-ID"].strip("<>")
        want = planned.get(mid)
        if want is None:
            fail(f"an unplanned message arrived: {mid}")
        if env["mail_from"] != want["mail_from"]:
            fail(f"{mid}: MAIL FROM {env['mail_from']} instead of {want['mail_from']}")
        if sorted(a.lower() for a in env["rcpt_tos"]) != sorted(a.lower() for a in want["rcpt_to"]):
            fail(f"{mid}: RCPT {env['rcpt_tos']} instead of the campaign's {want['rcpt_to']}")
        if WITNESS not in env["rcpt_tos"]:
            fail(f"{mid}: the Bcc witness got no copy: {env['rcpt_tos']}")
        check_withheld(msg, raw, mid)
    print(f"ok: {len(got)} prank messages re-sent to their campaign envelopes, nothing withheld leaked")


def test_rcpt_wins(tmp):
    path = tmp / "stored.eml"
    path.write_text("Return-Path: <alice@a.test>\nEnvelope-to: bob@b.test, archives@example.edu\n"
                    "Delivered-To: bob@b.test\nX-Original-To: bob@b.test\n"
                    "From: Alice <alice@a.test>\nTo: bob@b.test\nSubject: stored\n\nbody\n")
    (tmp / "srv2").mkdir()
    srv = Aiosmtpd(tmp / "srv2", "--tls", "none")
    try:
        r = farceur("send", "--via", f"127.0.0.1:{srv.port}", "--json", "--rcpt", "carol@c.test",
                    str(path))
    finally:
        srv.stop()
    if r.returncode != 0:
        fail(f"send --rcpt exit {r.returncode}: {r.stderr}")
    if json.loads(r.stdout)["envelope"] != "options":
        fail(f"send --rcpt --json: {r.stdout}")
    got = arrived(srv)
    if len(got) != 1 or got[0][0]["rcpt_tos"] != ["carol@c.test"]:
        fail(f"--rcpt did not replace the stored envelope: {[g[0] for g in got]}")
    check_withheld(got[0][1], got[0][2], "stored.eml")
    print("ok: --rcpt wins over a stored envelope; no withheld field arrived")


def main():
    with tempfile.TemporaryDirectory(prefix="farceur-stored-") as tmp:
        test_outbox(pathlib.Path(tmp))
        test_rcpt_wins(pathlib.Path(tmp))


if __name__ == "__main__":
    main()
