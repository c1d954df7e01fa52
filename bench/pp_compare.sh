#!/usr/bin/env bash
# pp_compare.sh [VERBATIM] — MJR conversion: `verbatim pp` against the real janus-pp-rec on the
# same recordings, then the transcode pool against one-after-another conversion.
#
# Recordings are made by bench/make_recording from media that ffmpeg encodes once into
# $VB_PP_CACHE (default /var/tmp/vb-pp-bench; kept between runs, remade only when missing or
# older than make_recording): a 10-minute VP8 720p recording, a 10-minute Opus one, a 2-hour
# VP8 one (the 10-minute one looped 12 times) and 20 five-minute VP8 ones (distinct SSRCs; a
# batch of one-minute files is dominated by per-job start and memory contention, see README).
# Each conversion runs under /usr/bin/time (wall, user+sys CPU, peak RSS); the two converters
# alternate, the first of each pair switching every round, outputs are deleted after each
# run, and the first output of each converter is checked with ffprobe (codec, packet count,
# duration). Medians and ratios are printed against the targets: speed (janus-pp-rec wall /
# ours) >= 1.5 on at least one file, peak RSS (ours / janus-pp-rec) < 0.25 on the 2-hour
# file, pool of 2 workers >= 1.8x faster than serial on the 20 files (bench/pool_speedup).
#
# A "start-up" row times `-h` of both programs: loading the shared libraries both link (FFmpeg's
# and everything they pull in) costs tens of ms, which is most of a small file's conversion.
#
# VERBATIM defaults to build/verbatim; make_recording and pool_speedup are taken from the
# bench/ directory next to it. Environment: RUNS (5) rounds on the 10-minute files and the
# start-up row, LONG_RUNS (3) on the 2-hour one, POOL_ROUNDS (5), VB_PP_CACHE. Needs ffmpeg
# with libvpx and libopus, ffprobe, janus-pp-rec (Debian janus-tools) and about 2 GB free in
# the cache. Every command is killed after 10 minutes. A run takes about a minute once the
# cache exists; the first one encodes the sources (about 12 minutes on 2 vCPUs) and makes
# the recordings (under a minute). Results go to stdout; the exit status is 1 only when a
# tool is missing or a conversion fails, not for a missed target.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
VERBATIM=$(realpath "${1:-$here/../build/verbatim}")
BENCH_BIN=$(dirname "$VERBATIM")/bench
MAKE_REC=$BENCH_BIN/make_recording
POOL_SPEEDUP=$BENCH_BIN/pool_speedup
CACHE=${VB_PP_CACHE:-/var/tmp/vb-pp-bench}
RUNS=${RUNS:-5}
LONG_RUNS=${LONG_RUNS:-3}
POOL_ROUNDS=${POOL_ROUNDS:-5}
CMD_TIMEOUT=600

die() {
    echo "pp_compare: $*" >&2
    exit 1
}

for tool in "$VERBATIM" "$MAKE_REC" "$POOL_SPEEDUP"; do
    [[ -x $tool ]] || die "$tool not built (cmake --build <build> -j2)"
done
for tool in ffmpeg ffprobe janus-pp-rec; do
    command -v "$tool" >/dev/null || die "$tool not found"
done
mkdir -p "$CACHE"
WORK=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# --- measuring -------------------------------------------------------------------------------

# measure OUT CMD...: runs CMD with its output discarded; writes "wall user sys maxrss_kib
# involuntary_context_switches" to OUT. Returns CMD's status.
measure() {
    local out=$1
    shift
    if [[ -x /usr/bin/time ]]; then
        timeout "$CMD_TIMEOUT" /usr/bin/time -o "$out" -f '%e %U %S %M %c' "$@" \
            >"$WORK/cmd.log" 2>&1
    else
        timeout "$CMD_TIMEOUT" python3 -c '
import os, sys, time
t = time.monotonic()
pid = os.fork()
if pid == 0:
    os.execvp(sys.argv[2], sys.argv[2:])
_, st, ru = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write("%.2f %.2f %.2f %d %d\n" % (time.monotonic() - t, ru.ru_utime, ru.ru_stime,
                                         ru.ru_maxrss, ru.ru_nivcsw))
sys.exit(os.waitstatus_to_exitcode(st))' "$out" "$@" >"$WORK/cmd.log" 2>&1
    fi
}

median() {
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# probe FILE: "codec packets duration"
probe() {
    local codec pkts dur
    codec=$(ffprobe -v error -select_streams 0 -show_entries stream=codec_name -of csv=p=0 "$1")
    pkts=$(ffprobe -v error -select_streams 0 -count_packets -show_entries \
        stream=nb_read_packets -of csv=p=0 "$1")
    dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$1")
    echo "$codec $pkts $dur"
}

# --- inputs ----------------------------------------------------------------------------------

# make_source NAME FFMPEG-ARGS...: encodes $CACHE/NAME once.
make_source() {
    local name=$1
    shift
    [[ -s $CACHE/$name ]] && return 0
    echo "encoding $CACHE/$name (once; cached)"
    timeout 1800 ffmpeg -nostdin -hide_banner -loglevel error -y "$@" "$CACHE/tmp-$name"
    mv "$CACHE/tmp-$name" "$CACHE/$name"
}

# make_mjr OUT.mjr make_recording-ARGS...: remade when missing or older than the generator.
make_mjr() {
    local out=$1
    shift
    [[ -s $out && $out -nt $MAKE_REC ]] && return 0
    "$MAKE_REC" "$@" "$out.tmp" >/dev/null
    mv "$out.tmp" "$out"
}

prepare_inputs() {
    local encoders
    encoders=$(ffmpeg -hide_banner -encoders 2>/dev/null)
    [[ $encoders == *" libvpx "* ]] || die "ffmpeg has no libvpx"
    [[ $encoders == *" libopus "* ]] || die "ffmpeg has no libopus"
    local free_kib rate=1500k
    free_kib=$(df -Pk "$CACHE" | awk 'NR == 2 { print $4 }')
    if [[ ! -s $CACHE/vp8.webm ]] && ((free_kib < 4 * 1024 * 1024)); then
        rate=800k # keeps the 2-hour recording under 1 GB
        echo "less than 4 GiB free under $CACHE: VP8 at $rate"
    fi
    make_source vp8.webm -f lavfi -i testsrc2=size=1280x720:rate=30 -t 600 -c:v libvpx \
        -deadline realtime -cpu-used 8 -b:v "$rate" -g 90
    make_source opus.ogg -f lavfi -i sine=frequency=440:sample_rate=48000 -t 600 \
        -c:a libopus -b:a 32k -frame_duration 20
    make_source vp8-5min.webm -i "$CACHE/vp8.webm" -t 300 -c copy
    make_mjr "$CACHE/vp8-10min.mjr" "$CACHE/vp8.webm"
    make_mjr "$CACHE/opus-10min.mjr" "$CACHE/opus.ogg"
    make_mjr "$CACHE/vp8-2h.mjr" --loop 12 "$CACHE/vp8.webm"
    mkdir -p "$CACHE/pool"
    for i in $(seq -w 1 20); do
        make_mjr "$CACHE/pool/vp8-5min-$i.mjr" --ssrc $((0x10000 + 10#$i)) "$CACHE/vp8-5min.webm"
    done
}

# --- janus-pp-rec against verbatim pp --------------------------------------------------------

declare -A RES # RES[label,tool] = "wall cpu rss_mib" medians
declare -A CHECK

# run_tool TOOL MJR OUT: one measured conversion (MJR empty: `-h`, the start-up cost).
run_tool() {
    local tool=$1 mjr=$2 out=$3
    local -a cmd
    if [[ $tool == jpp ]]; then
        cmd=(janus-pp-rec)
    else
        cmd=("$VERBATIM" pp -q)
    fi
    if [[ -z $mjr ]]; then
        cmd+=(-h)
    else
        cmd+=("$mjr" "$out")
    fi
    measure "$WORK/measure" "${cmd[@]}" || {
        cat "$WORK/cmd.log" >&2
        die "failed: ${cmd[*]}"
    }
}

# compare LABEL MJR EXT ROUNDS: MJR empty for the start-up row (no output to check).
compare() {
    local label=$1 mjr=$2 ext=$3 rounds=$4 r tool w u s k c name
    local -A wall cpu rss
    if [[ -n $mjr ]]; then
        echo "$label: $(basename "$mjr"), $(du -m "$mjr" | cut -f1) MB, $rounds round(s)"
        cat "$mjr" >/dev/null # both start from a warm page cache
    else
        echo "$label: \`janus-pp-rec -h\` and \`verbatim pp -h\`, $rounds round(s)"
    fi
    for ((r = 0; r < rounds; r++)); do
        local order="jpp ours"
        ((r % 2)) && order="ours jpp"
        for tool in $order; do
            local out="$WORK/out-$tool.$ext"
            run_tool "$tool" "$mjr" "$out"
            read -r w u s k c <"$WORK/measure"
            local cpu1 rss1
            cpu1=$(awk -v u="$u" -v s="$s" 'BEGIN { printf "%.2f", u + s }')
            rss1=$(awk -v k="$k" 'BEGIN { printf "%.1f", k / 1024 }')
            wall[$tool]+="$w "
            cpu[$tool]+="$cpu1 "
            rss[$tool]+="$rss1 "
            name="verbatim pp"
            [[ $tool == jpp ]] && name=janus-pp-rec
            printf '  round %d  %-12s wall %6.2f s  CPU %6.2f s (user %5.2f sys %5.2f)  RSS %6.1f MiB  preempted %d\n' \
                $((r + 1)) "$name" "$w" "$cpu1" "$u" "$s" "$rss1" "$c"
            if ((r == 0)) && [[ -n $mjr ]]; then
                CHECK[$label,$tool]=$(probe "$out")
            fi
            rm -f "$out"
        done
    done
    for tool in jpp ours; do
        # shellcheck disable=SC2086 # word splitting of the lists is wanted
        RES[$label,$tool]="$(median ${wall[$tool]}) $(median ${cpu[$tool]}) $(median ${rss[$tool]})"
    done
    [[ -n $mjr ]] || return 0
    local jc jp jd oc op od verdict
    read -r jc jp jd <<<"${CHECK[$label,jpp]}"
    read -r oc op od <<<"${CHECK[$label,ours]}"
    verdict=$(awk -v jc="$jc" -v oc="$oc" -v jp="$jp" -v op="$op" -v jd="$jd" -v od="$od" \
        'BEGIN { d = jp - op; if (d < 0) d = -d; t = jd - od; if (t < 0) t = -t
                 print (jc == oc && d <= 0.01 * jp && t <= 1.0) ? "OK" : "DIFFERENT" }')
    printf '  ffprobe: janus-pp-rec %s %s packets %.2f s; verbatim pp %s %s packets %.2f s: %s\n' \
        "$jc" "$jp" "$jd" "$oc" "$op" "$od" "$verdict"
    [[ $verdict == OK ]] || CHECK_FAILED=1
}

report() {
    local label speed_pass=0 jw jc jr ow oc or line
    echo
    printf '%-14s | %-26s | %-26s | %-25s | %s\n' "median" \
        "janus-pp-rec" "verbatim pp" "ratios" "targets"
    printf '%-14s | %7s %7s %10s | %7s %7s %10s | %6s %6s %11s |\n' "" wall_s cpu_s rss_MiB \
        wall_s cpu_s rss_MiB speed cpu rss_ours/j
    for label in vp8-10min opus-10min vp8-2h start-up; do
        read -r jw jc jr <<<"${RES[$label,jpp]}"
        read -r ow oc or <<<"${RES[$label,ours]}"
        line=$(awk -v l="$label" -v jw="$jw" -v jc="$jc" -v jr="$jr" -v ow="$ow" -v oc="$oc" \
            -v or="$or" 'BEGIN {
                s = jw / (ow > 0 ? ow : 0.01); c = jc / (oc > 0 ? oc : 0.01); m = or / jr
                t = sprintf("speed>=1.5x %s", s >= 1.5 ? "PASS" : "MISS")
                if (l == "vp8-2h") t = t sprintf(", rss<0.25x %s", m < 0.25 ? "PASS" : "MISS")
                if (l == "start-up") t = "(no target)"
                printf "%-14s | %7.2f %7.2f %10.1f | %7.2f %7.2f %10.1f | %5.2fx %5.2fx %11.3f | %s",
                    l, jw, jc, jr, ow, oc, or, s, c, m, t }')
        echo "$line"
        [[ $line == *"speed>=1.5x PASS"* ]] && speed_pass=1
    done
    echo "speed, cpu: janus-pp-rec / verbatim pp (wall; user+sys); rss_ours/j: peak RSS verbatim pp / janus-pp-rec"
    echo "target speed >= 1.5x on at least one file: $([[ $speed_pass == 1 ]] && echo PASS || echo MISS)"
}

# --- main ------------------------------------------------------------------------------------

start=$SECONDS
echo "pp_compare: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "verbatim: $VERBATIM ($(grep -s '^CMAKE_BUILD_TYPE' "$(dirname "$VERBATIM")/CMakeCache.txt" | cut -d= -f2))"
echo "janus-pp-rec: $(dpkg-query -W -f '${Package} ${Version}' janus-tools 2>/dev/null || echo '?')"
prepare_inputs
CHECK_FAILED=0
echo
compare vp8-10min "$CACHE/vp8-10min.mjr" webm "$RUNS"
compare opus-10min "$CACHE/opus-10min.mjr" opus "$RUNS"
compare vp8-2h "$CACHE/vp8-2h.mjr" webm "$LONG_RUNS"
compare start-up "" none "$RUNS"
report
[[ $CHECK_FAILED == 0 ]] || echo "WARNING: the outputs differ (see the ffprobe lines)"

echo
echo "pool: 20 five-minute VP8 720p recordings, load average $(cut -d' ' -f1-3 /proc/loadavg)"
timeout "$CMD_TIMEOUT" "$POOL_SPEEDUP" --threads 2 --rounds "$POOL_ROUNDS" --out-dir "$WORK" \
    "$CACHE"/pool/vp8-5min-*.mjr
echo
echo "pp_compare: done in $((SECONDS - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
