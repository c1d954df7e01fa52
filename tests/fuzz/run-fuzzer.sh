#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time from its kept corpus (read-only) plus a scratch
# corpus, so a ctest run both replays every kept input and explores a little further.
# usage: run-fuzzer.sh FUZZER CORPUS_DIR SECONDS
set -euo pipefail
fuzzer=$1 corpus=$2 secs=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$fuzzer" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    -artifact_prefix="$scratch/" "$scratch" "$corpus"
