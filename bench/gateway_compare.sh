#!/usr/bin/env bash
# gateway_compare.sh [VERBATIM] — the gateway's control plane under load, real Janus 1.1.2 (the
# Debian package) against `verbatim serve`, both driven by bench/gw_load on 127.0.0.1.
#
# For each server: `gw_load cycles` (CLIENTS keep-alive clients loop create, attach
# janus.plugin.videoroom, a VideoRoom `exists` message, destroy, for CYCLE_SECONDS after 1 s of
# warm-up) on a fresh process, then `gw_load idle` (SESSIONS sessions, each holding one long
# poll on its own connection, for HOLD seconds, sampling the server's RSS and threads) on
# another fresh process. A table gives both and the ratios ours/Janus.
#
# Janus runs from a config folder made here: only the HTTP transport (REST and admin, bound to
# 127.0.0.1 on free ports) and the VideoRoom plugin (its packaged config, rooms 1234 and 5678),
# session_timeout 600, debug_level JANUS_DEBUG (4, the packaged level). The transport's
# config is the packaged file with only ports, bind address and admin_http changed. In 1.1.2 it
# has no `threads` setting any more: libmicrohttpd runs one internal polling thread (epoll),
# long polls are suspended connections, and the packaged file leaves mhd_connection_limit at
# its default, 1020 (FD_SETSIZE - 4). That packaged Janus cannot hold SESSIONS polls, so its
# idle run is short (PACKAGED_HOLD seconds, sessions left to the shutdown) and only shows how
# many it took; a second Janus, with mhd_connection_limit raised to SESSIONS + CLIENTS + 100
# (its only change), gives the idle numbers the table compares. Cycles use the packaged one.
#
# Ours: `$VERBATIM serve --data TMP --janus-port P --admin-port Q --web-port 0
# --admin-secret S` (plus --janus-bind/--admin-bind 127.0.0.1 and --session-timeout 600 when
# serve knows them). Skipped,
# with Janus's numbers still printed, when serve has no --janus-port yet.
#
# Environment: CLIENTS (50), CYCLE_SECONDS (10), SESSIONS (5000), HOLD (35: past Janus's 30 s
# keepalive, so every poll is answered and re-polled once), PACKAGED_HOLD (5), JANUS_DEBUG (4),
# GW_LOAD (gw_load next to VERBATIM, under bench/), BUDGET (290 s: the whole run is killed
# after that). Both servers get `ulimit -n` 65536 or the hard limit if lower (it must exceed
# SESSIONS + CLIENTS + 200). Installs janus with apt-get when /usr/bin/janus is missing
# (retrying while dpkg is locked). Takes about 3 minutes. The exit status is 1 when a tool is
# missing or a server fails to start, not for a slow or failing gateway (read the table).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
VERBATIM=$(realpath "${1:-$here/../build/verbatim}")
GW_LOAD=${GW_LOAD:-$(dirname "$VERBATIM")/bench/gw_load}
CLIENTS=${CLIENTS:-50}
CYCLE_SECONDS=${CYCLE_SECONDS:-10}
SESSIONS=${SESSIONS:-5000}
HOLD=${HOLD:-35}
PACKAGED_HOLD=${PACKAGED_HOLD:-5}
JANUS_DEBUG=${JANUS_DEBUG:-4}
BUDGET=${BUDGET:-290}
ADMIN_SECRET=gw-compare-$$

die() {
    echo "gateway_compare: $*" >&2
    exit 1
}

[[ -x $GW_LOAD ]] || die "$GW_LOAD not built (cmake --build <build> --target bench_gw_load)"
command -v python3 >/dev/null || die "python3 not found"

WORK=$(mktemp -d /tmp/gw-compare.XXXXXX)
SERVER_PID=
CHILD_PID=
WATCHDOG_PID=

stop_server() {
    local pid=$SERVER_PID i
    [[ -n $pid ]] || return 0
    SERVER_PID=
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

cleanup() {
    if [[ -n $CHILD_PID ]]; then
        kill -TERM "$CHILD_PID" 2>/dev/null || true # timeout(1) passes it on
    fi
    stop_server
    if [[ -n $WATCHDOG_PID ]]; then
        kill "$WATCHDOG_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "gateway_compare: interrupted" >&2; exit 1' INT TERM

# run CMD...: runs CMD in the background and waits for it, so that a signal (the watchdog's)
# is handled at once rather than after CMD.
run() {
    local rc=0
    "$@" &
    CHILD_PID=$!
    wait "$CHILD_PID" || rc=$?
    CHILD_PID=
    return $rc
}

# --- Janus -----------------------------------------------------------------------------------

ensure_janus() {
    [[ -x /usr/bin/janus ]] && return 0
    echo "installing the Debian package janus"
    local i updated=0
    for ((i = 0; i < 12; i++)); do
        if apt-get -o DPkg::Lock::Timeout=60 install -y janus >"$WORK/apt.log" 2>&1; then
            return 0
        fi
        if grep -qi 'lock' "$WORK/apt.log"; then
            sleep 10 # another apt-get or dpkg at work
        elif ((!updated)); then
            updated=1
            apt-get -o DPkg::Lock::Timeout=60 update >/dev/null 2>&1 || true
        else
            cat "$WORK/apt.log" >&2
            die "apt-get install janus failed"
        fi
    done
    die "dpkg stayed locked: janus not installed"
}

free_ports() {
    python3 -c '
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])'
}

# janus_config DIR PORT ADMIN_PORT [CONNECTION_LIMIT]
janus_config() {
    local dir=$1 port=$2 admin=$3 limit=${4:-} so
    mkdir -p "$dir/conf" "$dir/plugins" "$dir/transports" "$dir/none"
    so=$(dpkg -L janus | grep '/transports/libjanus_http\.so$' | head -1)
    [[ -n $so ]] || die "libjanus_http.so not found in the janus package"
    ln -sf "$so" "$dir/transports/"
    ln -sf "$(dirname "$(dirname "$so")")/plugins/libjanus_videoroom.so" "$dir/plugins/"
    cat >"$dir/conf/janus.jcfg" <<EOF
general: {
	configs_folder = "$dir/conf"
	plugins_folder = "$dir/plugins"
	transports_folder = "$dir/transports"
	events_folder = "$dir/none"
	loggers_folder = "$dir/none"
	debug_level = $JANUS_DEBUG
	admin_secret = "$ADMIN_SECRET"
	session_timeout = 600
}
nat: {
	ice_ignore_list = "vmnet"
}
EOF
    sed -e "s/^\(\s*\)port = 8088/\1port = $port/" \
        -e "s/^\(\s*\)admin_port = 7088/\1admin_port = $admin/" \
        -e 's/^\(\s*\)admin_http = false/\1admin_http = true/' \
        -e 's/^\(\s*\)#ip = "[0-9.]*"/\1ip = "127.0.0.1"/' \
        -e 's/^\(\s*\)#admin_ip = "[0-9.]*"/\1admin_ip = "127.0.0.1"/' \
        /etc/janus/janus.transport.http.jcfg >"$dir/conf/janus.transport.http.jcfg"
    if [[ -n $limit ]]; then
        sed -i "s/^\(\s*\)#mhd_connection_limit = [0-9]*/\1mhd_connection_limit = $limit/" \
            "$dir/conf/janus.transport.http.jcfg"
        grep -q "mhd_connection_limit = $limit" "$dir/conf/janus.transport.http.jcfg" ||
            die "could not set mhd_connection_limit"
    fi
    grep -q "port = $port" "$dir/conf/janus.transport.http.jcfg" || die "could not set the port"
    cp /etc/janus/janus.plugin.videoroom.jcfg "$dir/conf/"
}

# --- servers ---------------------------------------------------------------------------------

# wait_ready PORT LOG: until GET /janus/info answers server_info (20 s at most).
wait_ready() {
    local port=$1 log=$2
    python3 - "$port" "$SERVER_PID" <<'EOF' || { tail -20 "$log" >&2; die "server not ready"; }
import json, os, sys, time, urllib.request
port, pid = sys.argv[1], int(sys.argv[2])
end = time.monotonic() + 20
while time.monotonic() < end:
    try:
        os.kill(pid, 0)
    except OSError:
        sys.exit("the server exited")
    try:
        with urllib.request.urlopen("http://127.0.0.1:%s/janus/info" % port, timeout=2) as r:
            if json.load(r).get("janus") == "server_info":
                sys.exit(0)
    except Exception:
        pass
    time.sleep(0.1)
sys.exit("no server_info in 20 s")
EOF
}

# start_janus NAME [CONNECTION_LIMIT]: sets PORT and SERVER_PID.
start_janus() {
    local name=$1 limit=${2:-} admin
    read -r PORT admin < <(free_ports)
    janus_config "$WORK/$name" "$PORT" "$admin" "$limit"
    janus -F "$WORK/$name/conf" -o >"$WORK/$name.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "$PORT" "$WORK/$name.log"
}

# start_janus_raised NAME: Janus with room in libmicrohttpd for every poll.
start_janus_raised() {
    start_janus "$1" $((SESSIONS + CLIENTS + 100))
}

# start_ours NAME: sets PORT and SERVER_PID.
start_ours() {
    local name=$1 admin help
    local -a extra=()
    read -r PORT admin < <(free_ports)
    help=$("$VERBATIM" serve --help 2>&1 || true)
    [[ $help == *--janus-bind* ]] && extra+=(--janus-bind 127.0.0.1)
    [[ $help == *--admin-bind* ]] && extra+=(--admin-bind 127.0.0.1)
    [[ $help == *--session-timeout* ]] && extra+=(--session-timeout 600) # as Janus's
    mkdir -p "$WORK/$name-data"
    "$VERBATIM" serve --data "$WORK/$name-data" --janus-port "$PORT" --admin-port "$admin" \
        --web-port 0 --admin-secret "$ADMIN_SECRET" "${extra[@]}" >"$WORK/$name.log" 2>&1 &
    SERVER_PID=$!
    wait_ready "$PORT" "$WORK/$name.log"
}

# --- runs ------------------------------------------------------------------------------------

# cycles START NAME: a fresh server, then gw_load cycles into $WORK/NAME-cycles.json.
cycles() {
    local start=$1 name=$2
    echo
    echo "== $name: cycles ($CLIENTS clients, ${CYCLE_SECONDS} s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    $start "$name"
    run timeout 120 "$GW_LOAD" cycles --port "$PORT" --pid "$SERVER_PID" --clients "$CLIENTS" \
        --seconds "$CYCLE_SECONDS" --label "$name" --json "$WORK/$name-cycles.json" ||
        echo "gw_load cycles failed against $name (status $?)"
    stop_server
}

# idle START NAME HOLD [GW_LOAD-ARGS...]: a fresh server, then gw_load idle.
idle() {
    local start=$1 name=$2 hold=$3
    shift 3
    echo
    echo "== $name: idle ($SESSIONS long polls, ${hold} s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
    $start "$name"
    run timeout $((hold + 150)) "$GW_LOAD" idle --port "$PORT" --pid "$SERVER_PID" \
        --sessions "$SESSIONS" --hold "$hold" --clients "$CLIENTS" --label "$name" \
        --json "$WORK/$name-idle.json" "$@" ||
        echo "gw_load idle failed against $name (status $?)"
    stop_server
}

report() {
    python3 - "$WORK" "$SESSIONS" <<'EOF'
import json, os, sys
work, sessions = sys.argv[1], int(sys.argv[2])

def load(name):
    try:
        with open(os.path.join(work, name)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None

jc, ji = load("janus-cycles.json"), load("janus-limit-raised-idle.json")
jp, oc, oi = load("janus-packaged-idle.json"), load("ours-cycles.json"), load("ours-idle.json")

def cyc(d, key):
    if not d:
        return None
    if key == "rate":
        return d["cycles_per_s"]
    if key == "errors":
        return d["errors"]
    if key == "cpu":
        return d["server_cpu_s"] * 1e6 / d["cycles"] if d["cycles"] else None
    if key in ("client_cpu_s", "others_cpu_s"):
        return d[key]
    kind, q = key.split(":")
    return d["latency"][kind][q]

def idl(d, key):
    if not d:
        return None
    if key == "healthy":
        return d["healthy"]
    if key == "early":
        return d["keepalives_early"]
    if key == "errors":
        return d["setup_errors"] + d["setup_stalled"] + d["early_closed"] + d["poll_errors"] + d["poll_timeouts"]
    s = d.get("server", {})
    return {"per": s.get("rss_per_session_kib"), "held": s.get("rss_held_kib", 0) / 1024,
            "threads": s.get("threads_held"), "tmax": s.get("threads_max")}[key]

rows = [
    ("cycles/s", cyc, "rate", jc, oc, "%.0f"),
    ("request p50 (ms)", cyc, "all:p50_ms", jc, oc, "%.3f"),
    ("request p99 (ms)", cyc, "all:p99_ms", jc, oc, "%.3f"),
    ("cycle p50 (ms)", cyc, "cycle:p50_ms", jc, oc, "%.3f"),
    ("cycle p99 (ms)", cyc, "cycle:p99_ms", jc, oc, "%.3f"),
    ("cycle errors", cyc, "errors", jc, oc, "%d"),
    ("server CPU/cycle (us)", cyc, "cpu", jc, oc, "%.0f"),
    ("gw_load's CPU (s)", cyc, "client_cpu_s", jc, oc, "%.2f"),
    ("other processes' CPU (s)", cyc, "others_cpu_s", jc, oc, "%.2f"),
    ("idle polls healthy", idl, "healthy", ji, oi, "%d"),
    ("idle errors", idl, "errors", ji, oi, "%d"),
    ("keepalives under 25 s", idl, "early", ji, oi, "%d"),
    ("RSS per idle session (KiB)", idl, "per", ji, oi, "%.2f"),
    ("RSS held (MiB)", idl, "held", ji, oi, "%.1f"),
    ("threads at %d idle polls" % sessions, idl, "threads", ji, oi, "%d"),
    ("threads max during idle", idl, "tmax", ji, oi, "%d"),
]

def fmt(v, f):
    return "-" if v is None else f % v

print()
print("%-28s | %12s | %12s | %10s" % ("", "Janus 1.1.2", "verbatim", "ours/Janus"))
for label, fn, key, j, o, f in rows:
    jv, ov = fn(j, key), fn(o, key)
    ratio = "%.3f" % (ov / jv) if jv and ov is not None else "-"
    print("%-28s | %12s | %12s | %10s" % (label, fmt(jv, f), fmt(ov, f), ratio))
print("Janus: cycles with the packaged transport config; idle with mhd_connection_limit raised.")
if jp:
    print("Janus as packaged (mhd_connection_limit 1020): %d of %d long polls held "
          "(%d creates unanswered once it stopped accepting connections), RSS %.2f KiB per "
          "session, %s threads." % (jp["healthy"], jp["sessions"], jp["setup_stalled"],
          jp.get("server", {}).get("rss_per_session_kib", 0),
          jp.get("server", {}).get("threads_held", "-")))
if not oc and not oi:
    print("verbatim: not measured (see above).")
EOF
}

# --- main ------------------------------------------------------------------------------------

ensure_janus
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
(($(ulimit -n) >= SESSIONS + CLIENTS + 200)) ||
    die "open-files limit $(ulimit -n) is below SESSIONS + CLIENTS + 200"
(
    # The sleep gets no copy of stdout (a pipe reader would wait for it), and goes with us.
    trap 'kill "$nap" 2>/dev/null; exit 0' TERM
    sleep "$BUDGET" >/dev/null 2>&1 &
    nap=$!
    wait "$nap"
    echo "gateway_compare: over the $BUDGET s budget, stopping" >&2
    kill -TERM $$
) &
WATCHDOG_PID=$!

start=$SECONDS
echo "gateway_compare: $(date -u '+%Y-%m-%d %H:%M UTC'); $(nproc) CPUs; load average $(cut -d' ' -f1-3 /proc/loadavg); ulimit -n $(ulimit -n)"
echo "janus: $(dpkg-query -W -f '${Package} ${Version}' janus 2>/dev/null); debug_level $JANUS_DEBUG"
echo "verbatim: $VERBATIM ($(grep -s '^CMAKE_BUILD_TYPE' "$(dirname "$VERBATIM")/CMakeCache.txt" | cut -d= -f2))"

cycles start_janus janus
idle start_janus janus-packaged "$PACKAGED_HOLD" --no-destroy
idle start_janus_raised janus-limit-raised "$HOLD"
serve_help=$("$VERBATIM" serve --help 2>&1 || true)
if [[ $serve_help == *--janus-port* ]]; then
    cycles start_ours ours
    idle start_ours ours "$HOLD"
else
    echo
    echo "== verbatim: skipped ($VERBATIM serve has no --janus-port)"
fi
report
echo
echo "gateway_compare: done in $((SECONDS - start)) s; load average $(cut -d' ' -f1-3 /proc/loadavg)"
