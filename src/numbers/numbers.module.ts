import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssistantsModule } from '../assistants/assistants.module';
import { EventsModule } from '../events/events.module';
import { GuardrailsModule } from '../guardrails/guardrails.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { TwilioModule } from '../twilio/twilio.module';
import { NumberEvents } from './number-events';
import { NumberGuardrailsMeter } from './number-guardrails.meter';
import { NumbersController } from './numbers.controller';
import { NumbersService } from './numbers.service';
import { NumbersSyncService } from './numbers-sync.service';
import { PhoneNumberEntity } from './phone-number.entity';
import { PhoneNumberRepository } from './phone-number.repository';

/** Twilio phone numbers: search, buy, list, update, release; owns the numbers we hold. */
@Module({
  imports: [
    TypeOrmModule.forFeature([PhoneNumberEntity]),
    AssistantsModule,
    TwilioModule,
    GuardrailsModule,
    IdempotencyModule,
    EventsModule,
  ],
  controllers: [NumbersController],
  providers: [PhoneNumberRepository, NumbersService, NumbersSyncService, NumberGuardrailsMeter, NumberEvents],
  exports: [NumbersService],
})
export class NumbersModule {}
