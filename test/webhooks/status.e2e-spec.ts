import fc from 'fast-check';
import { startTestApp, type TestApp } from '../support/test-app';
import { CallRecordRepository } from '../../src/calls/call-record.repository';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { api, count, db, fakeSid, postWebhook, wireNumber } from './webhook-helpers';

interface CallDto {
  sid: string;
  status: string;
  duration: number | null;
  price: string | null;
  start_time: string | null;
  end_time: string | null;
}
interface SmsDto {
  sid: string;
  status: string;
  error_code: number | null;
  price: string | null;
}
interface RecordingsDto {
  recordings: { sid: string; status: string; duration: number | null }[];
}

/** Sandbox money is in 1/100000 USD and charged as a negative price. */
const priceOf = (units: number | null) => (units === null ? null : units === 0 ? 0 : -units / 100_000);

describe('status callbacks: idempotent, monotonic, reconciled', () => {
  let t: TestApp;
  let reconcile: ReconcileService;

  beforeAll(async () => {
    t = await startTestApp();
    await wireNumber(t);
    reconcile = t.app.get(ReconcileService);
  });
  afterAll(async () => t?.close());

  it('keeps a status that arrives late from moving the call backwards; duplicates change nothing', async () => {
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155555555', message: 'hold on' });
    const sid = placed.body.sid;
    const base = { CallSid: sid, AccountSid: t.sandbox.accountSid, Direction: 'outbound-api' };
    expect((await postWebhook(t, 'status', { ...base, CallStatus: 'completed', SequenceNumber: '40', CallDuration: '17' })).status).toBe(
      204,
    );
    expect((await postWebhook(t, 'status', { ...base, CallStatus: 'ringing', SequenceNumber: '1' })).status).toBe(204);
    const events = await count(t, 'webhook_events', 'sid = $1', [sid]);
    expect(
      (await postWebhook(t, 'status', { ...base, CallStatus: 'completed', SequenceNumber: '40', CallDuration: '17' }, { token: 'again' }))
        .status,
    ).toBe(204);
    expect(await count(t, 'webhook_events', 'sid = $1', [sid])).toBe(events);
    const got = await api<CallDto & { timeline: { status: string }[] }>(t, 'GET', `/api/phone/calls/${sid}`);
    expect(got.body).toMatchObject({ status: 'completed', duration: 17 });
    expect(got.body.timeline.filter((e) => e.status === 'completed')).toHaveLength(1);
    await t.app
      .get(TwilioGateway)
      .endCall(sid, 'completed')
      .catch(() => undefined);
    await t.sandbox.settle();
  });

  it('a recording never goes back from completed to in-progress', async () => {
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155550100', message: 'hi' });
    const rec = {
      CallSid: placed.body.sid,
      RecordingSid: fakeSid('RE'),
      RecordingUrl: 'https://example.com/r',
      RecordingChannels: '1',
      RecordingSource: 'OutboundAPI',
    };
    await postWebhook(t, 'status', { ...rec, RecordingStatus: 'completed', RecordingDuration: '9' });
    await postWebhook(t, 'status', { ...rec, RecordingStatus: 'in-progress', RecordingDuration: '-1' });
    const list = await api<RecordingsDto>(t, 'GET', `/api/phone/calls/${placed.body.sid}/recordings`);
    expect(list.body.recordings).toEqual([expect.objectContaining({ sid: rec.RecordingSid, status: 'completed', duration: 9 })]);
    await t.sandbox.settle();
  });

  it('takes start and end times from the callbacks, before anything is fetched from Twilio', async () => {
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155550155', message: 'timing' });
    await t.sandbox.settle();
    const history = await api<{ calls: CallDto[] }>(t, 'GET', '/api/phone/calls/history?limit=5');
    const got = history.body.calls.find((c) => c.sid === placed.body.sid)!;
    const truth = t.sandbox.calls().find((c) => c.sid === placed.body.sid)!;
    expect(truth.status).toBe('completed');
    expect({ start_time: got.start_time, end_time: got.end_time }).toEqual({
      start_time: toSecond(truth.startTime),
      end_time: toSecond(truth.endTime),
    });
  });

  it('recovers a lost recording callback even when the call was already priced', async () => {
    const placed = await api<CallDto>(t, 'POST', '/api/phone/call', { to: '+14155550156', message: 'record me', record: true });
    await t.sandbox.settle();
    const truth = t.sandbox.calls().find((c) => c.sid === placed.body.sid)!;
    expect(truth.recordingSids).toHaveLength(1);
    // as if the recording callback never came and a read had already fetched the price
    await db(t).query('DELETE FROM recordings WHERE call_sid = $1', [placed.body.sid]);
    await t.app.get(CallRecordRepository).applyObservation(placed.body.sid, { price: '-0.00850', priceUnit: 'USD' }, 'refresh');
    await db(t).query("UPDATE call_records SET synced_at = now() - interval '1 hour' WHERE sid = $1", [placed.body.sid]);
    await reconcile.runOnce({ olderThanSeconds: 0 });
    const recordings = (await api<RecordingsDto>(t, 'GET', `/api/phone/calls/${placed.body.sid}/recordings`)).body.recordings;
    expect(recordings.map((r) => r.sid)).toEqual(truth.recordingSids);
  });

  it('keeps callbacks for a call it never stored, then creates the record from Twilio', async () => {
    const gateway = t.app.get(TwilioGateway);
    const snapshot = await gateway.placeCall({
      to: '+14155550142',
      from: t.config.twilio.phoneNumber,
      twiml: '<Response><Say>made elsewhere</Say></Response>',
      statusCallbackUrl: `${t.config.twilio.webhookBaseUrl}/status`,
      record: false,
    });
    await t.sandbox.settle();
    expect(await count(t, 'call_records', 'sid = $1', [snapshot.sid])).toBe(0);
    const pending = await count(t, 'webhook_events', 'sid = $1 AND applied_at IS NULL', [snapshot.sid]);
    expect(pending).toBeGreaterThan(0);
    await reconcile.runOnce({ unknownGraceSeconds: 60 });
    expect(await count(t, 'call_records', 'sid = $1', [snapshot.sid])).toBe(0); // still within the grace period
    const report = await reconcile.runOnce({ unknownGraceSeconds: 0 });
    expect(report.records_created).toBe(1);
    const truth = t.sandbox.calls().find((c) => c.sid === snapshot.sid)!;
    const got = await api<CallDto & { direction: string; created_by: string | null }>(t, 'GET', `/api/phone/calls/${snapshot.sid}`);
    expect(got.body).toMatchObject({ status: truth.status, duration: truth.duration, created_by: null });
    expect(await count(t, 'webhook_events', 'sid = $1 AND applied_at IS NULL', [snapshot.sid])).toBe(0);
  });

  it('keeps callbacks for a message it never stored, then creates the record from Twilio', async () => {
    const gateway = t.app.get(TwilioGateway);
    const sent = await gateway.sendMessage({
      to: '+14155550143',
      from: t.config.twilio.phoneNumber,
      body: 'sent elsewhere',
      statusCallbackUrl: `${t.config.twilio.webhookBaseUrl}/status`,
    });
    await t.sandbox.settle();
    expect(await count(t, 'message_records', 'sid = $1', [sent.sid])).toBe(0);
    expect(await count(t, 'webhook_events', 'sid = $1 AND applied_at IS NULL', [sent.sid])).toBeGreaterThan(0);
    const report = await reconcile.runOnce({ unknownGraceSeconds: 0 });
    expect(report.records_created).toBe(1);
    const got = await api<SmsDto & { created_by: string | null; media_urls: string[] }>(t, 'GET', `/api/phone/sms/${sent.sid}`);
    expect(got.body).toMatchObject({ status: 'delivered', body: 'sent elsewhere', media_urls: [], created_by: null });
  });

  const SUFFIXES = ['0100', '1111', '2222', '3333', '4444'];
  const PROPERTY_SEED =
    process.env.PROPERTY_SEED === 'random' ? Date.now() % 2_147_483_647 : Number(process.env.PROPERTY_SEED ?? 20_261_124);
  let runs = 0;

  it('ends with exactly the sandbox truth, whatever the callbacks do (property)', async () => {
    const scenario = fc.record({
      seed: fc.integer({ min: 1, max: 1_000_000 }),
      duplicate: fc.constantFrom(0, 0.3, 0.7),
      reorder: fc.constantFrom(0, 0.5, 1),
      delay: fc.constantFrom(0, 0.2),
      drop: fc.constantFrom(0, 0.2, 0.4),
      items: fc.array(fc.record({ kind: fc.constantFrom('call', 'sms'), suffix: fc.constantFrom(...SUFFIXES), record: fc.boolean() }), {
        minLength: 1,
        maxLength: 4,
      }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        runs++;
        t.sandbox.setFaults({
          seed: s.seed,
          callbackDuplicate: s.duplicate,
          callbackReorder: s.reorder,
          reorderSeconds: 20,
          callbackDelay: s.delay,
          delaySeconds: 30,
          callbackDrop: s.drop,
        });
        const sids: { kind: string; sid: string }[] = [];
        for (const item of s.items) {
          const to = `+1415555${item.suffix}`;
          if (item.kind === 'call') {
            const r = await api<CallDto>(t, 'POST', '/api/phone/call', {
              to,
              message: 'This is a short test call',
              record: item.record,
              timeout: 10,
            });
            expect(r.body).toMatchObject({ sid: expect.any(String) });
            sids.push({ kind: 'call', sid: r.body.sid });
          } else {
            const r = await api<SmsDto>(t, 'POST', '/api/phone/sms', { to, message: `property run ${runs}` });
            expect(r.body).toMatchObject({ sid: expect.any(String) });
            sids.push({ kind: 'sms', sid: r.body.sid });
          }
        }
        await t.sandbox.settle();
        t.sandbox.setFaults({});
        await reconcile.runOnce({ olderThanSeconds: 0, unknownGraceSeconds: 0 });

        const calls = new Map(t.sandbox.calls().map((c) => [c.sid, c]));
        const messages = new Map(t.sandbox.messages().map((m) => [m.sid, m]));
        const callbacks = t.sandbox.callbacks();
        for (const { kind, sid } of sids) {
          if (kind === 'call') {
            const truth = calls.get(sid)!;
            const got = (await api<CallDto>(t, 'GET', `/api/phone/calls/${sid}`)).body;
            expect({
              sid,
              status: got.status,
              duration: got.duration,
              price: got.price === null ? null : Number(got.price),
              start_time: got.start_time,
              end_time: got.end_time,
            }).toEqual({
              sid,
              status: truth.status,
              duration: truth.duration,
              price: priceOf(truth.price),
              start_time: toSecond(truth.startTime),
              end_time: toSecond(truth.endTime),
            });
            const recordings = (await api<RecordingsDto>(t, 'GET', `/api/phone/calls/${sid}/recordings`)).body.recordings;
            expect(recordings.map((r) => r.sid).sort()).toEqual([...truth.recordingSids].sort());
            for (const r of recordings) expect(r).toMatchObject({ status: 'completed', duration: truth.duration });
          } else {
            const truth = messages.get(sid)!;
            const got = (await api<SmsDto>(t, 'GET', `/api/phone/sms/${sid}`)).body;
            expect({ sid, status: got.status, error_code: got.error_code, price: got.price === null ? null : Number(got.price) }).toEqual({
              sid,
              status: truth.status,
              error_code: truth.errorCode,
              price: priceOf(truth.price),
            });
          }
        }
        // one inbox row per distinct event: duplicates never doubled anything
        const distinct = new Set(
          callbacks
            .filter((c) => sids.some((x) => x.sid === c.resourceSid) && c.status === 204 && c.kind !== 'recording-status')
            .map((c) => `${c.resourceSid}|${c.params.CallStatus ?? c.params.MessageStatus}|${c.params.SequenceNumber ?? ''}`),
        );
        const stored = await count(t, 'webhook_events', `sid = ANY($1) AND kind IN ('call_status','message_status')`, [
          sids.map((x) => x.sid),
        ]);
        expect(stored).toBe(distinct.size);
      }),
      // fixed seed: reproducible in CI; PROPERTY_SEED=random explores new scenarios. The example is a
      // scenario that once failed: the call's status and recording callbacks were all lost.
      {
        numRuns: 15,
        seed: PROPERTY_SEED,
        endOnFailure: true,
        examples: [
          [
            {
              seed: 685961,
              duplicate: 0.7,
              reorder: 0,
              delay: 0.2,
              drop: 0.4,
              items: [
                { kind: 'call' as const, suffix: '4444', record: true },
                { kind: 'sms' as const, suffix: '0100', record: false },
              ],
            },
          ],
        ],
      },
    );
    expect(runs).toBe(15);
  }, 600_000);
});

/** Twilio's dates have whole seconds. */
function toSecond(date: Date | null): string | null {
  return date === null ? null : new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString();
}
