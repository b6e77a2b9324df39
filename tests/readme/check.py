#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Runs the README's API example on a template; Python's email reads the result back."""
import email, email.policy, os, subprocess, sys

exe, template = sys.argv[1], sys.argv[2]
print("1..1")
out = subprocess.run([exe, template], capture_output=True, check=False)
msg = email.message_from_bytes(out.stdout, policy=email.policy.default)
ok = (out.returncode == 0 and msg["Subject"] == "Hello Bob"
      and msg["From"].addresses[0].addr_spec == "alice@example.org" and not msg.defects)
print(("ok" if ok else "not ok") + " 1 /readme/api-example composes a message Python reads back")
if not ok:
    print("# exit %d, stderr: %s" % (out.returncode, out.stderr.decode(errors="replace")))
    sys.exit(1)
