import { Injectable, OnModuleInit } from '@nestjs/common';
import { EventsService } from '../events/events.service';
import { toPhoneNumberDto } from './numbers.service';
import { PhoneNumberRepository } from './phone-number.repository';

/** Writes number.purchased, number.purchase_failed and number.released into the outbox, in the transaction that stores the change. */
@Injectable()
export class NumberEvents implements OnModuleInit {
  constructor(
    private readonly numbers: PhoneNumberRepository,
    private readonly events: EventsService,
  ) {}

  onModuleInit(): void {
    this.numbers.onChanged(async (tx, number) => {
      const type = number.status === 'failed' ? 'number.purchase_failed' : number.releasedAt ? 'number.released' : 'number.purchased';
      await this.events.record(tx, type, {
        type: 'phone_number',
        id: number.id,
        sid: number.sid,
        object: toPhoneNumberDto(number),
      });
    });
  }
}
