import { playTwiml, sayTwiml, twimlProblem } from './twiml';

describe('twiml', () => {
  it('speaks a message with voice and language, escaping XML', () => {
    expect(sayTwiml('Hi <you> & me', { voice: 'alice', language: 'en-US' })).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><Response><Say voice="alice" language="en-US">Hi &lt;you&gt; &amp; me</Say></Response>',
    );
  });

  it('splits a very long message into several <Say>s at spaces, losing no word', () => {
    const words = Array.from({ length: 2000 }, (_, i) => `w${i}`);
    const document = sayTwiml(words.join(' '), { voice: 'alice' });
    const says = [...document.matchAll(/<Say voice="alice">([^<]*)<\/Say>/g)].map((m) => m[1]);
    expect(says.length).toBeGreaterThan(1);
    expect(says.every((text) => text.length <= 4000)).toBe(true);
    expect(says.join(' ').split(' ')).toEqual(words);
  });

  it('plays an audio URL', () => {
    expect(playTwiml('https://example.com/a.mp3')).toContain('<Play>https://example.com/a.mp3</Play>');
  });

  it('accepts a well-formed <Response> document and rejects everything else', () => {
    expect(twimlProblem('<Response><Say>Hi</Say></Response>')).toBeNull();
    expect(twimlProblem('<?xml version="1.0"?><Response/>')).toBeNull();
    expect(twimlProblem('<Response><Say>Hi</Response>')).toMatch(/not well-formed/);
    expect(twimlProblem('<Say>Hi</Say>')).toMatch(/<Response> root/);
    expect(twimlProblem('<Response/><Response/>')).not.toBeNull();
    expect(twimlProblem(`<Response><Say>${'a'.repeat(4000)}</Say></Response>`)).toMatch(/at most 4000/);
  });
});
