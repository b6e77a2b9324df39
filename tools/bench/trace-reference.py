#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The reference for tools/bench/trace: reads an mbox, unfolds every
Received: value and only splits it into clauses with regular expressions
(keyword + next word, the date after the last ';').  No comment nesting, no
literals, no TLS, no dates parsed: the floor a regex script costs.
Prints the number of Received: headers and of clauses found.

usage: trace-reference.py MBOX
"""
import re
import sys

CLAUSE = re.compile(r"(?i)(?:^|\s)(from|by|via|with|id|for)\s+(\[[^\]]*\]|<[^>]*>|[^\s;()]+)")


def split(value, counts):
    head, semi, date = value.rpartition(";")
    if not semi:
        head, date = value, ""
    counts[0] += 1
    counts[1] += len(CLAUSE.findall(head))
    return date.strip()


def main():
    counts = [0, 0]
    in_headers = False
    current = None
    with open(sys.argv[1], encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("From "):
                in_headers = True
                continue
            if not in_headers:
                continue
            if line[:1] in (" ", "\t") and current is not None:
                current.append(line.strip())
                continue
            if current is not None:
                split(" ".join(current), counts)
                current = None
            if line in ("\n", "\r\n"):
                in_headers = False
            elif line[:9].lower() == "received:":
                current = [line[9:].strip()]
    print(counts[0], counts[1])


main()
