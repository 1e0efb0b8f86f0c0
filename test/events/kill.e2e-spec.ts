import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mintToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config/app-config';
import { EventReceiver } from '../support/event-receiver';
import { JsonBody, request } from '../support/http';
import { buildServiceCopy, runService } from '../support/service-process';
import { TEST_JWT_SECRET, eventually, freePort, freshDatabase } from '../support/test-app';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('events survive a killed service', () => {
  let dir: string;

  beforeAll(() => {
    dir = buildServiceCopy('events-kill-build-');
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL mid-run, restart: the receiver gets every event the database has, and no other', { timeout: 240_000 }, async () => {
    const receiver = await new EventReceiver().start();
    const db = await freshDatabase();
    const dataDir = db.env.DATABASE_URL ? null : mkdtempSync(join(tmpdir(), 'events-kill-pglite-'));
    const stateDir = mkdtempSync(join(tmpdir(), 'events-kill-sandbox-'));
    const port = await freePort();
    const env = {
      ...(dataDir ? { PGLITE_DATA_DIR: dataDir } : db.env),
      SANDBOX_STATE_FILE: join(stateDir, 'sandbox.json'),
      SANDBOX_SPEED: '5',
      RECONCILE_INTERVAL_SECONDS: '1',
      RECONCILE_STALE_AFTER_SECONDS: '2',
      ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
      EVENT_RELAY_INTERVAL_MS: '100',
      EVENT_RETRY_DELAY_SECONDS: '1',
      EVENT_DELIVERY_TIMEOUT_MS: '1000',
      RATE_LIMIT_CALLS: '1000',
      LOG_LEVEL: 'warn',
    };
    const t = { baseUrl: `http://127.0.0.1:${port}` };
    const token = mintToken(loadConfig({ JWT_SECRET: TEST_JWT_SECRET }), {
      sub: 'kill',
      permissions: ['phone:admin'],
      ttl: '1h',
    });
    let service = await runService(dir, port, env);
    try {
      const created = await request(t, 'POST', '/api/phone/event-endpoints', { token, body: { url: receiver.url, event_types: ['*'] } });
      expect(created.status).toBe(201);
      receiver.secrets.push(created.body.secret);

      const sids: string[] = [];
      for (let i = 0; i < 6; i++) {
        const call = await request(t, 'POST', '/api/phone/call', {
          token,
          body: { to: `+1415555${String(6100 + i)}`, message: 'Hello, this call is here to be cut short by a kill.' },
        });
        expect(call.status, JSON.stringify(call.body)).toBe(201);
        sids.push(call.body.sid);
        const sms = await request(t, 'POST', '/api/phone/sms', { token, body: { to: `+1415555${String(6200 + i)}`, message: 'Hi' } });
        sids.push(sms.body.sid);
        await sleep(150);
      }
      // calls are ringing or talking, events are being delivered
      service.child.kill('SIGKILL');
      await service.exited;
      const receivedBeforeRestart = receiver.received.length;
      service = await runService(dir, port, env);

      // every call and message reaches its end (the sandbox ends what the kill interrupted; reconciliation catches up)
      await eventually(
        async () => {
          for (const sid of sids) {
            const path = sid.startsWith('CA') ? `/api/phone/calls/${sid}` : `/api/phone/sms/${sid}`;
            const res = await request(t, 'GET', path, { token });
            if (!['completed', 'busy', 'no-answer', 'failed', 'canceled', 'delivered', 'undelivered'].includes(res.body.status))
              return false;
          }
          return true;
        },
        120_000,
        500,
      );
      // ...and nothing is left to deliver
      const stored = await eventually(
        async () => {
          const all: JsonBody[] = [];
          let cursor: string | null = null;
          do {
            const page: JsonBody = await request(t, 'GET', `/api/phone/events?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { token });
            all.push(...page.body.events);
            cursor = page.body.next_cursor;
          } while (cursor);
          const settled = all.every((e) => e.deliveries.length === 1 && e.deliveries[0].state === 'delivered');
          return settled ? all : null;
        },
        60_000,
        500,
      );
      expect(receivedBeforeRestart).toBeGreaterThan(0);
      const storedIds = new Set(stored.map((e) => e.id));
      const receivedIds = new Set(receiver.received.map((e) => e.body.id));
      // nothing lost, nothing out of thin air
      expect([...receivedIds].sort()).toEqual([...storedIds].sort());
      // each call told its whole story
      for (const sid of sids.filter((s) => s.startsWith('CA'))) {
        const types = stored.filter((e) => e.resource_sid === sid).map((e) => e.type);
        expect(types).toContain('call.initiated');
        expect(types).toContain('call.completed');
      }
      for (const e of receiver.received) {
        expect(e.verifiedBy).toEqual([created.body.secret]);
        expect(e.headers['webhook-id']).toBe(e.body.id);
        // a duplicate is the same event: same id, same body
        expect(e.body).toEqual(stored.find((s) => s.id === e.body.id).payload);
      }
    } finally {
      service.child.kill('SIGKILL');
      await service.exited;
      await receiver.stop();
      await db.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
