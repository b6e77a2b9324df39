# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur send against a private Postfix offering AUTH through Cyrus SASL
(tests/servers/postfix.sh with a sasldb user): CRAM-MD5, PLAIN and LOGIN
each log in (Postfix's log names the method and the user), CRAM-MD5 is the
default choice, a wrong password gets 535 and exit 77 with nothing
delivered, and no transcript holds the password in any form."""
import base64
import os
import pathlib
import re
import subprocess
import tempfile

from harness import FARCEUR, Postfix, fail

USER, PASSWORD = "tim", "s3cret pass"
MESSAGE = b"From: alice@example.com\nTo: bob@example.org\nSubject: auth {}\n\nHello.\n"


def send(url, path, transcript, password, *options):
    return subprocess.run([FARCEUR, "send", "--retries", "0", "--via", url,
                           "--transcript", str(transcript), *options, str(path)],
                          capture_output=True, text=True,
                          env={**os.environ, "FARCEUR_PASSWORD": password})


def forms_of(password):
    """The password as it could leak: plain, and base64 in PLAIN and LOGIN."""
    plain = base64.b64encode(f"\0{USER}\0{password}".encode()).decode()
    return [password, base64.b64encode(password.encode()).decode(), plain]


def check_transcript(path, password, mech):
    text = path.read_text()
    if f"AUTH {mech}" not in text:
        fail(f"{mech}: no AUTH {mech} in the transcript:\n{text}")
    for form in forms_of(password):
        if form in text:
            fail(f"{mech}: the transcript holds the password ({form!r}):\n{text}")
    # A CRAM-MD5 response is a digest keyed by the password: redacted too.
    for line in text.splitlines():
        if line.startswith("C: ") and re.fullmatch(r"C: [A-Za-z0-9+/=]{16,}", line):
            fail(f"{mech}: an AUTH payload is shown: {line}")


with Postfix(sasl=(USER, PASSWORD)) as pf, tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    url = f"smtp://{USER}@127.0.0.1:{pf.port}"
    delivered = 0
    for n, mech in enumerate(["CRAM-MD5", "PLAIN", "LOGIN", None], 1):
        label = mech or "default"
        msg = tmp / f"{n}.eml"
        msg.write_bytes(MESSAGE.replace(b"{}", label.encode()))
        transcript = tmp / f"{label}.txt"
        r = send(url, msg, transcript, PASSWORD, *(["--auth", mech] if mech else []))
        if r.returncode != 0:
            fail(f"AUTH {label}: exit {r.returncode}: {r.stderr}")
        delivered += 1
        pf.wait_delivered(delivered)
        check_transcript(transcript, PASSWORD, mech or "CRAM-MD5")
        used = re.findall(r"sasl_method=([A-Z0-9-]+), sasl_username=(\S+)", pf.log())
        if not used or used[-1] != (mech or "CRAM-MD5", f"{USER}@farceur.test"):
            fail(f"AUTH {label}: Postfix logged {used[-1:]}\n{pf.log()[-2000:]}")

    wrong = "not the password"
    for mech in ["CRAM-MD5", "PLAIN"]:
        transcript = tmp / f"wrong-{mech}.txt"
        r = send(url, tmp / "1.eml", transcript, wrong, "--auth", mech)
        if r.returncode != 77 or "535" not in r.stderr:
            fail(f"wrong password over {mech}: exit {r.returncode}, wanted 77 and the 535: "
                 f"{r.stderr}")
        check_transcript(transcript, wrong, mech)
        if "MAIL FROM" in transcript.read_text():
            fail(f"wrong password over {mech}: a transaction was started anyway")
    pf.wait_delivered(delivered)
    if not re.search(r"SASL CRAM-MD5 authentication failed", pf.log()):
        fail("Postfix did not log the failed CRAM-MD5 login")
print("ok: AUTH CRAM-MD5/PLAIN/LOGIN against Postfix + Cyrus SASL, default CRAM-MD5, "
      "535 -> 77, no password in transcripts")
