import { startTestApp, type TestApp } from '../support/test-app';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { api, count, fakeSid, postWebhook, wireNumber } from './webhook-helpers';

interface CallDto {
  sid: string;
  status: string;
  duration: number | null;
  error_code: number | null;
}
interface SmsDto {
  sid: string;
  status: string;
  body: string;
  segments: number;
  error_code: number | null;
}

const HUGE = '99999999999999999999';

describe('callback parameters out of range for their columns never poison the inbox', () => {
  let t: TestApp;
  let reconcile: ReconcileService;
  let ourNumber: string;

  beforeAll(async () => {
    t = await startTestApp();
    ourNumber = await wireNumber(t);
    reconcile = t.app.get(ReconcileService);
  });
  afterAll(async () => t?.close());

  /** A call that stays in progress in the sandbox until it is ended, so only our callbacks move it. */
  async function longCall(): Promise<string> {
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155555555', message: 'hold on' });
    expect(placed.status).toBe(201);
    return placed.body.sid;
  }

  async function hangUp(sid: string): Promise<void> {
    await t.app
      .get(TwilioGateway)
      .endCall(sid, 'completed')
      .catch(() => undefined);
    await t.sandbox.settle();
  }

  it.each([
    ['SequenceNumber', { CallStatus: 'in-progress', SequenceNumber: HUGE }],
    ['CallDuration', { CallStatus: 'in-progress', SequenceNumber: '2', CallDuration: HUGE }],
    ['ErrorCode', { CallStatus: 'in-progress', SequenceNumber: '2', ErrorCode: HUGE }],
    ['ErrorCode (exponent)', { CallStatus: 'in-progress', SequenceNumber: '2', ErrorCode: '1e20' }],
    ['SequenceNumber below zero', { CallStatus: 'in-progress', SequenceNumber: '-99999999999999999999' }],
  ])('a huge %s is answered 204, and a later valid completed callback completes the call', async (_name, bad) => {
    const sid = await longCall();
    const base = { CallSid: sid, AccountSid: t.sandbox.accountSid, Direction: 'outbound-api' };
    expect((await postWebhook(t, 'status', { ...base, ...bad })).status).toBe(204);
    const completed = await postWebhook(t, 'status', { ...base, CallStatus: 'completed', SequenceNumber: '5', CallDuration: '17' });
    expect(completed.status).toBe(204);
    const got = await api<CallDto>(t, 'GET', `/api/phone/calls/${sid}`);
    expect(got.body).toMatchObject({ status: 'completed', duration: 17 });
    expect(await count(t, 'webhook_events', 'sid = $1 AND applied_at IS NULL', [sid])).toBe(0);
    await hangUp(sid);
    await expect(reconcile.runOnce({ olderThanSeconds: 0, unknownGraceSeconds: 0 })).resolves.toBeDefined();
  });

  it('a callback for a call not stored yet with a huge SequenceNumber does not stop reconciliation', async () => {
    const gateway = t.app.get(TwilioGateway);
    const snapshot = await gateway.placeCall({
      to: '+14155550143',
      from: t.config.twilio.phoneNumber,
      twiml: '<Response><Say>hi</Say></Response>',
      statusCallbackUrl: `${t.config.twilio.webhookBaseUrl}/status`,
      record: false,
    });
    const base = { CallSid: snapshot.sid, AccountSid: t.sandbox.accountSid, Direction: 'outbound-api' };
    expect((await postWebhook(t, 'status', { ...base, CallStatus: 'ringing', SequenceNumber: HUGE })).status).toBe(204);
    await t.sandbox.settle();
    // an unrelated message that only reconciliation can move on
    const sent = await api<SmsDto>(t, 'POST', '/api/phone/sms', { to: '+14155550100', message: 'unrelated' });
    await t.sandbox.settle();
    const report = await reconcile.runOnce({ olderThanSeconds: 0, unknownGraceSeconds: 0 });
    expect(report.failures).toBe(0);
    expect((await api<CallDto>(t, 'GET', `/api/phone/calls/${snapshot.sid}`)).body.status).toBe('completed');
    expect((await api<SmsDto>(t, 'GET', `/api/phone/sms/${sent.body.sid}`)).body.status).not.toBe('queued');
  });

  it('a huge RecordingDuration or RecordingChannels is dropped, the recording kept', async () => {
    const sid = await longCall();
    const rec = { CallSid: sid, RecordingSid: fakeSid('RE'), RecordingUrl: 'https://example.com/r', RecordingSource: 'OutboundAPI' };
    const res = await postWebhook(t, 'status', { ...rec, RecordingStatus: 'completed', RecordingDuration: HUGE, RecordingChannels: HUGE });
    expect(res.status).toBe(204);
    const list = await api<{ recordings: { sid: string; status: string; duration: number | null }[] }>(
      t,
      'GET',
      `/api/phone/calls/${sid}/recordings`,
    );
    expect(list.body.recordings).toEqual([expect.objectContaining({ sid: rec.RecordingSid, status: 'completed', duration: null })]);
    await hangUp(sid);
  });

  it('a message status callback with a huge ErrorCode still moves the message', async () => {
    const sent = await api<SmsDto>(t, 'POST', '/api/phone/sms', { to: '+14155550100', message: 'hello' });
    await t.sandbox.settle();
    const res = await postWebhook(t, 'status', {
      MessageSid: sent.body.sid,
      MessageStatus: 'undelivered',
      ErrorCode: HUGE,
      AccountSid: t.sandbox.accountSid,
    });
    expect(res.status).toBe(204);
    expect(await count(t, 'webhook_events', 'sid = $1 AND applied_at IS NULL', [sent.body.sid])).toBe(0);
  });

  it('an inbound SMS with a huge NumSegments, and one with a NUL in its body, are stored', async () => {
    const huge = fakeSid('SM');
    const withNul = fakeSid('SM');
    const common = { AccountSid: t.sandbox.accountSid, From: '+14155550177', To: ourNumber, NumMedia: HUGE };
    expect((await postWebhook(t, 'sms', { ...common, MessageSid: huge, Body: 'many', NumSegments: HUGE })).status).toBe(200);
    expect((await postWebhook(t, 'sms', { ...common, MessageSid: withNul, Body: 'a\u0000b' })).status).toBe(200);
    const first = await api<SmsDto>(t, 'GET', `/api/phone/sms/${huge}`);
    expect(first.body).toMatchObject({ body: 'many', status: 'received' });
    const second = await api<SmsDto>(t, 'GET', `/api/phone/sms/${withNul}`);
    expect(second.body).toMatchObject({ body: 'a\ufffdb', status: 'received' });
    await expect(reconcile.runOnce({ olderThanSeconds: 0, unknownGraceSeconds: 0 })).resolves.toBeDefined();
  });
});
