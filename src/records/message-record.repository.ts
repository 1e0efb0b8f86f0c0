import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Brackets, Repository } from 'typeorm';
import { Cursor, Page, encodeCursor } from '../common/cursor';
import { Direction, MessageStatus } from '../twilio/twilio.types';
import { recordStatusEvent, sameValue } from './call-record.repository';
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

  timeline(sid: string): Promise<StatusEventEntity[]> {
    return this.repo.manager
      .getRepository(StatusEventEntity)
      .find({ where: { resourceType: 'message', resourceSid: sid }, order: { occurredAt: 'ASC' } });
  }
}
