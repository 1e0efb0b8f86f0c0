import { Injectable } from '@nestjs/common';
import type { UnresolvedIntent } from '../common/intent';
import type { TwilioCallbackTarget } from '../common/twilio-callback-url';
import { RecordStoredListener, RecordStoredListeners } from '../common/record-stored.listeners';
import type { RecordChangedListener } from '../common/record-changed.listeners';
import type { InsertGate } from '../db/gated-insert';
import type { ApplyGuard, GuardedApply } from '../db/guarded-apply';
import type { ReconcileFailure, SetAsideRecords } from '../db/reconcile-failures';
import type { StatusEventSource } from '../timeline/timeline.service';
import { CallSnapshot, CallStatus } from '../twilio/twilio.types';
import { CallObservation, RecordingUpsert, callFactsOfSnapshot, callSnapshotEventTime } from './call-observation';
import { CallRecordEntity } from './call-record.entity';
import { TwimlEnd, twimlEndOf } from './call-report';
import { CallRecordRepository, CallUsage } from './call-record.repository';
import { toCallDto } from './call-dto';
import { CallDto } from './calls.dto';
import { placedCallTwiml } from './placed-call.twiml';
import { RecordingRepository } from './recording.repository';

export type { CallDailyUsage, CallUsage, CallUsageTotals } from './call-record.repository';

/** How far apart (either way) an intent's creation and Twilio's date_created of the call it asked for may be. */
export const INTENT_MATCH_WINDOW_MS = 5 * 60 * 1000;

/** A recording we store, as other modules see it. */
export interface KnownRecording {
  sid: string;
  callSid: string;
  /** in-progress, completed, absent, failed, ... */
  status: string;
}

export interface InboundCall {
  sid: string;
  from: string;
  to: string;
  status: CallStatus;
  /** Whether our answer records the caller (a voicemail): its recording is then looked for until found. */
  record: boolean;
  /** The TwiML the call is answered with unless an assistant takes it (the greeting): how it ends the call is noted with the record. */
  greeting: string;
}

/**
 * What other modules may do with call records: the webhook inbox and reconciliation report what
 * Twilio said, billing reads usage. Every write to call_records and recordings goes through here
 * or through CallsService.
 */
@Injectable()
export class CallRecordsService {
  private readonly stored = new RecordStoredListeners();

  constructor(
    private readonly calls: CallRecordRepository,
    private readonly recordings: RecordingRepository,
  ) {}

  /** How many calls are not in a terminal status. */
  countLive(): Promise<number> {
    return this.calls.countLive();
  }

  /**
   * Runs `listener` after the API stores a call it placed. Records stored at another module's
   * request (recordInbound, adopt) are not announced: that module applies what waits for them.
   */
  onRecordStored(listener: RecordStoredListener): void {
    this.stored.add(listener);
  }

  /** Stores the request before Twilio is asked to place the call (status `initiating`, no sid). */
  createIntent(data: Partial<CallRecordEntity>): Promise<CallRecordEntity>;
  /** ...in the statement that counts it in when `gate` is given (see GuardrailsService.admitStored); null when the count refused it. */
  createIntent(data: Partial<CallRecordEntity>, gate: InsertGate | null): Promise<CallRecordEntity | null>;
  createIntent(data: Partial<CallRecordEntity>, gate: InsertGate | null = null): Promise<CallRecordEntity | null> {
    return this.calls.insertIntent(data, gate);
  }

  /** Twilio refused the call: nothing happened, so nothing is kept. */
  forgetIntent(id: string): Promise<void> {
    return this.calls.deleteIntent(id);
  }

  /** Twilio's answer was lost; reconciliation finds out what happened. */
  markIntentUnknown(id: string): Promise<void> {
    return this.calls.markIntentUnknown(id);
  }

  /**
   * Completes the intent `id` with Twilio's answer, then lets the listeners apply what arrived
   * before it; null when the row already has another sid or is gone. Throws when the write fails.
   */
  async completeIntent(id: string, snapshot: CallSnapshot, source: StatusEventSource): Promise<CallRecordEntity | null> {
    const completed = await this.calls.completeFreshIntent(id, snapshot.sid, callFactsOfSnapshot(snapshot), source);
    if (completed) {
      // callbacks kept before the row had its sid (their record_id could not give it one) apply now
      return (await this.stored.notify(snapshot.sid)) === 0 ? completed : this.calls.findBySid(snapshot.sid);
    }
    if (!(await this.calls.attachSid(id, snapshot.sid))) return null;
    const applied = await this.calls.applyObservation(snapshot.sid, callFactsOfSnapshot(snapshot), source);
    // the record as the apply left it, unless waiting callbacks changed it since
    return (await this.stored.notify(snapshot.sid)) === 0 && applied ? applied : this.calls.findBySid(snapshot.sid);
  }

  /** A callback about the call we placed for intent `id` names its sid; true when the row has that sid now. */
  attachIntentSid(id: string, sid: string): Promise<boolean> {
    return this.calls.attachSid(id, sid);
  }

  /**
   * Completes the oldest unresolved intent this call answers (same from and to, created within
   * INTENT_MATCH_WINDOW_MS of it, no sid yet); false when the call is stored already or no intent matches.
   */
  async completeMatchingIntent(snapshot: CallSnapshot, source: StatusEventSource = 'reconcile'): Promise<boolean> {
    if (snapshot.direction !== 'outbound' || (await this.calls.exists(snapshot.sid))) return false;
    const at = (snapshot.dateCreated ?? new Date()).getTime();
    const since = new Date(at - INTENT_MATCH_WINDOW_MS);
    const until = new Date(at + INTENT_MATCH_WINDOW_MS);
    for (const id of await this.calls.findIntentCandidates(snapshot.to, snapshot.from, since, until)) {
      if (await this.completeIntent(id, snapshot, source)) return true;
    }
    return false;
  }

  /** Intents reconciliation should look up at Twilio (see CallRecordRepository.listUnresolvedIntents). */
  async listUnresolvedIntents(initiatingBefore: Date, limit: number): Promise<UnresolvedIntent[]> {
    const rows = await this.calls.listUnresolvedIntents(initiatingBefore, limit);
    return rows.map((row) => ({ id: row.id, to: row.toNumber, createdAt: row.createdAt }));
  }

  /** Twilio never received the request: the intent becomes `failed` with `message`. */
  failIntent(id: string, message: string): Promise<boolean> {
    return this.calls.failIntent(id, message);
  }

  /**
   * Applies a status callback in one statement with the inbox's `guard` (keep the event, or mark
   * it applied): nothing is applied when the guard does not hold. `recordId` names the intent the
   * callback's URL was made for, which takes the sid when it has none yet.
   */
  observeCallback(sid: string, recordId: string | null, seen: CallObservation, guard: ApplyGuard): Promise<GuardedApply<CallRecordEntity>> {
    return this.calls.applyGuarded(sid, recordId, seen, 'webhook', guard);
  }

  /**
   * Runs `listener` in the transaction of every apply that moves a call's status (callbacks, API
   * answers, refreshes, reconciliation), with the record after the change and its previous status.
   */
  onStatusChanged(listener: RecordChangedListener<CallRecordEntity>): void {
    this.calls.onStatusChanged(listener);
  }

  /** Applies a status or facts Twilio reported; false when the call is not stored (yet). */
  async observe(sid: string, seen: CallObservation, source: StatusEventSource): Promise<boolean> {
    return (await this.calls.applyObservation(sid, seen, source)) !== null;
  }

  /** Applies Twilio's current view of a call to its record; false when the call is not stored. */
  observeSnapshot(snapshot: CallSnapshot, source: StatusEventSource): Promise<boolean> {
    return this.observe(snapshot.sid, { ...callFactsOfSnapshot(snapshot), occurredAt: callSnapshotEventTime(snapshot) }, source);
  }

  /** Stores an inbound call once, whatever the retries; true when this call stored it. */
  async recordInbound(call: InboundCall): Promise<boolean> {
    return this.calls.insertIfAbsent(
      {
        sid: call.sid,
        direction: 'inbound',
        fromNumber: call.from,
        toNumber: call.to,
        status: call.status,
        record: call.record,
        // an assistant's conversation notes its own when it answers instead
        twimlEndsAs: twimlEndOf(call.greeting),
        createdBy: null,
      },
      'webhook',
    );
  }

  /**
   * Stores a call we never stored from Twilio's snapshot: completes the intent it answers (its
   * create answer was lost), else inserts a record (placed elsewhere); true when this call stored it.
   */
  async adopt(snapshot: CallSnapshot): Promise<boolean> {
    if (await this.completeMatchingIntent(snapshot)) return true;
    return this.calls.insertIfAbsent(
      {
        sid: snapshot.sid,
        direction: snapshot.direction,
        fromNumber: snapshot.from,
        toNumber: snapshot.to,
        ...callFactsOfSnapshot(snapshot),
        createdBy: null,
        syncedAt: new Date(),
      },
      'reconcile',
    );
  }

  /** The call a caller tagged with `metadata` (every key and value), if one is stored. */
  findByMetadata(metadata: Record<string, string>): Promise<{ id: string; sid: string | null; status: string } | null> {
    return this.calls.findByMetadata(metadata);
  }

  /** Which of `sids` are stored, with their status (one query). */
  knownSids(sids: string[]): Promise<Map<string, CallStatus>> {
    return this.calls.statusesOf(sids);
  }

  exists(sid: string): Promise<boolean> {
    return this.calls.exists(sid);
  }

  /** The TwiML of a call we placed, for the voice webhook, by its record id or its sid; null for an unknown call. */
  async placedCallTwiml(key: { id: string } | { sid: string }, webhooks: TwilioCallbackTarget): Promise<string | null> {
    const record = 'id' in key ? await this.calls.findById(key.id) : await this.calls.findBySid(key.sid);
    return record ? placedCallTwiml(record, webhooks) : null;
  }

  /** The call by its record id or its sid, as the API returns it; null for an unknown call. */
  async findCall(key: { id: string } | { sid: string }): Promise<CallDto | null> {
    const record = 'id' in key ? await this.calls.findById(key.id) : await this.calls.findBySid(key.sid);
    return record ? toCallDto(record) : null;
  }

  /** Names the assistant conversing on a call (an inbound call to its number); one already named stays. */
  setAssistant(sid: string, assistantId: string): Promise<boolean> {
    return this.calls.setAssistant(sid, assistantId);
  }

  /**
   * Notes the TwiML just served to a live call, so the report can tell who ended it: `end` when the
   * caller knows better than the document (a conversation limit is a `timeout`), else the document's own.
   */
  noteServedTwiml(sid: string, twiml: string, end: TwimlEnd | null = twimlEndOf(twiml)): Promise<void> {
    return this.calls.setTwimlEnd(sid, end);
  }

  /** A recording we store, by its sid; null for one we do not know. */
  async findRecording(sid: string): Promise<KnownRecording | null> {
    const row = await this.recordings.findBySid(sid);
    return row && { sid: row.sid, callSid: row.callSid, status: row.status };
  }

  /** Stores or completes a recording Twilio reported. */
  recordRecording(recording: RecordingUpsert): Promise<void> {
    return this.recordings.upsert(recording);
  }

  /** Claims calls for reconciliation (see CallRecordRepository.claimForReconcile). */
  claimForReconcile(which: 'stale' | 'unpriced' | 'unrecorded', before: Date, limit: number): Promise<string[]> {
    return this.calls.claimForReconcile(which, before, limit);
  }

  /** Claims live inbound calls to follow at Twilio (see CallRecordRepository.claimLiveInbound). */
  claimLiveInbound(before: Date, exceptTo: string[], maxIntervalSeconds: number, limit: number): Promise<string[]> {
    return this.calls.claimLiveInbound(before, exceptTo, maxIntervalSeconds, limit);
  }

  /** Call sids with a recording still in progress since before `olderThan`. */
  callsWithStaleRecordings(olderThan: Date, limit: number): Promise<string[]> {
    return this.recordings.callsWithStaleRecordings(olderThan, limit);
  }

  /** Brings the per-day usage rollup up to date with the records changed since `changedSince`. */
  refreshUsageRollup(changedSince: Date, startedAt: Date): Promise<void> {
    return this.calls.refreshUsageRollup(changedSince, startedAt);
  }

  /** The moment every change before which is in the usage rollup; null until it has been fully built once. */
  usageRollupRefreshedAt(): Promise<Date | null> {
    return this.calls.usageRollupRefreshedAt();
  }

  /**
   * Counts one more reconciliation failure about the call in a row (not Twilio being down: the
   * caller decides); at `maxFailures` the call is set aside and no longer claimed.
   */
  recordReconcileFailure(sid: string, reason: string, maxFailures: number): Promise<ReconcileFailure | null> {
    return this.calls.recordReconcileFailure(sid, reason, maxFailures);
  }

  /** A successful reconciliation of the call ends its run of failures. */
  clearReconcileFailures(sid: string): Promise<void> {
    return this.calls.clearReconcileFailures(sid);
  }

  /** How many calls reconciliation set aside, and the oldest one with its reason. */
  setAsideByReconcile(): Promise<SetAsideRecords> {
    return this.calls.setAsideByReconcile();
  }

  usage(since: Date, until: Date): Promise<CallUsage> {
    return this.calls.usage(since, until);
  }
}
