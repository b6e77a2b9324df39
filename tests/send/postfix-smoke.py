# SPDX-License-Identifier: LGPL-2.1-or-later
"""The private Postfix of tests/servers/postfix.sh accepts mail on loopback
and delivers it into its Maildir with its own Received: hop.  Talks to it
with Python's smtplib, so it proves the server independently of farceur."""
import smtplib

from harness import Postfix, fail

with Postfix() as pf:
    with smtplib.SMTP("127.0.0.1", pf.port, timeout=10) as s:
        code, caps = s.ehlo("smoke.test")
        if code != 250 or b"PIPELINING" not in caps:
            fail(f"unexpected EHLO reply {code} {caps!r}")
        refused = s.sendmail("alice@example.com", ["bob@example.org", "carol@example.net"],
                             b"From: alice@example.com\r\nTo: bob@example.org\r\n"
                             b"Subject: smoke\r\n\r\nhello\r\n.leading dot\r\n")
        if refused:
            fail(f"refused recipients: {refused}")
    msgs = pf.wait_delivered(2)
    for m in msgs:
        if "by postfix.farceur.test (Postfix)" not in str(m["Received"]):
            fail(f"no Postfix Received hop: {m['Received']}")
        if m["Return-Path"] != "<alice@example.com>":
            fail(f"Return-Path {m['Return-Path']}")
        if m.get_content() != "hello\n.leading dot\n":
            fail(f"body {m.get_content()!r}")
    print("ok: 2 messages delivered through the private Postfix")
