#!/usr/bin/env bash
# The Admin API's start_pcap / stop_pcap on a real WebRTC echo: aiortc (peers/aiortc_echo.py,
# Opus + VP8) through the EchoTest plugin of `$VERBATIM serve`, in a network namespace of its
# own (peers/netns.sh, peers/target.sh). While the media flows, the Admin API finds the handle
# once it is up and checks Janus's errors (467 for bad types, 490 without a capture), starts a
# capture into a folder of the test, checks that a second start fails (490) and that handle_info
# shows "dump-to-pcap", "pcap-file" and nothing dropped, and stops it (file complete) two seconds
# later, before the echo hangs up. tshark then decodes the file (our ports of pcap.h: RTP on
# 5000 + 2*mindex, RTCP on the next one): RTP both ways on both m-lines with the negotiated Opus
# and VP8 payload types and the SSRCs handle_info reports (the peer's coming in, ours going
# out), and RTCP both ways. A second capture is left running: it must end with the
# PeerConnection when the echo hangs up, its file complete. The echo itself must succeed too.
#
# env: VB_ECHO_SECONDS=N   seconds of media of the echo (default 6; the capture takes 2 of them)
# Skips (exit 77: ctest shows "Skipped", "SKIP:" printed) without root, aiortc or tshark; fails on anything missing.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
SECONDS_OF_MEDIA=${VB_ECHO_SECONDS:-6}
# shellcheck source=peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=peers/target.sh
source "$PEERS/target.sh"

skip() {
    echo "SKIP: $*; the pcap echo test did not run"
    exit 77  # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
command -v tshark >/dev/null || skip "tshark is not installed"
reason=$(vb_target_check verbatim 2>&1) || skip "$reason"

TMP=$(mktemp -d /tmp/vb-echo-pcap.XXXXXX)
ECHO_PID=
cleanup() {
    [[ -z $ECHO_PID ]] || kill "$ECHO_PID" 2>/dev/null || true
    vb_target_stop
    vb_netns_destroy
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

vb_netns_create echop
vb_target_start verbatim "$TMP/verbatim"

vb_netns_exec $PY "$PEERS/aiortc_echo.py" --url "$VB_TARGET_URL" --video vp8 \
    --seconds "$SECONDS_OF_MEDIA" >"$TMP/echo.json" 2>"$TMP/echo.err" &
ECHO_PID=$!

rc=0
vb_netns_exec $PY - "$VB_TARGET_ADMIN_URL" "$VB_TARGET_SECRET" "$TMP/pcap" 2 <<'EOF' || rc=$?
import collections, json, random, string, subprocess, sys, time
import requests

ADMIN, SECRET, FOLDER, CAPTURE_S = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
errors = []


def admin(path, body):
    body = dict(body, admin_secret=SECRET,
                transaction="".join(random.choices(string.ascii_letters, k=12)))
    reply = requests.post(ADMIN + path, data=json.dumps(body), timeout=10).json()
    if reply.get("transaction") != body["transaction"]:
        raise RuntimeError("%s: reply with another transaction: %s" % (body["janus"], reply))
    return reply, body["transaction"]


def expect_error(path, body, code, reason):
    reply, _ = admin(path, body)
    got = reply.get("error", {})
    if reply.get("janus") != "error" or got.get("code") != code or got.get("reason") != reason:
        errors.append("%s: expected error %d %r, got %s" % (json.dumps(body), code, reason,
                                                            json.dumps(reply)))


def expect_success(path, body):
    """Janus answers start_pcap and stop_pcap with a bare success: no session_id."""
    reply, tx = admin(path, body)
    if reply != {"janus": "success", "transaction": tx}:
        errors.append("%s: expected a bare success, got %s" % (body["janus"], json.dumps(reply)))
        return False
    return True


def find_handle(deadline):
    """(path, info) of the EchoTest handle once it is up and knows both peer SSRCs."""
    while time.monotonic() < deadline:
        for sid in admin("", {"janus": "list_sessions"})[0].get("sessions", []):
            for hid in admin("/%d" % sid, {"janus": "list_handles"})[0].get("handles", []):
                path = "/%d/%d" % (sid, hid)
                info = admin(path, {"janus": "handle_info"})[0].get("info", {})
                media = info.get("webrtc", {}).get("media", {})
                if (info.get("flags", {}).get("ready") and len(media) == 2 and
                        all(m.get("ssrc-peer") for m in media.values())):
                    return path, info
        time.sleep(0.1)
    raise RuntimeError("no EchoTest handle up with both peer SSRCs within 20 s")


def codec_pts(sdp):
    """{mindex: (kind, first payload type, its codec name)} of an SDP."""
    out, mindex, kind, first = {}, -1, None, None
    for line in sdp.splitlines():
        if line.startswith("m="):
            f = line[2:].split()
            mindex, kind, first = mindex + 1, f[0], int(f[3])
        elif line.startswith("a=rtpmap:") and mindex >= 0:
            pt, _, name = line[9:].partition(" ")
            if int(pt) == first:
                out[mindex] = (kind, first, name.split("/")[0].lower())
    return out


def tshark(path):
    decode = []
    for m in (0, 1):
        decode += ["-d", "udp.port==%d,rtp" % (5000 + 2 * m),
                   "-d", "udp.port==%d,rtcp" % (5001 + 2 * m)]
    out = subprocess.run(["tshark", "-r", path] + decode + [
        "-T", "fields", "-e", "ip.src", "-e", "udp.srcport", "-e", "udp.dstport",
        "-e", "rtp.p_type", "-e", "rtp.ssrc", "-e", "rtcp.pt"],
        capture_output=True, text=True, check=True).stdout
    rtp, rtcp = collections.Counter(), collections.Counter()
    for line in out.splitlines():
        src, sport, dport, pt, ssrc, rtcp_pt = (line.split("\t") + [""] * 6)[:6]
        way = "in" if src == "10.0.0.1" else "out"
        ours = int(dport if way == "in" else sport)
        if pt:
            rtp[(way, (ours - 5000) // 2, int(pt), int(ssrc, 16))] += 1
        elif rtcp_pt:
            rtcp[way] += 1
    return rtp, rtcp


def main():
    path, info = find_handle(time.monotonic() + 20)
    expect_error(path, {"janus": "stop_pcap"}, 490, "Capture not started")
    expect_error(path, {"janus": "start_pcap", "truncate": -1}, 467,
                 "Invalid element type (truncate should be a positive integer)")
    expect_error(path, {"janus": "start_pcap", "folder": 5}, 467,
                 "Invalid element type (folder should be a string)")
    expect_error(path, {"janus": "start_pcap", "filename": True}, 467,
                 "Invalid element type (filename should be a string)")
    start = {"janus": "start_pcap", "folder": FOLDER, "filename": "echo.pcap", "truncate": 0}
    if not expect_success(path, start):
        return
    t0 = time.monotonic()
    expect_error(path, start, 490, "pcap already started")
    info = admin(path, {"janus": "handle_info"})[0]["info"]
    keys = list(info)
    if info.get("dump-to-pcap") is not True or info.get("pcap-file") != FOLDER + "/echo.pcap":
        errors.append("handle_info while capturing: dump-to-pcap %r, pcap-file %r" % (
            info.get("dump-to-pcap"), info.get("pcap-file")))
    elif not keys.index("queued-packets") < keys.index("dump-to-pcap") < keys.index("webrtc"):
        errors.append("handle_info keys not in Janus's order: %s" % keys)
    time.sleep(max(0.0, CAPTURE_S - (time.monotonic() - t0)))
    stats = admin(path, {"janus": "handle_info"})[0]["info"].get("pcap-stats", {})
    if not expect_success(path, {"janus": "stop_pcap"}):
        errors.append("stop_pcap failed: did the echo hang up first? (VB_ECHO_SECONDS)")
        return
    after = admin(path, {"janus": "handle_info"})[0]["info"]
    if "dump-to-pcap" in after or "pcap-file" in after:
        errors.append("handle_info still shows a capture after stop_pcap")
    expect_error(path, {"janus": "stop_pcap"}, 490, "Capture not started")
    if stats.get("dropped") != 0 or stats.get("captured", 0) < 100:
        errors.append("pcap-stats while capturing: %s" % stats)

    codecs = codec_pts(info["sdps"]["local"])
    media = info["webrtc"]["media"]
    rtp, rtcp = tshark(FOLDER + "/echo.pcap")
    summary = {"codecs": codecs, "rtcp": dict(rtcp), "stats": stats,
               "rtp": {"%s m%d pt %d ssrc %d" % k: n for k, n in sorted(rtp.items())}}
    want = {0: ("audio", "opus", 50), 1: ("video", "vp8", 20)}  # packets in 2 s, at least
    for m, (kind, name, least) in want.items():
        if codecs.get(m, (None, None, None))[0::2] != (kind, name):
            errors.append("m-line %d: negotiated %s, expected %s %s" % (m, codecs.get(m), kind,
                                                                      name))
            continue
        pt = codecs[m][1]
        for way, ssrc in (("in", media[str(m)]["ssrc-peer"]), ("out", media[str(m)]["ssrc"])):
            n = rtp.get((way, m, pt, ssrc), 0)
            if n < least:
                errors.append("%s RTP on m-line %d (pt %d, ssrc %d): %d packets in the capture, "
                              "expected at least %d" % (way, m, pt, ssrc, n, least))
    for way in ("in", "out"):
        if rtcp[way] < 1:
            errors.append("no RTCP %s in the capture" % way)
    print(json.dumps(summary))
    # A capture left running ends with the PeerConnection (the echo's hangup, then detach).
    expect_success(path, dict(start, filename="left.pcap"))


try:
    main()
except Exception as e:  # reported like every other failure
    errors.append("%s: %s" % (type(e).__name__, e))
for e in errors:
    print("error: %s" % e)
sys.exit(1 if errors else 0)
EOF

echo_rc=0
wait "$ECHO_PID" || echo_rc=$?
ECHO_PID=
if [[ $echo_rc -ne 0 ]]; then
    echo "--- the echo failed: summary and stderr"
    cat "$TMP/echo.json" "$TMP/echo.err" || true
fi
# The capture left running: once the PC is gone the server has closed it (no descriptor of a
# process in the namespace names it) and tshark reads it to the end.
open_in_netns() {
    local p
    for p in $(vb_netns_pids); do
        ls -l "/proc/$p/fd" 2>/dev/null || true
    done | grep -q "$1"
}
left=0
for _ in $(seq 50); do
    if ! open_in_netns left.pcap &&
        n=$(tshark -r "$TMP/pcap/left.pcap" -d 'udp.port==5000,rtp' -Y rtp 2>/dev/null | wc -l) &&
        [[ $n -gt 0 ]]; then
        left=$n
        break
    fi
    sleep 0.1
done
if [[ $left -eq 0 ]]; then
    echo "FAIL: the capture left running at the hangup is still open, missing, empty or cut short"
    rc=1
fi
if [[ $rc -ne 0 || $echo_rc -ne 0 ]]; then
    echo "--- verbatim log (tail)"
    tail -n 40 "$VB_TARGET_LOG" || true
    exit 1
fi
echo "echo_pcap: capture of both directions decoded by tshark (RTP Opus/VP8, both SSRCs, RTCP);" \
    "the one left running was closed with the PeerConnection ($left RTP packets on m-line 0)"
