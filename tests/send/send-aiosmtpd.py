# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur send against aiosmtpd (tests/servers/aiosmtpd-server.py) with
TLS on a throwaway CA and AUTH: STARTTLS + AUTH PLAIN with the password
from --password-command, implicit TLS (smtps://) + AUTH LOGIN with
FARCEUR_PASSWORD; the stored message equals the input; the transcript never
shows the password; an untrusted certificate is refused (77) unless
--insecure, which warns.  (A wrong password is not tested here: aiosmtpd
1.4.3 as set up by aiosmtpd-server.py never answers it, smtplib times out too.)"""
import base64
import os
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, Aiosmtpd, fail

MESSAGE = (b"From: Alice <alice@example.com>\r\nTo: bob@example.org\r\nSubject: tls\r\n"
           b"\r\nHello over TLS.\r\n.leading dot\r\n")


def send(*args, env=None):
    return subprocess.run([FARCEUR, "send", *args], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


def check_stored(srv, count, what):
    msgs = srv.messages()
    if len(msgs) != count:
        fail(f"{what}: {len(msgs)} messages stored, wanted {count}")
    if count and msgs[-1].read_bytes() != MESSAGE:
        fail(f"{what}: stored {msgs[-1].read_bytes()!r}\nwanted {MESSAGE!r}")


with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    msg = tmp / "m.eml"
    msg.write_bytes(MESSAGE)
    secret = "tanstaaf"

    out = tmp / "starttls"
    out.mkdir()
    srv = Aiosmtpd(out, "--tls", "starttls", "--auth")
    try:
        transcript = tmp / "transcript"
        r = send("--via", f"smtp+starttls://tim@127.0.0.1:{srv.port}", "--tls-ca", srv.ca,
                 "--auth", "PLAIN", "--password-command", f"echo {secret}",
                 "--transcript", str(transcript), str(msg))
        if r.returncode != 0:
            fail(f"STARTTLS + AUTH PLAIN: exit {r.returncode}: {r.stdout}{r.stderr}")
        check_stored(srv, 1, "STARTTLS + AUTH PLAIN")
        text = transcript.read_text()
        plain = base64.b64encode(b"\0tim\0" + secret.encode()).decode()
        if "STARTTLS" not in text or "AUTH PLAIN" not in text or secret in text or plain in text:
            fail(f"transcript must show STARTTLS and AUTH but not the password:\n{text}")

        r = send("--via", f"smtp+starttls://127.0.0.1:{srv.port}", str(msg))
        if r.returncode != 77:
            fail(f"untrusted certificate: exit {r.returncode}, wanted 77: {r.stderr}")
        check_stored(srv, 1, "untrusted certificate")
        r = send("--via", f"smtp+starttls://127.0.0.1:{srv.port}", "--insecure", "--user", "tim",
                 str(msg), env={"FARCEUR_PASSWORD": secret})
        if r.returncode != 0 or "warning: --insecure" not in r.stderr:
            fail(f"--insecure: exit {r.returncode}: {r.stderr}")
        check_stored(srv, 2, "--insecure")
    finally:
        srv.stop()

    out = tmp / "implicit"
    out.mkdir()
    srv = Aiosmtpd(out, "--tls", "implicit", "--auth")
    try:
        r = send("--via", f"smtps://tim@127.0.0.1:{srv.port}", "--tls-ca", srv.ca, "--auth",
                 "LOGIN", str(msg), env={"FARCEUR_PASSWORD": secret})
        if r.returncode != 0:
            fail(f"smtps + AUTH LOGIN: exit {r.returncode}: {r.stderr}")
        check_stored(srv, 1, "smtps + AUTH LOGIN")
    finally:
        srv.stop()
    print("ok: STARTTLS/implicit TLS with AUTH PLAIN/LOGIN, redacted transcript, 77 on an untrusted cert")
