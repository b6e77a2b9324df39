# SPDX-License-Identifier: LGPL-2.1-or-later
"""Interactive first contact (data/doc/smtp.md, Timeouts): a listener on
loopback that accepts connections and never says a word (a web port, say).

- on a terminal (standard error on a pseudo-terminal made here), a line says
  what farceur waits for: "waiting for the greeting from 127.0.0.1:PORT, 2 s…";
- the error says to check that the port speaks SMTP, and the exit is 69;
- standard error not a terminal: no such line;
- without --timeout the greeting wait is 30 s, not RFC 5321's 5 minutes."""
import os
import pathlib
import pty
import select
import socket
import subprocess
import tempfile
import time

from harness import FARCEUR, fail


def run_on_pty(argv):
    """Runs ARGV with standard error on a pseudo-terminal; (exit, its text)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=slave)
    os.close(slave)
    out = b""
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the child's side is closed
                chunk = b""
            if chunk:
                out += chunk
                continue
        if proc.poll() is not None and not ready:
            break
        if ready and not chunk:
            break
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, out.decode(errors="replace")


with tempfile.TemporaryDirectory(prefix="farceur-first-") as tmp, \
        socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
    tmp = pathlib.Path(tmp)
    msg = tmp / "m.eml"
    msg.write_bytes(b"From: a@a.test\r\nTo: b@b.test\r\nSubject: hello?\r\n\r\nanyone?\r\n")
    silent.bind(("127.0.0.1", 0))
    silent.listen(16)  # accepted by the kernel, never answered
    port = silent.getsockname()[1]
    base = [FARCEUR, "send", "--via", f"smtp://127.0.0.1:{port}", "--retries", "0"]

    status, text = run_on_pty([*base, "--timeout", "2", str(msg)])
    why = f"\nexit {status}, standard error:\n{text}"
    if f"waiting for the greeting from 127.0.0.1:{port}, 2 s\u2026" not in text:
        fail(f"on a terminal, a line should say what farceur waits for{why}")
    if "no greeting in 2 s: check that this port speaks SMTP" not in text:
        fail(f"the error should suggest checking the port{why}")
    if status != 69:
        fail(f"a port that never greets: exit {status}, wanted 69{why}")

    r = subprocess.run([*base, "--timeout", "2", str(msg)], capture_output=True, text=True,
                       timeout=60)
    if "waiting for" in r.stderr or r.returncode != 69:
        fail(f"not a terminal: no waiting line, exit 69; got {r.returncode}:\n{r.stderr}")

    started = time.monotonic()
    r = subprocess.run([*base, str(msg)], capture_output=True, text=True, timeout=100)
    took = time.monotonic() - started
    if r.returncode != 69 or "no greeting in 30 s" not in r.stderr or not 25 <= took <= 60:
        fail(f"default greeting wait: exit {r.returncode} after {took:.1f} s, wanted 69 after "
             f"30 s:\n{r.stderr}")
print("ok: first contact announced on a terminal, a silent port named as such, 30 s default")
