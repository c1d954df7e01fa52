#!/usr/bin/env bash
# `verbatim serve`: starts on a data folder, finalizes a recording a crash left open, reports
# ready, and stops cleanly on SIGTERM.
set -euo pipefail
dir=$(mktemp -d /var/tmp/vb-serve-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$dir"; }
trap cleanup EXIT
mkdir -p "$dir/data/recordings/1234"
# A crashed recording as our writer leaves one: whole blocks of a real Janus file (the last
# frame cut at the block boundary), then the zeros fallocate() reserved ahead.
src=$(ls "$VB_FIXTURES"/vp8-opus-1pub/*audio-0.mjr)
tmp="$dir/data/recordings/1234/videoroom-1234-user-1-1-audio-0.mjr.tmp"
cut=49152
head -c $cut "$src" >"$tmp"
head -c 65536 /dev/zero >>"$tmp"
# The frames that end within the cut, and where the last of them ends.
read -r want_frames want_size < <(/usr/bin/python3 - "$src" $cut <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
cut = int(sys.argv[2])
off = 10 + struct.unpack(">H", data[8:10])[0]
frames, end = 0, off
while off + 10 <= len(data):
    n = struct.unpack(">H", data[off + 8:off + 10])[0]
    if off + 10 + n > cut:
        break
    off += 10 + n
    frames, end = frames + 1, off
print(frames, end)
PY
)
"$VERBATIM" serve --data "$dir/data" 2>"$dir/log" &
pid=$!
for _ in $(seq 100); do
    grep -q "serving" "$dir/log" && break
    sleep 0.1
done
grep -q "serving" "$dir/log" || { cat "$dir/log"; echo "serve did not start"; exit 1; }
final="${tmp%.tmp}"
[ -f "$final" ] && [ ! -e "$tmp" ] || { cat "$dir/log"; echo "crashed file not finalized"; exit 1; }
size=$(stat -c %s "$final")
[ "$size" -eq "$want_size" ] || { echo "recovered size $size, want $want_size"; exit 1; }
"$VERBATIM" mjr info --json "$final" | /usr/bin/python3 -c '
import json, sys
j = json.load(sys.stdin)
assert j["truncated"] is False, j
assert j["frames"] == int(sys.argv[1]), (j["frames"], sys.argv[1])
' "$want_frames"
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || { cat "$dir/log"; echo "serve exited $rc"; exit 1; }
grep -q "stopped" "$dir/log"
echo ok
