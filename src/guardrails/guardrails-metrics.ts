import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { GuardrailsService } from './guardrails.service';

/** `spend_today_usd`: today's spending (reported prices plus estimates), as the ceiling counts it, at scrape time. */
@Injectable()
export class GuardrailsMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly guardrails: GuardrailsService,
  ) {}

  onModuleInit(): void {
    this.metrics.registerGauge(
      'spend_today_usd',
      "Today's spending (UTC day): prices Twilio reported plus estimates for what is not priced yet",
      async () => Number((await this.guardrails.spendToday()).total),
    );
  }
}
