import type PgBoss from 'pg-boss';
import { appLogger } from '../common/logger';

export interface JobWorkerOptions {
  /** Jobs fetched, and handled together, per round. */
  batchSize: number;
  pollingIntervalSeconds: number;
  /** Log event name prefix, e.g. `event_worker` gives `event_worker_fetch_failed`. */
  logPrefix: string;
}

/**
 * A pg-boss worker loop on pg-boss's public API (fetch, then handle, then complete or fail).
 *
 * pg-boss's own `work()` settles a batch without awaiting it: when the database cannot answer at
 * that moment (pool exhausted, database away) the rejection is unhandled and Node exits. Here every
 * settle is awaited and its failure only logged: the job stays active, expires, and pg-boss hands it
 * out again, so delivery stays at least once. A failed fetch is logged and tried again after the
 * polling interval.
 *
 * The handler gets the batch; when it returns, the jobs it did not settle itself are completed;
 * when it throws, they are failed with its error.
 */
export class JobWorker<T extends object> {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private inFlight: string[] = [];
  private wakeUp: (() => void) | null = null;
  private woken = false;

  constructor(
    private readonly boss: PgBoss,
    private readonly queue: string,
    private readonly options: JobWorkerOptions,
    private readonly handler: (jobs: PgBoss.JobWithMetadata<T>[]) => Promise<void>,
  ) {}

  start(): void {
    if (this.loop) return;
    this.loop = this.run();
  }

  /** Looks for work now rather than at the next poll. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Stops fetching and waits for the batch in hand; after `timeoutMs` (if given), its jobs go back
   * to the queue (failed, so retried) and the handler is left to finish in the background.
   */
  async stop(timeoutMs?: number): Promise<void> {
    this.stopping = true;
    this.wakeUp?.();
    if (!this.loop) return;
    if (timeoutMs === undefined) return this.loop;
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<'cut'>((resolve) => (timer = setTimeout(() => resolve('cut'), timeoutMs)));
    const outcome = await Promise.race([this.loop.then(() => 'done' as const), cut]);
    clearTimeout(timer);
    if (outcome === 'cut' && this.inFlight.length) {
      await this.settle('fail', this.inFlight, { message: 'worker stopped' });
    }
  }

  private async run(): Promise<void> {
    while (!this.stopping) {
      const started = Date.now();
      this.woken = false;
      let jobs: PgBoss.JobWithMetadata<T>[] = [];
      try {
        jobs = await this.boss.fetch<T>(this.queue, { batchSize: this.options.batchSize, includeMetadata: true });
      } catch (error) {
        appLogger().event('warn', `${this.options.logPrefix}_fetch_failed`, { queue: this.queue, error: message(error) });
      }
      if (jobs.length && !this.stopping) await this.handle(jobs);
      else if (jobs.length)
        await this.settle(
          'fail',
          jobs.map((job) => job.id),
          { message: 'worker stopped' },
        );
      // a full batch suggests more is waiting: fetch again at once
      if (jobs.length >= this.options.batchSize) continue;
      const wait = this.options.pollingIntervalSeconds * 1000 - (Date.now() - started);
      if (!this.stopping && !this.woken && wait > 0) await this.sleep(wait);
    }
  }

  private async handle(jobs: PgBoss.JobWithMetadata<T>[]): Promise<void> {
    const ids = jobs.map((job) => job.id);
    this.inFlight = ids;
    try {
      await this.handler(jobs);
    } catch (error) {
      await this.settle('fail', ids, { message: message(error) });
      return;
    } finally {
      this.inFlight = [];
    }
    await this.settle('complete', ids);
  }

  /** Completes or fails `ids`; a database that cannot answer leaves them to expire and be retried. */
  private async settle(how: 'complete' | 'fail', ids: string[], data?: object): Promise<void> {
    try {
      if (how === 'complete') await this.boss.complete(this.queue, ids);
      // pg-boss takes an array of ids with data too; its typings only list one id with data
      else await this.boss.fail(this.queue, ids as unknown as string, data ?? {});
    } catch (error) {
      appLogger().event('warn', `${this.options.logPrefix}_settle_failed`, {
        queue: this.queue,
        action: how,
        jobs: ids.length,
        error: message(error),
      });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
