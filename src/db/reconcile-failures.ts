import type { EntityManager } from 'typeorm';

/** What one failed reconciliation of a record did to it. */
export interface ReconcileFailure {
  failures: number;
  setAside: boolean;
}

/** The records of a table set aside by reconciliation, and the oldest one. */
export interface SetAsideRecords {
  count: number;
  oldest: { sid: string; reason: string; setAsideAt: Date } | null;
}

/**
 * Counts one more failure in a row of reconciling the record `sid` of `table` (call_records or
 * message_records), keeping its reason; at `maxFailures` the record is set aside and no longer
 * claimed. Null when the record does not exist or is already set aside.
 */
export async function recordReconcileFailure(
  manager: EntityManager,
  table: string,
  sid: string,
  reason: string,
  maxFailures: number,
): Promise<ReconcileFailure | null> {
  const [rows] = await manager.query<[{ reconcile_failures: number; reconcile_set_aside_at: Date | null }[], number]>(
    `UPDATE ${table}
     SET reconcile_failures = reconcile_failures + 1,
         reconcile_error = $2,
         reconcile_set_aside_at = CASE WHEN reconcile_failures + 1 >= $3 THEN now() END
     WHERE sid = $1 AND reconcile_set_aside_at IS NULL
     RETURNING reconcile_failures, reconcile_set_aside_at`,
    [sid, reason, maxFailures],
  );
  const row = rows[0];
  return row ? { failures: Number(row.reconcile_failures), setAside: row.reconcile_set_aside_at !== null } : null;
}

/** A successful reconciliation ends the run of failures. */
export async function clearReconcileFailures(manager: EntityManager, table: string, sid: string): Promise<void> {
  await manager.query(
    `UPDATE ${table} SET reconcile_failures = 0, reconcile_error = NULL
     WHERE sid = $1 AND reconcile_failures > 0 AND reconcile_set_aside_at IS NULL`,
    [sid],
  );
}

export async function setAsideRecords(manager: EntityManager, table: string): Promise<SetAsideRecords> {
  const [summary] = await manager.query<{ n: number }[]>(
    `SELECT count(*)::int AS n FROM ${table} WHERE reconcile_set_aside_at IS NOT NULL`,
  );
  const count = Number(summary.n);
  if (!count) return { count, oldest: null };
  const [oldest] = await manager.query<{ sid: string; reconcile_error: string | null; reconcile_set_aside_at: Date }[]>(
    `SELECT sid, reconcile_error, reconcile_set_aside_at FROM ${table}
     WHERE reconcile_set_aside_at IS NOT NULL ORDER BY reconcile_set_aside_at ASC LIMIT 1`,
  );
  return { count, oldest: { sid: oldest.sid, reason: oldest.reconcile_error ?? '', setAsideAt: new Date(oldest.reconcile_set_aside_at) } };
}
