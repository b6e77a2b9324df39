#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A TCP proxy that delays every server reply by DELAY seconds and counts
the replies a client waits for (round trips).

    send-delay-proxy.py UPSTREAM_PORT [DELAY]     prints "ready PORT"

A "wait" is a burst of server bytes that follows client bytes (or opens the
session: the greeting): what a client that stops to read costs in latency.
When each connection closes, prints "waits N" on stdout.  Lockstep SMTP
waits 7 times for one message; PIPELINING (RFC 2920) brings it to 4.
"""
import asyncio
import sys

UPSTREAM = int(sys.argv[1])
DELAY = float(sys.argv[2]) if len(sys.argv) > 2 else 0.02


class Session:
    def __init__(self):
        self.client_spoke = True  # the greeting counts as the first wait
        self.waits = 0


async def client_to_server(reader, writer, s):
    while data := await reader.read(65536):
        s.client_spoke = True
        writer.write(data)
        await writer.drain()
    writer.close()


async def server_to_client(reader, writer, s):
    while data := await reader.read(65536):
        if s.client_spoke:
            s.waits += 1
            s.client_spoke = False
            await asyncio.sleep(DELAY)
        writer.write(data)
        await writer.drain()
    writer.close()


async def handle(creader, cwriter):
    sreader, swriter = await asyncio.open_connection("127.0.0.1", UPSTREAM)
    s = Session()
    await asyncio.gather(client_to_server(creader, swriter, s),
                         server_to_client(sreader, cwriter, s), return_exceptions=True)
    print("waits", s.waits, flush=True)


async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print("ready", server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


asyncio.run(main())
