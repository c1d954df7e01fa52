#!/usr/bin/env bash
# Crash recovery end to end: a producer records the real-Janus fixtures through the archive
# API, is killed with SIGKILL mid-recording, and `verbatim serve` started on the same data
# folder then has to finish every recording the catalog still had open: trimmed, renamed, hashed (the catalog's SHA-256
# equals sha256sum of the file), marked recovered, and convertible by the real janus-pp-rec
# into files ffprobe finds packets in.
set -euo pipefail

: "${VB_TEST_TOOLS:?}" "${VB_FIXTURES:?}" "${VERBATIM:?}"
feed="$VB_TEST_TOOLS/tool_archive_feed"
for t in "$feed" janus-pp-rec ffprobe jq sha256sum; do
    command -v "$t" >/dev/null || { echo "missing: $t"; exit 1; }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/vb-crash-XXXXXX")
pid=
cleanup() {
    [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
data="$work/data"
fail() { echo "FAIL: $*"; exit 1; }

# 1. Record until the files are open, let it run, then kill -9.
mkfifo "$work/out"
"$feed" --data "$data" --speed 4 "$VB_FIXTURES"/*/*.mjr >"$work/out" 2>"$work/err" &
pid=$!
exec 3<"$work/out"
if ! timeout 20 bash -c 'read -r line <&3 && [ "$line" = recording ]'; then
    cat "$work/err"
    fail "the producer never said it was recording"
fi
sleep 1.5
kill -9 "$pid"
wait "$pid" 2>/dev/null || true
pid=
exec 3<&-

# 2. What the catalog had open at the crash.
"$feed" --dump --data "$data" >"$work/before.json"
jq -r '.recordings[] | select(.state == "open") | .path' "$work/before.json" | sort >"$work/open.txt"
n_open=$(wc -l <"$work/open.txt")
[ "$n_open" -eq 4 ] || fail "expected 4 open recordings after the crash, found $n_open"
while read -r p; do
    [ -f "$data/$p.tmp" ] || fail "$p.tmp is not on disk after the crash"
done <"$work/open.txt"

# 3. Restart: the server's startup recovers what the catalog had open.
"$VERBATIM" serve --data "$data" --web-port 0 --janus-port 0 --admin-port 0 --workers 1 2>"$work/serve.log" &
pid=$!
for _ in $(seq 100); do
    grep -q serving "$work/serve.log" && break
    sleep 0.1
done
grep -q serving "$work/serve.log" || { cat "$work/serve.log"; fail "serve did not start"; }
kill -TERM "$pid"
wait "$pid" || fail "serve exited $?"
pid=
grep -q "crash recovery: 4 recording(s) recovered, 0 stray file(s) indexed, 0 missing" \
    "$work/serve.log" || { cat "$work/serve.log"; fail "serve did not report the recovery"; }
"$feed" --dump --data "$data" >"$work/after.json"
"$VERBATIM" catalog verify --data "$data" >"$work/verify" || { cat "$work/verify"; fail "verify"; }

# 4. Every recording open before is recovered, hashed, and converts with janus-pp-rec.
while read -r p; do
    rec=$(jq -c --arg p "$p" '.recordings[] | select(.path == $p)' "$work/after.json")
    state=$(jq -r .state <<<"$rec")
    [ "$state" = recovered ] || fail "$p is $state, not recovered"
    [ ! -e "$data/$p.tmp" ] || fail "$p.tmp still exists"
    want=$(jq -r .sha256 <<<"$rec")
    got=$(sha256sum "$data/$p" | cut -d' ' -f1)
    [ "$want" = "$got" ] || fail "$p: catalog sha256 $want, file $got"
    size=$(jq -r .size <<<"$rec")
    [ "$size" -eq "$(stat -c %s "$data/$p")" ] || fail "$p: catalog size $size"
    case $(jq -r .codec <<<"$rec") in
    opus) ext=opus ;;
    vp8 | vp9) ext=webm ;;
    h264) ext=mp4 ;;
    *) fail "$p: unexpected codec" ;;
    esac
    out="$work/$(basename "$p" .mjr).$ext"
    janus-pp-rec "$data/$p" "$out" >"$work/pp.log" 2>&1 || { cat "$work/pp.log"; fail "janus-pp-rec $p"; }
    pkts=$(ffprobe -v error -count_packets -show_entries stream=nb_read_packets -of csv=p=0 "$out" |
        head -n1)
    [ "${pkts:-0}" -gt 0 ] || fail "$out: no packets"
    echo "ok: $p ($size bytes, $(jq -r .trimmed <<<"$rec") trimmed) -> $ext, $pkts packets"
done <"$work/open.txt"
echo "crash recovery: all $n_open recordings recovered"
