#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur catch under load from Postfix's smtp-source: N messages of 4 KB
over 20 connections at once (smtp-source -d -s 20), durably stored, while
a second client holds an idle session open: every message is stored once,
none lost, none duplicated (counted, and by Message-ID), nothing left in
tmp/, one record per message, and the idle session still answers.

N is 5,000 here: the issue's 20,000 took 22 s in all on a 2-core machine,
44 to 114 s in the ASan build, the longest test of the suite; run it with
CATCH_LOAD_MESSAGES=20000 (README, Benchmarks: 1,267 msg/s).
tools/bench/catch times catch against reference servers.  TAP."""
import collections
import os
import shutil
import subprocess
import sys
import time

from harness import Catch, Raw, Tap, parse

tap = Tap()
N = int(os.environ.get("CATCH_LOAD_MESSAGES", "5000"))

if shutil.which("smtp-source") is None and not os.path.exists("/usr/sbin/smtp-source"):
    print("Bail out! smtp-source missing: the Debian package postfix has it (tools/setup)")
    sys.exit(1)
source = shutil.which("smtp-source") or "/usr/sbin/smtp-source"

with Catch("--hostname", "catch.test") as catch:
    idle = Raw(catch.port)
    idle.code()
    idle.send("EHLO idle.test\r\n")
    idle.reply()
    started = time.monotonic()
    proc = subprocess.run([source, "-d", "-s", "20", "-m", str(N), "-l", "4096", "-M", "load.test",
                           "-f", "load@example.org", "-t", "sink@example.com",
                           f"127.0.0.1:{catch.port}"], capture_output=True, timeout=600)
    elapsed = time.monotonic() - started
    tap.equal("smtp-source: exit 0", proc.returncode, 0)
    tap.note(f"{N} messages over 20 connections in {elapsed:.1f} s: {N / elapsed:.0f} msg/s")
    idle.send("NOOP\r\n")
    tap.equal("the idle session still answers", idle.code(), 250)
    idle.send("QUIT\r\n")
    tap.equal("and quits", idle.code(), 221)
    tap.equal("SIGTERM: exit 0", catch.stop(), 0)
    stored = catch.stored()
    tap.equal("every message stored", len(stored), N)
    ids = collections.Counter(str(parse(octets)["Message-Id"]) for _, octets in stored)
    tap.equal("no Message-ID twice", [i for i, n in ids.items() if n > 1], [])
    tap.equal("as many Message-IDs as messages", len(ids), N)
    tap.equal("nothing left in tmp/", catch.leftovers(), [])
    tap.equal("one record per message", len(catch.records), N)
    tap.equal("the records name every file once", sorted(r["location"] for r in catch.records),
              sorted(str(p) for p, _ in stored))
    sizes = {len(octets) for _, octets in stored}
    tap.check("every message whole (4 KB body each)", min(sizes) > 4096, sizes)
sys.exit(tap.done())
