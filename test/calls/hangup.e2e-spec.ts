import { DataSource } from 'typeorm';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { JsonBody, Reply, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * A hangup is recorded (who, when) before Twilio is asked: a database that cannot take the
 * request refuses it and the call goes on; once Twilio has ended the call the answer says so, even
 * when the database cannot take Twilio's answer.
 */
let t: TestApp;
let caller: string;

/** A number the sandbox answers and keeps talking on until it is hung up. */
const LONG_CALL_TO = '+14155555555';

function api(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(t, method, path, { token: caller, body });
}

function db(): DataSource {
  return t.app.get(DataSource);
}

async function placeAnsweredCall(): Promise<JsonBody> {
  const res = await api('POST', '/api/phone/call', { to: LONG_CALL_TO, message: 'Hold the line, please.' });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  await eventually(async () => sandboxCall(res.body.sid)?.status === 'in-progress');
  return res.body;
}

function sandboxCall(sid: string) {
  return t.sandbox.calls().find((c) => c.sid === sid);
}

/** Makes a trigger refuse the updates of `column` on call_records (those matching `condition`), as a database refusing writes would. */
async function refuse(name: string, column: string, condition = 'true'): Promise<() => Promise<void>> {
  await db().query(`CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
  await db().query(
    `CREATE TRIGGER ${name} BEFORE UPDATE OF ${column} ON call_records FOR EACH ROW WHEN (${condition}) EXECUTE FUNCTION ${name}()`,
  );
  return async () => {
    await db().query(`DROP TRIGGER ${name} ON call_records`);
  };
}

beforeAll(async () => {
  t = await startTestApp({ RATE_LIMIT_CALLS: '1000' });
  caller = t.token(['phone:call', 'phone:view'], 'hangup-agent');
});

afterAll(async () => {
  await t?.close();
});

describe('POST /api/phone/calls/{sid}/hangup', () => {
  it('records who asked and when; the call shows it afterwards', async () => {
    const call = await placeAnsweredCall();
    const before = Date.now();
    const res = await api('POST', `/api/phone/calls/${call.sid}/hangup`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ sid: call.sid, status: 'completed', hangup_requested_by: 'hangup-agent' });
    expect(new Date(res.body.hangup_requested_at).getTime()).toBeGreaterThanOrEqual(before - 1000);
    const got = await api('GET', `/api/phone/calls/${call.id}`);
    expect(got.body).toMatchObject({ hangup_requested_by: 'hangup-agent', hangup_requested_at: res.body.hangup_requested_at });

    // a call nobody hung up says so
    const other = await api('POST', '/api/phone/call', { to: '+14155550190', message: 'Bye.' });
    expect(other.body).toMatchObject({ hangup_requested_at: null, hangup_requested_by: null });
  });

  it('answers 503 with Retry-After when the request cannot be recorded; Twilio is not asked and the call goes on', async () => {
    const call = await placeAnsweredCall();
    const restore = await refuse('refuse_hangup_request', 'hangup_requested_at');
    let res: Reply;
    try {
      res = await api('POST', `/api/phone/calls/${call.sid}/hangup`);
    } finally {
      await restore();
    }
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(sandboxCall(call.sid)!.status).toBe('in-progress');

    const retried = await api('POST', `/api/phone/calls/${call.sid}/hangup`);
    expect(retried.status).toBe(200);
    expect(sandboxCall(call.sid)!.status).toBe('completed');
  });

  it('tells that the call ended when Twilio ended it but the record cannot be updated (202), and the record catches up', async () => {
    const call = await placeAnsweredCall();
    const restore = await refuse('refuse_call_end', 'status', "NEW.status IN ('completed', 'canceled')");
    let res: Reply;
    try {
      res = await api('POST', `/api/phone/calls/${call.sid}/hangup`);
    } finally {
      await restore();
    }
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ id: call.id, sid: call.sid, status: 'completed', hangup_requested_by: 'hangup-agent' });
    expect(sandboxCall(call.sid)!.status).toBe('completed');

    const reconcile = t.app.get(ReconcileService);
    const got = await eventually(async () => {
      await reconcile.runOnce({ olderThanSeconds: 0, unknownGraceSeconds: 0 });
      const r = await api('GET', `/api/phone/calls/${call.id}`);
      return r.body.status === 'completed' ? r : null;
    });
    expect(got.body).toMatchObject({ sid: call.sid, hangup_requested_by: 'hangup-agent' });
  });
});
