import { Inject, Injectable, OnApplicationBootstrap, OnModuleDestroy } from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { CallRecordsService, INTENT_MATCH_WINDOW_MS } from '../calls/call-records.service';
import { CallReportsService } from '../calls/call-reports.service';
import { MetricsService } from '../metrics/metrics.service';
import { ShutdownState } from '../lifecycle/shutdown-state';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { NumbersService } from '../numbers/numbers.service';
import { MessageRecordsService } from '../sms/message-records.service';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { CallSnapshot, isTerminalCallStatus } from '../twilio/twilio.types';
import { ReconcileSweepService, SweepCounts } from './reconcile-sweep.service';
import { WebhookEventRepository } from './webhook-event.repository';
import { WebhookInboxService, failureReason } from './webhook-inbox.service';

export const RECONCILE_INTERVAL = 'webhooks-reconcile';
export const PRICES_INTERVAL = 'webhooks-prices';
export const LIVE_INBOUND_INTERVAL = 'webhooks-live-inbound';
/** The longest wait between two checks of a live inbound call (its checks back off up to this). */
export const LIVE_INBOUND_MAX_INTERVAL_SECONDS = 30;
/** How long a status callback may wait for its record before we create the record from Twilio's data. */
export const UNKNOWN_SID_GRACE_SECONDS = 30;
const BATCH = 200;
/** How many of Twilio's calls or messages to one number are compared with one unresolved intent. */
const INTENT_LOOKUP_LIMIT = 50;
const NEVER_RECEIVED = 'Twilio never received the request; nothing was sent';

export interface ReconcileOptions {
  /** Ended calls and messages without a price are fetched once unchanged this long; default config.reconcile.priceAfterSeconds. */
  priceAfterSeconds?: number;
  /** Records neither updated nor compared with Twilio for this long are fetched; default config.reconcile.staleAfterSeconds. */
  olderThanSeconds?: number;
  /**
   * Callbacks about unknown sids older than this create their record from Twilio, and the sweep
   * adopts calls and messages Twilio created at least this long ago; default 30.
   */
  unknownGraceSeconds?: number;
  /** Resources per Twilio page when sweeping Twilio's lists; default 1000. */
  sweepPageSize?: number;
}

export interface ReconcileReport extends SweepCounts {
  pending_applied: number;
  records_created: number;
  calls_refreshed: number;
  messages_refreshed: number;
  recordings_synced: number;
  intents_resolved: number;
  intents_failed: number;
  failures: number;
}

/**
 * Brings the stored records in line with Twilio when callbacks were lost, late or never sent:
 * applies inbox events whose record now exists, creates records for calls and messages made
 * elsewhere, sweeps Twilio's lists for traffic no webhook told us about (ReconcileSweepService),
 * refreshes records stuck in a non-terminal status, fills in prices and recordings.
 * Several instances may run it at once: records are claimed in the database (SKIP LOCKED), and
 * everything it applies is monotonic and idempotent.
 */
@Injectable()
export class ReconcileService implements OnApplicationBootstrap, OnModuleDestroy {
  private running: Promise<unknown> | null = null;
  private pricing: Promise<unknown> | null = null;
  private following: Promise<unknown> | null = null;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly twilio: TwilioGateway,
    private readonly calls: CallRecordsService,
    private readonly reports: CallReportsService,
    private readonly messages: MessageRecordsService,
    private readonly events: WebhookEventRepository,
    private readonly inbox: WebhookInboxService,
    private readonly scheduler: SchedulerRegistry,
    private readonly sweeper: ReconcileSweepService,
    private readonly metrics: MetricsService,
    private readonly shutdown: ShutdownState,
    private readonly numbers: NumbersService,
  ) {}

  onApplicationBootstrap(): void {
    if (!this.config.reconcile.enabled) return;
    const timer = setInterval(() => this.tick(), this.config.reconcile.intervalSeconds * 1000);
    timer.unref();
    this.scheduler.addInterval(RECONCILE_INTERVAL, timer);
    // prices come a little after the end: look for them much more often than for the rest
    const prices = setInterval(() => this.tickPrices(), this.config.reconcile.priceAfterSeconds * 1000);
    prices.unref();
    this.scheduler.addInterval(PRICES_INTERVAL, prices);
    const live = setInterval(() => this.tickLiveInbound(), this.config.reconcile.liveInboundAfterSeconds * 1000);
    live.unref();
    this.scheduler.addInterval(LIVE_INBOUND_INTERVAL, live);
  }

  /** Stops the intervals and waits for runs in progress, so they never outlive the database pool. */
  async onModuleDestroy(): Promise<void> {
    for (const name of [RECONCILE_INTERVAL, PRICES_INTERVAL, LIVE_INBOUND_INTERVAL]) {
      if (this.scheduler.doesExist('interval', name)) this.scheduler.deleteInterval(name);
    }
    await Promise.all([this.running, this.pricing, this.following]);
  }

  /** One scheduled run; a tick while this process's previous run is still going is skipped (not a cross-instance lock). */
  private tick(): void {
    if (this.running || this.shutdown.draining) return;
    this.running = this.runOnce()
      .catch((error: unknown) =>
        appLogger().event('error', 'reconcile_failed', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        this.running = null;
      });
  }

  private tickPrices(): void {
    if (this.pricing || this.shutdown.draining) return;
    this.pricing = this.fetchPrices()
      .then((report) => {
        if (Object.values(report).some((n) => n > 0)) appLogger().event('info', 'reconcile_prices', { ...report });
      })
      .catch((error: unknown) =>
        appLogger().event('error', 'reconcile_failed', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        this.pricing = null;
      });
  }

  private tickLiveInbound(): void {
    if (this.following || this.shutdown.draining) return;
    this.following = this.followLiveInbound()
      .then((report) => {
        if (Object.values(report).some((n) => n > 0)) appLogger().event('info', 'reconcile_live_inbound', { ...report });
      })
      .catch((error: unknown) =>
        appLogger().event('error', 'reconcile_failed', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        this.following = null;
      });
  }

  /**
   * Follows the inbound calls still ringing or in progress on numbers that do not send their status
   * to our status webhook (their voice URL is someone else's, or they were never wired): nothing
   * would tell us how such a call ended. Each is fetched from Twilio `liveInboundAfterSeconds` after
   * it was last seen live, then again with backoff (as long again as its age at the last check, at
   * most LIVE_INBOUND_MAX_INTERVAL_SECONDS), so history shows its end within seconds, not at the
   * next stale-record refresh. Numbers that report to us are left to their callbacks.
   */
  async followLiveInbound(): Promise<ReconcileReport> {
    const report = emptyReport();
    const before = new Date(Date.now() - this.config.reconcile.liveInboundAfterSeconds * 1000);
    const reportingToUs = await this.numbers.numbersReportingStatusToUs();
    for (const sid of await this.calls.claimLiveInbound(before, reportingToUs, LIVE_INBOUND_MAX_INTERVAL_SECONDS, BATCH)) {
      await this.guard(report, 'call', sid, async () => {
        // a voicemail's recording callback may be as absent as the status callback
        if (isTerminalCallStatus((await this.refreshCall(sid, report)).status)) await this.syncRecordings(sid, report);
      });
    }
    return report;
  }

  /**
   * Fetches the calls and messages that ended without a price (callbacks never carry one; Twilio
   * adds it shortly after the end) once they have been unchanged for `priceAfterSeconds`; a record
   * Twilio has not priced yet is tried again with exponential backoff (see BACKOFF_SINCE_CREATED).
   */
  async fetchPrices(options: Pick<ReconcileOptions, 'priceAfterSeconds'> = {}): Promise<ReconcileReport> {
    const report = emptyReport();
    const before = new Date(Date.now() - (options.priceAfterSeconds ?? this.config.reconcile.priceAfterSeconds) * 1000);
    for (const sid of await this.calls.claimForReconcile('unpriced', before, BATCH)) {
      await this.guard(report, 'call', sid, async () => {
        await this.refreshCall(sid, report);
        await this.syncRecordings(sid, report);
      });
    }
    for (const sid of await this.messages.claimForReconcile('unpriced', before, BATCH)) {
      await this.guard(report, 'message', sid, () => this.refreshMessage(sid, report));
    }
    await this.settleReports();
    return report;
  }

  /** End-of-call reports whose price and recordings just came in, or whose wait is over, are marked ready (once). */
  private async settleReports(): Promise<void> {
    try {
      const marked = await this.reports.markSettledReports();
      if (marked > 0) appLogger().event('info', 'call_reports_ready', { reports: marked });
    } catch (error) {
      appLogger().event('error', 'call_reports_not_settled', { error: failureReason(error) });
    }
  }

  async runOnce(options: ReconcileOptions = {}): Promise<ReconcileReport> {
    try {
      const report = await this.reconcile(options);
      const { failures, ...repairs } = report;
      this.metrics.countReconcileRun('ok', repairs, failures);
      return report;
    } catch (error) {
      this.metrics.countReconcileRun('failed');
      throw error;
    }
  }

  private async reconcile(options: ReconcileOptions): Promise<ReconcileReport> {
    const report = emptyReport();
    const now = Date.now();
    const before = new Date(now - (options.olderThanSeconds ?? this.config.reconcile.staleAfterSeconds) * 1000);
    const graceCutoff = new Date(now - (options.unknownGraceSeconds ?? UNKNOWN_SID_GRACE_SECONDS) * 1000);

    await this.applyPendingEvents(graceCutoff, report);
    await this.resolveIntents(now, report);
    await this.sweeper.sweep(report, {
      pageSize: options.sweepPageSize,
      graceSeconds: options.unknownGraceSeconds ?? UNKNOWN_SID_GRACE_SECONDS,
      // a call the sweep found ended may have lost its recording callback with its status callbacks
      onCallEnded: (sid) => this.syncRecordings(sid, report),
    });

    for (const sid of await this.calls.claimForReconcile('stale', before, BATCH)) {
      await this.guard(report, 'call', sid, async () => {
        // a call found ended may have lost its recording callback with its status callbacks
        if (isTerminalCallStatus((await this.refreshCall(sid, report)).status)) await this.syncRecordings(sid, report);
      });
    }
    for (const sid of await this.messages.claimForReconcile('stale', before, BATCH)) {
      await this.guard(report, 'message', sid, () => this.refreshMessage(sid, report));
    }
    const priced = await this.fetchPrices({ priceAfterSeconds: options.priceAfterSeconds ?? options.olderThanSeconds });
    for (const key of Object.keys(report) as (keyof ReconcileReport)[]) report[key] += priced[key];
    for (const sid of await this.calls.claimForReconcile('unrecorded', before, BATCH)) {
      await this.guard(report, 'call', sid, () => this.syncRecordings(sid, report));
    }
    for (const callSid of await this.calls.callsWithStaleRecordings(before, BATCH)) {
      await this.guard(report, 'call', callSid, () => this.syncRecordings(callSid, report));
    }

    if (Object.values(report).some((n) => n > 0)) appLogger().event('info', 'reconcile_run', { ...report });
    return report;
  }

  private async applyPendingEvents(graceCutoff: Date, report: ReconcileReport): Promise<void> {
    const adopted = new Set<string>();
    for (const event of await this.events.findPending(BATCH)) {
      const outcome = await this.inbox.attempt(event);
      if (outcome === 'applied') {
        report.pending_applied++;
        continue;
      }
      if (outcome === 'failed') {
        report.failures++;
        continue;
      }
      if (event.receivedAt >= graceCutoff || adopted.has(event.sid)) continue;
      adopted.add(event.sid);
      // a sid Twilio does not know counts against its events, which are set aside in the end
      if (event.kind === 'call_status') {
        await this.guard(report, 'call', event.sid, () => this.adoptCall(event.sid, report), 'events');
      } else if (event.kind === 'message_status') {
        await this.guard(report, 'message', event.sid, () => this.adoptMessage(event.sid, report), 'events');
      }
    }
  }

  /**
   * Calls and messages whose Twilio answer was lost (`unknown`) or never stored (`initiating` past
   * the grace): looked up in Twilio's list of what it created since shortly before the request, and
   * completed with what it says. One Twilio still does not know after the window was never received.
   */
  private async resolveIntents(now: number, report: ReconcileReport): Promise<void> {
    const { intentGraceSeconds, intentWindowSeconds } = this.config.reconcile;
    const initiatingBefore = new Date(now - intentGraceSeconds * 1000);
    const giveUpBefore = now - intentWindowSeconds * 1000;
    for (const intent of await this.calls.listUnresolvedIntents(initiatingBefore, BATCH)) {
      await this.guard(report, 'call', intent.id, async () => {
        const since = new Date(intent.createdAt.getTime() - INTENT_MATCH_WINDOW_MS);
        for (const snapshot of await this.twilio.listCallsCreatedSince(since, { to: intent.to }, INTENT_LOOKUP_LIMIT)) {
          if (await this.calls.completeMatchingIntent(snapshot)) report.intents_resolved++;
        }
        if (intent.createdAt.getTime() < giveUpBefore && (await this.calls.failIntent(intent.id, NEVER_RECEIVED))) {
          report.intents_failed++;
        }
      });
    }
    for (const intent of await this.messages.listUnresolvedIntents(initiatingBefore, BATCH)) {
      await this.guard(report, 'message', intent.id, async () => {
        const since = new Date(intent.createdAt.getTime() - INTENT_MATCH_WINDOW_MS);
        for (const snapshot of await this.twilio.listMessagesCreatedSince(since, { to: intent.to }, INTENT_LOOKUP_LIMIT)) {
          if (await this.messages.completeMatchingIntent(snapshot)) report.intents_resolved++;
        }
        if (intent.createdAt.getTime() < giveUpBefore && (await this.messages.failIntent(intent.id, NEVER_RECEIVED))) {
          report.intents_failed++;
        }
      });
    }
  }

  /** A call we never stored (placed elsewhere, or its create failed after Twilio accepted it). */
  private async adoptCall(sid: string, report: ReconcileReport): Promise<void> {
    if (await this.calls.adopt(await this.twilio.fetchCall(sid))) report.records_created++;
    report.pending_applied += await this.inbox.applyPending(sid);
  }

  private async adoptMessage(sid: string, report: ReconcileReport): Promise<void> {
    if (await this.messages.adopt(await this.twilio.fetchMessage(sid))) report.records_created++;
    report.pending_applied += await this.inbox.applyPending(sid);
  }

  private async refreshCall(sid: string, report: ReconcileReport): Promise<CallSnapshot> {
    const snapshot = await this.twilio.fetchCall(sid);
    await this.calls.observeSnapshot(snapshot, 'reconcile');
    report.calls_refreshed++;
    return snapshot;
  }

  private async refreshMessage(sid: string, report: ReconcileReport): Promise<void> {
    await this.messages.observeSnapshot(await this.twilio.fetchMessage(sid), 'reconcile');
    report.messages_refreshed++;
  }

  private async syncRecordings(callSid: string, report: ReconcileReport): Promise<void> {
    for (const r of await this.twilio.listCallRecordings(callSid)) {
      await this.calls.recordRecording({
        sid: r.sid,
        callSid: r.callSid || callSid,
        status: r.status,
        url: r.mediaUrl,
        durationSeconds: r.durationSeconds,
        channels: r.channels,
        source: r.source,
        startedAt: r.startTime,
      });
      report.recordings_synced++;
    }
  }

  /**
   * One record's failure (Twilio down, 404) is logged and counted; the run goes on. A failure about
   * the record itself also counts against it (`record`: the call or message; `events`: the inbox
   * events waiting for a record Twilio could not give), which is set aside after too many.
   */
  private async guard(
    report: ReconcileReport,
    resource: 'call' | 'message',
    sid: string,
    work: () => Promise<void>,
    blame: 'record' | 'events' = 'record',
  ): Promise<void> {
    try {
      await work();
    } catch (error) {
      report.failures++;
      // Twilio saying a stored record does not exist is definitive (the record was claimed only
      // after it had been stale for a while): set it aside now, with one log line saying so.
      if (blame === 'record' && isNotFoundAtTwilio(error)) {
        await this.countFailure(resource, sid, failureReason(error), blame, 1);
        return;
      }
      appLogger().event('warn', 'reconcile_record_failed', {
        resource,
        sid,
        error: error instanceof Error ? error.message : String(error),
        twilio_error: error instanceof TwilioGatewayError ? error.kind : undefined,
      });
      if (isAboutTheRecord(error)) await this.countFailure(resource, sid, failureReason(error), blame);
      return;
    }
    if (blame !== 'record') return;
    await this.records(resource)
      .clearReconcileFailures(sid)
      .catch((error: unknown) =>
        appLogger().event('error', 'reconcile_failure_not_cleared', { resource, sid, error: failureReason(error) }),
      );
  }

  private async countFailure(
    resource: 'call' | 'message',
    sid: string,
    reason: string,
    blame: 'record' | 'events',
    maxFailures = this.config.reconcile.maxFailures,
  ): Promise<void> {
    try {
      if (blame === 'events') return await this.inbox.recordFailureForSid(sid, reason);
      const failure = await this.records(resource).recordReconcileFailure(sid, reason, maxFailures);
      if (failure?.setAside) {
        appLogger().event('warn', 'reconcile_record_set_aside', { resource, sid, failures: failure.failures, reason });
      }
    } catch (error) {
      appLogger().event('error', 'reconcile_failure_not_counted', { resource, sid, error: failureReason(error) });
    }
  }

  private records(resource: 'call' | 'message'): CallRecordsService | MessageRecordsService {
    return resource === 'call' ? this.calls : this.messages;
  }
}

function emptyReport(): ReconcileReport {
  return {
    pending_applied: 0,
    records_created: 0,
    calls_refreshed: 0,
    messages_refreshed: 0,
    recordings_synced: 0,
    listed: 0,
    adopted: 0,
    updated: 0,
    intents_resolved: 0,
    intents_failed: 0,
    failures: 0,
  };
}

function isNotFoundAtTwilio(error: unknown): boolean {
  return error instanceof TwilioGatewayError && error.kind === 'not_found';
}

/**
 * Whether a failure says something about the record rather than about Twilio as a whole: Twilio
 * being down, slow, rate limiting or refusing our credentials must not set every record aside.
 */
export function isAboutTheRecord(error: unknown): boolean {
  if (!(error instanceof TwilioGatewayError)) return true;
  switch (error.kind) {
    case 'not_found':
    case 'invalid_request':
    case 'refused_recipient':
      return true;
    case 'unavailable':
    case 'timeout':
    case 'rate_limited':
    case 'auth_failed':
    case 'insufficient_funds':
      return false;
  }
}
