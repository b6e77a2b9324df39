#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`farceur web` as a command (TAP): usage errors and exit statuses, the
warning off loopback, a clean stop on SIGINT and SIGTERM, the JSON API
against the JSON Schemas of data/schema/ (the same records as inspect --json
and trace --json), and a 300 MB attachment and its 405 MB message
downloaded whole (SHA-256 equal) while the server's peak RSS stays bounded.

Environment: FARCEUR (the built binary), G_TEST_SRCDIR (tests/).  Needs
Debian's python3-jsonschema (tools/setup) for the schema test."""
import hashlib
import json
import os
import pathlib
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

FARCEUR = os.environ["FARCEUR"]
TESTS = pathlib.Path(os.environ["G_TEST_SRCDIR"])
ROOT = TESTS.parent
SCHEMAS = ROOT / "data" / "schema"
ATTACHMENT = 300 * 1024 * 1024
RSS_LIMIT_KB = 64 * 1024


class Server:
    """`farceur web` on 127.0.0.1, a free port."""

    def __init__(self, *inputs, listen="127.0.0.1:0", env=None):
        self.proc = subprocess.Popen([FARCEUR, "web", "--listen", listen, *map(str, inputs)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        self.line = self.proc.stdout.readline()
        m = re.search(r"(\d+) messages? at (http://\S+)/ ", self.line)
        if not m:
            self.proc.kill()
            _, err = self.proc.communicate()
            raise AssertionError(f"farceur web did not start: {self.line!r} {err}")
        self.count = int(m.group(1))
        self.url = m.group(2)

    def get(self, path):
        try:
            with urllib.request.urlopen(self.url + path, timeout=60) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, path):
        status, headers, body = self.get(path)
        if status != 200 or headers["Content-Type"] != "application/json":
            raise AssertionError(f"GET {path}: {status} {headers['Content-Type']}")
        return json.loads(body)

    def peak_rss_kb(self):
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmHWM:\s+(\d+) kB", f.read()).group(1))

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            _, err = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("farceur web did not stop")
        return self.proc.returncode, err

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


def web(*args):
    return subprocess.run([FARCEUR, "web", *map(str, args)], capture_output=True, text=True,
                          timeout=30)


def prank_maildir(folder, seed=7):
    subprocess.run([FARCEUR, "prank", "--config", str(ROOT / "data" / "example" / "farceur.conf"),
                    "--seed", str(seed), "--via", f"maildir:{folder}"], check=True,
                   capture_output=True)


tests = []


def test(fn):
    tests.append(fn)
    return fn


@test
def usage_errors(tmp):
    for args, status, said in [
        ([], 64, "nothing to serve"),
        (["-"], 64, "standard input cannot be served"),
        ([tmp / "missing"], 66, "cannot read input"),
        (["--listen", "example.org:80", tmp], 64, "bad listen address"),
        (["--listen", "127.0.0.1:99999", tmp], 64, "bad listen address"),
        (["--listen", "127.0.0.1", tmp], 64, "bad listen address"),
    ]:
        r = web(*args)
        if r.returncode != status or said not in r.stderr or r.stdout:
            raise AssertionError(f"web {args}: exit {r.returncode}, stderr {r.stderr!r}")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        r = web("--listen", f"127.0.0.1:{taken.getsockname()[1]}", tmp)
        if r.returncode != 69 or "cannot listen on" not in r.stderr:
            raise AssertionError(f"port in use: exit {r.returncode}, stderr {r.stderr!r}")


@test
def stops_on_signals(tmp):
    prank_maildir(tmp / "box")
    for sig in (signal.SIGTERM, signal.SIGINT):
        server = Server(tmp / "box")
        status, _, _ = server.get("/")
        code, err = server.stop(sig)
        if status != 200 or code != 0 or err:
            raise AssertionError(f"{sig.name}: page {status}, exit {code}, stderr {err!r}")
        delivered = len(os.listdir(tmp / "box" / "new"))
        if server.count != delivered or not server.url.startswith("http://127.0.0.1:"):
            raise AssertionError(f"announced: {server.line!r}")


@test
def warns_off_loopback(tmp):
    prank_maildir(tmp / "box")
    with Server(tmp / "box") as quiet:
        _, err = quiet.stop()
    if err:
        raise AssertionError(f"on loopback: {err!r}")
    server = Server(tmp / "box", listen="0.0.0.0:0")
    code, err = server.stop()
    if code != 0 or "is not a loopback address" not in err:
        raise AssertionError(f"on 0.0.0.0: exit {code}, stderr {err!r}")


@test
def unreadable_file_is_a_warning(tmp):
    folder = tmp / "folder"
    folder.mkdir()
    (folder / "ok.eml").write_text("From: a@x.example\nSubject: ok\n\nhi\n")
    (folder / "empty.eml").write_text("")
    with Server(folder) as server:
        rows = server.json("/api/messages")["messages"]
        status, _, page = server.get("/")
        _, err = server.stop()
    if len(rows) != 1 or "could not be read" not in page.decode() or "empty.eml" not in err:
        raise AssertionError(f"rows {rows}, stderr {err!r}")


def validator(name):
    import jsonschema
    store = {}
    for path in SCHEMAS.glob("*.schema.json"):
        store[path.as_uri()] = json.loads(path.read_text())
    uri = (SCHEMAS / f"{name}.schema.json").as_uri()
    resolver = jsonschema.RefResolver(uri, store[uri], store=store)
    return jsonschema.Draft202012Validator(store[uri], resolver=resolver)


def check(name, record, where):
    errors = list(validator(name).iter_errors(record))
    if errors:
        shown = "; ".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message[:200]}"
                          for e in errors[:3])
        raise AssertionError(f"{where} against {name}.schema.json: {shown}")


@test
def api_matches_schemas(tmp):
    try:
        import jsonschema  # noqa: F401
    except ImportError:
        raise AssertionError("python3-jsonschema is not installed (tools/setup installs it)")
    prank_maildir(tmp / "box")
    folder = tmp / "traces"
    shutil.copytree(TESTS / "trace" / "data", folder)
    with Server(tmp / "box", folder) as server:
        listing = server.json("/api/messages")
        check("web-messages", listing, "/api/messages")
        rows = listing["messages"]
        if len(rows) != server.count or len(rows) < 10:
            raise AssertionError(f"{len(rows)} rows, {server.count} announced")
        part = validator("inspect").schema["$defs"]["part"]
        for row in rows:
            base = f"/api/messages/{row['id']}"
            message = server.json(base)
            check("inspect", message, base)
            if "headers" not in message or message["source"] != row["source"]:
                raise AssertionError(f"{base}: no headers, or another message")
            parts = server.json(base + "/parts")
            if parts != message["parts"]:
                raise AssertionError(f"{base}/parts is not the record's parts")
            check("inspect", dict(message, parts=parts), base + "/parts")
            trace = server.json(base + "/trace")
            check("trace", trace, base + "/trace")
        # what inspect --json and trace --json say of the same file
        row = next(r for r in rows if r["source"].endswith("three-hops.eml"))
        cli = json.loads(subprocess.run([FARCEUR, "trace", "--json", row["source"]],
                                        capture_output=True, text=True, check=True).stdout)
        if server.json(f"/api/messages/{row['id']}/trace") != cli:
            raise AssertionError("the API's trace differs from trace --json")
        cli = json.loads(subprocess.run([FARCEUR, "inspect", "--json", "--headers", row["source"]],
                                        capture_output=True, text=True, check=True).stdout)
        if server.json(f"/api/messages/{row['id']}") != cli:
            raise AssertionError("the API's message differs from inspect --json --headers")
        del part


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def download(server, path):
    """SHA-256 and length of a body read 1 MiB at a time."""
    digest = hashlib.sha256()
    length = 0
    with urllib.request.urlopen(server.url + path, timeout=300) as r:
        if r.status != 200:
            raise AssertionError(f"GET {path}: {r.status}")
        headers = r.headers
        while chunk := r.read(1 << 20):
            digest.update(chunk)
            length += len(chunk)
    return digest.hexdigest(), length, headers


@test
def big_attachment_streamed(tmp):
    big = tmp / "big.bin"
    with open(big, "wb") as f:
        for _ in range(ATTACHMENT // (1 << 20)):
            f.write(os.urandom(1 << 20))
    want = sha256_of(big)
    (tmp / "big.tmpl").write_text("Subject: big\n\nSee the attachment.\n")
    box = tmp / "box"
    for sub in ("new", "cur", "tmp"):
        (box / sub).mkdir(parents=True)
    msg = box / "new" / "1.big"
    subprocess.run([FARCEUR, "compose", "--from", "alice@example.com", "--to", "bob@example.org",
                    "--attach", str(big), "-o", str(msg), str(tmp / "big.tmpl")], check=True,
                   capture_output=True)
    big.unlink()
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = env.get("ASAN_OPTIONS", "") + ":quarantine_size_mb=4"
    with Server(box, env=env) as server:
        rows = server.json("/api/messages")["messages"]
        got, length, headers = download(server, f"/m/{rows[0]['id']}/part/2")
        raw, raw_length, _ = download(server, f"/m/{rows[0]['id']}/raw")
        rss_kb = server.peak_rss_kb()
    print(f"# attachment {length} octets, message {raw_length}; server peak RSS {rss_kb} KB")
    if got != want or length != ATTACHMENT:
        raise AssertionError(f"attachment: {length} octets, sha256 {got}, expected {want}")
    if headers["Transfer-Encoding"] != "chunked" or "attachment" not in headers["Content-Disposition"]:
        raise AssertionError(f"attachment headers: {dict(headers)}")
    if raw != sha256_of(msg) or raw_length != msg.stat().st_size:
        raise AssertionError("the raw message differs from the file")
    if rss_kb >= RSS_LIMIT_KB:
        raise AssertionError(f"server peak RSS {rss_kb} KB: not streamed (limit {RSS_LIMIT_KB} KB)")


def main():
    only = sys.argv[1:]
    chosen = [fn for fn in tests if not only or fn.__name__ in only]
    print(f"1..{len(chosen)}")
    failed = 0
    for i, fn in enumerate(chosen, 1):
        started = time.monotonic()
        try:
            with tempfile.TemporaryDirectory(prefix="farceur-web-") as tmp:
                fn(pathlib.Path(tmp))
            print(f"ok {i} - {fn.__name__}")
            print(f"# {time.monotonic() - started:.1f} s")
        except Exception as e:  # noqa: BLE001 - report and go on
            failed += 1
            print(f"not ok {i} - {fn.__name__}")
            for line in str(e).splitlines():
                print("# " + line[:2000])
        sys.stdout.flush()
    return 1 if failed else 0


sys.exit(main())
