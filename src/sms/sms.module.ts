import { Module } from '@nestjs/common';
import { SmsController } from './sms.controller';
import { SmsService } from './sms.service';

/** Outbound SMS/MMS: send, list, inspect. */
@Module({
  controllers: [SmsController],
  providers: [SmsService],
})
export class SmsModule {}
