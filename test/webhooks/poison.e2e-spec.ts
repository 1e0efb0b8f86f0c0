import { startTestApp, type TestApp } from '../support/test-app';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { api, db, fakeSid, postWebhook, wireNumber } from './webhook-helpers';

interface CallDto {
  sid: string;
  status: string;
  duration: number | null;
  answered_by: string | null;
}
interface SmsDto {
  sid: string;
  status: string;
}
interface SetAside {
  inbox_events: number;
  calls: number;
  messages: number;
  oldest: { resource: string; id: string; sid: string; reason: string; set_aside_at: string } | null;
}

interface EventRow {
  attempts: number;
  last_error: string | null;
  applied_at: Date | null;
  set_aside_at: Date | null;
  next_attempt_at: Date | null;
}

/**
 * The database refuses this AnsweredBy (a check constraint the test adds): every callback parameter
 * that made apply throw through HTTP is now dropped or cut (see callback-fuzz), so a real database
 * refusal stands in for whatever the next one will be.
 */
const POISON = 'machine_poison';

async function refusePoison(t: TestApp): Promise<void> {
  await db(t).query(`ALTER TABLE call_records ADD CONSTRAINT test_refuses_poison CHECK (answered_by IS DISTINCT FROM '${POISON}')`);
}

async function eventsOf(t: TestApp, sid: string, where = 'TRUE'): Promise<EventRow[]> {
  return db(t).query<EventRow[]>(
    `SELECT attempts, last_error, applied_at, set_aside_at, next_attempt_at FROM webhook_events WHERE sid = $1 AND ${where} ORDER BY received_at`,
    [sid],
  );
}

/** Ends the backoff of the pending events about `sid`, as if its time had come. */
async function due(t: TestApp, sid: string): Promise<void> {
  await db(t).query('UPDATE webhook_events SET next_attempt_at = now() WHERE sid = $1 AND set_aside_at IS NULL', [sid]);
}

async function health(t: TestApp): Promise<{ status: number; body: { set_aside?: SetAside; webhooks?: { set_aside: number } } }> {
  const res = await fetch(`${t.baseUrl}/api/phone/health`, { headers: { Authorization: `Bearer ${t.token(['phone:view'])}` } });
  return { status: res.status, body: (await res.json()) as { set_aside?: SetAside } };
}

/** A call that stays in progress in the sandbox until it is ended, so only our callbacks move it. */
async function longCall(t: TestApp): Promise<string> {
  const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155555555', message: 'hold on' });
  expect(placed.status).toBe(201);
  return placed.body.sid;
}

/**
 * Waits until the sandbox has said all it will say about a long call (in progress, no callback for
 * a while): its callbacks would otherwise retry a pending event at the same time as the test.
 */
async function quiet(t: TestApp, sid: string): Promise<void> {
  let seen = -1;
  for (let i = 0; i < 50; i++) {
    const n = (await eventsOf(t, sid)).length;
    const status = (await api<CallDto>(t, 'GET', `/api/phone/calls/${sid}`)).body.status;
    if (n === seen && status === 'in-progress') return;
    seen = n;
    await new Promise((resolve) => setTimeout(resolve, 300));
  }
  throw new Error(`call ${sid} never settled in progress`);
}

/** A call and a message whose callbacks are all lost: only reconciliation can move them on. */
async function stuckCallAndMessage(t: TestApp): Promise<{ call: string; message: string }> {
  t.sandbox.setFaults({ callbackDrop: 1 });
  try {
    const call = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155550123', message: 'hello' });
    const message = await api<SmsDto>(t, 'POST', '/api/phone/sms', { to: '+14155550100', message: 'hello' });
    expect([call.status, message.status]).toEqual([201, 201]);
    await t.sandbox.settle();
    return { call: call.body.sid, message: message.body.sid };
  } finally {
    t.sandbox.setFaults({});
  }
}

describe('a poison inbox event is retried a bounded number of times, then set aside', () => {
  let t: TestApp;
  let reconcile: ReconcileService;

  beforeAll(async () => {
    // a backoff far longer than the test, ended explicitly (due), so the sandbox's own callbacks for
    // the call cannot add attempts of their own
    t = await startTestApp({ WEBHOOK_MAX_ATTEMPTS: '3', WEBHOOK_RETRY_BASE_SECONDS: '3600', RECONCILE_MAX_FAILURES: '3' });
    await wireNumber(t);
    reconcile = t.app.get(ReconcileService);
    await refusePoison(t);
  });
  afterAll(async () => t?.close());

  it('answers 204, keeps applying the later callbacks of the call, and sets the event aside after the last attempt', async () => {
    const sid = await longCall(t);
    await quiet(t, sid);
    const base = { CallSid: sid, AccountSid: t.sandbox.accountSid, Direction: 'outbound-api' };
    const poison = await postWebhook(t, 'status', { ...base, CallStatus: 'in-progress', SequenceNumber: '4', AnsweredBy: POISON });
    expect(poison.status).toBe(204);
    const [first] = await eventsOf(t, sid, `payload->>'AnsweredBy' = '${POISON}'`);
    expect(first).toMatchObject({ attempts: 1, applied_at: null, set_aside_at: null });
    expect(first.last_error).toMatch(/test_refuses_poison/);
    expect(new Date(first.next_attempt_at!).getTime()).toBeGreaterThan(Date.now() + 3000_000);

    // the next callbacks for the same call are applied, even with the poison pending before them
    const completed = await postWebhook(t, 'status', { ...base, CallStatus: 'completed', SequenceNumber: '5', CallDuration: '17' });
    expect(completed.status).toBe(204);
    expect((await api<CallDto>(t, 'GET', `/api/phone/calls/${sid}`)).body).toMatchObject({ status: 'completed', duration: 17 });

    // reconciliation retries it once its backoff is over; the third attempt is the last
    await due(t, sid);
    const second = await reconcile.runOnce({ olderThanSeconds: 3600, unknownGraceSeconds: 3600 });
    expect(second.failures).toBe(1);
    expect((await eventsOf(t, sid, `payload->>'AnsweredBy' = '${POISON}'`))[0]).toMatchObject({ attempts: 2, set_aside_at: null });
    await due(t, sid);
    const third = await reconcile.runOnce({ olderThanSeconds: 3600, unknownGraceSeconds: 3600 });
    expect(third.failures).toBe(1);
    const [setAside] = await eventsOf(t, sid, `payload->>'AnsweredBy' = '${POISON}'`);
    expect(setAside).toMatchObject({ attempts: 3, applied_at: null });
    expect(setAside.set_aside_at).not.toBeNull();

    // never selected again, by reconciliation or by the call's next callback
    await db(t).query('UPDATE webhook_events SET next_attempt_at = now() WHERE sid = $1', [sid]);
    const after = await reconcile.runOnce({ olderThanSeconds: 3600, unknownGraceSeconds: 3600 });
    expect(after.failures).toBe(0);
    const late = await postWebhook(t, 'status', { ...base, CallStatus: 'completed', SequenceNumber: '6', AnsweredBy: 'human' });
    expect(late.status).toBe(204);
    expect((await eventsOf(t, sid, `payload->>'AnsweredBy' = '${POISON}'`))[0].attempts).toBe(3);
    expect(await eventsOf(t, sid, 'applied_at IS NULL AND set_aside_at IS NULL')).toEqual([]);

    const h = await health(t);
    expect(h.body.set_aside).toMatchObject({ inbox_events: 1, calls: 0, messages: 0, oldest: { resource: 'inbox_event', sid } });
    expect(h.body.set_aside!.oldest!.reason).toMatch(/test_refuses_poison/);
    expect(h.body.webhooks!.set_aside).toBe(1);
    await t.app
      .get(TwilioGateway)
      .endCall(sid, 'completed')
      .catch(() => undefined);
  });

  it('a reconciliation run with a poison event and a call Twilio does not know still refreshes the stuck call and message', async () => {
    const poisoned = await longCall(t);
    await quiet(t, poisoned);
    const base = { CallSid: poisoned, AccountSid: t.sandbox.accountSid, Direction: 'outbound-api' };
    expect((await postWebhook(t, 'status', { ...base, CallStatus: 'in-progress', SequenceNumber: '4', AnsweredBy: POISON })).status).toBe(
      204,
    );
    // an inbound call the sandbox never heard of: every refresh of it is a Twilio 404
    const unknown = fakeSid('CA');
    const inbound = await postWebhook(t, 'call', {
      CallSid: unknown,
      AccountSid: t.sandbox.accountSid,
      From: '+14155550177',
      To: t.config.twilio.phoneNumber,
      Direction: 'inbound',
      CallStatus: 'ringing',
    });
    expect(inbound.status).toBe(200);
    const stuck = await stuckCallAndMessage(t);
    await due(t, poisoned);
    expect((await api<CallDto>(t, 'GET', `/api/phone/calls/${stuck.call}`)).body.status).toBe('queued');
    expect((await api<SmsDto>(t, 'GET', `/api/phone/sms/${stuck.message}`)).body.status).toBe('queued');

    const report = await reconcile.runOnce({ olderThanSeconds: 0, unknownGraceSeconds: 3600 });
    expect(report.failures).toBeGreaterThanOrEqual(2);
    expect((await api<CallDto>(t, 'GET', `/api/phone/calls/${stuck.call}`)).body.status).toBe('completed');
    expect((await api<SmsDto>(t, 'GET', `/api/phone/sms/${stuck.message}`)).body.status).toBe('delivered');

    // Twilio's 404 for the unknown call is definitive: set aside at the first run, never claimed again
    for (let run = 2; run <= 4; run++) await reconcile.runOnce({ olderThanSeconds: 0, unknownGraceSeconds: 3600 });
    const [record] = await db(t).query<{ reconcile_failures: number; reconcile_error: string; reconcile_set_aside_at: Date | null }[]>(
      'SELECT reconcile_failures, reconcile_error, reconcile_set_aside_at FROM call_records WHERE sid = $1',
      [unknown],
    );
    expect(record.reconcile_failures).toBe(1);
    expect(record.reconcile_set_aside_at).not.toBeNull();
    expect(record.reconcile_error).toMatch(/not found|404|20404/i);
    const h = await health(t);
    expect(h.body.set_aside).toMatchObject({ inbox_events: 1, calls: 1, messages: 0 });
    await t.app
      .get(TwilioGateway)
      .endCall(poisoned, 'completed')
      .catch(() => undefined);
  });
});

describe('reconciliation sets aside what Twilio says is not there, never what Twilio could not answer', () => {
  let t: TestApp;
  let reconcile: ReconcileService;

  beforeAll(async () => {
    t = await startTestApp({ RECONCILE_MAX_FAILURES: '2' });
    await wireNumber(t);
    reconcile = t.app.get(ReconcileService);
  });
  afterAll(async () => t?.close());

  it('twilio_unavailable on every run does not count against the records', async () => {
    const stuck = await stuckCallAndMessage(t);
    t.sandbox.setFaults({ serverError: 1 });
    try {
      for (let run = 0; run < 3; run++) {
        const report = await reconcile.runOnce({ olderThanSeconds: 0 });
        expect(report.failures).toBeGreaterThanOrEqual(2);
      }
    } finally {
      t.sandbox.setFaults({});
    }
    const rows = await db(t).query<{ sid: string; reconcile_failures: number; reconcile_set_aside_at: Date | null }[]>(
      `SELECT sid, reconcile_failures, reconcile_set_aside_at FROM call_records WHERE sid = $1
       UNION ALL SELECT sid, reconcile_failures, reconcile_set_aside_at FROM message_records WHERE sid = $2`,
      [stuck.call, stuck.message],
    );
    expect(rows.map((r) => [r.reconcile_failures, r.reconcile_set_aside_at])).toEqual([
      [0, null],
      [0, null],
    ]);
    // Twilio back: the next run refreshes both
    await reconcile.runOnce({ olderThanSeconds: 0 });
    expect((await api<CallDto>(t, 'GET', `/api/phone/calls/${stuck.call}`)).body.status).toBe('completed');
    expect((await api<SmsDto>(t, 'GET', `/api/phone/sms/${stuck.message}`)).body.status).toBe('delivered');
    expect((await health(t)).body.set_aside).toEqual({ inbox_events: 0, calls: 0, messages: 0, oldest: null });
  });

  it('a status callback for a sid Twilio does not know is retried with backoff, its events set aside in the end', async () => {
    const unknown = fakeSid('SM');
    const res = await postWebhook(t, 'status', { MessageSid: unknown, MessageStatus: 'delivered', AccountSid: t.sandbox.accountSid });
    expect(res.status).toBe(204);
    const first = await reconcile.runOnce({ olderThanSeconds: 3600, unknownGraceSeconds: 0 });
    expect(first.failures).toBe(1);
    const [event] = await eventsOf(t, unknown);
    expect(event).toMatchObject({ attempts: 1, set_aside_at: null });
    // default backoff: 30 s before the next attempt, so the next run leaves it alone
    expect(new Date(event.next_attempt_at!).getTime()).toBeGreaterThan(Date.now() + 20_000);
    const second = await reconcile.runOnce({ olderThanSeconds: 3600, unknownGraceSeconds: 0 });
    expect(second.failures).toBe(0);
    expect((await eventsOf(t, unknown))[0].attempts).toBe(1);
    // once the backoff has passed, the remaining attempts run out (5 by default)
    for (let attempt = 2; attempt <= 5; attempt++) {
      await db(t).query('UPDATE webhook_events SET next_attempt_at = now() WHERE sid = $1', [unknown]);
      await reconcile.runOnce({ olderThanSeconds: 3600, unknownGraceSeconds: 0 });
    }
    const [last] = await eventsOf(t, unknown);
    expect(last.attempts).toBe(5);
    expect(last.set_aside_at).not.toBeNull();
    expect(last.last_error).toMatch(/not found|404|20404/i);
    expect((await health(t)).body.set_aside).toMatchObject({ inbox_events: 1, oldest: { resource: 'inbox_event', sid: unknown } });
  });
});
