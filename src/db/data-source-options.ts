import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';
import { pgDriver } from './pg-driver';

/** How long the app waits on Postgres before it answers 503 instead (see AppConfig['database']). */
export interface DatabaseTimeouts {
  acquireTimeoutMs: number;
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
}

/** The client gives up this much after the server's statement_timeout would have fired. */
const CLIENT_TIMEOUT_MARGIN_MS = 1000;

/**
 * pg settings so that nothing waits on an unavailable server for long: the pool gives up after
 * acquireTimeoutMs (also the connect timeout), the server cancels a statement after
 * statementTimeoutMs and the client stops waiting for an answer a little after that (a frozen
 * server never cancels anything); TCP keepalive notices a peer that vanished.
 */
export function postgresTimeouts(timeouts: DatabaseTimeouts): Record<string, number | boolean> {
  return {
    connectionTimeoutMillis: timeouts.acquireTimeoutMs,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    ...(timeouts.statementTimeoutMs > 0
      ? { statement_timeout: timeouts.statementTimeoutMs, query_timeout: timeouts.statementTimeoutMs + CLIENT_TIMEOUT_MARGIN_MS }
      : {}),
    ...(timeouts.idleInTransactionTimeoutMs > 0 ? { idle_in_transaction_session_timeout: timeouts.idleInTransactionTimeoutMs } : {}),
  };
}

/**
 * Connection options for real Postgres (url) or the embedded one (port on 127.0.0.1). The app
 * registers each module's entities itself (autoLoadEntities); the migration CLI passes them here.
 * Timeouts apply to real Postgres only: the embedded one lives in this process (it cannot be
 * down while we run) and serialises every query on its one connection.
 */
export function dataSourceOptions(
  target: { url: string } | { embeddedPort: number },
  entities: NonNullable<DataSourceOptions['entities']> = [],
  timeouts?: DatabaseTimeouts,
): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    driver: pgDriver,
    entities,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
  };
  if ('url' in target) {
    return {
      ...common,
      url: target.url,
      extra: { max: 10, connectionTimeoutMillis: 5000, ...(timeouts ? postgresTimeouts(timeouts) : {}) },
    };
  }
  return {
    ...common,
    host: '127.0.0.1',
    port: target.embeddedPort,
    username: 'postgres',
    password: 'postgres',
    database: 'postgres',
    extra: { max: 1, connectionTimeoutMillis: 10000 },
  };
}
