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

/** Each status a call or message was seen in, once; written in the transaction of the record's owner. */
@Injectable()
export class TimelineService {
  constructor(@InjectRepository(StatusEventEntity) private readonly repo: Repository<StatusEventEntity>) {}

  /** Adds one entry to a record's timeline within `tx`; the same status and sequence is kept once. */
  async record(
    tx: EntityManager,
    resourceType: 'call' | 'message',
    resourceSid: string,
    entry: { status: string; sequenceNumber: number; source: StatusEventSource; occurredAt: Date; errorCode: number | null },
  ): Promise<void> {
    await tx
      .createQueryBuilder()
      .insert()
      .into(StatusEventEntity)
      .values({ resourceType, resourceSid, ...entry })
      .orIgnore()
      .execute();
  }

  /** A record's timeline, oldest first. */
  list(resourceType: 'call' | 'message', resourceSid: string): Promise<TimelineEntry[]> {
    return this.repo.find({
      where: { resourceType, resourceSid },
      order: resourceType === 'call' ? { occurredAt: 'ASC', sequenceNumber: 'ASC' } : { occurredAt: 'ASC' },
    });
  }
}
