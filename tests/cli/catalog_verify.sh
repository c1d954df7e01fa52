#!/usr/bin/env bash
# `verbatim catalog scan` then `verify` from the command line: intact data exits 0; a recording
# edited behind the catalog's back, a deleted one, and an edited audit row are each reported
# and make verify exit 1; scanning twice adds nothing; bad usage exits 2.
set -euo pipefail
work=$(mktemp -d /var/tmp/vb-verify-XXXXXX)
trap 'rm -rf "$work"' EXIT
data="$work/data"
mkdir -p "$work/src"
cp "$VB_FIXTURES"/*/*.mjr "$work/src/" # copies: a scan may hard-link what it imports
"$VERBATIM" catalog scan "$work/src" --data "$data" >"$work/scan1"
grep -q "scan: 4 indexed, 0 already indexed, 0 skipped, 0 errors" "$work/scan1" ||
    { cat "$work/scan1"; exit 1; }
"$VERBATIM" catalog scan "$work/src" --data "$data" >"$work/scan2"
grep -q "scan: 0 indexed, 4 already indexed" "$work/scan2" || { cat "$work/scan2"; exit 1; }
"$VERBATIM" catalog verify --data "$data" >"$work/v0" || { cat "$work/v0"; exit 1; }
grep -q "4 files checked, 0 missing, 0 mismatched" "$work/v0"

expect_broken() { # pattern
    if "$VERBATIM" catalog verify --data "$data" >"$work/v" 2>&1; then
        cat "$work/v"; echo "verify passed on damaged data"; exit 1
    fi
    grep -q -- "$1" "$work/v" || { cat "$work/v"; echo "no '$1'"; exit 1; }
}
# One byte of a recording changed (in place, same size).
vid=$(ls "$data"/recordings/*/*-video-1.mjr | head -n1)
printf 'X' | dd of="$vid" bs=1 seek=100 conv=notrunc status=none
expect_broken "has SHA-256"
# A recording deleted.
aud=$(ls "$data"/recordings/*/*-audio-0.mjr | head -n1)
rm "$aud"
expect_broken "is missing"
grep -q "1 missing, 1 mismatched" "$work/v" || { cat "$work/v"; exit 1; }
# An audit row edited (a fresh catalog, so only the audit log is wrong; its first row is the
# scan's own).
data2="$work/data2"
mkdir -p "$work/src2"
cp "$VB_FIXTURES"/vp8-opus-1pub/*.mjr "$work/src2/"
"$VERBATIM" catalog scan "$work/src2" --data "$data2" >/dev/null
/usr/bin/python3 - "$data2/catalog.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
n = db.execute("SELECT COUNT(*) FROM audit").fetchone()[0]
assert n >= 1, "the scan wrote no audit row"
db.execute("UPDATE audit SET who = 'mallory' WHERE id = (SELECT MIN(id) FROM audit)")
db.commit()
PY
data=$data2
expect_broken "audit"
"$VERBATIM" catalog verify >/dev/null 2>&1 && { echo "verify without a catalog passed"; exit 1; }
set +e
"$VERBATIM" catalog frobnicate >/dev/null 2>&1
[ $? -eq 2 ] || { echo "bad verb: expected exit 2"; exit 1; }
set -e
echo ok
