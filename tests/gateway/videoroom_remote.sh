#!/usr/bin/env bash
# VideoRoom cascading between two instances of the target server in one network namespace
# (peers/netns.sh): tests/gateway/peers/aiortc_remote.py publishes aiortc's Opus + VP8 on
# instance A, adds a remote publisher on instance B (add_remote_publisher), sends the publisher
# there (publish_remotely) and subscribes to it on B with aiortc, which must decode its audio
# and video; the cascading requests' replies must read as real Janus 1.1.2's. B's room records:
# once B is stopped, the remote publisher's audio and video MJRs must convert with the real
# janus-pp-rec to media lasting the time the publisher was remotized (within 10%).
#
# env: VB_ECHO_TARGET=janus     two real Janus 1.1.2 (peers/janus_ref.sh): the same checks, which
#                               is how the expected replies were taken (but the recordings:
#                               Janus 1.1.2 does not record remote publishers)
#      VB_ECHO_TARGET=verbatim  (the default) two `$VERBATIM serve`, each with its own ports and
#                               --data folder
#      VB_REMOTE_B=janus|verbatim  instance B only (default: the target): real Janus and ours
#                               cascading to each other
#      VB_VR_KEEP=1             keep the temporary folder (summary, logs, recordings)
# Runtime: about 25 s. Skips (exit 77) without root, aiortc, janus-pp-rec, ffprobe or the target.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
TARGET_B=${VB_REMOTE_B:-$TARGET}
# shellcheck source=peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=peers/target.sh
source "$PEERS/target.sh"

B_REST_PORT=8288
B_ADMIN_PORT=7288
B_PID=

skip() {
    echo "SKIP: $*; the cascading test did not run"
    exit 77 # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
for tool in janus-pp-rec ffprobe; do
    command -v $tool >/dev/null || skip "$tool is not installed"
done
for t in "$TARGET" "$TARGET_B"; do
    reason=$(vb_target_check "$t" 2>&1) || skip "$reason"
done

TMP=$(mktemp -d /tmp/vb-vr-remote.XXXXXX)
# stop_b: B ends (TERM, then KILL) so that its recordings are finished.
stop_b() {
    local pid=$B_PID
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    B_PID=
}
cleanup() {
    stop_b
    vb_target_stop
    vb_netns_destroy
    if [[ ${VB_VR_KEEP:-0} == 1 ]]; then
        echo "kept: $TMP"
    else
        rm -rf "$TMP"
    fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# start_b: the second instance, on its own ports (and, for verbatim, its own data folder).
start_b() {
    local dir=$TMP/b
    mkdir -p "$dir"
    if [[ $TARGET_B == janus ]]; then
        local a_pid=$VB_JANUS_PID
        vb_janus_ref_start "$dir" "$B_REST_PORT" "$B_ADMIN_PORT" "$VB_TARGET_SECRET"
        B_PID=$VB_JANUS_PID
        B_LOG=$dir/janus.log
        VB_JANUS_PID=$a_pid
        return
    fi
    B_LOG=$dir/verbatim.log
    (exec ip netns exec "$VB_NETNS" "$VERBATIM" serve --data "$dir/data" \
        --janus-port "$B_REST_PORT" --admin-port "$B_ADMIN_PORT" \
        --admin-secret "$VB_TARGET_SECRET" --web-port 0 \
        --ice-enforce-list "$VB_NETNS_ADDR") >"$B_LOG" 2>&1 &
    B_PID=$!
    vb_janus_ref_wait "$B_PID" "$B_REST_PORT" "$B_ADMIN_PORT" "$B_LOG" "verbatim B"
}

vb_netns_create vrcasc
vb_target_start "$TARGET" "$TMP/a"
start_b
echo "A: $TARGET ($VB_TARGET_URL), B: $TARGET_B (http://127.0.0.1:$B_REST_PORT/janus), in" \
    "$VB_NETNS"

ROOM_B=$((RANDOM * 32768 + RANDOM + 1000))
args=()
if [[ $TARGET_B == janus ]]; then
    mkdir -p "$TMP/janus-rec"
    args=(--rec-dir "$TMP/janus-rec")
    [[ $TARGET == janus ]] && args+=(--ask-keyframe)
fi
rc=0
vb_netns_exec $PY "$PEERS/aiortc_remote.py" --url-a "$VB_TARGET_URL" \
    --url-b "http://127.0.0.1:$B_REST_PORT/janus" --target "$TARGET" --room-b "$ROOM_B" \
    "${args[@]}" --json "$TMP/summary.json" >/dev/null 2>"$TMP/client.err" || rc=$?
stop_b
failed=0
if [[ ! -s $TMP/summary.json ]]; then
    echo "the client wrote no summary (exit $rc); its stderr:"
    cat "$TMP/client.err"
    failed=1
elif ! $PY - "$TMP/summary.json" <<'EOF'; then
import json, sys
d = json.load(open(sys.argv[1]))
for c in d["checks"]:
    print("ok    %s" % c)
for e in d["errors"]:
    print("FAIL  %s" % e)
sys.exit(0 if d["ok"] else 1)
EOF
    failed=1
fi

# B's recordings of the remote publisher: one audio and one video MJR, converted by janus-pp-rec
# to media as long as the remotization lasted.
recordings() {
    local dir=$1 id secs mjr kind out ext dur n=0
    read -r id secs < <($PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(d["remote_id"], d["window_s"])' "$TMP/summary.json")
    for mjr in "$dir"/*-"$id"-*.mjr; do
        [[ -e $mjr ]] || continue
        kind=$(janus-pp-rec -j "$mjr" 2>/dev/null |
            $PY -c 'import json, sys; print(json.load(sys.stdin)["t"])') || kind="?"
        ext=webm
        [[ $kind == a ]] && ext=opus
        out=$TMP/$(basename "${mjr%.mjr}").$ext
        if ! janus-pp-rec "$mjr" "$out" >"$out.log" 2>&1 || [[ ! -s $out ]]; then
            echo "FAIL  janus-pp-rec $(basename "$mjr")"
            tail -n 5 "$out.log"
            return 1
        fi
        dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out")
        if ! $PY -c 'import sys; v, w = map(float, sys.argv[1:]); sys.exit(abs(v - w) > 0.1 * w)' \
            "${dur:-0}" "$secs"; then
            echo "FAIL  $(basename "$out") lasts ${dur:-?} s, remotized $secs s (10% allowed)"
            return 1
        fi
        echo "ok    recording $(basename "$mjr") ($kind): janus-pp-rec gives $dur s" \
            "(remotized $secs s)"
        n=$((n + 1))
    done
    if [[ $n -ne 2 ]]; then
        echo "FAIL  want an audio and a video MJR of $id in $dir, have: $(ls "$dir" 2>&1)"
        return 1
    fi
}
if [[ $failed -eq 0 && $TARGET_B == janus ]]; then
    # Janus 1.1.2 opens no recorder for a remote publisher, whatever the room says.
    echo "note  real Janus records no remote publisher: $(find "$TMP/janus-rec" -name '*.mjr' |
        wc -l) MJR in its rec_dir"
elif [[ $failed -eq 0 ]]; then
    recordings "$TMP/b/data/recordings/$ROOM_B" || failed=1
fi
if [[ $failed -ne 0 ]]; then
    echo "--- client stderr (tail)"
    tail -n 20 "$TMP/client.err" || true
    echo "--- A log (tail)"
    tail -n 30 "$VB_TARGET_LOG" || true
    echo "--- B log (tail)"
    tail -n 30 "$B_LOG" || true
    exit 1
fi
