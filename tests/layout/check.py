#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The library's layers, read from the tree (data/doc/architecture.md).

1. A module includes only headers of its own layer or below.
2. A private header (src/lib/MODULE/*-private.h) is included only from MODULE/.
3. The library never names an exit status (src/cli maps categories).
4. No include cycle between modules, and no call cycle between the files of
   src/lib: read from the symbols of the built objects (nm), a file's calls
   into another file run one way.
TAP output; argv: SRCDIR BUILDDIR."""
import os, re, subprocess, sys
from collections import defaultdict

# module -> layer; public headers and base headers -> module
LAYERS = {
    "error": 0, "init": 0, "json": 0, "digest": 0, "error-text": 0, "gmime-autoptr": 0,
    "export": 0, "config": 0, "suggest": 0, "read-report": 0, "json-lenient": 0,
    "envelope": 1, "input": 1, "template": 1, "trace": 1, "inspect": 1, "smtp": 1,
    "compose": 2, "target": 2,
    "batch": 3, "campaign": 3, "web": 3, "catch": 3,
}
HEADER_MODULE = {
    "smtp-reply": "smtp", "smtp-client": "smtp", "target-smtp": "target",
    "journal": "batch", "web-resources": "web",
}

srcdir, builddir = sys.argv[1], sys.argv[2]
lib = os.path.join(srcdir, "src", "lib")
failures = []
tests = 0


def module_of_path(path):
    rel = os.path.relpath(path, lib)
    if os.sep in rel:
        return rel.split(os.sep)[0]
    return os.path.splitext(rel)[0]


def module_of_header(name):
    stem = os.path.splitext(os.path.basename(name))[0]
    if stem.endswith("-private"):
        return None
    return HEADER_MODULE.get(stem, stem)


def sources():
    for root, _, files in os.walk(lib):
        for f in sorted(files):
            if f.endswith((".c", ".h")):
                yield os.path.join(root, f)


def check(ok, name, detail=""):
    global tests
    tests += 1
    print(("ok" if ok else "not ok") + f" {tests} {name}")
    if not ok:
        for line in detail.splitlines():
            print("# " + line)
        failures.append(name)


# 1 and 2: includes
upward, private, mod_edges = [], [], defaultdict(set)
for path in sources():
    mod = module_of_path(path)
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        m = re.match(r'#include\s+[<"]((?:farceur/)?[\w./-]+\.h)[>"]', line)
        if not m or (line.split()[1].startswith("<") and not m.group(1).startswith("farceur/")):
            continue
        header = m.group(1)
        where = f"{os.path.relpath(path, srcdir)}:{n}"
        if header.endswith("-private.h"):
            if not os.path.exists(os.path.join(os.path.dirname(path), os.path.basename(header))):
                private.append(f"{where}: {header} is another folder's private header")
            continue
        target = module_of_header(header)
        if target not in LAYERS or mod not in LAYERS:
            upward.append(f"{where}: {mod} -> {header}: module not in the layer table")
            continue
        if LAYERS[target] > LAYERS[mod]:
            upward.append(f"{where}: {mod} (L{LAYERS[mod]}) includes {header} (L{LAYERS[target]})")
        if target != mod:
            mod_edges[mod].add(target)
check(not upward, "/layout/includes-run-down", "\n".join(upward))
check(not private, "/layout/private-headers-stay-home", "\n".join(private))


def cycles(edges):
    """Tarjan's strongly connected components of more than one node."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in list(edges):
        if v not in index:
            visit(v)
    return out


found = cycles(mod_edges)
check(not found, "/layout/no-module-include-cycle", "\n".join(" <-> ".join(c) for c in found))

# The library classifies failures; only src/cli knows exit statuses.
numbers = []
for path in sources():
    for n, line in enumerate(open(path, encoding="utf-8"), 1):
        if re.search(r"(?i)(exit|sysexits?|status)\W{0,3}\w*\W{0,3}\b(6[4-9]|7[0-8])\b", line) \
                or re.search(r"\bEX_[A-Z]+\b|<sysexits\.h>", line):
            numbers.append(f"{os.path.relpath(path, srcdir)}:{n}: {line.strip()}")
check(not numbers, "/layout/library-knows-no-exit-status", "\n".join(numbers))

# 3: calls between files, from the objects of the internal library
archive = os.path.join(builddir, "src", "lib", "libfarceur-internal.a")
nm = subprocess.run(["nm", "-A", archive], capture_output=True, text=True, check=True).stdout
defined, used = {}, defaultdict(set)
for line in nm.splitlines():
    m = re.match(r"^[^:]+:([^:]+\.o):\s*(?:[0-9a-f]+)?\s+([A-Za-z])\s+(\S+)$", line)
    if not m:
        continue
    obj, kind, sym = m.groups()
    obj = re.sub(r"\.c\.o$", ".c", obj)
    if kind in "TDBR":
        defined[sym] = obj
    elif kind == "U":
        used[obj].add(sym)
file_edges = defaultdict(set)
for obj, syms in used.items():
    for s in syms:
        if s in defined and defined[s] != obj:
            file_edges[obj].add(defined[s])
found = cycles(file_edges)
check(bool(defined), "/layout/objects-read", f"no symbols read from {archive}")
check(not found, "/layout/no-call-cycle-between-files",
      "\n".join(" <-> ".join(c) for c in found))

print(f"1..{tests}")
sys.exit(1 if failures else 0)
