#!/usr/bin/env bash
# VideoRoom SFU with real peers and recording: tests/gateway/peers/aiortc_videoroom.py runs 3
# aiortc publishers (Opus + VP8) who subscribe to each other's feeds in a room it creates with
# `record: true`, inside a network namespace of its own (peers/netns.sh). Every publisher and
# subscriber must reach webrtcup and every subscriber must decode 60% of the expected audio and
# video frames from every other feed; when a feed goes away, the subscribers' renegotiation
# (`updated` offer, answered with `start`) must work. Then the target is stopped and the
# recordings checked:
# for each publisher exactly one audio and one video MJR (kind from the MJR header), both
# converted by the real janus-pp-rec to media lasting the publisher's publishing time (its
# webrtcup to its unpublish, measured by the client) within 5%; against verbatim the same with
# `verbatim pp`, plus `verbatim pp --merge` of the pair, which ffmpeg must decode without a word.
#
# env: VB_ECHO_TARGET=janus     real Janus 1.1.2 (peers/janus_ref.sh); recordings in the
#                               room's rec_dir ($TMP/janus-rec)
#      VB_ECHO_TARGET=verbatim  (the default) `$VERBATIM serve`; recordings in
#                               data/recordings/<room>/, named with the publisher's id
#      VB_VR_SECONDS=N          seconds of media once every subscriber is up (default 20)
#      VB_VR_COMPARE=1          compatibility: the whole test against real Janus, then against
#                               verbatim (each in a fresh namespace), then the normalized event
#                               sequence of every handle compared; any difference fails
#      VB_VR_KEEP=1             keep the temporary folder (summaries, every event received in
#                               TARGET-raw.json, logs, recordings) and print its path
# Runtime: about N + 15 s per target (setup, N s of media, a paced teardown, conversions).
# Skips (exit 77: ctest shows "Skipped", "SKIP:" printed) without root, aiortc, janus-pp-rec,
# ffmpeg or the target(s); fails on any missing frame, file or second.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PEERS=$HERE/peers
PY=/usr/bin/python3
TARGET=${VB_ECHO_TARGET:-verbatim}
MEDIA_SECONDS=${VB_VR_SECONDS:-20}
COMPARE=${VB_VR_COMPARE:-0}
PUBLISHERS=3
# shellcheck source=peers/netns.sh
source "$PEERS/netns.sh"
# shellcheck source=peers/janus_ref.sh
source "$PEERS/janus_ref.sh"
# shellcheck source=peers/target.sh
source "$PEERS/target.sh"

skip() {
    echo "SKIP: $*; the aiortc VideoRoom test did not run"
    exit 77 # ctest reports it as skipped (SKIP_RETURN_CODE)
}
targets=("$TARGET")
[[ $COMPARE == 1 ]] && targets=(janus verbatim)
reason=$(vb_netns_check 2>&1) || skip "$reason"
$PY -c 'import aiortc, aioice, av, numpy, requests' 2>/dev/null ||
    skip "python3-aiortc (with aioice, av, numpy, requests) is not installed"
for tool in janus-pp-rec ffprobe ffmpeg; do
    command -v $tool >/dev/null || skip "$tool is not installed"
done
for t in "${targets[@]}"; do
    reason=$(vb_target_check "$t" 2>&1) || skip "$reason"
done

vb_target_scratch videoroom-aiortc VB_VR_KEEP

ROOM=$((RANDOM * 32768 + RANDOM + 1000))
failed=0

fail() {
    echo "FAIL: $*"
    failed=$((failed + 1))
}

# within_5pct VALUE WANT: 0 when |VALUE - WANT| <= 5% of WANT.
within_5pct() {
    $PY -c 'import sys; v, w = map(float, sys.argv[1:]); sys.exit(abs(v - w) > 0.05 * w)' "$1" "$2"
}

duration() {
    ffprobe -v error -show_entries format=duration -of csv=p=0 "$1"
}

# digest JSON: one screen of what the client saw; also prints its errors.
digest() {
    $PY - "$1" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
print("  %s: publishers up %d, subscribers up %d, media window %.1f s, frames needed %s" % (
    "ok" if d["ok"] else "FAIL", d["publishers_up"], d["subscribers_up"], d["window_s"],
    d["frames_needed"]))
print("  webrtcup ms: " + ", ".join("%s %s" % kv for kv in sorted(d["webrtcup_ms"].items())))
for sub, feeds in sorted(d["frames"].items()):
    print("  %s decoded: %s" % (sub, ", ".join("%s audio %d video %d" % (
        f, c["audio"], c["video"]) for f, c in sorted(feeds.items()))))
print("  publishing s: %s; timings ms: %s" % (d["publishing_s"], d["timings_ms"]))
for name, h in sorted(d["handles"].items()):
    print("  %-8s %s" % (name, " ".join(h["events"])))
for e in d["errors"]:
    print("  error: %s" % e)
if any("error 499" in e for e in d["errors"]):
    print("  (499 = the server's VideoRoom does not do that request yet)")
EOF
}

# recordings DIR JSON TARGET: every publisher's audio + video MJR converted and timed.
recordings() {
    local dir=$1 json=$2 target=$3 display id secs mjr kind audio video out ext
    [[ -d $dir ]] || {
        fail "no recording folder $dir"
        return
    }
    while read -r display id secs; do
        audio="" video=""
        for mjr in "$dir"/*-"$id"-*.mjr; do
            [[ -e $mjr ]] || continue
            kind=$(janus-pp-rec -j "$mjr" 2>/dev/null |
                $PY -c 'import json, sys; print(json.load(sys.stdin)["t"])') || kind="?"
            if [[ $kind == a && -z $audio ]]; then
                audio=$mjr
            elif [[ $kind == v && -z $video ]]; then
                video=$mjr
            else
                fail "$display: $(basename "$mjr"): kind '$kind' unreadable or twice"
            fi
        done
        if [[ -z $audio || -z $video ]]; then
            fail "$display (id $id): want an audio and a video MJR named *-$id-*" \
                "in $dir, have: $(cd "$dir" && echo *)"
            continue
        fi
        for mjr in "$audio" "$video"; do
            out=$TMP/$target-$display-$(basename "${mjr%.mjr}")
            ext=webm
            [[ $mjr == "$audio" ]] && ext=opus
            convert janus-pp-rec "$display" "$secs" "$out.$ext" janus-pp-rec "$mjr" "$out.$ext" ||
                true
            if [[ $target == verbatim ]]; then
                convert "verbatim pp" "$display" "$secs" "$out.pp.$ext" \
                    "$VERBATIM" pp "$mjr" "$out.pp.$ext" || true
            fi
        done
        if [[ $target == verbatim ]]; then
            out=$TMP/$target-$display-merged.webm
            if convert "verbatim pp --merge" "$display" "$secs" "$out" \
                "$VERBATIM" pp --merge "$out" "$audio" "$video"; then
                decode "$display" "$out" || true
            fi
        fi
        # (the catalog API's view of these recordings is checked by catalog_check, with the
        # server still running)
    done < <($PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
for name, fid in sorted(d["publisher_ids"].items()):
    print(name, fid, d["publishing_s"].get(name, 0))' "$json")
}

# convert LABEL DISPLAY SECONDS OUT CMD...: runs the converter CMD, then OUT must last
# SECONDS +-5%. Returns 1 (after fail) when not.
convert() {
    local label=$1 display=$2 secs=$3 out=$4 dur
    shift 4
    if ! "$@" >"$out.log" 2>&1 || [[ ! -s $out ]]; then
        fail "$display: $label failed: $*"
        tail -n 5 "$out.log"
        return 1
    fi
    dur=$(duration "$out")
    if [[ -z $dur ]] || ! within_5pct "$dur" "$secs"; then
        fail "$display: $(basename "$out") by $label lasts ${dur:-?} s, published $secs s" \
            "(5% allowed)"
        return 1
    fi
    echo "  rec $display: $(basename "$out") by $label: $dur s (published $secs s)"
}

# decode DISPLAY FILE: ffmpeg decodes all of FILE, exit 0 and nothing on stderr.
decode() {
    local err
    if ! err=$(ffmpeg -nostdin -v error -i "$2" -f null - 2>&1) || [[ -n $err ]]; then
        fail "$1: ffmpeg does not decode $(basename "$2") cleanly: ${err:0:400}"
        return 1
    fi
    echo "  rec $1: $(basename "$2") decodes with ffmpeg"
}

# catalog_check JSON: (verbatim, server running) the web catalog API lists the room, every
# publisher as a participant with its display and a left time, each with an audio (opus) and a
# video (vp8) recording closed with size and SHA-256 equal to the file's, and one merge job per
# participant done with an output (polled up to 30 s: the jobs run after the recordings close).
catalog_check() {
    local port
    port=$(sed -n 's|.*web catalog: http://127.0.0.1:\([0-9]*\)/.*|\1|p' "$VB_TARGET_LOG" | head -1)
    if [[ -z $port ]]; then
        fail "catalog: no web catalog address in the log"
        return
    fi
    vb_netns_exec $PY - "$port" "$TMP/verbatim/data" "$ROOM" "$1" <<'PY' || failed=$((failed + 1))
import hashlib, json, os, sys, time
import requests
port, data, room, summary = sys.argv[1], sys.argv[2], sys.argv[3], json.load(open(sys.argv[4]))
token = open(os.path.join(data, "catalog-token")).read().strip()
base = "http://127.0.0.1:%s/api" % port
get = lambda path, **q: requests.get(base + path, params=q, timeout=5,
                                     headers={"Authorization": "Bearer " + token}).json()
want = {str(v) for v in summary["publisher_ids"].values()}
deadline, why = time.monotonic() + 30, "nothing yet"
while time.monotonic() < deadline:
    recs = get("/recordings", room=room, limit=100)["recordings"]
    parts = get("/rooms/%s/participants" % room)["participants"]
    jobs = get("/jobs", limit=100)["jobs"]
    closed = [r for r in recs if r["state"] == "closed"]
    by_part = {p: sorted((r["kind"], r["codec"]) for r in closed if r["participant"] == p)
               for p in want}
    done = [j for j in jobs if j["state"] == "done" and j["outputs"]]
    if all(v == [("audio", "opus"), ("video", "vp8")] for v in by_part.values()) \
            and len(recs) == len(closed) and len(done) >= len(want):
        break
    why = "recordings %s, jobs %s" % (by_part, [j["state"] for j in jobs])
    time.sleep(0.5)
else:
    print("  FAIL: catalog: not everything closed and converted in 30 s: %s" % why)
    sys.exit(1)
for r in closed:
    blob = open(os.path.join(data, r["path"]), "rb").read()
    assert r["size"] == len(blob), r
    assert r["sha256"] == hashlib.sha256(blob).hexdigest(), r
names = {str(v): k for k, v in summary["publisher_ids"].items()}
listed = {p["participant"]: p for p in parts}
for pid in want:
    p = listed.get(pid)
    assert p and p["display"] == names[pid] and p.get("left_at"), "participant %s: %s" % (pid, p)
print("  catalog: room %s, %d participants (display, left), %d recordings closed with their "
      "SHA-256, %d merge jobs done" % (room, len(want), len(closed), len(done)))
PY
}

# run_target TARGET: namespace + target + client + recordings; the summary in $TMP/TARGET.json.
run_target() {
    local target=$1 rc=0 recdir args=() failed_before=$failed
    SECONDS=0
    vb_netns_create vroom
    vb_target_start "$target" "$TMP/$target"
    if [[ $target == janus ]]; then
        recdir=$TMP/janus-rec
        mkdir -p "$recdir"
        args=(--rec-dir "$recdir")
    else
        recdir=$TMP/verbatim/data/recordings/$ROOM
    fi
    echo "target: $target ($VB_TARGET_URL in namespace $VB_NETNS), room $ROOM, $PUBLISHERS" \
        "publishers, $MEDIA_SECONDS s of media"
    vb_netns_exec $PY "$PEERS/aiortc_videoroom.py" --url "$VB_TARGET_URL" --room "$ROOM" \
        --create "${args[@]}" --publishers $PUBLISHERS --seconds "$MEDIA_SECONDS" \
        --json "$TMP/$target.json" --raw "$TMP/$target-raw.json" >/dev/null \
        2>"$TMP/$target.err" || rc=$?
    if [[ ! -s $TMP/$target.json ]]; then
        fail "$target: the client wrote no summary (exit $rc)"
        tail -n 30 "$TMP/$target.err"
    else
        digest "$TMP/$target.json"
        [[ $rc -eq 0 ]] || fail "$target: the client's checks failed (above)"
        [[ $target != verbatim ]] || catalog_check "$TMP/$target.json"
    fi
    vb_target_stop
    # The recordings are checked whenever every publisher got to unpublish (even when the
    # subscribers failed: what was recorded is worth knowing).
    if [[ -s $TMP/$target.json ]] && $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d["publishing_s"] and len(d["publishing_s"]) == len(d["publisher_ids"]) else 1)' \
        "$TMP/$target.json"; then
        recordings "$recdir" "$TMP/$target.json" "$target"
    else
        fail "$target: recordings not checked: not every publisher published and unpublished"
    fi
    if [[ $failed -ne $failed_before ]]; then
        echo "--- $target log (tail)"
        tail -n 40 "$VB_TARGET_LOG" || true
        echo "--- client stderr (tail)"
        tail -n 20 "$TMP/$target.err" || true
    fi
    vb_netns_destroy
    echo "  $target: ${SECONDS} s"
}

# compare: the per-handle event sequences of Janus and verbatim (exit 1 on a difference).
compare() {
    $PY - "$TMP/janus.json" "$TMP/verbatim.json" <<'EOF'
import json, sys
ref, ours = (json.load(open(p))["handles"] for p in sys.argv[1:3])
bad = 0
for name in sorted(set(ref) | set(ours)):
    a, b = ref.get(name), ours.get(name)
    if a is None or b is None:
        print("  %s: only in %s" % (name, "janus" if b is None else "verbatim"))
        bad = 1
        continue
    if a["events"] != b["events"]:
        bad = 1
        i = next((i for i, (x, y) in enumerate(zip(a["events"], b["events"])) if x != y),
                 min(len(a["events"]), len(b["events"])))
        print("  %s: sequences differ from event %d" % (name, i))
        print("    janus:    %s" % " ".join(a["events"][i:]))
        print("    verbatim: %s" % " ".join(b["events"][i:]))
    media = lambda h: {e for e in h["unordered"] if e.startswith("media:") and e.endswith(":true")}
    if media(a) != media(b):
        bad = 1
        print("  %s: media events janus %s, verbatim %s" % (name, sorted(media(a)),
                                                           sorted(media(b))))
    # Informational (not failures): the data keys of each event, the repeated notifications
    # (Janus 1.1.2 says "unpublished" up to three times), the other unordered events.
    for ev in sorted(set(a["shapes"]) & set(b["shapes"])):
        if a["shapes"][ev] != b["shapes"][ev]:
            print("  note %s %s keys: janus %s, verbatim %s" % (name, ev, a["shapes"][ev],
                                                             b["shapes"][ev]))
    if a["repeats"] != b["repeats"]:
        print("  note %s repeated notifications: janus %s, verbatim %s" % (
            name, a["repeats"], b["repeats"]))
    rest = lambda h: set(h["unordered"]) - media(h)
    if rest(a) != rest(b):
        print("  note %s other events: janus %s, verbatim %s" % (name, sorted(rest(a)),
                                                                sorted(rest(b))))
print("compare: %s" % ("the event sequences differ" if bad else "same event sequences"))
sys.exit(bad)
EOF
}

for t in "${targets[@]}"; do
    run_target "$t"
done
if [[ $COMPARE == 1 ]]; then
    if [[ -s $TMP/janus.json && -s $TMP/verbatim.json ]]; then
        compare || failed=$((failed + 1))
    else
        fail "compare: a summary is missing"
    fi
fi
[[ $failed -eq 0 ]] || exit 1
