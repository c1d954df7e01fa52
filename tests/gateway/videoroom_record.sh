#!/usr/bin/env bash
# VideoRoom recording while things change, with real aiortc publishers (Opus + VP8) in a network
# namespace of our own (peers/netns.sh), against one server run (peers/target.sh):
#   1. enable   a room with record:false, a secret and lock_record: no file while its three
#               publishers publish (even when one asks for `record` without the secret);
#               `enable_recording` without the secret and with a wrong one refused with Janus
#               1.1.2's codes; with it every publisher's audio and video files appear within 1 s;
#               rec1's `configure record:false` without the secret does not stop its files (they
#               grow, as rec2's), rec3's with the secret closes rec3's within 1 s (the control:
#               Janus does); `enable_recording` false 4 s after enabling closes rec1's and rec2's
#               (catalog: closed, sha256 of the file); the files convert to their recording
#               window (~4 s; rec3 ~1.5 s) +-0.5 s.
#   2. kick     record:true, one publisher for 3 s, `kick` (refused without the secret): within
#               1 s its files are closed in the catalog with their sha256; they convert to the
#               publishing time +-0.5 s.
#   3. crash    record:true, one publisher for 4 s, then SIGKILL to the server: the files are
#               left as *.mjr.tmp; the server restarted on the same data logs their recovery,
#               the catalog lists them as recovered (sha256 of the renamed file), and they
#               convert to the publishing time +-1 s (a crash loses at most the engine's 1 s
#               flush interval).
# The checks of each step are peers/aiortc_vr_record.py's (it prints ok/FAIL lines); this script
# then converts every recording it lists with the real janus-pp-rec and with `verbatim pp`,
# times the outputs with ffprobe and decodes them with ffmpeg (any word on stderr fails, but for
# the one case of real Janus convert() notes instead).
#
# env: VB_ECHO_TARGET=janus     real Janus 1.1.2 (peers/janus_ref.sh) for steps 1 and 2 (the
#                               error codes, the same flow; no catalog: files checked instead),
#                               recordings in each room's rec_dir
#      VB_ECHO_TARGET=verbatim  (the default) `$VERBATIM serve` with its web catalog on
#                               127.0.0.1:8191 of the namespace
#      VB_VR_KEEP=1             keep the temporary folder (summaries, logs, recordings, outputs)
# Runtime: about 25 s (20 s against Janus). Skips (exit 77) without root, aiortc, janus-pp-rec, ffmpeg or the target.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
WEB_PORT=8191
# shellcheck source=peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=peers/target.sh
source "$PEERS/target.sh"

skip() {
    echo "SKIP: $*; the VideoRoom recording test did not run"
    exit 77
}
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
for tool in janus-pp-rec ffprobe ffmpeg sha256sum; do
    command -v $tool >/dev/null || skip "$tool is not installed"
done
reason=$(vb_target_check "$TARGET" 2>&1) || skip "$reason"

vb_target_scratch videoroom-record VB_VR_KEEP

failed=0
fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

DIR=$TMP/$TARGET
DATA=$DIR/data
SECRET=vb-rec-$RANDOM$RANDOM
ROOM0=$((RANDOM * 32768 + RANDOM + 1000))

# client SCENARIO ROOM [ARGS...]: peers/aiortc_vr_record.py in the namespace; its lines are
# printed; a non-zero exit counts as one failure. The summary goes to $TMP/SCENARIO.json.
client() {
    local scenario=$1 room=$2 rc=0 where
    shift 2
    if [[ $TARGET == janus ]]; then
        where=(--rec-dir "$TMP/janus-rec/$scenario")
        mkdir -p "$TMP/janus-rec/$scenario"
    else
        where=(--data "$DATA" --catalog "http://127.0.0.1:$WEB_PORT")
    fi
    vb_netns_exec $PY "$PEERS/aiortc_vr_record.py" --url "$VB_TARGET_URL" --room "$room" \
        --secret "$SECRET" --scenario "$scenario" "${where[@]}" --json "$TMP/$scenario.json" \
        "$@" 2>"$TMP/$scenario.err" | sed 's/^/  /' || rc=$?
    if [[ $rc -ne 0 || ! -s $TMP/$scenario.json ]]; then
        fail "$scenario: the client's checks failed (exit $rc)"
        grep -v '^$' "$TMP/$scenario.err" | tail -n 15 || true
    fi
}

# convert_all SCENARIO: every recording the summary lists, by janus-pp-rec and `verbatim pp`
# (verbatim only), each output timed (expect_s +- tolerance_s) and decoded by ffmpeg.
convert_all() {
    local json=$TMP/$1.json display kind path expect tol ext out
    [[ -s $json ]] || return 0
    while IFS=$'\t' read -r display kind path expect tol; do
        ext=webm
        [[ $kind == audio ]] && ext=opus
        out=$TMP/out-$1-$display-$kind
        convert "$1" "$display $kind" "$expect" "$tol" "$out.jpp.$ext" janus-pp-rec "$path" \
            "$out.jpp.$ext"
        if [[ $TARGET == verbatim ]]; then
            convert "$1" "$display $kind" "$expect" "$tol" "$out.pp.$ext" "$VERBATIM" pp "$path" \
                "$out.pp.$ext"
        fi
    done < <($PY -c '
import json, sys
for r in json.load(open(sys.argv[1]))["recordings"]:
    print("\t".join(str(r[k]) for k in ("display", "kind", "path", "expect_s", "tolerance_s")))' \
        "$json")
}

# convert SCENARIO WHAT EXPECT TOL OUT CMD...: CMD must write OUT, lasting EXPECT +- TOL s, which
# ffmpeg decodes without a word on stderr. One known exception of real Janus, noted and not
# failed: a video recording it opens mid-stream by enable_recording may begin with the frames
# sent before the keyframe (janus-pp-rec keeps them: "First keyframe: N" with N > 0 in its log,
# and ffmpeg complains about the first frame). Verbatim's video files start at a keyframe, so for
# verbatim it fails.
convert() {
    local scenario=$1 what=$2 expect=$3 tol=$4 out=$5 dur err label
    shift 5
    label="$scenario: $what: $(basename "$1") $(basename "$out")"
    if ! "$@" >"$out.log" 2>&1 || [[ ! -s $out ]]; then
        fail "$label: conversion failed: $(tail -n 3 "$out.log" | tr '\n' ' ')"
        return 0
    fi
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$out")
    if [[ -z $dur ]] || ! $PY -c 'import sys; d, e, t = map(float, sys.argv[1:])
sys.exit(abs(d - e) > t)' "$dur" "$expect" "$tol"; then
        fail "$label: lasts ${dur:-?} s, want $expect +- $tol s"
        return 0
    fi
    if ! err=$(ffmpeg -nostdin -v error -i "$out" -f null - 2>&1) || [[ -n $err ]]; then
        if [[ $TARGET == janus && $scenario == enable && $1 == janus-pp-rec ]] &&
            grep -Eq '^First keyframe: [1-9]' "$out.log"; then
            echo "  note: $label: $dur s (want $expect +- $tol); begins before its first" \
                "keyframe ($(grep -m1 '^First keyframe' "$out.log")), ffmpeg: ${err:0:100}"
            return 0
        fi
        fail "$label: ffmpeg does not decode it cleanly: ${err:0:300}"
        return 0
    fi
    echo "  ok: $label: $dur s (want $expect +- $tol), decodes"
}

SECONDS=0
vb_netns_create vrrec || {
    fail "cannot create the namespace"
    exit 1
}
export VB_TARGET_EXTRA_ARGS="--web-port $WEB_PORT"
vb_target_start "$TARGET" "$DIR" || {
    fail "$TARGET did not start"
    exit 1
}
echo "target: $TARGET ($VB_TARGET_URL in namespace $VB_NETNS), rooms $ROOM0..$((ROOM0 + 2))"

echo "1. enable_recording on a live room, lock_record (room $ROOM0)"
client enable "$ROOM0"
convert_all enable

echo "2. kick during recording (room $((ROOM0 + 1)))"
client kick $((ROOM0 + 1))
convert_all kick

if [[ $TARGET == verbatim ]]; then
    echo "3. SIGKILL mid-recording, restart, recovery (room $((ROOM0 + 2)))"
    killed=$VB_TARGET_PID
    rc=0
    # (stderr closed: bash's "Killed" job notice; the client's own lines go to stdout)
    {
        client crash $((ROOM0 + 2)) --kill-pid "$killed"
        wait "$killed" || rc=$?
    } 2>/dev/null
    VB_TARGET_PID=
    if [[ $rc -ne 137 ]]; then
        fail "crash: verbatim ended with status $rc, want 137 (SIGKILL)"
    fi
    mv "$VB_TARGET_LOG" "$DIR/verbatim-killed.log"
    if vb_target_start verbatim "$DIR"; then
        recovered=$(grep -c "archive: recovered recordings/$((ROOM0 + 2))/" "$VB_TARGET_LOG" ||
            true)
        if [[ $recovered -eq 2 ]]; then
            echo "  ok: crash: the restarted server logs 2 recoveries:"
            grep "archive: recovered" "$VB_TARGET_LOG" | sed 's/^/    /'
        else
            fail "crash: the restarted server logs $recovered recoveries of room" \
                "$((ROOM0 + 2)), want 2"
            grep -i "archive" "$VB_TARGET_LOG" | head -n 10
        fi
        client recovered $((ROOM0 + 2)) --previous "$TMP/crash.json"
        convert_all recovered
    else
        fail "crash: verbatim did not restart on the same data"
    fi
else
    echo "3. SIGKILL and recovery: verbatim only (skipped against $TARGET)"
fi

if [[ $failed -ne 0 ]]; then
    echo "--- $TARGET log (tail)"
    tail -n 30 "$VB_TARGET_LOG" || true
fi
vb_target_stop
echo "$TARGET: $failed failure(s), ${SECONDS} s"
[[ $failed -eq 0 ]] || exit 1
