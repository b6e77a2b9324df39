#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`farceur catch` as a command: what it prints at start (the default
address and store, the certificate's fingerprint, the rules, the seed),
the warning for a non-loopback address, its usage errors and their exit
statuses, an mbox store read back by inspect, and a full disk: 452, and
nothing half written left (a small tmpfs in a private mount namespace,
`unshare -m`, root); --web: the caught messages in farceur web's API,
a new one listed without a restart.  TAP."""
import os
import pathlib
import smtplib
import subprocess
import sys
import tempfile
import time

from harness import FARCEUR, Catch, Raw, Tap, parse

tap = Tap()


def run(*args, cwd=None, timeout=30):
    proc = subprocess.run([FARCEUR, "catch", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd)
    return proc.returncode, proc.stderr


def usage():
    with tempfile.TemporaryDirectory() as tmp:
        cases = [
            (["extra"], 64, "catch takes no arguments"),
            (["--fail", "rcpt=250"], 64, "bad --fail 'rcpt=250'"),
            (["--drop", "nowhere"], 64, "unknown stage"),
            (["--delay", "greeting=5"], 64, "a duration needs its unit"),
            (["--listen", "example.org:25"], 64, "must be an IP address or localhost"),
            (["--listen", "ftp://127.0.0.1:21"], 64, "the scheme may be"),
            (["--to", "smtp://127.0.0.1:25"], 64, "it never relays"),
            (["--tls-key", "key.pem"], 64, "--tls-key needs --tls-cert"),
            (["--line-limit", "10"], 64, "from 80 to 65536"),
            (["--seed", "x"], 64, "--seed 'x'"),
            (["--color", "pink"], 64, "expected auto, always or never"),
            (["--users", "/nonexistent/users"], 66, "users file '/nonexistent/users'"),
            (["--tls-cert", "/nonexistent/cert.pem"], 66, "TLS certificate"),
            (["--transcript", "/nonexistent/dir/t"], 73, "transcript"),
            (["--to", "maildir:/proc/farceur-cannot"], 73, "cannot create"),
        ]
        for args, status, text in cases:
            got, err = run("--listen", "127.0.0.1:0", *args, cwd=tmp)
            tap.check(f"catch {' '.join(args)}: exit {status}, says so",
                      got == status and text in err, f"exit {got}: {err}")
        with Catch() as busy:
            got, err = run("--listen", f"127.0.0.1:{busy.port}", cwd=tmp)
            tap.check("a port in use: exit 69", got == 69 and "cannot listen on" in err,
                      f"exit {got}: {err}")


def defaults():
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.Popen([FARCEUR, "catch"], cwd=tmp, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        time.sleep(1.0)
        proc.terminate()
        out, err = proc.communicate(timeout=30)
        if proc.returncode == 69:  # 2525 taken by something else here: the default still shows
            tap.check("default address 127.0.0.1:2525 (busy here)", "127.0.0.1:2525" in err, err)
        else:
            tap.equal("no option: exit 0 on SIGTERM", proc.returncode, 0)
            tap.check("no option: listens on 127.0.0.1:2525",
                      "listening on smtp://127.0.0.1:2525" in err, err)
            tap.check("no option: stores into ./caught",
                      "storing into Maildir caught" in err
                      and (pathlib.Path(tmp) / "caught" / "new").is_dir(), err)
            tap.check("the fingerprint is printed", "SHA-256 fingerprint " in err, err)
            tap.check("no warning on loopback", "warning" not in err, err)


def start_lines():
    with Catch("--fail", "rcpt:bad*=550", "--delay", "greeting=10ms@50%", "--seed", "5",
               listen=["0.0.0.0:0"]) as catch:
        err = catch.stderr
        tap.check("0.0.0.0: a warning that anyone can leave mail",
                  "warning: 0.0.0.0 is not a loopback address" in err, err)
        tap.check("rule 1 printed", "rule 1: --fail rcpt:bad*=550: RCPT TO for a recipient "
                  "matching 'bad*' gets '550 5.0.0 failure injected by farceur catch', every time"
                  in err, err)
        tap.check("rule 2 printed", "rule 2: --delay greeting=10ms@50%: the greeting waits 10 ms "
                  "before the reply, every time, with a chance of 50.0%" in err, err)
        tap.check("the seed printed", "seeded with 5 (--seed 5 replays them)" in err, err)


def mbox_store():
    with tempfile.TemporaryDirectory() as tmp:
        box = pathlib.Path(tmp) / "sub" / "caught.mbox"
        with Catch(store=f"mbox:{box}") as catch:
            with smtplib.SMTP("127.0.0.1", catch.port, timeout=20) as s:
                for i in range(3):
                    s.sendmail("a@example.org", ["b@example.com"],
                               f"Subject: m{i}\r\n\r\nFrom the body {i}\r\n".encode())
            catch.stop()
            tap.equal("mbox: three records", len(catch.records), 3)
            tap.equal("mbox: the location is the mbox", {r["location"] for r in catch.records},
                      {str(box)})
        proc = subprocess.run([FARCEUR, "inspect", "--json", str(box)], capture_output=True,
                              text=True)
        import json
        records = [json.loads(l) for l in proc.stdout.splitlines()]
        tap.equal("mbox: inspect reads three", [r["subject"] for r in records], ["m0", "m1", "m2"])
        tap.check("mbox: the envelope", all(r["envelope"]["mail_from"] == "a@example.org"
                                            for r in records), records)
        tap.check("mbox: From lines quoted (mboxrd)", b"\n>From the body 0\n" in box.read_bytes())
        tap.equal("mbox: no spool file left", sorted(p.name for p in box.parent.iterdir()),
                  ["caught.mbox"])


def web_view():
    import json
    import re
    import urllib.request
    with Catch("--web", "127.0.0.1:0") as catch:
        m = re.search(r"showing what is caught at (http://127\.0\.0\.1:\d+/)", catch.stderr)
        tap.check("--web: the address is printed", m, catch.stderr)
        if not m:
            return

        def listed():
            with urllib.request.urlopen(m.group(1) + "api/messages", timeout=20) as reply:
                return sorted(r["subject"] for r in json.load(reply)["messages"])

        tap.equal("--web: nothing caught yet", listed(), [])
        with smtplib.SMTP("127.0.0.1", catch.port, timeout=20) as s:
            for subject in ("first", "second"):
                s.sendmail("a@example.org", ["b@example.com"],
                           f"Subject: {subject}\r\n\r\nbody\r\n".encode())
        catch.wait_lines(2)
        tap.equal("--web: each caught message is listed at once", listed(), ["first", "second"])
        tap.equal("--web: SIGTERM stops both, exit 0", catch.stop(), 0)


def disk_full():
    with tempfile.TemporaryDirectory() as tmp:
        mnt = pathlib.Path(tmp) / "small"
        mnt.mkdir()
        argv = ["unshare", "-m", "sh", "-c",
                f"mount -t tmpfs -o size=256k tmpfs '{mnt}' && exec \"$0\" catch --listen "
                f"127.0.0.1:0 --to 'maildir:{mnt}/box' --json --transcript '{tmp}/t'", FARCEUR]
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = None
        for line in proc.stderr:
            if "listening on smtp://" in line:
                port = int(line.rsplit(":", 1)[1])
            if "Ctrl-C stops" in line or "cannot" in line or "mount" in line:
                break
        if port is None:
            proc.kill()
            tap.check("a tmpfs in a private mount namespace (unshare -m, root)", False,
                      proc.stderr.read())
            return
        try:
            c = Raw(port)
            c.code()
            c.send("EHLO full.test\r\n")
            c.reply()
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            tap.equal("disk full: DATA opens", [c.code(), c.code(), c.code()], [250, 250, 354])
            c.send("Subject: too big for the disk\r\n\r\n" + ("x" * 998 + "\r\n") * 600 + ".\r\n")
            code, text = c.reply()
            tap.equal("disk full: 452", code, 452)
            tap.check("disk full: insufficient system storage", "4.3.1" in (text or ""), text)
            c.send("MAIL FROM:<a@example.org>\r\nRCPT TO:<b@example.com>\r\nDATA\r\n")
            codes = [c.code(), c.code(), c.code()]
            c.send("Subject: small\r\n\r\nfits\r\n.\r\n")
            codes.append(c.code())
            tap.equal("after it, a small message still fits", codes, [250, 250, 354, 250])
            c.close()
            box = pathlib.Path(f"/proc/{proc.pid}/root{mnt}/box")  # inside its namespace
            tap.equal("disk full: nothing half written in tmp/", os.listdir(box / "tmp"), [])
            tap.equal("disk full: only the small one in new/", len(os.listdir(box / "new")), 1)
        except Exception:
            proc.kill()
            raise
        proc.terminate()
        out, _ = proc.communicate(timeout=30)
        tap.equal("disk full: exit 0", proc.returncode, 0)
        tap.equal("disk full: one record, the small one", len(out.splitlines()), 1)
        transcript = (pathlib.Path(tmp) / "t").read_text()
        tap.check("disk full: the transcript says why",
                  "not stored: cannot write message: no space left on device" in transcript,
                  transcript[-2000:])


usage()
defaults()
start_lines()
mbox_store()
web_view()
if os.geteuid() == 0:
    disk_full()
else:
    tap.check("disk full needs root (a tmpfs mounted in a private namespace)", False,
              "run as root, as tools/test does")
sys.exit(tap.done())
