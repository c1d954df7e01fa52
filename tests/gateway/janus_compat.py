"""Janus API compatibility: one scripted sequence against real Janus and against ours.

usage:
  janus_compat.py reference JANUS_A JANUS_B
      runs the sequence against real Janus only and prints every reply (the reference);
  janus_compat.py compare JANUS_A JANUS_B OURS_A OURS_B
      runs it against both and compares the reply shapes; exit 1 on any unexpected difference.

Each server argument is "REST_PORT,ADMIN_PORT". Pair A is configured with admin secret
ADMIN_SECRET only; pair B also with API secret API_SECRET and stored-token authentication.

A reply's "shape" keeps every key, the JSON type of every value and the exact value of what a
client branches on (`janus`, error codes, `videoroom`, `plugin`, booleans, ...). Ids and strings
the script itself chose or learnt (session/handle/participant ids, transactions, tokens, names)
are replaced by symbols, so that "this reply carries the session id we created" is compared too;
other numbers and free text (versions, timestamps, reasons) count by type only.

Events are collected with a sentinel (see Server.drain) so that "no other event came" is checked
without sleeping; the whole sequence takes about a second per server.
"""
import json
import re
import sys
import time

import requests

ADMIN_SECRET = "compat-admin"
API_SECRET = "compat-api"
ROOM = 771177
GIVEN_SESSION = 4242424242
VIDEOROOM = "janus.plugin.videoroom"
POLL_WAIT_S = 3.0  # how long a drain waits for its events before giving up (only on failure)

# Keys whose value is compared exactly (besides booleans and symbolized values).
EXACT_KEYS = {"janus", "code", "error_code", "videoroom", "plugin", "leaving", "configured",
              "unpublished", "kicked", "joining", "ptype", "accepting-new-sessions",
              "timeout", "session-timeout", "api_secret", "auth_token", "record",
              "permanent", "exists", "num_participants", "max_publishers", "bitrate",
              "fir_freq", "audiocodec", "videocodec", "session_timeout", "accept"}
# Booleans compared by type only: Janus 1.1.2's handle_info "loop-running" says whether the
# handle's own event loop thread has started yet, which races with the request (true or false
# from one run to the next).
RACY_BOOLS = {"loop-running"}
# Lists whose order matters (poll results); other nested lists are compared as multisets.
ORDERED_KEYS = {"events"}
CORS_HEADERS = ("access-control-allow-origin", "access-control-max-age",
                "access-control-allow-methods", "access-control-allow-headers")

# Documented or harmless differences: (step name prefix, path prefix, kind, why).
# kind is one of "extra" (a key only ours has), "missing" (a key only Janus has), "type",
# "value", "length". Keep this list minimal.
ALLOWED = [
    # server_info describes the server: a client reads `janus`, `version*`, `plugins` and a few
    # flags; extra descriptive keys cannot break one (janus.js ignores unknown keys).
    ("info", "body.", "extra", "extra descriptive keys in server_info"),
    ("admin info", "body.", "extra", "extra descriptive keys in server_info"),
    ("b info", "body.", "extra", "extra descriptive keys in server_info"),
    # `dependencies` names the libraries a server links (Janus: glib2, libnice, libsrtp,
    # libcurl); ours links others. Purely descriptive.
    ("info", "body.dependencies.", "missing", "other libraries"),
    ("admin info", "body.dependencies.", "missing", "other libraries"),
    ("b info", "body.dependencies.", "missing", "other libraries"),
    # `data_channels` says whether the server does SCTP data channels: ours says false until its
    # media layer does, which is the truthful answer a client should read.
    ("info", "body.data_channels", "value", "data channels not supported (yet)"),
    ("admin info", "body.data_channels", "value", "data channels not supported (yet)"),
    ("b info", "body.data_channels", "value", "data channels not supported (yet)"),
    # GET <base>/info carries no transaction to echo; Janus makes up a random one. No client can
    # use a transaction it did not choose.
    ("info GET", "body.transaction", "missing", "random transaction on GET"),
    ("b info", "body.transaction", "missing", "random transaction on GET"),
    # GET <base>/ping: Janus 1.1.2 answers 404 (it takes "ping" for a session id); later Janus
    # (1.4, which docs/janus-api.md follows) answers {"janus":"pong"}. Either is fine for a client
    # (janus.js never sends it).
    ("ping GET", "", "any", "GET /ping exists only in Janus >= 1.4"),
]


# Steps where Janus 1.1.2 closes the connection without any reply (its HTTP library is told to
# drop the request): no client can rely on that, so whatever ours answers is accepted there.
JANUS_DROPS = {
    "err empty body",  # POST with an empty body: Janus logs "No payload" and drops it
    "err PUT with body",  # a body on a method other than POST: dropped before the 450 reply
    "err deep path POST",  # POST below <base>/<session>/<handle>: dropped ("Too many components")
}


class Server:
    """One server under test: its two pairs of ports and the symbols learnt while running."""

    def __init__(self, ports_a, ports_b):
        self.a = self._urls(ports_a)
        self.b = self._urls(ports_b)
        self.known = {}  # value (int or str) -> symbol
        self.records = []  # [(step name, record)]
        self.http = requests.Session()

    @staticmethod
    def _urls(ports):
        rest, admin = ports.split(",")
        return {"rest": f"http://127.0.0.1:{rest}/janus",
                "admin": f"http://127.0.0.1:{admin}/admin",
                "root": f"http://127.0.0.1:{rest}"}

    def learn(self, value, symbol):
        if isinstance(value, (int, str)) and not isinstance(value, bool) and value:
            self.known[value] = symbol
        return value

    # -- HTTP -----------------------------------------------------------------------------
    def call(self, name, method, url, body=None, raw=None, headers=None, timeout=10.0,
             record=True):
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        try:
            r = self.http.request(method, url, data=data, headers=headers or {},
                                  timeout=timeout, allow_redirects=False)
        except requests.exceptions.ReadTimeout:
            rec = {"status": "timeout", "body": None, "headers": {}}
        except requests.exceptions.ConnectionError:
            rec = {"status": "closed without reply", "body": None, "headers": {}}
        else:
            rec = {"status": r.status_code, "body": None, "headers": {}}
            text = r.text
            if text:
                try:
                    rec["body"] = json.loads(text)
                except ValueError:
                    rec["body"] = {"<not json>": text[:200]}
            for h in CORS_HEADERS + ("location",):
                if h in r.headers:
                    rec["headers"][h] = r.headers[h]
            ctype = r.headers.get("content-type", "")
            if text:
                rec["headers"]["content-type"] = ctype.split(";")[0].strip()
        if record:
            self.records.append((name, rec))
        return rec

    def post(self, name, path, body, pair="a", api="rest", **kw):
        return self.call(name, "POST", getattr(self, pair)[api] + path, body=body, **kw)

    def janus(self, name, path, verb, pair="a", **fields):
        txn = f"t-{len(self.records)}"
        self.learn(txn, f"<txn {name}>")
        body = {"janus": verb, "transaction": txn}
        body.update(fields)
        return self.post(name, path, body, pair=pair)

    def admin(self, name, path, verb, pair="a", secret=ADMIN_SECRET, **fields):
        txn = f"a-{len(self.records)}"
        self.learn(txn, f"<txn {name}>")
        body = {"janus": verb, "transaction": txn}
        if secret is not None:
            body["admin_secret"] = secret
        body.update(fields)
        return self.post(name, path, body, pair=pair, api="admin")

    def drain(self, name, sid, pair="a", handle=None, expect=0, query=""):
        """Collects the events queued for session `sid` by long polls (maxev=10).

        With `handle` (a handle of that session attached to the VideoRoom), a sentinel is sent
        first: an async join of a room that does not exist, whose error event comes after
        everything queued before it; the events before the sentinel's are the step's events, so
        "nothing else came" is checked without waiting. Without a handle, polls until `expect`
        events came. A poll is never abandoned while events are expected: an abandoned long
        poll could swallow a later event."""
        query = f"?maxev=10{query}"
        sentinel = None
        if handle:
            sentinel = f"sentinel-{len(self.records)}"
            body = {"janus": "message", "transaction": sentinel,
                    "body": {"request": "join", "ptype": "publisher", "room": 990099}}
            if pair == "b":
                body["apisecret"] = API_SECRET
            self.call(name, "POST", f"{getattr(self, pair)['rest']}/{sid}/{handle}", body=body,
                      record=False)
        events, status = [], set()
        deadline = time.monotonic() + POLL_WAIT_S
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                events.append("<timed out waiting>")
                break
            rec = self.call(name, "GET", f"{getattr(self, pair)['rest']}/{sid}{query}",
                            timeout=left, record=False)
            if rec["status"] == "timeout":
                events.append("<timed out waiting>")
                break
            status.add(rec["status"])
            body = rec["body"]
            if rec["status"] != 200 or not isinstance(body, list):
                events.append({"<bad poll>": body})
                break
            done = False
            for e in body:
                if isinstance(e, dict) and e.get("janus") == "keepalive":
                    continue
                if sentinel and isinstance(e, dict) and e.get("transaction") == sentinel:
                    done = True
                    continue
                events.append(e)
            if done or (not sentinel and len(events) >= expect):
                break
        self.records.append((name, {"status": sorted(status, key=str), "body": {"events": events},
                                    "headers": {}}))
        return events


def data_id(rec):
    body = rec.get("body")
    if isinstance(body, dict) and isinstance(body.get("data"), dict):
        return body["data"].get("id", 0)
    return 0


def plugin_data(rec):
    body = rec.get("body")
    if isinstance(body, dict):
        pd = body.get("plugindata")
        if isinstance(pd, dict) and isinstance(pd.get("data"), dict):
            return pd["data"]
    return {}


def event_data(events, index=0):
    if len(events) > index and isinstance(events[index], dict):
        pd = events[index].get("plugindata")
        if isinstance(pd, dict) and isinstance(pd.get("data"), dict):
            return pd["data"]
    return {}


# -- the sequence ---------------------------------------------------------------------------
def run_sequence(s):
    run_core(s)
    run_errors(s)
    run_admin(s)
    run_auth(s)
    run_http(s)


def run_core(s):
    s.call("info GET", "GET", s.a["rest"] + "/info")
    s.janus("info POST", "", "info")
    s.call("ping GET", "GET", s.a["rest"] + "/ping")
    s.janus("ping", "", "ping")
    s1 = s.learn(data_id(s.janus("create", "", "create")), "<S1>")
    s.learn(GIVEN_SESSION, "<S given>")
    s.janus("create with id", "", "create", id=GIVEN_SESSION)
    s.janus("create with id again", "", "create", id=GIVEN_SESSION)
    s.janus("keepalive", f"/{s1}", "keepalive")
    s.learn("compat-opaque", "<opaque>")
    h1 = s.learn(data_id(s.janus("attach videoroom", f"/{s1}", "attach", plugin=VIDEOROOM,
                                 opaque_id="compat-opaque")), "<H1>")
    s.janus("attach unknown plugin", f"/{s1}", "attach", plugin="janus.plugin.nope")
    hp = f"/{s1}/{h1}"

    # Synchronous VideoRoom requests.
    s.learn(ROOM, "<room>")
    for text in ("compat room", "edited room", "alice", "bob", "tok-a"):
        s.learn(text, f"<{text}>")
    msg = lambda name, body, **kw: s.janus(name, hp, "message", body=body, **kw)
    msg("vr create", {"request": "create", "room": ROOM, "description": "compat room",
                      "secret": "rs", "publishers": 3, "notify_joining": True})
    msg("vr create again", {"request": "create", "room": ROOM, "secret": "rs"})
    msg("vr exists", {"request": "exists", "room": ROOM})
    msg("vr exists unknown", {"request": "exists", "room": 990099})
    msg("vr list", {"request": "list"})
    msg("vr listparticipants empty", {"request": "listparticipants", "room": ROOM})
    msg("vr listparticipants unknown", {"request": "listparticipants", "room": 990099})
    msg("vr edit", {"request": "edit", "room": ROOM, "secret": "rs",
                    "new_description": "edited room"})
    msg("vr edit wrong secret", {"request": "edit", "room": ROOM, "secret": "no",
                                 "new_description": "x"})
    msg("vr allowed add", {"request": "allowed", "room": ROOM, "secret": "rs", "action": "add",
                           "allowed": ["tok-a"]})
    msg("vr allowed remove", {"request": "allowed", "room": ROOM, "secret": "rs",
                              "action": "remove", "allowed": ["tok-a"]})
    msg("vr enable_recording on", {"request": "enable_recording", "room": ROOM, "secret": "rs",
                                   "record": True})
    msg("vr enable_recording off", {"request": "enable_recording", "room": ROOM,
                                    "secret": "rs", "record": False})
    msg("vr unknown request", {"request": "fly"})
    msg("vr no request", {"room": ROOM})
    s.janus("message without body", hp, "message")

    # Asynchronous: join as publisher; the event by long poll, maxev=1 then maxev=5.
    msg("vr join ack", {"request": "join", "ptype": "publisher", "room": ROOM,
                        "display": "alice"})
    rec = s.call("poll maxev=1 joined", "GET", f"{s.a['rest']}/{s1}?maxev=1", timeout=3)
    if isinstance(rec["body"], dict):
        s.learn(event_data([rec["body"]]).get("id", 0), "<P1>")
    msg("vr join twice ack", {"request": "join", "ptype": "publisher", "room": ROOM,
                              "display": "alice"})
    s.call("poll maxev=5 join error", "GET", f"{s.a['rest']}/{s1}?maxev=5", timeout=3)

    # A second session joins the same room (notify_joining is on).
    s2 = s.learn(data_id(s.janus("create 2", "", "create")), "<S2>")
    h2 = s.learn(data_id(s.janus("attach 2", f"/{s2}", "attach", plugin=VIDEOROOM)), "<H2>")
    s.janus("vr join 2 ack", f"/{s2}/{h2}", "message",
            body={"request": "join", "ptype": "publisher", "room": ROOM, "display": "bob"})
    ev = s.drain("events 2 joined", s2, handle=h2)
    s.learn(event_data(ev).get("id", 0), "<P2>")
    s.drain("events 1 joining", s1, handle=h1)
    s.janus("vr leave 2 ack", f"/{s2}/{h2}", "message", body={"request": "leave"})
    s.drain("events 2 left", s2, handle=h2)
    s.drain("events 1 leaving", s1, handle=h1)
    s.janus("vr rejoin 2 same handle ack", f"/{s2}/{h2}", "message",
            body={"request": "join", "ptype": "publisher", "room": ROOM, "display": "bob"})
    s.drain("events 2 rejoin same handle", s2, handle=h2)
    h2 = s.learn(data_id(s.janus("attach 2b", f"/{s2}", "attach", plugin=VIDEOROOM)), "<H2b>")
    s.janus("vr rejoin 2 ack", f"/{s2}/{h2}", "message",
            body={"request": "join", "ptype": "publisher", "room": ROOM, "display": "bob"})
    ev = s.drain("events 2 rejoined", s2, handle=h2)
    s.learn(event_data(ev).get("id", 0), "<P2 again>")
    s.drain("events 1 joining again", s1, handle=h1)
    msg("vr listparticipants two", {"request": "listparticipants", "room": ROOM})
    msg("vr kick", {"request": "kick", "room": ROOM, "secret": "rs",
                    "id": event_data(ev).get("id", 0)})
    s.drain("events 2 kicked", s2, handle=h2)
    s.drain("events 1 after kick", s1, handle=h1)
    msg("vr leave ack", {"request": "leave"})
    s.drain("events 1 left", s1, handle=h1)
    msg("vr destroy", {"request": "destroy", "room": ROOM, "secret": "rs"})
    msg("vr destroy again", {"request": "destroy", "room": ROOM, "secret": "rs"})
    s.drain("events 2 after destroy", s2, handle=h2)

    s.janus("hangup", hp, "hangup")
    s.drain("events 1 after hangup", s1, handle=h1)
    s.janus("detach", hp, "detach")
    s.drain("events 1 detached", s1, expect=1)
    s.janus("detach again", hp, "detach")
    s.janus("destroy 2", f"/{s2}", "destroy")
    s.janus("destroy given", f"/{GIVEN_SESSION}", "destroy")
    s.janus("destroy", f"/{s1}", "destroy")
    s.janus("keepalive destroyed", f"/{s1}", "keepalive")
    s.call("poll destroyed", "GET", f"{s.a['rest']}/{s1}", timeout=3)


def run_errors(s):
    s3 = s.learn(data_id(s.janus("err create", "", "create")), "<S3>")
    h3 = s.learn(data_id(s.janus("err attach", f"/{s3}", "attach", plugin=VIDEOROOM)), "<H3>")
    s4 = s.learn(data_id(s.janus("err create 2", "", "create")), "<S4>")
    rest = s.a["rest"]
    s.call("err not json", "POST", rest, raw="{not json")
    s.call("err array body", "POST", rest, raw="[1,2]")
    s.call("err empty body", "POST", rest, raw="")
    s.post("err no transaction", "", {"janus": "create"})
    s.post("err no janus", "", {"transaction": "t-x"})
    s.post("err janus not string", "", {"janus": 5, "transaction": "t-x"})
    s.janus("err unknown verb root", "", "fly")
    s.janus("err unknown verb session", f"/{s3}", "fly")
    s.janus("err session verb on handle", f"/{s3}/{h3}", "keepalive")
    s.janus("err attach on handle path", f"/{s3}/{h3}", "attach", plugin=VIDEOROOM)
    s.janus("err handle verb on session", f"/{s3}", "detach")
    s.janus("err create on session", f"/{s3}", "create")
    s.janus("err conflicting session id", f"/{s3}", "keepalive", session_id=s4)
    s.janus("err conflicting handle id", f"/{s3}/{h3}", "message", handle_id=h3 + 1,
            body={"request": "list"})
    s.janus("err unknown session", "/990099", "keepalive")
    s.janus("err unknown handle", f"/{s3}/990099", "message", body={"request": "list"})
    s.janus("err bad handle_id type", f"/{s3}", "message", handle_id="abc",
            body={"request": "list"})
    s.janus("err body session_id on root", "", "keepalive", session_id=s3)
    s.janus("err attach no plugin", f"/{s3}", "attach")
    s.janus("err attach plugin not string", f"/{s3}", "attach", plugin=5)
    s.janus("err message body not object", f"/{s3}/{h3}", "message", body=[1])
    s.call("err PUT", "PUT", rest)
    s.call("err PUT with body", "PUT", rest, raw="{}")
    s.call("err DELETE session", "DELETE", f"{rest}/{s3}")
    s.call("err deep path", "GET", f"{rest}/{s3}/{h3}/1")
    s.call("err deep path POST", "POST", f"{rest}/{s3}/{h3}/1", body={"janus": "ping",
                                                                      "transaction": "t"})
    s.call("err outside base", "GET", s.a["root"] + "/other")
    s.call("err non-numeric session", "GET", f"{rest}/abc")
    s.call("err poll unknown session", "GET", f"{rest}/990099", timeout=3)
    s.call("err poll handle path", "GET", f"{rest}/{s3}/{h3}", timeout=3)
    s.janus("err cleanup 3", f"/{s3}", "destroy")
    s.janus("err cleanup 4", f"/{s4}", "destroy")


def run_admin(s):
    s.admin("admin info", "", "info", secret=None)
    s.admin("admin ping", "", "ping", secret=None)
    s.admin("admin get_status no secret", "", "get_status", secret=None)
    s.admin("admin get_status wrong secret", "", "get_status", secret="nope")
    s.admin("admin get_status", "", "get_status")
    s.admin("admin unknown verb", "", "fly")
    s5 = s.learn(data_id(s.janus("admin create", "", "create")), "<S5>")
    h5 = s.learn(data_id(s.janus("admin attach", f"/{s5}", "attach", plugin=VIDEOROOM)),
                 "<H5>")
    s.admin("admin list_sessions", "", "list_sessions")
    s.admin("admin list_handles", f"/{s5}", "list_handles")
    s.admin("admin list_handles unknown", "/990099", "list_handles")
    s.admin("admin handle_info", f"/{s5}/{h5}", "handle_info")
    s.admin("admin handle_info plugin_only", f"/{s5}/{h5}", "handle_info", plugin_only=True)
    s.admin("admin handle_info unknown", f"/{s5}/990099", "handle_info")
    s.admin("admin set_session_timeout", "", "set_session_timeout", timeout=120)
    s.admin("admin set_session_timeout bad", "", "set_session_timeout", timeout="x")
    s.admin("admin set_session_timeout back", "", "set_session_timeout", timeout=60)
    s.admin("admin accept_new_sessions false", "", "accept_new_sessions", accept=False)
    s.janus("admin create while draining", "", "create")
    s.admin("admin accept_new_sessions true", "", "accept_new_sessions", accept=True)
    s6 = s.learn(data_id(s.janus("admin create after", "", "create")), "<S6>")
    s.admin("admin message_plugin list", "", "message_plugin", plugin=VIDEOROOM,
            request={"request": "list"})
    s.admin("admin message_plugin unknown", "", "message_plugin", plugin="janus.plugin.nope",
            request={"request": "list"})
    s.admin("admin add_token without token_auth", "", "add_token", token="tok-x")
    s.admin("admin list_tokens without token_auth", "", "list_tokens")
    s.janus("admin cleanup 5", f"/{s5}", "destroy")
    s.janus("admin cleanup 6", f"/{s6}", "destroy")


def run_auth(s):
    """Pair B: api_secret and stored tokens (either one lets a request through)."""
    b = s.b
    s.call("b info", "GET", b["rest"] + "/info")
    s.janus("b ping", "", "ping", pair="b")
    s.janus("b create without secret", "", "create", pair="b")
    s.janus("b create wrong secret", "", "create", pair="b", apisecret="nope")
    sb = s.learn(data_id(s.janus("b create", "", "create", pair="b", apisecret=API_SECRET)),
                 "<SB>")
    s.janus("b keepalive without secret", f"/{sb}", "keepalive", pair="b")
    hb = s.learn(data_id(s.janus("b attach", f"/{sb}", "attach", pair="b",
                                 apisecret=API_SECRET, plugin=VIDEOROOM)), "<HB>")
    s.call("b poll without secret", "GET", f"{b['rest']}/{sb}", timeout=3)
    s.janus("b vr join unknown room ack", f"/{sb}/{hb}", "message", pair="b",
            apisecret=API_SECRET, body={"request": "join", "ptype": "publisher",
                                        "room": 990099})
    s.drain("b poll with ?apisecret", sb, pair="b", handle=hb,
            query=f"&apisecret={API_SECRET}")

    for tok in ("tok-1", "tok-2", "tok-3"):
        s.learn(tok, f"<{tok}>")
    adm = lambda name, verb, **kw: s.admin(name, "", verb, pair="b", **kw)
    adm("b add_token", "add_token", token="tok-1", plugins=[VIDEOROOM])
    adm("b add_token all plugins", "add_token", token="tok-2")
    adm("b add_token again", "add_token", token="tok-1")
    adm("b add_token no token", "add_token")
    adm("b list_tokens", "list_tokens")
    st = s.learn(data_id(s.janus("b create with token", "", "create", pair="b",
                                 token="tok-1")), "<ST>")
    s.janus("b attach with token", f"/{st}", "attach", pair="b", token="tok-1",
            plugin=VIDEOROOM)
    adm("b disallow_token", "disallow_token", token="tok-1", plugins=[VIDEOROOM])
    s.janus("b attach disallowed", f"/{st}", "attach", pair="b", token="tok-1",
            plugin=VIDEOROOM)
    adm("b allow_token", "allow_token", token="tok-1", plugins=[VIDEOROOM])
    adm("b allow_token unknown", "allow_token", token="tok-3", plugins=[VIDEOROOM])
    adm("b allow_token unknown plugin", "allow_token", token="tok-1",
        plugins=["janus.plugin.nope"])
    s.janus("b attach allowed again", f"/{st}", "attach", pair="b", token="tok-1",
            plugin=VIDEOROOM)
    adm("b remove_token", "remove_token", token="tok-1")
    adm("b remove_token again", "remove_token", token="tok-1")
    s.janus("b keepalive removed token", f"/{st}", "keepalive", pair="b", token="tok-1")
    s.janus("b keepalive secret instead", f"/{st}", "keepalive", pair="b",
            apisecret=API_SECRET)
    adm("b list_tokens after", "list_tokens")
    s.janus("b destroy token session", f"/{st}", "destroy", pair="b", apisecret=API_SECRET)
    s.janus("b destroy", f"/{sb}", "destroy", pair="b", apisecret=API_SECRET)


def run_http(s):
    rest = s.a["rest"]
    s.call("http OPTIONS", "OPTIONS", rest, headers={
        "Origin": "http://example.test", "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type"})
    s.call("http OPTIONS session", "OPTIONS", rest + "/1234")
    s.call("http POST with Origin", "POST", rest, body={"janus": "ping", "transaction": "t"},
           headers={"Origin": "http://example.test"})
    s.call("http admin OPTIONS", "OPTIONS", s.a["admin"], headers={
        "Origin": "http://example.test", "Access-Control-Request-Method": "POST"})


# -- shapes and comparison --------------------------------------------------------------------
def shape(value, known, key=None, depth=0):
    if isinstance(value, dict):
        return {k: shape(v, known, k, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        items = [shape(v, known, None, depth + 1) for v in value]
        if depth > 0 and key not in ORDERED_KEYS:
            items.sort(key=lambda x: json.dumps(x, sort_keys=True))
        return items
    if isinstance(value, bool):
        return "bool" if key in RACY_BOOLS else f"bool {value}"
    if isinstance(value, (int, str)) and value in known:
        return f"{type(value).__name__} {known[value]}"
    if key in EXACT_KEYS:
        return f"{type(value).__name__} {value!r}"
    if value is None:
        return "null"
    return {int: "int", float: "real", str: "str"}[type(value)]


def diff(ref, ours, path, out):
    if isinstance(ref, dict) and isinstance(ours, dict):
        for k in ref:
            if k not in ours:
                out.append(("missing", f"{path}.{k}", ref[k], None))
            else:
                diff(ref[k], ours[k], f"{path}.{k}", out)
        for k in ours:
            if k not in ref:
                out.append(("extra", f"{path}.{k}", None, ours[k]))
    elif isinstance(ref, list) and isinstance(ours, list):
        if len(ref) != len(ours):
            out.append(("length", path, len(ref), len(ours)))
        for i, (r, o) in enumerate(zip(ref, ours)):
            diff(r, o, f"{path}[{i}]", out)
    elif type(ref) != type(ours) or (isinstance(ref, (dict, list))):
        out.append(("type", path, ref, ours))
    elif ref != ours:
        same_type = isinstance(ref, str) and ref.split(" ")[0] == ours.split(" ")[0]
        out.append(("value" if same_type or not isinstance(ref, str) else "type", path, ref,
                    ours))


def allowed(step, path, kind):
    for prefix, ppath, pkind, _why in ALLOWED:
        if step.startswith(prefix) and path.startswith(ppath) and pkind in (kind, "any"):
            return True
    return False


def header_shape(value, known):
    """A header value with learnt ids replaced by their symbols (the 302 Location)."""
    return re.sub(r"\d+", lambda m: str(known.get(int(m.group()), m.group())), value)


def record_shape(rec, known):
    return {"status": rec["status"], "body": shape(rec["body"], known),
            "headers": {k: header_shape(v, known) for k, v in rec["headers"].items()}}


def compare(ref, ours):
    problems = 0
    if [n for n, _ in ref.records] != [n for n, _ in ours.records]:
        print("step lists differ (the sequence diverged)")
        return 1
    for (name, r), (_, o) in zip(ref.records, ours.records):
        if name in JANUS_DROPS and r["status"] == "closed without reply":
            print(f"--- note {name}: Janus dropped the connection; ours: {json.dumps(o)[:300]}")
            continue
        out = []
        diff(record_shape(r, ref.known), record_shape(o, ours.known), "", out)
        bad = [d for d in out if not allowed(name, d[1].lstrip("."), d[0])]
        if bad:
            problems += 1
            print(f"--- DIFF {name}")
            for kind, path, a, b in bad:
                print(f"    {kind:8} {path.lstrip('.')}: janus={json.dumps(a)} "
                      f"ours={json.dumps(b)}")
            print(f"    janus reply: {json.dumps(r)[:1500]}")
            print(f"    ours  reply: {json.dumps(o)[:1500]}")
    return problems


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    if mode == "reference" and len(sys.argv) == 4:
        ref = Server(sys.argv[2], sys.argv[3])
        run_sequence(ref)
        for name, rec in ref.records:
            print(f"{name}: {json.dumps(rec)}")
        return 0
    if mode == "compare" and len(sys.argv) == 6:
        ref = Server(sys.argv[2], sys.argv[3])
        ours = Server(sys.argv[4], sys.argv[5])
        run_sequence(ref)
        run_sequence(ours)
        problems = compare(ref, ours)
        total = len(ref.records)
        print(f"janus_compat: {total - problems} passed, {problems} failed")
        return 1 if problems else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main())
