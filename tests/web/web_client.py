#!/usr/bin/python3
"""The HTTP side of tests/web/test_web.c: real requests over loopback against the catalog
server the C test started. argv[1] is the fixture (JSON: port, token, ids, expected file
bytes); argv[2] is where the number of requests that must have been audited is written."""
import http.client
import json
import sys
import threading
import urllib.error
import urllib.request

fx = json.load(open(sys.argv[1]))
PORT, TOKEN = fx["port"], fx["token"]
REC, OUT = fx["recordings"], fx["output"]
audited = 0


def req(method, path, token=TOKEN, headers=None, body=None, scheme="Bearer"):
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "%s %s" % (scheme, token)
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=20)
    c.request(method, path, body=body, headers=h)
    r = c.getresponse()
    data = r.read()
    hdrs = {k.lower(): v for k, v in r.getheaders()}
    c.close()
    return r.status, hdrs, data


def get_json(path, status=200, **kw):
    st, h, data = req("GET", path, **kw)
    assert st == status, (path, st, data)
    assert h["content-type"] == "application/json", (path, h)
    j = json.loads(data)
    if status >= 400:
        assert isinstance(j.get("error"), str) and j["error"], (path, j)
    return j


def check(cond, *what):
    if not cond:
        raise AssertionError(what)


def test_auth():
    for tok, scheme in ((None, "Bearer"), ("wrong", "Bearer"), (TOKEN + "x", "Bearer"),
                        (TOKEN[:-1], "Bearer"), (TOKEN, "Basic"), ("", "Bearer")):
        st, h, data = req("GET", "/api/rooms", token=tok, scheme=scheme)
        check(st == 401, tok, st)
        check("error" in json.loads(data))
        check(h.get("www-authenticate", "").startswith("Bearer"), h)
    get_json("/api/rooms", scheme="bearer")  # the scheme is case-insensitive
    # Every /api/ path, known or not, is refused before routing.
    for path in ("/api/nothing", "/api/recordings/%d/file" % REC["r1"], "/api"):
        st, _, _ = req("GET", path, token=None)
        check(st == 401, path, st)
    # ?token= works for downloads only.
    st, _, _ = req("GET", "/api/rooms?token=" + TOKEN, token=None)
    check(st == 401, st)
    st, _, _ = req("GET", "/api/recordings/%d/file?token=wrong" % REC["r1"], token=None)
    check(st == 401, st)
    # The page itself loads without a token.
    st, h, data = req("GET", "/", token=None)
    check(st == 200 and h["content-type"].startswith("text/html"), st, h)
    check(b"<title>Verbatim catalog</title>" in data and b"localStorage" in data)
    st, _, _ = req("GET", "/nope", token=None)
    check(st == 404, st)


def test_rooms():
    j = get_json("/api/rooms")
    check(isinstance(j["rooms"], list) and j["total"] == 2, j)
    check(sorted(r["room"] for r in j["rooms"]) == ["1234", "5678"], j)
    r = get_json("/api/rooms/1234")
    check(r["room"] == "1234" and r["description"] == "Standup", r)
    get_json("/api/rooms/nope", 404)
    p = get_json("/api/rooms/1234/participants")
    check(sorted(x["display"] for x in p["participants"]) == ["Alice", "Bob"], p)
    get_json("/api/rooms/nope/participants", 404)
    j = get_json("/api/rooms?limit=1&offset=1")
    check(len(j["rooms"]) == 1 and j["total"] == 2, j)
    get_json("/api/rooms?limit=abc", 400)


def ids(j):
    return sorted(r["id"] for r in j["recordings"])


def test_recordings():
    j = get_json("/api/recordings")
    check(j["total"] == len(REC) and len(j["recordings"]) == len(REC), j)
    by = {r["id"]: r for r in j["recordings"]}
    r1 = by[REC["r1"]]
    for key in ("id", "room", "participant", "display", "kind", "codec", "path", "state",
                "size", "sha256"):
        check(key in r1, key, r1)
    check(r1["sha256"] == fx["r1_sha256"] and r1["size"] == len(fx["r1_bytes"]) // 2, r1)
    check("missing" not in r1 and "missing" not in by[REC["r2"]], r1)
    check(by[REC["r3"]].get("missing") is True, by[REC["r3"]])
    check(by[REC["r4"]].get("missing") is True, by[REC["r4"]])
    check(by[REC["r6"]].get("missing") is True, by[REC["r6"]])  # outside: never "present"
    check(ids(get_json("/api/recordings?room=1234")) ==
          sorted([REC["r1"], REC["r2"], REC["r3"], REC["r5"], REC["r6"]]))
    check(ids(get_json("/api/recordings?participant=111")) == sorted([REC["r1"], REC["r2"]]))
    check(ids(get_json("/api/recordings?display=lic")) == sorted([REC["r1"], REC["r2"]]))
    check(ids(get_json("/api/recordings?codec=vp8")) == [REC["r2"]])
    check(ids(get_json("/api/recordings?kind=video&room=1234")) ==
          sorted([REC["r2"], REC["r5"], REC["r6"]]))
    check(ids(get_json("/api/recordings?state=open")) == [REC["r4"]])
    t0 = fx["t0"]
    late = get_json("/api/recordings?from=%d" % (t0 + 500 * 10**6))
    check(ids(late) == [REC["r4"]], late)
    early = get_json("/api/recordings?from=%d&to=%d" % (t0, t0 + 30 * 10**6))
    check(ids(early) == sorted([REC["r1"], REC["r2"]]), early)
    page = get_json("/api/recordings?limit=2&offset=1")
    check(len(page["recordings"]) == 2 and page["total"] == len(REC), page)
    rest = get_json("/api/recordings?limit=1000&offset=%d" % (len(REC) - 1))
    check(len(rest["recordings"]) == 1, rest)
    for bad in ("limit=abc", "limit=0", "limit=1001", "limit=", "offset=-1", "offset=1x",
                "from=-x", "from=-5", "to=abc", "from=20&to=10", "kind=sound",
                "state=bogus", "limit=99999999999999999999999", "room=" + "r" * 300):
        get_json("/api/recordings?" + bad, 400)
    one = get_json("/api/recordings/%d" % REC["r1"])
    check(one["id"] == REC["r1"] and one["path"] == fx["r1_path"], one)
    check(get_json("/api/recordings/%d" % REC["r3"]).get("missing") is True)
    for path in ("/api/recordings/999999", "/api/recordings/abc", "/api/recordings/0",
                 "/api/recordings/-1", "/api/recordings/1x", "/api/nothing",
                 "/api/recordings/%d/nothing" % REC["r1"], "/api/outputs"):
        get_json(path, 404)


def test_methods():
    for method, path, allow in (("PUT", "/api/rooms", "GET, HEAD"),
                                ("DELETE", "/api/jobs/1", "GET, HEAD"),
                                ("GET", "/api/jobs/1/cancel", "POST"),
                                ("POST", "/api/recordings", "GET, HEAD"),
                                ("POST", "/", "GET, HEAD")):
        st, h, data = req(method, path, body=b"" if method in ("PUT", "POST") else None)
        check(st == 405 and h.get("allow") == allow, method, path, st, h)
        check("error" in json.loads(data))


def download(kind, key, expect, **kw):
    global audited
    st, h, data = req("GET", "/api/%s/%d/file" % (kind, key), **kw)
    audited += 1
    return st, h, data


def test_downloads():
    body = bytes.fromhex(fx["r1_bytes"])
    size = len(body)
    etag = '"%s"' % fx["r1_sha256"]
    st, h, data = download("recordings", REC["r1"], body)
    check(st == 200 and data == body, st, len(data))
    check(h["content-type"] == "application/octet-stream", h)
    check(h["etag"] == etag and h["accept-ranges"] == "bytes", h)
    check(h["content-length"] == str(size), h)
    check(h["content-disposition"].startswith("attachment; filename=\"videoroom-1234"), h)
    # ?token= (what <audio src> uses)
    global audited
    st, _, data = req("GET", "/api/recordings/%d/file?token=%s" % (REC["r1"], TOKEN), token=None)
    audited += 1
    check(st == 200 and data == body)
    for rng, first, last in (("bytes=10-99", 10, 99), ("bytes=100-", 100, size - 1),
                             ("bytes=-300", size - 300, size - 1),
                             ("bytes=%d-99999" % (size - 10), size - 10, size - 1),
                             ("bytes=-%d" % (size + 50), 0, size - 1), ("bytes=0-0", 0, 0)):
        st, h, data = download("recordings", REC["r1"], body, headers={"Range": rng})
        check(st == 206, rng, st)
        check(data == body[first:last + 1], rng, len(data))
        check(h["content-range"] == "bytes %d-%d/%d" % (first, last, size), rng, h)
    for rng in ("bytes=%d-" % size, "bytes=abc", "bytes=5-2", "bytes=-0", "bytes=1-2x",
                "bytes=99999999999999999999-"):
        st, h, data = download("recordings", REC["r1"], body, headers={"Range": rng})
        check(st == 416 and h.get("content-range") == "bytes */%d" % size, rng, st, h)
        check("error" in json.loads(data))
    # Several ranges, or another unit: the whole file.
    for rng in ("bytes=0-1,5-6", "items=0-3"):
        st, _, data = download("recordings", REC["r1"], body, headers={"Range": rng})
        check(st == 200 and data == body, rng, st)
    # If-Range with another ETag: the range is ignored.
    st, _, data = download("recordings", REC["r1"], body,
                           headers={"Range": "bytes=0-9", "If-Range": '"other"'})
    check(st == 200 and data == body, st)
    for inm in (etag, 'W/' + etag, '"x", ' + etag, "*"):
        st, h, data = download("recordings", REC["r1"], body, headers={"If-None-Match": inm})
        check(st == 304 and data == b"" and h["etag"] == etag, inm, st)
    st, _, data = download("recordings", REC["r1"], body, headers={"If-None-Match": '"x"'})
    check(st == 200 and data == body)
    st, h, data = req("HEAD", "/api/recordings/%d/file" % REC["r1"])
    audited += 1
    check(st == 200 and data == b"" and h["content-length"] == str(size), st, h)
    # An output: its own content type, inline.
    obody = bytes.fromhex(fx["output_bytes"])
    st, h, data = download("outputs", OUT, obody)
    check(st == 200 and data == obody, st)
    check(h["content-type"] == "video/webm" and h["content-disposition"].startswith("inline"), h)
    check(h["etag"] == '"%s"' % fx["output_sha256"], h)
    st, h, data = download("outputs", OUT, obody, headers={"Range": "bytes=-16"})
    check(st == 206 and data == obody[-16:], st)
    # Missing file, symlink out of the data directory, "../" path: never the file.
    st, _, data = download("recordings", REC["r3"], None)
    check(st == 404 and "error" in json.loads(data), st)
    for key in ("r5", "r6"):
        st, _, data = download("recordings", REC[key], None)
        check(st in (403, 404) and b"root:" not in data, key, st, data[:80])
        check("error" in json.loads(data))
    st, _, data = download("recordings", REC["r5"], None)
    check(st == 403, st)
    # Unknown ids: 404 and not audited.
    for path in ("/api/recordings/999999/file", "/api/outputs/999999/file"):
        st, _, _ = req("GET", path)
        check(st == 404, path, st)


def post_json(path, obj=None, raw=None, status=201, headers=None):
    body = raw if raw is not None else json.dumps(obj).encode()
    st, h, data = req("POST", path, body=body,
                      headers=dict({"Content-Type": "application/json"}, **(headers or {})))
    check(st == status, path, obj, raw and raw[:40], st, data[:200])
    j = json.loads(data)
    if status >= 400:
        check(isinstance(j.get("error"), str), j)
    return j


def test_jobs():
    global audited
    r1, r2 = REC["r1"], REC["r2"]
    j = post_json("/api/jobs", {"recordings": [r1, r2], "format": "webm"})
    audited += 1
    jid = j["id"]
    got = get_json("/api/jobs/%d" % jid)
    check(got["state"] == "queued" and got["format"] == "webm", got)
    check(got["recordings"] == [r1, r2], got)
    c = post_json("/api/jobs/%d/cancel" % jid, raw=b"", status=200)
    audited += 1
    check(c["state"] == "cancelled", c)
    st, _, data = req("POST", "/api/jobs/%d/cancel" % jid, body=b"")
    audited += 1
    check(st in (200, 409), st)  # already cancelled
    many = post_json("/api/jobs", {"recordings": [r1, r2], "format": "opus", "merge": False})
    audited += 2
    check(len(many["ids"]) == 2 and many["id"] == many["ids"][0], many)
    queued = get_json("/api/jobs?state=queued")
    check(sorted(x["id"] for x in queued["jobs"]) == sorted(many["ids"]), queued)
    check(get_json("/api/jobs")["total"] >= 4)
    get_json("/api/jobs?state=bogus", 400)
    get_json("/api/jobs/999999", 404)
    post_json("/api/jobs/999999/cancel", raw=b"", status=404)
    for raw in (b"", b"{", b"[1]", b"nul", b'{"recordings": [1], "format": "webm"} x',
                b'{"recordings": [1], "recordings": [2], "format": "webm"}'):
        post_json("/api/jobs", raw=raw, status=400)
    for obj in ({"recordings": [], "format": "webm"}, {"recordings": ["1"], "format": "webm"},
                {"recordings": [r1, r1], "format": "webm"}, {"recordings": [r1]},
                {"recordings": [r1], "format": "exe"}, {"recordings": [r1], "format": 3},
                {"recordings": [r1], "format": "webm", "merge": "yes"},
                {"recordings": [r1], "format": "webm", "extra": 1},
                {"recordings": [-4], "format": "webm"}, {"recordings": 5, "format": "webm"}):
        post_json("/api/jobs", obj, status=400)
    post_json("/api/jobs", {"recordings": [r1, 999999], "format": "webm"}, status=404)
    # Oversized bodies: declared (Content-Length) and chunked.
    big = b'{"recordings": [' + b"1, " * 40000 + b'1], "format": "webm"}'
    st, _, data = req("POST", "/api/jobs", body=big)
    check(st == 413 and "error" in json.loads(data), st)
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=20)
    c.request("POST", "/api/jobs", body=iter([big[i:i + 8192] for i in range(0, len(big), 8192)]),
              headers={"Authorization": "Bearer " + TOKEN}, encode_chunked=True)
    r = c.getresponse()
    check(r.status == 413 and "error" in json.loads(r.read()), r.status)
    c.close()
    # The job the worker finished: done with its output.
    done = get_json("/api/jobs/%d" % fx["job_done"])
    check(done["state"] == "done" and done["outputs"] == [OUT], done)
    o = get_json("/api/outputs/%d" % OUT)
    check(o["format"] == "webm" and o["sha256"] == fx["output_sha256"] and "missing" not in o, o)
    get_json("/api/outputs/999999", 404)
    # urllib, as a browser script would post.
    rq = urllib.request.Request("http://127.0.0.1:%d/api/jobs" % PORT, method="POST",
                                data=json.dumps({"recordings": [r2], "format": "mp4"}).encode(),
                                headers={"Authorization": "Bearer " + TOKEN,
                                         "Content-Type": "application/json"})
    with urllib.request.urlopen(rq, timeout=20) as resp:
        check(resp.status == 201 and json.loads(resp.read())["id"] > 0)
    audited += 1
    try:
        urllib.request.urlopen("http://127.0.0.1:%d/api/jobs" % PORT, timeout=20)
        check(False, "no 401")
    except urllib.error.HTTPError as e:
        check(e.code == 401, e.code)


def test_concurrency():
    paths = ["/api/rooms", "/api/recordings?room=1234", "/api/recordings/%d" % REC["r1"],
             "/api/rooms/1234/participants", "/api/jobs?limit=5"]
    errors = []
    start = threading.Barrier(200)

    def client(n):
        try:
            start.wait()
            for i in range(10):
                rq = urllib.request.Request("http://127.0.0.1:%d%s" % (PORT, paths[(n + i) % 5]),
                                            headers={"Authorization": "Bearer " + TOKEN})
                with urllib.request.urlopen(rq, timeout=60) as resp:
                    if resp.status != 200:
                        errors.append((n, i, resp.status))
                    json.loads(resp.read())
        except Exception as e:  # noqa: BLE001 - every failure is reported
            errors.append((n, repr(e)))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(200)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    check(not errors, errors[:5], len(errors))


for name in sys.argv[3:] or ["auth", "rooms", "recordings", "methods", "downloads", "jobs",
                             "concurrency"]:
    print("web_client:", name, flush=True)
    globals()["test_" + name]()
with open(sys.argv[2], "w") as f:
    f.write("%d\n" % audited)
print("web_client: ok, %d audited requests" % audited)
