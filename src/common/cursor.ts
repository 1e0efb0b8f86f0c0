import { AppError } from './app-error';

export interface Cursor {
  createdAt: Date;
  id: string;
}

/** Opaque keyset cursor: the (created_at, id) of the last row of the previous page. */
export function encodeCursor(row: { createdAt: Date; id: string }): string {
  return Buffer.from(`${row.createdAt.toISOString()}|${row.id}`, 'utf8').toString('base64url');
}

export function decodeCursor(value: string | undefined): Cursor | null {
  if (value === undefined || value === '') return null;
  const [iso, id] = Buffer.from(value, 'base64url').toString('utf8').split('|');
  const createdAt = new Date(iso ?? '');
  if (!id || Number.isNaN(createdAt.getTime()) || !/^[0-9a-f-]{36}$/.test(id)) {
    throw AppError.invalidField('cursor', 'cursor is not a cursor returned by this API');
  }
  return { createdAt, id };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}
