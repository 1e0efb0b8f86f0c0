import { placedCallTwiml } from './placed-call.twiml';

describe('placedCallTwiml', () => {
  it('runs the caller’s own TwiML unchanged', () => {
    const twiml = '<?xml version="1.0" encoding="UTF-8"?><Response><Pause length="1"/></Response>';
    expect(placedCallTwiml({ twiml, message: 'ignored' })).toBe(twiml);
  });

  it('speaks a message with its voice and language', () => {
    expect(placedCallTwiml({ message: 'Hello', voice: 'alice', language: 'en-GB' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice" language="en-GB">Hello</Say></Response>',
    );
  });

  it('plays an audio file', () => {
    expect(placedCallTwiml({ audioUrl: 'https://cdn.example.com/a.mp3' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Play>https://cdn.example.com/a.mp3</Play></Response>',
    );
  });

  it('speaks, then plays, when a record has both', () => {
    expect(placedCallTwiml({ message: 'Hi', audioUrl: 'https://cdn.example.com/a.mp3', voice: 'alice' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Hi</Say><Play>https://cdn.example.com/a.mp3</Play></Response>',
    );
  });

  it('hangs up a call without content', () => {
    expect(placedCallTwiml({})).toBe('<?xml version="1.0" encoding="UTF-8"?><Response><Hangup/></Response>');
  });

  it('keeps the line open after the message while a voicemail waits for the beep', () => {
    expect(placedCallTwiml({ message: 'Hi', voice: 'alice', voicemailMessage: 'Call us back' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice">Hi</Say><Pause length="30"/></Response>',
    );
  });

  it('splits a very long message into several <Say>s', () => {
    const twiml = placedCallTwiml({ message: `${'word '.repeat(1000)}end` });
    expect(twiml.match(/<Say>/g)).toHaveLength(2);
  });
});
