"""Our SDP against headless Firefox (firefox-esr), run by sdp_firefox.sh. Firefox loads one page
from a small HTTP server of ours on 127.0.0.1 and the page talks to it with fetch(); the SDP
work on our side is done by tool_sdp. No WebDriver: the page itself drives both rounds.

1. Firefox's offer (fake getUserMedia audio + video, a data channel) is POSTed to /offer; it
   must parse with audio (opus), video (VP8, and H264 if the text offers it) and application
   m-lines; we answer it (tool_sdp answer ... data) and Firefox must accept that answer
   (setRemoteDescription) with sendrecv on both transceivers and an SCTP transport.
2. Our subscriber offer (tool_sdp offer) is fetched from /our-offer; Firefox must accept it and
   answer, and we must parse that answer (recvonly audio/opus + video/VP8, data channel).

--save-offer PATH writes Firefox's offer (round 1) to PATH: that is how
sdp_samples/firefox-offer.sdp was made (see sdp_samples/README.md)."""
import argparse
import http.server
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

TOOL = os.path.join(os.environ["VB_TEST_TOOLS"], "tool_sdp")
DEADLINE = 45  # seconds for the whole Firefox run (the shell wrapper allows 60 in total)

PAGE = r"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>sdp</title></head><body>
<script>
const post = (path, body) => fetch(path, {method: 'POST', body: body});
const gathered = pc => new Promise(done => {
  if (pc.iceGatheringState === 'complete') return done();
  pc.addEventListener('icegatheringstatechange', () => {
    if (pc.iceGatheringState === 'complete') done();
  });
  setTimeout(done, 5000);
});
const state = pc => ({
  dirs: pc.getTransceivers().map(t => t.currentDirection),
  kinds: pc.getTransceivers().map(t => t.receiver.track.kind),
  sctp: pc.sctp !== null,
  codecs: pc.getTransceivers().map(
    t => (t.sender.getParameters().codecs || []).map(c => c.mimeType.toLowerCase())),
});
async function ours_answer() {
  const out = {};
  try {
    const pc = new RTCPeerConnection({iceServers: []});
    const stream = await navigator.mediaDevices.getUserMedia({audio: true, video: true});
    for (const track of stream.getTracks()) pc.addTrack(track, stream);
    pc.createDataChannel('chat');
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc);
    const reply = await post('/offer', pc.localDescription.sdp);
    const answer = await reply.text();
    if (!reply.ok) throw new Error('server: ' + answer);
    await pc.setRemoteDescription({type: 'answer', sdp: answer});
    Object.assign(out, state(pc));
  } catch (e) {
    out.error = String(e);
  }
  await post('/result1', JSON.stringify(out));
}
async function ours_offer() {
  const out = {};
  try {
    const reply = await fetch('/our-offer');
    const offer = await reply.text();
    if (!reply.ok) throw new Error('server: ' + offer);
    const pc = new RTCPeerConnection({iceServers: []});
    await pc.setRemoteDescription({type: 'offer', sdp: offer});
    await pc.setLocalDescription(await pc.createAnswer());
    Object.assign(out, state(pc));
    out.sdp = pc.localDescription.sdp;
  } catch (e) {
    out.error = String(e);
  }
  await post('/result2', JSON.stringify(out));
}
ours_answer().then(ours_offer);
</script></body></html>
"""

# Fake media, no prompts, and nothing that would reach out: no updates, telemetry, captive
# portal or connectivity probes, safe browsing, remote settings, push, OpenH264 download.
PREFS = {
    "media.navigator.streams.fake": True,
    "media.navigator.permission.disabled": True,
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "browser.aboutwelcome.enabled": False,
    "browser.sessionstore.resume_from_crash": False,
    "toolkit.startup.max_resumed_crashes": -1,
    "app.update.enabled": False,
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.archive.enabled": False,
    "browser.ping-centre.telemetry": False,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.http.speculative-parallel-limit": 0,
    "network.proxy.type": 0,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.update.enabled": False,
    "services.settings.server": "http://127.0.0.1:9/",
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "browser.search.update": False,
    "browser.newtabpage.enabled": False,
    "browser.topsites.contile.enabled": False,
    "dom.push.connection.enabled": False,
    "media.gmp-manager.updateEnabled": False,
    "media.gmp-gmpopenh264.autoupdate": False,
    "geo.enabled": False,
    "network.trr.mode": 5,
    "network.predictor.enabled": False,
    "captivedetect.canonicalURL": "",
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "browser.discovery.enabled": False,
    "extensions.blocklist.enabled": False,
    "security.OCSP.enabled": 0,
    "security.remote_settings.crlite_filters.enabled": False,
    "security.remote_settings.intermediates.enabled": False,
}


def tool(*args, stdin=None):
    r = subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, timeout=20)
    return r.returncode, r.stdout, r.stderr


def check(cond, what, detail):
    if not cond:
        sys.exit(f"FAIL {what}: {detail}")


class Exchange:
    """What the page sent and what we replied, filled in by the HTTP handler threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.done = threading.Event()
        self.offer = self.answer = self.our_offer = None
        self.result1 = self.result2 = None


def make_handler(ex):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def reply(self, code, body, ctype="text/plain"):
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/":
                return self.reply(200, PAGE, "text/html; charset=utf-8")
            if self.path == "/our-offer":
                rc, out, err = tool("offer")
                with ex.lock:
                    ex.our_offer = out if rc == 0 else None
                return self.reply(200 if rc == 0 else 500, out if rc == 0 else err)
            return self.reply(404, "not found")

        def do_POST(self):
            n = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(n).decode("utf-8", "replace") if 0 < n <= 1 << 20 else ""
            if self.path == "/offer":
                rc, out, err = tool("answer", "-", "data", stdin=body)
                with ex.lock:
                    ex.offer, ex.answer = body, (out if rc == 0 else None)
                return self.reply(200 if rc == 0 else 500, out if rc == 0 else err)
            if self.path in ("/result1", "/result2"):
                try:
                    res = json.loads(body)
                except ValueError:
                    res = {"error": "bad JSON from the page: " + body[:200]}
                with ex.lock:
                    setattr(ex, self.path[1:], res)
                self.reply(200, "ok")
                if self.path == "/result2":
                    ex.done.set()
                return None
            return self.reply(404, "not found")

    return Handler


def write_profile(profile):
    with open(os.path.join(profile, "user.js"), "w") as f:
        for key, value in PREFS.items():
            f.write(f"user_pref({json.dumps(key)}, {json.dumps(value)});\n")


def run_firefox(work, url, ex):
    profile = os.path.join(work, "profile")
    os.mkdir(profile)
    write_profile(profile)
    env = dict(os.environ, HOME=work, XDG_CACHE_HOME=os.path.join(work, "cache"),
               XDG_CONFIG_HOME=os.path.join(work, "config"), MOZ_HEADLESS="1",
               MOZ_CRASHREPORTER_DISABLE="1", MOZ_DISABLE_AUTO_SAFE_MODE="1",
               MOZ_REMOTE_SETTINGS_DEVTOOLS="1")
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    log = open(os.path.join(work, "firefox.log"), "w")
    proc = subprocess.Popen(["firefox-esr", "--headless", "--no-remote", "--profile", profile, url],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                            start_new_session=True)
    try:
        finished = ex.done.wait(DEADLINE)
        if not finished:
            log.flush()
            with open(log.name) as f:
                tail = f.read()[-1500:]
            state = "exited" if exited(proc) else "still running"
            sys.exit(f"FAIL no result from Firefox within {DEADLINE} s (Firefox {state}); "
                     f"its output:\n{tail}")
    finally:
        stop(proc)
        log.close()


def exited(proc):
    """True once Firefox itself has exited; it is not reaped, so its process group id cannot be
    reused while stop() signals the group."""
    return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None


def stop(proc):
    """Ends Firefox and every process it started (they share its process group): SIGTERM, up to
    5 s to exit, then SIGKILL for whatever is left of the group."""
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        for _ in range(50):
            if exited(proc):
                break
            time.sleep(0.1)
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    proc.wait()


def parse(sdp, what):
    rc, out, err = tool("parse", "-", stdin=sdp)
    check(rc == 0, f"we parse {what}", err + sdp)
    return out.splitlines()


def check_round1(ex):
    offer = ex.offer
    check(offer is not None, "Firefox sent its offer", ex.result1)
    check(ex.answer is not None, "we answered Firefox's offer", offer)
    lines = parse(offer, "Firefox's offer")
    check(re.match(r"session \d+ bundle=0,1,2$", lines[0]), "offer bundle", lines)
    check(len(lines) == 4, "three m-lines", lines)
    audio = re.match(r"m 0 audio 9 mid=0 dir=sendrecv setup=actpass cands=\d+ codecs=(\S+)$",
                     lines[1])
    check(audio, "offer audio m-line", lines)
    acodecs = [c.split("/")[0] for c in audio.group(1).split(",")]
    check(acodecs[0] == "opus", "opus first", acodecs)
    video = re.match(r"m 1 video 9 mid=1 dir=sendrecv setup=actpass cands=\d+ codecs=(\S+)$",
                     lines[2])
    check(video, "offer video m-line", lines)
    vcodecs = [c.split("/")[0] for c in video.group(1).split(",")]
    check("VP8" in vcodecs and "rtx" in vcodecs, "VP8 and rtx offered", vcodecs)
    if re.search(r"^a=rtpmap:\d+ H264/90000", offer, re.M):
        check("H264" in vcodecs, "H264 parsed", vcodecs)
    check(re.match(r"m 2 application 9 mid=2 dir=sendrecv setup=actpass cands=\d+ codecs=$",
                   lines[3]), "offer application m-line", lines)
    if os.environ.get("VB_SDPFF_CANDIDATES"):
        check(all(int(c) > 0 for c in re.findall(r" cands=(\d+) ", "\n".join(lines[1:]))),
              "candidates on every m-line", lines)
    print(f"ok: Firefox's offer parsed (audio {','.join(acodecs)}; video {','.join(vcodecs)})")

    res = ex.result1
    check(res is not None and "error" not in res, "Firefox accepted our answer", res)
    check(res["kinds"] == ["audio", "video"], "transceivers", res)
    check(res["dirs"] == ["sendrecv", "sendrecv"], "negotiated directions", res)
    check(res["sctp"], "data channel negotiated", res)
    check(res["codecs"] == [["audio/opus"], ["video/vp8", "video/rtx"]], "negotiated codecs", res)
    ans = parse(ex.answer, "our answer")
    check(re.search(r"codecs=opus/\d+$", ans[1]) and re.search(r"codecs=VP8/\d+,rtx/\d+$", ans[2]),
          "our answer's codecs", ans)
    print("ok: Firefox accepted our answer (sendrecv audio opus + video VP8, data channel)")


def check_round2(ex):
    res = ex.result2
    check(ex.our_offer is not None, "our offer was served", res)
    check(res is not None and "error" not in res, "Firefox accepted our offer", res)
    check(res["dirs"] == ["recvonly", "recvonly"] and res["sctp"], "Firefox's answer state", res)
    check(res["codecs"] == [["audio/opus"], ["video/vp8", "video/rtx"]], "answered codecs", res)
    lines = parse(res["sdp"], "Firefox's answer")
    check(lines[0].endswith("bundle=a1,v1,d1"), "answer bundle", lines)
    check(re.match(r"m 0 audio 9 mid=a1 dir=recvonly setup=(active|passive) cands=\d+ "
                   r"codecs=opus/111$", lines[1]), "answer audio", lines)
    check(re.match(r"m 1 video 9 mid=v1 dir=recvonly setup=(active|passive) cands=\d+ "
                   r"codecs=VP8/96,rtx/97$", lines[2]), "answer video", lines)
    check(re.match(r"m 2 application 9 mid=d1 ", lines[3]), "answer application", lines)
    print("ok: Firefox answered our offer and we parsed its answer")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--save-offer", help="write Firefox's offer to this file")
    args = ap.parse_args()
    # timeout(1) or a ^C must still run the finally blocks that end Firefox
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: sys.exit(f"stopped by signal {s}"))
    work = tempfile.mkdtemp(prefix="vb-sdpff-")
    ex = Exchange()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), make_handler(ex))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        run_firefox(work, f"http://127.0.0.1:{server.server_address[1]}/", ex)
        if args.save_offer and ex.offer:
            with open(args.save_offer, "w", newline="") as f:
                f.write(ex.offer)
        check_round1(ex)
        check_round2(ex)
    finally:
        server.shutdown()
        server.server_close()
        shutil.rmtree(work, ignore_errors=True)
    print("all Firefox checks passed")


main()
