"""The gateway's Admin API secret, draining, session timeouts and long-poll holds over real HTTP:
`verbatim serve` on free loopback ports.

usage: admin_http.py VERBATIM

5. Admin API: every request but info/ping needs admin_secret (403, and nothing changes); with it
   the verbs work; without --admin-secret the Admin API is not started at all.
6. draining: accept_new_sessions false -> create 472 while an existing session still works
   (attach, messages, long polls); true -> create works again.
7. --session-timeout 2: a long poll parked on an idle session gets {"janus":"timeout"}; the
   session is then 458 for POSTs and 404 for GETs and its VideoRoom participant is gone; a
   session with set_session_timeout 0 outlives it, and expires once set back to -1.
8. --long-poll-ms 1500: an idle poll answers a keepalive after ~1.5 s (an array with maxev > 1).

Uses the server plumbing of auth_http.py (same directory).
"""
import os
import socket
import sys
import threading
import time

import requests

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from auth_http import (PLUGIN, UNAUTHORIZED, Client, Serve, check, error_of,  # noqa: E402
                       poll_detached, queue_detached, run_servers, status_only)


def timed_poll(cl, sid, out, key, **kw):
    """A long poll in a thread: out[key] = (seconds, response)."""
    t0 = time.monotonic()
    r = cl.poll(sid, **kw)
    out[key] = (time.monotonic() - t0, r)


def start_poll(cl, sid, out, key, **kw):
    t = threading.Thread(target=timed_poll, args=(cl, sid, out, key), kwargs=kw, daemon=True)
    t.start()
    return t


# 5. the admin secret
def case_admin_secret(srv):
    cl = Client(srv)
    r = requests.get(srv.admin + "/info", timeout=10)
    check(r.status_code == 200 and r.json()["janus"] == "server_info", r.text)
    check(cl.admin_req({"janus": "info"}, secret=False)["janus"] == "server_info", "info")
    r = cl.admin_req({"janus": "ping", "transaction": "pp"}, secret=False)
    check(r == {"janus": "pong", "transaction": "pp"}, r)
    sid = cl.create()
    hid = cl.attach(sid)
    root = [{"janus": "get_status"}, {"janus": "list_sessions"},
            {"janus": "accept_new_sessions", "accept": False},
            {"janus": "set_session_timeout", "timeout": 1},
            {"janus": "set_log_level", "level": 7},
            {"janus": "message_plugin", "plugin": PLUGIN, "request": {"request": "list"}},
            {"janus": "add_token", "token": "t"}, {"janus": "list_tokens"},
            {"janus": "custom_event", "schema": "s", "data": {}},
            {"janus": "loops_info"}, {"janus": "no_such_verb"}]
    session = [{"janus": "list_handles"}, {"janus": "destroy_session"},
               {"janus": "set_session_timeout", "timeout": 0}]
    handle = [{"janus": "handle_info"}, {"janus": "detach_handle"}, {"janus": "hangup_webrtc"},
              {"janus": "start_pcap", "folder": "/tmp", "filename": "x.pcap"}]
    for secret in (False, "wrong", srv.admin_secret + "x", srv.admin_secret[:-1], ""):
        for req in root:
            error_of(cl.admin_req(req, secret=secret), 403, reason=UNAUTHORIZED)
        for req in session:
            error_of(cl.admin_req(req, "/%d" % sid, secret=secret), 403, sid=sid,
                     reason=UNAUTHORIZED)
        for req in handle:
            error_of(cl.admin_req(req, "/%d/%d" % (sid, hid), secret=secret), 403, sid=sid,
                     reason=UNAUTHORIZED)
    # Not a string: refused the same way.
    error_of(cl.admin_req({"janus": "get_status", "admin_secret": 1}, secret=False), 403)
    # The secret is checked before the session is looked up.
    error_of(cl.admin_req({"janus": "list_handles"}, "/%d" % (sid + 1), secret=False), 403,
             sid=sid + 1)
    error_of(cl.admin_req({"janus": "list_handles"}, "/%d" % (sid + 1)), 458, sid=sid + 1)
    # Nothing the refused requests asked for happened.
    st = cl.admin_ok({"janus": "get_status"})["status"]
    check(st["session_timeout"] == 60 and st["log_level"] == 4 and st["token_auth"] is False, st)
    cl.create()  # still accepting
    r = cl.admin_ok({"janus": "list_sessions"})
    check(sid in r["sessions"], r)
    r = cl.admin_ok({"janus": "list_handles"}, "/%d" % sid)
    check(r["session_id"] == sid and r["handles"] == [hid], r)
    r = cl.admin_ok({"janus": "handle_info"}, "/%d/%d" % (sid, hid))
    info = r["info"]
    check(info["session_id"] == sid and info["handle_id"] == hid and info["plugin"] == PLUGIN, r)
    check(cl.post("/%d" % sid, {"janus": "keepalive"})["janus"] == "ack", "session kept")
    r = cl.admin_ok({"janus": "message_plugin", "plugin": PLUGIN, "request": {"request": "list"}})
    check(r["response"]["videoroom"] == "success", r)
    cl.admin_ok({"janus": "destroy_session"}, "/%d" % sid)
    error_of(cl.post("/%d" % sid, {"janus": "keepalive"}), 458, sid=sid)


def case_admin_off(srv):
    check("Admin API off" in srv.log() and "Admin API: " not in srv.log(), srv.log())
    s = socket.socket()
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", srv.aport))
        refused = False
    except ConnectionRefusedError:
        refused = True
    finally:
        s.close()
    check(refused, "something listens on the admin port %d" % srv.aport)
    cl = Client(srv)
    cl.attach(cl.create())  # the Janus API itself is up


# 6. draining
def case_draining(srv):
    cl = Client(srv)
    sid = cl.create()
    hid = cl.attach(sid)
    error_of(cl.admin_req({"janus": "accept_new_sessions"}), 456)
    error_of(cl.admin_req({"janus": "accept_new_sessions", "accept": "no"}), 467)
    r = cl.admin_ok({"janus": "accept_new_sessions", "accept": False})
    check(r["accept"] is False, r)
    for req in ({"janus": "create"}, {"janus": "create", "id": 12345}):
        error_of(cl.post("", req), 472, reason="Currently not accepting new sessions")
    # The existing session still works: attach, sync and async messages, long polls, detach.
    hid2 = cl.attach(sid)
    r = cl.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {"request": "list"}})
    check(r["janus"] == "success" and r["plugindata"]["data"]["videoroom"] == "success", r)
    r = cl.post("/%d/%d" % (sid, hid2), {"janus": "message", "body": {
        "request": "join", "ptype": "publisher", "room": 999999999}})
    check(r["janus"] == "ack", r)
    ev = cl.poll(sid)
    check(ev.status_code == 200, ev.text)
    ev = ev.json()
    check(ev["janus"] == "event" and ev["transaction"] == r["transaction"] and
          ev["sender"] == hid2, ev)
    check(ev["plugindata"]["data"]["error_code"] == 426, ev)
    check(cl.post("/%d" % sid, {"janus": "keepalive"})["janus"] == "ack", "keepalive")
    gone = queue_detached(cl, sid)
    poll_detached(cl.poll(sid), sid, gone)
    r = cl.admin_ok({"janus": "list_sessions"})
    check(sid in r["sessions"], r)
    r = cl.admin_ok({"janus": "accept_new_sessions", "accept": True})
    check(r["accept"] is True, r)
    sid2 = cl.create()
    cl.attach(sid2)
    for s in (sid, sid2):
        check(cl.post("/%d" % s, {"janus": "destroy"})["janus"] == "success", "destroy")


# 7. --session-timeout 2
def case_timeout(srv):
    cl = Client(srv)
    room = 5000 + os.getpid() % 1000
    keep, gone, idle = cl.create(), cl.create(), cl.create()
    r = cl.admin_ok({"janus": "set_session_timeout", "timeout": 0}, "/%d" % keep)
    check(r == {"janus": "success", "transaction": r["transaction"], "timeout": 0,
                "session_id": keep}, r)
    error_of(cl.admin_req({"janus": "set_session_timeout", "timeout": -2}, "/%d" % keep), 467,
             sid=keep)
    error_of(cl.admin_req({"janus": "set_session_timeout", "timeout": 0}, "/%d" % (keep + 1)),
             458, sid=keep + 1)
    hk, hg = cl.attach(keep), cl.attach(gone)
    r = cl.post("/%d/%d" % (keep, hk), {"janus": "message", "body": {"request": "create",
                                                                   "room": room}})
    check(r["plugindata"]["data"]["videoroom"] == "created", r)
    r = cl.post("/%d/%d" % (gone, hg), {"janus": "message", "body": {
        "request": "join", "ptype": "publisher", "room": room, "display": "gone"}})
    ev = cl.poll(gone).json()
    check(ev["plugindata"]["data"]["videoroom"] == "joined", ev)
    idle_since = keep_since = time.monotonic()  # no request on keep or idle from here
    # A poll parked on `gone` refreshes it once; the session then expires under it.
    out = {}
    start_poll(cl, gone, out, "gone").join(12)
    secs, resp = out["gone"]
    check(resp.status_code == 200, resp.text)
    check(resp.json() == {"janus": "timeout", "session_id": gone}, resp.text)
    check(1.9 <= secs <= 3.6, ("timeout after %.2f s, expected 2-3 s" % secs))
    # `idle` (no poll) expired too; `keep` (timeout 0) did not, idle for as long.
    while time.monotonic() - idle_since < 3.6:
        time.sleep(0.1)
    sessions = cl.admin_ok({"janus": "list_sessions"})["sessions"]
    check(keep in sessions and gone not in sessions and idle not in sessions, sessions)
    check(time.monotonic() - keep_since > 3.5, "keep was not idle long enough")
    check(cl.post("/%d" % keep, {"janus": "keepalive"})["janus"] == "ack", "keep is alive")
    for sid in (gone, idle):
        error_of(cl.post("/%d" % sid, {"janus": "keepalive"}), 458, sid=sid,
                 reason="No such session %d" % sid)
        error_of(cl.post("/%d" % sid, {"janus": "attach", "plugin": PLUGIN}), 458, sid=sid)
        status_only(cl.poll(sid), 404)
    error_of(cl.post("/%d/%d" % (gone, hg), {"janus": "message", "body": {"request": "list"}}),
             458, sid=gone)
    error_of(cl.admin_req({"janus": "list_handles"}, "/%d" % gone), 458, sid=gone)
    # The expired session's handle left the room.
    r = cl.post("/%d/%d" % (keep, hk), {"janus": "message", "body": {
        "request": "listparticipants", "room": room}})
    check(r["plugindata"]["data"]["participants"] == [], r)
    # Back to the global timeout (-1): keep expires under its own poll now (maxev=3: an array).
    r = cl.admin_ok({"janus": "set_session_timeout", "timeout": -1}, "/%d" % keep)
    check(r["timeout"] == -1 and r["session_id"] == keep, r)
    start_poll(cl, keep, out, "keep", maxev=3).join(12)
    secs, resp = out["keep"]
    check(resp.status_code == 200 and
          resp.json() == [{"janus": "timeout", "session_id": keep}], resp.text)
    check(1.9 <= secs <= 3.6, ("timeout after %.2f s, expected 2-3 s" % secs))
    status_only(cl.poll(keep), 404)
    # The global timeout through the Admin API.
    r = cl.admin_ok({"janus": "set_session_timeout", "timeout": 0})
    check(r == {"janus": "success", "transaction": r["transaction"], "timeout": 0}, r)
    check(cl.admin_ok({"janus": "get_status"})["status"]["session_timeout"] == 0, "status")
    cl.admin_ok({"janus": "set_session_timeout", "timeout": 2})
    check(cl.admin_ok({"janus": "get_status"})["status"]["session_timeout"] == 2, "status")


# 8. --long-poll-ms 1500
def case_keepalive(srv):
    cl = Client(srv)
    sa, sb, sc = cl.create(), cl.create(), cl.create()
    out = {}
    threads = [start_poll(cl, sa, out, "a"), start_poll(cl, sb, out, "b", maxev=3),
               start_poll(cl, sc, out, "c", maxev=1)]
    for t in threads:
        t.join(12)
    for key, want in (("a", {"janus": "keepalive"}), ("b", [{"janus": "keepalive"}]),
                      ("c", {"janus": "keepalive"})):
        secs, resp = out[key]
        check(resp.status_code == 200 and resp.json() == want, (key, resp.text))
        check(1.3 <= secs <= 3.0, ("keepalive after %.2f s, expected ~1.5 s" % secs))
    # Queued events come at once; maxev > 1 gives an array of at most maxev of them.
    hids = [queue_detached(cl, sa) for _ in range(4)]
    t0 = time.monotonic()
    r = cl.poll(sa, maxev=3)
    check(time.monotonic() - t0 < 1.0, "queued events were held")
    check(r.status_code == 200 and r.json() == [
        {"janus": "detached", "session_id": sa, "sender": h} for h in hids[:3]], r.text)
    poll_detached(cl.poll(sa, maxev=1), sa, hids[3])
    for s in (sa, sb, sc):
        check(cl.post("/%d" % s, {"janus": "destroy"})["janus"] == "success", "destroy")


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    verbatim = sys.argv[1]
    adm = "adm-%d" % os.getpid()
    main_srv = Serve(verbatim, "admin-main", ["--long-poll-ms", "1500"], admin_secret=adm)
    off = Serve(verbatim, "admin-off", [])
    tmo = Serve(verbatim, "admin-timeout", ["--session-timeout", "2", "--long-poll-ms", "5000"],
                admin_secret=adm)

    def admin_secret():
        case_admin_secret(main_srv)

    def admin_off():
        case_admin_off(off)

    def draining():
        case_draining(main_srv)

    def session_timeout():
        case_timeout(tmo)

    def long_poll_keepalive():
        case_keepalive(main_srv)

    run_servers([main_srv, off, tmo],
                [admin_secret, admin_off, draining, session_timeout, long_poll_keepalive])
    print("admin over HTTP: ok")


if __name__ == "__main__":
    main()
