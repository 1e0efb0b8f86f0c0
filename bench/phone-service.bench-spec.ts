import { performance } from 'node:perf_hooks';
import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { TestApp, startTestApp } from '../test/support/test-app';

/**
 * Targets (documented in README "Performance"):
 * - GET calls/history (limit 100, walking next_cursor, and filtered) at 20 000 stored calls: p95 < 50 ms
 * - status callbacks ingested (signature check, inbox, monotonic apply): > 150 per second, one client at a time
 * - resident memory of the whole process (test runner, app, sandbox, database) after both: < 400 MiB on
 *   PostgreSQL, < 800 MiB with embedded PGlite (its WebAssembly Postgres lives in the same process)
 */
const CALLS = 20_000;
const EMBEDDED = !process.env.DATABASE_URL;
const TARGETS = { historyP95Ms: 50, callbacksPerSecond: 150, rssMiB: EMBEDDED ? 800 : 400 };

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

describe(`phone service benchmarks (${EMBEDDED ? 'PGlite' : 'PostgreSQL'})`, () => {
  let t: TestApp;
  const report: Record<string, number | string> = {};

  beforeAll(async () => {
    t = await startTestApp({ LOG_LEVEL: 'error' });
    await t.app.get(DataSource).query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, agent_name, workflow_id, created_by, created_at, updated_at)
       SELECT 'CA' || md5(i::text), CASE WHEN i % 5 = 0 THEN 'inbound' ELSE 'outbound' END, '+14155550199',
              '+1415555' || lpad((i % 10000)::text, 4, '0'),
              (ARRAY['completed','busy','no-answer','failed','in-progress'])[1 + i % 5],
              'agent-' || (i % 20), 'wf-' || (i % 100), 'bench', now() - (i || ' seconds')::interval, now()
       FROM generate_series(1, ${CALLS}) AS i`,
    );
  });

  afterAll(async () => {
    console.log(`\nbenchmark results: ${JSON.stringify(report, null, 2)}`);
    await t?.close();
  });

  it(`lists call history at ${CALLS} calls with p95 under ${TARGETS.historyP95Ms} ms`, async () => {
    const headers = { Authorization: `Bearer ${t.token(['phone:view'])}` };
    const samples: number[] = [];
    for (let round = 0; round < 3; round++) {
      let cursor: string | null = null;
      for (let page = 0; page < 40; page++) {
        const url = `${t.baseUrl}/api/phone/calls/history?limit=100${cursor ? `&cursor=${cursor}` : ''}`;
        const started = performance.now();
        const res = await fetch(url, { headers });
        const body = (await res.json()) as { calls: unknown[]; next_cursor: string | null };
        samples.push(performance.now() - started);
        expect(body.calls).toHaveLength(100);
        cursor = body.next_cursor;
      }
      for (let i = 0; i < 40; i++) {
        const started = performance.now();
        const res = await fetch(`${t.baseUrl}/api/phone/calls/history?limit=100&agent_name=agent-${i % 20}&status=completed`, { headers });
        await res.json();
        samples.push(performance.now() - started);
      }
    }
    report.history_requests = samples.length;
    report.history_p50_ms = Number(percentile(samples, 50).toFixed(1));
    report.history_p95_ms = Number(percentile(samples, 95).toFixed(1));
    expect(report.history_p95_ms).toBeLessThan(TARGETS.historyP95Ms);
  });

  it(`ingests more than ${TARGETS.callbacksPerSecond} signed status callbacks per second`, async () => {
    const url = `${t.config.twilio.webhookBaseUrl}/status`;
    const target = `${t.baseUrl}/api/phone/webhook/status`;
    const count = 600;
    const started = performance.now();
    for (let i = 0; i < count; i++) {
      const params: Record<string, string> = {
        AccountSid: t.config.twilio.accountSid,
        CallSid: `CA${(i % 200).toString(16).padStart(32, '0')}`,
        CallStatus: ['initiated', 'ringing', 'in-progress'][i % 3],
        SequenceNumber: String(i % 3),
        Direction: 'outbound-api',
        From: '+14155550199',
        To: '+14155550100',
        Timestamp: new Date().toUTCString(),
        CallbackSource: 'call-progress-events',
      };
      const res = await fetch(target, {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          'X-Twilio-Signature': twilio.getExpectedTwilioSignature(t.config.twilio.authToken, url, params),
        },
        body: new URLSearchParams(params).toString(),
      });
      expect(res.status).toBeLessThan(300);
    }
    const seconds = (performance.now() - started) / 1000;
    report.callbacks = count;
    report.callbacks_per_second = Math.round(count / seconds);
    expect(report.callbacks_per_second).toBeGreaterThan(TARGETS.callbacksPerSecond);
  });

  it(`stays under ${TARGETS.rssMiB} MiB resident memory`, () => {
    report.rss_mib = Math.round(process.memoryUsage().rss / 2 ** 20);
    expect(report.rss_mib).toBeLessThan(TARGETS.rssMiB);
  });
});
