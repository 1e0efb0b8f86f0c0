import { Injectable } from '@nestjs/common';
import { RecordStoredListener, RecordStoredListeners } from '../common/record-stored.listeners';
import type { ReconcileFailure, SetAsideRecords } from '../db/reconcile-failures';
import type { StatusEventSource } from '../timeline/timeline.service';
import { CallSnapshot, CallStatus } from '../twilio/twilio.types';
import { CallObservation, RecordingUpsert, callFactsOfSnapshot, callSnapshotEventTime } from './call-observation';
import { CallRecordEntity } from './call-record.entity';
import { CallDailyUsage, CallRecordRepository, CallUsageTotals } from './call-record.repository';
import { placedCallTwiml } from './placed-call.twiml';
import { RecordingRepository } from './recording.repository';

export type { CallDailyUsage, CallUsageTotals } from './call-record.repository';

/** How long a TwiML fetch for a call we placed waits for the call's record (the fetch can beat the insert). */
export const TWIML_WAIT_MS = 3000;
const TWIML_POLL_MS = 100;

export interface InboundCall {
  sid: string;
  from: string;
  to: string;
  status: CallStatus;
  /** Whether our answer records the caller (a voicemail): its recording is then looked for until found. */
  record: boolean;
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

  /**
   * Runs `listener` after the API stores a call it placed. Records stored at another module's
   * request (recordInbound, adopt) are not announced: that module applies what waits for them.
   */
  onRecordStored(listener: RecordStoredListener): void {
    this.stored.add(listener);
  }

  /**
   * Stores a call the API just placed, then lets the listeners apply what arrived before it (status
   * callbacks can beat the create response); returns the record as it stands after that.
   */
  async storePlaced(data: Partial<CallRecordEntity> & { sid: string }, seen: CallObservation): Promise<CallRecordEntity> {
    const stored = await this.calls.upsertPlaced(data, seen);
    if ((await this.stored.notify(stored.sid)) === 0) return stored;
    return (await this.calls.findBySid(stored.sid)) ?? stored;
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
        createdBy: null,
      },
      'webhook',
    );
  }

  /**
   * Stores a call we never stored (placed elsewhere, or its create failed after Twilio accepted it)
   * from Twilio's snapshot; true when this call stored it.
   */
  adopt(snapshot: CallSnapshot): Promise<boolean> {
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

  /** Which of `sids` are stored, with their status (one query). */
  knownSids(sids: string[]): Promise<Map<string, CallStatus>> {
    return this.calls.statusesOf(sids);
  }

  exists(sid: string): Promise<boolean> {
    return this.calls.exists(sid);
  }

  /**
   * The TwiML of a call we placed, for the voice webhook; waits up to `waitMs` for the record,
   * since Twilio can fetch it before the create request has stored it. Null for an unknown call.
   */
  async placedCallTwiml(sid: string, waitMs = TWIML_WAIT_MS): Promise<string | null> {
    const deadline = Date.now() + waitMs;
    for (;;) {
      const record = await this.calls.findBySid(sid);
      if (record) return placedCallTwiml(record);
      if (Date.now() >= deadline) return null;
      await new Promise((resolve) => setTimeout(resolve, TWIML_POLL_MS));
    }
  }

  /** Stores or completes a recording Twilio reported. */
  recordRecording(recording: RecordingUpsert): Promise<void> {
    return this.recordings.upsert(recording);
  }

  /** Claims calls for reconciliation (see CallRecordRepository.claimForReconcile). */
  claimForReconcile(which: 'stale' | 'unpriced' | 'unrecorded', before: Date, limit: number): Promise<string[]> {
    return this.calls.claimForReconcile(which, before, limit);
  }

  /** Call sids with a recording still in progress since before `olderThan`. */
  callsWithStaleRecordings(olderThan: Date, limit: number): Promise<string[]> {
    return this.recordings.callsWithStaleRecordings(olderThan, limit);
  }

  /** Brings the per-day usage rollup up to date with the records changed since `changedSince`. */
  refreshUsageRollup(changedSince: Date): Promise<void> {
    return this.calls.refreshUsageRollup(changedSince);
  }

  /** When the usage rollup was last refreshed; null before the first refresh. */
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

  usageTotals(since: Date, until: Date): Promise<CallUsageTotals> {
    return this.calls.usageTotals(since, until);
  }

  countByStatus(since: Date, until: Date): Promise<Record<string, number>> {
    return this.calls.countByStatus(since, until);
  }

  dailyUsage(since: Date, until: Date): Promise<CallDailyUsage[]> {
    return this.calls.dailyUsage(since, until);
  }
}
