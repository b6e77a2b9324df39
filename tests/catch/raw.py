#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur catch from raw sockets: what no polite client sends.  SMTP
smuggling (bare LF, bare CR, LF.LF and CR.CR look-alikes: refused as
Postfix 3.9 does, nothing stored, nothing smuggled), pipelining violations
(after DATA, after EHLO, before the greeting, without PIPELINING), plaintext
injected after STARTTLS (discarded), over-long lines, a client that never
sends the dot (timeout), one that disconnects mid-DATA, SIZE, the
connection limit, SMTPUTF8, LMTP, the small commands, and SIGTERM with
sessions in flight.  TAP."""
import signal
import ssl
import sys
import time

from harness import Catch, Raw, Tap

tap = Tap()


def hello(catch, name="raw.test"):
    c = Raw(catch.port)
    tap.equal("greeting", c.code(), 220)
    c.send(f"EHLO {name}\r\n")
    c.reply()
    return c


def open_data(c, rcpts=("b@example.org",)):
    c.send("MAIL FROM:<a@example.org>\r\n")
    codes = [c.code()]
    for r in rcpts:
        c.send(f"RCPT TO:<{r}>\r\n")
        codes.append(c.code())
    c.send("DATA\r\n")
    codes.append(c.code())
    return codes


def smuggling():
    cases = {
        "LF.LF": b"Subject: one\r\n\r\nx\n.\nMAIL FROM:<evil@example.org>\r\n",
        "CR.CR": b"Subject: one\r\n\r\nx\r.\rMAIL FROM:<evil@example.org>\r\n",
        "CRLF.LF": b"Subject: one\r\n\r\nx\r\n.\nMAIL FROM:<evil@example.org>\r\n",
        "LF.CRLF": b"Subject: one\r\n\r\nx\n.\r\nMAIL FROM:<evil@example.org>\r\n",
        "bare LF in a line": b"Subject: one\r\n\r\nx\ny\r\n",
        "bare CR in a line": b"Subject: one\r\n\r\nx\ry\r\n",
    }
    with Catch() as catch:
        for name, content in cases.items():
            c = hello(catch)
            tap.equal(f"smuggling {name}: DATA opens", open_data(c), [250, 250, 354])
            c.send(content + b"RCPT TO:<smuggled@example.org>\r\nDATA\r\nSubject: smuggled\r\n\r\n"
                   b"hi\r\n.\r\n")
            code, text = c.reply()
            tap.equal(f"smuggling {name}: refused with 550 at the real end", code, 550)
            tap.check(f"smuggling {name}: says bare LF or CR", "bare <" in (text or ""), text)
            c.send("RSET\r\n")
            tap.equal(f"smuggling {name}: the session goes on (RSET)", c.code(), 250)
            c.send("NOOP\n")
            tap.equal(f"smuggling {name}: a command ending in bare LF gets 550", c.code(), 550)
            c.close()
        catch.stop()
        tap.equal("smuggling: nothing stored", catch.stored(), [])
        tap.equal("smuggling: nothing left in tmp/", catch.leftovers(), [])
        tap.equal("smuggling: no record", catch.records, [])


def pipelining():
    with Catch("--delay", "greeting=500ms") as catch:
        c = Raw(catch.port)
        c.send("EHLO early.test\r\n")
        code, text = c.reply()
        tap.equal("before the greeting: 554", code, 554)
        tap.check("before the greeting: protocol synchronization", "synchronization" in text, text)
        tap.check("before the greeting: closed", c.closed())
        c = Raw(catch.port)
        tap.equal("waiting client: greeting after the delay", c.code(), 220)
        c.send("EHLO x\r\nMAIL FROM:<a@example.org>\r\n")
        tap.equal("input after EHLO: 554", c.code(), 554)
        c = hello(catch)
        c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\nSubject: x\r\n")
        tap.equal("content before the 354: MAIL, RCPT answered, DATA 554",
                  [c.code(), c.code(), c.code()], [250, 250, 554])
        tap.check("content before the 354: closed", c.closed())
        c = hello(catch)
        c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\nDATA\r\n")
        tap.equal("a group MAIL RCPT DATA is allowed", [c.code(), c.code(), c.code()],
                  [250, 250, 354])
        c.send("Subject: p\r\n\r\nbody\r\n.\r\nMAIL FROM:<a@example.org>\r\n"
               "RCPT TO:<b@example.org>\r\nDATA\r\n")
        tap.equal("the dot, then the next MAIL RCPT DATA, pipelined",
                  [c.code(), c.code(), c.code(), c.code()], [250, 250, 250, 354])
        c.send("Subject: q\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        tap.equal("the dot and QUIT pipelined", [c.code(), c.code()], [250, 221])
        c = Raw(catch.port)
        c.code()
        c.send("HELO old.test\r\n")
        c.code()
        c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.org>\r\n")
        tap.equal("pipelining after HELO (not offered): 554", c.code(), 554)
        catch.stop()
        tap.equal("pipelining: the two allowed messages stored", len(catch.stored()), 2)


def starttls_injection():
    with Catch() as catch:
        c = hello(catch)
        c.send("STARTTLS\r\nMAIL FROM:<injected@example.org>\r\n")
        tap.equal("STARTTLS with plaintext after it: 220", c.code(), 220)
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c.sock = ctx.wrap_socket(c.sock)
        c.send("EHLO raw.test\r\n")
        tap.equal("EHLO over TLS", c.code(), 250)
        c.send("RCPT TO:<b@example.org>\r\n")
        tap.equal("the injected MAIL did not count: RCPT needs MAIL (503)", c.code(), 503)
        c.close()
        catch.stop()
        tap.check("the transcript says what was discarded",
                  "discarded (CVE-2011-0411)" in catch.transcript(), catch.transcript())


def long_lines():
    with Catch() as catch:
        c = hello(catch)
        c.send("NOOP " + "x" * 1200 + "\r\n")
        tap.equal("a command over 1000 octets: 500", c.code(), 500)
        c.send("NOOP\r\n")
        tap.equal("the session goes on", c.code(), 250)
        open_data(c)
        c.send("Subject: long\r\n\r\n" + "y" * 1200 + "\r\n.\r\n")
        code, text = c.reply()
        tap.equal("a data line over 1000 octets: 500 at the dot", code, 500)
        c.close()
        catch.stop()
        tap.equal("long lines: nothing stored", catch.stored(), [])
    with Catch("--line-limit", "2000") as catch:
        c = hello(catch)
        open_data(c)
        c.send("Subject: long\r\n\r\n" + "y" * 1200 + "\r\n.\r\n")
        tap.equal("--line-limit 2000: the long line is taken", c.code(), 250)
        c.close()


def timeout_and_cut():
    with Catch("--timeout", "1") as catch:
        c = hello(catch)
        open_data(c)
        c.send("Subject: never ends\r\n\r\nno dot follows\r\n")
        started = time.monotonic()
        code, text = c.reply()
        waited = time.monotonic() - started
        tap.equal("no dot: 421 after the timeout", code, 421)
        tap.check("no dot: after about a second", 0.5 < waited < 10, waited)
        c = hello(catch)
        open_data(c)
        c.send("Subject: cut\r\n\r\nhalf a mess")
        time.sleep(0.2)
        c.close()
        time.sleep(0.5)
        catch.stop()
        tap.equal("no dot, cut: nothing stored", catch.stored(), [])
        tap.equal("no dot, cut: nothing left in tmp/", catch.leftovers(), [])
        tap.check("cut: the transcript says the client left",
                  "the client closed the connection" in catch.transcript(), catch.transcript())


def size_limit():
    with Catch("--max-size", "2000") as catch:
        c = hello(catch)
        c.send("MAIL FROM:<a@example.org> SIZE=5000\r\n")
        tap.equal("SIZE over the limit: 552", c.code(), 552)
        open_data(c)
        c.send("Subject: big\r\n\r\n" + ("z" * 70 + "\r\n") * 40 + ".\r\n")
        tap.equal("content over the limit: 552 at the dot", c.code(), 552)
        c.close()
        catch.stop()
        tap.equal("SIZE: nothing stored", catch.stored(), [])
        tap.check("SIZE announced", "SIZE 2000" in catch.transcript())


def limits_and_small_commands():
    with Catch("--max-connections", "2") as catch:
        a, b = hello(catch), hello(catch)
        c = Raw(catch.port)
        tap.equal("over --max-connections: 421", c.code(), 421)
        for line, code in [("VRFY bob@example.org", 252), ("EXPN staff", 502), ("HELP", 214),
                           ("NOOP", 250), ("RSET", 250), ("XYZZY", 500), ("DATA", 503),
                           ("RCPT TO:<b@example.org>", 503),
                           ("MAIL FROM:<zoé@exemple.fr>", 553),
                           ("MAIL FROM:<a@example.org> BODY=BINARYMIME", 555)]:
            a.send(line + "\r\n")
            tap.equal(f"{line}: {code}", a.code(), code)
        a.send("Subject: this is content, not a command\r\n")
        code, text = a.reply()
        tap.equal("a header field where a command belongs: 221, closed", code, 221)
        for i in range(25):
            b.send("XYZZY\r\n")
        codes = [b.code() for _ in range(21)]
        tap.equal("twenty errors: the 21st reply is 421", codes[-1], 421)
        c = Raw(catch.port)
        c.code()
        c.send("MAIL FROM:<a@example.org>\r\n")
        tap.equal("MAIL before EHLO: 503", c.code(), 503)
        c.send("HELO old.test\r\n")
        c.code()
        c.send("MAIL FROM:<a@example.org> BODY=8BITMIME\r\n")
        tap.equal("a parameter after HELO: 555", c.code(), 555)


def lmtp():
    with Catch("--lmtp", "--fail", "dot:full*=452 4.2.2 mailbox full") as catch:
        c = Raw(catch.port)
        c.code()
        c.send("EHLO x\r\n")
        tap.equal("LMTP: EHLO is refused", c.code(), 500)
        c.send("LHLO raw.test\r\n")
        tap.equal("LMTP: LHLO", c.code(), 250)
        tap.equal("LMTP: open", open_data(c, ["b@example.org", "full@example.org", "c@example.org"]),
                  [250, 250, 250, 250, 354])
        c.send("Subject: lmtp\r\n\r\nx\r\n.\r\n")
        replies = [c.reply() for _ in range(3)]
        tap.equal("LMTP: one reply per recipient", [r[0] for r in replies], [250, 452, 250])
        tap.check("LMTP: the refused one says why", "mailbox full" in replies[1][1], replies[1])
        c.close()
        catch.stop()
        records = catch.records
        tap.equal("LMTP: stored for the two accepted", records[0]["envelope"]["rcpt_to"],
                  ["b@example.org", "c@example.org"])
        tap.equal("LMTP: the protocol", records[0]["protocol"], "LMTP")


def sigterm_in_flight():
    with Catch() as catch:
        idle = hello(catch)
        in_data = hello(catch)
        open_data(in_data)
        in_data.send("Subject: in flight\r\n\r\nfirst half\r\n")
        in_mail = hello(catch)
        in_mail.send("MAIL FROM:<a@example.org>\r\n")
        in_mail.code()
        time.sleep(0.2)
        catch.proc.send_signal(signal.SIGTERM)
        code, text = idle.reply()
        tap.equal("SIGTERM: an idle session gets 421", code, 421)
        tap.check("SIGTERM: and is closed", idle.closed())
        in_data.send("second half\r\n.\r\n")
        tap.equal("SIGTERM: the message in flight is taken", in_data.code(), 250)
        in_data.send("QUIT\r\n")
        tap.equal("SIGTERM: then QUIT", in_data.code(), 221)
        in_mail.send("RCPT TO:<b@example.org>\r\nDATA\r\n")
        tap.equal("SIGTERM: a transaction begun goes on", [in_mail.code(), in_mail.code()],
                  [250, 354])
        in_mail.send("Subject: late\r\n\r\nx\r\n.\r\n")
        tap.equal("SIGTERM: and ends", in_mail.code(), 250)
        in_mail.send("MAIL FROM:<a@example.org>\r\n")
        tap.equal("SIGTERM: a new transaction gets 421", in_mail.code(), 421)
        tap.equal("SIGTERM: exit 0", catch.wait(), 0)
        tap.equal("SIGTERM: both messages stored", len(catch.stored()), 2)
        tap.check("SIGTERM: says it stops", "stopping" in catch.stderr, catch.stderr)


smuggling()
pipelining()
starttls_injection()
long_lines()
timeout_and_cut()
size_limit()
limits_and_small_commands()
lmtp()
sigterm_in_flight()
sys.exit(tap.done())
