#!/usr/bin/env bash
# The Admin API secret, draining, session timeouts and long-poll holds over real HTTP: three
# `verbatim serve` processes on free loopback ports (one without --admin-secret, one with
# --session-timeout 2), driven by tests/gateway/admin_http.py. About 10 s (timeouts are real).
set -euo pipefail
: "${VERBATIM:?VERBATIM must name the built verbatim binary}"
exec /usr/bin/python3 "$VB_SOURCE_DIR/tests/gateway/admin_http.py" "$VERBATIM"
