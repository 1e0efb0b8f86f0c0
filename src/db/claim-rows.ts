import type { EntityManager } from 'typeorm';

/**
 * Claims up to `limit` rows of `table` matching `condition` (with `$4` onwards bound to `params`),
 * neither updated nor compared with Twilio since `before`, and returns their sids. Claiming stamps
 * synced_at in the same statement, with SKIP LOCKED, so concurrent instances never claim a row twice.
 * Rows set aside after too many failures (see reconcile-failures.ts) are never claimed.
 */
export async function claimRows(
  manager: EntityManager,
  table: string,
  condition: string,
  params: unknown[],
  before: Date,
  limit: number,
): Promise<string[]> {
  const result = await manager.query<[{ sid: string }[], number]>(
    `UPDATE ${table} SET synced_at = $3
     WHERE id IN (
       SELECT id FROM ${table}
       WHERE ${condition} AND updated_at < $1 AND COALESCE(synced_at, updated_at) < $1
         AND reconcile_set_aside_at IS NULL
       ORDER BY updated_at ASC
       LIMIT $2
       FOR UPDATE SKIP LOCKED)
     RETURNING sid`,
    [before, limit, new Date(), ...params],
  );
  return result[0].map((row) => row.sid);
}

/**
 * A claim condition for records waiting for something Twilio adds later (a price): a record last
 * compared with Twilio at age A (since it was created) is claimed again only once A more has
 * passed, so the checks of a record Twilio is slow to price back off exponentially.
 */
export const BACKOFF_SINCE_CREATED = '(synced_at IS NULL OR synced_at - created_at <= $3::timestamptz - synced_at)';

/**
 * Like BACKOFF_SINCE_CREATED, but the wait between two checks never exceeds `$<capParam>` seconds:
 * for records that are still changing (a live call), where a late check means a late final status.
 */
export function cappedBackoffSinceCreated(capParam: number): string {
  return `(synced_at IS NULL OR LEAST(synced_at - created_at, $${capParam}::int * interval '1 second') <= $3::timestamptz - synced_at)`;
}
