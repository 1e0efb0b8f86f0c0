import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { NumbersService } from './numbers.service';

export const NUMBERS_SYNC_INTERVAL = 'numbers-sync';

/**
 * Keeps the numbers we hold in line with Twilio without waiting for a `GET numbers`: once at start
 * and then every NUMBERS_SYNC_INTERVAL_SECONDS, so numbers bought or released in the console (or
 * directly at the sandbox) show up in the stats and the guardrails, and a number answered by our
 * voice webhook always sends the end of its inbound calls to our status webhook.
 */
@Injectable()
export class NumbersSyncService implements OnApplicationBootstrap, OnModuleDestroy {
  private running: Promise<void> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly numbers: NumbersService,
    private readonly scheduler: SchedulerRegistry,
  ) {}

  onApplicationBootstrap(): void {
    const seconds = this.config.numbers.syncIntervalSeconds;
    if (!seconds) return;
    const timer = setInterval(() => void this.sync(), seconds * 1000);
    timer.unref();
    this.scheduler.addInterval(NUMBERS_SYNC_INTERVAL, timer);
    void this.sync();
  }

  onModuleDestroy(): void {
    if (this.scheduler.doesExist('interval', NUMBERS_SYNC_INTERVAL)) this.scheduler.deleteInterval(NUMBERS_SYNC_INTERVAL);
  }

  /** One sync; a call while this process's previous one is running waits for it instead. */
  sync(): Promise<void> {
    this.running ??= this.numbers
      .syncWithTwilio({ repairStatusCallbacks: true })
      .then(
        () => undefined,
        (error: unknown) =>
          appLogger().event('warn', 'numbers_sync_failed', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        this.running = null;
      });
    return this.running;
  }
}
