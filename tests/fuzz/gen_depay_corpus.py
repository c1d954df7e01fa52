#!/usr/bin/python3
"""Writes the seed corpus of fuzz_depay (tests/fuzz/corpus/fuzz_depay/).

Each seed is one fuzz_depay input: a codec byte, then packets as a flags byte (bit 0 marker,
bits 1-2 sequence step minus one, bit 3 new timestamp), a 16-bit big-endian length and the RTP
payload. The video payloads packetize a few frames of a tiny test clip encoded with ffmpeg
(libvpx, libx264, libx265, libaom), following each codec's RTP payload format, plus the
usual damage: lost, missing and truncated packets. Run once by hand; the seeds are kept.
The fuzzed_* inputs next to them were found by the fuzzer and added by hand.

usage: gen_depay_corpus.py [OUTPUT_DIR]
"""
import os
import struct
import subprocess
import sys
import tempfile

CODECS = ["vp8", "vp9", "h264", "h265", "av1", "opus", "pcmu"]


def pkt(payload, new_ts=False, marker=False, step=1):
    flags = (1 if marker else 0) | ((step - 1) << 1) | (8 if new_ts else 0)
    return bytes([flags]) + struct.pack(">H", len(payload)) + payload


def split(data, parts):
    size = (len(data) + parts - 1) // parts
    return [data[i:i + size] for i in range(0, len(data), size)]


def encode(tmp, codec, args, fmt):
    out = os.path.join(tmp, codec + "." + fmt)
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
           "testsrc=size=96x64:rate=10", "-frames:v", "3", "-threads", "1"]
    subprocess.run(cmd + args + ["-f", fmt, out], check=True)
    with open(out, "rb") as f:
        return f.read()


def ivf_frames(data):
    frames, pos = [], struct.unpack_from("<H", data, 6)[0]
    while pos + 12 <= len(data):
        size = struct.unpack_from("<I", data, pos)[0]
        frames.append(data[pos + 12:pos + 12 + size])
        pos += 12 + size
    return frames


def annexb_nals(data):
    """The NAL units of an Annex B stream, without start codes."""
    nals, i, starts = [], 0, []
    while True:
        i = data.find(b"\x00\x00\x01", i)
        if i < 0:
            break
        starts.append(i + 3)
        i += 3
    for k, s in enumerate(starts):
        end = starts[k + 1] - 3 if k + 1 < len(starts) else len(data)
        nals.append(data[s:end].rstrip(b"\x00"))
    return nals


def leb128(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        out.append(b | (0x80 if v else 0))
        if not v:
            return bytes(out)


def obus(data):
    """(header bytes without size flag, payload) of each OBU of a low-overhead stream."""
    res, pos = [], 0
    while pos < len(data):
        hdr = data[pos]
        hlen = 2 if hdr & 4 else 1
        size, n, shift = 0, 0, 0
        while True:
            b = data[pos + hlen + n]
            size |= (b & 0x7F) << shift
            shift += 7
            n += 1
            if not b & 0x80:
                break
        start = pos + hlen + n
        res.append((bytes([hdr & ~2]) + data[pos + 1:pos + hlen], data[start:start + size]))
        pos = start + size
    return res


def vp8_seeds(tmp):
    f = ivf_frames(encode(tmp, "vp8", ["-c:v", "libvpx", "-deadline", "realtime"], "ivf"))
    key, inter = f[0], f[1]
    k3 = split(key, 3)
    return {
        "key_single": [pkt(b"\x10" + key, marker=True)],
        "key_three": [pkt(b"\x10" + k3[0]), pkt(b"\x00" + k3[1]),
                      pkt(b"\x00" + k3[2], marker=True)],
        "key_picid7": [pkt(b"\x90\x80\x05" + key, marker=True)],
        "key_picid15_tl0_tid": [pkt(b"\x90\xf0\x92\x34\x07\x60" + key, marker=True)],
        "key_then_inter": [pkt(b"\x10" + key, marker=True),
                           pkt(b"\x10" + inter, new_ts=True, marker=True)],
        "key_lost_middle": [pkt(b"\x10" + k3[0]), pkt(b"\x00" + k3[2], marker=True, step=2)],
        "inter_only": [pkt(b"\x10" + inter, marker=True)],
        "missing_start": [pkt(b"\x00" + k3[1]), pkt(b"\x00" + k3[2], marker=True)],
        "key_truncated": [pkt(b"\x10" + key[:8], marker=True)],
        "three_frames": [pkt(b"\x10" + f[1], marker=True),
                         pkt(b"\x10" + key, new_ts=True, marker=True),
                         pkt(b"\x10" + f[2], new_ts=True, marker=True)],
    }


def vp9_seeds(tmp):
    args = ["-c:v", "libvpx-vp9", "-deadline", "realtime", "-cpu-used", "8",
            "-lag-in-frames", "0"]
    f = ivf_frames(encode(tmp, "vp9", args, "ivf"))
    key, inter = f[0], f[1]
    k3 = split(key, 3)
    ss = bytes([0x10]) + struct.pack(">HH", 96, 64)  # one layer, with its size
    ss_groups = bytes([0x18]) + struct.pack(">HH", 96, 64) + b"\x01\x24\x01"
    return {
        "key_single": [pkt(b"\x0c" + key, marker=True)],
        "key_ss": [pkt(b"\x0e" + ss + key, marker=True)],
        "key_ss_groups": [pkt(b"\x0e" + ss_groups + key, marker=True)],
        "key_three": [pkt(b"\x08" + k3[0]), pkt(b"\x00" + k3[1]),
                      pkt(b"\x04" + k3[2], marker=True)],
        "key_picid15": [pkt(b"\x8c\x80\x21" + key, marker=True)],
        "key_layers_nonflex": [pkt(b"\x2c\x00\x01" + key, marker=True)],
        "inter_flexible_pdiff": [pkt(b"\xdc\x05\x02" + inter, marker=True)],
        "key_then_inter": [pkt(b"\x0c" + key, marker=True),
                           pkt(b"\x4c" + inter, new_ts=True, marker=True)],
        "spatial_two_layers": [pkt(b"\x2c\x00\x01" + key), pkt(b"\x6c\x02\x01" + inter,
                                                                marker=True)],
        "key_lost_middle": [pkt(b"\x08" + k3[0]), pkt(b"\x04" + k3[2], marker=True, step=2)],
    }


def h264_seeds(tmp):
    args = ["-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency",
            "-x264-params", "keyint=10"]
    nals = [n for n in annexb_nals(encode(tmp, "h264", args, "h264")) if n[0] & 0x1F not in (6, 9)]
    sps = next(n for n in nals if n[0] & 0x1F == 7)
    pps = next(n for n in nals if n[0] & 0x1F == 8)
    idr = next(n for n in nals if n[0] & 0x1F == 5)
    p = next(n for n in nals if n[0] & 0x1F == 1)

    def stap(*units):
        return b"\x78" + b"".join(struct.pack(">H", len(u)) + u for u in units)

    def fua(nal, parts):
        ind = bytes([(nal[0] & 0xE0) | 28])
        chunks = split(nal[1:], parts)
        out = []
        for i, c in enumerate(chunks):
            hdr = (nal[0] & 0x1F) | (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)
            out.append(ind + bytes([hdr]) + c)
        return out

    fu = fua(idr, 3)
    return {
        "stapa_sps_pps_idr": [pkt(stap(sps, pps)), pkt(idr, marker=True)],
        "single_nals": [pkt(sps), pkt(pps), pkt(idr, marker=True)],
        "stapa_fua_run": [pkt(stap(sps, pps)), pkt(fu[0]), pkt(fu[1]), pkt(fu[2], marker=True)],
        "fua_lost_middle": [pkt(stap(sps, pps)), pkt(fu[0]), pkt(fu[2], marker=True, step=2)],
        "fua_missing_start": [pkt(fu[1]), pkt(fu[2], marker=True)],
        "stapa_all": [pkt(stap(sps, pps, idr), marker=True)],
        "idr_then_p": [pkt(stap(sps, pps)), pkt(idr, marker=True),
                       pkt(p, new_ts=True, marker=True)],
        "fua_single_start_end": [pkt(bytes([0x7c, 0xc5]) + idr[1:], marker=True)],
        "stapa_bad_length": [pkt(b"\x78\x00\x40" + sps), pkt(idr, marker=True)],
        "stapb_unsupported": [pkt(b"\x79\x00\x01" + stap(sps, pps)[1:]), pkt(idr, marker=True)],
    }


def h265_seeds(tmp):
    args = ["-c:v", "libx265", "-preset", "ultrafast", "-x265-params",
            "log-level=error:keyint=10:info=0:repeat-headers=1"]
    nals = [n for n in annexb_nals(encode(tmp, "h265", args, "hevc"))
            if (n[0] >> 1) & 0x3F not in (35, 39, 40)]

    def kind(n):
        return (n[0] >> 1) & 0x3F

    vps, sps, pps = (next(n for n in nals if kind(n) == t) for t in (32, 33, 34))
    irap = next(n for n in nals if 16 <= kind(n) <= 21)
    trail = next(n for n in nals if kind(n) <= 9)

    def ap(*units):
        return b"\x60\x01" + b"".join(struct.pack(">H", len(u)) + u for u in units)

    def fu(nal, parts):
        hdr = bytes([(nal[0] & 0x81) | (49 << 1), nal[1]])
        chunks = split(nal[2:], parts)
        out = []
        for i, c in enumerate(chunks):
            fh = kind(nal) | (0x80 if i == 0 else 0) | (0x40 if i == len(chunks) - 1 else 0)
            out.append(hdr + bytes([fh]) + c)
        return out

    f = fu(irap, 3)
    return {
        "ap_params_irap": [pkt(ap(vps, sps, pps)), pkt(irap, marker=True)],
        "single_nals": [pkt(vps), pkt(sps), pkt(pps), pkt(irap, marker=True)],
        "ap_fu_run": [pkt(ap(vps, sps, pps)), pkt(f[0]), pkt(f[1]), pkt(f[2], marker=True)],
        "fu_lost_middle": [pkt(ap(vps, sps, pps)), pkt(f[0]), pkt(f[2], marker=True, step=2)],
        "fu_missing_start": [pkt(f[1]), pkt(f[2], marker=True)],
        "ap_all": [pkt(ap(vps, sps, pps, irap), marker=True)],
        "irap_then_trail": [pkt(ap(vps, sps, pps)), pkt(irap, marker=True),
                            pkt(trail, new_ts=True, marker=True)],
        "ap_bad_length": [pkt(b"\x60\x01\x00\x50" + vps), pkt(irap, marker=True)],
        "paci_unsupported": [pkt(b"\x64\x01\x00\x00" + irap, marker=True)],
        "fu_start_end": [pkt(fu(irap, 1)[0], marker=True)],
    }


def av1_seeds(tmp):
    args = ["-c:v", "libaom-av1", "-cpu-used", "8", "-lag-in-frames", "0", "-g", "10"]
    units = [(h, p) for h, p in obus(encode(tmp, "av1", args, "obu")) if (h[0] >> 3) & 15 != 2]
    seq = next(h + p for h, p in units if (h[0] >> 3) & 15 == 1)
    frames = [h + p for h, p in units if (h[0] >> 3) & 15 in (3, 6)]
    key, inter = frames[0], frames[1]
    k3 = split(key, 3)

    def el(obu):
        return leb128(len(obu)) + obu

    def sized(obu):  # the OBU with its size field kept
        hlen = 2 if obu[0] & 4 else 1
        return bytes([obu[0] | 2]) + obu[1:hlen] + leb128(len(obu) - hlen) + obu[hlen:]

    return {
        "w0_seq_key": [pkt(b"\x08" + el(seq) + el(key), marker=True)],
        "w2_seq_key": [pkt(b"\x28" + el(seq) + key, marker=True)],
        "fragments_three": [pkt(b"\x68" + el(seq) + k3[0]), pkt(b"\xd0" + k3[1]),
                            pkt(b"\x90" + k3[2], marker=True)],
        "fragment_lost_middle": [pkt(b"\x68" + el(seq) + k3[0]),
                                 pkt(b"\x90" + k3[2], marker=True, step=2)],
        "inter_w1": [pkt(b"\x10" + inter, marker=True)],
        "key_then_inter": [pkt(b"\x28" + el(seq) + key, marker=True),
                           pkt(b"\x10" + inter, new_ts=True, marker=True)],
        "size_fields_kept": [pkt(b"\x18" + sized(seq)), pkt(b"\x10" + sized(key), marker=True)],
        "with_temporal_delimiter": [pkt(b"\x38\x01\x10" + el(seq) + key, marker=True)],
        "z_without_fragment": [pkt(b"\x90" + k3[2], marker=True)],
        "bad_leb128": [pkt(b"\x00" + b"\xff" * 9 + key, marker=True)],
    }


def opus_seeds():
    body = bytes(range(40))
    return {
        "celt_fb_20ms": [pkt(b"\xfc" + body)],
        "silk_nb_60ms": [pkt(b"\x18" + body)],
        "hybrid_code1": [pkt(b"\x79" + body)],
        "code2": [pkt(b"\xfa\x10" + body)],
        "code3_three_frames": [pkt(b"\xfb\x03" + body)],
        "code3_no_frames": [pkt(b"\xfb\x00" + body)],
        "code3_too_long": [pkt(b"\x1b\x03" + body)],
        "toc_only_code3": [pkt(b"\xfb")],
        "stream": [pkt(b"\xfc" + body), pkt(b"\xfc" + body, new_ts=True),
                   pkt(b"\xfc" + body, new_ts=True, step=3)],
        "two_same_ts": [pkt(b"\xfc" + body), pkt(b"\xf8" + body)],
    }


def pcmu_seeds():
    return {
        "one": [pkt(b"\xff" * 160)],
        "stream_gap": [pkt(b"\xff" * 160), pkt(b"\x7f" * 160, new_ts=True, step=4)],
        "same_ts_gap": [pkt(b"\x00" * 80), pkt(b"\x01" * 80, step=2)],
    }


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_depay")
    os.makedirs(out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        families = {"vp8": vp8_seeds(tmp), "vp9": vp9_seeds(tmp), "h264": h264_seeds(tmp),
                    "h265": h265_seeds(tmp), "av1": av1_seeds(tmp), "opus": opus_seeds(),
                    "pcmu": pcmu_seeds()}
    for codec, seeds in families.items():
        for name, packets in seeds.items():
            data = bytes([CODECS.index(codec)]) + b"".join(packets)
            with open(os.path.join(out_dir, codec + "_" + name + ".bin"), "wb") as f:
                f.write(data)


if __name__ == "__main__":
    main()
