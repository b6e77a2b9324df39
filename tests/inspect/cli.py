#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur inspect, end to end: output shapes, envelope flags, extraction
safety with hostile file names, the GMime issue-165 input under a time limit,
and a compose -> inspect round trip checked against Python's email.
TAP on stdout; env FARCEUR = the built binary, G_TEST_SRCDIR = tests/."""
import email
import hashlib
import json
import os
import subprocess
import sys
import tempfile
from email import policy

FARCEUR = os.environ["FARCEUR"]
SRCDIR = os.environ["G_TEST_SRCDIR"]
TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def run(*args, stdin=None, timeout=30):
    return subprocess.run([FARCEUR, *args], input=stdin, capture_output=True, timeout=timeout)


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def json_lines(proc):
    check(proc.returncode == 0, f"exit {proc.returncode}: {proc.stderr.decode()}")
    return [json.loads(line) for line in proc.stdout.decode().splitlines()]


def write(tmp, name, data):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    return path


PRANK = """Return-Path: <mallory@evil.example>
Envelope-to: bob@b.example, carol@c.example
Delivered-To: bob@b.example
Received: from mx.evil.example (mx.evil.example [192.0.2.1])
\tby mx.b.example with ESMTP id 1 for <bob@b.example>; Mon, 1 Jan 2024 00:00:01 +0000
From: =?utf-8?q?Al=C3=AFce?= <alice@a.example>
To: Bob <bob@b.example>
Subject: =?utf-8?b?RsOpbGljaXRhdGlvbnMg8J+OiQ==?=
Date: Mon, 1 Jan 2024 01:00:00 +0100
Message-ID: <prank-1@a.example>
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"

--b1
Content-Type: text/plain; charset=UTF-8
Content-Transfer-Encoding: quoted-printable

Bonjour =C3=A9t=C3=A9
--b1
Content-Type: application/pdf; name="flyer.pdf"
Content-Disposition: attachment; filename*=UTF-8''flyer%20%C3%A9t%C3%A9.pdf
Content-Transfer-Encoding: base64
Content-ID: <f1@a.example>

JVBERi0xLjQK
--b1--
"""


@test
def json_schema_and_values():
    with tempfile.TemporaryDirectory() as tmp:
        (msg,) = json_lines(run("inspect", "--json", write(tmp, "prank.eml", PRANK)))
    check(list(msg) == ["source", "size", "subject", "from", "to", "cc", "reply_to", "date",
                        "message_id", "envelope", "parts", "warnings"], f"keys {list(msg)}")
    check(msg["size"] == len(PRANK.encode()), f"size {msg['size']}")
    check(msg["subject"] == "Félicitations 🎉", msg["subject"])
    check(msg["from"] == [{"name": "Alïce", "addr": "alice@a.example"}], msg["from"])
    check(msg["date"] == "2024-01-01T00:00:00Z", msg["date"])
    check(msg["message_id"] == "prank-1@a.example", msg["message_id"])
    check(msg["envelope"] == {"mail_from": "mallory@evil.example",
                              "rcpt_to": ["bob@b.example", "carol@c.example"],
                              "source": ["Return-Path", "Envelope-to", "Delivered-To"]},
          msg["envelope"])
    pdf = msg["parts"][1]
    check(pdf == {"path": "2", "content_type": "application/pdf", "charset": None,
                  "encoding": "base64", "disposition": "attachment",
                  "filename": "flyer été.pdf", "content_id": "f1@a.example", "decoded_size": 9,
                  "sha256": hashlib.sha256(b"%PDF-1.4\n").hexdigest()}, pdf)
    check(msg["parts"][0]["decoded_size"] == len("Bonjour été".encode()), msg["parts"][0])


@test
def human_output_shape():
    with tempfile.TemporaryDirectory() as tmp:
        proc = run("inspect", write(tmp, "prank.eml", PRANK))
    out = proc.stdout.decode()
    check(proc.returncode == 0, proc.stderr)
    check("\033[" not in out, "colour when piped")
    for want in ("Subject:  Félicitations 🎉", "From:     Alïce <alice@a.example>",
                 "MAIL FROM:<mallory@evil.example>", "RCPT TO:<bob@b.example>, <carol@c.example>",
                 "! envelope sender domain differs from the From domain",
                 "! recipient only in the envelope (Bcc): carol@c.example",
                 "`- multipart/mixed", "   |- 1    text/plain; charset=utf-8  quoted-printable",
                 '   `- 2    application/pdf  "flyer été.pdf"  attachment  base64  12 B -> 9 B  '
                 "sha256 " + hashlib.sha256(b"%PDF-1.4\n").hexdigest()[:8] + "..."):
        check(want in out, f"missing {want!r} in:\n{out}")


@test
def headers_flag():
    with tempfile.TemporaryDirectory() as tmp:
        (msg,) = json_lines(run("inspect", "--json", "--headers", write(tmp, "p.eml", PRANK)))
    names = [h["name"] for h in msg["headers"]]
    check(names[:3] == ["Return-Path", "Envelope-to", "Delivered-To"], names)
    check("Content-Type" in names and names.index("Content-Type") > names.index("Subject"), names)
    subject = [h["value"] for h in msg["headers"] if h["name"] == "Subject"]
    check(subject == ["Félicitations 🎉"], subject)


@test
def folded_header_keeps_its_tab():
    """A folded header is shown unfolded, the TAB that began its second
    line kept as white space, not shown as '?' (issue 9)."""
    with tempfile.TemporaryDirectory() as tmp:
        out = run("inspect", "--headers", write(tmp, "p.eml", PRANK)).stdout.decode()
    line = [l for l in out.splitlines() if l.strip().startswith("Received:")]
    check(line and line[0].endswith("(mx.evil.example [192.0.2.1])\tby mx.b.example with ESMTP id 1 "
                                    "for <bob@b.example>; Mon, 1 Jan 2024 00:00:01 +0000")
          and "?" not in line[0], repr(line))


@test
def terminal_escapes_are_neutralised():
    evil = "Subject: \x1b]0;owned\x07\x1b[2J hi\nFrom: a@a.example\n\nbody\n"
    with tempfile.TemporaryDirectory() as tmp:
        out = run("inspect", write(tmp, "e.eml", evil)).stdout.decode()
    check("\x1b" not in out and "\x07" not in out, repr(out))


@test
def mbox_stdin_and_missing_input():
    mbox = "From a Mon Jan  1 00:00:00 2024\nSubject: one\n\n1\n\nFrom b Mon Jan  1 00:00:00 2024\nSubject: two\n\n2\n"
    msgs = json_lines(run("inspect", "--json", "-", stdin=mbox.encode()))
    check([m["source"] for m in msgs] == ["-#1", "-#2"], msgs)
    check([m["subject"] for m in msgs] == ["one", "two"], msgs)
    proc = run("inspect", "/nonexistent/x.eml")
    check(proc.returncode == 66, f"exit {proc.returncode}")
    check(b"'/nonexistent/x.eml'" in proc.stderr, proc.stderr)


HOSTILE_NAMES = ["../../x", "/abs/path", "..\\..\\win", "ctl\x01name\x7f.txt", "CON", "con.txt",
                 ".", "..", "." * 5, ".hidden", "dup.txt", "DUP.txt", "a" * 300 + ".bin",
                 "nul%00byte.txt", "\u202egpj.exe", " spaced . "]


def hostile_message():
    parts = ["From: a@a.example\nSubject: hostile\nContent-Type: multipart/mixed; boundary=h\n\n"]
    for i, name in enumerate(HOSTILE_NAMES):
        encoded = "".join(c if c.isalnum() or c in "._-" else "%%%02X" % b
                          for c in name for b in c.encode())
        if name == "nul%00byte.txt":
            encoded = "nul%00byte.txt"
        parts.append(f"--h\nContent-Type: application/octet-stream\n"
                     f"Content-Disposition: attachment; filename*=UTF-8''{encoded}\n"
                     f"Content-Transfer-Encoding: base64\n\n"
                     + __import__("base64").b64encode(f"part {i}".encode()).decode() + "\n")
    parts.append("--h--\n")
    return "".join(parts)


@test
def extraction_stays_inside_and_never_overwrites():
    with tempfile.TemporaryDirectory() as tmp:
        src = write(tmp, "hostile.eml", hostile_message())
        out = os.path.join(tmp, "out")
        proc = run("inspect", "--extract", out, src)
        check(proc.returncode == 0, proc.stderr.decode())
        written = sorted(os.listdir(out))
        check(len(written) == len(HOSTILE_NAMES), written)
        for root, dirs, files in os.walk(tmp):
            check(root in (tmp, out) and not dirs or root == tmp, f"unexpected folder {root} {dirs}")
        check(sorted(os.listdir(tmp)) == ["hostile.eml", "out"], os.listdir(tmp))
        contents = sorted(open(os.path.join(out, f), "rb").read() for f in written)
        check(contents == sorted(f"part {i}".encode() for i in range(len(HOSTILE_NAMES))), contents)
        for name in written:
            check(not name.startswith(".") and "/" not in name and "\\" not in name, name)
            check(all(ord(c) >= 0x20 and c not in "\x7f\u202e" for c in name), repr(name))
            check(len(name.encode()) <= 210, name)
            check(name.split(".")[0].lower() not in ("con", "nul", ""), name)
        check("x" in written and "path" in written and "win" in written, written)
        check("dup.txt" in written and "DUP-2.txt" in written, written)
        before = {f: open(os.path.join(out, f), "rb").read() for f in written}
        again = run("inspect", "--extract", out, src)
        check(again.returncode == 73, f"second run exit {again.returncode}")
        check(b"--force" in again.stderr, again.stderr)
        check({f: open(os.path.join(out, f), "rb").read() for f in os.listdir(out)} == before,
              "files changed without --force")
        check(run("inspect", "--extract", out, "--force", src).returncode == 0, "--force")


@test
def extraction_refuses_planted_symlink():
    with tempfile.TemporaryDirectory() as tmp:
        src = write(tmp, "p.eml", PRANK)
        out = os.path.join(tmp, "out")
        os.mkdir(out)
        victim = write(tmp, "victim", "precious")
        os.symlink(victim, os.path.join(out, "flyer été.pdf"))
        proc = run("inspect", "--extract", out, "--force", "--part", "2", src)
        check(proc.returncode == 73, f"exit {proc.returncode} {proc.stderr}")
        check(open(victim).read() == "precious", "wrote through a symlink")


@test
def part_option():
    with tempfile.TemporaryDirectory() as tmp:
        src = write(tmp, "p.eml", PRANK)
        proc = run("inspect", "--part", "2", src)
        check(proc.returncode == 0 and proc.stdout == b"%PDF-1.4\n", proc)
        out = os.path.join(tmp, "out")
        check(run("inspect", "--extract", out, "--part", "1", src).returncode == 0, "--part 1")
        check(os.listdir(out) == ["part-1.txt"], os.listdir(out))
        check(run("inspect", "--part", "9", src).returncode == 65, "unknown part")


ISSUE_165 = ("From: a@a.example\nSubject: issue 165\nMIME-Version: 1.0\n"
             "Content-Type: multipart/mixed; ch\u00e9=1; \u00fcber=\u00e9\n\n"
             "no boundary here\n")
ISSUE_165_NESTED = ("From: a@a.example\nContent-Type: multipart/mixed; boundary=o\n\n--o\n"
                    "Content-Type: message/news\n\nSubject: inner\n"
                    "Content-Type: multipart/alternative; \u00e9=\u00e9\n\nx\n--o--\n")


@test
def issue_165_does_not_hang():
    with tempfile.TemporaryDirectory() as tmp:
        for i, text in enumerate((ISSUE_165, ISSUE_165_NESTED)):
            src = write(tmp, f"i{i}.eml", text)
            for args in (["--json", "--headers"], [], ["--extract", os.path.join(tmp, f"o{i}")]):
                proc = subprocess.run(["timeout", "10", FARCEUR, "inspect", *args, src],
                                      capture_output=True)
                check(proc.returncode in (0, 65), f"{args}: exit {proc.returncode} (124 = hang)")


@test
def compose_round_trip():
    data = os.path.join(SRCDIR, "data", "compose")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "m.eml")
        proc = subprocess.run([FARCEUR, "compose", os.path.join(data, "full.tmpl"), "--from",
                               "Ann <ann@a.example>", "--to", "Bob <bob@b.example>", "--date",
                               "2024-01-01T00:00:00Z", "--message-id", "rt@a.example", "-o", out],
                              capture_output=True)
        check(proc.returncode == 0, proc.stderr.decode())
        (msg,) = json_lines(run("inspect", "--json", out))
        with open(out, "rb") as f:
            py = email.message_from_bytes(f.read(), policy=policy.default)
    check(msg["subject"] == str(py["subject"]), (msg["subject"], py["subject"]))
    check(msg["message_id"] == "rt@a.example" and msg["date"] == "2024-01-01T00:00:00Z", msg)
    check(msg["from"] == [{"name": "Ann", "addr": "ann@a.example"}], msg["from"])
    leaves = [p for p in py.walk() if not p.is_multipart()]
    check([p["content_type"] for p in msg["parts"]] == [p.get_content_type() for p in leaves],
          msg["parts"])
    for ours, theirs in zip(msg["parts"], leaves):
        body = theirs.get_payload(decode=True)
        check(ours["sha256"] == hashlib.sha256(body).hexdigest(), ours)
        check(ours["filename"] == theirs.get_filename(), ours)
    by_name = {p["filename"]: p for p in msg["parts"] if p["filename"]}
    for name, path in (("logo.png", "logo.png"), ("Prospectus été.pdf", "flyer.pdf")):
        with open(os.path.join(data, path), "rb") as f:
            check(by_name[name]["sha256"] == hashlib.sha256(f.read()).hexdigest(), name)
    check(by_name["logo.png"]["content_id"] == "logo", by_name["logo.png"])


def main():
    print(f"1..{len(TESTS)}")
    failed = 0
    for n, fn in enumerate(TESTS, 1):
        try:
            fn()
            print(f"ok {n} - {fn.__name__}")
        except Exception as e:  # a failing check or a crash: both are failures
            failed += 1
            print(f"not ok {n} - {fn.__name__}")
            for line in str(e).splitlines() or [repr(e)]:
                print(f"# {line}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
