import fc from 'fast-check';
import { DataSource } from 'typeorm';
import { JsonBody, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

/**
 * Paging never skips or repeats a record, whatever the page size and however many records share a
 * timestamp (down to the microsecond): the cursor holds the exact (created_at, id) key.
 */
describe('history paging', () => {
  let t: TestApp;
  let db: DataSource;
  let token: string;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
    token = t.token(['phone:view']);
  });
  afterAll(() => t?.close());

  beforeEach(async () => {
    await db.query('DELETE FROM call_records');
    await db.query('DELETE FROM message_records');
  });

  /** Stores `micros.length` calls and messages, the i-th created at base + micros[i] microseconds. */
  async function seed(micros: number[], agent = 'pager'): Promise<void> {
    const rows = `SELECT lpad(to_hex(i - 1), 32, '0') AS hex,
                         timestamptz '2026-03-01T10:00:00.123Z' + make_interval(secs => offset_us / 1000000.0) AS created_at
                  FROM unnest($1::int[]) WITH ORDINALITY AS t(offset_us, i)`;
    await db.query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, agent_name, created_at, updated_at)
       SELECT 'CA' || hex, 'outbound', '+14155550199', '+14155550100', 'completed', $2, created_at, now() FROM (${rows}) r`,
      [micros, agent],
    );
    await db.query(
      `INSERT INTO message_records (sid, direction, from_number, to_number, body, media_urls, status, agent_name, created_at, updated_at)
       SELECT 'SM' || hex, 'outbound', '+14155550199', '+14155550100', 'hi', '[]', 'delivered', $2, created_at, now() FROM (${rows}) r`,
      [micros, agent],
    );
  }

  async function walk(path: string, key: 'calls' | 'messages', limit: number, query = ''): Promise<string[]> {
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 1000; pages++) {
      const res: { status: number; body: JsonBody } = await request(
        t,
        'GET',
        `${path}?limit=${limit}${query}${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      expect(res.status).toBe(200);
      const items = res.body[key] as { sid: string }[];
      expect(items.length).toBeLessThanOrEqual(limit);
      seen.push(...items.map((item) => item.sid));
      cursor = res.body.next_cursor as string | null;
      if (!cursor) return seen;
    }
    throw new Error('paging did not end');
  }

  it('walks 40 records created within one millisecond, 7 per page, without losing any', async () => {
    await seed(Array.from({ length: 40 }, (_, i) => i * 20));
    const calls = await walk('/api/phone/calls/history', 'calls', 7);
    expect(calls).toHaveLength(40);
    expect(new Set(calls).size).toBe(40);
    const messages = await walk('/api/phone/sms/history', 'messages', 7);
    expect(new Set(messages).size).toBe(40);
  });

  it('returns every record exactly once, newest first, for every page size the API allows (1 to 100)', async () => {
    // colliding timestamps: runs of identical microseconds, and microseconds within one millisecond
    const micros = Array.from({ length: 45 }, (_, i) => (i % 3 === 0 ? 5 : i * 7) + Math.floor(i / 15) * 1000);
    await seed(micros);
    const expected = micros
      .map((offset, i) => ({ offset, sid: `CA${i.toString(16).padStart(32, '0')}` }))
      .sort((a, b) => b.offset - a.offset || (a.sid < b.sid ? 1 : -1))
      .map((r) => r.offset);
    for (let limit = 1; limit <= 100; limit++) {
      const calls = await walk('/api/phone/calls/history', 'calls', limit, '&agent_name=pager');
      expect(new Set(calls).size, `calls, limit ${limit}`).toBe(45);
      expect(
        calls.map((sid) => micros[parseInt(sid.slice(2), 16)]),
        `calls order, limit ${limit}`,
      ).toEqual(expected);
      const messages = await walk('/api/phone/sms/history', 'messages', limit);
      expect(new Set(messages).size, `messages, limit ${limit}`).toBe(45);
    }
    const tooLarge = await request(t, 'GET', '/api/phone/calls/history?limit=101', { token });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.details[0].field).toBe('limit');
  }, 120_000);

  it('holds for random timestamps and page sizes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 30 }),
        fc.integer({ min: 1, max: 12 }),
        async (micros, limit) => {
          await db.query('DELETE FROM call_records');
          await db.query('DELETE FROM message_records');
          await seed(micros);
          expect(new Set(await walk('/api/phone/calls/history', 'calls', limit)).size).toBe(micros.length);
          expect(new Set(await walk('/api/phone/sms/history', 'messages', limit)).size).toBe(micros.length);
        },
      ),
      { numRuns: 15, seed: 20261202 },
    );
  }, 120_000);
});
