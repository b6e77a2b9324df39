# SPDX-License-Identifier: LGPL-2.1-or-later
"""A small SMTP or LMTP server on aiosmtpd for the send tests.

    lmtp-server.py [--lmtp] (--unix PATH | --port N) --store DIR

Prints "ready" (or "ready PORT") once listening.  Recipients decide the
replies: nobody@* is refused at RCPT (550), busy@* is deferred at RCPT
(452), full@* is accepted at RCPT but, in LMTP, refused after the data
(552), one reply per recipient as RFC 2033 wants (aiosmtpd's LMTP class
sends one reply for all, so the handler writes them itself).  Each accepted
copy is stored as DIR/N-RCPT.eml with the envelope in X-Test-Mail-From.
"""
import argparse
import asyncio
import itertools
import pathlib

from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP

counter = itertools.count(1)


class Handler:
    def __init__(self, store, lmtp):
        self.store = pathlib.Path(store)
        self.lmtp = lmtp

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 no such user"
        if address.startswith("busy@"):
            return "452 4.2.2 mailbox busy, try later"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 ok"

    def save(self, envelope, rcpt):
        name = self.store / f"{next(counter)}-{rcpt}.eml"
        head = f"X-Test-Mail-From: <{envelope.mail_from}>\r\n".encode()
        name.write_bytes(head + envelope.original_content)

    async def handle_DATA(self, server, session, envelope):
        replies = []
        for rcpt in envelope.rcpt_tos:
            if self.lmtp and rcpt.startswith("full@"):
                replies.append(f"552 5.2.2 <{rcpt}> over quota")
                continue
            self.save(envelope, rcpt)
            replies.append(f"250 2.0.0 <{rcpt}> delivered")
        return "\r\n".join(replies) if self.lmtp else "250 2.0.0 queued"


async def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lmtp", action="store_true")
    ap.add_argument("--unix")
    ap.add_argument("--port", type=int)
    ap.add_argument("--store", required=True)
    args = ap.parse_args()
    handler = Handler(args.store, args.lmtp)
    cls = LMTP if args.lmtp else SMTP
    factory = lambda: cls(handler, decode_data=False, enable_SMTPUTF8=True)
    loop = asyncio.get_running_loop()
    if args.unix:
        server = await loop.create_unix_server(factory, args.unix)
        print("ready", flush=True)
    else:
        server = await loop.create_server(factory, "127.0.0.1", args.port or 0)
        print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
