#!/usr/bin/env bash
# Janus API compatibility: real Janus (Debian `janus`) and `verbatim serve` get the same scripted
# sequence of REST and Admin requests; tests/gateway/janus_compat.py compares the reply shapes.
# Two pairs of servers: A with an admin secret only, B also with an API secret and stored-token
# auth. Janus runs from a config generated here: HTTP transport (REST + admin) and VideoRoom
# only, loopback, free ports, no STUN, no event handlers, its log (stdout) in the temp dir.
#
# usage: janus_compat.sh            the ctest entry (needs VERBATIM)
#        janus_compat.sh reference  Janus alone, prints its replies (no VERBATIM needed)
#        janus_compat.sh selfcheck  Janus against a second Janus (the comparison must pass)
set -euo pipefail

JANUS=/usr/bin/janus
if [[ ! -x $JANUS ]]; then
    echo "SKIP: $JANUS is not installed (apt-get install janus); Janus compatibility not checked"
    exit 77 # ctest reports it as skipped (SKIP_RETURN_CODE)
fi
MODE=${1:-compare}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=peers/janus_ref.sh
source "$HERE/peers/janus_ref.sh" # for vb_janus_http_conf
PY=/usr/bin/python3
ADMIN_SECRET=compat-admin
API_SECRET=compat-api
LIBDIR=/usr/lib/x86_64-linux-gnu/janus
[[ -d $LIBDIR ]] || LIBDIR=$(dirname "$(dirname "$(find /usr/lib -name libjanus_http.so -print -quit)")")

TMP=$(mktemp -d /tmp/vb-janus-compat.XXXXXX)
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT

# Eight free loopback ports, held open together so that they differ.
read -r -a PORTS <<<"$($PY -c '
import socket
socks = []
for _ in range(8):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))')"

# janus_conf DIR REST_PORT ADMIN_PORT EXTRA_GENERAL_LINES
janus_conf() {
    local dir=$1 rest=$2 admin=$3 extra=$4
    local plugins transports
    mkdir -p "$dir/rec"
    plugins=$(cd "$LIBDIR/plugins" && ls ./*.so | sed 's|^\./||' | grep -vxE 'libjanus_(videoroom|echotest).so' |
        paste -sd, -)
    transports=$(cd "$LIBDIR/transports" && ls ./*.so | sed 's|^\./||' |
        grep -vx libjanus_http.so | paste -sd, -)
    cat >"$dir/janus.jcfg" <<EOF
general: {
	configs_folder = "$dir"
	plugins_folder = "$LIBDIR/plugins"
	transports_folder = "$LIBDIR/transports"
	events_folder = "$LIBDIR/events"
	loggers_folder = "$LIBDIR/loggers"
	log_to_stdout = true
	debug_level = 4
	debug_colors = false
	admin_secret = "$ADMIN_SECRET"
	server_name = "compat"
	session_timeout = 60
$extra
}
media: {
	rtp_port_range = "$((20000 + RANDOM % 20000))-$((40000 + RANDOM % 20000))"
}
nat: {
	ice_enforce_list = "127.0.0.1"
	ignore_mdns = true
}
plugins: {
	disable = "$plugins"
}
transports: {
	disable = "$transports"
}
loggers: {
	disable = "libjanus_jsonlog.so"
}
events: {
	broadcast = false
}
EOF
    vb_janus_http_conf "$dir" "$rest" "$admin"
    cat >"$dir/janus.plugin.videoroom.jcfg" <<EOF
general: {
}
EOF
}

# wait_up NAME PID REST_PORT ADMIN_PORT LOG
wait_up() {
    local name=$1 pid=$2 rest=$3 admin=$4 log=$5 i
    for i in $(seq 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited at start; its log:" >&2
            tail -40 "$log" >&2 || true
            exit 1
        fi
        # Up when the REST info answers and the admin port accepts connections.
        if $PY -c "
import socket, sys, urllib.request
urllib.request.urlopen(f'http://127.0.0.1:{sys.argv[1]}/janus/info', timeout=1).read()
socket.create_connection(('127.0.0.1', int(sys.argv[2])), timeout=1).close()" "$rest" "$admin" \
            2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not answer on ports $rest/$admin in 10 s; its log:" >&2
    tail -40 "$log" >&2 || true
    exit 1
}

start_janus() { # NAME REST ADMIN EXTRA
    local dir=$TMP/$1
    janus_conf "$dir" "$2" "$3" "$4"
    # Janus logs to its stdout, kept in a file: its server_info then says log-to-stdout like ours.
    (cd "$dir/rec" && exec "$JANUS" -F "$dir" -C "$dir/janus.jcfg" >"$dir/janus.log" 2>&1) &
    PIDS+=($!)
    wait_up "janus $1" $! "$2" "$3" "$dir/janus.log"
}

start_ours() { # NAME REST ADMIN EXTRA_ARGS...
    local name=$1 rest=$2 admin=$3
    shift 3
    mkdir -p "$TMP/$name"
    "$VERBATIM" serve --data "$TMP/$name/data" --admin-secret "$ADMIN_SECRET" \
        --janus-port "$rest" --admin-port "$admin" --web-port 0 "$@" >"$TMP/$name/log" 2>&1 &
    PIDS+=($!)
    wait_up "verbatim $name" $! "$rest" "$admin" "$TMP/$name/log"
}

start_janus janus-a "${PORTS[0]}" "${PORTS[1]}" ""
start_janus janus-b "${PORTS[2]}" "${PORTS[3]}" "	api_secret = \"$API_SECRET\"
	token_auth = true"
JA=${PORTS[0]},${PORTS[1]}
JB=${PORTS[2]},${PORTS[3]}

if [[ $MODE == reference ]]; then
    $PY "$HERE/janus_compat.py" reference "$JA" "$JB"
    exit 0
fi

if [[ $MODE == selfcheck ]]; then
    # Janus against Janus: checks that the sequence and the comparison are deterministic.
    start_janus ours-a "${PORTS[4]}" "${PORTS[5]}" ""
    start_janus ours-b "${PORTS[6]}" "${PORTS[7]}" "	api_secret = \"$API_SECRET\"
	token_auth = true"
else
    : "${VERBATIM:?VERBATIM must name the built verbatim binary}"
    start_ours ours-a "${PORTS[4]}" "${PORTS[5]}"
    start_ours ours-b "${PORTS[6]}" "${PORTS[7]}" --api-secret "$API_SECRET" --token-auth
fi
rc=0
$PY "$HERE/janus_compat.py" compare "$JA" "$JB" "${PORTS[4]},${PORTS[5]}" \
    "${PORTS[6]},${PORTS[7]}" || rc=$?
if [[ $rc -ne 0 ]]; then
    echo "--- verbatim logs (tails)"
    tail -n 20 "$TMP/ours-a/log" "$TMP/ours-b/log" || true
fi
exit $rc
