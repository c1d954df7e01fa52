"""The gateway's authentication over real HTTP: `verbatim serve` with an API secret, with signed
tokens, with both, and with stored tokens, on free loopback ports.

usage: auth_http.py VERBATIM

1. api_secret: create without / with a wrong / with the right apisecret; every later request
   needs it (before the session lookup); long polls with ?apisecret=; info and ping need none.
2. signed tokens (HMAC-SHA1, built here): valid, expired, bad signature, wrong realm, garbage,
   no plugin descriptor (create ok, attach 405), ?token= long polls; a VideoRoom room with
   signed_tokens: join with a room token (both accepted forms) or error 433.
3. both: the secret alone or a token alone passes, neither does not; a token next to the right
   secret is still checked on attach.
4. stored tokens: the Admin API's add/allow/disallow/list/remove_token and what they change.

The server plumbing here (Serve, Client, free_ports, check) is shared with admin_http.py.
"""
import base64
import hashlib
import hmac
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import requests

PLUGIN = "janus.plugin.videoroom"
UNAUTHORIZED = "Unauthorized request (wrong or missing secret/token)"
NOT_ALLOWED = "Provided token can't access plugin '%s'" % PLUGIN


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def free_ports(n):
    """n distinct free loopback ports (held open together while picked)."""
    socks = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


class Serve:
    """One `verbatim serve` process in its own temp dir; start() returns at once, up() waits."""

    def __init__(self, verbatim, name, args, admin_secret=None):
        self.verbatim, self.name, self.args = verbatim, name, args
        self.tmp = tempfile.mkdtemp(prefix="vb-%s-" % name)
        self.admin_secret = admin_secret
        self.logpath = os.path.join(self.tmp, "log")
        self.proc = None

    def start(self):
        """Starts serve on two ports free now (another process may take one meanwhile: up()
        then starts again on others)."""
        self.jport, self.aport = free_ports(2)
        self.janus = "http://127.0.0.1:%d/janus" % self.jport
        self.admin = "http://127.0.0.1:%d/admin" % self.aport
        cmd = [self.verbatim, "serve", "--data", os.path.join(self.tmp, "data"), "--janus-port",
               str(self.jport), "--admin-port", str(self.aport), "--web-port", "0"]
        if self.admin_secret is not None:
            cmd += ["--admin-secret", self.admin_secret]
        with open(self.logpath, "w") as log:
            self.proc = subprocess.Popen(cmd + self.args, stdout=log, stderr=subprocess.STDOUT)
        return self

    def log(self):
        try:
            with open(self.logpath) as f:
                return f.read()
        except OSError:
            return ""

    def up(self, attempts=3):
        """Waits for the "Janus API:" line (and the Admin API's), at most 10 s."""
        want = ["Janus API: " + self.janus]
        want.append("Admin API: " + self.admin if self.admin_secret else "Admin API off")
        deadline = time.time() + 10
        while time.time() < deadline:
            text = self.log()
            if all(w in text for w in want):
                return self
            if self.proc.poll() is not None:
                if "Address already in use" in text and attempts > 1:
                    return self.start().up(attempts - 1)
                raise AssertionError("%s exited early: %s" % (self.name, text))
            time.sleep(0.05)
        raise AssertionError("%s not up in 10 s: %s" % (self.name, self.log()))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


def run_servers(servers, scenarios):
    """Starts every server, waits for all, runs the scenarios; always stops them. A SIGTERM or
    SIGINT (ctest's timeout) becomes SystemExit so that the cleanup runs."""

    def on_signal(signum, _frame):
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.up()
        for fn in scenarios:
            t0 = time.time()
            fn()
            print("%s: ok (%.1f s)" % (fn.__name__, time.time() - t0))
    except BaseException:
        for s in servers:
            sys.stdout.write("--- log of %s\n%s" % (s.name, s.log()))
        raise
    finally:
        for s in servers:
            s.stop()


class Client:
    """Requests to one server; `auth` (apisecret/token members) is added to every POST."""

    def __init__(self, srv, **auth):
        self.srv = srv
        self.auth = auth
        self.tx = 0

    def with_auth(self, **auth):
        return Client(self.srv, **auth)

    def next_tx(self):
        self.tx += 1
        return "%s-%d" % (self.srv.name, self.tx)

    def post(self, path, obj, url=None):
        """POSTs obj (plus the auth members and a transaction): the JSON reply of an HTTP 200."""
        body = dict(self.auth)
        body.update(obj)
        body.setdefault("transaction", self.next_tx())
        r = requests.post((url or self.srv.janus) + path, data=json.dumps(body), timeout=10)
        check(r.status_code == 200, ("POST", path, body, r.status_code, r.text))
        check(r.headers.get("Content-Type", "").startswith("application/json"), r.headers)
        reply = r.json()
        check(reply.get("transaction") == body["transaction"], ("transaction", body, reply))
        return reply

    def poll(self, sid, maxev=None, **query):
        """One GET long poll: the requests.Response (status not checked)."""
        params = dict(query)
        params["rid"] = str(int(time.time() * 1000))
        if maxev is not None:
            params["maxev"] = str(maxev)
        return requests.get("%s/%d" % (self.srv.janus, sid), params=params, timeout=15)

    def create(self):
        r = self.post("", {"janus": "create"})
        check(r["janus"] == "success" and "session_id" not in r, ("create", self.auth, r))
        check(isinstance(r["data"]["id"], int) and 0 < r["data"]["id"] < 2**53, r)
        return r["data"]["id"]

    def attach(self, sid):
        r = self.post("/%d" % sid, {"janus": "attach", "plugin": PLUGIN})
        check(r["janus"] == "success" and r["session_id"] == sid, ("attach", self.auth, r))
        return r["data"]["id"]

    def admin_req(self, obj, path="", secret=True):
        """An Admin API request with the server's admin_secret (unless secret is False, or a
        string to send instead)."""
        body = dict(obj)
        if secret is True:
            body["admin_secret"] = self.srv.admin_secret
        elif secret:
            body["admin_secret"] = secret
        body.setdefault("transaction", self.next_tx())
        r = requests.post(self.srv.admin + path, data=json.dumps(body), timeout=10)
        check(r.status_code == 200, ("admin POST", path, body, r.status_code, r.text))
        reply = r.json()
        check(reply.get("transaction") == body["transaction"], ("transaction", body, reply))
        return reply

    def admin_ok(self, obj, path=""):
        r = self.admin_req(obj, path)
        check(r.get("janus") == "success", ("admin", obj, r))
        return r


def error_of(reply, code, sid=None, reason=None):
    """Checks reply is exactly a Janus error with `code` (and session_id sid when given)."""
    keys = {"janus", "transaction", "error"} | ({"session_id"} if sid else set())
    check(reply.get("janus") == "error" and set(reply) == keys, ("error shape", code, reply))
    check(reply["error"].get("code") == code, ("error code", code, reply))
    check(isinstance(reply["error"].get("reason"), str), reply)
    if sid:
        check(reply["session_id"] == sid, ("session_id", sid, reply))
    if reason is not None:
        check(reply["error"]["reason"] == reason, ("reason", reason, reply))


def status_only(resp, status):
    check(resp.status_code == status and resp.content == b"",
          ("want HTTP %d empty" % status, resp.url, resp.status_code, resp.text))


def queue_detached(cl, sid):
    """Attaches and detaches a handle so that a `detached` event waits in the session's queue."""
    hid = cl.attach(sid)
    r = cl.post("/%d/%d" % (sid, hid), {"janus": "detach"})
    check(r["janus"] == "success", r)
    return hid


def attach_refused(cl, sid):
    """attach with cl's token: error 405."""
    r = cl.post("/%d" % sid, {"janus": "attach", "plugin": PLUGIN})
    error_of(r, 405, sid=sid, reason=NOT_ALLOWED)


def poll_detached(resp, sid, hid):
    check(resp.status_code == 200, ("poll", resp.status_code, resp.text))
    check(resp.json() == {"janus": "detached", "session_id": sid, "sender": hid}, resp.text)


def sign(key, text):
    mac = hmac.new(key.encode(), text.encode(), hashlib.sha1).digest()
    return text + ":" + base64.b64encode(mac).decode()


def token(key, realm="janus", descriptors=(PLUGIN,), expiry=None):
    """A signed token "<expiry>,<realm>[,<desc>...]:<sig>" valid for 10 minutes by default."""
    exp = int(time.time()) + 600 if expiry is None else expiry
    return sign(key, ",".join([str(exp), realm] + list(descriptors)))


def info_checks(srv, api_secret, auth_token):
    """info and ping need no secret nor token, by GET and by POST."""
    r = requests.get(srv.janus + "/info", timeout=10)
    check(r.status_code == 200 and r.json()["janus"] == "server_info", r.text)
    check(r.json()["api_secret"] is api_secret and r.json()["auth_token"] is auth_token, r.text)
    check(PLUGIN in r.json()["plugins"], r.text)
    r = requests.get(srv.janus + "/ping", timeout=10)
    check(r.status_code == 200 and r.json() == {"janus": "pong"}, r.text)
    cl = Client(srv)
    check(cl.post("", {"janus": "info"})["janus"] == "server_info", "POST info")
    r = cl.post("", {"janus": "ping", "transaction": "p1"})
    check(r == {"janus": "pong", "transaction": "p1"}, r)


# 1. --api-secret
def case_api_secret(srv, secret):
    info_checks(srv, True, False)
    none, wrong, right = Client(srv), Client(srv, apisecret=secret + "x"), Client(srv,
                                                                                 apisecret=secret)
    error_of(none.post("", {"janus": "create"}), 403, reason=UNAUTHORIZED)
    error_of(wrong.post("", {"janus": "create"}), 403, reason=UNAUTHORIZED)
    error_of(Client(srv, apisecret=secret[:-1]).post("", {"janus": "create"}), 403)
    error_of(Client(srv, apisecret=7).post("", {"janus": "create"}), 403)
    sid = right.create()
    hid = right.attach(sid)
    # Every later request needs it: session verbs, handle verbs.
    for cl in (none, wrong):
        for path, req in (("/%d" % sid, {"janus": "attach", "plugin": PLUGIN}),
                          ("/%d" % sid, {"janus": "keepalive"}),
                          ("/%d/%d" % (sid, hid), {"janus": "message",
                                                   "body": {"request": "list"}}),
                          ("/%d/%d" % (sid, hid), {"janus": "detach"}),
                          ("/%d" % sid, {"janus": "destroy"})):
            error_of(cl.post(path, req), 403, sid=sid, reason=UNAUTHORIZED)
    # Authorization comes before the session lookup (Janus's order).
    error_of(none.post("/%d" % (sid + 1), {"janus": "keepalive"}), 403, sid=sid + 1)
    error_of(right.post("/%d" % (sid + 1), {"janus": "keepalive"}), 458, sid=sid + 1)
    # The refused requests changed nothing: the handle and the session are still there.
    r = right.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {"request": "list"}})
    check(r["janus"] == "success" and r["plugindata"]["data"]["videoroom"] == "success", r)
    check(right.post("/%d" % sid, {"janus": "keepalive"})["janus"] == "ack", "keepalive")
    # Long polls: ?apisecret= wrong or missing -> HTTP 403 empty; right -> the event.
    hid1 = queue_detached(right, sid)
    status_only(right.poll(sid), 403)
    status_only(right.poll(sid, apisecret=secret + "x"), 403)
    status_only(right.poll(sid, apisecret=""), 403)
    status_only(right.poll(sid + 1), 403)  # before the session lookup here too
    status_only(right.poll(sid + 1, apisecret=secret), 404)
    hid2 = queue_detached(right, sid)
    poll_detached(right.poll(sid, apisecret=secret), sid, hid1)
    poll_detached(right.poll(sid, apisecret=secret), sid, hid2)
    check(right.post("/%d" % sid, {"janus": "destroy"})["janus"] == "success", "destroy")
    error_of(right.post("/%d" % sid, {"janus": "keepalive"}), 458, sid=sid)


# 2. --token-auth --token-auth-secret KEY
def case_signed(srv, key):
    info_checks(srv, False, True)
    good = token(key)
    ok = Client(srv, token=good)
    error_of(Client(srv).post("", {"janus": "create"}), 403, reason=UNAUTHORIZED)
    bad_tokens = {
        "expired": token(key, expiry=int(time.time()) - 5),
        "bad signature": token(key + "x"),
        "signature changed": good[:-6] + ("AAAA" if good[-6:-2] != "AAAA" else "BBBB") + good[-2:],
        "wrong realm": token(key, realm="jan"),
        "realm of the plugin": token(key, realm=PLUGIN, descriptors=()),
        "garbage": "garbage",
        "empty": "",
        "no signature": good.split(":")[0] + ":",
        "two colons": good + ":x",
        "expiry not digits": sign(key, "12x4,janus," + PLUGIN),
    }
    for what, bad in bad_tokens.items():
        r = Client(srv, token=bad).post("", {"janus": "create"})
        check(r.get("error", {}).get("code") == 403, (what, bad, r))
        error_of(r, 403, reason=UNAUTHORIZED)
    sid = ok.create()
    hid = ok.attach(sid)
    # Later requests with a bad token are refused too.
    for bad in bad_tokens.values():
        error_of(Client(srv, token=bad).post("/%d" % sid, {"janus": "keepalive"}), 403, sid=sid)
    error_of(Client(srv).post("/%d/%d" % (sid, hid), {"janus": "detach"}), 403, sid=sid)
    # A token without the plugin's descriptor: requests pass, attach does not.
    for desc in ((), ("janus.plugin.nosuch",), ("room=1",), (PLUGIN + "x",)):
        other = Client(srv, token=token(key, descriptors=desc))
        sid2 = other.create()
        attach_refused(other, sid2)
        check(other.post("/%d" % sid2, {"janus": "keepalive"})["janus"] == "ack", "keepalive")
        # The other token may attach the plugin to that session.
        check(ok.attach(sid2) > 0, "attach with the good token")
        check(other.post("/%d" % sid2, {"janus": "destroy"})["janus"] == "success", "destroy")
    # Long polls with ?token= (URL-encoded: the signature holds + / =).
    gone = queue_detached(ok, sid)
    status_only(ok.poll(sid), 403)
    for bad in bad_tokens.values():
        status_only(ok.poll(sid, token=bad), 403)
    poll_detached(ok.poll(sid, token=good), sid, gone)
    # The VideoRoom: a room with signed_tokens wants a room token at join.
    room = 7000 + os.getpid() % 1000
    r = ok.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {
        "request": "create", "room": room, "signed_tokens": True}})
    check(r["plugindata"]["data"] == {"videoroom": "created", "room": room, "permanent": False},
          r)
    r = ok.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {"request": "exists",
                                                                     "room": room}})
    check(r["plugindata"]["data"]["exists"] is True, r)
    plain = 6000 + os.getpid() % 1000  # a room without signed_tokens
    ok.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {"request": "create",
                                                                 "room": plain}})

    def join(h, body_token, which_room=room, missing=False):
        body = {"request": "join", "ptype": "publisher", "room": which_room, "display": "t"}
        if not missing:
            body["token"] = body_token
        r = ok.post("/%d/%d" % (sid, h), {"janus": "message", "body": body})
        check(r["janus"] == "ack", ("join ack", r))
        ev = ok.poll(sid, token=good)
        check(ev.status_code == 200, ev.text)
        ev = ev.json()
        check(ev["janus"] == "event" and ev["sender"] == h and
              ev["transaction"] == r["transaction"], ev)
        return ev["plugindata"]["data"]

    vr = PLUGIN
    refused = {
        "none": None,
        "another room": token(key, realm=vr, descriptors=("room=%d" % (room + 1),)),
        "room prefix": token(key, realm=vr, descriptors=("room=%d" % (room * 10),)),
        "expired": token(key, realm=vr, descriptors=("room=%d" % room,),
                         expiry=int(time.time()) - 5),
        "bad signature": token(key + "x", realm=vr, descriptors=("room=%d" % room,)),
        "the request token": good,
        "janus realm without the plugin": token(key, descriptors=("room=%d" % room,)),
        "another realm": token(key, realm="janus.plugin.audiobridge",
                               descriptors=("room=%d" % room,)),
    }
    for what, t in refused.items():
        data = join(hid, t, missing=t is None)
        check(data == {"videoroom": "event", "error_code": 433,
                       "error": "Unauthorized (wrong token)"}, (what, data))
    data = join(hid, 5)  # as Janus: a token that is not a string is a type error
    check(data == {"videoroom": "event", "error_code": 430,
                   "error": "Invalid element type (token should be a string)"}, data)
    data = join(hid, token(key, realm=vr, descriptors=("room=%d" % room,)))
    check(data["videoroom"] == "joined" and data["room"] == room and data["publishers"] == [],
          data)
    # The second form gateway/auth.h accepts (Janus 1.1.2 refuses it with 433): realm "janus"
    # with the plugin and the room among the descriptors.
    h2 = ok.attach(sid)
    data = join(h2, token(key, descriptors=("room=%d" % room, PLUGIN)))
    check(data["videoroom"] == "joined" and data["room"] == room, data)
    # A room without signed_tokens wants none.
    h3 = ok.attach(sid)
    data = join(h3, None, which_room=plain, missing=True)
    check(data["videoroom"] == "joined" and data["room"] == plain, data)
    parts = ok.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {
        "request": "listparticipants", "room": room}})["plugindata"]["data"]["participants"]
    check(len(parts) == 2, parts)
    check(ok.post("/%d" % sid, {"janus": "destroy"})["janus"] == "success", "destroy")


# 3. --api-secret and signed tokens
def case_both(srv, secret, key):
    info_checks(srv, True, True)
    good = token(key)
    by_secret, by_token = Client(srv, apisecret=secret), Client(srv, token=good)
    for cl in (Client(srv), Client(srv, apisecret=secret + "x"), Client(srv, token="x"),
               Client(srv, apisecret=secret + "x", token=token(key + "x"))):
        error_of(cl.post("", {"janus": "create"}), 403, reason=UNAUTHORIZED)
    s1, s2 = by_secret.create(), by_token.create()
    by_secret.attach(s1)  # no token: the secret passed, no plugin check
    by_token.attach(s2)
    # Either one passes: a wrong secret next to a good token, a bad token next to the secret.
    s3 = Client(srv, apisecret="nope", token=good).create()
    mixed = Client(srv, apisecret=secret, token=token(key, descriptors=()))
    s4 = mixed.create()
    # A token that is present is checked on attach even next to the right secret.
    attach_refused(mixed, s4)
    attach_refused(Client(srv, apisecret=secret, token="garbage"), s4)
    for sid in (s1, s2, s3, s4):
        error_of(Client(srv).post("/%d" % sid, {"janus": "keepalive"}), 403, sid=sid)
        check(by_secret.post("/%d" % sid, {"janus": "keepalive"})["janus"] == "ack", "ack")
        check(by_token.post("/%d" % sid, {"janus": "keepalive"})["janus"] == "ack", "ack")
    # Long polls: either query parameter passes, neither does not.
    hid1 = queue_detached(by_secret, s1)
    hid2 = queue_detached(by_token, s1)
    status_only(by_secret.poll(s1), 403)
    status_only(by_secret.poll(s1, apisecret="nope", token="nope"), 403)
    poll_detached(by_secret.poll(s1, apisecret=secret), s1, hid1)
    poll_detached(by_secret.poll(s1, token=good, apisecret="nope"), s1, hid2)
    for sid in (s1, s2, s3, s4):
        check(by_token.post("/%d" % sid, {"janus": "destroy"})["janus"] == "success", "destroy")


# 4. --token-auth without a key: stored tokens
def case_stored(srv, signed_srv):
    info_checks(srv, False, True)
    adm = Client(srv)
    ta, tb = "tok-a-%d" % os.getpid(), "tok-b-%d" % os.getpid()
    error_of(Client(srv).post("", {"janus": "create"}), 403, reason=UNAUTHORIZED)
    error_of(Client(srv, token=ta).post("", {"janus": "create"}), 403, reason=UNAUTHORIZED)
    r = adm.admin_ok({"janus": "add_token", "token": ta, "plugins": [PLUGIN]})
    check(set(r) == {"janus", "transaction", "data"} and r["data"] == {"plugins": [PLUGIN]}, r)
    a = Client(srv, token=ta)
    sid = a.create()
    hid = a.attach(sid)
    error_of(Client(srv).post("/%d" % sid, {"janus": "keepalive"}), 403, sid=sid)
    error_of(Client(srv, token=ta + "x").post("/%d" % sid, {"janus": "keepalive"}), 403, sid=sid)
    gone = queue_detached(a, sid)
    status_only(a.poll(sid), 403)
    status_only(a.poll(sid, token=tb), 403)
    poll_detached(a.poll(sid, token=ta), sid, gone)
    # A token limited to a plugin that is not registered allows none: requests pass, attach 405.
    r = adm.admin_ok({"janus": "add_token", "token": tb, "plugins": ["janus.plugin.nosuch"]})
    check(r["data"] == {"plugins": []}, r)
    b = Client(srv, token=tb)
    sid_b = b.create()
    attach_refused(b, sid_b)
    r = adm.admin_ok({"janus": "list_tokens"})
    check(r["data"] == {"tokens": [{"token": ta, "allowed_plugins": [PLUGIN]}]}, r)
    # allow_token: unknown token 470, unknown plugin 467, empty list 467; then attach works.
    error_of(adm.admin_req({"janus": "allow_token", "token": "nope", "plugins": [PLUGIN]}), 470)
    error_of(adm.admin_req({"janus": "allow_token", "token": tb,
                            "plugins": ["janus.plugin.nosuch"]}), 467)
    error_of(adm.admin_req({"janus": "allow_token", "token": tb, "plugins": []}), 467)
    error_of(adm.admin_req({"janus": "allow_token", "token": tb}), 467)
    attach_refused(b, sid_b)
    r = adm.admin_ok({"janus": "allow_token", "token": tb, "plugins": [PLUGIN]})
    check(r["data"] == {"plugins": [PLUGIN]}, r)
    b.attach(sid_b)
    # disallow_token: attach 405 (the handles already attached stay), allow again: ok.
    r = adm.admin_ok({"janus": "disallow_token", "token": ta, "plugins": [PLUGIN]})
    check(r["data"] == {"plugins": []}, r)
    attach_refused(a, sid)
    r = a.post("/%d/%d" % (sid, hid), {"janus": "message", "body": {"request": "list"}})
    check(r["janus"] == "success", r)
    check(a.post("/%d" % sid, {"janus": "keepalive"})["janus"] == "ack", "still a valid token")
    r = adm.admin_ok({"janus": "list_tokens"})
    check(r["data"] == {"tokens": [{"token": tb, "allowed_plugins": [PLUGIN]}]}, r)
    adm.admin_ok({"janus": "allow_token", "token": ta, "plugins": [PLUGIN]})
    a.attach(sid)
    r = adm.admin_ok({"janus": "list_tokens"})  # in no particular order (Janus: a hash table)
    check(set(r["data"]) == {"tokens"}, r)
    check(sorted(r["data"]["tokens"], key=lambda t: t["token"]) ==
          sorted([{"token": ta, "allowed_plugins": [PLUGIN]},
                  {"token": tb, "allowed_plugins": [PLUGIN]}], key=lambda t: t["token"]), r)
    # add_token without a list allows every registered plugin; again: still there, success.
    tc = "tok-c-%d" % os.getpid()
    every = sorted([PLUGIN, "janus.plugin.echotest"])
    r = adm.admin_ok({"janus": "add_token", "token": tc})["data"]
    check(sorted(r["plugins"]) == every, ("add_token without plugins", r))
    r = adm.admin_ok({"janus": "add_token", "token": tc, "plugins": [PLUGIN]})["data"]
    check(sorted(r["plugins"]) == every, ("add_token twice", r))
    Client(srv, token=tc).attach(Client(srv, token=tc).create())
    # remove_token: create 403, the session's requests 403; removing again 490.
    r = adm.admin_ok({"janus": "remove_token", "token": ta})
    check(set(r) == {"janus", "transaction"}, r)
    error_of(a.post("", {"janus": "create"}), 403, reason=UNAUTHORIZED)
    error_of(a.post("/%d" % sid, {"janus": "keepalive"}), 403, sid=sid)
    status_only(a.poll(sid, token=ta), 403)
    error_of(adm.admin_req({"janus": "remove_token", "token": ta}), 490)
    tokens = [t["token"] for t in adm.admin_ok({"janus": "list_tokens"})["data"]["tokens"]]
    check(sorted(tokens) == sorted([tb, tc]), tokens)
    # The token verbs need the admin secret, and only work with stored tokens.
    error_of(adm.admin_req({"janus": "add_token", "token": "x"}, secret=False), 403)
    error_of(adm.admin_req({"janus": "list_tokens"}, secret="wrong"), 403)
    sig = Client(signed_srv)
    for verb in ("add_token", "allow_token", "disallow_token", "list_tokens", "remove_token"):
        error_of(sig.admin_req({"janus": verb, "token": "x", "plugins": [PLUGIN]}), 490,
                 reason="Stored-Token based authentication disabled")
    b.post("/%d" % sid_b, {"janus": "destroy"})


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    verbatim = sys.argv[1]
    secret, key, adm = "api-%d" % os.getpid(), "key-%d" % os.getpid(), "adm-%d" % os.getpid()
    common = ["--long-poll-ms", "3000"]
    a = Serve(verbatim, "auth-secret", common + ["--api-secret", secret])
    b = Serve(verbatim, "auth-signed", common + ["--token-auth", "--token-auth-secret", key],
              admin_secret=adm)
    c = Serve(verbatim, "auth-both", common + ["--api-secret", secret, "--token-auth",
                                               "--token-auth-secret", key])
    d = Serve(verbatim, "auth-stored", common + ["--token-auth"], admin_secret=adm)

    def api_secret():
        case_api_secret(a, secret)

    def signed_tokens():
        case_signed(b, key)

    def secret_and_tokens():
        case_both(c, secret, key)

    def stored_tokens():
        case_stored(d, b)

    run_servers([a, b, c, d], [api_secret, signed_tokens, secret_and_tokens, stored_tokens])
    print("auth over HTTP: ok")


if __name__ == "__main__":
    main()
