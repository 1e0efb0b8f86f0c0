import { DataSource } from 'typeorm';
import type { JsonBody } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

type Body = Record<string, JsonBody>;

async function getHealth(t: TestApp, token?: string) {
  const res = await fetch(`${t.baseUrl}/api/phone/health`, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Body, headers: res.headers };
}

describe('GET /api/phone/health', () => {
  let t: TestApp;

  beforeAll(async () => {
    // every check probes Twilio afresh here; the cache is covered in probes.e2e-spec.ts
    t = await startTestApp({ HEALTH_TWILIO_CACHE_SECONDS: '0' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('tells a caller without a token exactly {status: "ok"}', async () => {
    const res = await getHealth(t);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('works as the guide writes it: with a phone:view token, the details', async () => {
    const res = await getHealth(t, t.token(['phone:view']));
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      database: { status: 'up', latency_ms: expect.any(Number), driver: process.env.DATABASE_URL ? 'postgres' : 'pglite' },
      twilio: {
        status: 'up',
        reachable: true,
        mode: 'sandbox',
        base_url: t.sandbox.baseUrl,
        account_status: 'active',
        latency_ms: expect.any(Number),
      },
      version: t.config.version,
      uptime_seconds: expect.any(Number),
    });
    expect(Object.keys(res.body.database).sort()).toEqual(['driver', 'latency_ms', 'status']);
    expect(Object.keys(res.body.twilio).sort()).toEqual(['account_status', 'base_url', 'latency_ms', 'mode', 'reachable', 'status']);
    expect(res.body.uptime_seconds).toBeGreaterThanOrEqual(0);
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('gives phone:admin the details too, and a token without phone:view only the status', async () => {
    expect((await getHealth(t, t.token(['phone:admin']))).body.database.status).toBe('up');
    const sms = await getHealth(t, t.token(['phone:sms', 'phone:call']));
    expect(sms.status).toBe(200);
    expect(sms.body).toEqual({ status: 'ok' });
  });

  it('answers 401 in the error shape for an invalid token', async () => {
    const res = await getHealth(t, 'not-a-jwt');
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ statusCode: 401, code: 'unauthorized', request_id: expect.any(String) });
  });

  it('answers 503 when the database is gone', async () => {
    const dataSource = t.app.get(DataSource);
    await dataSource.destroy();
    const res = await getHealth(t, t.token(['phone:view']));
    expect(res.status).toBe(503);
    expect(res.body).toMatchObject({ status: 'error', database: { status: 'down' }, twilio: { status: 'up' } });
    expect(await getHealth(t)).toEqual({ status: 503, body: { status: 'error' }, headers: expect.anything() });
    await dataSource.initialize();
    expect((await getHealth(t, t.token(['phone:view']))).status).toBe(200);
  });

  it('answers 503 with status "error" when Twilio cannot be reached, to everyone', async () => {
    await t.sandbox.stop();
    const detailed = await getHealth(t, t.token(['phone:view']));
    expect(detailed.status).toBe(503);
    expect(detailed.body).toMatchObject({
      status: 'error',
      database: { status: 'up' },
      twilio: { status: 'down', reachable: false, account_status: null, error: expect.any(String) },
    });
    // an anonymous caller reuses that fresh probe
    const anonymous = await getHealth(t);
    expect(anonymous.status).toBe(503);
    expect(anonymous.body).toEqual({ status: 'error' });
  });
});
