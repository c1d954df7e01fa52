// Included by the generated pages: MODE and REMOTE are set before this script.
(async () => {
  const out = document.getElementById('out');
  const done = () => new Promise(r => {
    if (pc.iceGatheringState === 'complete') r();
    pc.onicegatheringstatechange = () => { if (pc.iceGatheringState === 'complete') r(); };
    setTimeout(r, 3000);
  });
  var pc;
  try {
    pc = new RTCPeerConnection({iceServers: []});
    if (MODE === 'answer') {
      await pc.setRemoteDescription({type: 'offer', sdp: REMOTE});
      for (const t of pc.getTransceivers())
        t.direction = 'sendrecv';
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
    }
    if (MODE !== "answer")
      await done();
    out.textContent = 'SDP' + '-BEGIN\n' + pc.localDescription.sdp + 'SDP' + '-END';
  } catch (e) { out.textContent = 'ERROR ' + e; }
})();
