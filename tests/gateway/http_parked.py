"""Parked long polls over real HTTP on loopback: thousands of idle polls without threads.

usage: http_parked.py PATH_TO_tool_gw_http
Starts the tool (hold 5 s; a second one with a 1 s session timeout) and checks that 1,500 concurrent long polls
hold no threads, that each is answered at once when its session gets an event and with a
keepalive when its hold ends, that pollers sharing a session get each event once, that a poll
is answered when its session is destroyed or times out, and that the server stops cleanly with
polls parked.
"""
import json
import resource
import selectors
import socket
import subprocess
import sys
import time

HOLD_S = 5.0
POLLS = 1500


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def http(port, method, path, obj=None, timeout=10):
    """One request on its own connection; returns (status, parsed body or None)."""
    body = json.dumps(obj).encode() if obj is not None else b""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.sendall(f"{method} {path} HTTP/1.1\r\nHost: x\r\nContent-Length: {len(body)}\r\n"
              "Connection: close\r\n\r\n".encode() + body)
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    s.close()
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split()[1])
    return status, (json.loads(rest) if rest else None)


def post(port, path, obj):
    status, reply = http(port, "POST", path, obj)
    check(status == 200, (path, status))
    return reply


class Poller:
    """A long poll sent on a non-blocking socket, read when the server answers."""

    def __init__(self, port, sid, maxev=1):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.sendall(f"GET /janus/{sid}?maxev={maxev}&rid=1 HTTP/1.1\r\nHost: x\r\n"
                          "Connection: close\r\n\r\n".encode())
        self.sock.setblocking(False)
        self.sid, self.data, self.done_at, self.reply = sid, b"", None, None

    def feed(self):
        try:
            chunk = self.sock.recv(65536)
        except BlockingIOError:
            return
        if chunk:
            self.data += chunk
            return
        self.done_at = time.monotonic()
        self.sock.close()
        head, _, rest = self.data.partition(b"\r\n\r\n")
        check(int(head.split()[1]) == 200, head)
        self.reply = json.loads(rest)


def wait_polls(polls, until):
    sel = selectors.DefaultSelector()
    for p in polls:
        if p.done_at is None:
            sel.register(p.sock, selectors.EVENT_READ, p)
    while time.monotonic() < until and sel.get_map():
        for key, _ in sel.select(timeout=0.05):
            key.data.feed()
            if key.data.done_at is not None:
                sel.unregister(key.fileobj)
    sel.close()


def threads_of(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    raise AssertionError("no Threads line")


def session(port):
    sid = post(port, "/janus", {"janus": "create", "transaction": "c"})["data"]["id"]
    hid = post(port, f"/janus/{sid}", {"janus": "attach", "transaction": "a",
                                        "plugin": "janus.plugin.echotest"})["data"]["id"]
    return sid, hid


def many_idle_polls(port, pid):
    base_threads = threads_of(pid)
    pairs = [session(port) for _ in range(POLLS)]
    t0 = time.monotonic()
    polls = [Poller(port, sid) for sid, _ in pairs]
    time.sleep(0.5)
    wait_polls(polls, time.monotonic() + 0.2)
    check(all(p.done_at is None for p in polls), "idle polls answered early")
    check(threads_of(pid) <= base_threads + 1, (base_threads, threads_of(pid)))
    # Half the sessions get an event: those polls are answered with it (a poll the timer ended
    # would carry a keepalive), before their hold ends.
    for sid, hid in pairs[::2]:
        reply = post(port, f"/janus/{sid}/{hid}", {"janus": "message", "transaction": f"m{sid}",
                                                    "body": {"async": True}})
        check(reply["janus"] == "ack", reply)
    woken = polls[::2]
    wait_polls(woken, t0 + HOLD_S)
    for p in woken:
        check(p.done_at is not None, "woken poll not answered before its hold ended")
        check(p.reply["janus"] == "event" and p.reply["transaction"] == f"m{p.sid}", p.reply)
    # The others get a keepalive when their hold ends.
    rest = polls[1::2]
    wait_polls(rest, t0 + HOLD_S + 3.0)
    for p in rest:
        check(p.reply == {"janus": "keepalive"}, p.reply)
        check(p.done_at - t0 >= HOLD_S - 0.1, p.done_at - t0)
    for sid, _ in pairs:
        post(port, f"/janus/{sid}", {"janus": "destroy", "transaction": "d"})
    print(f"{POLLS} parked polls: threads {base_threads} -> at most {base_threads + 1}")


def shared_session(port):
    sid, hid = session(port)
    polls = [Poller(port, sid) for _ in range(3)]
    time.sleep(0.3)
    post(port, f"/janus/{sid}/{hid}", {"janus": "message", "transaction": "one",
                                        "body": {"async": True}})
    wait_polls(polls, time.monotonic() + 1.0)
    got = [p for p in polls if p.done_at is not None]
    check(len(got) == 1 and got[0].reply["transaction"] == "one", [p.reply for p in got])
    # The other two are still parked; a destroy answers them promptly.
    t = time.monotonic()
    post(port, f"/janus/{sid}", {"janus": "destroy", "transaction": "d"})
    wait_polls(polls, time.monotonic() + 1.0)
    for p in polls:
        check(p.done_at is not None, "poll not answered after destroy")
    check(max(p.done_at for p in polls) - t < 1.0, "destroy answered late")


def batch(port):
    # maxev=5 parked, then three events: the poll wakes on the first and returns what is queued.
    sid, hid = session(port)
    p = Poller(port, sid, maxev=5)
    time.sleep(0.2)
    post(port, f"/janus/{sid}/{hid}", {"janus": "message", "transaction": "b1",
                                        "body": {"async": True}})
    wait_polls([p], time.monotonic() + 1.0)
    check(isinstance(p.reply, list) and p.reply[0]["transaction"] == "b1", p.reply)


def parked_timeout(tool_path):
    """A session timing out while its poll is parked: the poll gets the timeout event."""
    tool = subprocess.Popen([tool_path, "3000", "1"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        port = int(tool.stdout.readline())
        sid, _ = session(port)
        p = Poller(port, sid)
        t = time.monotonic()
        wait_polls([p], t + 2.9)
        check(p.done_at is not None and p.reply["janus"] == "timeout", p.reply)
        check(p.reply["session_id"] == sid, p.reply)
        status, _ = http(port, "GET", f"/janus/{sid}?maxev=1")
        check(status == 404, status)
    finally:
        tool.stdin.close()
        check(tool.wait(timeout=10) == 0, "tool exit status")


def main():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 8192)
    check(want >= 2 * POLLS + 100, f"RLIMIT_NOFILE hard limit {hard} too small")
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    tool = subprocess.Popen([sys.argv[1], str(int(HOLD_S * 1000)), "600"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE)
    try:
        port = int(tool.stdout.readline())
        many_idle_polls(port, tool.pid)
        shared_session(port)
        batch(port)
        # Stop with polls parked: they are answered and the server exits cleanly.
        sid, _ = session(port)
        parked = [Poller(port, sid) for _ in range(20)]
        time.sleep(0.3)
        t = time.monotonic()
        tool.stdin.close()
        check(tool.wait(timeout=10) == 0, "tool exit status")
        check(time.monotonic() - t < 2.0, "stop took too long")
        wait_polls(parked, time.monotonic() + 1.0)
        check(all(p.done_at is not None for p in parked), "parked polls left hanging at stop")
    finally:
        if tool.poll() is None:
            tool.kill()
    parked_timeout(sys.argv[1])
    print("parked poll tests passed")


if __name__ == "__main__":
    main()
