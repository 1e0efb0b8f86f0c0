import { Logger } from '@nestjs/common';
import * as pg from 'pg';

const logger = new Logger('Database');

/**
 * pg's pool listens for errors only on idle connections. One the server ends while it is checked
 * out with no query waiting on it (a restart, `pg_terminate_backend`, an idle-in-transaction
 * timeout while the app works between statements) emits 'error' with nobody listening, and Node
 * ends the process. Every connection of this pool keeps a listener for as long as it lives: the
 * error is logged, the next query on the connection fails as any query on a broken connection does,
 * and the pool drops the connection when it comes back.
 */
class ListeningPool extends pg.Pool {
  constructor(config?: pg.PoolConfig) {
    super(config);
    this.on('connect', (client) => {
      client.on('error', (error: Error) => {
        logger.warn(`A database connection in use ended: ${error.message}`);
      });
    });
  }
}

/** The pg module TypeORM is given: pg itself, with the pool above. */
export const pgDriver = Object.create(pg, { Pool: { value: ListeningPool, enumerable: true } }) as typeof pg;
