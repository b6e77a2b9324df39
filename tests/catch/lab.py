#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The lab loop with farceur alone (README, The lab loop): `farceur catch`,
then `farceur prank --via smtp://127.0.0.1:PORT` (opportunistic STARTTLS to
catch's own certificate), then `farceur inspect caught`: each group's forged
sender is the envelope sender, and the witnesses that no header names show
as only in the envelope, in catch's line, its --json record and inspect.
Also farceur send: the stored copy is the file's octets; LMTP
(send --via lmtp://, catch --lmtp); STARTTLS with --tls-cert/--tls-key
verified by send --tls-ca.  TAP."""
import json
import pathlib
import subprocess
import sys
import tempfile

from harness import FARCEUR, ROOT, Catch, Tap, body_after_header

tap = Tap()
CONF = ROOT / "data" / "example" / "farceur.conf"


def farceur(*args, cwd=None):
    proc = subprocess.run([FARCEUR, *args], capture_output=True, timeout=120, cwd=cwd)
    return proc.returncode, proc.stdout.decode(errors="replace"), proc.stderr.decode(errors="replace")


def lab_loop():
    with Catch("--hostname", "catch.test", json_out=False) as catch:
        status, out, err = farceur("prank", "--config", str(CONF), "--seed", "7", "--json",
                                   "--via", f"smtp://127.0.0.1:{catch.port}")
        tap.equal("prank to catch: exit 0", status, 0)
        # the first record says what was read and planned ({"read":..,"plan":..})
        groups = [r for r in map(json.loads, out.splitlines()) if "messages" in r]
        messages = [m for g in groups for m in g["messages"]]
        lines = catch.wait_lines(len(messages))
        tap.equal("catch: one line per message", len(lines), len(messages))
        tap.equal("SIGTERM: exit 0", catch.stop(), 0)
        status, out, err = farceur("inspect", "--json", str(catch.maildir))
        tap.equal("inspect caught: exit 0", status, 0)
        inspected = {r["message_id"]: r for r in map(json.loads, out.splitlines())}
        status, human, err = farceur("inspect", str(catch.maildir))
        for g in groups:
            sender = g["sender"]["addr"]
            for m in g["messages"]:
                r = inspected.get(m["message_id"])
                if not tap.check(f"group {g['group']}: {m['message_id']} caught", r):
                    continue
                tap.equal(f"group {g['group']}: the forged sender is MAIL FROM",
                          r["envelope"]["mail_from"], sender)
                tap.equal(f"group {g['group']}: the envelope recipients",
                          r["envelope"]["rcpt_to"], m["envelope"]["rcpt_to"])
                hidden = m["envelope_only"]
                tap.check(f"group {g['group']}: a witness only in the envelope",
                          hidden, m)
                line = next((l for l in lines if f"<{sender}>" in l and m["subject"] in l), "")
                tap.check(f"group {g['group']}: catch's line shows the forged sender",
                          f"<{sender}> ->" in line, line)
                tap.check(f"group {g['group']}: and the witnesses only in the envelope",
                          all(w in line.split("only in the envelope:")[-1] for w in hidden)
                          and "only in the envelope:" in line, line)
        witness = groups[0]["messages"][0]["envelope_only"][0]
        tap.check("inspect caught says so too",
                  f"recipient only in the envelope (Bcc): {witness}" in human, human[:3000])
        tap.check("prank used STARTTLS to catch (ESMTPS)",
                  all("with ESMTPS" in p.read_text(errors="replace")
                      for p in (catch.maildir / "new").iterdir()))


MESSAGE = (b"From: Alice <alice@example.org>\nTo: Bob <bob@example.com>\n"
           b"Subject: sent by farceur\nMessage-ID: <sent@example.org>\n\n"
           b"Stored as sent.\n.A line with a dot.\n")


def send_round_trip(tmp):
    msg = tmp / "msg.eml"
    msg.write_bytes(MESSAGE)
    with Catch("--exit-after", "1") as catch:
        status, out, err = farceur("send", "--via", f"smtp://127.0.0.1:{catch.port}",
                                   "--rcpt", "bob@example.com", "--rcpt", "carol@example.net",
                                   str(msg))
        tap.equal("send to catch: exit 0", status, 0)
        tap.equal("catch stops after one (--exit-after 1)", catch.wait(), 0)
        stored = catch.stored()
        tap.equal("send: one stored", len(stored), 1)
        tap.equal("send: the stored copy is the file's octets",
                  body_after_header(stored[0][1]) if stored else None, MESSAGE)
        record = catch.records[0]
        tap.equal("send: the envelope", record["envelope"]["rcpt_to"],
                  ["bob@example.com", "carol@example.net"])
        tap.equal("send: carol only in the envelope", record["envelope_only"],
                  ["carol@example.net"])


def send_lmtp(tmp):
    msg = tmp / "msg.eml"
    with Catch("--lmtp", "--fail", "dot:full@*=452 4.2.2 mailbox full",
               listen=["lmtp://127.0.0.1:0"]) as catch:
        status, out, err = farceur("send", "--json", "--retries", "0", "--via",
                                   f"lmtp://127.0.0.1:{catch.port}", "--rcpt", "bob@example.com",
                                   "--rcpt", "full@example.com", str(msg))
        result = json.loads(out.splitlines()[0]) if out.strip() else {}
        tap.equal("send --via lmtp:// to catch --lmtp: partial", result.get("state"), "partial")
        tap.equal("LMTP: bob's own 250, full@'s own 452 (deferred, still listed)",
                  [(r["addr"], r["code"]) for r in result.get("rcpt", [])],
                  [("bob@example.com", 250), ("full@example.com", 452)])
        catch.stop()
        tap.check("LMTP: full@ got its own 452 after the dot",
                  "S: 452 4.2.2 mailbox full" in catch.transcript(), catch.transcript())
        tap.equal("LMTP: stored for bob only", catch.records[0]["envelope"]["rcpt_to"],
                  ["bob@example.com"])


def tls_files(tmp):
    def openssl(*args):
        subprocess.run(["openssl", *args], cwd=tmp, check=True, capture_output=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=farceur catch test CA")
    openssl("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (tmp / "ext.cnf").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n"
                                 "extendedKeyUsage=serverAuth\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    fingerprint = subprocess.run(["openssl", "x509", "-in", "server.pem", "-noout", "-fingerprint",
                                  "-sha256"], cwd=tmp, capture_output=True, text=True,
                                 check=True).stdout.strip().split("=", 1)[1]
    with Catch("--tls-cert", str(tmp / "server.pem"), "--tls-key", str(tmp / "server.key"),
               "--exit-after", "1") as catch:
        tap.equal("--tls-cert: the fingerprint printed is openssl's", catch.fingerprint,
                  fingerprint)
        status, out, err = farceur("send", "--via", f"smtp+starttls://127.0.0.1:{catch.port}",
                                   "--tls-ca", str(tmp / "ca.pem"), "--rcpt", "bob@example.com",
                                   str(tmp / "msg.eml"))
        tap.equal("send --via smtp+starttls:// --tls-ca: verified and delivered", status, 0)
        catch.wait()
        tap.equal("the hop is ESMTPS", catch.records[0]["protocol"] if catch.records else None,
                  "ESMTPS")


lab_loop()
with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    send_round_trip(tmp)
    send_lmtp(tmp)
    tls_files(tmp)
sys.exit(tap.done())
