#!/usr/bin/env bash
# The REST transport over real HTTP on loopback (tests/gateway/http_test.py drives it).
set -euo pipefail
exec /usr/bin/python3 "$VB_SOURCE_DIR/tests/gateway/http_test.py" "$VB_TEST_TOOLS/tool_gw_http"
