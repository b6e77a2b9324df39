#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur catch against swaks, msmtp and curl (Debian packages; tools/setup
installs them): plain, pipelined (swaks --pipeline), STARTTLS, implicit
TLS, AUTH PLAIN and LOGIN against --users; curl's smtp:// upload with and
without --crlf (a file with LF line ends sent as is has bare LFs: refused,
as Postfix 3.9 refuses them).  Each stored message is checked.  TAP."""
import os
import shutil
import subprocess
import sys

from harness import Catch, Tap, body_after_header, parse

tap = Tap()
MESSAGE = ("From: Client <client@example.org>\r\nTo: Dest <dest@example.com>\r\n"
           "Subject: {subject}\r\nMessage-ID: <{subject}@example.org>\r\n\r\n"
           "line one\r\n.starts with a dot\r\nlast line\r\n")


def need(*tools):
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        print(f"Bail out! missing {missing}: tools/setup installs the Debian packages")
        sys.exit(1)


def run(argv, stdin=None, env=None):
    proc = subprocess.run(argv, input=stdin, capture_output=True, timeout=60, env=env)
    return proc.returncode, proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")


def stored_subjects(catch):
    return sorted(str(parse(o)["Subject"]) for _, o in catch.stored())


def swaks(catch, users):
    base = ["swaks", "--server", f"127.0.0.1:{catch.port}", "--helo", "swaks.test",
            "-f", "client@example.org", "-t", "dest@example.com"]
    status, out = run(base + ["--header", "Subject: swaks-plain"])
    tap.equal("swaks: plain", status, 0)
    status, out = run(base + ["--pipeline", "--header", "Subject: swaks-pipeline"])
    tap.equal("swaks --pipeline", status, 0)
    lines = [l for l in out.splitlines() if l.startswith((" -> ", "<-  ", "<** "))]
    mail = next(i for i, l in enumerate(lines) if "MAIL FROM" in l)
    tap.check("swaks --pipeline sent MAIL, RCPT and DATA before any reply",
              [l[:4] for l in lines[mail:mail + 3]] == [" -> "] * 3, "\n".join(lines))
    status, out = run(base + ["--tls", "--header", "Subject: swaks-starttls", "-a", "PLAIN",
                              "-au", "tim", "-ap", "tanstaafl"])
    tap.equal("swaks --tls -a PLAIN", status, 0)
    tap.check("swaks --tls: the handshake shows", "TLS started" in out, out)
    status, out = run(["swaks", "--server", f"127.0.0.1:{catch.ports['smtps']}", "--tlsc",
                       "--helo", "swaks.test", "-f", "client@example.org", "-t",
                       "dest@example.com", "--header", "Subject: swaks-implicit", "-a", "LOGIN",
                       "-au", "tim", "-ap", "tanstaafl"])
    tap.equal("swaks --tlsc (implicit TLS) -a LOGIN", status, 0)
    status, out = run(base + ["-a", "LOGIN", "-au", "tim", "-ap", "wrong",
                              "--header", "Subject: swaks-wrong"])
    tap.check("swaks with a wrong password fails (535)", status != 0 and "535" in out, out)


def msmtp(catch, tmp):
    config = tmp / "msmtprc"
    config.write_text(f"account default\nhost 127.0.0.1\nport {catch.port}\n"
                      "from client@example.org\ndomain msmtp.test\ntls on\ntls_starttls on\n"
                      "tls_certcheck off\nauth plain\nuser tim\npassword tanstaafl\n")
    config.chmod(0o600)
    status, out = run(["msmtp", "-C", str(config), "dest@example.com"],
                      stdin=MESSAGE.format(subject="msmtp-starttls").replace("\r\n", "\n").encode())
    tap.equal("msmtp: STARTTLS + AUTH PLAIN", status, 0)
    status, out = run(["msmtp", "-C", "/dev/null", "--host=127.0.0.1", f"--port={catch.port}",
                       "--tls=off", "--auth=off", "--domain=msmtp.test",
                       "--from=client@example.org", "dest@example.com"],
                      stdin=MESSAGE.format(subject="msmtp-plain").replace("\r\n", "\n").encode())
    tap.equal("msmtp: plain", status, 0)


def curl(catch, tmp):
    crlf = tmp / "crlf.eml"
    crlf.write_bytes(MESSAGE.format(subject="curl-crlf").encode())
    lf = tmp / "lf.eml"
    lf.write_bytes(MESSAGE.format(subject="curl-lf").replace("\r\n", "\n").encode())
    base = ["curl", "-sS", "--mail-from", "client@example.org", "--mail-rcpt", "dest@example.com",
            "--mail-rcpt", "other@example.com"]
    status, out = run(base + [f"smtp://127.0.0.1:{catch.port}/curl.test", "-T", str(crlf)])
    tap.equal("curl smtp:// upload", status, 0)
    status, out = run(base + [f"smtp://127.0.0.1:{catch.port}/curl.test", "-T", str(lf)])
    tap.check("curl: a file with bare LFs is refused (550 bare <LF>)", status != 0, out)
    status, out = run(base + [f"smtp://127.0.0.1:{catch.port}/curl.test", "--crlf", "-T",
                              str(lf)])
    tap.equal("curl --crlf: the same file is taken", status, 0)
    status, out = run(base + [f"smtp://127.0.0.1:{catch.port}/curl.test", "--ssl-reqd", "-k",
                              "-u", "tim:tanstaafl", "--login-options", "AUTH=LOGIN", "-T",
                              str(crlf)])
    tap.equal("curl --ssl-reqd (STARTTLS) AUTH=LOGIN", status, 0)
    status, out = run(base + [f"smtps://127.0.0.1:{catch.ports['smtps']}/curl.test", "-k", "-T",
                              str(crlf)])
    tap.equal("curl smtps:// (implicit TLS)", status, 0)
    return crlf.read_bytes()


def main():
    need("swaks", "msmtp", "curl")
    import pathlib
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        (tmp / "users").write_text("tim:tanstaafl\n")
        with Catch("--users", str(tmp / "users"), tls=True) as catch:
            swaks(catch, tmp / "users")
            msmtp(catch, tmp)
            sent = curl(catch, tmp)
            tap.equal("SIGTERM: exit 0", catch.stop(), 0)
            subjects = stored_subjects(catch)
            tap.equal("every accepted message is stored, once",
                      subjects, sorted(["swaks-plain", "swaks-pipeline", "swaks-starttls",
                                        "swaks-implicit", "msmtp-starttls", "msmtp-plain",
                                        "curl-crlf", "curl-lf", "curl-crlf", "curl-crlf"]))
            records = catch.records
            by = {}
            for r in records:
                by.setdefault(r["subject"], []).append(r)
            tap.equal("swaks --tls: ESMTPSA", by["swaks-starttls"][0]["protocol"], "ESMTPSA")
            tap.equal("swaks --tlsc: ESMTPSA", by["swaks-implicit"][0]["protocol"], "ESMTPSA")
            tap.equal("msmtp: the user", by["msmtp-starttls"][0]["client"]["user"], "tim")
            tap.equal("msmtp: the HELO name", by["msmtp-plain"][0]["client"]["helo"], "msmtp.test")
            tap.equal("curl: both recipients", by["curl-lf"][0]["envelope"]["rcpt_to"],
                      ["dest@example.com", "other@example.com"])
            tap.equal("curl: the recipient not in To is only in the envelope",
                      by["curl-lf"][0]["envelope_only"], ["other@example.com"])
            plain = next(o for _, o in catch.stored() if b"Subject: curl-crlf" in o)
            tap.equal("curl: the stored octets are the file's (LF line ends)",
                      body_after_header(plain), sent.replace(b"\r\n", b"\n"))
            tap.check("the refused LF upload left nothing", not catch.leftovers())


main()
sys.exit(tap.done())
