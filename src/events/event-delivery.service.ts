import { randomUUID } from 'node:crypto';
import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import PgBoss from 'pg-boss';
import type { Pool } from 'pg';
import { DataSource, EntityManager } from 'typeorm';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { EventEndpointRepository } from './event-endpoint.repository';
import { EventEndpointEntity } from './event-endpoint.entity';
import { AttemptResult, DeliveryContext, EventRepository } from './event.repository';
import { sendSigned } from './event-sender';
import { JobWorker } from './job-worker';

const QUEUE = 'event-delivery';
/** Events one relay transaction moves into jobs. */
const RELAY_BATCH = 200;
const RELAY_MAX_BACKOFF_MS = 5000;
/** Expired (crashed) deliveries are noticed by pg-boss's maintenance at this pace. */
const MAINTENANCE_INTERVAL_SECONDS = 10;

interface DeliveryJob {
  delivery_id: string;
}

/** pg-boss's database seam over one client at a time of `pool`, or over an open transaction. */
function poolDb(pool: Pool): PgBoss.Db {
  return {
    executeSql: async (text, values) => {
      const client = await pool.connect();
      try {
        return await client.query(text, values);
      } catch (error) {
        // pg-boss sends BEGIN ... COMMIT in one text: a failure inside leaves the session in an
        // aborted transaction, and on the embedded database every query shares that one session
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

/** pg-boss's database seam over an open transaction: a job sent through it commits or rolls back with it. */
export function transactionDb(tx: EntityManager): PgBoss.Db {
  return { executeSql: async (text, values) => ({ rows: await tx.query(text, values) }) };
}

/**
 * Delivers events with pg-boss, in the app's database and through the app's pool (on the embedded
 * PGlite, one connection carries everything, so pg-boss must not open its own): a relay turns
 * committed events into one delivery and one job per (event, endpoint) in one transaction; a
 * worker POSTs each, signed, and pg-boss retries failures with exponential backoff and jitter.
 */
@Injectable()
export class EventDeliveryService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private boss: PgBoss | null = null;
  private worker: JobWorker<DeliveryJob> | null = null;
  private relayTimer: NodeJS.Timeout | null = null;
  private relaying: Promise<void> | null = null;
  private stopping = false;
  private started!: (boss: PgBoss) => void;
  private readonly startedBoss = new Promise<PgBoss>((resolve) => (this.started = resolve));

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly events: EventRepository,
    private readonly endpoints: EventEndpointRepository,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    const settings = this.config.events;
    const boss = new PgBoss({
      db: poolDb(pool),
      schedule: false,
      supervise: true,
      maintenanceIntervalSeconds: MAINTENANCE_INTERVAL_SECONDS,
    });
    boss.on('error', (error: Error) => appLogger().event('warn', 'event_queue_error', { error: error.message }));
    await boss.start();
    await boss.createQueue(QUEUE, {
      name: QUEUE,
      retryLimit: settings.retryLimit,
      retryDelay: settings.retryDelaySeconds,
      retryBackoff: true,
      expireInSeconds: this.expireInSeconds(),
    });
    this.boss = boss;
    // our own loop, not boss.work(): pg-boss's worker settles jobs without awaiting, and a database
    // that cannot answer then would crash the process (see JobWorker)
    this.worker = new JobWorker<DeliveryJob>(
      boss,
      QUEUE,
      { batchSize: settings.concurrency, pollingIntervalSeconds: settings.pollingIntervalSeconds, logPrefix: 'event_worker' },
      (jobs) => this.deliverBatch(jobs),
    );
    this.worker.start();
    this.scheduleRelay(0);
    this.started(boss);
  }

  /** The running queue, for other modules' jobs (campaigns): one pg-boss per process, on the app's pool. */
  queue(): Promise<PgBoss> {
    return this.startedBoss;
  }

  /** Stops the relay and the worker (in-flight attempts go back to the queue) while the pool is still open. */
  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    if (this.relayTimer) clearTimeout(this.relayTimer);
    await this.relaying;
    // within the shutdown deadline: what is cut goes back to the queue (failWip) or expires and is retried
    const timeout = Math.min(this.config.events.deliveryTimeoutMs + 1000, this.config.shutdownTimeoutMs / 2);
    await this.worker?.stop(timeout);
    await this.boss?.stop({ graceful: true, wait: true, close: false, timeout });
    this.boss = null;
  }

  /** Queues the event again to every enabled endpoint that wants it (same event id, new attempts). */
  async replay(eventId: string): Promise<{ endpointIds: string[] }> {
    const result = await this.events.replay(eventId, (tx, ids) => this.enqueue(tx, ids, true));
    this.wakeWorker();
    return result;
  }

  /** Moves committed events into deliveries and jobs until none are left; returns how many it moved. */
  async relayNow(): Promise<number> {
    let moved = 0;
    for (;;) {
      const n = await this.events.relay(RELAY_BATCH, (tx, ids) => this.enqueue(tx, ids, false));
      moved += n;
      if (n < RELAY_BATCH) break;
    }
    if (moved) this.wakeWorker();
    return moved;
  }

  /** The relay loop; after a failure (the database away) it waits longer each time, up to RELAY_MAX_BACKOFF_MS. */
  private scheduleRelay(delayMs: number, failures = 0): void {
    if (this.stopping) return;
    this.relayTimer = setTimeout(() => {
      this.relaying = this.relayNow()
        .then(() => this.scheduleRelay(this.config.events.relayIntervalMs))
        .catch((error: unknown) => {
          if (failures === 0) {
            appLogger().event('warn', 'event_relay_failed', { error: error instanceof Error ? error.message : String(error) });
          }
          this.scheduleRelay(Math.min(this.config.events.relayIntervalMs * 2 ** (failures + 1), RELAY_MAX_BACKOFF_MS), failures + 1);
        })
        .finally(() => {
          this.relaying = null;
        });
    }, delayMs);
  }

  private wakeWorker(): void {
    this.worker?.wake();
  }

  /**
   * A job per delivery, in `tx`. A first delivery's job has the delivery's id, so it exists once
   * however often the insert runs; a replay's job is new.
   */
  private async enqueue(tx: EntityManager, deliveryIds: string[], replay: boolean): Promise<void> {
    if (!this.boss) throw new Error('event delivery is not running');
    const settings = this.config.events;
    await this.boss.insert(
      deliveryIds.map((id) => ({
        id: replay ? randomUUID() : id,
        name: QUEUE,
        data: { delivery_id: id } satisfies DeliveryJob,
        retryLimit: settings.retryLimit,
        retryDelay: settings.retryDelaySeconds,
        retryBackoff: true,
        expireInSeconds: this.expireInSeconds(),
      })),
      { db: transactionDb(tx) },
    );
  }

  /** An attempt that outlives this is taken as lost (its process died) and tried again. */
  private expireInSeconds(): number {
    return Math.ceil(this.config.events.deliveryTimeoutMs / 1000) + 5;
  }

  /**
   * One attempt per delivery in the batch: their deliveries, events and endpoints read in one
   * statement, the POSTs sent side by side, the attempts stored together in one statement once all
   * have ended (with the endpoints that answered marked healthy); then the failed ones are counted
   * against their endpoints and their jobs failed, so pg-boss retries them.
   */
  private async deliverBatch(jobs: PgBoss.JobWithMetadata<DeliveryJob>[]): Promise<void> {
    const contexts = await this.events.deliveryContexts([...new Set(jobs.map((job) => job.data.delivery_id))]);
    const attempts: AttemptResult[] = [];
    const failures: { job: PgBoss.JobWithMetadata<DeliveryJob>; outcome: Outcome }[] = [];
    const taken = new Set<string>();
    await Promise.all(
      jobs.map(async (job) => {
        // a replay's job and the first one meeting in a batch: one attempt serves both
        if (taken.has(job.data.delivery_id)) return;
        taken.add(job.data.delivery_id);
        try {
          const outcome = await this.deliver(contexts.get(job.data.delivery_id), job.retryCount >= job.retryLimit);
          if (outcome?.attempt) attempts.push(outcome.attempt);
          if (outcome && !outcome.delivered) failures.push({ job, outcome });
        } catch (error) {
          failures.push({ job, outcome: { delivered: false, retry: error instanceof Error ? error.message : String(error) } });
        }
      }),
    );
    const answered = new Set(attempts.filter((a) => a.state === 'delivered').map((a) => contexts.get(a.deliveryId)!.endpoint.id));
    await this.events.recordAttempts(attempts, [...answered]);
    // the others complete when the batch returns
    for (const { job, outcome } of failures) {
      if (outcome.attempt && outcome.endpoint) await this.countFailure(outcome.endpoint, outcome.attempt, outcome.eventId!);
      if (outcome.retry !== null && this.boss) await this.boss.fail(QUEUE, job.id, { message: outcome.retry });
    }
  }

  /** One attempt; null when the delivery is settled without one (already settled, or its endpoint is disabled). */
  private async deliver(context: DeliveryContext | undefined, lastAttempt: boolean): Promise<Outcome | null> {
    if (context?.state !== 'pending') return null;
    const { endpoint } = context;
    if (!endpoint.enabled) {
      await this.events.failDelivery(context.deliveryId);
      return null;
    }
    const settings = this.config.events;
    const attemptedAt = new Date();
    const result = await sendSigned({
      url: endpoint.url,
      messageId: context.eventId,
      body: context.body,
      secrets: signingSecrets(endpoint, attemptedAt),
      timeoutMs: settings.deliveryTimeoutMs,
      allowPrivate: settings.allowPrivateUrls,
    });
    const delivered = result.statusCode !== null && result.statusCode >= 200 && result.statusCode < 300;
    const state = delivered ? 'delivered' : lastAttempt ? 'failed' : 'pending';
    const attempt = { deliveryId: context.deliveryId, state, attemptedAt, ...result } satisfies AttemptResult;
    if (delivered) return { delivered, attempt, retry: null };
    return { delivered, attempt, endpoint, eventId: context.eventId, retry: lastAttempt ? null : (result.error ?? 'not delivered') };
  }

  /** A failed attempt counts against its endpoint, which is disabled once it has failed too long. */
  private async countFailure(endpoint: DeliveryContext['endpoint'], attempt: AttemptResult, eventId: string): Promise<void> {
    const settings = this.config.events;
    const disabled = await this.endpoints.recordFailure(endpoint.id, settings.disableAfterFailures, settings.disableAfterHours);
    if (disabled) {
      appLogger().event('warn', 'event_endpoint_disabled', {
        endpoint_id: disabled.id,
        host: new URL(disabled.url).host,
        reason: disabled.disabledReason,
      });
    }
    if (attempt.state === 'failed') {
      appLogger().event('warn', 'event_delivery_failed', { event_id: eventId, endpoint_id: endpoint.id, error: attempt.error });
    }
  }
}

/** What one attempt came to: stored with the batch; a failure also says why to try again (null: never). */
interface Outcome {
  delivered: boolean;
  attempt?: AttemptResult;
  endpoint?: DeliveryContext['endpoint'];
  eventId?: string;
  retry: string | null;
}

/** The secrets that sign now: the current one, and the previous one until its overlap ends. */
export function signingSecrets(
  endpoint: Pick<EventEndpointEntity, 'secret' | 'previousSecret' | 'previousSecretExpiresAt'>,
  at: Date,
): string[] {
  const previous = endpoint.previousSecret && endpoint.previousSecretExpiresAt && endpoint.previousSecretExpiresAt > at;
  return previous ? [endpoint.secret, endpoint.previousSecret!] : [endpoint.secret];
}
