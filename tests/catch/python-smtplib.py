#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur catch against Python's smtplib (/usr/bin/python3), a client
nobody here wrote: plain SMTP with an 8-bit body, STARTTLS against the
certificate made at start (its fingerprint is the one printed), implicit
TLS, AUTH PLAIN and LOGIN against a --users file (a clear password and a
crypt(3) hash; a wrong one is refused; no password anywhere), send_message
with Bcc, an SMTPUTF8 address.  Every stored message is read back with
Python's email and compared (body octets, envelope fields), and its
Received: field is read by `farceur trace --json`.  TAP."""
import hashlib
import pathlib
import smtplib
import ssl
import subprocess
import sys
import tempfile
from email.message import EmailMessage

from harness import Catch, Tap, body_after_header, parse, trace

tap = Tap()
HOST = "catch.test"


def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # self-signed: checked by its fingerprint instead
    return ctx


def fingerprint(sock):
    digest = hashlib.sha256(sock.getpeercert(binary_form=True)).hexdigest().upper()
    return ":".join(digest[i:i + 2] for i in range(0, len(digest), 2))


def crypt_hash(password):
    return subprocess.run(["openssl", "passwd", "-6", password], capture_output=True, text=True,
                          check=True).stdout.strip()


def check_hop(label, path, record, helo, with_, tls, for_addr):
    hop = trace(path)["hops"][-1]
    tap.equal(f"{label}: trace reads from_helo", hop["from_helo"], helo)
    tap.equal(f"{label}: trace reads from_ip", hop["from_ip"], "127.0.0.1")
    tap.equal(f"{label}: trace reads by", hop["by"], HOST)
    tap.equal(f"{label}: trace reads with", hop["with"], with_)
    tap.equal(f"{label}: trace reads tls", hop["tls"], tls)
    tap.equal(f"{label}: trace reads for", hop["for"], for_addr)
    tap.equal(f"{label}: trace reads the id of the record", hop["id"], record["id"])
    tap.check(f"{label}: trace reads a date", hop["date"] is not None, hop)
    tap.check(f"{label}: no warning on the hop", hop["warnings"] == [], hop["warnings"])


PLAIN_BODY = ("Grüße aus dem Labor\r\n..a line that starts with a dot\r\n"
              "From the start of a line\r\n").encode("utf-8")


def plain_and_8bit():
    raw = (b"From: Alice <alice@example.org>\r\nTo: Bob <bob@example.com>\r\n"
           b"Subject: plain\r\nMIME-Version: 1.0\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n")
    with Catch("--hostname", HOST, "--exit-after", "1") as catch:
        with smtplib.SMTP("127.0.0.1", catch.port, local_hostname="client.test", timeout=20) as s:
            s.sendmail("alice@example.org", ["bob@example.com"], raw + PLAIN_BODY,
                       mail_options=["BODY=8BITMIME"])
        tap.equal("exit-after 1: exit 0", catch.wait(), 0)
        stored = catch.stored()
        if not tap.equal("plain: one message stored", len(stored), 1):
            return
        path, octets = stored[0]
        record = catch.records[0]
        # smtplib stuffs the dots, catch unstuffs them: the message comes back
        # as it was, with LF line ends
        want = (raw + PLAIN_BODY).replace(b"\r\n", b"\n")
        tap.equal("plain: stored octets are those sent, unstuffed, LF line ends",
                  body_after_header(octets), want)
        msg = parse(octets)
        tap.equal("plain: Return-Path is MAIL FROM", msg["Return-Path"], "<alice@example.org>")
        tap.equal("plain: Envelope-to is RCPT TO", msg["Envelope-to"], "bob@example.com")
        tap.equal("plain: the body reads back", msg.get_content(),
                  PLAIN_BODY.decode().replace("\r\n", "\n"))
        tap.equal("plain: record size is the octets received, unstuffed",
                  record["size"], len(raw + PLAIN_BODY))
        tap.equal("plain: record envelope", record["envelope"],
                  {"mail_from": "alice@example.org", "rcpt_to": ["bob@example.com"],
                   "source": ["Return-Path", "Envelope-to"]})
        tap.equal("plain: record location", record["location"], str(path))
        check_hop("plain", path, record, "client.test", "ESMTP", False, "bob@example.com")


def auth_sessions():
    users = ("# the lab's accounts\nbob:s3cret-bob\n"
             f"carol:{{CRYPT}}{crypt_hash('hunter2 hunter2')}\n")
    with tempfile.TemporaryDirectory() as tmp:
        users_file = pathlib.Path(tmp) / "users"
        users_file.write_text(users)
        with Catch("--hostname", HOST, "--users", str(users_file), tls=True) as catch:
            tap.check("the fingerprint is printed", catch.fingerprint, catch.stderr)
            with smtplib.SMTP("127.0.0.1", catch.port, local_hostname="client.test",
                              timeout=20) as s:
                s.starttls(context=tls_context())
                tap.equal("STARTTLS: the certificate is the one whose fingerprint was printed",
                          fingerprint(s.sock), catch.fingerprint)
                try:
                    s.login("bob", "wrong")
                    tap.check("AUTH with a wrong password is refused", False)
                except smtplib.SMTPAuthenticationError as e:
                    tap.equal("AUTH with a wrong password is refused with 535", e.smtp_code, 535)
                s.ehlo("client.test")
                s.user, s.password = "bob", "s3cret-bob"
                code, _ = s.auth("PLAIN", s.auth_plain)
                tap.equal("AUTH PLAIN over STARTTLS", code, 235)
                s.sendmail("bob@example.org", ["dest@example.com"],
                           b"Subject: tls plain\r\n\r\nover STARTTLS\r\n")
            with smtplib.SMTP_SSL("127.0.0.1", catch.ports["smtps"], local_hostname="client.test",
                                  timeout=20, context=tls_context()) as s:
                tap.equal("implicit TLS: the same certificate", fingerprint(s.sock),
                          catch.fingerprint)
                s.ehlo("client.test")
                s.user, s.password = "carol", "hunter2 hunter2"
                code, _ = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
                tap.equal("AUTH LOGIN against a {CRYPT} hash over implicit TLS", code, 235)
                s.sendmail("carol@example.org", ["dest@example.com"],
                           b"Subject: tls login\r\n\r\nover smtps\r\n")
            tap.equal("SIGTERM: exit 0", catch.stop(), 0)
            records = catch.records
            stored = catch.stored()
            if not tap.equal("two messages stored", len(stored), 2):
                return
            by_user = {r["client"]["user"]: r for r in records}
            tap.equal("the users are recorded", sorted(by_user), ["bob", "carol"])
            tap.equal("STARTTLS + AUTH: ESMTPSA", by_user["bob"]["protocol"], "ESMTPSA")
            tap.check("TLS version and cipher recorded",
                      by_user["bob"]["tls"] and by_user["bob"]["tls"]["version"].startswith("TLSv1.")
                      and by_user["bob"]["tls"]["cipher"], by_user["bob"]["tls"])
            for path, octets in stored:
                record = next(r for r in records if r["location"] == str(path))
                check_hop(f"{record['client']['user']}", path, record, "client.test", "ESMTPSA",
                          True, "dest@example.com")
            everything = (catch.transcript() + catch.stderr + "\n".join(catch.out_lines)
                          + "".join(o.decode(errors="replace") for _, o in stored))
            for secret in ("s3cret-bob", "hunter2", "wrong", "czNjcmV0LWJvYg", "aHVudGVyMi"):
                tap.check(f"the password ({secret}) is nowhere: transcript, output, mail",
                          secret not in everything)
            tap.check("the transcript hides AUTH payloads", "AUTH PLAIN ***" in catch.transcript()
                      or "C: ***" in catch.transcript(), catch.transcript()[:2000])


def bcc_and_utf8():
    with Catch("--hostname", HOST) as catch:
        msg = EmailMessage()
        msg["From"] = "Alice <alice@example.org>"
        msg["To"] = "Bob <bob@example.com>"
        msg["Bcc"] = "Hidden Witness <witness@example.edu>"
        msg["Subject"] = "with a Bcc"
        msg.set_content("Nobody sees the witness.\n")
        with smtplib.SMTP("127.0.0.1", catch.port, local_hostname="client.test", timeout=20) as s:
            s.send_message(msg)
            utf8 = EmailMessage()
            utf8["From"] = "Zoé <zoé@exemple.fr>"
            utf8["To"] = "Émile <émile@exemple.fr>"
            utf8["Subject"] = "adresse internationale"
            utf8.set_content("Bonjour Émile, ça va ?\n", cte="8bit")
            s.send_message(utf8)  # smtplib adds SMTPUTF8 and BODY=8BITMIME itself
        catch.stop()
        records = catch.records
        stored = catch.stored()
        if not tap.equal("Bcc and UTF-8: two stored", len(stored), 2):
            return
        bcc = next(r for r in records if r["subject"] == "with a Bcc")
        tap.equal("Bcc: the witness got it (envelope)", bcc["envelope"]["rcpt_to"],
                  ["bob@example.com", "witness@example.edu"])
        tap.equal("Bcc: the witness is only in the envelope", bcc["envelope_only"],
                  ["witness@example.edu"])
        bcc_raw = next(o for p, o in stored if str(p) == bcc["location"])
        tap.check("Bcc: the stored copy has no Bcc header", parse(bcc_raw)["Bcc"] is None)
        intl = next(r for r in records if r["subject"] == "adresse internationale")
        tap.equal("SMTPUTF8: the envelope", intl["envelope"]["rcpt_to"], ["émile@exemple.fr"])
        tap.equal("SMTPUTF8: the protocol", intl["protocol"], "UTF8SMTP")
        intl_path = next(p for p, o in stored if str(p) == intl["location"])
        intl_msg = parse(intl_path.read_bytes())
        tap.equal("SMTPUTF8: the body reads back", intl_msg.get_content(), "Bonjour Émile, ça va ?\n")
        check_hop("SMTPUTF8", intl_path, intl, "client.test", "UTF8SMTP", False, "émile@exemple.fr")


plain_and_8bit()
auth_sessions()
bcc_and_utf8()
sys.exit(tap.done())
