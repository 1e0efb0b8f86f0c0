import { Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appLogger } from '../common/logger';
import { IdempotencyService } from './idempotency.service';

export const IDEMPOTENCY_PURGE_INTERVAL = 'idempotency-purge';
const PURGE_EVERY_MS = 10 * 60_000;
const PURGE_BATCH = 1000;

/**
 * Deletes expired idempotency keys every 10 minutes, in bounded batches. An expired key already
 * counts as new when it is sent again, so this only keeps the table small; instances running it
 * at once delete disjoint or already-deleted rows, which is harmless.
 */
@Injectable()
export class IdempotencyCleanupService implements OnApplicationBootstrap, OnModuleDestroy {
  private running = false;

  constructor(
    private readonly keys: IdempotencyService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.tick(), PURGE_EVERY_MS);
    timer.unref();
    this.scheduler.addInterval(IDEMPOTENCY_PURGE_INTERVAL, timer);
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', IDEMPOTENCY_PURGE_INTERVAL)) this.scheduler.deleteInterval(IDEMPOTENCY_PURGE_INTERVAL);
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      let purged = 0;
      for (let round = 0; round < 100; round++) {
        const deleted = await this.keys.purgeExpired(PURGE_BATCH);
        purged += deleted;
        if (deleted < PURGE_BATCH) break;
      }
      if (purged > 0) appLogger().event('info', 'idempotency_keys_purged', { count: purged });
    } catch (error) {
      appLogger().event('error', 'idempotency_purge_failed', { error: error instanceof Error ? error.message : String(error) });
    } finally {
      this.running = false;
    }
  }
}
