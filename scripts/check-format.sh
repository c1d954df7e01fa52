#!/usr/bin/env bash
# Fails if any C source under the project's module folders is not clang-formatted.
# usage: scripts/check-format.sh [CLANG_FORMAT]
set -euo pipefail
cf=${1:-clang-format}
cd "$(dirname "$0")/.."
mapfile -t files < <(git ls-files -co --exclude-standard -- '*.c' '*.h' 2>/dev/null ||
    find common mjr gateway archive catalog transcode web cli tests bench -name '*.[ch]')
bad=0
for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    if ! "$cf" --dry-run --Werror "$f" >/dev/null 2>&1; then
        echo "not clang-formatted: $f (run: $cf -i $f)"
        bad=1
    fi
done
exit $bad
