#!/usr/bin/env bash
# WebRTC echo with a browser: janus.js (Debian libjs-janus-gateway, with adapter.js) in headless
# Chromium with fake camera and microphone, through the EchoTest plugin of the target server,
# inside a network namespace of its own (peers/netns.sh). The page (peers/chromium_echo.html,
# loaded from file://) runs the janus.js EchoTest flow and reads getStats() after N seconds;
# peers/chromium_cdp.py drives Chromium over the DevTools pipe and collects the result. Two runs:
# VP8, then H.264 asked of the plugin ("videocodec"). Each must reach webrtcup, get both
# `media` events and both remote tracks, and decode audio and video echoed back.
#
# env: VB_ECHO_TARGET=janus     real Janus 1.1.2 (peers/janus_ref.sh)
#      VB_ECHO_TARGET=verbatim  (the default) `$VERBATIM serve ... --ice-enforce-list 127.0.0.2`
#      VB_ECHO_SECONDS=N        seconds of media before getStats() (default 4)
# Skips (exit 77: ctest shows "Skipped", "SKIP:" printed) without root, Chromium, janus.js or the target.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
SECONDS_PER_RUN=${VB_ECHO_SECONDS:-4}
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
    echo "SKIP: $*; the Chromium echo test did not run"
    exit 77  # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
[[ -x $CHROMIUM ]] || skip "$CHROMIUM is not installed (apt-get install chromium)"
[[ -f $JANUS_JS ]] || skip "$JANUS_JS is missing (apt-get install libjs-janus-gateway)"
[[ -f $ADAPTER_JS ]] || skip "$ADAPTER_JS is missing (apt-get install libjs-webrtc-adapter)"
reason=$(vb_target_check "$TARGET" 2>&1) || skip "$reason"

TMP=$(mktemp -d /tmp/vb-echo-chromium.XXXXXX)
cleanup() {
    vb_target_stop
    vb_netns_destroy # ends any Chromium process left in the namespace too
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

mkdir "$TMP/page"
cp "$PEERS/chromium_echo.html" "$TMP/page/index.html"
ln -s "$ADAPTER_JS" "$TMP/page/adapter.js"
ln -s "$JANUS_JS" "$TMP/page/janus.js"

vb_netns_create echoc
vb_target_start "$TARGET" "$TMP/$TARGET"

# run NAME QUERY: one echo in a new browser profile; a one-line digest, everything on failure.
failed=0
run() {
    local name=$1 query=$2 rc=0
    mkdir "$TMP/profile-$name"
    vb_netns_exec $PY "$PEERS/chromium_cdp.py" --profile "$TMP/profile-$name" \
        --console "$TMP/$name.console" --timeout $((SECONDS_PER_RUN + 30)) \
        "file://$TMP/page/index.html?server=$VB_TARGET_URL&seconds=$SECONDS_PER_RUN$query" \
        >"$TMP/$name.json" 2>"$TMP/$name.err" || rc=$?
    if ! $PY - "$name" "$TMP/$name.json" <<'EOF'; then
import json, sys
name, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
s = d.get("stats", {})
vin, ain = s.get("inbound", {}).get("video", {}), s.get("inbound", {}).get("audio", {})
t = s.get("transport", {})
ms = d.get("timings_ms", {})
print("%-6s %s offer %s ms, answer %s ms, webrtcup %s ms, audio %s packets (%s), video %s frames "
      "%sx%s at %s fps (%s), lost %s/%s, %s, %s -> %s" % (
    name, "ok  " if d.get("ok") else "FAIL", ms.get("offer_ready"), ms.get("answer"),
    ms.get("webrtcup"),
    ain.get("packetsReceived"), ain.get("codec"), vin.get("framesDecoded"), vin.get("frameWidth"),
    vin.get("frameHeight"), vin.get("framesPerSecond"), vin.get("codec"), ain.get("packetsLost"),
    vin.get("packetsLost"), t.get("srtpCipher"), t.get("local"), t.get("remote")))
for e in d.get("errors", []):
    print("    error: %s" % e)
sys.exit(0 if d.get("ok") is True else 1)
EOF
        rc=1
    fi
    if [[ $rc -ne 0 ]]; then
        echo "--- $name: result, driver stderr, page console"
        cat "$TMP/$name.json" "$TMP/$name.err" "$TMP/$name.console" 2>/dev/null || true
        failed=1
    fi
}

echo "target: $TARGET ($VB_TARGET_URL in namespace $VB_NETNS), $SECONDS_PER_RUN s per run"
run vp8 ""
run h264 "&videocodec=h264"
run restart "&restart=1"
if [[ $TARGET == verbatim ]]; then
    # Answering "passive" makes Chromium the DTLS client: it offers AEAD-GCM first and we take
    # AEAD_AES_256_GCM (what it also picks when it answers a server's offer as a subscriber).
    vb_target_stop
    VB_TARGET_EXTRA_ARGS="--answer-setup passive" vb_target_start "$TARGET" "$TMP/$TARGET-passive"
    run gcm "&srtp=SRTP_AEAD_AES_256_GCM"
fi

if [[ $failed -ne 0 ]]; then
    echo "--- $TARGET log (tail)"
    tail -n 40 "$VB_TARGET_LOG" || true
    exit 1
fi
