import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { StatusEventEntity } from './status-event.entity';

/** Who saw a status: the API request, a webhook, reconciliation, or a read that refreshed the record. */
export type StatusEventSource = 'api' | 'webhook' | 'reconcile' | 'refresh';

export interface TimelineEntry {
  status: string;
  sequenceNumber: number;
  source: string;
  occurredAt: Date;
  errorCode: number | null;
}

/**
 * The statement that adds timeline entries (see TimelineService.record): `rows` is a VALUES list or a
 * SELECT of (resource_type, resource_sid, status, sequence_number, source, occurred_at, error_code).
 * An owner may run it in a data-modifying CTE, so that its record and the entry change in one statement.
 */
export function timelineUpsertSql(rows: string): string {
  return `INSERT INTO status_events (resource_type, resource_sid, status, sequence_number, source, occurred_at, error_code)
       ${rows}
       ON CONFLICT (resource_sid, status) DO UPDATE SET
         occurred_at = LEAST(status_events.occurred_at, EXCLUDED.occurred_at),
         source = CASE WHEN EXCLUDED.sequence_number > status_events.sequence_number THEN EXCLUDED.source ELSE status_events.source END,
         sequence_number = GREATEST(status_events.sequence_number, EXCLUDED.sequence_number),
         error_code = COALESCE(status_events.error_code, EXCLUDED.error_code)`;
}

const RECORD_SQL = timelineUpsertSql('VALUES ($1, $2, $3, $4, $5, $6, $7)');

/** Each status a call or message was seen in, once; written in the transaction of the record's owner. */
@Injectable()
export class TimelineService {
  constructor(@InjectRepository(StatusEventEntity) private readonly repo: Repository<StatusEventEntity>) {}

  /**
   * Adds one entry to a record's timeline within `tx`. A status is kept once, whoever saw it: a status
   * seen again (a refresh after the callback, the hang-up answer and its callback) keeps the earliest
   * time, and the callback's sequence number and source once the callback has been seen.
   */
  async record(
    tx: EntityManager,
    resourceType: 'call' | 'message',
    resourceSid: string,
    entry: { status: string; sequenceNumber: number; source: StatusEventSource; occurredAt: Date; errorCode: number | null },
  ): Promise<void> {
    await tx.query(RECORD_SQL, [
      resourceType,
      resourceSid,
      entry.status,
      entry.sequenceNumber,
      entry.source,
      entry.occurredAt,
      entry.errorCode,
    ]);
  }

  /**
   * A record's timeline in lifecycle order: by `rank` (the owner's lifecycle rank of a status), then
   * by event time, then by callback sequence. Event times alone cannot order it: Twilio's callbacks
   * carry whole seconds, the API answer and our own clock carry milliseconds, and message callbacks
   * carry no time at all, so a status often looks older than the one before it.
   */
  async list(resourceType: 'call' | 'message', resourceSid: string, rank: (status: string) => number): Promise<TimelineEntry[]> {
    const entries = await this.repo.find({ where: { resourceType, resourceSid } });
    return entries.sort(
      (a, b) => rank(a.status) - rank(b.status) || a.occurredAt.getTime() - b.occurredAt.getTime() || a.sequenceNumber - b.sequenceNumber,
    );
  }
}
