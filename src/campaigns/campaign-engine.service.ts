import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap, OnModuleInit } from '@nestjs/common';
import type PgBoss from 'pg-boss';
import type { EntityManager } from 'typeorm';
import { CallRecordsService } from '../calls/call-records.service';
import { CallsService } from '../calls/calls.service';
import type { PlaceCallDto } from '../calls/calls.dto';
import { AppError } from '../common/app-error';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { transactionDb } from '../events/event-delivery.service';
import { JobWorker } from '../events/job-worker';
import { EventsService } from '../events/events.service';
import { MessageRecordsService } from '../sms/message-records.service';
import { SmsService } from '../sms/sms.service';
import { isTerminalCallStatus, isTerminalMessageStatus } from '../twilio/twilio.types';
import { CallingWindow, Weekday, isOpen, nextOpening } from './calling-window';
import { CampaignEntity } from './campaign.entity';
import { AccountPace, Claim, CampaignRepository, RecipientAfterEnd } from './campaign.repository';

const QUEUE = 'campaign-dispatch';
/** Pause while the live-call cap is full or a guardrail refuses. */
const WAIT_MS = 200;
/** A waiting campaign looks again at least this often (a resumed or changed campaign is noticed). */
const MAX_IDLE_SECONDS = 60;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

interface DispatchJob {
  campaign_id: string;
}

/** One request in the pacing ring: when Twilio answered it (null while in flight). */
interface Paced {
  at: number | null;
  done: Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs campaigns on the pg-boss of event delivery. Each campaign has one job at a time (a
 * `stately` queue keyed by the campaign): a run claims due recipients with SKIP LOCKED, places
 * them through the calls and SMS services within the pacing and the live-call cap, then queues
 * the campaign's next run. A run that dies expires after the lease and pg-boss hands the campaign
 * to another instance. Outcomes arrive with the calls' and messages' own status changes, in their
 * transactions.
 */
@Injectable()
export class CampaignEngine implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown {
  private boss: PgBoss | null = null;
  private worker: JobWorker<DispatchJob> | null = null;
  private starting: Promise<void> | null = null;
  private stopping = false;
  private readonly running = new Set<Promise<unknown>>();

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly campaigns: CampaignRepository,
    private readonly events: EventsService,
    private readonly calls: CallsService,
    private readonly sms: SmsService,
    private readonly callRecords: CallRecordsService,
    private readonly messageRecords: MessageRecordsService,
  ) {}

  onModuleInit(): void {
    this.callRecords.onStatusChanged(async (tx, record) => {
      const attemptId = campaignAttemptOf(record.metadata);
      if (!attemptId) return;
      if (neverSent(record)) return this.campaigns.undoUnsent(tx, attemptId, record.id);
      if (!isTerminalCallStatus(record.status)) return this.campaigns.observe(tx, attemptId, record.id, record.sid, record.status);
      const outcome = record.status === 'completed' ? 'completed' : record.status;
      // our clock, not Twilio's: the retry delay counts from when we learn of the end
      await this.ended(tx, attemptId, record, outcome, outcome === 'completed', new Date());
    });
    this.messageRecords.onStatusChanged(async (tx, record) => {
      const attemptId = campaignAttemptOf(record.metadata);
      if (!attemptId) return;
      if (neverSent(record)) return this.campaigns.undoUnsent(tx, attemptId, record.id);
      if (!isTerminalMessageStatus(record.status)) return this.campaigns.observe(tx, attemptId, record.id, record.sid, record.status);
      const success = record.status === 'delivered' || record.status === 'read';
      await this.ended(tx, attemptId, record, success ? 'delivered' : 'failed', success, new Date());
    });
  }

  onApplicationBootstrap(): void {
    // in the background: the queue starts with event delivery, whose own start may come after this hook
    this.starting = this.start().catch((error: unknown) => {
      appLogger().event('error', 'campaign_engine_start_failed', { error: error instanceof Error ? error.message : String(error) });
    });
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.stopping = true;
    await this.starting;
    // stop fetching and let the batch in hand finish and settle
    await this.worker?.stop();
    // runs end at their next step; what they placed is settled by the calls' callbacks
    await Promise.allSettled([...this.running]);
  }

  /** Queues the campaign's run for `at`, within `tx` (the change that makes it due). */
  async scheduleIn(tx: EntityManager, campaignId: string, at: Date): Promise<void> {
    const boss = await this.events.jobQueue();
    await boss.send(QUEUE, { campaign_id: campaignId } satisfies DispatchJob, {
      ...this.jobOptions(campaignId, at),
      db: transactionDb(tx),
    });
  }

  /** Asks the worker to look for work now rather than at its next poll. */
  wake(): void {
    this.worker?.wake();
  }

  private async start(): Promise<void> {
    const boss = await this.events.jobQueue();
    if (this.stopping) return;
    await boss.createQueue(QUEUE, { name: QUEUE, policy: 'stately', ...this.retryOptions() });
    this.boss = boss;
    // a campaign whose job was lost (or never sent) gets one; a queued job makes this a no-op
    for (const id of await this.campaigns.activeIds()) await this.schedule(id, new Date());
    if (this.stopping) return;
    // our own loop, not boss.work(), which settles jobs without awaiting (see JobWorker)
    this.worker = new JobWorker<DispatchJob>(
      boss,
      QUEUE,
      { batchSize: 4, pollingIntervalSeconds: this.config.campaigns.pollingIntervalSeconds, logPrefix: 'campaign_worker' },
      (jobs) => this.runBatch(jobs),
    );
    this.worker.start();
  }

  private retryOptions() {
    return { retryLimit: 1_000_000, retryDelay: 1, expireInSeconds: this.config.campaigns.leaseSeconds };
  }

  private jobOptions(campaignId: string, at: Date): PgBoss.SendOptions {
    return { singletonKey: campaignId, startAfter: at, ...this.retryOptions() };
  }

  private async schedule(campaignId: string, at: Date): Promise<void> {
    if (this.boss) await this.boss.send(QUEUE, { campaign_id: campaignId } satisfies DispatchJob, this.jobOptions(campaignId, at));
  }

  private async runBatch(jobs: PgBoss.JobWithMetadata<DispatchJob>[]): Promise<void> {
    await Promise.all(
      jobs.map(async (job) => {
        const run = this.run(job.data.campaign_id);
        this.running.add(run);
        try {
          await run;
        } catch (error) {
          appLogger().event('warn', 'campaign_run_failed', {
            campaign_id: job.data.campaign_id,
            error: error instanceof Error ? error.message : String(error),
          });
          if (this.boss) await this.boss.fail(QUEUE, job.id, { message: error instanceof Error ? error.message : String(error) });
        } finally {
          this.running.delete(run);
        }
      }),
    );
  }

  /** One run of a campaign: places what is due for up to runSeconds, then queues the next run. */
  private async run(campaignId: string): Promise<void> {
    let campaign = await this.campaigns.findById(campaignId);
    if (!campaign || (campaign.state !== 'scheduled' && campaign.state !== 'running')) return;
    if (campaign.startAt.getTime() > Date.now()) return this.schedule(campaignId, campaign.startAt);
    if (campaign.state === 'scheduled') {
      const first = campaign.startedAt === null;
      campaign = await this.campaigns.transition(campaignId, ['scheduled'], 'running', { startedAt: new Date() }, async (tx, c) => {
        if (first) await this.events.record(tx, 'campaign.started', campaignResource(c));
      });
      if (!campaign) return;
    }
    const pace = this.accountPace(campaign.channel);
    await this.recoverPlacing(campaign, pace);

    const window: CallingWindow = { start: campaign.windowStart, end: campaign.windowEnd, days: campaign.windowDays as Weekday[] };
    // the account's rate may have been lowered since the campaign was created
    const perSecond = Math.min(campaign.perSecond, pace.perSecond);
    const ring: Paced[] = (await this.campaigns.latestAnswers(campaignId, perSecond))
      .reverse()
      .map((at) => ({ at, done: Promise.resolve() }));
    const inflight = new Set<Promise<void>>();
    let zoneSets = await this.campaigns.dueZoneSets(campaignId, new Date());
    let next: Date | null = new Date();
    const deadline = Date.now() + this.config.campaigns.runSeconds * 1000;
    try {
      while (!this.stopping && Date.now() < deadline) {
        const current = await this.campaigns.findById(campaignId);
        if (current?.state !== 'running') {
          next = null;
          break;
        }
        if (campaign.channel === 'call' && (await this.campaigns.openAttempts(campaignId)) >= campaign.maxLive) {
          await sleep(WAIT_MS);
          continue;
        }
        // over any one second at most perSecond requests: the one perSecond back must have been answered a second ago
        if (ring.length >= perSecond) {
          const gate = ring[ring.length - perSecond];
          await gate.done;
          const wait = gate.at! + 1000 - Date.now();
          if (wait > 0) {
            await sleep(wait + 1);
            continue;
          }
        }
        const now = new Date();
        let claim = await this.campaigns.claimNext(campaignId, openSets(window, zoneSets, now), now, pace);
        if (!claim) {
          // zones may have opened or recipients become due since the sets were read
          zoneSets = await this.campaigns.dueZoneSets(campaignId, now);
          claim = await this.campaigns.claimNext(campaignId, openSets(window, zoneSets, now), now, pace);
        }
        if (claim && 'waitMs' in claim) {
          // the account's rate is used up by this and other campaigns, on this or other instances
          await sleep(claim.waitMs);
          continue;
        }
        if (!claim) {
          if (inflight.size) {
            await Promise.race(inflight);
            continue;
          }
          next = await this.nextRunAt(campaign, window, zoneSets);
          break;
        }
        let answered!: () => void;
        const paced: Paced = { at: null, done: new Promise<void>((resolve) => (answered = resolve)) };
        ring.push(paced);
        if (ring.length > perSecond * 2) ring.splice(0, ring.length - perSecond);
        const placing: Promise<void> = this.place(campaign, claim).finally(() => {
          paced.at = Date.now();
          answered();
          inflight.delete(placing);
        });
        inflight.add(placing);
      }
    } finally {
      await Promise.allSettled([...inflight]);
    }
    if (next) await this.schedule(campaignId, new Date(Math.max(next.getTime(), Date.now() + this.handOffMs())));
  }

  /**
   * How long a campaign waits between two runs. The instance that ran it asks the queue again at
   * once and finds nothing due, then waits its polling interval: every other instance polling the
   * queue meanwhile has its chance at the campaign, so instances take turns rather than the last
   * one keeping it. The pause costs at most this long of placing per run.
   */
  private handOffMs(): number {
    return Math.min(this.config.campaigns.pollingIntervalSeconds * 500, 1000);
  }

  /** When to look again: now when work is due, at the next due time or window opening otherwise; null when finished. */
  private async nextRunAt(campaign: CampaignEntity, window: CallingWindow, zoneSets: string[]): Promise<Date | null> {
    const now = Date.now();
    if ((await this.campaigns.unfinished(campaign.id)) === 0) {
      await this.finish(campaign.id);
      return null;
    }
    const idle = now + MAX_IDLE_SECONDS * 1000;
    // calls in progress: their ends may bring retries or the campaign's end
    if ((await this.campaigns.openAttempts(campaign.id)) > 0) return new Date(now + 1000);
    let at = idle;
    const due = await this.campaigns.nextDueAt(campaign.id);
    if (due && due.getTime() > now) at = Math.min(at, due.getTime());
    for (const set of zoneSets) {
      const opening = nextOpening(window, set.split(','), new Date(now));
      if (opening) at = Math.min(at, opening.getTime());
    }
    return new Date(Math.max(at, now + 1000));
  }

  private async finish(campaignId: string): Promise<void> {
    const counts = await this.campaigns.countsByState(campaignId);
    await this.campaigns.transition(campaignId, ['running'], 'completed', { finishedAt: new Date() }, async (tx, c) => {
      await this.events.record(tx, 'campaign.completed', campaignResource(c), { counts });
    });
  }

  /**
   * Attempts a dead run left `placing`: when their call or message was stored, it is theirs (its
   * status changes end them); when not, Twilio was never asked, and they are placed now, under the
   * same attempt id.
   */
  private async recoverPlacing(campaign: CampaignEntity, pace: AccountPace): Promise<void> {
    for (const { attemptId, recipient } of await this.campaigns.stalePlacing(campaign.id, new Date())) {
      const found = await this.findPlaced(campaign, attemptId);
      if (found) {
        await this.campaigns.markPlaced(attemptId, found.id, found.sid, found.status);
        continue;
      }
      for (let wait = await this.campaigns.reserveSlot(pace, attemptId); wait; wait = await this.campaigns.reserveSlot(pace, attemptId)) {
        if (this.stopping) return;
        await sleep(wait.waitMs);
      }
      await this.place(campaign, { recipient, attemptId, attemptNumber: recipient.attempts });
    }
  }

  private accountPace(channel: 'call' | 'sms'): AccountPace {
    return {
      channel,
      perSecond: this.config.campaigns.accountPerSecond[channel],
      // a request the SDK gave up on may have reached Twilio until its timeout; a margin for the time before sending
      inFlightMs: this.config.twilio.requestTimeoutMs + 5000,
    };
  }

  private findPlaced(campaign: CampaignEntity, attemptId: string): Promise<{ id: string; sid: string | null; status: string } | null> {
    const tag = { campaign_attempt_id: attemptId };
    return campaign.channel === 'call' ? this.callRecords.findByMetadata(tag) : this.messageRecords.findByMetadata(tag);
  }

  /** Places one attempt; a guardrail refusal undoes the claim, any other refusal ends the attempt failed. */
  private async place(campaign: CampaignEntity, claim: Claim): Promise<void> {
    const { recipient } = claim;
    // an assistant's agent reads the recipient's variables from the call's metadata, sent with every turn
    const personal = campaign.contentKind === 'assistant_id' ? { ...recipient.variables, ...recipient.metadata } : recipient.metadata;
    const metadata = { ...personal, campaign_id: campaign.id, campaign_attempt_id: claim.attemptId };
    const from = campaign.fromNumbers[recipient.position % campaign.fromNumbers.length];
    try {
      if (campaign.channel === 'call') {
        const request = { to: recipient.toNumber, from, [campaign.contentKind]: recipient.content!, metadata } as PlaceCallDto;
        const { call } = await this.calls.placeCall(request, campaign.createdBy);
        await this.campaigns.markPlaced(claim.attemptId, call.id, call.sid, call.status);
      } else {
        const { message } = await this.sms.sendSms(
          { to: recipient.toNumber, from, message: recipient.content!, metadata },
          campaign.createdBy,
        );
        await this.campaigns.markPlaced(claim.attemptId, message.id, message.sid, message.status);
      }
    } catch (error) {
      await this.refused(campaign, claim, error);
    } finally {
      // not thrown over the placement's own error: a slot left unanswered only holds the rate back until it expires
      await this.campaigns.slotAnswered(claim.attemptId).catch((error: unknown) =>
        appLogger().event('warn', 'campaign_slot_not_released', {
          campaign_id: campaign.id,
          attempt_id: claim.attemptId,
          error: error instanceof Error ? error.message : String(error),
        }),
      );
    }
  }

  private async refused(campaign: CampaignEntity, claim: Claim, error: unknown): Promise<void> {
    const code = error instanceof AppError ? error.code : null;
    if (code === 'spending_limit_reached') {
      await this.campaigns.undoClaim(claim.attemptId);
      const reason = `paused at the daily spending ceiling: ${(error as AppError).message}`;
      await this.campaigns.transition(campaign.id, ['running'], 'paused', { pausedReason: reason }, async (tx, c) => {
        await this.events.record(tx, 'campaign.paused', campaignResource(c), { reason: 'spending_limit_reached' });
      });
      appLogger().event('warn', 'campaign_paused', { campaign_id: campaign.id, reason: 'spending_limit_reached' });
      return;
    }
    if (code === 'live_call_limit' || code === 'dependency_unavailable' || code === 'rate_limited') {
      // nothing reached Twilio: the recipient waits for the next turn
      await this.campaigns.undoClaim(claim.attemptId);
      await sleep(WAIT_MS);
      return;
    }
    const message = error instanceof Error ? error.message : String(error);
    await this.campaigns.endAttemptNow(
      { attemptId: claim.attemptId, status: 'failed', outcome: 'failed', success: false, price: null, at: new Date(), error: message },
      (tx, after) => this.recipientEnded(tx, after),
    );
  }

  private async ended(
    tx: EntityManager,
    attemptId: string,
    record: { id: string; sid: string | null; status: string; price: string | null },
    outcome: string,
    success: boolean,
    at: Date,
  ) {
    const { status, price } = record;
    const after = await this.campaigns.endAttempt(tx, { attemptId, status, outcome, success, price, at, error: null, record });
    if (after) await this.recipientEnded(tx, after);
  }

  private async recipientEnded(tx: EntityManager, { recipient, campaign }: RecipientAfterEnd): Promise<void> {
    if (recipient.state !== 'completed' && recipient.state !== 'failed') return;
    await this.events.record(
      tx,
      'campaign.recipient.completed',
      {
        type: 'campaign_recipient',
        id: recipient.id,
        object: {
          id: recipient.id,
          campaign_id: campaign.id,
          position: recipient.position,
          to: recipient.toNumber,
          state: recipient.state,
          attempts: recipient.attempts,
          last_outcome: recipient.lastOutcome,
          metadata: recipient.metadata,
        },
      },
      { outcome: recipient.lastOutcome },
    );
  }
}

function openSets(window: CallingWindow, zoneSets: string[], now: Date): string[] {
  return zoneSets.filter((set) => isOpen(window, set.split(','), now));
}

function campaignAttemptOf(metadata: Record<string, string> | null | undefined): string | null {
  const id = metadata?.campaign_attempt_id;
  return typeof id === 'string' && UUID.test(id) ? id : null;
}

/**
 * A record that failed without ever having a sid: Twilio never received its request (a refusal
 * removes the record instead), so nobody was called or messaged.
 */
function neverSent(record: { sid: string | null; status: string }): boolean {
  return record.sid === null && record.status === 'failed';
}

function campaignResource(c: CampaignEntity) {
  return {
    type: 'campaign',
    id: c.id,
    object: {
      id: c.id,
      name: c.name,
      channel: c.channel,
      state: c.state,
      paused_reason: c.pausedReason,
      started_at: c.startedAt,
      finished_at: c.finishedAt,
    },
  };
}
