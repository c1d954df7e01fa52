#!/usr/bin/env bash
# VideoRoom with a browser: janus.js (Debian libjs-janus-gateway, with adapter.js) in headless
# Chromium with fake camera and microphone, against the VideoRoom plugin of the target server,
# inside a network namespace of its own (peers/netns.sh). A room is created over the REST API
# with `record: true`; the page (peers/chromium_videoroom.html, loaded from file://) runs two
# participants who each publish and subscribe to the other, reads getStats() on both
# subscriber PeerConnections after N seconds and then unpublishes, leaves and hangs up;
# peers/chromium_videoroom.py drives it over the DevTools pipe. Both publishers and both
# subscribers must reach webrtcup, and each subscriber must receive audio and decode video at the
# size of the other's fake camera. Then the recordings:
#   verbatim  (web catalog on 127.0.0.1:8190 of the namespace) the catalog API must list an audio
#             and a video recording per participant, all closed, and each participant's
#             automatic merge job done (20 s at most); the catalog page, opened in the same
#             browser with its token, must list the room and show each participant's recording
#             rows, its done job and its output, which Chromium loads with a duration within
#             15% of the participant's publishing time;
#   janus     the room's rec_dir must hold a non-empty audio and video .mjr per participant,
#             named after its feed id.
#
# env: VB_ECHO_TARGET=janus     real Janus 1.1.2 (peers/janus_ref.sh)
#      VB_ECHO_TARGET=verbatim  (the default) `$VERBATIM serve ... --web-port 8190`
#      VB_VR_SECONDS=N          seconds of media before getStats() (default 6)
#      VB_VR_RESULT=FILE        also write the driver's JSON result (events, stats, catalog) there
# Skips (exit 77: ctest shows "Skipped", "SKIP:" printed) without root, Chromium, janus.js,
# python3-requests or the target.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
MEDIA_SECONDS=${VB_VR_SECONDS:-6}
ROOM=4242
WEB_PORT=8190
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
    echo "SKIP: $*; the Chromium VideoRoom test did not run"
    exit 77 # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
[[ -x $CHROMIUM ]] || skip "$CHROMIUM is not installed (apt-get install chromium)"
[[ -f $JANUS_JS ]] || skip "$JANUS_JS is missing (apt-get install libjs-janus-gateway)"
[[ -f $ADAPTER_JS ]] || skip "$ADAPTER_JS is missing (apt-get install libjs-webrtc-adapter)"
$PY -c 'import requests' 2>/dev/null || skip "python3-requests is missing"
reason=$(vb_target_check "$TARGET" 2>&1) || skip "$reason"

TMP=$(mktemp -d /tmp/vb-vr-chromium.XXXXXX)
cleanup() {
    vb_target_stop
    vb_netns_destroy # ends any Chromium process left in the namespace too
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir "$TMP/page" "$TMP/profile"
cp "$PEERS/chromium_videoroom.html" "$TMP/page/index.html"
ln -s "$ADAPTER_JS" "$TMP/page/adapter.js"
ln -s "$JANUS_JS" "$TMP/page/janus.js"

vb_netns_create vrc
args=(--server "http://127.0.0.1:$VB_TARGET_REST_PORT/janus" --room "$ROOM" --create
    --page "file://$TMP/page/index.html" --profile "$TMP/profile" --seconds "$MEDIA_SECONDS"
    --console "$TMP/console.log")
if [[ $TARGET == verbatim ]]; then
    # target.sh passes --web-port 0 (any free port); a later flag wins, so this fixes the port.
    VB_TARGET_EXTRA_ARGS="--web-port $WEB_PORT" vb_target_start "$TARGET" "$TMP/$TARGET"
    args+=(--catalog "http://127.0.0.1:$WEB_PORT" --token-file "$TMP/$TARGET/data/catalog-token")
else
    vb_target_start "$TARGET" "$TMP/$TARGET"
    mkdir -p "$TMP/rec"
    args+=(--rec-dir "$TMP/rec")
fi
echo "target: $TARGET ($VB_TARGET_URL in namespace $VB_NETNS), room $ROOM," \
    "$MEDIA_SECONDS s of media"

rc=0
vb_netns_exec $PY "$PEERS/chromium_videoroom.py" "${args[@]}" >"$TMP/result.json" \
    2>"$TMP/driver.err" || rc=$?

[[ -z ${VB_VR_RESULT:-} ]] || cp "$TMP/result.json" "$VB_VR_RESULT"

# A digest of the result; for Janus also the .mjr files of each feed in rec_dir.
if ! $PY - "$TMP/result.json" "$TARGET" "$TMP/rec" "$ROOM" <<'EOF'; then
import glob, json, os, sys
path, target, rec_dir, room = sys.argv[1:5]
d = json.load(open(path))
errors = list(d.get("errors", []))
page = d.get("page", {})
for name, p in sorted(page.get("participants", {}).items()):
    st = p.get("stats") or {}
    a, v = st.get("inbound", {}).get("audio", {}), st.get("inbound", {}).get("video", {})
    pub, sub = p.get("pub") or {}, p.get("sub") or {}
    print("%s %-14s feed %s camera %s: publisher webrtcup %s ms, subscriber webrtcup %s ms; "
          "received audio %s packets (%s), video %s frames %sx%s (%s), lost %s/%s, %s" % (
        name, p.get("display"), p.get("feed"), p.get("camera"),
        pub.get("timings_ms", {}).get("webrtcup"), sub.get("timings_ms", {}).get("webrtcup"),
        a.get("packetsReceived"), a.get("codec"), v.get("framesDecoded"), v.get("frameWidth"),
        v.get("frameHeight"), v.get("codec"), a.get("packetsLost"), v.get("packetsLost"),
        st.get("transport", {}).get("srtpCipher")))
    print("    pub: %s" % " ".join(pub.get("seq", [])))
    print("    sub: %s" % " ".join(sub.get("seq", [])))
cat = d.get("catalog")
if cat:
    recs = cat.get("api_recordings", [])
    jobs = cat.get("api_jobs", [])
    print("catalog: %d recording(s) %s, %d job(s) %s after %s s; page shows %d participant(s)" % (
        len(recs), sorted({(r["display"], r["kind"], r["state"]) for r in recs}), len(jobs),
        [j.get("state") for j in jobs], cat.get("api_wait_s"),
        len((cat.get("room_view") or {}).get("participants", []))))
    for display, o in sorted(cat.get("outputs", {}).items()):
        print("    %s: output plays %s s in the page, published %s s" % (
            display, o.get("durations"), o.get("published_s")))
if target == "janus" and page.get("ok"):
    for name, p in sorted(page.get("participants", {}).items()):
        for kind in ("audio", "video"):
            files = glob.glob(os.path.join(rec_dir, "videoroom-%s-user-%s-*-%s-*.mjr" % (
                room, p.get("feed"), kind)))
            sizes = [os.path.getsize(f) for f in files]
            print("%s: %s .mjr %s" % (name, kind, sizes))
            if not sizes or min(sizes) <= 100:
                errors.append("%s: no %s recording of feed %s in %s (%s)" % (
                    name, kind, p.get("feed"), rec_dir, os.listdir(rec_dir)))
for e in errors:
    print("    error: %s" % e)
sys.exit(0 if d.get("ok") is True and not errors else 1)
EOF
    rc=1
fi
if [[ $rc -ne 0 ]]; then
    echo "--- result, driver stderr, page console"
    cat "$TMP/result.json" "$TMP/driver.err" "$TMP/console.log" 2>/dev/null || true
    echo "--- $TARGET log (tail)"
    tail -n 60 "$VB_TARGET_LOG" || true
    exit 1
fi
