import { fieldsOf, request, type JsonBody } from '../support/http';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { QUICK_CAMPAIGN_ENGINE } from '../support/campaign-engine';

const SPEED = 20;
const ACCOUNT_RATE = 2;
const ALWAYS = { start: '00:00', end: '24:00' };

/** The most of `times` (ms, any order) within one window of `windowMs`, its end excluded. */
function mostInAnyWindow(times: number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0, first = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[first] >= windowMs) first++;
    most = Math.max(most, i - first + 1);
  }
  return most;
}

describe('the account rate, shared by every campaign', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({
      SANDBOX_SPEED: String(SPEED),
      ...QUICK_CAMPAIGN_ENGINE,
      RATE_LIMIT_SMS: '100000',
      CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: String(ACCOUNT_RATE),
      CAMPAIGN_ACCOUNT_SMS_PER_SECOND: String(ACCOUNT_RATE),
    });
    token = t.token(['phone:call', 'phone:sms', 'phone:view']);
  });

  afterAll(async () => {
    await t?.close();
  });

  it('a campaign asking for more than the account rate is refused with 400 naming pacing.per_second', async () => {
    const calls = await request(t, 'POST', '/api/phone/campaigns', {
      token,
      body: { name: 'Fast', message: 'Hi', recipients: [{ to: '+14155550131' }], pacing: { per_second: ACCOUNT_RATE + 1 } },
    });
    expect([calls.status, fieldsOf(calls.body)]).toEqual([400, ['pacing.per_second']]);
    expect(calls.body.message).toBe(
      `pacing.per_second must be at most ${ACCOUNT_RATE}: the account places at most ${ACCOUNT_RATE} calls a second, shared by all its campaigns`,
    );
    const texts = await request(t, 'POST', '/api/phone/campaigns', {
      token,
      body: { name: 'Fast', sms_body: 'Hi', recipients: [{ to: '+14155550131' }], pacing: { per_second: ACCOUNT_RATE + 1 } },
    });
    expect([texts.status, fieldsOf(texts.body)]).toEqual([400, ['pacing.per_second']]);
    expect(texts.body.message).toContain(`at most ${ACCOUNT_RATE} messages a second`);
  });

  it.each([
    { channel: 'call', content: { message: 'Hi' }, base: 6000 },
    { channel: 'sms', content: { sms_body: 'Hi' }, base: 6100 },
  ])(
    'two $channel campaigns at once: over any one second at most the account rate reach Twilio between them',
    { timeout: 90_000 },
    async ({ channel, content, base }) => {
      const numbers = Array.from({ length: 16 }, (_, i) => `+1415555${String(base + i)}`);
      const ids: string[] = [];
      // both due at once: the engine fetches them together and runs them side by side
      const startAt = new Date(Date.now() + 3000).toISOString();
      for (const half of [numbers.slice(0, 8), numbers.slice(8)]) {
        const { status, body } = await request(t, 'POST', '/api/phone/campaigns', {
          token,
          body: {
            name: `Sharing ${channel}`,
            start_at: startAt,
            ...content,
            calling_window: ALWAYS,
            // each alone may use the whole account rate
            pacing: { per_second: ACCOUNT_RATE, max_live: 50 },
            recipients: half.map((to) => ({ to })),
          },
        });
        expect(status).toBe(201);
        ids.push(body.id);
      }
      for (const id of ids) {
        await eventually(
          async () => {
            const { body }: { body: JsonBody } = await request(t, 'GET', `/api/phone/campaigns/${id}`, { token });
            return body.state === 'completed';
          },
          80_000,
          200,
        );
      }
      const placed = channel === 'call' ? t.sandbox.calls() : t.sandbox.messages();
      const created = placed.filter((r) => numbers.includes(r.to)).map((r) => r.dateCreated.getTime());
      expect(created).toHaveLength(16);
      // one real second is SPEED of the sandbox's seconds
      expect(mostInAnyWindow(created, 1000 * SPEED)).toBeLessThanOrEqual(ACCOUNT_RATE);
    },
  );
});
