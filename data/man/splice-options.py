#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Splices the options of `farceur COMMAND --help` into a man page source.

    splice-options.py FARCEUR PAGE.1.scd OUTPUT.1.scd

The command comes from the page's name (farceur-send.1.scd: send).  A line
"@OPTIONS@" in the page becomes its options in scdoc, read from the --help
text GLib renders from the command's GOptionEntry table, so the man page and
--help cannot drift apart.  In farceur.1.scd, "@COMMANDS@" becomes the
command list of `farceur --help`.
"""
import os
import re
import subprocess
import sys

OPTION = re.compile(r"^  (?:(-\w), )?(--[\w-]+)(?:=(\S+))?\s{2,}(\S.*)$")
COMMAND = re.compile(r"^  ([a-z][\w-]*)\s{2,}(\S.*)$")


def help_text(farceur, command):
    env = dict(os.environ, LC_ALL="C.UTF-8")
    env.pop("LANGUAGE", None)
    args = [farceur, command, "--help"] if command else [farceur, "--help"]
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout


def escape(text):
    """scdoc's inline markup: *bold*, _underline_, and the backslash."""
    return re.sub(r"([\\*_])", r"\\\1", text)


def section_lines(text, title_pattern):
    """The lines of every section whose title line matches, in order."""
    lines, inside = [], False
    for line in text.splitlines():
        if line and not line[0].isspace():
            inside = re.fullmatch(title_pattern, line) is not None
        elif inside and line.strip():
            lines.append(line)
    return lines


def options_scd(text):
    """Application options first, then GLib's help options."""
    lines = (section_lines(text, r"Application Options:")
             + section_lines(text, r"Help Options:"))
    items = []
    for line in lines:
        m = OPTION.match(line)
        if m is None:  # a description continued on the next line
            if not items:
                raise SystemExit(f"splice-options: cannot read option line {line!r}")
            items[-1][1].append(line.strip())
            continue
        short, long_, arg, description = m.groups()
        term = (f"*{escape(short)}*, " if short else "") + f"*{escape(long_)}*"
        if arg:
            term += f"=_{escape(arg)}_"
        items.append((term, [description]))
    if not items:
        raise SystemExit("splice-options: no option found in the --help output")
    return "\n".join(f"{term}\n\t{escape(' '.join(text))}\n" for term, text in items)


def commands_scd(text):
    items = [COMMAND.match(line) for line in section_lines(text, r"Commands:")]
    if not items or None in items:
        raise SystemExit("splice-options: cannot read the command list of farceur --help")
    return "\n".join(f"*{m[1]}*\n\t{escape(m[2])}; see *farceur-{m[1]}*(1).\n" for m in items)


def main():
    farceur, source, output = sys.argv[1:4]
    page = os.path.basename(source).split(".")[0]
    command = page[len("farceur-"):] if page.startswith("farceur-") else ""
    with open(source, encoding="utf-8") as f:
        scd = f.read()
    if "@OPTIONS@\n" not in scd:
        raise SystemExit(f"splice-options: {source} has no @OPTIONS@ line")
    if command:
        scd = scd.replace("@OPTIONS@\n", options_scd(help_text(farceur, command)))
    else:
        scd = scd.replace("@COMMANDS@\n", commands_scd(help_text(farceur, "")))
        scd = scd.replace("@OPTIONS@\n", options_scd(TOP_OPTIONS))
    with open(output, "w", encoding="utf-8") as f:
        f.write(scd)


# farceur itself parses only these two, in main.c, without a GOptionEntry
# table; the same --help layout keeps one path through the splicer.
TOP_OPTIONS = """Application Options:
  --version        Print the version of farceur, GMime and GLib, and exit

Help Options:
  -h, --help       List the commands and exit
"""

if __name__ == "__main__":
    main()
