#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Interop: every shipped template (templates/*.tmpl) and the composer's own
test templates (tests/data/compose/*.tmpl, among them stress.tmpl) are
composed with `farceur compose` and read back by Python's email package
(policy.default).  Checked: no parser defect, decoded Subject and display
names equal the intended strings, attachments byte-identical (sha256),
decoded bodies hold the template text, no line over 998 octets, no CR at
all (LF line ends as written), 7-bit only.  Then injection attempts through
every field the command line can fill.  TAP output.

Env: FARCEUR (the binary), G_TEST_SRCDIR (the tests folder).
"""
import email
import email.policy
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = os.path.dirname(TESTS)
DATA = os.path.join(TESTS, "data", "compose")

FROM = '"Dupont, Jean \\"JD\\"" <jd@example.org>'
FROM_NAME = 'Dupont, Jean "JD"'
TO = ['"Müller, Zoë" <zoe@example.net>', "李小龍 <li@example.cn>", "plain@example.com"]
TO_NAMES = ["Müller, Zoë", "李小龍", ""]
STRESS_SUBJECT_VAR = "Ünïcode 🎉🐟 中文 «quotes» \"double\""
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_.\-]+)\s*\}\}")

results = []


def check(ok, what, detail=""):
    results.append((bool(ok), what, detail))
    return ok


def read_template(path):
    """Header block (unfolded: continuation lines joined, as RFC 5322 says),
    the body text and the raw text."""
    text = open(path, encoding="utf-8").read()
    head, _, body = text.partition("\n\n")
    headers = []
    for line in head.split("\n"):
        if line[:1] in (" ", "\t") and headers:
            headers[-1][1] += line
        elif ":" in line:
            name, _, value = line.partition(":")
            headers.append([name.strip(), value.strip()])
    return headers, body, text


def attach_specs(path, headers):
    specs = []
    for name, value in headers:
        if name.lower() != "attach":
            continue
        items = [i.strip() for i in value.split(";")]
        spec = {"path": os.path.join(os.path.dirname(path), items[0].strip('"')), "name": None}
        for item in items[1:]:
            if item.lower().startswith("name="):
                spec["name"] = item[5:].strip('"')
        spec["filename"] = spec["name"] or os.path.basename(spec["path"])
        specs.append(spec)
    return specs


def html_text(path, headers):
    for name, value in headers:
        if name.lower() == "html":
            return open(os.path.join(os.path.dirname(path), value.strip('"')), encoding="utf-8").read()
    return ""


# Address variables keep the values farceur binds from --from/--to (a
# template may build a From or To header out of them).
BOUND = {
    "sender.email": "jd@example.org",
    "recipient.email": "zoe@example.net",
    "recipients.emails": "zoe@example.net, li@example.cn, plain@example.com",
}


def variables(path, text, html):
    """The value of every placeholder: a --var for each one except the
    address variables (vars win over bound ones, so every expected string is
    known exactly).  Returns (all values, the ones to pass as --var)."""
    names = sorted(set(PLACEHOLDER.findall(text)) | set(PLACEHOLDER.findall(html)))
    given = {n: f"Välue·{n}" for n in names if n not in BOUND}
    if "subject" in given:
        given["subject"] = STRESS_SUBJECT_VAR
    return {**{n: BOUND[n] for n in names if n in BOUND}, **given}, given


def expand(text, values):
    return PLACEHOLDER.sub(lambda m: values[m.group(1)], text)


def compose(args):
    return subprocess.run([FARCEUR, "compose", *args], capture_output=True)


def raw_checks(label, raw):
    lines = raw.split(b"\n")
    check(b"\r" not in raw, f"{label}: no CR")
    longest = max(len(line) for line in lines)
    check(longest <= 998, f"{label}: no line over 998 octets", f"longest {longest}")
    check(all(b < 128 for b in raw), f"{label}: 7-bit only")


def defects_of(msg):
    found = []
    for part in msg.walk():
        found += [repr(d) for d in part.defects]
        for name, value in part.items():
            found += [f"{name}: {d!r}" for d in getattr(value, "defects", ())]
    return found


def leaf_bodies(msg):
    return [p for p in msg.walk() if not p.is_multipart()]


def check_attachments(label, msg, specs):
    by_name = {p.get_filename(): p for p in leaf_bodies(msg) if p.get_filename()}
    for spec in specs:
        part = by_name.get(spec["filename"])
        if not check(part is not None, f"{label}: attachment '{spec['filename']}' present",
                     f"found {sorted(by_name)}"):
            continue
        want = hashlib.sha256(open(spec["path"], "rb").read()).hexdigest()
        got = hashlib.sha256(part.get_payload(decode=True)).hexdigest()
        check(want == got, f"{label}: attachment '{spec['filename']}' byte-identical", f"{got} != {want}")


def check_texts(label, msg, body, html):
    texts = {p.get_content_type(): p.get_content() for p in leaf_bodies(msg)
             if p.get_content_type() in ("text/plain", "text/html") and not p.get_filename()}
    check(texts.get("text/plain", "").rstrip("\n") == body.rstrip("\n"),
          f"{label}: text/plain decodes to the expanded body")
    if html:
        check(texts.get("text/html", "").rstrip("\n") == html.rstrip("\n"),
              f"{label}: text/html decodes to the expanded HTML")


def check_template(path):
    label = os.path.relpath(path, ROOT)
    headers, body, text = read_template(path)
    html = html_text(path, headers)
    values, given = variables(path, text, html)
    args = [path, "--from", FROM] + [a for to in TO for a in ("--to", to)]
    args += [a for k, v in given.items() for a in ("--var", f"{k}={v}")]
    run = compose(args)
    if not check(run.returncode == 0, f"{label}: composes", run.stderr.decode(errors="replace")):
        return
    raw = run.stdout
    raw_checks(label, raw)
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    defects = defects_of(msg)
    check(not defects, f"{label}: no parser defects", "; ".join(defects))
    tmpl_headers = {n.lower(): v for n, v in headers}
    want_subject = " ".join(expand(tmpl_headers["subject"], values).split())
    check(" ".join(str(msg["Subject"]).split()) == want_subject, f"{label}: subject decodes as intended",
          f"{msg['Subject']!r} != {want_subject!r}")
    for name in ("from", "to", "cc", "reply-to"):
        if name in tmpl_headers:
            want = email.policy.default.header_factory(name, expand(tmpl_headers[name], values))
            want = [(a.display_name, a.addr_spec) for a in want.addresses]
            got = [(a.display_name, a.addr_spec) for a in msg[name].addresses]
            check(got == want, f"{label}: {name} from the template", f"{got} != {want}")
    if "from" not in tmpl_headers:
        got = [a.display_name for a in msg["From"].addresses]
        check(got == [FROM_NAME], f"{label}: From display name", repr(got))
    if "to" not in tmpl_headers:
        got = [a.display_name for a in msg["To"].addresses]
        check(got == TO_NAMES, f"{label}: To display names", repr(got))
    for h in ("Date", "Message-ID", "MIME-Version"):
        check(msg[h] is not None, f"{label}: has {h}")
    skip = {"attach", "html", "subject", "from", "to", "cc", "reply-to"}
    for name, value in headers:
        if name.lower() not in skip:
            want = " ".join(expand(value, values).split())
            got = " ".join(str(msg[name]).split())
            check(got == want, f"{label}: header {name} decodes as intended", f"{got!r} != {want!r}")
    check_attachments(label, msg, attach_specs(path, headers))
    check_texts(label, msg, expand(body, values), expand(html, values))
    want_names = {n.lower() for n, _ in headers if n.lower() not in ("attach", "html")}
    want_names |= {"from", "to", "date", "message-id", "mime-version", "content-type"}
    got_names = {n.lower() for n in msg.keys()} - {"content-transfer-encoding"}
    check(got_names == want_names, f"{label}: exactly the intended headers",
          f"{sorted(got_names)} != {sorted(want_names)}")


def check_refused(label, args, needle="control character"):
    run = compose(args)
    err = run.stderr.decode(errors="replace")
    check(run.returncode == 65 and needle in err and not run.stdout,
          f"injection {label}: refused with exit 65", f"exit {run.returncode}: {err.strip()}")


def check_injections(tmp):
    plain = os.path.join(DATA, "plain.tmpl")
    custom = os.path.join(tmp, "custom.tmpl")
    with open(custom, "w") as f:
        f.write("Subject: {{subject}}\nX-Custom: {{custom}}\nReply-To: {{reply}}\n\nbody\n")
    base = ["--from", "a@example.org", "--to", "b@example.org"]
    for bad in ("x\r\nBcc: victim@evil.org", "x\nX-Evil: 1", "x\rX-Evil: 1"):
        shown = bad.encode("unicode_escape").decode()
        check_refused(f"display name {shown}", [plain, "--from", f"Eve {bad} <eve@example.org>",
                                                "--to", "b@example.org"])
        check_refused(f"address {shown}", [plain, "--from", "a@example.org", "--to", f"b@example.org{bad}"])
        check_refused(f"cc {shown}", [plain, *base, "--cc", f"c{bad}@example.org"])
        for var in ("subject", "custom", "reply"):
            values = {"subject": "s", "custom": "c", "reply": "r@example.org", var: bad}
            check_refused(f"{var} variable {shown}",
                          [custom, *base] + [a for k, v in values.items() for a in ("--var", f"{k}={v}")])
        evil = os.path.join(tmp, f"evil{bad}.bin")
        with open(evil, "wb") as f:
            f.write(b"\0\1\2")
        check_refused(f"attachment file name {shown}", [plain, *base, "--attach", evil])
        if "\n" in bad:
            continue  # in the template file itself that is a new line, not an injection
        cid_tmpl = os.path.join(tmp, "cid.tmpl")
        with open(cid_tmpl, "w", newline="") as f:
            f.write(f"Subject: s\nAttach: {os.path.join(DATA, 'logo.png')}; cid=a{bad}b\n\nbody\n")
        check_refused(f"cid {shown}", [cid_tmpl, *base], needle="line")
    # An encoded-word decoding to CR LF stays inside its header.
    word = "=?utf-8?q?x=0D=0ABcc:_victim@evil.org?="
    run = compose([custom, *base, "--var", f"subject={word}", "--var", f"custom={word}",
                   "--var", "reply=r@example.org"])
    if check(run.returncode == 0, "injection encoded-word: composes", run.stderr.decode()):
        msg = email.message_from_bytes(run.stdout, policy=email.policy.default)
        got = sorted(n.lower() for n in msg.keys())
        want = sorted(["from", "to", "subject", "date", "message-id", "x-custom", "reply-to",
                       "mime-version", "content-type", "content-transfer-encoding"])
        check(got == want, "injection encoded-word: exactly the intended headers", f"{got}")
        for name in ("subject", "x-custom"):
            check(str(msg[name]) == word, f"injection encoded-word: {name} decodes to the literal text",
                  repr(str(msg[name])))
    # ... also after other text, in a filename, and in a display name (where
    # it is decoded, so it must not decode to a control or a group).
    run = compose([custom, *base, "--var", f"subject=Zoé {word} end", "--var", "custom=c",
                   "--var", "reply=r@example.org"])
    if check(run.returncode == 0, "injection encoded-word mid-text: composes", run.stderr.decode()):
        msg = email.message_from_bytes(run.stdout, policy=email.policy.default)
        check(str(msg["subject"]) == f"Zoé {word} end", "injection encoded-word mid-text: literal",
              repr(str(msg["subject"])))
    named = os.path.join(tmp, "named.tmpl")
    with open(named, "w") as f:
        f.write(f"Subject: s\nAttach: {os.path.join(DATA, 'logo.png')}; name=\"{word}.txt\"\n\nbody\n")
    check_refused("encoded-word file name", [named, *base], needle="encoded-word")
    sender = os.path.join(tmp, "sender.tmpl")
    with open(sender, "w") as f:
        f.write("From: {{n}} <a@example.org>\nSubject: s\n\nbody\n")
    ew = "=?utf-8?q?a=0D=0AX-Injected:_1?="
    check_refused("encoded-word display name (template)", [sender, "--to", "c@example.org", "--var", f"n={ew}"],
                  needle="group")
    check_refused("encoded-word display name (--from)", [plain, "--from", f"{ew} <a@example.org>",
                                                         "--to", "c@example.org"], needle="group")
    check_refused("group in --from", [plain, "--from", "Team: a@example.org, x@example.org;",
                                      "--to", "c@example.org"], needle="group")


def check_text_attachment(tmp):
    """A UTF-8 text attachment says charset=utf-8: Python decodes it right."""
    note = os.path.join(tmp, "note.txt")
    with open(note, "w", encoding="utf-8") as f:
        f.write("Zoé 🎉 中文\n")
    run = compose([os.path.join(DATA, "plain.tmpl"), "--from", "a@example.org", "--to", "b@example.org",
                   "--attach", note])
    if check(run.returncode == 0, "UTF-8 text attachment: composes", run.stderr.decode()):
        msg = email.message_from_bytes(run.stdout, policy=email.policy.default)
        part = [p for p in msg.walk() if p.get_filename() == "note.txt"][0]
        check(part.get_content_charset() == "utf-8" and part.get_content() == "Zoé 🎉 中文\n",
              "UTF-8 text attachment: charset=utf-8, decodes as written", repr(part.get_content()))


def main():
    templates = sorted(glob.glob(os.path.join(ROOT, "templates", "*.tmpl")))
    templates += sorted(glob.glob(os.path.join(DATA, "*.tmpl")))
    check(any(t.endswith("stress.tmpl") for t in templates), "stress template found")
    for path in templates:
        check_template(path)
    with tempfile.TemporaryDirectory() as tmp:
        check_injections(tmp)
        check_text_attachment(tmp)
    print(f"1..{len(results)}")
    failed = 0
    for i, (ok, what, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {what}")
        if not ok:
            failed += 1
            print(f"# {detail}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
