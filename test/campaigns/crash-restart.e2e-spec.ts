import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TwilioSandbox } from '@samsaek/twilio-sandbox';
import { mintToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config/app-config';
import { request, type JsonBody } from '../support/http';
import { buildServiceCopy, runService, type ServiceProcess } from '../support/service-process';
import { TEST_JWT_SECRET, eventually, freePort, freshDatabase } from '../support/test-app';
import { QUICK_CAMPAIGN_ENGINE } from '../support/campaign-engine';

/**
 * Real time: reconciliation matches a call whose placing the kill interrupted (stored, never told
 * its sid) with Twilio's list by creation time, which a faster sandbox clock would move ahead.
 */
const SPEED = 1;
const RECIPIENTS = 24;

describe('a campaign survives a killed service', () => {
  let dir: string;

  beforeAll(() => {
    dir = buildServiceCopy('campaign-kill-build-');
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL mid-campaign, restart: every recipient is dialed exactly once and the campaign completes', { timeout: 240_000 }, async () => {
    // the sandbox lives outside the service, so its record of call creations spans the kill
    const sandbox = await TwilioSandbox.start({ port: 0, host: '127.0.0.1', speed: SPEED, cps: 50 });
    const db = await freshDatabase();
    const dataDir = db.env.DATABASE_URL ? null : mkdtempSync(join(tmpdir(), 'campaign-kill-pglite-'));
    const port = await freePort();
    const env = {
      ...(dataDir ? { PGLITE_DATA_DIR: dataDir } : db.env),
      TWILIO_ACCOUNT_SID: sandbox.accountSid,
      TWILIO_AUTH_TOKEN: sandbox.authToken,
      TWILIO_API_BASE_URL: sandbox.baseUrl,
      SAMSAEK_TWILIO_PHONE_NUMBER: '+14155550199',
      SAMSAEK_TWILIO_WEBHOOK_URL: `http://127.0.0.1:${port}/api/phone/webhook`,
      RECONCILE_INTERVAL_SECONDS: '1',
      RECONCILE_STALE_AFTER_SECONDS: '2',
      RECONCILE_INTENT_GRACE_SECONDS: '5',
      // a kill between storing a call and asking Twilio leaves one Twilio never received: found so
      // after this window, it is placed again within the test's time
      RECONCILE_INTENT_WINDOW_SECONDS: '10',
      ...QUICK_CAMPAIGN_ENGINE,
      CAMPAIGN_LEASE_SECONDS: '5',
      CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: '4',
      LOG_LEVEL: 'warn',
    };
    const t = { baseUrl: `http://127.0.0.1:${port}` };
    const token = mintToken(loadConfig({ JWT_SECRET: TEST_JWT_SECRET }), {
      sub: 'kill',
      permissions: ['phone:call', 'phone:view'],
      ttl: '1h',
    });
    const numbers = Array.from({ length: RECIPIENTS }, (_, i) => `+1415555${String(7300 + i)}`);
    const dialed = () => sandbox.calls().filter((c) => numbers.includes(c.to));
    let service: ServiceProcess = await runService(dir, port, env);
    try {
      const created = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: {
          name: 'Cut short',
          message: 'Hello.',
          calling_window: { start: '00:00', end: '24:00' },
          pacing: { per_second: 4, max_live: 8 },
          recipients: numbers.map((to) => ({ to })),
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);

      // part of the campaign is placed, the rest waits: the run is killed in the middle
      await eventually(async () => dialed().length >= 6, 60_000, 20);
      service.child.kill('SIGKILL');
      await service.exited;
      const beforeRestart = dialed().length;
      expect(beforeRestart).toBeLessThan(RECIPIENTS);
      service = await runService(dir, port, env);

      let last: JsonBody = null;
      const done: JsonBody = await eventually(
        async () => {
          last = (await request(t, 'GET', `/api/phone/campaigns/${created.body.id}`, { token })).body;
          return last.state === 'completed' ? last : null;
        },
        150_000,
        250,
      ).catch(async (error: unknown) => {
        const rows = (await request(t, 'GET', `/api/phone/campaigns/${created.body.id}/recipients?limit=100`, { token })).body.recipients;
        const open = (rows as JsonBody[]).filter((r) => r.state !== 'completed' && r.state !== 'failed');
        const calls = await Promise.all(
          open.flatMap((r) =>
            r.attempts.filter((a: JsonBody) => a.sid).map((a: JsonBody) => request(t, 'GET', `/api/phone/calls/${a.sid}`, { token })),
          ),
        );
        const state = {
          counts: last?.counts,
          open,
          calls: calls.map((c) => c.body),
          sandbox: dialed().filter((c) => open.some((r) => r.to === c.to)),
        };
        throw new Error(`the campaign did not complete: ${JSON.stringify(state)}`, { cause: error });
      });
      // nothing lost, nothing dialed twice
      expect(
        dialed()
          .map((c) => c.to)
          .sort(),
      ).toEqual(numbers);
      expect(done.counts.completed + done.counts.failed).toBe(RECIPIENTS);
      const { body } = await request(t, 'GET', `/api/phone/campaigns/${created.body.id}/recipients?limit=100`, { token });
      expect(body.recipients).toHaveLength(RECIPIENTS);
      for (const r of body.recipients as JsonBody[]) {
        expect(r.attempts.length, JSON.stringify(r)).toBe(1);
        expect(r.attempts[0].sid).toBe(dialed().find((c) => c.to === r.to)!.sid);
      }
    } finally {
      service.child.kill('SIGKILL');
      await service.exited;
      await sandbox.stop();
      await db.drop();
      if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
