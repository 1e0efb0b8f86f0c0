import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AssistantsModule } from '../assistants/assistants.module';
import { GuardrailsModule } from '../guardrails/guardrails.module';
import { SmsModule } from '../sms/sms.module';
import { EventsModule } from '../events/events.module';
import { TimelineModule } from '../timeline/timeline.module';
import { TwilioModule } from '../twilio/twilio.module';
import { CallDailyStatsEntity } from './call-daily-stats.entity';
import { CallControlService } from './call-control.service';
import { CallEvents } from './call-events';
import { CallGuardrailsMeter } from './call-guardrails.meter';
import { CallRecordEntity } from './call-record.entity';
import { CallTurnEntity } from './call-turn.entity';
import { CallTurnRepository } from './call-turn.repository';
import { CallTurnsService } from './call-turns.service';
import { CallRecordRepository } from './call-record.repository';
import { CallRecordingsController } from './call-recordings.controller';
import { CallRecordingsService } from './call-recordings.service';
import { CallReportsController } from './call-reports.controller';
import { CallReportsService } from './call-reports.service';
import { CallRecordsService } from './call-records.service';
import { CallsController } from './calls.controller';
import { CallsService } from './calls.service';
import { RecordingEntity } from './recording.entity';
import { RecordingRepository } from './recording.repository';
import { ThrottlingModule } from '../throttling/throttling.module';
import { IdempotencyModule } from '../idempotency/idempotency.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CallMetrics } from './call-metrics';

/** Calls: place, list, inspect, hang up, speak on, transfer, report; owns call records, their recordings and turns, and status rules. */
@Module({
  imports: [
    ThrottlingModule,
    IdempotencyModule,
    TypeOrmModule.forFeature([CallRecordEntity, CallDailyStatsEntity, RecordingEntity, CallTurnEntity]),
    AssistantsModule,
    TimelineModule,
    EventsModule,
    TwilioModule,
    SmsModule,
    GuardrailsModule,
    MetricsModule,
  ],
  controllers: [CallsController, CallRecordingsController, CallReportsController],
  providers: [
    CallRecordRepository,
    RecordingRepository,
    CallTurnRepository,
    CallTurnsService,
    CallsService,
    CallRecordsService,
    CallRecordingsService,
    CallReportsService,
    CallGuardrailsMeter,
    CallMetrics,
    CallEvents,
    CallControlService,
  ],
  exports: [CallsService, CallRecordsService, CallReportsService, CallTurnsService, CallControlService],
})
export class CallsModule {}
