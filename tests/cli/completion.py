#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The bash completion (data/completion), as built: bash sources it, gets
COMP_WORDS and COMP_CWORD as it would on TAB, runs _farceur, and the
candidates in COMPREPLY are checked: commands, every option of each
command's --help (one source), file names after an option taking a FILE,
the words of --messages-format, nothing after --groups.  TAP output.
Arguments: the built completion file.  Env: FARCEUR."""
import os
import re
import subprocess
import sys
import tempfile

FARCEUR = os.environ["FARCEUR"]
SCRIPT = os.path.abspath(sys.argv[1])
results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))


def complete(words, cwd):
    """The candidates bash offers for WORDS, the last one being completed."""
    shown = " ".join(f"'{w}'" for w in words)
    script = (f"source '{SCRIPT}'; COMP_WORDS=({shown}); COMP_CWORD={len(words) - 1}; "
              "_farceur; printf '%s\\n' \"${COMPREPLY[@]}\"")
    proc = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                          text=True, cwd=cwd, timeout=30)
    return [w for w in proc.stdout.splitlines() if w], proc.stderr


def help_options(command):
    out = subprocess.run([FARCEUR, command, "--help"], capture_output=True, text=True,
                         check=True).stdout
    return sorted(set(re.findall(r"^  (?:-\w, )?(--[\w-]+)", out, flags=re.M)))


def main():
    with tempfile.TemporaryDirectory(prefix="farceur-completion-") as tmp:
        for name in ("victims.utf8", "victims.csv", "messages.json"):
            open(os.path.join(tmp, name), "w").close()
        got, err = complete(["farceur", "pr"], tmp)
        check("a command", got == ["prank"], f"{got} {err}")
        got, _ = complete(["farceur", ""], tmp)
        check("every command", set(got) >= {"compose", "prank", "send", "inspect", "trace", "help"}, str(got))
        got, _ = complete(["farceur", "prank", "--vic"], tmp)
        check("an option of prank", got == ["--victims"], str(got))
        for command in ("compose", "prank", "send", "inspect", "trace", "help"):
            got, _ = complete(["farceur", command, "--"], tmp)
            wanted = help_options(command)
            check(f"every option of farceur {command} --help", sorted(got) == wanted,
                  f"{sorted(got)} vs {wanted}")
        got, _ = complete(["farceur", "prank", "--victims", "vic"], tmp)
        check("file names after --victims", sorted(got) == ["victims.csv", "victims.utf8"], str(got))
        got, _ = complete(["farceur", "prank", "--messages-format", ""], tmp)
        check("the words of --messages-format", got == ["auto", "blocks", "json", "lines", "files", "template"],
              str(got))
        got, _ = complete(["farceur", "prank", "--messages-format", "=", "j"], tmp)
        check("the words of --messages-format=", got == ["json"], str(got))
        got, _ = complete(["farceur", "prank", "--groups", ""], tmp)
        check("nothing to guess after --groups", got == [], str(got))
        got, _ = complete(["farceur", "help", "tr"], tmp)
        check("farceur help completes commands", got == ["trace"], str(got))
    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            print(f"# {detail}")
    return 0 if all(ok for ok, _, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
