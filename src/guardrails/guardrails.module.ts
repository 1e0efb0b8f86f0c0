import { Module } from '@nestjs/common';
import { MetricsModule } from '../metrics/metrics.module';
import { GuardrailsMetrics } from './guardrails-metrics';
import { GuardrailsService } from './guardrails.service';

/** The live-call cap and the daily spending ceiling; calls and sms register their meters with it. */
@Module({
  imports: [MetricsModule],
  providers: [GuardrailsService, GuardrailsMetrics],
  exports: [GuardrailsService],
})
export class GuardrailsModule {}
