#!/usr/bin/env bash
# `verbatim serve` settings: --check-config prints the effective settings (defaults, then the
# --config file, then the options) without starting anything; a bad file or option is an error
# naming the key (exit 2); unknown keys are refused by name; `serve --help` lists every option,
# and every option is in docs/config.md (whose example file must pass the check).
set -euo pipefail
dir=$(mktemp -d /tmp/vb-serve-config-XXXXXX)
trap 'rm -rf "$dir"' EXIT

# Runs `serve --check-config` with the given arguments; the JSON on stdout goes to $dir/out.
check() {
    "$VERBATIM" serve "$@" --check-config >"$dir/out" 2>"$dir/err" ||
        { echo "check-config failed: $*"; cat "$dir/err"; exit 1; }
}
# Asserts Python expressions about the last check's JSON (bound to `j`).
expect() {
    /usr/bin/python3 - "$dir/out" "$@" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
for e in sys.argv[2:]:
    if not eval(e):
        sys.exit("false: %s\nin %s" % (e, json.dumps(j, indent=1)))
PY
}
# Runs `serve ARGS... --check-config`, which must fail with status 2 and a message containing
# the first argument.
fails_with() {
    local want=$1 rc=0
    shift
    "$VERBATIM" serve "$@" --check-config >"$dir/out" 2>"$dir/err" || rc=$?
    [ "$rc" -eq 2 ] || { echo "exit $rc, want 2: $*"; cat "$dir/out" "$dir/err"; exit 1; }
    grep -qF -- "$want" "$dir/err" || { echo "want error: $want"; cat "$dir/err"; exit 1; }
    [ ! -s "$dir/out" ] || { echo "printed settings on an error: $*"; exit 1; }
}

# The built-in defaults; nothing is created (the data folder neither).
check --data "$dir/data"
expect 'j["general"] == {"data_dir": sys.argv[1].rsplit("/", 1)[0] + "/data", "log_level": "info", "server_name": "Verbatim"}' \
    'j["janus"] == {"address": "127.0.0.1", "port": 8088, "base_path": "/janus", "long_poll_ms": 30000, "allow_origin": "*", "max_body": 1048576, "threads": 2, "max_connections": 20000}' \
    'j["admin"] == {"enabled": True, "address": "127.0.0.1", "port": 7088, "base_path": "/admin", "secret": ""}' \
    'j["auth"] == {"api_secret": "", "token_auth": False, "token_auth_secret": ""}' \
    'j["core"] == {"session_timeout": 60, "max_events": 1000}' \
    'j["web"] == {"bind": "127.0.0.1", "port": 8090}' \
    'j["archive"] == {"writer_threads": 1}' \
    'j["transcode"] == {"workers": 0, "auto": True}' \
    'j["videoroom"] == {"admin_key": "", "rooms_file": "", "rooms": [], "lock_rtp_forward": False, "record_all": False}' \
    'sorted(j) == ["admin", "archive", "auth", "core", "general", "janus", "media", "nat", "transcode", "videoroom", "web"]'
[ ! -e "$dir/data" ] || { echo "--check-config created the data folder"; exit 1; }
check
expect 'j["general"]["data_dir"] == "data"'

# A file sets nested keys; what it leaves out keeps its default.
cat >"$dir/a.json" <<'EOF'
{
  "general": {"data_dir": "/srv/v", "log_level": "debug"},
  "janus": {"port": 18088, "base_path": "/gw", "long_poll_ms": 500},
  "admin": {"enabled": false, "secret": "adm1n"},
  "auth": {"token_auth": true, "token_auth_secret": "hmac"},
  "transcode": {"auto": false, "workers": 3},
  "videoroom": {"rooms": [{"room": 1234, "publishers": 3}, {"room": 5}], "record_all": true}
}
EOF
check --config "$dir/a.json"
expect 'j["general"]["data_dir"] == "/srv/v"' 'j["general"]["log_level"] == "debug"' \
    'j["janus"]["port"] == 18088' 'j["janus"]["base_path"] == "/gw"' \
    'j["janus"]["long_poll_ms"] == 500' 'j["janus"]["address"] == "127.0.0.1"' \
    'j["admin"]["enabled"] is False' 'j["admin"]["secret"] == "(hidden)"' \
    'j["auth"]["token_auth"] is True' 'j["auth"]["token_auth_secret"] == "(hidden)"' \
    'j["transcode"] == {"workers": 3, "auto": False}' \
    'j["videoroom"]["rooms"] == [{"room": 1234, "publishers": 3}, {"room": 5}]' \
    'j["videoroom"]["record_all"] is True'
! grep -q "adm1n\|hmac" "$dir/out" || { echo "a secret was printed"; exit 1; }

# Options override the file, wherever they stand; the existing options keep their meaning.
check --janus-port 18100 --config "$dir/a.json" --data "$dir/d2" --writer-threads 4 \
    --web-bind 0.0.0.0 --web-port 0 --workers 2 --log-level=warn --janus-bind ::1
expect 'j["janus"]["port"] == 18100' 'j["janus"]["address"] == "::1"' \
    'j["general"]["data_dir"].endswith("/d2")' 'j["general"]["log_level"] == "warn"' \
    'j["archive"]["writer_threads"] == 4' 'j["web"] == {"bind": "0.0.0.0", "port": 0}' \
    'j["transcode"] == {"workers": 2, "auto": False}' 'j["janus"]["base_path"] == "/gw"'
check --no-auto-transcode --no-admin --token-auth --record-all --api-secret x --admin-secret y \
    --token-auth-secret z --videoroom-admin-key k --server-name "Rec B" --janus-base /j \
    --admin-base /a --admin-bind 127.0.0.2 --admin-port 0 --janus-port 0 --allow-origin \
    https://x.example --max-body 2048 --http-threads 4 --max-connections 100 \
    --session-timeout 0 --max-events 10 --long-poll-ms 100
expect 'j["transcode"]["auto"] is False' 'j["admin"]["enabled"] is False' \
    'j["auth"] == {"api_secret": "(hidden)", "token_auth": True, "token_auth_secret": "(hidden)"}' \
    'j["videoroom"]["record_all"] is True' 'j["videoroom"]["admin_key"] == "(hidden)"' \
    'j["admin"]["secret"] == "(hidden)"' 'j["general"]["server_name"] == "Rec B"' \
    'j["janus"] == {"address": "127.0.0.1", "port": 0, "base_path": "/j", "long_poll_ms": 100, "allow_origin": "https://x.example", "max_body": 2048, "threads": 4, "max_connections": 100}' \
    'j["admin"]["base_path"] == "/a"' 'j["admin"]["address"] == "127.0.0.2"' \
    'j["core"] == {"session_timeout": 0, "max_events": 10}'

# Bad files: each error names the file and the key.
f="$dir/b.json"
echo '{"janus": {"port": "abc"}}' >"$f"
fails_with "config $f: janus.port: expected an integer 0-65535, got \"abc\"" --config "$f"
echo '{"janus": {"port": 65536}}' >"$f"
fails_with "config $f: janus.port: expected an integer 0-65535, got 65536" --config "$f"
echo '{"janus": {"prot": 8088}}' >"$f"
fails_with "config $f: unknown key janus.prot (did you mean janus.port?)" --config "$f"
echo '{"janus": {"port": 1}, "colour": "blue"}' >"$f"
fails_with "config $f: unknown key colour" --config "$f"
echo '{"admin": {"enabled": "no"}}' >"$f"
fails_with "config $f: admin.enabled: expected true or false, got \"no\"" --config "$f"
echo '{"general": {"log_level": "verbose"}}' >"$f"
fails_with "config $f: general.log_level: expected one of error, warn, info, debug, got \"verbose\"" \
    --config "$f"
echo '{"videoroom": {"rooms": [{"room": 1}, 7]}}' >"$f"
fails_with "config $f: videoroom.rooms[1]: expected an object, got 7" --config "$f"
echo '{"web": {"bind": "localhost"}}' >"$f"
fails_with "config $f: web.bind: expected a numeric IPv4 or IPv6 address, got \"localhost\"" \
    --config "$f"
echo '{"janus": 8088}' >"$f"
fails_with "config $f: janus: expected an object (a section), got 8088" --config "$f"
printf '{\n  "janus": {\n    "port": 8088,\n  }\n}\n' >"$f"
fails_with "config $f: invalid JSON at line 4, column" --config "$f"
fails_with "config $dir/none.json: cannot open: No such file or directory" --config "$dir/none.json"
# The same mistakes as options name the option and the key.
fails_with '--janus-port (janus.port): expected an integer 0-65535, got "abc"' --janus-port abc
fails_with '--writer-threads (archive.writer_threads): expected an integer 1-64, got 0' \
    --writer-threads 0
fails_with '--workers (transcode.workers): expected an integer 0-256, got 257' --workers 257
fails_with '--web-port (web.port): expected an integer 0-65535, got 70000' --web-port 70000
fails_with '--janus-base (janus.base_path): expected a path starting with /' --janus-base janus
fails_with 'unknown option --janus-prot (did you mean --janus-port?)' --janus-prot 1
fails_with '--no-admin takes no value' --no-admin=1
long=$(head -c 4097 /dev/zero | tr '\0' a)
fails_with '--api-secret (auth.api_secret): expected a string of at most 4096 bytes, got a string of 4097 bytes' \
    --api-secret "$long"
check --api-secret "${long:1}"
expect 'j["auth"]["api_secret"] == "(hidden)"'
fails_with '--data needs a value (DIR)' --data
fails_with "unexpected argument 'extra'" extra
# Checks between settings.
fails_with 'admin.port: port 8088 is also janus.port' --admin-port 8088
fails_with 'web.port: port 7088 is also admin.port' --web-port 7088
check --admin-port 8088 --no-admin
fails_with 'auth.token_auth_secret: set while auth.token_auth is false' --token-auth-secret s

# --help: exit 0, and every option of the table and of docs/config.md, both ways.
"$VERBATIM" serve --help >"$dir/help"
for flag in --config --check-config --help --data --log-level --server-name --janus-bind \
    --janus-port --janus-base --long-poll-ms --allow-origin --max-body --http-threads \
    --max-connections --no-admin --admin-bind --admin-port --admin-base --admin-secret \
    --api-secret --token-auth --token-auth-secret --session-timeout --max-events --web-bind \
    --web-port --writer-threads --workers --no-auto-transcode --videoroom-admin-key \
    --record-all; do
    grep -qE -- "(^|[ ,])$flag( |$)" "$dir/help" || { echo "help lacks $flag"; exit 1; }
done
grep -q "videoroom.rooms_file" "$dir/help" && grep -q "videoroom.rooms " "$dir/help"
docs="$VB_SOURCE_DIR/docs/config.md"
grep -oE '^  (-h, )?--[a-z-]+' "$dir/help" | sed 's/^ *\(-h, \)\?//' | sort -u >"$dir/help-flags"
grep -oE '`--[a-z-]+' "$docs" | tr -d '`' | sort -u >"$dir/doc-flags"
diff "$dir/help-flags" "$dir/doc-flags" ||
    { echo "options in --help (<) and docs/config.md (>) differ"; exit 1; }
# Every key of the effective settings is documented and in the help.
check
/usr/bin/python3 - "$dir/out" >"$dir/keys" <<'PY'
import json, sys
def walk(o, p):
    for k, v in o.items():
        if isinstance(v, dict):
            walk(v, p + k + ".")
        else:
            print(p + k)
walk(json.load(open(sys.argv[1])), "")
PY
[ "$(wc -l <"$dir/keys")" -eq 44 ] || { echo "want 44 keys:"; cat "$dir/keys"; exit 1; }
while read -r key; do
    grep -qF "\`$key\`" "$docs" || { echo "docs/config.md lacks $key"; exit 1; }
    grep -qF "$key" "$dir/help" || { echo "help lacks $key"; exit 1; }
done <"$dir/keys"
# The example in docs/config.md is a valid file.
/usr/bin/python3 - "$docs" >"$dir/example.json" <<'PY'
import sys
text = open(sys.argv[1]).read().split("## An example", 1)[1]
print(text.split("```json\n", 1)[1].split("```", 1)[0])
PY
check --config "$dir/example.json"
expect 'j["videoroom"]["rooms"][0]["room"] == 1234' 'j["janus"]["address"] == "0.0.0.0"'
echo ok
