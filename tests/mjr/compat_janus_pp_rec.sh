#!/usr/bin/env bash
# Files our writer produces convert with the real janus-pp-rec (Debian janus-tools), and
# ffprobe shows the expected codec, packet count and duration (within one frame), with the
# same packet content as Janus's own recording of the same media.
#
# Each fixture recorded by real Janus is re-recorded through our engine with its packets
# moved to another SSRC and to sequence/timestamp origins that wrap (65500, 0xFFFFF000), as a
# real sender's would; our rewrite must bring them back to seq 1 / timestamp 0.
set -euo pipefail
command -v janus-pp-rec >/dev/null || { echo "janus-pp-rec missing (apt-get install janus-tools)"; exit 1; }
command -v ffprobe >/dev/null || { echo "ffprobe missing (apt-get install ffmpeg)"; exit 1; }
work=$(mktemp -d /var/tmp/vb-compat-XXXXXX)
trap 'rm -rf "$work"' EXIT
checked=0
for set in vp8-opus-1pub h264-opus-1pub; do
    for src in "$VB_FIXTURES/$set"/*.mjr; do
        name=$(basename "$src" .mjr)
        ours="$work/$name.mjr"
        "$VB_TEST_TOOLS/tool_mjr_refeed" "$src" "$ours" --seq-base 65500 --ts-base 0xFFFFF000 \
            --ssrc 0x5EED1234
        case "$name" in
        *audio*) ext=opus ;;
        *) if [ "$set" = h264-opus-1pub ]; then ext=mp4; else ext=webm; fi ;;
        esac
        janus-pp-rec "$ours" "$work/$name.$ext" >"$work/$name.pp.log" 2>&1 ||
            { cat "$work/$name.pp.log"; echo "janus-pp-rec failed on our $name"; exit 1; }
        ffprobe -v error -count_packets -show_streams -show_format -of json \
            "$work/$name.$ext" >"$work/$name.probe.json"
        err=$(ffmpeg -v error -i "$work/$name.$ext" -f null - 2>&1 || true)
        [ -z "$err" ] || { echo "decoding $name.$ext: $err"; exit 1; }
        md5=$(ffmpeg -v error -i "$work/$name.$ext" -map 0 -c copy -f md5 - | sed 's/^MD5=//')
        /usr/bin/python3 - "$work/$name.probe.json" "$VB_FIXTURES/$set/reference/report.json" \
            "$name" "$md5" <<'PY'
import json, sys
probe = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
name, md5 = sys.argv[3], sys.argv[4]
ref = next(r for r in report if name in r["mjr"])
st = probe["streams"][0]
assert st["codec_name"] == ref["out_codec"], (st["codec_name"], ref["out_codec"])
pk = int(st["nb_read_packets"])
assert pk == ref["out_packets"], (name, pk, ref["out_packets"])
dur = float(probe["format"]["duration"])
frame = 0.020 if ref["kind"] == "a" else 0.067
assert abs(dur - ref["out_duration"]) <= frame, (name, dur, ref["out_duration"])
assert md5 == ref["packets_md5"], (name, md5, ref["packets_md5"])
print(f"{name}: {st['codec_name']} {pk} packets {dur:.3f} s, content identical to Janus's")
PY
        checked=$((checked + 1))
    done
done
[ "$checked" -eq 4 ] || { echo "checked $checked files, want 4"; exit 1; }
echo ok
