"""Our SDP against aiortc (run by sdp_aiortc.sh): aiortc must accept our answers to its offers
(audio + video, with and without data channels, VP8 or H.264 forced) and our subscriber offer,
and we must parse what aiortc answers. The SDP work is done by tool_sdp (answer/offer/parse).

ICE is kept on loopback: aioice gathers only 127.0.0.1 and our SDPs carry one 127.0.0.1
candidate; nothing connects (the port is 9), every peer connection is closed at once."""
import asyncio
import os
import re
import subprocess
import sys

import aioice.ice
from aiortc import RTCConfiguration, RTCPeerConnection, RTCRtpSender, RTCSessionDescription
from aiortc.sdp import SessionDescription

aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.1"]
TOOL = os.path.join(os.environ["VB_TEST_TOOLS"], "tool_sdp")


def tool(*args, stdin=None):
    r = subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        sys.exit(f"tool_sdp {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def only_loopback(sdp):
    for line in sdp.splitlines():
        if line.startswith("a=candidate:"):
            assert line.split()[4].startswith("127."), line


async def answer_case(name, data=False, accept_data=False, video_codec=None):
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    ta = pc.addTransceiver("audio", direction="sendrecv")
    tv = pc.addTransceiver("video", direction="sendrecv")
    if video_codec:
        caps = RTCRtpSender.getCapabilities("video").codecs
        tv.setCodecPreferences([c for c in caps if c.mimeType in (video_codec, "video/rtx")])
    if data:
        pc.createDataChannel("chat")
    await pc.setLocalDescription(await pc.createOffer())
    offer = pc.localDescription.sdp
    answer = tool("answer", "-", *(["data"] if accept_data else []), stdin=offer)
    only_loopback(answer)
    await pc.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    # aiortc took it: the transceivers are negotiated both ways with the codecs we picked
    assert ta.currentDirection == "sendrecv", ta.currentDirection
    assert tv.currentDirection == "sendrecv", tv.currentDirection
    parsed = SessionDescription.parse(answer)
    kinds = [m.kind for m in parsed.media]
    assert kinds[:2] == ["audio", "video"], kinds
    audio, video = parsed.media[0], parsed.media[1]
    assert audio.rtp.codecs[0].mimeType.lower() == "audio/opus", audio.rtp.codecs
    want = (video_codec or "video/VP8").lower()
    assert video.rtp.codecs[0].mimeType.lower() == want, video.rtp.codecs
    assert [c.mimeType.lower() for c in video.rtp.codecs][1:] == ["video/rtx"], video.rtp.codecs
    assert video.dtls.role == "client" and video.ice.usernameFragment == "vbt1"
    if data:
        assert parsed.media[2].kind == "application"
        assert (parsed.media[2].port != 0) == accept_data, parsed.media[2].port
        if accept_data:
            assert pc.sctp is not None and pc.sctp.transport is not None
    await pc.close()
    print(f"ok: aiortc accepted our answer ({name})")


async def offer_case():
    offer = tool("offer")
    only_loopback(offer)
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    await pc.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    kinds = [t.kind for t in pc.getTransceivers()]
    assert kinds == ["audio", "video"], kinds
    await pc.setLocalDescription(await pc.createAnswer())
    answer = pc.localDescription.sdp
    summary = tool("parse", "-", stdin=answer).splitlines()
    await pc.close()
    assert summary[0].endswith("bundle=a1,v1,d1"), summary
    assert re.match(r"m 0 audio \d+ mid=a1 dir=recvonly setup=active cands=1 codecs=opus/111$",
                    summary[1]), summary
    assert re.match(r"m 1 video \d+ mid=v1 dir=recvonly .*codecs=VP8/96,rtx/97$", summary[2]), summary
    assert re.match(r"m 2 application \d+ mid=d1 ", summary[3]), summary
    print("ok: aiortc answered our offer and we parsed its answer")


async def samples_case():
    # aiortc's answer to a Chromium offer, kept as a sample, parses too
    src = os.path.join(os.environ["VB_SOURCE_DIR"], "tests/gateway/sdp_samples")
    summary = tool("parse", os.path.join(src, "aiortc_answer_to_chromium.sdp")).splitlines()
    assert len(summary) == 4 and "setup=active" in summary[1], summary
    print("ok: the kept aiortc answer parses")


async def main():
    # Connectivity checks still in flight when a peer connection closes end in errors inside
    # aioice's background tasks; they say nothing about SDP, so they are not printed.
    asyncio.get_running_loop().set_exception_handler(lambda loop, ctx: None)
    await answer_case("audio + video")
    await answer_case("audio + video + rejected data channel", data=True)
    await answer_case("audio + video + data channel", data=True, accept_data=True)
    await answer_case("H.264 forced", video_codec="video/H264")
    await offer_case()
    await samples_case()


asyncio.run(main())
print("all aiortc checks passed")
