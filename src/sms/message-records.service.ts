import { Injectable } from '@nestjs/common';
import type { UnresolvedIntent } from '../common/intent';
import { RecordStoredListener, RecordStoredListeners } from '../common/record-stored.listeners';
import type { RecordChangedListener } from '../common/record-changed.listeners';
import type { InsertGate } from '../db/gated-insert';
import type { ApplyGuard, GuardedApply } from '../db/guarded-apply';
import type { ReconcileFailure, SetAsideRecords } from '../db/reconcile-failures';
import type { StatusEventSource } from '../timeline/timeline.service';
import { MessageSnapshot, MessageStatus } from '../twilio/twilio.types';
import { MessageObservation, messageFactsOfSnapshot, messageSnapshotEventTime } from './message-observation';
import { MessageRecordEntity } from './message-record.entity';
import { MessageRecordRepository, MessageUsage } from './message-record.repository';

/** How far apart (either way) an intent's creation and Twilio's date_created of the message it asked for may be. */
export const INTENT_MATCH_WINDOW_MS = 5 * 60 * 1000;

export type { MessageDailyUsage, MessageUsage, MessageUsageTotals } from './message-record.repository';

export interface InboundMessage {
  sid: string;
  from: string;
  to: string;
  body: string;
  segments: number;
  mediaUrls: string[];
}

/**
 * What other modules may do with message records: the webhook inbox and reconciliation report what
 * Twilio said, billing reads usage. Every write to message_records goes through here or SmsService.
 */
@Injectable()
export class MessageRecordsService {
  private readonly stored = new RecordStoredListeners();

  constructor(private readonly messages: MessageRecordRepository) {}

  /**
   * Runs `listener` after the API stores a message it sent. Records stored at another module's
   * request (recordInbound, adopt) are not announced: that module applies what waits for them.
   */
  onRecordStored(listener: RecordStoredListener): void {
    this.stored.add(listener);
  }

  /** Stores the request before Twilio is asked to send the message (status `initiating`, no sid). */
  createIntent(data: Partial<MessageRecordEntity>): Promise<MessageRecordEntity>;
  /** ...in the statement that counts it in when `gate` is given (see GuardrailsService.admitStored); null when the count refused it. */
  createIntent(data: Partial<MessageRecordEntity>, gate: InsertGate | null): Promise<MessageRecordEntity | null>;
  createIntent(data: Partial<MessageRecordEntity>, gate: InsertGate | null = null): Promise<MessageRecordEntity | null> {
    return this.messages.insertIntent(data, gate);
  }

  /** Twilio refused the message: nothing happened, so nothing is kept. */
  forgetIntent(id: string): Promise<void> {
    return this.messages.deleteIntent(id);
  }

  /** Twilio's answer was lost; reconciliation finds out what happened. */
  markIntentUnknown(id: string): Promise<void> {
    return this.messages.markIntentUnknown(id);
  }

  /**
   * Completes the intent `id` with Twilio's answer, then lets the listeners apply what arrived
   * before it; null when the row already has another sid or is gone. Throws when the write fails.
   */
  async completeIntent(id: string, snapshot: MessageSnapshot, source: StatusEventSource): Promise<MessageRecordEntity | null> {
    const completed = await this.messages.completeFreshIntent(id, snapshot.sid, messageFactsOfSnapshot(snapshot), source);
    if (completed) {
      // callbacks kept before the row had its sid (their record_id could not give it one) apply now
      return (await this.stored.notify(snapshot.sid)) === 0 ? completed : this.messages.findBySid(snapshot.sid);
    }
    if (!(await this.messages.attachSid(id, snapshot.sid))) return null;
    const applied = await this.messages.applyObservation(snapshot.sid, messageFactsOfSnapshot(snapshot), source);
    // the record as the apply left it, unless waiting callbacks changed it since
    return (await this.stored.notify(snapshot.sid)) === 0 && applied ? applied : this.messages.findBySid(snapshot.sid);
  }

  /** A callback about the message we sent for intent `id` names its sid; true when the row has that sid now. */
  attachIntentSid(id: string, sid: string): Promise<boolean> {
    return this.messages.attachSid(id, sid);
  }

  /**
   * Completes the oldest unresolved intent this message answers (same from, to and body, created
   * within INTENT_MATCH_WINDOW_MS of it, no sid yet); false when it is stored already or no intent matches.
   */
  async completeMatchingIntent(snapshot: MessageSnapshot, source: StatusEventSource = 'reconcile'): Promise<boolean> {
    if (snapshot.direction !== 'outbound' || (await this.messages.findBySid(snapshot.sid))) return false;
    const at = (snapshot.dateCreated ?? new Date()).getTime();
    const since = new Date(at - INTENT_MATCH_WINDOW_MS);
    const until = new Date(at + INTENT_MATCH_WINDOW_MS);
    for (const id of await this.messages.findIntentCandidates(snapshot.to, snapshot.from, snapshot.body, since, until)) {
      if (await this.completeIntent(id, snapshot, source)) return true;
    }
    return false;
  }

  /** Intents reconciliation should look up at Twilio (see MessageRecordRepository.listUnresolvedIntents). */
  async listUnresolvedIntents(initiatingBefore: Date, limit: number): Promise<UnresolvedIntent[]> {
    const rows = await this.messages.listUnresolvedIntents(initiatingBefore, limit);
    return rows.map((row) => ({ id: row.id, to: row.toNumber, createdAt: row.createdAt }));
  }

  /** Twilio never received the request: the intent becomes `failed` with `message`. */
  failIntent(id: string, message: string): Promise<boolean> {
    return this.messages.failIntent(id, message);
  }

  /**
   * Applies a status callback in one statement with the inbox's `guard` (keep the event, or mark
   * it applied): nothing is applied when the guard does not hold. `recordId` names the intent the
   * callback's URL was made for, which takes the sid when it has none yet.
   */
  observeCallback(
    sid: string,
    recordId: string | null,
    seen: MessageObservation,
    guard: ApplyGuard,
  ): Promise<GuardedApply<MessageRecordEntity>> {
    return this.messages.applyGuarded(sid, recordId, seen, 'webhook', guard);
  }

  /**
   * Runs `listener` in the transaction of every apply that moves a message's status (callbacks, API
   * answers, refreshes, reconciliation), with the record after the change and its previous status.
   */
  onStatusChanged(listener: RecordChangedListener<MessageRecordEntity>): void {
    this.messages.onStatusChanged(listener);
  }

  /** Applies a status or facts Twilio reported; false when the message is not stored (yet). */
  async observe(sid: string, seen: MessageObservation, source: StatusEventSource): Promise<boolean> {
    return (await this.messages.applyObservation(sid, seen, source)) !== null;
  }

  /** Applies Twilio's current view of a message to its record; false when it is not stored. */
  observeSnapshot(snapshot: MessageSnapshot, source: StatusEventSource): Promise<boolean> {
    return this.observe(snapshot.sid, { ...messageFactsOfSnapshot(snapshot), occurredAt: messageSnapshotEventTime(snapshot) }, source);
  }

  /** Stores an inbound message once, whatever the retries; true when this call stored it. */
  recordInbound(message: InboundMessage): Promise<boolean> {
    return this.messages.insertIfAbsent(
      {
        sid: message.sid,
        direction: 'inbound',
        fromNumber: message.from,
        toNumber: message.to,
        body: message.body,
        segments: message.segments,
        mediaUrls: message.mediaUrls,
        status: 'received',
        createdBy: null,
      },
      'webhook',
    );
  }

  /**
   * Stores a message we never stored, from Twilio's snapshot and the media Twilio lists for it:
   * completes the intent it answers (its send answer was lost), else inserts a record (sent
   * elsewhere); true when this call stored it.
   */
  async adopt(s: MessageSnapshot, mediaUrls: string[] = []): Promise<boolean> {
    if (await this.completeMatchingIntent(s)) return true;
    return this.messages.insertIfAbsent(
      {
        sid: s.sid,
        direction: s.direction,
        fromNumber: s.from,
        toNumber: s.to,
        body: s.body,
        ...messageFactsOfSnapshot(s),
        mediaUrls,
        createdBy: null,
        syncedAt: new Date(),
      },
      'reconcile',
    );
  }

  /** The message a caller tagged with `metadata` (every key and value), if one is stored. */
  findByMetadata(metadata: Record<string, string>): Promise<{ id: string; sid: string | null; status: string } | null> {
    return this.messages.findByMetadata(metadata);
  }

  /** Which of `sids` are stored, with their status (one query). */
  knownSids(sids: string[]): Promise<Map<string, MessageStatus>> {
    return this.messages.statusesOf(sids);
  }

  /** Claims messages for reconciliation (see MessageRecordRepository.claimForReconcile). */
  claimForReconcile(which: 'stale' | 'unpriced', before: Date, limit: number): Promise<string[]> {
    return this.messages.claimForReconcile(which, before, limit);
  }

  /** Brings the per-day usage rollup up to date with the records changed since `changedSince`. */
  refreshUsageRollup(changedSince: Date, startedAt: Date): Promise<void> {
    return this.messages.refreshUsageRollup(changedSince, startedAt);
  }

  /** The moment every change before which is in the usage rollup; null until it has been fully built once. */
  usageRollupRefreshedAt(): Promise<Date | null> {
    return this.messages.usageRollupRefreshedAt();
  }

  /**
   * Counts one more reconciliation failure about the message in a row (not Twilio being down: the
   * caller decides); at `maxFailures` the message is set aside and no longer claimed.
   */
  recordReconcileFailure(sid: string, reason: string, maxFailures: number): Promise<ReconcileFailure | null> {
    return this.messages.recordReconcileFailure(sid, reason, maxFailures);
  }

  /** A successful reconciliation of the message ends its run of failures. */
  clearReconcileFailures(sid: string): Promise<void> {
    return this.messages.clearReconcileFailures(sid);
  }

  /** How many messages reconciliation set aside, and the oldest one with its reason. */
  setAsideByReconcile(): Promise<SetAsideRecords> {
    return this.messages.setAsideByReconcile();
  }

  usage(since: Date, until: Date): Promise<MessageUsage> {
    return this.messages.usage(since, until);
  }
}
