import { escapeIdentifier, escapeLiteral } from 'pg';
import * as pg from 'pg';
import type { Pool, PoolClient, QueryResult } from 'pg';
import type { EntityManager, EntityMetadata, ObjectLiteral, QueryRunner, Repository } from 'typeorm';
import type { RecordChangedListeners } from '../common/record-changed.listeners';
import { currentRequestTiming } from '../common/server-timing';
import { entityOfRow } from './entity-of-row';

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
  /** The text around the placeholders (one more than `slots`), to write the statement with literals. */
  readonly pieces: readonly string[];
  /** The parameter index (into `order`) of each placeholder, in text order. */
  readonly slots: readonly number[];
}

/** `:name` not preceded by a colon or a word character (so `::type` casts are left alone). */
const PLACEHOLDER = /(?<![:\w]):([a-z][a-z0-9_]*)/g;

/** Compiles `sql` once: each distinct `:name` becomes `$n` in order of first use. */
export function prepareSql(name: string, sql: string): PreparedSql {
  const order: string[] = [];
  const pieces: string[] = [];
  const slots: number[] = [];
  let from = 0;
  const text = sql.replace(PLACEHOLDER, (match, key: string, offset: number) => {
    let index = order.indexOf(key);
    if (index < 0) index = order.push(key) - 1;
    pieces.push(sql.slice(from, offset));
    slots.push(index);
    from = offset + match.length;
    return `$${index + 1}`;
  });
  pieces.push(sql.slice(from));
  return { name, text, order, pieces, slots };
}

/** A statement written with positional `$n` parameters, compiled as prepareSql compiles `:name` ones; see positionalValues. */
export function preparePositional(name: string, sql: string): PreparedSql {
  return prepareSql(name, sql.replace(/\$(\d+)/g, ':p$1'));
}

/** The values of a preparePositional statement, from its `$1`, `$2`, ... in order. */
export function positionalValues(params: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(params.map((value, i) => [`p${i + 1}`, value]));
}

function parametersOf(sql: PreparedSql, values: Readonly<Record<string, unknown>>): unknown[] {
  return sql.order.map((key) => {
    const value = values[key];
    if (value === undefined) throw new Error(`no value for :${key} in ${sql.name}`);
    return value;
  });
}

interface PgUtils {
  prepareValue(value: unknown): string | Buffer | null | undefined;
}
/**
 * pg's own conversion of a parameter to the text it binds (dates, arrays, JSON); not in its typings,
 * nor among the names its ES module wrapper re-exports (there it hangs off the default export).
 */
const prepareValue = (() => {
  const module = pg as unknown as { utils?: PgUtils; default?: { utils?: PgUtils } };
  const utils = module.utils ?? module.default?.utils;
  if (!utils) throw new Error('pg.utils.prepareValue is missing');
  return utils.prepareValue.bind(utils);
})();

/**
 * A parameter as an SQL literal: the very text pg would bind for it, quoted, so that the server
 * gives it the parameter's type exactly as it does a bound value.
 */
export function sqlLiteral(value: unknown): string {
  const text = prepareValue(value);
  if (text === null || text === undefined) return 'NULL';
  if (Buffer.isBuffer(text)) return escapeLiteral(`\\x${text.toString('hex')}`);
  return escapeLiteral(text);
}

/**
 * Runs a prepared statement with `values` on pg's connection: the transaction's when `manager`
 * is in one, else any of the pool's. On a PostgreSQL server it is a named statement, parsed and
 * planned once per connection; the embedded database keeps one session behind every connection
 * (a name would outlive the connection that prepared it), so there it is parsed each time. Nothing
 * is built per call but the parameter list. Throws when a placeholder has no value (a caller's mistake).
 */
export async function runPrepared<T>(manager: EntityManager, sql: PreparedSql, values: Readonly<Record<string, unknown>>): Promise<T[]> {
  const params = parametersOf(sql, values);
  const query = (manager.connection.options as { url?: string }).url
    ? { name: sql.name, text: sql.text, values: params }
    : { text: sql.text, values: params };
  const runner = manager.queryRunner as { databaseConnection?: PoolClient; isReleased?: boolean } | undefined;
  if (runner?.databaseConnection && !runner.isReleased) return timedRows<T>(runner.databaseConnection, query);
  // not pool.query: it closes the connection after any failed statement (a constraint, a lock
  // timeout), which costs a reconnect, and the embedded database refuses the next connection for a moment
  const client = await (manager.connection.driver as unknown as { master: Pool }).master.connect();
  try {
    return await timedRows<T>(client, query);
  } finally {
    client.release();
  }
}

/** A statement's rows, counted in the request's Server-Timing like the statements TypeORM runs. */
async function timedRows<T>(client: PoolClient, query: { name?: string; text: string; values: unknown[] }): Promise<T[]> {
  const timing = currentRequestTiming();
  timing?.begin('db');
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    timing?.end('db');
  }
}

/** `sql` with `values` written in as literals (see sqlLiteral): a text to send in a simple query with others. */
function withLiterals(sql: PreparedSql, values: Readonly<Record<string, unknown>>): string {
  const literals = parametersOf(sql, values).map(sqlLiteral);
  return sql.pieces.map((piece, i) => (i < sql.slots.length ? piece + literals[sql.slots[i]] : piece)).join('');
}

/** The statements prepared with PREPARE on each connection (by the transactions of runPreparedInTransaction). */
const preparedOn = new WeakMap<PoolClient, Set<string>>();

/** The writes waiting for the COMMIT of each transaction runPreparedInTransaction holds, by the transaction's manager. */
const writesAtCommit = new WeakMap<EntityManager, string[]>();

/**
 * Runs a write within the transaction `tx`. In a transaction of runPreparedInTransaction it travels
 * with the COMMIT (any number of such writes cost no round trip of their own, and no TypeORM);
 * elsewhere it runs now. For writes nothing in the transaction reads back (an outbox row), and not
 * inside a savepoint that may roll back alone: a deferred write commits with the transaction.
 */
export async function writeInTransaction(tx: EntityManager, sql: PreparedSql, values: Readonly<Record<string, unknown>>): Promise<void> {
  const pending = writesAtCommit.get(tx);
  if (pending) pending.push(withLiterals(sql, values));
  else await tx.query(sql.text, parametersOf(sql, values));
}

function isPostgresServer(manager: EntityManager): boolean {
  return Boolean((manager.connection.options as { url?: string }).url);
}

/** A query on `client`, counted in the request's Server-Timing like the statements TypeORM runs. */
async function timedQuery(client: PoolClient, text: string): Promise<QueryResult | QueryResult[]> {
  const timing = currentRequestTiming();
  timing?.begin('db');
  try {
    return (await client.query(text)) as QueryResult | QueryResult[];
  } finally {
    timing?.end('db');
  }
}

/**
 * Runs a prepared statement as the first statement of a transaction and hands its rows to `then`,
 * which runs in the same transaction (through `tx`) before it commits; a throw rolls both back.
 * BEGIN travels with the statement in one round trip (a simple query of `BEGIN; EXECUTE ...`, the
 * parameters written as the literals pg would bind), so a transaction costs one round trip more
 * than the statement alone, the COMMIT, which carries the writes `then` left for it (writeInTransaction).
 * On a PostgreSQL server the statement is prepared once per
 * connection (PREPARE in the same round trip the first time); the embedded database runs the text.
 */
export async function runPreparedInTransaction<T, R>(
  manager: EntityManager,
  sql: PreparedSql,
  values: Readonly<Record<string, unknown>>,
  then: (tx: EntityManager, rows: T[]) => Promise<R>,
): Promise<R> {
  const runner = manager.connection.createQueryRunner();
  const client = (await runner.connect()) as PoolClient;
  let text: string;
  let preparing = false;
  if (isPostgresServer(manager)) {
    const literals = parametersOf(sql, values).map(sqlLiteral);
    let prepared = preparedOn.get(client);
    if (!prepared) preparedOn.set(client, (prepared = new Set()));
    const name = escapeIdentifier(`${sql.name}_tx`);
    preparing = !prepared.has(sql.name);
    text = `BEGIN; ${preparing ? `PREPARE ${name} AS ${sql.text}; ` : ''}EXECUTE ${name}(${literals.join(', ')})`;
  } else {
    text = `BEGIN; ${withLiterals(sql, values)}`;
  }
  let begun = false;
  try {
    const results = await timedQuery(client, text);
    begun = true;
    if (preparing) preparedOn.get(client)?.add(sql.name);
    const last = Array.isArray(results) ? results[results.length - 1] : results;
    // statements `then` runs through TypeORM are already in a transaction: a nested one is a savepoint
    const typeormRunner = runner as QueryRunner & { transactionDepth: number; isTransactionActive: boolean };
    typeormRunner.isTransactionActive = true;
    typeormRunner.transactionDepth = 1;
    const writes: string[] = [];
    writesAtCommit.set(runner.manager, writes);
    const result = await then(runner.manager, last.rows as T[]);
    writesAtCommit.delete(runner.manager);
    writes.push('COMMIT');
    await timedQuery(client, writes.join(';\n'));
    typeormRunner.isTransactionActive = false;
    typeormRunner.transactionDepth = 0;
    await runner.release();
    return result;
  } catch (error) {
    writesAtCommit.delete(runner.manager);
    await abandon(runner, client, begun || !preparing);
    throw error;
  }
}

/**
 * Ends a failed transaction: rolled back and the connection reused, or, when the round trip that
 * prepared the statement failed (whether the name exists is not known then) or the rollback fails,
 * the connection closed.
 */
async function abandon(runner: QueryRunner, client: PoolClient, reusable: boolean): Promise<void> {
  const typeormRunner = runner as QueryRunner & { transactionDepth: number; isTransactionActive: boolean };
  typeormRunner.isTransactionActive = false;
  typeormRunner.transactionDepth = 0;
  const release = (error?: Error) =>
    (runner as unknown as { releasePostgresConnection(error?: Error): Promise<void> }).releasePostgresConnection(error);
  if (!reusable) {
    preparedOn.delete(client);
    await release(new Error('connection closed after a failed PREPARE'));
    return;
  }
  try {
    await client.query('ROLLBACK');
    await release();
  } catch (error) {
    preparedOn.delete(client);
    await release(error instanceof Error ? error : new Error(String(error)));
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
 * that changed the status (two round trips when none does: BEGIN with the statement, COMMIT).
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
    return runPreparedInTransaction(this.manager, statement, all, async (tx, rows: GuardedApplyRow[]) => {
      const applied = this.read(rows);
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

/**
 * Runs a preparePositional statement whose row, if any, is a record of `repo` whose status just
 * changed from `previousStatus`: a plain statement when nobody listens, else the first statement of
 * a transaction (begun in its round trip) in which the listeners are told before it commits. Null
 * when the statement returned no row.
 */
export async function runAndNotify<E extends ObjectLiteral>(
  repo: Repository<E>,
  listeners: RecordChangedListeners<E>,
  sql: PreparedSql,
  params: readonly unknown[],
  previousStatus: string | null,
): Promise<E | null> {
  if (listeners.empty) {
    // unnamed: the statement's name belongs to the transactions' PREPARE on each connection
    const rows = await repo.query<Record<string, unknown>[]>(sql.text, parametersOf(sql, positionalValues(params)));
    return rows.length ? entityOfRow(repo, rows[0]) : null;
  }
  return runPreparedInTransaction(repo.manager, sql, positionalValues(params), async (tx, rows: Record<string, unknown>[]) => {
    if (!rows.length) return null;
    const record = entityOfRow(repo, rows[0]);
    await listeners.notify(tx, record, previousStatus);
    return record;
  });
}
