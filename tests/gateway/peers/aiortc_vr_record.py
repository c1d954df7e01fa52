"""VideoRoom recordings under change on aiortc: live enable_recording, lock_record, kick, SIGKILL.

usage: /usr/bin/python3 aiortc_vr_record.py --url URL --room ROOM --secret SECRET
           --scenario enable|kick|crash|recovered (--data DIR | --rec-dir DIR)
           [--catalog URL] [--kill-pid PID] [--previous JSON] [--json OUT]

Run it inside the namespace of netns.sh. The publishers are aiortc_videoroom's Participant
(Opus tone + VP8 bars, sendonly, one Janus session each with its own long poll), driven through
its RoomRun; a control session of the same kind creates the room and sends the room requests.
With --data DIR (verbatim) the recordings are watched in DIR/recordings/ROOM and the web catalog
(--catalog URL, bearer token from DIR/catalog-token) is asked about them; with --rec-dir DIR
(real Janus) the room records into DIR and the file checks stand in for the catalog's.

  enable     room with record:false, a secret and lock_record; three publishers; rec1's
             `configure record:true` without the secret must change nothing: no file 3 s after
             publishing. `enable_recording` without the secret and with a wrong one is refused
             (error codes printed and compared with Janus 1.1.2's); with the secret every
             publisher's audio and video files appear within 1 s; rec1's `configure record:false`
             without the secret does not stop its files (rec1's and rec2's grow until +3.5 s),
             while rec3's with the secret (the control: the lock opens with the secret, as in
             Janus) closes rec3's within 1 s; 4 s after enabling, `enable_recording` false
             closes rec1's and rec2's. Closed means: catalog state closed, its sha256 that of
             the file, no .mjr.tmp left (for Janus: the files stop growing).
  kick       room with record:true; one publisher for 3 s; `kick` without the secret refused,
             with it the publisher's files are closed within 1 s (as above) and its
             PeerConnection hung up.
  crash      room with record:true; one publisher for 4 s; then SIGKILL to --kill-pid (the
             server); its audio and video files must be left as *.mjr.tmp. No teardown.
  recovered  after the server was restarted on the same data (the script does that): the
             catalog lists the recordings of --previous (the crash summary) as recovered, each
             sha256 that of its renamed .mjr, and no .mjr.tmp is left.

Each check prints "ok: SCENARIO: ..." or "FAIL: SCENARIO: ..." with its numbers; the summary
(--json OUT) lists the recordings to convert with the duration they must have ("expect_s",
"tolerance_s"): the recording window measured here (midpoints of the requests that opened and
closed the files; for a publisher, from its webrtcup). Exit 1 on any FAIL.
"""
import argparse
import asyncio
import hashlib
import json
import os
import signal
import sys

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aiortc_videoroom as vr  # noqa: E402  (imports aiortc_echo: aioice confined to 127.0.0.2)

# Janus 1.1.2's answers to enable_recording/kick without the secret and with a wrong one
# (JANUS_CHECK_SECRET: 429 missing element, 433 unauthorized), confirmed with VB_ECHO_TARGET=janus.
REFUSED = {"no secret": 429, "wrong secret": 433}
KINDS = ("audio", "video")


class Report:
    """ok/FAIL lines and the summary."""

    def __init__(self, scenario):
        self.scenario = scenario
        self.fails = 0
        self.summary = {"scenario": scenario, "checks": [], "recordings": [], "numbers": {}}

    def check(self, cond, text):
        line = "%s: %s: %s" % ("ok" if cond else "FAIL", self.scenario, text)
        print(line, flush=True)
        self.summary["checks"].append(line)
        if not cond:
            self.fails += 1
        return cond

    def number(self, key, value):
        self.summary["numbers"][key] = value


class Catalog:
    """The web catalog's recordings of one room (verbatim only)."""

    def __init__(self, url, token_file):
        self.url, self.token_file = url.rstrip("/"), token_file
        self.http = requests.Session()

    def get(self, path, params):
        with open(self.token_file) as f:
            token = f.read().strip()
        r = self.http.get(self.url + path, params=params, timeout=5,
                          headers={"Authorization": "Bearer " + token})
        if r.status_code != 200:
            raise RuntimeError("GET %s: HTTP %d %s" % (path, r.status_code, r.text[:200]))
        return r.json()

    async def recordings(self, room, feed=None):
        params = {"room": str(room), "limit": "1000"}
        if feed is not None:
            params["participant"] = str(feed)
        reply = await asyncio.to_thread(self.get, "/api/recordings", params)
        return reply.get("recordings") or []


def kind_of(name):
    for kind in ("audio", "video", "data"):
        if "-%s-" % kind in name:
            return kind
    return "?"


def file_sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def content_length(path):
    """Bytes up to the last non-zero one: verbatim preallocates its .mjr.tmp files (fallocate),
    so their size says nothing about what was written. None when the file is gone."""
    try:
        with open(path, "rb") as f:
            return len(f.read().rstrip(b"\0"))
    except FileNotFoundError:
        return None


class Scenario:
    """What every scenario needs: the run, the control handle, files, catalog, checks."""

    def __init__(self, args):
        self.args = args
        self.rep = Report(args.scenario)
        self.run = vr.RoomRun(args)
        self.janus = args.rec_dir is not None
        self.folder = args.rec_dir if self.janus else os.path.join(args.data, "recordings",
                                                                   str(args.room))
        self.catalog = None if self.janus else Catalog(args.catalog, os.path.join(
            args.data, "catalog-token"))
        self.ctl_session = self.ctl = None
        self.parts = []

    def ms(self):
        return self.run.ms()

    async def sleep_until(self, ms):
        await asyncio.sleep(max(0.0, (ms - self.ms()) / 1000.0))

    # --- requests ------------------------------------------------------------------------------

    async def control(self):
        self.ctl_session = vr.Session(self.run, "control")
        await self.ctl_session.start()
        self.ctl = await self.ctl_session.attach("control")

    async def sync(self, body):
        """A synchronous plugin request on the control handle: its plugin data (errors too)."""
        reply = await self.ctl.session.janus.request(self.ctl.path,
                                                     {"janus": "message", "body": body})
        if reply.get("janus") != "success":
            raise RuntimeError("%s: reply %s" % (body["request"], json.dumps(reply)[:300]))
        return vr.plugin_data(reply)

    async def create_room(self, record, lock_record=False):
        a = self.args
        body = {"request": "create", "room": a.room, "description": "vb recording test",
                "publishers": 3, "audiocodec": "opus", "videocodec": "vp8", "record": record,
                "secret": a.secret, "lock_record": lock_record}
        if self.janus:
            body["rec_dir"] = a.rec_dir
        data = await self.sync(body)
        if data.get("videoroom") != "created":
            raise RuntimeError("create room %d: %s" % (a.room, data))

    async def publisher(self, index):
        p = vr.Participant(self.run, index)
        self.parts.append(p)
        await p.publish(self.args.room)
        return p

    async def refused(self, what, body):
        """body without the secret, then with a wrong one: both must fail with Janus's codes."""
        for label, secret in (("no secret", None), ("wrong secret", "not-" + self.args.secret)):
            b = dict(body)
            if secret:
                b["secret"] = secret
            data = await self.sync(b)
            code = data.get("error_code")
            self.rep.number("%s %s" % (what, label), code)
            self.rep.check(code == REFUSED[label], "%s with %s refused: error %s (%s), want %d" % (
                what, label, code, data.get("error", data.get("videoroom")), REFUSED[label]))

    # --- files and catalog ---------------------------------------------------------------------

    def files(self, feed=None):
        """{name: path} of the room's recordings (.mjr and .mjr.tmp), of one feed if given."""
        try:
            names = os.listdir(self.folder)
        except FileNotFoundError:
            return {}
        tag = "-user-%s-" % feed if feed is not None else "-user-"
        return {n: os.path.join(self.folder, n) for n in sorted(names)
                if tag in n and (n.endswith(".mjr") or n.endswith(".mjr.tmp"))}

    def by_kind(self, feed):
        """{kind: [names]} of one feed's files."""
        out = {}
        for name in self.files(feed):
            out.setdefault(kind_of(name), []).append(name)
        return out

    def lengths(self):
        return {n: content_length(p) for n, p in self.files().items()}

    async def wait_files(self, feeds, since_ms, limit_ms):
        """Waits until every feed has an audio and a video file; the ms it took (None)."""
        deadline = since_ms + limit_ms
        while True:
            kinds = [self.by_kind(f) for f in feeds]
            if all(all(k in have for k in KINDS) for have in kinds):
                return self.ms() - since_ms
            if self.ms() > deadline:
                return None
            await asyncio.sleep(0.02)

    async def closed(self, displays, since_ms, limit_ms, state="closed", what="the request"):
        """The files of these participants ({display: feed}) closed: the catalog's rows in
        `state` (verbatim) or files that stopped growing (Janus). Checks and returns the
        recordings to convert ([{display, feed, kind, path}])."""
        if self.janus:
            return await self.janus_stopped(displays, what)
        rows, elapsed, error = [], None, None
        while self.ms() <= since_ms + max(limit_ms, 3000):
            try:
                rows = [r for f in displays.values()
                        for r in await self.catalog.recordings(self.args.room, f)]
                error = None
            except (requests.RequestException, RuntimeError, ValueError) as e:
                error = "%s: %s" % (type(e).__name__, e)
            if rows and all(r.get("state") == state for r in rows):
                elapsed = self.ms() - since_ms
                break
            await asyncio.sleep(0.05)
        names = ", ".join(sorted(displays))
        if elapsed is None:
            self.rep.check(False, "%s: catalog rows not all %s %d ms after %s: %s%s" % (
                names, state, max(limit_ms, 3000), what,
                ["%s %s" % (r.get("kind"), r.get("state")) for r in rows],
                " (last request: %s)" % error if error else ""))
        else:
            self.rep.number("%s %s ms" % (names, state), round(elapsed))
            self.rep.check(elapsed <= limit_ms, "%s: %d catalog rows %s %d ms after %s (limit "
                           "%d ms)" % (names, len(rows), state, elapsed, what, limit_ms))
        return self.check_rows(displays, rows, state)

    def check_rows(self, displays, rows, state):
        out = []
        for display, feed in sorted(displays.items()):
            mine = [r for r in rows if str(r.get("participant")) == str(feed)]
            kinds = sorted(r.get("kind") for r in mine)
            self.rep.check(kinds == list(KINDS), "%s: catalog lists %s recordings, want one "
                           "audio and one video" % (display, kinds or "no"))
            for r in mine:
                path = os.path.join(self.args.data, r.get("path") or "?")
                what = "%s %s %s" % (display, r.get("kind"), os.path.basename(path))
                ok = (r.get("state") == state and path.endswith(".mjr") and
                      os.path.isfile(path) and r.get("sha256") == file_sha256(path))
                self.rep.check(ok, "%s: state %s, sha256 %s%s, %d bytes, %s frames, trimmed %s" % (
                    what, r.get("state"), (r.get("sha256") or "none")[:16],
                    " = file's" if ok else " (file's %s)" % (
                        file_sha256(path)[:16] if os.path.isfile(path) else "missing"),
                    r.get("size") or 0, r.get("frames"), r.get("trimmed")))
                if ok:
                    out.append({"display": display, "feed": feed, "kind": r.get("kind"),
                                "path": path})
            left = [n for n in self.files(feed) if n.endswith(".tmp")]
            self.rep.check(not left, "%s: no .mjr.tmp left (%s)" % (display, left or "none"))
        return out

    async def janus_stopped(self, displays, what):
        """Janus: each participant's audio and video .mjr, whose content no longer grows from 1 s
        to 2 s after the request."""
        await asyncio.sleep(1.0)  # Janus closes a kicked publisher's files at its hangup
        before = self.lengths()
        await asyncio.sleep(1.0)
        after = self.lengths()
        out = []
        for display, feed in sorted(displays.items()):
            have = self.by_kind(feed)
            self.rep.check(all(len(have.get(k, [])) == 1 for k in KINDS),
                           "%s: files %s, want one audio and one video" % (display, have))
            for kind in KINDS:
                for name in have.get(kind, []):
                    self.rep.check(before[name] == after[name], "%s %s: stopped growing after %s "
                                   "(%s -> %s bytes in 1 s)" % (display, name, what, before[name],
                                                               after[name]))
                    out.append({"display": display, "feed": feed, "kind": kind,
                                "path": os.path.join(self.folder, name)})
        return out

    def to_convert(self, recs, expect_s, tolerance_s):
        for r in recs:
            r.update(expect_s=round(expect_s, 3), tolerance_s=tolerance_s)
            self.rep.summary["recordings"].append(r)

    # --- end -----------------------------------------------------------------------------------

    async def teardown(self, destroy_room=True):
        """Hangs up and ends every session (the control one last, after destroying the room)."""
        for p in self.parts:
            for verb, wait in (("hangup", None), ("detach", "detached")):
                if p.pub and p.session.janus.sid is not None:
                    await self.run.step(p.display + " " + verb, p.pub.core(verb, wait))
            if p.session.janus.sid is not None:
                await self.run.step(p.display + " destroy", p.session.destroy())
            await p.close()
        if self.ctl:
            if destroy_room:
                await self.run.step("destroy room", self.sync(
                    {"request": "destroy", "room": self.args.room, "secret": self.args.secret}))
            await self.run.step("control detach", self.ctl.core("detach", "detached"))
            await self.run.step("control destroy", self.ctl_session.destroy())

    def abandon(self):
        """After SIGKILL: no requests, just stop the long polls."""
        for s in [p.session for p in self.parts] + [self.ctl_session]:
            if s:
                s.janus.stopping.set()
                if s.task:
                    s.task.cancel()
                self.run.sessions.append(s)


async def scenario_enable(sc):
    a, rep = sc.args, sc.rep
    await sc.control()
    await sc.create_room(record=False, lock_record=True)
    # p1 and p2 follow the room; p3 is the control that the secret does unlock `record`
    p1, p2, p3 = [await sc.publisher(i) for i in (1, 2, 3)]
    feeds = {p.display: p.feed for p in (p1, p2, p3)}
    up = sc.ms()
    # lock_record: a publisher asking for its own recording without the secret changes nothing
    await p1.pub.message({"request": "configure", "record": True})
    await sc.sleep_until(up + 3000)
    rep.check(not sc.files(), "record:false, %s's configure record:true without the secret: "
              "no recording %.1f s after publishing (%s)" % (
                  p1.display, (sc.ms() - up) / 1000, list(sc.files()) or "none"))
    await sc.refused("enable_recording", {"request": "enable_recording", "room": a.room,
                                          "record": True})
    t0 = sc.ms()
    data = await sc.sync({"request": "enable_recording", "room": a.room, "record": True,
                          "secret": a.secret})
    t1 = sc.ms()
    rep.check(data.get("videoroom") == "success" and data.get("record") is True,
              "enable_recording true with the secret: %s in %.0f ms" % (data, t1 - t0))
    took = await sc.wait_files(feeds.values(), t1, 3000)
    rep.number("files appeared ms", took)
    rep.check(took is not None and took <= 1000, "every publisher's audio and video files within "
              "%s ms of enable_recording (limit 1000): %s" % (
                  "?" if took is None else "%.0f" % took, list(sc.files())))
    await sc.sleep_until(t1 + 1000)
    first = sc.lengths()
    rep.check(len(first) == 2 * len(feeds), "%d files while recording, have %d" % (
        2 * len(feeds), len(first)))
    # lock_record again: record:false without the secret must not stop p1's files...
    await p1.pub.message({"request": "configure", "record": False})
    # ...and with it, it must stop p3's (Janus 1.1.2 closes them at once)
    await sc.sleep_until(t1 + 1500)
    c0 = sc.ms()
    await p3.pub.message({"request": "configure", "record": False, "secret": a.secret})
    c1 = sc.ms()
    recs3 = await sc.closed({p3.display: p3.feed}, c1, 1000,
                            what="configure record:false with the secret")
    await sc.sleep_until(t1 + 3500)
    second = sc.lengths()
    for name in sorted(first):
        if "-user-%s-" % p3.feed in name:
            continue
        rep.check(second.get(name) is not None and second[name] > (first[name] or 0),
                  "%s grows: %s -> %s bytes from +1.0 s to +3.5 s%s" % (
                      name, first[name], second.get(name),
                      " (after %s's configure record:false without the secret)" % p1.display
                      if "-user-%s-" % p1.feed in name else ""))
    await sc.sleep_until(t1 + 4000)
    t2 = sc.ms()
    data = await sc.sync({"request": "enable_recording", "room": a.room, "record": False,
                          "secret": a.secret})
    t3 = sc.ms()
    rep.check(data.get("videoroom") == "success" and data.get("record") is False,
              "enable_recording false with the secret: %s in %.0f ms" % (data, t3 - t2))
    window = ((t2 + t3) - (t0 + t1)) / 2000.0
    window3 = ((c0 + c1) - (t0 + t1)) / 2000.0
    rep.number("window s", round(window, 3))
    rep.number("%s window s" % p3.display, round(window3, 3))
    recs = await sc.closed({p1.display: p1.feed, p2.display: p2.feed}, t3, 1000,
                           what="enable_recording false")
    sc.to_convert(recs, window, 0.5)
    sc.to_convert(recs3, window3, 0.5)
    await sc.teardown()


async def scenario_kick(sc):
    a, rep = sc.args, sc.rep
    await sc.control()
    await sc.create_room(record=True)
    p = await sc.publisher(1)
    await sc.sleep_until(p.up_ms + 3000)
    have = sc.by_kind(p.feed)
    rep.check(all(k in have for k in KINDS), "%s recording after 3 s: %s" % (p.display, have))
    kick = {"request": "kick", "room": a.room, "id": p.feed}
    await sc.refused("kick", kick)
    t0 = sc.ms()
    data = await sc.sync(dict(kick, secret=a.secret))
    t1 = sc.ms()
    rep.check(data.get("videoroom") == "success", "kick with the secret: %s in %.0f ms" % (
        data, t1 - t0))
    publishing = ((t0 + t1) / 2 - p.up_ms) / 1000.0
    rep.number("publishing s", round(publishing, 3))
    recs = await sc.closed({p.display: p.feed}, t1, 1000, what="kick")
    hung = await p.pub.wait_flag("hangup", 2)
    rep.check(hung, "the kicked publisher's PeerConnection hung up (%s; events %s)" % (
        "at +%.0f ms" % (p.pub.first["hangup"] - t1) if hung else "no hangup in 2 s",
        " ".join(e for e in p.pub.seq[-4:])))
    sc.to_convert(recs, publishing, 0.5)
    await sc.teardown()


async def scenario_crash(sc):
    a, rep = sc.args, sc.rep
    await sc.control()
    await sc.create_room(record=True)
    p = await sc.publisher(1)
    await sc.sleep_until(p.up_ms + 4000)
    before = sc.files(p.feed)
    t = sc.ms()
    os.kill(a.kill_pid, signal.SIGKILL)
    publishing = (t - p.up_ms) / 1000.0
    rep.number("publishing s", round(publishing, 3))
    sc.abandon()
    await asyncio.sleep(0.3)
    after = sc.files(p.feed)
    kinds = sorted(kind_of(n) for n in after)
    rep.check(kinds == list(KINDS) and all(n.endswith(".mjr.tmp") for n in after),
              "SIGKILL to %d after %.2f s of publishing: left %s (before: %s)" % (
                  a.kill_pid, publishing, list(after), list(before)))
    rep.summary["crash"] = {"display": p.display, "feed": p.feed, "publishing_s": publishing,
                            "left": {n: content_length(path) for n, path in after.items()}}
    await p.close()


async def scenario_recovered(sc):
    with open(sc.args.previous) as f:
        crash = json.load(f)["crash"]
    recs = await sc.closed({crash["display"]: crash["feed"]}, sc.ms(), 3000, state="recovered",
                           what="the restart")
    sc.to_convert(recs, crash["publishing_s"], 1.0)


SCENARIOS = {"enable": scenario_enable, "kick": scenario_kick, "crash": scenario_crash,
             "recovered": scenario_recovered}


async def main_async(args):
    sc = Scenario(args)
    try:
        await asyncio.wait_for(SCENARIOS[args.scenario](sc), 45)
    except Exception as e:  # a failed step: reported, then whatever can be torn down is
        sc.rep.check(False, "%s: %s" % (type(e).__name__, e))
        if args.scenario != "crash":
            try:
                await asyncio.wait_for(sc.teardown(), 15)
            except Exception as e2:
                sc.rep.check(False, "teardown: %s: %s" % (type(e2).__name__, e2))
    for err in sc.run.errors:
        sc.rep.check(False, err)
    await asyncio.gather(*(asyncio.to_thread(s.join_poller) for s in sc.run.sessions))
    return sc.rep


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8188/janus")
    p.add_argument("--room", type=int, required=True)
    p.add_argument("--secret", required=True)
    p.add_argument("--scenario", choices=sorted(SCENARIOS), required=True)
    where = p.add_mutually_exclusive_group(required=True)
    where.add_argument("--data", help="verbatim's --data folder")
    where.add_argument("--rec-dir", help="real Janus: the room's rec_dir")
    p.add_argument("--catalog", default="http://127.0.0.1:8191", help="verbatim's web catalog")
    p.add_argument("--kill-pid", type=int, help="crash: the server's PID")
    p.add_argument("--previous", help="recovered: the crash scenario's summary")
    p.add_argument("--json", metavar="OUT")
    p.add_argument("--display-prefix", default="rec")
    args = p.parse_args()
    if args.scenario == "crash" and not args.kill_pid:
        p.error("crash needs --kill-pid")
    if args.scenario == "recovered" and (not args.previous or args.rec_dir):
        p.error("recovered needs --previous and --data")
    rep = asyncio.run(main_async(args))
    rep.summary["ok"] = rep.fails == 0
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rep.summary, f, indent=1)
    return 0 if rep.fails == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
