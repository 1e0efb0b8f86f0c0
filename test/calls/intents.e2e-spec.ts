import { twilioCallbackUrl } from '../../src/common/twilio-callback-url';
import { DataSource } from 'typeorm';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { JsonBody, Reply, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * Every call and SMS is stored before Twilio is asked, so neither a lost Twilio answer nor a failed
 * write after Twilio acted loses the request or acts twice. The sandbox runs at real speed here:
 * matching Twilio's calls and messages to stored requests compares Twilio's date_created with ours.
 */
let t: TestApp;
let reconcile: ReconcileService;
let token: string;

const TWILIO_TIMEOUT_MS = 400;
const INTENT_WINDOW_SECONDS = 2;

function api(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(t, method, path, { token, body });
}

function db(): DataSource {
  return t.app.get(DataSource);
}

async function rows(table: 'call_records' | 'message_records', to: string): Promise<JsonBody[]> {
  return db().query(`SELECT * FROM ${table} WHERE to_number = $1 ORDER BY created_at`, [to]);
}

const sandboxCallsTo = (to: string) => t.sandbox.calls().filter((c) => c.to === to);
const sandboxMessagesTo = (to: string) => t.sandbox.messages().filter((m) => m.to === to);

/** Makes every UPDATE that gives a record its sid fail, as a database refusing writes would. */
async function refuseSidWrites(table: 'call_records' | 'message_records'): Promise<() => Promise<void>> {
  await db().query(`CREATE OR REPLACE FUNCTION refuse_sid_write() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'sid writes refused by the test'; END $$`);
  await db().query(
    `CREATE TRIGGER refuse_sid_write BEFORE UPDATE OF sid ON ${table} FOR EACH ROW
     WHEN (OLD.sid IS NULL AND NEW.sid IS NOT NULL) EXECUTE FUNCTION refuse_sid_write()`,
  );
  return async () => {
    await db().query(`DROP TRIGGER refuse_sid_write ON ${table}`);
  };
}

async function refuseInserts(table: 'call_records' | 'message_records'): Promise<() => Promise<void>> {
  await db().query(`CREATE OR REPLACE FUNCTION refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'inserts refused by the test'; END $$`);
  await db().query(`CREATE TRIGGER refuse_insert BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_insert()`);
  return async () => {
    await db().query(`DROP TRIGGER refuse_insert ON ${table}`);
  };
}

beforeAll(async () => {
  t = await startTestApp({
    SANDBOX_SPEED: '1',
    TWILIO_TIMEOUT_MS: String(TWILIO_TIMEOUT_MS),
    RECONCILE_INTENT_GRACE_SECONDS: '0',
    RECONCILE_INTENT_WINDOW_SECONDS: String(INTENT_WINDOW_SECONDS),
    RATE_LIMIT_CALLS: '1000',
    RATE_LIMIT_SMS: '1000',
  });
  reconcile = t.app.get(ReconcileService);
  token = t.token(['phone:admin'], 'intent-tester');
});

afterEach(() => t.sandbox.setFaults({}));

afterAll(async () => {
  await t?.close();
});

describe('Twilio slower than TWILIO_TIMEOUT_MS', () => {
  it('a call answers 202 unknown with its id; reconciliation completes the same row with every field', async () => {
    const to = '+14155550171';
    // slow: the sandbox places the call after the client gave up; its callbacks are lost too
    t.sandbox.setFaults({ slow: 1, slowMs: TWILIO_TIMEOUT_MS * 3, callbackDrop: 1 });
    const res = await api('POST', '/api/phone/call', {
      to,
      message: 'Your order shipped.',
      agent_name: 'Slow Agent',
      call_purpose: 'shipping',
      workflow_id: 'wf-slow',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ sid: null, status: 'unknown', to, agent_name: 'Slow Agent', created_by: 'intent-tester' });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);
    // the held request keeps its delay; reconciliation's own requests must not be slow
    t.sandbox.setFaults({ callbackDrop: 1 });

    await eventually(async () => sandboxCallsTo(to).length === 1);
    const byIdBefore = await api('GET', `/api/phone/calls/${res.body.id}`);
    expect(byIdBefore.body).toMatchObject({ id: res.body.id, sid: null, status: 'unknown' });

    const report = await reconcile.runOnce();
    expect(report.intents_resolved).toBe(1);
    const placed = sandboxCallsTo(to)[0];
    const got = await api('GET', `/api/phone/calls/${res.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body).toMatchObject({
      id: res.body.id,
      sid: placed.sid,
      message: 'Your order shipped.',
      agent_name: 'Slow Agent',
      call_purpose: 'shipping',
      workflow_id: 'wf-slow',
      created_by: 'intent-tester',
    });
    expect(got.body.status).not.toBe('unknown');
    expect((await api('GET', `/api/phone/calls/${placed.sid}`)).body.id).toBe(res.body.id);
    expect(await rows('call_records', to)).toHaveLength(1);
    expect(sandboxCallsTo(to)).toHaveLength(1);
  });

  it('an SMS answers 202 unknown; its status callback (with record_id) completes the same row', async () => {
    const to = '+14155550172';
    t.sandbox.setFaults({ slow: 1, slowMs: TWILIO_TIMEOUT_MS * 3 });
    const res = await api('POST', '/api/phone/sms', { to, message: 'Slow hello', agent_name: 'Slow Texter' });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ sid: null, status: 'unknown', body: 'Slow hello', agent_name: 'Slow Texter' });
    t.sandbox.setFaults({});

    const sent = await eventually(async () => sandboxMessagesTo(to)[0]);
    // the callback gives the row its sid, then applies its status
    const got = await eventually(async () => {
      const r = await api('GET', `/api/phone/sms/${res.body.id}`);
      return r.body.sid && r.body.status !== 'unknown' ? r : null;
    }, 15_000);
    expect(got.body).toMatchObject({
      id: res.body.id,
      sid: sent.sid,
      body: 'Slow hello',
      agent_name: 'Slow Texter',
      created_by: 'intent-tester',
    });
    expect(got.body.status).not.toBe('unknown');
    expect(await rows('message_records', to)).toHaveLength(1);
    expect(sandboxMessagesTo(to)).toHaveLength(1);
  });
});

describe('the write after Twilio acted fails', () => {
  it('a call: no 5xx; once the database takes writes again reconciliation completes the row, stored once', async () => {
    const to = '+14155550173';
    const restore = await refuseSidWrites('call_records');
    let res: Reply;
    try {
      res = await api('POST', '/api/phone/call', { to, message: 'Write failed', agent_name: 'Writer', workflow_id: 'wf-write' });
    } finally {
      await restore();
    }
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const placed = sandboxCallsTo(to);
    expect(placed).toHaveLength(1);
    expect(res.body).toMatchObject({ sid: placed[0].sid, agent_name: 'Writer' });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);

    await reconcile.runOnce();
    const got = await eventually(async () => {
      const r = await api('GET', `/api/phone/calls/${res.body.id}`);
      return r.body.sid ? r : null;
    });
    expect(got.body).toMatchObject({
      id: res.body.id,
      sid: placed[0].sid,
      message: 'Write failed',
      agent_name: 'Writer',
      workflow_id: 'wf-write',
    });
    expect(got.body.created_by).toBe('intent-tester');
    expect(await rows('call_records', to)).toHaveLength(1);
    expect(sandboxCallsTo(to)).toHaveLength(1);
  });

  it('an SMS: no 5xx; once the database takes writes again the row is completed, stored once', async () => {
    const to = '+14155550174';
    const restore = await refuseSidWrites('message_records');
    let res: Reply;
    try {
      res = await api('POST', '/api/phone/sms', { to, message: 'Write failed too', agent_name: 'Writer' });
    } finally {
      await restore();
    }
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    const sent = sandboxMessagesTo(to);
    expect(sent).toHaveLength(1);
    expect(res.body).toMatchObject({ sid: sent[0].sid, body: 'Write failed too' });

    await reconcile.runOnce();
    const got = await eventually(async () => {
      const r = await api('GET', `/api/phone/sms/${res.body.id}`);
      return r.body.sid ? r : null;
    });
    expect(got.body).toMatchObject({
      id: res.body.id,
      sid: sent[0].sid,
      body: 'Write failed too',
      agent_name: 'Writer',
      created_by: 'intent-tester',
    });
    expect(await rows('message_records', to)).toHaveLength(1);
  });
});

describe('the intent cannot be stored', () => {
  it.each([
    ['call_records', '/api/phone/call', { to: '+14155550175', message: 'never' }],
    ['message_records', '/api/phone/sms', { to: '+14155550175', message: 'never' }],
  ] as const)('%s: 503 dependency_unavailable with Retry-After, and Twilio is never asked', async (table, path, body) => {
    const calls = t.sandbox.calls().length;
    const messages = t.sandbox.messages().length;
    const restore = await refuseInserts(table);
    let res: Reply;
    try {
      res = await api('POST', path, body);
    } finally {
      await restore();
    }
    expect(res.status).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(t.sandbox.calls()).toHaveLength(calls);
    expect(t.sandbox.messages()).toHaveLength(messages);
    expect(await rows(table, body.to)).toHaveLength(0);
  });
});

describe('Twilio refuses', () => {
  it.each([
    ['call_records', '/api/phone/call', { to: '+15005550001', message: 'hi' }],
    ['message_records', '/api/phone/sms', { to: '+15005550001', message: 'hi' }],
  ] as const)('%s: an invalid number answers 400 and leaves no row', async (table, path, body) => {
    const res = await api('POST', path, body);
    expect(res.status).toBe(400);
    expect(await rows(table, body.to)).toHaveLength(0);
  });

  it('a 429 leaves no row', async () => {
    t.sandbox.setFaults({ rateLimit: 1 });
    const res = await api('POST', '/api/phone/sms', { to: '+14155550176', message: 'limited' });
    expect(res.status).toBe(429);
    expect(await rows('message_records', '+14155550176')).toHaveLength(0);
  });
});

describe('an unknown outcome Twilio never received', () => {
  it.each([
    ['a 500 before acting', { serverError: 1 }, '/api/phone/call', 'call_records', '+14155550177'],
    ['a dropped request', { timeout: 1, timeoutMs: 2000 }, '/api/phone/call', 'call_records', '+14155550178'],
    ['a 500 before acting', { serverError: 1 }, '/api/phone/sms', 'message_records', '+14155550179'],
  ] as const)('%s (%s): 202 unknown, then failed after the window; nothing was sent', async (_what, faults, path, table, to) => {
    t.sandbox.setFaults(faults);
    const res = await api('POST', path, { to, message: 'lost', agent_name: 'Lost Agent' });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ sid: null, status: 'unknown', agent_name: 'Lost Agent' });
    const kind = path.endsWith('call') ? 'calls' : 'sms';

    // within the window Twilio's lists do not know it yet: it stays unknown
    const early = await reconcile.runOnce();
    expect(early.intents_failed).toBe(0);
    expect((await api('GET', `/api/phone/${kind}/${res.body.id}`)).body.status).toBe('unknown');

    await new Promise((r) => setTimeout(r, INTENT_WINDOW_SECONDS * 1000 + 200));
    const late = await reconcile.runOnce();
    expect(late.intents_failed).toBe(1);
    const got = await api('GET', `/api/phone/${kind}/${res.body.id}`);
    expect(got.body).toMatchObject({ id: res.body.id, sid: null, status: 'failed', agent_name: 'Lost Agent' });
    expect(got.body.error_message).toMatch(/never received/);
    expect(sandboxCallsTo(to)).toHaveLength(0);
    expect(sandboxMessagesTo(to)).toHaveLength(0);
    expect(await rows(table, to)).toHaveLength(1);
    if (kind === 'calls') {
      const hangup = await api('POST', `/api/phone/calls/${res.body.id}/hangup`);
      expect(hangup.status).toBe(409);
    }
  });

  it('history lists such records and filters on the new statuses', async () => {
    t.sandbox.setFaults({ serverError: 1 });
    const res = await api('POST', '/api/phone/sms', { to: '+14155550180', message: 'pending', agent_name: 'Filter Agent' });
    t.sandbox.setFaults({});
    expect(res.status).toBe(202);
    const unknown = await api('GET', '/api/phone/sms/history?status=unknown&agent_name=Filter%20Agent');
    expect(unknown.status).toBe(200);
    expect(unknown.body.messages.map((m: JsonBody) => m.id)).toEqual([res.body.id]);
    expect((await api('GET', '/api/phone/calls/history?status=initiating')).status).toBe(200);
  });
});

describe('GET by id', () => {
  it('answers 400 naming sid for a parameter that is neither a sid nor a uuid, 404 for an unknown uuid', async () => {
    const bad = await api('GET', '/api/phone/calls/not-a-sid!');
    expect(bad.status).toBe(400);
    expect(bad.body.details.map((d: JsonBody) => d.field)).toContain('sid');
    const missing = await api('GET', '/api/phone/sms/7d3f4a52-0b1c-4a8e-9f10-2c3d4e5f6a7b');
    expect(missing.status).toBe(404);
  });
});

describe('a call whose TwiML is longer than Twilio takes inline', () => {
  it('is served by record id from the voice webhook, even while the call has no sid stored', async () => {
    const to = '+14155550181';
    const message = 'word '.repeat(1800).trim();
    // the create answer cannot be stored: only the record id can find the TwiML
    const restore = await refuseSidWrites('call_records');
    let res: Reply;
    let call: ReturnType<typeof sandboxCallsTo>[number];
    try {
      res = await api('POST', '/api/phone/call', { to, message });
      expect(res.status, JSON.stringify(res.body)).toBe(202);
      call = await eventually(async () => {
        const c = sandboxCallsTo(to)[0];
        return c?.executed.some((v) => v.verb === 'Say') ? c : null;
      }, 15_000);
      expect((await rows('call_records', to))[0].sid).toBeNull();
    } finally {
      await restore();
    }
    expect(call.url).toBe(twilioCallbackUrl(t.config.twilio, '/call', { record_id: res.body.id as string }));
    const says = call.executed.filter((v) => v.verb === 'Say');
    expect(says.map((v) => v.text).join(' ')).toBe(message);
    // the fragment (Twilio's connection overrides) is never sent
    expect(t.sandbox.callbacks().find((c) => c.url === call.url?.split('#')[0])?.status).toBe(200);
  });
});
