#!/usr/bin/env bash
# `verbatim pp` on every recording real Janus made (tests/fixtures): the output has the codec,
# packet count and duration of janus-pp-rec's, and the same packets and decoded media
# (ffmpeg's md5 of the packets and of the decoded frames, from reference/report.json); the
# describing modes (-j, -e) print what janus-pp-rec printed; the same recordings converted by
# the real janus-pp-rec here give the same packets as ours.
set -euo pipefail
command -v ffprobe >/dev/null || { echo "ffprobe missing (apt-get install ffmpeg)"; exit 1; }
command -v janus-pp-rec >/dev/null || { echo "janus-pp-rec missing (apt-get install janus-tools)"; exit 1; }
work=$(mktemp -d /var/tmp/vb-pp-XXXXXX)
trap 'rm -rf "$work"' EXIT
checked=0
for set in vp8-opus-1pub h264-opus-1pub; do
    for src in "$VB_FIXTURES/$set"/*.mjr; do
        name=$(basename "$src" .mjr)
        case "$name" in
        *audio*) exts="opus ogg mka" ;;
        *) if [ "$set" = h264-opus-1pub ]; then exts="mp4 mkv"; else exts="webm mkv"; fi ;;
        esac
        ref="$VB_FIXTURES/$set/reference"
        # -j and -e print exactly what janus-pp-rec printed.
        diff <("$VERBATIM" pp -j "$src") "$ref/$name.json"
        diff <("$VERBATIM" pp -e "$src") "$ref/$name.extended.json"
        for ext in $exts; do
            out="$work/$name.$ext"
            "$VERBATIM" pp -q "$src" "$out" 2>"$work/log"
            [ ! -e "$out.part" ] || { echo "temporary file left: $out.part"; exit 1; }
            err=$(ffmpeg -v error -i "$out" -f null - 2>&1 || true)
            [ -z "$err" ] || { echo "decoding $out: $err"; exit 1; }
            ffprobe -v error -count_packets -show_streams -show_format -of json "$out" \
                >"$work/probe.json"
            pmd5=$(ffmpeg -v error -i "$out" -map 0 -c copy -f md5 - | sed 's/^MD5=//')
            dmd5=$(ffmpeg -v error -i "$out" -map 0 -f md5 - | sed 's/^MD5=//')
            /usr/bin/python3 - "$work/probe.json" "$ref/report.json" "$name" "$pmd5" "$dmd5" \
                "$ext" <<'PY'
import json, sys
probe = json.load(open(sys.argv[1]))
report = json.load(open(sys.argv[2]))
name, pmd5, dmd5, ext = sys.argv[3:7]
ref = next(r for r in report if name in r["mjr"])
st = probe["streams"][0]
assert st["codec_name"] == ref["out_codec"], (st["codec_name"], ref["out_codec"])
pk = int(st["nb_read_packets"])
assert pk == ref["out_packets"], (name, ext, pk, ref["out_packets"])
dur = float(probe["format"]["duration"])
frame = 0.020 if ref["kind"] == "a" else 0.067
assert abs(dur - ref["out_duration"]) <= frame, (name, ext, dur, ref["out_duration"])
# The decoded media is the same in any container; the packet md5 too.
assert dmd5 == ref["decoded_md5"], (name, ext, dmd5, ref["decoded_md5"])
assert pmd5 == ref["packets_md5"], (name, ext, pmd5, ref["packets_md5"])
if ref["kind"] == "v":
    assert (st["width"], st["height"]) == (320, 240), (st["width"], st["height"])
print(f"{name}.{ext}: {st['codec_name']} {pk} packets {dur:.3f} s, same as janus-pp-rec's")
PY
            checked=$((checked + 1))
        done
        # The real janus-pp-rec on the same file, here: same packets as ours.
        first=${exts%% *}
        janus-pp-rec "$src" "$work/jpp.$first" >/dev/null 2>&1
        a=$(ffmpeg -v error -i "$work/jpp.$first" -map 0 -c copy -f md5 -)
        b=$(ffmpeg -v error -i "$work/$name.$first" -map 0 -c copy -f md5 -)
        [ "$a" = "$b" ] || { echo "$name.$first: janus-pp-rec $a, ours $b"; exit 1; }
    done
done
[ "$checked" -eq 10 ] || { echo "expected 10 conversions, did $checked"; exit 1; }
echo "pp_fixtures: $checked conversions identical to janus-pp-rec's"
