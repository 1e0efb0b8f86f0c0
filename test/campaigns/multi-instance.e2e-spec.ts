import { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';
import { request, type JsonBody } from '../support/http';
import { TEST_JWT_SECRET, eventually, freePort, startTestApp, type TestApp } from '../support/test-app';

const skipReason = 'needs DATABASE_URL (Postgres): embedded PGlite serves a single process';
const SPEED = 20;
const ENGINE = { CAMPAIGN_POLLING_INTERVAL_SECONDS: '0.5', CAMPAIGN_RUN_SECONDS: '1', CAMPAIGN_LEASE_SECONDS: '5' };

describe.skipIf(!process.env.DATABASE_URL)(
  `one campaign, two service instances on one database (${process.env.DATABASE_URL ? 'Postgres' : skipReason})`,
  () => {
    let a: TestApp;
    let b: INestApplication | null = null;

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
        SAMSAEK_TWILIO_WEBHOOK_URL: `${a.baseUrl}/api/phone/webhook`,
      });
      b = await createApp(config);
      await b.listen(port, '127.0.0.1');
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it(
      'both instances poll the campaign queue: every recipient is dialed exactly once and the pacing holds across them',
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
        const done: JsonBody = await eventually(
          async () => {
            const reply = await request(a, 'GET', `/api/phone/campaigns/${body.id}`, { token });
            return reply.body.state === 'completed' ? reply.body : null;
          },
          80_000,
          200,
        );
        expect(done.counts.completed).toBe(16);
        const calls = a.sandbox.calls().filter((c) => numbers.includes(c.to));
        expect(calls.map((c) => c.to).sort()).toEqual(numbers);
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
