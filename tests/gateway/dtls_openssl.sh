#!/usr/bin/env bash
# gateway/dtls against OpenSSL's own DTLS stack over UDP on 127.0.0.1: tool_dtls_udp (our
# endpoint on a socket) with `openssl s_server` and `openssl s_client`, in both roles. Checks
# that the handshake completes with the negotiated SRTP profile, that the peer's certificate
# is verified by its fingerprint (SHA-256 and SHA-1; a wrong one fails), that the keying
# material we export equals what openssl exports (-keymatexport EXTRACTOR-dtls_srtp),
# application data both ways, and close_notify.
set -euo pipefail

TOOL="$VB_TEST_TOOLS/tool_dtls_udp"
PY=/usr/bin/python3
command -v openssl >/dev/null || { echo "openssl is not installed"; exit 1; }

tmp=$(mktemp -d /tmp/vb-dtls-openssl.XXXXXX)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
    exec 3>&- 4>&- 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
    echo "FAIL: $*"
    for f in "$tmp"/*.out "$tmp"/*.err; do
        [ -f "$f" ] && { echo "== $f"; cat "$f"; }
    done
    exit 1
}

free_port() {
    "$PY" -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_for FILE PATTERN: up to 5 s for PATTERN to appear in FILE.
wait_for() {
    for _ in $(seq 100); do
        grep -q -- "$2" "$1" 2>/dev/null && return 0
        sleep 0.05
    done
    fail "timed out waiting for '$2' in $1"
}

# wait_exit PID: up to 10 s for the process to end; its exit status is not checked.
wait_exit() {
    for _ in $(seq 200); do
        kill -0 "$1" 2>/dev/null || { wait "$1" 2>/dev/null || true; return 0; }
        sleep 0.05
    done
    fail "process $1 did not exit"
}

openssl_keymat() { sed -n 's/^ *Keying material: //p' "$1"; }
tool_field() { awk -v n="$2" '$1 == "connected" { print $n }' "$1"; }

# The peer's certificate (openssl's side).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/k.pem" \
    -out "$tmp/c.pem" -days 2 -subj /CN=openssl-peer 2>/dev/null
FP256=$(openssl x509 -in "$tmp/c.pem" -noout -fingerprint -sha256 | cut -d= -f2)
FP1=$(openssl x509 -in "$tmp/c.pem" -noout -fingerprint -sha1 | cut -d= -f2)
BAD=$(echo "$FP256" | sed 's/^../00/')
[ "$BAD" != "$FP256" ] || BAD=$(echo "$FP256" | sed 's/^../01/')

# server_case NAME PROFILES KEYLEN TOOL-ARGS...: openssl s_server, our endpoint the client.
server_case() {
    local name=$1 profiles=$2 keylen=$3
    shift 3
    local port
    port=$(free_port)
    rm -f "$tmp/in"
    mkfifo "$tmp/in"
    exec 3<>"$tmp/in" # s_server's stdin stays open: it exits after one connection (-naccept)
    openssl s_server -dtls1_2 -accept "127.0.0.1:$port" -naccept 1 -verify 1 \
        -cert "$tmp/c.pem" -key "$tmp/k.pem" -use_srtp "$profiles" \
        -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen "$keylen" \
        <&3 >"$tmp/$name.srv.out" 2>"$tmp/$name.srv.err" &
    local spid=$!
    pids+=("$spid")
    wait_for "$tmp/$name.srv.out" ACCEPT
    local rc=0
    timeout 10 "$TOOL" --role client --connect "$port" "$@" >"$tmp/$name.out" || rc=$?
    wait_exit "$spid"
    exec 3>&-
    return $rc
}

# client_case NAME PROFILES KEYLEN TOOL-ARGS...: our endpoint the server, openssl s_client.
# s_client sends "hi-from-openssl" once we are connected, then closes (stdin EOF).
client_case() {
    local name=$1 profiles=$2 keylen=$3
    shift 3
    local port
    port=$(free_port)
    timeout 10 "$TOOL" --role server --listen "$port" "$@" >"$tmp/$name.out" &
    local tpid=$!
    pids+=("$tpid")
    wait_for "$tmp/$name.out" fingerprint
    rm -f "$tmp/in"
    mkfifo "$tmp/in"
    # s_client reads the fifo; we hold its only write end, so closing it is s_client's EOF.
    openssl s_client -dtls1_2 -connect "127.0.0.1:$port" -cert "$tmp/c.pem" -key "$tmp/k.pem" \
        -use_srtp "$profiles" -keymatexport EXTRACTOR-dtls_srtp -keymatexportlen "$keylen" \
        <"$tmp/in" >"$tmp/$name.cli.out" 2>"$tmp/$name.cli.err" &
    local cpid=$!
    pids+=("$cpid")
    exec 4>"$tmp/in"
    for _ in $(seq 100); do
        grep -q -E '^(connected|failed)' "$tmp/$name.out" && break
        sleep 0.05
    done
    if grep -q '^connected' "$tmp/$name.out"; then
        echo hi-from-openssl >&4
        sleep 0.3
    fi
    exec 4>&-
    local rc=0
    wait "$tpid" || rc=$?
    wait_exit "$cpid"
    return $rc
}

check_keys() { # NAME PROFILE: both sides agree on the profile and the keying material
    local name=$1 profile=$2 ours theirs peer_out
    ours=$(tool_field "$tmp/$name.out" 3)
    peer_out="$tmp/$name.srv.out"
    [ -f "$peer_out" ] || peer_out="$tmp/$name.cli.out"
    theirs=$(openssl_keymat "$peer_out")
    [ "$(tool_field "$tmp/$name.out" 2)" = "$profile" ] || fail "$name: profile is not $profile"
    grep -q "SRTP Extension negotiated, profile=$profile" "$peer_out" ||
        fail "$name: openssl did not negotiate $profile"
    [ -n "$ours" ] && [ "$ours" = "$theirs" ] || fail "$name: keying material differs: $ours vs $theirs"
    echo "ok: $name $profile keys match (${#ours} hex digits)"
}

# 1. We are the client (openssl's HelloVerifyRequest cookie exchange included).
server_case c80 SRTP_AES128_CM_SHA1_80 60 --fingerprint sha-256 "$FP256" \
    --send hello-from-verbatim || fail "c80: tool failed"
check_keys c80 SRTP_AES128_CM_SHA1_80
grep -q hello-from-verbatim "$tmp/c80.srv.out" || fail "c80: s_server did not get our data"
grep -q '^closed closed locally' "$tmp/c80.out" || fail "c80: no local close"

# 2. We are the client and offer only _32.
server_case c32 SRTP_AES128_CM_SHA1_80:SRTP_AES128_CM_SHA1_32 60 --fingerprint sha-1 "$FP1" \
    --profile SRTP_AES128_CM_SHA1_32 || fail "c32: tool failed"
check_keys c32 SRTP_AES128_CM_SHA1_32

# 3. We are the server: AES-256-GCM, data from openssl, openssl's close_notify.
client_case s256 SRTP_AEAD_AES_256_GCM 88 --fingerprint sha-256 "$FP256" --wait-close ||
    fail "s256: tool failed"
check_keys s256 SRTP_AEAD_AES_256_GCM
grep -q '^data hi-from-openssl' "$tmp/s256.out" || fail "s256: no data from s_client"
grep -q '^closed received warning alert: close notify' "$tmp/s256.out" ||
    fail "s256: no close_notify from s_client"

# 4. We are the server and choose by our preference among what openssl offers.
client_case s128 SRTP_AES128_CM_SHA1_32:SRTP_AES128_CM_SHA1_80:SRTP_AEAD_AES_128_GCM 56 \
    --fingerprint sha-1 "$FP1" --wait-close || fail "s128: tool failed"
check_keys s128 SRTP_AEAD_AES_128_GCM

# 5. A wrong fingerprint, as the client: we reject the server's certificate with an alert.
if server_case badc SRTP_AES128_CM_SHA1_80 60 --fingerprint sha-256 "$BAD"; then
    fail "badc: connected with a wrong fingerprint"
fi
grep -q '^failed fingerprint mismatch' "$tmp/badc.out" || fail "badc: wrong failure"
grep -q 'Keying material' "$tmp/badc.srv.out" && fail "badc: s_server finished the handshake"
grep -q -i 'bad certificate' "$tmp/badc.srv.err" || fail "badc: s_server got no bad_certificate"
echo "ok: wrong fingerprint rejected as client"

# 6. A wrong fingerprint, as the server.
if client_case bads SRTP_AES128_CM_SHA1_80 60 --fingerprint sha-256 "$BAD"; then
    fail "bads: connected with a wrong fingerprint"
fi
grep -q '^failed fingerprint mismatch' "$tmp/bads.out" || fail "bads: wrong failure"
grep -q -i 'bad certificate' "$tmp/bads.cli.err" || fail "bads: s_client got no bad_certificate"
echo "ok: wrong fingerprint rejected as server"

echo "all DTLS interop cases passed"
