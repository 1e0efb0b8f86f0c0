import { VOICEMAIL_WAIT_SECONDS, VOICEMAIL_WAIT_STEP_SECONDS, placedCallTwiml, voicemailWaitTwiml } from './placed-call.twiml';

const WEBHOOKS = { webhookBaseUrl: 'https://example.com/api/phone/webhook', callbackOverrides: '' };

describe('placedCallTwiml', () => {
  it('runs the caller’s own TwiML unchanged', () => {
    const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/></Response>';
    expect(placedCallTwiml({ twiml, message: 'ignored' }, WEBHOOKS)).toBe(twiml);
  });

  it('speaks a message with its voice and language', () => {
    expect(placedCallTwiml({ message: 'Hello', voice: 'alice', language: 'en-GB' }, WEBHOOKS)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice" language="en-GB">Hello</Say></Response>',
    );
  });

  it('plays an audio file', () => {
    expect(placedCallTwiml({ audioUrl: 'https://cdn.example.com/a.mp3' }, WEBHOOKS)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Play>https://cdn.example.com/a.mp3</Play></Response>',
    );
  });

  it('speaks, then plays, when a record has both', () => {
    expect(placedCallTwiml({ message: 'Hi', audioUrl: 'https://cdn.example.com/a.mp3', voice: 'alice' }, WEBHOOKS)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Hi</Say><Play>https://cdn.example.com/a.mp3</Play></Response>',
    );
  });

  it('hangs up a call without content', () => {
    expect(placedCallTwiml({}, WEBHOOKS)).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it('asks after the message whether a voicemail still waits for the beep', () => {
    expect(placedCallTwiml({ message: 'Hi', voice: 'alice', voicemailMessage: 'Call us back' }, WEBHOOKS)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Hi</Say>' +
        '<Redirect method="POST">https://example.com/api/phone/webhook/voicemail-wait?waited=0</Redirect></Response>',
    );
  });

  it('waits for the detection in short steps, and hangs up once it found no machine or timed out', () => {
    const hangup = '<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>';
    expect(voicemailWaitTwiml(WEBHOOKS, 0, null)).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="2"/>' +
        '<Redirect method="POST">https://example.com/api/phone/webhook/voicemail-wait?waited=1</Redirect></Response>',
    );
    expect(voicemailWaitTwiml(WEBHOOKS, 3, 'machine_start')).toContain('waited=4');
    for (const answeredBy of ['human', 'unknown', 'fax']) expect(voicemailWaitTwiml(WEBHOOKS, 1, answeredBy)).toBe(hangup);
    const steps = VOICEMAIL_WAIT_SECONDS / VOICEMAIL_WAIT_STEP_SECONDS;
    expect(voicemailWaitTwiml(WEBHOOKS, steps - 1, null)).toContain('<Pause');
    expect(voicemailWaitTwiml(WEBHOOKS, steps, null)).toBe(hangup);
  });

  it('splits a very long message into several <Say>s', () => {
    const twiml = placedCallTwiml({ message: `${'word '.repeat(1000)}end` }, WEBHOOKS);
    expect(twiml.match(/<Say>/g)).toHaveLength(2);
  });
});
