import { randomUUID } from 'node:crypto';
import { INestApplication } from '@nestjs/common';
import { createApp } from '../../src/app.factory';
import { loadConfig } from '../../src/config/app-config';
import { TEST_JWT_SECRET, freePort, startTestApp, type TestApp } from '../support/test-app';

const skipReason = 'needs DATABASE_URL (Postgres): embedded PGlite serves a single process';

describe.skipIf(!process.env.DATABASE_URL)(
  `one Idempotency-Key sent to two service instances on one database (${process.env.DATABASE_URL ? 'Postgres' : skipReason})`,
  () => {
    let a: TestApp;
    let b: INestApplication;
    let bBase: string;

    beforeAll(async () => {
      a = await startTestApp({ RATE_LIMIT_CALLS: '1000' });
      const bPort = await freePort();
      const config = loadConfig({
        NODE_ENV: 'test',
        PORT: String(bPort),
        HOST: '127.0.0.1',
        JWT_SECRET: TEST_JWT_SECRET,
        RECONCILE_ENABLED: 'false',
        LOG_LEVEL: 'error',
        RATE_LIMIT_CALLS: '1000',
        DATABASE_URL: a.config.database.url!,
        TWILIO_ACCOUNT_SID: a.sandbox.accountSid,
        TWILIO_AUTH_TOKEN: a.sandbox.authToken,
        TWILIO_API_BASE_URL: a.sandbox.baseUrl,
        SAMSAEK_TWILIO_PHONE_NUMBER: a.config.twilio.phoneNumber,
        SAMSAEK_TWILIO_WEBHOOK_URL: `${a.baseUrl}/api/phone/webhook`,
      });
      b = await createApp(config);
      await b.listen(bPort, '127.0.0.1');
      bBase = `http://127.0.0.1:${bPort}`;
    });

    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it('twenty concurrent copies split between the instances place exactly one call', async () => {
      const token = a.token(['phone:call'], 'idem-multi');
      const key = randomUUID();
      const body = JSON.stringify({ to: '+14155550161', message: 'Once across instances.' });
      const answers = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const res = await fetch(`${i % 2 === 0 ? a.baseUrl : bBase}/api/phone/call`, {
            method: 'POST',
            headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
            body,
          });
          return {
            status: res.status,
            replayed: res.headers.get('idempotent-replayed'),
            body: (await res.json()) as Record<string, unknown>,
          };
        }),
      );
      const ran = answers.filter((r) => r.status === 201 && r.replayed === null);
      expect(ran).toHaveLength(1);
      for (const answer of answers) {
        if (answer.status === 201) expect(answer.body).toEqual(ran[0].body);
        else expect([answer.status, answer.body.code]).toEqual([409, 'idempotency_key_in_use']);
      }
      expect(a.sandbox.calls().filter((c) => c.to === '+14155550161')).toHaveLength(1);

      const fromB = await fetch(`${bBase}/api/phone/call`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body,
      });
      expect(fromB.status).toBe(201);
      expect(fromB.headers.get('idempotent-replayed')).toBe('true');
      expect(await fromB.json()).toEqual(ran[0].body);
    });
  },
);
