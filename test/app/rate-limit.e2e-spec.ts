import { Reply, request } from '../support/http';
import { type SecondInstance, TestApp, startSecondInstance, startTestApp } from '../support/test-app';

const LIMITS = { RATE_LIMIT_CALLS: '3', RATE_LIMIT_SMS: '2', AUTH_FAILURE_LIMIT: '4' };
const CALL = { to: '+14155550100', message: 'rate limit test' };
const SMS = { to: '+14155550100', message: 'rate limit test' };
const FORGED = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl';

function expectRateLimited(res: Reply): void {
  expect(res.status).toBe(429);
  expect(res.body).toMatchObject({ statusCode: 429, error: 'Too Many Requests', code: 'rate_limited' });
  expect(typeof res.body.request_id).toBe('string');
  const retryAfter = Number(res.headers.get('retry-after'));
  expect(Number.isInteger(retryAfter) && retryAfter > 0 && retryAfter <= 60).toBe(true);
}

describe('rate limits', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(LIMITS);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('refuses the call past the limit for one subject before Twilio is asked; another subject is not affected', async () => {
    const alice = t.token(['phone:call'], 'alice');
    for (let i = 0; i < 3; i++) expect((await request(t, 'POST', '/api/phone/call', { token: alice, body: CALL })).status).toBe(201);
    const calls = t.sandbox.calls().length;
    const twilioRequests = t.sandbox.apiRequestCount;
    const refused = await request(t, 'POST', '/api/phone/call', { token: alice, body: CALL });
    expectRateLimited(refused);
    expect(refused.body.message).toMatch(/at most 3 calls placed per 60 s/);
    expect(t.sandbox.calls().length).toBe(calls);
    expect(t.sandbox.apiRequestCount).toBe(twilioRequests);
    expect((await request(t, 'POST', '/api/phone/call', { token: t.token(['phone:call'], 'bob'), body: CALL })).status).toBe(201);
  });

  it('counts SMS apart from calls, with its own limit', async () => {
    const carol = t.token(['phone:call', 'phone:sms'], 'carol');
    for (let i = 0; i < 2; i++) expect((await request(t, 'POST', '/api/phone/sms', { token: carol, body: SMS })).status).toBe(201);
    const messages = t.sandbox.messages().length;
    expectRateLimited(await request(t, 'POST', '/api/phone/sms', { token: carol, body: SMS }));
    expect(t.sandbox.messages().length).toBe(messages);
    expect((await request(t, 'POST', '/api/phone/call', { token: carol, body: CALL })).status).toBe(201);
  });

  it('does not count a repeat answered from its Idempotency-Key (Idempotent-Replayed), and counts a new key', async () => {
    const dave = t.token(['phone:sms'], 'dave');
    const send = (key: string) =>
      fetch(`${t.baseUrl}/api/phone/sms`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${dave}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(SMS),
      });
    const first = await send('replay-not-counted-1');
    expect(first.status).toBe(201);
    const messages = t.sandbox.messages().length;
    // the limit is 2: five repeats of the first would be refused if each took a slot
    for (let i = 0; i < 5; i++) {
      const again = await send('replay-not-counted-1');
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBe('true');
    }
    expect(t.sandbox.messages().length).toBe(messages);
    expect((await send('replay-not-counted-2')).status).toBe(201);
    const refused = await send('replay-not-counted-3');
    expect(refused.status).toBe(429);
  });

  it('answers 429 to a client that keeps sending rejected tokens; a valid token still works', async () => {
    for (let i = 0; i < 4; i++) expect((await request(t, 'GET', '/api/phone/calls/history', { token: FORGED })).status).toBe(401);
    const refused = await request(t, 'GET', '/api/phone/calls/history', { token: FORGED });
    expectRateLimited(refused);
    expect(refused.body.message).toMatch(/failed authentication/);
    expect((await request(t, 'GET', '/api/phone/calls/history', { token: t.token(['phone:view']) })).status).toBe(200);
    // Requests without a token guess nothing and are not counted.
    expect((await request(t, 'GET', '/api/phone/calls/history')).status).toBe(401);
  });
});

describe.skipIf(!process.env.DATABASE_URL)('rate limits across two instances on one PostgreSQL database', () => {
  let a: TestApp;
  let b: SecondInstance;

  beforeAll(async () => {
    a = await startTestApp(LIMITS);
    b = await startSecondInstance(a, LIMITS);
  });

  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  it("shares one subject's limit and one client's failed authentications", async () => {
    const dave = a.token(['phone:call'], 'dave');
    const instances = [{ baseUrl: a.baseUrl }, { baseUrl: b.baseUrl }];
    for (let i = 0; i < 3; i++)
      expect((await request(instances[i % 2], 'POST', '/api/phone/call', { token: dave, body: CALL })).status).toBe(201);
    const calls = a.sandbox.calls().length;
    expectRateLimited(await request(instances[1], 'POST', '/api/phone/call', { token: dave, body: CALL }));
    expectRateLimited(await request(instances[0], 'POST', '/api/phone/call', { token: dave, body: CALL }));
    expect(a.sandbox.calls().length).toBe(calls);
    expect((await request(instances[1], 'POST', '/api/phone/call', { token: a.token(['phone:call'], 'erin'), body: CALL })).status).toBe(
      201,
    );

    for (let i = 0; i < 4; i++)
      expect((await request(instances[i % 2], 'GET', '/api/phone/calls/history', { token: FORGED })).status).toBe(401);
    expectRateLimited(await request(instances[0], 'GET', '/api/phone/calls/history', { token: FORGED }));
  });
});
