import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CallRecordsService } from '../calls/call-records.service';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MessageRecordsService } from '../sms/message-records.service';

export const USAGE_ROLLUP_INTERVAL = 'billing-usage-rollup';
/**
 * How far back each refresh looks beyond the previous one: a record whose transaction began (and
 * stamped updated_at) before a refresh but committed after it is still taken in. Statements and
 * transactions are bounded far below this by the database timeouts.
 */
const OVERLAP_MS = 60_000;

/**
 * Keeps the per-day usage rollups of calls and messages current: every STATS_REFRESH_SECONDS it
 * asks each module to recompute the days whose records changed since the previous complete refresh.
 * Several instances may run it; each day is one statement under an advisory lock.
 */
@Injectable()
export class UsageRollupService implements OnApplicationBootstrap, OnModuleDestroy {
  private changedSince: Date | null = null;
  private running: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly calls: CallRecordsService,
    private readonly messages: MessageRecordsService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const timer = setInterval(() => void this.refresh(), this.config.stats.refreshSeconds * 1000);
    timer.unref();
    this.scheduler.addInterval(USAGE_ROLLUP_INTERVAL, timer);
    void this.refresh();
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', USAGE_ROLLUP_INTERVAL)) this.scheduler.deleteInterval(USAGE_ROLLUP_INTERVAL);
  }

  /** One refresh; a call while this process's previous one is running waits for it instead. */
  refresh(): Promise<void> {
    this.running ??= this.refreshOnce()
      .catch((error: unknown) =>
        appLogger().event('warn', 'usage_rollup_failed', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }

  /**
   * The moment up to which every change is in the rollups, as the last complete refresh by any
   * instance left it; null until the rollups have been fully built once (reports then read the raw
   * rows).
   */
  refreshedAt(): Promise<Date | null> {
    return this.storedRefreshedAt();
  }

  private async storedRefreshedAt(): Promise<Date | null> {
    const [calls, messages] = await Promise.all([this.calls.usageRollupRefreshedAt(), this.messages.usageRollupRefreshedAt()]);
    if (!calls || !messages) return null;
    return calls < messages ? calls : messages;
  }

  private async refreshOnce(): Promise<void> {
    const startedAt = Date.now();
    // continue from this process's last refresh, or after a restart from the last complete refresh any
    // instance made; rollups never fully built (a new or upgraded database) are built from the start
    const stored = await this.storedRefreshedAt();
    const since = stored ? (this.changedSince ?? new Date(stored.getTime() - OVERLAP_MS)) : new Date(0);
    await this.calls.refreshUsageRollup(since, new Date(startedAt));
    await this.messages.refreshUsageRollup(since, new Date(startedAt));
    this.changedSince = new Date(startedAt - OVERLAP_MS);
  }
}
