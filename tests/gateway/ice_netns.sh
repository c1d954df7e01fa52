#!/usr/bin/env bash
# tests/gateway/ice_netns.sh — our ICE agents (gateway/ice/) on a real network: a namespace of
# this run's own with a veth holding 127.0.0.2 (libnice skips `lo`; see docs/testing.md).
#  1. tool_ice_peer pair: two of our agents connect through trickled candidates, 1,000
#     datagrams each way, ICE restart with traffic, then one side vanishes and the other
#     must report "failed".
#  2. aioice (python3-aioice) against our agent, in both roles: credentials and candidates over
#     pipes, 200 datagrams echoed back by our agent and compared (after probes that wait for
#     our side to be able to answer: aioice may complete ICE a few ms before we do).
# Needs root (ip netns); fails loudly without it. Nothing leaves the namespace, which has no
# route out; remote candidates outside 127.0.0.0/8 are refused on both sides.
set -euo pipefail

peer=${VB_TEST_TOOLS:?VB_TEST_TOOLS is not set}/tool_ice_peer
python=/usr/bin/python3
[ -x "$peer" ] || { echo "FAIL: $peer is not built"; exit 1; }

ns="vb-ice-$$-$RANDOM"
cleanup() {
    local pids
    pids=$(ip netns pids "$ns" 2>/dev/null || true)
    [ -n "$pids" ] && kill $pids 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT

if ! ip netns add "$ns"; then
    echo "FAIL: cannot create a network namespace (this test needs root and ip netns)"
    exit 1
fi
ip -n "$ns" link set lo up
ip -n "$ns" link add va type veth peer name vb
ip netns exec "$ns" sysctl -q -w net.ipv6.conf.va.disable_ipv6=1 net.ipv6.conf.vb.disable_ipv6=1
ip -n "$ns" addr add 127.0.0.2/32 dev va
ip -n "$ns" link set vb up
ip -n "$ns" link set va up

echo "== our agent <-> our agent"
timeout 120 ip netns exec "$ns" "$peer" pair 127.0.0.2 1000

if ! "$python" -c 'import aioice' 2>/dev/null; then
    echo "FAIL: python3-aioice is missing (apt-get install python3-aioice)"
    exit 1
fi
for role in controlled controlling; do
    echo "== aioice <-> our agent ($role)"
    timeout 60 ip netns exec "$ns" "$python" - "$peer" "$role" <<'PY'
import asyncio, ipaddress, sys
import aioice.ice
from aioice import Candidate, Connection

PEER, ROLE, COUNT = sys.argv[1], sys.argv[2], 200
# aioice skips loopback addresses when gathering: use the namespace's veth address.
aioice.ice.get_host_addresses = lambda use_ipv4, use_ipv6: ["127.0.0.2"]


def loopback(host):
    return ipaddress.ip_address(host) in ipaddress.ip_network("127.0.0.0/8")


async def main():
    args = [PEER, "echo", "127.0.0.2"] + (["controlling"] if ROLE == "controlling" else [])
    tool = await asyncio.create_subprocess_exec(
        *args, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE)
    conn = Connection(ice_controlling=(ROLE == "controlled"), components=1,
                      use_ipv4=True, use_ipv6=False)
    await conn.gather_candidates()
    lines = ["ufrag " + conn.local_username, "pwd " + conn.local_password]
    lines += ["cand candidate:" + c.to_sdp() for c in conn.local_candidates]
    lines.append("done")
    tool.stdin.write(("\n".join(lines) + "\n").encode())
    await tool.stdin.drain()

    ufrag = pwd = None
    ours = 0
    while True:
        line = (await asyncio.wait_for(tool.stdout.readline(), 10)).decode().strip()
        assert line, "tool_ice_peer ended early"
        if line.startswith("ufrag "):
            ufrag = line[6:]
        elif line.startswith("pwd "):
            pwd = line[4:]
        elif line.startswith("cand candidate:"):
            cand = Candidate.from_sdp(line[len("cand candidate:"):])
            if not loopback(cand.host):
                print("dropped a candidate outside 127.0.0.0/8:", line)
                continue
            await conn.add_remote_candidate(cand)
            ours += 1
        elif line == "done":
            break
    assert ufrag and pwd and ours >= 1, (ufrag, pwd, ours)
    conn.remote_username, conn.remote_password = ufrag, pwd
    await conn.add_remote_candidate(None)
    await asyncio.wait_for(conn.connect(), 10)

    # The controlling side may complete before the controlled one has its pair selected and
    # can answer: probe until an echo comes back (the tool does not count these).
    for attempt in range(100):
        await conn.send(b"sync")
        try:
            if await asyncio.wait_for(conn.recv(), 0.05) == b"sync":
                break
        except asyncio.TimeoutError:
            pass
    else:
        raise AssertionError("no echo within 5 s of connecting")
    while True:  # late echoes of the probes
        try:
            assert await asyncio.wait_for(conn.recv(), 0.1) == b"sync"
        except asyncio.TimeoutError:
            break

    for i in range(COUNT):
        data = b"%05d" % i + bytes((i + k) % 256 for k in range(120))
        await conn.send(data)
        echo = await asyncio.wait_for(conn.recv(), 5)
        assert echo == data, (i, echo[:16])
    await conn.close()

    tool.stdin.write(b"quit\n")
    await tool.stdin.drain()
    out = (await asyncio.wait_for(tool.stdout.read(), 10)).decode()
    rc = await tool.wait()
    summary = [l for l in out.splitlines() if l.startswith("received ")]
    assert rc == 0 and summary, (rc, out)
    words = summary[0].split()
    assert int(words[1]) == COUNT, summary[0]
    assert words[3] in ("connected", "ready"), summary[0]
    print("aioice: %d datagrams echoed; our agent was %s (%s)" % (COUNT, words[3], ROLE))


asyncio.run(main())
PY
done
echo "ice_netns: all passed"
