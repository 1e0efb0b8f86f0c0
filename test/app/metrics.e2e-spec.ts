import { MetricsServer } from '../../src/metrics/metrics-server';
import { request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { wireNumber } from '../webhooks/webhook-helpers';

const TOKEN = 'metrics-token-0123456789abcdef';

/** The value of one series in a Prometheus text exposition (0 when absent). */
function value(text: string, series: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line ? Number(line.slice(series.length + 1)) : 0;
}

async function scrape(url: string, token?: string) {
  const res = await fetch(url, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

describe('GET /metrics with METRICS_TOKEN', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_TOKEN: TOKEN });
  });
  afterAll(async () => t?.close());

  it('refuses a scrape without the token or with a wrong one, in the error shape', async () => {
    for (const token of [undefined, 'wrong-token-0123456789abcdef']) {
      const res = await scrape(`${t.baseUrl}/metrics`, token);
      expect(res.status).toBe(401);
      expect(JSON.parse(res.text)).toMatchObject({ statusCode: 401, code: 'unauthorized', request_id: expect.any(String) });
    }
    expect((await scrape(`${t.baseUrl}/api/phone/metrics`, TOKEN)).status).not.toBe(200);
  });

  it('serves the Prometheus text format with the token', async () => {
    const res = await scrape(`${t.baseUrl}/metrics`, TOKEN);
    expect(res.status).toBe(200);
    expect(res.type).toMatch(/^text\/plain/);
    expect(res.text).toContain('# TYPE http_requests_total counter');
    expect(res.text).toContain('# TYPE http_request_duration_seconds histogram');
    expect(res.text).toContain('# TYPE calls_live gauge');
    expect(res.text).toContain('process_cpu_seconds_total');
  });

  it('moves the HTTP, Twilio, webhook and live-call series', async () => {
    const before = (await scrape(`${t.baseUrl}/metrics`, TOKEN)).text;
    const token = t.token(['phone:sms', 'phone:call', 'phone:view']);
    await wireNumber(t);
    const sms = await request(t, 'POST', '/api/phone/sms', { token, body: { to: '+14155550123', message: 'hi' } });
    expect(sms.status).toBe(201);
    expect((await request(t, 'GET', '/api/phone/sms/history', { token: null })).status).toBe(401);
    const call = await request(t, 'POST', '/api/phone/call', { token, body: { to: '+14155550124', message: 'hello' } });
    expect(call.status).toBe(201);
    await t.sandbox.settle();

    const after = await eventually(async () => {
      const text = (await scrape(`${t.baseUrl}/metrics`, TOKEN)).text;
      return value(text, 'webhooks_total{kind="message_status",outcome="stored"}') > 0 ? text : null;
    });
    const delta = (series: string) => value(after, series) - value(before, series);
    expect(delta('http_requests_total{method="POST",route="/api/phone/sms",status="201"}')).toBe(1);
    expect(delta('http_requests_total{method="GET",route="/api/phone/sms/history",status="401"}')).toBe(1);
    expect(delta('http_request_duration_seconds_count{method="POST",route="/api/phone/sms",status="201"}')).toBe(1);
    expect(delta('twilio_requests_total{operation="sendMessage",outcome="ok"}')).toBe(1);
    expect(delta('twilio_requests_total{operation="placeCall",outcome="ok"}')).toBe(1);
    expect(delta('twilio_request_duration_seconds_count{operation="sendMessage",outcome="ok"}')).toBe(1);
    expect(delta('webhooks_total{kind="call_status",outcome="stored"}')).toBeGreaterThan(0);
    expect(value(after, 'calls_live')).toBe(0);
  });

  it('counts calls not in a terminal status as live', async () => {
    t.sandbox.setFaults({ callbackDrop: 1 });
    try {
      const call = await request(t, 'POST', '/api/phone/call', {
        token: t.token(['phone:call']),
        body: { to: '+14155550126', message: 'hi' },
      });
      expect(call.status).toBe(201);
      expect(value((await scrape(`${t.baseUrl}/metrics`, TOKEN)).text, 'calls_live')).toBe(1);
    } finally {
      t.sandbox.setFaults({});
    }
  });

  it('counts Twilio failures by their kind', async () => {
    t.sandbox.setFaults({ serverError: 1 });
    try {
      const sms = await request(t, 'POST', '/api/phone/sms', { token: t.token(['phone:sms']), body: { to: '+14155550125', message: 'x' } });
      // Twilio may have acted: the answer is 202 with the outcome unknown, the failure is counted
      expect(sms.status).toBe(202);
    } finally {
      t.sandbox.setFaults({});
    }
    const text = (await scrape(`${t.baseUrl}/metrics`, TOKEN)).text;
    expect(text).toMatch(/twilio_requests_total\{operation="sendMessage",outcome="(?!ok")[a-z_]+"\} [1-9]/);
  });
});

describe('GET /metrics on METRICS_PORT', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ METRICS_PORT: '0' });
  });
  afterAll(async () => t?.close());

  it('is served on its own port only', async () => {
    const port = t.app.get(MetricsServer).port();
    expect(port).toEqual(expect.any(Number));
    const res = await scrape(`http://127.0.0.1:${port}/metrics`);
    expect(res.status).toBe(200);
    expect(res.text).toContain('http_requests_total');
    expect((await scrape(`${t.baseUrl}/metrics`)).status).toBe(404);
  });
});

describe('GET /metrics in production without a token or a port', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      NODE_ENV: 'production',
      ALLOW_SANDBOX_IN_PRODUCTION: 'true',
      ALLOW_PGLITE_IN_PRODUCTION: 'true',
    });
  });
  afterAll(async () => t?.close());

  it('is off (404)', async () => {
    expect((await scrape(`${t.baseUrl}/metrics`)).status).toBe(404);
  });
});
