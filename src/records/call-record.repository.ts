import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, EntityManager, Repository } from 'typeorm';
import { Cursor, Page, encodeCursor } from '../common/cursor';
import { CallSnapshot, CallStatus, Direction } from '../twilio/twilio.types';
import { CallRecordEntity } from './call-record.entity';
import { StatusEventEntity, StatusEventSource } from './status-event.entity';
import { callStatusAdvances } from './status-rank';

export interface CallHistoryFilter {
  status?: CallStatus;
  direction?: Direction;
  to?: string;
  from?: string;
  agentName?: string;
  workflowId?: string;
  since?: Date;
  until?: Date;
}

/** What Twilio told us about a call: a status (with its callback sequence, if any) and facts. */
export interface CallObservation {
  status?: CallStatus;
  /** SequenceNumber of a status callback; undefined for API snapshots. */
  sequence?: number;
  occurredAt?: Date;
  startTime?: Date | null;
  endTime?: Date | null;
  durationSeconds?: number | null;
  price?: string | null;
  priceUnit?: string | null;
  answeredBy?: string | null;
  queueTimeMs?: number | null;
  errorCode?: number | null;
  errorMessage?: string | null;
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

/** What only the API request knows about a placed call. */
const PLACED_REQUEST_FIELDS = [
  'message',
  'audioUrl',
  'twiml',
  'voice',
  'language',
  'record',
  'machineDetection',
  'timeoutSeconds',
  'agentName',
  'callPurpose',
  'workflowId',
  'createdBy',
] as const;

@Injectable()
export class CallRecordRepository {
  constructor(@InjectRepository(CallRecordEntity) private readonly repo: Repository<CallRecordEntity>) {}

  async insert(data: Partial<CallRecordEntity>, source: StatusEventSource = 'api'): Promise<CallRecordEntity> {
    return this.repo.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(CallRecordEntity).save(tx.getRepository(CallRecordEntity).create(data));
      await recordStatusEvent(tx, 'call', saved.sid, saved.status, -1, source, saved.createdAt, saved.errorCode);
      return saved;
    });
  }

  findBySid(sid: string): Promise<CallRecordEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  /**
   * Stores a call the API just placed. A status callback may have created the record first (it can
   * overtake the create response); then Twilio's snapshot is applied like any observation and the
   * request's own fields, which only the API knows, are written onto the existing record.
   */
  async upsertPlaced(data: Partial<CallRecordEntity> & { sid: string }, seen: CallObservation): Promise<CallRecordEntity> {
    try {
      return await this.insert(data, 'api');
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    await this.applyObservation(data.sid, seen, 'api');
    const patch: Partial<CallRecordEntity> = {};
    for (const field of PLACED_REQUEST_FIELDS) {
      if (data[field] !== undefined) (patch as Record<string, unknown>)[field] = data[field];
    }
    if (Object.keys(patch).length) await this.repo.update({ sid: data.sid }, patch);
    const stored = await this.findBySid(data.sid);
    if (!stored) throw new Error(`call ${data.sid} vanished while being stored`);
    return stored;
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
    const rows = await q.orderBy('c.created_at', 'DESC').addOrderBy('c.id', 'DESC').limit(limit + 1).getMany();
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
        await recordStatusEvent(tx, 'call', sid, seen.status, seen.sequence ?? -1, source, seen.occurredAt ?? new Date(), seen.errorCode ?? null);
      }
      if (source !== 'webhook') patch.syncedAt = new Date();
      if (Object.keys(patch).length === 0) return record;
      await repo.update({ id: record.id }, patch);
      return { ...record, ...patch, updatedAt: new Date() } as CallRecordEntity;
    });
  }

  /** Non-terminal calls not heard of for a while, oldest first, for reconciliation. */
  findStale(olderThan: Date, limit: number): Promise<CallRecordEntity[]> {
    return this.repo
      .createQueryBuilder('c')
      .where("c.status IN ('queued','initiated','ringing','in-progress')")
      .andWhere('c.updated_at < :olderThan', { olderThan })
      .orderBy('c.updated_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Terminal calls whose price Twilio has not reported yet. */
  findUnpriced(endedBefore: Date, limit: number): Promise<CallRecordEntity[]> {
    return this.repo
      .createQueryBuilder('c')
      .where("c.status IN ('completed','busy','no-answer','failed','canceled')")
      .andWhere('c.price IS NULL')
      .andWhere('c.updated_at < :endedBefore', { endedBefore })
      .orderBy('c.updated_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /**
   * Claims up to `limit` calls for reconciliation and returns their sids: non-terminal ones (`stale`)
   * or terminal ones without a price (`unpriced`), neither updated nor compared with Twilio since
   * `before`. Claiming stamps synced_at in the same statement, with SKIP LOCKED, so concurrent
   * instances never claim the same call twice.
   */
  claimForReconcile(which: 'stale' | 'unpriced' | 'unrecorded', before: Date, limit: number): Promise<string[]> {
    return claimRows(this.repo.manager, 'call_records', CLAIM_CONDITIONS[which], before, limit);
  }

  timeline(sid: string): Promise<StatusEventEntity[]> {
    return this.repo.manager
      .getRepository(StatusEventEntity)
      .find({ where: { resourceType: 'call', resourceSid: sid }, order: { occurredAt: 'ASC', sequenceNumber: 'ASC' } });
  }
}

/** What Twilio's Call resource says, in the record's own fields: an observation, or insert data. */
export function callFactsOfSnapshot(s: CallSnapshot) {
  return {
    status: s.status,
    startTime: s.startTime,
    endTime: s.endTime,
    durationSeconds: s.durationSeconds,
    price: s.price,
    priceUnit: s.priceUnit,
    answeredBy: s.answeredBy,
    queueTimeMs: s.queueTimeMs,
  };
}

const CLAIM_CONDITIONS = {
  stale: "status IN ('queued','initiated','ringing','in-progress')",
  unpriced: "status IN ('completed','busy','no-answer','failed','canceled') AND price IS NULL",
  // asked to record, answered, and no recording heard of in the day since: its callback may have been lost
  unrecorded:
    "record AND status = 'completed' AND created_at > now() - interval '1 day' " +
    'AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.call_sid = call_records.sid)',
};

export function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (typeof a === 'string' && typeof b === 'string' && /^-?\d+(\.\d+)?$/.test(a) && /^-?\d+(\.\d+)?$/.test(b)) {
    return Number(a) === Number(b);
  }
  return a === b;
}

/** Adds one entry to a record's timeline; the same status and sequence is kept once. */
export async function recordStatusEvent(
  tx: EntityManager,
  resourceType: 'call' | 'message',
  resourceSid: string,
  status: string,
  sequenceNumber: number,
  source: StatusEventSource,
  occurredAt: Date,
  errorCode: number | null,
): Promise<void> {
  await tx
    .createQueryBuilder()
    .insert()
    .into(StatusEventEntity)
    .values({ resourceType, resourceSid, status, sequenceNumber, source, occurredAt, errorCode })
    .orIgnore()
    .execute();
}

/** A Postgres unique_violation (23505), as TypeORM surfaces it. */
export function isUniqueViolation(error: unknown): boolean {
  const e = error as { code?: unknown; driverError?: { code?: unknown } } | null;
  return e?.code === '23505' || e?.driverError?.code === '23505';
}

/** The claim statement behind claimForReconcile, for call_records and message_records. */
export async function claimRows(
  manager: EntityManager,
  table: 'call_records' | 'message_records',
  condition: string,
  before: Date,
  limit: number,
): Promise<string[]> {
  const result = (await manager.query(
    `UPDATE ${table} SET synced_at = $3
     WHERE id IN (
       SELECT id FROM ${table}
       WHERE ${condition} AND updated_at < $1 AND COALESCE(synced_at, updated_at) < $1
       ORDER BY updated_at ASC
       LIMIT $2
       FOR UPDATE SKIP LOCKED)
     RETURNING sid`,
    [before, limit, new Date()],
  )) as [Array<{ sid: string }>, number];
  return result[0].map((row) => row.sid);
}
