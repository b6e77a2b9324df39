# SPDX-License-Identifier: LGPL-2.1-or-later
"""Shared helpers of the send integration tests: real servers on loopback.

Run by /usr/bin/python3 (Debian's, with python3-aiosmtpd).  A server that
cannot run here makes the test fail with the reason, never skip.
"""
import email
import email.policy
import json
import os
import pathlib
import subprocess
import sys
import tempfile

SRCDIR = pathlib.Path(os.environ.get("G_TEST_SRCDIR", pathlib.Path(__file__).parent.parent))
SERVERS = SRCDIR / "servers"
FARCEUR = os.environ.get("FARCEUR", "farceur")


def fail(why):
    print(f"FAIL: {why}", file=sys.stderr)
    sys.exit(1)


class Postfix:
    """A private Postfix instance (tests/servers/postfix.sh) for a with block;
    with sasl=(user, password) it offers AUTH through Cyrus SASL; main_cf
    ("NAME=VALUE ...") adds settings to its main.cf."""

    def __init__(self, sasl=None, main_cf=None):
        self.sasl = sasl
        self.main_cf = main_cf

    def __enter__(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="farceur-postfix-")
        self.base = pathlib.Path(self.tmp.name)
        env = dict(os.environ)
        if self.sasl:
            env["POSTFIX_SASL_USER"], env["POSTFIX_SASL_PASSWORD"] = self.sasl
        if self.main_cf:
            env["POSTFIX_MAIN_CF"] = self.main_cf
        r = subprocess.run([str(SERVERS / "postfix.sh"), "start", str(self.base)],
                           capture_output=True, text=True, env=env)
        if r.returncode != 0:
            self.tmp.cleanup()
            fail(f"cannot start a private Postfix (exit {r.returncode}): {r.stderr.strip()}")
        self.port = int(r.stdout.strip())
        self.maildir = self.base / "mail" / "inbox"
        return self

    def __exit__(self, *exc):
        subprocess.run([str(SERVERS / "postfix.sh"), "stop", str(self.base)])
        self.tmp.cleanup()

    def log(self):
        try:
            return (self.base / "log" / "maillog").read_text(errors="replace")
        except OSError:
            return ""

    def wait_delivered(self, count, timeout=20.0):
        """Waits until COUNT messages sit in the Maildir; returns them parsed."""
        import time
        deadline = time.monotonic() + timeout
        while True:
            files = sorted((self.maildir / "new").glob("*")) if (self.maildir / "new").exists() else []
            if len(files) >= count or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if len(files) != count:
            fail(f"expected {count} delivered messages, found {len(files)}\n{self.log()[-3000:]}")
        return [email.message_from_bytes(f.read_bytes(), policy=email.policy.default) for f in files]


class Aiosmtpd:
    """tests/servers/aiosmtpd-server.py storing into OUTDIR, started with
    ARGS, under the command PREFIX (say, `ip netns exec NS`); stop() ends it."""

    def __init__(self, outdir, *args, prefix=()):
        self.outdir = outdir
        self.proc = subprocess.Popen([*prefix, "/usr/bin/python3",
                                      str(SERVERS / "aiosmtpd-server.py"), str(outdir), *args],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            fail("aiosmtpd-server.py did not start (python3-aiosmtpd or openssl missing?)")
        info = json.loads(line)
        self.port, self.ca = info["port"], info["ca"]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def messages(self):
        return sorted(self.outdir.glob("*.eml"))

    def auth_log(self):
        log = self.outdir / "auth.log"
        return log.read_text() if log.exists() else ""


class SessionServer:
    """tests/send/session-server.py storing into OUTDIR (made if need be),
    started with ARGS; stop() ends it, events() reads its log."""

    def __init__(self, outdir, *args):
        outdir.mkdir(exist_ok=True)
        self.outdir = outdir
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", str(pathlib.Path(__file__).parent / "session-server.py"),
             str(outdir), *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line:
            fail("session-server.py did not start (python3-aiosmtpd missing?)")
        self.port = json.loads(line)["port"]

    def stop(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=10)

    def events(self):
        log = self.outdir / "log"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def messages(self):
        return [e for e in self.events() if e["event"] == "message"]
