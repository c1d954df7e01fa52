#!/usr/bin/env bash
# The VideoRoom plugin over real HTTP with long polls: `verbatim serve` on free loopback ports,
# driven by tests/gateway/videoroom_http.py (two sessions: create, join x2, joining, kick,
# leaving, message_plugin, destroy). Skips while serve does not register the plugin.
set -euo pipefail
exec /usr/bin/python3 "$VB_SOURCE_DIR/tests/gateway/videoroom_http.py" "$VERBATIM"
