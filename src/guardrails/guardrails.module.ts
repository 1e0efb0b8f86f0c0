import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { MetricsModule } from '../metrics/metrics.module';
import { GuardrailDayEntity } from './guardrail-day.entity';
import { GuardrailDayRepository } from './guardrail-day.repository';
import { GuardrailsMetrics } from './guardrails-metrics';
import { GuardrailsService } from './guardrails.service';

/** The live-call cap and the daily spending ceiling; calls and sms register their meters with it. */
@Module({
  imports: [TypeOrmModule.forFeature([GuardrailDayEntity]), MetricsModule],
  providers: [GuardrailDayRepository, GuardrailsService, GuardrailsMetrics],
  exports: [GuardrailsService],
})
export class GuardrailsModule {}
