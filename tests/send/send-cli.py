# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur send's command line: usage errors, validation of every input
before anything is sent, --dry-run, stdin, the exit statuses, and the
progress line, shown only when stderr is a terminal (a pty here)."""
import os
import pathlib
import pty
import re
import subprocess
import tempfile

from harness import FARCEUR, Aiosmtpd, fail


def send(*args, stdin=None):
    return subprocess.run([FARCEUR, "send", *args], capture_output=True, text=True, input=stdin)


def send_on_pty(*args):
    """Runs farceur send with stderr on a pseudo-terminal; returns (status, what it showed)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([FARCEUR, "send", *args], stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the last holder of the terminal is gone
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return proc.wait(), shown.decode(errors="replace")


PROGRESS = re.compile(r"\r\x1b\[K(\d+)/(\d+)  (\d+) msg/s  (\d+) failed  ETA (\d+):(\d\d)")


def check_progress(tmp, count):
    """COUNT messages to an aiosmtpd that waits 10 ms before each 250 (one
    connection: the run lasts COUNT x 10 ms whatever the machine, long
    enough for several updates at ten a second; a Maildir, written in
    groups, can be done before the second): the line counts up towards
    COUNT with nothing failed, is erased before the summary, and never
    appears with --quiet or off a terminal."""
    d = tmp / "many"
    d.mkdir()
    for i in range(count):
        (d / f"{i:04d}.eml").write_text(GOOD.format(i))
    received = tmp / "slow-server"
    received.mkdir()
    server = Aiosmtpd(received, "--tls", "none", "--delay-dot", "0.01")
    try:
        status, shown = send_on_pty("--connections", "1", "--via",
                                    f"smtp://127.0.0.1:{server.port}", str(d))
    finally:
        server.stop()
    lines = PROGRESS.findall(shown)
    done = [int(m[0]) for m in lines]
    if status != 0 or len(lines) < 3 or done != sorted(done) or done[-1] > count:
        fail(f"progress on a terminal: exit {status}, lines {lines[:3]}...{lines[-3:]}\n{shown[-500:]!r}")
    if len(server.messages()) != count:
        fail(f"progress run: the server holds {len(server.messages())} messages, not {count}")
    if any(m[1] != str(count) or m[3] != "0" for m in lines):
        fail(f"progress: wrong total or failures: {lines}")
    summary = shown.rsplit("\x1b[K", 1)[-1]
    if not summary.startswith(f"farceur send: {count} messages"):
        fail(f"progress: the summary does not follow an erased line: {summary!r}")
    status, shown = send_on_pty("--quiet", "--via", f"maildir:{tmp / 'quiet-out'}", str(d))
    if status != 0 or "msg/s" in shown or "\x1b" in shown:
        fail(f"--quiet on a terminal still shows progress: {shown!r}")
    r = send("--via", f"maildir:{tmp / 'pipe-out'}", str(d))
    if r.returncode != 0 or "\x1b" in r.stderr or "msg/s" in r.stderr:
        fail(f"progress written to a pipe: {r.stderr[:300]!r}")


def expect(r, status, needle, what):
    if r.returncode != status or needle not in r.stderr + r.stdout:
        fail(f"{what}: exit {r.returncode} (wanted {status}), output lacks {needle!r}:\n"
             f"{r.stdout}\n{r.stderr}")


GOOD = "From: Alice <alice@example.com>\nTo: bob@example.org\nBcc: eve@example.org\nSubject: {}\n\nhi\n"

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    d = tmp / "in"
    d.mkdir()
    (d / "1.eml").write_text(GOOD.format(1))
    (d / "2.eml").write_text("From: alice@example.com\nTo: nobody\nSubject: bad\n\nhi\n")
    (d / "3.eml").write_text(GOOD.format(3))
    out = tmp / "out"

    expect(send(str(d)), 64, "--via", "no target")
    expect(send("--via", f"maildir:{out}"), 64, "no input", "no input")
    expect(send("--via", f"maildir:{out}", str(tmp / "missing.eml")), 66, "missing.eml", "missing")
    expect(send("--via", "gopher://x", str(d / "1.eml")), 64, "gopher://x", "bad URL")
    r = send("--via", f"maildir:{out}", str(d))
    expect(r, 65, "2.eml", "invalid recipient")
    if "nobody" not in r.stderr or out.exists():
        fail(f"an invalid input must stop everything before delivery: {r.stderr}")

    (d / "2.eml").unlink()
    r = send("--dry-run", "--via", "smtp://192.0.2.1:25", str(d))
    expect(r, 0, "RCPT TO:<eve@example.org>", "dry run")
    if "Bcc:" in r.stdout or "MAIL FROM:<alice@example.com>" not in r.stdout:
        fail(f"dry run shows the wrong envelope or leaks Bcc:\n{r.stdout}")
    if "From: Alice <alice@example.com>\nTo: bob@example.org\nSubject: 1\n\nhi\n" not in r.stdout:
        fail(f"dry run does not show the stored message less its Bcc:\n{r.stdout}")

    r = send("--via", f"maildir:{out}", "--insecure", "--from", "bounce@example.net", "-",
             stdin=GOOD.format("stdin"))
    expect(r, 0, "warning: --insecure", "stdin")
    stored = list((out / "new").iterdir())
    text = stored[0].read_text() if len(stored) == 1 else ""
    if "Return-Path: <bounce@example.net>" not in text or "Bcc:" in text or "eve@example.org" not in text:
        fail(f"stdin delivery stored {len(stored)} files:\n{text}")

    r = send("--via", "smtp://someone@127.0.0.1:9", str(d / "1.eml"))
    expect(r, 78, "FARCEUR_PASSWORD", "user without password")
    check_progress(tmp, 100)
    print("ok: usage 64, missing 66, invalid input 65 before any delivery, dry run, stdin, 78, "
          "progress line on a terminal only")
