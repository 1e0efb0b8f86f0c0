import { Mutex } from 'async-mutex';
import type { DataSource } from 'typeorm';

/** Any fixed 64-bit number that no other advisory lock of this database uses. */
const ADVISORY_LOCK_KEY = '7326154900418531';

/**
 * Mutual exclusion across every instance on one database: an in-process mutex, then, on
 * PostgreSQL, a session advisory lock on a connection of its own held while the work runs. On
 * embedded PGlite there is one process and one connection, so the mutex is all there is, and no
 * connection is held while the work runs (the work needs the only one).
 */
export class CrossInstanceLock {
  private readonly local = new Mutex();

  constructor(
    private readonly dataSource: DataSource,
    private readonly shared: boolean,
  ) {}

  run<T>(work: () => Promise<T>): Promise<T> {
    return this.local.runExclusive(() => (this.shared ? this.withAdvisoryLock(work) : work()));
  }

  private async withAdvisoryLock<T>(work: () => Promise<T>): Promise<T> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    let locked = false;
    try {
      await runner.query('SELECT pg_advisory_lock($1::bigint)', [ADVISORY_LOCK_KEY]);
      locked = true;
      return await work();
    } finally {
      try {
        if (locked) await runner.query('SELECT pg_advisory_unlock($1::bigint)', [ADVISORY_LOCK_KEY]);
      } finally {
        await runner.release();
      }
    }
  }
}
