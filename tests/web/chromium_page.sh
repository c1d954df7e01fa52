#!/usr/bin/env bash
# The catalog end to end in a real browser: real-Janus recordings indexed with `verbatim
# catalog scan`, `verbatim serve` started on them, an A/V merge job created over the API and
# run by the server's transcode workers, then headless Chromium loads the catalog page for the
# room and must show the participant's recordings with their SHA-256 and a <video> of the
# output that the browser could load (its duration is the recording's). A screenshot is left
# in the test's working folder (catalog-page.png).
set -euo pipefail
command -v chromium >/dev/null || { echo "chromium missing (apt-get install chromium)"; exit 1; }
work=$(mktemp -d /var/tmp/vb-chromium-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
data="$work/data"
# A copy, not the fixtures themselves: a scan hard-links into the data folder.
mkdir -p "$work/src"
cp "$VB_FIXTURES"/vp8-opus-1pub/*.mjr "$work/src/"
"$VERBATIM" catalog scan "$work/src" --data "$data" >"$work/scan"
grep -q "scan: 2 indexed" "$work/scan" || { cat "$work/scan"; exit 1; }
"$VERBATIM" serve --data "$data" --web-port 0 --janus-port 0 --admin-port 0 --workers 1 2>"$work/log" &
pid=$!
port=
for _ in $(seq 100); do
    port=$(grep -o "web catalog: http://127.0.0.1:[0-9]*" "$work/log" | grep -o "[0-9]*$" || true)
    [ -n "$port" ] && grep -q serving "$work/log" && break
    sleep 0.1
done
[ -n "$port" ] || { cat "$work/log"; echo "serve did not start"; exit 1; }
token=$(cat "$data/catalog-token")
room=118810912
# Merge the participant's audio and video into one WebM and wait for the worker.
/usr/bin/python3 - "$port" "$token" "$room" <<'PY'
import json, sys, time, urllib.request
port, token, room = sys.argv[1:4]
def call(path, body=None):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/api{path}",
                                 data=json.dumps(body).encode() if body else None,
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.load(r)
recs = call(f"/recordings?room={room}")["recordings"]
assert len(recs) == 2 and all(r["state"] == "closed" for r in recs), recs
job = call("/jobs", {"recordings": [r["id"] for r in recs], "format": "webm"})["id"]
for _ in range(300):
    j = call(f"/jobs/{job}")
    if j["state"] in ("done", "failed", "cancelled"):
        break
    time.sleep(0.1)
assert j["state"] == "done", j
out = call(f"/outputs/{j['outputs'][0]}")
assert out["format"] == "webm" and out["size"] > 0 and len(out["sha256"]) == 64, out
print("job", job, "done:", out["path"])
PY
url="http://127.0.0.1:$port/#token=$token&/rooms/$room"
chrome=(chromium --headless --no-sandbox --disable-gpu --user-data-dir="$work/profile"
        --hide-scrollbars --window-size=1280,1000 --virtual-time-budget=15000)
# Virtual time can run out before the media's metadata arrives (it loads in real time): the
# page is loaded again, a few times at most, until the <video> reports its duration.
for try in 1 2 3 4 5 6 7 8; do
    timeout 90 "${chrome[@]}" --dump-dom "$url" >"$work/dom.html" 2>"$work/chrome.err" || true
    # the <video> of the output itself must have its duration (another player's is not enough)
    grep -Eq '<video[^>]*class="output-player"[^>]*data-duration=|<video[^>]*data-duration=[^>]*class="output-player"' \
        "$work/dom.html" && break
    echo "try $try: no duration yet (chromium: $(tail -c 300 "$work/chrome.err" | tr '\n' ' '))"
    sleep 1
done
timeout 90 "${chrome[@]}" --screenshot="$PWD/catalog-page.png" "$url" >/dev/null 2>&1
/usr/bin/python3 - "$work/dom.html" <<'PY'
import re, sys
dom = open(sys.argv[1]).read()
assert 'data-participant="4292621012949761"' in dom, "participant not shown"
assert dom.count("6cb091bfacaed164351680d7ebf32dcd3e8f7020024e423fcd9f417834fb44b0") >= 1, "audio SHA-256 not shown"
video = re.search(r'<video[^>]*class="output-player"[^>]*>', dom)
assert video, "no <video> of the output"
dur = re.search(r'data-duration="([0-9.]+)"', video.group(0))
assert dur, "the browser could not load the output: " + video.group(0)
assert abs(float(dur.group(1)) - 10.08) < 0.1, dur.group(1)
print("page shows the participant and a playable", dur.group(1), "s video")
PY
[ -s "$PWD/catalog-page.png" ] || { echo "no screenshot"; exit 1; }
echo "screenshot: $PWD/catalog-page.png"
