import { remoteTarget } from './twilio.module';

describe('remoteTarget', () => {
  it('calls api.twilio.com and its edges live, any other compatible host a sandbox', () => {
    expect(remoteTarget(null)).toEqual({ mode: 'live', baseUrl: 'https://api.twilio.com' });
    expect(remoteTarget('https://api.dublin.ie1.twilio.com').mode).toBe('live');
    expect(remoteTarget('http://127.0.0.1:8010')).toEqual({ mode: 'sandbox', baseUrl: 'http://127.0.0.1:8010' });
    expect(remoteTarget('https://twilio.com.evil.example').mode).toBe('sandbox');
  });
});
