import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLS_SQL, MESSAGES_SQL } from '../../bench/seed-sql';
import { startTestApp, TestApp } from '../support/test-app';

/**
 * The benchmark's bulk-load SQL fills 1,000,000 rows in chunks of row numbers; the last chunks
 * must load as well as the first (a 32-bit overflow in the number spread once stopped the seed
 * at row 271,178), and row numbers follow time as in a table a service filled.
 */
describe('benchmark seed SQL', () => {
  let t: TestApp;
  let db: DataSource;

  beforeAll(async () => {
    t = await startTestApp();
    db = t.app.get(DataSource);
  });
  afterAll(async () => t.close());

  it.each([
    ['calls', CALLS_SQL, 'call_records'],
    ['messages', MESSAGES_SQL, 'message_records'],
  ])('loads %s for row numbers near a million, with valid E.164 numbers, the newest last', async (_label, sql, table) => {
    await db.query(sql, [999_991, 1_000_000, 1_000_000]);
    const rows = await db.query<{ from_number: string; to_number: string; recent: boolean }[]>(
      `SELECT from_number, to_number, created_at > now() - interval '15 minutes' AS recent FROM ${table} ORDER BY created_at`,
    );
    expect(rows).toHaveLength(10);
    for (const row of rows) {
      expect(row.from_number).toMatch(/^\+1\d{10}$/);
      expect(row.to_number).toMatch(/^\+1\d{10}$/);
      // row numbers follow time: the last rows of the set are the newest
      expect(row.recent).toBe(true);
    }
  });
});
