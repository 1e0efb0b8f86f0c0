import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { fieldsOf, request, type JsonBody } from '../support/http';
import { QUICK_CAMPAIGN_ENGINE } from '../support/campaign-engine';

const SPEED = 20;
/** Every hour of every day: the engine's tests must not depend on the hour they run at. */
const ALWAYS = { start: '00:00', end: '24:00' };
const later = () => new Date(Date.now() + 3600_000).toISOString();

async function finished(t: TestApp, token: string, id: string, timeoutMs = 40_000): Promise<JsonBody> {
  let last: JsonBody = null;
  try {
    return await eventually(
      async () => {
        last = (await request(t, 'GET', `/api/phone/campaigns/${id}`, { token })).body;
        return last.state === 'completed' || last.state === 'canceled' ? last : null;
      },
      timeoutMs,
      200,
    );
  } catch (error) {
    throw new Error(
      `campaign ${id} did not finish: ${JSON.stringify({ ...last, import_report: undefined })}; recipients ${JSON.stringify(await recipients(t, token, id))}`,
      { cause: error },
    );
  }
}

async function recipients(t: TestApp, token: string, id: string): Promise<JsonBody[]> {
  const { body } = await request(t, 'GET', `/api/phone/campaigns/${id}/recipients?limit=500`, { token });
  return body.recipients;
}

describe('campaigns', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({
      SANDBOX_SPEED: String(SPEED),
      ...QUICK_CAMPAIGN_ENGINE,
      CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: '5',
      CAMPAIGN_ACCOUNT_SMS_PER_SECOND: '5',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    token = t.token(['phone:call', 'phone:sms', 'phone:view']);
  });

  afterAll(async () => {
    await t?.close();
  });

  describe('creation', () => {
    it('validates rows one by one: invalid, duplicate, opted-out and missing-variable rows are skipped with reasons, never dialed', async () => {
      const before = t.sandbox.calls().length;
      const { status, body } = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: {
          name: 'Reminders',
          message: 'Hello {{first_name}}, see you at {{time}}.',
          start_at: later(),
          recipients: [
            { to: '+14155550101', variables: { first_name: 'Ann', time: '10:30' } },
            { to: 'not a number', variables: { first_name: 'Bob', time: '11:00' } },
            { to: '+14155550101', variables: { first_name: 'Ann again', time: '10:30' } },
            { to: '+14155550102', variables: { first_name: 'Cy' } },
            { to: '+14155550103', variables: { first_name: 'Di', time: 9 }, metadata: { crm_id: 'c-3' } },
          ],
        },
      });
      expect(status).toBe(201);
      expect(body.state).toBe('scheduled');
      expect(body.import_report).toMatchObject({
        total: 5,
        accepted: 2,
        skipped: 3,
        skipped_by_reason: { invalid_number: 1, duplicate: 1, missing_variable: 1 },
      });
      expect(body.import_report.skipped_rows.map((r: JsonBody) => [r.row, r.reason])).toEqual([
        [1, 'invalid_number'],
        [2, 'duplicate'],
        [3, 'missing_variable'],
      ]);
      expect(body.counts).toMatchObject({ pending: 2, skipped: 3 });
      const rows = await recipients(t, token, body.id);
      expect(rows[0]).toMatchObject({ to: '+14155550101', state: 'pending', time_zones: ['America/Los_Angeles'], attempts: [] });
      expect(rows[4]).toMatchObject({ variables: { first_name: 'Di', time: '9' }, metadata: { crm_id: 'c-3' } });
      expect(rows[3]).toMatchObject({ state: 'skipped', skip_reason: 'missing_variable' });
      expect(t.sandbox.calls().length).toBe(before);
    });

    it('a dry run answers the report and the estimated cost and stores nothing', async () => {
      const before = (await request(t, 'GET', '/api/phone/campaigns?limit=100', { token })).body.campaigns.length;
      const { status, body } = await request(t, 'POST', '/api/phone/campaigns?dry_run=true', {
        token,
        body: {
          name: 'Dry',
          sms_body: 'Hi {{name}}',
          recipients: [{ to: '+14155550111', variables: { name: 'A' } }, { to: '+14155550112', variables: { name: 'B' } }, { to: '+1' }],
          retry: { on: ['failed'], max_attempts: 3 },
        },
      });
      expect(status).toBe(200);
      expect(body.import_report).toMatchObject({ total: 3, accepted: 2, skipped_by_reason: { invalid_number: 1 } });
      const perSegment = Number(t.config.pricing.smsPerSegment);
      expect(Number(body.estimated_cost.first_attempts)).toBeCloseTo(2 * perSegment, 5);
      expect(Number(body.estimated_cost.with_all_retries)).toBeCloseTo(6 * perSegment, 5);
      expect((await request(t, 'GET', '/api/phone/campaigns?limit=100', { token })).body.campaigns.length).toBe(before);
    });

    it('takes the recipients as CSV: a header with to and a column per variable', async () => {
      const { status, body } = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: {
          name: 'CSV',
          sms_body: 'Hi {{name}}, {{slot}}',
          start_at: later(),
          recipients_csv: 'to,name,slot\n+14155550121,Ann,9am\n+14155550122,"Bob, Jr.",10am\nbad,Cy,11am\n',
        },
      });
      expect(status).toBe(201);
      expect(body.channel).toBe('sms');
      expect(body.import_report).toMatchObject({ total: 3, accepted: 2, skipped_by_reason: { invalid_number: 1 } });
      const rows = await recipients(t, token, body.id);
      expect(rows[1]).toMatchObject({ to: '+14155550122', variables: { name: 'Bob, Jr.', slot: '10am' } });
    });

    it('answers 400 naming the field for a bad campaign, and 403 without the channel permission', async () => {
      const both = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: { name: 'x', message: 'a', sms_body: 'b', recipients: [{ to: '+14155550131' }] },
      });
      expect(both.status).toBe(400);
      expect(fieldsOf(both.body)).toEqual(['message', 'sms_body']);
      const window = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: { name: 'x', message: 'a', recipients: [{ to: '+14155550131' }], calling_window: { start: '20:00', end: '09:00' } },
      });
      expect([window.status, fieldsOf(window.body)]).toEqual([400, ['calling_window.end']]);
      const pacing = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: { name: 'x', message: 'a', recipients: [{ to: '+14155550131' }], pacing: { per_second: 0 } },
      });
      expect(pacing.status).toBe(400);
      expect(fieldsOf(pacing.body)).toEqual(['pacing.per_second']);
      const smsOnly = t.token(['phone:sms']);
      const call = await request(t, 'POST', '/api/phone/campaigns', {
        token: smsOnly,
        body: { name: 'x', message: 'a', recipients: [{ to: '+14155550131' }] },
      });
      expect([call.status, call.body.code]).toEqual([403, 'forbidden']);
    });

    it('a number whose zones never share the window is skipped; a window closed now leaves it pending', async () => {
      const { body } = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: {
          name: 'Zones',
          message: 'Hello',
          start_at: later(),
          calling_window: { start: '09:00', end: '12:00' },
          // a toll-free number spans every North American zone, Guam to Newfoundland: 09-12 never holds in all
          recipients: [{ to: '+18002345678' }, { to: '+14155550141' }],
        },
      });
      expect(body.import_report.skipped_by_reason).toEqual({ window_never_open: 1 });
      expect(body.counts).toMatchObject({ pending: 1, skipped: 1 });
    });
  });

  describe('engine', () => {
    it(
      'runs to completion: retries busy, gives up after max_attempts, reports every attempt with its sid, and sends the events',
      { timeout: 60_000 },
      async () => {
        const { status, body } = await request(t, 'POST', '/api/phone/campaigns', {
          token,
          body: {
            name: 'Run',
            message: 'Hello {{name}}',
            calling_window: ALWAYS,
            pacing: { per_second: 5, max_live: 3 },
            retry: { on: ['busy'], max_attempts: 2, after_seconds: 1 },
            recipients: [
              { to: '+14155550201', variables: { name: 'Ann' } },
              { to: '+14155551111', variables: { name: 'Busy' } },
              { to: '+14155553333', variables: { name: 'Fails' } },
              { to: '+14155550202', variables: { name: 'Bo' } },
              { to: '+1415', variables: { name: 'Bad' } },
            ],
          },
        });
        expect(status).toBe(201);
        const done = await finished(t, token, body.id);
        expect(done.counts).toEqual({ pending: 0, scheduled: 0, in_progress: 0, retrying: 0, completed: 2, failed: 2, skipped: 1 });
        expect(done.spend.attempts).toBe(5);
        const rows = await recipients(t, token, body.id);
        const busy = rows.find((r) => r.to === '+14155551111');
        expect(busy.state).toBe('failed');
        expect(busy.attempts.map((a: JsonBody) => a.outcome)).toEqual(['busy', 'busy']);
        expect(busy.attempts.every((a: JsonBody) => /^CA[0-9a-f]{32}$/.test(a.sid))).toBe(true);
        expect(rows.find((r) => r.to === '+14155553333')).toMatchObject({ state: 'failed', last_outcome: 'failed' });
        expect(rows.find((r) => r.to === '+14155550201')).toMatchObject({ state: 'completed', last_outcome: 'completed' });
        const calls = t.sandbox.calls();
        expect(calls.filter((c) => c.to === '+14155551111')).toHaveLength(2);
        expect(calls.filter((c) => c.to === '+14155550201')).toHaveLength(1);
        expect(calls.find((c) => c.to === '+14155550201')!.executed).toEqual(
          expect.arrayContaining([expect.objectContaining({ text: 'Hello Ann' })]),
        );
        const started = await request(t, 'GET', '/api/phone/events?type=campaign.started&limit=100', { token: t.token(['phone:admin']) });
        expect(started.body.events.filter((e: JsonBody) => e.payload.data.object.id === body.id)).toHaveLength(1);
        const ended = await request(t, 'GET', '/api/phone/events?type=campaign.recipient.completed&limit=100', {
          token: t.token(['phone:admin']),
        });
        expect(ended.body.events.filter((e: JsonBody) => e.payload.data.object.campaign_id === body.id)).toHaveLength(4);
        const completed = await request(t, 'GET', '/api/phone/events?type=campaign.completed&limit=100', {
          token: t.token(['phone:admin']),
        });
        expect(completed.body.events.filter((e: JsonBody) => e.payload.data.object.id === body.id)).toHaveLength(1);
      },
    );

    it(
      'paces: over any one second at most per_second calls reach Twilio, and never more than max_live at once',
      { timeout: 60_000 },
      async () => {
        const numbers = Array.from({ length: 10 }, (_, i) => `+1415555${String(3000 + i)}`);
        const { body } = await request(t, 'POST', '/api/phone/campaigns', {
          token,
          body: {
            name: 'Paced',
            message: 'Hi',
            calling_window: ALWAYS,
            pacing: { per_second: 3, max_live: 2 },
            recipients: numbers.map((to) => ({ to })),
          },
        });
        await finished(t, token, body.id);
        // the sandbox's clock runs SPEED times faster than ours: one real second is SPEED of its seconds
        const calls = t.sandbox
          .calls()
          .filter((c) => numbers.includes(c.to))
          .sort((a, b) => a.dateCreated.getTime() - b.dateCreated.getTime());
        expect(calls).toHaveLength(10);
        const created = calls.map((c) => c.dateCreated.getTime());
        for (let i = 3; i < created.length; i++) expect(created[i] - created[i - 3]).toBeGreaterThan(1000 * SPEED);
        for (const call of calls) {
          const live = calls.filter((c) => c.dateCreated <= call.dateCreated && (c.endTime ?? c.dateUpdated) > call.dateCreated);
          expect(live.length).toBeLessThanOrEqual(2);
        }
      },
    );

    it('pause stops new attempts, resume continues where it stopped, cancel skips who is left', { timeout: 60_000 }, async () => {
      const numbers = Array.from({ length: 6 }, (_, i) => `+1415555${String(4100 + i)}`);
      const { body } = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: {
          name: 'Control',
          message: 'Hi',
          calling_window: ALWAYS,
          pacing: { per_second: 1, max_live: 1 },
          recipients: numbers.map((to) => ({ to })),
        },
      });
      await eventually(async () => t.sandbox.calls().some((c) => numbers.includes(c.to)), 20_000);
      const paused = await request(t, 'POST', `/api/phone/campaigns/${body.id}/pause`, { token });
      expect([paused.status, paused.body.state, paused.body.paused_reason]).toEqual([200, 'paused', 'paused through the API']);
      // the run in progress sees the pause at its next step; nothing is placed after that
      await new Promise((r) => setTimeout(r, 1500));
      const placedWhilePaused = t.sandbox.calls().filter((c) => numbers.includes(c.to)).length;
      await new Promise((r) => setTimeout(r, 2500));
      expect(t.sandbox.calls().filter((c) => numbers.includes(c.to)).length).toBe(placedWhilePaused);
      expect(placedWhilePaused).toBeLessThan(6);
      expect((await request(t, 'POST', `/api/phone/campaigns/${body.id}/pause`, { token })).status).toBe(409);

      const resumed = await request(t, 'POST', `/api/phone/campaigns/${body.id}/resume`, { token });
      expect([resumed.status, resumed.body.state]).toEqual([200, 'scheduled']);
      await eventually(async () => t.sandbox.calls().filter((c) => numbers.includes(c.to)).length > placedWhilePaused, 20_000);
      const canceled = await request(t, 'POST', `/api/phone/campaigns/${body.id}/cancel`, { token });
      expect([canceled.status, canceled.body.state]).toEqual([200, 'canceled']);
      const reached = t.sandbox.calls().filter((c) => numbers.includes(c.to)).length;
      await new Promise((r) => setTimeout(r, 2500));
      const calls = t.sandbox.calls().filter((c) => numbers.includes(c.to));
      expect(calls.length).toBeLessThanOrEqual(reached + 1);
      expect(new Set(calls.map((c) => c.to)).size).toBe(calls.length);
      const done = (await request(t, 'GET', `/api/phone/campaigns/${body.id}`, { token })).body;
      expect(done.counts.skipped).toBe(6 - calls.length);
      expect(done.counts.pending + done.counts.retrying).toBe(0);
      expect((await request(t, 'POST', `/api/phone/campaigns/${body.id}/resume`, { token })).status).toBe(409);
    });
  });
});
