import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AppError } from './app-error';
import type { JsonText } from './json-columns';

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

/** A history query's filter: each value given must match; metadata keys by containment; created_at in [since, until). */
export interface HistoryFilter {
  status?: string;
  direction?: string;
  to?: string;
  from?: string;
  agentName?: string;
  workflowId?: string;
  /** Every key with that value (jsonb containment, served by the metadata GIN index). */
  metadata?: Record<string, string>;
  since?: Date;
  until?: Date;
}

/** The column each equality filter compares (the same names on every history table). */
const FILTER_COLUMNS = {
  status: 'status',
  direction: 'direction',
  to: 'to_number',
  from: 'from_number',
  agentName: 'agent_name',
  workflowId: 'workflow_id',
} as const satisfies Partial<Record<keyof HistoryFilter, string>>;

/**
 * Where a history page reads: the table and one row as the API shows it, a `json` expression of the
 * table's columns (jsonObjectOf); the order and the seek read the table's own created_at and id.
 */
export interface HistorySource {
  table: string;
  json: string;
}

/**
 * One history page, newest first, each row the JSON text of a record as the API shows it, written
 * by the database: no entity is built, and the driver neither parses the columns nor Node the
 * JSON (on a page of 100 rows that costs more than the query). A keyset seek on (created_at, id)
 * with a row comparison, so an index on (filter columns..., created_at, id) jumps straight to the
 * cursor at any depth; the cursor keeps created_at to the microsecond, so rows sharing a
 * millisecond (or an instant) are neither skipped nor repeated.
 */
export async function historyPage<T>(
  run: (sql: string, params: unknown[]) => Promise<{ json: JsonText<T>; id: string; cursor_created_at: string }[]>,
  source: HistorySource,
  filter: HistoryFilter,
  cursor: Cursor | null,
  limit: number,
): Promise<Page<JsonText<T>>> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (condition: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(condition(`$${params.length}`));
  };
  for (const [key, column] of Object.entries(FILTER_COLUMNS)) {
    const value = filter[key as keyof typeof FILTER_COLUMNS];
    if (value !== undefined) add((n) => `${column} = ${n}`, value);
  }
  if (filter.metadata && Object.keys(filter.metadata).length) add((n) => `metadata @> ${n}::jsonb`, JSON.stringify(filter.metadata));
  if (filter.since) add((n) => `created_at >= ${n}`, filter.since);
  if (filter.until) add((n) => `created_at < ${n}`, filter.until);
  if (cursor) {
    params.push(cursor.createdAt, cursor.id);
    where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  params.push(limit + 1);
  const rows = await run(
    `SELECT ${source.json}::text AS json, ${source.table}.id,
       to_char(${source.table}.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS cursor_created_at
     FROM ${source.table}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}
     ORDER BY ${source.table}.created_at DESC, ${source.table}.id DESC LIMIT $${params.length}`,
    params,
  );
  const last = rows.length > limit ? rows[limit - 1] : null;
  const nextCursor = last ? encodeCursor({ createdAt: last.cursor_created_at, id: last.id }) : null;
  return { items: rows.slice(0, limit).map((row) => row.json), nextCursor };
}

/**
 * A history answer, `{"<key>":[...],"next_cursor":...}`, as JSON text around the page's rows,
 * which are JSON text already: the same bytes JSON.stringify would write for the parsed page.
 */
export function historyJson<T>(key: string, page: Page<JsonText<unknown>>): JsonText<T> {
  return `{${JSON.stringify(key)}:[${page.items.join(',')}],"next_cursor":${JSON.stringify(page.nextCursor)}}` as JsonText<T>;
}
