import { Global, Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CallRecordRepository } from './call-record.repository';
import { ENTITIES } from './entities';
import { MessageRecordRepository } from './message-record.repository';
import { OptOutRepository } from './opt-out.repository';
import { PhoneNumberRepository } from './phone-number.repository';
import { RecordingRepository } from './recording.repository';
import { StatsRepository } from './stats.repository';
import { WebhookEventRepository } from './webhook-event.repository';

const REPOSITORIES = [CallRecordRepository, MessageRecordRepository, PhoneNumberRepository, OptOutRepository, StatsRepository, WebhookEventRepository, RecordingRepository];

/** Entities and repositories shared by the features; the only code that knows SQL. */
@Global()
@Module({
  imports: [TypeOrmModule.forFeature(ENTITIES)],
  providers: REPOSITORIES,
  exports: [TypeOrmModule, ...REPOSITORIES],
})
export class RecordsModule {}
