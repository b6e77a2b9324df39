# SPDX-License-Identifier: LGPL-2.1-or-later
"""AUTH is never sent in plaintext to a server that is not on loopback
(farceur-send(1), --allow-plaintext-auth; data/doc/exit-status.md, 77).  A remote server is made real here: a
network namespace of the test's own (iproute2) holding a veth pair,
10.201.N.1 <-> 10.201.N.2, with aiosmtpd (tests/servers/aiosmtpd-server.py)
on 10.201.N.2 and farceur run inside the namespace.  Without TLS, farceur
refuses (77) and the server's AUTH log stays empty; --allow-plaintext-auth
sends it; over STARTTLS (a certificate naming 10.201.N.2) it is sent; over
opportunistic STARTTLS whose certificate cannot be verified (no --tls-ca) it
is refused (77) unless --allow-plaintext-auth.  The
namespace leaves the host's own network untouched and is deleted at the
end.  Needs root: without it the test fails with the reason."""
import json
import os
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, Aiosmtpd, fail

MESSAGE = b"From: alice@example.com\nTo: bob@example.org\nSubject: remote\n\nHello.\n"
NET = 10 + os.getpid() % 200
NS = f"farceur-test-{os.getpid()}"
LOCAL, REMOTE = f"10.201.{NET}.1", f"10.201.{NET}.2"


def ip(*args):
    r = subprocess.run(["ip", *args], capture_output=True, text=True)
    if r.returncode != 0:
        fail(f"ip {' '.join(args)}: {r.stderr.strip()}")


def in_ns(*argv):
    return ["ip", "netns", "exec", NS, *argv]


def make_namespace():
    if os.geteuid() != 0:
        fail("needs root to make a network namespace (ip netns add)")
    ip("netns", "add", NS)
    for argv in (["link", "set", "lo", "up"],
                 ["link", "add", "fa0", "type", "veth", "peer", "name", "fa1"],
                 ["addr", "add", f"{LOCAL}/24", "dev", "fa0"],
                 ["addr", "add", f"{REMOTE}/24", "dev", "fa1"],
                 ["link", "set", "fa0", "up"], ["link", "set", "fa1", "up"]):
        ip("netns", "exec", NS, "ip", *argv)


def server(outdir, tls):
    outdir.mkdir()
    return Aiosmtpd(outdir, "--host", REMOTE, "--tls", tls, "--auth", prefix=in_ns())


def send(srv, msg, *options):
    return subprocess.run(in_ns(FARCEUR, "send", "--retries", "0", "--user", "tim",
                                "--via", f"smtp://{REMOTE}:{srv.port}", *options, str(msg)),
                          capture_output=True, text=True,
                          env={**os.environ, "FARCEUR_PASSWORD": "tanstaaf"})


def main(tmp):
    msg = tmp / "m.eml"
    msg.write_bytes(MESSAGE)
    srv = server(tmp / "plain", "none")
    try:
        r = send(srv, msg)
        if r.returncode != 77 or "refusing AUTH over an unencrypted connection" not in r.stderr:
            fail(f"plaintext AUTH to {REMOTE}: exit {r.returncode}, wanted 77: {r.stderr}")
        if srv.auth_log() or len(srv.messages()):
            fail(f"plaintext AUTH to {REMOTE}: the server got {srv.auth_log()!r}, "
                 f"{len(srv.messages())} messages")
        r = send(srv, msg, "--allow-plaintext-auth")
        if r.returncode != 0 or not srv.auth_log().startswith("AUTH ") or len(srv.messages()) != 1:
            fail(f"--allow-plaintext-auth: exit {r.returncode}: {r.stderr}; "
                 f"AUTH log {srv.auth_log()!r}")
    finally:
        srv.stop()
    srv = server(tmp / "starttls", "starttls")
    try:
        r = send(srv, msg, "--tls-ca", srv.ca)
        if r.returncode != 0 or len(srv.messages()) != 1:
            fail(f"AUTH after STARTTLS to {REMOTE}: exit {r.returncode}: {r.stderr}")
        if not json.loads((srv.outdir / "1.json").read_text())["auth"]:
            fail("the message after STARTTLS was not sent authenticated")
        # smtp:// without the CA: opportunistic TLS on an unverified certificate
        # encrypts, but carries no password to a remote server
        r = send(srv, msg)
        if r.returncode != 77 or "unverified certificate" not in r.stderr:
            fail(f"AUTH over unverified TLS to {REMOTE}: exit {r.returncode}, wanted 77: "
                 f"{r.stderr}")
        if srv.auth_log().count("AUTH ") != 1 or len(srv.messages()) != 1:
            fail(f"AUTH over unverified TLS: the server got AUTH log {srv.auth_log()!r}")
        r = send(srv, msg, "--allow-plaintext-auth")
        if r.returncode != 0 or len(srv.messages()) != 2:
            fail(f"AUTH over unverified TLS with --allow-plaintext-auth: exit {r.returncode}: "
                 f"{r.stderr}")
    finally:
        srv.stop()


make_namespace()
try:
    with tempfile.TemporaryDirectory() as tmp:
        main(pathlib.Path(tmp))
finally:
    subprocess.run(["ip", "netns", "del", NS])
print(f"ok: AUTH refused in plaintext to {REMOTE}, sent with --allow-plaintext-auth "
      "and after STARTTLS")
