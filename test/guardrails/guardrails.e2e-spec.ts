import { mintToken } from '../../src/auth/token';
import { JsonBody, Reply, request } from '../support/http';
import { type SecondInstance, TestApp, eventually, startSecondInstance, startTestApp } from '../support/test-app';

/**
 * The live-call cap and the daily spending ceiling, as a client sees them (201, 429 or 402 with
 * their codes and messages) and as Twilio sees them (what the sandbox received).
 */

/** The sandbox keeps a call to a number ending 5555 in progress until it is hung up. */
const STAYS_UP = '+14155555555';
const GENEROUS_RATE_LIMITS = { RATE_LIMIT_CALLS: '1000', RATE_LIMIT_SMS: '1000' };

function client(t: Pick<TestApp, 'baseUrl'>, token: string) {
  return (method: string, path: string, body?: unknown): Promise<Reply> => request(t, method, path, { token, body });
}

describe('live call cap (MAX_LIVE_CALLS)', () => {
  describe('with a cap of 2', () => {
    let t: TestApp;
    let api: ReturnType<typeof client>;

    beforeAll(async () => {
      t = await startTestApp({ MAX_LIVE_CALLS: '2', SPENDING_DAILY_LIMIT: 'off', ...GENEROUS_RATE_LIMITS });
      api = client(t, t.token(['phone:admin']));
    });

    afterAll(async () => {
      await t?.close();
    });

    it('places two calls, refuses the third with 429 before Twilio is asked, and places one again after a hangup', async () => {
      const first = await api('POST', '/api/phone/call', { to: STAYS_UP, message: 'one' });
      const second = await api('POST', '/api/phone/call', { to: STAYS_UP, message: 'two' });
      expect([first.status, second.status]).toEqual([201, 201]);

      const third = await api('POST', '/api/phone/call', { to: STAYS_UP, message: 'three' });
      expect(third.status).toBe(429);
      expect(third.body).toMatchObject({ statusCode: 429, code: 'live_call_limit' });
      expect(third.body.message).toBe(
        'Live call limit reached: at least 2 calls are in progress and at most 2 may be at once; try again when one has ended',
      );
      expect(third.headers.get('retry-after')).toBe('30');
      expect(t.sandbox.calls()).toHaveLength(2);

      const hangup = await api('POST', `/api/phone/calls/${first.body.sid}/hangup`);
      expect(hangup.status).toBe(200);
      const again = await api('POST', '/api/phone/call', { to: STAYS_UP, message: 'again' });
      expect(again.status, JSON.stringify(again.body)).toBe(201);
      expect(t.sandbox.calls().map((c) => c.sid)).toEqual([first.body.sid, second.body.sid, again.body.sid]);

      for (const sid of [second.body.sid, again.body.sid]) expect((await api('POST', `/api/phone/calls/${sid}/hangup`)).status).toBe(200);
    });

    it('frees the place of a call that ends on its own (busy) and does not limit SMS', async () => {
      const busy = await api('POST', '/api/phone/call', { to: '+14155551111', message: 'busy' });
      const up = await api('POST', '/api/phone/call', { to: STAYS_UP, message: 'up' });
      expect([busy.status, up.status]).toEqual([201, 201]);
      const sms = await api('POST', '/api/phone/sms', { to: '+14155550100', message: 'texts are not calls' });
      expect(sms.status).toBe(201);
      // the busy call's end reaches the record through its status callback
      const third = await eventually(async () => {
        const res = await api('POST', '/api/phone/call', { to: STAYS_UP, message: 'after busy' });
        return res.status === 201 ? res : null;
      });
      expect((await api('GET', `/api/phone/calls/${busy.body.sid}`)).body.status).toBe('busy');
      for (const sid of [up.body.sid, third.body.sid]) expect((await api('POST', `/api/phone/calls/${sid}/hangup`)).status).toBe(200);
    });
  });

  describe('with a cap of 3', () => {
    let t: TestApp;

    beforeAll(async () => {
      t = await startTestApp({ MAX_LIVE_CALLS: '3', SPENDING_DAILY_LIMIT: 'off', ...GENEROUS_RATE_LIMITS });
    });

    afterAll(async () => {
      await t?.close();
    });

    it('ten concurrent requests place exactly three calls', async () => {
      const api = client(t, t.token(['phone:call']));
      const replies = await Promise.all(
        Array.from({ length: 10 }, (_, i) => api('POST', '/api/phone/call', { to: STAYS_UP, message: `concurrent ${i}` })),
      );
      const statuses = replies.map((r) => r.status).sort();
      expect(statuses).toEqual([201, 201, 201, 429, 429, 429, 429, 429, 429, 429]);
      expect(replies.filter((r) => r.status === 429).every((r) => r.body.code === 'live_call_limit')).toBe(true);
      expect(t.sandbox.calls()).toHaveLength(3);
    });
  });
});

describe('daily spending ceiling (SPENDING_DAILY_LIMIT)', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    // Estimates at $0.01 a segment; the sandbox charges $0.0075, so prices that arrive free room.
    t = await startTestApp({
      SPENDING_DAILY_LIMIT: '0.05',
      PRICE_SMS_PER_SEGMENT: '0.01',
      CALL_REFRESH_AFTER_SECONDS: '0',
      ...GENEROUS_RATE_LIMITS,
    });
    api = client(t, t.token(['phone:admin']));
  });

  afterAll(async () => {
    await t?.close();
  });

  const sms = (message: string) => api('POST', '/api/phone/sms', { to: '+14155550100', message });

  it('sends until the next message would pass the limit, then answers 402 and Twilio receives no more', async () => {
    const sent: Reply[] = [];
    for (let i = 0; i < 5; i++) sent.push(await sms(`within the limit ${i}`));
    expect(sent.map((r) => r.status)).toEqual([201, 201, 201, 201, 201]);

    const refused = await sms('one too many');
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ statusCode: 402, code: 'spending_limit_reached' });
    expect(refused.body.message).toBe(
      'Daily spending limit of 0.05000 USD reached: 0.05000 USD spent today (0.00000 priced, 0.05000 estimated for usage ' +
        'not priced yet) and this message is estimated at 0.01000 USD; the day resets at 00:00 UTC',
    );
    const call = await api('POST', '/api/phone/call', { to: '+14155550100', message: 'calls count too' });
    expect(call.status).toBe(402);
    expect(call.body.message).toContain('this call is estimated at 0.01700 USD');
    expect(t.sandbox.messages()).toHaveLength(5);
    expect(t.sandbox.calls()).toHaveLength(0);
    const history = await api('GET', '/api/phone/sms/history');
    expect(history.body.messages).toHaveLength(5);
  });

  it('counts the prices Twilio reports instead of the estimates: cheaper prices free room again', async () => {
    const history = await api('GET', '/api/phone/sms/history');
    // reading a message asks Twilio for it (CALL_REFRESH_AFTER_SECONDS=0) and stores its price
    for (const m of history.body.messages as JsonBody[]) {
      await eventually(async () => (await api('GET', `/api/phone/sms/${m.sid}`)).body.price !== null, 15_000, 100);
    }
    // 5 × 0.0075 = 0.0375 spent: 0.0125 left, not enough for two segments (0.02), enough for one
    const twoSegments = await sms('x'.repeat(161));
    expect(twoSegments.status).toBe(402);
    expect(twoSegments.body.message).toContain('0.03750 USD spent today (0.03750 priced, 0.00000 estimated');
    expect(twoSegments.body.message).toContain('this message is estimated at 0.02000 USD');

    const oneSegment = await sms('x'.repeat(160));
    expect(oneSegment.status, JSON.stringify(oneSegment.body)).toBe(201);
    const next = await sms('and no more');
    expect(next.status).toBe(402);
    expect(next.body.message).toContain('0.04750 USD spent today (0.03750 priced, 0.01000 estimated');
    expect(t.sandbox.messages()).toHaveLength(6);
  });

  it('refuses a number purchase past the limit before Twilio is asked, and stores nothing', async () => {
    const refused = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550123' });
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ code: 'spending_limit_reached' });
    expect(refused.body.message).toContain('this number is estimated at 1.00000 USD');
    const listed = await api('GET', '/api/phone/numbers?status=purchasing');
    expect(listed.body.numbers).toEqual([]);
    expect((await api('GET', '/api/phone/numbers')).body.numbers.map((n: { phone_number: string }) => n.phone_number)).not.toContain(
      '+14155550123',
    );
  });
});

describe('numbers under the daily spending ceiling', () => {
  let t: TestApp;
  let api: ReturnType<typeof client>;

  beforeAll(async () => {
    t = await startTestApp({ SPENDING_DAILY_LIMIT: '1.50', PRICE_NUMBER_PER_MONTH: '1.00', ...GENEROUS_RATE_LIMITS });
    api = client(t, t.token(['phone:admin']));
  });

  afterAll(async () => {
    await t?.close();
  });

  it('counts a number bought today at its monthly price: the next purchase would pass the limit', async () => {
    const bought = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550123' });
    expect(bought.status).toBe(201);
    const refused = await api('POST', '/api/phone/numbers/purchase', { phone_number: '+14155550124' });
    expect(refused.status).toBe(402);
    expect(refused.body.message).toContain(
      '1.00000 USD spent today (0.00000 priced, 1.00000 estimated for usage not priced yet) and this number is estimated at 1.00000 USD',
    );
    const sms = await api('POST', '/api/phone/sms', { to: '+14155550100', message: 'still room for a message' });
    expect(sms.status).toBe(201);
  });
});

const skipReason = 'needs DATABASE_URL (Postgres): embedded PGlite serves a single process';

describe.skipIf(!process.env.DATABASE_URL)(
  `guardrails across two instances on one database (${process.env.DATABASE_URL ? 'Postgres' : skipReason})`,
  () => {
    // Calls are estimated at nothing here, so the messages sent first leave room for them.
    const limits = {
      MAX_LIVE_CALLS: '3',
      SPENDING_DAILY_LIMIT: '0.05',
      PRICE_SMS_PER_SEGMENT: '0.01',
      PRICE_VOICE_PER_MINUTE: '0',
      ...GENEROUS_RATE_LIMITS,
    };
    let a: TestApp;
    let b: SecondInstance;
    let token: string;

    beforeAll(async () => {
      a = await startTestApp(limits);
      b = await startSecondInstance(a, limits);
      token = mintToken(a.config, { sub: 'tester', permissions: ['phone:admin'], ttl: '1h' });
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    const on = (i: number) => client({ baseUrl: i % 2 === 0 ? a.baseUrl : b.baseUrl }, token);

    it('twelve concurrent messages split between the instances send exactly as many as the daily limit allows', async () => {
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => on(i)('POST', '/api/phone/sms', { to: '+14155550100', message: `instance ${i % 2}` })),
      );
      // 0.05 / 0.01 per message: five, whichever instance each request reached
      expect(replies.filter((r) => r.status === 201)).toHaveLength(5);
      expect(replies.filter((r) => r.status === 402 && r.body.code === 'spending_limit_reached')).toHaveLength(7);
      expect(a.sandbox.messages()).toHaveLength(5);
    });

    it('twelve concurrent calls split between the instances place exactly three', async () => {
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => on(i)('POST', '/api/phone/call', { to: STAYS_UP, message: `instance ${i % 2}` })),
      );
      expect(replies.filter((r) => r.status === 201)).toHaveLength(3);
      expect(replies.filter((r) => r.status === 429 && r.body.code === 'live_call_limit')).toHaveLength(9);
      expect(a.sandbox.calls()).toHaveLength(3);
      for (const r of replies.filter((reply) => reply.status === 201)) {
        expect((await on(0)('POST', `/api/phone/calls/${r.body.sid}/hangup`)).status).toBe(200);
      }
    });
  },
);
