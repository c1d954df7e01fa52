#!/usr/bin/env bash
# `verbatim serve`: starts on a data folder, finalizes a recording a crash left open (and
# indexes it), converts it with an automatic job, creates the catalog token (mode 0600),
# serves the web catalog, and stops cleanly on SIGTERM; the catalog then verifies intact
# (the recording and the output).
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
"$VERBATIM" serve --data "$dir/data" --web-port 0 --janus-port 0 --admin-port 0 --workers 1 2>"$dir/log" &
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
# The recovered participant's recordings are all finished: an automatic job converts them.
out=
for _ in $(seq 100); do
    out=$(ls "$dir"/data/outputs/*/*.opus 2>/dev/null || true)
    [ -n "$out" ] && grep -q "job 1 done" "$dir/log" && break
    sleep 0.1
done
[ -n "$out" ] || { cat "$dir/log"; echo "no automatic conversion"; exit 1; }
pkts=$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$out")
[ "$pkts" -eq "$want_frames" ] || { echo "output has $pkts packets, want $want_frames"; exit 1; }
kill -TERM "$pid"
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 0 ] || { cat "$dir/log"; echo "serve exited $rc"; exit 1; }
grep -q "stopped" "$dir/log"
grep -q "generated the catalog token: $dir/data/catalog-token" "$dir/log"
[ "$(stat -c %a "$dir/data/catalog-token")" = 600 ]
grep -q "web catalog: http://127.0.0.1:" "$dir/log"
"$VERBATIM" catalog verify --data "$dir/data" >"$dir/verify" ||
    { cat "$dir/verify"; echo "verify failed"; exit 1; }
grep -q "2 files checked, 0 missing, 0 mismatched" "$dir/verify" || { cat "$dir/verify"; exit 1; }
# A second start reuses the token and finds nothing to recover.
"$VERBATIM" serve --data "$dir/data" --web-port 0 --janus-port 0 --admin-port 0 2>"$dir/log2" &
pid=$!
for _ in $(seq 100); do
    grep -q "serving" "$dir/log2" && break
    sleep 0.1
done
! grep -q "generated the catalog token" "$dir/log2"
! grep -q "crash recovery" "$dir/log2"
kill -TERM "$pid"
wait "$pid"
pid=
# A corrupt catalog is refused at start, and left as it was.
echo "not a database" >"$dir/bad.db"
mkdir -p "$dir/bad"
cp "$dir/bad.db" "$dir/bad/catalog.db"
if "$VERBATIM" serve --data "$dir/bad" --web-port 0 --janus-port 0 --admin-port 0 2>"$dir/log3"; then
    echo "serve started on a corrupt catalog"; exit 1
fi
grep -q "not an SQLite database" "$dir/log3" || { cat "$dir/log3"; exit 1; }
cmp "$dir/bad.db" "$dir/bad/catalog.db"
echo ok
