import { AppError } from './app-error';

export interface Cursor {
  createdAt: Date;
  id: string;
}

/** Opaque keyset cursor: the (created_at, id) of the last row of the previous page. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * The cursor's position, or a 400 naming `cursor` for anything encodeCursor could not have written:
 * only a well-formed UUID and an ISO date-time the database can compare (years 1 to 9999) pass.
 */
export function decodeCursor(value: string | undefined): Cursor | null {
  if (value === undefined || value === '') return null;
  const [iso, id, ...rest] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  const createdAt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/.test(iso ?? '') ? new Date(iso) : new Date(NaN);
  const valid = rest.length === 0 && !Number.isNaN(createdAt.getTime()) && createdAt.toISOString() === iso && UUID.test(id ?? '');
  if (!valid) {
    throw AppError.invalidField('cursor', 'cursor is not a cursor returned by this API');
  }
  return { createdAt, id };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
