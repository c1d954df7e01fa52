"""NACK and retransmission through a Janus-compatible EchoTest, with loss made by the aiortc peer.

usage: /usr/bin/python3 aiortc_nack.py --url URL --admin-url URL --admin-secret S
                                       [--seconds N] [--loss F] [--seed N] [--phases LIST]

The kernel of the test machines has no netem, so the client itself loses packets, each sequence
number of the video stream at most once unless a phase says otherwise. Every phase is one whole
echo (aiortc_echo.EchoRun: create, attach, offer, webrtcup, N seconds of decoded frames, hangup,
detach, destroy); just before the hangup the server's counters are read with the Admin API's
handle_info (webrtc.media.<video mindex>.stats).

  baseline  no loss: the reference frame count; the server sent and got no NACK
  out       the client drops F of its OUTGOING video RTP before SRTP protects it (the packets
            stay in the sender's history, which aiortc answers NACKs from). Its receiver's NACK
            generator is off (the EchoTest would relay its NACKs about the echo back to the
            sender), so only the server's own NACKs can bring a packet back: the server must
            have sent NACKs (stats.out.nacks > 0), the sender must have been asked for most
            dropped packets, have resent them, the echo must carry them, and the frames decoded
            must stay near the baseline
  in        the client drops F of the INCOMING video SRTP before unprotecting it (as a network
            would: dropped after SRTP, a retransmission with the same sequence number would be
            refused as a replay), so aiortc's NACK generator asks for them. Its sender ignores
            NACKs (the EchoTest relays the client's NACKs to it too), so only the server's
            retransmission buffer can bring a packet back: stats.in.nacks > 0,
            stats.out.retransmitted > 0, most dropped packets arrive again, frames near the
            baseline
  out-lost, in-lost
            controls: the same loss but every copy of a dropped packet is dropped too, so
            nothing is recovered. They show that the frame count does see unrecovered loss (the
            frames of the recovered phases must beat them); no server counter is checked.

Prints a JSON summary (per phase: frames, loss and recovery counts, the server's stats, errors)
and exits 1 when a check fails. Safety as in aiortc_echo.py, which this imports.
"""
import argparse
import asyncio
import json
import os
import random
import struct
import sys
import time

import requests
from aiortc.rtp import RTCP_RTPFB_NACK, RtcpRtpfbPacket

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aiortc_echo  # noqa: E402  (also confines aioice to the namespace address)

class EchoArgs(argparse.Namespace):
    """Options for aiortc_echo.EchoRun: one it reads and this script does not set (added there
    later) is off."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return None


PHASES = ("baseline", "out", "in", "out-lost", "in-lost")


def rtp_fields(data):
    """(ssrc, seq, payload_type, payload offset) of a plain RTP packet, or None for RTCP."""
    if len(data) < 12 or 192 <= data[1] <= 223:
        return None
    seq, = struct.unpack("!H", data[2:4])
    ssrc, = struct.unpack("!I", data[8:12])
    off = 12 + 4 * (data[0] & 0x0F)
    if data[0] & 0x10 and len(data) >= off + 4:
        off += 4 + 4 * struct.unpack("!H", data[off + 2:off + 4])[0]
    return ssrc, seq, data[1] & 0x7F, off


class Loss:
    """Which sequence numbers were dropped, and what came back."""

    def __init__(self, rate, seed, permanent):
        self.rate, self.rng, self.permanent = rate, random.Random(seed), permanent
        self.dropped = set()  # seqs dropped the first time
        self.copies_dropped = 0  # later copies dropped (permanent only)
        self.recovered = set()  # dropped seqs that came again (and were let through)
        self.packets = 0

    def first(self, seq):
        """True when this first copy of `seq` must be dropped."""
        self.packets += 1
        if self.rng.random() < self.rate:
            self.dropped.add(seq)
            return True
        return False

    def again(self, seq):
        """A copy of a dropped seq (a retransmission): True when it must be dropped too."""
        if self.permanent:
            self.copies_dropped += 1
            return True
        self.recovered.add(seq)
        return False

    def summary(self):
        return {"packets": self.packets, "dropped": len(self.dropped),
                "recovered": len(self.recovered), "copies_dropped": self.copies_dropped}


class NackRun(aiortc_echo.EchoRun):
    """One echo with loss on one side of the video stream, and the server's stats at the end."""

    def __init__(self, args, phase):
        super().__init__(args)
        self.phase = phase
        rate = 0.0 if phase == "baseline" else args.loss
        self.loss = Loss(rate, args.seed, phase.endswith("-lost"))
        self.outgoing = phase.startswith("out")
        self.incoming = phase.startswith("in")
        self.video = None  # the video transceiver
        self.nacks_at_sender = 0  # NACK packets that reached the video sender
        self.nacked = set()  # seqs they named
        self.nacks_sent = 0  # NACK packets the video receiver sent
        self.retransmits_ignored = 0
        self.echoed = set()  # seqs of the echoed video stream that arrived (first copies too)
        self.video_times = []  # arrival of each decoded video frame in the window
        self.server = None  # handle_info's video m-line
        self.handle_info_error = None

    # ---- hooks ----

    def make_pc(self):
        pc = super().make_pc()
        self.video = [t for t in pc.getTransceivers() if t.kind == "video"][0]
        sender, receiver = self.video.sender, self.video.receiver
        run = self
        # The hooks replace private parts of aiortc 1.4; a later version must fail loudly here
        # rather than lose nothing.
        for obj, names in ((sender, ("_handle_rtcp_packet", "_retransmit", "_ssrc", "_rtx_ssrc")),
                           (receiver, ("_handle_rtp_packet", "_send_rtcp_nack",
                                       "_RTCRtpReceiver__codecs",
                                       "_RTCRtpReceiver__nack_generator"))):
            missing = [n for n in names if not hasattr(obj, n)]
            if missing:
                raise RuntimeError("aiortc %s has no %s: the loss hooks need aiortc 1.4" % (
                    type(obj).__name__, ", ".join(missing)))

        sender_rtcp = sender._handle_rtcp_packet

        async def on_sender_rtcp(packet):
            if isinstance(packet, RtcpRtpfbPacket) and packet.fmt == RTCP_RTPFB_NACK:
                run.nacks_at_sender += 1
                run.nacked.update(packet.lost)
            await sender_rtcp(packet)

        sender._handle_rtcp_packet = on_sender_rtcp

        if self.incoming:
            async def no_retransmit(seq):
                run.retransmits_ignored += 1

            sender._retransmit = no_retransmit
        else:  # only the server's NACKs may bring back what the sender drops
            receiver._RTCRtpReceiver__nack_generator = None

        receiver_nack = receiver._send_rtcp_nack

        async def on_receiver_nack(media_ssrc, lost):
            run.nacks_sent += 1
            await receiver_nack(media_ssrc, lost)

        receiver._send_rtcp_nack = on_receiver_nack

        receiver_rtp = receiver._handle_rtp_packet

        async def on_receiver_rtp(packet, arrival_time_ms):
            if run.incoming_drop(packet):
                return
            await receiver_rtp(packet, arrival_time_ms=arrival_time_ms)

        receiver._handle_rtp_packet = on_receiver_rtp

        set_remote = pc.setRemoteDescription

        async def set_remote_then_hook(desc):
            await set_remote(desc)
            run.hook_transport()  # bundling has now picked the one DTLS transport

        pc.setRemoteDescription = set_remote_then_hook
        return pc

    def hook_transport(self):
        """Both loss points on the one (bundled) transport: outgoing RTP before SRTP protects it,
        incoming SRTP before it is unprotected (its header is in the clear), as a network would
        lose it: a packet dropped after SRTP would make its retransmission a replay."""
        sender = self.video.sender
        dtls = sender.transport
        ice = dtls.transport
        if not hasattr(dtls, "_send_rtp") or not hasattr(ice, "_recv"):
            raise RuntimeError("aiortc's transports have no _send_rtp / _recv: need aiortc 1.4")
        send_rtp, recv = dtls._send_rtp, ice._recv
        run = self

        async def on_send(data):
            if run.outgoing_drop(data, sender):
                return
            await send_rtp(data)

        async def on_recv():
            while True:
                data = await recv()
                if not run.incoming_drop_srtp(data):
                    return data

        dtls._send_rtp = on_send
        ice._recv = on_recv

    def outgoing_drop(self, data, sender):
        f = rtp_fields(data) if self.outgoing else None
        if f is None:
            return False
        ssrc, seq, _, off = f
        if ssrc == sender._rtx_ssrc and len(data) >= off + 2:  # RTX: the original seq first
            seq, = struct.unpack("!H", data[off:off + 2])
            return seq in self.loss.dropped and self.loss.again(seq)
        if ssrc != sender._ssrc:
            return False
        if seq in self.loss.dropped:
            return self.loss.again(seq)
        return self.loss.first(seq)

    def video_pts(self):
        """(primary payload types, RTX payload types) the video receiver knows, once it does."""
        codecs = self.video.receiver._RTCRtpReceiver__codecs
        rtx = {pt for pt, c in codecs.items() if c.mimeType.lower() == "video/rtx"}
        return set(codecs) - rtx, rtx

    def incoming_drop_srtp(self, data):
        """Loss of what arrives, decided on the clear header of an SRTP packet: the first copy
        of a video packet with probability F, its later copies per the phase."""
        f = rtp_fields(data) if self.incoming and 128 <= data[0] < 192 else None
        if f is None:
            return False
        _, seq, pt, _ = f
        if pt not in self.video_pts()[0]:
            return False  # audio, or RTX (whose original seq is encrypted: see incoming_drop)
        if seq in self.loss.dropped:
            return self.loss.again(seq)
        return self.loss.first(seq)

    def incoming_drop(self, packet):
        """After SRTP: notes the echoed seqs; a retransmission in RTX is a copy of its original
        seq, recovered or (permanent loss) dropped here."""
        primary, rtx = self.video_pts()
        if packet.payload_type in rtx and len(packet.payload) >= 2:
            seq, = struct.unpack("!H", packet.payload[:2])
            if self.incoming and seq in self.loss.dropped and self.loss.again(seq):
                return True
            self.echoed.add(seq)
        elif packet.payload_type in primary:
            self.echoed.add(packet.sequence_number)
        return False

    async def count_frames(self, track):
        try:
            while True:
                frame = await track.recv()
                self.frames[track.kind] += 1
                if self.counting:
                    self.window[track.kind] += 1
                    if track.kind == "video":
                        self.video_times.append(time.monotonic())
                if track.kind == "video":
                    self.video_sizes.add("%dx%d" % (frame.width, frame.height))
        except aiortc_echo.MediaStreamError:
            pass

    # ---- the server's view ----

    def handle_info(self):
        body = {"janus": "handle_info", "admin_secret": self.args.admin_secret,
                "transaction": aiortc_echo.new_transaction()}
        r = requests.post("%s/%d/%d" % (self.args.admin_url.rstrip("/"), self.janus.sid,
                                        self.hid), data=json.dumps(body), timeout=5)
        reply = r.json()
        if reply.get("janus") != "success":
            raise RuntimeError("handle_info: %s" % json.dumps(reply)[:300])
        media = reply.get("info", {}).get("webrtc", {}).get("media", {})
        for mindex, m in media.items():
            if isinstance(m, dict) and m.get("type") == "video":
                return dict(m, mindex=mindex)
        raise RuntimeError("handle_info has no video m-line: %s" % json.dumps(media)[:300])

    async def read_server(self):
        try:
            self.server = await asyncio.to_thread(self.handle_info)
        except Exception as e:  # noted, checked later
            self.handle_info_error = "%s: %s" % (type(e).__name__, e)

    # ---- checks ----

    def stat(self, direction, key):
        """The server's stats.<direction>.<key> of the video m-line; an error when missing."""
        v = (self.server or {}).get("stats", {}).get(direction, {}).get(key)
        if not isinstance(v, int):
            self.errors.append("handle_info: no integer webrtc.media.<video>.stats.%s.%s (stats "
                               "seen: %s)" % (direction, key,
                                              json.dumps((self.server or {}).get("stats"))))
            return None
        return v

    def max_gap_ms(self):
        t = self.video_times
        return round(max((b - a for a, b in zip(t, t[1:])), default=0) * 1000, 1)

    def check_phase(self, baseline, lost_frames, min_ratio):
        """The phase's own checks; `baseline` = the baseline's video frames (None for it)."""
        if self.handle_info_error:
            self.errors.append(self.handle_info_error)
        lost = self.loss.summary()
        frames = self.window["video"]
        if self.phase == "baseline":
            for direction, key in (("out", "nacks"), ("in", "nacks")):
                v = self.stat(direction, key)
                if v:
                    self.errors.append("no loss, yet stats.%s.%s = %d" % (direction, key, v))
            return
        if lost["dropped"] < 5:
            self.errors.append("only %d packets dropped of %d: the loss hook is not working" % (
                lost["dropped"], lost["packets"]))
        if self.phase.endswith("-lost"):
            return
        if self.phase == "out":
            v = self.stat("out", "nacks")
            if v is not None and v <= 0:
                self.errors.append("server stats.out.nacks = %d with %d packets lost on the "
                                   "way in" % (v, lost["dropped"]))
            asked = len(self.loss.dropped & self.nacked)
            if asked < 0.8 * lost["dropped"]:
                self.errors.append("the server asked for %d of the %d dropped packets" % (
                    asked, lost["dropped"]))
            if lost["recovered"] < 0.8 * lost["dropped"]:
                self.errors.append("aiortc resent %d of the %d dropped packets" % (
                    lost["recovered"], lost["dropped"]))
            echoed = len(self.loss.dropped & self.echoed)
            if echoed < 0.8 * lost["dropped"]:
                self.errors.append("%d of the %d dropped packets came back in the echo" % (
                    echoed, lost["dropped"]))
        if self.phase == "in":
            v = self.stat("in", "nacks")
            if v is not None and v <= 0:
                self.errors.append("server stats.in.nacks = %d, yet the client sent %d NACKs" % (
                    v, self.nacks_sent))
            v = self.stat("out", "retransmitted")
            if v is not None and v <= 0:
                self.errors.append("server stats.out.retransmitted = %d" % v)
            if self.nacks_sent <= 0:
                self.errors.append("aiortc sent no NACK for %d dropped packets" % lost["dropped"])
            if lost["recovered"] < 0.8 * lost["dropped"]:
                self.errors.append("%d of the %d dropped packets were retransmitted" % (
                    lost["recovered"], lost["dropped"]))
        if self.max_gap_ms() > 1000:
            self.errors.append("the video froze for %g ms" % self.max_gap_ms())
        if baseline is not None and frames < min_ratio * baseline:
            self.errors.append("%d video frames decoded, baseline %d (need %d%%)" % (
                frames, baseline, min_ratio * 100))
        if lost_frames is not None and frames <= lost_frames:
            self.errors.append("%d video frames decoded, no more than %d with the same loss "
                               "unrecovered" % (frames, lost_frames))

    def phase_summary(self):
        return {
            "phase": self.phase,
            "ok": not self.errors,
            "webrtcup_ms": self.timings.get("webrtcup"),
            "frames": self.window,
            "video_max_gap_ms": self.max_gap_ms(),
            "loss": self.loss.summary(),
            "nacks_at_sender": self.nacks_at_sender,
            "nacked_dropped": len(self.loss.dropped & self.nacked),
            "echoed_dropped": len(self.loss.dropped & self.echoed),
            "nacks_sent_by_receiver": self.nacks_sent,
            "retransmits_ignored": self.retransmits_ignored,
            "server_video": {k: (self.server or {}).get(k) for k in ("mindex", "stats", "rtcp")},
            "slowlink_events": sum(e["janus"] == "slowlink" for e in self.events),
            "errors": self.errors,
        }


async def run_phase(args, phase):
    if phase.endswith("-lost"):  # a frozen video is what a control is expected to show
        args = EchoArgs(**dict(vars(args), min_video_fps=0.0))
    echo = NackRun(args, phase)
    try:
        await asyncio.wait_for(echo.flow(), args.seconds + 30)
        await echo.read_server()
    except Exception as e:  # every failure ends up in the summary, teardown still runs
        echo.errors.append("%s: %s" % (type(e).__name__, e))
    await echo.teardown()
    echo.check()
    return echo


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8188/janus")
    p.add_argument("--admin-url", default="http://127.0.0.1:7188/admin")
    p.add_argument("--admin-secret", required=True)
    p.add_argument("--seconds", type=float, default=4.0)
    p.add_argument("--loss", type=float, default=0.05)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--min-ratio", type=float, default=0.9,
                   help="video frames of a recovered phase / baseline at least this")
    p.add_argument("--phases", default=",".join(PHASES))
    args = EchoArgs(**vars(p.parse_args()))
    args.video, args.trickle = "vp8", False
    args.min_audio_fps, args.min_video_fps = 20.0, 5.0
    phases = [x for x in args.phases.split(",") if x]
    if any(x not in PHASES for x in phases):
        p.error("phases are among %s" % ",".join(PHASES))
    runs = {}
    for phase in phases:
        runs[phase] = asyncio.run(run_phase(args, phase))
    base = runs["baseline"].window["video"] if "baseline" in runs else None
    for phase, r in runs.items():
        ctl = runs.get(phase + "-lost")
        r.check_phase(None if phase == "baseline" else base,
                      ctl.window["video"] if ctl else None, args.min_ratio)
    out = {"ok": all(not r.errors for r in runs.values()), "loss": args.loss,
           "seconds": args.seconds, "phases": [r.phase_summary() for r in runs.values()]}
    print(json.dumps(out, indent=1))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
