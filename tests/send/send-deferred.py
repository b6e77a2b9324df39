#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A recipient deferred with 4xx while another is accepted (issue 10, finding 7).

aiosmtpd, started here with a handler that answers 451 to RCPT TO for any
address starting with "later" and 550 for "nobody": `send --retries 0` of a
message to bob and later must name later as deferred in the human report and
in --json (with the 451), and exit 75, not 69; the journal then sends to later
alone on a re-run.  A message with a refused recipient still exits 69 (the
ranking: refused is more serious than deferred).
"""
import asyncio
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FARCEUR, fail  # noqa: E402

from aiosmtpd.smtp import SMTP  # noqa: E402


class Handler:
    def __init__(self):
        self.rcpts = []  # the RCPT set of each message received

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("later"):
            return "451 4.7.1 greylisted, try again later"
        if address.startswith("nobody"):
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 ok"

    async def handle_DATA(self, server, session, envelope):
        self.rcpts.append(sorted(envelope.rcpt_tos))
        return "250 2.0.0 queued"


class Server:
    """aiosmtpd's SMTP on 127.0.0.1, port 0, in a thread of its own (its
    Controller cannot take port 0)."""

    def __init__(self, handler):
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        make = self.loop.create_server(lambda: SMTP(handler, hostname="mx.test"), "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(make, self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def farceur(*args):
    return subprocess.run([FARCEUR, "send", *args], capture_output=True, text=True, timeout=60)


def main():
    handler = Handler()
    controller = Server(handler)
    port = controller.port
    try:
        with tempfile.TemporaryDirectory(prefix="farceur-deferred-") as name:
            tmp = pathlib.Path(name)
            msg = tmp / "m.eml"
            msg.write_text("From: alice@a.test\nTo: bob@b.test, later@b.test\nSubject: hi\n\nhi\n")
            via = ["--via", f"127.0.0.1:{port}", "--retries", "0"]
            human = farceur(*via, str(msg))
            if human.returncode != 75:
                fail(f"human: exit {human.returncode}, expected 75: {human.stdout}{human.stderr}")
            if "deferred later@b.test: 451 4.7.1" not in human.stdout:
                fail(f"human report does not name the deferred recipient:\n{human.stdout}")
            journal = tmp / "journal"
            r = farceur(*via, "--json", "--journal", str(journal), str(msg))
            if r.returncode != 75:
                fail(f"--json: exit {r.returncode}, expected 75: {r.stderr}")
            out = json.loads(r.stdout)
            rcpt = {o["addr"]: (o["status"], o["code"]) for o in out["rcpt"]}
            if out["state"] != "partial" or rcpt != {"bob@b.test": ("accepted", 250),
                                                     "later@b.test": ("deferred", 451)}:
                fail(f"--json: {out}")
            before = len(handler.rcpts)
            again = farceur(*via, "--json", "--journal", str(journal), str(msg))
            if len(handler.rcpts) != before:  # later is deferred again: no data sent
                fail(f"the re-run sent the data again: {handler.rcpts}")
            again_rcpt = [o["addr"] for o in json.loads(again.stdout)["rcpt"]
                          if o["status"] != "accepted" or o["code"] is not None]
            if again.returncode != 75 or again_rcpt != ["later@b.test"]:
                fail(f"re-run: exit {again.returncode}, tried {again_rcpt}: {again.stdout}")
            msg.write_text("From: alice@a.test\nTo: bob@b.test, later@b.test, nobody@b.test\n"
                           "Subject: hi\n\nhi\n")
            worse = farceur(*via, str(msg))
            if worse.returncode != 69 or "refused  nobody@b.test" not in worse.stdout \
                    or "deferred later@b.test" not in worse.stdout:
                fail(f"refused + deferred: exit {worse.returncode}:\n{worse.stdout}")
    finally:
        controller.stop()
    print("ok: a deferred recipient is reported (human, --json), exit 75; a refused one still 69")


if __name__ == "__main__":
    main()
