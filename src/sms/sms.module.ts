import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { GuardrailsModule } from '../guardrails/guardrails.module';
import { EventsModule } from '../events/events.module';
import { TimelineModule } from '../timeline/timeline.module';
import { TwilioModule } from '../twilio/twilio.module';
import { MessageDailyStatsEntity } from './message-daily-stats.entity';
import { MessageEvents } from './message-events';
import { MessageGuardrailsMeter } from './message-guardrails.meter';
import { MessageRecordEntity } from './message-record.entity';
import { MessageRecordRepository } from './message-record.repository';
import { MessageRecordsService } from './message-records.service';
import { OptOutEntity } from './opt-out.entity';
import { OptOutRepository } from './opt-out.repository';
import { OptOutsService } from './opt-outs.service';
import { SmsController } from './sms.controller';
import { SmsService } from './sms.service';
import { ThrottlingModule } from '../throttling/throttling.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';

/** SMS/MMS: send, list, inspect; owns message records and opt-outs. */
@Module({
  imports: [
    ThrottlingModule,
    IdempotencyModule,
    TypeOrmModule.forFeature([MessageRecordEntity, MessageDailyStatsEntity, OptOutEntity]),
    TimelineModule,
    EventsModule,
    TwilioModule,
    GuardrailsModule,
  ],
  controllers: [SmsController],
  providers: [
    MessageRecordRepository,
    OptOutRepository,
    SmsService,
    MessageRecordsService,
    OptOutsService,
    MessageGuardrailsMeter,
    MessageEvents,
  ],
  exports: [SmsService, MessageRecordsService, OptOutsService],
})
export class SmsModule {}
