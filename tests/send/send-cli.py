"""farceur send's command line: usage errors, validation of every input
before anything is sent, --dry-run, stdin, and the exit statuses."""
import pathlib
import subprocess
import tempfile

from harness import FARCEUR, fail


def send(*args, stdin=None):
    return subprocess.run([FARCEUR, "send", *args], capture_output=True, text=True, input=stdin)


def expect(r, status, needle, what):
    if r.returncode != status or needle not in r.stderr + r.stdout:
        fail(f"{what}: exit {r.returncode} (wanted {status}), output lacks {needle!r}:\n"
             f"{r.stdout}\n{r.stderr}")


GOOD = "From: Alice <alice@example.com>\nTo: bob@example.org\nBcc: eve@example.org\nSubject: {}\n\nhi\n"

with tempfile.TemporaryDirectory() as tmp:
    tmp = pathlib.Path(tmp)
    d = tmp / "in"
    d.mkdir()
    (d / "1.eml").write_text(GOOD.format(1))
    (d / "2.eml").write_text("From: alice@example.com\nTo: nobody\nSubject: bad\n\nhi\n")
    (d / "3.eml").write_text(GOOD.format(3))
    out = tmp / "out"

    expect(send(str(d)), 64, "--via", "no target")
    expect(send("--via", f"maildir:{out}"), 64, "no input", "no input")
    expect(send("--via", f"maildir:{out}", str(tmp / "missing.eml")), 66, "missing.eml", "missing")
    expect(send("--via", "gopher://x", str(d / "1.eml")), 64, "gopher://x", "bad URL")
    r = send("--via", f"maildir:{out}", str(d))
    expect(r, 65, "2.eml", "invalid recipient")
    if "nobody" not in r.stderr or out.exists():
        fail(f"an invalid input must stop everything before delivery: {r.stderr}")

    (d / "2.eml").unlink()
    r = send("--dry-run", "--via", "smtp://192.0.2.1:25", str(d))
    expect(r, 0, "RCPT TO:<eve@example.org>", "dry run")
    if "Bcc:" in r.stdout or "MAIL FROM:<alice@example.com>" not in r.stdout:
        fail(f"dry run shows the wrong envelope or leaks Bcc:\n{r.stdout}")

    r = send("--via", f"maildir:{out}", "--insecure", "--from", "bounce@example.net", "-",
             stdin=GOOD.format("stdin"))
    expect(r, 0, "warning: --insecure", "stdin")
    stored = list((out / "new").iterdir())
    text = stored[0].read_text() if len(stored) == 1 else ""
    if "Return-Path: <bounce@example.net>" not in text or "Bcc:" in text or "eve@example.org" not in text:
        fail(f"stdin delivery stored {len(stored)} files:\n{text}")

    r = send("--via", "smtp://someone@127.0.0.1:9", str(d / "1.eml"))
    expect(r, 78, "FARCEUR_PASSWORD", "user without password")
    print("ok: usage 64, missing 66, invalid input 65 before any delivery, dry run, stdin, 78")
