import { Module } from '@nestjs/common';
import { CallsModule } from '../calls/calls.module';
import { TwilioModule } from '../twilio/twilio.module';
import { RecordingsController } from './recordings.controller';
import { RecordingsService } from './recordings.service';

/** Recording audio for API clients: the recordings are the calls module's, the media Twilio's. */
@Module({
  imports: [CallsModule, TwilioModule],
  controllers: [RecordingsController],
  providers: [RecordingsService],
})
export class RecordingsModule {}
