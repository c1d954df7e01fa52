#!/usr/bin/env bash
# Our SDP answers and offers against headless Firefox (Debian firefox-esr): gateway/sdp/ must parse
# Firefox's offer, Firefox must accept our answer and our offer, and gateway/sdp/ must parse
# Firefox's answer (see sdp_firefox.py; no WebDriver, the page talks to a server of ours on
# 127.0.0.1). As root, everything runs in a network namespace of its own: loopback plus a veth
# pair holding 192.0.2.1 (TEST-NET-1, no route out), so that Firefox gathers real host candidates
# and still no packet can leave the machine. Firefox's prefs turn off updates, telemetry and the
# other network services in any case. Under 60 s; Firefox is ended by the Python script's
# signal handlers and finally blocks, whatever the outcome.
set -euo pipefail
command -v firefox-esr >/dev/null ||
    { echo "firefox-esr missing (apt-get install firefox-esr)"; exit 1; }
[ -x "$VB_TEST_TOOLS/tool_sdp" ] || { echo "tool_sdp not built"; exit 1; }
script="$VB_SOURCE_DIR/tests/gateway/sdp_firefox.py"
if unshare -n true 2>/dev/null; then
    export VB_SDPFF_CANDIDATES=1 # Firefox's offer must carry candidates (the veth address)
    exec timeout -k 5 60 unshare -n bash -c '
        set -e
        ip link set lo up
        ip link add vbff0 type veth peer name vbff1
        ip addr add 192.0.2.1/24 dev vbff0
        ip link set vbff0 up
        ip link set vbff1 up
        ip route add default dev vbff0
        exec /usr/bin/python3 "$0" "$@"' "$script" "$@"
fi
echo "note: no network namespace (not root): Firefox runs in the host's network"
exec timeout -k 5 60 /usr/bin/python3 "$script" "$@"
