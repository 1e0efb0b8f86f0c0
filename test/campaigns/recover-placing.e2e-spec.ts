import { DataSource } from 'typeorm';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { request, type JsonBody } from '../support/http';
import { QUICK_CAMPAIGN_ENGINE } from '../support/campaign-engine';

/**
 * A run that died while placing leaves its attempt `placing`. The next run looks for the call the
 * attempt may have stored: found, the attempt is that call's (Twilio is not asked again); not
 * found, Twilio was never asked, and the call is placed now under the same attempt.
 */
const ALWAYS = { start: '00:00', end: '24:00' };
/** The campaign's start: the test pauses it before, leaves what a dead run would, and resumes it after. */
const START_IN_MS = 5000;

describe('a campaign run that died while placing', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({
      SANDBOX_SPEED: '20',
      ...QUICK_CAMPAIGN_ENGINE,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    token = t.token(['phone:call', 'phone:view']);
  });

  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['its call stored: the attempt takes it, nobody is dialed twice', true, '+14155557420', '+14155557421'],
    ['nothing stored: the call is placed now, under the same attempt', false, '+14155557422', '+14155557423'],
  ] as const)(
    '%s',
    async (_title, stored, first, second) => {
      const dialed = (to: string) => t.sandbox.calls().filter((c) => c.to === to);
      const db = t.app.get(DataSource);
      const startAt = Date.now() + START_IN_MS;
      const created = await request(t, 'POST', '/api/phone/campaigns', {
        token,
        body: {
          name: `Recovered ${first}`,
          message: 'Hello.',
          calling_window: ALWAYS,
          start_at: new Date(startAt).toISOString(),
          recipients: [{ to: first }, { to: second }],
        },
      });
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const id = created.body.id as string;
      expect((await request(t, 'POST', `/api/phone/campaigns/${id}/pause`, { token })).status).toBe(200);

      // what the dead run left: the first recipient claimed, its attempt placing for a minute
      const [recipient] = await db.query(`SELECT id FROM campaign_recipients WHERE campaign_id = $1 AND to_number = $2`, [id, first]);
      const [attempt] = await db.query(
        `INSERT INTO campaign_attempts (campaign_id, recipient_id, attempt_number, state, requested_at)
       VALUES ($1, $2, 1, 'placing', now() - interval '1 minute') RETURNING id`,
        [id, recipient.id],
      );
      await db.query(`UPDATE campaign_recipients SET state = 'scheduled', attempts = 1 WHERE id = $1`, [recipient.id]);
      let placed: JsonBody = null;
      if (stored) {
        // and the call it asked Twilio for, tagged with the attempt as the engine tags it
        const call = await request(t, 'POST', '/api/phone/call', {
          token,
          body: { to: first, message: 'Hello.', metadata: { campaign_id: id, campaign_attempt_id: attempt.id } },
        });
        expect(call.status, JSON.stringify(call.body)).toBe(201);
        placed = call.body;
        expect(dialed(first)).toHaveLength(1);
      }

      // the run queued for the start finds the campaign paused; resuming queues the next one
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt + 1000 - Date.now())));
      expect((await request(t, 'POST', `/api/phone/campaigns/${id}/resume`, { token })).status).toBe(200);
      const recipients = async (): Promise<JsonBody[]> =>
        (await request(t, 'GET', `/api/phone/campaigns/${id}/recipients`, { token })).body.recipients;
      await eventually(
        async () => (await request(t, 'GET', `/api/phone/campaigns/${id}`, { token })).body.state === 'completed',
        40_000,
        200,
      ).catch(async (error: unknown) => {
        throw new Error(`the campaign did not complete: ${JSON.stringify(await recipients())}`, { cause: error });
      });

      expect(dialed(first)).toHaveLength(1);
      expect(dialed(second)).toHaveLength(1);
      const byNumber = Object.fromEntries((await recipients()).map((r) => [r.to, r]));
      expect(byNumber[first]).toMatchObject({ state: 'completed', attempts: [{ attempt: 1, sid: dialed(first)[0].sid }] });
      expect(byNumber[first].attempts).toHaveLength(1);
      if (placed) expect(byNumber[first].attempts[0]).toMatchObject({ record_id: placed.id, sid: placed.sid });
      expect(byNumber[second]).toMatchObject({ state: 'completed', attempts: [{ attempt: 1, sid: dialed(second)[0].sid }] });
    },
    90_000,
  );
});
