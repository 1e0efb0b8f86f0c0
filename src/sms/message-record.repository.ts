import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Cursor, Page, keysetPage } from '../common/cursor';
import { sameValue } from '../common/same-value';
import { BACKOFF_SINCE_CREATED, claimRows } from '../db/claim-rows';
import { DailyRollup, refreshDailyRollup, rolledUpParams, rolledUpRowsSql, rollupRefreshedAt } from '../db/daily-rollup';
import {
  ReconcileFailure,
  SetAsideRecords,
  clearReconcileFailures,
  recordReconcileFailure,
  setAsideRecords,
} from '../db/reconcile-failures';
import { isUniqueViolation } from '../db/postgres-errors';
import { StatusEventSource, TimelineService } from '../timeline/timeline.service';
import { Direction, MessageStatus, TERMINAL_MESSAGE_STATUSES } from '../twilio/twilio.types';
import { MessageRecordEntity } from './message-record.entity';
import { MessageObservation } from './message-observation';
import { messageStatusAdvances } from './message-status.rules';

export interface MessageHistoryFilter {
  status?: MessageStatus;
  direction?: Direction;
  to?: string;
  from?: string;
  agentName?: string;
  since?: Date;
  until?: Date;
}

/** What only the API request knows about a sent message. */
const SENT_REQUEST_FIELDS = ['body', 'mediaUrls', 'agentName', 'createdBy'] as const;

const FACT_FIELDS = ['segments', 'errorCode', 'errorMessage', 'price', 'priceUnit', 'sentAt'] as const;

/** A canceled message is never charged, so Twilio never prices it. */
const PRICED_STATUSES = TERMINAL_MESSAGE_STATUSES.filter((status) => status !== 'canceled');

/** Messages created in [since, until); cost is a decimal string (numeric, 5 decimals). */
export interface MessageUsageTotals {
  outbound: number;
  inbound: number;
  segmentsOutbound: number;
  segmentsInbound: number;
  cost: string;
  unpriced: number;
}

export interface MessageDailyUsage {
  /** YYYY-MM-DD, UTC. */
  date: string;
  outbound: number;
  inbound: number;
  segments: number;
  cost: string;
}

// Twilio reports charges as negative prices; we sum their absolute values.
const MESSAGE_ROLLUP: DailyRollup = {
  source: 'message_records',
  table: 'message_daily_stats',
  groups: ['direction', 'status'],
  measures: {
    messages: 'COUNT(*)',
    segments: 'COALESCE(SUM(segments), 0)',
    cost: 'COALESCE(SUM(ABS(price)), 0)',
    unpriced: 'COUNT(*) FILTER (WHERE price IS NULL)',
  },
};
const PERIOD_ROWS = rolledUpRowsSql(MESSAGE_ROLLUP);

const TOTALS_SQL = `
SELECT COALESCE(SUM(messages) FILTER (WHERE direction = 'outbound'), 0)::int AS sms_outbound,
       COALESCE(SUM(messages) FILTER (WHERE direction = 'inbound'), 0)::int AS sms_inbound,
       COALESCE(SUM(segments) FILTER (WHERE direction = 'outbound'), 0)::int AS segments_outbound,
       COALESCE(SUM(segments) FILTER (WHERE direction = 'inbound'), 0)::int AS segments_inbound,
       ROUND(COALESCE(SUM(cost), 0)::numeric, 5)::text AS cost,
       COALESCE(SUM(unpriced), 0)::int AS unpriced
FROM (${PERIOD_ROWS}) r`;

const DAILY_SQL = `
SELECT to_char(day, 'YYYY-MM-DD') AS day,
       COALESCE(SUM(messages) FILTER (WHERE direction = 'outbound'), 0)::int AS sms_outbound,
       COALESCE(SUM(messages) FILTER (WHERE direction = 'inbound'), 0)::int AS sms_inbound,
       SUM(segments)::int AS segments,
       ROUND(SUM(cost)::numeric, 5)::text AS cost
FROM (${PERIOD_ROWS}) r
GROUP BY 1 HAVING SUM(messages) > 0 ORDER BY 1`;

/**
 * Messages created since $1: the prices Twilio reported, and the segments still to be priced
 * (failed and canceled messages are free).
 */
const SPEND_SQL = `
SELECT ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS actual,
       COALESCE(SUM(GREATEST(segments, 1)) FILTER (WHERE price IS NULL AND status NOT IN ('failed', 'canceled')), 0)::int
         AS pending_segments
FROM message_records WHERE created_at >= $1`;

@Injectable()
export class MessageRecordRepository {
  constructor(
    @InjectRepository(MessageRecordEntity) private readonly repo: Repository<MessageRecordEntity>,
    private readonly timelines: TimelineService,
  ) {}

  async insert(data: Partial<MessageRecordEntity>, source: StatusEventSource = 'api'): Promise<MessageRecordEntity> {
    return this.repo.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(MessageRecordEntity).save(tx.getRepository(MessageRecordEntity).create(data));
      await this.recordStatus(tx, saved.sid, saved.status, source, saved.createdAt, saved.errorCode);
      return saved;
    });
  }

  /** Inserts the record unless one with its sid exists; true when this call inserted it. */
  async insertIfAbsent(data: Partial<MessageRecordEntity> & { sid: string }, source: StatusEventSource): Promise<boolean> {
    if (await this.findBySid(data.sid)) return false;
    try {
      await this.insert(data, source);
      return true;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return false;
    }
  }

  /** The stored status of each of `sids` that is stored, in one query. */
  async statusesOf(sids: string[]): Promise<Map<string, MessageStatus>> {
    if (!sids.length) return new Map();
    const rows = await this.repo.find({ select: { sid: true, status: true }, where: { sid: In(sids) } });
    return new Map(rows.map((r) => [r.sid, r.status]));
  }

  findBySid(sid: string): Promise<MessageRecordEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  /**
   * Stores a message the API just sent; when a status callback created the record first, applies
   * Twilio's snapshot to it and writes the request's own fields (body, media, agent, creator).
   */
  async upsertSent(data: Partial<MessageRecordEntity> & { sid: string }, seen: MessageObservation): Promise<MessageRecordEntity> {
    try {
      return await this.insert(data, 'api');
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    await this.applyObservation(data.sid, seen, 'api');
    const patch: Partial<MessageRecordEntity> = {};
    for (const field of SENT_REQUEST_FIELDS) {
      if (data[field] !== undefined) (patch as Record<string, unknown>)[field] = data[field];
    }
    if (Object.keys(patch).length) await this.repo.update({ sid: data.sid }, patch);
    const stored = await this.findBySid(data.sid);
    if (!stored) throw new Error(`message ${data.sid} vanished while being stored`);
    return stored;
  }

  async listPage(filter: MessageHistoryFilter, cursor: Cursor | null, limit: number): Promise<Page<MessageRecordEntity>> {
    const q = this.repo.createQueryBuilder('m');
    if (filter.status) q.andWhere('m.status = :status', { status: filter.status });
    if (filter.direction) q.andWhere('m.direction = :direction', { direction: filter.direction });
    if (filter.to) q.andWhere('m.to_number = :to', { to: filter.to });
    if (filter.from) q.andWhere('m.from_number = :from', { from: filter.from });
    if (filter.agentName) q.andWhere('m.agent_name = :agentName', { agentName: filter.agentName });
    if (filter.since) q.andWhere('m.created_at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('m.created_at < :until', { until: filter.until });
    return keysetPage(q, cursor, limit);
  }

  /**
   * Applies what Twilio reported, atomically: a status only moves forward (see messageStatusAdvances);
   * facts fill in whenever they arrive. Returns null when the message is not stored.
   */
  async applyObservation(sid: string, seen: MessageObservation, source: StatusEventSource): Promise<MessageRecordEntity | null> {
    return this.repo.manager.transaction(async (tx) => {
      const repo = tx.getRepository(MessageRecordEntity);
      const record = await repo.findOne({ where: { sid }, lock: { mode: 'pessimistic_write' } });
      if (!record) return null;
      const patch: Partial<MessageRecordEntity> = {};
      if (seen.status && messageStatusAdvances(record.status, seen.status)) patch.status = seen.status;
      for (const field of FACT_FIELDS) {
        const value = seen[field];
        if (value !== undefined && value !== null && !sameValue(record[field], value)) {
          (patch as Record<string, unknown>)[field] = value;
        }
      }
      if (seen.status) {
        await this.recordStatus(tx, sid, seen.status, source, seen.occurredAt ?? new Date(), seen.errorCode ?? null);
      }
      if (source !== 'webhook') patch.syncedAt = new Date();
      if (Object.keys(patch).length === 0) return record;
      await repo.update({ id: record.id }, patch);
      return { ...record, ...patch, updatedAt: new Date() };
    });
  }

  /** Counts one more reconciliation failure about the record in a row; set aside at `maxFailures`. */
  recordReconcileFailure(sid: string, reason: string, maxFailures: number): Promise<ReconcileFailure | null> {
    return recordReconcileFailure(this.repo.manager, 'message_records', sid, reason, maxFailures);
  }

  clearReconcileFailures(sid: string): Promise<void> {
    return clearReconcileFailures(this.repo.manager, 'message_records', sid);
  }

  setAsideByReconcile(): Promise<SetAsideRecords> {
    return setAsideRecords(this.repo.manager, 'message_records');
  }

  /**
   * Claims up to `limit` messages for reconciliation and returns their sids: non-terminal ones
   * (`stale`) or charged terminal ones without a price (`unpriced`), neither updated nor compared
   * with Twilio since `before`.
   */
  claimForReconcile(which: 'stale' | 'unpriced', before: Date, limit: number): Promise<string[]> {
    return which === 'stale'
      ? claimRows(this.repo.manager, 'message_records', 'status <> ALL($4)', [TERMINAL_MESSAGE_STATUSES], before, limit)
      : claimRows(
          this.repo.manager,
          'message_records',
          `status = ANY($4) AND price IS NULL AND ${BACKOFF_SINCE_CREATED}`,
          [PRICED_STATUSES],
          before,
          limit,
        );
  }

  timeline(sid: string) {
    return this.timelines.list('message', sid);
  }

  async spendSince(since: Date): Promise<{ actual: string; pendingSegments: number }> {
    const [row] = await this.repo.query<{ actual: string; pending_segments: number }[]>(SPEND_SQL, [since]);
    return { actual: String(row.actual), pendingSegments: Number(row.pending_segments) };
  }

  async usageTotals(since: Date, until: Date): Promise<MessageUsageTotals> {
    const [row] = await this.repo.query<Record<string, string | number>[]>(TOTALS_SQL, rolledUpParams(since, until));
    return {
      outbound: Number(row.sms_outbound),
      inbound: Number(row.sms_inbound),
      segmentsOutbound: Number(row.segments_outbound),
      segmentsInbound: Number(row.segments_inbound),
      cost: String(row.cost),
      unpriced: Number(row.unpriced),
    };
  }

  async dailyUsage(since: Date, until: Date): Promise<MessageDailyUsage[]> {
    const rows = await this.repo.query<Record<string, string | number>[]>(DAILY_SQL, rolledUpParams(since, until));
    return rows.map((r) => ({
      date: String(r.day),
      outbound: Number(r.sms_outbound),
      inbound: Number(r.sms_inbound),
      segments: Number(r.segments),
      cost: String(r.cost),
    }));
  }

  /** Brings the daily rollup up to date with the messages changed since `changedSince`. */
  refreshUsageRollup(changedSince: Date): Promise<void> {
    return refreshDailyRollup(this.repo.manager, MESSAGE_ROLLUP, changedSince);
  }

  usageRollupRefreshedAt(): Promise<Date | null> {
    return rollupRefreshedAt(this.repo.manager, MESSAGE_ROLLUP);
  }

  private recordStatus(
    tx: EntityManager,
    sid: string,
    status: MessageStatus,
    source: StatusEventSource,
    occurredAt: Date,
    errorCode: number | null,
  ): Promise<void> {
    return this.timelines.record(tx, 'message', sid, { status, sequenceNumber: -1, source, occurredAt, errorCode });
  }
}
