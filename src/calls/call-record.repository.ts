import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, Repository } from 'typeorm';
import { Cursor, Page, encodeCursor } from '../common/cursor';
import { sameValue } from '../common/same-value';
import { INTENT_STATUSES, isIntentStatus } from '../common/intent-status';
import { claimRows } from '../db/claim-rows';
import { isUniqueViolation } from '../db/postgres-errors';
import { StatusEventSource, TimelineService } from '../timeline/timeline.service';
import { CallStatus, Direction, TERMINAL_CALL_STATUSES } from '../twilio/twilio.types';
import { CallObservation } from './call-observation';
import { CallRecordEntity, CallRecordStatus } from './call-record.entity';
import { callStatusAdvances } from './call-status.rules';

export interface CallHistoryFilter {
  status?: CallRecordStatus;
  direction?: Direction;
  to?: string;
  from?: string;
  agentName?: string;
  workflowId?: string;
  since?: Date;
  until?: Date;
}

const FACT_FIELDS = [
  'startTime',
  'endTime',
  'durationSeconds',
  'price',
  'priceUnit',
  'answeredBy',
  'queueTimeMs',
  'errorCode',
  'errorMessage',
] as const;

/** Calls created in [since, until); cost is a decimal string (numeric, 5 decimals). */
export interface CallUsageTotals {
  calls: number;
  inbound: number;
  outbound: number;
  billableMinutes: number;
  cost: string;
  unpriced: number;
}

export interface CallDailyUsage {
  /** YYYY-MM-DD, UTC. */
  date: string;
  calls: number;
  billableMinutes: number;
  cost: string;
}

// Twilio reports charges as negative prices; we sum their absolute values. A completed call is
// billed per started minute.
const BILLABLE_MINUTES = `COALESCE(SUM((duration_seconds + 59) / 60) FILTER (WHERE status = 'completed' AND duration_seconds > 0), 0)`;

const TOTALS_SQL = `
SELECT COUNT(*)::int AS calls,
       COUNT(*) FILTER (WHERE direction = 'inbound')::int AS calls_inbound,
       COUNT(*) FILTER (WHERE direction = 'outbound')::int AS calls_outbound,
       ${BILLABLE_MINUTES}::int AS billable_minutes,
       ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS cost,
       COUNT(*) FILTER (WHERE price IS NULL)::int AS unpriced
FROM call_records WHERE created_at >= $1 AND created_at < $2`;

const BY_STATUS_SQL = `
SELECT status, COUNT(*)::int AS n FROM call_records
WHERE created_at >= $1 AND created_at < $2
GROUP BY status ORDER BY status`;

const DAILY_SQL = `
SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
       COUNT(*)::int AS calls,
       ${BILLABLE_MINUTES}::int AS billable_minutes,
       ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS cost
FROM call_records WHERE created_at >= $1 AND created_at < $2
GROUP BY 1 ORDER BY 1`;

@Injectable()
export class CallRecordRepository {
  constructor(
    @InjectRepository(CallRecordEntity) private readonly repo: Repository<CallRecordEntity>,
    private readonly timelines: TimelineService,
  ) {}

  async insert(data: Partial<CallRecordEntity>, source: StatusEventSource = 'api'): Promise<CallRecordEntity> {
    return this.repo.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(CallRecordEntity).save(tx.getRepository(CallRecordEntity).create(data));
      if (saved.sid && !isIntentStatus(saved.status)) {
        await this.recordStatus(tx, saved.sid, saved.status, -1, source, saved.createdAt, saved.errorCode);
      }
      return saved;
    });
  }

  /** Inserts the record unless one with its sid exists; true when this call inserted it. */
  async insertIfAbsent(data: Partial<CallRecordEntity> & { sid: string }, source: StatusEventSource): Promise<boolean> {
    if (await this.findBySid(data.sid)) return false;
    try {
      await this.insert(data, source);
      return true;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return false;
    }
  }

  /** Stores the request before Twilio is asked: every field, status `initiating`, no sid. */
  insertIntent(data: Partial<CallRecordEntity>): Promise<CallRecordEntity> {
    return this.repo.save(this.repo.create({ ...data, sid: null, status: 'initiating' }));
  }

  findById(id: string): Promise<CallRecordEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** Gives an intent its Twilio sid, once; true when the row now has that sid. */
  async attachSid(id: string, sid: string): Promise<boolean> {
    const [, affected] = await this.repo.query<[unknown, number]>(
      'UPDATE call_records SET sid = $2, updated_at = now() WHERE id = $1 AND sid IS NULL',
      [id, sid],
    );
    if (affected > 0) return true;
    return (await this.findById(id))?.sid === sid;
  }

  /** Twilio surely did nothing: the intent goes away. */
  async deleteIntent(id: string): Promise<void> {
    await this.repo.query('DELETE FROM call_records WHERE id = $1 AND sid IS NULL', [id]);
  }

  /** Twilio's answer was lost: whether it acted is for reconciliation to find out. */
  async markIntentUnknown(id: string): Promise<void> {
    await this.repo.query(
      "UPDATE call_records SET status = 'unknown', updated_at = now() WHERE id = $1 AND sid IS NULL AND status = 'initiating'",
      [id],
    );
  }

  /** Twilio never received the request: nothing was placed. */
  async failIntent(id: string, message: string): Promise<boolean> {
    const [, affected] = await this.repo.query<[unknown, number]>(
      `UPDATE call_records SET status = 'failed', error_message = $2, synced_at = now(), updated_at = now()
       WHERE id = $1 AND sid IS NULL AND status = ANY($3)`,
      [id, message, INTENT_STATUSES],
    );
    return affected > 0;
  }

  /** Intents without a sid that are `unknown`, or `initiating` and created before `initiatingBefore`; oldest first. */
  listUnresolvedIntents(initiatingBefore: Date, limit: number): Promise<CallRecordEntity[]> {
    return this.repo
      .createQueryBuilder('c')
      .where('c.sid IS NULL')
      .andWhere("(c.status = 'unknown' OR (c.status = 'initiating' AND c.created_at < :before))", { before: initiatingBefore })
      .orderBy('c.created_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Ids of the unresolved outbound intents from `from` to `to` created in [since, until], oldest first. */
  async findIntentCandidates(to: string, from: string, since: Date, until: Date): Promise<string[]> {
    const rows = await this.repo.query<{ id: string }[]>(
      `SELECT id FROM call_records
       WHERE sid IS NULL AND status = ANY($5) AND direction = 'outbound'
         AND to_number = $1 AND from_number = $2 AND created_at >= $3 AND created_at <= $4
       ORDER BY created_at ASC, id ASC LIMIT 10`,
      [to, from, since, until, INTENT_STATUSES],
    );
    return rows.map((row) => row.id);
  }

  async exists(sid: string): Promise<boolean> {
    return (await this.repo.count({ where: { sid } })) > 0;
  }

  findBySid(sid: string): Promise<CallRecordEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  /** Newest first, keyset-paginated on (created_at, id). */
  async listPage(filter: CallHistoryFilter, cursor: Cursor | null, limit: number): Promise<Page<CallRecordEntity>> {
    const q = this.repo.createQueryBuilder('c');
    if (filter.status) q.andWhere('c.status = :status', { status: filter.status });
    if (filter.direction) q.andWhere('c.direction = :direction', { direction: filter.direction });
    if (filter.to) q.andWhere('c.to_number = :to', { to: filter.to });
    if (filter.from) q.andWhere('c.from_number = :from', { from: filter.from });
    if (filter.agentName) q.andWhere('c.agent_name = :agentName', { agentName: filter.agentName });
    if (filter.workflowId) q.andWhere('c.workflow_id = :workflowId', { workflowId: filter.workflowId });
    if (filter.since) q.andWhere('c.created_at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('c.created_at < :until', { until: filter.until });
    if (cursor) {
      q.andWhere(
        new Brackets((b) =>
          b
            .where('c.created_at < :cursorAt', { cursorAt: cursor.createdAt })
            .orWhere('(c.created_at = :cursorAt AND c.id < :cursorId)', { cursorId: cursor.id }),
        ),
      );
    }
    const rows = await q
      .orderBy('c.created_at', 'DESC')
      .addOrderBy('c.id', 'DESC')
      .limit(limit + 1)
      .getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
  }

  /**
   * Applies what Twilio reported, atomically: a status only moves forward (by callback sequence,
   * else by lifecycle rank) and a terminal status is final; facts fill in whenever they arrive.
   * Returns null when the call is not stored.
   */
  async applyObservation(sid: string, seen: CallObservation, source: StatusEventSource): Promise<CallRecordEntity | null> {
    return this.repo.manager.transaction(async (tx) => {
      const repo = tx.getRepository(CallRecordEntity);
      const record = await repo.findOne({ where: { sid }, lock: { mode: 'pessimistic_write' } });
      if (!record) return null;
      const patch: Partial<CallRecordEntity> = {};
      if (seen.status && seen.status !== record.status) {
        const newerCallback = seen.sequence === undefined || seen.sequence > record.statusSequence;
        if (newerCallback && callStatusAdvances(record.status, seen.status)) patch.status = seen.status;
      }
      if (seen.sequence !== undefined && seen.sequence > record.statusSequence) patch.statusSequence = seen.sequence;
      for (const field of FACT_FIELDS) {
        const value = seen[field];
        if (value !== undefined && value !== null && !sameValue(record[field], value)) {
          (patch as Record<string, unknown>)[field] = value;
        }
      }
      if (seen.status) {
        await this.recordStatus(tx, sid, seen.status, seen.sequence ?? -1, source, seen.occurredAt ?? new Date(), seen.errorCode ?? null);
      }
      if (source !== 'webhook') patch.syncedAt = new Date();
      if (Object.keys(patch).length === 0) return record;
      await repo.update({ id: record.id }, patch);
      return { ...record, ...patch, updatedAt: new Date() };
    });
  }

  /**
   * Claims up to `limit` calls for reconciliation and returns their sids: non-terminal ones (`stale`),
   * terminal ones without a price (`unpriced`) or answered record=true calls without any recording
   * (`unrecorded`), neither updated nor compared with Twilio since `before`.
   */
  claimForReconcile(which: 'stale' | 'unpriced' | 'unrecorded', before: Date, limit: number): Promise<string[]> {
    const [condition, params] = CLAIM_CONDITIONS[which];
    return claimRows(this.repo.manager, 'call_records', condition, params, before, limit);
  }

  timeline(sid: string) {
    return this.timelines.list('call', sid);
  }

  async usageTotals(since: Date, until: Date): Promise<CallUsageTotals> {
    const [row] = await this.repo.query<Record<string, string | number>[]>(TOTALS_SQL, [since, until]);
    return {
      calls: Number(row.calls),
      inbound: Number(row.calls_inbound),
      outbound: Number(row.calls_outbound),
      billableMinutes: Number(row.billable_minutes),
      cost: String(row.cost),
      unpriced: Number(row.unpriced),
    };
  }

  async countByStatus(since: Date, until: Date): Promise<Record<string, number>> {
    const rows = await this.repo.query<{ status: string; n: number }[]>(BY_STATUS_SQL, [since, until]);
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async dailyUsage(since: Date, until: Date): Promise<CallDailyUsage[]> {
    const rows = await this.repo.query<Record<string, string | number>[]>(DAILY_SQL, [since, until]);
    return rows.map((r) => ({
      date: String(r.day),
      calls: Number(r.calls),
      billableMinutes: Number(r.billable_minutes),
      cost: String(r.cost),
    }));
  }

  private recordStatus(
    tx: EntityManager,
    sid: string,
    status: CallStatus,
    sequenceNumber: number,
    source: StatusEventSource,
    occurredAt: Date,
    errorCode: number | null,
  ): Promise<void> {
    return this.timelines.record(tx, 'call', sid, { status, sequenceNumber, source, occurredAt, errorCode });
  }
}

const CLAIM_CONDITIONS: Record<'stale' | 'unpriced' | 'unrecorded', [string, unknown[]]> = {
  stale: ['sid IS NOT NULL AND status <> ALL($4)', [TERMINAL_CALL_STATUSES]],
  unpriced: ['sid IS NOT NULL AND status = ANY($4) AND price IS NULL', [TERMINAL_CALL_STATUSES]],
  // asked to record, answered, and no recording heard of in the day since: its callback may have been lost
  unrecorded: [
    "sid IS NOT NULL AND record AND status = 'completed' AND created_at > now() - interval '1 day' " +
      'AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.call_sid = call_records.sid)',
    [],
  ],
};
