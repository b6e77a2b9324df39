#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real SMTP server for farceur's tests: aiosmtpd (Debian python3-aiosmtpd).

Listens on 127.0.0.1 (or --host), port 0, with a certificate from a
throwaway CA made here with openssl, and prints one JSON line on stdout:
    {"port": N, "ca": "/tmp/.../ca.pem"}
then serves until stdin is closed.  Each message is stored as
OUTDIR/N.eml (the content as aiosmtpd received it, dot-unstuffed) and
OUTDIR/N.json (the envelope); every AUTH command received is logged,
payload and all, to OUTDIR/auth.log.

  aiosmtpd-server.py OUTDIR [--host ADDR] [--tls starttls|implicit|none]
                     [--auth] [--stall-after-tls] [--delay-dot SECONDS]
                     [--verbose]

--auth requires AUTH (PLAIN or LOGIN, user "tim", password "tanstaaf"),
after STARTTLS with --tls starttls, at once otherwise.  --stall-after-tls never answers EHLO once TLS is up, for the
client's timeout under TLS.  --delay-dot waits that long before each
250 to the final dot: a slow server, for what a client shows while it
waits (a run that lasts at least messages / connections x SECONDS).  Any failure exits non-zero with the reason on
stderr: the test that started us reports it.
"""
import argparse
import asyncio
import json
import logging
import os
import ssl
import subprocess
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword

USER, PASSWORD = b"tim", b"tanstaaf"


def make_ca(directory, host):
    """A CA and a server certificate for localhost, 127.0.0.1 and HOST."""
    def run(*args):
        subprocess.run(["openssl", *args], cwd=directory, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    run("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=farceur throwaway test CA")
    run("req", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    with open(os.path.join(directory, "ext.cnf"), "w") as ext:
        extra = f",IP:{host}" if host != "127.0.0.1" else ""
        ext.write(f"subjectAltName=DNS:localhost,IP:127.0.0.1{extra}\n"
                  "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(os.path.join(directory, "server.pem"),
                            os.path.join(directory, "server.key"))
    return context, os.path.join(directory, "ca.pem")


class Store:
    def __init__(self, outdir, stall_after_tls, implicit, delay_dot=0.0):
        self.outdir = outdir
        self.delay_dot = delay_dot
        self.implicit = implicit
        self.count = 0
        self.stall_after_tls = stall_after_tls

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.stall_after_tls and session.ssl is not None:
            await asyncio.sleep(3600)
        session.host_name = hostname
        return responses

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        base = os.path.join(self.outdir, str(self.count))
        with open(base + ".eml", "wb") as out:
            out.write(envelope.original_content)
        with open(base + ".json", "w") as out:
            json.dump({"mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
                       "mail_options": envelope.mail_options,
                       "tls": session.ssl is not None or self.implicit,
                       "auth": session.authenticated}, out)
        if self.delay_dot:
            await asyncio.sleep(self.delay_dot)
        return "250 2.0.0 stored as %d" % self.count


class LoggingSMTP(SMTP):
    """aiosmtpd's server, noting each AUTH command as it arrives."""

    def __init__(self, handler, outdir, **kwargs):
        super().__init__(handler, **kwargs)
        self.outdir = outdir

    async def smtp_AUTH(self, arg):
        with open(os.path.join(self.outdir, "auth.log"), "a") as log:
            log.write(f"AUTH {arg}\n")
        return await super().smtp_AUTH(arg)

    smtp_AUTH.__dict__.update(SMTP.smtp_AUTH.__dict__)  # its @syntax (HELP) attributes


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and \
        auth_data.login == USER and auth_data.password == PASSWORD
    return AuthResult(success=ok)


async def serve(args, context, ca):
    loop = asyncio.get_running_loop()
    store = Store(args.outdir, args.stall_after_tls, args.tls == "implicit", args.delay_dot)

    def factory():
        return LoggingSMTP(store, args.outdir, hostname="mx.test", decode_data=False,
                           tls_context=context if args.tls == "starttls" else None,
                           require_starttls=args.tls == "starttls",
                           # aiosmtpd only knows of TLS it started itself (STARTTLS)
                           auth_required=args.auth, auth_require_tls=args.tls == "starttls",
                           authenticator=authenticator)

    server = await loop.create_server(factory, host=args.host, port=0,
                                      ssl=context if args.tls == "implicit" else None)
    port = server.sockets[0].getsockname()[1]
    print(json.dumps({"port": port, "ca": ca}), flush=True)
    # Serve until whoever started us closes our stdin.
    await loop.run_in_executor(None, sys.stdin.read)
    server.close()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("outdir")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--tls", choices=["starttls", "implicit", "none"], default="starttls")
    parser.add_argument("--auth", action="store_true")
    parser.add_argument("--stall-after-tls", action="store_true")
    parser.add_argument("--delay-dot", type=float, default=0.0)
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    # Implicit TLS is TLS, though aiosmtpd cannot tell.
    warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
    # Clients that abort a handshake on purpose make aiosmtpd log tracebacks.
    logging.getLogger("mail.log").setLevel(logging.DEBUG if args.verbose else logging.CRITICAL)
    try:
        context, ca = make_ca(args.outdir, args.host)
    except subprocess.CalledProcessError as e:
        sys.exit("aiosmtpd-server: openssl failed: %s" % e.stderr.decode(errors="replace"))
    asyncio.run(serve(args, context, ca))


if __name__ == "__main__":
    main()
