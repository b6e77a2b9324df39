# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers of the catch integration tests (run by /usr/bin/python3).

Catch starts `farceur catch` on free loopback ports (port 0: it prints the
ones it got), in a temporary folder, with --json and --transcript; it reads
what catch prints while it runs, stops it with a signal, and reads what it
stored.  Tap collects checks and prints TAP.  A server or client that
cannot run here fails the test with the reason, never skips it.
"""
import email
import email.policy
import json
import os
import pathlib
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

FARCEUR = os.environ["FARCEUR"]
TESTS = pathlib.Path(os.environ.get("G_TEST_SRCDIR", pathlib.Path(__file__).parent.parent))
ROOT = TESTS.parent


class Tap:
    """Checks, printed as TAP at the end; a failed check shows its detail."""

    def __init__(self):
        self.results = []

    def check(self, label, ok, detail=""):
        self.results.append((bool(ok), label, str(detail)))
        return bool(ok)

    def equal(self, label, got, want):
        return self.check(label, got == want, f"got {got!r}\nwant {want!r}")

    def note(self, text):
        """A comment shown in the test's log, among the checks."""
        self.results.append((None, text, ""))

    def done(self):
        print(f"1..{sum(1 for ok, _, _ in self.results if ok is not None)}")
        failed = n = 0
        for ok, label, detail in self.results:
            if ok is None:
                for line in label.splitlines():
                    print(f"# {line}")
                continue
            n += 1
            print(f"{'ok' if ok else 'not ok'} {n} - {label}")
            if not ok:
                failed += 1
                for line in detail.splitlines()[:60]:
                    print(f"# {line}")
        sys.stdout.flush()
        return 1 if failed else 0


def fail(why):
    print(f"Bail out! {why}")
    sys.exit(1)


class Catch:
    """`farceur catch ARGS` on 127.0.0.1:0 (and smtps://127.0.0.1:0 with
    tls=True), storing into DIR/caught; a with block stops it (SIGTERM)."""

    def __init__(self, *args, listen=None, store=None, tls=False, json_out=True, cwd=None):
        self.tmp = tempfile.TemporaryDirectory(prefix="farceur-catch-")
        self.dir = pathlib.Path(self.tmp.name)
        self.maildir = self.dir / "caught"
        self.transcript_path = self.dir / "transcript"
        listen = list(listen or ["127.0.0.1:0"]) + (["smtps://127.0.0.1:0"] if tls else [])
        argv = [FARCEUR, "catch", "--to", store or f"maildir:{self.maildir}",
                "--transcript", str(self.transcript_path)]
        for address in listen:
            argv += ["--listen", address]
        if json_out:
            argv.append("--json")
        self.argv = argv + list(args)
        self.out_lines, self.err_lines = [], []
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     cwd=cwd or self.dir)
        self._readers = [threading.Thread(target=self._read, args=(self.proc.stdout, self.out_lines),
                                          daemon=True),
                         threading.Thread(target=self._read, args=(self.proc.stderr, self.err_lines),
                                          daemon=True)]
        for reader in self._readers:
            reader.start()
        self._wait_ready()

    @staticmethod
    def _read(stream, lines):
        for raw in stream:
            lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

    def _wait_ready(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while not any(line.endswith("Ctrl-C stops") for line in list(self.err_lines)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                time.sleep(0.2)
                fail(f"farceur catch did not start (exit {self.proc.poll()}): "
                     f"{' | '.join(self.err_lines)}")
            time.sleep(0.02)
        self.ports = {}
        for line in self.err_lines:
            m = re.search(r"listening on (\w+)://[^ ]*:(\d+)$", line)
            if m:
                self.ports.setdefault(m.group(1), int(m.group(2)))
        self.port = self.ports.get("smtp") or self.ports.get("lmtp")
        m = re.search(r"fingerprint ([0-9A-F:]+)", "\n".join(self.err_lines))
        self.fingerprint = m.group(1) if m else None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()
        self.tmp.cleanup()

    def stop(self, sig=signal.SIGTERM, timeout=30):
        """Signals catch and waits; returns its exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait(timeout)

    def wait(self, timeout=30):
        try:
            status = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            fail(f"farceur catch did not stop within {timeout} s")
        for reader in self._readers:
            reader.join(5)
        return status

    @property
    def stderr(self):
        return "\n".join(self.err_lines)

    @property
    def records(self):
        return [json.loads(line) for line in list(self.out_lines) if line.startswith("{")]

    def wait_lines(self, n, timeout=20.0):
        deadline = time.monotonic() + timeout
        while len(self.out_lines) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return list(self.out_lines)

    def stored(self):
        """[(path, bytes)] of the Maildir's new/, in name order."""
        new = self.maildir / "new"
        return [(p, p.read_bytes()) for p in sorted(new.iterdir())] if new.exists() else []

    def leftovers(self):
        """Files left in tmp/ (a message half written)."""
        tmp = self.maildir / "tmp"
        return sorted(tmp.iterdir()) if tmp.exists() else []

    def transcript(self):
        return self.transcript_path.read_text(errors="replace") if self.transcript_path.exists() else ""


def parse(raw):
    """A stored message, read by Python's email package."""
    return email.message_from_bytes(raw, policy=email.policy.default)


def body_after_header(raw):
    """The stored octets after the envelope and Received: lines catch wrote."""
    head, _, rest = raw.partition(b"\n")
    assert head.startswith(b"Return-Path: <"), head
    while rest.startswith((b"Envelope-to:", b"Received:", b" ", b"\t")):
        rest = rest.partition(b"\n")[2]
    return rest


def trace(path):
    """`farceur trace --json` of a stored message: its record."""
    proc = subprocess.run([FARCEUR, "trace", "--json", str(path)], capture_output=True, timeout=60)
    if proc.returncode != 0:
        raise AssertionError(f"farceur trace {path}: exit {proc.returncode}: {proc.stderr!r}")
    return json.loads(proc.stdout)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Raw:
    """A raw client socket: send octets, read replies (CRLF lines, multi-line joined)."""

    def __init__(self, port, timeout=10.0):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data if isinstance(data, bytes) else data.encode())

    def line(self):
        while b"\r\n" not in self.buf:
            try:
                chunk = self.sock.recv(65536)
            except (ConnectionResetError, socket.timeout):
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line.decode("utf-8", "replace")

    def reply(self):
        """(code, last line) of the next reply; (None, None) when the server closed."""
        while True:
            line = self.line()
            if line is None:
                return None, None
            if len(line) >= 4 and line[3] == " ":
                return int(line[:3]), line
            if len(line) < 4 or line[3] != "-":
                return None, line

    def code(self):
        return self.reply()[0]

    def closed(self, timeout=5.0):
        """True when the server closes without sending anything more."""
        self.sock.settimeout(timeout)
        try:
            return self.sock.recv(1) == b"" and not self.buf
        except ConnectionResetError:
            return not self.buf
        except socket.timeout:
            return False

    def close(self):
        self.sock.close()
