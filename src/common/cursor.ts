import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AppError } from './app-error';

export interface Cursor {
  /** The exact created_at of the last row, microseconds included (ISO 8601, UTC). */
  createdAt: string;
  id: string;
}

/** Opaque keyset cursor: the exact (created_at, id) of the last row of the previous page. */
export function encodeCursor(row: Cursor): string {
  return Buffer.from(`${row.createdAt}|${row.id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** What encodeCursor writes: microseconds (or milliseconds, as cursors did before). */
const INSTANT = /^(\d{4})-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.(\d{3}|\d{6})Z$/;

/**
 * The cursor's position, or a 400 naming `cursor` for anything encodeCursor could not have written:
 * only a well-formed UUID and an ISO date-time the database can compare (years 1 to 9999) pass.
 */
export function decodeCursor(value: string | undefined): Cursor | null {
  if (value === undefined || value === '') return null;
  const [instant, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  const match = INSTANT.exec(instant ?? '');
  const millis = match ? `${instant.slice(0, 23)}Z` : '';
  const parsed = new Date(millis);
  const valid =
    rest.length === 0 && match !== null && !Number.isNaN(parsed.getTime()) && parsed.toISOString() === millis && Number(match[1]) >= 1;
  if (!valid || !UUID.test(id ?? '')) {
    throw AppError.invalidField('cursor', 'cursor is not a cursor returned by this API');
  }
  return { createdAt: instant, id };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page, newest first, of a query on a table keyed by (created_at, id): a keyset seek with a row
 * comparison, so an index on (filter columns..., created_at, id) jumps straight to the cursor at
 * any depth, and the cursor keeps created_at to the microsecond, so rows sharing a millisecond (or
 * an instant) are neither skipped nor repeated.
 */
export async function keysetPage<T extends ObjectLiteral & { id: string }>(
  query: SelectQueryBuilder<T>,
  cursor: Cursor | null,
  limit: number,
): Promise<Page<T>> {
  const alias = query.alias;
  if (cursor) {
    query.andWhere(`(${alias}.created_at, ${alias}.id) < (CAST(:cursorAt AS timestamptz), CAST(:cursorId AS uuid))`, {
      cursorAt: cursor.createdAt,
      cursorId: cursor.id,
    });
  }
  const { entities, raw } = await query
    .addSelect(`to_char(${alias}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`, 'cursor_created_at')
    .orderBy(`${alias}.created_at`, 'DESC')
    .addOrderBy(`${alias}.id`, 'DESC')
    .limit(limit + 1)
    .getRawAndEntities<{ cursor_created_at: string }>();
  const items = entities.slice(0, limit);
  const last = items.length ? items[items.length - 1] : null;
  const nextCursor = entities.length > limit && last ? encodeCursor({ createdAt: raw[limit - 1].cursor_created_at, id: last.id }) : null;
  return { items, nextCursor };
}

/** A history query in plain SQL: the table, the columns to return, and conditions with their `$n` parameters. */
export interface KeysetQuery {
  table: string;
  /** The select list; it must not name `cursor_created_at`. */
  columns: string;
  where: string[];
  params: unknown[];
}

/**
 * keysetPage for a plain SQL query whose rows go to the answer as they come from the driver: no
 * entity is built (on a page of 100 rows that costs more than the query). The same seek, order and
 * cursor as keysetPage.
 */
export async function keysetRows<T extends { id: string }>(
  run: (sql: string, params: unknown[]) => Promise<(T & { cursor_created_at: string })[]>,
  query: KeysetQuery,
  cursor: Cursor | null,
  limit: number,
): Promise<Page<T>> {
  const where = [...query.where];
  const params = [...query.params];
  if (cursor) {
    params.push(cursor.createdAt, cursor.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(limit + 1);
  const rows = await run(
    `SELECT ${query.columns}, to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at
     FROM ${query.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
  const last = rows.length > limit ? rows[limit - 1] : null;
  const items: T[] = rows.slice(0, limit);
  return { items, nextCursor: last ? encodeCursor({ createdAt: last.cursor_created_at, id: last.id }) : null };
}

/**
 * The conditions of a history filter, in `$n` parameters: column = value for each value given,
 * metadata containment (served by the GIN index) when keys are given, and created_at in [since, until).
 */
export function historyConditions(
  equal: Record<string, string | undefined>,
  metadata: Record<string, string> | undefined,
  since: Date | undefined,
  until: Date | undefined,
): { where: string[]; params: unknown[] } {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (condition: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(condition(`$${params.length}`));
  };
  for (const [column, value] of Object.entries(equal)) if (value !== undefined) add((n) => `${column} = ${n}`, value);
  if (metadata && Object.keys(metadata).length) add((n) => `metadata @> ${n}::jsonb`, JSON.stringify(metadata));
  if (since) add((n) => `created_at >= ${n}`, since);
  if (until) add((n) => `created_at < ${n}`, until);
  return { where, params };
}
