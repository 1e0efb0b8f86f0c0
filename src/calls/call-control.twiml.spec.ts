import { transferTwiml, voicemailDropTwiml, whisperTwiml } from './call-control.twiml';

const XML = '<?xml version="1.0" encoding="UTF-8"?>';

describe('call control TwiML', () => {
  it('dials the transfer target with its whisper URL and our number as caller ID', () => {
    expect(
      transferTwiml({
        to: '+14155550123',
        callerId: '+14155550199',
        actionUrl: 'https://h.example/api/phone/webhook/transfer?record_id=1',
        whisperUrl: 'https://h.example/api/phone/webhook/whisper?record_id=1&a=b',
      }),
    ).toBe(
      `${XML}<Response><Dial action="https://h.example/api/phone/webhook/transfer?record_id=1" method="POST" callerId="+14155550199">` +
        '<Number url="https://h.example/api/phone/webhook/whisper?record_id=1&amp;a=b" method="POST">+14155550123</Number></Dial></Response>',
    );
  });

  it('dials without a whisper URL when there is no whisper', () => {
    expect(transferTwiml({ to: '+14155550123', callerId: '+14155550199', actionUrl: 'https://h.example/t', whisperUrl: null })).toContain(
      '<Number>+14155550123</Number>',
    );
  });

  it('whispers, escaped', () => {
    expect(whisperTwiml('Caller <Ann> & co', { voice: 'alice' })).toBe(
      `${XML}<Response><Say voice="alice">Caller &lt;Ann&gt; &amp; co</Say></Response>`,
    );
    expect(whisperTwiml(null)).toBe(`${XML}<Response/>`);
  });

  it('leaves the voicemail, then hangs up', () => {
    expect(voicemailDropTwiml('Please call back', { voice: 'alice', language: 'en-US' })).toBe(
      `${XML}<Response><Say voice="alice" language="en-US">Please call back</Say><Hangup/></Response>`,
    );
  });
});
