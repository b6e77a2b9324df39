#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`farceur send` and one `farceur prank` run against nodemailer's
`smtp-server` (npm), a server nobody here wrote (issue 10, Tests).

The package is pinned in tests/servers/smtp-server/ (package.json and
package-lock.json); it is installed here with `npm ci` into
$FARCEUR_BUILDDIR/smtp-server-npm (tests/send/meson.build sets it; else
$G_TEST_BUILDDIR) when missing or older than the lock file, and its script
server.js runs on 127.0.0.1, port 0, with:

- STARTTLS with a self-signed certificate made here by `openssl req`:
  smtp:// delivers over opportunistic TLS and says `[TLS unverified]` (human)
  and `"tls": "unverified"` (--json), also on the new session a retry opens;
  smtp+starttls:// refuses it (77, `failed`, nothing stored); with --tls-ca
  (absolute or relative) smtp+starttls:// delivers, `"tls": "verified"`;
- RCPT rules: bad* gets 550 (reported with its 550, exit 69), later* gets 451
  the first 2 times (retried and delivered, attempts >= 2, exit 0; with
  --retries 0 reported deferred with its 451, exit 75);
- AUTH PLAIN and LOGIN for one user over STARTTLS to loopback, the password
  from $FARCEUR_PASSWORD or --password-command (never argv, never the
  transcript); a wrong one exits 77, reported `failed`, not `deferred`;
- every message the server received (its octets and envelope, written by
  server.js) read back with Python's `email` and compared with what was sent:
  body octets, Subject and the other fields, no Bcc, Envelope-to,
  Return-Path, Delivered-To, X-Original-To; each recipient got it once.

Node.js 20 or later and npm must be there (the machine's: tools/setup does
not install Debian 12's nodejs, 18, too old for smtp-server 3.21): a server
that cannot be installed or started fails the test with the reason.  TAP-like lines; the
exit status says whether every check passed.
"""
import base64
import email
import email.policy
import hashlib
import json
import os
import pathlib
import select
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from harness import FARCEUR, SERVERS, SRCDIR, fail  # noqa: E402

PACKAGE = SERVERS / "smtp-server"
USER, PASSWORD = "tim", "Tanstaafl-7%q"
LATER = 2  # 451 replies server.js gives each later* address before it accepts
STRIPPED = ("Bcc", "Envelope-to", "Return-Path", "Delivered-To", "X-Original-To")

results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))
    return ok


# --- the server -----------------------------------------------------------

def node_version():
    try:
        return subprocess.run(["node", "--version"], capture_output=True, text=True,
                              timeout=30).stdout.strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return str(e)


def install():
    """npm ci of the pinned package into the build folder, unless the lock
    file there (written after a good install) is the source's.  Returns the
    node_modules folder."""
    build = os.environ.get("FARCEUR_BUILDDIR") or os.environ.get("G_TEST_BUILDDIR")
    if not build:
        fail("FARCEUR_BUILDDIR (tests/send/meson.build) or G_TEST_BUILDDIR must name the "
             "build folder where smtp-server is installed")
    cache = pathlib.Path(build) / "smtp-server-npm"
    lock = (PACKAGE / "package-lock.json").read_bytes()
    marker = cache / "installed-package-lock.json"
    if marker.exists() and marker.read_bytes() == lock \
            and (cache / "node_modules" / "smtp-server" / "package.json").exists():
        return cache / "node_modules"
    for tool in ("node", "npm"):
        if shutil.which(tool) is None:
            fail(f"{tool} is not installed: smtp-server needs Node.js 20 or later and npm "
                 "(the machine's; Debian 12's nodejs is 18)")
    version = node_version()
    major = version.lstrip("v").split(".")[0]
    if not major.isdigit() or int(major) < 20:
        fail(f"smtp-server 3.21 needs Node.js 20 or later; `node --version` says {version!r}")
    shutil.rmtree(cache, ignore_errors=True)
    cache.mkdir(parents=True)
    for name in ("package.json", "package-lock.json"):
        shutil.copy(PACKAGE / name, cache / name)
    try:
        r = subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                           cwd=cache, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        fail(f"npm ci of {PACKAGE} in {cache} took over 300 s")
    if r.returncode != 0:
        fail(f"npm ci of {PACKAGE} in {cache} failed (exit {r.returncode}):\n"
             f"{r.stdout[-2000:]}{r.stderr[-3000:]}")
    marker.write_bytes(lock)
    return cache / "node_modules"


class Server:
    """tests/servers/smtp-server/server.js storing into OUTDIR."""

    def __init__(self, modules, outdir, cert, key):
        outdir.mkdir()
        self.outdir = outdir
        self.errlog = outdir.parent / "server.stderr"
        env = dict(os.environ, NODE_PATH=str(modules), SMTP_SERVER_PASSWORD=PASSWORD)
        with open(self.errlog, "wb") as err:
            self.proc = subprocess.Popen(
                ["node", str(PACKAGE / "server.js"), str(outdir), str(cert), str(key), USER,
                 str(LATER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        line = self.proc.stdout.readline() if ready else b""
        try:
            self.port = json.loads(line)["port"]
        except (ValueError, KeyError, TypeError):
            self.proc.kill()
            self.proc.wait()
            fail(f"server.js did not start (exit {self.proc.returncode}, printed {line!r}):\n"
                 f"{self.errlog.read_text(errors='replace')[-3000:]}")

    def stop(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def messages(self):
        """[(envelope, octets)] of every message stored, in order."""
        return [(json.loads(j.read_text()), j.with_suffix(".eml").read_bytes())
                for j in sorted(self.outdir.glob("*.json"))]

    def events(self, kind):
        log = self.outdir / "events.jsonl"
        lines = log.read_text().splitlines() if log.exists() else []
        return [e for e in map(json.loads, lines) if e["event"] == kind]


# --- farceur --------------------------------------------------------------

class Run:
    def __init__(self, tmp, name, *args, password=None, cwd=None):
        self.transcript = tmp / f"{name}.transcript"
        env = {k: v for k, v in os.environ.items() if k != "FARCEUR_PASSWORD"}
        if password is not None:
            env["FARCEUR_PASSWORD"] = password
        self.argv = [FARCEUR, "send", "--timeout", "10", "--retry-delay", "0.2",
                     "--transcript", str(self.transcript), *args]
        r = subprocess.run(self.argv, capture_output=True, text=True, env=env, cwd=cwd or tmp,
                           timeout=60)
        self.code, self.out, self.err = r.returncode, r.stdout, r.stderr
        self.text = self.transcript.read_text() if self.transcript.exists() else ""

    def json(self):
        try:
            return [json.loads(line) for line in self.out.splitlines()]
        except ValueError:
            return []

    def why(self):
        return (f"$ {' '.join(self.argv)}\nexit {self.code}\nstdout:\n{self.out}stderr:\n{self.err}"
                f"transcript:\n{self.text[-3000:]}")


# --- the messages sent -----------------------------------------------------

# CRLF line ends: what the server stores must be these octets less the Bcc.
PLAIN = (
    b"From: Alice Martin <alice@a.test>\r\n"
    b"To: bob@b.test\r\n"
    b"Cc: carol@b.test\r\n"
    b"Bcc: dave@b.test\r\n"
    b"Subject: =?UTF-8?Q?caf=C3=A9_=E2=98=95?= over STARTTLS\r\n"
    b"Date: Mon, 07 Dec 2026 09:00:00 +0000\r\n"
    b"Message-ID: <plain.1@a.test>\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 8bit\r\n"
    b"\r\n"
    b"Un caf\xc3\xa9, s'il vous pla\xc3\xaet.\r\n"
    b".a line that starts with a dot\r\n"
    b".\r\n"
    b"..\r\n"
    b"trailing spaces   \r\n"
    b"\ttab\r\n"
    b"\r\n"
    b"-- \r\n"
    b"Alice\r\n"
)

# A message stored by a delivery (farceur's local targets write these fields):
# sent without --rcpt, it goes to the stored envelope, which never leaves.
STORED = (
    b"Return-Path: <owner@a.test>\n"
    b"Envelope-to: erin@b.test, witness@b.test\n"
    b"Delivered-To: erin@b.test\n"
    b"X-Original-To: erin@b.test\n"
    b"From: owner@a.test\n"
    b"To: erin@b.test\n"
    b"Subject: stored envelope\n"
    b"Message-ID: <stored.1@a.test>\n"
    b"\n"
    b"re-sent from an outbox\n"
)


def simple(name, to, subject):
    return (f"From: alice@a.test\nTo: {to}\nSubject: {subject}\nMessage-ID: <{name}@a.test>\n"
            f"\nbody of {name}\n").encode()


def parse(octets):
    return email.message_from_bytes(octets, policy=email.policy.default)


def body_of(octets):
    for sep in (b"\r\n\r\n", b"\n\n"):
        if sep in octets:
            return octets.split(sep, 1)[1]
    return b""


def lf(octets):
    return octets.replace(b"\r\n", b"\n")


def compare(label, sent, got_octets):
    """The message received against the file sent: the body octets (line
    ends aside), Subject, every field but those never transmitted, in order,
    and none of those."""
    got = parse(got_octets)
    want = parse(sent)
    check(f"{label}: body octets as sent", lf(body_of(got_octets)) == lf(body_of(sent)),
          f"sent {body_of(sent)!r}\ngot  {body_of(got_octets)!r}")
    check(f"{label}: Subject as sent", str(got["Subject"]) == str(want["Subject"]),
          f"{got['Subject']!r} vs {want['Subject']!r}")
    fields = [(k.lower(), str(v)) for k, v in want.items() if k.lower() not in
              {s.lower() for s in STRIPPED}]
    check(f"{label}: the other fields as sent, in order",
          [(k.lower(), str(v)) for k, v in got.items()] == fields,
          f"sent {fields}\ngot  {list(got.items())}")
    leaked = [f for f in STRIPPED if got[f] is not None]
    check(f"{label}: no {'/'.join(STRIPPED)} transmitted", not leaked, f"got {leaked}")


def once_each(server, before, rcpts, label, sent=None):
    """Each of RCPTS got exactly one message since message number BEFORE;
    returns the new messages."""
    new = server.messages()[before:]
    got = sorted(a for env, _ in new for a in env["rcpt_to"])
    check(f"{label}: the server got it once for each of {', '.join(rcpts)}",
          got == sorted(rcpts), f"got {got} in {[env for env, _ in new]}")
    if sent is not None:
        for i, (_, octets) in enumerate(new):
            check(f"{label}: copy {i + 1} is the message sent",
                  lf(body_of(octets)) == lf(body_of(sent))
                  and str(parse(octets)["Message-ID"]) == str(parse(sent)["Message-ID"]),
                  octets.decode(errors="replace"))
    return new


def rcpt_outcomes(record):
    return {r["addr"]: (r["status"], r["code"], r["enhanced"]) for r in record["rcpt"]}


# --- the checks ------------------------------------------------------------

def tls_checks(tmp, server, cert):
    via = f"smtp://127.0.0.1:{server.port}"
    strict = f"smtp+starttls://127.0.0.1:{server.port}"

    before = len(server.messages())
    r = Run(tmp, "opportunistic", "--via", via, "plain.eml", "stored.eml")
    check("smtp:// to a self-signed certificate: exit 0", r.code == 0, r.why())
    lines = [line for line in r.out.splitlines() if line.startswith("delivered")]
    check("smtp://: each message's report line says [TLS unverified]",
          len(lines) == 2 and all("[TLS unverified]" in line for line in lines), r.why())
    check("smtp://: the transcript shows STARTTLS and '* TLS unverified'",
          "C: STARTTLS" in r.text and "* TLS unverified: " in r.text, r.why())
    new = server.messages()[before:]
    check("smtp://: the server got 2 messages, over TLS", len(new) == 2
          and all(env["secure"] for env, _ in new), f"{[env for env, _ in new]}\n{r.why()}")
    by_id = {str(parse(octets)["Message-ID"]): (env, octets) for env, octets in new}
    if check("smtp://: one is plain.eml, the other stored.eml (by Message-ID)",
             sorted(by_id) == ["<plain.1@a.test>", "<stored.1@a.test>"], f"{sorted(by_id)}"):
        (penv, plain), (senv, stored) = by_id["<plain.1@a.test>"], by_id["<stored.1@a.test>"]
        check("plain.eml: MAIL FROM and RCPT TO from the header, Bcc included",
              penv["mail_from"] == "alice@a.test"
              and penv["rcpt_to"] == ["bob@b.test", "carol@b.test", "dave@b.test"], penv)
        check("plain.eml: the octets stored are the file's less its Bcc field",
              plain == PLAIN.replace(b"Bcc: dave@b.test\r\n", b""),
              f"sent {PLAIN!r}\ngot  {plain!r}")
        compare("plain.eml", PLAIN, plain)
        check("stored.eml: delivered to its stored envelope (Return-Path, Envelope-to)",
              senv["mail_from"] == "owner@a.test"
              and senv["rcpt_to"] == ["erin@b.test", "witness@b.test"], senv)
        compare("stored.eml", STORED, stored)

    before = len(server.messages())
    r = Run(tmp, "opportunistic-json", "--json", "--via", via, "plain.eml")
    records = r.json()
    rec = records[0] if len(records) == 1 else {}
    check("smtp:// --json: delivered, \"tls\": \"unverified\"", r.code == 0
          and rec.get("state") == "delivered" and rec.get("tls") == "unverified", r.why())
    new = server.messages()[before:]
    if check("smtp:// --json: one message stored", len(new) == 1, r.why()):
        check("smtp:// --json: sha256 and size are those of the octets the server got "
              "(a CRLF file)", rec.get("sha256") == hashlib.sha256(new[0][1]).hexdigest()
              and rec.get("size") == len(new[0][1]), f"{rec}\n{new[0][1]!r}")

    before = len(server.messages())
    r = Run(tmp, "strict", "--via", strict, "plain.eml")
    check("smtp+starttls:// without --tls-ca: exit 77", r.code == 77, r.why())
    check("smtp+starttls://: the report says failed, not deferred, and names the certificate",
          r.out.startswith("failed") and "certificate" in r.out
          and "deferred" not in r.out + r.err, r.why())
    r = Run(tmp, "strict-json", "--json", "--via", strict, "plain.eml")
    rec = (r.json() or [{}])[0]
    check("smtp+starttls:// --json: exit 77, state failed, error names the certificate",
          r.code == 77 and rec.get("state") == "failed"
          and "certificate" in (rec.get("error") or ""), r.why())
    check("smtp+starttls:// without --tls-ca: nothing stored", len(server.messages()) == before,
          f"{server.messages()[before:]}")

    before = len(server.messages())
    r = Run(tmp, "strict-ca", "--json", "--via", strict, "--tls-ca", str(cert), "plain.eml")
    rec = (r.json() or [{}])[0]
    check("smtp+starttls:// --tls-ca /abs/cert.pem: delivered, \"tls\": \"verified\"",
          r.code == 0 and rec.get("state") == "delivered" and rec.get("tls") == "verified",
          r.why())
    r = Run(tmp, "strict-ca-human", "--via", strict, "--tls-ca", str(cert), "plain.eml")
    check("smtp+starttls:// --tls-ca: the report has no [TLS unverified]",
          r.code == 0 and r.out.startswith("delivered") and "unverified" not in r.out, r.why())
    r = Run(tmp, "strict-ca-relative", "--json", "--via", strict, "--tls-ca", cert.name,
            "plain.eml", cwd=cert.parent)
    rec = (r.json() or [{}])[0]
    check("smtp+starttls:// --tls-ca cert.pem (a relative path): delivered, verified",
          r.code == 0 and rec.get("tls") == "verified" and "GLib" not in r.err, r.why())
    once_each(server, before, ["bob@b.test", "carol@b.test", "dave@b.test"] * 3,
              "smtp+starttls:// --tls-ca (3 runs)", PLAIN)


def rule_checks(tmp, server):
    via = ["--via", f"smtp://127.0.0.1:{server.port}"]

    before = len(server.messages())
    r = Run(tmp, "refused", *via, "bad.eml")
    check("a recipient refused with 550: exit 69", r.code == 69, r.why())
    check("refused: the report names it with its 550",
          "refused  bad1@b.test: 550 5.1.1" in r.out, r.why())
    r = Run(tmp, "refused-json", "--json", *via, "bad.eml")
    rec = (r.json() or [{}])[0]
    got = rcpt_outcomes(rec) if rec else {}
    check("refused --json: exit 69, partial, bad1 refused 550 5.1.1, frank accepted",
          r.code == 69 and rec.get("state") == "partial"
          and got == {"frank@b.test": ("accepted", 250, "2.6.0"),
                      "bad1@b.test": ("refused", 550, "5.1.1")}, r.why())
    once_each(server, before, ["frank@b.test", "frank@b.test"], "refused (2 runs)",
              simple("bad", "", ""))

    before = len(server.messages())
    r = Run(tmp, "later", "--json", *via, "later.eml")
    rec = (r.json() or [{}])[0]
    got = rcpt_outcomes(rec) if rec else {}
    check(f"451 {LATER} times, then accepted: exit 0, delivered, attempts >= 2",
          r.code == 0 and rec.get("state") == "delivered" and rec.get("attempts", 0) >= 2
          and got.get("later1@b.test", ("",))[0] == "accepted"
          and got.get("grace@b.test", ("",))[0] == "accepted", r.why())
    replies = [e["reply"] for e in server.events("rcpt") if e["addr"] == "later1@b.test"]
    check(f"later1: the server answered 451 {LATER} times, then 250",
          replies == [451] * LATER + [250], f"{replies}\n{r.why()}")
    check("later1: retried on new sessions, each still [TLS unverified]",
          rec.get("tls") == "unverified"
          and r.text.count("* TLS unverified") == r.text.count("C: STARTTLS"),
          f"tls {rec.get('tls')!r}, STARTTLS {r.text.count('C: STARTTLS')} times, "
          f"'* TLS unverified' {r.text.count('* TLS unverified')} times\n{r.why()}")
    once_each(server, before, ["grace@b.test", "later1@b.test"], "later1",
              simple("later", "", ""))

    before = len(server.messages())
    r = Run(tmp, "later-human", *via, "later3.eml")
    check("451 then accepted, human report: exit 0, delivered [TLS unverified]",
          r.code == 0 and r.out.startswith("delivered") and "[TLS unverified]" in r.out, r.why())

    r = Run(tmp, "deferred", "--retries", "0", *via, "later0.eml")
    check("--retries 0 and a 451: exit 75", r.code == 75, r.why())
    check("--retries 0: the report names the deferred recipient with its 451",
          "deferred later2@b.test: 451 4." in r.out, r.why())
    r = Run(tmp, "deferred-json", "--json", "--retries", "0", *via, "later0.eml")
    rec = (r.json() or [{}])[0]
    got = rcpt_outcomes(rec) if rec else {}
    check("--retries 0 --json: exit 75, partial, later2 deferred 451, heidi accepted",
          r.code == 75 and rec.get("state") == "partial"
          and got.get("later2@b.test", ("",))[:2] == ("deferred", 451)
          and got.get("heidi@b.test", ("",))[0] == "accepted", r.why())
    once_each(server, before, ["later3@b.test", "heidi@b.test", "heidi@b.test"],
              "later3, later0 (3 runs)")


def auth_checks(tmp, server, cert):
    via = f"smtp://127.0.0.1:{server.port}"
    strict = ["--via", f"smtp+starttls://127.0.0.1:{server.port}", "--tls-ca", str(cert)]
    secrets = [PASSWORD, *(base64.b64encode(s.encode()).decode()
                           for s in (PASSWORD, f"\0{USER}\0{PASSWORD}"))]

    (tmp / "password").write_text(PASSWORD + "\n")
    ways = (("PLAIN", "$FARCEUR_PASSWORD", ["--via", via], PASSWORD),
            ("LOGIN", "--password-command", [*strict, "--password-command", "cat password"], None))
    for mech, way, args, password in ways:
        before = len(server.messages())
        auths = len(server.events("auth"))
        r = Run(tmp, f"auth-{mech}", "--json", "--user", USER, "--auth", mech, *args,
                "auth.eml", password=password)
        rec = (r.json() or [{}])[0]
        check(f"AUTH {mech} ({way}) over STARTTLS to loopback: delivered",
              r.code == 0 and rec.get("state") == "delivered", r.why())
        ev = server.events("auth")[auths:]
        check(f"AUTH {mech}: the server authenticated {USER} with {mech} over TLS",
              [(e["method"], e["username"], e["ok"], e["secure"]) for e in ev]
              == [(mech, USER, True, True)], f"{ev}\n{r.why()}")
        new = server.messages()[before:]
        check(f"AUTH {mech}: the message came in the authenticated session",
              [(env["user"], env["rcpt_to"]) for env, _ in new] == [(USER, ["ivan@b.test"])],
              f"{[env for env, _ in new]}")
        check(f"AUTH {mech}: no password in argv, stdout, stderr or the transcript",
              not any(s in " ".join(r.argv) + r.out + r.err + r.text for s in secrets),
              r.why())

    before = len(server.messages())
    r = Run(tmp, "auth-wrong", "--user", USER, "--via", via, "auth.eml", password="not-it")
    check("a wrong password: exit 77", r.code == 77, r.why())
    check("a wrong password: reported failed with the 535, not deferred",
          r.out.startswith("failed") and "535" in r.out and "deferred" not in r.out + r.err,
          r.why())
    r = Run(tmp, "auth-wrong-json", "--json", "--user", USER, "--via", via, "auth.eml",
            password="not-it")
    rec = (r.json() or [{}])[0]
    check("a wrong password --json: exit 77, state failed",
          r.code == 77 and rec.get("state") == "failed", r.why())
    ev = server.events("auth")[-2:]
    check("a wrong password: the server refused it twice",
          [(e["username"], e["ok"]) for e in ev] == [(USER, False)] * 2, f"{ev}")
    check("a wrong password: nothing stored", len(server.messages()) == before,
          f"{server.messages()[before:]}")


def prank_check(tmp, server):
    """The example campaign over smtp:// with AUTH: what the server got is
    the plan `prank --dry-run --json` shows, message by message."""
    conf = SRCDIR.resolve().parent / "data" / "example" / "farceur.conf"
    common = [FARCEUR, "prank", "--config", str(conf), "--seed", "5",
              "--date", "2026-12-07T09:00:00Z"]
    plan = subprocess.run([*common, "--dry-run", "--json"], capture_output=True, text=True,
                          timeout=60)
    groups = [g for g in map(json.loads, plan.stdout.splitlines()) if "group" in g] \
        if plan.returncode == 0 else []
    planned = {m["message_id"]: m for g in groups for m in g["messages"]}
    if not check("prank --dry-run --json: a plan", planned, plan.stderr):
        return
    before = len(server.messages())
    auths = len(server.events("auth"))
    env = {k: v for k, v in os.environ.items() if k != "FARCEUR_PASSWORD"}
    env["FARCEUR_PASSWORD"] = PASSWORD
    r = subprocess.run([*common, "--via", f"smtp://127.0.0.1:{server.port}", "--user", USER,
                        "--timeout", "10"], capture_output=True, text=True, env=env, cwd=tmp,
                       timeout=120)
    why = f"exit {r.returncode}\nstdout:\n{r.stdout}stderr:\n{r.stderr}"
    check("prank over smtp:// with AUTH: exit 0", r.returncode == 0, why)
    check("prank: the report says [TLS unverified] for each message",
          r.stdout.count("[TLS unverified]") == len(planned), why)
    check(f"prank: authenticated as {USER}, every AUTH accepted",
          server.events("auth")[auths:]
          and all(e["ok"] and e["username"] == USER for e in server.events("auth")[auths:]), why)
    new = server.messages()[before:]
    got = {str(parse(o)["Message-ID"]).strip("<>"): (env, parse(o)) for env, o in new}
    check("prank: the server got each planned message once",
          len(new) == len(planned) and set(got) == set(planned),
          f"planned {sorted(planned)}\ngot {sorted(got)}\n{why}")
    for mid, m in planned.items():
        if mid not in got:
            continue
        senv, msg = got[mid]
        check(f"prank {m['source']}: MAIL FROM and RCPT TO as planned, authenticated, over TLS",
              senv["mail_from"] == m["envelope"]["mail_from"]
              and senv["rcpt_to"] == m["envelope"]["rcpt_to"]
              and senv["user"] == USER and senv["secure"], f"{senv}\nplanned {m['envelope']}")
        check(f"prank {m['source']}: Subject as planned, the Bcc witness not in the message",
              str(msg["Subject"]) == m["subject"] and msg["Bcc"] is None
              and "archives@example.edu" in senv["rcpt_to"]
              and b"archives@example.edu" not in msg.as_bytes(), f"{msg['Subject']!r}")


def main():
    started = time.monotonic()
    modules = install()
    with tempfile.TemporaryDirectory(prefix="farceur-smtp-server-") as name:
        tmp = pathlib.Path(name)
        made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                               "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "key.pem",
                               "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost",
                               "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                              cwd=tmp, capture_output=True, text=True)
        if made.returncode != 0:
            fail(f"openssl req: {made.stderr}")
        (tmp / "plain.eml").write_bytes(PLAIN)
        (tmp / "stored.eml").write_bytes(STORED)
        (tmp / "bad.eml").write_bytes(simple("bad", "frank@b.test, bad1@b.test", "refused"))
        (tmp / "later.eml").write_bytes(simple("later", "grace@b.test, later1@b.test", "451"))
        (tmp / "later3.eml").write_bytes(simple("later3", "later3@b.test", "451 again"))
        (tmp / "later0.eml").write_bytes(simple("later0", "heidi@b.test, later2@b.test", "kept"))
        (tmp / "auth.eml").write_bytes(simple("auth", "ivan@b.test", "authenticated"))

        server = Server(modules, tmp / "server", tmp / "cert.pem", tmp / "key.pem")
        try:
            tls_checks(tmp, server, tmp / "cert.pem")
            rule_checks(tmp, server)
            auth_checks(tmp, server, tmp / "cert.pem")
            prank_check(tmp, server)
        finally:
            server.stop()
        if server.proc.returncode != 0:
            check("server.js ended cleanly", False, server.errlog.read_text(errors="replace"))

    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            for line in str(detail).splitlines() or [""]:
                print(f"# {line}")
    failed = sum(not ok for ok, _, _ in results)
    print(f"# {len(results) - failed} passed, {failed} failed in "
          f"{time.monotonic() - started:.1f} s")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
