#!/usr/bin/env bash
# Web catalog download throughput: one 1 GiB recording downloaded with curl from `verbatim
# serve` (GET /api/recordings/ID/file, bearer token) and from `python3 -m http.server` serving
# the same file, alternately, three times each, in one run. Prints MB/s and the ratio; the
# target is ours >= the baseline's. Also times 200 concurrent API clients (10 requests each).
# usage: bench/web_download.sh [path/to/verbatim]   (about a minute; needs 2.2 GB under /var/tmp)
set -euo pipefail
verbatim=${1:-build/verbatim}
work=$(mktemp -d /var/tmp/vb-webbench-XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; rm -rf "$work"; }
trap cleanup EXIT
mkdir -p "$work/src"
# A valid MJR of 1 GiB: a header, then 1,100-byte RTP frames.
/usr/bin/python3 - "$work/src/videoroom-1-user-2-3-video-0.mjr" <<'PY'
import struct, sys
hdr = b'{"t": "v", "c": "vp8", "s": 1700000000000000, "u": 1700000000000000}'
frame_rtp = bytearray(1100)
frame_rtp[0] = 0x80; frame_rtp[1] = 96
with open(sys.argv[1], "wb") as f:
    f.write(b"MJR00002" + struct.pack(">H", len(hdr)) + hdr)
    chunk = bytearray()
    size, seq = 0, 0
    while size < (1 << 30):
        struct.pack_into(">HI", frame_rtp, 2, seq & 0xffff, (seq // 5) * 3000 & 0xffffffff)
        chunk += b"MEET" + struct.pack(">IH", seq * 7, len(frame_rtp)) + frame_rtp
        seq += 1
        if len(chunk) >= 1 << 20:
            f.write(chunk); size += len(chunk); chunk = bytearray()
    f.write(chunk)
PY
"$verbatim" catalog scan "$work/src" --data "$work/data" >/dev/null
"$verbatim" serve --data "$work/data" --web-port 0 --workers 1 --no-auto-transcode 2>"$work/log" &
pids+=($!)
port=
for _ in $(seq 100); do
    port=$(grep -o "web catalog: http://127.0.0.1:[0-9]*" "$work/log" | grep -o "[0-9]*$" || true)
    [ -n "$port" ] && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/log"; exit 1; }
token=$(cat "$work/data/catalog-token")
pyport=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
/usr/bin/python3 -m http.server --bind 127.0.0.1 --directory "$work/data/recordings/1" "$pyport" \
    >/dev/null 2>&1 &
pids+=($!)
sleep 1
file=videoroom-1-user-2-3-video-0.mjr
ours() {
    curl -s -o /dev/null -H "Authorization: Bearer $token" -w '%{speed_download} %{size_download}\n' \
        "http://127.0.0.1:$port/api/recordings/1/file"
}
base() { curl -s -o /dev/null -w '%{speed_download} %{size_download}\n' "http://127.0.0.1:$pyport/$file"; }
echo "web_download: 1 GiB file, curl to /dev/null, 3 alternating runs each"
o=() b=()
for run in 1 2 3; do
    read -r so no < <(ours)
    read -r sb nb < <(base)
    [ "$no" = "$nb" ] || { echo "sizes differ: $no vs $nb"; exit 1; }
    o+=("$so") b+=("$sb")
    printf '  run %d: verbatim %8.1f MB/s   python http.server %8.1f MB/s\n' "$run" \
        "$(echo "$so / 1000000" | bc -l)" "$(echo "$sb / 1000000" | bc -l)"
done
/usr/bin/python3 - "${o[@]}" "${b[@]}" <<'PY'
import statistics, sys
v = [float(x) for x in sys.argv[1:4]]; p = [float(x) for x in sys.argv[4:7]]
mv, mp = statistics.median(v) / 1e6, statistics.median(p) / 1e6
print(f"median: verbatim {mv:.1f} MB/s, python http.server {mp:.1f} MB/s, ratio {mv / mp:.2f}"
      f"   target >= 1.0: {'PASS' if mv >= mp else 'MISS'}")
PY
# 200 concurrent API clients, 10 requests each.
/usr/bin/python3 - "$port" "$token" <<'PY'
import sys, threading, time, urllib.request
port, token = sys.argv[1:3]
errors, lat = [], []
lock = threading.Lock()
def client():
    for path in ["/api/rooms", "/api/recordings?limit=10", "/api/recordings/1"] * 3 + ["/api/jobs"]:
        t0 = time.monotonic()
        try:
            req = urllib.request.Request(f"http://127.0.0.1:{port}{path}",
                                         headers={"Authorization": f"Bearer {token}"})
            with urllib.request.urlopen(req, timeout=30) as r:
                r.read()
                ok = r.status == 200
        except Exception as e:
            ok = False
        with lock:
            lat.append(time.monotonic() - t0)
            if not ok:
                errors.append(path)
threads = [threading.Thread(target=client) for _ in range(200)]
t0 = time.monotonic()
for t in threads: t.start()
for t in threads: t.join()
wall = time.monotonic() - t0
lat.sort()
print(f"200 concurrent API clients x 10 requests: {len(lat)} requests in {wall:.2f} s, "
      f"{len(errors)} errors, p50 {lat[len(lat)//2]*1000:.1f} ms, p99 {lat[int(len(lat)*0.99)]*1000:.1f} ms"
      f"   target 0 errors: {'PASS' if not errors else 'MISS'}")
PY
