#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""An aiosmtpd server (Debian python3-aiosmtpd) that ends sessions the way
real servers do, for farceur's session recovery (data/doc/smtp.md, Sessions).

    session-server.py OUTDIR [--limit N] [--limit-reply TEXT]
                      [--close-at K] [--drop-after N]
                      [--starttls CERT KEY | --broken-tls]

Listens on 127.0.0.1, port 0; prints {"port": N} on stdout, then serves
until stdin is closed.  aiosmtpd offers no PIPELINING, like OpenSMTPD.
Each message is stored as OUTDIR/N.eml; OUTDIR/log has one JSON line per
event: {"session": S, "event": "message", "subject": ...} and the refusals.

--limit N        after N messages in a session, MAIL gets --limit-reply
                 (default "452 4.5.3 Too many recipients"; OpenSMTPD's limit);
                 -1: every MAIL gets it
--close-at K     the MAIL of the K-th message overall (1-based, once) gets
                 "421 4.3.2 Service shutting down" and the connection closes
--drop-after N   after N messages in a session, MAIL gets no reply: the
                 connection is closed (a server that limits silently)
--starttls CERT KEY  offer STARTTLS with this certificate (PEM files)
--broken-tls     offer STARTTLS, answer it 220, then send plaintext and close:
                 a handshake that fails outright
Message events say whether the session was over TLS ("tls").
"""
import argparse
import asyncio
import email
import itertools
import json
import os
import sys

import logging
import ssl

from aiosmtpd.smtp import SMTP


class BrokenTLS(SMTP):
    async def smtp_STARTTLS(self, arg):
        await self.push("220 2.0.0 Ready to start TLS")
        await self._reader.read(512)  # the client's hello, answered by no TLS at all
        self.transport.write(b"this is not TLS\r\n")
        self.transport.close()


class Handler:
    def __init__(self, args):
        self.args = args
        self.stored = 0
        self.mails = 0
        self.closed_once = False
        self.sessions = itertools.count(1)

    def log(self, **event):
        with open(os.path.join(self.args.outdir, "log"), "a") as out:
            out.write(json.dumps(event) + "\n")

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        session.host_name = hostname
        if not hasattr(session, "number"):
            session.number = next(self.sessions)
            session.count = 0
        if self.args.broken_tls:
            responses.insert(len(responses) - 1, "250-STARTTLS")
        return responses

    async def end(self, server, session, reply, event):
        self.log(session=session.number, event=event)
        if reply:
            server.transport.write(reply.encode() + b"\r\n")
        server.transport.close()
        await asyncio.sleep(3600)  # cancelled when the connection is lost

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        self.mails += 1
        if self.args.close_at and self.mails == self.args.close_at and not self.closed_once:
            self.closed_once = True
            await self.end(server, session, "421 4.3.2 Service shutting down", "421")
        if self.args.drop_after and session.count >= self.args.drop_after:
            await self.end(server, session, None, "drop")
        if self.args.limit and session.count >= max(self.args.limit, 0):
            self.log(session=session.number, event="limit")
            return self.args.limit_reply
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.stored += 1
        session.count += 1
        with open(os.path.join(self.args.outdir, f"{self.stored}.eml"), "wb") as out:
            out.write(envelope.original_content)
        subject = email.message_from_bytes(envelope.original_content)["Subject"]
        self.log(session=session.number, event="message", subject=subject,
                 tls=session.ssl is not None)
        return f"250 2.0.0 stored as {self.stored}"


async def main():
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)  # handshakes we break on purpose
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--limit", type=int, default=0)
    parser.add_argument("--limit-reply", default="452 4.5.3 Too many recipients")
    parser.add_argument("--close-at", type=int, default=0)
    parser.add_argument("--drop-after", type=int, default=0)
    parser.add_argument("--starttls", nargs=2, metavar=("CERT", "KEY"))
    parser.add_argument("--broken-tls", action="store_true")
    args = parser.parse_args()
    handler = Handler(args)
    kwargs = {"hostname": "sessions.test"}
    if args.starttls:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(*args.starttls)
        kwargs["tls_context"] = context
    smtp_class = BrokenTLS if args.broken_tls else SMTP
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: smtp_class(handler, **kwargs), "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


asyncio.run(main())
