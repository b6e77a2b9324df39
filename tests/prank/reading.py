#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""What prank reads, tried as a student would (issue 9): the silent merge
never comes back (a messages file whose separator farceur does not know
never gives exit 0 with one merged message); each kind of bad input exits
with its status and the exact message, which names the file, the line and
what to do; bare `farceur prank` in a lab folder finds the configuration
and the files and says which it used; the remote rail applies only where a
connection would be made; mistyped commands and options get a suggestion;
`farceur help`.  TAP output.  Env: FARCEUR, G_TEST_SRCDIR."""
import json
import os
import shutil
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(TESTS, "data", "lab")
VICTIMS = "".join(f"v{i}@lab.example\n" for i in range(1, 7))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, report  # noqa: E402


def farceur(*args, cwd):
    env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(cwd, ".no-xdg"), LC_ALL="C.UTF-8")
    return subprocess.run([FARCEUR, *args], capture_output=True, cwd=cwd, env=env, timeout=60)


def write(folder, name, data):
    path = os.path.join(folder, name)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return name


def expect(label, proc, status, message):
    """Exit @status and @message as the last line of standard error."""
    err = proc.stderr.decode(errors="replace").rstrip("\n").splitlines()
    last = err[-1] if err else ""
    return check(f"{label}: exit {status}, exact message", proc.returncode == status and last == message,
                 f"exit {proc.returncode}\ngot:    {last}\nwanted: {message}")


def groups_of(proc):
    return [r for r in map(json.loads, proc.stdout.decode().splitlines()) if "group" in r]


def test_silent_merge(tmp):
    """Messages with Subject lines, separated by lines farceur does not know:
    split where the Subject lines say, or refused, never merged with exit 0."""
    write(tmp, "v.txt", VICTIMS)
    for sep in ("+++++", "%%%%", "NEXT MESSAGE", "<hr>", "....", "=-=-=-"):
        name = write(tmp, f"merge-{len(sep)}-{ord(sep[0])}.txt",
                     f"Subject: one\nHello\n{sep}\nSubject: two\nBye\n{sep}\nSubject: three\nCiao\n")
        proc = farceur("prank", "--victims", "v.txt", "--messages", name, "--groups", "2",
                       "--dry-run", "--json", cwd=tmp)
        records = [json.loads(l) for l in proc.stdout.decode().splitlines()]
        subjects = [f["subjects"] for f in records[0]["read"] if f["role"] == "messages"] if records else []
        merged = proc.returncode == 0 and subjects and len(subjects[0]) < 3
        check(f"silent merge, separator {sep!r}: never exit 0 with messages merged",
              not merged and (proc.returncode == 65 or subjects == [["one", "two", "three"]]),
              f"exit {proc.returncode}: {subjects} {proc.stderr.decode(errors='replace')}")
    name = write(tmp, "merge-word.txt", "Subject: one\nHello\nNEXT MESSAGE\nSubject: two\nBye\n")
    expect("second Subject line", farceur("prank", "--victims", "v.txt", "--messages", name,
                                          "--dry-run", cwd=tmp), 65,
           "farceur prank: messages 'merge-word.txt' line 4: a second 'Subject:' line in message 1 "
           "(which starts on line 1): if it starts a new message, put a separator line such as "
           "'==' before it")
    name = write(tmp, "first-plus.txt", "Title one\nHello\n+++++\nTitle two\nBye\n")
    expect("unknown separator, first-line subjects",
           farceur("prank", "--victims", "v.txt", "--messages", name, "--dry-run", cwd=tmp), 65,
           "farceur prank: messages 'first-plus.txt' line 3: '+++++' looks like a separator line "
           "farceur does not know: separate messages with a line such as '==', or say so with "
           "--messages-format separator=+++++")
    proc = farceur("prank", "--victims", "v.txt", "--messages", name, "--groups", "2", "--dry-run",
                   "--json", "--messages-format", "separator=+++++", cwd=tmp)
    read = json.loads(proc.stdout.decode().splitlines()[0]) if proc.returncode == 0 else {}
    check("--messages-format separator=LINE reads what farceur could not tell",
          proc.returncode == 0 and read["read"][1]["subjects"] == ["Title one", "Title two"],
          proc.stderr.decode(errors="replace"))


BAD_MESSAGES = [
    ("ambiguous separators", "ambiguous.txt", "Title one\nHello\n====\nTitle two\nBye\n----\nTitle three\nx\n", [],
     "farceur prank: messages 'ambiguous.txt' line 6: '----' and '====' (line 3) could both separate "
     "messages: say which with --messages-format separator=LINE"),
    ("a message without its Subject line", "nosubject.txt", "Subject: one\nHello\n==\nno subject here\n", [],
     "farceur prank: messages 'nosubject.txt' line 4: message 2 has no 'Subject:' line (the others "
     "have one): add one, or read first lines as subjects with --messages-format subject=first-line"),
    ("JSON message without a subject", "nosub.json", '[{"subject": "a", "body": "b"},\n {"title2": "x"}]\n', [],
     "farceur prank: messages 'nosub.json' line 2: message 2 has no \"subject\" (or \"title\") member: "
     "each message is an object {\"subject\": \"...\", \"body\": \"...\"}"),
    ("JSON syntax", "syntax.json", '[{"subject": "a" "body": "b"}]\n', [],
     "farceur prank: messages 'syntax.json' line 1 column 16: unexpected string constant \"a\", "
     "expected character `,' (read as JSON; --messages-format blocks reads it as text)"),
    ("a bad --messages-format", "m.txt", "Subject: a\nb\n", ["--messages-format", "jsn"],
     "farceur prank: messages format 'jsn': unknown word 'jsn' (did you mean 'json'?)"),
]
BAD_VICTIMS = [
    ("invalid entries with --strict", "bad.txt",
     "a@x.example\nnot-an-address\nb@x.example\nc@y@z\nd@x.example\n", ["--strict"], 65,
     "farceur prank: victims 'bad.txt' line 2: invalid address 'not-an-address': no '@'; line 4: "
     "expected one address, 'addr' or 'Name <addr>', got 'c@y@z' (--strict refuses invalid entries: "
     "fix them, or leave out --strict to skip them with a warning)"),
    ("two addresses on a line", "two.txt", "a@x.example, b@x.example\nc@x.example\n", [], 65,
     "farceur prank: victims 'two.txt' line 1: two addresses on one line ('a@x.example' and "
     "'b@x.example'): put one victim per line"),
    ("CSV header without an address column", "noemail.csv", "name,contact\nA,a@x.example\n", [], 65,
     "farceur prank: victims 'noemail.csv' line 1: the header row has no 'email' column: name the "
     "column of addresses email (or mail, address, courriel)"),
    ("JSON without a list", "shape.json", '{"a": [1], "b": [2]}\n', [], 65,
     "farceur prank: victims 'shape.json' line 1: cannot tell where the victims are: expected an "
     "array of addresses or of {\"email\": ...} objects, or an object holding one"),
    ("every entry invalid", "none.txt", "nope\nnada\n", [], 65,
     "farceur prank: victims 'none.txt': no victim in the file (every entry is invalid)"),
    ("repeats leave too few victims", "few.txt", "a@x.example\nb@x.example\nA@x.example\n",
     ["--groups", "1"], 65,
     "farceur prank: victims 'few.txt' (1 repeated address kept once): not enough victims: 1 group "
     "of at least 3 needs 3 victims, there are 2"),
]
BAD_CONFIGS = [
    ("every problem of a config at once", "bad.properties",
     "numberOfGroups=zero\nsmtpServerAddress=a b\nwitnessesToCC=x@y.example, nope\nsmtpServerPort=99999\n",
     "farceur prank: config 'bad.properties' line 1 (numberOfGroups): expected a positive number, "
     "not 'zero' (write e.g. numberOfGroups=3); line 2 (smtpServerAddress): 'a b' is not a server "
     "name or address (write e.g. localhost, 127.0.0.1 or localhost:1025); line 3 (witnessesToCC): "
     "invalid address 'nope': no '@'; line 4: port '99999': expected a port from 1 to 65535"),
    ("a malformed \\u escape", "esc.properties", "smtpServerAddress=localhost\nwitness=T\\u00zzmoin <t@x.example>\n",
     "farceur prank: config 'esc.properties' line 2: malformed \\uXXXX escape (write four "
     "hexadecimal digits, as in \\u00e9)"),
    ("a typo in farceur's INI", "typo.conf", "[campaign]\ngrups = 2\n",
     "farceur prank: config 'typo.conf' [campaign] grups: unknown key (did you mean 'groups'?)"),
    ("a config saved as UTF-16", "utf16.properties", b"\xff\xfes\x00m\x00",
     "farceur prank: config 'utf16.properties': saved as UTF-16; save it as UTF-8 (or ISO-8859-1)"),
]


def test_bad_inputs(tmp):
    write(tmp, "v.txt", VICTIMS)
    write(tmp, "m.txt", "Subject: a\nb\n")
    for label, name, text, extra, message in BAD_MESSAGES:
        write(tmp, name, text)
        expect(f"messages: {label}", farceur("prank", "--victims", "v.txt", "--messages", name, *extra,
                                             "--groups", "2", "--dry-run", cwd=tmp), 65 if "format" not in label else 64,
               message)
    for label, name, text, extra, status, message in BAD_VICTIMS:
        write(tmp, name, text)
        expect(f"victims: {label}", farceur("prank", "--victims", name, "--messages", "m.txt", *extra,
                                            "--dry-run", cwd=tmp), status, message)
    for label, name, text, message in BAD_CONFIGS:
        write(tmp, name, text)
        expect(f"config: {label}", farceur("prank", "--config", name, "--victims", "v.txt", "--messages",
                                           "m.txt", "--dry-run", cwd=tmp), 78, message)
    proc = farceur("prank", "--victims", "bad.txt", "--messages", "m.txt", "--dry-run", cwd=tmp)
    err = proc.stderr.decode(errors="replace")
    check("victims: invalid entries skipped without --strict, each named with its line",
          proc.returncode == 0
          and "farceur prank: warning: bad.txt line 2: skipped: invalid address 'not-an-address': no '@'" in err
          and "farceur prank: warning: bad.txt line 4: skipped: " in err, err)


def test_warnings(tmp):
    """A lab config's near misses, unknown keys and quoted values are read
    as meant, each with a warning naming the file and line."""
    write(tmp, "v.txt", VICTIMS)
    write(tmp, "m.txt", "Subject: a\nb\n")
    name = write(tmp, "lab.properties", 'stmpServerAddress="localhost:1025"\nnumberOfGorups=2\ncolour=blue\n')
    proc = farceur("prank", "--config", name, "--victims", "v.txt", "--messages", "m.txt", "--dry-run", cwd=tmp)
    err = proc.stderr.decode(errors="replace").splitlines()
    wanted = [
        "farceur prank: warning: lab.properties line 1: 'stmpServerAddress' read as 'smtpServerAddress' "
        "(did you mean 'smtpServerAddress'?)",
        "farceur prank: warning: lab.properties line 1: 'stmpServerAddress': the quotes around "
        "\"localhost:1025\" are not part of a .properties value (Java keeps them); read without them",
        "farceur prank: warning: lab.properties line 2: 'numberOfGorups' read as 'numberOfGroups' "
        "(did you mean 'numberOfGroups'?)",
        "farceur prank: warning: lab.properties line 3: unknown key 'colour' ignored",
    ]
    check("config: near misses and unknown keys are warnings naming file and line, exit 0",
          proc.returncode == 0 and all(w in err for w in wanted), "\n".join(err))
    out = proc.stdout.decode()
    check("config: the report says what was read", "server localhost:1025, 2 groups; ignored keys: colour" in out,
          out[:600])


def test_first_contact(tmp):
    for fixture, config, victims in (
            ("24-kyoden-res2021-typo-keys-semicolon", "config/configuration.properties (found in ./config)",
             "config/victims.utf8 (usual name, in config)"),
            ("03-briskocube-2019-json-array",
             "src/main/resources/config.properties (found in ./src/main/resources)",
             "src/main/resources/victims.list (usual name, in src/main/resources)"),
            ("26-crescencek-res2019-crlf-asterisks",
             "Configuration/config.properties (found in ./Configuration)",
             "Configuration/victims.utf8 (usual name, in Configuration)")):
        folder = os.path.join(tmp, fixture)
        shutil.copytree(os.path.join(LAB, fixture), folder)
        proc = farceur("prank", "--dry-run", cwd=folder)
        out = proc.stdout.decode()
        check(f"first contact: bare prank in {fixture[:2]} finds and names its files",
              proc.returncode == 0 and f"  config    {config}" in out and f"  victims   {victims}" in out,
              proc.stderr.decode(errors="replace") + out[:500])
    empty = os.path.join(tmp, "empty")
    os.mkdir(empty)
    expect("first contact: nothing to read", farceur("prank", "--dry-run", cwd=empty), 64,
           "farceur prank: no victims file: give --victims, name it in the configuration, or put a "
           "victims.* file here")


def test_remote_rail(tmp):
    folder = os.path.join(tmp, "remote")
    shutil.copytree(os.path.join(LAB, "16-jokau-res2018-triple-equals"), folder)
    config = ["--config", "SMTPrankster-build/config/config.properties"]
    expect("remote rail: a config naming the Docker VM, delivering", farceur("prank", *config, cwd=folder), 64,
           "farceur prank: refusing to send pranks to '192.168.99.100:2525', which is not a loopback "
           "address: prank mail belongs on a mock server (--allow-remote if you really mean it)")
    proc = farceur("prank", *config, "--dry-run", cwd=folder)
    check("remote rail: not with --dry-run", proc.returncode == 0, proc.stderr.decode(errors="replace"))
    proc = farceur("prank", *config, "--via", "maildir:box", "--json", cwd=folder)
    check("remote rail: not with a local --via", proc.returncode == 0 and len(groups_of(proc)) == 2
          and len(os.listdir(os.path.join(folder, "box", "new"))) == 2, proc.stderr.decode(errors="replace"))


def test_suggestions(tmp):
    expect("a mistyped option", farceur("prank", "--vicitms", "v.txt", cwd=tmp), 64,
           "farceur prank: unknown option --vicitms (did you mean --victims?)")
    expect("a mistyped option with a value", farceur("send", "--jornal=x", cwd=tmp), 64,
           "farceur send: unknown option --jornal=x (did you mean --journal?)")
    expect("an unknown option", farceur("prank", "--xyzzy", cwd=tmp), 64,
           "farceur prank: unknown option --xyzzy (see farceur prank --help)")
    expect("a mistyped command", farceur("prnak", cwd=tmp), 64,
           "farceur: unknown command 'prnak' (did you mean 'prank'?)")
    expect("help for a mistyped command", farceur("help", "inspekt", cwd=tmp), 64,
           "farceur help: unknown command 'inspekt' (did you mean 'inspect'?)")
    proc = farceur("help", cwd=tmp)
    check("farceur help lists the commands", proc.returncode == 0 and "  prank " in proc.stdout.decode()
          and "  help " in proc.stdout.decode(), proc.stdout.decode())
    help_prank = farceur("help", "prank", cwd=tmp)
    dash_help = farceur("prank", "--help", cwd=tmp)
    check("farceur help prank is farceur prank --help", help_prank.returncode == 0
          and help_prank.stdout == dash_help.stdout and b"--messages-format" in help_prank.stdout,
          help_prank.stdout.decode()[:300])


def main():
    with tempfile.TemporaryDirectory(prefix="farceur-reading-") as tmp:
        for fn in (test_silent_merge, test_bad_inputs, test_warnings, test_first_contact,
                   test_remote_rail, test_suggestions):
            folder = os.path.join(tmp, fn.__name__)
            os.mkdir(folder)
            fn(folder)
    return report()


if __name__ == "__main__":
    sys.exit(main())
