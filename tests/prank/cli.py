#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""CLI tests of `farceur prank`: the shipped example end to end into a
Maildir and an mbox (read back with Python's email package), the plan's
properties seen from outside (every victim once, same seed same plan),
and the bad-input cases: exit status, message naming file and line, and
nothing delivered.  TAP output.  Env: FARCEUR, G_TEST_SRCDIR."""
import email
import email.policy
import glob
import json
import os
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
TESTS = os.environ.get("G_TEST_SRCDIR", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROOT = os.path.dirname(TESTS)
EXAMPLE = os.path.join(ROOT, "data", "example")
CONF = os.path.join(EXAMPLE, "farceur.conf")
TEMPLATES = os.path.join(ROOT, "templates")

results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))
    return ok


def run(*args, cwd=None, env=None):
    full_env = dict(os.environ, **(env or {}))
    return subprocess.run([FARCEUR, "prank", *args], capture_output=True, cwd=cwd, env=full_env)


def write(tmp, name, text):
    path = os.path.join(tmp, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def maildir_files(path):
    return sorted(glob.glob(os.path.join(path, "new", "*")) + glob.glob(os.path.join(path, "cur", "*")))


def expect_fail(label, proc, status, needle, maildir=None):
    err = proc.stderr.decode(errors="replace")
    ok = proc.returncode == status and needle in err and err.startswith("farceur prank: ")
    detail = f"exit {proc.returncode}, stderr: {err.strip()}"
    if maildir is not None:
        delivered = maildir_files(maildir)
        ok = ok and not delivered
        detail += f", delivered: {len(delivered)}"
    return check(label, ok, detail)


def group_records(proc):
    """The group records of prank --json (the first record says what was read)."""
    records = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    return [r for r in records if "group" in r]


def parse(path):
    with open(path, "rb") as f:
        return email.message_from_binary_file(f, policy=email.policy.default)


VICTIMS = "".join(f"Victim {i} <v{i}@example.org>\n" for i in range(1, 13))


def test_example(tmp):
    """The shipped example: every message read back, envelope lines right."""
    out = os.path.join(tmp, "example")
    proc = run("--config", CONF, "--seed", "42", "--via", f"maildir:{out}", "--json")
    check("example: exit 0", proc.returncode == 0, proc.stderr.decode(errors="replace"))
    groups = group_records(proc)
    check("example: one JSON object per group (13 victims, groups of 3 -> 4)", len(groups) == 4,
          str(len(groups)))
    members = []
    for g in groups:
        members.append(g["sender"]["addr"])
        members.extend(r["addr"] for r in g["recipients"])
        check(f"example: group {g['group']} has at least 3 members", len(g["recipients"]) >= 2)
    with open(os.path.join(EXAMPLE, "victims.txt"), encoding="utf-8") as f:
        listed = [l for l in f.read().splitlines() if l.strip() and not l.startswith("#")]
    check("example: every victim in exactly one group", len(members) == len(set(members)) == len(listed),
          f"{len(members)} members, {len(set(members))} distinct, {len(listed)} listed")
    templates = [g["template"] for g in groups]
    check("example: templates not repeated before all are used", len(set(templates)) == len(templates),
          str(templates))
    files = maildir_files(out)
    n_messages = sum(len(g["messages"]) for g in groups)
    check("example: one file per message", len(files) == n_messages, f"{len(files)} vs {n_messages}")
    by_id = {}
    for path in files:
        msg = parse(path)
        by_id[msg["Message-ID"].strip("<>")] = msg
        check(f"example: {os.path.basename(path)} parses without defects",
              not msg.defects and all(not p.defects for p in msg.walk()),
              str(msg.defects))
        check(f"example: {os.path.basename(path)} has no Bcc header", msg["Bcc"] is None)
        with open(path, "rb") as f:
            head = f.read(200)
        check(f"example: {os.path.basename(path)} starts with Return-Path then Envelope-to",
              head.startswith(b"Return-Path: <") and b"\nEnvelope-to: " in head, repr(head[:80]))
    for g in groups:
        for m in g["messages"]:
            msg = by_id.get(m["message_id"])
            if not check(f"example: group {g['group']} message {m['message_id']} was stored", msg):
                continue
            rp = msg["Return-Path"].strip("<>")
            check(f"example: group {g['group']} Return-Path is the forged sender",
                  rp == g["sender"]["addr"] == m["envelope"]["mail_from"], rp)
            env_to = [a.strip() for a in " ".join(msg["Envelope-to"].split()).split(",")]
            check(f"example: group {g['group']} Envelope-to is the envelope",
                  env_to == m["envelope"]["rcpt_to"], f"{env_to} vs {m['envelope']['rcpt_to']}")
            check(f"example: group {g['group']} Bcc witness only in the envelope",
                  "archives@example.edu" in env_to and "archives@example.edu" not in str(msg["To"]) + str(msg["Cc"])
                  and "archives@example.edu" in m["envelope_only"])
            check(f"example: group {g['group']} Cc witness in the header",
                  "prof@example.edu" in str(msg["Cc"]))
            check(f"example: group {g['group']} subject decoded as reported",
                  str(msg["Subject"]) == m["subject"], f"{msg['Subject']!r} vs {m['subject']!r}")
            check(f"example: group {g['group']} result delivered", m["result"] == "delivered")
    return groups


def test_seeds(tmp, groups42):
    def plan(seed):
        proc = run("--config", CONF, "--seed", str(seed), "--dry-run", "--json")
        return [(g["sender"]["addr"], [r["addr"] for r in g["recipients"]], g["template"])
                for g in group_records(proc)]
    again = plan(42)
    check("seed: same seed, same plan", again == [(g["sender"]["addr"], [r["addr"] for r in g["recipients"]],
                                                   g["template"]) for g in groups42])
    others = {str(plan(s)) for s in (1, 2, 3)}
    check("seed: different seeds, different plans", len(others) == 3 and str(again) not in others)
    proc = run("--config", CONF, "--dry-run")
    err_out = proc.stdout.decode()
    check("seed: a random seed is printed when none is given",
          proc.returncode == 0 and "chosen at random; --seed replays this plan" in err_out, err_out[:200])


def test_dry_run(tmp):
    out = os.path.join(tmp, "dry")
    proc = run("--config", CONF, "--via", f"maildir:{out}", "--dry-run")
    text = proc.stdout.decode()
    check("dry run: exit 0, plan printed, nothing created",
          proc.returncode == 0 and "not delivered (--dry-run)" in text and not os.path.exists(out), text[-300:])
    check("dry run: envelope next to headers, forged From flagged",
          "MAIL FROM:<" in text and "RCPT TO:<" in text and "forged From" in text
          and "only in the envelope (blind copy" in text)


def test_mbox(tmp):
    box = os.path.join(tmp, "pranks.mbox")
    proc = run("--config", CONF, "--seed", "5", "--via", f"mbox:{box}", "--json")
    n = sum(len(g["messages"]) for g in group_records(proc))
    import mailbox
    msgs = list(mailbox.mbox(box))
    check("mbox: exit 0, every message appended", proc.returncode == 0 and len(msgs) == n and n > 0,
          f"{len(msgs)} vs {n}: {proc.stderr.decode(errors='replace')}")
    check("mbox: Return-Path and Envelope-to on every message",
          all(m["Return-Path"] and m["Envelope-to"] for m in msgs))


def test_csv_vars(tmp):
    victims = write(tmp, "team.csv", "email,name,team\n" + "".join(
        f"v{i}@example.org,Victim {i},team{i}\n" for i in range(1, 7)))
    tmpl = write(tmp, "team.tmpl", "Subject: note from {{sender.team}} to {{recipient.team}}\n\n"
                 "Hello {{recipient.first_name}} ({{group.index}}/{{group.size}}, {{course}})\n")
    out = os.path.join(tmp, "csv")
    proc = run("--victims", victims, "--messages", tmpl, "--via", f"maildir:{out}", "--seed", "9",
               "--var", "course=Réseaux", "--json")
    groups = group_records(proc)
    ok = proc.returncode == 0 and len(groups) == 2
    for g in groups:
        ok = ok and g["per_recipient"] and len(g["messages"]) == len(g["recipients"])
    check("csv: personal template gives one message per recipient", ok, proc.stderr.decode(errors="replace"))
    subjects = sorted(str(parse(p)["Subject"]) for p in maildir_files(out))
    check("csv: extra columns become sender.* and recipient.* variables",
          len(subjects) == 4 and all(s.startswith("note from team") and " to team" in s for s in subjects),
          str(subjects))
    bodies = [parse(p).get_body().get_content() for p in maildir_files(out)]
    check("csv: --var and group.* variables expanded", all("/3, Réseaux)" in b for b in bodies), str(bodies[:1]))


def test_config_search(tmp):
    cwd = os.path.join(tmp, "cwd")
    os.mkdir(cwd)
    write(cwd, "v.txt", "".join(VICTIMS.splitlines(True)[:9]))
    write(cwd, "farceur.conf", f"[campaign]\nvictims = v.txt\nmessages = {TEMPLATES}\ngroups = 2\n")
    proc = run("--dry-run", "--json", cwd=cwd, env={"XDG_CONFIG_HOME": os.path.join(tmp, "noxdg")})
    check("config: ./farceur.conf is read when --config is not given",
          proc.returncode == 0 and len(group_records(proc)) == 2,
          proc.stderr.decode(errors="replace"))
    proc = run("--dry-run", "--json", "--groups", "3", cwd=cwd, env={"XDG_CONFIG_HOME": os.path.join(tmp, "noxdg")})
    check("config: command-line options win over the file",
          proc.returncode == 0 and len(group_records(proc)) == 3)
    proc = run("--config", os.path.join(EXAMPLE, "config.properties"), "--via", f"maildir:{os.path.join(tmp, 'lab')}",
               "--seed", "3")
    check("config: the lab's config.properties with victims.utf8 and messages.utf8",
          proc.returncode == 0 and len(maildir_files(os.path.join(tmp, "lab"))) == 3,
          proc.stderr.decode(errors="replace"))


def test_bad_inputs(tmp):
    box = os.path.join(tmp, "box")
    for sub in ("tmp", "new", "cur"):
        os.makedirs(os.path.join(box, sub))
    via = ["--via", f"maildir:{box}"]
    good = write(tmp, "good.txt", VICTIMS)
    base = ["--messages", TEMPLATES, *via, "--seed", "1"]

    bad = write(tmp, "bad.txt", VICTIMS + "# a comment\nnot an address\n")
    expect_fail("bad victim line with --strict: 65, file and line, nothing delivered",
                run("--victims", bad, *base, "--strict"), 65, f"victims '{bad}' line 14: ", box)
    proc = run("--victims", bad, *base, "--dry-run")
    err = proc.stderr.decode(errors="replace")
    check("bad victim line without --strict: skipped with a warning naming file and line",
          proc.returncode == 0 and f"warning: {bad} line 14: skipped: invalid address 'not an address'" in err,
          err)
    dup = write(tmp, "dup.txt", VICTIMS + "V1 <V1@example.org>\n")
    proc = run("--victims", dup, *base, "--dry-run")
    err = proc.stderr.decode(errors="replace")
    check("repeated victim: kept once, one warning naming both lines",
          proc.returncode == 0 and "1 repeated address kept once: v1@example.org (lines 1, 13)" in err, err)
    few = write(tmp, "few.txt", "a@example.org\nb@example.org\n")
    expect_fail("too few victims: 65", run("--victims", few, *base), 65,
                f"victims '{few}': not enough victims: 1 group of at least 3 needs 3 victims, there are 2", box)
    expect_fail("too few victims for --groups: 65", run("--victims", good, "--groups", "5", *base), 65,
                "5 groups of at least 3 need 15 victims, there are 12", box)
    proc = run("--victims", good, "--groups", "2", "--group-size", "2-5", *base, "--dry-run", "--json")
    groups = group_records(proc)
    check("more victims than MAX holds: groups picked, the rest unused (DAI rule)",
          proc.returncode == 0 and len(groups) == 2
          and all(2 <= len(g["recipients"]) + 1 <= 5 for g in groups), proc.stderr.decode(errors="replace"))

    tdir = os.path.join(tmp, "templates")
    os.mkdir(tdir)
    write(tdir, "a.tmpl", "Subject: fine\n\nHello {{recipients.names}}\n")
    typo = write(tdir, "b.tmpl", "Subject: oops\n\nHello {{sender.nmae}}\n")
    expect_fail("unknown placeholder: 65, template file and line, nothing delivered",
                run("--victims", good, "--messages", tdir, *via), 65,
                f"template '{typo}' line 3: unknown placeholder '{{{{sender.nmae}}}}'", box)
    os.unlink(typo)
    missing = write(tdir, "c.tmpl", "Subject: attached\nAttach: nowhere.pdf\n\nSee attached.\n")
    expect_fail("missing attachment: 65, template file and line, nothing delivered",
                run("--victims", good, "--messages", tdir, *via), 65, f"template '{missing}' line 2", box)
    os.unlink(missing)
    expect_fail("bad witness: 65", run("--victims", good, *base, "--witness", "not-an-address"), 65,
                "witness", box)
    expect_fail("CR in a --var: 65", run("--victims", good, *base, "--var", "x=a\r\nBcc: evil@example.org"), 65,
                "", box)

    expect_fail("remote SMTP refused without --allow-remote: 64",
                run("--victims", good, "--messages", TEMPLATES, "--via", "smtp://mail.example.org"), 64,
                "refusing to send pranks to 'mail.example.org:25', which is not a loopback address", box)
    expect_fail("remote HOST:PORT refused too: 64",
                run("--victims", good, "--messages", TEMPLATES, "--via", "192.0.2.7:2525"), 64,
                "'192.0.2.7:2525'", box)
    proc = run("--victims", good, "--messages", TEMPLATES, "--via", "smtp://mail.example.org", "--dry-run")
    check("the remote rail does not apply to --dry-run (nothing connects)", proc.returncode == 0,
          proc.stderr.decode(errors="replace"))

    expect_fail("bad --via: 64", run("--victims", good, *base, "--via", "carrier-pigeon:coo"), 64,
                "delivery target 'carrier-pigeon:coo'", box)
    expect_fail("bad --seed: 64", run("--victims", good, "--messages", TEMPLATES, *via, "--seed", "x"), 64,
                "seed 'x'", box)
    expect_fail("bad --group-size: 64", run("--victims", good, *base, "--group-size", "1"), 64,
                "group size '1'", box)
    expect_fail("bad --var: 64", run("--victims", good, *base, "--var", "novalue"), 64, "bad --var 'novalue'", box)
    expect_fail("stray argument: 64", run("extra", *base), 64, "unexpected argument 'extra'", box)
    expect_fail("--forget-unknown without --journal: 64", run("--forget-unknown", *base), 64,
                "--forget-unknown needs --journal", box)
    expect_fail("no victims: 64", run("--messages", TEMPLATES, *via, cwd=tmp,
                                      env={"XDG_CONFIG_HOME": os.path.join(tmp, "noxdg")}), 64,
                "no victims file", box)
    expect_fail("missing victims file: 66", run("--victims", os.path.join(tmp, "absent.txt"), *base), 66,
                "absent.txt", box)
    expect_fail("missing config: 66", run("--config", os.path.join(tmp, "absent.conf"), *base), 66,
                "absent.conf", box)
    conf = write(tmp, "typo.conf", "[campaign]\ngrups = 3\n")
    expect_fail("config typo: 78", run("--config", conf, "--victims", good, *base), 78,
                f"config '{conf}' [campaign] grups: unknown key", box)
    proc = run("--victims", good, "--messages", TEMPLATES, "--seed", "1", "--via", f"mbox:{tmp}")
    out, err = proc.stdout.decode(), proc.stderr.decode(errors="replace")
    check("delivery failure: exit 73, every group reported FAILED, the summary says so",
          proc.returncode == 73 and out.count("result    FAILED: cannot open mbox") >= 1
          and out.count("result    FAILED: ") >= 4 and out.count("cannot open mbox") >= 4
          and "0 of 4 groups delivered" in out and "4 of 4 groups not delivered" in err, err)
    blocker = write(tmp, "blocker", "a file where a folder should be\n")
    expect_fail("cannot create the Maildir: 73",
                run("--victims", good, "--messages", TEMPLATES, "--via", f"maildir:{blocker}/box"), 73,
                "cannot create Maildir folder")


def test_review_fixes(tmp):
    """Regressions from the review: unused templates are validated whatever
    the seed, flags describe the actual From, config errors name the file."""
    import shutil
    box = os.path.join(tmp, "review-box")
    good = write(tmp, "review.txt", VICTIMS)
    tdir = os.path.join(tmp, "review-templates")
    shutil.copytree(TEMPLATES, tdir)
    typo = write(tdir, "zz-typo.tmpl", "Subject: oops\n\nHello\n{{sender.nmae}}\n")
    for seed in range(1, 9):
        expect_fail(f"unused bad template, seed {seed}: 65, file and line, nothing delivered",
                    run("--victims", good, "--messages", tdir, "--via", f"maildir:{box}", "--seed", str(seed)),
                    65, f"template '{typo}' line 4: unknown placeholder", box)

    ceo = write(tmp, "ceo.tmpl", "From: CEO <ceo@corp.example>\nSubject: raise\n\nYou got a raise.\n")
    proc = run("--victims", good, "--messages", ceo, "--seed", "1", "--dry-run")
    text = proc.stdout.decode()
    check("flags: a template's own From is not called the forged victim",
          proc.returncode == 0 and "forged From" not in text
          and "the From header (CEO <ceo@corp.example>) differs from the envelope sender <v" in text, text[:1200])
    proc = run("--victims", good, "--messages", ceo, "--seed", "1", "--dry-run", "--json")
    flags = [m["flags"] for g in group_records(proc) for m in g["messages"]]
    check("flags: JSON has from-mismatch, not forged-from, for a template's own From",
          flags and all("from-mismatch" in f and "forged-from" not in f for f in flags), str(flags))
    proc = run("--victims", good, "--messages", TEMPLATES, "--seed", "1", "--dry-run")
    text = proc.stdout.decode()
    check("flags: the victim in From is the forgery flag, and no mismatch",
          proc.returncode == 0 and text.count("forged From: <") == text.count("\n  message ") > 0
          and "differs from the envelope" not in text,
          text[:1200])

    conf = write(tmp, "vars.conf", "[vars]\nteam = a\\nBcc: evil@example.org\n")
    expect_fail("[vars] value with a newline: 78, names the config file and key",
                run("--config", conf, "--victims", good, "--messages", TEMPLATES, "--via", f"maildir:{box}"),
                78, f"config '{conf}' [vars] team: invalid value", box)


def main():
    with tempfile.TemporaryDirectory() as tmp:
        groups = test_example(tmp)
        test_seeds(tmp, groups)
        test_dry_run(tmp)
        test_mbox(tmp)
        test_csv_vars(tmp)
        test_config_search(tmp)
        test_bad_inputs(tmp)
        test_review_fixes(tmp)
    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            for line in detail.splitlines() or [""]:
                print(f"# {line}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
