#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The built man pages (TAP): each has the sections a page needs, its
OPTIONS list every option of `farceur COMMAND --help` (they are generated
from it), and man(1) and groff render it without a warning.

Arguments: the built pages (data/man/*.1), none when the build has
-Dman=disabled, which reports SKIP.  Environment: FARCEUR (the built binary)."""
import os
import re
import subprocess
import sys

FARCEUR = os.environ["FARCEUR"]
PAGES = sys.argv[1:]
SECTIONS = ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]
COMMANDS = ["compose", "prank", "send", "inspect", "trace", "web", "help", "catch"]


def sections(roff):
    """Section name -> its roff text."""
    parts = re.split(r"^\.SH (.*)$", roff, flags=re.M)
    return {name.strip('"'): body for name, body in zip(parts[1::2], parts[2::2])}


def help_options(command):
    out = subprocess.run([FARCEUR, command, "--help"], capture_output=True, text=True,
                         check=True).stdout
    return sorted(set(re.findall(r"^  (?:-\w, )?(--[\w-]+)", out, flags=re.M)))


def check_page(path):
    page = os.path.basename(path)[:-len(".1")]
    with open(path, encoding="utf-8") as f:
        roff = f.read()
    found = sections(roff)
    missing = [s for s in SECTIONS if s not in found]
    if missing:
        raise AssertionError(f"{page}: no section {missing}")
    order = [s for s in found if s in SECTIONS]
    if order != SECTIONS:
        raise AssertionError(f"{page}: sections in the order {order}")
    if "@OPTIONS@" in roff or "@COMMANDS@" in roff:
        raise AssertionError(f"{page}: a marker was not replaced")
    command = page[len("farceur-"):] if page != "farceur" else None
    options = found["OPTIONS"].replace("\\-", "-")
    wanted = help_options(command) if command else ["--help", "--version"]
    absent = [o for o in wanted if o not in options]
    if absent:
        raise AssertionError(f"{page}: OPTIONS lacks {absent} of --help")
    if command is None:
        absent = [c for c in COMMANDS if f"farceur-{c}" not in found["DESCRIPTION"]]
        if absent:
            raise AssertionError(f"farceur(1) does not list {absent}")


def check_render(path):
    env = dict(os.environ, MANWIDTH="80", MANPAGER="cat", PAGER="cat", LC_ALL="C.UTF-8")
    shown = subprocess.run(["man", "-l", path], capture_output=True, text=True, env=env)
    if shown.returncode != 0 or "EXIT STATUS" not in shown.stdout or "EXAMPLES" not in shown.stdout:
        raise AssertionError(f"man -l {path}: exit {shown.returncode}: {shown.stderr[:500]}")
    groff = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", path], capture_output=True,
                           text=True, env=env)
    if groff.returncode != 0 or groff.stderr:
        raise AssertionError(f"groff warns about {path}: {groff.stderr[:500]}")


def check_all_pages():
    names = sorted(os.path.basename(p) for p in PAGES)
    expected = sorted(["farceur.1"] + [f"farceur-{c}.1" for c in COMMANDS])
    if names != expected:
        raise AssertionError(f"pages {names}, expected {expected}")


def main():
    if not PAGES:
        print("1..0 # SKIP built without -Dman=enabled (tools/test builds them)")
        return 0
    tests = [("every command has a page", check_all_pages)]
    for path in PAGES:
        name = os.path.basename(path)
        tests.append((f"{name} sections and options", lambda p=path: check_page(p)))
        tests.append((f"{name} renders", lambda p=path: check_render(p)))
    print("1..%d" % len(tests))
    failed = 0
    for i, (what, fn) in enumerate(tests, 1):
        try:
            fn()
            print("ok %d - %s" % (i, what))
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print("not ok %d - %s" % (i, what))
            for line in str(e).splitlines():
                print("# " + line[:2000])
    return 1 if failed else 0


sys.exit(main())
