# SPDX-License-Identifier: LGPL-2.1-or-later
"""farceur send through `exec:exim -bh 127.0.0.1`, as swaks uses it: Exim 4
(Debian's exim4-daemon-light) runs a fake SMTP session on its stdin and
stdout, and writes comments between its replies ("**** SMTP testing: that
is not a real message id!" after the 250 to the final dot, framed by blank
lines).  farceur uses every reply, logs each comment line as a protocol
warning in the transcript, and exits 0.  With Exim's per-session limit
(smtp_accept_max_per_connection = 2: "421 too many messages in this
connection" to the next MAIL, pipelined behind the last dot), five messages
on one slot go out in three sessions, each exactly once (data/doc/smtp.md,
Sessions).

exim4-daemon-light conflicts with the postfix package the other tests use,
so it is not installed: its .deb ($FARCEUR_EXIM_DEB, else the one in apt's
cache, else one fetched with `apt-get download`) is unpacked here and run
with a private configuration.  Its binary looks up the user Debian-exim
when it starts: it runs in a mount namespace of its own, where /etc/passwd
and /etc/group are copies naming that user (needs root, like the Postfix
tests).  A step that cannot be done fails the test with the reason."""
import glob
import os
import pathlib
import shlex
import subprocess
import tempfile

from harness import FARCEUR, fail

EXIM_UID = 64000
MESSAGES = [
    b"From: a@a.test\r\nTo: b@b.test\r\nSubject: one\r\n\r\nfirst\r\n",
    b"From: a@a.test\r\nTo: b@b.test\r\nSubject: two\r\n\r\n.dot\r\nsecond\r\n",
]


def run(*args, **kw):
    r = subprocess.run(args, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        fail(f"{' '.join(args)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def find_deb(tmp):
    deb = os.environ.get("FARCEUR_EXIM_DEB")
    if deb:
        return deb
    cached = sorted(glob.glob("/var/cache/apt/archives/exim4-daemon-light_*.deb"))
    if cached:
        return cached[-1]
    run("apt-get", "download", "exim4-daemon-light", cwd=tmp)
    debs = sorted(glob.glob(str(tmp / "exim4-daemon-light_*.deb")))
    if not debs:
        fail("apt-get download exim4-daemon-light gave no .deb")
    return debs[-1]


def setup_exim(tmp, max_per_connection):
    """Unpacks Exim and writes the wrappers that run `exim -bh 127.0.0.1`:
    exim-bh, and exim-bh-limited with MAX_PER_CONNECTION messages a session."""
    root = tmp / "root"
    run("dpkg-deb", "-x", find_deb(tmp), str(root))
    binary = root / "usr" / "sbin" / "exim4"
    if not binary.exists():
        fail(f"no {binary} in the package")
    etc = tmp / "etc"
    etc.mkdir()
    (etc / "passwd").write_text(pathlib.Path("/etc/passwd").read_text()
                                + f"Debian-exim:x:{EXIM_UID}:{EXIM_UID}::/nonexistent:/bin/false\n")
    (etc / "group").write_text(pathlib.Path("/etc/group").read_text()
                               + f"Debian-exim:x:{EXIM_UID}:\n")
    for d in ("spool", "log"):
        (tmp / d).mkdir()
        os.chown(tmp / d, EXIM_UID, EXIM_UID)
    wrappers = []
    for name, extra in (("exim-bh", ""),
                        ("exim-bh-limited",
                         f"smtp_accept_max_per_connection = {max_per_connection}\n")):
        conf = tmp / f"{name}.conf"
        conf.write_text(f"primary_hostname = exim.test\n"
                        f"spool_directory = {tmp}/spool\n"
                        f"log_file_path = {tmp}/log/%slog\n"
                        + extra
                        + "acl_smtp_rcpt = acl_check_rcpt\n"
                        "begin acl\n"
                        "acl_check_rcpt:\n"
                        "  accept\n")
        inner = (f"mount --bind {etc}/passwd /etc/passwd && mount --bind {etc}/group /etc/group"
                 f" && exec {binary} -C {conf} -bh 127.0.0.1")
        wrapper = tmp / name
        wrapper.write_text("#!/bin/sh\nexec unshare -m --propagation private sh -c "
                           + shlex.quote(inner) + "\n")
        wrapper.chmod(0o755)
        probe = subprocess.run([str(wrapper)], input="QUIT\r\n", capture_output=True,
                               text=True)
        if "220 exim.test" not in probe.stdout:
            fail(f"exim -bh does not run here (exit {probe.returncode}):"
                 f" {probe.stdout}{probe.stderr}")
        wrappers.append(wrapper)
    return wrappers


with tempfile.TemporaryDirectory(prefix="farceur-exim-") as tmp:
    tmp = pathlib.Path(tmp)
    os.chmod(tmp, 0o755)  # Exim, as Debian-exim, reads its configuration here
    wrapper, limited = setup_exim(tmp, 2)
    files = []
    for i, data in enumerate(MESSAGES):
        f = tmp / f"m{i}.eml"
        f.write_bytes(data)
        files.append(str(f))
    transcript = tmp / "transcript"  # one session (-c 1): the second MAIL follows the comments
    r = subprocess.run([FARCEUR, "send", "--via", f"exec:{wrapper}", "-c", "1", "--transcript",
                        str(transcript), *files], capture_output=True, text=True)
    text = transcript.read_text() if transcript.exists() else ""
    if r.returncode != 0:
        fail(f"send through exim -bh: exit {r.returncode}\n{r.stdout}{r.stderr}\n{text}")
    accepted = [line for line in r.stderr.splitlines() if " <= a@a.test " in line]
    if len(accepted) != 2:
        fail(f"exim should log two messages received, got:\n{r.stderr}")
    if text.count("S: 250 OK id=") != 2:
        fail(f"two '250 OK id=' replies expected in the transcript:\n{text}")
    if "* protocol warning: " not in text or "SMTP testing: that is not a real" not in text:
        fail(f"the comments between replies should be protocol warnings:\n{text}")
    print(r.stdout, end="")

    more = []
    for i in range(5):
        f = tmp / f"n{i}.eml"
        f.write_bytes(f"From: a@a.test\r\nTo: b@b.test\r\nSubject: n{i}\r\n\r\nbody\r\n".encode())
        more.append(str(f))
    transcript = tmp / "limited.transcript"
    r = subprocess.run([FARCEUR, "send", "--via", f"exec:{limited}", "-c", "1", "--retries", "0",
                        "--transcript", str(transcript), *more], capture_output=True, text=True)
    text = transcript.read_text() if transcript.exists() else ""
    why = f"\nexit {r.returncode}\n{r.stdout}{r.stderr}\n{text}"
    accepted = [line for line in r.stderr.splitlines() if " <= a@a.test " in line]
    if r.returncode != 0 or len(accepted) != 5:
        fail(f"per-session limit: every message once, exit 0 wanted ({len(accepted)} taken){why}")
    if text.count("S: 421 too many messages in this connection") != 2 \
            or text.count("goes again on a new session") < 2 or text.count("S: 220 ") != 3:
        fail(f"per-session limit: two 421s and three sessions expected{why}")
    print(r.stdout, end="")
print("ok: exim -bh through exec:, comments logged as protocol warnings")
