#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every failure-injection rule of farceur catch acting as data/doc/catch.md
says, shown by a swaks transcript (swaks: a client nobody here wrote):
--fail at each stage (with a GLOB, xN, @P% seeded and replayed, a reply
text of its own), --drop (mid-data, at the dot, after the dot), --delay
(the greeting, the reply to the dot against a client's timeout),
--no-ehlo.  Each swaks transcript is printed as a TAP comment.  TAP."""
import re
import shutil
import subprocess
import sys
import time

from harness import Catch, Tap

tap = Tap()


def swaks(catch, *args, rcpt="dest@example.com", timeout=60):
    argv = ["swaks", "--server", f"127.0.0.1:{catch.port}", "--helo", "swaks.test",
            "-f", "client@example.org", "-t", rcpt, *args]
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, timeout=timeout)
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
    return proc.returncode, out, time.monotonic() - started


def transcript_shows(label, out, pattern):
    """A swaks line "<** CODE ..." or "<-  CODE ..." matching pattern; the
    transcript goes to the log."""
    ok = re.search(pattern, out, re.M) is not None
    detail = "\n".join(l for l in out.splitlines() if l[:4] in ("<-  ", "<** ", " -> ", "*** ")
                       or l.startswith("==="))
    tap.note(f"swaks, {label}:\n{detail}")
    return tap.check(label, ok, f"wanted /{pattern}/ in:\n{detail}")


def fail_rules():
    rules = ["--fail", "rcpt:bad*=550", "--fail", "mail:twice@*=451x2",
             "--fail", "data:data-fails@*=554 5.7.1 no DATA for you",
             "--fail", "dot:full@*=552 5.3.4 message too big for the test",
             "--fail", "helo:grumpy.test=421", "--fail", "greeting:127.0.0.2=554",
             "--fail", "auth:mallory=535 5.7.8 not you, mallory"]
    with Catch(*rules, listen=["127.0.0.1:0"]) as catch:
        status, out, _ = swaks(catch, rcpt="bad1@example.com")
        transcript_shows("--fail rcpt:bad*=550: RCPT gets 550", out,
                         r"^<\*\* 550 5\.0\.0 failure injected by farceur catch")
        tap.check("--fail rcpt: swaks fails (no recipient)", status != 0, out)
        for attempt in (1, 2, 3):
            status, out, _ = swaks(catch, "-f", "twice@example.org")
            if attempt < 3:
                transcript_shows(f"--fail mail=451x2: attempt {attempt} gets 451", out,
                                 r"^<\*\* 451 4\.0\.0 ")
            else:
                tap.equal("--fail mail=451x2: the third attempt passes", status, 0)
        status, out, _ = swaks(catch, rcpt="data-fails@example.com")
        transcript_shows("--fail data=554 TEXT: DATA gets its text", out,
                         r"^<\*\* 554 5\.7\.1 no DATA for you")
        status, out, _ = swaks(catch, rcpt="full@example.com")
        transcript_shows("--fail dot=552: the final dot gets 552", out,
                         r"^<\*\* 552 5\.3\.4 message too big for the test")
        status, out, _ = swaks(catch, "--helo", "grumpy.test")
        transcript_shows("--fail helo=421: EHLO gets 421", out, r"^<\*\* 421 ")
        status, out, _ = swaks(catch, "-a", "PLAIN", "-au", "mallory", "-ap", "x")
        transcript_shows("--fail auth:mallory=535: AUTH gets 535", out,
                         r"^<\*\* 535 5\.7\.8 not you, mallory")
        catch.stop()
        subjects = len(catch.stored())
        tap.equal("--fail: only the messages no rule refused are stored", subjects, 1)
        tap.check("the rules are printed at start",
                  "rule 1: --fail rcpt:bad*=550: RCPT TO for a recipient matching 'bad*' gets"
                  in catch.stderr, catch.stderr)
        tap.check("how often each rule acted is printed at the end",
                  "rule 2 acted 2 times" in catch.stderr, catch.stderr)


def greeting_rule():
    with Catch("--fail", "greeting:127.0.0.1=554 5.7.1 no mail from you",
               listen=["127.0.0.1:0"]) as catch:
        status, out, _ = swaks(catch)
        transcript_shows("--fail greeting=554: the greeting is 554", out,
                         r"^<\*\* 554 5\.7\.1 no mail from you")


def chance_rule():
    outcomes = []
    for run in range(2):
        with Catch("--fail", "rcpt=450@50%", "--seed", "42") as catch:
            codes = []
            for i in range(10):
                status, out, _ = swaks(catch, "--quit-after", "RCPT")
                codes.append(450 if re.search(r"^<\*\* 450 ", out, re.M) else 250)
            catch.stop()
            acted = int(re.search(r"rule 1 acted (\d+) time", catch.stderr).group(1))
            tap.equal(f"--fail rcpt=450@50% run {run + 1}: the count printed matches",
                      acted, codes.count(450))
            outcomes.append(codes)
    tap.check("@50%: some pass, some fail", 0 < outcomes[0].count(450) < 10, outcomes[0])
    tap.equal("--seed 42 replays the same draws", outcomes[1], outcomes[0])
    with Catch("--fail", "rcpt=450@50%") as catch:
        pass
    tap.check("without --seed, the seed is printed", re.search(
        r"random draws seeded with (\d+) \(--seed \1 replays them\)", catch.stderr), catch.stderr)


def drop_rules():
    with Catch("--drop", "mid-data=x1", "--drop", "dot:lost@*", "--drop", "after-dot:unknown@*",
               "--no-ehlo") as catch:
        status, out, _ = swaks(catch, "--body", "x\n" * 2000)
        tap.check("--drop mid-data: swaks loses the connection in DATA", status != 0
                  and not re.search(r"^<-  250 2\.0\.0", out, re.M), out)
        status, out, _ = swaks(catch, rcpt="lost@example.com")
        tap.check("--drop dot: no reply to the dot", status != 0, out)
        status, out, _ = swaks(catch, rcpt="unknown@example.com")
        tap.check("--drop after-dot: no reply to the dot either", status != 0
                  and not re.search(r"^<-  250 2\.0\.0 Ok: queued", out, re.M), out)
        transcript_shows("--no-ehlo: EHLO gets 502", out, r"^<\*\* 502 5\.5\.1 ")
        transcript_shows("--no-ehlo: swaks falls back to HELO", out, r"^ -> HELO swaks\.test")
        status, out, _ = swaks(catch)
        tap.equal("after --drop mid-data=x1, the next message passes", status, 0)
        catch.stop()
        records = catch.records
        tap.equal("--drop: stored are the after-dot one (its client never knew) and the last",
                  sorted(r["envelope"]["rcpt_to"][0] for r in records),
                  ["dest@example.com", "unknown@example.com"])


def delay_rules():
    with Catch("--delay", "greeting=1500msx1", "--delay", "dot:slow@*=3s") as catch:
        status, out, elapsed = swaks(catch)
        tap.equal("--delay greeting=1500msx1: the message passes", status, 0)
        tap.check("--delay greeting=1500msx1: the greeting came late", elapsed >= 1.4, elapsed)
        status, out, elapsed = swaks(catch, "--timeout", "1", rcpt="slow@example.com")
        tap.check("--delay dot=3s against swaks --timeout 1: swaks gives up", status != 0, out)
        catch.stop()  # the delayed 250 goes nowhere: the client left
        tap.equal("--delay dot: the message was stored all the same (the client never knew)",
                  len(catch.stored()), 2)


if shutil.which("swaks") is None:
    print("Bail out! swaks missing: tools/setup installs it")
    sys.exit(1)
fail_rules()
greeting_rule()
chance_rule()
drop_rules()
delay_rules()
sys.exit(tap.done())
