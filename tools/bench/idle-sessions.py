#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Holds N idle SMTP sessions open (greeting read, EHLO answered) until
stdin closes: the idle clients of tools/bench/catch's memory figure.

    idle-sessions.py PORT N      prints "idle N" once they are all open"""
import socket
import sys

port, count = int(sys.argv[1]), int(sys.argv[2])
sessions = []
for i in range(count):
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    f = s.makefile("rb")
    f.readline()
    s.sendall(b"EHLO idle.test\r\n")
    while not f.readline()[3:4] == b" ":
        pass
    sessions.append((s, f))
print("idle", len(sessions), flush=True)
sys.stdin.read()
for s, f in sessions:
    s.sendall(b"QUIT\r\n")
    s.close()
