# shellcheck shell=bash disable=SC2034 # VB_TARGET_* are read by the scripts that source this
# target.sh: the server a media test talks to, started inside VB_NETNS (source it after netns.sh
# and janus_ref.sh). The same clients run against both targets unchanged.
#
#   vb_target_check TARGET       0 when TARGET can run here; else prints why and returns 1
#   vb_target_start TARGET DIR   starts it with its files under DIR; sets VB_TARGET_URL (REST),
#                                VB_TARGET_ADMIN_URL, VB_TARGET_SECRET (admin secret) and
#                                VB_TARGET_LOG; returns non-zero (log tail on stderr) when it
#                                does not come up in 10 s
#   vb_target_stop               ends it (TERM, then KILL) and waits for it
#   vb_target_scratch NAME [VAR] a temporary folder TMP and the traps that clean everything up
#
# VB_TARGET_EXTRA_ARGS: more options for `verbatim serve` (word-split; verbatim only).
# TARGET is `janus` (real Janus, janus_ref.sh) or `verbatim` (`$VERBATIM serve`, ICE restricted
# to 127.0.0.2 with --ice-enforce-list). Both listen on 127.0.0.1 of the namespace, whose
# ports are all free: the fixed ports below are not the defaults and collide with nothing.

VB_TARGET_REST_PORT=8188
VB_TARGET_ADMIN_PORT=7188
VB_TARGET_SECRET=vb-media-admin
VB_TARGET_URL=
VB_TARGET_ADMIN_URL=
VB_TARGET_LOG=
VB_TARGET_PID=

vb_target_check() {
    case $1 in
    janus) vb_janus_ref_check ;;
    verbatim)
        if [[ -z ${VERBATIM:-} || ! -x $VERBATIM ]]; then
            echo "VERBATIM does not name the built verbatim binary" >&2
            return 1
        fi
        ;;
    *)
        echo "unknown target '$1' (janus or verbatim)" >&2
        return 1
        ;;
    esac
}

vb_target_start() {
    local target=$1 dir=$2
    mkdir -p "$dir"
    VB_TARGET_URL=http://127.0.0.1:$VB_TARGET_REST_PORT/janus
    VB_TARGET_ADMIN_URL=http://127.0.0.1:$VB_TARGET_ADMIN_PORT/admin
    if [[ $target == janus ]]; then
        VB_TARGET_LOG=$dir/janus.log
        vb_janus_ref_start "$dir" "$VB_TARGET_REST_PORT" "$VB_TARGET_ADMIN_PORT" \
            "$VB_TARGET_SECRET" || return 1
        VB_TARGET_PID=$VB_JANUS_PID
        return 0
    fi
    VB_TARGET_LOG=$dir/verbatim.log
    # exec: $! is then verbatim itself (ip netns exec execs it), so vb_target_stop's TERM
    # reaches it and it shuts down cleanly (recordings finished) before the namespace goes.
    (exec ip netns exec "$VB_NETNS" "$VERBATIM" serve --data "$dir/data" \
        --janus-port "$VB_TARGET_REST_PORT" \
        --admin-port "$VB_TARGET_ADMIN_PORT" --admin-secret "$VB_TARGET_SECRET" --web-port 0 \
        --ice-enforce-list "$VB_NETNS_ADDR" ${VB_TARGET_EXTRA_ARGS:-}) >"$VB_TARGET_LOG" 2>&1 &
    VB_TARGET_PID=$!
    vb_janus_ref_wait "$VB_TARGET_PID" "$VB_TARGET_REST_PORT" "$VB_TARGET_ADMIN_PORT" \
        "$VB_TARGET_LOG" verbatim
}

vb_target_stop() {
    local pid=$VB_TARGET_PID
    [[ -n $pid ]] || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    VB_TARGET_PID=
    VB_JANUS_PID=
}

# vb_target_scratch NAME [KEEP_VAR]: sets TMP to a new /tmp/vb-NAME.XXXXXX and traps EXIT to stop
# the target, delete the namespace and TMP (kept, and said so, when the variable KEEP_VAR is 1),
# and TERM/INT to exit 143 (which runs the EXIT trap).
vb_target_scratch() {
    TMP=$(mktemp -d "/tmp/vb-$1.XXXXXX")
    VB_TARGET_KEEP_VAR=${2:-}
    trap vb_target_cleanup EXIT
    trap 'exit 143' TERM INT
}

vb_target_cleanup() {
    vb_target_stop
    vb_netns_destroy
    if [[ -n $VB_TARGET_KEEP_VAR && ${!VB_TARGET_KEEP_VAR:-0} == 1 ]]; then
        echo "kept: $TMP"
    else
        rm -rf "$TMP"
    fi
}
