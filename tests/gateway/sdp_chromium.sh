#!/usr/bin/env bash
# Our SDP answers and offers against headless Chromium (Debian chromium): it must accept what
# gateway/sdp/ generates (plain, data channel, simulcast) and gateway/sdp/ must parse its answer
# to our offer. Chromium runs in a network namespace of its own with only a loopback interface
# (unshare -n, as root), so no packet can leave; see sdp_chromium.py.
set -euo pipefail
command -v chromium >/dev/null || { echo "chromium missing (apt-get install chromium)"; exit 1; }
[ -x "$VB_TEST_TOOLS/tool_sdp" ] || { echo "tool_sdp not built"; exit 1; }
exec timeout 300 unshare -n bash -c \
    'ip link set lo up && exec /usr/bin/python3 "$VB_SOURCE_DIR/tests/gateway/sdp_chromium.py"'
