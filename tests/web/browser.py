#!/usr/bin/python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""`farceur web` in a real browser (TAP): headless Chromium driven by
selenium (Debian's chromium, chromium-driver, python3-selenium; tools/setup
installs them) on a Maildir filled by `farceur prank`, a traced message and
an HTML mail that tries everything.

- the list, its filter box, and a new delivery showing up without a reload;
- a prank message: the envelope beside the headers, a blind copy named;
- a trace: the hop table, the total, the graph drawn;
- the HTML mail: its script (which would change the title), its onerror
  handler and its remote image run nothing and load nothing (a local HTTP
  server logs every hit), in its frame and opened alone; its inline cid:
  image and its inline style do show.  A positive control opens the same
  HTML unprotected, from the logging server: there the script runs, the
  handler fires and the pixel is fetched, so each detector can fail.

Screenshots of the list, a message, the HTML mail and a trace go to
tests/web-artifacts/ in the build folder.  Environment: FARCEUR,
G_TEST_SRCDIR, G_TEST_BUILDDIR."""
import base64
import email.message
import email.policy
import http.server
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

FARCEUR = os.environ["FARCEUR"]
TESTS = pathlib.Path(os.environ["G_TEST_SRCDIR"])
ROOT = TESTS.parent
ARTIFACTS = pathlib.Path(os.environ.get("G_TEST_BUILDDIR", tempfile.gettempdir())) / "web-artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEklEQVR4nGP4z8CAFWEXHbQSAC"
                       "j/P8Fu7N9hAAAAAElFTkSuQmCC")

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:
    print("1..0 # SKIP python3-selenium is not installed (tools/setup installs it)")
    sys.exit(0)
if not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)):
    print("1..0 # SKIP chromium or chromium-driver is not installed (tools/setup installs them)")
    sys.exit(0)


# ---- a local HTTP server that logs every hit ---------------------------------------

HITS = []
HITS_LOCK = threading.Lock()


def hostile_html(port, tag):
    """Every URL carries @tag, so the hits of the mail and of the control tell apart."""
    base = f"http://127.0.0.1:{port}/{tag}"
    return f"""<!DOCTYPE html><html><head><title>mail</title>
<style>h1 {{ color: rgb(170, 0, 0); }} .bg {{ background: url('{base}/css-bg.png'); }}</style>
<link rel="stylesheet" href="{base}/link.css">
<meta http-equiv="refresh" content="1;url={base}/refresh">
</head><body>
<h1 id="heading">You have won</h1>
<script>
document.title = 'PWNED';
try {{ parent.document.title = 'PWNED'; }} catch (e) {{}}
document.body.setAttribute('data-script', 'ran');
parent.postMessage('script ran', '*');
new Image().src = '{base}/from-script.png';
</script>
<img id="pixel" src="{base}/pixel.png" alt="">
<img id="broken" src="x:nope" alt="" onerror="this.setAttribute('data-onerror', 'ran'); parent.postMessage('onerror ran', '*')">
<img id="logo" src="cid:logo@farceur.test" alt="logo">
<p class="bg">Claim your prize.</p>
<script src="{base}/script.js"></script>
</body></html>
"""


class Logger(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with HITS_LOCK:
            HITS.append(self.path)
        if self.path == "/control/page.html":
            body, ctype = hostile_html(self.server.server_address[1], "control").encode(), "text/html"
        elif self.path.endswith(".png"):
            body, ctype = PNG, "image/png"
        else:
            body, ctype = b"/* logged */", "text/plain"
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def hits(tag):
    with HITS_LOCK:
        return [p for p in HITS if p.startswith(f"/{tag}/")]


# ---- the Maildir ------------------------------------------------------------------------

def deliver(maildir, name, data):
    """As a delivering server does: written in tmp/, renamed into new/."""
    tmp = maildir / "tmp" / name
    tmp.write_bytes(data)
    os.rename(tmp, maildir / "new" / name)


def prank(maildir, seed):
    subprocess.run([FARCEUR, "prank", "--config", str(ROOT / "data" / "example" / "farceur.conf"),
                    "--seed", str(seed), "--via", f"maildir:{maildir}"], check=True,
                   capture_output=True)


def hostile_message(port):
    """Composed by Python's email package, not by farceur."""
    msg = email.message.EmailMessage(policy=email.policy.SMTP)
    msg["Return-Path"] = "<bounce@evil.example>"
    msg["Envelope-to"] = "victim@b.example"
    msg["From"] = "Your Bank <security@bank.example>"
    msg["To"] = "Victim <victim@b.example>"
    msg["Subject"] = "HTML that tries everything"
    msg["Date"] = "Mon, 23 Nov 2026 10:00:00 +0000"
    msg.set_content("The text version.\n")
    msg.add_alternative(hostile_html(port, "mail"), subtype="html")
    msg.get_payload()[1].add_related(PNG, "image", "png", cid="<logo@farceur.test>")
    return bytes(msg)


class Web:
    def __init__(self, maildir):
        self.proc = subprocess.Popen([FARCEUR, "web", "--listen", "127.0.0.1:0", str(maildir)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r"at (http://\S+)/ ", line)
        if not m:
            self.proc.kill()
            raise SystemExit(f"Bail out! farceur web did not start: {line!r} "
                             f"{self.proc.stderr.read()}")
        self.url = m.group(1)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=30)


# ---- the checks ---------------------------------------------------------------------------

results = []


def check(name, ok, detail=""):
    results.append((bool(ok), name, detail))
    print(f"{'ok' if ok else 'not ok'} {len(results)} - {name}" + (f" # {detail}" if not ok else ""),
          flush=True)


def shot(driver, name):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / name))


def rows(driver):
    return driver.find_elements(By.CSS_SELECTOR, "#rows tr")


def open_row(driver, web, text):
    driver.get(web.url + "/")
    link = next(a for a in driver.find_elements(By.CSS_SELECTOR, "#rows td.subject a")
                if text in a.text)
    driver.get(link.get_attribute("href"))


def check_list(driver, web, total):
    driver.get(web.url + "/")
    check("list: the page and every message", driver.title == "Messages · farceur web"
          and len(rows(driver)) == total and driver.find_element(By.ID, "count").text == str(total),
          f"{driver.title!r}, {len(rows(driver))} rows, {total} messages")
    box = driver.find_element(By.ID, "filter")
    box.send_keys("loterie")
    shown = [r for r in rows(driver) if r.is_displayed()]
    check("list: the filter box keeps the matching rows", 0 < len(shown) < total
          and all("Loterie" in r.text for r in shown), f"{len(shown)} of {total} shown")
    box.clear()
    box.send_keys(" ")


def check_message(driver, web):
    open_row(driver, web, "Loterie")
    pairs = driver.find_elements(By.CSS_SELECTOR, "table.pairs tbody tr")
    heads = [p.find_element(By.TAG_NAME, "th").text for p in pairs]
    blind = driver.find_elements(By.CSS_SELECTOR, "table.pairs tr.envelope-only td.envelope")
    check("message: the envelope beside the headers", heads[:1] == ["MAIL FROM"]
          and heads.count("RCPT TO") >= 2 and "From:" in pairs[0].text, repr(heads))
    check("message: the blind copy named", blind and "only in the envelope" in
          driver.find_element(By.CSS_SELECTOR, "table.pairs tr.envelope-only").text,
          repr([b.text for b in blind]))
    parts = driver.find_elements(By.CSS_SELECTOR, "table.parts td.download a")
    check("message: the MIME tree with a download per part", len(parts) >= 2
          and driver.find_elements(By.CSS_SELECTOR, "table.headers tr"), f"{len(parts)} links")
    driver.execute_script("window.scrollTo(0, 0)")
    shot(driver, "web-message.png")


def check_trace(driver, web):
    open_row(driver, web, "three hops")
    driver.get(driver.current_url + "/trace")
    hops = driver.find_elements(By.CSS_SELECTOR, "#hops tbody tr.hop")
    check("trace: the hop table, the total", len(hops) == 3
          and "laptop.home" in hops[0].text and "2m30s" in driver.find_element(By.ID, "total").text,
          f"{len(hops)} hops")
    check("trace: skew and anomaly flags shown",
          "not encrypted" in driver.find_element(By.ID, "hops").text
          and driver.find_elements(By.CSS_SELECTOR, "#hops tr.anomaly"))
    graph = driver.find_element(By.CSS_SELECTOR, "figure.graph img")
    WebDriverWait(driver, 10).until(lambda d: d.execute_script(
        "return arguments[0].complete", graph))
    check("trace: the hop graph drawn", driver.execute_script(
        "return arguments[0].naturalWidth", graph) > 100)
    shot(driver, "web-trace.png")


FRAME_STATE = """
const q = (s) => document.querySelector(s);
return {
  title: document.title,
  script: document.body.getAttribute('data-script'),
  onerror: q('#broken').getAttribute('data-onerror'),
  logo: q('#logo').naturalWidth,
  pixel: q('#pixel').naturalWidth,
  colour: getComputedStyle(q('#heading')).color,
  origin: self.origin,
  url: location.href,
};
"""


def check_html_mail(driver, web):
    open_row(driver, web, "HTML that tries everything")
    title = driver.title
    frame = driver.find_element(By.CSS_SELECTOR, "iframe.mail")
    driver.execute_script("""
        window.__messages = [];
        addEventListener('message', (e) => window.__messages.push(String(e.data)));
        arguments[0].src = arguments[0].src;  /* loaded again, now that someone listens */
    """, frame)
    time.sleep(2.5)  # the refresh, the handlers and the loads have had their chance
    driver.switch_to.frame(frame)
    WebDriverWait(driver, 15).until(lambda d: d.execute_script(
        "return document.readyState == 'complete' && document.querySelector('#heading') != null"))
    driver.switch_to.default_content()
    check("html: the page says remote content was blocked",
          "Remote content blocked" in driver.find_element(By.ID, "blocked").text)
    check("html: the title is the page's", driver.title == title and "PWNED" not in driver.title,
          driver.title)
    check("html: nothing posted to the page (script, onerror)",
          driver.execute_script("return window.__messages") == [],
          repr(driver.execute_script("return window.__messages")))
    # WebDriver reads a sandboxed frame's DOM (its own scripts stay off)
    driver.switch_to.frame(frame)
    state = driver.execute_script(FRAME_STATE)
    driver.switch_to.default_content()
    check("html: the script did not run", state["script"] is None and state["title"] != "PWNED",
          repr(state))
    check("html: the onerror handler did not run", state["onerror"] is None, repr(state))
    check("html: an opaque origin, no refresh", state["origin"] == "null"
          and "/html/" in state["url"], repr(state))
    check("html: the inline cid: image and the inline style show",
          state["logo"] == 8 and state["colour"] == "rgb(170, 0, 0)", repr(state))
    check("html: the remote image is not shown", state["pixel"] == 0, repr(state))
    driver.execute_script("document.getElementById('html').scrollIntoView()")
    shot(driver, "web-html.png")
    # opened alone, as a page: the policy still sandboxes it
    driver.get(state["url"])
    time.sleep(1.5)
    WebDriverWait(driver, 15).until(lambda d: d.execute_script(
        "return document.querySelector('#heading') != null"))
    alone = driver.execute_script(FRAME_STATE)
    check("html: opened alone, still inert", alone["script"] is None and alone["onerror"] is None
          and alone["title"] != "PWNED" and alone["origin"] == "null", repr(alone))
    check("html: not one request reached the network", hits("mail") == [], repr(hits("mail")))


def check_control(driver, log_port):
    driver.get(f"http://127.0.0.1:{log_port}/control/page.html")
    state = driver.execute_script(FRAME_STATE)
    time.sleep(0.5)
    fetched = hits("control")
    check("control: unprotected, the same HTML runs and loads (the detectors work)",
          state["script"] == "ran" and state["onerror"] == "ran" and state["title"] == "PWNED"
          and "/control/pixel.png" in fetched and "/control/from-script.png" in fetched,
          f"{state!r} {fetched!r}")


def check_live(driver, web, maildir, total):
    driver.get(web.url + "/")
    driver.execute_script("window.__marker = 'not reloaded'")
    prank(maildir, 8)
    now = len(os.listdir(maildir / "new"))
    try:
        WebDriverWait(driver, 15).until(lambda d: len(rows(d)) == now)
    except Exception:  # noqa: BLE001 - reported below
        pass
    check("live: new messages appear in the open list without a reload",
          len(rows(driver)) == now > total
          and driver.find_element(By.ID, "count").text == str(now)
          and driver.execute_script("return window.__marker") == "not reloaded",
          f"{len(rows(driver))} rows, {now} messages")
    shot(driver, "web-list.png")


def browser(profile):
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for arg in ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,1000",
                "--hide-scrollbars"]:
        opts.add_argument(arg)
    service = Service(CHROMEDRIVER, log_path=str(pathlib.Path(profile) / "chromedriver.log"))
    return webdriver.Chrome(service=service, options=opts)


def main():
    logger = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Logger)
    threading.Thread(target=logger.serve_forever, daemon=True).start()
    log_port = logger.server_address[1]
    with tempfile.TemporaryDirectory(prefix="farceur-browser-") as tmp:
        maildir = pathlib.Path(tmp) / "caught"
        prank(maildir, 7)
        deliver(maildir, "2.traced", (TESTS / "trace" / "data" / "three-hops.eml").read_bytes())
        deliver(maildir, "3.hostile", hostile_message(log_port))
        total = len(os.listdir(maildir / "new"))
        web = Web(maildir)
        profile = pathlib.Path(tmp) / "profile"
        profile.mkdir()
        driver = None
        try:
            driver = browser(profile)
            driver.set_page_load_timeout(30)
            check_list(driver, web, total)
            check_message(driver, web)
            check_trace(driver, web)
            check_html_mail(driver, web)
            check_control(driver, log_port)
            check_live(driver, web, maildir, total)
        finally:
            if driver is not None:
                driver.quit()
            web.stop()
            logger.shutdown()
            shutil.rmtree(profile, ignore_errors=True)
    print(f"1..{len(results)}")
    print(f"# screenshots in {ARTIFACTS}")
    return 0 if all(ok for ok, _, _ in results) else 1


sys.exit(main())
