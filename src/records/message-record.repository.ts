import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, Repository } from 'typeorm';
import { Cursor, Page, encodeCursor } from '../common/cursor';
import { Direction, MessageSnapshot, MessageStatus } from '../twilio/twilio.types';
import { claimRows, isUniqueViolation, recordStatusEvent, sameValue } from './call-record.repository';
import { MessageRecordEntity } from './message-record.entity';
import { StatusEventEntity, StatusEventSource } from './status-event.entity';
import { messageStatusAdvances } from './status-rank';

export interface MessageHistoryFilter {
  status?: MessageStatus;
  direction?: Direction;
  to?: string;
  from?: string;
  agentName?: string;
  since?: Date;
  until?: Date;
}

export interface MessageObservation {
  status?: MessageStatus;
  occurredAt?: Date;
  segments?: number | null;
  errorCode?: number | null;
  errorMessage?: string | null;
  price?: string | null;
  priceUnit?: string | null;
  sentAt?: Date | null;
}

/** What only the API request knows about a sent message. */
const SENT_REQUEST_FIELDS = ['body', 'mediaUrls', 'agentName', 'createdBy'] as const;

/** What Twilio's Message resource says, in the record's own fields: an observation, or insert data. */
export function messageFactsOfSnapshot(s: MessageSnapshot) {
  return {
    status: s.status,
    segments: s.segments,
    errorCode: s.errorCode,
    errorMessage: s.errorMessage,
    price: s.price,
    priceUnit: s.priceUnit,
    sentAt: s.dateSent,
  };
}

const FACT_FIELDS = ['segments', 'errorCode', 'errorMessage', 'price', 'priceUnit', 'sentAt'] as const;

@Injectable()
export class MessageRecordRepository {
  constructor(@InjectRepository(MessageRecordEntity) private readonly repo: Repository<MessageRecordEntity>) {}

  async insert(data: Partial<MessageRecordEntity>, source: StatusEventSource = 'api'): Promise<MessageRecordEntity> {
    return this.repo.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(MessageRecordEntity).save(tx.getRepository(MessageRecordEntity).create(data));
      await recordStatusEvent(tx, 'message', saved.sid, saved.status, -1, source, saved.createdAt, saved.errorCode);
      return saved;
    });
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
    if (cursor) {
      q.andWhere(
        new Brackets((b) =>
          b
            .where('m.created_at < :cursorAt', { cursorAt: cursor.createdAt })
            .orWhere('(m.created_at = :cursorAt AND m.id < :cursorId)', { cursorId: cursor.id }),
        ),
      );
    }
    const rows = await q.orderBy('m.created_at', 'DESC').addOrderBy('m.id', 'DESC').limit(limit + 1).getMany();
    const items = rows.slice(0, limit);
    return { items, nextCursor: rows.length > limit ? encodeCursor(items[items.length - 1]) : null };
  }

  /** Like CallRecordRepository.applyObservation, with message status precedence. */
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
        await recordStatusEvent(tx, 'message', sid, seen.status, -1, source, seen.occurredAt ?? new Date(), seen.errorCode ?? null);
      }
      if (source !== 'webhook') patch.syncedAt = new Date();
      if (Object.keys(patch).length === 0) return record;
      await repo.update({ id: record.id }, patch);
      return { ...record, ...patch, updatedAt: new Date() } as MessageRecordEntity;
    });
  }

  findStale(olderThan: Date, limit: number): Promise<MessageRecordEntity[]> {
    return this.repo
      .createQueryBuilder('m')
      .where("m.status IN ('accepted','scheduled','queued','sending','sent','receiving')")
      .andWhere('m.updated_at < :olderThan', { olderThan })
      .orderBy('m.updated_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  findUnpriced(endedBefore: Date, limit: number): Promise<MessageRecordEntity[]> {
    return this.repo
      .createQueryBuilder('m')
      .where("m.status IN ('delivered','undelivered','failed','received','read')")
      .andWhere('m.price IS NULL')
      .andWhere('m.updated_at < :endedBefore', { endedBefore })
      .orderBy('m.updated_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Like CallRecordRepository.claimForReconcile, for messages. */
  claimForReconcile(which: 'stale' | 'unpriced', before: Date, limit: number): Promise<string[]> {
    const condition =
      which === 'stale'
        ? "status IN ('accepted','scheduled','queued','sending','sent','receiving')"
        : "status IN ('delivered','undelivered','failed','received','read') AND price IS NULL";
    return claimRows(this.repo.manager, 'message_records', condition, before, limit);
  }

  timeline(sid: string): Promise<StatusEventEntity[]> {
    return this.repo.manager
      .getRepository(StatusEventEntity)
      .find({ where: { resourceType: 'message', resourceSid: sid }, order: { occurredAt: 'ASC' } });
  }
}
