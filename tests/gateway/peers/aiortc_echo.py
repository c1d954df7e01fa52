"""EchoTest client on aiortc: one WebRTC echo through a Janus-compatible server's REST API.

usage: /usr/bin/python3 aiortc_echo.py [--url URL] [--video vp8|h264] [--trickle]
                                       [--seconds N] [--min-audio-fps F] [--min-video-fps F]

Run it inside the namespace of netns.sh (ICE only on 127.0.0.2). The flow is janus.js's over
HTTP: create, a long-poll thread (GET /janus/<session>?maxev=10), attach janus.plugin.echotest,
an offer with Opus audio and VP8 (or H.264 forced on the transceiver) video, the message
{"audio":true,"video":true} with the offer, the answer from the plugin's event. Half-trickle:
by default the offer carries our candidates (aiortc gathers before the offer is ready);
--trickle strips them from the SDP and sends them in `trickle` requests, then
{"completed":true}. Then webrtcup, the `media` events, N seconds of decoded frames counted on
the echoed tracks (`track.recv()`), slowlink/hangup events read along the way; hangup, detach,
destroy. Prints a JSON summary on stdout and exits 1 when anything is missing: no webrtcup, no
media events, too few frames, the wrong codec, echoed video of another size, a failed request.

Safety: aioice's host address lookup is replaced to give only 127.0.0.2, there are no ICE
servers, and every remote candidate outside 127.0.0.0/8 (or not UDP) is dropped before aiortc
sees it, so a server bug can never make this client send anywhere else.
"""
import argparse
import asyncio
import fractions
import ipaddress
import json
import random
import string
import sys
import threading
import time

import aioice.ice
import av
import numpy
import requests
from aiortc import (RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription,
                    VideoStreamTrack)
from aiortc.mediastreams import MediaStreamError, MediaStreamTrack
from aiortc.sdp import candidate_from_sdp

ICE_ADDR = "127.0.0.2"
LOOPBACK = ipaddress.ip_network("127.0.0.0/8")
PLUGIN = "janus.plugin.echotest"
WIDTH, HEIGHT = 320, 240


def only_namespace_address(use_ipv4=True, use_ipv6=True):
    """Replaces aioice's interface scan: the veth address of the test namespace, nothing else."""
    return [ICE_ADDR] if use_ipv4 else []


aioice.ice.get_host_addresses = only_namespace_address
av.logging.set_level(av.logging.ERROR)  # no libx264 statistics on stderr


class ToneTrack(MediaStreamTrack):
    """A 440 Hz tone, 20 ms frames of 48 kHz mono, paced in real time."""

    kind = "audio"

    def __init__(self):
        super().__init__()
        t = numpy.arange(960) / 48000.0
        self.samples = (numpy.sin(2 * numpy.pi * 440 * t) * 8000).astype(numpy.int16)
        self.pts = None
        self.start = 0.0

    async def recv(self):
        if self.readyState != "live":
            raise MediaStreamError
        if self.pts is None:
            self.start, self.pts = time.time(), 0
        else:
            self.pts += 960
            await asyncio.sleep(self.start + self.pts / 48000.0 - time.time())
        frame = av.AudioFrame.from_ndarray(self.samples.reshape(1, -1), format="s16",
                                           layout="mono")
        frame.sample_rate = 48000
        frame.pts = self.pts
        frame.time_base = fractions.Fraction(1, 48000)
        return frame


class BarsTrack(VideoStreamTrack):
    """Moving grey bars, 320x240 at 30 fps (a precomputed loop of 30 frames)."""

    def __init__(self):
        super().__init__()
        self.frames = []
        x = numpy.arange(WIDTH)
        for i in range(30):
            luma = ((x + i * 8) // 40 % 2 * 160 + 40).astype(numpy.uint8)
            yuv = numpy.empty((HEIGHT * 3 // 2, WIDTH), numpy.uint8)
            yuv[:HEIGHT] = luma
            yuv[HEIGHT:] = 128
            self.frames.append(yuv)
        self.n = 0

    async def recv(self):
        pts, time_base = await self.next_timestamp()
        frame = av.VideoFrame.from_ndarray(self.frames[self.n % 30], format="yuv420p")
        frame.pts, frame.time_base = pts, time_base
        self.n += 1
        return frame


def loopback_candidate(line):
    """True for a candidate attribute value (`candidate:...`) that is UDP on 127.0.0.0/8."""
    parts = line.split()
    if len(parts) < 8 or parts[2].lower() != "udp":
        return False
    try:
        return ipaddress.ip_address(parts[4]) in LOOPBACK
    except ValueError:  # a hostname (mDNS) or garbage
        return False


def filter_sdp(sdp):
    """The SDP without the candidates this client must never use, and how many were dropped."""
    out, dropped = [], 0
    for line in sdp.splitlines():
        if line.startswith("a=candidate:") and not loopback_candidate(line[2:]):
            dropped += 1
            continue
        out.append(line)
    return "\r\n".join(out) + "\r\n", dropped


def strip_candidates(sdp):
    """For trickle: the SDP without candidates, and the first m-section's candidate lines."""
    out, cands, section = [], [], -1
    for line in sdp.splitlines():
        if line.startswith("m="):
            section += 1
        if line.startswith("a=candidate:"):
            if section == 0:
                cands.append(line[2:])
            continue
        if line.startswith("a=end-of-candidates"):
            continue
        out.append(line)
    return "\r\n".join(out) + "\r\n", cands


def sdp_codecs(sdp):
    """{kind: "NAME/RATE[/CH]"} of the first payload type of each m-section of an SDP."""
    codecs, kind, first = {}, None, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            f = line[2:].split()
            kind, first = f[0], (f[3] if len(f) > 3 else None)
        elif line.startswith("a=rtpmap:") and kind and kind not in codecs:
            pt, _, name = line[9:].partition(" ")
            if pt == first:
                codecs[kind] = name
    return codecs


def sdp_mids(sdp):
    """The a=mid of each m-section, in order."""
    return [line[6:] for line in sdp.splitlines() if line.startswith("a=mid:")]


def new_transaction():
    return "".join(random.choices(string.ascii_letters, k=12))


class Janus:
    """The REST API of one session: requests, plus a long-poll thread feeding an asyncio queue."""

    def __init__(self, url, loop, t0):
        self.url, self.loop, self.t0 = url.rstrip("/"), loop, t0
        self.http = requests.Session()
        self.queue = asyncio.Queue()
        self.sid = None
        self.stopping = threading.Event()
        self.thread = None
        self.poll_errors = 0

    def ms(self):
        return round((time.monotonic() - self.t0) * 1000, 1)

    def post(self, path, body, tx=None):
        """One request; its reply (error replies and a foreign transaction raise)."""
        body = dict(body)
        body["transaction"] = tx or new_transaction()
        r = self.http.post(self.url + path, data=json.dumps(body), timeout=10)
        if r.status_code != 200:
            raise RuntimeError("%s %s: HTTP %d" % (body["janus"], path, r.status_code))
        reply = r.json()
        if reply.get("janus") == "error":
            raise RuntimeError("%s %s: %s" % (body["janus"], path, reply.get("error")))
        if reply.get("transaction") != body["transaction"]:
            raise RuntimeError("%s: reply with another transaction: %s" % (body["janus"], reply))
        return reply

    async def request(self, path, body, tx=None):
        return await asyncio.to_thread(self.post, path, body, tx)

    def poll_loop(self):
        poller = requests.Session()
        while not self.stopping.is_set():
            try:
                r = poller.get("%s/%d?maxev=10&rid=%d" % (self.url, self.sid, time.time() * 1000),
                               timeout=40)
                events = r.json() if r.status_code == 200 else None
            except (requests.RequestException, ValueError):
                events = None
            if isinstance(events, dict) and events.get("janus") == "error":
                events = None
            if events is None:  # counted, and no busy loop against a failing server
                if self.stopping.is_set():
                    break
                self.poll_errors += 1
                time.sleep(0.2)
                continue
            for ev in events if isinstance(events, list) else [events]:
                if not isinstance(ev, dict):
                    continue
                try:
                    self.loop.call_soon_threadsafe(self.queue.put_nowait, (self.ms(), ev))
                except RuntimeError:  # the run is over and its loop closed
                    return

    def start_polling(self):
        self.thread = threading.Thread(target=self.poll_loop, name="long-poll", daemon=True)
        self.thread.start()

    def stop_polling(self):
        self.stopping.set()
        if self.thread:
            self.thread.join(timeout=1.0)


# REMB packets aiortc's senders receive (the EchoTest's `bitrate` cap), observed by wrapping
# the sender's RTCP handler; [bitrate, ...] in arrival order.
REMB_SEEN = []
_sender_rtcp = RTCRtpSender._handle_rtcp_packet


async def _observe_rtcp(self, packet):
    from aiortc.rtp import RTCP_PSFB_APP, RtcpPsfbPacket, unpack_remb_fci
    if isinstance(packet, RtcpPsfbPacket) and packet.fmt == RTCP_PSFB_APP:
        try:
            REMB_SEEN.append(unpack_remb_fci(packet.fci)[0])
        except ValueError:
            pass
    return await _sender_rtcp(self, packet)


RTCRtpSender._handle_rtcp_packet = _observe_rtcp


class EchoRun:
    """One echo: the flow, what was seen, and the checks."""

    def __init__(self, args):
        self.args = args
        self.t0 = time.monotonic()
        self.janus = Janus(args.url, asyncio.get_running_loop(), self.t0)
        self.events = []  # every event from the long poll, in order, with its time
        self.first = {}  # janus event name -> ms of its first arrival
        self.errors = []
        self.timings = {}
        self.waiters = {}  # transaction -> future of the plugin event
        self.seen = {}  # janus event name -> asyncio.Event
        self.media = {}  # kind -> ms of the first media receiving:true
        self.frames = {"audio": 0, "video": 0}
        self.window = {"audio": 0, "video": 0}
        self.counting = False
        self.video_sizes = set()
        self.pc = None
        self.hid = None
        self.remote_set = False
        self.pending_cands = []
        self.dropped = 0
        self.tasks = []

    def flag(self, name):
        return self.seen.setdefault(name, asyncio.Event())

    def mark(self, name):
        self.timings[name] = self.janus.ms()

    async def dispatch(self):
        while True:
            ms, ev = await self.janus.queue.get()
            kind = ev.get("janus")
            brief = {"ms": ms, "janus": kind}
            for key in ("type", "receiving", "mid", "uplink", "lost", "reason", "media",
                        "candidate"):
                if key in ev:
                    brief[key] = ev[key]
            if kind == "event":
                brief["data"] = ev.get("plugindata", {}).get("data")
                fut = self.waiters.pop(ev.get("transaction"), None)
                if fut and not fut.done():
                    fut.set_result(ev)
            elif kind == "media" and ev.get("receiving") and ev.get("type") not in self.media:
                self.media[ev.get("type")] = ms
            elif kind == "trickle":
                try:
                    await self.remote_trickle(ev.get("candidate"))
                except Exception as e:  # a bad candidate is the server's fault: noted, not fatal
                    self.errors.append("trickled candidate %s: %s" % (ev.get("candidate"), e))
            if kind != "keepalive":
                self.events.append(brief)
                self.first.setdefault(kind, ms)
            self.flag(kind).set()

    async def remote_trickle(self, cand):
        """A candidate the server trickles to us: filtered like those in its SDP."""
        if not isinstance(cand, dict):
            return
        if not self.remote_set:
            self.pending_cands.append(cand)
            return
        if cand.get("completed"):
            ice = {t.sender.transport.transport for t in self.pc.getTransceivers()}
            for transport in ice:  # one when bundled
                await transport.addRemoteCandidate(None)
            return
        line = cand.get("candidate", "")
        if line.startswith("a="):
            line = line[2:]
        if not loopback_candidate(line):
            self.dropped += 1
            return
        c = candidate_from_sdp(line.split(":", 1)[1])
        c.sdpMid, c.sdpMLineIndex = cand.get("sdpMid"), cand.get("sdpMLineIndex")
        if c.sdpMid is None:
            # Janus trickles sdpMLineIndex only, and aiortc matches candidates by mid.
            mids = sdp_mids(self.pc.remoteDescription.sdp)
            if isinstance(c.sdpMLineIndex, int) and 0 <= c.sdpMLineIndex < len(mids):
                c.sdpMid = mids[c.sdpMLineIndex]
        await self.pc.addIceCandidate(c)

    async def count_frames(self, track):
        try:
            while True:
                frame = await track.recv()
                self.frames[track.kind] += 1
                if self.counting:
                    self.window[track.kind] += 1
                if track.kind == "video":
                    self.video_sizes.add("%dx%d" % (frame.width, frame.height))
        except MediaStreamError:
            pass

    async def wait_flag(self, name, timeout):
        try:
            await asyncio.wait_for(self.flag(name).wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def make_pc(self):
        pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(ToneTrack(), direction="sendrecv")
        video = pc.addTransceiver(BarsTrack(), direction="sendrecv")
        if self.args.video == "h264":
            caps = RTCRtpSender.getCapabilities("video").codecs
            video.setCodecPreferences(
                [c for c in caps if c.mimeType in ("video/H264", "video/rtx")])

        @pc.on("track")
        def on_track(track):
            self.tasks.append(asyncio.ensure_future(self.count_frames(track)))

        return pc

    async def offer(self):
        """Sends the offer (with or without candidates) and returns the plugin's answer."""
        offer = await self.pc.createOffer()
        await self.pc.setLocalDescription(offer)
        sdp = self.pc.localDescription.sdp
        local = [ln[2:] for ln in sdp.splitlines() if ln.startswith("a=candidate:")]
        self.local_candidates = sorted({" ".join(c.split()[4:6]) for c in local})
        if any(not c.startswith(ICE_ADDR + " ") for c in self.local_candidates):
            self.errors.append("local candidates outside %s: %s" % (ICE_ADDR,
                                                                     self.local_candidates))
        self.mark("offer_ready")
        jsep = {"type": "offer", "sdp": sdp, "trickle": False}
        cands = []
        if self.args.trickle:
            stripped, cands = strip_candidates(sdp)
            jsep = {"type": "offer", "sdp": stripped}
        body = {"audio": True, "video": True}
        if self.args.record:
            body.update({"record": True, "filename": self.args.record})
        if getattr(self.args, "bitrate", None):
            body["bitrate"] = self.args.bitrate
        msg = {"janus": "message", "body": body, "jsep": jsep}
        fut = asyncio.get_running_loop().create_future()
        path = "/%d/%d" % (self.janus.sid, self.hid)
        ack = await self.request_event(path, msg, fut)
        if ack.get("janus") != "ack":
            self.errors.append("message: expected ack, got %s" % ack.get("janus"))
        mid0 = sdp_mids(sdp)[0]
        for c in cands:
            await self.janus.request(path, {"janus": "trickle", "candidate": {
                "candidate": c, "sdpMid": mid0, "sdpMLineIndex": 0}})
        if self.args.trickle:
            await self.janus.request(path, {"janus": "trickle", "candidate": {"completed": True}})
            self.mark("trickle_done")
        ev = await asyncio.wait_for(fut, 10)
        self.mark("answer")
        return ev

    async def request_event(self, path, msg, fut):
        """Posts msg with a transaction whose event is awaited by fut, registered before the
        request goes out so that the event cannot come first."""
        tx = new_transaction()
        self.waiters[tx] = fut
        return await self.janus.request(path, msg, tx)

    async def flow(self):
        a = self.args
        j = self.janus
        reply = await j.request("", {"janus": "create"})
        j.sid = reply["data"]["id"]
        self.mark("create")
        j.start_polling()
        self.tasks.append(asyncio.ensure_future(self.dispatch()))
        reply = await j.request("/%d" % j.sid, {"janus": "attach", "plugin": PLUGIN})
        self.hid = reply["data"]["id"]
        self.mark("attach")
        self.pc = self.make_pc()
        ev = await self.offer()
        data = ev.get("plugindata", {}).get("data", {})
        jsep = ev.get("jsep")
        if data.get("result") != "ok" or not isinstance(jsep, dict) or jsep.get("type") != "answer":
            raise RuntimeError("no answer from the plugin: %s" % json.dumps(ev)[:400])
        sdp, self.dropped = filter_sdp(jsep["sdp"])
        self.codecs = sdp_codecs(sdp)
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self.remote_set = True
        for cand in self.pending_cands:
            await self.remote_trickle(cand)
        if not await self.wait_flag("webrtcup", 10):
            raise RuntimeError("no webrtcup within 10 s (ICE %s, connection %s)" % (
                self.pc.iceConnectionState, self.pc.connectionState))
        self.timings["webrtcup"] = self.first["webrtcup"]
        deadline = time.monotonic() + 5
        while len(self.media) < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        self.counting = True
        await asyncio.sleep(a.seconds)
        self.counting = False

    async def teardown(self):
        """hangup, detach, destroy: each tried whatever happened before, each checked."""
        j = self.janus
        if self.hid is not None:
            path = "/%d/%d" % (j.sid, self.hid)
            for verb, event in (("hangup", "hangup"), ("detach", "detached")):
                try:
                    await j.request(path, {"janus": verb})
                    if not await self.wait_flag(event, 3):
                        self.errors.append("no %s event after %s" % (event, verb))
                except (RuntimeError, requests.RequestException) as e:
                    self.errors.append(str(e))
        if j.sid is not None:
            try:
                await j.request("/%d" % j.sid, {"janus": "destroy"})
            except (RuntimeError, requests.RequestException) as e:
                self.errors.append(str(e))
        j.stop_polling()
        if self.pc:
            await self.pc.close()
        for t in self.tasks:
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)

    def check(self):
        a = self.args
        want = {"audio": "opus/48000/2", "video": "VP8/90000" if a.video == "vp8" else "H264/90000"}
        got = getattr(self, "codecs", {})
        for kind, name in want.items():
            if got.get(kind, "").lower() != name.lower():
                self.errors.append("%s codec: expected %s, negotiated %s" % (kind, name,
                                                                            got.get(kind)))
        for kind in ("audio", "video"):
            if kind not in self.media:
                self.errors.append("no media event with receiving=true for %s" % kind)
        for kind, fps in (("audio", a.min_audio_fps), ("video", a.min_video_fps)):
            need = int(fps * a.seconds)
            if self.window[kind] < need:
                self.errors.append("%s: %d frames decoded in %g s, expected at least %d" % (
                    kind, self.window[kind], a.seconds, need))
        want = getattr(self.args, "bitrate", None)
        if want and not REMB_SEEN:
            self.errors.append("asked for a %d bit/s cap, no REMB received" % want)
        elif want and abs(REMB_SEEN[-1] - want) > 0.01 * want:
            self.errors.append("REMB of %d bit/s, asked for %d" % (REMB_SEEN[-1], want))
        if self.video_sizes and self.video_sizes != {"%dx%d" % (WIDTH, HEIGHT)}:
            self.errors.append("echoed video sizes %s, sent %dx%d" % (sorted(self.video_sizes),
                                                                     WIDTH, HEIGHT))

    def summary(self):
        return {
            "ok": not self.errors,
            "url": self.args.url,
            "video": self.args.video,
            "trickle": self.args.trickle,
            "seconds": self.args.seconds,
            "webrtcup_ms": self.timings.get("webrtcup"),
            "timings_ms": self.timings,
            "media_event_ms": self.media,
            "codecs": getattr(self, "codecs", {}),
            "frames": self.window,
            "frames_total": self.frames,
            "video_sizes": sorted(self.video_sizes),
            "local_candidates": getattr(self, "local_candidates", []),
            "remote_candidates_dropped": self.dropped,
            "events_seen": sorted({e["janus"] for e in self.events}),
            "slowlink_events": sum(e["janus"] == "slowlink" for e in self.events),
            "remb": {"count": len(REMB_SEEN), "last_bitrate": REMB_SEEN[-1] if REMB_SEEN else None},
            "events": self.events,
            "poll_errors": self.janus.poll_errors,
            "errors": self.errors,
        }


async def run(args):
    echo = EchoRun(args)
    try:
        await asyncio.wait_for(echo.flow(), args.seconds + 30)
    except Exception as e:  # every failure ends up in the summary, teardown still runs
        echo.errors.append("%s: %s" % (type(e).__name__, e))
    await echo.teardown()
    echo.check()
    return echo.summary()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8188/janus")
    p.add_argument("--video", choices=("vp8", "h264"), default="vp8")
    p.add_argument("--trickle", action="store_true")
    p.add_argument("--record", metavar="NAME", help="ask the EchoTest to record, files NAME-*")
    p.add_argument("--bitrate", type=int, help="ask the EchoTest for this REMB cap (bit/s)")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--min-audio-fps", type=float, default=25.0)
    p.add_argument("--min-video-fps", type=float, default=10.0)
    args = p.parse_args()
    result = asyncio.run(run(args))
    print(json.dumps(result, indent=1))
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
