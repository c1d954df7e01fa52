"""VideoRoom RTP forwarders with a real publisher: aiortc publishes Opus + VP8 in a room, and the
room's rtp_forward sends its streams as plain RTP to UDP ports on 127.0.0.1 (this process's
sockets, and an ffmpeg that decodes them), over the REST API.

usage: /usr/bin/python3 aiortc_forward.py --url URL --target janus|verbatim [--room ROOM]
                                          [--json OUT]

Run it inside the namespace of netns.sh (ICE only on 127.0.0.2; forwarded media only to
127.0.0.1 of the namespace). The flow:
  setup      a control session creates ROOM (secret, Opus, VP8); "fwd-pub" joins and publishes
             an offer (aiortc_echo's tone and bars, sendonly, candidates in the SDP) until
             webrtcup; "fwd-other" joins and never publishes;
  requests   a table of rtp_forward / stop_rtp_forward / listforwarders requests whose replies
             must equal what real Janus 1.1.2 answers (EXPECTED, ids and ports normalized), and
             a few that only our server answers differently on purpose (VERBATIM_ONLY: hosts
             off the machine and ports Janus would truncate are refused);
  forward    four forwarders: audio as received, video with SSRC and payload type rewritten and
             an rtcp_port, and audio + video to ffmpeg, which must decode 30 video frames from
             an SDP describing them;
  media      every forwarded packet has the payload type and SSRC it should; the RTCP port got
             the two "latching" packets; a PLI sent to local_rtcp_port brings a VP8 keyframe
             within 1.5 s when none came in the 1.5 s before (our server also asks for one when
             the forwarder is created: checked with --target verbatim only);
  stop       stop_rtp_forward ends that forwarder's packets, the others go on; unpublish ends
             them all (listforwarders then still names the publisher, with no forwarders, as
             Janus 1.1.2 does) and leave takes it off the list.
Prints a JSON summary (also to --json OUT); exit 1 when any check failed.

Safety as in aiortc_echo.py, whose host-address override, SDP filter and tracks this imports.
"""
import argparse
import asyncio
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aiortc_echo as echo  # noqa: E402  (also confines aioice to the namespace address)

PLUGIN = "janus.plugin.videoroom"
SECRET = "fwd-secret"
VIDEO_SSRC = 0x1234ABCD
VIDEO_PT = 100  # the rewritten payload type of the checked video forwarder
FF_AUDIO_PT, FF_VIDEO_PT = 111, 96  # what the ffmpeg forwarders send
FF_FRAMES = 30
FF_TIMEOUT_S = 20.0

# Requests sent before the publisher publishes ("R" = ROOM, "PID"/"OID" = the participants) and
# the replies real Janus 1.1.2 gives, normalized (see Run.normalize).
EXPECTED = [
    ({"request": "rtp_forward"},
     {"videoroom": "event", "error_code": 429, "error": "Missing mandatory element (host)"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R"},
     {"videoroom": "event", "error_code": 429,
      "error": "Missing mandatory element (publisher_id)"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID"},
     {"videoroom": "event", "error_code": 429, "error": "Missing mandatory element (secret)"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID",
      "secret": "nope"},
     {"videoroom": "event", "error_code": 433, "error": "Unauthorized (wrong secret)"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": 4242,
      "secret": SECRET},
     {"videoroom": "event", "error_code": 428, "error": "No such feed (4242)"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID",
      "secret": SECRET, "host_family": "ipv6"},
     {"videoroom": "event", "error_code": 430,
      "error": "Could not resolve address (127.0.0.1)..."}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID",
      "secret": SECRET, "streams": [{"mid": "0"}]},
     {"videoroom": "event", "error_code": 429, "error": "Missing mandatory element (port)"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID",
      "secret": SECRET, "srtp_suite": 40, "srtp_crypto": "x", "streams": []},
     {"videoroom": "event", "error_code": 430, "error": "Invalid SRTP suite (40)"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID",
      "secret": SECRET, "streams": [{"mid": "0", "port": 9}]},
     {"videoroom": "rtp_forward", "room": "R", "publisher_id": "PID", "forwarders": []}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "OID",
      "secret": SECRET, "streams": [{"mid": "0", "port": 9}]},
     {"videoroom": "rtp_forward", "room": "R", "publisher_id": "OID", "forwarders": []}),
    ({"request": "stop_rtp_forward", "room": "R", "publisher_id": "PID", "stream_id": 7},
     {"videoroom": "event", "error_code": 429, "error": "Missing mandatory element (secret)"}),
    ({"request": "stop_rtp_forward", "room": "R", "publisher_id": "PID", "stream_id": 7,
      "secret": SECRET},
     {"videoroom": "event", "error_code": 428, "error": "No such stream (7)"}),
    ({"request": "listforwarders", "room": "R"},
     {"videoroom": "event", "error_code": 429, "error": "Missing mandatory element (secret)"}),
    ({"request": "listforwarders", "room": "R", "secret": SECRET},
     {"videoroom": "forwarders", "room": "R", "publishers": []}),
]

# Requests our server refuses on purpose where Janus 1.1.2 would create a forwarder.
NOT_ALLOWED = ("Invalid element (host %s not allowed: forwarding goes only to loopback or to "
               "this namespace's addresses)")
VERBATIM_ONLY = [
    ({"request": "rtp_forward", "host": "192.0.2.1", "room": "R", "publisher_id": "PID",
      "secret": SECRET, "streams": [{"mid": "0", "port": 9}]},
     {"videoroom": "event", "error_code": 430, "error": NOT_ALLOWED % "192.0.2.1"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID",
      "secret": SECRET, "streams": [{"mid": "1", "port": 9, "host": "10.1.2.3"}]},
     {"videoroom": "event", "error_code": 430, "error": NOT_ALLOWED % "10.1.2.3"}),
    ({"request": "rtp_forward", "host": "127.0.0.1", "room": "R", "publisher_id": "PID",
      "secret": SECRET, "streams": [{"mid": "0", "port": 0}]},
     {"videoroom": "event", "error_code": 430,
      "error": "Invalid element (port should be between 1 and 65535)"}),
]


def rtp_fields(data):
    """(payload type, SSRC, payload) of an RTP packet, or None."""
    if len(data) < 12 or data[0] >> 6 != 2:
        return None
    pt, ssrc = data[1] & 0x7F, struct.unpack("!I", data[8:12])[0]
    off = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10:  # header extension
        if len(data) < off + 4:
            return None
        off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
    return (pt, ssrc, data[off:]) if off <= len(data) else None


def vp8_keyframe(payload):
    """True for the first packet of a VP8 keyframe (RFC 7741 descriptor, then the P bit)."""
    if not payload:
        return False
    b0, i = payload[0], 1
    if b0 & 0x80:  # X: extension octet, then I (picture id), L, T/K
        if len(payload) < 2:
            return False
        ext, i = payload[1], 2
        if ext & 0x80:
            i += 2 if len(payload) > i and payload[i] & 0x80 else 1
        if ext & 0x40:
            i += 1
        if ext & 0x30:
            i += 1
    start = b0 & 0x10 and (b0 & 0x07) == 0
    return bool(start) and len(payload) > i and payload[i] & 0x01 == 0


class Receiver(asyncio.DatagramProtocol):
    """A UDP socket on 127.0.0.1 keeping (time, bytes, source port) of what arrives."""

    def __init__(self):
        self.got = []
        self.transport = None

    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.got.append((time.monotonic(), data, addr[1]))

    @property
    def port(self):
        return self.transport.get_extra_info("sockname")[1]

    def between(self, t0, t1=None):
        return [(t, d) for t, d, _ in self.got if t >= t0 and (t1 is None or t < t1)]


async def receiver():
    loop = asyncio.get_running_loop()
    _, proto = await loop.create_datagram_endpoint(Receiver, local_addr=("127.0.0.1", 0))
    return proto


def free_port_pair(taken=()):
    """An even port P with P and P + 1 free on 127.0.0.1 (ffmpeg takes both: RTP and RTCP),
    other than those in `taken`."""
    for base in range(41000, 49998, 2):
        if base in taken:
            continue
        socks = []
        try:
            for p in (base, base + 1):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                socks.append(s)
                s.bind(("127.0.0.1", p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free port pair")


class Client:
    """One Janus session with one VideoRoom handle (aiortc_echo.Janus for requests + polls).
    aiortc_remote.py uses it too."""

    step_timeout = 10  # seconds an asynchronous request may take

    def __init__(self, run, name, url=None):
        self.run, self.name = run, name
        self.janus = echo.Janus(url or run.args.url, asyncio.get_running_loop(), run.t0)
        self.hid = None
        self.waiters = {}
        self.flags = {}
        self.notes = []  # plugin events that answer no request of ours
        self.task = None
        self.pc = None

    async def start(self):
        reply = await self.janus.request("", {"janus": "create"})
        self.janus.sid = reply["data"]["id"]
        self.janus.start_polling()
        self.task = asyncio.ensure_future(self.dispatch())
        reply = await self.janus.request("/%d" % self.janus.sid,
                                         {"janus": "attach", "plugin": PLUGIN})
        self.hid = reply["data"]["id"]

    @property
    def path(self):
        return "/%d/%d" % (self.janus.sid, self.hid)

    async def dispatch(self):
        while True:
            _, ev = await self.janus.queue.get()
            kind = ev.get("janus")
            fut = self.waiters.pop(ev.get("transaction"), None)
            if kind == "event" and fut and not fut.done():
                fut.set_result(ev)
            elif kind == "event":
                self.notes.append(ev)
            self.flags.setdefault(kind, asyncio.Event()).set()

    async def wait_flag(self, name, timeout):
        try:
            await asyncio.wait_for(self.flags.setdefault(name, asyncio.Event()).wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def wait_note(self, key, timeout):
        """The first notification whose plugin data has `key` (waiting up to `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for ev in self.notes:
                if key in ev.get("plugindata", {}).get("data", {}):
                    return ev
            await asyncio.sleep(0.05)
        return None

    async def sync(self, body):
        """A synchronous request: its plugin data."""
        reply = await self.janus.request(self.path, {"janus": "message", "body": body})
        if reply.get("janus") != "success":
            raise RuntimeError("%s: %s: reply %s" % (self.name, body.get("request"), reply))
        return reply.get("plugindata", {}).get("data", {})

    async def message(self, body, jsep=None):
        """An asynchronous request: the event carrying our transaction."""
        tx = echo.new_transaction()
        fut = asyncio.get_running_loop().create_future()
        self.waiters[tx] = fut
        msg = {"janus": "message", "body": body}
        if jsep:
            msg["jsep"] = jsep
        await self.janus.request(self.path, msg, tx)
        ev = await asyncio.wait_for(fut, self.step_timeout)
        data = ev.get("plugindata", {}).get("data", {})
        if "error_code" in data:
            raise RuntimeError("%s: %s: %s" % (self.name, body.get("request"), data))
        return ev

    async def close(self):
        if self.pc:
            await self.pc.close()
        try:
            await self.janus.request("/%d" % self.janus.sid, {"janus": "destroy"})
        except Exception as e:  # noted, the run is over anyway
            self.run.errors.append("%s: destroy: %s" % (self.name, e))
        self.janus.stop_polling()
        if self.task:
            self.task.cancel()


def first_pt(sdp, kind):
    """The first payload type of the SDP's m-line of `kind`."""
    for line in sdp.splitlines():
        if line.startswith("m=%s " % kind):
            return int(line.split()[3])
    return None


class Run:
    def __init__(self, args):
        self.args = args
        self.t0 = time.monotonic()
        self.errors = []
        self.checks = []  # what was verified, for the summary
        self.ids = {}  # int -> its name in normalized replies
        self.replies = {}
        self.pc = None
        self.clients = []
        self.tmp = tempfile.mkdtemp(prefix="vb-fwd-")
        self.ffmpeg = None

    def check(self, ok, what):
        (self.checks if ok else self.errors).append(what)

    def normalize(self, value):
        """Ids, ports and forwarder ids replaced by names; lists of forwarders sorted (Janus
        lists a stream's forwarders in hash order)."""
        if isinstance(value, dict):
            out = {}
            for k, v in value.items():
                if k == "stream_id" and isinstance(v, int):
                    out[k] = "ID"
                elif k == "local_rtcp_port" and isinstance(v, int):
                    out[k] = "LRTCP"
                else:
                    out[k] = self.normalize(v)
            return out
        if isinstance(value, list):
            items = [self.normalize(v) for v in value]
            if all(isinstance(v, dict) and "port" in v for v in items):
                items.sort(key=lambda v: (str(v.get("type")), str(v.get("port"))))
            return items
        if isinstance(value, int) and not isinstance(value, bool) and value in self.ids:
            return self.ids[value]
        return value

    def concrete(self, body):
        """A table body with its names replaced by the real values."""
        names = {v: k for k, v in self.ids.items()}
        if isinstance(body, dict):
            return {k: self.concrete(v) for k, v in body.items()}
        if isinstance(body, list):
            return [self.concrete(v) for v in body]
        return names.get(body, body) if isinstance(body, str) else body

    async def expect(self, ctl, name, body, want):
        got = self.normalize(await ctl.sync(self.concrete(body)))
        self.replies[name] = got
        self.check(got == want, "%s: %s" % (name, json.dumps(got) if got != want else "as Janus"))
        if got != want:
            self.errors[-1] += " (want %s)" % json.dumps(want)
        return got

    async def setup(self):
        a = self.args
        ctl = Client(self, "control")
        self.clients.append(ctl)
        await ctl.start()
        data = await ctl.sync({"request": "create", "room": a.room, "secret": SECRET,
                               "publishers": 4, "audiocodec": "opus", "videocodec": "vp8"})
        if data.get("videoroom") != "created":
            raise RuntimeError("create: %s" % data)
        self.ids[a.room] = "R"
        pub = Client(self, "fwd-pub")
        self.clients.append(pub)
        await pub.start()
        ev = await pub.message({"request": "join", "room": a.room, "ptype": "publisher",
                                "display": "fwd-pub"})
        self.ids[ev["plugindata"]["data"]["id"]] = "PID"
        other = Client(self, "fwd-other")
        self.clients.append(other)
        await other.start()
        ev = await other.message({"request": "join", "room": a.room, "ptype": "publisher",
                                  "display": "fwd-other"})
        self.ids[ev["plugindata"]["data"]["id"]] = "OID"
        return ctl, pub

    async def publish(self, pub):
        pc = self.pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
        pc.addTransceiver(echo.ToneTrack(), direction="sendonly")
        pc.addTransceiver(echo.BarsTrack(), direction="sendonly")
        await pc.setLocalDescription(await pc.createOffer())
        jsep = {"type": "offer", "sdp": pc.localDescription.sdp, "trickle": False}
        ev = await pub.message({"request": "publish"}, jsep)
        answer = ev.get("jsep") or {}
        sdp, _ = echo.filter_sdp(answer.get("sdp", ""))
        await pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        if not await pub.wait_flag("webrtcup", 10):
            raise RuntimeError("publisher: no webrtcup (ICE %s)" % pc.iceConnectionState)
        mids = echo.sdp_mids(sdp)
        return {"audio": first_pt(sdp, "audio"), "video": first_pt(sdp, "video"),
                "mids": mids}

    def start_ffmpeg(self, audio_port, video_port):
        sdp = ("v=0\r\no=- 0 0 IN IP4 127.0.0.1\r\ns=vb forward\r\nc=IN IP4 127.0.0.1\r\n"
               "t=0 0\r\nm=audio %d RTP/AVP %d\r\na=rtpmap:%d opus/48000/2\r\n"
               "m=video %d RTP/AVP %d\r\na=rtpmap:%d VP8/90000\r\n" % (
                   audio_port, FF_AUDIO_PT, FF_AUDIO_PT, video_port, FF_VIDEO_PT, FF_VIDEO_PT))
        path = os.path.join(self.tmp, "fwd.sdp")
        with open(path, "w") as f:
            f.write(sdp)
        self.ffmpeg = subprocess.Popen(
            ["ffmpeg", "-nostdin", "-v", "error", "-protocol_whitelist", "file,udp,rtp",
             "-i", path, "-frames:v", str(FF_FRAMES), "-progress", "pipe:1", "-f", "null", "-"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)

    async def ffmpeg_result(self):
        """(exit code, video frames decoded, stderr) once ffmpeg ends (killed at the timeout)."""
        deadline = time.monotonic() + FF_TIMEOUT_S
        while self.ffmpeg.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        if self.ffmpeg.poll() is None:
            self.ffmpeg.kill()
        out, err = self.ffmpeg.communicate()
        frames = 0
        for line in out.decode(errors="replace").splitlines():
            if line.startswith("frame="):
                frames = int(line[6:] or 0)
        return self.ffmpeg.returncode, frames, err.decode(errors="replace").strip()

    async def flow(self):
        a = self.args
        ctl, pub = await self.setup()
        for i, (body, want) in enumerate(EXPECTED):
            await self.expect(ctl, "request %d (%s)" % (i, body["request"]), body, want)
        if a.target == "verbatim":
            for i, (body, want) in enumerate(VERBATIM_ONLY):
                await self.expect(ctl, "refused %d" % i, body, want)
        neg = await self.publish(pub)
        amid, vmid = neg["mids"][0], neg["mids"][1]
        await asyncio.sleep(1.0)  # the publisher's first keyframe is well behind us
        audio, video, rtcp = await receiver(), await receiver(), await receiver()
        ff_audio = free_port_pair()
        ff_video = free_port_pair((ff_audio,))
        for r, n in ((audio, "PA"), (video, "PV"), (rtcp, "PR")):
            self.ids[r.port] = n
        self.ids[ff_audio], self.ids[ff_video] = "FA", "FV"
        self.start_ffmpeg(ff_audio, ff_video)
        await asyncio.sleep(0.3)  # ffmpeg has its ports
        created = time.monotonic()
        body = {"request": "rtp_forward", "room": "R", "publisher_id": "PID", "secret": SECRET,
                "host": "127.0.0.1", "streams": [
                    {"mid": amid, "port": "PA"},
                    {"mid": vmid, "port": "PV", "rtcp_port": "PR", "ssrc": VIDEO_SSRC,
                     "pt": VIDEO_PT},
                    {"mid": vmid, "port": "FV", "pt": FF_VIDEO_PT},
                    {"mid": amid, "port": "FA", "pt": FF_AUDIO_PT}]}
        raw = await ctl.sync(self.concrete(body))
        fwd = {f.get("port"): f for f in raw.get("forwarders", [])}
        want_fwd = [
            {"stream_id": "ID", "host": "127.0.0.1", "port": "FA", "type": "audio", "pt": 111},
            {"stream_id": "ID", "host": "127.0.0.1", "port": "PA", "type": "audio"},
            {"stream_id": "ID", "host": "127.0.0.1", "port": "FV", "type": "video", "pt": 96},
            {"stream_id": "ID", "host": "127.0.0.1", "port": "PV", "type": "video",
             "local_rtcp_port": "LRTCP", "remote_rtcp_port": "PR", "pt": VIDEO_PT,
             "ssrc": VIDEO_SSRC}]
        got = self.normalize(raw)
        self.replies["rtp_forward"] = got
        want = {"videoroom": "rtp_forward", "room": "R", "publisher_id": "PID",
                "forwarders": want_fwd}
        self.check(got == want, "rtp_forward reply %s" % (
            "as Janus" if got == want else json.dumps(got) + " want " + json.dumps(want)))
        vfwd = fwd.get(video.port, {})
        lrtcp = vfwd.get("local_rtcp_port")
        await asyncio.sleep(3.0)
        self.check_media(neg, audio, video, rtcp, lrtcp, created)
        if a.target == "verbatim":  # our server asks for a keyframe for a new video forwarder
            keys = [t for t, d in video.between(created, created + 1.5)
                    if (f := rtp_fields(d)) and vp8_keyframe(f[2])]
            self.check(bool(keys), "keyframe within 1.5 s of the forwarder's creation: %d"
                       % len(keys))
        await self.check_pli(video, rtcp, lrtcp)
        rc, frames, err = await self.ffmpeg_result()
        self.check(rc == 0 and frames >= FF_FRAMES,
                   "ffmpeg decoded %d video frames (exit %s)%s" % (
                       frames, rc, (": " + err[-300:]) if err else ""))
        want_list = {"videoroom": "forwarders", "room": "R", "publishers": [
            {"publisher_id": "PID", "display": "fwd-pub", "forwarders": want_fwd}]}
        await self.expect(ctl, "listforwarders", {"request": "listforwarders", "room": "R",
                                                  "secret": SECRET}, want_list)
        await self.check_stop(ctl, pub, audio, video, vfwd.get("stream_id"))

    def check_media(self, neg, audio, video, rtcp, lrtcp, created):
        afields = [f for _, d in audio.between(created) if (f := rtp_fields(d))]
        vfields = [f for _, d in video.between(created) if (f := rtp_fields(d))]
        self.check(len(afields) >= 100, "audio packets in 3 s: %d" % len(afields))
        self.check(len(vfields) >= 60, "video packets in 3 s: %d" % len(vfields))
        apts, assrcs = {f[0] for f in afields}, {f[1] for f in afields}
        self.check(apts == {neg["audio"]} and len(assrcs) == 1,
                   "audio as received: payload types %s (negotiated %s), SSRCs %s" % (
                       sorted(apts), neg["audio"], sorted(assrcs)))
        vpts, vssrcs = {f[0] for f in vfields}, {f[1] for f in vfields}
        self.check(vpts == {VIDEO_PT} and vssrcs == {VIDEO_SSRC},
                   "video rewritten: payload types %s, SSRCs %s" % (sorted(vpts),
                                                                    sorted(vssrcs)))
        latch = [(d, port) for _, d, port in rtcp.got if len(d) == 12]
        self.check(len(latch) == 2 and all(d == b"\x80" + bytes(11) and p == lrtcp
                                           for d, p in latch),
                   "latching packets on the RTCP port: %d from %s" % (
                       len(latch), sorted({p for _, p in latch})))

    async def check_pli(self, video, rtcp, lrtcp):
        """A PLI from the receiver's RTCP port brings a keyframe (none in the 1.5 s before)."""
        before = time.monotonic()
        await asyncio.sleep(1.5)
        pli = struct.pack("!BBHII", 0x81, 206, 2, 0x5EED, VIDEO_SSRC)
        rtcp.transport.sendto(pli, ("127.0.0.1", lrtcp or 9))
        sent = time.monotonic()
        await asyncio.sleep(1.5)

        def keys(t0, t1):
            return sum(1 for _, d in video.between(t0, t1)
                       if (f := rtp_fields(d)) and vp8_keyframe(f[2]))
        quiet, after = keys(before, sent), keys(sent, sent + 1.5)
        self.check(quiet == 0 and after >= 1,
                   "PLI on the RTCP port: %d keyframes in the 1.5 s before, %d after" % (
                       quiet, after))

    async def check_stop(self, ctl, pub, audio, video, vid):
        body = {"request": "stop_rtp_forward", "room": "R", "publisher_id": "PID",
                "stream_id": vid, "secret": SECRET}
        got = self.normalize(await ctl.sync(self.concrete(body)))
        self.check(got == {"videoroom": "stop_rtp_forward", "room": "R", "publisher_id": "PID",
                           "stream_id": "ID"}, "stop_rtp_forward: %s" % json.dumps(got))
        await asyncio.sleep(0.3)
        t = time.monotonic()
        await asyncio.sleep(1.0)
        v, a = len(video.between(t)), len(audio.between(t))
        self.check(v == 0 and a >= 30, "after stop: %d video packets, %d audio" % (v, a))
        got = await ctl.sync(self.concrete(body))
        self.check(got == {"videoroom": "event", "error_code": 428,
                           "error": "No such stream (%d)" % vid},
                   "stop again: %s" % json.dumps(got))
        await pub.message({"request": "unpublish"})
        await asyncio.sleep(0.3)
        t = time.monotonic()
        await asyncio.sleep(0.7)
        self.check(not audio.between(t), "after unpublish: %d audio packets"
                   % len(audio.between(t)))
        await self.expect(ctl, "listforwarders after unpublish",
                          {"request": "listforwarders", "room": "R", "secret": SECRET},
                          {"videoroom": "forwarders", "room": "R", "publishers": [
                              {"publisher_id": "PID", "display": "fwd-pub", "forwarders": []}]})
        await pub.message({"request": "leave"})
        await self.expect(ctl, "listforwarders after leave",
                          {"request": "listforwarders", "room": "R", "secret": SECRET},
                          {"videoroom": "forwarders", "room": "R", "publishers": []})

    async def teardown(self):
        if self.ffmpeg and self.ffmpeg.poll() is None:
            self.ffmpeg.kill()
            self.ffmpeg.wait()
        if self.pc:
            await self.pc.close()
        for c in self.clients:
            if c.janus.sid is not None:
                await c.close()
        for name in os.listdir(self.tmp):
            os.unlink(os.path.join(self.tmp, name))
        os.rmdir(self.tmp)


async def run(args):
    r = Run(args)
    try:
        await asyncio.wait_for(r.flow(), 90)
    except Exception as e:  # every failure ends up in the summary; teardown still runs
        r.errors.append("%s: %s" % (type(e).__name__, e))
    await r.teardown()
    return {"ok": not r.errors, "target": args.target, "url": args.url, "checks": r.checks,
            "errors": r.errors, "replies": r.replies}


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8188/janus")
    p.add_argument("--target", choices=("janus", "verbatim"), required=True)
    p.add_argument("--room", type=int, default=4321)
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
