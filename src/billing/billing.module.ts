import { Module } from '@nestjs/common';
import { CallsModule } from '../calls/calls.module';
import { NumbersModule } from '../numbers/numbers.module';
import { SmsModule } from '../sms/sms.module';
import { TwilioModule } from '../twilio/twilio.module';
import { BillingController } from './billing.controller';
import { BillingService } from './billing.service';
import { UsageRollupService } from './usage-rollup.service';

/** Balance and usage statistics, composed from what calls, SMS and numbers report. */
@Module({
  imports: [TwilioModule, CallsModule, SmsModule, NumbersModule],
  controllers: [BillingController],
  providers: [BillingService, UsageRollupService],
})
export class BillingModule {}
