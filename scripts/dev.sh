#!/bin/sh
# Set-up, build, serve and test on Debian 12 (run as root; CI does). The README's two commands:
#   scripts/dev.sh serve   install what is missing, build, run `verbatim serve` on defaults
#   scripts/dev.sh check   install what is missing, build (release + ASan/UBSan), run ctest
# Other verbs: deps, test-deps, build.
set -eu
cd "$(dirname "$0")/.."

BUILD_PKGS="cmake make gcc pkg-config libjansson-dev libaio-dev libavformat-dev libavcodec-dev libavutil-dev libssl-dev libsqlite3-dev libmicrohttpd-dev libnice-dev libglib2.0-dev libsrtp2-dev"
TEST_PKGS="clang libclang-rt-14-dev clang-format git python3 janus-tools ffmpeg chromium jq janus python3-aiortc libjs-janus-gateway libjs-webrtc-adapter iproute2 tshark openssl python3-requests firefox-esr"
JOBS=$(nproc 2>/dev/null || echo 2)

install_missing() {
    missing=""
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
            missing="$missing $p"
    done
    [ -z "$missing" ] && return 0
    echo "installing:$missing"
    sudo_cmd=""
    [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y $missing
}

build_release() {
    cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo
    cmake --build build -j "$JOBS"
}

build_asan() {
    CC=clang cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DVB_SANITIZE=ON -DVB_FUZZ=ON
    cmake --build build-asan -j "$JOBS"
}

# The writer engine is lock-free between producers and writers: its tests also run under
# ThreadSanitizer (only those targets are built there).
# Runs the suite in build dir $1. A test whose prerequisites are missing reports "Skipped"
# (exit 77) instead of passing; the check installs every prerequisite, so a skip fails it.
run_ctest() {
    rc=0
    (cd "$1" && ctest -j "$JOBS" --output-on-failure) >"$1/ctest.log" 2>&1 || rc=$?
    cat "$1/ctest.log"
    [ "$rc" -eq 0 ] || return "$rc"
    if grep -q '\*\*\*Skipped' "$1/ctest.log"; then
        echo "check: tests were skipped in $1 (missing prerequisites):" >&2
        grep '\*\*\*Skipped' "$1/ctest.log" >&2
        return 1
    fi
}

check_tsan() {
    CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=Debug -DVB_TSAN=ON
    cmake --build build-tsan -j "$JOBS" --target mjr_test_writer_async mjr_test_writer_format mjr_test_writer_hash \
        mjr_test_arena gateway_test_pcap gateway_test_srtp gateway_test_core gateway_test_videoroom_race
    (cd build-tsan && TSAN_OPTIONS=halt_on_error=1 ctest -R '^(mjr/test_(writer|arena)|gateway/test_(pcap|srtp|core|videoroom_race)$)' --output-on-failure)
}

case "${1:-}" in
deps)
    install_missing $BUILD_PKGS
    ;;
test-deps)
    install_missing $BUILD_PKGS $TEST_PKGS
    ;;
build)
    install_missing $BUILD_PKGS
    build_release
    ;;
serve)
    install_missing $BUILD_PKGS
    build_release
    exec build/verbatim serve
    ;;
check)
    install_missing $BUILD_PKGS $TEST_PKGS
    scripts/check-format.sh
    build_release
    VB_VR_COMPARE=1 run_ctest build # the VideoRoom client against real Janus too
    build_asan
    run_ctest build-asan
    check_tsan
    echo "check: all tests passed (release, ASan+UBSan, and the writer, SRTP, pcap ring and core under TSan)"
    ;;
*)
    echo "usage: scripts/dev.sh serve|check|build|deps|test-deps" >&2
    exit 2
    ;;
esac
