#!/usr/bin/env bash
# WebRTC echo with a real peer: aiortc (tests/gateway/peers/aiortc_echo.py) through the EchoTest
# plugin of the target server, inside a network namespace of its own (peers/netns.sh). Runs of
# N seconds of Opus + video decoded back: VP8 with the candidates in the offer, H.264 forced on
# the transceiver, VP8 with trickled candidates, VP8 with a `bitrate` cap (the REMB must reach
# aiortc's sender), and (verbatim) a recorded run converted by janus-pp-rec. Each must reach
# webrtcup, get both `media` events, and decode enough echoed frames of the size it sent.
#
# env: VB_ECHO_TARGET=janus     real Janus 1.1.2 (peers/janus_ref.sh)
#      VB_ECHO_TARGET=verbatim  (the default) `$VERBATIM serve ... --ice-enforce-list 127.0.0.2`
#      VB_ECHO_SECONDS=N        seconds of media per run (default 4)
# Skips (exit 77: ctest shows "Skipped", "SKIP:" printed) without root, aiortc or the target; fails on any missing frame.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
SECONDS_PER_RUN=${VB_ECHO_SECONDS:-4}
# shellcheck source=peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=peers/target.sh
source "$PEERS/target.sh"

skip() {
    echo "SKIP: $*; the aiortc echo test did not run"
    exit 77  # ctest reports it as skipped (SKIP_RETURN_CODE)
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
reason=$(vb_target_check "$TARGET" 2>&1) || skip "$reason"

vb_target_scratch echo-aiortc

vb_netns_create echoa
vb_target_start "$TARGET" "$TMP/$TARGET"

# run NAME ARGS...: one echo; prints a one-line digest, or the whole summary when it fails.
failed=0
run() {
    local name=$1 rc=0
    shift
    vb_netns_exec $PY "$PEERS/aiortc_echo.py" --url "$VB_TARGET_URL" \
        --seconds "$SECONDS_PER_RUN" "$@" >"$TMP/$name.json" 2>"$TMP/$name.err" || rc=$?
    if ! $PY - "$name" "$TMP/$name.json" <<'EOF'; then
import json, sys
name, path = sys.argv[1], sys.argv[2]
d = json.load(open(path))
print("%-8s %s answer %s ms, webrtcup %s ms, frames audio %d video %d (%s), codecs %s, "
      "events %s" % (
    name, "ok  " if d["ok"] else "FAIL", d["timings_ms"].get("answer"), d["webrtcup_ms"],
    d["frames"]["audio"],
    d["frames"]["video"], ",".join(d["video_sizes"]) or "-",
    " + ".join(d["codecs"].get(k, "-") for k in ("audio", "video")), ",".join(d["events_seen"])))
for e in d["errors"]:
    print("    error: %s" % e)
EOF
        rc=1
    fi
    if [[ $rc -ne 0 ]]; then
        echo "--- $name: summary and stderr"
        cat "$TMP/$name.json" "$TMP/$name.err" || true
        failed=1
    fi
}

echo "target: $TARGET ($VB_TARGET_URL in namespace $VB_NETNS), $SECONDS_PER_RUN s per run"
run vp8 --video vp8
run h264 --video h264
run trickle --video vp8 --trickle
if [[ $TARGET == verbatim ]]; then
    # Our EchoTest sends its cap as REMB itself (real Janus 1.1.2's REMB differs: not checked).
    run bitrate --video vp8 --bitrate 256000
fi
if [[ $TARGET == verbatim ]]; then
    # Recording: the EchoTest records what it receives through the archive; after the hangup
    # the files are closed, and real janus-pp-rec converts them to media of the run's length.
    run record --video vp8 --record echo-rec
    vb_target_stop
    rec=$TMP/verbatim/data/recordings/echotest
    for kind in audio-0 video-1; do
        mjr=$rec/echo-rec-$kind.mjr
        [[ -s $mjr ]] || { echo "record: no $mjr (have: $(ls "$rec" 2>&1))"; failed=1; continue; }
        case $kind in audio*) out=$TMP/rec-$kind.opus ;; *) out=$TMP/rec-$kind.webm ;; esac
        janus-pp-rec "$mjr" "$out" >"$TMP/pp-$kind.log" 2>&1 ||
            { echo "record: janus-pp-rec failed on $mjr"; cat "$TMP/pp-$kind.log"; failed=1; continue; }
        dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out")
        if ! $PY -c "import sys; d = float(sys.argv[1]); sys.exit(0 if abs(d - $SECONDS_PER_RUN) < 1.0 else 1)" "$dur"; then
            echo "record: $out lasts $dur s, want about $SECONDS_PER_RUN"
            failed=1
        else
            echo "record   ok   $kind: $(basename "$mjr") -> $(basename "$out") $dur s"
        fi
    done
fi

if [[ $failed -ne 0 ]]; then
    echo "--- $TARGET log (tail)"
    tail -n 40 "$VB_TARGET_LOG" || true
    exit 1
fi
