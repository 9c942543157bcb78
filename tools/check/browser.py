#!/usr/bin/env python3
"""Open a page in headless Chromium and report what a test needs to know about it.

    tools/check/browser.py PAGE [--eval NAME=EXPRESSION ...] [--screenshot PNG] [--width W --height H]

Drives Chromium through the DevTools protocol on a pipe (--remote-debugging-pipe: commands on
its descriptor 3, answers on 4, each a JSON message ended by a NUL byte), so nothing listens on
a port and no Python package is needed. Prints one JSON object:

    {"load_ms": ..., "errors": [...], "results": {NAME: value, ...}}

`load_ms` is the time from navigation to the load event; `errors` holds every uncaught
exception, console.error/console.assert message and browser log entry of level error (a
failed fetch of a resource would be one); each --eval is evaluated in the page after the load
event, in order, its value returned by value (a Promise awaited). --screenshot writes a PNG of
the viewport (W x H, default 1440 x 1000) after the evaluations.

Exit status: 0 with the JSON printed; 2 when Chromium is missing or does not answer (the
reason on stderr); 3 when an evaluation threw (its exception in the JSON's errors).
"""

import argparse
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


def chromium_binary():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class Browser:
    def __init__(self, binary, width, height):
        self.profile = tempfile.mkdtemp(prefix="teardown-chromium-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands from descriptor 3 and writes answers to 4.
        def child_fds():
            # Moved out of the way first: either end may itself be descriptor 3 or 4.
            r, w = os.dup(to_chrome_r), os.dup(from_chrome_w)
            os.dup2(r, 3)
            os.dup2(w, 4)
        args = [binary, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--no-default-browser-check", "--disable-extensions", "--hide-scrollbars",
                "--remote-debugging-pipe", f"--user-data-dir={self.profile}",
                f"--window-size={width},{height}", "about:blank"]
        # close_fds=False: the descriptors dup2'd to 3 and 4 must survive into Chromium.
        self.proc = subprocess.Popen(args, preexec_fn=child_fds, close_fds=False,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        return self.next_id

    def receive(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("Chromium did not answer in %.0f s" % timeout)
            import select
            ready, _, _ = select.select([self.from_chrome], [], [], max(0.0, deadline - time.monotonic()))
            if ready:
                chunk = os.read(self.from_chrome, 1 << 20)
                if not chunk:
                    raise EOFError("Chromium closed its pipe")
                self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def call(self, method, params=None, session=None, timeout=120):
        wanted = self.send(method, params, session)
        while True:
            message = self.receive(timeout)
            if message.get("id") == wanted:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def wait_for(self, method, timeout):
        for i, m in enumerate(self.events):
            if m.get("method") == method:
                del self.events[i]
                return m
        while True:
            message = self.receive(timeout)
            if message.get("method") == method:
                return message
            self.events.append(message)

    def close(self):
        try:
            self.send("Browser.close")
            self.proc.wait(timeout=10)
        except Exception:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def errors_in(events):
    errors = []
    for m in events:
        method, p = m.get("method"), m.get("params", {})
        if method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            errors.append("exception: " + (d.get("exception", {}).get("description") or d.get("text", "")))
        elif method == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            errors.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
        elif method == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
            e = p["entry"]
            errors.append("log: %s %s" % (e.get("text", ""), e.get("url", "")))
    return errors


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("page")
    ap.add_argument("--eval", action="append", default=[], metavar="NAME=EXPRESSION")
    ap.add_argument("--screenshot")
    ap.add_argument("--width", type=int, default=1440)
    ap.add_argument("--height", type=int, default=1000)
    ap.add_argument("--timeout", type=float, default=300)
    a = ap.parse_args()
    binary = chromium_binary()
    if not binary:
        print("no chromium on the PATH (Debian: apt-get install chromium)", file=sys.stderr)
        return 2
    url = a.page if "://" in a.page else "file://" + os.path.abspath(a.page.split("#")[0]) + (
        "#" + a.page.split("#", 1)[1] if "#" in a.page else "")
    browser = Browser(binary, a.width, a.height)
    status = 0
    try:
        target = browser.call("Target.createTarget", {"url": "about:blank"}, timeout=60)["targetId"]
        session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log"):
            browser.call(domain + ".enable", session=session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": a.width, "height": a.height, "deviceScaleFactor": 1, "mobile": False}, session=session)
        start = time.monotonic()
        browser.call("Page.navigate", {"url": url}, session=session, timeout=a.timeout)
        browser.wait_for("Page.loadEventFired", a.timeout)
        load_ms = round((time.monotonic() - start) * 1000)
        results = {}
        for item in a.eval:
            name, _, expression = item.partition("=")
            r = browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                  "awaitPromise": True}, session=session, timeout=a.timeout)
            if "exceptionDetails" in r:
                d = r["exceptionDetails"]
                browser.events.append({"method": "Runtime.exceptionThrown", "params": {"exceptionDetails": d}})
                status = 3
                results[name] = None
            else:
                results[name] = r.get("result", {}).get("value")
        if a.screenshot:
            shot = browser.call("Page.captureScreenshot", {"format": "png"}, session=session, timeout=a.timeout)
            with open(a.screenshot, "wb") as f:
                f.write(base64.b64decode(shot["data"]))
        # Messages that arrived meanwhile (console output of the evaluations included).
        browser.call("Runtime.evaluate", {"expression": "0"}, session=session)
        print(json.dumps({"load_ms": load_ms, "errors": errors_in(browser.events), "results": results}))
    except (TimeoutError, EOFError, RuntimeError, KeyError) as e:
        print(f"chromium: {e}", file=sys.stderr)
        return 2
    finally:
        browser.close()
    return status


if __name__ == "__main__":
    sys.exit(main())
