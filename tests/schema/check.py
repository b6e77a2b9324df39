#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Every --json record against its JSON Schema in data/schema/ (TAP).

Runs inspect, trace, prank and send with --json over the test corpora, the
shipped templates and the example campaign (local targets and a scripted
SMTP server behind exec:, no network), and catch with Python's smtplib as
its client on loopback, and validates every line.  The schemas
close their objects (additionalProperties: false) and require every member
the command always writes, so a member added, renamed or dropped fails here
until the schema and data/doc/json.md say so too.

Arguments: the schema folder.  Environment: FARCEUR (the built binary),
G_TEST_SRCDIR (tests/).  Needs Debian's python3-jsonschema (tools/setup);
without it the test reports SKIP and says why."""
import json
import os
import pathlib
import subprocess
import sys
import tempfile

try:
    import jsonschema
except ImportError:
    print("1..0 # SKIP python3-jsonschema is not installed (tools/setup installs it)")
    sys.exit(0)

FARCEUR = os.environ["FARCEUR"]
TESTS = pathlib.Path(os.environ["G_TEST_SRCDIR"])
ROOT = TESTS.parent
SCHEMAS = pathlib.Path(sys.argv[1]).resolve()
SMTP = f"exec:/usr/bin/python3 {TESTS / 'schema' / 'smtp-exec.py'}"
COMMANDS = ("inspect", "trace", "prank", "send", "catch")


def load_schemas():
    store = {}
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        with open(path, encoding="utf-8") as f:
            store[path.as_uri()] = json.load(f)
    return store


STORE = load_schemas()


def validator(command):
    uri = (SCHEMAS / f"{command}.schema.json").as_uri()
    schema = STORE[uri]
    resolver = jsonschema.RefResolver(uri, schema, store=STORE)
    return jsonschema.Draft202012Validator(schema, resolver=resolver)


def open_objects(node, where="#"):
    """Where an object schema leaves its members open."""
    found = []
    if isinstance(node, dict):
        if node.get("type") == "object" and node.get("additionalProperties") is not False:
            found.append(where)
        for key, value in node.items():
            found += open_objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += open_objects(value, f"{where}/{i}")
    return found


def check_schemas():
    for uri, schema in STORE.items():
        jsonschema.Draft202012Validator.check_schema(schema)
        open_ = open_objects(schema)
        if open_:
            raise AssertionError(f"{uri}: objects without additionalProperties: false: {open_}")
    for command in COMMANDS + ("prank-read",):
        validator(command)  # exists and its references resolve below


def deepest(error):
    """The error inside a oneOf that explains it best."""
    while error.context:
        error = jsonschema.exceptions.best_match(error.context)
    return error


def validate_lines(command, lines, args=()):
    """Validates each JSON line against COMMAND's schema; returns the records."""
    check = validator(command)
    records = []
    for n, line in enumerate(lines, 1):
        record = json.loads(line)
        # prank's first record says what was read (prank-read.schema.json)
        chosen = validator("prank-read") if command == "prank" and "read" in record else check
        errors = [deepest(e) for e in chosen.iter_errors(record)]
        if errors:
            shown = "; ".join(f"{'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message[:300]}"
                              for e in errors[:5])
            raise AssertionError(f"farceur {command} {list(args)} line {n}: {shown}")
        records.append(record)
    return records


def run_json(command, args, status=(0,), stdin=None, cwd=None):
    """Runs farceur COMMAND --json ARGS; validates every line; returns them."""
    proc = subprocess.run([FARCEUR, command, "--json", *args], input=stdin, capture_output=True,
                          timeout=120, cwd=cwd)
    if proc.returncode not in status:
        raise AssertionError(f"farceur {command} {args}: exit {proc.returncode}: "
                             f"{proc.stderr.decode(errors='replace')}")
    lines = proc.stdout.decode().splitlines()
    if not lines:
        raise AssertionError(f"farceur {command} {args}: no output")
    return validate_lines(command, lines, args)


def write(folder, name, text):
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return str(path)


MESSAGE = "From: Alice <a@x.example>\nTo: {to}\nSubject: {subject}\n\nhi\n"
UUENCODED = ("From: a@x.example\nTo: b@y.example\nSubject: uu\nMIME-Version: 1.0\n"
             "Content-Type: text/plain\nContent-Transfer-Encoding: x-uuencode\n\n"
             "begin 644 a\n#86)C\n`\nend\n")

tests = []


def test(fn):
    tests.append(fn)
    return fn


@test
def schemas_are_valid_and_closed():
    check_schemas()


@test
def inspect_json(tmp):
    data = TESTS / "trace" / "data"
    run_json("inspect", [str(data)])
    run_json("inspect", ["--headers", str(data / "three-hops.eml")])
    composed = tmp / "full.eml"
    subprocess.run([FARCEUR, "compose", str(TESTS / "data" / "compose" / "full.tmpl"),
                    "--from", "A <a@x.example>", "--to", "b@y.example", "--cc", "c@y.example",
                    "--date", "2020-01-01T00:00:00Z", "--message-id", "x@y.example",
                    "-o", str(composed)], check=True, capture_output=True)
    run_json("inspect", ["--headers", str(composed), write(tmp, "uu.eml", UUENCODED)])
    box = tmp / "box"
    subprocess.run([FARCEUR, "prank", "--config", str(ROOT / "data" / "example" / "farceur.conf"),
                    "--seed", "7", "--via", f"mbox:{box}"], check=True, capture_output=True)
    records = run_json("inspect", [str(box)])
    if not all(r["envelope"] for r in records):
        raise AssertionError("a stored prank shows no envelope")
    run_json("inspect", ["--headers", "-"], stdin=box.read_bytes())


@test
def trace_json(tmp):
    run_json("trace", [str(TESTS / "trace" / "data")])
    run_json("trace", ["-"], stdin=(TESTS / "trace" / "data" / "three-hops.eml").read_bytes())


@test
def prank_json(tmp):
    example = ROOT / "data" / "example"
    run_json("prank", ["--config", str(example / "farceur.conf"), "--seed", "7", "--dry-run"])
    run_json("prank", ["--config", str(example / "farceur.conf"), "--seed", "8",
                       "--via", f"maildir:{tmp / 'outbox'}"])
    run_json("prank", ["--config", str(example / "config.properties"), "--seed", "9",
                       "--dry-run"])
    lab = TESTS / "data" / "lab"
    for fixture, args in (("01-crausaz-2021-json-pranks", ["--config", "configs/config.properties"]),
                          ("03-briskocube-2019-json-array", []),
                          ("17-amango-dai2023-one-message-per-line",
                           ["--victims", "smtpclient/src/main/resources/victims.txt", "--messages",
                            "smtpclient/src/main/resources/messages.utf8", "--groups", "2",
                            "--group-size", "2-5"]),
                          ("28-synthetic-bom-hostport-slashes", [])):
        records = run_json("prank", [*args, "--seed", "1", "--dry-run"], cwd=lab / fixture)
        if "read" not in records[0] or not records[0]["read"]:
            raise AssertionError(f"{fixture}: the first record does not say what was read")
    records = run_json("prank", ["--victims", str(example / "victims.txt"), "--messages",
                                 str(tmp), "--dry-run"], status=(66,))
    if records != [{"read": records[0]["read"], "plan": None}]:
        raise AssertionError("a failed prank --json does not end with a read record, plan null")
    victims = write(tmp, "victims.txt", "".join(
        f"{name}@z.example\n" for name in ("ann", "bob", "refused1", "cat", "deferred1", "dan",
                                           "refused2", "eve", "fay")))
    for template in ("loterie.tmpl", "chat-directeur.tmpl"):
        run_json("prank", ["--victims", victims, "--messages", str(ROOT / "templates" / template),
                           "--seed", "3", "--witness", "w@z.example", "--via", SMTP],
                 status=(0, 69, 75))


@test
def send_json(tmp):
    folder = tmp / "in"
    folder.mkdir()
    write(folder, "1-ok.eml", MESSAGE.format(to="b@y.example", subject="ok"))
    write(folder, "2-partial.eml",
          MESSAGE.format(to="b@y.example, refused@y.example", subject="partial"))
    write(folder, "3-refused.eml", MESSAGE.format(to="refused@y.example", subject="refused"))
    write(folder, "4-deferred.eml", MESSAGE.format(to="deferred@y.example", subject="later"))
    write(folder, "5-bcc.eml", MESSAGE.format(to="b@y.example", subject="bcc")
          .replace("Subject:", "Bcc: deferred2@y.example\nSubject:"))
    run_json("send", ["--dry-run", str(folder)])
    journal = str(tmp / "journal")
    for _ in range(2):  # the second run reports every message skipped
        run_json("send", ["--via", f"maildir:{tmp / 'sent'}", "--journal", journal, str(folder)])
    run_json("send", ["--via", SMTP, "--retries", "0", str(folder)], status=(69, 75))


def catch_session(port, lmtp=False):
    """Plain, STARTTLS + AUTH, SMTPUTF8 with a Bcc, and a refused recipient."""
    import smtplib
    import ssl
    from email.message import EmailMessage
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    if lmtp:
        with smtplib.LMTP("127.0.0.1", port, timeout=20) as s:
            s.sendmail("a@x.example", ["b@y.example"], b"Subject: lmtp\r\n\r\nhi\r\n")
        return 1
    with smtplib.SMTP("127.0.0.1", port, timeout=20) as s:
        s.sendmail("a@x.example", ["b@y.example"],
                   MESSAGE.format(to="b@y.example", subject="plain").replace("\n", "\r\n").encode())
        s.starttls(context=ctx)
        s.login("tim", "x")
        msg = EmailMessage()
        msg["From"], msg["To"], msg["Bcc"] = "Zoé <zoé@x.example>", "b@y.example", "c@z.example"
        msg["Subject"] = "utf8"
        msg.set_content("héhé\n", cte="8bit")
        s.send_message(msg)
    return 2


@test
def catch_json(tmp):
    for lmtp in (False, True):
        argv = [FARCEUR, "catch", "--json", "--listen", "127.0.0.1:0", "--to",
                f"maildir:{tmp / ('lmtp' if lmtp else 'smtp')}"] + (["--lmtp"] if lmtp else [])
        proc = subprocess.Popen(argv + ["--exit-after", "2" if not lmtp else "1"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        port = None
        for line in proc.stderr:
            if "listening on" in line:
                port = int(line.rsplit(":", 1)[1])
            if "Ctrl-C stops" in line:
                break
        try:
            catch_session(port, lmtp)
            out, err = proc.communicate(timeout=60)
        finally:
            proc.kill()
        if proc.returncode != 0 or not out:
            raise AssertionError(f"farceur catch: exit {proc.returncode}: {err}")
        validate_lines("catch", out.splitlines())


def main():
    print("1..%d" % len(tests))
    failed = 0
    for i, fn in enumerate(tests, 1):
        try:
            with tempfile.TemporaryDirectory(prefix="farceur-schema-") as tmp:
                if fn.__code__.co_argcount:
                    fn(pathlib.Path(tmp))
                else:
                    fn()
            print("ok %d - %s" % (i, fn.__name__))
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print("not ok %d - %s" % (i, fn.__name__))
            for line in str(e).splitlines():
                print("# " + line[:2000])
    sys.stdout.flush()
    return 1 if failed else 0


sys.exit(main())
