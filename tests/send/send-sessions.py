# SPDX-License-Identifier: LGPL-2.1-or-later
"""Sessions recover (data/doc/smtp.md, Sessions), against aiosmtpd servers
(tests/send/session-server.py, no PIPELINING, like OpenSMTPD):

- a per-session limit: "452 4.5.3 Too many recipients" (OpenSMTPD's words)
  or "452 too many messages" to MAIL after 3 messages in a session;
- a 421 to MAIL in the middle of the batch, the connection closed;
- a server that drops the connection after 2 messages in a session, and
  --max-per-session 2, which never lets it come to that.

Every message is delivered exactly once, the exit status is 0, and the
sessions are the ones expected.  A server that gives the limit reply to the
first MAIL of every session has no session limit: the message is deferred
(75) after one try, not moved from session to session."""
import os
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, SessionServer, fail

N = 10


def run_case(tmp, name, server_args, send_args, check):
    out = tmp / name
    out.mkdir()
    srv = SessionServer(out, *server_args)
    transcript = tmp / f"{name}.transcript"
    try:
        r = subprocess.run([FARCEUR, "send", "--via", f"smtp://127.0.0.1:{srv.port}",
                            "--retries", "0", "--timeout", "10", "--transcript", str(transcript),
                            *send_args, *[str(tmp / "in" / f"{i}.eml") for i in range(N)]],
                           capture_output=True, text=True, timeout=100)
    finally:
        srv.stop()
    events = srv.events()
    text = transcript.read_text() if transcript.exists() else ""
    why = f"\n{r.stdout}{r.stderr}\nserver: {events}\ntranscript tail:\n{text[-3000:]}"
    if r.returncode != 0:
        fail(f"{name}: exit {r.returncode}{why}")
    subjects = sorted(e["subject"] for e in events if e["event"] == "message")
    wanted = sorted(f"message {i}" for i in range(N))
    if subjects != wanted:
        fail(f"{name}: delivered {subjects}, wanted each of {wanted} once{why}")
    check(name, events, text, why)


def sessions_of(events):
    return {e["session"] for e in events if e["event"] == "message"}


def check_limit(name, events, text, why):
    if not any(e["event"] == "limit" for e in events):
        fail(f"{name}: the server's limit was never reached{why}")
    per = {}
    for e in events:
        if e["event"] == "message":
            per[e["session"]] = per.get(e["session"], 0) + 1
    if max(per.values()) > 3 or len(per) < 4:
        fail(f"{name}: messages per session {per}, wanted at most 3 in at least 4 sessions{why}")
    if "goes again on a new session" not in text:
        fail(f"{name}: the transcript should say the message moved to a new session{why}")


def check_421(name, events, text, why):
    if [e["event"] for e in events].count("421") != 1 or len(sessions_of(events)) < 2:
        fail(f"{name}: one 421 and a second session expected{why}")


def check_max(name, events, text, why):
    if any(e["event"] == "drop" for e in events):
        fail(f"{name}: --max-per-session 2 should end sessions before the server drops{why}")
    if len(sessions_of(events)) != N // 2:
        fail(f"{name}: {len(sessions_of(events))} sessions, wanted {N // 2}{why}")
    if "goes again" in text:
        fail(f"{name}: no message should have needed a new session{why}")


def check_drop(name, events, text, why):
    if not any(e["event"] == "drop" for e in events):
        fail(f"{name}: the server never dropped a connection{why}")


with tempfile.TemporaryDirectory(prefix="farceur-sessions-") as tmp:
    tmp = pathlib.Path(tmp)
    (tmp / "in").mkdir()
    for i in range(N):
        (tmp / "in" / f"{i}.eml").write_bytes(
            f"From: a@a.test\r\nTo: b@b.test\r\nSubject: message {i}\r\n\r\nbody {i}\r\n".encode())
    run_case(tmp, "limit-453", ["--limit", "3"], ["-c", "1"], check_limit)
    run_case(tmp, "limit-words", ["--limit", "3", "--limit-reply", "452 too many messages"],
             ["-c", "2"], check_limit)
    run_case(tmp, "421", ["--close-at", "4"], ["-c", "2"], check_421)
    run_case(tmp, "max-per-session", ["--drop-after", "2"],
             ["-c", "1", "--max-per-session", "2"], check_max)
    run_case(tmp, "drop", ["--drop-after", "2"], ["-c", "1"], check_drop)
    out = tmp / "no-limit"
    out.mkdir()
    srv = SessionServer(out, "--limit", "-1")
    try:
        r = subprocess.run([FARCEUR, "send", "--via", f"smtp://127.0.0.1:{srv.port}",
                            "--retries", "0", "--transcript", str(tmp / "no-limit.transcript"),
                            str(tmp / "in" / "0.eml")], capture_output=True, text=True, timeout=60)
    finally:
        srv.stop()
    limits = [e for e in srv.events() if e["event"] == "limit"]
    text = (tmp / "no-limit.transcript").read_text()
    if r.returncode != 75 or len(limits) != 1 or "goes again" in text:
        fail(f"a limit reply to a session's first MAIL: exit {r.returncode} after {len(limits)} "
             f"MAIL, wanted 75 after 1\n{r.stdout}{r.stderr}\n{text}")
print("ok: sessions recover from limits, 421 and drops; --max-per-session")
