#!/usr/bin/env bash
# Cross-checks gateway/rtp's RTCP builders and parsers against tshark's dissector and aiortc
# (see rtcp_tshark.py). No network: the packets go into a pcap file and through pipes.
set -euo pipefail
tool=${VB_TEST_TOOLS:?}/tool_rtcp
src=${VB_SOURCE_DIR:?}
[ -x "$tool" ] || { echo "missing $tool (build the tool_rtcp target)"; exit 1; }
command -v tshark >/dev/null || { echo "tshark is not installed"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
/usr/bin/python3 "$src/tests/gateway/rtcp_tshark.py" "$tool" "$tmp"
