import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { TimelineEntry } from '../timeline/timeline.service';
import { CallRecordingsService } from './call-recordings.service';
import { CallTurnsService } from './call-turns.service';
import { CallRecordEntity } from './call-record.entity';
import { CallRecordRepository } from './call-record.repository';
import { CallReportFacts, TwimlEnd, callCost, callOutcome, endedBy, reportSettlement, twimlEndOf } from './call-report';
import { placedCallTwiml } from './placed-call.twiml';
import { CallReportDto } from './calls.dto';
import { CallsService, toCallDto, toTimelineEntry } from './calls.service';

/** Told, inside the transaction that marks it, about a report that has just settled (once per call). */
export type ReportReadyListener = (tx: EntityManager, report: CallReportDto) => Promise<void>;

/** How many reports one pass of markSettledReports looks at. */
const SETTLE_BATCH = 200;

/**
 * The end-of-call report: computed from the call's record, timeline and recordings whenever it is
 * read, and marked ready once when it settles (`report_ready_at`), which is when the platform is told.
 */
@Injectable()
export class CallReportsService {
  private readonly readyListeners: ReportReadyListener[] = [];

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly calls: CallsService,
    private readonly records: CallRecordRepository,
    private readonly recordings: CallRecordingsService,
    private readonly turns: CallTurnsService,
  ) {}

  /**
   * Runs `listener` in the transaction that marks a report ready, exactly once per call: the place
   * for `call.report.ready` in the outbox (a failure rolls the mark back; the next pass tries again).
   */
  onReportReady(listener: ReportReadyListener): void {
    this.readyListeners.push(listener);
  }

  /** The report of a call by its sid or record id (refreshed from Twilio like GET calls/{sid}). */
  async getReport(key: string, now = new Date()): Promise<CallReportDto> {
    const { record, timeline } = await this.calls.findCurrent(key);
    return this.reportOf(record, timeline, now);
  }

  /**
   * Marks ready the reports that have settled by `now` (Twilio's price and the recordings are in, or
   * REPORT_SETTLE_SECONDS have passed since the end), at most `limit`; returns how many this call
   * marked. Several instances may run it at once: each report is marked once.
   */
  async markSettledReports(now = new Date(), limit = SETTLE_BATCH): Promise<number> {
    const waitedOutBefore = new Date(now.getTime() - this.config.calls.reportSettleSeconds * 1000);
    let marked = 0;
    for (const id of await this.records.reportsToSettle(waitedOutBefore, limit)) {
      if (await this.markIfSettled(id, now)) marked++;
    }
    return marked;
  }

  /** Marks the report of the call (record id) ready if it has settled and is not marked yet; true when this call marked it. */
  async markIfSettled(id: string, now = new Date()): Promise<boolean> {
    const record = await this.records.findById(id);
    if (!record || record.reportReadyAt) return false;
    const timeline = record.sid ? await this.records.timeline(record.sid) : [];
    const report = await this.reportOf(record, timeline, now);
    if (!report.settled) return false;
    return this.records.markReportReady(record.id, now, async (tx) => {
      for (const listener of this.readyListeners) await listener(tx, { ...report, ready_at: now });
    });
  }

  private async reportOf(record: CallRecordEntity, timeline: TimelineEntry[], now: Date): Promise<CallReportDto> {
    const recordings = await this.recordings.listOfCall(record.sid);
    const facts: CallReportFacts = {
      sid: record.sid,
      status: record.status,
      answeredBy: record.answeredBy,
      durationSeconds: record.durationSeconds,
      endTime: record.endTime,
      updatedAt: record.updatedAt,
      price: record.price,
      priceUnit: record.priceUnit,
      hangupRequestedAt: record.hangupRequestedAt,
      direction: record.direction,
      twimlEndsAs: servedTwimlEnd(record),
      record: record.record,
      twiml: record.twiml,
      recordingStatuses: recordings.map((r) => r.status),
    };
    const settlement = reportSettlement(facts, now, this.config.calls.reportSettleSeconds);
    const cost = callCost(facts, this.config.pricing.voicePerMinute);
    return {
      ...toCallDto(record),
      timeline: timeline.map(toTimelineEntry),
      outcome: callOutcome(record.status, record.answeredBy),
      ended_by: endedBy(facts),
      answered_at: timeline.find((e) => e.status === 'in-progress')?.occurredAt ?? null,
      cost: cost && {
        amount: cost.amount,
        currency: cost.currency,
        source: cost.source,
        billable_minutes: cost.billableMinutes,
        pricing: cost.pricing && { voice_per_minute: cost.pricing.voicePerMinute, currency: cost.pricing.currency },
      },
      recordings,
      transcript: await this.turns.transcript(record.sid),
      final: settlement.final,
      settled: settlement.settled,
      settle_by: settlement.settleBy,
      ready_at: record.reportReadyAt,
    };
  }
}

/**
 * How the TwiML we served last ends the call: as noted when it was served (conversations, live
 * updates), else for a call we placed without an assistant, its own document (served unchanged
 * unless something noted otherwise).
 */
function servedTwimlEnd(record: CallRecordEntity): TwimlEnd | null {
  if (record.twimlEndsAs) return record.twimlEndsAs;
  if (record.direction !== 'outbound' || record.assistantId) return null;
  return twimlEndOf(placedCallTwiml(record, null));
}
