#!/usr/bin/env bash
# The `verbatim` dispatcher: help lists the subcommands, an unknown one exits 2 with usage on
# stderr, no subcommand at all exits 2.
set -euo pipefail
out=$("$VERBATIM" help)
for c in serve mjr mjr2pcap pcap2mjr help; do
    grep -qE "^  $c " <<<"$out" || { echo "help does not list $c"; exit 1; }
done
set +e
"$VERBATIM" frobnicate >/tmp/vb-cli-out.$$ 2>/tmp/vb-cli-err.$$
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "unknown subcommand exited $rc, want 2"; exit 1; }
[ ! -s /tmp/vb-cli-out.$$ ] || { echo "usage went to stdout"; exit 1; }
grep -q "unknown command 'frobnicate'" /tmp/vb-cli-err.$$
grep -q "usage: verbatim" /tmp/vb-cli-err.$$
rm -f /tmp/vb-cli-out.$$ /tmp/vb-cli-err.$$
set +e
"$VERBATIM" 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "no subcommand exited $rc, want 2"; exit 1; }
# Bad options of a subcommand: usage, exit 2, nothing started.
set +e
"$VERBATIM" serve --writer-threads 0 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "serve --writer-threads 0 exited $rc, want 2"; exit 1; }
set +e
"$VERBATIM" serve --no-such-option 2>/dev/null
rc=$?
set -e
[ "$rc" -eq 2 ] || { echo "serve --no-such-option exited $rc, want 2"; exit 1; }
echo ok
