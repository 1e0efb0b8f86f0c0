import { Module } from '@nestjs/common';
import { CallRecordingsController } from './call-recordings.controller';
import { CallsController } from './calls.controller';
import { CallsService } from './calls.service';

/** Outbound calls: place, list, inspect, hang up. */
@Module({
  controllers: [CallsController, CallRecordingsController],
  providers: [CallsService],
})
export class CallsModule {}
