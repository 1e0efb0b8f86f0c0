import { request, type JsonBody } from '../support/http';
import { type SecondInstance, eventually, startSecondInstance, startTestApp, type TestApp } from '../support/test-app';
import { QUICK_CAMPAIGN_ENGINE } from '../support/campaign-engine';

const skipReason = 'needs DATABASE_URL (Postgres): embedded PGlite serves a single process';
const SPEED = 20;
/** Calls a second the account allows, over all its campaigns. */
const ACCOUNT_RATE = 2;
/** Calls this instance asked Twilio for, as its /metrics tells (0 when none). */
async function callsPlacedBy(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const series = 'twilio_requests_total{operation="placeCall",outcome="ok"} ';
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length)) : 0;
}

const ENGINE = {
  ...QUICK_CAMPAIGN_ENGINE,
  CAMPAIGN_RUN_SECONDS: '1',
  CAMPAIGN_LEASE_SECONDS: '5',
  CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: String(ACCOUNT_RATE),
};

describe.skipIf(!process.env.DATABASE_URL)(
  `one campaign, two service instances on one database (${process.env.DATABASE_URL ? 'Postgres' : skipReason})`,
  () => {
    let a: TestApp;
    let b: SecondInstance;

    beforeAll(async () => {
      a = await startTestApp({ SANDBOX_SPEED: String(SPEED), ...ENGINE });
      // behind one public address in production: Twilio signs that URL, whichever instance placed the call
      b = await startSecondInstance(a, { ...ENGINE });
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it(
      'both instances place calls of the campaign: every recipient is dialed exactly once and the pacing holds across them',
      { timeout: 90_000 },
      async () => {
        const token = a.token(['phone:call', 'phone:view']);
        const numbers = Array.from({ length: 16 }, (_, i) => `+1415555${String(5200 + i)}`);
        const { body } = await request(a, 'POST', '/api/phone/campaigns', {
          token,
          body: {
            name: 'Two instances',
            message: 'Hi',
            calling_window: { start: '00:00', end: '24:00' },
            pacing: { per_second: ACCOUNT_RATE, max_live: 3 },
            recipients: numbers.map((to) => ({ to })),
          },
        });
        let last: JsonBody = null;
        const done: JsonBody = await eventually(
          async () => {
            last = (await request(a, 'GET', `/api/phone/campaigns/${body.id}`, { token })).body;
            return last.state === 'completed' ? last : null;
          },
          80_000,
          200,
        ).catch(async (error: unknown) => {
          const rows = (await request(a, 'GET', `/api/phone/campaigns/${body.id}/recipients`, { token })).body.recipients as JsonBody[];
          const open = rows.filter((r) => r.state !== 'completed' && r.state !== 'failed');
          throw new Error(
            `the campaign did not complete: ${JSON.stringify({ state: last?.state, counts: last?.counts, reason: last?.paused_reason, open })}`,
            {
              cause: error,
            },
          );
        });
        expect(done.counts.completed).toBe(16);
        const calls = a.sandbox.calls().filter((c) => numbers.includes(c.to));
        expect(calls.map((c) => c.to).sort()).toEqual(numbers);
        // each instance asked Twilio for some of the calls, and together for each call once
        const [byA, byB] = [await callsPlacedBy(a.baseUrl), await callsPlacedBy(b.baseUrl)];
        expect(byA + byB).toBe(16);
        expect(byA, 'calls placed by the first instance').toBeGreaterThan(0);
        expect(byB, 'calls placed by the second instance').toBeGreaterThan(0);
        const created = calls.map((c) => c.dateCreated.getTime()).sort((x, y) => x - y);
        for (let i = ACCOUNT_RATE; i < created.length; i++) expect(created[i] - created[i - ACCOUNT_RATE]).toBeGreaterThan(1000 * SPEED);
        for (const call of calls) {
          const live = calls.filter((c) => c.dateCreated <= call.dateCreated && (c.endTime ?? c.dateUpdated) > call.dateCreated);
          expect(live.length).toBeLessThanOrEqual(3);
        }
      },
    );

    it(
      `two campaigns at once on two instances share the account rate: over any one second at most ${ACCOUNT_RATE} calls reach Twilio`,
      { timeout: 90_000 },
      async () => {
        const token = a.token(['phone:call', 'phone:view']);
        const numbers = Array.from({ length: 24 }, (_, i) => `+1415555${String(5300 + i)}`);
        const ids: string[] = [];
        // both due at once: the engine fetches them together and runs them side by side
        const startAt = new Date(Date.now() + 3000).toISOString();
        for (const half of [numbers.slice(0, 12), numbers.slice(12)]) {
          const { status, body } = await request(a, 'POST', '/api/phone/campaigns', {
            token,
            body: {
              name: 'Sharing the account',
              start_at: startAt,
              message: 'Hi',
              calling_window: { start: '00:00', end: '24:00' },
              pacing: { per_second: ACCOUNT_RATE, max_live: 20 },
              recipients: half.map((to) => ({ to })),
            },
          });
          expect(status).toBe(201);
          ids.push(body.id);
        }
        const before = [await callsPlacedBy(a.baseUrl), await callsPlacedBy(b.baseUrl)];
        for (const id of ids) {
          await eventually(
            async () => (await request(a, 'GET', `/api/phone/campaigns/${id}`, { token })).body.state === 'completed',
            80_000,
            200,
          );
        }
        const [byA, byB] = [(await callsPlacedBy(a.baseUrl)) - before[0], (await callsPlacedBy(b.baseUrl)) - before[1]];
        expect(byA + byB).toBe(24);
        expect(byA, 'calls placed by the first instance').toBeGreaterThan(0);
        expect(byB, 'calls placed by the second instance').toBeGreaterThan(0);
        const created = a.sandbox
          .calls()
          .filter((c) => numbers.includes(c.to))
          .map((c) => c.dateCreated.getTime())
          .sort((x, y) => x - y);
        expect(created).toHaveLength(24);
        for (let i = ACCOUNT_RATE; i < created.length; i++) {
          expect(created[i] - created[i - ACCOUNT_RATE]).toBeGreaterThanOrEqual(1000 * SPEED);
        }
      },
    );
  },
);
