#!/usr/bin/env bash
# VideoRoom RTP forwarders with a real publisher: aiortc (tests/gateway/peers/aiortc_forward.py)
# publishes Opus + VP8 in a room of the target server, inside a network namespace of its own
# (peers/netns.sh), and rtp_forward sends the streams to UDP ports on the namespace's 127.0.0.1:
# the client's sockets (payload types, SSRCs, the RTCP port and a PLI through it) and ffmpeg,
# which must decode the forwarded VP8 from an SDP file. stop_rtp_forward, unpublish and leave
# must end the flow; listforwarders and the request errors must read as real Janus 1.1.2's.
#
# env: VB_ECHO_TARGET=janus     real Janus 1.1.2 (peers/janus_ref.sh): the same checks, which is
#                               how the expected replies were taken
#      VB_ECHO_TARGET=verbatim  (the default) `$VERBATIM serve ... --ice-enforce-list 127.0.0.2`
# Skips (exit 77: ctest shows "Skipped") without root, aiortc, ffmpeg or the target.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
# shellcheck source=peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=peers/target.sh
source "$PEERS/target.sh"

skip() {
    echo "SKIP: $*; the RTP forwarding test did not run"
    exit 77 # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
command -v ffmpeg >/dev/null || skip "ffmpeg is not installed"
reason=$(vb_target_check "$TARGET" 2>&1) || skip "$reason"

vb_target_scratch vr-forward

vb_netns_create vrfwd
vb_target_start "$TARGET" "$TMP/$TARGET"
echo "target: $TARGET ($VB_TARGET_URL in namespace $VB_NETNS)"

rc=0
vb_netns_exec $PY "$PEERS/aiortc_forward.py" --url "$VB_TARGET_URL" --target "$TARGET" \
    --json "$TMP/summary.json" >/dev/null 2>"$TMP/client.err" || rc=$?
if [[ ! -s $TMP/summary.json ]]; then
    echo "the client wrote no summary (exit $rc); its stderr:"
    cat "$TMP/client.err"
    rc=1
elif ! $PY - "$TMP/summary.json" <<'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["checks"]:
    print("ok    %s" % c)
for e in d["errors"]:
    print("FAIL  %s" % e)
sys.exit(0 if d["ok"] else 1)
EOF
    rc=1
fi
if [[ $rc -ne 0 ]]; then
    echo "--- client stderr (tail)"
    tail -n 20 "$TMP/client.err" || true
    echo "--- $TARGET log (tail)"
    tail -n 40 "$VB_TARGET_LOG" || true
    exit 1
fi
