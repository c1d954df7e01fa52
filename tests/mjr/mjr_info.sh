#!/usr/bin/env bash
# Scripted test of `verbatim mjr info`: the Janus fixtures report the frame counts, durations
# and headers of their reference dumps; a truncated copy reports the damage; files that are not
# MJR exit 1 and bad usage exits 2.
set -euo pipefail
: "${VERBATIM:?VERBATIM must name the built program}"
: "${VB_FIXTURES:?VB_FIXTURES must name tests/fixtures}"
PY=/usr/bin/python3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# check FILE FRAMES CODEC KIND MJR_DURATION_S FRAME_MS: --json output against the README table.
check() {
    local file=$1 frames=$2 codec=$3 kind=$4 dur=$5 frame_ms=$6
    "$VERBATIM" mjr info --json "$file" >"$work/out.json" || fail "mjr info failed on $file"
    "$PY" - "$work/out.json" "$frames" "$codec" "$kind" "$dur" "$frame_ms" <<'EOF'
import json, sys
path, frames, codec, kind, dur, frame_ms = sys.argv[1:]
with open(path) as fp:
    text = fp.read()
assert text.count("\n") == 1, "expected one JSON object on one line"
o = json.loads(text)
def want(cond, what):
    if not cond:
        sys.exit("%s: %s (got %s)" % (path, what, json.dumps(o)))
want(o["version"] == 2, "version 2")
want(o["frames"] == int(frames), "frames == %s" % frames)
want(o["header"]["c"] == codec, "header.c == %s" % codec)
want(o["header"]["t"] == kind, "header.t == %s" % kind)
want(o["codec"] == codec, "codec")
want(o["truncated"] is False, "not truncated")
want(o["diag"] == "", "empty diag")
want(abs(o["duration_ms"] - float(dur) * 1000) <= int(frame_ms), "duration near %s s" % dur)
want(o["first_ms"] == 0 and o["last_ms"] == o["duration_ms"], "first/last ms")
want(len(o["ssrcs"]) == 1, "one SSRC")
want(o["gaps"] == [] and o["gap_count"] == 0, "no gaps")
want(o["bytes"] == o["good_end"], "good_end at the end")
EOF
}

vp8=$VB_FIXTURES/vp8-opus-1pub
h264=$VB_FIXTURES/h264-opus-1pub
check "$vp8"/*-audio-0.mjr 504 opus a 10.06 20
check "$vp8"/*-video-1.mjr 212 vp8 v 10.067 67
check "$h264"/*-audio-0.mjr 505 opus a 10.08 20
check "$h264"/*-video-1.mjr 154 h264 v 10.067 67

# The text report says the same.
"$VERBATIM" mjr info "$vp8"/*-video-1.mjr >"$work/out.txt"
grep -q '^frames: *212 ' "$work/out.txt" || fail "text report frames"
grep -q '^codec: *vp8$' "$work/out.txt" || fail "text report codec"
grep -q '^end: *clean' "$work/out.txt" || fail "text report end"

# A truncated copy: fewer frames, truncated, a diagnostic, exit 0.
head -c 100000 "$vp8"/*-audio-0.mjr >"$work/cut.mjr"
"$VERBATIM" mjr info --json "$work/cut.mjr" >"$work/cut.json" || fail "mjr info on a cut file"
"$PY" - "$work/cut.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["truncated"] is True, o
assert 0 < o["frames"] < 504, o
assert o["good_end"] < o["bytes"] == 100000, o
assert "declares" in o["diag"] or "prefix" in o["diag"], o
EOF
"$VERBATIM" mjr info "$work/cut.mjr" | grep -q '^end: *TRUNCATED' || fail "text says TRUNCATED"

# Preallocated zeros after the end are reported as such.
{ cat "$h264"/*-video-1.mjr; head -c 65536 /dev/zero; } >"$work/zeros.mjr"
"$VERBATIM" mjr info --json "$work/zeros.mjr" >"$work/zeros.json"
"$PY" - "$work/zeros.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["truncated"] is True and o["frames"] == 154, o
assert "zero" in o["diag"], o
EOF

# A legacy file: header synthesized, duration from RTP time.
"$PY" - "$work/legacy.mjr" <<'EOF'
import struct, sys
out = bytearray(b"MEETECHO" + struct.pack(">H", 5) + b"audio")
for i in range(51):
    pkt = struct.pack(">BBHII", 0x80, 111, i + 1, i * 960, 1234) + bytes(20)
    out += b"MEETECHO" + struct.pack(">H", len(pkt)) + pkt
open(sys.argv[1], "wb").write(out)
EOF
"$VERBATIM" mjr info --json "$work/legacy.mjr" >"$work/legacy.json"
"$PY" - "$work/legacy.json" <<'EOF'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["version"] == 0 and o["frames"] == 51, o
assert o["header"] == {"t": "a", "c": "opus"}, o
assert o["duration_ms"] == 1000 and o["time_source"] == "RTP timestamps", o
assert o["ssrcs"] == [1234] and o["truncated"] is False, o
EOF

# Not MJR, missing: exit 1 with a message. Bad usage: exit 2.
expect_rc() {
    local want=$1
    shift
    set +e
    "$VERBATIM" "$@" >"$work/stdout" 2>"$work/stderr"
    local rc=$?
    set -e
    [ "$rc" -eq "$want" ] || fail "verbatim $* exited $rc, expected $want"
    [ -s "$work/stderr" ] || fail "verbatim $* printed nothing on stderr"
}
printf 'GIF89a not a recording' >"$work/not.mjr"
expect_rc 1 mjr info "$work/not.mjr"
grep -q 'not an MJR file' "$work/stderr" || fail "not-MJR message"
expect_rc 1 mjr info "$work/does-not-exist.mjr"
expect_rc 2 mjr
expect_rc 2 mjr frobnicate
expect_rc 2 mjr info
expect_rc 2 mjr info --bogus "$work/cut.mjr"
echo "mjr_info: all checks passed"
