# SPDX-License-Identifier: LGPL-2.1-or-later
"""A scripted SMTP server on standard input and output, for `--via exec:`:
recipients whose local part starts with "refused" get 550, "deferred" 451,
every other one 250; no network, nothing stored."""
import sys


def reply(text):
    sys.stdout.write(text + "\r\n")
    sys.stdout.flush()


def main():
    reply("220 schema.test ESMTP")
    in_data = False
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        if in_data:
            if line == ".":
                in_data = False
                reply("250 2.0.0 Ok: queued as SCHEMA1")
            continue
        verb = line[:4].upper()
        if verb == "EHLO":
            reply("250-schema.test")
            reply("250-8BITMIME")
            reply("250 PIPELINING")
        elif verb in ("HELO", "RSET", "NOOP", "MAIL"):
            reply("250 2.1.0 Ok")
        elif verb == "RCPT":
            addr = line.partition("<")[2].partition(">")[0]
            if addr.startswith("refused"):
                reply("550 5.1.1 <%s>: Recipient address rejected" % addr)
            elif addr.startswith("deferred"):
                reply("451 4.3.0 <%s>: Try again later" % addr)
            else:
                reply("250 2.1.5 Ok")
        elif verb == "DATA":
            in_data = True
            reply("354 End data with <CR><LF>.<CR><LF>")
        elif verb == "QUIT":
            reply("221 2.0.0 Bye")
            return
        else:
            reply("502 5.5.2 Command not recognized")


main()
