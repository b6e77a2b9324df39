#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""aiosmtpd (Debian python3-aiosmtpd, run with /usr/bin/python3) storing
every message in a Maildir with Return-Path and X-Envelope-To, through
Python's mailbox.Maildir: the reference for tools/bench/catch.

    aiosmtpd-maildir.py PORT DIR      prints "READY PORT"; SIGTERM stops it

Adapted from /work/research/servers/aiosmtpd-maildir.py (verified there).
hostname= is given: aiosmtpd's default socket.getfqdn() can block on DNS."""
import asyncio
import mailbox
import os
import signal
import sys

from aiosmtpd.smtp import SMTP


class MaildirHandler:
    def __init__(self, path):
        self.box = mailbox.Maildir(path, create=True)

    async def handle_DATA(self, server, session, envelope):
        head = "Return-Path: <%s>\r\nX-Envelope-To: %s\r\n" % (envelope.mail_from,
                                                              ", ".join(envelope.rcpt_tos))
        self.box.add(head.encode() + envelope.original_content)
        return "250 2.0.0 OK"


def main():
    port, folder = int(sys.argv[1]), os.path.abspath(sys.argv[2])
    os.makedirs(folder, exist_ok=True)
    handler = MaildirHandler(os.path.join(folder, "Maildir"))
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(loop.create_server(
        lambda: SMTP(handler, hostname="aiosmtpd.test", enable_SMTPUTF8=True), "127.0.0.1", port,
        backlog=256))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, loop.stop)
    print("READY", port, flush=True)
    loop.run_forever()
    server.close()
    loop.run_until_complete(server.wait_closed())


if __name__ == "__main__":
    main()
