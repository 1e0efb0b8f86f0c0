import { Injectable, OnModuleInit } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EventType } from '../events/event-types';
import { EventsService } from '../events/events.service';
import { MessageRecordEntity } from './message-record.entity';
import { MessageRecordRepository } from './message-record.repository';
import { OptOutEntity } from './opt-out.entity';
import { OptOutRepository } from './opt-out.repository';
import { toMessageDto } from './sms.service';

/**
 * The message events a status change means, in lifecycle order: an outbound message reported
 * delivered before sent (a lost callback) reports sms.sent first.
 */
export function messageEventTypes(previous: string | null, next: string): EventType[] {
  switch (next) {
    case 'received':
      return ['sms.received'];
    case 'sent':
      return ['sms.sent'];
    case 'delivered':
      return previous === 'sent' ? ['sms.delivered'] : ['sms.sent', 'sms.delivered'];
    case 'read':
      if (previous === 'delivered') return [];
      return previous === 'sent' ? ['sms.delivered'] : ['sms.sent', 'sms.delivered'];
    case 'failed':
    case 'undelivered':
      return ['sms.failed'];
    default:
      return [];
  }
}

/** Writes message and opt-out events into the outbox, in the transaction of each change. */
@Injectable()
export class MessageEvents implements OnModuleInit {
  constructor(
    private readonly messages: MessageRecordRepository,
    private readonly optOuts: OptOutRepository,
    private readonly events: EventsService,
  ) {}

  onModuleInit(): void {
    this.messages.onStatusChanged((tx, record, previous) => this.statusChanged(tx, record, previous));
    this.optOuts.onChanged((tx, optOut) => this.optOutChanged(tx, optOut));
  }

  private async optOutChanged(tx: EntityManager, optOut: OptOutEntity): Promise<void> {
    await this.events.record(tx, 'opt_out.changed', {
      type: 'opt_out',
      sid: optOut.phoneNumber,
      object: { phone_number: optOut.phoneNumber, opted_out: optOut.optedOut, keyword: optOut.keyword, updated_at: optOut.updatedAt },
    });
  }

  private async statusChanged(tx: EntityManager, record: MessageRecordEntity, previous: string | null): Promise<void> {
    const resource = { type: 'message', id: record.id, sid: record.sid, object: toMessageDto(record) };
    for (const type of messageEventTypes(previous, record.status)) await this.events.record(tx, type, resource);
  }
}
