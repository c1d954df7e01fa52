"""Drives chromium_videoroom.html in headless Chromium, then (optionally) checks that the room's
recordings reached the web catalog: over its JSON API first, then in its page, in the same
browser.

usage: /usr/bin/python3 chromium_videoroom.py --server URL --room ROOM --page FILE_URL
           --profile DIR [--seconds S] [--create] [--rec-dir DIR] [--console FILE]
           [--catalog URL --token-file FILE [--catalog-wait S]]

Run it inside the namespace of netns.sh. Steps:
  --create   a control session creates ROOM over the REST API (record: true, rec_dir DIR with
             --rec-dir, Opus and VP8) and goes away;
  page       Chromium (chromium_cdp.Browser: fake camera and microphone) loads
             FILE_URL?server=URL&room=ROOM&seconds=S and the page's result
             (window.vbVideoRoomResult) is collected;
  --catalog  the web catalog at URL (bearer token from FILE) is polled for --catalog-wait
             seconds (default 20) until both participants of the page (by display name and
             feed id) have an audio and a video recording in ROOM, all closed, and the automatic
             transcode job of each is done; then the same browser opens the catalog page with
             "#token=T" (how the page takes its token), must list ROOM in the rooms view, and
             in the room's view must show a section per participant with its recording rows
             ("closed") and its job ("done") whose output the browser loads with a duration
             within 15% of the participant's publishing time (webrtcup to unpublish).
A JSON summary is printed: {"ok", "errors", "page": <the page's result>, "catalog": {...}}.
Exit 0 when "ok" (nothing failed), 1 otherwise, 2 when Chromium did not start.
"""
import argparse
import json
import os
import sys
import time
import urllib.parse

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import chromium_cdp  # noqa: E402

PLUGIN = "janus.plugin.videoroom"
PAGE_VAR = "vbVideoRoomResult"
DURATION_TOLERANCE = 0.15  # merged output vs publishing time (webrtcup to unpublish)

# The catalog page's DOM as JSON (see web/page.c for its hooks), or null while it is empty.
DOM_EXPR = r"""(() => {
  const text = (e) => (e ? e.textContent : null);
  const rooms = [...document.querySelectorAll("tr.room")].map((tr) => ({
    room: tr.dataset.room, link: text(tr.querySelector("a.room-link"))}));
  const parts = [...document.querySelectorAll("section.participant")].map((s) => ({
    participant: s.dataset.participant, title: text(s.querySelector("h3")),
    recordings: [...s.querySelectorAll("tr.recording")].map((tr) => ({
      id: tr.dataset.id, cells: [...tr.cells].map((c) => c.textContent)})),
    jobs: [...s.querySelectorAll("div.job")].map((j) => ({
      id: j.dataset.id, state: j.dataset.state})),
    players: [...s.querySelectorAll(".output-player")].map((p) => ({
      tag: p.tagName.toLowerCase(), duration: p.dataset.duration || null,
      error: p.dataset.error || null}))}));
  const err = [...document.querySelectorAll("#view .error, #login-error")]
    .map((e) => e.textContent).filter((t) => t);
  return JSON.stringify({hash: location.hash, where: text(document.getElementById("where")),
    login: !document.getElementById("login").hidden, rooms: rooms, participants: parts,
    errors: err});
})()"""


def rest(url, body, timeout=5):
    r = requests.post(url, json=body, timeout=timeout)
    r.raise_for_status()
    return r.json()


def create_room(server, room, rec_dir):
    """Creates ROOM with recording on through a throwaway session."""
    tx = lambda: "vb%x" % int(time.monotonic_ns() & 0xFFFFFFFF)  # noqa: E731
    s = rest(server, {"janus": "create", "transaction": tx()})
    if s.get("janus") != "success":
        raise RuntimeError("create session: %s" % s)
    sess = "%s/%s" % (server, s["data"]["id"])
    try:
        h = rest(sess, {"janus": "attach", "plugin": PLUGIN, "transaction": tx()})
        if h.get("janus") != "success":
            raise RuntimeError("attach: %s" % h)
        body = {"request": "create", "room": room, "description": "vb chromium videoroom",
                "publishers": 6, "audiocodec": "opus", "videocodec": "vp8", "record": True}
        if rec_dir:
            body["rec_dir"] = rec_dir
        r = rest("%s/%s" % (sess, h["data"]["id"]),
                 {"janus": "message", "transaction": tx(), "body": body})
        data = r.get("plugindata", {}).get("data", {})
        if data.get("videoroom") != "created" or data.get("room") != room:
            raise RuntimeError("create room %d: %s" % (room, r))
    finally:
        rest(sess, {"janus": "destroy", "transaction": tx()})


def evaluate(browser, session, expr):
    r = browser.call("Runtime.evaluate", {"expression": expr, "returnByValue": True},
                     session=session)
    value = r.get("result", {}).get("value")
    return json.loads(value) if value else None


def navigate(browser, session, url):
    nav = browser.call("Page.navigate", {"url": url}, session=session)
    if nav.get("errorText"):
        raise RuntimeError("navigate %s: %s" % (url, nav["errorText"]))


def wait_value(browser, session, expr, timeout, accept):
    """Polls expr (JSON text or null) every 200 ms until accept(value) or timeout; the last
    value either way, and whether it was accepted."""
    deadline = time.monotonic() + timeout
    value = None
    while True:
        value = evaluate(browser, session, expr)
        if value is not None and accept(value):
            return value, True
        if time.monotonic() >= deadline:
            return value, False
        time.sleep(0.2)


def run_page(browser, session, args):
    query = urllib.parse.urlencode({"server": args.server, "room": args.room,
                                    "seconds": args.seconds})
    navigate(browser, session, "%s?%s" % (args.page, query))
    expr = "window.%s === undefined ? null : JSON.stringify(window.%s)" % (PAGE_VAR, PAGE_VAR)
    page, ok = wait_value(browser, session, expr, args.seconds + 45, lambda v: True)
    if not ok:
        return {"ok": False, "errors": ["no window.%s from the page" % PAGE_VAR]}
    return page


class Catalog:
    """The web catalog's JSON API with the bearer token."""

    def __init__(self, url, token):
        self.url = url.rstrip("/")
        self.headers = {"Authorization": "Bearer " + token}

    def get(self, path, **params):
        r = requests.get(self.url + "/api" + path, params=params, headers=self.headers, timeout=5)
        r.raise_for_status()
        return r.json()


def api_state(cat, room, people):
    """What the API says about the room's recordings and jobs, and what is still missing."""
    recs = cat.get("/recordings", room=str(room), limit=1000).get("recordings", [])
    jobs = cat.get("/jobs", limit=1000).get("jobs", [])
    missing, mine = [], {}
    for display, feed in people:
        rs = [r for r in recs if r.get("display") == display]
        mine[display] = rs
        if not rs:
            missing.append("%s: no recording" % display)
            continue
        if any(str(r.get("participant")) != str(feed) for r in rs):
            missing.append("%s: participant %s, want feed %s" % (
                display, sorted({str(r.get("participant")) for r in rs}), feed))
        for kind in ("audio", "video"):
            if not any(r.get("kind") == kind for r in rs):
                missing.append("%s: no %s recording" % (display, kind))
        for r in rs:
            if r.get("state") != "closed":
                missing.append("%s: recording %s (%s) is %s" % (display, r.get("id"),
                                                               r.get("kind"), r.get("state")))
        ids = {r.get("id") for r in rs}
        js = [j for j in jobs if ids & set(j.get("recordings") or [])]
        if not any(j.get("state") == "done" for j in js):
            missing.append("%s: job states %s" % (display, [j.get("state") for j in js]))
    return {"recordings": recs, "jobs": jobs, "missing": missing, "mine": mine}


def publishing_s(part):
    """How long a participant of the page published: its webrtcup to its unpublish request."""
    t = (part.get("pub") or {}).get("timings_ms", {})
    if "webrtcup" not in t or "req:unpublish" not in t:
        return None
    return round((t["req:unpublish"] - t["webrtcup"]) / 1000.0, 3)


def dom_complete(dom, want):
    """Empty when the room view shows every participant with closed recordings and a done job
    whose output player loaded; else what is missing. want: feed -> (number of recordings,
    publishing time in s)."""
    missing = []
    for feed, (n_recs, published) in want.items():
        secs = [s for s in dom.get("participants", []) if s.get("participant") == str(feed)]
        if not secs:
            missing.append("no section for participant %s" % feed)
            continue
        s = secs[0]
        states = [r["cells"][3] if len(r["cells"]) > 3 else None for r in s["recordings"]]
        if len(states) < n_recs or any(st != "closed" for st in states):
            missing.append("participant %s: recording states %s" % (feed, states))
        if not any(j.get("state") == "done" for j in s["jobs"]):
            missing.append("participant %s: jobs %s" % (feed, s["jobs"]))
        durations = [float(p["duration"]) for p in s["players"] if p.get("duration")]
        if not durations:
            missing.append("participant %s: players %s" % (feed, s["players"]))
        elif published and not any(abs(d - published) <= DURATION_TOLERANCE * published
                                   for d in durations):
            missing.append("participant %s: output of %s s, published %.2f s" % (
                feed, durations, published))
    return missing


def check_catalog(browser, session, args, page):
    out = {"errors": []}
    people = [(p.get("display"), p.get("feed")) for p in page.get("participants", {}).values()]
    if len(people) != 2 or not all(feed for _, feed in people):
        out["errors"].append("the page did not report two publishers: %s" % people)
        return out
    with open(args.token_file) as f:
        token = f.read().strip()
    cat = Catalog(args.catalog, token)
    t0 = time.monotonic()
    deadline = t0 + args.catalog_wait
    while True:
        st = api_state(cat, args.room, people)
        if not st["missing"] or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    out["api_wait_s"] = round(time.monotonic() - t0, 2)
    out["api_recordings"] = [{k: r.get(k) for k in ("id", "participant", "display", "kind",
                                                    "codec", "state", "size", "frames",
                                                    "dropped")} for r in st["recordings"]]
    out["api_jobs"] = [{k: j.get(k) for k in ("id", "state", "format", "recordings", "outputs",
                                              "error")} for j in st["jobs"]]
    if st["missing"]:
        out["errors"] += ["api after %g s: %s" % (args.catalog_wait, m) for m in st["missing"]]
        return out

    # The rooms view first (the token comes in the fragment), then the room's own view.
    navigate(browser, session, "%s/#token=%s" % (args.catalog.rstrip("/"),
                                                urllib.parse.quote(token)))
    rooms, ok = wait_value(browser, session, DOM_EXPR, 10,
                           lambda d: any(r["room"] == str(args.room) for r in d["rooms"]))
    out["rooms_view"] = rooms
    if not ok:
        out["errors"].append("the rooms view does not list room %s" % args.room)
        return out
    evaluate(browser, session, "location.hash = %s; null" % json.dumps("#/rooms/%s" % args.room))
    published = {p.get("display"): publishing_s(p) for p in page["participants"].values()}
    want = {str(feed): (len(st["mine"][display]), published[display])
            for display, feed in people}
    room_view, ok = wait_value(browser, session, DOM_EXPR, 10,
                               lambda d: not dom_complete(d, want))
    out["room_view"] = room_view
    out["outputs"] = {
        display: {"published_s": published[display],
                  "durations": [p.get("duration") for s in (room_view or {}).get("participants", [])
                                if s.get("participant") == str(feed) for p in s["players"]]}
        for display, feed in people}
    if not ok:
        out["errors"] += ["room view: %s" % m for m in dom_complete(room_view or {}, want)]
    for s in (room_view or {}).get("participants", []):
        display = dict((str(f), d) for d, f in people).get(s.get("participant"))
        if display and display not in (s.get("title") or ""):
            out["errors"].append("section %s is titled %r, want %s" % (
                s.get("participant"), s.get("title"), display))
    return out


def run(args, console):
    browser = chromium_cdp.Browser(args.chromium, args.profile, console)
    try:
        session = chromium_cdp.attach_first_page(browser)
        result = {"page": run_page(browser, session, args)}
        result["errors"] = ["page: %s" % e for e in result["page"].get("errors", [])]
        if not result["page"].get("ok"):
            result["errors"] = result["errors"] or ["page: not ok"]
        elif args.catalog:
            result["catalog"] = check_catalog(browser, session, args, result["page"])
            result["errors"] += ["catalog: %s" % e for e in result["catalog"]["errors"]]
        result["ok"] = not result["errors"]
        return result
    finally:
        browser.close()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--server", required=True,
                   help="Janus REST URL, e.g. http://127.0.0.1:8188/janus")
    p.add_argument("--room", type=int, required=True)
    p.add_argument("--page", required=True, help="file:// URL of chromium_videoroom.html")
    p.add_argument("--profile", required=True, help="new empty folder for the browser profile")
    p.add_argument("--seconds", type=float, default=6.0)
    p.add_argument("--create", action="store_true", help="create the room first")
    p.add_argument("--rec-dir", help="rec_dir of the created room")
    p.add_argument("--console", help="file for the page's console messages (default stderr)")
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--catalog", help="web catalog URL, e.g. http://127.0.0.1:8190")
    p.add_argument("--token-file", help="the catalog token (DATA/catalog-token)")
    p.add_argument("--catalog-wait", type=float, default=20.0)
    args = p.parse_args()
    if args.catalog and not args.token_file:
        p.error("--catalog needs --token-file")
    if args.create:
        try:
            create_room(args.server, args.room, args.rec_dir)
        except (RuntimeError, requests.RequestException) as e:
            print(json.dumps({"ok": False, "errors": ["create room: %s" % e]}))
            return 1
    console = open(args.console, "a") if args.console else sys.stderr
    try:
        result = run(args, console)
    except (RuntimeError, OSError) as e:
        print(json.dumps({"ok": False, "errors": ["chromium: %s" % e]}))
        return 2
    except requests.RequestException as e:
        print(json.dumps({"ok": False, "errors": ["catalog api: %s" % e]}))
        return 1
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
