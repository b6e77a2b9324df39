#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""CLI tests of `farceur trace` (TAP): the JSON record of data/doc/json.md (data/schema/trace.schema.json), the table,
the Graphviz output rendered by `dot -Tsvg`, inputs and exit statuses.
Environment: FARCEUR (the built binary), G_TEST_SRCDIR (tests/)."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
DATA = os.path.join(os.environ["G_TEST_SRCDIR"], "trace", "data")
TRACE_KEYS = {"source", "hops", "total_s", "warnings"}
HOP_KEYS = {"from_helo", "from_rdns", "from_ip", "by", "via", "with", "id", "for",
            "envelope_from", "tls", "date", "delay_s", "anomalies", "warnings", "raw"}

tests = []


def test(fn):
    tests.append(fn)
    return fn


def data(name):
    return os.path.join(DATA, name)


def run(*args, stdin=None):
    env = dict(os.environ, NO_COLOR="")
    env.pop("NO_COLOR")
    return subprocess.run([FARCEUR, "trace", *args], input=stdin, capture_output=True,
                          timeout=60, env=env)


def json_lines(*args):
    r = run("--json", *args)
    assert r.returncode == 0, (r.returncode, r.stderr)
    return [json.loads(line) for line in r.stdout.decode().splitlines()]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


@test
def json_schema():
    [t] = json_lines(data("three-hops.eml"))
    check(set(t) == TRACE_KEYS, set(t))
    check(t["source"] == data("three-hops.eml"), t["source"])
    check(len(t["hops"]) == 3, len(t["hops"]))
    for hop in t["hops"]:
        check(set(hop) == HOP_KEYS, set(hop) ^ HOP_KEYS)
        check(hop["tls"] in (True, False, None), hop["tls"])
        check("\n" not in hop["raw"] and "\r" not in hop["raw"], hop["raw"])
    origin, middle, final = t["hops"]
    check(origin["from_helo"] == "laptop.home" and origin["from_ip"] == "203.0.113.7", origin)
    check(origin["from_rdns"] is None, origin)
    check(origin["with"] == "ESMTPSA" and origin["tls"] is True, origin)
    check(origin["date"] == "2026-11-23T10:00:05Z" and origin["delay_s"] == 5, origin)
    check(origin["anomalies"] == ["private_origin_ip"], origin["anomalies"])
    check(middle["id"] == "4AbCdE" and middle["for"] == "bob@b.example", middle)
    check(middle["delay_s"] == 5 and middle["anomalies"] == [], middle)
    check(final["envelope_from"] == "alice@a.example", final)
    check(final["tls"] is False and final["anomalies"] == ["no_tls"], final)
    check(final["delay_s"] == 140, final["delay_s"])
    check(t["total_s"] == 150, t["total_s"])
    check(t["warnings"] == [], t["warnings"])


@test
def json_anomalies_and_warnings():
    [t] = json_lines(data("anomalies.eml"))
    hops = t["hops"]
    check(len(hops) == 3, len(hops))
    check(hops[0]["from_helo"] == "[10.0.0.1]" and hops[0]["from_ip"] == "10.0.0.1", hops[0])
    check(set(hops[0]["anomalies"]) == {"missing_date", "private_origin_ip"}, hops[0])
    check(hops[0]["warnings"] == ["unreadable date 'garbage date'"], hops[0]["warnings"])
    check("no_tls" in hops[1]["anomalies"] and "from_mismatch" in hops[1]["anomalies"], hops[1])
    check(hops[1]["from_helo"] == 'evil"host\\', hops[1]["from_helo"])
    check(hops[1]["from_rdns"] == "x" and hops[1]["by"] == 'b"c', hops[1])
    check(hops[1]["delay_s"] == 10, hops[1])
    check(hops[2]["delay_s"] == -70, hops[2])
    check(set(hops[2]["anomalies"]) == {"negative_delay", "from_mismatch"}, hops[2])
    check("hop 1: unreadable date 'garbage date'" in t["warnings"], t["warnings"])
    check(any(w.startswith("hop 2: unterminated comment") for w in t["warnings"]), t["warnings"])


@test
def json_no_received():
    [t] = json_lines(data("no-received.eml"))
    check(t["hops"] == [] and t["total_s"] is None, t)
    check(t["warnings"] == ["no Received: header"], t["warnings"])


@test
def json_stdin():
    with open(data("three-hops.eml"), "rb") as f:
        r = run("--json", "-", stdin=f.read())
    check(r.returncode == 0, r.stderr)
    t = json.loads(r.stdout)
    check(t["source"] == "-" and len(t["hops"]) == 3, t["source"])


@test
def json_directory_and_mbox():
    with tempfile.TemporaryDirectory() as tmp:
        mbox = os.path.join(tmp, "box.mbox")
        with open(mbox, "wb") as out:
            for name in ("three-hops.eml", "anomalies.eml"):
                out.write(b"From MAILER-DAEMON Mon Nov 23 10:00:00 2026\n")
                with open(data(name), "rb") as f:
                    out.write(f.read().replace(b"\r\n", b"\n") + b"\n")
        lines = json_lines(mbox)
        check([t["source"] for t in lines] == [mbox + "#1", mbox + "#2"],
              [t["source"] for t in lines])
        check([len(t["hops"]) for t in lines] == [3, 3], lines)
        folder = os.path.join(tmp, "folder")
        os.mkdir(folder)
        for name in ("three-hops.eml", "no-received.eml"):
            shutil.copy(data(name), folder)
        lines = json_lines(folder)
        check([len(t["hops"]) for t in lines] == [0, 3], lines)  # sorted by name


@test
def dot_renders():
    if shutil.which("dot") is None:
        raise AssertionError("graphviz 'dot' is missing (tools/setup installs it)")
    r = run("--dot", data("three-hops.eml"), data("anomalies.eml"), data("no-received.eml"))
    check(r.returncode == 0, r.stderr)
    text = r.stdout.decode()
    check(text.count("digraph trace {") == 3, text)
    check('n0 -> n1 [label="ESMTPSA\\nTLS\\n+5s", color=red, fontcolor=red];' in text, text)
    svg = subprocess.run(["dot", "-Tsvg"], input=r.stdout, capture_output=True, timeout=60)
    check(svg.returncode == 0, svg.stderr)
    check(svg.stdout.count(b"<svg") == 3, svg.stdout[:200])
    check(b"mbox.b.example" in svg.stdout and b"b&quot;c" in svg.stdout, svg.stdout[:200])


@test
def table_plain_when_piped():
    r = run(data("three-hops.eml"), data("anomalies.eml"))
    check(r.returncode == 0, r.stderr)
    out = r.stdout.decode()
    check("\x1b" not in out, "escape sequences in piped output")
    check("total transit: 2m30s" in out, out)
    check("! hop 1: origin IP 203.0.113.7 is private or reserved" in out, out)
    check("! hop 3: not encrypted (with LMTP)" in out, out)
    check("! hop 3: dated 1m10s before the previous hop (clock skew)" in out, out)
    bars = [line for line in out.splitlines() if line.startswith("  3  mx.b.example")]
    check(len(bars) == 1 and bars[0].endswith("#" * 24), bars)


@test
def table_colour_forced():
    r = run("--color=always", data("three-hops.eml"))
    check(r.returncode == 0 and b"\x1b[32m" in r.stdout, r.stdout[:200])


@test
def table_neutralises_control_characters():
    r = run("--color=never", data("escapes.eml"))
    check(r.returncode == 0, r.stderr)
    check(b"\x1b" not in r.stdout and b"\x07" not in r.stdout, r.stdout)
    check(b"a?[31mred?" in r.stdout, r.stdout)


@test
def no_hang_on_gmime_165():
    # GMime 3.2.13 loops serialising non-ASCII parameter names (GMime #165);
    # trace never re-serialises parsed headers.
    for fmt in ("--json", "--dot", "--color=never"):
        r = subprocess.run([FARCEUR, "trace", fmt, data("gmime-165.eml")], capture_output=True,
                           timeout=20)
        check(r.returncode == 0 and b"b.example" in r.stdout, (fmt, r.returncode, r.stdout[:200]))


@test
def table_literal_helo_not_repeated():
    r = run("--color=never", data("anomalies.eml"))
    check(b"  1  [10.0.0.1]  " in r.stdout, r.stdout)


@test
def exit_missing_input():
    r = run("--json", data("three-hops.eml"), data("does-not-exist.eml"))
    check(r.returncode == 66, r.returncode)
    check(len(r.stdout.decode().splitlines()) == 1, r.stdout)  # the good input is still traced
    check(b"does-not-exist.eml" in r.stderr and b"1 input failed" in r.stderr, r.stderr)


@test
def exit_usage():
    for args in (["--json", "--dot"], ["--bogus"], ["--color=sometimes"]):
        r = run(*args, data("three-hops.eml"))
        check(r.returncode == 64, (args, r.returncode))
        check(r.stdout == b"", r.stdout)


@test
def help_lists_options():
    r = run("--help")
    check(r.returncode == 0, r.returncode)
    for option in (b"--json", b"--dot", b"--color"):
        check(option in r.stdout, r.stdout)


def main():
    print("1..%d" % len(tests))
    failed = 0
    for i, fn in enumerate(tests, 1):
        try:
            fn()
            print("ok %d - %s" % (i, fn.__name__))
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print("not ok %d - %s" % (i, fn.__name__))
            for line in repr(e).splitlines():
                print("# " + line[:2000])
    sys.stdout.flush()
    return 1 if failed else 0


sys.exit(main())
