# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur send over LMTP (Unix socket; per-recipient replies after the
data) and SMTP (TCP) against aiosmtpd: refused recipients are reported one
by one while the others get the message; 4xx is retried then deferred; the
exit status is the most serious outcome."""
import json
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, fail

HERE = pathlib.Path(__file__).parent


class Server:
    def __init__(self, tmp, *args):
        self.store = pathlib.Path(tmp) / "store"
        self.store.mkdir(exist_ok=True)
        self.proc = subprocess.Popen(["/usr/bin/python3", str(HERE / "lmtp-server.py"), *args,
                                      "--store", str(self.store)],
                                     stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().split()
        if not line or line[0] != "ready":
            fail(f"aiosmtpd server did not start (python3-aiosmtpd missing?): {line}")
        self.port = int(line[1]) if len(line) > 1 else None

    def stop(self):
        self.proc.terminate()
        self.proc.wait()

    def stored(self):
        return sorted(p.name.split("-", 1)[1] for p in self.store.glob("*.eml"))


def send(*args):
    r = subprocess.run([FARCEUR, "send", "--json", *args], capture_output=True, text=True)
    return r, [json.loads(line) for line in r.stdout.splitlines()]


with tempfile.TemporaryDirectory() as tmp:
    msg = pathlib.Path(tmp) / "m.eml"
    msg.write_text("From: alice@example.com\nTo: ann@example.org, full@example.org, "
                   "nobody@example.org\nSubject: lmtp\n\nHi.\n")

    sock = f"{tmp}/lmtp.sock"
    srv = Server(tmp, "--lmtp", "--unix", sock)
    try:
        r, res = send("--via", f"lmtp:{sock}", str(msg))
    finally:
        srv.stop()
    if r.returncode != 69:
        fail(f"LMTP: exit {r.returncode}, wanted 69: {r.stderr}")
    status = {x["addr"]: (x["status"], x["code"]) for x in res[0]["rcpt"]}
    if res[0]["state"] != "partial" or status != {"ann@example.org": ("accepted", 250),
                                                  "full@example.org": ("refused", 552),
                                                  "nobody@example.org": ("refused", 550)}:
        fail(f"LMTP results {res}")
    if srv.stored() != ["ann@example.org.eml"]:
        fail(f"LMTP stored {srv.stored()}")
    if "exit 69" not in r.stderr:
        fail(f"the summary does not say the exit status: {r.stderr}")

    msg.write_text("From: alice@example.com\nTo: bob@example.org, busy@example.org\n"
                   "Subject: smtp\n\nHi.\n")
    srv = Server(tmp, "--port", "0")
    try:
        r, res = send("--via", f"127.0.0.1:{srv.port}", "--retries", "2", "--retry-delay", "0.05",
                      str(msg))
    finally:
        srv.stop()
    if r.returncode != 75:
        fail(f"SMTP 4xx: exit {r.returncode}, wanted 75: {r.stderr}")
    status = {x["addr"]: x["status"] for x in res[0]["rcpt"]}
    if res[0]["attempts"] != 3 or status.get("bob@example.org") != "accepted":
        fail(f"SMTP 4xx results {res}")
    if srv.stored().count("bob@example.org.eml") != 1:
        fail(f"bob got {srv.stored().count('bob@example.org.eml')} copies: {srv.stored()}")
    print("ok: LMTP per-recipient replies, SMTP 4xx retried twice then deferred")
