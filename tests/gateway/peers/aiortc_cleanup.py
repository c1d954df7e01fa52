"""Lifecycle and leaks of EchoTest sessions with a real aiortc peer, seen from the outside.

usage: /usr/bin/python3 aiortc_cleanup.py --url URL --admin-url URL --admin-secret S --pid PID
                                          [--sequential N] [--parallel N] [--seconds S]
                                          [--session-timeout T]

Run it inside the namespace of netns.sh, against a server started with --session-timeout T (a
few seconds) whose PID is PID (its /proc entry is read: root, same PID namespace). First the
server's idle state is taken as the baseline: open file descriptors (/proc/PID/fd) and threads
(/proc/PID/status). Then, each followed by the same check — the Admin API's list_sessions is
empty and the descriptors and threads are back to the baseline within a few seconds (what
differs is printed by kind: socket, anon_inode:[eventfd], ...):

  sequential  N echoes in a row (aiortc_echo.EchoRun: S seconds of media, then hangup while it
              flows, detach, destroy); each must see {"janus":"hangup","reason":"Janus API"},
              the EchoTest's {"echotest":"event","result":"done"} and `detached`
  parallel    N echoes at once, the same checks
  vanish      a client in a child process gets its media flowing, reports its session and is
              killed (SIGKILL: no hangup, no destroy). Nobody polls: the session must leave
              list_sessions within T + 5 seconds (timed out by the server)
  observed    the same, but the client ends its long poll before it dies, and long polls go on
              after the kill from here, as from a signalling side that outlives the media: they
              must get {"janus":"timeout"} (what else they get, e.g. a hangup and its reason,
              is recorded). (With the dead client's poll still parked, as in `vanish`, two
              waiters race for the final event: either may take it.)

Prints a JSON summary and exits 1 when a check fails. Safety as in aiortc_echo.py (imported).
"""
import argparse
import asyncio
import collections
import gc
import json
import os
import re
import signal
import sys
import time

import requests

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import aiortc_echo  # noqa: E402  (also confines aioice to the namespace address)

class EchoArgs(argparse.Namespace):
    """Options for aiortc_echo.EchoRun: one it reads and this script does not set (added there
    later) is off."""

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return None


CLEAN_TIMEOUT_S = 8.0


class Server:
    """The server under test: its Admin API (a new connection per request, closed after it, so
    that the test's own connections never count as the server's) and its /proc entry."""

    def __init__(self, args):
        self.admin_url = args.admin_url.rstrip("/")
        self.secret = args.admin_secret
        self.pid = args.pid

    def admin(self, body, path=""):
        body = dict(body, admin_secret=self.secret, transaction=aiortc_echo.new_transaction())
        r = requests.post(self.admin_url + path, data=json.dumps(body), timeout=5,
                          headers={"Connection": "close"})
        reply = r.json()
        if reply.get("janus") != "success":
            raise RuntimeError("admin %s: %s" % (body["janus"], json.dumps(reply)[:300]))
        return reply

    def sessions(self):
        s = self.admin({"janus": "list_sessions"}).get("sessions")
        if not isinstance(s, list):
            raise RuntimeError("list_sessions without a sessions list")
        return s

    def fd_kinds(self):
        """Counter of what the open descriptors are (socket, pipe, anon_inode:[eventfd], path)."""
        kinds = collections.Counter()
        d = "/proc/%d/fd" % self.pid
        for fd in os.listdir(d):
            try:
                target = os.readlink(os.path.join(d, fd))
            except OSError:  # closed meanwhile
                continue
            kinds[re.sub(r":\[\d+\]$", "", target)] += 1
        return kinds

    def threads(self):
        with open("/proc/%d/status" % self.pid) as f:
            for line in f:
                if line.startswith("Threads:"):
                    return int(line.split()[1])
        raise RuntimeError("no Threads line in /proc/%d/status" % self.pid)

    def snapshot(self):
        kinds = self.fd_kinds()
        return {"fds": sum(kinds.values()), "threads": self.threads(), "kinds": kinds}

    def baseline(self):
        """The idle state: two equal readings in a row."""
        prev = None
        for _ in range(50):
            snap = self.snapshot()
            if prev and (snap["fds"], snap["threads"]) == (prev["fds"], prev["threads"]):
                return snap
            prev = snap
            time.sleep(0.2)
        raise RuntimeError("the server's descriptors and threads never settled")

    def wait_clean(self, base):
        """Waits until no session is left and the counts are the baseline's; a check record."""
        t0 = time.monotonic()
        while True:
            sessions = self.sessions()
            snap = self.snapshot()
            clean = (not sessions and snap["fds"] == base["fds"] and
                     snap["threads"] == base["threads"])
            waited = time.monotonic() - t0
            if clean or waited > CLEAN_TIMEOUT_S:
                break
            time.sleep(0.1)
        rec = {"clean": clean, "after_ms": round(waited * 1000), "sessions": sessions,
               "fds": snap["fds"], "threads": snap["threads"]}
        if not clean:
            diff = {k: snap["kinds"][k] - base["kinds"][k]
                    for k in set(snap["kinds"]) | set(base["kinds"])
                    if snap["kinds"][k] != base["kinds"][k]}
            rec["fd_diff"] = diff
            rec["error"] = ("not back to the baseline %d s after: sessions %s, fds %d (baseline "
                            "%d, by kind %s), threads %d (baseline %d)" % (
                                CLEAN_TIMEOUT_S, sessions, snap["fds"], base["fds"], diff,
                                snap["threads"], base["threads"]))
        return rec


class CleanRun(aiortc_echo.EchoRun):
    """One echo whose end is checked: hangup mid-media, the plugin's done, the detach."""

    async def teardown(self):
        await super().teardown()
        self.janus.http.close()  # its keep-alive connection is not the server's leak

    def check(self):
        super().check()
        hangups = [e for e in self.events if e["janus"] == "hangup"]
        if not any(e.get("reason") == "Janus API" for e in hangups):
            self.errors.append("no hangup event with reason \"Janus API\" after the hangup "
                               "request (hangups seen: %s)" % hangups)
        done = [e for e in self.events if e["janus"] == "event" and isinstance(e.get("data"), dict)
                and e["data"].get("echotest") == "event" and e["data"].get("result") == "done"]
        if not done:
            self.errors.append("no {\"echotest\":\"event\",\"result\":\"done\"} event after the "
                               "hangup")
        if "detached" not in self.first:
            self.errors.append("no detached event")

    def brief(self):
        return {"ok": not self.errors, "session": self.janus.sid, "handle": self.hid,
                "webrtcup_ms": self.timings.get("webrtcup"), "frames": self.window,
                "end_events": [e for e in self.events if e["janus"] in ("hangup", "detached") or
                               (e.get("data") or {}).get("result") == "done"],
                "errors": self.errors}


class CloseRun(CleanRun):
    """One echo that ends from the peer's side: it closes its PeerConnection (a DTLS
    close_notify) instead of asking for a hangup; the server must hang up with "DTLS alert",
    tell the plugin (its "done" event), and clean up like after any other end."""

    async def teardown(self):
        if self.pc:
            await self.pc.close()
            if not await self.wait_flag("hangup", 5):
                self.errors.append("no hangup event after the peer closed its PeerConnection")
        await super().teardown()

    def check(self):
        aiortc_echo.EchoRun.check(self)
        hangups = [e for e in self.events if e["janus"] == "hangup"]
        if not any(e.get("reason") == "DTLS alert" for e in hangups):
            self.errors.append("no hangup with reason \"DTLS alert\" after the peer's close "
                               "(hangups seen: %s)" % hangups)
        if not any((e.get("data") or {}).get("result") == "done" for e in self.events
                   if e["janus"] == "event" and isinstance(e.get("data"), dict)):
            self.errors.append("the plugin was not told (no \"done\" event)")


async def one_echo(args, cls=None):
    echo = (cls or CleanRun)(args)
    try:
        await asyncio.wait_for(echo.flow(), args.seconds + 30)
    except Exception as e:  # every failure ends up in the summary, teardown still runs
        echo.errors.append("%s: %s" % (type(e).__name__, e))
    await echo.teardown()
    echo.check()
    return echo.brief()


async def phase_echoes(server, base, args, n, parallel):
    if parallel:
        echoes = await asyncio.gather(*(one_echo(args) for _ in range(n)))
        gc.collect()  # the long-poll threads' sessions, closed with their last reference
        return [{"echoes": echoes, "cleanup": await asyncio.to_thread(server.wait_clean, base)}]
    out = []
    for _ in range(n):
        echo = await one_echo(args)
        gc.collect()
        out.append({"echoes": [echo],
                    "cleanup": await asyncio.to_thread(server.wait_clean, base)})
    return out


def observe_polls(url, sid, timeout):
    """Long polls on a session (new connections), one after the other as its last poller would,
    until one brings a `timeout` event or an error (the session is gone), or `timeout` seconds
    pass. The events, or an error string when a request itself failed."""
    events, end = [], time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            r = requests.get("%s/%d?maxev=10&rid=%d" % (url.rstrip("/"), sid, time.time() * 1000),
                             timeout=max(end - time.monotonic(), 0.1),
                             headers={"Connection": "close"})
            got = r.json() if r.status_code == 200 else None
        except (requests.RequestException, ValueError) as e:
            return events + ["%s: %s" % (type(e).__name__, e)]
        if got is None:
            return events + ["HTTP %d %r" % (r.status_code, r.text[:100])]
        got = got if isinstance(got, list) else [got]
        events += [e for e in got if not (isinstance(e, dict) and e.get("janus") == "keepalive")]
        if any(isinstance(e, dict) and e.get("janus") in ("timeout", "error") for e in got):
            break
    return events


async def phase_vanish(server, base, args, observed):
    """A client killed mid-media; the session must time out and be cleaned up."""
    rec = {"errors": []}
    child = [sys.executable, os.path.abspath(__file__), "--vanish-client", "--url", args.url,
             "--seconds", "1"]
    proc = await asyncio.create_subprocess_exec(
        *child, *(["--stop-polling"] if observed else []), stdout=asyncio.subprocess.PIPE)
    try:
        line = await asyncio.wait_for(proc.stdout.readline(), 30)
        ids = json.loads(line or b"{}")
        sid = ids.get("session")
        rec.update(ids)
        if not ids.get("ok"):
            rec["errors"].append("the client never got its media flowing: %s" % ids)
            return rec
        if sid not in server.sessions():
            rec["errors"].append("session %s is not in list_sessions while its media flows" % sid)
        proc.send_signal(signal.SIGKILL)
        await proc.wait()
        killed = time.monotonic()
        if observed:
            events = await asyncio.to_thread(observe_polls, args.url, sid,
                                             args.session_timeout + 10)
            rec["poll_after_ms"] = round((time.monotonic() - killed) * 1000)
            rec["observed"] = events
            if not any(isinstance(e, dict) and e.get("janus") == "timeout" and
                       e.get("session_id") == sid for e in events):
                rec["errors"].append("the long polls made after the kill got no timeout event "
                                     "for session %s: %s" % (sid, json.dumps(events)[:600]))
        while sid in server.sessions() and time.monotonic() - killed < args.session_timeout + 10:
            await asyncio.sleep(0.1)
        gone = time.monotonic() - killed
        rec["gone_after_ms"] = round(gone * 1000)
        if gone > args.session_timeout + 5:
            rec["errors"].append("session %s left list_sessions %.1f s after the kill (session "
                                 "timeout %g s)" % (sid, gone, args.session_timeout))
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    rec["cleanup"] = await asyncio.to_thread(server.wait_clean, base)
    return rec


async def vanish_client(args):
    """The child of phase_vanish: media flowing, then its ids on stdout, then it waits to die.
    With --stop-polling its long poll ends first (a message to the plugin brings it an event):
    a poll still parked when the process dies is a second waiter on the session, and either
    could be the one to take the final event."""
    echo = aiortc_echo.EchoRun(args)
    try:
        await asyncio.wait_for(echo.flow(), args.seconds + 30)
        echo.check()
        if args.stop_polling:
            echo.janus.stopping.set()
            await echo.janus.request("/%d/%d" % (echo.janus.sid, echo.hid), {
                "janus": "message", "body": {"audio": True, "video": True}})
            await asyncio.to_thread(echo.janus.thread.join, 10)
            if echo.janus.thread.is_alive():
                echo.errors.append("the long poll did not end")
    except Exception as e:
        echo.errors.append("%s: %s" % (type(e).__name__, e))
    print(json.dumps({"ok": not echo.errors, "session": echo.janus.sid, "handle": echo.hid,
                      "frames": echo.window, "errors": echo.errors}), flush=True)
    await asyncio.sleep(3600)


def phase_errors(name, recs):
    errs = []
    for i, rec in enumerate(recs):
        for e in rec.get("errors", []):
            errs.append("%s #%d: %s" % (name, i + 1, e))
        for echo in rec.get("echoes", []):
            for e in echo["errors"]:
                errs.append("%s #%d, session %s: %s" % (name, i + 1, echo["session"], e))
        if "cleanup" in rec and not rec["cleanup"]["clean"]:
            errs.append("%s #%d: %s" % (name, i + 1, rec["cleanup"]["error"]))
    return errs


async def main_async(args):
    server = Server(args)
    base = await asyncio.to_thread(server.baseline)
    out = {"baseline": {"fds": base["fds"], "threads": base["threads"],
                        "kinds": dict(base["kinds"])}}
    out["sequential"] = await phase_echoes(server, base, args, args.sequential, False)
    out["parallel"] = await phase_echoes(server, base, args, args.parallel, True)
    closed = await one_echo(args, CloseRun)
    gc.collect()
    out["closed"] = [{"echoes": [closed],
                      "cleanup": await asyncio.to_thread(server.wait_clean, base)}]
    out["vanish"] = [await phase_vanish(server, base, args, False)]
    out["observed"] = [await phase_vanish(server, base, args, True)]
    errors = []
    for name in ("sequential", "parallel", "closed", "vanish", "observed"):
        errors += phase_errors(name, out[name])
    out["errors"] = errors
    out["ok"] = not errors
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8188/janus")
    p.add_argument("--admin-url", default="http://127.0.0.1:7188/admin")
    p.add_argument("--admin-secret")
    p.add_argument("--pid", type=int)
    p.add_argument("--sequential", type=int, default=5)
    p.add_argument("--parallel", type=int, default=3)
    p.add_argument("--seconds", type=float, default=1.5)
    p.add_argument("--session-timeout", type=float, default=3.0)
    p.add_argument("--vanish-client", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--stop-polling", action="store_true", help=argparse.SUPPRESS)
    args = EchoArgs(**vars(p.parse_args()))
    args.video, args.trickle = "vp8", False
    args.min_audio_fps, args.min_video_fps = 20.0, 10.0
    if args.vanish_client:
        asyncio.run(vanish_client(args))
        return 0
    if not args.admin_secret or not args.pid:
        p.error("--admin-secret and --pid are required")
    out = asyncio.run(main_async(args))
    print(json.dumps(out, indent=1))
    return 0 if out["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
