import { Reply, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * Server-Timing tells a caller where the time of a request went: waiting for Twilio, in the
 * database, and the rest (ours). Each request counts only its own waits, however many overlap.
 */
let t: TestApp;
let token: string;

interface Metric {
  dur: number;
  desc?: string;
}

/** The metrics of a response's Server-Timing header, by name (W3C syntax: `name;dur=1.2;desc="..."`, comma-separated). */
function serverTiming(res: Reply): Record<string, Metric> {
  const header = res.headers.get('server-timing');
  expect(header, 'Server-Timing header').toBeTruthy();
  const metrics: Record<string, Metric> = {};
  for (const entry of header!.split(',')) {
    const [name, ...params] = entry.trim().split(';');
    const metric: Metric = { dur: NaN };
    for (const param of params) {
      const [key, value] = param.split('=');
      if (key === 'dur') metric.dur = Number(value);
      if (key === 'desc') metric.desc = value.replace(/^"|"$/g, '');
    }
    metrics[name] = metric;
  }
  return metrics;
}

function post(path: string, to: string): Promise<Reply> {
  return request(t, 'POST', path, { token, body: { to, message: 'Timing check' } });
}

beforeAll(async () => {
  // one reading of the live calls and the day's spending serves every admission here: each request's own statements count
  t = await startTestApp({ RATE_LIMIT_CALLS: '1000', RATE_LIMIT_SMS: '1000', GUARDRAILS_READING_MAX_AGE_MS: '60000' });
  token = t.token(['phone:call', 'phone:sms', 'phone:view']);
});

afterEach(() => t.sandbox.setFaults({}));

afterAll(async () => {
  await t?.close();
});

describe.each([
  ['POST call', '/api/phone/call', '+14155550181', 7],
  ['POST sms', '/api/phone/sms', '+14155550182', 6],
])('%s', (_name, path, to, budget) => {
  it('says how long it waited for Twilio and for the database, and how long the rest took', async () => {
    const res = await post(path, to);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const timing = serverTiming(res);
    expect(Object.keys(timing)).toEqual(['twilio', 'db', 'app', 'total']);
    expect(timing.twilio.desc).toBe('1 Twilio request');
    expect(timing.db.desc).toMatch(/^\d+ SQL statements$/);
    for (const metric of Object.values(timing)) expect(metric.dur).toBeGreaterThanOrEqual(0);
    expect(timing.twilio.dur + timing.db.dur + timing.app.dur).toBeCloseTo(timing.total.dur, 0);
  });

  it("stores the request and Twilio's answer in a handful of SQL statements", async () => {
    // callbacks held back, so that only this request's own statements count
    t.sandbox.setFaults({ callbackDelay: 1, delaySeconds: 600 });
    // the first admission takes the reading the next ones use
    expect((await post(path, to)).status).toBe(201);
    const res = await post(path, to);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    // rate limit (on PostgreSQL), opt-out; the intent, inserted by the statement that counts it in the
    // day's guardrail counters; Twilio's answer with its timeline entry (the transaction begins in the
    // same round trip) and, in that transaction, a call's event in the outbox, then commit; callbacks
    // waiting for the sid. Before the guardrail counters: 15 for a call (an advisory lock and five
    // readings of the records); before the admission and the answer were one statement each: 11 and 10.
    const statements = Number(/^(\d+) /.exec(serverTiming(res).db.desc ?? '')?.[1]);
    expect(statements).toBeLessThanOrEqual(budget);
  });

  it('counts a slow Twilio in its twilio part, not in ours', async () => {
    const before = serverTiming(await post(path, to));
    t.sandbox.setFaults({ slow: 1, slowMs: 400 });
    const slowed = await post(path, to);
    expect(slowed.status, JSON.stringify(slowed.body)).toBe(201);
    const after = serverTiming(slowed);
    expect(after.twilio.dur).toBeGreaterThanOrEqual(400);
    expect(after.twilio.dur - before.twilio.dur).toBeGreaterThanOrEqual(300);
    expect(after.total.dur).toBeGreaterThanOrEqual(after.twilio.dur);
    expect(after.twilio.dur + after.db.dur + after.app.dur).toBeCloseTo(after.total.dur, 0);
  });
});

it('gives each request only its own waits while others are in flight', async () => {
  t.sandbox.setFaults({ slow: 1, slowMs: 1500 });
  const asked = t.sandbox.apiRequestCount;
  let smsAnswered = false;
  const slow = post('/api/phone/sms', '+14155550183').finally(() => (smsAnswered = true));
  // the SMS is waiting on Twilio: a read sent now asks Twilio nothing, so its header has no twilio part
  await eventually(async () => t.sandbox.apiRequestCount > asked, 10_000, 10);
  const history = await request(t, 'GET', '/api/phone/calls/history?limit=5', { token });
  expect(smsAnswered, 'the read overlapped the SMS').toBe(false);
  expect(history.status).toBe(200);
  const read = serverTiming(history);
  expect(read.twilio).toBeUndefined();
  expect(read.db.desc).toMatch(/^\d+ SQL statements?$/);
  const sent = await slow;
  expect(sent.status).toBe(201);
  expect(serverTiming(sent).twilio.dur).toBeGreaterThanOrEqual(1500);
});
