import type { DataSourceOptions } from 'typeorm';
import { MIGRATIONS } from '../../migrations';

/**
 * Connection options for real Postgres (url) or the embedded one (port on 127.0.0.1). The app
 * registers each module's entities itself (autoLoadEntities); the migration CLI passes them here.
 */
export function dataSourceOptions(
  target: { url: string } | { embeddedPort: number },
  entities: NonNullable<DataSourceOptions['entities']> = [],
): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities,
    migrations: MIGRATIONS,
    migrationsTransactionMode: 'each' as const,
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto' as const,
  };
  if ('url' in target) {
    return { ...common, url: target.url, extra: { max: 10, connectionTimeoutMillis: 5000 } };
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
