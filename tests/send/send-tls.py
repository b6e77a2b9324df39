# SPDX-License-Identifier: LGPL-2.1-or-later
"""Opportunistic TLS as RFC 7435 and Postfix's "may" level (data/doc/smtp.md,
TLS), against aiosmtpd (tests/send/session-server.py) offering STARTTLS with
a self-signed certificate made here by `openssl req`:

- smtp:// delivers over TLS and the transcript says "TLS unverified";
- smtp+starttls:// refuses the certificate: exit 77 and a TLS error, and
  nothing is stored;
- a server whose STARTTLS handshake fails outright: smtp:// goes on in
  plaintext on a new session and delivers, saying so in the transcript.

AUTH over an unverified certificate to a remote server is tested in
send-remote-auth.py (it needs a network namespace)."""
import json
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, SessionServer, fail

MESSAGE = b"From: a@a.test\r\nTo: b@b.test\r\nSubject: message 0\r\n\r\nover TLS, perhaps\r\n"


def send(tmp, url, name):
    transcript = tmp / f"{name}.transcript"
    r = subprocess.run([FARCEUR, "send", "--via", url, "--retries", "0", "--timeout", "10",
                        "--transcript", str(transcript), str(tmp / "m.eml")],
                       capture_output=True, text=True, timeout=60)
    text = transcript.read_text() if transcript.exists() else ""
    return r, text, f"\n{r.stdout}{r.stderr}\ntranscript:\n{text}"


with tempfile.TemporaryDirectory(prefix="farceur-tls-") as tmp:
    tmp = pathlib.Path(tmp)
    (tmp / "m.eml").write_bytes(MESSAGE)
    made = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                           "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", "key.pem",
                           "-out", "cert.pem", "-days", "2", "-subj", "/CN=localhost",
                           "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                          cwd=tmp, capture_output=True, text=True)
    if made.returncode != 0:
        fail(f"openssl req: {made.stderr}")

    srv = SessionServer(tmp / "self-signed", "--starttls", str(tmp / "cert.pem"), str(tmp / "key.pem"))
    try:
        r, text, why = send(tmp, f"smtp://127.0.0.1:{srv.port}", "opportunistic")
        if r.returncode != 0:
            fail(f"smtp:// to a self-signed certificate: exit {r.returncode}{why}")
        stored = srv.messages()
        if len(stored) != 1 or not stored[0]["tls"]:
            fail(f"smtp://: one message over TLS expected, server saw {stored}{why}")
        if "C: STARTTLS" not in text or "* TLS unverified: " not in text:
            fail(f"smtp://: the transcript should show STARTTLS and 'TLS unverified'{why}")
        if "[TLS unverified]" not in r.stdout:
            fail(f"smtp://: the report should say [TLS unverified]{why}")
        j = subprocess.run([FARCEUR, "send", "--json", "--via", f"smtp://127.0.0.1:{srv.port}",
                            "--retries", "0", "--timeout", "10", str(tmp / "m.eml")],
                           capture_output=True, text=True, timeout=60)
        records = [json.loads(line) for line in j.stdout.splitlines()]
        if j.returncode != 0 or [x["tls"] for x in records] != ["unverified"]:
            fail(f"smtp:// --json: tls should be 'unverified': {j.stdout}{j.stderr}")

        r, text, why = send(tmp, f"smtp+starttls://127.0.0.1:{srv.port}", "strict")
        if r.returncode != 77:
            fail(f"smtp+starttls:// to a self-signed certificate: exit {r.returncode}, "
                 f"wanted 77{why}")
        if "certificate" not in r.stdout + r.stderr or "TLS unverified" in text:
            fail(f"smtp+starttls://: the error should be about the certificate{why}")
        if len(srv.messages()) != 2:  # the two smtp:// sends above
            fail(f"smtp+starttls://: nothing should have been stored{why}")
    finally:
        srv.stop()

    srv = SessionServer(tmp / "broken", "--broken-tls")
    try:
        r, text, why = send(tmp, f"smtp://127.0.0.1:{srv.port}", "broken")
        if r.returncode != 0:
            fail(f"smtp:// to a broken STARTTLS: exit {r.returncode}{why}")
        stored = srv.messages()
        if len(stored) != 1 or stored[0]["tls"]:
            fail(f"smtp:// to a broken STARTTLS: one plaintext message expected: {stored}{why}")
        if "* TLS handshake failed" not in text or text.count("C: EHLO") != 2:
            fail(f"the transcript should show the failed handshake and a new session{why}")
    finally:
        srv.stop()
print("ok: opportunistic TLS: unverified but encrypted, strict refused, plaintext fallback")
