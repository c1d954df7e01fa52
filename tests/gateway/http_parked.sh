#!/usr/bin/env bash
# Parked long polls (suspend/resume) over real HTTP on loopback (tests/gateway/http_parked.py).
set -euo pipefail
exec /usr/bin/python3 "$VB_SOURCE_DIR/tests/gateway/http_parked.py" "$VB_TEST_TOOLS/tool_gw_http"
