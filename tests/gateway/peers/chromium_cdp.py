"""Runs one page in headless Chromium and returns what it leaves in a global: a tiny DevTools
protocol client over --remote-debugging-pipe (no websocket, no npm, standard library only).

usage: /usr/bin/python3 chromium_cdp.py URL [--result-var NAME] [--timeout S] [--profile DIR]
                                            [--console FILE] [--chromium PATH]

Chromium reads protocol messages from fd 3 and writes them to fd 4, each a JSON text ended by
NUL. The driver attaches to the first page, enables Runtime (console messages and exceptions go
to --console, or stderr), navigates to URL, polls `window.NAME` every 200 ms until it is set,
prints it as JSON on stdout and closes the browser. Exit status: 0 when the value has
"ok": true, 1 when it has not or when nothing came in --timeout seconds, 2 when Chromium did
not start. The profile folder (--user-data-dir) must be new and empty; the caller removes it.

Flags: those of docs testing.md for a headless Chromium without network, plus fake camera and
microphone with permission granted (so WebRTC gathers host candidates on the veth address of
the namespace without mDNS names).
"""
import argparse
import fcntl
import json
import os
import select
import subprocess
import sys
import time

FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-crash-reporter", "--disable-breakpad", "--no-default-browser-check",
    "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream",
    "--autoplay-policy=no-user-gesture-required", "--remote-debugging-pipe",
]


class Browser:
    """A Chromium process and its protocol pipe. Messages to it go out whole; replies and events
    are read with a deadline, events kept for whoever asks."""

    def __init__(self, chromium, profile, console):
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()

        def child_fds():
            # Chromium expects the pipe on fds 3 and 4: move both out of the way, then down.
            a = fcntl.fcntl(to_chrome_r, fcntl.F_DUPFD, 10)
            b = fcntl.fcntl(from_chrome_w, fcntl.F_DUPFD, 10)
            os.dup2(a, 3)
            os.dup2(b, 4)

        env = dict(os.environ, HOME=profile, XDG_CONFIG_HOME=profile, XDG_CACHE_HOME=profile)
        self.proc = subprocess.Popen(
            [chromium] + FLAGS + ["--user-data-dir=" + os.path.join(profile, "chromium"),
                                  "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=env, preexec_fn=child_fds, pass_fds=(3, 4))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buf = b""
        self.next_id = 0
        self.console = console

    def send(self, method, params=None, session=None):
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        data = json.dumps(msg).encode() + b"\0"
        while data:
            data = data[os.write(self.to_chrome, data):]
        return self.next_id

    def read(self, deadline):
        """The next message, or None at the deadline or when Chromium is gone."""
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.from_chrome], [], [], left)[0]:
                return None
            chunk = os.read(self.from_chrome, 65536)
            if not chunk:
                return None
            self.buf += chunk
        msg, _, self.buf = self.buf.partition(b"\0")
        return json.loads(msg)

    def call(self, method, params=None, session=None, timeout=10.0):
        """Sends a command and waits for its reply; events read meanwhile are logged."""
        mid = self.send(method, params, session)
        deadline = time.monotonic() + timeout
        while True:
            msg = self.read(deadline)
            if msg is None:
                raise RuntimeError("%s: no reply from Chromium in %g s" % (method, timeout))
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg.get("result", {})
            self.log_event(msg)

    def log_event(self, msg):
        method, p = msg.get("method"), msg.get("params", {})
        if method == "Runtime.consoleAPICalled":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", []))
            print("console.%s: %s" % (p.get("type"), text), file=self.console, flush=True)
        elif method == "Runtime.exceptionThrown":
            d = p.get("exceptionDetails", {})
            text = d.get("exception", {}).get("description") or d.get("text")
            print("exception: %s" % text, file=self.console, flush=True)

    def close(self):
        try:
            self.send("Browser.close")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self.to_chrome)
        os.close(self.from_chrome)


def attach_first_page(browser, timeout=15):
    """A DevTools session on Chromium's first page, with Runtime and Page events enabled."""
    targets = []
    deadline = time.monotonic() + timeout
    while not targets and time.monotonic() < deadline:
        targets = [t for t in browser.call("Target.getTargets")["targetInfos"]
                   if t.get("type") == "page"]
        if not targets:
            time.sleep(0.1)
    if not targets:
        raise RuntimeError("Chromium shows no page")
    session = browser.call("Target.attachToTarget",
                           {"targetId": targets[0]["targetId"], "flatten": True})["sessionId"]
    browser.call("Runtime.enable", session=session)
    browser.call("Page.enable", session=session)
    return session


def run(args, console):
    browser = Browser(args.chromium, args.profile, console)
    try:
        session = attach_first_page(browser)
        nav = browser.call("Page.navigate", {"url": args.url}, session=session)
        if nav.get("errorText"):
            raise RuntimeError("navigate %s: %s" % (args.url, nav["errorText"]))
        expr = "window.%s === undefined ? null : JSON.stringify(window.%s)" % (args.result_var,
                                                                            args.result_var)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            r = browser.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                             session=session)
            value = r.get("result", {}).get("value")
            if value:
                return json.loads(value)
            time.sleep(0.2)
        return {"ok": False, "errors": ["no window.%s in %g s" % (args.result_var, args.timeout)]}
    finally:
        browser.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("url")
    p.add_argument("--result-var", default="vbEchoResult")
    p.add_argument("--timeout", type=float, default=40.0)
    p.add_argument("--profile", required=True, help="new empty folder for the browser profile")
    p.add_argument("--console", help="file for the page's console messages (default stderr)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    args = p.parse_args()
    console = open(args.console, "a") if args.console else sys.stderr
    try:
        result = run(args, console)
    except (RuntimeError, OSError) as e:
        print(json.dumps({"ok": False, "errors": ["chromium: %s" % e]}))
        return 2
    print(json.dumps(result, indent=1))
    return 0 if result.get("ok") is True else 1


if __name__ == "__main__":
    sys.exit(main())
