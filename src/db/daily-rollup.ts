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
const STATE_TABLE = 'daily_rollup_state';

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
 * from the rollup ($3 <= day < $4) once it has been fully built (`built`, see rollupRefreshedAt),
 * else from the raw rows (an answer may be slow, never short); the edges [$1, $2) and [$5, $6)
 * aggregated from the raw rows. Parameters come from rolledUpParams. The branch not taken is left
 * out of the statement rather than switched off inside it: its estimated cost (a scan of every raw
 * row) would otherwise make PostgreSQL JIT-compile each report, which costs more than the report.
 */
export function rolledUpRowsSql(rollup: DailyRollup, built: boolean): string {
  const groups = rollup.groups.join(', ');
  const names = Object.keys(rollup.measures);
  const raw = (from: string, to: string) =>
    `SELECT (created_at AT TIME ZONE 'UTC')::date AS day, ${groups}, ${names.map((n) => `${rollup.measures[n]} AS ${n}`).join(', ')}
     FROM ${rollup.source} WHERE created_at >= ${from} AND created_at < ${to} AND ${rollup.where} GROUP BY 1, ${groups}`;
  const wholeDays = built
    ? `SELECT day, ${groups}, ${names.join(', ')} FROM ${rollup.table} WHERE day >= $3::date AND day < $4::date`
    : raw("($3::date::timestamp AT TIME ZONE 'UTC')", "($4::date::timestamp AT TIME ZONE 'UTC')");
  return `${wholeDays}
    UNION ALL ${raw('$1', '$2')}
    UNION ALL ${raw('$5', '$6')}`;
}

/**
 * Recomputes the rollup rows of every day with a raw row updated since `changedSince`, and of today
 * and yesterday (which also covers rows deleted soon after they were written), one day per
 * statement and transaction under an advisory lock, so instances refreshing at once take turns and
 * no statement grows with the backlog (a bulk import or the first build over millions of rows).
 * Once every day is done, the rollup is marked complete as of `startedAt`.
 */
export async function refreshDailyRollup(manager: EntityManager, rollup: DailyRollup, changedSince: Date, startedAt: Date): Promise<void> {
  const days = await manager.query<{ day: string }[]>(
    `SELECT DISTINCT (created_at AT TIME ZONE 'UTC')::date::text AS day FROM ${rollup.source} WHERE updated_at >= $1
     UNION SELECT (now() AT TIME ZONE 'UTC')::date::text
     UNION SELECT ((now() AT TIME ZONE 'UTC')::date - 1)::text ORDER BY 1`,
    [changedSince],
  );
  const sql = refreshDaysSql(rollup);
  for (const { day } of days) {
    await manager.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`daily-rollup:${rollup.table}`]);
      await tx.query(sql, [day]);
    });
  }
  await manager.query(
    `INSERT INTO ${STATE_TABLE} (rollup, as_of) VALUES ($1, $2)
     ON CONFLICT (rollup) DO UPDATE SET as_of = GREATEST(${STATE_TABLE}.as_of, EXCLUDED.as_of)`,
    [rollup.table, startedAt],
  );
}

/** Recomputes one day ($1) of a rollup: its groups' measures upserted, groups without rows removed. */
function refreshDaysSql(rollup: DailyRollup): string {
  const groups = rollup.groups;
  const names = Object.keys(rollup.measures);
  const sameGroup = groups.map((g) => `f.${g} = s.${g}`).join(' AND ');
  return `
    WITH fresh AS (
      SELECT $1::date AS day, ${groups.map((g) => `r.${g}`).join(', ')}, ${names.map((n) => `${rollup.measures[n]} AS ${n}`).join(', ')}
      FROM ${rollup.source} r
      WHERE r.created_at >= $1::date::timestamp AT TIME ZONE 'UTC' AND r.created_at < ($1::date + 1)::timestamp AT TIME ZONE 'UTC'
        AND ${rollup.where}
      GROUP BY ${groups.map((g) => `r.${g}`).join(', ')}
    ), gone AS (
      DELETE FROM ${rollup.table} s
      WHERE s.day = $1::date AND NOT EXISTS (SELECT 1 FROM fresh f WHERE ${sameGroup})
    )
    INSERT INTO ${rollup.table} (day, ${groups.join(', ')}, ${names.join(', ')}, refreshed_at)
    SELECT day, ${groups.join(', ')}, ${names.join(', ')}, now() FROM fresh
    ON CONFLICT (day, ${groups.join(', ')}) DO UPDATE SET ${names.map((n) => `${n} = EXCLUDED.${n}`).join(', ')}, refreshed_at = EXCLUDED.refreshed_at`;
}

/** The moment every change before which is in the rollup; null until it has been fully built once. */
export async function rollupRefreshedAt(manager: EntityManager, rollup: DailyRollup): Promise<Date | null> {
  const [row] = await manager.query<{ as_of: Date }[]>(`SELECT as_of FROM ${STATE_TABLE} WHERE rollup = $1`, [rollup.table]);
  return row?.as_of ?? null;
}

function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10);
}
