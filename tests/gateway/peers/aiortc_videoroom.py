"""VideoRoom client on aiortc: N publishers who subscribe to each other, over the REST API.

usage: /usr/bin/python3 aiortc_videoroom.py --url URL --room ROOM [--create] [--rec-dir DIR]
                                            [--publishers N] [--seconds S] [--json OUT]
                                            [--display-prefix P] [--raw OUT]

Run it inside the namespace of netns.sh (ICE only on 127.0.0.2). The flow is janus.js's over
HTTP, one Janus session per participant with its own long-poll thread:
  --create   a control session creates ROOM (record: true, rec_dir DIR with --rec-dir,
             publishers >= N, opus, vp8) and goes away;
  publish    participant k (display "<P>k") attaches janus.plugin.videoroom, joins as a
             publisher and publishes an offer (Opus tone + VP8 moving bars, sendonly, candidates
             in the SDP); the answer comes in the `configured` event; then webrtcup, and every
             earlier participant must be told about k in a `publishers` event before k+1 joins
             (one at a time, so that every handle's event sequence is deterministic);
  subscribe  each participant attaches a second handle and joins it as a subscriber to every
             other feed in one PeerConnection (`streams: [{feed}, ...]`, its private_id); the
             offer comes in `attached`, the recvonly answer goes with `start`; webrtcup;
  media      S seconds from the moment every subscriber is up: decoded frames are counted per
             (subscriber, feed, kind) with track.recv(), each track mapped to its feed by mid
             through the `streams` of `attached`/`updated`;
  teardown   every publisher unpublishes (one at a time; the subscribers get an `updated` offer
             without that feed and answer it with `start`, as janus.js does), every subscriber
             leaves, then each participant hangs up, detaches both handles and destroys its
             session. After each step the client waits until no event has come for a moment
             (settle()), so that notifications land in the same place on every server.

Every handle records its events in order, normalized so that two servers can be compared
(feeds by display, not id): requests as "join:ack" (placed when sent, so the reply never races
the events), plugin events as "event:configured+jsep:answer", "event:publishers[vr2]",
"event:updated[-,-,vr3:audio,vr3:video]+jsep:offer", "event:unpublished=vr1", ..., core events
as "webrtcup", "hangup(REASON)", "detached". A notification about another participant that
comes again (Janus 1.1.2 repeats `unpublished`) is counted in `repeats`, not sequenced.
media/slowlink/trickle events, whose timing varies, go to an unordered set instead; the data
keys of each plugin event go to `shapes`; --raw OUT writes every event as received. A JSON summary is printed (and written to --json OUT); it includes per publisher the
publishing time (its webrtcup to its unpublished event) for checking recordings. Exit 1 unless:
every publisher and subscriber reached webrtcup, every subscriber decoded from every other feed
60% of the expected audio (50/s) and video (30/s) frames over S seconds minus a start
allowance, and no request failed.

Safety as in aiortc_echo.py, whose host-address override, SDP candidate filter and tracks this
imports: only 127.0.0.2 locally, no ICE servers, no remote candidate outside 127.0.0.0/8.
"""
import argparse
import asyncio
import json
import os
import sys
import time
import traceback

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from aiortc.sdp import candidate_from_sdp

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aiortc_echo as echo  # noqa: E402  (also confines aioice to the namespace address)

PLUGIN = "janus.plugin.videoroom"
RATES = {"audio": 50.0, "video": 30.0}  # frames/s of ToneTrack (20 ms) and BarsTrack
MIN_SHARE = 0.6  # of the expected frames, per subscriber, feed and kind
START_ALLOWANCE_S = 2.0  # first keyframe, jitter buffers
SETTLE_QUIET_S = 0.3  # settle(): this long without any event...
SETTLE_MAX_S = 3.0  # ...or at most this long
STEP_TIMEOUT_S = 10.0
UNORDERED = ("media", "slowlink", "trickle")


def plugin_data(ev):
    return ev.get("plugindata", {}).get("data", {}) if isinstance(ev, dict) else {}


def normalize(ev, names):
    """The name of an event in a handle's sequence (see the docstring at the top); names maps
    feed ids to displays, which are the same on every server."""
    kind = ev.get("janus")
    if kind == "media":
        return "media:%s:%s" % (ev.get("type"), str(ev.get("receiving")).lower())
    if kind == "slowlink":
        return "slowlink:%s:%s" % (ev.get("media"), "uplink" if ev.get("uplink") else "downlink")
    if kind == "trickle":
        cand = ev.get("candidate") or {}
        return "trickle:completed" if cand.get("completed") else "trickle:candidate"
    if kind == "hangup":
        return "hangup(%s)" % ev.get("reason")
    if kind != "event":
        return kind
    data = plugin_data(ev)
    vr = data.get("videoroom")
    if vr == "joined":
        name = "event:joined" + feed_list(data.get("publishers"), names)
    elif vr in ("attached", "updated"):
        name = "event:%s%s" % (vr, stream_list(data.get("streams"), names))
    elif vr == "event":
        name = "event:" + event_detail(data, names)
    else:
        name = "event:%s" % vr
    jsep = ev.get("jsep")
    if isinstance(jsep, dict):
        name += "+jsep:%s" % jsep.get("type")
    return name


def feed_name(feed, names):
    return names.get(feed, "?") if feed != "ok" else "ok"


def feed_list(publishers, names):
    """"[vr1,vr2]": the displays of a publishers list, sorted (servers order them differently)."""
    return "[%s]" % ",".join(sorted(feed_name(p.get("id"), names) for p in publishers or []))


def stream_list(streams, names):
    """"[vr2:audio,vr2:video,-]": a subscription's streams in mindex order, "-" when inactive."""
    out = []
    for s in sorted(streams or [], key=lambda s: s.get("mindex", 0)):
        if s.get("active") is False or "feed_id" not in s:
            out.append("-")
        else:
            out.append("%s:%s" % (feed_name(s.get("feed_id"), names), s.get("type")))
    return "[%s]" % ",".join(out)


def event_detail(data, names):
    """What a {"videoroom":"event"} is about: "configured", "unpublished=ok", "leaving=vr2"."""
    if "error_code" in data:
        return "error%s" % data["error_code"]
    for key in ("unpublished", "leaving", "kicked"):
        if key in data:
            return "%s=%s" % (key, feed_name(data[key], names))
    if "publishers" in data:
        return "publishers" + feed_list(data["publishers"], names)
    keys = [k for k in ("configured", "started", "paused", "switched", "left", "joining",
                        "updated") if k in data]
    if keys:
        return "+".join(keys)
    return "?" + ",".join(sorted(k for k in data if k not in ("videoroom", "room")))


def is_notification(name):
    """Events about another participant, which Janus may repeat (see Handle.on_event)."""
    return name.startswith(("event:unpublished=", "event:leaving=", "event:publishers[")) and \
        not name.startswith(("event:unpublished=ok", "event:leaving=ok"))


class Handle:
    """One plugin handle: its requests, the events routed to it, its PeerConnection."""

    def __init__(self, session, name):
        self.session, self.name = session, name
        self.hid = None
        self.seq = []  # normalized, ordered
        self.unordered = set()
        self.shapes = {}  # normalized plugin event -> its data keys (first seen)
        self.raw = []  # (ms, event) of every event, for the failure report
        self.waiters = {}  # transaction -> future of its plugin event
        self.flags = {}  # janus event name -> asyncio.Event
        self.first = {}  # janus event name -> ms of its first arrival
        self.notes = []  # plugin events without a transaction of ours
        self.pc = None
        self.remote_set = False
        self.pending_cands = []
        self.mid_feed = {}  # subscriber: mid -> feed id
        self.dropped = 0
        self.repeats = {}  # notification -> how many times it came again
        self.on_offer = None  # coroutine function(event) for offers the server starts

    @property
    def path(self):
        return "/%d/%d" % (self.session.janus.sid, self.hid)

    def flag(self, name):
        return self.flags.setdefault(name, asyncio.Event())

    async def wait_flag(self, name, timeout):
        try:
            await asyncio.wait_for(self.flag(name).wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def on_event(self, ms, ev):
        kind = ev.get("janus")
        name = normalize(ev, self.session.run.names)
        self.raw.append((ms, ev))
        if kind in UNORDERED:
            self.unordered.add(name)
        elif is_notification(name) and name in self.seq:
            # Janus 1.1.2 says "unpublished" again when the PC closes and at leave; only the
            # first of each goes into the sequence, the others are counted.
            self.repeats[name] = self.repeats.get(name, 0) + 1
        else:
            self.seq.append(name)
        if kind == "event":
            self.shapes.setdefault(name, sorted(plugin_data(ev)))
            fut = self.waiters.pop(ev.get("transaction"), None)
            if fut and not fut.done():
                fut.set_result(ev)
            else:
                self.notes.append(ev)
                jsep = ev.get("jsep")
                if self.on_offer and isinstance(jsep, dict) and jsep.get("type") == "offer":
                    self.session.run.background(self.name + " renegotiation", self.on_offer(ev))
        elif kind == "trickle":
            await self.remote_trickle(ev.get("candidate"))
        self.first.setdefault(kind, ms)
        self.flag(kind).set()

    async def remote_trickle(self, cand):
        """A candidate the server trickles: filtered like those in its SDP (see aiortc_echo)."""
        if not isinstance(cand, dict) or self.pc is None:
            return
        if not self.remote_set:
            self.pending_cands.append(cand)
            return
        if cand.get("completed"):
            for transport in {t.receiver.transport.transport for t in self.pc.getTransceivers()}:
                await transport.addRemoteCandidate(None)
            return
        line = cand.get("candidate", "")
        line = line[2:] if line.startswith("a=") else line
        if not echo.loopback_candidate(line):
            self.dropped += 1
            return
        c = candidate_from_sdp(line.split(":", 1)[1])
        c.sdpMid, c.sdpMLineIndex = cand.get("sdpMid"), cand.get("sdpMLineIndex")
        if c.sdpMid is None:
            mids = echo.sdp_mids(self.pc.remoteDescription.sdp)
            if isinstance(c.sdpMLineIndex, int) and 0 <= c.sdpMLineIndex < len(mids):
                c.sdpMid = mids[c.sdpMLineIndex]
        await self.pc.addIceCandidate(c)

    async def set_remote(self, jsep):
        """Applies the server's SDP, minus candidates outside 127.0.0.0/8."""
        sdp, dropped = echo.filter_sdp(jsep["sdp"])
        self.dropped += dropped
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type=jsep["type"]))
        self.remote_set = True
        for cand in self.pending_cands:
            await self.remote_trickle(cand)
        self.pending_cands = []

    async def core(self, verb, wait_event=None):
        """A core request on this handle (hangup, detach); waits for wait_event when given."""
        idx = len(self.seq)
        self.seq.append(verb + ":?")
        reply = await self.session.janus.request(self.path, {"janus": verb})
        self.seq[idx] = "%s:%s" % (verb, reply.get("janus"))
        if wait_event and not await self.wait_flag(wait_event, 3):
            raise RuntimeError("%s: no %s event after %s" % (self.name, wait_event, verb))
        return reply

    async def message(self, body, jsep=None, timeout=STEP_TIMEOUT_S):
        """A plugin request: the sync reply, or the async event with our transaction. The
        sequence gets "REQUEST:REPLY" where it was sent. Plugin errors raise."""
        tx = echo.new_transaction()
        fut = asyncio.get_running_loop().create_future()
        self.waiters[tx] = fut
        msg = {"janus": "message", "body": body}
        if jsep:
            msg["jsep"] = jsep
        idx = len(self.seq)
        self.seq.append(body["request"] + ":?")
        try:
            reply = await self.session.janus.request(self.path, msg, tx)
        except Exception:
            self.waiters.pop(tx, None)
            raise
        self.seq[idx] = "%s:%s" % (body["request"], reply.get("janus"))
        if reply.get("janus") == "success":
            self.waiters.pop(tx, None)
            ev = reply
        else:
            try:
                ev = await asyncio.wait_for(fut, timeout)
            except asyncio.TimeoutError:
                raise RuntimeError("%s: no event for %s in %g s" % (self.name, body["request"],
                                                                   timeout)) from None
        data = plugin_data(ev)
        if "error_code" in data:
            raise RuntimeError("%s: %s: error %s %s" % (self.name, body["request"],
                                                        data.get("error_code"), data.get("error")))
        return ev

    def summary(self):
        return {"id": self.hid, "events": self.seq, "unordered": sorted(self.unordered),
                "repeats": self.repeats, "shapes": self.shapes,
                "webrtcup_ms": self.first.get("webrtcup"), "candidates_dropped": self.dropped}


class Session:
    """One Janus session (aiortc_echo.Janus: requests + a long-poll thread) and its handles."""

    def __init__(self, run, name):
        self.run, self.name = run, name
        self.janus = echo.Janus(run.args.url, asyncio.get_running_loop(), run.t0)
        self.handles = {}  # handle id -> Handle
        self.task = None

    async def start(self):
        reply = await self.janus.request("", {"janus": "create"})
        self.janus.sid = reply["data"]["id"]
        self.janus.start_polling()
        self.task = asyncio.ensure_future(self.dispatch())

    async def attach(self, name):
        handle = Handle(self, name)
        reply = await self.janus.request("/%d" % self.janus.sid,
                                         {"janus": "attach", "plugin": PLUGIN})
        handle.hid = reply["data"]["id"]
        self.handles[handle.hid] = handle
        return handle

    async def dispatch(self):
        while True:
            ms, ev = await self.janus.queue.get()
            if ev.get("janus") == "keepalive":
                continue
            self.run.last_event = time.monotonic()
            handle = self.handles.get(ev.get("sender"))
            if handle is None:
                self.run.stray.append({"session": self.name, "ms": ms, "event": ev})
                continue
            try:
                await handle.on_event(ms, ev)
            except Exception as e:  # a bad candidate is the server's fault: noted, not fatal
                self.run.errors.append("%s: event %s: %s" % (handle.name, ev.get("janus"), e))

    async def destroy(self):
        """Ends the session; its long poll is told to stop but not waited for (a parked poll
        may take a while to return): join_poller() does that at the end."""
        try:
            await self.janus.request("/%d" % self.janus.sid, {"janus": "destroy"})
        finally:
            self.janus.stopping.set()
            self.run.sessions.append(self)
            if self.task:
                self.task.cancel()

    def join_poller(self):
        self.janus.stop_polling()


class Participant:
    """A publisher (its own session) who also subscribes to every other publisher."""

    def __init__(self, run, index):
        self.run, self.index = run, index
        self.display = "%s%d" % (run.args.display_prefix, index)
        self.session = Session(run, self.display)
        self.pub = self.sub = None
        self.feed = self.private_id = None
        self.announced = set()  # feed ids seen in `publishers` events on the publisher handle
        self.frames = {}  # feed id -> {kind: frames counted in the window}
        self.tasks = []
        self.up_ms = self.unpublished_ms = None

    async def publish(self, room):
        await self.session.start()
        self.pub = await self.session.attach(self.display + ".pub")
        ev = await self.pub.message({"request": "join", "room": room, "ptype": "publisher",
                                     "display": self.display})
        data = plugin_data(ev)
        self.feed, self.private_id = data.get("id"), data.get("private_id")
        self.run.names[self.feed] = self.display
        self.announced.update(p.get("id") for p in data.get("publishers") or [])
        pc = self.pub.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(echo.ToneTrack(), direction="sendonly")
        pc.addTransceiver(echo.BarsTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        check_local(self.run, self.pub.name, pc.localDescription.sdp)
        jsep = {"type": "offer", "sdp": pc.localDescription.sdp, "trickle": False}
        ev = await self.pub.message({"request": "publish", "audio": True, "video": True}, jsep)
        answer = ev.get("jsep")
        if not isinstance(answer, dict) or answer.get("type") != "answer":
            raise RuntimeError("%s: publish: no answer in %s" % (self.display,
                                                                 json.dumps(ev)[:300]))
        await self.pub.set_remote(answer)
        if not await self.pub.wait_flag("webrtcup", STEP_TIMEOUT_S):
            raise RuntimeError("%s: publisher: no webrtcup in %g s (ICE %s)" % (
                self.display, STEP_TIMEOUT_S, pc.iceConnectionState))
        self.up_ms = self.pub.first["webrtcup"]

    def take_announcements(self):
        for ev in self.pub.notes if self.pub else []:
            for p in plugin_data(ev).get("publishers") or []:
                self.announced.add(p.get("id"))

    async def subscribe(self, room, feeds):
        self.sub = await self.session.attach(self.display + ".sub")
        body = {"request": "join", "room": room, "ptype": "subscriber",
                "streams": [{"feed": f} for f in feeds]}
        if self.private_id is not None:
            body["private_id"] = self.private_id
        pc = self.sub.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))

        @pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self.count_frames(pc, track)))

        self.sub.on_offer = self.renegotiate
        ev = await self.sub.message(body)
        self.map_streams(plugin_data(ev))
        offer = ev.get("jsep")
        if not isinstance(offer, dict) or offer.get("type") != "offer":
            raise RuntimeError("%s: subscribe: no offer in %s" % (self.display,
                                                                  json.dumps(ev)[:300]))
        await self.sub.set_remote(offer)
        await pc.setLocalDescription(await pc.createAnswer())
        check_local(self.run, self.sub.name, pc.localDescription.sdp)
        jsep = {"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False}
        await self.sub.message({"request": "start"}, jsep)
        if not await self.sub.wait_flag("webrtcup", STEP_TIMEOUT_S):
            raise RuntimeError("%s: subscriber: no webrtcup in %g s (ICE %s)" % (
                self.display, STEP_TIMEOUT_S, pc.iceConnectionState))

    def map_streams(self, data):
        self.sub.mid_feed = {str(s["mid"]): s["feed_id"] for s in data.get("streams") or []
                             if s.get("mid") is not None and s.get("feed_id") is not None}

    async def renegotiate(self, ev):
        """An offer the server sends by itself (`updated` when a feed goes away): answered with
        `start`, as janus.js does."""
        self.map_streams(plugin_data(ev))
        pc = self.sub.pc
        try:
            await self.sub.set_remote(ev["jsep"])
            await pc.setLocalDescription(await pc.createAnswer())
        except ValueError as e:  # e.g. a removed stream as port 0 outside the BUNDLE without a
            # direction (Janus 1.1.2 keeps it in the BUNDLE: port 9, a=inactive, a=rtcp-mux)
            traceback.print_exc()
            raise RuntimeError("aiortc cannot answer the updated offer: ValueError: %s" % e) \
                from None
        jsep = {"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False}
        await self.sub.message({"request": "start"}, jsep)

    async def count_frames(self, pc, track):
        mid = next((t.mid for t in pc.getTransceivers() if t.receiver.track is track), None)
        try:
            while True:
                await track.recv()
                feed = self.sub.mid_feed.get(str(mid), "mid " + str(mid))
                if self.run.counting:
                    counts = self.frames.setdefault(feed, {"audio": 0, "video": 0})
                    counts[track.kind] += 1
        except MediaStreamError:
            pass

    async def close(self):
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for h in (self.pub, self.sub):
            if h and h.pc:
                await h.pc.close()


def check_local(run, name, sdp):
    """Our own candidates must all be on the namespace address."""
    for line in sdp.splitlines():
        if line.startswith("a=candidate:") and line.split()[4] != echo.ICE_ADDR:
            run.errors.append("%s: local candidate outside %s: %s" % (name, echo.ICE_ADDR, line))


class RoomRun:
    """The whole run: room, participants, media window, teardown, checks."""

    def __init__(self, args):
        self.args = args
        self.t0 = time.monotonic()
        self.last_event = self.t0
        self.errors = []
        self.stray = []  # events for no handle of ours
        self.parts = []
        self.counting = False
        self.window = None
        self.timings = {}
        self.names = {}  # feed id -> display
        self.sessions = []  # destroyed sessions whose long-poll thread may still run
        self.pending = set()  # background tasks (renegotiations)

    def background(self, what, coro):
        task = asyncio.ensure_future(self.step(what, coro))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def settle_all(self):
        """Background work done, then settle()."""
        while self.pending:
            await asyncio.gather(*list(self.pending))
        await self.settle()

    def ms(self):
        return round((time.monotonic() - self.t0) * 1000, 1)

    async def settle(self):
        """Waits until no event came for SETTLE_QUIET_S (SETTLE_MAX_S at most), so that the
        notifications a step caused on other handles land before the next step."""
        deadline = time.monotonic() + SETTLE_MAX_S
        while time.monotonic() < deadline:
            quiet = time.monotonic() - self.last_event
            if quiet >= SETTLE_QUIET_S:
                return
            await asyncio.sleep(SETTLE_QUIET_S - quiet)

    async def create_room(self):
        a = self.args
        ctl = Session(self, "control")
        await ctl.start()
        try:
            handle = await ctl.attach("control")
            body = {"request": "create", "room": a.room, "description": "vb aiortc videoroom",
                    "publishers": max(a.publishers, 3), "audiocodec": "opus", "videocodec": "vp8",
                    "record": True}
            if a.rec_dir:
                body["rec_dir"] = a.rec_dir
            data = plugin_data(await handle.message(body))
            if data.get("videoroom") != "created" or data.get("room") != a.room:
                raise RuntimeError("create room %d: %s" % (a.room, data))
            await handle.core("detach", "detached")
        finally:
            await ctl.destroy()

    async def wait_announced(self, newcomer):
        """Every earlier participant's publisher handle must hear of newcomer's feed."""
        deadline = time.monotonic() + 5
        waiting = self.parts
        while time.monotonic() < deadline:
            for p in self.parts:
                p.take_announcements()
            waiting = [p for p in self.parts if p is not newcomer and p.pub and
                       newcomer.feed not in p.announced]
            if not waiting:
                return
            await asyncio.sleep(0.02)
        self.errors.append("%s (feed %s) was not announced in 5 s to: %s" % (
            newcomer.display, newcomer.feed, ", ".join(p.display for p in waiting)))

    async def flow(self):
        a = self.args
        if a.create:
            await self.create_room()
            self.timings["room_created"] = self.ms()
        for i in range(1, a.publishers + 1):
            p = Participant(self, i)
            self.parts.append(p)
            await p.publish(a.room)
            await self.wait_announced(p)
            await self.settle()
        self.timings["publishers_up"] = self.ms()
        feeds = [p.feed for p in self.parts]
        await asyncio.gather(*(p.subscribe(a.room, [f for f in feeds if f != p.feed])
                               for p in self.parts))
        await self.settle()
        self.timings["subscribers_up"] = self.ms()
        self.counting = True
        start = time.monotonic()
        await asyncio.sleep(a.seconds)
        self.counting = False
        self.window = time.monotonic() - start
        self.timings["media_done"] = self.ms()

    async def step(self, what, coro):
        try:
            await coro
        except Exception as e:  # noted; the run goes on (the traceback on stderr)
            self.errors.append("%s: %s: %s" % (what, type(e).__name__, e))
            if not isinstance(e, RuntimeError):
                traceback.print_exc()

    async def teardown(self):
        """Each step tried whatever happened before; failures are noted. The server closes the
        PeerConnection after unpublish and leave: its hangup event is awaited (3 s at most; a
        missing one shows in the sequence)."""
        for p in self.parts:
            if p.pub and p.pub.pc:
                await self.step(p.display + " unpublish", self.unpublish(p))
                await p.pub.wait_flag("hangup", 3)
                await self.settle_all()
        subs = [p for p in self.parts if p.sub]
        await asyncio.gather(*(self.step(p.display + " leave", p.sub.message({"request": "leave"}))
                               for p in subs))
        await asyncio.gather(*(p.sub.wait_flag("hangup", 3) for p in subs))
        await self.settle_all()
        for p in self.parts:
            for h in (p.pub, p.sub):
                if h:
                    await self.step(h.name + " hangup", h.core("hangup"))
            await self.settle()
            for h in (p.sub, p.pub):
                if h:
                    await self.step(h.name + " detach", h.core("detach", "detached"))
                    await self.settle()
            if p.session.janus.sid is not None:
                await self.step(p.display + " destroy", p.session.destroy())
            await p.close()
        self.timings["teardown_done"] = self.ms()

    async def unpublish(self, p):
        await p.pub.message({"request": "unpublish"})
        p.unpublished_ms = self.ms()

    def check(self):
        for p in self.parts:
            for role, h in (("publisher", p.pub), ("subscriber", p.sub)):
                if h is None or "webrtcup" not in h.first:
                    self.errors.append("%s: %s never reached webrtcup" % (p.display, role))
        span = max(0.0, (self.window or 0.0) - START_ALLOWANCE_S)
        need = {k: int(MIN_SHARE * RATES[k] * span) for k in RATES}
        for p in self.parts:
            for q in self.parts:
                if q is p:
                    continue
                got = p.frames.get(q.feed, {"audio": 0, "video": 0})
                for kind in RATES:
                    if got[kind] < need[kind]:
                        self.errors.append("%s decoded %d %s frames of %s in %.1f s, expected "
                                           "at least %d" % (p.display, got[kind], kind, q.display,
                                                            self.window or 0.0, need[kind]))
        return need

    def summary(self, need):
        handles = {}
        for p in self.parts:
            for h in (p.pub, p.sub):
                if h:
                    handles[h.name] = h.summary()
        by_feed = {p.feed: p.display for p in self.parts}
        frames = {p.display: {by_feed.get(f, str(f)): c for f, c in p.frames.items()}
                  for p in self.parts}
        counts = [c[k] for f in frames.values() for c in f.values() for k in c]
        publishing = {}
        for p in self.parts:
            if p.up_ms is not None and p.unpublished_ms is not None:
                publishing[p.display] = round((p.unpublished_ms - p.up_ms) / 1000.0, 3)
        return {
            "ok": not self.errors,
            "url": self.args.url,
            "room": self.args.room,
            "seconds": self.args.seconds,
            "window_s": round(self.window or 0.0, 3),
            "publishers_up": sum(1 for p in self.parts if p.pub and "webrtcup" in p.pub.first),
            "subscribers_up": sum(1 for p in self.parts if p.sub and "webrtcup" in p.sub.first),
            "publisher_ids": {p.display: p.feed for p in self.parts},
            "publishing_s": publishing,
            "webrtcup_ms": {n: h["webrtcup_ms"] for n, h in handles.items()},
            "frames": frames,
            "frames_needed": need,
            "min_frames": {k: min((c[k] for f in frames.values() for c in f.values()),
                                  default=0) for k in RATES} if counts else {},
            "timings_ms": self.timings,
            "handles": handles,
            "stray_events": self.stray[:20],
            "poll_errors": sum(p.session.janus.poll_errors for p in self.parts),
            "errors": self.errors,
        }

    def raw_events(self):
        """Every event of every handle as received, for --raw."""
        return {h.name: [{"ms": ms, "event": ev} for ms, ev in h.raw]
                for p in self.parts for h in (p.pub, p.sub) if h}


async def run(args):
    room = RoomRun(args)
    try:
        await asyncio.wait_for(room.flow(), args.seconds + 60)
    except Exception as e:  # every failure ends up in the summary, teardown still runs
        room.errors.append("%s: %s" % (type(e).__name__, e))
    try:
        await asyncio.wait_for(room.teardown(), 60)
    except Exception as e:
        room.errors.append("teardown: %s: %s" % (type(e).__name__, e))
    await asyncio.gather(*(asyncio.to_thread(s.join_poller) for s in room.sessions))
    if args.raw:
        with open(args.raw, "w") as f:
            json.dump(room.raw_events(), f, indent=1)
    return room.summary(room.check())


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8188/janus")
    p.add_argument("--room", type=int, required=True)
    p.add_argument("--create", action="store_true", help="create ROOM (record: true)")
    p.add_argument("--rec-dir", help="rec_dir of the created room")
    p.add_argument("--publishers", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20.0)
    p.add_argument("--json", metavar="OUT", help="also write the summary to OUT")
    p.add_argument("--display-prefix", default="vr")
    p.add_argument("--raw", metavar="OUT", help="write every event received to OUT (JSON)")
    args = p.parse_args()
    if args.publishers < 2:
        p.error("--publishers must be at least 2 (they subscribe to each other)")
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
