#!/usr/bin/env bash
# NACKs and retransmissions end to end: aiortc (tests/gateway/peers/aiortc_nack.py) through the
# EchoTest plugin of the target server in a network namespace (peers/netns.sh). The kernel has
# no netem, so the client loses VIDEO packets itself (VB_NACK_LOSS, 5 % by default), five
# echoes of VB_NACK_SECONDS (4) each:
#   baseline   no loss: the reference frame count; the server NACKs nothing
#   out        the client drops its outgoing packets (kept in its history): the server must NACK
#              them (handle_info stats.out.nacks > 0), get them again and echo them, and the
#              frames decoded stay within VB_NACK_MIN_RATIO (0.9) of the baseline
#   in         the client drops what it receives: aiortc NACKs, the server must count them
#              (stats.in.nacks > 0) and resend from its buffer (stats.out.retransmitted > 0),
#              the frames stay within the same ratio
#   out-lost, in-lost   the same loss with nothing recovered (every copy dropped): the recovered
#              phases must decode more frames than these
#
# env: VB_ECHO_TARGET=janus|verbatim (the default), as in echo_aiortc.sh
# Skips (exit 77: ctest shows "Skipped", "SKIP:" printed) without root, aiortc or the target.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
# shellcheck source=SCRIPTDIR/peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=SCRIPTDIR/peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=SCRIPTDIR/peers/target.sh
source "$PEERS/target.sh"

skip() {
    echo "SKIP: $*; the NACK echo test did not run"
    exit 77  # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
reason=$(vb_target_check "$TARGET" 2>&1) || skip "$reason"

vb_target_scratch echo-nack

vb_netns_create nack
vb_target_start "$TARGET" "$TMP/$TARGET"

echo "target: $TARGET ($VB_TARGET_URL in namespace $VB_NETNS)"
rc=0
vb_netns_exec $PY "$PEERS/aiortc_nack.py" --url "$VB_TARGET_URL" \
    --admin-url "$VB_TARGET_ADMIN_URL" --admin-secret "$VB_TARGET_SECRET" \
    --seconds "${VB_NACK_SECONDS:-4}" --loss "${VB_NACK_LOSS:-0.05}" \
    --min-ratio "${VB_NACK_MIN_RATIO:-0.9}" >"$TMP/nack.json" 2>"$TMP/nack.err" || rc=$?

# One line a phase; the errors under it.
$PY - "$TMP/nack.json" <<'PYEOF' || rc=1
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    print("the client printed no summary")
    sys.exit(1)
for p in d["phases"]:
    s = (p["server_video"] or {}).get("stats") or {}
    i, o = s.get("in", {}), s.get("out", {})
    print("%-9s %s frames video %3d (max gap %s ms) audio %3d; video packets dropped %d, "
          "recovered %d%s; server: NACKs sent %s, got %s, retransmitted %s; client: NACKs "
          "sent %d, got %d" % (
              p["phase"], "ok  " if p["ok"] else "FAIL", p["frames"]["video"],
              p["video_max_gap_ms"], p["frames"]["audio"], p["loss"]["dropped"],
              p["loss"]["recovered"], ", echoed %d" % p["echoed_dropped"]
              if p["phase"].startswith("out") else "", o.get("nacks"), i.get("nacks"),
              o.get("retransmitted"), p["nacks_sent_by_receiver"], p["nacks_at_sender"]))
    for e in p["errors"]:
        print("    error: %s" % e)
sys.exit(0 if d["ok"] else 1)
PYEOF

# slowlink: 30 % of the peer's video lost on the way in (recovered by our NACKs) is about 9
# NACKed packets a second, over the server's threshold (4): `slowlink` with uplink true.
if [[ $TARGET == verbatim ]]; then
    vb_netns_exec $PY "$PEERS/aiortc_nack.py" --url "$VB_TARGET_URL" \
        --admin-url "$VB_TARGET_ADMIN_URL" --admin-secret "$VB_TARGET_SECRET" \
        --seconds 3 --loss 0.3 --min-ratio 0 --phases out >"$TMP/slow.json" 2>"$TMP/slow.err" || true
    $PY - "$TMP/slow.json" <<'PYEOF' || rc=1
import json, sys
d = json.load(open(sys.argv[1]))
p = d["phases"][0]
n = p["slowlink_events"]
print("slowlink  %s %d slowlink event(s) at 30 %% loss (dropped %d, recovered %d)" % (
    "ok  " if n > 0 else "FAIL", n, p["loss"]["dropped"], p["loss"]["recovered"]))
sys.exit(0 if n > 0 else 1)
PYEOF
fi

if [[ $rc -ne 0 ]]; then
    echo "--- client stderr (tail)"
    tail -n 30 "$TMP/nack.err" || true
    echo "--- $TARGET log (tail)"
    tail -n 40 "$VB_TARGET_LOG" || true
    exit 1
fi
