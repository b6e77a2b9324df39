#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a deterministic mbox of about SIZE MB for the inspect benchmark:
plain text, multipart/alternative, attachments of 50 KB - 2 MB, quoted-printable
bodies, RFC 2047 subjects.  Same SEED, same bytes.
Usage: inspect-gen.py OUTPUT [SIZE_MB=300] [SEED=1]"""
import base64
import quopri
import random
import sys
from email.header import Header

WORDS = ("été café naïve prank farceur message réunion élève groupe courriel pièce "
         "jointe bonjour merci the quick brown fox jumps over lazy dog").split()


def text(rng, n):
    out, line = [], []
    for _ in range(n):
        line.append(rng.choice(WORDS))
        if len(line) > rng.randint(8, 14):
            out.append(" ".join(line))
            line = []
    out.append(" ".join(line))
    return "\n".join(out) + "\n"


def qp(s):
    return quopri.encodestring(s.encode()).decode()


def b64(data):
    return base64.encodebytes(data).decode()


def headers(rng, i, ctype):
    subject = Header(f"Félicitations n°{i} {rng.choice(WORDS)}", "utf-8").encode()
    return (f"From sender{i}@a.example Mon Jan  1 00:00:00 2024\n"
            f"Return-Path: <bounce{i}@evil.example>\n"
            f"Received: from mx.a.example by mx.b.example with ESMTPS id {i}"
            f" for <u{i}@b.example>; Mon, 1 Jan 2024 00:00:{i % 60:02d} +0000\n"
            f"From: =?utf-8?q?Al=C3=AFce?= <alice{i}@a.example>\n"
            f"To: u{i}@b.example\nSubject: {subject}\n"
            f"Date: Mon, 1 Jan 2024 00:00:{i % 60:02d} +0000\n"
            f"Message-ID: <bench-{i}@a.example>\nMIME-Version: 1.0\n{ctype}\n")


def plain(rng, i):
    return (headers(rng, i, "Content-Type: text/plain; charset=utf-8\n"
                    "Content-Transfer-Encoding: quoted-printable")
            + "\n" + qp(text(rng, rng.randint(300, 3000))))


def alternative(rng, i):
    body = text(rng, rng.randint(300, 3000))
    html = "<html><body><p>" + body.replace("\n", "</p>\n<p>") + "</p></body></html>\n"
    return (headers(rng, i, f'Content-Type: multipart/alternative; boundary="alt-{i}"')
            + f"\n--alt-{i}\nContent-Type: text/plain; charset=utf-8\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n{qp(body)}"
            f"--alt-{i}\nContent-Type: text/html; charset=utf-8\n"
            f"Content-Transfer-Encoding: quoted-printable\n\n{qp(html)}--alt-{i}--\n")


def attachments(rng, i):
    out = [headers(rng, i, f'Content-Type: multipart/mixed; boundary="mix-{i}"'),
           f"\n--mix-{i}\nContent-Type: text/plain; charset=utf-8\n"
           f"Content-Transfer-Encoding: quoted-printable\n\n{qp(text(rng, 200))}"]
    for k in range(rng.randint(1, 2)):
        size = rng.randint(50 * 1024, 2 * 1024 * 1024)
        out.append(f"--mix-{i}\nContent-Type: application/pdf; name=\"pi\u00e8ce-{k}.pdf\"\n"
                   f"Content-Disposition: attachment; filename*=utf-8''pi%C3%A8ce-{k}.pdf\n"
                   f"Content-Transfer-Encoding: base64\n\n{b64(rng.randbytes(size))}")
    out.append(f"--mix-{i}--\n")
    return "".join(out)


def main():
    path = sys.argv[1]
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    written, i = 0, 0
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        while written < size * 1024 * 1024:
            kind = rng.random()
            msg = plain(rng, i) if kind < 0.35 else alternative(rng, i) if kind < 0.7 \
                else attachments(rng, i)
            msg += "\n"
            f.write(msg)
            written += len(msg.encode())
            i += 1
    print(f"{path}: {i} messages, {written / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
