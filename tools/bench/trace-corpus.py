#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes a deterministic mbox for tools/bench/trace: N messages (default
20,000), each with 3 to 8 Received: headers in the shapes of Postfix, Exim,
Sendmail, qmail, Exchange/Microsoft 365, Gmail, Courier, OpenSMTPD, Dovecot
LMTP and fetchmail.  Prints the number of Received: headers written.

usage: trace-corpus.py OUTPUT [MESSAGES]
"""
import random
import sys
from datetime import datetime, timedelta, timezone

rng = random.Random(20261123)
TLDS = ["example", "example.com", "example.net", "example.org"]
CIPHERS = ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256", "TLS_CHACHA20_POLY1305_SHA256"]


def host():
    return "%s%d.%s" % (rng.choice(["mx", "mail", "smtp", "relay", "out", "in"]),
                        rng.randrange(100), rng.choice(TLDS))


def ip():
    if rng.random() < 0.15:
        return "2001:db8:%x::%x" % (rng.randrange(65536), rng.randrange(65536))
    return "%d.%d.%d.%d" % (rng.choice([192, 198, 203, 8, 64, 10]), rng.randrange(256),
                            rng.randrange(256), rng.randrange(1, 255))


def qid(n=12):
    return "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz")
                   for _ in range(n))


def rcpt():
    return "user%d@%s" % (rng.randrange(1000), rng.choice(TLDS))


def literal(a):
    return "[IPv6:%s]" % a if ":" in a else "[%s]" % a


def postfix(frm, by, a, when):
    tls = rng.random() < 0.7
    return ("from %s (%s %s)\n%s\tby %s (Postfix) with %s id %s\n\tfor <%s>; %s" % (
        frm, frm, literal(a),
        "\t(using TLSv1.3 with cipher %s (256/256 bits)\n\t key-exchange X25519 server-signature "
        "RSA-PSS (2048 bits) server-digest SHA256)\n\t(No client certificate requested)\n"
        % rng.choice(CIPHERS) if tls else "",
        by, "ESMTPS" if tls else "ESMTP", qid(10), rcpt(), when))


def exim(frm, by, a, when):
    return ("from %s (%s helo=%s)\n\tby %s with esmtps (TLS1.3) tls %s\n\t(Exim 4.96)\n"
            "\t(envelope-from <bounce@%s>)\n\tid 1q%s-000%s-%s\n\tfor %s; %s" % (
                frm, literal(a), frm, by, rng.choice(CIPHERS), rng.choice(TLDS), qid(4), qid(3),
                qid(2), rcpt(), when))


def sendmail(frm, by, a, when):
    return ("from %s (%s %s)\n\tby %s (8.17.1/8.17.1) with ESMTPS id %s\n"
            "\t(version=TLSv1.3 cipher=%s bits=256 verify=NOT)\n\tfor <%s>; %s" % (
                frm, frm, literal(a), by, qid(14), rng.choice(CIPHERS), rcpt(), when))


def qmail(frm, by, a, when):
    return "from unknown (HELO %s) (%s)\n\tby %s with SMTP; %s" % (frm, a, by, when)


def m365(frm, by, a, when):
    return ("from %s (%s) by %s\n\t(2603:10b6:805:3c::20) with Microsoft SMTP Server (version=TLS1_2,"
            "\n\tcipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.%d.%d via Frontend"
            "\n\tTransport; %s" % (frm, a, by, rng.randrange(9999), rng.randrange(99), when))


def gmail(frm, by, a, when):
    return ("from %s (%s. %s)\n\tby mx.google.com with ESMTPS id %s.%d.2026.11.23.01.02.03\n"
            "\tfor <%s>\n\t(version=TLS1_3 cipher=%s bits=256/256);\n\t%s" % (
                frm, frm, literal(a), qid(16), rng.randrange(999), rcpt(), rng.choice(CIPHERS),
                when))


def courier(frm, by, a, when):
    return ("from %s (%s [::ffff:%s])\n\t(TLS: TLSv1.2,256bits,ECDHE-RSA-AES256-GCM-SHA384)\n"
            "\tby %s with ESMTPS; %s\n\tid 0000000A.%s.0000%s" % (
                frm, frm, a if ":" not in a else "192.0.2.1", by, when, qid(8), qid(4)))


def opensmtpd(frm, by, a, when):
    return ("from %s (%s %s)\n\tby %s (OpenSMTPD) with ESMTPS id %s\n"
            "\t(TLSv1.3:%s:256:NO)\n\tfor <%s>; %s" % (
                frm, frm, literal(a), by, qid(8).lower(), rng.choice(CIPHERS), rcpt(), when))


def lmtp(frm, by, a, when):
    return ("from %s\n\tby %s with LMTP\n\tid %s\n\t(envelope-from <news@%s>)\n\tfor <%s>; %s" % (
        frm, by, qid(22), rng.choice(TLDS), rcpt(), when))


FAMILIES = [postfix, exim, sendmail, qmail, m365, gmail, courier, opensmtpd]


def message(index, out):
    hops = rng.randrange(3, 9)
    sent = datetime(2026, 1, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randrange(30000000))
    hosts = [host() for _ in range(hops + 1)]
    when = sent
    headers = []
    for h in range(hops):
        when += timedelta(seconds=rng.choice([0, 1, 1, 2, 3, 5, 30, 400]))
        family = lmtp if h == hops - 1 else rng.choice(FAMILIES)
        stamp = when.strftime("%a, %d %b %Y %H:%M:%S +0000")
        headers.append("Received: " + family(hosts[h], hosts[h + 1], ip(), stamp))
    out.write("From bounce@example.com %s\n" % sent.strftime("%a %b %d %H:%M:%S %Y"))
    for value in reversed(headers):
        out.write(value + "\n")
    out.write("Date: %s\nFrom: <a%d@example.com>\nTo: <b@example.net>\n"
              "Subject: message %d\nMessage-ID: <%d.%s@example.com>\n\n"
              "Hello %d.\nThis body is short on purpose: the benchmark is about headers.\n\n"
              % (sent.strftime("%a, %d %b %Y %H:%M:%S +0000"), index, index, index, qid(), index))
    return hops


def main():
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    total = 0
    with open(sys.argv[1], "w") as out:
        for i in range(count):
            total += message(i, out)
    print(total)


main()
