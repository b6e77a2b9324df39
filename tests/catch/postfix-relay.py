#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A private Postfix (tests/servers/postfix.sh, root) relaying everything to
farceur catch (relayhost = catch, STARTTLS when offered): a message given to
Postfix arrives in catch with two hops, which `farceur trace` shows in
order: the client to Postfix (ESMTP), Postfix to catch (ESMTPS, the TLS
version and cipher), Postfix's name as the second hop's HELO.  TAP."""
import os
import pathlib
import smtplib
import subprocess
import sys
import tempfile
import time

from harness import TESTS, Catch, Tap, parse, trace

tap = Tap()
SERVERS = TESTS / "servers"

with Catch("--hostname", "catch.test", "--exit-after", "1") as catch, \
        tempfile.TemporaryDirectory(prefix="farceur-postfix-") as base:
    t0 = time.monotonic()
    env = dict(os.environ, POSTFIX_RELAYHOST=f"127.0.0.1:{catch.port}")
    started = subprocess.run([str(SERVERS / "postfix.sh"), "start", base], capture_output=True,
                             text=True, env=env)
    if started.returncode != 0:
        print(f"Bail out! cannot start a private Postfix (exit {started.returncode}): "
              f"{started.stderr.strip()}")
        sys.exit(1)
    tap.note(f"Postfix started in {time.monotonic() - t0:.1f} s")
    try:
        t0 = time.monotonic()
        with smtplib.SMTP("127.0.0.1", int(started.stdout.strip()), local_hostname="client.test",
                          timeout=30) as s:
            s.sendmail("alice@example.org", ["bob@example.com"],
                       b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\n"
                       b"Subject: via Postfix\r\nMessage-ID: <relay@example.org>\r\n\r\n"
                       b"two hops\r\n")
        status = catch.wait(60)  # --exit-after 1: once Postfix has relayed it
        tap.note(f"relayed in {time.monotonic() - t0:.1f} s")
    finally:
        subprocess.run([str(SERVERS / "postfix.sh"), "stop", base], capture_output=True)
        log = pathlib.Path(base, "log", "maillog")
        maillog = log.read_text(errors="replace") if log.exists() else ""
    tap.equal("catch got the relayed message and stopped (exit 0)", status, 0)
    stored = catch.stored()
    if not tap.equal("one message stored", len(stored), 1):
        tap.note(maillog[-3000:])
        sys.exit(tap.done())
    path, octets = stored[0]
    msg = parse(octets)
    tap.equal("the envelope Postfix relayed", (msg["Return-Path"], msg["Envelope-to"]),
              ("<alice@example.org>", "bob@example.com"))
    hops = trace(path)["hops"]
    tap.equal("trace: two hops", len(hops), 2)
    first, second = hops[0], hops[1]
    tap.equal("hop 1: from the client", first["from_helo"], "client.test")
    tap.equal("hop 1: by Postfix", first["by"], "postfix.farceur.test")
    tap.equal("hop 1: ESMTP", first["with"], "ESMTP")
    tap.equal("hop 2: from Postfix (its HELO)", second["from_helo"], "postfix.farceur.test")
    tap.equal("hop 2: from 127.0.0.1", second["from_ip"], "127.0.0.1")
    tap.equal("hop 2: by catch", second["by"], "catch.test")
    tap.equal("hop 2: ESMTPS (Postfix used STARTTLS)", second["with"], "ESMTPS")
    tap.equal("hop 2: encrypted", second["tls"], True)
    tap.equal("hop 2: for bob", second["for"], "bob@example.com")
    tap.check("hop 2: its from is hop 1's by (no from_mismatch)",
              "from_mismatch" not in second["anomalies"], second["anomalies"])
    record = catch.records[0]
    tap.equal("the record: Postfix's HELO", record["client"]["helo"], "postfix.farceur.test")
    tap.check("the record: TLS", record["tls"] and record["tls"]["version"].startswith("TLSv1"),
              record["tls"])
    tap.equal("the record: the id is hop 2's", record["id"], second["id"])
sys.exit(tap.done())
