# SPDX-License-Identifier: LGPL-2.1-or-later
"""TAP for the prank tests written as plain checks: check() records one
result, report() prints the plan and every result and returns the exit
status (0 when all passed)."""

results = []


def check(label, ok, detail=""):
    results.append((bool(ok), label, detail))
    return ok


def report():
    print(f"1..{len(results)}")
    for i, (ok, label, detail) in enumerate(results, 1):
        print(f"{'ok' if ok else 'not ok'} {i} - {label}")
        if not ok:
            for line in str(detail).splitlines() or [""]:
                print(f"# {line}")
    return 0 if all(ok for ok, _, _ in results) else 1
