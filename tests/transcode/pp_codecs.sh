#!/usr/bin/env bash
# `verbatim pp` end to end with real encoders, for every codec: ffmpeg encodes ~2 s of each,
# tool_rtp_record packetizes it with libavformat's own RTP muxer into an MJR file as Janus
# records, and `verbatim pp` turns that into every container the codec may go to. Each output
# has the source's codec, stream count, frame count, size and duration (within a frame),
# decodes without a message, and decodes to exactly the source's frames/samples (md5), with the
# same coded bytes: nothing is re-encoded. Plus: the video-orientation extension becoming
# rotation metadata with the right direction, and A/V merges (opus+vp9 .webm, opus+h265 .mp4).
set -euo pipefail
if ! command -v ffmpeg >/dev/null || ! command -v ffprobe >/dev/null; then
    echo "ffmpeg/ffprobe missing (apt-get install ffmpeg)"
    exit 1
fi
tool="$VB_TEST_TOOLS/tool_rtp_record"
[ -x "$tool" ] || { echo "$tool not built"; exit 1; }
work=$(mktemp -d /var/tmp/vb-ppcodecs-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

# The codecs FFmpeg 5.1's RTP muxer packetizes (Debian 12). AV1 is not among them ("Unsupported
# codec av1": rtpenc has no AV1 packetizer before FFmpeg 7.1); it is tried and tested if a newer
# libavformat can. Fewer than these tested (a missing encoder) fails the script.
want_codecs="vp8 vp9 h264 h265 opus pcmu pcma g722 l16"
failures=()
fail() {
    failures+=("$*")
    echo "FAIL: $*"
}

encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
has_encoder() { grep -qE "^ [A-Z.]{6} $1 " <<<"$encoders"; }

video_in="testsrc2=s=320x240:r=15"
# A chirp: no two 20 ms packets alike, so a packet out of place would change the md5.
chirp() { echo "aevalsrc=0.5*sin(2*PI*(200+300*t)*t):s=$1:c=$2"; }
gen() { # codec encoder file ffmpeg-args...
    local c=$1 enc=$2 file=$3
    shift 3
    if ! has_encoder "$enc"; then
        echo "SKIP $c: this ffmpeg has no $enc encoder"
        return 1
    fi
    ffmpeg -v error -y "$@" -t 2 "$file"
}

cat >check.py <<'PY'
# check.py SRC.json OUT.json LABEL KIND FRAME_S CODEC: one converted stream against its source.
import json, sys
src = json.load(open(sys.argv[1]))
out = json.load(open(sys.argv[2]))
label, kind, frame, codec = sys.argv[3], sys.argv[4], float(sys.argv[5]), sys.argv[6]
assert len(out["streams"]) == 1, (label, "streams", len(out["streams"]))
s, o = src["streams"][0], out["streams"][0]
assert o["codec_name"] == codec, (label, o["codec_name"], codec)
if kind in ("v", "opus"):  # one packet per video frame / Opus frame, as encoded
    assert o["nb_read_packets"] == s["nb_read_packets"], \
        (label, "packets", o["nb_read_packets"], s["nb_read_packets"])
if kind == "v":
    assert (o["width"], o["height"]) == (s["width"], s["height"]), (label, o["width"], o["height"])
if kind == "pcm":
    assert o["sample_rate"] == s["sample_rate"] and o["channels"] == s["channels"], label
sd, od = float(src["format"]["duration"]), float(out["format"]["duration"])
assert abs(od - sd) <= frame + 1e-6, (label, "duration", od, sd)
print(f"  {label}: {o['codec_name']} {o.get('nb_read_packets')} packets, {od:.3f} s "
      f"(source {sd:.3f} s)")
PY

probe() { ffprobe -v error -count_packets -show_streams -show_format -of json "$1"; }
md5_of() { # file ffmpeg-output-options...: the md5, or what went wrong (never equal to one)
    local m
    m=$(ffmpeg -v error -i "$1" "${@:2}" -f md5 - 2>&1) || m="(ffmpeg failed: $m)"
    echo "${m#MD5=}"
}
# What the decoder makes of the media: every frame, no frame-rate conversion.
decoded_md5() {
    case $2 in
    v) md5_of "$1" -map 0:v:0 -fps_mode passthrough ;;
    *) md5_of "$1" -map 0:a:0 "${@:3}" ;;
    esac
}
# The coded bytes. H.264/H.265 samples carry the parameter sets in band (as WebRTC sends them,
# and as the tool's mp4toannexb put them before every keyframe) while the encoder's MP4 keeps
# them in avcC/hvcC only, so for those only the coded slices (VCL NAL units) are compared.
packets_md5() {
    case $2 in
    h264) md5_of "$1" -map 0:v:0 -c copy -bsf:v "h264_mp4toannexb,filter_units=pass_types=1-5" ;;
    h265) md5_of "$1" -map 0:v:0 -c copy -bsf:v "hevc_mp4toannexb,filter_units=pass_types=0-31" ;;
    l16) echo none ;; # big-endian in the source, little-endian in WAV: the decoded PCM says it
    *) md5_of "$1" -map 0:0 -c copy ;;
    esac
}
# Samples the source's decoder gives: pre-skip and end trimming removed.
samples_of() { ffmpeg -v error -i "$1" -map 0:a:0 -f s16le -ac 1 - | wc -c | awk '{print $1/2}'; }
frame_md5() { # file [filter]: the first frame as ffmpeg displays it (autorotated)
    ffmpeg -v error -i "$1" "${@:2}" -frames:v 1 -f rawvideo -pix_fmt gray - | md5sum || echo failed
}

convert_ok() { # out pp-arguments...: converts, leaves no .part, decodes silently
    local out=$1
    shift
    if ! "$VERBATIM" pp -q "$@" 2>pp.log; then
        fail "$out: verbatim pp failed: $(cat pp.log)"
        return 1
    fi
    [ ! -e "$out.part" ] || { fail "$out: temporary file left"; return 1; }
    local err
    err=$(ffmpeg -v error -i "$out" -f null - 2>&1 || true)
    [ -z "$err" ] || { fail "$out: decoding says: $err"; return 1; }
}

check_codec() { # codec source kind frame-s probe-codec exts...
    local c=$1 src=$2 kind=$3 frame=$4 pcodec=$5
    shift 5
    if ! "$tool" "$src" "$c.mjr" 2>tool.log; then
        fail "$c: tool_rtp_record: $(cat tool.log)"
        return
    fi
    echo "$c: $(tail -1 tool.log | sed 's/^tool_rtp_record: //')"
    probe "$src" >"$c.src.json" || { fail "$c: ffprobe $src failed"; return; }
    local want_dec want_pk opus_trim=()
    want_pk=$(packets_md5 "$src" "$c")
    if [ "$kind" = opus ]; then
        # The encoder's pre-skip (its lookahead) and end trimming are Ogg metadata that RTP
        # does not carry: a WebRTC receiver decodes every sample of every packet, and so does
        # our output (pre-skip 0). The same packets decode to the same samples, framed by the
        # pre-skip before and the last packet's padding after; those are trimmed off ours.
        local skip n
        skip=$(ffprobe -v error -select_streams a:0 -read_intervals "%+#1" \
            -show_entries packet_side_data=skip_samples -of csv=p=0 "$src")
        [[ "$skip" =~ ^[0-9]+$ ]] || { fail "$c: no pre-skip in $src"; return; }
        n=$(samples_of "$src") || { fail "$c: cannot decode $src"; return; }
        opus_trim=(-af "atrim=start_sample=$skip:end_sample=$((skip + n))")
    fi
    want_dec=$(decoded_md5 "$src" "$kind")
    for ext in "$@"; do
        local out="$c.$ext"
        convert_ok "$out" "$c.mjr" "$out" || continue
        probe "$out" >"$out.json" || { fail "$out: ffprobe failed"; continue; }
        /usr/bin/python3 check.py "$c.src.json" "$out.json" "$out" "$kind" "$frame" "$pcodec" ||
            { fail "$out: does not match its source (above)"; continue; }
        local dec pk
        dec=$(decoded_md5 "$out" "$kind" "${opus_trim[@]}")
        [ "$dec" = "$want_dec" ] || fail "$out: decoded md5 $dec, source $want_dec"
        pk=$(packets_md5 "$out" "$c")
        [ "$pk" = "$want_pk" ] || fail "$out: coded bytes md5 $pk, source $want_pk"
        conversions=$((conversions + 1))
    done
    tested+=("$c")
}

tested=()
conversions=0
vp_rt=(-deadline realtime -cpu-used 8 -b:v 300k)
if gen vp8 libvpx vp8.src.webm -f lavfi -i "$video_in" -c:v libvpx "${vp_rt[@]}"; then
    check_codec vp8 vp8.src.webm v 0.067 vp8 webm mkv
fi
if gen vp9 libvpx-vp9 vp9.src.webm -f lavfi -i "$video_in" -c:v libvpx-vp9 "${vp_rt[@]}"; then
    check_codec vp9 vp9.src.webm v 0.067 vp9 webm mkv
fi
# WebRTC H.264/H.265 have no B-frames; keyframes every second. At 120 kb/s the RTP muxer uses
# all three packet kinds: parameter sets aggregated (STAP-A / AP), keyframes fragmented (FU-A /
# FU), most P-frames in one single-NAL packet.
if gen h264 libx264 h264.src.mp4 -f lavfi -i "$video_in" -c:v libx264 -profile:v baseline \
    -bf 0 -preset veryfast -g 15 -b:v 120k; then
    check_codec h264 h264.src.mp4 v 0.067 h264 mp4 mkv
fi
if gen h265 libx265 h265.src.mp4 -f lavfi -i "$video_in" -c:v libx265 -preset ultrafast \
    -x265-params bframes=0:keyint=15:log-level=error -b:v 120k; then
    check_codec h265 h265.src.mp4 v 0.067 hevc mp4 mkv
fi
# Stereo, as WebRTC declares Opus (opus/48000/2) and as our OpusHead says.
if gen opus libopus opus.src.ogg -f lavfi -i "$(chirp 48000 stereo)" -c:a libopus \
    -frame_duration 20 -b:a 64k; then
    check_codec opus opus.src.ogg opus 0.020 opus opus ogg mka webm mkv
fi
if gen pcmu pcm_mulaw pcmu.src.wav -f lavfi -i "$(chirp 8000 mono)" -c:a pcm_mulaw; then
    check_codec pcmu pcmu.src.wav pcm 0.020 pcm_mulaw wav
fi
if gen pcma pcm_alaw pcma.src.wav -f lavfi -i "$(chirp 8000 mono)" -c:a pcm_alaw; then
    check_codec pcma pcma.src.wav pcm 0.020 pcm_alaw wav
fi
if gen g722 g722 g722.src.wav -f lavfi -i "$(chirp 16000 mono)" -c:a g722; then
    check_codec g722 g722.src.wav pcm 0.020 adpcm_g722 wav
fi
# L16 is big-endian on the wire (pcm_s16be, here in AIFF); WAV holds it little-endian.
if gen l16 pcm_s16be l16.src.aiff -f lavfi -i "$(chirp 16000 mono)" -c:a pcm_s16be; then
    check_codec l16 l16.src.aiff pcm 0.020 pcm_s16le wav
fi

# AV1: tested if this libavformat's RTP muxer can packetize it, otherwise said so.
av1enc=""
for e in libaom-av1 libsvtav1; do has_encoder "$e" && { av1enc=$e; break; }; done
if [ -z "$av1enc" ]; then
    echo "SKIP av1: no AV1 encoder in this ffmpeg"
elif ! ffmpeg -v error -y -f lavfi -i "$video_in" -t 2 -c:v "$av1enc" -cpu-used 8 -g 15 \
    av1.src.webm; then
    fail "av1: $av1enc could not encode"
elif "$tool" av1.src.webm av1.mjr 2>tool.log; then
    check_codec av1 av1.src.webm v 0.067 av1 webm mkv mp4
elif grep -q "cannot packetize av1" tool.log; then
    echo "SKIP av1: the RTP muxer of $(ffmpeg -version | head -1 | cut -d' ' -f1-3) has no AV1 packetizer"
else
    fail "av1: tool_rtp_record: $(cat tool.log)"
fi

# Rotation. The CVO byte's R1R0 = 01 (--cvo ID:90) says the picture on the link is turned
# 90° counterclockwise, so a player must turn it 90° clockwise before display (3GPP TS 26.114
# table 7.2; libwebrtc's kVideoRotation_90, "the clockwise angle the frames must be rotated");
# 11 (270) asks for 90° counterclockwise, 10 (180) for a half turn. In an MP4 this is a
# display matrix, which ffprobe prints as "rotation": av_display_rotation_get(), the matrix's
# counterclockwise angle. So "turn 90° clockwise for display" is -90, and ffmpeg's autorotate
# applies transpose=clock to such a file; 270 is 90 (transpose=cclock); 180 is ±180 (both
# flips). Checked both ways: the value, and ffmpeg's autorotated first frame equals the
# source's first frame turned that way.
if has_encoder libx264; then
    for r in 90:-90:transpose=clock 270:90:transpose=cclock 180:-180:hflip,vflip; do
        IFS=: read -r cvo want turn <<<"$r"
        out="h264r$cvo.mp4"
        "$tool" h264.src.mp4 "h264r$cvo.mjr" --cvo "3:$cvo" 2>tool.log ||
            { fail "h264 cvo $cvo: $(cat tool.log)"; continue; }
        convert_ok "$out" "h264r$cvo.mjr" "$out" || continue
        rot=$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation \
            -of csv=p=0 "$out" || true)
        [ "$rot" = "$want" ] || [ "$rot$want" = "180-180" ] ||
            fail "$out: CVO $cvo° gives rotation '$rot', want $want ($turn for display)"
        a=$(frame_md5 "$out")
        b=$(frame_md5 h264.src.mp4 -filter:v "$turn")
        [ "$a" = "$b" ] || fail "$out: ffmpeg does not display it with $turn"
        a=$(ffmpeg -v error -noautorotate -i "$out" -fps_mode passthrough -f md5 - 2>&1 || true)
        [ "${a#MD5=}" = "$(decoded_md5 h264.src.mp4 v)" ] ||
            fail "$out: the extension changed the decoded frames"
        echo "  $out: CVO $cvo° -> rotation '$rot' (want $want)"
    done
fi
if has_encoder libvpx; then
    "$tool" vp8.src.webm vp8r.mjr --cvo 5:90 2>tool.log || fail "vp8 cvo: $(cat tool.log)"
    if convert_ok vp8r.webm vp8r.mjr vp8r.webm; then
        [ "$(decoded_md5 vp8r.webm v)" = "$(decoded_md5 vp8.src.webm v)" ] ||
            fail "vp8r.webm: the extension changed the decoded frames"
        rot=$(ffprobe -v error -select_streams v:0 -show_entries stream_side_data=rotation \
            -of csv=p=0 vp8r.webm || true)
        # FFmpeg 5.1's Matroska muxer writes no rotation at all; a newer one must say -90.
        [ -z "$rot" ] || [ "$rot" = "-90" ] || fail "vp8r.webm: rotation '$rot', want -90"
        echo "  vp8r.webm: rotation '${rot:-none (not written by this Matroska muxer)}'"
    fi
fi

# A/V merges: the video recording's first frame is 400 ms after the audio's on the wall clock
# (the headers' "u", set with --start-us), so the video track starts 0.4 s into the file; each
# track is still the source's media.
merge() { # out audio-src video-src video-codec-name
    local out=$1 asrc=$2 vsrc=$3 vc=$4
    if ! "$tool" "$asrc" m_a.mjr --start-us 1700000000000000 2>tool.log ||
        ! "$tool" "$vsrc" m_v.mjr --start-us 1700000000400000 2>tool.log; then
        fail "$out: tool_rtp_record: $(cat tool.log)"
        return
    fi
    convert_ok "$out" --merge "$out" m_a.mjr m_v.mjr || return
    /usr/bin/python3 - "$out" "$vc" "$asrc" "$vsrc" <<'PY' || { fail "$out: merge checks (above)"; return; }
import json, subprocess, sys
out, vc = sys.argv[1], sys.argv[2]
def probe(f):
    return json.loads(subprocess.run(["ffprobe", "-v", "error", "-count_packets", "-show_streams",
                                      "-of", "json", f], capture_output=True, check=True).stdout)
want_a = int(probe(sys.argv[3])["streams"][0]["nb_read_packets"])
want_v = int(probe(sys.argv[4])["streams"][0]["nb_read_packets"])
p = probe(out)
st = {s["codec_type"]: s for s in p["streams"]}
assert len(p["streams"]) == 2 and set(st) == {"audio", "video"}, (out, list(st))
assert st["audio"]["codec_name"] == "opus" and st["video"]["codec_name"] == vc, out
assert int(st["video"]["nb_read_packets"]) == want_v, (out, st["video"]["nb_read_packets"], want_v)
assert int(st["audio"]["nb_read_packets"]) == want_a, (out, st["audio"]["nb_read_packets"], want_a)
a0, v0 = float(st["audio"]["start_time"]), float(st["video"]["start_time"])
assert abs(a0) <= 0.020 and abs(v0 - a0 - 0.400) <= 0.020, (out, a0, v0)
print(f"  {out}: opus + {vc}, audio at {a0:.3f} s, video at {v0:.3f} s")
PY
    [ "$(decoded_md5 "$out" v)" = "$(decoded_md5 "$vsrc" v)" ] ||
        fail "$out: the merged video decodes differently from its source"
    [ "$(md5_of "$out" -map 0:a:0 -c copy)" = "$(md5_of "$asrc" -map 0:a:0 -c copy)" ] ||
        fail "$out: the merged Opus packets differ from the source's"
    conversions=$((conversions + 1))
}
if [ -e opus.src.ogg ] && [ -e vp9.src.webm ]; then merge av.webm opus.src.ogg vp9.src.webm vp9; fi
if [ -e opus.src.ogg ] && [ -e h265.src.mp4 ]; then merge av.mp4 opus.src.ogg h265.src.mp4 hevc; fi

missing=()
for c in $want_codecs; do
    [[ " ${tested[*]} " == *" $c "* ]] || missing+=("$c")
done
[ ${#missing[@]} -eq 0 ] || fail "not tested: ${missing[*]} (want at least: $want_codecs)"
if [ ${#failures[@]} -gt 0 ]; then
    echo "pp_codecs: ${#failures[@]} failure(s):"
    printf '  %s\n' "${failures[@]}"
    exit 1
fi
echo "pp_codecs: ${#tested[@]} codecs (${tested[*]}), $conversions conversions identical to the sources"
