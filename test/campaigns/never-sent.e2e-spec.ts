import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { eventually, startTestApp, type TestApp } from '../support/test-app';
import { request, type JsonBody } from '../support/http';
import { QUICK_CAMPAIGN_ENGINE } from '../support/campaign-engine';

/**
 * An attempt whose request Twilio never received (its outcome was unknown, and reconciliation found
 * nothing at Twilio within the window) reached nobody: the recipient is placed again, once, and the
 * attempt that sent nothing does not count against the campaign's attempts.
 */
const INTENT_WINDOW_SECONDS = 2;
const ALWAYS = { start: '00:00', end: '24:00' };

describe('a campaign attempt Twilio never received', () => {
  let t: TestApp;
  let token: string;
  let reconcile: ReconcileService;

  beforeAll(async () => {
    t = await startTestApp({
      SANDBOX_SPEED: '1',
      RECONCILE_INTENT_GRACE_SECONDS: '0',
      RECONCILE_INTENT_WINDOW_SECONDS: String(INTENT_WINDOW_SECONDS),
      ...QUICK_CAMPAIGN_ENGINE,
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    token = t.token(['phone:call', 'phone:sms', 'phone:view']);
    reconcile = t.app.get(ReconcileService);
  });

  afterEach(() => t.sandbox.setFaults({}));

  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['call', { message: 'Hello.' }, '+14155557410', 'calls'],
    ['sms', { sms_body: 'Hello.' }, '+14155557411', 'sms'],
  ] as const)('%s: the recipient is reached once, on its one attempt', async (_channel, content, to, history) => {
    const reached = () => (history === 'calls' ? t.sandbox.calls() : t.sandbox.messages()).filter((r) => r.to === to);
    // Twilio answers 500 before acting: the outcome of the request is unknown
    t.sandbox.setFaults({ serverError: 1 });
    const created = await request(t, 'POST', '/api/phone/campaigns', {
      token,
      body: { name: `Never sent ${to}`, ...content, calling_window: ALWAYS, recipients: [{ to }] },
    });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const recipient = async (): Promise<JsonBody> =>
      (await request(t, 'GET', `/api/phone/campaigns/${created.body.id}/recipients`, { token })).body.recipients[0];
    await eventually(async () => (await recipient()).attempts[0]?.status === 'unknown', 20_000, 50);
    t.sandbox.setFaults({});
    expect(reached()).toHaveLength(0);

    // past the window, Twilio's list still does not know it: the request never arrived
    await new Promise((r) => setTimeout(r, INTENT_WINDOW_SECONDS * 1000 + 200));
    expect((await reconcile.runOnce()).intents_failed).toBe(1);

    const done = await eventually(
      async () => {
        const c = (await request(t, 'GET', `/api/phone/campaigns/${created.body.id}`, { token })).body;
        return c.state === 'completed' ? c : null;
      },
      60_000,
      200,
    ).catch(async (error: unknown) => {
      throw new Error(`the campaign did not complete: ${JSON.stringify(await recipient())}`, { cause: error });
    });
    expect(done.counts).toMatchObject({ completed: 1, failed: 0 });
    expect(reached()).toHaveLength(1);
    const r = await recipient();
    expect(r).toMatchObject({ state: 'completed', attempts: [{ attempt: 1, sid: reached()[0].sid }] });
    expect(r.attempts).toHaveLength(1);

    // the request that never arrived stays in the history, failed, beside the one that did
    const query = `metadata[campaign_id]=${created.body.id}`;
    const { body } = await request(t, 'GET', `/api/phone/${history}/history?${query}`, { token });
    const records: JsonBody[] = history === 'calls' ? body.calls : body.messages;
    expect(records).toHaveLength(2);
    expect(records.find((c) => c.sid === null)).toMatchObject({
      to,
      status: 'failed',
      error_message: expect.stringMatching(/never received/),
    });
    expect(records.find((c) => c.sid !== null)).toMatchObject({ to, sid: reached()[0].sid });
  });
});
