import type { Pool, PoolClient } from 'pg';
import type { EntityManager, EntityMetadata } from 'typeorm';

/**
 * What must hold for a record's apply statement to change anything, as a CTE named `kept` that
 * runs in the same statement: the inbox keeping a new event (nothing is applied for a duplicate),
 * or marking a stored event applied (nothing is applied twice). The owner of the record writes the
 * rest of the statement; the guard may read the owner's CTE `target` (the record, locked, or no
 * row) and uses `:guard_*` placeholders only. Applied when `kept` has a row.
 */
export interface GuardSql {
  /** Names the compiled statement, with the owner's name. */
  readonly name: string;
  /** `kept AS (...)`, returning `id` (the event's, or null when there is none). */
  readonly cte: string;
  /** Extra output columns (`expr AS guard_x`), read back by the guard's owner. */
  readonly columns: string;
}

export interface ApplyGuard {
  readonly sql: GuardSql;
  readonly values: Readonly<Record<string, unknown>>;
}

/** No condition: the apply always runs (API answers, refreshes, reconciliation). */
export const UNGUARDED: ApplyGuard = {
  sql: { name: 'unguarded', cte: 'kept AS (SELECT NULL::uuid AS id)', columns: 'NULL::uuid AS guard_kept_id' },
  values: {},
};

/** A statement compiled from `:name` placeholders to `$n`, run as a named prepared statement. */
export interface PreparedSql {
  readonly name: string;
  readonly text: string;
  readonly order: readonly string[];
}

/** `:name` not preceded by a colon or a word character (so `::type` casts are left alone). */
const PLACEHOLDER = /(?<![:\w]):([a-z][a-z0-9_]*)/g;

/** Compiles `sql` once: each distinct `:name` becomes `$n` in order of first use. */
export function prepareSql(name: string, sql: string): PreparedSql {
  const order: string[] = [];
  const text = sql.replace(PLACEHOLDER, (_match, key: string) => {
    let index = order.indexOf(key);
    if (index < 0) index = order.push(key) - 1;
    return `$${index + 1}`;
  });
  return { name, text, order };
}

/**
 * Runs a prepared statement with `values` on pg's connection: the transaction's when `manager`
 * is in one, else any of the pool's. On a PostgreSQL server it is a named statement, parsed and
 * planned once per connection; the embedded database keeps one session behind every connection
 * (a name would outlive the connection that prepared it), so there it is parsed each time. Nothing
 * is built per call but the parameter list. Throws when a placeholder has no value (a caller's mistake).
 */
export async function runPrepared<T>(manager: EntityManager, sql: PreparedSql, values: Readonly<Record<string, unknown>>): Promise<T[]> {
  const params = sql.order.map((key) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no value for :${key} in ${sql.name}`);
    return value;
  });
  const query = (manager.connection.options as { url?: string }).url
    ? { name: sql.name, text: sql.text, values: params }
    : { text: sql.text, values: params };
  const runner = manager.queryRunner as { databaseConnection?: PoolClient; isReleased?: boolean } | undefined;
  if (runner?.databaseConnection && !runner.isReleased) return (await runner.databaseConnection.query(query)).rows as T[];
  // not pool.query: it closes the connection after any failed statement (a constraint, a lock
  // timeout), which costs a reconnect, and the embedded database refuses the next connection for a moment
  const client = await (manager.connection.driver as unknown as { master: Pool }).master.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    client.release();
  }
}

/** What an owner says about its record for guardedApplySql. */
export interface ApplyStatementParts {
  table: string;
  /** Every column of the table (the statement returns them all, as the table orders them). */
  columns: readonly string[];
  /** The select list of the CTE `p`, one typed parameter each: `:sid::varchar AS sid, ...` (`:sid` and `:record_id` find the record). */
  params: string;
  /** The changed columns' new values as expressions over `t` (the locked row) and `p`. */
  next: Readonly<Record<string, string>>;
  /** Whether an update is due even when no value changes (expression over `p`). */
  touch: string;
  /** A data-modifying statement run with the apply, reading `calc` (the new values) and `p`. */
  sideEffect: string;
}

/**
 * One statement that applies an observation to a record: locks the record (`target`: found by sid,
 * or the intent without a sid named by `:record_id`), runs the guard, computes the new values,
 * updates the row only when something changed (updated_at moves only then), and runs the owner's
 * side effect (the timeline). Output: one row with the record after the statement (all null when
 * not found), `previous_status`, `found`, and the guard's columns.
 */
export function guardedApplySql(parts: ApplyStatementParts, guard: GuardSql): string {
  const cols = (alias: string) => parts.columns.map((c) => `${alias}.${c}`).join(', ');
  const changed = Object.keys(parts.next);
  return `WITH p AS (SELECT ${parts.params}),
target AS (
  SELECT ${cols('c')} FROM ${parts.table} c
  WHERE c.sid = :sid::varchar OR (c.id = :record_id::uuid AND c.sid IS NULL)
  ORDER BY c.sid IS NULL
  LIMIT 1
  FOR UPDATE OF c
),
${guard.cte},
calc AS (
  SELECT t.id, t.status AS previous_status, ${changed.map((c) => `${parts.next[c]} AS ${c}`).join(',\n    ')}
  FROM target t, p
  WHERE EXISTS (SELECT 1 FROM kept)
),
upd AS (
  UPDATE ${parts.table} c SET ${changed.map((c) => `${c} = calc.${c}`).join(', ')}, updated_at = now()
  FROM calc, p
  WHERE c.id = calc.id
    AND (${parts.touch} OR (${changed.map((c) => `c.${c}`).join(', ')}) IS DISTINCT FROM (${changed.map((c) => `calc.${c}`).join(', ')}))
  RETURNING ${cols('c')}
),
side AS (${parts.sideEffect})
SELECT r.*, calc.previous_status, EXISTS (SELECT 1 FROM target) AS found, ${guard.columns}
FROM (SELECT 1) AS one
LEFT JOIN calc ON true
LEFT JOIN (SELECT ${cols('u')} FROM upd u UNION ALL SELECT ${cols('t')} FROM target t WHERE NOT EXISTS (SELECT 1 FROM upd)) r ON true`;
}

/** The output of guardedApplySql, as the owner reads it. */
export interface GuardedApplyRow {
  previous_status: string | null;
  found: boolean;
  [column: string]: unknown;
}

/** What one guarded apply did. */
export interface GuardedApply<R> {
  /** Whether the record exists (found by sid, or the intent named by its id). */
  found: boolean;
  /** Whether the guard let the apply run (a new event, an event not applied before, or no guard). */
  kept: boolean;
  /** The record after the statement; null when not found. */
  record: R | null;
  /** Its status before the apply; null when the apply did not run. */
  previousStatus: string | null;
  /** Whether the apply moved the status. */
  statusChanged: boolean;
  /** The guard's own columns. */
  guard: Readonly<Record<string, unknown>>;
}

/**
 * Runs in the transaction of an apply that moved a record's status, before it commits: the place
 * for a write that must happen with the change or not at all (an outbox row).
 */
export type StatusChangeListener<R> = (tx: EntityManager, change: GuardedApply<R>) => Promise<void>;

/**
 * Applies observations to one table's records with guardedApplySql: one statement per apply, one
 * prepared statement per guard. Without status-change listeners the statement commits on its own
 * (one round trip); with them it runs in a transaction with the listeners, which see only applies
 * that changed the status.
 */
export class GuardedApplier<R> {
  private readonly statements = new Map<string, PreparedSql>();
  private readonly listeners: StatusChangeListener<R>[] = [];
  private readonly columns: [property: string, column: string][];

  constructor(
    private readonly manager: EntityManager,
    private readonly metadata: EntityMetadata,
    private readonly parts: Omit<ApplyStatementParts, 'columns' | 'table'>,
  ) {
    this.columns = metadata.columns.map((c) => [c.propertyName, c.databaseName]);
  }

  onStatusChanged(listener: StatusChangeListener<R>): void {
    this.listeners.push(listener);
  }

  async apply(values: Readonly<Record<string, unknown>>, guard: ApplyGuard = UNGUARDED): Promise<GuardedApply<R>> {
    const statement = this.statement(guard.sql);
    const all = { ...values, ...guard.values };
    if (this.listeners.length === 0) return this.read(await runPrepared<GuardedApplyRow>(this.manager, statement, all));
    return this.manager.transaction(async (tx) => {
      const applied = this.read(await runPrepared<GuardedApplyRow>(tx, statement, all));
      if (applied.statusChanged) for (const listener of this.listeners) await listener(tx, applied);
      return applied;
    });
  }

  private statement(guard: GuardSql): PreparedSql {
    let statement = this.statements.get(guard.name);
    if (!statement) {
      const table = this.metadata.tableName;
      const sql = guardedApplySql({ ...this.parts, table, columns: this.columns.map(([, column]) => column) }, guard);
      statement = prepareSql(`${table}_apply_${guard.name}`, sql);
      this.statements.set(guard.name, statement);
    }
    return statement;
  }

  private read(rows: GuardedApplyRow[]): GuardedApply<R> {
    const row = rows[0];
    const guard = Object.fromEntries(Object.entries(row).filter(([key]) => key.startsWith('guard_')));
    if (!row.found) return { found: false, kept: false, record: null, previousStatus: null, statusChanged: false, guard };
    const record = this.metadata.create() as Record<string, unknown>;
    for (const [property, column] of this.columns) record[property] = row[column];
    const kept = row.previous_status !== null;
    return {
      found: true,
      kept,
      record: record as R,
      previousStatus: row.previous_status,
      statusChanged: kept && row.previous_status !== record.status,
      guard,
    };
  }
}
