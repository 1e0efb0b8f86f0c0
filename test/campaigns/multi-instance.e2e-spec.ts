import { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';
import { request, type JsonBody } from '../support/http';
import { TEST_JWT_SECRET, eventually, freePort, startTestApp, type TestApp } from '../support/test-app';

const skipReason = 'needs DATABASE_URL (Postgres): embedded PGlite serves a single process';
const SPEED = 20;
/** Calls this instance asked Twilio for, as its /metrics tells (0 when none). */
async function callsPlacedBy(baseUrl: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const series = 'twilio_requests_total{operation="placeCall",outcome="ok"} ';
  const line = text.split('\n').find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length)) : 0;
}

const ENGINE = { CAMPAIGN_POLLING_INTERVAL_SECONDS: '0.5', CAMPAIGN_RUN_SECONDS: '1', CAMPAIGN_LEASE_SECONDS: '5' };

describe.skipIf(!process.env.DATABASE_URL)(
  `one campaign, two service instances on one database (${process.env.DATABASE_URL ? 'Postgres' : skipReason})`,
  () => {
    let a: TestApp;
    let b: INestApplication | null = null;
    let bUrl: string;

    beforeAll(async () => {
      a = await startTestApp({ SANDBOX_SPEED: String(SPEED), RATE_LIMIT_CALLS: '100000', ...ENGINE });
      const port = await freePort();
      const config = loadConfig({
        NODE_ENV: 'test',
        PORT: String(port),
        HOST: '127.0.0.1',
        JWT_SECRET: TEST_JWT_SECRET,
        RECONCILE_ENABLED: 'false',
        LOG_LEVEL: 'error',
        RATE_LIMIT_CALLS: '100000',
        ...ENGINE,
        DATABASE_URL: a.config.database.url!,
        TWILIO_ACCOUNT_SID: a.sandbox.accountSid,
        TWILIO_AUTH_TOKEN: a.sandbox.authToken,
        TWILIO_API_BASE_URL: a.sandbox.baseUrl,
        SAMSAEK_TWILIO_PHONE_NUMBER: a.config.twilio.phoneNumber,
        // behind one public address in production: Twilio signs that URL, whichever instance placed the call
        SAMSAEK_TWILIO_WEBHOOK_URL: a.config.twilio.webhookBaseUrl,
      });
      b = await createApp(config);
      await b.listen(port, '127.0.0.1');
      bUrl = `http://127.0.0.1:${port}`;
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
            pacing: { per_second: 4, max_live: 3 },
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
        const [byA, byB] = [await callsPlacedBy(a.baseUrl), await callsPlacedBy(bUrl)];
        expect(byA + byB).toBe(16);
        expect(byA, 'calls placed by the first instance').toBeGreaterThan(0);
        expect(byB, 'calls placed by the second instance').toBeGreaterThan(0);
        const created = calls.map((c) => c.dateCreated.getTime()).sort((x, y) => x - y);
        for (let i = 4; i < created.length; i++) expect(created[i] - created[i - 4]).toBeGreaterThan(1000 * SPEED);
        for (const call of calls) {
          const live = calls.filter((c) => c.dateCreated <= call.dateCreated && (c.endTime ?? c.dateUpdated) > call.dateCreated);
          expect(live.length).toBeLessThanOrEqual(3);
        }
      },
    );
  },
);
