import { Module } from '@nestjs/common';
import { GuardrailsService } from './guardrails.service';

/** The live-call cap and the daily spending ceiling; calls and sms register their meters with it. */
@Module({
  providers: [GuardrailsService],
  exports: [GuardrailsService],
})
export class GuardrailsModule {}
