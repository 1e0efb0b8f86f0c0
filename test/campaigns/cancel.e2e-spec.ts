import { DataSource } from 'typeorm';
import { request } from '../support/http';
import { startTestApp, type TestApp } from '../support/test-app';

const RECIPIENTS = 4000;

// The embedded database does not enforce statement_timeout: there one statement never times out.
describe.skipIf(!process.env.DATABASE_URL)('cancelling a large campaign on a slow database', () => {
  let t: TestApp;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp({ DB_STATEMENT_TIMEOUT_MS: '2000', CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: '2' });
    token = t.token(['phone:call', 'phone:view']);
  }, 120_000);

  afterAll(async () => {
    await t?.close();
  });

  it('skips every recipient not reached, though skipping them all in one statement would outlast the timeout', async () => {
    const created = await request(t, 'POST', '/api/phone/campaigns', {
      token,
      body: {
        name: 'Large reminder',
        message: 'Your appointment is tomorrow.',
        start_at: new Date(Date.now() + 3600_000).toISOString(),
        pacing: { per_second: 1 },
        recipients: Array.from({ length: RECIPIENTS }, (_, i) => ({ to: `+1415555${String(5000 + i).padStart(4, '0')}` })),
      },
    });
    expect(created.status, JSON.stringify(created.body).slice(0, 500)).toBe(201);
    expect(created.body.import_report.accepted).toBe(RECIPIENTS);

    // each row's update now takes at least a millisecond: all of them at once take over 4 s, past the 2 s timeout
    const db = t.app.get(DataSource);
    await db.query(`CREATE OR REPLACE FUNCTION slow_recipient_update() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN PERFORM pg_sleep(0.001); RETURN NEW; END $$`);
    await db.query(
      'CREATE TRIGGER slow_recipient_update BEFORE UPDATE ON campaign_recipients FOR EACH ROW EXECUTE FUNCTION slow_recipient_update()',
    );

    const canceled = await request(t, 'POST', `/api/phone/campaigns/${created.body.id}/cancel`, { token });
    expect(canceled.status, JSON.stringify(canceled.body)).toBe(200);
    expect(canceled.body.state).toBe('canceled');
    expect(canceled.body.counts).toMatchObject({ pending: 0, skipped: RECIPIENTS });

    const page = await request(t, 'GET', `/api/phone/campaigns/${created.body.id}/recipients?limit=500`, { token });
    expect(page.body.recipients).toHaveLength(500);
    expect(new Set(page.body.recipients.map((r: { state: string; skip_reason: string }) => `${r.state} ${r.skip_reason}`))).toEqual(
      new Set(['skipped campaign_canceled']),
    );
  }, 120_000);
});
