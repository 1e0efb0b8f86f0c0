import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Not, Repository } from 'typeorm';
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
import { CallStatus, Direction, TERMINAL_CALL_STATUSES } from '../twilio/twilio.types';
import { CallObservation } from './call-observation';
import { CallRecordEntity, CallRecordStatus } from './call-record.entity';
import { callStatusAdvances, callStatusRank } from './call-status.rules';

export interface CallHistoryFilter {
  status?: CallRecordStatus;
  direction?: Direction;
  to?: string;
  from?: string;
  agentName?: string;
  /** Every key with that value (jsonb containment, served by the metadata GIN index). */
  metadata?: Metadata;
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
const CALL_ROLLUP: DailyRollup = {
  source: 'call_records',
  table: 'call_daily_stats',
  groups: ['direction', 'status'],
  // a request Twilio never received (or not yet answered) is not usage
  where: 'sid IS NOT NULL',
  measures: {
    calls: 'COUNT(*)',
    billable_minutes: `COALESCE(SUM((duration_seconds + 59) / 60) FILTER (WHERE status = 'completed' AND duration_seconds > 0), 0)`,
    cost: 'COALESCE(SUM(ABS(price)), 0)',
    unpriced: 'COUNT(*) FILTER (WHERE price IS NULL)',
  },
};
const PERIOD_ROWS = rolledUpRowsSql(CALL_ROLLUP);

const TOTALS_SQL = `
SELECT COALESCE(SUM(calls), 0)::int AS calls,
       COALESCE(SUM(calls) FILTER (WHERE direction = 'inbound'), 0)::int AS calls_inbound,
       COALESCE(SUM(calls) FILTER (WHERE direction = 'outbound'), 0)::int AS calls_outbound,
       COALESCE(SUM(billable_minutes), 0)::int AS billable_minutes,
       ROUND(COALESCE(SUM(cost), 0)::numeric, 5)::text AS cost,
       COALESCE(SUM(unpriced), 0)::int AS unpriced
FROM (${PERIOD_ROWS}) r`;

const BY_STATUS_SQL = `
SELECT status, SUM(calls)::int AS n FROM (${PERIOD_ROWS}) r
GROUP BY status HAVING SUM(calls) > 0 ORDER BY status`;

const DAILY_SQL = `
SELECT to_char(day, 'YYYY-MM-DD') AS day,
       SUM(calls)::int AS calls,
       SUM(billable_minutes)::int AS billable_minutes,
       ROUND(SUM(cost)::numeric, 5)::text AS cost
FROM (${PERIOD_ROWS}) r
GROUP BY 1 HAVING SUM(calls) > 0 ORDER BY 1`;

/**
 * Calls created since $1: the prices Twilio reported, and the minutes still to be priced. An ended
 * call without a price counts its started minutes (nothing when it was never answered); a call in
 * flight counts the minutes it has been answered for, at least $2 (the expected length).
 */
const SPEND_SQL = `
SELECT ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS actual,
       COALESCE(SUM(CASE
         WHEN price IS NOT NULL THEN 0
         WHEN status = 'completed' THEN COALESCE((duration_seconds + 59) / 60, $2)
         WHEN status = ANY($3) THEN 0
         WHEN status = 'in-progress' AND start_time IS NOT NULL
           THEN GREATEST($2, CEIL(EXTRACT(EPOCH FROM (now() - start_time)) / 60)::int)
         ELSE $2 END), 0)::int AS pending_minutes
FROM call_records WHERE created_at >= $1`;

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

  /** The stored status of each of `sids` that is stored, in one query. */
  async statusesOf(sids: string[]): Promise<Map<string, CallStatus>> {
    if (!sids.length) return new Map();
    const rows = await this.repo.find({ select: { sid: true, status: true }, where: { sid: In(sids) } });
    // rows found by sid have one; an intent whose sid was just attached may still say initiating
    return new Map(rows.flatMap((r) => (r.sid ? [[r.sid, r.status as CallStatus] as const] : [])));
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
    if (filter.metadata && Object.keys(filter.metadata).length) {
      q.andWhere('c.metadata @> CAST(:metadata AS jsonb)', { metadata: JSON.stringify(filter.metadata) });
    }
    if (filter.since) q.andWhere('c.created_at >= :since', { since: filter.since });
    if (filter.until) q.andWhere('c.created_at < :until', { until: filter.until });
    return keysetPage(q, cursor, limit);
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

  /** Counts one more reconciliation failure about the record in a row; set aside at `maxFailures`. */
  recordReconcileFailure(sid: string, reason: string, maxFailures: number): Promise<ReconcileFailure | null> {
    return recordReconcileFailure(this.repo.manager, 'call_records', sid, reason, maxFailures);
  }

  clearReconcileFailures(sid: string): Promise<void> {
    return clearReconcileFailures(this.repo.manager, 'call_records', sid);
  }

  setAsideByReconcile(): Promise<SetAsideRecords> {
    return setAsideRecords(this.repo.manager, 'call_records');
  }

  /**
   * Claims up to `limit` calls for reconciliation and returns their sids: non-terminal ones (`stale`),
   * terminal ones without a price (`unpriced`) or answered recording calls without any recording
   * (`unrecorded`), neither updated nor compared with Twilio since `before`.
   */
  claimForReconcile(which: 'stale' | 'unpriced' | 'unrecorded', before: Date, limit: number): Promise<string[]> {
    const [condition, params] = CLAIM_CONDITIONS[which];
    return claimRows(this.repo.manager, 'call_records', condition, params, before, limit);
  }

  timeline(sid: string) {
    return this.timelines.list('call', sid, callStatusRank);
  }

  async usageTotals(since: Date, until: Date): Promise<CallUsageTotals> {
    const [row] = await this.repo.query<Record<string, string | number>[]>(TOTALS_SQL, rolledUpParams(since, until));
    return {
      calls: Number(row.calls),
      inbound: Number(row.calls_inbound),
      outbound: Number(row.calls_outbound),
      billableMinutes: Number(row.billable_minutes),
      cost: String(row.cost),
      unpriced: Number(row.unpriced),
    };
  }

  /** Calls not in a terminal status: whatever Twilio may still be connecting or carrying. */
  countLive(): Promise<number> {
    return this.repo.count({ where: { status: Not(In([...TERMINAL_CALL_STATUSES])) } });
  }

  async spendSince(since: Date, expectedMinutes: number): Promise<{ actual: string; pendingMinutes: number }> {
    const [row] = await this.repo.query<{ actual: string; pending_minutes: number }[]>(SPEND_SQL, [
      since,
      expectedMinutes,
      TERMINAL_CALL_STATUSES,
    ]);
    return { actual: String(row.actual), pendingMinutes: Number(row.pending_minutes) };
  }

  async countByStatus(since: Date, until: Date): Promise<Record<string, number>> {
    const rows = await this.repo.query<{ status: string; n: number }[]>(BY_STATUS_SQL, rolledUpParams(since, until));
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async dailyUsage(since: Date, until: Date): Promise<CallDailyUsage[]> {
    const rows = await this.repo.query<Record<string, string | number>[]>(DAILY_SQL, rolledUpParams(since, until));
    return rows.map((r) => ({
      date: String(r.day),
      calls: Number(r.calls),
      billableMinutes: Number(r.billable_minutes),
      cost: String(r.cost),
    }));
  }

  /** Brings the daily rollup up to date with the calls changed since `changedSince`. */
  refreshUsageRollup(changedSince: Date): Promise<void> {
    return refreshDailyRollup(this.repo.manager, CALL_ROLLUP, changedSince);
  }

  usageRollupRefreshedAt(): Promise<Date | null> {
    return rollupRefreshedAt(this.repo.manager, CALL_ROLLUP);
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
  unpriced: [`sid IS NOT NULL AND status = ANY($4) AND price IS NULL AND ${BACKOFF_SINCE_CREATED}`, [TERMINAL_CALL_STATUSES]],
  // recording (asked to, a voicemail, or TwiML with <Record>), answered, and no recording heard of in
  // the day since: its callback may have been lost
  unrecorded: [
    "sid IS NOT NULL AND (record OR twiml ILIKE '%<Record%') AND status = 'completed' AND created_at > now() - interval '1 day' " +
      'AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.call_sid = call_records.sid)',
    [],
  ],
};
