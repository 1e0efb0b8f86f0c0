import { DataSource } from 'typeorm';
import { NumbersService } from '../../src/numbers/numbers.service';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { EventReceiver, type ReceivedEvent } from '../support/event-receiver';
import { JsonBody, Reply, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { fakeSid, postWebhook } from '../webhooks/webhook-helpers';

/**
 * Events for changes that do not come from the API's happy path: an intent reconciliation marks
 * failed, a number the sync finds at Twilio, and status callbacks that arrive out of order.
 */
let t: TestApp;
let receiver: EventReceiver;
let admin: string;

const INTENT_WINDOW_SECONDS = 2;

function api(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(t, method, path, { token: admin, body });
}

/** The distinct events the receiver accepted whose resource matches, in the order they happened. */
function happened(match: (object: JsonBody) => boolean): ReceivedEvent[] {
  const seen = new Map<string, ReceivedEvent>();
  for (const e of receiver.received) {
    if (e.answered < 300 && e.body?.data?.object && match(e.body.data.object) && !seen.has(e.body.id)) seen.set(e.body.id, e);
  }
  return [...seen.values()].sort((a, b) => a.body.created_at.localeCompare(b.body.created_at));
}

const typesOf = (events: ReceivedEvent[]) => events.map((e) => e.body.type as string);

beforeAll(async () => {
  receiver = await new EventReceiver().start();
  t = await startTestApp({
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    EVENT_RELAY_INTERVAL_MS: '50',
    SANDBOX_SPEED: '1',
    TWILIO_TIMEOUT_MS: '400',
    RECONCILE_INTENT_GRACE_SECONDS: '0',
    RECONCILE_INTENT_WINDOW_SECONDS: String(INTENT_WINDOW_SECONDS),
    RATE_LIMIT_CALLS: '1000',
    RATE_LIMIT_SMS: '1000',
  });
  admin = t.token(['phone:admin']);
  const endpoint = await api('POST', '/api/phone/event-endpoints', { url: receiver.url, event_types: ['*'] });
  expect(endpoint.status).toBe(201);
  receiver.secrets.push(endpoint.body.secret);
}, 60_000);

afterEach(() => t.sandbox.setFaults({}));

afterAll(async () => {
  await t?.close();
  await receiver?.stop();
});

describe('an intent reconciliation marks failed', () => {
  it('tells the call initiated, then completed with outcome failed', { timeout: 30_000 }, async () => {
    t.sandbox.setFaults({ serverError: 1 });
    const res = await api('POST', '/api/phone/call', { to: '+14155550191', message: 'lost', metadata: { conversation_id: 'conv-lost' } });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await new Promise((r) => setTimeout(r, INTENT_WINDOW_SECONDS * 1000 + 200));
    expect((await t.app.get(ReconcileService).runOnce()).intents_failed).toBe(1);

    const events = await eventually(async () => {
      const got = happened((o) => o.id === res.body.id);
      return typesOf(got).includes('call.completed') ? got : null;
    });
    // the failed call's report may be told ready too, after these
    expect(typesOf(events).filter((type) => type !== 'call.report.ready')).toEqual(['call.initiated', 'call.completed']);
    expect(events[1].body.data.outcome).toBe('failed');
    expect(events[1].body.data.object).toMatchObject({
      id: res.body.id,
      sid: null,
      status: 'failed',
      metadata: { conversation_id: 'conv-lost' },
    });
  });

  it('tells the message failed', { timeout: 30_000 }, async () => {
    t.sandbox.setFaults({ serverError: 1 });
    const res = await api('POST', '/api/phone/sms', { to: '+14155550192', message: 'lost' });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    await new Promise((r) => setTimeout(r, INTENT_WINDOW_SECONDS * 1000 + 200));
    expect((await t.app.get(ReconcileService).runOnce()).intents_failed).toBe(1);

    const events = await eventually(async () => {
      const got = happened((o) => o.id === res.body.id);
      return got.length ? got : null;
    });
    expect(typesOf(events)).toEqual(['sms.failed']);
    expect(events[0].body.data.object).toMatchObject({ id: res.body.id, status: 'failed' });
  });
});

describe('the numbers sync', () => {
  it('tells number.purchased for a number bought at Twilio directly, once', { timeout: 30_000 }, async () => {
    // bought in the console (here: straight at the sandbox), not through our API
    const bought = await t.app.get(TwilioGateway).purchaseNumber('+14155550193', 'Console purchase', {});
    await t.app.get(NumbersService).syncWithTwilio();
    await t.app.get(NumbersService).syncWithTwilio();
    const events = await eventually(async () => {
      const got = happened((o) => o.sid === bought.sid);
      return got.length ? got : null;
    });
    // a second sync finds nothing new
    await new Promise((r) => setTimeout(r, 300));
    expect(typesOf(happened((o) => o.sid === bought.sid))).toEqual(['number.purchased']);
    expect(events[0].body.data.object).toMatchObject({ sid: bought.sid, phone_number: '+14155550193' });

    await t.app.get(TwilioGateway).releaseNumber(bought.sid);
    await t.app.get(NumbersService).syncWithTwilio();
    await eventually(async () => typesOf(happened((o) => o.sid === bought.sid)).includes('number.released'));
  });
});

describe('a number purchase that failed', () => {
  it('tells number.purchase_failed once, when the sync finds Twilio never bought it', { timeout: 30_000 }, async () => {
    const phone = '+14155550196';
    t.sandbox.setFaults({ serverError: 1 });
    const res = await api('POST', '/api/phone/numbers/purchase', { phone_number: phone });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ sid: null, status: 'unknown' });
    await new Promise((r) => setTimeout(r, INTENT_WINDOW_SECONDS * 1000 + 200));
    await t.app.get(NumbersService).syncWithTwilio();
    await t.app.get(NumbersService).syncWithTwilio();
    const events = await eventually(async () => {
      const got = happened((o) => o.id === res.body.id);
      return got.length ? got : null;
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(typesOf(happened((o) => o.id === res.body.id))).toEqual(['number.purchase_failed']);
    expect(events[0].verifiedBy.length).toBe(1);
    expect(events[0].body.data.object).toMatchObject({ id: res.body.id, sid: null, status: 'failed', phone_number: phone });
    const listed = await api('GET', `/api/phone/events?type=number.purchase_failed`);
    expect(listed.status).toBe(200);
    expect(listed.body.events.map((e: JsonBody) => e.id)).toContain(events[0].body.id);
  });
});

describe('status callbacks out of order', () => {
  /** A placed call Twilio knows as queued: our record, before any callback. */
  async function queuedCall(): Promise<string> {
    const sid = fakeSid('CA');
    await t.app.get(DataSource).query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, status_sequence, message)
       VALUES ($1, 'outbound', '+14155550100', '+14155550194', 'queued', -1, 'hello')`,
      [sid],
    );
    return sid;
  }

  const callback = (sid: string, status: string, sequence: number, extra: Record<string, string> = {}) =>
    postWebhook(t, 'status', {
      CallSid: sid,
      AccountSid: t.sandbox.accountSid,
      Direction: 'outbound-api',
      CallStatus: status,
      SequenceNumber: String(sequence),
      ...extra,
    });

  it('tells completed once, and nothing stale after it, when completed overtakes ringing and answered', { timeout: 30_000 }, async () => {
    const sid = await queuedCall();
    expect((await callback(sid, 'completed', 3, { CallDuration: '12' })).status).toBe(204);
    expect((await callback(sid, 'ringing', 1)).status).toBe(204);
    expect((await callback(sid, 'in-progress', 2)).status).toBe(204);
    expect((await callback(sid, 'completed', 3, { CallDuration: '12' })).status).toBe(204);
    await eventually(async () => typesOf(happened((o) => o.sid === sid)).includes('call.completed'));
    await new Promise((r) => setTimeout(r, 500));
    const events = happened((o) => o.sid === sid).filter((e) => e.body.type !== 'call.report.ready');
    expect(typesOf(events)).toEqual(['call.completed']);
    expect(events[0].body.data).toMatchObject({ outcome: 'completed', object: { status: 'completed' } });
  });

  it('tells answered before ringing only as it happened: a stale ringing after answered is not told', { timeout: 30_000 }, async () => {
    const sid = await queuedCall();
    expect((await callback(sid, 'in-progress', 2)).status).toBe(204);
    expect((await callback(sid, 'ringing', 1)).status).toBe(204);
    expect((await callback(sid, 'completed', 3, { CallDuration: '5' })).status).toBe(204);
    await eventually(async () => typesOf(happened((o) => o.sid === sid)).includes('call.completed'));
    await new Promise((r) => setTimeout(r, 500));
    const types = typesOf(happened((o) => o.sid === sid)).filter((type) => type !== 'call.report.ready');
    expect(types).toEqual(['call.answered', 'call.completed']);
  });
});
