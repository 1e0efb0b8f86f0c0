import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { api, db, fakeSid, postWebhook, wireNumber } from './webhook-helpers';

interface TimelineEntry {
  status: string;
  source: string;
  occurred_at: string;
}
interface CallDto {
  sid: string;
  status: string;
  price: string | null;
  timeline?: TimelineEntry[];
}
interface SmsDto {
  sid: string;
  status: string;
  error_code: number | null;
  error_message: string | null;
  sent_at: string | null;
  timeline?: TimelineEntry[];
}
interface RecordingsDto {
  recordings: { sid: string; status: string }[];
}

const CALLER = '+14155550123';

/** Records are right as soon as Twilio's callbacks arrive, without waiting for a read to refresh them. */
describe('records right at once', () => {
  let t: TestApp;
  let ourNumber: string;
  let reconcile: ReconcileService;

  beforeAll(async () => {
    t = await startTestApp();
    ourNumber = await wireNumber(t);
    reconcile = t.app.get(ReconcileService);
  });
  afterAll(async () => t?.close());
  afterEach(() => t.sandbox.setFaults({}));

  const historyCall = async (sid: string) =>
    (await api<{ calls: CallDto[] }>(t, 'GET', '/api/phone/calls/history?limit=100')).body.calls.find((c) => c.sid === sid);
  const historySms = async (sid: string) =>
    (await api<{ messages: SmsDto[] }>(t, 'GET', '/api/phone/sms/history?limit=100')).body.messages.find((m) => m.sid === sid);

  it('lists a call timeline in lifecycle order, each status once, even after a refresh saw it again', async () => {
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155550160', message: 'timeline' });
    await t.sandbox.settle();
    // a later comparison with Twilio sees the terminal status again
    await db(t).query("UPDATE call_records SET synced_at = now() - interval '1 hour' WHERE sid = $1", [placed.body.sid]);
    await reconcile.runOnce({ olderThanSeconds: 0 });
    const got = await api<CallDto>(t, 'GET', `/api/phone/calls/${placed.body.sid}`);
    expect(got.body.timeline!.map((e) => e.status)).toEqual(['queued', 'initiated', 'ringing', 'in-progress', 'completed']);
  });

  it('keeps one canceled entry when both the hang-up answer and the callback report it', async () => {
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155552222', message: 'cancel me', timeout: 600 });
    await eventually(async () => t.sandbox.calls().find((c) => c.sid === placed.body.sid)?.status === 'ringing');
    const hung = await api<CallDto>(t, 'POST', `/api/phone/calls/${placed.body.sid}/hangup`);
    expect(hung.status).toBeLessThan(300);
    await t.sandbox.settle();
    const got = await api<CallDto>(t, 'GET', `/api/phone/calls/${placed.body.sid}`);
    expect(got.body.timeline!.map((e) => e.status)).toEqual(['queued', 'initiated', 'ringing', 'canceled']);
  });

  it('fills sent_at from the callbacks and names the error Twilio gave only by its code', async () => {
    const ok = await api<SmsDto>(t, 'POST', '/api/phone/sms', { to: '+14155550162', message: 'hello' });
    const bad = await api<SmsDto>(t, 'POST', '/api/phone/sms', { to: '+14155552222', message: 'hello' });
    await t.sandbox.settle();
    expect([ok.status, bad.status]).toEqual([201, 201]);
    const delivered = await historySms(ok.body.sid);
    expect(delivered).toMatchObject({ status: 'delivered' });
    expect(delivered!.sent_at).not.toBeNull();
    const undelivered = await historySms(bad.body.sid);
    expect(undelivered).toMatchObject({ status: 'undelivered', error_code: 30003, error_message: 'Unreachable destination handset' });
    expect(undelivered!.sent_at).not.toBeNull();
  });

  it('ends an inbound call in history from its status callback, without a read', async () => {
    const sid = await t.sandbox.deliverInboundCall({ from: CALLER, to: ourNumber });
    await t.sandbox.settle();
    const truth = t.sandbox.calls().find((c) => c.sid === sid)!;
    expect(truth.status).toBe('completed');
    expect(await historyCall(sid)).toMatchObject({ status: 'completed' });
  });

  it('ends an inbound call from the voice URL requests when its number sends no status callback', async () => {
    // a number set up in the Console or with the Twilio CLI often has only its voice URL
    const sid = fakeSid('CA');
    const voice = { CallSid: sid, AccountSid: t.sandbox.accountSid, From: CALLER, To: ourNumber, Direction: 'inbound' };
    expect((await postWebhook(t, 'call', { ...voice, CallStatus: 'ringing' })).status).toBe(200);
    expect(await historyCall(sid)).toMatchObject({ status: 'ringing' });
    // the caller hung up during the voicemail: Twilio requests the <Record> action with the call's status
    const action = { ...voice, CallStatus: 'completed', RecordingUrl: 'https://example.com/r', RecordingDuration: '7' };
    expect((await postWebhook(t, 'call', { ...action, RecordingSid: fakeSid('RE') })).status).toBe(200);
    expect(await historyCall(sid)).toMatchObject({ status: 'completed' });
  });

  it('gets the voicemail of an inbound call whose callbacks were all lost, even once a read priced it', async () => {
    t.sandbox.setFaults({ callbackDrop: 1 });
    const sid = await t.sandbox.deliverInboundCall({ from: CALLER, to: ourNumber });
    await t.sandbox.settle();
    t.sandbox.setFaults({});
    const truth = t.sandbox.calls().find((c) => c.sid === sid)!;
    expect(truth.recordingSids).toHaveLength(1);
    // a read refreshes the call from Twilio: ended and priced
    await db(t).query("UPDATE call_records SET synced_at = now() - interval '1 hour' WHERE sid = $1", [sid]);
    const read = await api<CallDto>(t, 'GET', `/api/phone/calls/${sid}`);
    expect(read.body.status).toBe('completed');
    await db(t).query("UPDATE call_records SET synced_at = now() - interval '1 hour' WHERE sid = $1", [sid]);
    await reconcile.runOnce({ olderThanSeconds: 0 });
    const recordings = (await api<RecordingsDto>(t, 'GET', `/api/phone/calls/${sid}/recordings`)).body.recordings;
    expect(recordings.map((r) => r.sid)).toEqual(truth.recordingSids);
  });

  it('gets the recording of a placed call whose TwiML records, once its callbacks were lost', async () => {
    t.sandbox.setFaults({ callbackDrop: 1 });
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', {
      to: '+14155550163',
      twiml: '<Response><Say>leave a message</Say><Record maxLength="5"/></Response>',
    });
    await t.sandbox.settle();
    t.sandbox.setFaults({});
    const truth = t.sandbox.calls().find((c) => c.sid === placed.body.sid)!;
    expect(truth.recordingSids).toHaveLength(1);
    await db(t).query("UPDATE call_records SET synced_at = now() - interval '1 hour' WHERE sid = $1", [placed.body.sid]);
    expect((await api<CallDto>(t, 'GET', `/api/phone/calls/${placed.body.sid}`)).body.status).toBe('completed');
    await db(t).query("UPDATE call_records SET synced_at = now() - interval '1 hour' WHERE sid = $1", [placed.body.sid]);
    await reconcile.runOnce({ olderThanSeconds: 0 });
    const recordings = (await api<RecordingsDto>(t, 'GET', `/api/phone/calls/${placed.body.sid}/recordings`)).body.recordings;
    expect(recordings.map((r) => r.sid)).toEqual(truth.recordingSids);
  });
});
