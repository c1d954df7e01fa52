#!/usr/bin/env bash
# Has tshark decode captures written by gateway/media/pcap.h (the Admin API's start_pcap), made
# by tests/gateway/tool_pcap, once whole and once truncated to 40 bytes a packet. Every record
# must decode as the tool says it wrote it: addresses and UDP ports by direction and m-line, RTP
# payload type, SSRC and sequence number, RTCP packet types and sender SSRC, frame and captured
# lengths. The IPv4 checksums must verify, nothing may be malformed or raise an expert warning,
# and the records must carry the wall-clock time of the run. No network.
set -euo pipefail
tool=${VB_TEST_TOOLS:?}/tool_pcap
[ -x "$tool" ] || {
    echo "missing $tool (build the tool_pcap target)"
    exit 1
}
command -v tshark >/dev/null || {
    echo "tshark is not installed"
    exit 1
}
tmp=$(mktemp -d /tmp/vb-pcap-tshark.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

# The ports of pcap.h: ours are 5000 + 2*mindex (RTP) and the next odd one (RTCP).
decode=(-d 'udp.port==5000,rtp' -d 'udp.port==5001,rtcp' -d 'udp.port==5002,rtp'
    -d 'udp.port==5003,rtcp')
fields=(-T fields -e ip.src -e ip.dst -e udp.srcport -e udp.dstport -e rtp.p_type -e rtp.ssrc
    -e rtp.seq -e rtcp.pt -e rtcp.senderssrc -e frame.len -e frame.cap_len)
fail=0
total=0
for cut in 0 40; do
    file=$tmp/cut$cut.pcap
    t0=$(date +%s.%N)
    "$tool" "$file" "$cut" >"$tmp/want$cut"
    t1=$(date +%s.%N)
    tshark -r "$file" "${decode[@]}" "${fields[@]}" >"$tmp/got$cut" 2>"$tmp/err$cut" || {
        echo "tshark could not read $file:"
        cat "$tmp/err$cut"
        fail=1
        continue
    }
    n=$(wc -l <"$tmp/want$cut")
    if [[ $n -lt 16 ]] || ! diff -u "$tmp/want$cut" "$tmp/got$cut"; then
        echo "FAIL: truncate $cut: tshark's decode (+) differs from what was written (-)"
        fail=1
    fi
    bad=$(tshark -o ip.check_checksum:TRUE -r "$file" "${decode[@]}" \
        -Y 'ip.checksum.status != 1 || _ws.malformed || _ws.expert.severity >= warning' \
        2>/dev/null)
    if [[ -n $bad ]]; then
        echo "FAIL: truncate $cut: bad checksums, malformed packets or warnings:"
        echo "$bad"
        fail=1
    fi
    late=$(tshark -r "$file" -T fields -e frame.time_epoch 2>/dev/null |
        awk -v a="$t0" -v b="$t1" '$1 < a || $1 > b' | head -3)
    if [[ -n $late ]]; then
        echo "FAIL: truncate $cut: record times outside the run ($t0 .. $t1): $late"
        fail=1
    fi
    total=$((total + n))
done
[[ $fail -eq 0 ]] || exit 1
echo "pcap_tshark: $total records decoded by tshark as written (whole and truncated)"
