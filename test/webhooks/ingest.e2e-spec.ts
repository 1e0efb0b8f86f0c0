import { Client } from 'pg';
import { UsageRollupService } from '../../src/billing/usage-rollup.service';
import { CallRecordsService } from '../../src/calls/call-records.service';
import { callStatusAdvances, callStatusAdvancesSql } from '../../src/calls/call-status.rules';
import { INTENT_STATUSES } from '../../src/common/intent-status';
import { messageStatusAdvances, messageStatusAdvancesSql } from '../../src/sms/message-status.rules';
import { CALL_STATUSES, MESSAGE_STATUSES } from '../../src/twilio/twilio.types';
import { startTestApp, type TestApp } from '../support/test-app';
import { api, count, db, fakeSid, postWebhook } from './webhook-helpers';

interface CallDto {
  status: string;
  duration: number | null;
  answered_by: string | null;
  timeline: { status: string }[];
}
interface SmsDto {
  status: string;
  error_code: number | null;
  sent_at: string | null;
}

/** What a callback may touch: the inbox, the records and the timeline. */
const CALLBACK_TABLES = /webhook_events|call_records|message_records|status_events/;

/** The text of every query the app sends through pg, in order, while the spec runs. */
const sent: string[] = [];
/** The connection each of `sent` went over. */
const sentOn: Client[] = [];
/** Statements prepared with SQL PREPARE, by name: `EXECUTE name(...)` runs this text. */
const preparedTexts = new Map<string, string>();
const PREPARE = /PREPARE ("[^"]+") AS ([\s\S]*); EXECUTE \1\(/;
const EXECUTE = /EXECUTE ("[^"]+")\(/;

/** Records every query's text; PREPAREd statements are remembered so that an EXECUTE reads as what it runs. */
function recordQueries(): () => void {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with the client as `this` below
  const original = Client.prototype.query;
  const spy = vi.spyOn(Client.prototype, 'query').mockImplementation(function (this: Client, ...args: unknown[]) {
    const [config] = args;
    const text = typeof config === 'string' ? config : (config as { text: string }).text;
    const prepared = PREPARE.exec(text);
    if (prepared) preparedTexts.set(prepared[1], prepared[2]);
    const executed = EXECUTE.exec(text);
    sentOn.push(this);
    sent.push(executed && preparedTexts.has(executed[1]) ? text.replace(EXECUTE, `EXECUTE ${preparedTexts.get(executed[1])} (`) : text);
    return (original as (...a: unknown[]) => unknown).apply(this, args) as never;
  });
  return () => spy.mockRestore();
}

/**
 * The SQL text of every statement on the callback's tables the app sends while `run` runs (nothing
 * else touches them meanwhile: the test app has no reconciliation, and its usage rollup is settled
 * before and not due again).
 */
async function statementsDuring(run: () => Promise<unknown>, all = false): Promise<string[]> {
  const from = sent.length;
  await run();
  const texts = sent.slice(from);
  return all ? texts : texts.filter((sql) => CALLBACK_TABLES.test(sql));
}

describe('a status callback is kept, applied and entered in the timeline by one statement', () => {
  let t: TestApp;
  let stopRecording: () => void = () => undefined;

  beforeAll(async () => {
    stopRecording = recordQueries();
    // no usage rollup in the background while the statements of a callback are counted
    t = await startTestApp({ STATS_REFRESH_SECONDS: '3600' });
    await t.app.get(UsageRollupService).refresh();
  });
  afterAll(async () => {
    await t?.close();
    stopRecording();
  });

  /** A record stored without the sandbox, so no callback but the test's own arrives. */
  async function storedCall(): Promise<string> {
    const sid = fakeSid('CA');
    await db(t).query(
      "INSERT INTO call_records (sid, direction, from_number, to_number, status) VALUES ($1, 'outbound', '+14155550199', '+14155550100', 'queued')",
      [sid],
    );
    return sid;
  }

  async function storedMessage(): Promise<string> {
    const sid = fakeSid('SM');
    await db(t).query(
      `INSERT INTO message_records (sid, direction, from_number, to_number, body, media_urls, status)
       VALUES ($1, 'outbound', '+14155550199', '+14155550100', 'hi', '[]', 'queued')`,
      [sid],
    );
    return sid;
  }

  const call = async (sid: string) => (await api<CallDto>(t, 'GET', `/api/phone/calls/${sid}`)).body;
  const callStatus = (sid: string, status: string, sequence: number, extra: Record<string, string> = {}) =>
    postWebhook(t, 'status', {
      CallSid: sid,
      AccountSid: t.sandbox.accountSid,
      CallStatus: status,
      SequenceNumber: String(sequence),
      ...extra,
    });

  it('the statement decides a status the way the code does, for every pair of statuses', async () => {
    const callPairs = await db(t).query<{ current: string; next: string; advances: boolean }[]>(
      `SELECT c AS current, n AS next, ${callStatusAdvancesSql('c', 'n')} AS advances
       FROM unnest($1::varchar[]) c, unnest($2::varchar[]) n`,
      [[...CALL_STATUSES, ...INTENT_STATUSES], [...CALL_STATUSES]],
    );
    expect(callPairs).toHaveLength((CALL_STATUSES.length + INTENT_STATUSES.length) * CALL_STATUSES.length);
    for (const { current, next, advances } of callPairs) {
      expect({ current, next, advances }).toEqual({ current, next, advances: callStatusAdvances(current as never, next as never) });
    }
    const messagePairs = await db(t).query<{ current: string; next: string; advances: boolean }[]>(
      `SELECT c AS current, n AS next, ${messageStatusAdvancesSql('c', 'n')} AS advances
       FROM unnest($1::varchar[]) c, unnest($2::varchar[]) n`,
      [[...MESSAGE_STATUSES, ...INTENT_STATUSES], [...MESSAGE_STATUSES]],
    );
    expect(messagePairs).toHaveLength((MESSAGE_STATUSES.length + INTENT_STATUSES.length) * MESSAGE_STATUSES.length);
    for (const { current, next, advances } of messagePairs) {
      expect({ current, next, advances }).toEqual({ current, next, advances: messageStatusAdvances(current as never, next as never) });
    }
  });

  it('a call callback runs one statement, a duplicate one more that changes nothing, a late one never moves the call back', async () => {
    const sid = await storedCall();
    let res: Response | undefined;
    const first = await statementsDuring(async () => {
      res = await callStatus(sid, 'in-progress', 2, { AnsweredBy: 'human' });
    });
    expect(res!.status).toBe(204);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatch(/INSERT INTO webhook_events/);
    expect(first[0]).toMatch(/UPDATE call_records/);
    expect(first[0]).toMatch(/INSERT INTO status_events/);
    expect(await call(sid)).toMatchObject({ status: 'in-progress', answered_by: 'human', timeline: [{ status: 'in-progress' }] });

    const again = await statementsDuring(async () => {
      res = await callStatus(sid, 'in-progress', 2, { AnsweredBy: 'human' });
    });
    expect(res!.status).toBe(204);
    expect(again).toHaveLength(1);
    expect(await count(t, 'webhook_events', 'sid = $1', [sid])).toBe(1);

    expect((await callStatus(sid, 'completed', 3, { CallDuration: '17' })).status).toBe(204);
    expect((await callStatus(sid, 'ringing', 1)).status).toBe(204);
    expect(await call(sid)).toMatchObject({ status: 'completed', duration: 17 });
    expect((await call(sid)).timeline.map((e) => e.status)).toEqual(['ringing', 'in-progress', 'completed']);
    expect(await count(t, 'webhook_events', 'sid = $1 AND applied_at IS NOT NULL', [sid])).toBe(3);
  });

  it('a message callback runs one statement and dates sent_at when the message left Twilio', async () => {
    const sid = await storedMessage();
    const statements = await statementsDuring(async () => {
      const res = await postWebhook(t, 'status', { MessageSid: sid, MessageStatus: 'sent', AccountSid: t.sandbox.accountSid });
      expect(res.status).toBe(204);
    });
    expect(statements).toHaveLength(1);
    expect((await postWebhook(t, 'status', { MessageSid: sid, MessageStatus: 'undelivered', ErrorCode: '30003' })).status).toBe(204);
    expect((await postWebhook(t, 'status', { MessageSid: sid, MessageStatus: 'sending' })).status).toBe(204);
    const got = (await api<SmsDto>(t, 'GET', `/api/phone/sms/${sid}`)).body;
    expect(got).toMatchObject({ status: 'undelivered', error_code: 30003 });
    expect(got.sent_at).not.toBeNull();
  });

  it('a callback for an intent named by record_id gives it the sid in the same statement', async () => {
    const [intent] = await db(t).query<{ id: string }[]>(
      "INSERT INTO call_records (direction, from_number, to_number, status) VALUES ('outbound', '+14155550199', '+14155550100', 'unknown') RETURNING id",
    );
    const sid = fakeSid('CA');
    const statements = await statementsDuring(async () => {
      const res = await postWebhook(
        t,
        'status',
        { CallSid: sid, AccountSid: t.sandbox.accountSid, CallStatus: 'ringing', SequenceNumber: '1' },
        { query: `?record_id=${intent.id}` },
      );
      expect(res.status).toBe(204);
    });
    expect(statements).toHaveLength(1);
    expect(await call(sid)).toMatchObject({ status: 'ringing', timeline: [{ status: 'ringing' }] });
    expect(await count(t, 'call_records', 'id = $1 AND sid = $2', [intent.id, sid])).toBe(1);
  });

  it('writes the events of a status change with the COMMIT: two round trips, whatever the events', async () => {
    const sid = await storedCall();
    for (const [status, sequence] of [
      ['ringing', 1],
      ['in-progress', 2],
      ['completed', 3],
    ] as const) {
      const from = sent.length;
      expect((await callStatus(sid, status, sequence, status === 'completed' ? { CallDuration: '42' } : {})).status).toBe(204);
      const apply = sent.findIndex((sql, i) => i >= from && sql.includes('UPDATE call_records'));
      // from the apply to its COMMIT on its connection (which may serve others afterwards)
      const onApplyConnection = sent.slice(apply).filter((_sql, i) => sentOn[apply + i] === sentOn[apply]);
      const commit = onApplyConnection.findIndex((sql) => sql.endsWith('COMMIT'));
      expect(onApplyConnection.slice(0, commit + 1)).toEqual([
        expect.stringMatching(/^BEGIN; /),
        expect.stringMatching(/^INSERT INTO events[\s\S]*;\nCOMMIT$/),
      ]);
    }
    const events = await db(t).query<{ type: string; payload: { data: { object: { status: string; duration: number | null } } } }[]>(
      'SELECT type, payload FROM events WHERE resource_sid = $1 ORDER BY created_at, id',
      [sid],
    );
    expect(events.map((e) => [e.type, e.payload.data.object.status, e.payload.data.object.duration])).toEqual([
      ['call.ringing', 'ringing', null],
      ['call.answered', 'in-progress', null],
      ['call.completed', 'completed', 42],
    ]);
  });

  it('runs a status-change listener in the transaction of the apply, only when the status moves', async () => {
    const changes: [string | null, string][] = [];
    let refuse = false;
    t.app.get(CallRecordsService).onStatusChanged(async (tx, record, previousStatus) => {
      // the listener's own statements see the change: they run in the apply's transaction
      const [row] = await tx.query<{ status: string }[]>('SELECT status FROM call_records WHERE id = $1', [record.id]);
      changes.push([previousStatus, row.status]);
      if (refuse) throw new Error('listener refused');
    });
    const sid = await storedCall();
    const from = sent.length;
    expect((await callStatus(sid, 'ringing', 1)).status).toBe(204);
    // the transaction begins in the round trip of the statement: no round trip of its own on that connection
    const apply = sent.findIndex((sql, i) => i >= from && sql.includes('UPDATE call_records'));
    const onApplyConnection = (range: string[], start: number) => range.filter((_sql, i) => sentOn[start + i] === sentOn[apply]);
    expect(sent[apply]).toMatch(/^BEGIN; /);
    expect(onApplyConnection(sent.slice(from, apply), from).slice(-1)).not.toEqual([
      expect.stringMatching(/^\s*(BEGIN|START TRANSACTION)\s*;?\s*$/i),
    ]);
    expect(onApplyConnection(sent.slice(apply + 1), apply + 1)).toContainEqual(expect.stringMatching(/COMMIT$/));
    expect((await callStatus(sid, 'ringing', 1)).status).toBe(204);
    expect((await callStatus(sid, 'initiated', 0)).status).toBe(204);
    expect((await callStatus(sid, 'in-progress', 2)).status).toBe(204);
    expect(changes).toEqual([
      ['queued', 'ringing'],
      ['ringing', 'in-progress'],
    ]);

    // a listener that fails undoes the apply: the event is kept with the failure, for a later attempt
    refuse = true;
    expect((await callStatus(sid, 'completed', 3)).status).toBe(204);
    const got = await call(sid);
    expect(got.status).toBe('in-progress');
    expect(got.timeline.map((e) => e.status)).not.toContain('completed');
    const [event] = await db(t).query<{ attempts: number; last_error: string; applied_at: Date | null }[]>(
      "SELECT attempts, last_error, applied_at FROM webhook_events WHERE sid = $1 AND payload->>'CallStatus' = 'completed'",
      [sid],
    );
    expect(event).toMatchObject({ attempts: 1, applied_at: null });
    expect(event.last_error).toMatch(/listener refused/);
  });
});
