#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The lab as students wrote it (tests/data/lab, README.md there): every
fixture runs as-is, `farceur prank ARGS --dry-run --json` exits 0 and its
plan is the one the fixture's `expect` oracle states (victims kept, repeats
and skipped entries, group count and sizes, unused victims, witnesses,
server, each message's subject and first body line, warnings); the same seed
gives the same plan; delivered to a Maildir and read back with Python's
email package, each message has its own subject and body, with no separator
line and no second Subject line in it.  TAP output.  Env: FARCEUR,
G_TEST_SRCDIR."""
import email
import email.policy
import glob
import json
import os
import shlex
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAB = os.path.join(TESTS, "data", "lab")

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tap import check, report  # noqa: E402


def run(args, cwd, env):
    return subprocess.run([FARCEUR, "prank", *args], capture_output=True, cwd=cwd, env=env,
                          timeout=60)


def read_oracle(folder):
    oracle = {"message": [], "warning": [], "witness": [], "bcc": [], "repeated": [], "encoding": []}
    with open(os.path.join(folder, "expect"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or ":" not in line:
                continue
            key, _, value = line.rstrip("\n").partition(": ")
            key = key.rstrip(":")
            if key == "message":
                subject, _, body = value.partition(" | ")
                oracle["message"].append((subject.strip(), body.strip()))
            elif key == "repeated":
                oracle["repeated"] = value.split()
            elif key in oracle:
                oracle[key].append(value)
            else:
                oracle[key] = value
    return oracle


def in_range(value, spec):
    """spec is "N" or "MIN-MAX"."""
    low, _, high = spec.partition("-")
    return int(low) <= value <= int(high or low)


def notes_text(file):
    return [(f"line {n['line']}: " if n["line"] else "") + n["text"]
            for n in file["warnings"] + file["skipped"]]


def check_read(name, oracle, read):
    files = {f["role"]: f for f in read["read"]}
    victims, messages = files.get("victims"), files.get("messages")
    check(f"{name}: victims kept", victims and victims["count"] == int(oracle["victims"]),
          json.dumps(victims, ensure_ascii=False)[:400])
    check(f"{name}: repeated addresses kept once", victims and sorted(victims["repeated"])
          == sorted(oracle["repeated"]), str(victims and victims["repeated"]))
    check(f"{name}: invalid entries skipped", victims and len(victims["skipped"])
          == int(oracle.get("skipped", 0)), str(victims and victims["skipped"]))
    wanted = [s for s, _ in oracle["message"]]
    check(f"{name}: each message's subject, in order", messages and messages["subjects"] == wanted,
          f"{messages and messages['subjects']} vs {wanted}")
    notes = [t for f in read["read"] for t in notes_text(f)]
    for warning in oracle["warning"]:
        check(f"{name}: warned: {warning}", any(warning in t for t in notes), "\n".join(notes))
    for spec in oracle["encoding"]:
        role, _, encoding = spec.partition(" ")
        check(f"{name}: {role} read as {encoding}", files[role]["encoding"] == encoding,
              str(files[role]["encoding"]))
    if "server" in oracle:
        summary = files.get("config", {}).get("summary") or ""
        check(f"{name}: server {oracle['server']}", f"server {oracle['server']}" in summary, summary)


def check_plan(name, oracle, plan, groups):
    sizes = sorted(len(g["recipients"]) + 1 for g in groups)
    spec = oracle["sizes"]
    if "-" in spec:
        ok = all(in_range(s, spec) for s in sizes) and plan["rule"] == "picked"
    else:
        ok = sizes == sorted(int(s) for s in spec.split())
    check(f"{name}: {oracle['groups']} groups", len(groups) == plan["groups"] == int(oracle["groups"]),
          str(plan))
    check(f"{name}: group sizes {spec}", ok, f"{sizes}, {plan['rule']}")
    check(f"{name}: unused victims {oracle['unused']}", in_range(plan["unused"], oracle["unused"]),
          str(plan["unused"]))
    members = [a for g in groups for a in [g["sender"]["addr"]] + [r["addr"] for r in g["recipients"]]]
    check(f"{name}: no victim in two groups", len(members) == len(set(members))
          == plan["victims"] - plan["unused"], f"{len(members)} members")
    for g in groups:
        for m in g["messages"]:
            cc = [a["addr"] for a in m["header"]["cc"]]
            rcpt = m["envelope"]["rcpt_to"]
            if not check(f"{name}: group {g['group']} Cc witnesses",
                         all(w in cc for w in oracle["witness"]), str(cc)):
                break
            check(f"{name}: group {g['group']} Bcc witnesses only in the envelope",
                  all(b in rcpt and b not in cc for b in oracle["bcc"]), str(rcpt))


def plan_key(groups):
    return [(g["sender"]["addr"], [r["addr"] for r in g["recipients"]], g["template"], g["template_index"])
            for g in groups]


def first_line(text):
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def check_delivered(name, oracle, folder, args, env, tmp):
    box = os.path.join(tmp, name + "-box")
    proc = run([*args, "--seed", "5", "--json", "--via", f"maildir:{box}"], folder, env)
    if not check(f"{name}: delivered to a Maildir, exit 0", proc.returncode == 0,
                 proc.stderr.decode(errors="replace")):
        return
    records = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    by_id = {m["message_id"]: g for g in records if "group" in g for m in g["messages"]}
    files = sorted(glob.glob(os.path.join(box, "new", "*")))
    check(f"{name}: one stored file per message", files and len(files) == len(by_id),
          f"{len(files)} vs {len(by_id)}")
    separator = oracle.get("separator")
    for path in files:
        with open(path, "rb") as f:
            msg = email.message_from_binary_file(f, policy=email.policy.default)
        group = by_id.get(msg["Message-ID"].strip("<>"))
        subject = str(msg["Subject"] or "")
        index = group["template_index"] if group else 0
        wanted = ([oracle["message"][index - 1]] if index else
                  [m for m in oracle["message"] if m[0] == subject])
        part = msg.get_body(preferencelist=("plain", "html"))
        body = part.get_content() if part else ""
        lines = [l.strip() for l in body.splitlines()]
        label = f"{name}: {os.path.basename(path)[:12]}"
        check(f"{label} has its own subject", wanted and subject == wanted[0][0],
              f"{subject!r} vs {wanted}")
        check(f"{label} has its own body", wanted and first_line(body) == wanted[0][1],
              f"{first_line(body)!r} vs {wanted and wanted[0][1]!r}")
        check(f"{label}: no separator, no second subject in the body",
              (separator is None or separator not in lines)
              and not any(l.lower().startswith("subject") and ":" in l[:12] for l in lines),
              body[:300])


def test_fixture(folder, tmp, env):
    name = os.path.basename(folder)[:2]
    oracle = read_oracle(folder)
    args = shlex.split(oracle.get("args", ""))
    proc = run([*args, "--dry-run", "--json", "--seed", "1"], folder, env)
    if not check(f"{name}: --dry-run --json exits 0", proc.returncode == 0,
                 proc.stderr.decode(errors="replace")):
        return
    records = [json.loads(l) for l in proc.stdout.decode().splitlines()]
    read, groups = records[0], [r for r in records[1:] if "group" in r]
    check_read(name, oracle, read)
    check_plan(name, oracle, read["plan"], groups)
    again = run([*args, "--dry-run", "--json", "--seed", "1"], folder, env)
    check(f"{name}: the same seed gives the same plan",
          plan_key(groups) == plan_key([json.loads(l) for l in again.stdout.decode().splitlines()[1:]]))
    check_delivered(name, oracle, folder, args, env, tmp)


def main():
    with tempfile.TemporaryDirectory(prefix="farceur-lab-") as tmp:
        env = dict(os.environ, XDG_CONFIG_HOME=os.path.join(tmp, "xdg"), LC_ALL="C.UTF-8")
        fixtures = sorted(d for d in glob.glob(os.path.join(LAB, "[0-9][0-9]-*")))
        check("at least 27 fixtures of real solutions", len(fixtures) >= 27, str(len(fixtures)))
        for folder in fixtures:
            test_fixture(folder, tmp, env)
    return report()


if __name__ == "__main__":
    sys.exit(main())
