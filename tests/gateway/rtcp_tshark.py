#!/usr/bin/env python3
"""Cross-checks the gateway's RTCP and RTP code (gateway/rtp) against two other implementations.

1. tshark: the packets our builders write (tool_rtcp build) go into a pcap as UDP and tshark's
   RTCP dissector must decode every one without a length or expert complaint, to the values
   we put in. A deliberately broken packet proves the check can fail.
2. aiortc (Debian python3-aiortc, when /usr/bin/python3 can import it): its RTCP parser reads
   our packets; its builders write SR/RR/SDES/BYE/NACK/PLI/REMB and RTP header extensions
   (one- and two-byte forms) that our parser (tool_rtcp parse / rtp) must read to the same
   values.

usage: rtcp_tshark.py TOOL_RTCP TMPDIR
"""
import os
import struct
import subprocess
import sys

S1, S2, S3 = 0x11111111, 0x22222222, 0x33333333
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def run_tool(tool, mode, lines=None):
    out = subprocess.run([tool, mode], input=lines, capture_output=True, text=True, check=True)
    return out.stdout.splitlines()


def write_pcap(packets, path):
    """Ethernet/IPv4/UDP 127.0.0.1:5004 -> 127.0.0.1:5005, one frame per packet."""
    out = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    for i, payload in enumerate(packets):
        udp = struct.pack(">HHHH", 5004, 5005, 8 + len(payload), 0) + payload
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i, 0, 64, 17, 0,
                         bytes([127, 0, 0, 1]), bytes([127, 0, 0, 1]))
        s = sum(struct.unpack(">10H", ip))
        s = (s & 0xFFFF) + (s >> 16)
        s = (s & 0xFFFF) + (s >> 16)
        ip = ip[:10] + struct.pack(">H", ~s & 0xFFFF) + ip[12:]
        frame = b"\0" * 12 + b"\x08\x00" + ip + udp
        out += struct.pack("<IIII", 1700000000 + i, 0, len(frame), len(frame)) + frame
    with open(path, "wb") as f:
        f.write(out)


FIELDS = [
    "rtcp.length_check", "_ws.malformed", "_ws.expert", "rtcp.pt", "rtcp.rc",
    "rtcp.senderssrc", "rtcp.mediassrc", "rtcp.timestamp.ntp.msw", "rtcp.timestamp.ntp.lsw",
    "rtcp.timestamp.rtp", "rtcp.sender.packetcount", "rtcp.sender.octetcount",
    "rtcp.ssrc.fraction", "rtcp.ssrc.cum_nr", "rtcp.ssrc.ext_high", "rtcp.ssrc.jitter",
    "rtcp.ssrc.lsr", "rtcp.ssrc.dlsr", "rtcp.sdes.text", "rtcp.rtpfb.fmt", "rtcp.psfb.fmt",
    "rtcp.rtpfb.nack_pid", "rtcp.psfb.fir.fci.ssrc", "rtcp.psfb.fir.fci.csn",
    "rtcp.psfb.remb.fci.br_exp", "rtcp.psfb.remb.fci.br_mantissa", "rtcp.psfb.remb.fci.ssrc",
    "rtcp.psfb.remb.fci.number_ssrcs", "rtcp.rtpfb.transportcc.baseseq",
    "rtcp.rtpfb.transportcc.statuscount", "rtcp.rtpfb.transportcc.reftime",
    "rtcp.rtpfb.transportcc.pktcount", "rtcp.rtpfb.transportcc.recv_delta",
]


def tshark_frames(pcap):
    cmd = ["tshark", "-r", pcap, "-d", "udp.port==5005,rtcp", "-T", "fields",
           "-E", "occurrence=a", "-E", "aggregator=,", "-E", "separator=/t"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    frames = []
    for line in out.splitlines():
        cols = line.split("\t")
        frames.append({f: (cols[i].split(",") if i < len(cols) and cols[i] else [])
                       for i, f in enumerate(FIELDS)})
    return frames


def h(v):
    return "0x%08x" % v


# What tshark must show for each of our packets (fields not listed are not checked).
EXPECT = {
    "sr_sdes": {
        "rtcp.pt": ["200", "202"], "rtcp.senderssrc": [h(S1)],
        "rtcp.timestamp.ntp.msw": ["3913046656"], "rtcp.timestamp.ntp.lsw": ["2147483648"],
        "rtcp.timestamp.rtp": ["123456"], "rtcp.sender.packetcount": ["1000"],
        "rtcp.sender.octetcount": ["160000"], "rtcp.ssrc.fraction": ["64"],
        "rtcp.ssrc.cum_nr": ["-3"], "rtcp.ssrc.ext_high": ["65552"], "rtcp.ssrc.jitter": ["32"],
        "rtcp.ssrc.lsr": ["1518370816"], "rtcp.ssrc.dlsr": ["65536"],
        "rtcp.sdes.text": ["verbatim"],
    },
    "rr_remb": {
        "rtcp.pt": ["201", "206"], "rtcp.rc": ["2"], "rtcp.ssrc.fraction": ["64", "255"],
        "rtcp.ssrc.cum_nr": ["-3", "1000"], "rtcp.ssrc.ext_high": ["65552", "196607"],
        "rtcp.ssrc.jitter": ["32", "900"], "rtcp.psfb.fmt": ["15"],
        "rtcp.psfb.remb.fci.br_exp": ["2"], "rtcp.psfb.remb.fci.br_mantissa": ["250000"],
        "rtcp.psfb.remb.fci.ssrc": [h(S2), h(S3)], "rtcp.psfb.remb.fci.number_ssrcs": ["2"],
    },
    "nack": {"rtcp.pt": ["205"], "rtcp.rtpfb.fmt": ["1"], "rtcp.mediassrc": [h(S2)]},
    "pli": {"rtcp.pt": ["206"], "rtcp.psfb.fmt": ["1"], "rtcp.senderssrc": [h(S1)],
            "rtcp.mediassrc": [h(S2)]},
    "fir": {"rtcp.pt": ["206"], "rtcp.psfb.fmt": ["4"], "rtcp.mediassrc": [h(0)],
            "rtcp.psfb.fir.fci.ssrc": [h(S2)], "rtcp.psfb.fir.fci.csn": ["7"]},
    "twcc": {"rtcp.pt": ["205"], "rtcp.rtpfb.fmt": ["15"], "rtcp.senderssrc": [h(S1)],
             "rtcp.mediassrc": [h(S2)], "rtcp.rtpfb.transportcc.baseseq": ["300"],
             "rtcp.rtpfb.transportcc.statuscount": ["10"],
             "rtcp.rtpfb.transportcc.reftime": ["100"],
             "rtcp.rtpfb.transportcc.pktcount": ["0"]},
    "rr_sdes_bye": {"rtcp.pt": ["201", "202", "203"], "rtcp.rc": ["0"],
                    "rtcp.sdes.text": ["a"]},
}
NACKED = {100, 101, 105, 116, 117, 200, 65535, 0}


def check_tshark(ours, tmp):
    labels = list(ours)
    broken = bytearray(ours["pli"])
    broken[3] = 3  # claims 16 bytes, has 12
    pcap = os.path.join(tmp, "ours.pcap")
    write_pcap([ours[k] for k in labels] + [bytes(broken)], pcap)
    frames = tshark_frames(pcap)
    check(len(frames) == len(labels) + 1, "tshark decoded %d frames" % len(frames))
    for label, fr in zip(labels, frames):
        clean = fr["rtcp.length_check"] == ["1"] and not fr["_ws.malformed"] \
            and not fr["_ws.expert"]
        check(clean, "%s: tshark complains: %s" % (label, fr))
        for field, want in EXPECT[label].items():
            check(fr[field] == want, "%s: %s is %s, want %s" % (label, field, fr[field], want))
        if label == "nack":  # tshark lists PIDs and the BLP's numbers (0 shown as 65536)
            got = {int(x) % 65536 for x in fr["rtcp.rtpfb.nack_pid"]}
            check(got == NACKED, "nack: tshark sees %s" % sorted(got))
    bad = frames[-1]
    check(bad["rtcp.length_check"] != ["1"] or bad["_ws.malformed"] or bad["_ws.expert"],
          "the broken packet passed tshark's checks: the check has no teeth")
    print("tshark: %d packets from our builders decoded as built" % len(labels))


def check_aiortc_reads_ours(rtp, ours):
    pk = rtp.RtcpPacket.parse(ours["sr_sdes"])
    check([type(p).__name__ for p in pk] == ["RtcpSrPacket", "RtcpSdesPacket"], "aiortc sr_sdes")
    sr = pk[0]
    check(sr.ssrc == S1 and sr.sender_info.ntp_timestamp == 0xE93C5A8080000000
          and sr.sender_info.rtp_timestamp == 123456 and sr.sender_info.packet_count == 1000
          and sr.sender_info.octet_count == 160000, "aiortc SR sender info %s" % sr)
    r = sr.reports[0]
    check((r.ssrc, r.fraction_lost, r.packets_lost, r.highest_sequence, r.jitter, r.lsr, r.dlsr)
          == (S2, 64, -3, 0x10010, 32, 0x5A808000, 65536), "aiortc SR report %s" % vars(r))
    check(pk[1].chunks[0].ssrc == S1 and pk[1].chunks[0].items == [(1, b"verbatim")],
          "aiortc SDES %s" % pk[1])
    pk = rtp.RtcpPacket.parse(ours["rr_remb"])
    check([r.packets_lost for r in pk[0].reports] == [-3, 1000], "aiortc RR losses")
    check(pk[1].fmt == 15 and rtp.unpack_remb_fci(pk[1].fci) == (1000000, [S2, S3]),
          "aiortc REMB %s" % pk[1])
    pk = rtp.RtcpPacket.parse(ours["nack"])
    check({x % 65536 for x in pk[0].lost} == NACKED and pk[0].media_ssrc == S2,
          "aiortc NACK %s" % pk[0])
    pk = rtp.RtcpPacket.parse(ours["fir"])
    check(pk[0].fmt == 4 and pk[0].fci == struct.pack(">IB3x", S2, 7), "aiortc FIR %s" % pk[0])
    pk = rtp.RtcpPacket.parse(ours["rr_sdes_bye"])
    check(pk[2].sources == [S1], "aiortc BYE %s" % pk[2])


def check_we_read_aiortc(rtp, tool):
    ri = rtp.RtcpReceiverInfo(ssrc=S2, fraction_lost=12, packets_lost=-70000,
                              highest_sequence=70000, jitter=77, lsr=0x12345678, dlsr=999)
    ri2 = rtp.RtcpReceiverInfo(ssrc=S3, fraction_lost=0, packets_lost=5,
                               highest_sequence=1, jitter=0, lsr=0, dlsr=0)
    sr = rtp.RtcpSrPacket(ssrc=S1, sender_info=rtp.RtcpSenderInfo(
        ntp_timestamp=0x0123456789ABCDEF, rtp_timestamp=42, packet_count=7, octet_count=700),
        reports=[ri, ri2])
    sdes = rtp.RtcpSdesPacket(chunks=[rtp.RtcpSourceInfo(ssrc=S1, items=[(1, b"aiortc-cname")])])
    nack = rtp.RtcpRtpfbPacket(fmt=1, ssrc=S1, media_ssrc=S2, lost=[10, 11, 20, 40, 41])
    pli = rtp.RtcpPsfbPacket(fmt=1, ssrc=S1, media_ssrc=S3)
    remb = rtp.RtcpPsfbPacket(fmt=15, ssrc=S1, media_ssrc=0,
                              fci=rtp.pack_remb_fci(2500000, [S2, S3]))
    rr = rtp.RtcpRrPacket(ssrc=S1, reports=[ri])
    bye = rtp.RtcpByePacket(sources=[S1, S2])
    compound = bytes(sr) + bytes(sdes) + bytes(nack) + bytes(pli) + bytes(remb)
    lines = [compound.hex(), (bytes(rr) + bytes(bye)).hex()]
    got = run_tool(tool, "parse", "\n".join(lines) + "\n")
    blocks = [b.strip() for b in got[0].split("|")]
    want0 = [
        "kind=sr type=200 fmt=2 ssrc=%d media=0 ntp=%d rtp=42 packets=7 octets=700 "
        "rb=%d,12,-70000,70000,77,305419896,999 rb=%d,0,5,1,0,0,0"
        % (S1, 0x0123456789ABCDEF, S2, S3),
        "kind=sdes type=202 fmt=1 ssrc=%d media=0" % S1,
        "kind=nack type=205 fmt=1 ssrc=%d media=%d seqs=10,11,20,40,41" % (S1, S2),
        "kind=pli type=206 fmt=1 ssrc=%d media=%d" % (S1, S3),
        "kind=remb type=206 fmt=15 ssrc=%d media=0 bitrate=2500000 ssrcs=%d ssrcs=%d"
        % (S1, S2, S3),
    ]
    check(blocks == want0, "our parse of aiortc's compound:\n  %s\nwant\n  %s"
          % ("\n  ".join(blocks), "\n  ".join(want0)))
    blocks = [b.strip() for b in got[1].split("|")]
    want1 = ["kind=rr type=201 fmt=1 ssrc=%d media=0 rb=%d,12,-70000,70000,77,305419896,999"
             % (S1, S2), "kind=bye type=203 fmt=2 ssrc=%d media=0 ssrcs=%d ssrcs=%d"
             % (S1, S1, S2)]
    check(blocks == want1, "our parse of aiortc's RR+BYE: %s" % blocks)


def check_we_read_aiortc_rtp(rtp, tool):
    cases = [
        [(1, b"0"), (2, bytes([0x12, 0x34, 0x56])), (3, bytes([0x85])), (4, b"\x01\x02")],
        [(1, b"video"), (20, b"rid-h"), (5, b""), (14, bytes(range(16)))],  # two-byte form
        [(14, bytes(range(16))), (13, b"x" * 3)],
    ]
    lines, wants = [], []
    for i, exts in enumerate(cases):
        profile, value = rtp.pack_header_extensions(exts)
        pkt = rtp.RtpPacket(payload_type=96, marker=1, sequence_number=1000 + i, timestamp=90000,
                            ssrc=S2, payload=b"payload")
        head = bytearray(pkt.serialize())
        head[0] |= 0x10
        data = bytes(head[:12]) + struct.pack(">HH", profile, len(value) // 4) + value + b"payload"
        parsed = rtp.RtpPacket.parse(data)  # aiortc agrees it is a valid packet
        check(parsed.payload == b"payload", "aiortc reparse %d" % i)
        lines.append(data.hex())
        wants.append("pt=96 m=1 seq=%d ts=90000 ssrc=%d payload=7 profile=%d%s" % (
            1000 + i, S2, profile, "".join(" ext%d=%s" % (x, v.hex()) for x, v in exts)))
    got = run_tool(tool, "rtp", "\n".join(lines) + "\n")
    for g, w in zip(got, wants):
        check(g == w, "our RTP parse of aiortc's packet:\n  %s\nwant\n  %s" % (g, w))
    check(len(got) == len(wants), "rtp lines")


def main():
    tool, tmp = sys.argv[1], sys.argv[2]
    ours = {}
    for line in run_tool(tool, "build"):
        label, hexed = line.split()
        ours[label] = bytes.fromhex(hexed)
    check(list(ours) == list(EXPECT), "builder labels %s" % list(ours))
    check_tshark(ours, tmp)
    try:
        import aiortc.rtp as rtp
    except ImportError as e:
        print("aiortc not importable (%s): its cross-check is skipped" % e)
    else:
        check_aiortc_reads_ours(rtp, ours)
        check_we_read_aiortc(rtp, tool)
        check_we_read_aiortc_rtp(rtp, tool)
        print("aiortc: reads our RTCP; we read its RTCP and RTP header extensions")
    if failures:
        print("%d check(s) failed" % len(failures))
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
