"""Our SDP against headless Chromium (run by sdp_chromium.sh inside a network namespace of its
own, so nothing can leave the machine). Each check loads a page with --dump-dom and reads a JSON
result from it; the SDP work is done by tool_sdp.

- Chromium's offer (audio + video + data channel) answered by us, data rejected or accepted:
  the page makes the same offer again (checked: the same m-lines), then setRemoteDescription
  with our answer must succeed with the directions and codecs we chose.
- Chromium's simulcast offer (three rids) answered by us: accepted with three encodings.
- Our subscriber offer: Chromium answers it, and we parse that answer."""
import html
import json
import os
import re
import subprocess
import sys
import tempfile

TOOL = os.path.join(os.environ["VB_TEST_TOOLS"], "tool_sdp")

PAGE = r"""<!DOCTYPE html><html><body><pre id="out">pending</pre><script>
const MODE = %(mode)s, REMOTE = %(remote)s;
(async () => {
  const out = {};
  try {
    const pc = new RTCPeerConnection({iceServers: []});
    if (MODE === 'subscribe') {
      await pc.setRemoteDescription({type: 'offer', sdp: REMOTE});
      await pc.setLocalDescription(await pc.createAnswer());
    } else {
      pc.addTransceiver('audio', {direction: 'sendrecv'});
      if (MODE === 'simulcast')
        pc.addTransceiver('video', {direction: 'sendonly', sendEncodings: [
          {rid: 'h'}, {rid: 'm', scaleResolutionDownBy: 2}, {rid: 'l', scaleResolutionDownBy: 4}]});
      else
        pc.addTransceiver('video', {direction: 'sendrecv'});
      if (MODE === 'offer')
        pc.createDataChannel('chat');
      await pc.setLocalDescription(await pc.createOffer());
      out.mlines = pc.localDescription.sdp.split('\r\n').filter(l => l.startsWith('m='));
      if (REMOTE)
        await pc.setRemoteDescription({type: 'answer', sdp: REMOTE});
    }
    out.sdp = pc.localDescription.sdp;
    out.dirs = pc.getTransceivers().map(t => t.currentDirection);
    out.codecs = pc.getTransceivers().map(
      t => (t.sender.getParameters().codecs || []).map(c => c.mimeType));
    out.encodings = pc.getTransceivers().map(t => t.sender.getParameters().encodings.length);
    out.sctp = pc.sctp !== null;
  } catch (e) {
    out.error = String(e);
  }
  document.getElementById('out').textContent = 'RES' + 'ULT' + JSON.stringify(out) + 'E' + 'ND';
})();
</script></body></html>
"""


def chromium(work, mode, remote=None):
    page = os.path.join(work, f"{mode}.html")
    with open(page, "w") as f:
        f.write(PAGE % {"mode": json.dumps(mode), "remote": json.dumps(remote)})
    profile = tempfile.mkdtemp(dir=work)
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
           "--no-first-run", "--disable-background-networking", "--disable-component-update",
           "--disable-sync", f"--user-data-dir={profile}", "--virtual-time-budget=10000",
           "--dump-dom", f"file://{page}"]
    for attempt in range(3):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=90)
        m = re.search(r"RESULT(.*?)END", html.unescape(r.stdout), re.S)
        if m:
            res = json.loads(m.group(1))
            if "error" in res:
                sys.exit(f"{mode}: Chromium refused: {res['error']}")
            return res
        print(f"{mode}: no result yet (try {attempt + 1}): {r.stderr[-300:]}")
    sys.exit(f"{mode}: no result from Chromium")


def tool(*args, stdin=None):
    r = subprocess.run([TOOL, *args], input=stdin, capture_output=True, text=True, timeout=20)
    if r.returncode != 0:
        sys.exit(f"tool_sdp {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def check(cond, what, detail):
    if not cond:
        sys.exit(f"FAIL {what}: {detail}")


def answer_case(work, mode, *opts):
    offer = chromium(work, mode)
    answer = tool("answer", "-", *opts, stdin=offer["sdp"])
    res = chromium(work, mode, answer)
    check(res["mlines"] == offer["mlines"], "same offer twice", (res["mlines"], offer["mlines"]))
    return answer, res


def main():
    with tempfile.TemporaryDirectory() as work:
        answer, res = answer_case(work, "offer")
        check(res["dirs"] == ["sendrecv", "sendrecv"], "directions", res["dirs"])
        check(res["codecs"][0][0].lower() == "audio/opus", "audio codec", res["codecs"])
        check(res["codecs"][1][0].lower() == "video/vp8", "video codec", res["codecs"])
        check("m=application 0 " in answer and not res["sctp"], "data rejected", res)
        print("ok: Chromium accepted our answer (data channel rejected)")

        answer, res = answer_case(work, "offer", "data")
        check(res["dirs"] == ["sendrecv", "sendrecv"] and res["sctp"], "data accepted", res)
        print("ok: Chromium accepted our answer (data channel accepted)")

        answer, res = answer_case(work, "simulcast")
        check("a=simulcast:recv h;m;l" in answer, "simulcast answered", answer)
        check(res["dirs"] == ["sendrecv", "sendonly"], "directions", res["dirs"])
        check(res["encodings"][1] == 3, "three encodings", res["encodings"])
        print("ok: Chromium accepted our simulcast answer (3 encodings)")

        offer = tool("offer")
        res = chromium(work, "subscribe", offer)
        check(res["dirs"] == ["recvonly", "recvonly"] and res["sctp"], "subscriber", res)
        summary = tool("parse", "-", stdin=res["sdp"]).splitlines()
        check(summary[0].endswith("bundle=a1,v1,d1"), "bundle", summary)
        check(re.match(r"m 0 audio \d+ mid=a1 dir=recvonly setup=active .*codecs=opus/111$",
                       summary[1]), "audio", summary)
        check(re.match(r"m 1 video \d+ mid=v1 dir=recvonly .*codecs=VP8/96,rtx/97$", summary[2]),
              "video", summary)
        print("ok: Chromium answered our offer and we parsed its answer")
    print("all Chromium checks passed")


main()
