#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the README's C example (its first ```c block) to a file, so a test builds it."""
import sys

lines, out, inside = open(sys.argv[1], encoding="utf-8").read().splitlines(), [], False
for line in lines:
    if line.strip() == "```c" and not out:
        inside = True
    elif inside and line.strip() == "```":
        break
    elif inside:
        out.append(line)
if not out:
    sys.exit("README.md has no ```c block")
open(sys.argv[2], "w", encoding="utf-8").write("\n".join(out) + "\n")
