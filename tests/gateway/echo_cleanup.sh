#!/usr/bin/env bash
# Lifecycle and leaks with a real peer: aiortc (tests/gateway/peers/aiortc_cleanup.py) through
# the EchoTest plugin of `verbatim serve --session-timeout 3`, in a network namespace of its own
# (peers/netns.sh). After every end — 5 echoes in a row, 3 at once, each hung up mid-media then
# detached and destroyed; a client killed mid-media and left to time out, unobserved and with a
# long poll parked after the kill — the Admin API lists no session and the server's open file
# descriptors and threads are back to what they were before the first session. Prints the
# server's log lines about the killed clients' handles.
#
# Skips (exit 77: ctest shows "Skipped", "SKIP:" printed) without root, aiortc or the built verbatim.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TIMEOUT_S=3
REST_PORT=8188
ADMIN_PORT=7188
SECRET=vb-cleanup-admin
# shellcheck source=SCRIPTDIR/peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=SCRIPTDIR/peers/janus_ref.sh
source "$PEERS/janus_ref.sh"

skip() {
    echo "SKIP: $*; the cleanup echo test did not run"
    exit 77  # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
[[ -n ${VERBATIM:-} && -x $VERBATIM ]] || skip "VERBATIM does not name the built verbatim binary"

TMP=$(mktemp -d /tmp/vb-echo-cleanup.XXXXXX)
PID=
cleanup() {
    if [[ -n $PID ]]; then
        kill -TERM "$PID" 2>/dev/null || true
        for _ in $(seq 50); do
            kill -0 "$PID" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    vb_netns_destroy
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

vb_netns_create cleanup
LOG=$TMP/verbatim.log
# The subshell execs `ip netns exec`, which execs the server: $! is the server's own PID, whose
# /proc entry the client reads.
(exec ip netns exec "$VB_NETNS" "$VERBATIM" serve --data "$TMP/data" --janus-port "$REST_PORT" \
    --admin-port "$ADMIN_PORT" --admin-secret "$SECRET" --web-port 0 \
    --ice-enforce-list "$VB_NETNS_ADDR" --session-timeout "$TIMEOUT_S" >"$LOG" 2>&1) &
PID=$!
vb_janus_ref_wait "$PID" "$REST_PORT" "$ADMIN_PORT" "$LOG" verbatim
if [[ $(cat "/proc/$PID/comm") != verbatim ]]; then
    echo "FAIL: PID $PID is $(cat "/proc/$PID/comm"), not the server"
    exit 1
fi

echo "verbatim $PID in namespace $VB_NETNS, --session-timeout $TIMEOUT_S"
rc=0
vb_netns_exec $PY "$PEERS/aiortc_cleanup.py" --url "http://127.0.0.1:$REST_PORT/janus" \
    --admin-url "http://127.0.0.1:$ADMIN_PORT/admin" --admin-secret "$SECRET" --pid "$PID" \
    --session-timeout "$TIMEOUT_S" >"$TMP/cleanup.json" 2>"$TMP/cleanup.err" || rc=$?

$PY - "$TMP/cleanup.json" "$LOG" <<'PYEOF' || rc=1
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except ValueError:
    print("the client printed no summary")
    sys.exit(1)
log = open(sys.argv[2], errors="replace").read().splitlines()
b = d["baseline"]
print("baseline: %d fds, %d threads" % (b["fds"], b["threads"]))
for name in ("sequential", "parallel", "closed"):
    for i, rec in enumerate(d[name]):
        c = rec["cleanup"]
        print("%-10s #%d %s %d echo(es), frames video %s; ends %s; clean %s after %d ms "
              "(fds %d, threads %d)" % (
                  name, i + 1, "ok  " if all(e["ok"] for e in rec["echoes"]) else "FAIL",
                  len(rec["echoes"]), "/".join(str(e["frames"]["video"]) for e in rec["echoes"]),
                  ",".join(sorted({x["janus"] + (":" + x["reason"] if "reason" in x else "")
                                   for e in rec["echoes"] for x in e["end_events"]})),
                  c["clean"], c["after_ms"], c["fds"], c["threads"]))
for name in ("vanish", "observed"):
    for rec in d[name]:
        c = rec.get("cleanup", {})
        obs = rec.get("observed")
        print("%-10s session %s killed: gone from list_sessions after %s ms%s; clean %s after "
              "%s ms" % (name, rec.get("session"), rec.get("gone_after_ms"),
                         "" if obs is None else ", the polls after it got %s" % (
                             obs if isinstance(obs, str) else ",".join(
                                 e.get("janus", "?") + (":" + e["reason"] if "reason" in e else "")
                                 for e in obs if isinstance(e, dict))),
                         c.get("clean"), c.get("after_ms")))
        h = rec.get("handle")
        for line in log:
            if h and str(h) in line:
                print("    log: %s" % line)
for e in d["errors"]:
    print("    error: %s" % e)
sys.exit(0 if d["ok"] else 1)
PYEOF

if [[ $rc -ne 0 ]]; then
    echo "--- client stderr (tail)"
    tail -n 30 "$TMP/cleanup.err" || true
    echo "--- verbatim log (tail)"
    tail -n 40 "$LOG" || true
    exit 1
fi
