import { randomUUID } from 'node:crypto';
import { type SecondInstance, startSecondInstance, startTestApp, type TestApp } from '../support/test-app';

const skipReason = 'needs DATABASE_URL (Postgres): embedded PGlite serves a single process';

describe.skipIf(!process.env.DATABASE_URL)(
  `one Idempotency-Key sent to two service instances on one database (${process.env.DATABASE_URL ? 'Postgres' : skipReason})`,
  () => {
    let a: TestApp;
    let b: SecondInstance;

    beforeAll(async () => {
      a = await startTestApp({ RATE_LIMIT_CALLS: '1000' });
      b = await startSecondInstance(a, { RATE_LIMIT_CALLS: '1000' });
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
          const res = await fetch(`${i % 2 === 0 ? a.baseUrl : b.baseUrl}/api/phone/call`, {
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

      const fromB = await fetch(`${b.baseUrl}/api/phone/call`, {
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
