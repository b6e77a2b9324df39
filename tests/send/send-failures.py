#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Failures reported as what they are (issue 10, finding 12's TLS, AUTH
and full disk items).

- A certificate that does not verify (smtp+starttls:// to aiosmtpd's
  throwaway CA, not trusted) and a refused password (535 from aiosmtpd
  started here, on loopback without TLS): exit 77 and every message
  `failed`, in the human report and --json, never `deferred`.
- A Maildir on a full file system (a 16 KiB tmpfs in a mount namespace of
  this test's own, `unshare -r -m`): the message that meets ENOSPC is not
  retried (one attempt, no back-off: the run takes well under the 7 s
  three retries would), the run stops there, exit 74 (an I/O error,
  data/doc/exit-status.md), every message
  `deferred` (the messages after it not tried).
"""
import asyncio
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FARCEUR, Aiosmtpd, fail  # noqa: E402

from aiosmtpd.smtp import SMTP, AuthResult  # noqa: E402


class RefusingAuth:
    """aiosmtpd offering AUTH on loopback and refusing every password (535),
    in a thread of its own; tests/servers/aiosmtpd-server.py never answers a
    wrong password, so it cannot serve here."""

    def __init__(self):
        self.stored = 0
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

        def factory():
            return SMTP(self, hostname="mx.test", auth_require_tls=False,
                        authenticator=lambda *args: AuthResult(success=False, handled=False))
        make = self.loop.create_server(factory, "127.0.0.1", 0)
        self.server = asyncio.run_coroutine_threadsafe(make, self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def handle_DATA(self, server, session, envelope):
        self.stored += 1
        return "250 2.0.0 stored"

    def stop(self):
        self.loop.call_soon_threadsafe(self.server.close)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def send(*args, env=None):
    full = dict(os.environ, **(env or {}))
    return subprocess.run([FARCEUR, "send", *args], capture_output=True, text=True, timeout=60,
                          env=full)


def check_failed(r, inputs, what):
    if r.returncode != 77:
        fail(f"{what}: exit {r.returncode}, wanted 77: {r.stdout}{r.stderr}")
    states = [json.loads(line)["state"] for line in r.stdout.splitlines()]
    if states != ["failed"] * len(inputs):
        fail(f"{what}: states {states}, wanted every message failed")


def test_tls_auth(tmp, inputs):
    out = tmp / "srv"
    out.mkdir()
    srv = Aiosmtpd(out, "--tls", "starttls", "--auth")
    try:
        via = f"smtp+starttls://127.0.0.1:{srv.port}"
        check_failed(send("--via", via, "--json", *inputs), inputs, "untrusted certificate")
        human = send("--via", via, *inputs)
        if human.returncode != 77 or "deferred" in human.stdout + human.stderr \
                or not human.stdout.startswith("failed "):
            fail(f"untrusted certificate, human report:\n{human.stdout}{human.stderr}")
        if srv.messages():
            fail("a message arrived through a failed session")
    finally:
        srv.stop()
    auth = RefusingAuth()
    try:
        check_failed(send("--via", f"smtp://tim@127.0.0.1:{auth.port}", "--json", *inputs,
                          env={"FARCEUR_PASSWORD": "wrong"}), inputs, "refused password")
        if auth.stored:
            fail("a message arrived through a failed session")
    finally:
        auth.stop()
    print("ok: TLS and AUTH failures: failed, exit 77, never deferred")


def test_full_disk(tmp, inputs):
    if shutil.which("unshare") is None:
        fail("unshare (util-linux) is needed for the full-disk test")
    disk = tmp / "disk"
    disk.mkdir()
    box = disk / "box"
    script = (f'mount -t tmpfs -o size=16k tmpfs "{disk}" && exec "{FARCEUR}" send '
              f'--via "maildir:{box}" --retries 3 --retry-delay 1 --json "$@"')
    start = time.monotonic()
    r = subprocess.run(["unshare", "-r", "-m", "sh", "-c", script, "sh", *inputs],
                       capture_output=True, text=True, timeout=60)
    took = time.monotonic() - start
    if "Operation not permitted" in r.stderr and r.returncode not in (0, 74):
        fail(f"cannot make a mount namespace here: {r.stderr}")
    results = [json.loads(line) for line in r.stdout.splitlines()]
    if r.returncode != 74:
        fail(f"full disk: exit {r.returncode}, wanted 74: {r.stdout}{r.stderr}")
    states = [x["state"] for x in results]
    if "deferred" not in states or set(states) - {"delivered", "deferred"}:
        fail(f"full disk: states {states}")
    first = next(x for x in results if x["state"] == "deferred")
    if first["attempts"] != 1 or "no space" not in (first["error"] or ""):
        fail(f"full disk: the failing message: {first}")
    if took > 5:
        fail(f"full disk: {took:.1f} s: the failure was retried")
    later = [x for x in results if x["state"] == "deferred" and x is not first]
    if any(x["attempts"] != 0 or "run stopped" not in x["error"] for x in later):
        fail(f"full disk: the messages after it were tried: {later}")
    print(f"ok: full disk: {states.count('delivered')} stored, then ENOSPC: not retried, "
          f"{len(later)} not tried, exit 74 in {took:.1f} s")


def main():
    with tempfile.TemporaryDirectory(prefix="farceur-failures-") as name:
        tmp = pathlib.Path(name)
        inputs = []
        for i in range(4):
            path = tmp / f"{i}.eml"
            path.write_text(f"From: alice@a.test\nTo: bob@b.test\nSubject: {i}\n\n"
                            + "x" * 70 + "\n" * 1 + ("y" * 70 + "\n") * 90)
            inputs.append(str(path))
        test_tls_auth(tmp, inputs)
        test_full_disk(tmp, inputs)


if __name__ == "__main__":
    main()
