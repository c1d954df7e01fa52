#!/usr/bin/env bash
# Checks `verbatim mjr2pcap` and `verbatim pcap2mjr` against Janus's own tools (janus-tools
# 1.1.2) on every fixture recording:
#   - our mjr2pcap output is byte-identical to the real mjr2pcap's (nothing in it depends on
#     the time of the run for MJR00002 files);
#   - that capture converted back by our pcap2mjr and by the real pcap2mjr gives the same bytes,
#     from pcap, nanosecond pcap and pcapng alike, and the same frames (times and RTP bytes) and
#     header as the original recording, except "s", which both tools set to "u";
#   - the real janus-pp-rec converts our recording to a file with as many packets as the
#     reference conversion of the original (ffprobe -count_packets).
# Also checks the command-line contract: usage errors exit 2, failures exit 1.
set -euo pipefail

: "${VERBATIM:?path of the built verbatim program}"
: "${VB_FIXTURES:?tests/fixtures}"
for tool in mjr2pcap pcap2mjr janus-pp-rec ffprobe editcap python3; do
    command -v "$tool" >/dev/null || { echo "FAIL: $tool is not installed"; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() {
    echo "FAIL: $*"
    fail=1
}

# Prints "s=<s>" then the header without "s", then one line per frame (t_ms, body hex).
mjr_frames() {
    python3 - "$1" <<'EOF'
import json, struct, sys
d = open(sys.argv[1], 'rb').read()
assert d[:8] == b'MJR00002', 'not MJR00002'
n = struct.unpack('>H', d[8:10])[0]
h = json.loads(d[10:10 + n])
print('s=%s' % h.pop('s'))
print(json.dumps(h, sort_keys=True))
off = 10 + n
while off + 10 <= len(d) and d[off:off + 4] == b'MEET':
    t, L = struct.unpack('>IH', d[off + 4:off + 10])
    print(t, d[off + 10:off + 10 + L].hex())
    off += 10 + L
print('end', off, len(d))
EOF
}

packets() {
    ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$1"
}

ext_for() {
    case "$1" in
    opus) echo opus ;;
    vp8 | vp9) echo webm ;;
    *) echo mp4 ;;
    esac
}

count=0
for mjr in "$VB_FIXTURES"/*/*.mjr; do
    name=$(basename "$mjr" .mjr)
    dir=$(dirname "$mjr")
    codec=$(head -c 200 "$mjr" | grep -ao '"c": "[a-z0-9]*"' | head -1 | cut -d'"' -f4)
    [ -n "$codec" ] || { bad "$name: no codec in the header"; continue; }
    w="$work/$name"
    mkdir -p "$w"

    # 1. mjr2pcap: byte for byte.
    mjr2pcap "$mjr" "$w/ref.pcap" >/dev/null 2>&1 || bad "$name: real mjr2pcap failed"
    "$VERBATIM" mjr2pcap "$mjr" "$w/our.pcap" || bad "$name: our mjr2pcap failed"
    cmp "$w/ref.pcap" "$w/our.pcap" || bad "$name: mjr2pcap output differs from the real one"

    # 2. pcap2mjr, ours and the real one, from pcap / ns pcap / pcapng.
    editcap -F nsecpcap "$w/our.pcap" "$w/our-ns.pcap"
    editcap -F pcapng "$w/our.pcap" "$w/our.pcapng"
    pcap2mjr -c "$codec" "$w/our.pcap" "$w/real.mjr" >/dev/null 2>&1 ||
        bad "$name: real pcap2mjr failed"
    for cap in our.pcap our-ns.pcap our.pcapng; do
        "$VERBATIM" pcap2mjr -c "$codec" "$w/$cap" "$w/ours-$cap.mjr" 2>"$w/err" ||
            { cat "$w/err"; bad "$name: our pcap2mjr failed on $cap"; continue; }
        cmp "$w/real.mjr" "$w/ours-$cap.mjr" || bad "$name: pcap2mjr of $cap differs from the real one"
    done
    mjr_frames "$mjr" >"$w/orig.frames"
    mjr_frames "$w/ours-our.pcap.mjr" >"$w/ours.frames"
    u=$(sed -n 2p "$w/ours.frames" | grep -o '"u": [0-9]*' | cut -d' ' -f2)
    [ "$(head -1 "$w/ours.frames")" = "s=$u" ] || bad "$name: \"s\" is not \"u\""
    diff -q <(tail -n +2 "$w/orig.frames") <(tail -n +2 "$w/ours.frames") >/dev/null ||
        bad "$name: frames or header differ from the original recording"
    frames=$(grep -c '^[0-9]' "$w/ours.frames")
    [ "$frames" -gt 100 ] || bad "$name: only $frames frames"

    # 3. The real post-processor converts our recording like the original.
    ext=$(ext_for "$codec")
    ref="$dir/reference/$name.$ext.ffprobe.json"
    want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["streams"][0]["nb_read_packets"])' "$ref")
    janus-pp-rec "$w/ours-our.pcap.mjr" "$w/out.$ext" >/dev/null 2>&1 ||
        bad "$name: janus-pp-rec failed on our recording"
    got=$(packets "$w/out.$ext")
    [ "$got" = "$want" ] || bad "$name: janus-pp-rec made $got packets, reference $want"
    echo "ok: $name ($codec): pcap identical, $frames frames, $got packets in .$ext"
    count=$((count + 1))
done
[ "$count" -ge 4 ] || bad "only $count fixtures checked"

# Older versions (MJR00001, legacy MEETECHO) have no frame times: both tools stamp packets
# with the time of the conversion, so compare everything but the record times.
python3 - "$(ls "$VB_FIXTURES"/*/*audio*.mjr | head -1)" "$work" <<'PY'
import struct, sys
d = open(sys.argv[1], 'rb').read()
n = struct.unpack('>H', d[8:10])[0]
off, v1, legacy = 10 + n, b'MJR00001' + d[8:10 + n], b'MEETECHO\0\x05audio'
while off + 10 <= len(d):
    L = struct.unpack('>H', d[off + 8:off + 10])[0]
    frame = b'MEETECHO' + d[off + 8:off + 10] + d[off + 10:off + 10 + L]
    v1 += frame
    legacy += frame
    off += 10 + L
open(sys.argv[2] + '/v1.mjr', 'wb').write(v1)
open(sys.argv[2] + '/legacy.mjr', 'wb').write(legacy)
PY
pcap_untimed() {
    python3 - "$1" <<'PY'
import hashlib, struct, sys
d = bytearray(open(sys.argv[1], 'rb').read())
off, n = 24, 0
while off + 16 <= len(d):
    cap = struct.unpack('<I', d[off + 8:off + 12])[0]
    d[off:off + 8] = bytes(8)
    off += 16 + cap
    n += 1
print('%d records, %d bytes, sha256 %s' % (n, len(d), hashlib.sha256(d).hexdigest()[:16]))
PY
}
for v in v1 legacy; do
    mjr2pcap "$work/$v.mjr" "$work/$v-ref.pcap" >/dev/null 2>&1 || bad "real mjr2pcap failed on $v"
    "$VERBATIM" mjr2pcap "$work/$v.mjr" "$work/$v-our.pcap" || bad "our mjr2pcap failed on $v"
    ref=$(pcap_untimed "$work/$v-ref.pcap")
    [ "$ref" = "$(pcap_untimed "$work/$v-our.pcap")" ] || bad "$v: pcap differs beyond record times"
    case "$ref" in 50[45]" records"*) ;; *) bad "$v: unexpected capture: $ref" ;; esac
    echo "ok: $v: pcap identical except record times ($ref)"
done

# Command-line contract.
one="$work/$(basename "$(ls "$VB_FIXTURES"/*/*audio*.mjr | head -1)" .mjr)/our.pcap"
expect_rc() {
    local want=$1
    shift
    local rc=0
    "$@" >/dev/null 2>"$work/stderr" || rc=$?
    [ "$rc" = "$want" ] || bad "exit $rc (want $want): $*"
    [ "$want" = 0 ] || [ -s "$work/stderr" ] || bad "no message on stderr: $*"
}
expect_rc 2 "$VERBATIM" pcap2mjr "$one" "$work/x.mjr"
expect_rc 2 "$VERBATIM" pcap2mjr -c mp3 "$one" "$work/x.mjr"
expect_rc 2 "$VERBATIM" pcap2mjr -c opus -s nope "$one" "$work/x.mjr"
expect_rc 2 "$VERBATIM" pcap2mjr -c opus "$one"
expect_rc 2 "$VERBATIM" mjr2pcap "$one"
expect_rc 2 "$VERBATIM" mjr2pcap -x a b
expect_rc 1 "$VERBATIM" pcap2mjr -c opus "$work/missing.pcap" "$work/x.mjr"
expect_rc 1 "$VERBATIM" pcap2mjr -c opus "$mjr" "$work/x.mjr"
expect_rc 1 "$VERBATIM" mjr2pcap "$one" "$work/x.pcap"
printf 'MJR00002\0\047{"t": "d", "c": "text", "s": 1, "u": 2}' >"$work/data.mjr"
expect_rc 1 "$VERBATIM" mjr2pcap "$work/data.mjr" "$work/x.pcap"
grep -q 'data recording' "$work/stderr" || bad "data recording: unclear message"
# An existing destination is replaced, as the real tool does; --ssrc=0x.. and -w work.
expect_rc 0 "$VERBATIM" pcap2mjr --codec=opus -w --ssrc=0x0 "$one" "$work/x.mjr"
expect_rc 0 "$VERBATIM" pcap2mjr -c opus "$one" "$work/x.mjr"
[ "$(stat -c %s "$work/x.mjr")" -gt 1000 ] || bad "destination not replaced"
ls "$work"/x.mjr.* >/dev/null 2>&1 && bad "temporary files left next to the destination"

[ "$fail" = 0 ] && echo "PASS: $count recordings"
exit "$fail"
