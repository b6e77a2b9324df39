#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""prank through SMTP: the example campaign delivered to aiosmtpd on
127.0.0.1 (a real server, started here).  What the server receives must be
the envelope the report shows (MAIL FROM the forged victim, RCPT TO the
recipients and both witnesses), the message without its Bcc header.  Also
the safety rail for a loopback server (no warning) and `localhost`.
Skipped (TAP "1..0 # SKIP") while this build of farceur has no SMTP backend.  TAP.
Env: FARCEUR, G_TEST_SRCDIR."""
import email
import email.policy
import json
import os
import socket
import subprocess
import sys

from aiosmtpd.controller import Controller

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONF = os.path.join(os.path.dirname(TESTS), "data", "example", "farceur.conf")

results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))
    return ok


class Sink:
    def __init__(self):
        self.received = []

    async def handle_DATA(self, server, session, envelope):
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 stored"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main():
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        proc = subprocess.run([FARCEUR, "prank", "--config", CONF, "--seed", "11", "--json",
                               "--via", f"smtp://127.0.0.1:{port}"], capture_output=True)
    finally:
        controller.stop()
    err = proc.stderr.decode(errors="replace")
    if "no smtp backend in this build" in err:
        print(f"1..0 # SKIP {err.strip()}")
        return 0
    check("exit 0", proc.returncode == 0, err)
    check("no remote warning for a loopback server", "warning" not in err, err)
    groups = [g for g in map(json.loads, proc.stdout.decode().splitlines()) if "group" in g]
    messages = [m for g in groups for m in g["messages"]]
    check("one SMTP transaction per message", len(sink.received) == len(messages),
          f"{len(sink.received)} vs {len(messages)}")
    by_id = {}
    for mail_from, rcpts, content in sink.received:
        msg = email.message_from_bytes(content, policy=email.policy.default)
        by_id[str(msg["Message-ID"]).strip("<>")] = (mail_from, rcpts, msg)
    for g in groups:
        for m in g["messages"]:
            got = by_id.get(m["message_id"])
            if not check(f"group {g['group']}: the server got {m['message_id']}", got):
                continue
            mail_from, rcpts, msg = got
            check(f"group {g['group']}: MAIL FROM is the forged victim",
                  mail_from == g["sender"]["addr"] == m["envelope"]["mail_from"], mail_from)
            check(f"group {g['group']}: RCPT TO is the reported envelope",
                  rcpts == m["envelope"]["rcpt_to"], f"{rcpts} vs {m['envelope']['rcpt_to']}")
            check(f"group {g['group']}: Bcc witness in the envelope, not in the message",
                  "archives@example.edu" in rcpts and msg["Bcc"] is None
                  and b"archives@example.edu" not in msg.as_bytes())
            check(f"group {g['group']}: result delivered, per-recipient replies 250",
                  m["result"] == "delivered" and all(r["code"] == 250 for r in m["rcpts"]),
                  json.dumps(m["rcpts"]))
    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            for line in detail.splitlines() or [""]:
                print(f"# {line}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
