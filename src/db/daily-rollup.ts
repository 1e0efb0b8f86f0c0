import type { EntityManager } from 'typeorm';

/**
 * A per-day pre-aggregation of a table keyed by `created_at`: one row per UTC day and group
 * (e.g. direction and status) holding measures that add up (counts and sums). Reports over long
 * periods read whole days from the rollup and only the partial days at the edges from the raw rows,
 * so their cost no longer grows with the number of records.
 */
export interface DailyRollup {
  /** The raw table; needs created_at and updated_at. */
  source: string;
  /** The rollup table: primary key (day, ...groups), one column per measure, and refreshed_at. */
  table: string;
  groups: readonly string[];
  /** Measure column → aggregate over the raw rows; every measure must add up with SUM. */
  measures: Readonly<Record<string, string>>;
  /** Which raw rows count (SQL over the raw table's columns). */
  where: string;
}

const DAY_MS = 86_400_000;

/** The parameters of rolledUpRowsSql for the period [since, until). */
export function rolledUpParams(since: Date, until: Date, now: Date = new Date()): [Date, Date, string, string, Date, Date] {
  const wholeFrom = new Date(Math.ceil(since.getTime() / DAY_MS) * DAY_MS);
  // the current day (and any later one) is always read from the raw rows: it is still changing
  const wholeUntil = new Date(Math.min(Math.floor(until.getTime() / DAY_MS), Math.floor(now.getTime() / DAY_MS)) * DAY_MS);
  if (wholeFrom.getTime() >= wholeUntil.getTime()) {
    // no whole day inside: everything from the raw rows
    return [since, until, isoDay(until), isoDay(until), until, until];
  }
  return [since, wholeFrom, isoDay(wholeFrom), isoDay(wholeUntil), wholeUntil, until];
}

/**
 * SQL listing (day, ...groups, ...measures) for a period, to be summed by the caller: whole days
 * from the rollup ($3 <= day < $4), the edges [$1, $2) and [$5, $6) aggregated from the raw rows.
 * Parameters come from rolledUpParams.
 */
export function rolledUpRowsSql(rollup: DailyRollup): string {
  const groups = rollup.groups.join(', ');
  const names = Object.keys(rollup.measures);
  const raw = (from: string, to: string) =>
    `SELECT (created_at AT TIME ZONE 'UTC')::date AS day, ${groups}, ${names.map((n) => `${rollup.measures[n]} AS ${n}`).join(', ')}
     FROM ${rollup.source} WHERE created_at >= ${from} AND created_at < ${to} AND ${rollup.where} GROUP BY 1, ${groups}`;
  return `SELECT day, ${groups}, ${names.join(', ')} FROM ${rollup.table} WHERE day >= $3::date AND day < $4::date
    UNION ALL ${raw('$1', '$2')}
    UNION ALL ${raw('$5', '$6')}`;
}

/**
 * Recomputes the rollup rows of every day with a raw row updated since `changedSince`, and of today
 * and yesterday (which also covers rows deleted soon after they were written), in one statement
 * under a transaction-level advisory lock, so instances refreshing at once take turns.
 */
export async function refreshDailyRollup(manager: EntityManager, rollup: DailyRollup, changedSince: Date): Promise<void> {
  const groups = rollup.groups;
  const names = Object.keys(rollup.measures);
  const sameGroup = groups.map((g) => `f.${g} = s.${g}`).join(' AND ');
  const sql = `
    WITH days AS (
      SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date AS day FROM ${rollup.source} WHERE updated_at >= $1
      UNION SELECT (now() AT TIME ZONE 'UTC')::date
      UNION SELECT (now() AT TIME ZONE 'UTC')::date - 1
    ), fresh AS (
      SELECT d.day, ${groups.map((g) => `r.${g}`).join(', ')}, ${names.map((n) => `${rollup.measures[n]} AS ${n}`).join(', ')}
      FROM days d JOIN ${rollup.source} r
        ON r.created_at >= d.day::timestamp AT TIME ZONE 'UTC' AND r.created_at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
      WHERE ${rollup.where}
      GROUP BY d.day, ${groups.map((g) => `r.${g}`).join(', ')}
    ), gone AS (
      DELETE FROM ${rollup.table} s USING days d
      WHERE s.day = d.day AND NOT EXISTS (SELECT 1 FROM fresh f WHERE f.day = s.day AND ${sameGroup})
    )
    INSERT INTO ${rollup.table} (day, ${groups.join(', ')}, ${names.join(', ')}, refreshed_at)
    SELECT day, ${groups.join(', ')}, ${names.join(', ')}, now() FROM fresh
    ON CONFLICT (day, ${groups.join(', ')}) DO UPDATE SET ${names.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, refreshed_at = EXCLUDED.refreshed_at`;
  await manager.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`daily-rollup:${rollup.table}`]);
    await tx.query(sql, [changedSince]);
  });
}

/** When the rollup was last refreshed (by any instance); null before the first refresh. */
export async function rollupRefreshedAt(manager: EntityManager, rollup: DailyRollup): Promise<Date | null> {
  const [row] = await manager.query<{ at: Date | null }[]>(`SELECT max(refreshed_at) AS at FROM ${rollup.table}`);
  return row?.at ?? null;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
