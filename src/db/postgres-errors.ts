import { HttpStatus } from '@nestjs/common';
import { AppError } from '../common/app-error';

/** A Postgres unique_violation (23505), as TypeORM surfaces it. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.code === '23505' || e?.driverError?.code === '23505';
}

/** Socket failures: the server is down, unreachable or went away. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs that say the server cannot serve us now, not that the statement is wrong:
 * query_canceled (statement_timeout), admin/crash shutdown, cannot_connect_now, too many
 * connections, and the whole connection-exception class 08.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57014', '57P01', '57P02', '57P03', '53300']);

/** What pg and pg-pool throw when the connection or the pool gives up (they carry no code). */
const UNAVAILABLE_MESSAGES = [
  /timeout exceeded when trying to connect/i,
  /connection terminated/i,
  /query read timeout/i,
  /connection error and is not queryable/i,
  /client was closed and is not queryable/i,
  /cannot use a pool after calling end/i,
];

/**
 * Whether an error means the database is unavailable (down, unreachable, frozen, restarting or
 * out of connections), so the request may be retried later unchanged: the caller answers 503.
 * Looks through TypeORM's QueryFailedError (`driverError`), `cause` and AggregateError.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (error === null || typeof error !== 'object' || depth > 4) return false;
  const e = error as { code?: unknown; message?: unknown; driverError?: unknown; cause?: unknown; errors?: unknown };
  if (typeof e.code === 'string') {
    if (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATES.has(e.code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(e.code)) return true;
  }
  if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.some((pattern) => pattern.test(e.message as string))) return true;
  const nested = [e.driverError, e.cause, ...(Array.isArray(e.errors) ? (e.errors as unknown[]) : [])];
  return nested.some((inner) => inner !== error && isDatabaseUnavailable(inner, depth + 1));
}

/** 503 dependency_unavailable with Retry-After for an unavailable database, else null. */
export function databaseUnavailableError(error: unknown, retryAfterSeconds: number): AppError | null {
  if (!isDatabaseUnavailable(error)) return null;
  return new AppError(
    HttpStatus.SERVICE_UNAVAILABLE,
    'dependency_unavailable',
    'The database is unavailable; retry later',
    undefined,
    undefined,
    retryAfterSeconds,
  );
}
