# shellcheck shell=bash
# netns.sh: a private network namespace for WebRTC tests (source it; bash only).
#
# libnice never gathers on `lo`, and these machines have no other interface, so media tests run
# in a namespace of their own holding a veth pair with 127.0.0.2/32 on one end (see
# docs testing.md in shared/). The namespace has no route out: nothing sent in it can leave it.
# Both peers (server and client) use 127.0.0.2 for ICE; HTTP stays on the namespace's own
# 127.0.0.1, so every port in it is free whatever runs on the host.
#
#   vb_netns_check             0 when namespaces can be made here (root, ip, veth); else prints
#                              the reason on stderr and returns 1 (callers SKIP)
#   vb_netns_create [TAG]      creates "vb-TAG-PID-RANDOM", sets VB_NETNS to its name
#   vb_netns_exec CMD...       runs CMD inside VB_NETNS (exec: the PID stays the command's)
#   vb_netns_destroy           ends what still runs in VB_NETNS (TERM, then KILL after 2 s) and
#                              deletes it; a no-op when VB_NETNS is empty; safe in a trap
#
# Every process that runs in the namespace was started by the test that created it, so ending
# them by the namespace's PID list (`ip netns pids`) ends only the test's own processes.

VB_NETNS=${VB_NETNS:-}
VB_NETNS_ADDR=127.0.0.2

vb_netns_check() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "network namespaces need root (tests run as root in CI)" >&2
        return 1
    fi
    if ! command -v ip >/dev/null; then
        echo "ip (iproute2) is not installed" >&2
        return 1
    fi
    return 0
}

vb_netns_create() {
    local tag=${1:-test} name
    name="vb-$tag-$$-$RANDOM"
    ip netns add "$name" || return 1
    VB_NETNS=$name
    if ! { ip -n "$name" link set lo up &&
        ip -n "$name" link add va type veth peer name vb &&
        ip netns exec "$name" sysctl -q -w net.ipv6.conf.va.disable_ipv6=1 \
            net.ipv6.conf.vb.disable_ipv6=1 &&
        ip -n "$name" addr add "$VB_NETNS_ADDR/32" dev va &&
        ip -n "$name" link set vb up &&
        ip -n "$name" link set va up; }; then
        echo "netns: could not set up $name" >&2
        vb_netns_destroy
        return 1
    fi
    return 0
}

vb_netns_exec() {
    ip netns exec "$VB_NETNS" "$@"
}

# The PIDs of the processes still in the namespace (one per line; none when it is gone).
vb_netns_pids() {
    ip netns pids "$VB_NETNS" 2>/dev/null || true
}

vb_netns_destroy() {
    local name=$VB_NETNS pids
    [[ -n $name ]] || return 0
    pids=$(vb_netns_pids)
    if [[ -n $pids ]]; then
        # shellcheck disable=SC2086 # one PID a word
        kill -TERM $pids 2>/dev/null || true
        for _ in $(seq 20); do
            [[ -z $(vb_netns_pids) ]] && break
            sleep 0.1
        done
        pids=$(vb_netns_pids)
        # shellcheck disable=SC2086
        [[ -z $pids ]] || kill -KILL $pids 2>/dev/null || true
        for _ in $(seq 20); do
            [[ -z $(vb_netns_pids) ]] && break
            sleep 0.1
        done
    fi
    ip netns del "$name" 2>/dev/null || true
    VB_NETNS=
    return 0
}
