#!/usr/bin/env bash
# The gateway's authentication over real HTTP: four `verbatim serve` processes on free loopback
# ports (API secret; signed tokens; both; stored tokens), driven by tests/gateway/auth_http.py
# (exact HTTP statuses, Janus error codes and reply shapes, long polls with ?apisecret=/?token=,
# VideoRoom rooms with signed_tokens). The script stops its servers and removes its temp dirs.
set -euo pipefail
: "${VERBATIM:?VERBATIM must name the built verbatim binary}"
exec /usr/bin/python3 "$VB_SOURCE_DIR/tests/gateway/auth_http.py" "$VERBATIM"
