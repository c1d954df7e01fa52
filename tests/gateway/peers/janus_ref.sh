# shellcheck shell=bash
# janus_ref.sh: real Janus (Debian `janus`) as the reference server of the media tests, run inside
# the namespace of netns.sh with a configuration generated here. Source it after netns.sh, or run
# it to get a Janus to play with:
#
#   bash janus_ref.sh         creates a namespace, starts Janus in it, prints how to reach it and
#                             waits; Ctrl-C stops Janus and deletes the namespace
#
#   vb_janus_ref_check               0 when /usr/bin/janus and its plugins are installed; else
#                                    prints the reason on stderr and returns 1 (callers SKIP)
#   vb_janus_ref_start DIR REST ADMIN SECRET
#                                    writes the configuration into DIR, starts Janus in VB_NETNS
#                                    (REST on 127.0.0.1:REST/janus, Admin API on
#                                    127.0.0.1:ADMIN/admin with admin_secret SECRET), waits until
#                                    both answer; sets VB_JANUS_PID; log in DIR/janus.log
#   vb_janus_ref_stop                ends that Janus (TERM, then KILL after 3 s) and waits for it
#
# The configuration: only the HTTP transport (REST + admin, both on 127.0.0.1 with acl "127."),
# only the EchoTest and VideoRoom plugins (the VideoRoom with room 1234: Opus, VP8 or H.264), no
# event handlers or loggers, ICE restricted to 127.0.0.2 (ice_enforce_list), no IPv6, mDNS
# candidates ignored, no STUN or TURN, half-trickle (full_trickle false, the default).

VB_JANUS_BIN=${VB_JANUS_BIN:-/usr/bin/janus}
VB_JANUS_PID=

vb_janus_ref_libdir() {
    local d=/usr/lib/x86_64-linux-gnu/janus so
    if [[ ! -d $d ]]; then
        so=$(find /usr/lib -name libjanus_http.so -print -quit 2>/dev/null)
        [[ -n $so ]] && d=$(dirname "$(dirname "$so")")
    fi
    echo "$d"
}

vb_janus_ref_check() {
    local lib
    if [[ ! -x $VB_JANUS_BIN ]]; then
        echo "$VB_JANUS_BIN is not installed (apt-get install janus)" >&2
        return 1
    fi
    lib=$(vb_janus_ref_libdir)
    if [[ ! -f $lib/plugins/libjanus_echotest.so || ! -f $lib/transports/libjanus_http.so ]]; then
        echo "Janus plugins not found under $lib" >&2
        return 1
    fi
    return 0
}

# Comma-separated names of the .so files in FOLDER, but for those given after it.
vb_janus_ref_others() {
    local folder=$1 f name keep skip k
    shift
    keep=()
    for f in "$folder"/*.so; do
        [[ -e $f ]] || continue
        name=${f##*/}
        skip=0
        for k in "$@"; do
            [[ $name == "$k" ]] && skip=1
        done
        [[ $skip -eq 1 ]] || keep+=("$name")
    done
    (
        IFS=,
        echo "${keep[*]}"
    )
}

vb_janus_ref_config() {
    local dir=$1 rest=$2 admin=$3 secret=$4 lib
    lib=$(vb_janus_ref_libdir)
    mkdir -p "$dir/cwd"
    cat >"$dir/janus.jcfg" <<EOF
general: {
	configs_folder = "$dir"
	plugins_folder = "$lib/plugins"
	transports_folder = "$lib/transports"
	events_folder = "$lib/events"
	loggers_folder = "$lib/loggers"
	log_to_stdout = true
	debug_level = 4
	debug_colors = false
	debug_timestamps = true
	admin_secret = "$secret"
	server_name = "vb-janus-ref"
	session_timeout = 60
}
media: {
	ipv6 = false
	rtp_port_range = "20000-40000"
}
nat: {
	nice_debug = false
	full_trickle = false
	ice_enforce_list = "$VB_NETNS_ADDR"
	ignore_mdns = true
}
plugins: {
	disable = "$(vb_janus_ref_others "$lib/plugins" libjanus_echotest.so libjanus_videoroom.so)"
}
transports: {
	disable = "$(vb_janus_ref_others "$lib/transports" libjanus_http.so)"
}
loggers: {
	disable = "$(vb_janus_ref_others "$lib/loggers")"
}
events: {
	broadcast = false
	disable = "$(vb_janus_ref_others "$lib/events")"
}
EOF
    vb_janus_http_conf "$dir" "$rest" "$admin"
    cat >"$dir/janus.plugin.echotest.jcfg" <<EOF
general: {
}
EOF
    cat >"$dir/janus.plugin.videoroom.jcfg" <<EOF
general: {
}
room-1234: {
	description = "vb reference room"
	publishers = 6
	audiocodec = "opus"
	videocodec = "vp8,h264"
}
EOF
}

# vb_janus_ref_wait PID REST ADMIN LOG [NAME]: waits until REST info answers in VB_NETNS and the
# admin port accepts connections (10 s at most); fails early when PID exits. Any server.
vb_janus_ref_wait() {
    local pid=$1 rest=$2 admin=$3 log=$4 name=${5:-janus}
    for _ in $(seq 100); do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "$name exited at start; its log:" >&2
            tail -40 "$log" >&2 || true
            return 1
        fi
        if vb_netns_exec /usr/bin/python3 -c '
import socket, sys, urllib.request
urllib.request.urlopen("http://127.0.0.1:%s/janus/info" % sys.argv[1], timeout=1).read()
socket.create_connection(("127.0.0.1", int(sys.argv[2])), timeout=1).close()' "$rest" "$admin" \
            2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    echo "$name did not answer on 127.0.0.1:$rest/$admin in its namespace in 10 s; its log:" >&2
    tail -40 "$log" >&2 || true
    return 1
}

# vb_janus_http_conf DIR REST_PORT ADMIN_PORT: Janus's HTTP transport config (REST and Admin
# on 127.0.0.1 only, ACL 127.), shared with janus_compat.sh.
vb_janus_http_conf() {
    local dir=$1 rest=$2 admin=$3
    cat >"$dir/janus.transport.http.jcfg" <<EOF
general: {
	json = "compact"
	base_path = "/janus"
	http = true
	port = $rest
	ip = "127.0.0.1"
	https = false
	acl = "127."
}
admin: {
	admin_base_path = "/admin"
	admin_http = true
	admin_port = $admin
	admin_ip = "127.0.0.1"
	admin_https = false
	admin_acl = "127."
}
cors: {
}
EOF
}

vb_janus_ref_start() {
    local dir=$1 rest=$2 admin=$3 secret=$4
    [[ -n $VB_NETNS ]] || {
        echo "vb_janus_ref_start: no namespace (vb_netns_create first)" >&2
        return 1
    }
    vb_janus_ref_config "$dir" "$rest" "$admin" "$secret"
    # `ip netns exec` execs Janus, so $! is Janus's own PID. Its cwd is a folder of the test's.
    (cd "$dir/cwd" && exec ip netns exec "$VB_NETNS" "$VB_JANUS_BIN" -F "$dir" \
        -C "$dir/janus.jcfg" >"$dir/janus.log" 2>&1) &
    VB_JANUS_PID=$!
    vb_janus_ref_wait "$VB_JANUS_PID" "$rest" "$admin" "$dir/janus.log"
}

vb_janus_ref_stop() {
    local pid=$VB_JANUS_PID
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    VB_JANUS_PID=
    return 0
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
    set -euo pipefail
    here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
    # shellcheck source=SCRIPTDIR/netns.sh
    source "$here/netns.sh"
    vb_netns_check && vb_janus_ref_check || exit 1
    tmp=$(mktemp -d /tmp/vb-janus-ref.XXXXXX)
    trap 'vb_janus_ref_stop; vb_netns_destroy; rm -rf "$tmp"' EXIT
    trap 'exit 130' INT TERM
    vb_netns_create janus
    vb_janus_ref_start "$tmp" 8188 7188 janusoverlord
    echo "Janus $VB_JANUS_PID in namespace $VB_NETNS (log $tmp/janus.log):"
    echo "  ip netns exec $VB_NETNS CLIENT   with REST http://127.0.0.1:8188/janus,"
    echo "  Admin API http://127.0.0.1:7188/admin (admin_secret janusoverlord); Ctrl-C stops"
    wait "$VB_JANUS_PID" || true
fi
