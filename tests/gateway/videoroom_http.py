"""The VideoRoom plugin over real HTTP on loopback, with long polls.

usage: videoroom_http.py VERBATIM             starts `VERBATIM serve` on free ports and checks it
       videoroom_http.py --url JANUS ADMIN S  checks an already running server (e.g. real Janus:
                                              the same script must pass against both)

Two sessions drive a room: create (sync reply), join x2 (ack, then the event with the same
transaction on the long poll; `joined` with attendees; `joining` to the other, including a poll
parked before the event existed), kick (the kicked one and the other one told), a second handle
joining and leaving (`leaving`), the Admin API's message_plugin, destroy (`destroyed` to the
participant).
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

PLUGIN = "janus.plugin.videoroom"
TX = [0]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    def __init__(self, janus, admin, secret):
        self.janus, self.admin, self.secret = janus, admin, secret

    def post(self, path, obj):
        TX[0] += 1
        obj.setdefault("transaction", "vr%d" % TX[0])
        r = requests.post(self.janus + path, data=json.dumps(obj), timeout=10)
        check(r.status_code == 200, (path, r.status_code))
        return r.json()

    def poll(self, sid, timeout=35):
        """One long poll (maxev=1): the next event of the session, or a keepalive."""
        r = requests.get("%s/%d?maxev=1&rid=%d" % (self.janus, sid, time.time() * 1000),
                         timeout=timeout)
        check(r.status_code == 200, ("poll", r.status_code))
        return r.json()

    def event(self, sid, tx=None):
        """The next plugin event of the session (skipping keepalives): its data and the event."""
        for _ in range(3):
            ev = self.poll(sid)
            if ev.get("janus") == "keepalive":
                continue
            check(ev.get("janus") == "event", ev)
            check(ev["plugindata"]["plugin"] == PLUGIN, ev)
            if tx is None:
                check("transaction" not in ev, ("a notification has no transaction", ev))
            else:
                check(ev.get("transaction") == tx, ("transaction", tx, ev))
            return ev["plugindata"]["data"], ev
        raise AssertionError("no event on session %d" % sid)

    def session(self):
        r = self.post("", {"janus": "create"})
        check(r["janus"] == "success" and "session_id" not in r, r)
        return r["data"]["id"]

    def attach(self, sid):
        r = self.post("/%d" % sid, {"janus": "attach", "plugin": PLUGIN})
        check(r["janus"] == "success", r)
        return r["data"]["id"]

    def sync(self, sid, hid, body):
        r = self.post("/%d/%d" % (sid, hid), {"janus": "message", "body": body})
        check(r["janus"] == "success" and r["sender"] == hid, r)
        check(r["plugindata"]["plugin"] == PLUGIN, r)
        return r["plugindata"]["data"]

    def request(self, sid, hid, body):
        """An asynchronous request: the ack, then the event with the same transaction."""
        r = self.post("/%d/%d" % (sid, hid), {"janus": "message", "body": body})
        check(r["janus"] == "ack" and r["session_id"] == sid, r)
        data, ev = self.event(sid, r["transaction"])
        check(ev["sender"] == hid, ev)
        return data

    def admin_request(self, obj):
        obj["admin_secret"] = self.secret
        TX[0] += 1
        obj["transaction"] = "ad%d" % TX[0]
        r = requests.post(self.admin, data=json.dumps(obj), timeout=10)
        check(r.status_code == 200, ("admin", r.status_code))
        return r.json()


def scenario(srv):
    info = requests.get(srv.janus + "/info", timeout=10).json()
    check(PLUGIN in info.get("plugins", {}), info.get("plugins"))
    room = 4000 + os.getpid() % 1000
    sa, sb = srv.session(), srv.session()
    ha, hb = srv.attach(sa), srv.attach(sb)
    check(srv.sync(sa, ha, {"request": "create", "room": room, "secret": "s", "description": "http",
                            "notify_joining": True}) ==
          {"videoroom": "created", "room": room, "permanent": False}, "create")
    check(srv.sync(sa, ha, {"request": "create", "room": room})["error_code"] == 427, "427")

    joined = srv.request(sa, ha, {"request": "join", "ptype": "publisher", "room": room,
                                  "display": "alice"})
    check(joined["videoroom"] == "joined" and joined["room"] == room, joined)
    check(joined["description"] == "http" and joined["publishers"] == [], joined)
    check(joined["attendees"] == [] and joined["private_id"] > 0, joined)
    alice = joined["id"]

    # A poll parked before the event exists is answered when bob joins.
    parked = {}
    t = threading.Thread(target=lambda: parked.update(srv.event(sa)[0]))
    t.start()
    time.sleep(0.3)
    joined = srv.request(sb, hb, {"request": "join", "ptype": "publisher", "room": room,
                                  "display": "bob"})
    bob = joined["id"]
    check(joined["attendees"] == [{"id": alice, "display": "alice"}], joined)
    t.join(10)
    check(parked == {"videoroom": "event", "room": room,
                     "joining": {"id": bob, "display": "bob"}}, ("joining", parked))
    check(srv.request(sb, hb, {"request": "join", "ptype": "publisher", "room": room})
          ["error_code"] == 425, "joined twice")
    parts = srv.sync(sa, ha, {"request": "listparticipants", "room": room})["participants"]
    check(sorted(p["id"] for p in parts) == sorted([alice, bob]), parts)

    # Kick: bob is told why, alice is told who.
    check(srv.sync(sa, ha, {"request": "kick", "room": room, "id": bob})["error_code"] == 429,
          "kick without the secret")
    check(srv.sync(sa, ha, {"request": "kick", "room": room, "id": bob, "secret": "s"}) ==
          {"videoroom": "success"}, "kick")
    check(srv.event(sb)[0] == {"videoroom": "event", "room": room, "leaving": "ok",
                               "reason": "kicked"}, "kicked event")
    check(srv.event(sa)[0] == {"videoroom": "event", "room": room, "kicked": bob}, "kicked notice")
    check(srv.request(sb, hb, {"request": "configure"})["error_code"] == 426, "kicked configure")

    # A second handle of bob's session joins and leaves.
    hb2 = srv.attach(sb)
    bob2 = srv.request(sb, hb2, {"request": "join", "ptype": "publisher", "room": room})["id"]
    check(srv.event(sa)[0]["joining"] == {"id": bob2}, "joining 2")
    check(srv.request(sb, hb2, {"request": "leave"}) ==
          {"videoroom": "event", "room": room, "leaving": "ok"}, "leave")
    check(srv.event(sa)[0] == {"videoroom": "event", "room": room, "leaving": bob2}, "leaving")

    # The Admin API reaches the same room.
    r = srv.admin_request({"janus": "message_plugin", "plugin": PLUGIN,
                           "request": {"request": "exists", "room": room}})
    check(r.get("janus") == "success" and
          r.get("response") == {"videoroom": "success", "room": room, "exists": True}, r)

    # Destroy: the remaining participant is told.
    check(srv.sync(sb, hb, {"request": "destroy", "room": room, "secret": "s"}) ==
          {"videoroom": "destroyed", "room": room, "permanent": False}, "destroy")
    check(srv.event(sa)[0] == {"videoroom": "destroyed", "room": room}, "destroyed")
    check(srv.sync(sa, ha, {"request": "exists", "room": room})["exists"] is False, "exists")
    for sid in (sa, sb):
        check(srv.post("/%d" % sid, {"janus": "destroy"})["janus"] == "success", "destroy session")
    print("videoroom over HTTP: ok")


def run_serve(verbatim):
    tmp = tempfile.mkdtemp(prefix="vb-vr-http-")
    jport, aport, secret = free_port(), free_port(), "vr-admin"
    log = open(os.path.join(tmp, "log"), "w")
    proc = subprocess.Popen([verbatim, "serve", "--data", os.path.join(tmp, "data"),
                             "--admin-secret", secret, "--janus-port", str(jport),
                             "--admin-port", str(aport), "--web-port", "0"],
                            stdout=log, stderr=subprocess.STDOUT)
    try:
        srv = Server("http://127.0.0.1:%d/janus" % jport, "http://127.0.0.1:%d/admin" % aport,
                     secret)
        for _ in range(100):
            try:
                requests.get(srv.janus + "/ping", timeout=1)
                break
            except requests.ConnectionError:
                check(proc.poll() is None, "serve exited early")
                time.sleep(0.1)
        scenario(srv)
    except BaseException:
        log.flush()
        sys.stdout.write(open(os.path.join(tmp, "log")).read())
        raise
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    if len(sys.argv) == 5 and sys.argv[1] == "--url":
        scenario(Server(sys.argv[2], sys.argv[3], sys.argv[4]))
    elif len(sys.argv) == 2:
        run_serve(sys.argv[1])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
