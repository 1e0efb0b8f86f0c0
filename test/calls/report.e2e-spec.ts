import type { EntityManager } from 'typeorm';
import { CallReportsService } from '../../src/calls/call-reports.service';
import type { CallReportDto } from '../../src/calls/calls.dto';
import { JsonBody, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * The end-of-call report through HTTP against the in-process sandbox: outcomes by the sandbox's
 * destination rules (…1111 busy, …2222 no answer, …4444 a machine, …5555 held until hung up), cost,
 * recordings a client downloads with our token alone, and the one moment the report is marked ready.
 * Reads refresh the call from Twilio (CALL_REFRESH_AFTER_SECONDS=0), which brings Twilio's price.
 */
let t: TestApp;
let caller: string;
let viewer: string;

async function placeCall(body: Record<string, unknown>): Promise<JsonBody> {
  const res = await request(t, 'POST', '/api/phone/call', { token: caller, body: { message: 'Report test call.', ...body } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function report(key: string): Promise<JsonBody> {
  const res = await request(t, 'GET', `/api/phone/calls/${key}/report`, { token: viewer });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
}

/** The report once the sandbox has nothing left to do and the report says `until`. */
async function reportWhen(sid: string, until: (r: JsonBody) => boolean): Promise<JsonBody> {
  await t.sandbox.settle(15_000);
  return eventually(async () => {
    const r = await report(sid);
    return until(r) ? r : null;
  }, 15_000);
}

describe('GET /api/phone/calls/{sid}/report', () => {
  beforeAll(async () => {
    t = await startTestApp({ CALL_REFRESH_AFTER_SECONDS: '0', RATE_LIMIT_CALLS: '1000' });
    caller = t.token(['phone:call']);
    viewer = t.token(['phone:view']);
  });
  afterAll(async () => t?.close());

  it('reports a completed recorded call: outcome, times, Twilio’s price, recordings that download with our token alone', async () => {
    const placed = await placeCall({ to: '+14155550100', record: true });
    const r = await reportWhen(placed.sid, (x) => x.settled);
    const truth = t.sandbox.calls().find((c) => c.sid === placed.sid)!;

    expect(r).toMatchObject({ id: placed.id, sid: placed.sid, status: 'completed', outcome: 'completed', ended_by: 'api' });
    expect(r).toMatchObject({ final: true, settled: true, transcript: [] });
    expect(r.duration).toBe(truth.duration);
    expect(r.duration).toBeGreaterThan(0);
    expect(new Date(r.answered_at).getTime()).toBeLessThanOrEqual(new Date(r.end_time).getTime());
    expect(new Date(r.created_at).getTime()).toBeLessThanOrEqual(new Date(r.answered_at).getTime());
    expect(r.timeline.map((e: JsonBody) => e.status)).toEqual(expect.arrayContaining(['queued', 'in-progress', 'completed']));
    // what the sandbox charges: $0.0085 per started minute
    expect(r.cost).toEqual({
      amount: (Math.ceil(truth.duration! / 60) * 0.0085).toFixed(5),
      currency: 'USD',
      source: 'twilio',
      billable_minutes: Math.ceil(truth.duration! / 60),
      pricing: null,
    });
    expect(Number(r.cost.amount)).toBeGreaterThan(0);

    expect(r.recordings.map((x: JsonBody) => x.sid)).toEqual(truth.recordingSids);
    const [recording] = r.recordings;
    expect(recording.url).toBe(`${t.config.twilio.webhookBaseUrl.replace(/\/webhook$/, '')}/recordings/${recording.sid}/audio`);
    const audio = await fetch(recording.url, { headers: { authorization: `Bearer ${viewer}` } });
    expect(audio.status).toBe(200);
    expect(audio.headers.get('content-type')).toContain('audio/x-wav');
    const bytes = Buffer.from(await audio.arrayBuffer());
    expect(bytes.length).toBeGreaterThan(44);
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('RIFF');
    expect(Number(audio.headers.get('content-length'))).toBe(bytes.length);

    // the call's own recordings list gives the same URLs
    const listed = await request(t, 'GET', `/api/phone/calls/${placed.sid}/recordings`, { token: viewer });
    expect(listed.body.recordings.map((x: JsonBody) => x.url)).toEqual(r.recordings.map((x: JsonBody) => x.url));
  });

  it('reports busy (ended by the callee) and no-answer (a timeout), priced at nothing', async () => {
    const busy = await placeCall({ to: '+14155551111' });
    const silent = await placeCall({ to: '+14155552222', timeout: 5 });
    const b = await reportWhen(busy.sid, (x) => x.settled);
    const n = await reportWhen(silent.sid, (x) => x.settled);
    expect(b).toMatchObject({ status: 'busy', outcome: 'busy', ended_by: 'callee', answered_at: null, duration: null, recordings: [] });
    expect(n).toMatchObject({ status: 'no-answer', outcome: 'no-answer', ended_by: 'timeout', answered_at: null });
    for (const r of [b, n]) expect(r.cost).toMatchObject({ amount: '0.00000', source: 'twilio', billable_minutes: 0 });
  });

  it('reports a call a machine answered as voicemail', async () => {
    const placed = await placeCall({ to: '+14155554444', machine_detection: true });
    const r = await reportWhen(placed.sid, (x) => x.final);
    expect(r).toMatchObject({ status: 'completed', outcome: 'voicemail', answered_by: 'machine_start' });
  });

  it('reports a call in flight with final false, then one hung up through our API as ended by api', async () => {
    const placed = await placeCall({ to: '+14155555555' });
    const live = await eventually(async () => {
      const r = await report(placed.sid);
      return r.status === 'in-progress' ? r : null;
    });
    expect(live).toMatchObject({
      final: false,
      settled: false,
      outcome: null,
      ended_by: null,
      cost: null,
      settle_by: null,
      ready_at: null,
    });
    expect(live.answered_at).not.toBeNull();

    const hangup = await request(t, 'POST', `/api/phone/calls/${placed.sid}/hangup`, { token: caller });
    expect(hangup.status, JSON.stringify(hangup.body)).toBe(200);
    const ended = await reportWhen(placed.sid, (x) => x.final);
    expect(ended).toMatchObject({ status: 'completed', outcome: 'completed', ended_by: 'api' });
  });

  it('finds the report by the record id as well, answers 404 for an unknown call and 401 without a token', async () => {
    const placed = await placeCall({ to: '+14155550101' });
    expect((await report(placed.id)).sid).toBe(placed.sid);
    const unknown = await request(t, 'GET', `/api/phone/calls/CA${'0'.repeat(32)}/report`, { token: viewer });
    expect(unknown.status).toBe(404);
    expect(unknown.body).toMatchObject({ code: 'not_found', statusCode: 404 });
    const anonymous = await request(t, 'GET', `/api/phone/calls/${placed.sid}/report`);
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.code).toBe('unauthorized');
    await t.sandbox.settle(15_000);
  });

  it('marks a settled report ready exactly once, in the transaction where call.report.ready is written', async () => {
    const reports = t.app.get(CallReportsService);
    const seen: { sid: string | null; markedInTx: boolean }[] = [];
    let fail = true;
    reports.onReportReady(async (tx: EntityManager, ready: CallReportDto) => {
      const [row] = await tx.query<{ report_ready_at: Date | null }[]>('SELECT report_ready_at FROM call_records WHERE id = $1', [
        ready.id,
      ]);
      seen.push({ sid: ready.sid, markedInTx: row.report_ready_at !== null });
      if (fail) throw new Error('outbox unavailable');
    });
    const placed = await placeCall({ to: '+14155550102', record: true });
    await reportWhen(placed.sid, (x) => x.settled && x.ready_at === null);

    // a failing listener rolls the mark back: the next pass tries again
    await expect(reports.markIfSettled(placed.id)).rejects.toThrow('outbox unavailable');
    expect((await report(placed.sid)).ready_at).toBeNull();
    fail = false;
    const passes = await Promise.all([reports.markSettledReports(), reports.markSettledReports()]);
    expect(passes.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(1);
    expect(await reports.markSettledReports()).toBe(0);
    expect(await reports.markIfSettled(placed.id)).toBe(false);

    const mine = seen.filter((s) => s.sid === placed.sid);
    expect(mine).toEqual([
      { sid: placed.sid, markedInTx: true },
      { sid: placed.sid, markedInTx: true },
    ]);
    const r = await report(placed.sid);
    expect(r.ready_at).not.toBeNull();
    expect(new Date(r.ready_at).getTime()).toBeGreaterThanOrEqual(new Date(r.created_at).getTime());
  });
});

describe('a report Twilio never prices', () => {
  beforeAll(async () => {
    // no refresh on reads: the price never arrives, so only the bounded wait settles the report
    t = await startTestApp({ CALL_REFRESH_AFTER_SECONDS: '86400', REPORT_SETTLE_SECONDS: '3' });
    caller = t.token(['phone:call']);
    viewer = t.token(['phone:view']);
  });
  afterAll(async () => t?.close());

  it('estimates the cost from the price list and settles REPORT_SETTLE_SECONDS after the end', async () => {
    const placed = await placeCall({ to: '+14155550103' });
    const waiting = await reportWhen(placed.sid, (x) => x.final);
    expect(waiting.price).toBeNull();
    expect(waiting).toMatchObject({ settled: false, ready_at: null });
    const minutes = Math.ceil(waiting.duration / 60);
    expect(waiting.cost).toEqual({
      amount: (0.0085 * minutes).toFixed(5),
      currency: 'USD',
      source: 'estimate',
      billable_minutes: minutes,
      pricing: { voice_per_minute: '0.00850', currency: 'USD' },
    });
    // from the end, or from when we stored it if that is earlier (the sandbox's clock runs ahead of ours)
    const end = Math.min(new Date(waiting.end_time).getTime(), new Date(waiting.updated_at).getTime());
    expect(new Date(waiting.settle_by).getTime()).toBe(end + 3000);
    const reports = t.app.get(CallReportsService);
    expect(await reports.markSettledReports()).toBe(0);

    const settled = await eventually(async () => {
      const r = await report(placed.sid);
      return r.settled ? r : null;
    }, 10_000);
    expect(settled.cost.source).toBe('estimate');
    expect(Date.now()).toBeGreaterThanOrEqual(new Date(waiting.settle_by).getTime());
    expect(await reports.markSettledReports()).toBe(1);
    expect((await report(placed.sid)).ready_at).not.toBeNull();
  });
});

describe('reports marked ready by the price follow-up', () => {
  beforeAll(async () => {
    // reads never refresh: the price comes only from reconciliation's price follow-up, which also marks reports ready
    t = await startTestApp({
      CALL_REFRESH_AFTER_SECONDS: '86400',
      RECONCILE_ENABLED: 'true',
      RECONCILE_INTERVAL_SECONDS: '3600',
      RECONCILE_STALE_AFTER_SECONDS: '3600',
      RECONCILE_PRICE_AFTER_SECONDS: '1',
    });
    caller = t.token(['phone:call']);
    viewer = t.token(['phone:view']);
  });
  afterAll(async () => t?.close());

  it('marks a recorded call’s report ready on its own once Twilio priced it, with nobody reading it', async () => {
    const placed = await placeCall({ to: '+14155550104', record: true });
    await t.sandbox.settle(15_000);
    const ready = await eventually(async () => {
      const r = await report(placed.sid);
      return r.ready_at ? r : null;
    }, 20_000);
    expect(ready).toMatchObject({ final: true, settled: true, outcome: 'completed' });
    expect(ready.cost.source).toBe('twilio');
    expect(ready.recordings).toHaveLength(1);
  });
});
