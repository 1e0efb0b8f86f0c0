import { describe, expect, it } from 'vitest';
import { prepareSql } from './guarded-apply';

describe('prepareSql', () => {
  it('numbers each placeholder by its first use and leaves casts alone', () => {
    const sql = prepareSql('s', 'SELECT :sid::varchar AS sid, :when::timestamptz, x::int FROM t WHERE sid = :sid::varchar');
    expect(sql.text).toBe('SELECT $1::varchar AS sid, $2::timestamptz, x::int FROM t WHERE sid = $1::varchar');
    expect(sql.order).toEqual(['sid', 'when']);
  });

  it('takes only lower-case names that start with a letter', () => {
    expect(prepareSql('s', 'SELECT :guard_event_id, :A, :1, a:b').order).toEqual(['guard_event_id']);
  });
});
