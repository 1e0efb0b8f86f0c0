import { describe, expect, it } from 'vitest';
import { prepareSql, sqlLiteral } from './guarded-apply';

describe('prepareSql', () => {
  it('numbers each placeholder by its first use and leaves casts alone', () => {
    const sql = prepareSql('s', 'SELECT :sid::varchar AS sid, :when::timestamptz, x::int FROM t WHERE sid = :sid::varchar');
    expect(sql.text).toBe('SELECT $1::varchar AS sid, $2::timestamptz, x::int FROM t WHERE sid = $1::varchar');
    expect(sql.order).toEqual(['sid', 'when']);
    // the same statement with literals in place of the placeholders, for a simple query
    const literals = ["'CA1'", "'2026-01-01'"];
    expect(sql.pieces.map((piece, i) => (i < sql.slots.length ? piece + literals[sql.slots[i]] : piece)).join('')).toBe(
      "SELECT 'CA1'::varchar AS sid, '2026-01-01'::timestamptz, x::int FROM t WHERE sid = 'CA1'::varchar",
    );
  });

  it('takes only lower-case names that start with a letter', () => {
    expect(prepareSql('s', 'SELECT :guard_event_id, :A, :1, a:b').order).toEqual(['guard_event_id']);
  });
});

describe('sqlLiteral', () => {
  it('writes what pg would bind, quoted so that no value can end the literal', () => {
    expect(sqlLiteral(null)).toBe('NULL');
    expect(sqlLiteral(42)).toBe("'42'");
    expect(sqlLiteral(true)).toBe("'true'");
    expect(sqlLiteral("it's")).toBe("'it''s'");
    expect(sqlLiteral("a\\'); DROP TABLE x; --")).toBe(" E'a\\\\''); DROP TABLE x; --'");
    expect(sqlLiteral(new Date('2026-12-07T10:00:00.123Z'))).toMatch(/^'2026-12-0[67]T\d\d:\d\d:00\.123[+-]\d\d:\d\d'$/);
    expect(sqlLiteral(['a', 'b'])).toBe(`'{"a","b"}'`);
    expect(sqlLiteral({ k: "v'" })).toBe(`'{"k":"v''"}'`);
  });
});
