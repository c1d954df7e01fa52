#!/usr/bin/env bash
# bench/throttled.sh — bench/mjr_write on a deliberately slow disk.
#
# Creates a 2 GiB sparse file, attaches it to a loop device, formats it ext4, mounts it, and
# limits writes to that device to RATE bytes/s. Then runs mjr_write on it with a small engine
# budget: ours must drop frames (the disk cannot take the input) and count every drop, while
# its producers never wait; the baseline's producers block in fwrite once the device's dirty
# page cache is full, which shows in its tail latencies and schedule lag.
#
# The write limit: cgroup v2 io.max on a child cgroup the benchmark runs in, when the io
# controller is available. Otherwise (cgroup v1 hosts, like this sandbox) the v1 blkio
# throttle is set on the ROOT blkio group for this one loop device: v1 does not charge
# buffered writeback to the cgroup that dirtied the pages, so a limit on a child group would
# slow only ours (O_DIRECT) and let the baseline's page cache drain at full speed.
#
# The dirty cap: with GBs of RAM, the page cache would absorb a short run at any disk speed
# and the baseline would not feel the disk for minutes (in production it does, once the dirty
# limit or the container's memory limit is reached). To reach that state in seconds, the
# device's share of dirty pages is capped at DIRTY_MB with the per-device strict_limit and
# max_bytes knobs of /sys/class/bdi/<dev>/ (Linux 6.2+), restored afterwards.
#
# Usage: sudo bench/throttled.sh [path/to/mjr_write] [json-output]
#   env: RATE (bytes/s, 5242880), STREAMS (200), DURATION (s, 8), BUDGET_MB (8), DIRTY_MB (64)
# Needs root. Prints "SKIPPED: <reason>" and exits 0 where the sandbox does not allow it.
# Bounded: the benchmark is killed after 150 s; setup and cleanup take seconds. Everything it
# creates (loop device, mount, cgroup, throttle, bdi settings, files) is undone by a trap.
set -u

here=$(cd "$(dirname "$0")" && pwd)
bench=${1:-${MJR_WRITE:-$here/../build/bench/mjr_write}}
json_out=${2:-}
rate=${RATE:-5242880}
streams=${STREAMS:-200}
seconds=${DURATION:-8} # not SECONDS: bash owns that name
budget=${BUDGET_MB:-8}
dirty_mb=${DIRTY_MB:-64}

skip() {
    echo "SKIPPED: $*"
    exit 0
}

[ "$(id -u)" = 0 ] || skip "needs root (loop device, mount, cgroup, bdi settings)"
for tool in losetup mkfs.ext4 mount umount truncate timeout; do
    command -v "$tool" >/dev/null 2>&1 || skip "$tool is not installed"
done
if [ ! -x "$bench" ]; then
    echo "error: $bench is not an executable: build bench/mjr_write first" >&2
    exit 2
fi
bench=$(cd "$(dirname "$bench")" && pwd)/$(basename "$bench")

# Which throttle can we use?
mode=
cg2=
for root in /sys/fs/cgroup /sys/fs/cgroup/unified; do
    if [ "$(stat -fc %T "$root" 2>/dev/null)" = cgroup2fs ] &&
        grep -qw io "$root/cgroup.controllers" 2>/dev/null && [ -w "$root" ]; then
        mode=v2
        cg2=$root
        break
    fi
done
v1file=/sys/fs/cgroup/blkio/blkio.throttle.write_bps_device
if [ -z "$mode" ] && [ -w "$v1file" ]; then
    mode=v1
fi
[ -n "$mode" ] || skip "no cgroup v2 io controller and no writable cgroup v1 blkio throttle"

work=
loop=
majmin=
cg=
enabled_io=
bdi=
old_strict=
old_ratio=
# shellcheck disable=SC2317 # called by the trap
cleanup() {
    set +e
    if [ -n "$bdi" ] && [ -n "$old_ratio" ]; then
        echo "$old_strict" >"$bdi/strict_limit" 2>/dev/null
        echo "$old_ratio" >"$bdi/max_ratio" 2>/dev/null
    fi
    if [ -n "$majmin" ]; then
        if [ "$mode" = v1 ]; then
            echo "$majmin 0" >"$v1file" 2>/dev/null
        elif [ -n "$cg" ]; then
            echo "$majmin wbps=max" >"$cg/io.max" 2>/dev/null
        fi
    fi
    if [ -n "$work" ] && mountpoint -q "$work/mnt"; then
        umount "$work/mnt" 2>/dev/null || umount -l "$work/mnt"
    fi
    [ -n "$loop" ] && losetup -d "$loop" 2>/dev/null
    [ -n "$cg" ] && rmdir "$cg" 2>/dev/null
    [ -n "$enabled_io" ] && echo "-io" >"$cg2/cgroup.subtree_control" 2>/dev/null
    [ -n "$work" ] && rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

work=$(mktemp -d /var/tmp/vb-throttle.XXXXXX) || skip "cannot create a directory under /var/tmp"
truncate -s 2G "$work/disk.img" || skip "cannot create a 2 GiB sparse file under /var/tmp"
loop=$(losetup --find --show "$work/disk.img" 2>/dev/null) || {
    loop=
    skip "cannot attach a loop device"
}
# Initialize inode tables and journal now: lazy init would write in the background, through
# the throttle, during the run.
mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$loop" >/dev/null 2>&1 ||
    skip "mkfs.ext4 failed on $loop"
mkdir "$work/mnt"
mount "$loop" "$work/mnt" 2>/dev/null || skip "cannot mount $loop"
majmin=$(cat "/sys/class/block/$(basename "$loop")/dev")

if [ "$mode" = v2 ]; then
    if ! grep -qw io "$cg2/cgroup.subtree_control"; then
        echo "+io" >"$cg2/cgroup.subtree_control" 2>/dev/null || skip "cannot enable io in $cg2"
        enabled_io=1
    fi
    cg=$cg2/vb-throttle-$$
    mkdir "$cg" || skip "cannot create cgroup $cg"
    echo "$majmin wbps=$rate" >"$cg/io.max" || skip "cannot write $cg/io.max"
    how="cgroup v2 io.max wbps=$rate on $majmin for cgroup $cg (the benchmark runs in it)"
else
    echo "$majmin $rate" >"$v1file" || skip "cannot write $v1file"
    how="cgroup v1 blkio.throttle.write_bps_device $majmin $rate on the root blkio group"
    how="$how (cgroup v2 has no io controller here; v1 cannot charge writeback to a child)"
fi

bdi=/sys/class/bdi/$majmin
cap="none (no per-device dirty knobs: the page cache may hide the slow disk)"
if [ -w "$bdi/strict_limit" ] && [ -w "$bdi/max_bytes" ]; then
    old_strict=$(cat "$bdi/strict_limit")
    old_ratio=$(cat "$bdi/max_ratio")
    echo 1 >"$bdi/strict_limit" && echo $((dirty_mb << 20)) >"$bdi/max_bytes" &&
        cap="$dirty_mb MiB (strict_limit=1, max_bytes on $bdi)"
fi

echo "throttled.sh: $streams streams, $seconds s, engine budget $budget MiB"
echo "throttle: $how"
echo "dirty page cache cap for the device: $cap"
echo

sectors_written() {
    awk '{print $7}' "/sys/class/block/$(basename "$loop")/stat"
}
json=$work/result.json
s0=$(sectors_written)
t0=$(date +%s.%N)
run=("$bench" --dir "$work/mnt/bench" --streams "$streams" --seconds "$seconds"
    --budget-mb "$budget" --no-writeback --timeout 140 --json "$json")
if [ "$mode" = v2 ]; then
    # shellcheck disable=SC2016 # $$ and $1 are for the inner shell
    timeout -k 5 150 sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "${run[@]}"
else
    timeout -k 5 150 "${run[@]}"
fi
rc=$?
t1=$(date +%s.%N)
s1=$(sectors_written)
echo
awk -v s="$((s1 - s0))" -v t0="$t0" -v t1="$t1" -v r="$rate" 'BEGIN {
    mib = s * 512 / 1048576; dt = t1 - t0;
    printf "device %s wrote %.1f MiB in %.1f s: %.2f MiB/s (limit %.2f MiB/s)\n",
           "'"$loop"'", mib, dt, mib / dt, r / 1048576 }'
if [ "$rc" -ne 0 ]; then
    echo "throttled.sh: mjr_write exited with status $rc" >&2
    exit "$rc"
fi
if command -v python3 >/dev/null 2>&1 && [ -s "$json" ]; then
    python3 - "$json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
o, b = d.get("ours", {}), d.get("baseline", {})
print("summary:")
print("  ours: %d of %d frames dropped and counted (producer -EAGAIN %d, stream stats %d, "
      "engine stats %d); append p99 %.3f us, p99.9 %.3f us, max %.1f us; lag max %d us"
      % (o["frames_dropped"], o["frames_offered"], o["producer_eagain"],
         o["stream_stats_dropped"], o["engine_stats_dropped"], o["append_p99_us"],
         o["append_p999_us"], o["append_max_us"], o["lag_max_us"]))
print("  baseline: %d of %d frames written; append p99 %.3f us, p99.9 %.3f us, max %.1f us; "
      "lag max %d us" % (b["frames_written"], b["frames_offered"], b["append_p99_us"],
                         b["append_p999_us"], b["append_max_us"], b["lag_max_us"]))
behind = o["frames_offered"] - b["frames_offered"]
if behind > 0:
    print("  baseline producers offered %d fewer frames than ours in the same time: they were "
          "blocked in fwrite (a media loop would have lost or delayed those packets)" % behind)
EOF
fi
[ -n "$json_out" ] && cp "$json" "$json_out"
exit 0
