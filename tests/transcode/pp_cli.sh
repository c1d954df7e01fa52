#!/usr/bin/env bash
# `verbatim pp` from the command line: A/V merge of each real-Janus fixture pair (tracks start
# where the MJR headers' wall clocks say, within 20 ms, and the file decodes without errors),
# exit codes and messages for bad input (1) and bad usage (2), nothing left behind on failure.
set -euo pipefail
work=$(mktemp -d /var/tmp/vb-ppcli-XXXXXX)
trap 'rm -rf "$work"' EXIT

expect_fail() { # expected-code pattern command...
    local code=$1 pattern=$2
    shift 2
    set +e
    "$@" >"$work/out" 2>"$work/err"
    local rc=$?
    set -e
    [ "$rc" -eq "$code" ] || { echo "exit $rc, expected $code: $*"; cat "$work/err"; exit 1; }
    grep -q -- "$pattern" "$work/err" || { echo "no '$pattern' in: $(cat "$work/err")"; exit 1; }
}

for set in vp8-opus-1pub h264-opus-1pub; do
    a=$(ls "$VB_FIXTURES/$set"/*-audio-*.mjr)
    v=$(ls "$VB_FIXTURES/$set"/*-video-*.mjr)
    if [ "$set" = vp8-opus-1pub ]; then exts="webm mkv"; else exts="mp4 mkv"; fi
    for ext in $exts; do
        out="$work/$set.$ext"
        "$VERBATIM" pp -q --merge "$out" "$a" "$v" 2>"$work/log"
        err=$(ffmpeg -v error -i "$out" -f null - 2>&1 || true)
        [ -z "$err" ] || { echo "decoding $out: $err"; exit 1; }
        ffprobe -v error -count_packets -show_streams -show_format -of json "$out" >"$work/p.json"
        ua=$("$VERBATIM" pp -j "$a" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["u"])')
        uv=$("$VERBATIM" pp -j "$v" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["u"])')
        /usr/bin/python3 - "$work/p.json" "$ua" "$uv" "$out" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
ua, uv, out = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
st = {s["codec_type"]: s for s in p["streams"]}
assert set(st) == {"audio", "video"}, st.keys()
a0 = float(st["audio"]["start_time"]); v0 = float(st["video"]["start_time"])
want = (uv - ua) / 1e6          # video's first frame after audio's, by the headers
assert abs((v0 - a0) - want) <= 0.020, (out, v0 - a0, want)
assert int(st["audio"]["nb_read_packets"]) >= 504 and int(st["video"]["nb_read_packets"]) == 152
dur = float(p["format"]["duration"])
assert abs(dur - 10.1) <= 0.1, (out, dur)
print(f"{out}: audio at {a0:.3f} s, video at {v0:.3f} s (headers: {want:.3f} s apart), {dur:.3f} s")
PY
    done
done

a=$(ls "$VB_FIXTURES/vp8-opus-1pub"/*-audio-*.mjr)
v=$(ls "$VB_FIXTURES/vp8-opus-1pub"/*-video-*.mjr)
# A codec the container cannot hold: exit 1, says where it can go, leaves nothing.
expect_fail 1 "vp8 cannot go into a .mp4 file (it can go into: webm, mkv)" \
    "$VERBATIM" pp "$v" "$work/x.mp4"
[ ! -e "$work/x.mp4" ] && [ ! -e "$work/x.mp4.part" ]
expect_fail 1 "opus cannot go into a .wav" "$VERBATIM" pp "$a" "$work/x.wav"
expect_fail 1 "unknown output format" "$VERBATIM" pp -f avi "$a" "$work/x.avi"
expect_fail 1 "give --format" "$VERBATIM" pp "$a" "$work/noextension"
# --format wins over the extension.
"$VERBATIM" pp -q -f ogg "$a" "$work/audio.bin" 2>/dev/null
[ "$(ffprobe -v error -show_entries format=format_name -of csv=p=0 "$work/audio.bin")" = ogg ]
# Not MJR at all; a file that does not exist.
echo "hello" >"$work/text.mjr"
expect_fail 1 "not an MJR" "$VERBATIM" pp "$work/text.mjr" "$work/y.opus"
[ ! -e "$work/y.opus" ]
expect_fail 1 "verbatim pp:" "$VERBATIM" pp "$work/missing.mjr" "$work/y.opus"
expect_fail 1 "not an MJR" "$VERBATIM" pp -j "$work/text.mjr"
# Only the magic (Janus leaves this when ICE never completes).
printf 'MJR00002' >"$work/magic.mjr"
expect_fail 1 "verbatim pp:" "$VERBATIM" pp "$work/magic.mjr" "$work/z.opus"
[ ! -e "$work/z.opus" ] && [ ! -e "$work/z.opus.part" ]
# Usage errors: exit 2.
expect_fail 2 "unknown or incomplete option" "$VERBATIM" pp --bogus "$a" "$work/q.opus"
expect_fail 2 "no destination" "$VERBATIM" pp "$a"
expect_fail 2 "invalid --payload-type" "$VERBATIM" pp -P 300 "$a" "$work/q.opus"
expect_fail 2 "usage" "$VERBATIM" pp
# -P keeps only that payload type: a wrong one leaves nothing to convert.
expect_fail 1 "no frames" "$VERBATIM" pp -P 100 "$a" "$work/q.opus"
[ ! -e "$work/q.opus" ]
# -i skips the first packets; -F lists the formats per codec; -H describes the header.
"$VERBATIM" pp -i 4 "$a" "$work/skip.opus" 2>"$work/log"
[ "$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$work/skip.opus")" = 500 ]
"$VERBATIM" pp -F | grep -q '^h264 *mkv, mp4$'
"$VERBATIM" pp -F | grep -q '^pcmu *wav$'
"$VERBATIM" pp -H "$v" | grep -q -- "-- Codec:   vp8"
"$VERBATIM" pp -p "$v" | grep -q "Counted 212 RTP packets"
echo "pp_cli: ok"
