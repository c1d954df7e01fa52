#!/usr/bin/env bash
# VideoRoom simulcast end to end with a browser: janus.js in headless Chromium (fake devices),
# inside a network namespace of its own (peers/netns.sh), against one server (peers/target.sh).
# peers/chromium_simulcast.py creates a room (record: true, VP8, bitrate 2 Mbps) and drives
# peers/chromium_simulcast.html, whose checks are:
#   layers    publisher A sends its 1280x720 camera as three rid layers (h, m, l), all encoding;
#   low       subscriber B joined with substream 0 decodes only the l layer's width;
#   switch    `configure` substream 2: B decodes the h layer's width within 4 s and gets the
#             {"videoroom":"event","mid":M,"substream":2} event;
#   temporal  (when A's layers carry temporal layers) `configure` temporal 0: a "temporal": 0
#             event and B's frame rate drops to <= 60% of before; temporal 2 brings it back;
#   fallback  A turns its h encoding off: B falls back to m's width with a "substream": 1
#             event, and back to h with "substream": 2 when h is on again;
#   down      `configure` substream 0: B is back at l's width with a "substream": 0 event;
# with handle_info of both handles (Admin API) read after "switch", "temporal" and while h is
# off. Then A unpublishes, and A's video recording (videoroom-ROOM-user-FEED-*-video-*.mjr, in
# DATA/recordings for verbatim, in the room's rec_dir for Janus) must convert with the real
# janus-pp-rec into a WebM whose every decoded frame is the h layer's size (the top substream
# is recorded, not a lower one), lasting at least half of A's publishing time, and decoding
# with ffmpeg without a word on stderr. (Janus 1.1.2 records the best substream it has from
# the first keyframe on, so its file may start on a lower layer: for it the h layer must be
# >= 90% of the frames and the last one; the rest is printed as "janus 1.1.2 differs".)
#
# env: VB_ECHO_TARGET=janus     real Janus 1.1.2 (peers/janus_ref.sh)
#      VB_ECHO_TARGET=verbatim  (the default) `$VERBATIM serve`
#      VB_SC_BITRATE=BPS        the room's bitrate, sent as REMB (default 2000000, above the
#                               ~1.1 Mbps the three layers need; 0 passes too)
#      VB_SC_RESULT=FILE        also write the driver's JSON result (page, probes) there
#      VB_SC_KEEP=1             keep the temporary folder (logs, recording, conversion)
# Runtime: about 30 s. Skips (exit 77) without root, Chromium, janus.js, adapter.js,
# python3-requests, janus-pp-rec, ffmpeg/ffprobe or the target.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
ROOM=4343
CHROMIUM=/usr/bin/chromium
ADAPTER_JS=/usr/share/javascript/webrtc-adapter/adapter.js
JANUS_JS=/usr/share/javascript/janus-gateway/janus.js
# shellcheck source=peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=peers/target.sh
source "$PEERS/target.sh"

skip() {
    echo "SKIP: $*; the Chromium simulcast test did not run"
    exit 77 # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
[[ -x $CHROMIUM ]] || skip "$CHROMIUM is not installed (apt-get install chromium)"
[[ -f $JANUS_JS ]] || skip "$JANUS_JS is missing (apt-get install libjs-janus-gateway)"
[[ -f $ADAPTER_JS ]] || skip "$ADAPTER_JS is missing (apt-get install libjs-webrtc-adapter)"
$PY -c 'import requests' 2>/dev/null || skip "python3-requests is missing"
for tool in janus-pp-rec ffprobe ffmpeg; do
    command -v $tool >/dev/null || skip "$tool is not installed"
done
reason=$(vb_target_check "$TARGET" 2>&1) || skip "$reason"

TMP=$(mktemp -d /tmp/vb-vr-simulcast.XXXXXX)
cleanup() {
    vb_target_stop
    vb_netns_destroy # ends any Chromium process left in the namespace too
    if [[ ${VB_SC_KEEP:-0} == 1 ]]; then
        echo "kept: $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir "$TMP/page" "$TMP/profile" "$TMP/rec"
cp "$PEERS/chromium_simulcast.html" "$TMP/page/index.html"
ln -s "$ADAPTER_JS" "$TMP/page/adapter.js"
ln -s "$JANUS_JS" "$TMP/page/janus.js"

vb_netns_create vrsc
vb_target_start "$TARGET" "$TMP/$TARGET"
args=(--server "$VB_TARGET_URL" --admin "$VB_TARGET_ADMIN_URL" --admin-secret "$VB_TARGET_SECRET"
    --room "$ROOM" --page "file://$TMP/page/index.html" --profile "$TMP/profile"
    --console "$TMP/console.log" --bitrate "${VB_SC_BITRATE:-2000000}")
if [[ $TARGET == janus ]]; then
    args+=(--rec-dir "$TMP/rec")
    REC_ROOT=$TMP/rec
else
    REC_ROOT=$TMP/$TARGET/data
fi
echo "target: $TARGET ($VB_TARGET_URL in namespace $VB_NETNS), room $ROOM"

rc=0
vb_netns_exec $PY "$PEERS/chromium_simulcast.py" "${args[@]}" >"$TMP/result.json" \
    2>"$TMP/driver.err" || rc=$?
[[ -z ${VB_SC_RESULT:-} ]] || cp "$TMP/result.json" "$VB_SC_RESULT"

# A digest of the run; prints "FEED PUBLISHED_MS H_WIDTH H_HEIGHT" last for the recording check.
if ! $PY - "$TMP/result.json" >"$TMP/digest.txt" <<'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
page = d.get("page", {})
pub, sub = page.get("publisher", {}), page.get("subscriber", {})
print("publisher: feed %s camera %s offer %s" % (pub.get("feed"), pub.get("camera"),
                                                  " ".join(pub.get("offer_rids", []))))
lay = (pub.get("layers") or pub.get("layers_at_timeout") or {})
for rid, l in sorted(lay.get("layers", {}).items()):
    print("    %s: %sx%s %s fps %s %s, target %s bps, limited by %s" % (
        rid, l.get("frameWidth"), l.get("frameHeight"), l.get("framesPerSecond"),
        l.get("scalabilityMode"), "active" if l.get("active") else "inactive",
        l.get("targetBitrate"), l.get("qualityLimitationReason")))
print("    estimate %s bps; all layers flowing at %s ms (webrtcup at %s ms)" % (
    lay.get("available_bps"), page.get("timings_ms", {}).get("layers_flowing"),
    page.get("timings_ms", {}).get("pub_webrtcup")))
print("subscriber: mid %s, steps %s" % (sub.get("mid"), json.dumps(page.get("steps"))))
print("    layer events: %s" % ", ".join(
    "%s@%sms" % ({k: v for k, v in e.items() if k in ("substream", "temporal")}, e.get("ms"))
    for e in sub.get("layer_events", [])))
last = {}
for s in sub.get("samples", []):
    last[s.get("step")] = s
print("    last samples: %s" % "; ".join("%s %sx%s %s fps" % (k, s.get("frameWidth"),
      s.get("frameHeight"), s.get("framesPerSecond")) for k, s in last.items()))
print("    pub: %s" % " ".join(page.get("seq", {}).get("pub", [])))
print("    sub: %s" % " ".join(page.get("seq", {}).get("sub", [])))
def plugin_video(info):
    """The plugin's own words on the video stream: its media entry (ours) or stream (Janus)."""
    ps = info.get("plugin_specific", {})
    for key in ("media", "streams"):
        for st in ps.get(key, []):
            if st.get("type") == "video":
                return {k: v for k, v in st.items() if k not in ("type", "mindex", "feed_display")}
    return None
def webrtc_video(info):
    for m in (info.get("webrtc", {}).get("media") or {}).values():
        if m.get("type") == "video":
            keep = ("ssrc", "ssrc-peer", "ssrc-peer-simulcast", "rid-simulcast", "stats")
            return {k: m[k] for k in keep if k in m}
    return None
for p in d.get("probes", []):
    print("probe %s:" % p.get("name"))
    print("    publisher plugin %s" % json.dumps(plugin_video(p.get("pub", {}))))
    print("    publisher webrtc %s" % json.dumps(webrtc_video(p.get("pub", {}))))
    print("    subscriber plugin %s" % json.dumps(plugin_video(p.get("sub", {}))))
for p in pub.get("at_probes", []):
    print("    A at probe %s: %s" % (p.get("name"), ", ".join(
        "%s %sx%s pli %s" % (rid, l.get("frameWidth"), l.get("frameHeight"), l.get("pliCount"))
        for rid, l in sorted(p.get("layers", {}).items()))))
for e in d.get("errors", []):
    print("    error: %s" % e)
w = pub.get("widths") or {}
h = ((lay.get("layers") or {}).get("h") or {}).get("frameHeight")
print("%s %s %s %s" % (pub.get("feed"), pub.get("published_ms"), w.get("h"), h))
sys.exit(0 if d.get("ok") is True else 1)
EOF
    rc=1
fi
sed '$d' "$TMP/digest.txt"
FEED=None PUBLISHED_MS=None TOP_W=None TOP_H=None
read -r FEED PUBLISHED_MS TOP_W TOP_H < <(tail -n 1 "$TMP/digest.txt") || true

# The recording of A's video: the top layer's size in every frame.
check_recording() {
    local mjr="" out=$TMP/a-video.webm
    for _ in $(seq 50); do # the file is finished by a writer thread after unpublish
        mjr=$(find "$REC_ROOT" -name "videoroom-$ROOM-user-$FEED-*-video-*.mjr" | head -n 1)
        [[ -n $mjr ]] && break
        sleep 0.1
    done
    if [[ -z $mjr ]]; then
        echo "recording: no video .mjr of feed $FEED under $REC_ROOT:"
        find "$REC_ROOT" -type f | sed 's/^/    /'
        return 1
    fi
    echo "recording: ${mjr#"$TMP"/} ($(stat -c %s "$mjr") bytes)"
    if ! janus-pp-rec "$mjr" "$out" >"$TMP/pp.log" 2>&1; then
        echo "recording: janus-pp-rec failed:"
        tail -n 20 "$TMP/pp.log"
        return 1
    fi
    $PY - "$out" "$TOP_W" "$TOP_H" "$PUBLISHED_MS" "$TARGET" <<'EOF'
import collections, json, subprocess, sys
out, top_w, top_h, published_ms, target = sys.argv[1:6]
probe = json.loads(subprocess.run(
    ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_streams", "-show_format",
     "-show_entries", "frame=width,height,best_effort_timestamp_time", "-of", "json", out],
    check=True, capture_output=True, text=True).stdout)
frames = ["%sx%s" % (f["width"], f["height"]) for f in probe.get("frames", [])]
sizes = collections.Counter(frames)
times = [float(f["best_effort_timestamp_time"]) for f in probe.get("frames", [])
         if "best_effort_timestamp_time" in f]
gap = max((b - a for a, b in zip(times, times[1:])), default=0)
st = (probe.get("streams") or [{}])[0]
dur = float(probe.get("format", {}).get("duration", 0))
dec = subprocess.run(["ffmpeg", "-v", "error", "-i", out, "-f", "null", "-"],
                     capture_output=True, text=True)
want = "%sx%s" % (top_w, top_h)
print("recording: %s %sx%s, %.2f s (published %s ms), decoded frames by size %s, longest gap "
      "%.2f s" % (st.get("codec_name"), st.get("width"), st.get("height"), dur, published_ms,
                  dict(sizes), gap))
errors, differs = [], []
if not sizes or set(sizes) != {want}:
    errors.append("frames of %s, want only %s (the h layer)" % (dict(sizes), want))
if dec.returncode != 0 or dec.stderr.strip():
    errors.append("ffmpeg decode: %s" % " | ".join(dec.stderr.strip().splitlines()[:4]))
if target == "janus":
    # Janus 1.1.2 records through a simulcast context aiming at substream 2 from the first
    # keyframe of any substream: its file may open on a lower layer (with a frame ffmpeg
    # rejects at the switch). The top layer must still be most of it and its end.
    differs, errors = errors, []
    if not frames or frames[-1] != want or sizes[want] < 0.9 * len(frames):
        errors.append("frames of %s (last %s), want mostly %s" % (
            dict(sizes), frames[-1] if frames else None, want))
if published_ms not in ("None", "") and dur < 0.5 * float(published_ms) / 1000:
    errors.append("%.2f s recorded of %s ms published" % (dur, published_ms))
for e in differs:
    print("    janus 1.1.2 differs: %s" % e)
for e in errors:
    print("    error: recording: %s" % e)
sys.exit(1 if errors else 0)
EOF
}
if [[ $FEED == None || $TOP_W == None ]]; then
    echo "recording: not checked (no feed or no top layer width from the page)"
    rc=1
elif ! check_recording; then
    rc=1
fi

if [[ $rc -ne 0 ]]; then
    echo "--- driver stderr, page console (tail)"
    cat "$TMP/driver.err" 2>/dev/null || true
    tail -n 40 "$TMP/console.log" 2>/dev/null || true
    echo "--- $TARGET log (tail)"
    tail -n 40 "$VB_TARGET_LOG" || true
    exit 1
fi
echo "ok"
