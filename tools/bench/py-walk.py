#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Python's email doing what the bare GMime walk does: parse every message of
an mbox (policy.default) and decode every leaf part.  For tools/bench/inspect."""
import email
import mailbox
import sys
from email import policy

count = 0
box = mailbox.mbox(sys.argv[1], create=False)
for key in box.iterkeys():
    msg = email.message_from_bytes(box.get_bytes(key), policy=policy.default)
    for part in msg.walk():
        if not part.is_multipart():
            part.get_payload(decode=True)
    count += 1
print(f"{count} messages")
