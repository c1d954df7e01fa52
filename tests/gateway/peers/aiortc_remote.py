"""VideoRoom cascading with real peers: an aiortc publisher on instance A is remotized to a remote
publisher of instance B, where an aiortc subscriber decodes it; over the REST APIs of both.

usage: /usr/bin/python3 aiortc_remote.py --url-a URL --url-b URL --target janus|verbatim
                                         [--room-a N] [--room-b N] [--rec-dir DIR]
                                         [--ask-keyframe] [--seconds S] [--json OUT]

Run it inside the namespace of netns.sh (ICE only on 127.0.0.2; the instances talk RTP over the
namespace's 127.0.0.1). The flow:
  publish    on A, a control session creates ROOM_A (Opus, VP8); "casc-pub" joins and publishes
             aiortc_echo's tone and bars (sendonly, candidates in the SDP) until webrtcup; the
             `configured` event gives its streams;
  remote     on B, a control session creates ROOM_B (record: true, rec_dir DIR when given) and
             adds a remote publisher described by those streams (add_remote_publisher, bound to
             127.0.0.1 with `iface`, so that both servers say which address: "ip");
  subscribe  on B, "casc-sub" joins ROOM_B as a subscriber of the remote publisher (the
             `attached` offer, a recvonly answer with `start`), up to webrtcup;
  cascade    on A, publish_remotely sends the publisher to B's ports (host, port, rtcp_port of
             the add_remote_publisher reply); then S seconds during which the subscriber must
             decode 60% of the audio (50/s) and video (30/s) frames, after a start allowance
             (our server asks the publisher for a keyframe when the remotization starts, and
             asks the source when it learns its RTCP address; two real Janus do neither, so with
             --ask-keyframe the publisher is asked with a `configure` keyframe);
  stop       unpublish_remotely on A, remove_remote_publisher on B (the subscriber gets an
             `updated` offer without the feed), then everyone leaves.
Every reply of the cascading requests (and listremotes, listparticipants, listforwarders) must
equal what real Janus 1.1.2 answers, ids and ports normalized (EXPECTED_* below, which is how
they were taken: run with --target janus against two real Janus instances).
Prints a JSON summary (also to --json OUT) with the remote publisher's id and the media window
(publish_remotely to unpublish_remotely, seconds) for checking B's recordings; exit 1 when any
check failed.

Safety as in aiortc_echo.py, whose host-address override, SDP filter and tracks this imports.
"""
import argparse
import asyncio
import json
import os
import sys
import time

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aiortc_echo as echo  # noqa: E402  (also confines aioice to the namespace address)
import aiortc_forward as forward  # noqa: E402

PLUGIN = "janus.plugin.videoroom"
RATES = {"audio": 50.0, "video": 30.0}  # frames/s of ToneTrack (20 ms) and BarsTrack
MIN_SHARE = 0.6
START_ALLOWANCE_S = 1.5  # first keyframe, jitter buffers
STEP_TIMEOUT_S = 10.0


class Client(forward.Client):
    """aiortc_forward.py's client (one Janus session, one VideoRoom handle) on a given server."""

    step_timeout = STEP_TIMEOUT_S

    def __init__(self, run, url, name):
        super().__init__(run, name, url)


class Run:
    def __init__(self, args):
        self.args = args
        self.t0 = time.monotonic()
        self.errors, self.checks = [], []
        self.names = {}  # int -> its name in normalized replies
        self.replies = {}
        self.clients = []
        self.frames = {"audio": 0, "video": 0}
        self.counting = False
        self.tasks = []
        self.window = None
        self.remote_id = None

    def check(self, ok, what):
        (self.checks if ok else self.errors).append(what)

    def normalize(self, value):
        if isinstance(value, dict):
            return {k: self.normalize(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.normalize(v) for v in value]
        if isinstance(value, int) and not isinstance(value, bool) and value in self.names:
            return self.names[value]
        return value

    def expect(self, name, got, want):
        got = self.normalize(got)
        self.replies[name] = got
        ok = got == want
        self.check(ok, "%s: %s" % (name, "as Janus" if ok else "%s (want %s)" % (
            json.dumps(got), json.dumps(want))))

    async def client(self, url, name):
        c = Client(self, url, name)
        self.clients.append(c)
        await c.start()
        return c

    async def publish(self):
        a = self.args
        ctl = await self.client(a.url_a, "a-control")
        data = await ctl.sync({"request": "create", "room": a.room_a, "publishers": 4,
                               "audiocodec": "opus", "videocodec": "vp8"})
        if data.get("videoroom") != "created":
            raise RuntimeError("create on A: %s" % data)
        self.names[a.room_a] = "RA"
        pub = await self.client(a.url_a, "casc-pub")
        ev = await pub.message({"request": "join", "room": a.room_a, "ptype": "publisher",
                                "display": "casc-pub"})
        self.names[ev["plugindata"]["data"]["id"]] = "PID"
        pc = pub.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(echo.ToneTrack(), direction="sendonly")
        pc.addTransceiver(echo.BarsTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        jsep = {"type": "offer", "sdp": pc.localDescription.sdp, "trickle": False}
        ev = await pub.message({"request": "publish"}, jsep)
        sdp, _ = echo.filter_sdp((ev.get("jsep") or {}).get("sdp", ""))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        if not await pub.wait_flag("webrtcup", STEP_TIMEOUT_S):
            raise RuntimeError("publisher: no webrtcup (ICE %s)" % pc.iceConnectionState)
        streams = ev["plugindata"]["data"].get("streams") or []
        self.check(len(streams) == 2, "publisher's streams: %s" % json.dumps(streams))
        return ctl, pub, streams

    async def remote(self, streams):
        """B's room and remote publisher; the add_remote_publisher reply."""
        a = self.args
        ctl = await self.client(a.url_b, "b-control")
        create = {"request": "create", "room": a.room_b, "publishers": 4, "record": True,
                  "audiocodec": "opus", "videocodec": "vp8"}
        if a.rec_dir:
            create["rec_dir"] = a.rec_dir
        data = await ctl.sync(create)
        if data.get("videoroom") != "created":
            raise RuntimeError("create on B: %s" % data)
        self.names[a.room_b] = "RB"
        desc = [{k: s[k] for k in ("type", "mindex", "mid", "codec", "fec") if k in s}
                for s in streams]
        reply = await ctl.sync({"request": "add_remote_publisher", "room": a.room_b,
                                "display": "casc-pub", "iface": "127.0.0.1", "streams": desc})
        self.remote_id = reply.get("id")
        for key, name in (("id", "RID"), ("port", "PORT"), ("rtcp_port", "RTCP")):
            if isinstance(reply.get(key), int):
                self.names[reply[key]] = name
        self.expect("add_remote_publisher", reply,
                    {"videoroom": "success", "room": "RB", "id": "RID", "ip": "127.0.0.1",
                     "port": "PORT", "rtcp_port": "RTCP"})
        got = await ctl.sync({"request": "listparticipants", "room": a.room_b})
        self.expect("listparticipants on B", got, {
            "videoroom": "participants", "room": "RB", "participants": [
                {"id": "RID", "display": "casc-pub", "remote": True, "publisher": True}]})
        return ctl, reply

    async def subscribe(self, rid):
        sub = await self.client(self.args.url_b, "casc-sub")
        pc = sub.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        kinds = {}

        @pc.on("track")
        def on_track(track):
            kinds[track.kind] = True
            self.tasks.append(asyncio.ensure_future(self.count(track)))

        ev = await sub.message({"request": "join", "room": self.args.room_b,
                                "ptype": "subscriber", "streams": [{"feed": rid}]})
        data = ev["plugindata"]["data"]
        feeds = sorted((s.get("type"), s.get("feed_id") == rid, s.get("feed_mid"), s.get("codec"))
                       for s in data.get("streams") or [])
        self.check(feeds == [("audio", True, "0", "opus"), ("video", True, "1", "vp8")],
                   "attached to the remote feed's streams: %s" % feeds)
        offer = ev.get("jsep") or {}
        sdp, _ = echo.filter_sdp(offer.get("sdp", ""))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        await pc.setLocalDescription(await pc.createAnswer())
        jsep = {"type": "answer", "sdp": pc.localDescription.sdp, "trickle": False}
        await sub.message({"request": "start"}, jsep)
        if not await sub.wait_flag("webrtcup", STEP_TIMEOUT_S):
            raise RuntimeError("subscriber: no webrtcup (ICE %s)" % pc.iceConnectionState)
        return sub

    async def count(self, track):
        try:
            while True:
                await track.recv()
                if self.counting:
                    self.frames[track.kind] += 1
        except MediaStreamError:
            pass

    async def cascade(self, actl, pub, bctl, added):
        a = self.args
        ids = {v: k for k, v in self.names.items()}
        body = {"request": "publish_remotely", "room": a.room_a, "publisher_id": ids["PID"],
                "remote_id": "to-b", "host": added.get("ip", "127.0.0.1"),
                "port": added["port"], "rtcp_port": added["rtcp_port"]}
        start = time.monotonic()
        got = await actl.sync(body)
        self.expect("publish_remotely", got, {"videoroom": "success", "room": "RA", "id": "PID",
                                              "remote_id": "to-b"})
        got = await actl.sync({"request": "listremotes", "room": a.room_a,
                               "publisher_id": ids["PID"]})
        self.expect("listremotes", got, {"videoroom": "success", "room": "RA", "id": "PID",
                                         "list": [{"remote_id": "to-b", "host": "127.0.0.1",
                                                   "port": "PORT", "rtcp_port": "RTCP"}]})
        if a.ask_keyframe:  # real Janus on both sides: nobody asks the publisher for one
            await pub.message({"request": "configure", "keyframe": True})
        got = await actl.sync({"request": "listforwarders", "room": a.room_a})
        self.expect("listforwarders on A", got, {
            "videoroom": "forwarders", "room": "RA", "publishers": [
                {"publisher_id": "PID", "display": "casc-pub", "forwarders": []}]})
        await asyncio.sleep(START_ALLOWANCE_S)
        self.counting = True
        await asyncio.sleep(a.seconds)
        self.counting = False
        need = {k: int(MIN_SHARE * r * a.seconds) for k, r in RATES.items()}
        for kind in ("audio", "video"):
            self.check(self.frames[kind] >= need[kind],
                       "%s frames decoded on B in %g s: %d (need %d)" % (
                           kind, a.seconds, self.frames[kind], need[kind]))
        got = await actl.sync({"request": "unpublish_remotely", "room": a.room_a,
                               "publisher_id": ids["PID"], "remote_id": "to-b"})
        self.window = time.monotonic() - start
        self.expect("unpublish_remotely", got, {"videoroom": "success", "room": "RA",
                                                "id": "PID"})
        got = await actl.sync({"request": "listremotes", "room": a.room_a,
                               "publisher_id": ids["PID"]})
        self.expect("listremotes after", got, {"videoroom": "success", "room": "RA",
                                               "id": "PID", "list": []})
        got = await bctl.sync({"request": "remove_remote_publisher", "room": a.room_b,
                               "id": ids["RID"]})
        self.expect("remove_remote_publisher", got, {"videoroom": "success"})

    async def flow(self):
        actl, pub, streams = await self.publish()
        bctl, added = await self.remote(streams)
        sub = await self.subscribe(added["id"])
        await self.cascade(actl, pub, bctl, added)
        ev = await sub.wait_note("videoroom", 3)  # the `updated` offer without the feed
        data = (ev or {}).get("plugindata", {}).get("data", {})
        self.check(data.get("videoroom") == "updated" and all(
            not s.get("active", True) or s.get("feed_id") is None
            for s in data.get("streams") or []),
            "subscriber told the feed went: %s" % json.dumps(data)[:200])
        got = await bctl.sync({"request": "listparticipants", "room": self.args.room_b})
        self.expect("listparticipants on B after", got, {"videoroom": "participants",
                                                         "room": "RB", "participants": []})
        await pub.message({"request": "leave"})

    async def teardown(self):
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        for c in self.clients:
            if c.janus.sid is not None:
                await c.close()


async def run(args):
    r = Run(args)
    try:
        await asyncio.wait_for(r.flow(), 60)
    except Exception as e:  # every failure ends up in the summary; teardown still runs
        r.errors.append("%s: %s" % (type(e).__name__, e))
    await r.teardown()
    return {"ok": not r.errors, "target": args.target, "checks": r.checks, "errors": r.errors,
            "replies": r.replies, "frames": r.frames, "remote_id": r.remote_id,
            "window_s": round(r.window, 2) if r.window else None}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url-a", required=True)
    p.add_argument("--url-b", required=True)
    p.add_argument("--target", choices=("janus", "verbatim"), required=True)
    p.add_argument("--room-a", type=int, default=5101)
    p.add_argument("--room-b", type=int, default=5202)
    p.add_argument("--rec-dir")
    p.add_argument("--ask-keyframe", action="store_true")
    p.add_argument("--seconds", type=float, default=8.0)
    p.add_argument("--json", metavar="OUT")
    args = p.parse_args()
    result = asyncio.run(run(args))
    text = json.dumps(result, indent=1)
    if args.json:
        with open(args.json, "w") as f:
            f.write(text + "\n")
    print(text)
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
