# SPDX-License-Identifier: LGPL-2.1-or-later
"""exec: targets in errors (issue 10, finding 12): named by their command
("exec:COMMAND", never 'stream'); a command that does not exist is reported
as such (69), not as a connection closed in the greeting state (75); a
command that ends before greeting says with what status."""
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, fail


def send(via, msg):
    return subprocess.run([FARCEUR, "send", "--via", via, "--retries", "0", str(msg)],
                          capture_output=True, text=True, timeout=60)


with tempfile.TemporaryDirectory(prefix="farceur-exec-") as tmp:
    msg = pathlib.Path(tmp) / "m.eml"
    msg.write_bytes(b"From: a@a.test\r\nTo: b@b.test\r\nSubject: exec\r\n\r\nbody\r\n")

    r = send("exec:/nonexistent/sendmail -bs", msg)
    out = r.stdout + r.stderr
    if r.returncode != 69 or "exec:/nonexistent/sendmail -bs: command not found" not in out:
        fail(f"a missing command: exit {r.returncode}, wanted 69 and 'command not found':\n{out}")
    if "greeting state" in out or "'stream'" in out:
        fail(f"a missing command is not a closed connection:\n{out}")

    r = send("exec:exit 3", msg)
    out = r.stdout + r.stderr
    wanted = ("smtp server 'exec:exit 3': connection closed in greeting state; "
              "the command exited with status 3")
    if r.returncode != 75 or wanted not in out:
        fail(f"a command that ends at once: exit {r.returncode}, wanted 75 and {wanted!r}:\n{out}")

    r = send("exec:printf '554 5.3.2 not today\\r\\n'; cat >/dev/null", msg)
    out = r.stdout + r.stderr
    if r.returncode != 69 or "smtp server 'exec:printf" not in out or "'stream'" in out:
        fail(f"a refused greeting names the command: exit {r.returncode}:\n{out}")
print("ok: exec: named by its command; a missing command said so")
