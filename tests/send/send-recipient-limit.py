# SPDX-License-Identifier: LGPL-2.1-or-later
"""A server's limit of recipients per transaction (data/doc/smtp.md,
Sessions): a private Postfix with smtpd_recipient_limit=2 answers
"452 4.5.3 Error: too many recipients" past the second RCPT; one message to
five recipients, sent with --retries 0, reaches each of them exactly once
(Postfix's Delivered-To of each stored copy), reported delivered with five
accepted recipients and one attempt."""
import json
import subprocess
import tempfile
import pathlib

from harness import FARCEUR, Postfix, fail

RCPTS = [f"r{i}@limit.test" for i in range(1, 6)]

with tempfile.TemporaryDirectory(prefix="farceur-limit-") as tmp:
    msg = pathlib.Path(tmp) / "m.eml"
    msg.write_text("From: a@a.test\nTo: " + ", ".join(RCPTS) + "\nSubject: limit\n\nfive of us\n")
    with Postfix(main_cf="smtpd_recipient_limit=2") as pf:
        r = subprocess.run([FARCEUR, "send", "--json", "--retries", "0", "--transcript",
                            str(pathlib.Path(tmp) / "t.log"),
                            "--via", f"smtp://127.0.0.1:{pf.port}", str(msg)],
                           capture_output=True, text=True, timeout=120)
        transcript = (pathlib.Path(tmp) / "t.log").read_text(errors="replace")
        if r.returncode != 0:
            fail(f"exit {r.returncode}:\n{r.stdout}\n{r.stderr}\n{transcript[-3000:]}")
        if "too many recipients" not in transcript:
            fail(f"Postfix never said its limit: the test proves nothing\n{transcript[-3000:]}")
        record = json.loads(r.stdout.splitlines()[-1])
        accepted = sorted(o["addr"] for o in record["rcpt"] if o["status"] == "accepted")
        if record["state"] != "delivered" or accepted != RCPTS or record["attempts"] != 1:
            fail(f"wanted delivered to {RCPTS} in 1 attempt: {record}")
        delivered = [m["Delivered-To"] for m in pf.wait_delivered(len(RCPTS))]
        if sorted(delivered) != RCPTS:
            fail(f"Postfix delivered to {sorted(delivered)}, not once to each of {RCPTS}")
print("ok: a 452 recipient limit splits the message; each recipient once, no retry used")
