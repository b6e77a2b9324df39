#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the bash completion of farceur from the built command's --help.

    gen-completion.py FARCEUR OUTPUT

The commands come from `farceur --help`, each command's options from
`farceur COMMAND --help`, which GLib renders from the command's GOptionEntry
table: the completion, the man pages (data/man/splice-options.py) and --help
have one source and cannot drift apart.  An option whose argument is a FILE,
a DIR or a PATH completes file names; one whose argument is a list of
lower-case words separated by '|' (--messages-format=auto|blocks|...)
completes those words; `farceur help` completes command names."""
import importlib.util
import os
import re
import sys

# The --help reader of the man pages: one reading of --help for both.
_SPEC = importlib.util.spec_from_file_location(
    "splice_options", os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "man",
                                   "splice-options.py"))
splice = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(splice)
OPTION, COMMAND, section_lines = splice.OPTION, splice.COMMAND, splice.section_lines


def help_text(farceur, *args):
    return splice.help_text(farceur, args[0] if args else "")


def options(text):
    """(names, file options, other options with an argument, {option: words})."""
    names, files, args, words = [], [], [], {}
    for line in section_lines(text, r"(Application|Help) Options:"):
        m = OPTION.match(line)
        if m is None:
            continue
        short, long_, arg, _ = m.groups()
        names += [n for n in (short, long_) if n]
        if arg and re.search(r"\b(FILE|DIR)\b", arg):
            files += [n for n in (short, long_) if n]
        elif arg and re.fullmatch(r"[a-z][a-z0-9-]*(\|[a-z][a-z0-9-]*)+", arg):
            for n in (short, long_):
                if n:
                    words[n] = arg.split("|")
        elif arg:
            args += [n for n in (short, long_) if n]
    return names, files, args, words


def case_arm(command, text):
    names, files, args, words = options(text)
    arms = [f"    {command})", f"      opts='{' '.join(names)}'"]
    if files:
        arms.append(f"      files='{' '.join(files)}'")
    if args:
        arms.append(f"      args='{' '.join(args)}'")
    for option, values in words.items():
        arms.append(f"      [[ $prev == {option} ]] && {{ COMPREPLY=($(compgen -W '{' '.join(values)}' -- \"$cur\")); return; }}")
    arms.append("      ;;")
    return "\n".join(arms)


def main():
    farceur, output = sys.argv[1:3]
    top = help_text(farceur)
    commands = [m[1] for m in map(COMMAND.match, section_lines(top, r"Commands:")) if m]
    if not commands:
        raise SystemExit("gen-completion: no command in farceur --help")
    arms = "\n".join(case_arm(c, help_text(farceur, c)) for c in commands)
    script = TEMPLATE.replace("@COMMANDS@", " ".join(commands)).replace("@ARMS@", arms)
    with open(output, "w", encoding="utf-8") as f:
        f.write(script)


TEMPLATE = r"""# bash completion for farceur                                  -*- shell-script -*-
# Generated from `farceur --help` by data/completion/gen-completion.py: do not edit.

_farceur()
{
  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
  local commands='@COMMANDS@' opts='' files='' args='' command=${COMP_WORDS[1]}

  # --option=value: bash splits at '=' (COMP_WORDBREAKS)
  if [[ $cur == = ]]; then
    prev=${COMP_WORDS[COMP_CWORD-1]} cur=''
  elif [[ $prev == = ]] && ((COMP_CWORD >= 2)); then
    prev=${COMP_WORDS[COMP_CWORD-2]}
  fi

  COMPREPLY=()
  if ((COMP_CWORD == 1)); then
    COMPREPLY=($(compgen -W "$commands --help --version" -- "$cur"))
    return
  fi
  case $command in
@ARMS@
    *) return ;;
  esac
  if [[ $command == help ]] && ((COMP_CWORD == 2)) && [[ $cur != -* ]]; then
    COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    return
  fi
  if [[ " $files " == *" $prev "* ]]; then
    compopt -o filenames 2>/dev/null
    COMPREPLY=($(compgen -f -- "$cur"))
    return
  fi
  if [[ " $args " == *" $prev "* ]]; then
    return # a value farceur cannot guess: a number, an address, a URL
  fi
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    return
  fi
  compopt -o filenames 2>/dev/null
  COMPREPLY=($(compgen -f -- "$cur"))
}
complete -F _farceur farceur
"""

if __name__ == "__main__":
    main()
