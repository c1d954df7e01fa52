# usage: gen_aiortc.py offer|offer-dc|offer-video|answer OFFERFILE -> SDP on stdout (host candidates on 127.0.0.2)
import asyncio, sys
import aioice.ice
from aiortc import RTCPeerConnection, RTCConfiguration, RTCSessionDescription
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.2"]
async def main():
    pc = RTCPeerConnection(RTCConfiguration(iceServers=[]))
    mode = sys.argv[1]
    if mode == "answer":
        await pc.setRemoteDescription(RTCSessionDescription(open(sys.argv[2]).read(), "offer"))
        desc = await pc.createAnswer()
    else:
        if mode != "offer-video":
            pc.addTransceiver("audio", direction="sendrecv")
        pc.addTransceiver("video", direction="sendrecv")
        if mode == "offer-dc":
            pc.createDataChannel("chat")
        desc = await pc.createOffer()
    await pc.setLocalDescription(desc)
    sys.stdout.write(pc.localDescription.sdp)
    await pc.close()
asyncio.run(main())
