import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JsonBody, request } from '../support/http';
import { TestApp, eventually, freshDatabase, startTestApp } from '../support/test-app';

/**
 * `npm start` twice on the same data: the in-process sandbox keeps its account beside PGlite's
 * data, so what the database remembers (numbers bought, calls made) is still true at "Twilio".
 * On PostgreSQL the test keeps one database across both starts and names the state file itself.
 */
describe('a restart on the same data keeps the sandbox account', () => {
  let dir: string;
  let env: Record<string, string>;
  let dropDatabase: () => Promise<void> = async () => undefined;
  let t: TestApp | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'samsaek-restart-'));
    if (process.env.DATABASE_URL) {
      const db = await freshDatabase();
      dropDatabase = () => db.drop();
      env = { ...db.env, SANDBOX_STATE_FILE: join(dir, 'sandbox.json') };
    } else {
      env = { PGLITE_DATA_DIR: join(dir, 'pglite') };
    }
  });
  afterAll(async () => {
    await t?.close();
    await dropDatabase();
    rmSync(dir, { recursive: true, force: true });
  });

  const purchase = (app: TestApp) =>
    request(app, 'POST', '/api/phone/numbers/purchase', {
      token: app.token(['phone:admin']),
      body: { phone_number: '+14155550123', friendly_name: 'Samsaek Main Line' },
    });

  it('still owns the number bought and still knows the call made before the restart', async () => {
    t = await startTestApp(env);
    const bought = await purchase(t);
    expect(bought.status, JSON.stringify(bought.body)).toBe(201);
    const placed = await request(t, 'POST', '/api/phone/call', {
      token: t.token(['phone:call']),
      body: { to: '+14155550100', message: 'Before the restart.' },
    });
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const callSid = placed.body.sid as string;
    await t.sandbox.settle(15_000);
    expect(t.sandbox.calls().find((c) => c.sid === callSid)?.status).toBe('completed');
    await t.close();
    t = undefined;

    t = await startTestApp({ ...env, CALL_REFRESH_AFTER_SECONDS: '0' });
    expect(t.sandbox.calls().find((c) => c.sid === callSid)).toMatchObject({ status: 'completed', to: '+14155550100' });

    // GET numbers asks Twilio: a number Twilio no longer had would be marked released here
    const listed = await request(t, 'GET', '/api/phone/numbers', { token: t.token(['phone:view']) });
    expect(listed.status).toBe(200);
    expect(listed.body.numbers.map((n: JsonBody) => n.phone_number)).toContain('+14155550123');

    const again = await purchase(t);
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ code: 'conflict', details: [{ field: 'phone_number' }] });

    // the call is read from Twilio again (refresh on every read) and is still there, with its price
    const call = await request(t, 'GET', `/api/phone/calls/${callSid}`, { token: t.token(['phone:view']) });
    expect(call.status).toBe(200);
    expect(call.body).toMatchObject({ sid: callSid, status: 'completed' });
    await eventually(async () => {
      const res = await request(t!, 'GET', `/api/phone/calls/${callSid}`, { token: t!.token(['phone:view']) });
      return res.body.price !== null;
    });
  });

  it('starts empty on an in-memory database', async () => {
    await t?.close();
    t = await startTestApp({ PGLITE_DATA_DIR: 'memory://' });
    expect(t.sandbox.calls()).toEqual([]);
    expect((await purchase(t)).status).toBe(201);
  });
});
