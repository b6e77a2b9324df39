#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A stored message without MIME-Version whose body has a line over SMTP's
998 octets goes out re-encoded (issue 10): through `farceur send` to a real
SMTP server (aiosmtpd, tests/servers), it arrives with MIME-Version: 1.0 and
a Content-Transfer-Encoding, and Python's email reads the body back as it
was.  A message that needs no re-encoding arrives as it was written, without
a MIME-Version added.  A header line over 998 octets, which re-encoding
cannot shorten, is refused by `send --dry-run` as by a real send to that
server, in the same words (65); to an mbox, both take it.  TAP."""

import email
import email.policy
import os
import pathlib
import subprocess
import sys
import tempfile

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent / "send"))
from harness import Aiosmtpd  # noqa: E402

FARCEUR = os.environ["FARCEUR"]
results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))


def send(port, path, *extra, via=None):
    proc = subprocess.run([FARCEUR, "send", "--via", via or f"smtp://127.0.0.1:{port}",
                           "--from", "a@example.org", "--rcpt", "b@example.org", *extra,
                           str(path)],
                          capture_output=True, text=True, timeout=60)
    return proc.returncode, proc.stderr


def main():
    with tempfile.TemporaryDirectory(prefix="farceur-reencode-") as tmp:
        tmp = pathlib.Path(tmp)
        long_line = "word " * 600  # 3,000 octets
        plain = tmp / "long.eml"
        plain.write_text("From: a@example.org\nTo: b@example.org\nSubject: long line\n\n"
                         f"{long_line}\nend\n")
        short = tmp / "short.eml"
        short.write_text("From: a@example.org\nTo: b@example.org\nSubject: short\n\nshort\n")
        header = tmp / "header.eml"
        header.write_text("From: a@example.org\nTo: b@example.org\n"
                          f"Subject: {long_line}\n\nbody\n")
        refusal = "message line 3: 3009 octets, over SMTP's 998 even after re-encoding"
        out = tmp / "out"
        out.mkdir()
        server = Aiosmtpd(out, "--tls", "none")
        try:
            status, err = send(server.port, plain)
            check("long body line: delivered", status == 0, err)
            status, err = send(server.port, short)
            check("short lines: delivered", status == 0, err)
            status, err = send(server.port, header, "--retries", "0")
            check("long header line, real send: refused (65)", status == 65 and refusal in err,
                  f"{status}\n{err}")
            status, err = send(server.port, header, "--dry-run")
            check("long header line, --dry-run: refused the same way (65)",
                  status == 65 and refusal in err, f"{status}\n{err}")
            status, err = send(server.port, plain, "--dry-run")
            check("long body line, --dry-run: goes (re-encoded in a real send)", status == 0, err)
        finally:
            server.stop()
        mbox = f"mbox:{tmp / 'box.mbox'}"
        status, err = send(0, header, "--dry-run", via=mbox)
        check("long header line to an mbox, --dry-run: goes", status == 0, err)
        status, err = send(0, header, via=mbox)
        check("long header line to an mbox, real send: stored", status == 0, err)
        got = [email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
               for p in server.messages()]
        check("the refused message never reached the server", len(got) == 2, len(got))
        by_subject = {m["Subject"]: m for m in got}
        m = by_subject.get("long line")
        check("long body line: arrived", m is not None, [p.name for p in server.messages()])
        if m is not None:
            check("re-encoded: MIME-Version: 1.0", m["MIME-Version"] == "1.0", str(m))
            check("re-encoded: a Content-Transfer-Encoding",
                  m["Content-Transfer-Encoding"] in ("quoted-printable", "base64"), str(m))
            check("re-encoded: every line within 998 octets",
                  all(len(line) <= 998 for line in m.as_bytes().split(b"\n")))
            check("re-encoded: the body reads back as written",
                  m.get_content().replace("\r\n", "\n") == f"{long_line}\nend\n",
                  repr(m.get_content()[-80:]))
        s = by_subject.get("short")
        check("not re-encoded: no MIME-Version added", s is not None and s["MIME-Version"] is None,
              str(s))

    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            for line in str(detail).splitlines() or [""]:
                print(f"# {line}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
