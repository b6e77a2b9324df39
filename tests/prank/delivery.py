#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""prank through the delivery engine, against aiosmtpd on 127.0.0.1 (a real
server, started here, that can defer, stall or record):

- the same seed and files give the same octets, run after run (Date,
  Message-ID, MIME boundaries), and another seed other messages; the Date
  is the newest file's, else --date or SOURCE_DATE_EPOCH (a bad one: 64);
- a campaign killed (SIGKILL, then SIGTERM) after k messages, the server
  stalling at the next one, then run again with the same seed and --journal: the second run
  sends only what is missing, every victim ends up with exactly one message,
  and a third run sends nothing;
- a 4xx reply to the data is retried (attempts 2), and with --retries 0 the
  message is deferred, exit 75;
- --transcript writes the dialogue (one connection: no session tags; two:
  "#N " tags); --timeout gives up on a server that does not answer; on a
  terminal, the progress line.
TAP.  Env: FARCEUR, G_TEST_SRCDIR."""
import asyncio
import email
import email.policy
import glob
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

from aiosmtpd.controller import Controller

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, report  # noqa: E402

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CONF = os.path.join(os.path.dirname(TESTS), "data", "example", "farceur.conf")
WITNESSES = {"prof@example.edu", "archives@example.edu"}


class Server:
    """Records every message; defers the first DATA of each message when
    asked; stalls at MAIL FROM once it holds `stall_after` messages."""

    def __init__(self):
        self.received = []
        self.stall_after = None
        self.defer_first = False
        self.deferred = set()

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        while self.stall_after is not None and len(self.received) >= self.stall_after:
            await asyncio.sleep(0.05)
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 2.1.0 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        key = str(msg["Message-ID"])
        if self.defer_first and key not in self.deferred:
            self.deferred.add(key)
            return "451 4.3.0 try again later"
        self.received.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 2.0.0 stored"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prank(*args, env=None):
    """prank on the example campaign; SOURCE_DATE_EPOCH only when `env` sets it."""
    full = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    full.update(env or {})
    return subprocess.run([FARCEUR, "prank", "--config", CONF, *args], capture_output=True,
                          timeout=120, env=full)


def messages(proc):
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    return [m for r in records if "group" in r for m in r["messages"]]


def err(proc):
    return f"exit {proc.returncode}: {proc.stderr.decode(errors='replace')[-600:]}"


def maildir_octets(box):
    out = []
    for path in sorted(glob.glob(os.path.join(box, "new", "*"))):
        with open(path, "rb") as f:
            out.append(f.read())
    return sorted(out)


def test_same_octets(tmp):
    runs = []
    for name, seed in (("a", "11"), ("b", "11"), ("c", "12")):
        box = os.path.join(tmp, "same-" + name)
        proc = prank("--seed", seed, "--json", "--via", f"maildir:{box}")
        check(f"same octets: run {name} exits 0", proc.returncode == 0, err(proc))
        runs.append((maildir_octets(box), proc))
    (a, pa), (b, pb), (c, _) = runs
    check("same octets: the same seed stores byte-identical messages, run after run",
          a and a == b, f"{len(a)} vs {len(b)} messages")
    check("same octets: another seed gives other messages", a and not set(a) & set(c))
    dry = prank("--seed", "11", "--json", "--dry-run")
    check("same octets: --dry-run shows the Message-IDs a run sends",
          [m["message_id"] for m in messages(dry)] == [m["message_id"] for m in messages(pa)])
    multipart = [o for o in a if b"boundary=" in o]
    check("same octets: the example has multipart messages (boundaries are fixed too)",
          multipart, str(len(multipart)))
    newest = max(os.stat(p).st_mtime for p in [CONF, os.path.join(os.path.dirname(CONF), "victims.txt")]
                 + glob.glob(os.path.join(os.path.dirname(os.path.dirname(CONF)), "templates", "*")))
    dates = {email.message_from_bytes(o, policy=email.policy.default)["Date"].datetime.timestamp()
             for o in a}
    check("same octets: dated by the newest of the campaign's files",
          dates == {float(int(newest))}, f"{dates} vs {newest}")
    for label, extra, env, wanted in (
            ("--date", ["--date", "2026-04-01T09:00:00Z"], None, "Wed, 01 Apr 2026 09:00:00 +0000"),
            ("SOURCE_DATE_EPOCH", [], {"SOURCE_DATE_EPOCH": "1775034000"},
             "Wed, 01 Apr 2026 09:00:00 +0000")):
        box = os.path.join(tmp, "dated-" + label)
        proc = prank("--seed", "11", *extra, "--via", f"maildir:{box}", env=env)
        got = {email.message_from_bytes(o, policy=email.policy.default)["Date"]
               for o in maildir_octets(box)}
        check(f"same octets: {label} dates every message", proc.returncode == 0 and got == {wanted},
              f"{err(proc)} {got}")
    for label, extra, env in (("bad --date", ["--date", "soon"], None),
                              ("bad SOURCE_DATE_EPOCH", [], {"SOURCE_DATE_EPOCH": "soon"})):
        proc = prank("--seed", "11", *extra, "--dry-run", env=env)
        check(f"same octets: {label} is a usage error (64)",
              proc.returncode == 64 and "soon" in proc.stderr.decode(), err(proc))


def received_victims(server):
    """recipient -> number of messages, witnesses left out."""
    counts = {}
    for _, rcpts, _ in server.received:
        for r in rcpts:
            if r not in WITNESSES:
                counts[r] = counts.get(r, 0) + 1
    return counts


def wait_for(condition, seconds=30):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


def journal_delivered(path):
    try:
        with open(path, encoding="utf-8") as f:
            return sum(1 for line in f if '"delivered"' in line)
    except FileNotFoundError:
        return 0


def test_resume(tmp, server, port, sig, k):
    journal = os.path.join(tmp, f"journal-{sig.name}")
    args = ["--seed", "11", "--json", "--journal", journal, "--via", f"smtp://127.0.0.1:{port}"]
    plan = messages(prank("--seed", "11", "--json", "--dry-run"))
    server.received.clear()
    server.stall_after = k
    first = subprocess.Popen([FARCEUR, "prank", "--config", CONF, *args],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env={k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"})
    # k messages stored and journaled, the next one held at MAIL FROM: kill.
    stalled = wait_for(lambda: len(server.received) == k and journal_delivered(journal) == k)
    first.send_signal(sig)
    if sig != signal.SIGKILL:
        # the first signal lets the message in flight finish: it is held at
        # MAIL FROM, so a second one abandons it (data/doc/exit-status.md)
        time.sleep(0.3)
        first.send_signal(sig)
    _, first_err = first.communicate()
    first_err = first_err.decode(errors="replace")
    check(f"resume ({sig.name}): the first run was stopped after {k} messages",
          stalled and first.returncode == (-sig if sig == signal.SIGKILL else 128 + sig),
          f"{len(server.received)} received, {journal_delivered(journal)} journaled, "
          f"exit {first.returncode}")
    if sig != signal.SIGKILL:
        check(f"resume ({sig.name}): the signal is reported, with the exit status",
              f"stopped by {sig.name}: exit {128 + sig}" in first_err, first_err)
    server.stall_after = None
    second = prank(*args)
    got = messages(second)
    check(f"resume ({sig.name}): the second run exits 0", second.returncode == 0, err(second))
    check(f"resume ({sig.name}): it skips the {k} delivered (journal) and sends the other {len(plan) - k}",
          sorted(m["result"] for m in got) == sorted(["skipped"] * k + ["delivered"] * (len(plan) - k)),
          str([m["result"] for m in got]))
    check(f"resume ({sig.name}): the server got each message once, no more",
          len(server.received) == len(plan), f"{len(server.received)} vs {len(plan)}")
    ids = [str(email.message_from_bytes(c, policy=email.policy.default)["Message-ID"]).strip("<>")
           for _, _, c in server.received]
    check(f"resume ({sig.name}): the Message-IDs are the campaign's, none twice",
          sorted(ids) == sorted(m["message_id"] for m in plan), str(ids))
    counts = received_victims(server)
    wanted = {r for m in plan for r in m["envelope"]["rcpt_to"] if r not in WITNESSES}
    check(f"resume ({sig.name}): every victim got exactly one message",
          set(counts) == wanted and set(counts.values()) == {1}, str(counts))
    check(f"resume ({sig.name}): each skipped message says so per recipient",
          all(r["status"] == "accepted" for m in got if m["result"] == "skipped" for r in m["rcpts"]))
    third = prank(*args)
    check(f"resume ({sig.name}): a third run sends nothing and exits 0",
          third.returncode == 0 and len(server.received) == len(plan)
          and {m["result"] for m in messages(third)} == {"skipped"}, err(third))
    human = prank(*args[:2], *args[3:])
    out = human.stdout.decode()
    check(f"resume ({sig.name}): the text report says what the journal settled",
          human.returncode == 0 and f"{len(plan)} of {len(plan)} messages settled by an earlier run" in out
          and "result    skipped: settled by an earlier run (journal)" in out, out[-400:])


def test_retry(tmp, server, port):
    server.received.clear()
    server.defer_first = True
    server.deferred.clear()
    via = ["--via", f"smtp://127.0.0.1:{port}"]
    proc = prank("--seed", "5", "--json", "--retry-delay", "0.05", *via)
    got = messages(proc)
    check("4xx: retried, exit 0", proc.returncode == 0, err(proc))
    check("4xx: every message delivered on its second attempt",
          got and all(m["result"] == "delivered" and m["attempts"] == 2 for m in got),
          str([(m["result"], m["attempts"]) for m in got]))
    check("4xx: per-recipient outcomes are the final 250",
          all(r["status"] == "accepted" and r["code"] == 250 for m in got for r in m["rcpts"]))
    check("4xx: the server stored each message once", len(server.received) == len(got),
          f"{len(server.received)} vs {len(got)}")
    server.deferred.clear()
    proc = prank("--seed", "5", "--json", "--retries", "0", *via)
    got = messages(proc)
    check("4xx with --retries 0: exit 75, every message deferred",
          proc.returncode == 75 and got
          and all(m["result"] == "failed" and m["state"] == "deferred" for m in got), err(proc))
    check("4xx with --retries 0: each recipient listed, deferred with the server's reply",
          got and all(len(m["rcpts"]) == len(m["envelope"]["rcpt_to"]) for m in got)
          and all(r["status"] == "deferred" and (r["code"] == 451 or "451" in r["text"])
                  for m in got for r in m["rcpts"]),
          json.dumps(got[0]["rcpts"] if got else None))
    server.deferred.clear()
    proc = prank("--seed", "5", "--retry-delay", "0.05", *via)
    server.defer_first = False
    out = proc.stdout.decode()
    check("4xx: the text report counts the attempts",
          proc.returncode == 0 and out.count("(2 attempts)") == len(got) > 0, out[-600:])


def test_transcript(tmp, server, port):
    server.received.clear()
    path = os.path.join(tmp, "transcript")
    proc = prank("--seed", "5", "--json", "--transcript", path, "--via", f"smtp://127.0.0.1:{port}")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    n = len(messages(proc))
    check("transcript: exit 0", proc.returncode == 0, err(proc))
    check("transcript: the dialogue, C: and S: lines",
          any(l.startswith("S: 220") for l in lines) and any(l.startswith("C: EHLO ") for l in lines)
          and sum(l.startswith("C: MAIL FROM:<") for l in lines) == n
          and sum(l == "S: 250 2.0.0 stored" for l in lines) == n
          and lines[-2:] and any(l.startswith("C: QUIT") for l in lines[-3:]),
          "\n".join(lines[:12]))
    check("transcript: one session, pipelined across messages",
          sum(l.startswith("C: EHLO ") for l in lines) == 1, str(sum(l.startswith("C: EHLO") for l in lines)))
    check("transcript: one connection, no session tags", not any(l.startswith("#") for l in lines))
    proc = prank("--seed", "5", "--json", "--transcript", path, "--connections", "2",
                 "--via", f"smtp://127.0.0.1:{port}")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    tags = {l.split(" ", 1)[0] for l in lines}
    check("transcript: two connections, each line tagged #1 or #2",
          proc.returncode == 0 and tags == {"#1", "#2"}, str(tags))
    groups = [r["group"] for r in map(json.loads, proc.stdout.decode().splitlines()) if "group" in r]
    check("two connections: the groups are still reported in order",
          groups == sorted(groups) and len(groups) > 1, str(groups))

    server.received.clear()
    proc = prank("--seed", "5", "--json", "--transcript", path, "--max-per-session", "2",
                 "--via", f"smtp://127.0.0.1:{port}")
    with open(path, encoding="utf-8") as f:
        lines = f.read().splitlines()
    n = len(messages(proc))
    sessions = sum(l.startswith("C: EHLO ") for l in lines)
    check("--max-per-session 2: a new session every 2 messages, each message once",
          proc.returncode == 0 and n > 2 and sessions == (n + 1) // 2
          and len(server.received) == n, f"{n} messages, {sessions} sessions, "
          f"{len(server.received)} received")



def test_timeout(tmp, server, port):
    server.stall_after = 0
    started = time.monotonic()
    proc = prank("--seed", "5", "--json", "--timeout", "1", "--retries", "0",
                 "--via", f"smtp://127.0.0.1:{port}")
    elapsed = time.monotonic() - started
    server.stall_after = None
    check("--timeout: a server that does not answer is given up on, exit 75",
          proc.returncode == 75 and elapsed < 30, f"{err(proc)} after {elapsed:.1f} s")


def test_progress(tmp, server, port):
    """On a terminal, stderr shows the progress line (messages done of all)."""
    import pty
    server.received.clear()
    master, slave = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH"}
    env["TERM"] = "xterm"
    proc = subprocess.Popen([FARCEUR, "prank", "--config", CONF, "--seed", "5", "--json",
                             "--via", f"smtp://127.0.0.1:{port}"],
                            stdout=subprocess.PIPE, stderr=slave, env=env)
    os.close(slave)
    out, _ = proc.communicate(timeout=120)
    seen = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        seen += chunk
    os.close(master)
    n = len([m for line in out.decode().splitlines() for m in json.loads(line).get("messages", [])])
    check("progress: a terminal gets the progress line, erased before the report",
          proc.returncode == 0 and b"\r\x1b[K" in seen and f"/{n}  ".encode() in seen, repr(seen[:200]))


def main():
    server = Server()
    port = free_port()
    controller = Controller(server, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with tempfile.TemporaryDirectory(prefix="farceur-prank-delivery-") as tmp:
            test_same_octets(tmp)
            test_resume(tmp, server, port, signal.SIGKILL, 2)
            test_resume(tmp, server, port, signal.SIGTERM, 4)
            test_retry(tmp, server, port)
            test_transcript(tmp, server, port)
            test_timeout(tmp, server, port)
            test_progress(tmp, server, port)
    finally:
        server.stall_after = None
        controller.stop()
    return report()


if __name__ == "__main__":
    sys.exit(main())
