import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { createTwilioClient } from '../../src/twilio/twilio-http-client';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { type SecondInstance, freePort, startSecondInstance, startTestApp, type TestApp } from '../support/test-app';
import { api, count, db, wireNumber } from './webhook-helpers';

const OVERLAP_SECONDS = 1;

interface HistoryMessage {
  sid: string;
  direction: string;
  from: string;
  to: string;
  body: string;
  status: string;
  media_urls: string[];
  created_by: string | null;
}
interface HistoryCall {
  sid: string;
  direction: string;
  from: string;
  to: string;
  status: string;
}

/** Points the sandbox's number at a port nothing listens on: every inbound webhook fails, as in an outage. */
async function wireNumberToNowhere(t: TestApp): Promise<string> {
  const gateway = t.app.get(TwilioGateway);
  const [number] = await gateway.listOwnedNumbers();
  const nowhere = `http://127.0.0.1:${await freePort()}/api/phone/webhook`;
  await gateway.updateNumberWebhooks(number.sid, {
    voiceUrl: `${nowhere}/call`,
    smsUrl: `${nowhere}/sms`,
    statusCallbackUrl: `${nowhere}/status`,
  });
  return number.phoneNumber;
}

function sdkClient(t: TestApp) {
  return createTwilioClient(t.sandbox.accountSid, t.sandbox.authToken, t.sandbox.baseUrl);
}

async function watermarks(t: TestApp): Promise<Record<string, Date>> {
  const rows = await db(t).query<{ resource: string; listed_until: Date }[]>('SELECT resource, listed_until FROM reconcile_watermarks');
  return Object.fromEntries(rows.map((r) => [r.resource, new Date(r.listed_until)]));
}

describe("reconciliation sweeps Twilio's lists for traffic no webhook reported", () => {
  let t: TestApp;
  let ourNumber: string;

  beforeAll(async () => {
    // the sandbox clock runs at real speed here, so Twilio's dates and the watermark compare as in production
    t = await startTestApp({ SANDBOX_SPEED: '1', RECONCILE_OVERLAP_SECONDS: String(OVERLAP_SECONDS) });
    ourNumber = await wireNumberToNowhere(t);
  });
  afterAll(async () => t?.close());

  it('stores inbound SMS and calls whose webhooks failed, and what was made at Twilio directly; a STOP opts out', async () => {
    const sms = [
      { from: '+14155550101', body: 'Is the shop open on Sunday?' },
      { from: '+14155550102', body: 'STOP' },
      { from: '+14155550103', body: 'Here is the receipt', media_urls: ['https://example.com/receipt.png'] },
    ];
    const smsSids: string[] = [];
    for (const m of sms)
      smsSids.push(await t.sandbox.deliverInboundSms({ from: m.from, to: ourNumber, body: m.body, mediaUrls: m.media_urls }));
    const callers = ['+14155550201', '+14155550202'];
    const callSids: string[] = [];
    for (const from of callers) callSids.push(await t.sandbox.deliverInboundCall({ from, to: ourNumber }));
    const client = sdkClient(t);
    const direct = await client.messages.create({ to: '+14155559876', from: ourNumber, body: 'sent from the console' });
    const directCall = await client.calls.create({ to: '+14155559877', from: ourNumber, twiml: '<Response><Say>hi</Say></Response>' });
    await t.sandbox.settle();
    const deliveries = t.sandbox.callbacks().filter((c) => c.resourceSid !== null && [...smsSids, ...callSids].includes(c.resourceSid));
    expect(deliveries.length).toBeGreaterThan(0);
    expect(deliveries.every((c) => c.status !== 200)).toBe(true);
    expect(await count(t, 'message_records')).toBe(0);
    expect(await count(t, 'call_records')).toBe(0);

    const report = await t.app.get(ReconcileService).runOnce({ sweepPageSize: 2, unknownGraceSeconds: 0 });
    expect(report).toMatchObject({ listed: 7, adopted: 7, updated: 0, failures: 0 });

    const messages = (await api<{ messages: HistoryMessage[] }>(t, 'GET', '/api/phone/sms/history?limit=50')).body.messages;
    const bySid = new Map(messages.map((m) => [m.sid, m]));
    sms.forEach((m, i) =>
      expect(bySid.get(smsSids[i])).toMatchObject({
        direction: 'inbound',
        from: m.from,
        to: ourNumber,
        body: m.body,
        status: 'received',
        created_by: null,
      }),
    );
    expect(bySid.get(smsSids[0])!.media_urls).toEqual([]);
    const [media] = bySid.get(smsSids[2])!.media_urls;
    expect(media).toMatch(
      new RegExp(`^${t.sandbox.baseUrl}/2010-04-01/Accounts/${t.sandbox.accountSid}/Messages/${smsSids[2]}/Media/ME[0-9a-f]{32}$`),
    );
    expect(bySid.get(direct.sid)).toMatchObject({
      direction: 'outbound',
      from: ourNumber,
      to: '+14155559876',
      body: 'sent from the console',
    });

    const calls = (await api<{ calls: HistoryCall[] }>(t, 'GET', '/api/phone/calls/history?limit=50')).body.calls;
    const callBySid = new Map(calls.map((c) => [c.sid, c]));
    const truth = new Map(t.sandbox.calls().map((c) => [c.sid, c]));
    callers.forEach((from, i) =>
      expect(callBySid.get(callSids[i])).toMatchObject({
        direction: 'inbound',
        from,
        to: ourNumber,
        status: truth.get(callSids[i])!.status,
      }),
    );
    expect(callBySid.get(directCall.sid)).toMatchObject({ direction: 'outbound', from: ourNumber, to: '+14155559877' });

    const refused = await api<{ code: string }>(t, 'POST', '/api/phone/sms', { to: '+14155550102', message: 'hello again' });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('recipient_opted_out');
    const allowed = await api<{ sid: string }>(t, 'POST', '/api/phone/sms', { to: '+14155550101', message: 'Yes, 10 to 4' });
    expect(allowed.status).toBe(201);
  });

  it('a second run adopts nothing, lists nothing older than its watermark minus the overlap, and moves the watermark', async () => {
    await t.sandbox.settle();
    await new Promise((r) => setTimeout(r, (OVERLAP_SECONDS + 1) * 1000));
    const first = await watermarks(t);
    expect(Object.keys(first).sort()).toEqual(['calls', 'messages']);
    const callsBefore = await count(t, 'call_records');
    const messagesBefore = await count(t, 'message_records');
    const requestsBefore = t.sandbox.apiRequestCount;

    const report = await t.app.get(ReconcileService).runOnce({ sweepPageSize: 2, unknownGraceSeconds: 0 });

    // only the SMS the API sent after the first run is listed again (stored, delivered); everything
    // else was created more than the overlap before the first watermark: one list page each
    expect(report).toMatchObject({ listed: 1, adopted: 0, updated: 0, failures: 0 });
    expect(t.sandbox.apiRequestCount - requestsBefore).toBe(2);
    expect(await count(t, 'call_records')).toBe(callsBefore);
    expect(await count(t, 'message_records')).toBe(messagesBefore);
    const second = await watermarks(t);
    expect(second.calls.getTime()).toBeGreaterThan(first.calls.getTime());
    expect(second.messages.getTime()).toBeGreaterThan(first.messages.getTime());
  });

  it('a STOP found late does not undo a START that arrived by webhook after it', async () => {
    const sender = '+14155550105';
    const stopSid = await t.sandbox.deliverInboundSms({ from: sender, to: ourNumber, body: 'STOP' });
    await t.sandbox.settle();
    await new Promise((r) => setTimeout(r, 1100)); // Twilio's dates have whole seconds
    await wireNumber(t);
    await t.sandbox.deliverInboundSms({ from: sender, to: ourNumber, body: 'START' });
    await t.sandbox.settle();
    await wireNumberToNowhere(t);

    const report = await t.app.get(ReconcileService).runOnce({ unknownGraceSeconds: 0 });
    expect(report.adopted).toBe(1);
    expect((await api<HistoryMessage>(t, 'GET', `/api/phone/sms/${stopSid}`)).body).toMatchObject({ body: 'STOP', direction: 'inbound' });
    const res = await api<{ sid: string }>(t, 'POST', '/api/phone/sms', { to: sender, message: 'Welcome back' });
    expect(res.status).toBe(201);
  });

  it('a run Twilio fails does not move the watermark; the next one stores what it missed', async () => {
    const sid = await t.sandbox.deliverInboundSms({ from: '+14155550104', to: ourNumber, body: 'during the outage' });
    await t.sandbox.settle();
    const before = await watermarks(t);
    t.sandbox.setFaults({ serverError: 1 });
    const failed = await t.app.get(ReconcileService).runOnce({ unknownGraceSeconds: 0 });
    t.sandbox.setFaults({});
    expect(failed.failures).toBeGreaterThanOrEqual(2);
    expect(failed.adopted).toBe(0);
    expect(await watermarks(t)).toEqual(before);

    const report = await t.app.get(ReconcileService).runOnce({ unknownGraceSeconds: 0 });
    expect(report).toMatchObject({ adopted: 1, failures: 0 });
    const got = await api<HistoryMessage>(t, 'GET', `/api/phone/sms/${sid}`);
    expect(got.body).toMatchObject({ direction: 'inbound', from: '+14155550104', body: 'during the outage', status: 'received' });
  });
});

describe.skipIf(!process.env.DATABASE_URL)(
  `two instances sweeping one database at once (${process.env.DATABASE_URL ? 'Postgres' : 'needs DATABASE_URL: embedded PGlite serves a single process'})`,
  () => {
    let a: TestApp;
    let b: SecondInstance;

    beforeAll(async () => {
      a = await startTestApp({ SANDBOX_SPEED: '1' });
      b = await startSecondInstance(a);
    });
    afterAll(async () => {
      await b?.close();
      await a?.close();
    });

    it('stores each sid once', async () => {
      const ourNumber = await wireNumberToNowhere(a);
      const smsSids: string[] = [];
      for (let i = 0; i < 6; i++) {
        smsSids.push(await a.sandbox.deliverInboundSms({ from: `+1415555030${i}`, to: ourNumber, body: `hello ${i}` }));
      }
      const callSids = [
        await a.sandbox.deliverInboundCall({ from: '+14155550310', to: ourNumber }),
        await a.sandbox.deliverInboundCall({ from: '+14155550311', to: ourNumber }),
      ];
      await a.sandbox.settle();

      const [ra, rb] = await Promise.all([
        a.app.get(ReconcileService).runOnce({ unknownGraceSeconds: 0 }),
        b.app.get(ReconcileService).runOnce({ unknownGraceSeconds: 0 }),
      ]);
      expect(ra.adopted + rb.adopted).toBe(smsSids.length + callSids.length);
      expect(ra.failures + rb.failures).toBe(0);
      expect(await count(a, 'message_records', 'sid = ANY($1)', [smsSids])).toBe(smsSids.length);
      expect(await count(a, 'call_records', 'sid = ANY($1)', [callSids])).toBe(callSids.length);
      const twice = await count(a, '(SELECT resource_sid FROM status_events GROUP BY resource_sid, status HAVING count(*) > 1) d');
      expect(twice).toBe(0);
    });
  },
);
