import { Inject, Injectable } from '@nestjs/common';
import { CallRecordsService } from '../calls/call-records.service';
import { appLogger } from '../common/logger';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { MessageRecordsService } from '../sms/message-records.service';
import { OptOutsService } from '../sms/opt-outs.service';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { CallSnapshot, MessageSnapshot, isTerminalCallStatus, isTerminalMessageStatus } from '../twilio/twilio.types';
import { SweepResource } from './reconcile-watermark.entity';
import { ReconcileWatermarkRepository } from './reconcile-watermark.repository';
import { smsKeyword } from './twilio-params';
import { WebhookInboxService } from './webhook-inbox.service';

/** How long one sweep may walk Twilio's lists; an unfinished walk leaves its watermark where it was. */
export const SWEEP_TIME_BUDGET_MS = 5 * 60_000;

export interface SweepCounts {
  /** Calls and messages Twilio listed since the watermarks. */
  listed: number;
  /** Of those, stored by this run (their webhooks never arrived, or they were made elsewhere). */
  adopted: number;
  /** Of those, stored but not terminal, whose status Twilio's listing moved on. */
  updated: number;
  pending_applied: number;
  failures: number;
}

export interface SweepOptions {
  /** Resources per Twilio page; default 1000 (Twilio's largest). */
  pageSize?: number;
  timeBudgetMs?: number;
  /**
   * A sid we do not store is adopted only once Twilio created it this long ago, so the API's own
   * request that made it can store it first; the watermark then stays this far behind.
   */
  graceSeconds?: number;
  /** Called for each call the sweep found ended (adopted or updated), e.g. to fetch its recordings. */
  onCallEnded?: (sid: string) => Promise<void>;
}

/**
 * The sweep: lists the account's calls and messages created since a watermark (the account's
 * lists cover every number we own, both directions) and stores what we never heard of, so traffic
 * whose webhooks failed or never came is not lost. Stored records still open take Twilio's listed
 * state. The watermark of a resource moves only after a complete listing, to when it started.
 */
@Injectable()
export class ReconcileSweepService {
  private sweeping = false;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly twilio: TwilioGateway,
    private readonly calls: CallRecordsService,
    private readonly messages: MessageRecordsService,
    private readonly optOuts: OptOutsService,
    private readonly inbox: WebhookInboxService,
    private readonly watermarks: ReconcileWatermarkRepository,
  ) {}

  /**
   * One sweep, unless one is already running in this process or, on PostgreSQL, in another
   * instance (advisory lock); false when skipped. Embedded PGlite serves a single process, so the
   * in-process flag is enough there and no connection is held while Twilio answers.
   */
  async sweep(counts: SweepCounts, options: SweepOptions = {}): Promise<boolean> {
    if (this.sweeping) return false;
    this.sweeping = true;
    try {
      const run = async () => {
        await this.sweepAll(counts, options);
        return true;
      };
      if (this.config.database.url === null) return await run();
      return (await this.watermarks.withSweepLock(run)) ?? false;
    } finally {
      this.sweeping = false;
    }
  }

  private async sweepAll(counts: SweepCounts, options: SweepOptions): Promise<void> {
    const deadline = Date.now() + (options.timeBudgetMs ?? SWEEP_TIME_BUDGET_MS);
    const walk = { pageSize: options.pageSize, shouldContinue: () => Date.now() < deadline };
    const graceMs = (options.graceSeconds ?? 0) * 1000;
    await this.sweepResource('calls', counts, graceMs, (since, bornBefore) =>
      this.twilio.walkCallsCreatedSince(since, (page) => this.sweepCalls(page, counts, bornBefore, options.onCallEnded), walk),
    );
    await this.sweepResource('messages', counts, graceMs, (since, bornBefore) =>
      this.twilio.walkMessagesCreatedSince(since, (page) => this.sweepMessages(page, counts, bornBefore), walk),
    );
  }

  /** Walks one resource's list; moves its watermark when the walk and every item in it succeeded. */
  private async sweepResource(
    resource: SweepResource,
    counts: SweepCounts,
    graceMs: number,
    walk: (since: Date, bornBefore: number) => Promise<boolean>,
  ): Promise<void> {
    const startedAt = new Date();
    const bornBefore = startedAt.getTime() - graceMs;
    const { lookbackHours, overlapSeconds } = this.config.reconcile;
    const watermark = (await this.watermarks.listedUntil(resource)) ?? new Date(startedAt.getTime() - lookbackHours * 3_600_000);
    const since = new Date(watermark.getTime() - overlapSeconds * 1000);
    const failuresBefore = counts.failures;
    let complete: boolean;
    try {
      complete = await walk(since, bornBefore);
    } catch (error) {
      counts.failures++;
      appLogger().event('warn', 'reconcile_sweep_failed', {
        resource,
        since: since.toISOString(),
        error: error instanceof Error ? error.message : String(error),
        twilio_error: error instanceof TwilioGatewayError ? error.kind : undefined,
      });
      return;
    }
    if (!complete) {
      appLogger().event('warn', 'reconcile_sweep_unfinished', { resource, since: since.toISOString(), reason: 'time budget' });
      return;
    }
    if (counts.failures === failuresBefore) await this.watermarks.advance(resource, new Date(bornBefore));
  }

  private async sweepCalls(
    page: CallSnapshot[],
    counts: SweepCounts,
    bornBefore: number,
    onCallEnded?: (sid: string) => Promise<void>,
  ): Promise<void> {
    counts.listed += page.length;
    const known = await this.calls.knownSids(page.map((c) => c.sid));
    for (const snapshot of page) {
      const stored = known.get(snapshot.sid);
      if (stored && isTerminalCallStatus(stored)) continue;
      // a leg a call dialed (forwarding) is part of its parent call, which is stored; webhooks never store legs
      if (!stored && (snapshot.parentCallSid || isYoung(snapshot.dateCreated, bornBefore))) continue;
      await this.guard(counts, 'call', snapshot.sid, async () => {
        if (!stored) {
          if (await this.calls.adopt(snapshot)) counts.adopted++;
          counts.pending_applied += await this.inbox.applyPending(snapshot.sid);
        } else {
          await this.calls.observeSnapshot(snapshot, 'reconcile');
          if (snapshot.status !== stored) counts.updated++;
        }
        if (onCallEnded && isTerminalCallStatus(snapshot.status)) await onCallEnded(snapshot.sid);
      });
    }
  }

  private async sweepMessages(page: MessageSnapshot[], counts: SweepCounts, bornBefore: number): Promise<void> {
    counts.listed += page.length;
    const known = await this.messages.knownSids(page.map((m) => m.sid));
    for (const snapshot of page) {
      const stored = known.get(snapshot.sid);
      if (stored && isTerminalMessageStatus(stored)) continue;
      if (!stored && isYoung(snapshot.dateCreated, bornBefore)) continue;
      await this.guard(counts, 'message', snapshot.sid, async () => {
        if (!stored) {
          await this.adoptMessage(snapshot, counts);
          return;
        }
        await this.messages.observeSnapshot(snapshot, 'reconcile');
        if (snapshot.status !== stored) counts.updated++;
      });
    }
  }

  /** Stores the message as its webhook would have: with its media, and an inbound STOP/START applied. */
  private async adoptMessage(snapshot: MessageSnapshot, counts: SweepCounts): Promise<void> {
    const mediaUrls = snapshot.mediaCount > 0 ? await this.twilio.listMessageMediaUrls(snapshot.sid) : [];
    if (await this.messages.adopt(snapshot, mediaUrls)) {
      counts.adopted++;
      const keyword = snapshot.direction === 'inbound' ? smsKeyword(snapshot.body) : null;
      if (snapshot.from && (keyword?.action === 'stop' || keyword?.action === 'start')) {
        const at = snapshot.dateSent ?? snapshot.dateCreated ?? new Date();
        await this.optOuts.setOptOut(snapshot.from, keyword.action === 'stop', keyword.word, at);
      }
    }
    counts.pending_applied += await this.inbox.applyPending(snapshot.sid);
  }

  private async guard(counts: SweepCounts, resource: string, sid: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      counts.failures++;
      appLogger().event('warn', 'reconcile_record_failed', {
        resource,
        sid,
        error: error instanceof Error ? error.message : String(error),
        twilio_error: error instanceof TwilioGatewayError ? error.kind : undefined,
      });
    }
  }
}

/** Created by Twilio after `bornBefore` (our clock): left for a later sweep. */
function isYoung(dateCreated: Date | null, bornBefore: number): boolean {
  return dateCreated !== null && dateCreated.getTime() > bornBefore;
}
