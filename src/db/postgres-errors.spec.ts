import { createServer, type Server, type Socket } from 'node:net';
import { DatabaseError, Pool } from 'pg';
import { QueryFailedError } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toAppError } from '../common/all-exceptions.filter';
import { databaseUnavailableError, isDatabaseUnavailable, isUniqueViolation } from './postgres-errors';

function serverError(code: string, message = 'server said no'): DatabaseError {
  const error = new DatabaseError(message, message.length, 'error');
  error.code = code;
  return error;
}

function viaTypeorm(error: Error): QueryFailedError {
  return new QueryFailedError('SELECT 1', [], error);
}

/** What pg really throws when it cannot get a connection, from a pool pointed at `port`. */
async function poolFailure(port: number, options: { connectionTimeoutMillis: number; max?: number }): Promise<unknown> {
  const pool = new Pool({ host: '127.0.0.1', port, user: 'x', database: 'x', ...options });
  try {
    await pool.query('SELECT 1');
    throw new Error('the query unexpectedly succeeded');
  } catch (error) {
    return error;
  } finally {
    await pool.end().catch(() => undefined);
  }
}

describe('isDatabaseUnavailable', () => {
  let silent: Server;
  let silentPort: number;
  let closedPort: number;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // accepts connections and never answers: a frozen server
    silent = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise((resolve) => probe.close(resolve));
  });

  afterAll(async () => {
    sockets.forEach((s) => s.destroy());
    await new Promise((resolve) => silent.close(resolve));
  });

  it('is true for a refused connection (server down)', async () => {
    const error = await poolFailure(closedPort, { connectionTimeoutMillis: 500 });
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('is true for a connection the server never answers (frozen server)', async () => {
    const error = await poolFailure(silentPort, { connectionTimeoutMillis: 200 });
    expect(String(error)).toMatch(/timeout/i);
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it('is true for the pool giving up waiting for a free connection', () => {
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
  });

  it('is true for a connection lost mid-query and for the client-side read timeout', () => {
    expect(isDatabaseUnavailable(viaTypeorm(new Error('Connection terminated unexpectedly')))).toBe(true);
    expect(isDatabaseUnavailable(viaTypeorm(new Error('Query read timeout')))).toBe(true);
    expect(isDatabaseUnavailable(viaTypeorm(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })))).toBe(true);
  });

  it.each([
    ['57014', 'canceling statement due to statement timeout'],
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'terminating connection due to crash shutdown'],
    ['57P03', 'the database system is starting up'],
    ['53300', 'sorry, too many clients already'],
    ['08006', 'connection failure'],
    ['08P01', 'protocol violation'],
  ])('is true for SQLSTATE %s (%s), as TypeORM wraps it', (code, message) => {
    expect(isDatabaseUnavailable(viaTypeorm(serverError(code, message)))).toBe(true);
  });

  it('is true for every failed address of a host that resolves to several (AggregateError)', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    expect(isDatabaseUnavailable(new AggregateError([refused('::1:5432'), refused('127.0.0.1:5432')]))).toBe(true);
  });

  it.each([
    ['a unique violation', viaTypeorm(serverError('23505', 'duplicate key value'))],
    ['an undefined table', viaTypeorm(serverError('42P01', 'relation "x" does not exist'))],
    ['a deadlock', viaTypeorm(serverError('40P01', 'deadlock detected'))],
    ['a programming error', new TypeError("Cannot read properties of undefined (reading 'sid')")],
    ['a plain error', new Error('boom')],
    ['nothing at all', undefined],
  ])('is false for %s', (_name, error) => {
    expect(isDatabaseUnavailable(error)).toBe(false);
  });

  it('still tells a unique violation apart', () => {
    expect(isUniqueViolation(viaTypeorm(serverError('23505')))).toBe(true);
    expect(isUniqueViolation(viaTypeorm(serverError('57014')))).toBe(false);
  });
});

describe('how the error filter answers a database failure', () => {
  const mapper = (error: unknown) => databaseUnavailableError(error, 7);

  it('answers 503 dependency_unavailable with Retry-After for an unavailable database', () => {
    const error = toAppError(viaTypeorm(serverError('57014', 'canceling statement due to statement timeout')), mapper);
    expect({ status: error.status, code: error.code, retry: error.retryAfterSeconds, message: error.message }).toEqual({
      status: 503,
      code: 'dependency_unavailable',
      retry: 7,
      message: 'The database is unavailable; retry later',
    });
  });

  it('keeps answering 500 internal_error for any other failure', () => {
    const error = toAppError(viaTypeorm(serverError('42P01')), mapper);
    expect({ status: error.status, code: error.code, retry: error.retryAfterSeconds }).toEqual({
      status: 500,
      code: 'internal_error',
      retry: undefined,
    });
  });
});
