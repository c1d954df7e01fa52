#!/usr/bin/env bash
# Regenerates the real SDP samples of this folder (see README.md) with python3-aiortc and
# headless Chromium, both inside a network namespace made here (a veth holding 127.0.0.2, no
# route out), so that the candidates are 127.0.0.2 and nothing leaves the machine.
# usage: generate.sh OUTDIR   (as root)
set -euo pipefail
out=$1; here=$(cd "$(dirname "$0")" && pwd)
ns=vb-sdpgen-$$
work=$(mktemp -d)
cleanup() { ip netns del "$ns" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" link add va type veth peer name vb
ip netns exec "$ns" sysctl -q -w net.ipv6.conf.va.disable_ipv6=1 net.ipv6.conf.vb.disable_ipv6=1
ip -n "$ns" addr add 127.0.0.2/32 dev va
ip -n "$ns" link set vb up; ip -n "$ns" link set va up
chrome() { # PAGE -> sdp on stdout
  ip netns exec "$ns" timeout 60 chromium --headless --no-sandbox --disable-gpu --disable-quic \
    --no-first-run --disable-background-networking --disable-component-update --disable-sync \
    --user-data-dir="$(mktemp -d -p "$work")" --use-fake-device-for-media-stream \
    --use-fake-ui-for-media-stream --virtual-time-budget=15000 --dump-dom "file://$1" 2>/dev/null |
    /usr/bin/python3 -c '
import sys, html
t = html.unescape(sys.stdin.read())
if "SDP-BEGIN" not in t: sys.exit("no SDP: " + t[t.find("<pre"):][:300])
s = t.split("SDP-BEGIN", 1)[1].split("SDP-END", 1)[0].lstrip("\r\n")
sys.stdout.write("".join(l.rstrip("\r") + "\r\n" for l in s.splitlines()))'
}
page() { # MODE REMOTEFILE -> page path
  local p="$work/$1.html"
  { echo '<!DOCTYPE html><html><body><pre id="out">pending</pre><script>'
    echo "const MODE = '$1';"
    if [ -n "${2:-}" ]; then
      printf 'const REMOTE = %s;\n' "$(/usr/bin/python3 -c 'import json,sys; print(json.dumps(open(sys.argv[1], newline="").read()))' "$2")"
    else echo 'const REMOTE = null;'; fi
    cat "$here/page.js"; echo '</script></body></html>'; } >"$p"
  echo "$p"
}
aio() { ip netns exec "$ns" /usr/bin/python3 "$here/gen_aiortc.py" "$@"; }
aio offer >"$out/aiortc_offer.sdp"
aio offer-dc >"$out/aiortc_offer_datachannel.sdp"
aio offer-video >"$out/aiortc_offer_video.sdp"
# Gathering may not finish within the page's virtual time: try again until a candidate shows.
chrome_offer() {
    for _ in 1 2 3 4 5; do
        chrome "$(page "$1")" >"$2"
        grep -q '^a=candidate:' "$2" && return 0
    done
    echo "no candidate in $2" >&2
}
chrome_offer offer "$out/chromium_offer.sdp"
chrome_offer simulcast "$out/chromium_offer_simulcast.sdp"
chrome "$(page answer "$out/aiortc_offer_video.sdp")" >"$out/chromium_answer_to_aiortc.sdp"
aio answer "$out/chromium_offer.sdp" >"$out/aiortc_answer_to_chromium.sdp"
