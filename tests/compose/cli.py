#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""CLI tests of `farceur compose`: exit codes (sysexits) and error messages
for bad input, output to a file, messages files with --index, reproducible
output.  TAP output.  Env: FARCEUR, G_TEST_SRCDIR."""
import email
import email.policy
import os
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DATA = os.path.join(TESTS, "data", "compose")
PLAIN = os.path.join(DATA, "plain.tmpl")
BASE = ["--from", "Alice <alice@example.org>", "--to", "Bob <bob@example.org>"]

results = []


def run(*args, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([FARCEUR, "compose", *args], capture_output=True, env=full_env)


def expect(label, proc, status, needle=""):
    err = proc.stderr.decode(errors="replace")
    ok = proc.returncode == status and needle in err
    if status != 0:
        ok = ok and not proc.stdout and err.startswith("farceur compose: ")
    results.append((ok, label, f"exit {proc.returncode}, stderr: {err.strip()}"))
    return ok


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def main():
    with tempfile.TemporaryDirectory() as tmp:
        typo = write(tmp, "typo.tmpl", "Subject: hi\n\nHello {{sender.nmae}}\n")
        expect("unknown placeholder: 65, file and line", run(typo, *BASE), 65,
               f"template '{typo}' line 3: unknown placeholder '{{{{sender.nmae}}}}'")
        attach = write(tmp, "attach.tmpl", "Subject: hi\nX-A: 1\nAttach: nowhere.pdf\n\nbody\n")
        expect("missing attachment: 65, file and line", run(attach, *BASE), 65,
               f"/nowhere.pdf' (template '{attach}' line 3): no such file\n")
        html = write(tmp, "html.tmpl", "Subject: hi\nHtml: /nope.html\n\nbody\n")
        expect("missing Html file: 65, house style", run(html, *BASE), 65,
               f"farceur compose: Html file '/nope.html' (template '{html}' line 2): no such file\n")
        expect("missing template: house style", run("/nope.tmpl", *BASE), 66,
               "cannot read template '/nope.tmpl': no such file\n")
        expect("UTF-8 kept readable, controls escaped", run(PLAIN, *BASE, "--from", "Zoé\u0085 <z@example.org>"),
               65, "'Zoé\\u0085 <z@example.org>': control character 0x85")
        evil = write(tmp, "evil\r\nname.bin", "x")
        proc = run(PLAIN, *BASE, "--attach", evil)
        results.append((proc.returncode == 65 and b"\r" not in proc.stderr and b"evil\\r\\nname" in proc.stderr,
                        "no raw CR LF echoed to stderr", proc.stderr.decode(errors="replace")))
        nosubject = write(tmp, "nosubject.tmpl", "X-A: 1\n\nbody\n")
        expect("missing Subject: 65, names the file", run(nosubject, *BASE), 65, f"'{nosubject}'")
        expect("missing Subject: says Subject", run(nosubject, *BASE), 65, "Subject")
        expect("bad --var: 64", run(PLAIN, *BASE, "--var", "novalue"), 64,
               "bad --var 'novalue': expected KEY=VALUE")
        expect("bad --var (empty key): 64", run(PLAIN, *BASE, "--var", "=x"), 64, "bad --var '=x'")
        expect("missing template: 66", run(os.path.join(tmp, "absent.tmpl"), *BASE), 66, "absent.tmpl")
        expect("missing --attach file: 66", run(PLAIN, *BASE, "--attach", "/nonexistent/x.pdf"), 66,
               "attachment '/nonexistent/x.pdf': no such file\n")
        expect("--attach a folder: 66", run(PLAIN, *BASE, "--attach", tmp), 66, "not a regular file")
        expect("output in a missing folder: 73",
               run(PLAIN, *BASE, "-o", os.path.join(tmp, "no", "such", "out.eml")), 73, "cannot create")
        if os.path.exists("/dev/full"):
            expect("-o /dev/full: 74", run(PLAIN, *BASE, "-o", "/dev/full"), 74, "cannot write message")
        expect("no template argument: 64", run(*BASE), 64, "expected one TEMPLATE")
        expect("unknown option: 64", run(PLAIN, "--frmo", "x"), 64, "")
        bare = write(tmp, "bare.tmpl", "Subject: hi\n\nbody\n")
        expect("no sender: 65", run(bare, "--to", "b@example.org"), 65, "no sender")
        expect("bad address: 65", run(PLAIN, "--from", "alice", "--to", "b@example.org"), 65,
               "sender address: invalid address 'alice'")
        expect("CR in --from: 65", run(PLAIN, "--from", "a@example.org\r\nBcc: x@evil.org",
                                       "--to", "b@example.org"), 65, "control character 0x0d")
        expect("LF in --var: 65", run(PLAIN, *BASE, "--var", "recipient.first_name=x\nBcc: y"), 65,
               "control character 0x0a")
        expect("bad --date: 64", run(PLAIN, *BASE, "--date", "yesterday"), 64, "bad --date 'yesterday'")
        expect("bad SOURCE_DATE_EPOCH: 64", run(PLAIN, *BASE, env={"SOURCE_DATE_EPOCH": "soon"}), 64,
               "SOURCE_DATE_EPOCH")
        expect("--help: 0", run("--help"), 0, "")

        out = os.path.join(tmp, "out.eml")
        expect("-o FILE: 0", run(PLAIN, *BASE, "-o", out), 0)
        msg = email.message_from_bytes(open(out, "rb").read(), policy=email.policy.default)
        results.append((str(msg["Subject"]) == "Hello Bob", "-o FILE: the message is in the file",
                        repr(msg["Subject"])))

        fixed = ["--date", "2024-02-29T13:37:00Z", "--message-id", "x.1@example.org"]
        one, two = run(PLAIN, *BASE, *fixed), run(PLAIN, *BASE, *fixed)
        results.append((one.returncode == 0 and one.stdout == two.stdout,
                        "--date + --message-id: byte-identical output", one.stderr.decode()))
        epoch = run(PLAIN, *BASE, "--message-id", "x.1@example.org", env={"SOURCE_DATE_EPOCH": "1709213820"})
        results.append((epoch.stdout == one.stdout, "SOURCE_DATE_EPOCH fixes the date", ""))

        messages = write(tmp, "messages.txt",
                         "Subject: first one\n\nBody one\n==\nSubject: second one\n\nBody two\n")
        expect("messages file without --index: 64", run(messages, *BASE), 64,
               "holds 2 messages: choose one with --index 1..2")
        expect("messages file --index 3: 64", run(messages, *BASE, "--index", "3"), 64, "out of range")
        second = run(messages, *BASE, "--index", "2")
        msg = email.message_from_bytes(second.stdout, policy=email.policy.default)
        results.append((second.returncode == 0 and str(msg["Subject"]) == "second one"
                        and msg.get_content().strip() == "Body two",
                        "messages file --index 2 picks the second message", second.stderr.decode()))

    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            print(f"# {detail}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
