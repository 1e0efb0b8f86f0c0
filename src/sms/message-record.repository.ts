import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Cursor, Page, keysetPage } from '../common/cursor';
import type { Metadata } from '../common/metadata';
import { sameValue } from '../common/same-value';
import { INTENT_STATUSES, isIntentStatus } from '../common/intent-status';
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
import { MessageRecordEntity, MessageRecordStatus } from './message-record.entity';
import { MessageObservation } from './message-observation';
import { messageStatusAdvances, messageStatusRank } from './message-status.rules';

export interface MessageHistoryFilter {
  status?: MessageRecordStatus;
  direction?: Direction;
  to?: string;
  from?: string;
  agentName?: string;
  /** Every key with that value (jsonb containment, served by the metadata GIN index). */
  metadata?: Metadata;
  since?: Date;
  until?: Date;
}

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
  // a request Twilio never received (or not yet answered) is not usage
  where: 'sid IS NOT NULL',
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
      if (saved.sid && !isIntentStatus(saved.status)) {
        await this.recordStatus(tx, saved.sid, saved.status, source, saved.createdAt, saved.errorCode);
      }
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
    // rows found by sid have one; an intent whose sid was just attached may still say initiating
    return new Map(rows.flatMap((r) => (r.sid ? [[r.sid, r.status as MessageStatus] as const] : [])));
  }

  findBySid(sid: string): Promise<MessageRecordEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  /** Stores the request before Twilio is asked: every field, status `initiating`, no sid. */
  insertIntent(data: Partial<MessageRecordEntity>): Promise<MessageRecordEntity> {
    return this.repo.save(this.repo.create({ ...data, sid: null, status: 'initiating' }));
  }

  findById(id: string): Promise<MessageRecordEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** Gives an intent its Twilio sid, once; true when the row now has that sid. */
  async attachSid(id: string, sid: string): Promise<boolean> {
    const [, affected] = await this.repo.query<[unknown, number]>(
      'UPDATE message_records SET sid = $2, updated_at = now() WHERE id = $1 AND sid IS NULL',
      [id, sid],
    );
    if (affected > 0) return true;
    return (await this.findById(id))?.sid === sid;
  }

  /** Twilio surely did nothing: the intent goes away. */
  async deleteIntent(id: string): Promise<void> {
    await this.repo.query('DELETE FROM message_records WHERE id = $1 AND sid IS NULL', [id]);
  }

  /** Twilio's answer was lost: whether it acted is for reconciliation to find out. */
  async markIntentUnknown(id: string): Promise<void> {
    await this.repo.query(
      "UPDATE message_records SET status = 'unknown', updated_at = now() WHERE id = $1 AND sid IS NULL AND status = 'initiating'",
      [id],
    );
  }

  /** Twilio never received the request: nothing was sent. */
  async failIntent(id: string, message: string): Promise<boolean> {
    const [, affected] = await this.repo.query<[unknown, number]>(
      `UPDATE message_records SET status = 'failed', error_message = $2, synced_at = now(), updated_at = now()
       WHERE id = $1 AND sid IS NULL AND status = ANY($3)`,
      [id, message, INTENT_STATUSES],
    );
    return affected > 0;
  }

  /** Intents without a sid that are `unknown`, or `initiating` and created before `initiatingBefore`; oldest first. */
  listUnresolvedIntents(initiatingBefore: Date, limit: number): Promise<MessageRecordEntity[]> {
    return this.repo
      .createQueryBuilder('m')
      .where('m.sid IS NULL')
      .andWhere("(m.status = 'unknown' OR (m.status = 'initiating' AND m.created_at < :before))", { before: initiatingBefore })
      .orderBy('m.created_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Ids of the unresolved outbound intents from `from` to `to` with this body created in [since, until], oldest first. */
  async findIntentCandidates(to: string, from: string, body: string, since: Date, until: Date): Promise<string[]> {
    const rows = await this.repo.query<{ id: string }[]>(
      `SELECT id FROM message_records
       WHERE sid IS NULL AND status = ANY($6) AND direction = 'outbound'
         AND to_number = $1 AND from_number = $2 AND body = $3 AND created_at >= $4 AND created_at <= $5
       ORDER BY created_at ASC, id ASC LIMIT 10`,
      [to, from, body, since, until, INTENT_STATUSES],
    );
    return rows.map((row) => row.id);
  }

  async listPage(filter: MessageHistoryFilter, cursor: Cursor | null, limit: number): Promise<Page<MessageRecordEntity>> {
    const q = this.repo.createQueryBuilder('m');
    if (filter.status) q.andWhere('m.status = :status', { status: filter.status });
    if (filter.direction) q.andWhere('m.direction = :direction', { direction: filter.direction });
    if (filter.to) q.andWhere('m.to_number = :to', { to: filter.to });
    if (filter.from) q.andWhere('m.from_number = :from', { from: filter.from });
    if (filter.agentName) q.andWhere('m.agent_name = :agentName', { agentName: filter.agentName });
    if (filter.metadata && Object.keys(filter.metadata).length) {
      q.andWhere('m.metadata @> CAST(:metadata AS jsonb)', { metadata: JSON.stringify(filter.metadata) });
    }
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
      if (seen.sentNoLaterThan && !record.sentAt && !seen.sentAt) patch.sentAt = seen.sentNoLaterThan;
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
      ? claimRows(this.repo.manager, 'message_records', 'sid IS NOT NULL AND status <> ALL($4)', [TERMINAL_MESSAGE_STATUSES], before, limit)
      : claimRows(
          this.repo.manager,
          'message_records',
          `sid IS NOT NULL AND status = ANY($4) AND price IS NULL AND ${BACKOFF_SINCE_CREATED}`,
          [PRICED_STATUSES],
          before,
          limit,
        );
  }

  timeline(sid: string) {
    return this.timelines.list('message', sid, messageStatusRank);
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
