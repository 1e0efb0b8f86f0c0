import { request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * Status callbacks never carry a price; Twilio adds it shortly after the end. The service fetches it
 * on its own a few seconds after the end, so the stats are right without anyone reading the records
 * (and long before the stale-record window).
 */
describe('prices arrive shortly after calls and messages end', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp({
      RECONCILE_ENABLED: 'true',
      RECONCILE_INTERVAL_SECONDS: '3600',
      RECONCILE_STALE_AFTER_SECONDS: '3600',
      RECONCILE_PRICE_AFTER_SECONDS: '1',
      STATS_REFRESH_SECONDS: '1',
      RATE_LIMIT_CALLS: '1000',
    });
  });
  afterAll(async () => t?.close());

  const stats = async () => {
    const res = await request(t, 'GET', '/api/phone/stats', { token: t.token(['phone:view']) });
    expect(res.status).toBe(200);
    return res.body;
  };

  it('unpriced_calls and unpriced_messages reach 0 within seconds, with no GET of the records', async () => {
    const caller = t.token(['phone:call', 'phone:sms']);
    for (const to of ['+14155550100', '+14155550101']) {
      const res = await request(t, 'POST', '/api/phone/call', { token: caller, body: { to, message: 'Price me.' } });
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }
    const sms = await request(t, 'POST', '/api/phone/sms', { token: caller, body: { to: '+14155550102', message: 'Price me too.' } });
    expect(sms.status, JSON.stringify(sms.body)).toBe(201);
    await t.sandbox.settle(15_000);

    const settled = await eventually(
      async () => {
        const body = await stats();
        const ended = body.calls.by_status.completed === 2 && body.sms.outbound === 1;
        return ended && body.cost.unpriced_calls === 0 && body.cost.unpriced_messages === 0 ? body : null;
      },
      15_000,
      250,
    );
    const charged = t.sandbox.calls().reduce((sum, c) => sum + (c.price ?? 0), 0);
    expect(charged).toBeGreaterThan(0);
    expect(Number(settled.cost.actual.calls)).toBeGreaterThan(0);
    expect(Number(settled.cost.actual.sms)).toBeGreaterThan(0);
  });
});
