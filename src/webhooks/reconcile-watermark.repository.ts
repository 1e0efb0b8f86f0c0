import { Injectable } from '@nestjs/common';
import { InjectDataSource, InjectRepository } from '@nestjs/typeorm';
import { DataSource, Repository } from 'typeorm';
import { ReconcileWatermarkEntity, SweepResource } from './reconcile-watermark.entity';

/** Key of the session advisory lock that keeps two instances from sweeping at the same time. */
const SWEEP_LOCK_KEY = 7_215_301_884;

@Injectable()
export class ReconcileWatermarkRepository {
  constructor(
    @InjectRepository(ReconcileWatermarkEntity) private readonly repo: Repository<ReconcileWatermarkEntity>,
    @InjectDataSource() private readonly dataSource: DataSource,
  ) {}

  async listedUntil(resource: SweepResource): Promise<Date | null> {
    return (await this.repo.findOne({ where: { resource } }))?.listedUntil ?? null;
  }

  /** Moves the watermark forward to `until`; never back (another instance may have gone further). */
  async advance(resource: SweepResource, until: Date): Promise<void> {
    await this.dataSource.query(
      `INSERT INTO reconcile_watermarks (resource, listed_until, updated_at) VALUES ($1, $2, now())
       ON CONFLICT (resource) DO UPDATE SET listed_until = GREATEST(reconcile_watermarks.listed_until, EXCLUDED.listed_until),
         updated_at = now()`,
      [resource, until],
    );
  }

  /**
   * Runs `work` while holding PostgreSQL's session advisory lock for the sweep; null without running
   * it when another session holds the lock. The lock's connection is held for the whole run (the
   * pool has others); use it only on PostgreSQL, not on PGlite's single connection.
   */
  async withSweepLock<T>(work: () => Promise<T>): Promise<T | null> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      const [row] = (await runner.query('SELECT pg_try_advisory_lock($1) AS locked', [SWEEP_LOCK_KEY])) as { locked: boolean }[];
      if (!row?.locked) return null;
      try {
        return await work();
      } finally {
        await runner.query('SELECT pg_advisory_unlock($1)', [SWEEP_LOCK_KEY]);
      }
    } finally {
      await runner.release();
    }
  }
}
