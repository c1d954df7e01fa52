#!/usr/bin/env bash
# Our SDP answers and offers against a real peer, python3-aiortc (Debian): aiortc must accept
# what gateway/sdp/ generates, and gateway/sdp/ must parse what aiortc answers. Loopback only,
# no media flows (see sdp_aiortc.py); finishes in a few seconds.
set -euo pipefail
/usr/bin/python3 -c 'import aiortc' 2>/dev/null || { echo "python3-aiortc missing"; exit 1; }
[ -x "$VB_TEST_TOOLS/tool_sdp" ] || { echo "tool_sdp not built"; exit 1; }
exec timeout 120 /usr/bin/python3 "$VB_SOURCE_DIR/tests/gateway/sdp_aiortc.py"
