#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""SIGINT and SIGTERM during `farceur send` (issue 10, finding 6, the
command's side).

aiosmtpd, started here, answers each message's data after a pause, so a run
of 8 messages over one connection is under way when the signal comes:
- SIGINT: no new message is taken, the one in flight finishes (delivered),
  every message is reported (--json), the summary is printed, exit 130;
  the journal's re-run sends exactly the rest (each message once, exit 0);
- SIGTERM: the same with exit 143;
- SIGINT twice against a server that never answers the data: the second
  abandons the delivery in flight, exit 130 within seconds, the message
  reported (unknown: its final dot went out), the rest deferred.
"""
import asyncio
import email
import email.policy
import json
import os
import pathlib
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FARCEUR, fail  # noqa: E402

from aiosmtpd.smtp import SMTP  # noqa: E402

MESSAGES = 8


class SlowServer:
    """aiosmtpd answering each DATA after PAUSE seconds, in a thread."""

    def __init__(self, pause):
        self.pause = pause
        self.ids = []
        self.received = 0  # data received, answered or not
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        make = self.loop.create_server(lambda: SMTP(self, hostname="mx.test"), "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(make, self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def handle_DATA(self, server, session, envelope):
        self.received += 1
        await asyncio.sleep(self.pause)
        msg = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        self.ids.append(msg["Message-ID"])
        return "250 2.0.0 stored"

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def messages(tmp, tag):
    box = tmp / tag
    box.mkdir()
    for i in range(MESSAGES):
        (box / f"{i}.eml").write_text(f"From: a@a.test\nTo: b@b.test\nMessage-ID: <{tag}{i}@sig>\n"
                                      f"Subject: {i}\n\nbody\n")
    return sorted(str(p) for p in box.glob("*.eml"))


def start(port, journal, inputs):
    return subprocess.Popen([FARCEUR, "send", "--via", f"127.0.0.1:{port}", "--connections", "1",
                             "--json", "--journal", str(journal), *inputs],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_stored(srv, n, timeout=10):
    deadline = time.monotonic() + timeout
    while len(srv.ids) < n:
        if time.monotonic() > deadline:
            fail(f"the server never got {n} messages: {srv.ids}")
        time.sleep(0.02)


def one_signal(tmp, signo, status):
    srv = SlowServer(0.3)
    try:
        tag = f"s{signo}-"
        inputs = messages(tmp, tag)
        journal = tmp / f"{tag}journal"
        proc = start(srv.port, journal, inputs)
        wait_stored(srv, 2)
        proc.send_signal(signo)
        out, err = proc.communicate(timeout=20)
        results = [json.loads(line) for line in out.splitlines()]
        states = [r["state"] for r in results]
        if proc.returncode != status:
            fail(f"signal {signo}: exit {proc.returncode}, wanted {status}: {err}")
        if len(results) != MESSAGES or set(states) != {"delivered", "deferred"}:
            fail(f"signal {signo}: every message must be reported: {states}\n{err}")
        if "farceur send: 8 messages in" not in err or "stopped by SIG" not in err:
            fail(f"signal {signo}: no summary: {err}")
        delivered = states.count("delivered")
        if delivered != len(srv.ids) or delivered < 3:  # the one in flight finished
            fail(f"signal {signo}: {delivered} reported delivered, {len(srv.ids)} at the server")
        if any(r["attempts"] != 0 or "stopped" not in r["error"]
               for r in results if r["state"] == "deferred"):
            fail(f"signal {signo}: a deferred message was tried: {results}")
        rerun = subprocess.run([FARCEUR, "send", "--via", f"127.0.0.1:{srv.port}", "--json",
                                "--journal", str(journal), *inputs],
                               capture_output=True, text=True, timeout=60)
        again = [json.loads(line)["state"] for line in rerun.stdout.splitlines()]
        if rerun.returncode != 0 or again.count("delivered") != MESSAGES - delivered:
            fail(f"signal {signo}: the re-run: exit {rerun.returncode}, {again}")
        if sorted(srv.ids) != sorted(set(srv.ids)) or len(srv.ids) != MESSAGES:
            fail(f"signal {signo}: at the server: {srv.ids}")
    finally:
        srv.stop()
    print(f"ok: signal {signo}: {delivered} delivered, the rest deferred, exit {status}; "
          f"the re-run sent the rest, each message once")


def two_signals(tmp):
    srv = SlowServer(3600)
    try:
        inputs = messages(tmp, "twice-")
        proc = start(srv.port, tmp / "twice-journal", inputs)
        deadline = time.monotonic() + 10
        while srv.received == 0:  # the first message's data is out; its reply never comes
            if time.monotonic() > deadline:
                fail("the server never got the first message's data")
            time.sleep(0.02)
        proc.send_signal(signal.SIGINT)
        time.sleep(0.3)
        if proc.poll() is not None:
            fail(f"the first SIGINT did not wait for the delivery in flight: {proc.stderr.read()}")
        start_time = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        took = time.monotonic() - start_time
        states = [json.loads(line)["state"] for line in out.splitlines()]
        if proc.returncode != 130 or took > 5:
            fail(f"two SIGINTs: exit {proc.returncode} after {took:.1f} s: {err}")
        if len(states) != MESSAGES or states.count("deferred") < MESSAGES - 1 \
                or not set(states) <= {"unknown", "deferred"}:
            fail(f"two SIGINTs: states {states}\n{err}")
    finally:
        srv.stop()
    print(f"ok: two SIGINTs: the deliveries in flight abandoned ({states.count('unknown')} unknown),"
          f" exit 130 in {took:.1f} s")


def main():
    with tempfile.TemporaryDirectory(prefix="farceur-signal-") as name:
        tmp = pathlib.Path(name)
        one_signal(tmp, signal.SIGINT, 130)
        one_signal(tmp, signal.SIGTERM, 143)
        two_signals(tmp)


if __name__ == "__main__":
    main()
