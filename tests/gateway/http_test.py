"""The gateway's Janus REST transport over real HTTP on loopback.

usage: http_test.py PATH_TO_tool_gw_http
Starts the tool (hold 300 ms, session timeout 1 s) and checks paths, info/ping, POST bodies,
errors 454/455/457/450, long polls with maxev, keepalives, CORS, OPTIONS and the timeout event.
"""
import json
import subprocess
import sys
import time
import urllib.error
import urllib.request

HOLD_S = 0.3


def request(base, method, path, body=None, headers=None):
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(base + path, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            raw = r.read()
            return r.status, dict(r.headers), (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), None


def post(base, path, obj):
    status, _, reply = request(base, "POST", path, json.dumps(obj))
    assert status == 200, status
    return reply


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def main():
    tool = subprocess.Popen([sys.argv[1], str(int(HOLD_S * 1000)), "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        port = int(tool.stdout.readline())
        run(f"http://127.0.0.1:{port}")
    finally:
        tool.stdin.close()
        check(tool.wait(timeout=10) == 0, "tool exit status")
    print("http tests passed")


def run(base):
    status, hdr, reply = request(base, "GET", "/janus/ping")
    check(status == 200 and reply == {"janus": "pong"}, reply)
    check(hdr.get("Access-Control-Allow-Origin") == "*", hdr)
    check(hdr.get("Access-Control-Max-Age") == "86400", hdr)
    status, _, info = request(base, "GET", "/janus/info")
    check(info["janus"] == "server_info", info)
    check("janus.plugin.echotest" in info["plugins"], info)

    status, hdr, reply = request(base, "OPTIONS", "/janus", headers={
        "Origin": "http://x", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    check(status == 200 and reply is None, status)
    check(hdr.get("Access-Control-Allow-Methods") == "POST", hdr)
    check(hdr.get("Access-Control-Allow-Headers") == "content-type", hdr)

    check(request(base, "GET", "/other")[0] == 404, "outside the base")
    check(request(base, "GET", "/janus/1/2/3")[0] == 404, "too deep")
    check(request(base, "GET", "/janus/12345")[0] == 404, "unknown session poll")

    status, _, reply = request(base, "POST", "/janus", "{nope")
    check(reply["error"]["code"] == 454, reply)
    status, _, reply = request(base, "POST", "/janus", "[1]")
    check(reply["error"]["code"] == 455, reply)
    status, _, reply = request(base, "PUT", "/janus", "{}")
    check(status == 200 and reply["error"]["code"] == 450, reply)
    check(request(base, "POST", "/janus", "x" * 5000)[0] == 413, "body limit")

    reply = post(base, "/janus", {"janus": "create", "transaction": "c"})
    check(reply["janus"] == "success" and "session_id" not in reply, reply)
    sid = reply["data"]["id"]
    reply = post(base, f"/janus/{sid}", {"janus": "attach", "transaction": "a",
                                         "plugin": "janus.plugin.echotest"})
    check(reply["janus"] == "success" and reply["session_id"] == sid, reply)
    hid = reply["data"]["id"]
    reply = post(base, f"/janus/{sid}", {"janus": "keepalive", "transaction": "k",
                                         "session_id": sid + 1})
    check(reply["error"]["code"] == 457, reply)
    reply = post(base, f"/janus/{sid}/{hid}", {"janus": "message", "transaction": "m",
                                               "body": {"x": 1}})
    check(reply["plugindata"] == {"plugin": "janus.plugin.echotest",
                                  "data": {"echo": {"x": 1}}}, reply)
    reply = post(base, f"/janus/{sid}/{hid}", {"janus": "message", "transaction": "q",
                                               "body": {"async": True}})
    check(reply == {"janus": "ack", "session_id": sid, "transaction": "q"}, reply)
    # A hangup without a PeerConnection succeeds and, as in Janus, queues no event.
    reply = post(base, f"/janus/{sid}/{hid}", {"janus": "hangup", "transaction": "h"})
    check(reply["janus"] == "success", reply)
    reply = post(base, f"/janus/{sid}/{hid}", {"janus": "message", "transaction": "q2",
                                               "body": {"async": True}})
    check(reply["janus"] == "ack", reply)

    # Two events queued: maxev=1 gives an object, then maxev=10 an array of the rest.
    t0 = time.monotonic()
    status, _, ev = request(base, "GET", f"/janus/{sid}?maxev=1&rid=1")
    check(isinstance(ev, dict) and ev["janus"] == "event" and ev["transaction"] == "q", ev)
    status, _, ev = request(base, "GET", f"/janus/{sid}?maxev=10")
    check(isinstance(ev, list) and [e.get("transaction") for e in ev] == ["q2"], ev)
    check(time.monotonic() - t0 < HOLD_S, "queued events come at once")
    # Nothing queued: held, then a keepalive (an array for maxev > 1).
    t0 = time.monotonic()
    status, _, ev = request(base, "GET", f"/janus/{sid}?maxev=5")
    held = time.monotonic() - t0
    check(ev == [{"janus": "keepalive"}], ev)
    check(HOLD_S * 0.8 <= held < HOLD_S + 2, held)
    # A long poll on a handle path redirects to the session (not followed: check the status).
    conn_status = redirect_status(base, f"/janus/{sid}/{hid}")
    check(conn_status == 302, conn_status)

    # Long polls refresh the session: 1.5 s of polls only, past the 1 s timeout.
    t0 = time.monotonic()
    while time.monotonic() - t0 < 1.5:
        check(request(base, "GET", f"/janus/{sid}")[0] == 200, "poll keeps the session")
    # Session timeout (1 s): stop polling, then the session is gone.
    time.sleep(1.6)
    check(request(base, "GET", f"/janus/{sid}")[0] == 404, "session timed out")
    reply = post(base, f"/janus/{sid}", {"janus": "keepalive", "transaction": "k"})
    check(reply["error"]["code"] == 458, reply)


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def redirect_status(base, path):
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(base + path, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


if __name__ == "__main__":
    main()
