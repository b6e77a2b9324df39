# SPDX-License-Identifier: LGPL-2.1-or-later
"""README, Memory rules: attachments are streamed from disk.  A message with a 300 MB
attachment (a sparse file, base64 by `farceur compose --attach`) goes
through `farceur send` to Postfix's smtp-sink on loopback; the peak RSS of
the sending process must stay under 64 MB, far below the message's size.

A memory assertion, not a timing one.  Under AddressSanitizer the
quarantine of freed blocks is made small so that it measures us, not it."""
import os
import pathlib
import socket
import subprocess
import tempfile
import time

from harness import FARCEUR, fail

ATTACHMENT = 300 * 1024 * 1024
LIMIT_KB = 64 * 1024


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_sink(port):
    user = ["-u", "postfix"] if os.geteuid() == 0 else []
    try:
        sink = subprocess.Popen(["smtp-sink", *user, f"127.0.0.1:{port}", "10"])
    except OSError as e:
        fail(f"cannot run Postfix's smtp-sink (package postfix): {e}")
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return sink
        except OSError:
            time.sleep(0.1)
    sink.kill()
    fail("smtp-sink did not start listening")


with tempfile.TemporaryDirectory(prefix="farceur-big-") as tmp:
    tmp = pathlib.Path(tmp)
    big = tmp / "big.bin"
    with open(big, "wb") as f:
        f.truncate(ATTACHMENT)  # sparse: no disk, GMime reads zeros
    (tmp / "big.tmpl").write_text("Subject: big\n\nSee the attachment.\n")
    msg = tmp / "big.eml"
    r = subprocess.run([FARCEUR, "compose", "--from", "alice@example.com", "--to",
                        "bob@example.org", "--attach", str(big), "-o", str(msg),
                        str(tmp / "big.tmpl")], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"compose: exit {r.returncode}: {r.stderr}")
    if msg.stat().st_size < ATTACHMENT:
        fail(f"composed message is only {msg.stat().st_size} octets")
    big.unlink()

    port = free_port()
    sink = start_sink(port)
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
    try:
        r = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(tmp / "rss"), FARCEUR, "send",
                            "--quiet", "--via", f"127.0.0.1:{port}", str(msg)],
                           capture_output=True, text=True, cwd=tmp, env=env)
    finally:
        sink.terminate()
        sink.wait()
    if r.returncode != 0:
        fail(f"send: exit {r.returncode}: {r.stdout}\n{r.stderr}")
    rss_kb = int((tmp / "rss").read_text().split()[-1])
    print(f"message of {msg.stat().st_size} octets sent; peak RSS {rss_kb} KB")
    if rss_kb >= LIMIT_KB:
        fail(f"peak RSS {rss_kb} KB sending a {msg.stat().st_size} octet message: "
             f"not streamed (limit {LIMIT_KB} KB)")
