import { ShutdownState } from '../../src/lifecycle/shutdown-state';
import { request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

/** Requests the sandbox's 2010 API received (its inspection API). */
async function twilioRequests(t: TestApp): Promise<number> {
  const res = await fetch(`${t.sandbox.baseUrl}/sandbox/health`);
  return ((await res.json()) as { apiRequests: number }).apiRequests;
}

describe('liveness and readiness probes', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers liveness and readiness without a token and without asking Twilio', async () => {
    const before = await twilioRequests(t);
    const live = await request(t, 'GET', '/api/phone/health/live');
    expect(live).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(live.headers.get('cache-control')).toBe('no-store');
    const ready = await request(t, 'GET', '/api/phone/health/ready');
    expect(ready).toMatchObject({ status: 200, body: { status: 'ok', database: 'up', draining: false } });
    for (let i = 0; i < 5; i++) {
      await request(t, 'GET', '/api/phone/health/live');
      await request(t, 'GET', '/api/phone/health/ready');
    }
    expect(await twilioRequests(t)).toBe(before);
  });

  it('GET health asks Twilio at most once per cache period, whoever asks', async () => {
    const before = await twilioRequests(t);
    const viewer = t.token(['phone:view']);
    for (let i = 0; i < 5; i++) {
      expect((await request(t, 'GET', '/api/phone/health')).status).toBe(200);
      expect((await request(t, 'GET', '/api/phone/health', { token: viewer })).body.twilio.status).toBe('up');
    }
    expect((await twilioRequests(t)) - before).toBeLessThanOrEqual(1);
  });

  it('stays live while Twilio fails; GET health reports the failure once its cache expires', async () => {
    const fresh = await startTestApp({ HEALTH_TWILIO_CACHE_SECONDS: '0' });
    try {
      fresh.sandbox.setFaults({ serverError: 1 });
      const health = await request(fresh, 'GET', '/api/phone/health', { token: fresh.token(['phone:view']) });
      expect(health.status).toBe(503);
      expect(health.body.twilio.status).toBe('down');
      expect((await request(fresh, 'GET', '/api/phone/health/live')).status).toBe(200);
      expect((await request(fresh, 'GET', '/api/phone/health/ready')).status).toBe(200);
    } finally {
      await fresh.close();
    }
  });

  it('turns readiness red while draining, refuses new API requests and closes connections; liveness stays up', async () => {
    t.app.get(ShutdownState).begin();
    const ready = await request(t, 'GET', '/api/phone/health/ready');
    expect(ready).toMatchObject({ status: 503, body: { status: 'error', database: 'up', draining: true } });
    expect(ready.headers.get('connection')).toBe('close');
    expect((await request(t, 'GET', '/api/phone/health/live')).status).toBe(200);
    const sms = await request(t, 'POST', '/api/phone/sms', {
      token: t.token(['phone:sms']),
      body: { to: '+14155550100', message: 'late' },
    });
    expect(sms.status).toBe(503);
    expect(sms.body).toMatchObject({ statusCode: 503, code: 'shutting_down', request_id: expect.any(String) });
    expect(sms.headers.get('connection')).toBe('close');
    expect(t.sandbox.messages().filter((m) => m.body === 'late')).toEqual([]);
  });
});
