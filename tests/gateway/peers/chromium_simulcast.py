"""Drives chromium_simulcast.html in headless Chromium (a janus.js simulcast publisher and a
subscriber switching its substream and temporal layer) and reads handle_info of both handles
over the Admin API while the page waits at its probes.

usage: /usr/bin/python3 chromium_simulcast.py --server URL --admin URL --admin-secret S
           --room ROOM --page FILE_URL --profile DIR [--bitrate BPS] [--rec-dir DIR]
           [--console FILE] [--page-arg K=V ...]

Run it inside the namespace of netns.sh. ROOM is created first through a throwaway session
(record: true, Opus and VP8, `bitrate` BPS (default 2000000, above the ~1.1 Mbps janus.js's
three layers need), rec_dir DIR with --rec-dir). Then the page runs with
?server=URL&room=ROOM and the --page-arg pairs; each time it sets window.vbSimulcastProbe
{n, name, pub: {session, handle}, sub: {...}}, the handle_info of both handles is kept under
"probes" and window.vbSimulcastProbeAck = n lets the page go on. Prints {"ok", "errors",
"page": <window.vbSimulcastResult>, "probes": [...]}; exit 0 when "ok", 1 otherwise, 2 when
Chromium did not start.

Uses chromium_cdp.Browser and the REST, DevTools and polling helpers of chromium_videoroom.py.
"""
import argparse
import json
import os
import sys
import time
import urllib.parse

import requests

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chromium_cdp  # noqa: E402
from chromium_videoroom import PLUGIN, evaluate, navigate, rest  # noqa: E402

RESULT_EXPR = "window.vbSimulcastResult === undefined ? null : " \
    "JSON.stringify(window.vbSimulcastResult)"
PROBE_EXPR = "window.vbSimulcastProbe === undefined ? null : " \
    "JSON.stringify(window.vbSimulcastProbe)"
PAGE_TIMEOUT = 90.0


def tx():
    return "sc%x" % (time.monotonic_ns() & 0xFFFFFFFF)


def create_room(server, room, bitrate, rec_dir):
    s = rest(server, {"janus": "create", "transaction": tx()})
    if s.get("janus") != "success":
        raise RuntimeError("create session: %s" % s)
    sess = "%s/%s" % (server, s["data"]["id"])
    try:
        h = rest(sess, {"janus": "attach", "plugin": PLUGIN, "transaction": tx()})
        if h.get("janus") != "success":
            raise RuntimeError("attach: %s" % h)
        body = {"request": "create", "room": room, "description": "vb chromium simulcast",
                "publishers": 4, "audiocodec": "opus", "videocodec": "vp8", "record": True,
                "bitrate": bitrate}
        if rec_dir:
            body["rec_dir"] = rec_dir
        r = rest("%s/%s" % (sess, h["data"]["id"]),
                 {"janus": "message", "transaction": tx(), "body": body})
        data = r.get("plugindata", {}).get("data", {})
        if data.get("videoroom") != "created":
            raise RuntimeError("create room %d: %s" % (room, r))
    finally:
        rest(sess, {"janus": "destroy", "transaction": tx()})


def handle_info(admin, secret, ids):
    if not ids or not ids.get("session") or not ids.get("handle"):
        return {"error": "no ids: %s" % ids}
    try:
        r = requests.post("%s/%s/%s" % (admin, ids["session"], ids["handle"]),
                          json={"janus": "handle_info", "transaction": tx(),
                                "admin_secret": secret}, timeout=3)
        return r.json().get("info", r.json())
    except (requests.RequestException, ValueError) as e:
        return {"error": str(e)}


def run(args, console):
    browser = chromium_cdp.Browser(args.chromium, args.profile, console)
    try:
        session = chromium_cdp.attach_first_page(browser)
        query = {"server": args.server, "room": args.room}
        for kv in args.page_arg:
            k, _, v = kv.partition("=")
            query[k] = v
        navigate(browser, session, "%s?%s" % (args.page, urllib.parse.urlencode(query)))
        probes, seen = [], 0
        deadline = time.monotonic() + PAGE_TIMEOUT
        while time.monotonic() < deadline:
            page = evaluate(browser, session, RESULT_EXPR)
            if page is not None:
                errors = ["page: %s" % e for e in page.get("errors", [])]
                if not page.get("ok") and not errors:
                    errors = ["page: not ok"]
                return {"ok": not errors, "errors": errors, "page": page, "probes": probes}
            p = evaluate(browser, session, PROBE_EXPR)
            if p is not None and p.get("n", 0) > seen:
                seen = p["n"]
                probes.append({"name": p.get("name"), "at": time.monotonic(),
                               "pub": handle_info(args.admin, args.admin_secret, p.get("pub")),
                               "sub": handle_info(args.admin, args.admin_secret, p.get("sub"))})
                evaluate(browser, session, "window.vbSimulcastProbeAck = %d; null" % seen)
            time.sleep(0.1)
        return {"ok": False, "errors": ["no window.vbSimulcastResult in %g s" % PAGE_TIMEOUT],
                "probes": probes}
    finally:
        browser.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True, help="REST URL, e.g. http://127.0.0.1:8188/janus")
    p.add_argument("--admin", required=True, help="Admin API URL, e.g. http://127.0.0.1:7188/admin")
    p.add_argument("--admin-secret", required=True)
    p.add_argument("--room", type=int, required=True)
    p.add_argument("--page", required=True, help="file:// URL of chromium_simulcast.html")
    p.add_argument("--profile", required=True, help="new empty folder for the browser profile")
    p.add_argument("--bitrate", type=int, default=2000000)
    p.add_argument("--rec-dir", help="rec_dir of the created room")
    p.add_argument("--console", help="file for the page's console messages (default stderr)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--page-arg", action="append", default=[], help="K=V for the page's query")
    args = p.parse_args()
    try:
        create_room(args.server, args.room, args.bitrate, args.rec_dir)
    except (RuntimeError, requests.RequestException) as e:
        print(json.dumps({"ok": False, "errors": ["create room: %s" % e]}))
        return 1
    console = open(args.console, "a") if args.console else sys.stderr
    try:
        result = run(args, console)
    except (RuntimeError, OSError) as e:
        print(json.dumps({"ok": False, "errors": ["chromium: %s" % e]}))
        return 2
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
