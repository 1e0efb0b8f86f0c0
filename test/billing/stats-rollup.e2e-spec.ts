import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { UsageRollupService } from '../../src/billing/usage-rollup.service';
import { JsonBody, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

const DAY_MS = 86_400_000;
const CALL_STATUSES = ['completed', 'busy', 'no-answer', 'failed', 'canceled', 'in-progress', 'queued'];
const MESSAGE_STATUSES = ['delivered', 'undelivered', 'failed', 'sent', 'queued', 'received'];

/**
 * The statistics read whole days from per-day rollups; after any workload (inserts over 90 days,
 * status and price changes on old and new records, deletions) and a refresh, they equal a recount
 * from the raw records, for any period.
 */
describe('usage statistics from daily rollups', () => {
  let t: TestApp;
  let db: DataSource;
  let token: string;

  beforeAll(async () => {
    // the random workload leaves calls open and spends money: neither guardrail is under test here
    t = await startTestApp({ STATS_REFRESH_SECONDS: '3600', MAX_LIVE_CALLS: '0', SPENDING_DAILY_LIMIT: 'off' });
    db = t.app.get(DataSource);
    token = t.token(['phone:view']);
  });
  afterAll(() => t?.close());

  async function recount(since: Date, until: Date): Promise<JsonBody> {
    const range = [since, until];
    const [calls] = await db.query<JsonBody[]>(
      `SELECT COUNT(*)::int AS total,
              COUNT(*) FILTER (WHERE direction = 'inbound')::int AS inbound,
              COUNT(*) FILTER (WHERE direction = 'outbound')::int AS outbound,
              COALESCE(SUM((duration_seconds + 59) / 60) FILTER (WHERE status = 'completed' AND duration_seconds > 0), 0)::int AS minutes,
              ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS cost,
              COUNT(*) FILTER (WHERE price IS NULL)::int AS unpriced
       FROM call_records WHERE created_at >= $1 AND created_at < $2`,
      range,
    );
    const byStatus = await db.query<{ status: string; n: number }[]>(
      'SELECT status, COUNT(*)::int AS n FROM call_records WHERE created_at >= $1 AND created_at < $2 GROUP BY status',
      range,
    );
    const [sms] = await db.query<JsonBody[]>(
      `SELECT COUNT(*) FILTER (WHERE direction = 'outbound')::int AS outbound,
              COUNT(*) FILTER (WHERE direction = 'inbound')::int AS inbound,
              COALESCE(SUM(segments) FILTER (WHERE direction = 'outbound'), 0)::int AS segments_outbound,
              COALESCE(SUM(segments) FILTER (WHERE direction = 'inbound'), 0)::int AS segments_inbound,
              ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS cost,
              COUNT(*) FILTER (WHERE price IS NULL)::int AS unpriced
       FROM message_records WHERE created_at >= $1 AND created_at < $2`,
      range,
    );
    const daily = await db.query<JsonBody[]>(
      `SELECT to_char(d, 'YYYY-MM-DD') AS date,
              (SELECT COUNT(*)::int FROM call_records WHERE created_at >= $1 AND created_at < $2 AND (created_at AT TIME ZONE 'UTC')::date = d) AS calls,
              (SELECT COUNT(*)::int FROM message_records WHERE created_at >= $1 AND created_at < $2 AND (created_at AT TIME ZONE 'UTC')::date = d AND direction = 'outbound') AS sms_outbound,
              (SELECT COUNT(*)::int FROM message_records WHERE created_at >= $1 AND created_at < $2 AND (created_at AT TIME ZONE 'UTC')::date = d AND direction = 'inbound') AS sms_inbound
       FROM (SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS d FROM call_records WHERE created_at >= $1 AND created_at < $2
             UNION SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date FROM message_records WHERE created_at >= $1 AND created_at < $2) days
       ORDER BY 1`,
      range,
    );
    return {
      calls: {
        total: calls.total,
        by_status: Object.fromEntries(byStatus.map((r) => [r.status, r.n])),
        by_direction: { inbound: calls.inbound, outbound: calls.outbound },
        billable_minutes: calls.minutes,
      },
      sms: {
        outbound: sms.outbound,
        inbound: sms.inbound,
        segments_outbound: sms.segments_outbound,
        segments_inbound: sms.segments_inbound,
      },
      actual: { calls: calls.cost, sms: sms.cost },
      unpriced: { calls: calls.unpriced, sms: sms.unpriced },
      daily,
    };
  }

  async function stats(since: Date, until: Date): Promise<JsonBody> {
    const res = await request(t, 'GET', `/api/phone/stats?since=${since.toISOString()}&until=${until.toISOString()}`, { token });
    expect(res.status).toBe(200);
    const body = res.body;
    return {
      calls: body.calls,
      sms: body.sms,
      actual: { calls: body.cost.actual.calls, sms: body.cost.actual.sms },
      unpriced: { calls: body.cost.unpriced_calls, sms: body.cost.unpriced_messages },
      daily: (body.daily as JsonBody[]).map((d) => ({
        date: d.date,
        calls: d.calls,
        sms_outbound: d.sms_outbound,
        sms_inbound: d.sms_inbound,
      })),
    };
  }

  /** Inserts calls and messages spread over the 90 days before now, with random statuses, prices and durations. */
  async function insertRandom(n: number): Promise<void> {
    await db.query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, duration_seconds, price, price_unit, created_at, updated_at)
       SELECT 'CA' || md5(random()::text), (ARRAY['inbound','outbound'])[1 + floor(random() * 2)::int], '+14155550199', '+14155550100',
              ($2::text[])[1 + floor(random() * array_length($2::text[], 1))::int],
              CASE WHEN random() < 0.7 THEN floor(random() * 600)::int END,
              CASE WHEN random() < 0.6 THEN -round((random() * 0.5)::numeric, 5) END, 'USD',
              now() - random() * interval '90 days', now()
       FROM generate_series(1, $1)`,
      [n, CALL_STATUSES],
    );
    await db.query(
      `INSERT INTO message_records (sid, direction, from_number, to_number, body, media_urls, segments, status, price, price_unit, created_at, updated_at)
       SELECT 'SM' || md5(random()::text), (ARRAY['inbound','outbound'])[1 + floor(random() * 2)::int], '+14155550199', '+14155550100', 'hi', '[]',
              1 + floor(random() * 3)::int, ($2::text[])[1 + floor(random() * array_length($2::text[], 1))::int],
              CASE WHEN random() < 0.6 THEN -round((random() * 0.05)::numeric, 5) END, 'USD',
              now() - random() * interval '90 days', now()
       FROM generate_series(1, $1)`,
      [n, MESSAGE_STATUSES],
    );
  }

  it('equal a recount from the raw records after a random workload, for any period', async () => {
    const rollup = t.app.get(UsageRollupService);
    await insertRandom(400);
    await db.query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, created_at, updated_at)
       SELECT 'CA' || md5(random()::text), 'outbound', '+14155550199', '+14155550100', 'queued', now() - random() * interval '30 minutes', now()
       FROM generate_series(1, 15)`,
    );
    await rollup.refresh();
    // changes after the first refresh: old records change status and price, some go, new ones come
    await db.query(
      `UPDATE call_records SET status = 'completed', duration_seconds = 61, price = -0.0170, updated_at = now()
       WHERE id IN (SELECT id FROM call_records ORDER BY created_at LIMIT 40)`,
    );
    await db.query(
      `UPDATE message_records SET price = -0.0079, updated_at = now() WHERE price IS NULL AND created_at < now() - interval '30 days'`,
    );
    // rows go away only as the service removes them: a refused request's row, moments after it was written
    await db.query(
      `DELETE FROM call_records WHERE id IN (SELECT id FROM call_records WHERE created_at > now() - interval '1 hour' LIMIT 15)`,
    );
    await insertRandom(150);
    const placed = await request(t, 'POST', '/api/phone/call', {
      token: t.token(['phone:call']),
      body: { to: '+14155550100', message: 'Hello' },
    });
    expect(placed.status).toBe(201);
    // let the call end, so nothing changes between the answer and the recount
    await eventually(async () => {
      const call = await request(t, 'GET', `/api/phone/calls/${placed.body.id}`, { token });
      return call.body.status === 'completed';
    });
    await rollup.refresh();

    const now = Date.now();
    const periods: [Date, Date][] = [
      [new Date(now - 91 * DAY_MS), new Date(now + 1000)],
      [new Date(now - 30 * DAY_MS), new Date(now + 1000)],
      [new Date(Math.floor(now / DAY_MS) * DAY_MS - 10 * DAY_MS), new Date(Math.floor(now / DAY_MS) * DAY_MS)],
      [new Date(now - 6 * 3600_000), new Date(now + 1000)],
    ];
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 91 * 24 }), fc.integer({ min: 1, max: 40 * 24 }), (startHoursAgo, lengthHours) => {
        const since = new Date(now - startHoursAgo * 3600_000 - 1234);
        periods.push([since, new Date(since.getTime() + lengthHours * 3600_000)]);
      }),
      { numRuns: 12, seed: 20261202 },
    );
    for (const [since, until] of periods) {
      expect(await stats(since, until), `${since.toISOString()} .. ${until.toISOString()}`).toEqual(await recount(since, until));
    }
  }, 120_000);

  it('states how current the rollups are', async () => {
    const rollup = t.app.get(UsageRollupService);
    const before = Date.now();
    await rollup.refresh();
    const res = await request(t, 'GET', '/api/phone/stats', { token });
    expect(Date.parse(res.body.as_of)).toBeGreaterThanOrEqual(before - 1000);
  });

  it('are never short while the rollups have not been built: after an upgrade or a bulk import they read the raw records', async () => {
    const rollup = t.app.get(UsageRollupService);
    // an upgraded database whose records predate the rollups, and a first build that cannot finish
    // (a statement timeout over millions of rows, say)
    await db.query(`DO $$ BEGIN IF to_regclass('daily_rollup_state') IS NOT NULL THEN DELETE FROM daily_rollup_state; END IF; END $$`);
    await db.query('TRUNCATE call_daily_stats, message_daily_stats');
    await db.query(`CREATE FUNCTION refuse_rollup() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'rollup refused'; END $$`);
    for (const table of ['call_daily_stats', 'message_daily_stats']) {
      await db.query(`CREATE TRIGGER refuse_rollup BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION refuse_rollup()`);
    }
    await insertRandom(200);
    await rollup.refresh();

    const now = Date.now();
    const periods: [Date, Date][] = [
      [new Date(now - 91 * DAY_MS), new Date(now + 1000)],
      [new Date(Math.floor(now / DAY_MS) * DAY_MS - 20 * DAY_MS), new Date(Math.floor(now / DAY_MS) * DAY_MS)],
    ];
    for (const [since, until] of periods) {
      expect(await stats(since, until), `${since.toISOString()} .. ${until.toISOString()}`).toEqual(await recount(since, until));
    }
    const pending = await request(t, 'GET', '/api/phone/stats', { token });
    expect(pending.body.as_of).toBeNull();

    // once the build can finish, the rollups answer, and say as of when
    for (const table of ['call_daily_stats', 'message_daily_stats']) await db.query(`DROP TRIGGER refuse_rollup ON ${table}`);
    const before = Date.now();
    await rollup.refresh();
    for (const [since, until] of periods) {
      expect(await stats(since, until), `${since.toISOString()} .. ${until.toISOString()}`).toEqual(await recount(since, until));
    }
    const built = await request(t, 'GET', '/api/phone/stats', { token });
    expect(Date.parse(built.body.as_of)).toBeGreaterThanOrEqual(before - 1000);
  }, 120_000);
});
