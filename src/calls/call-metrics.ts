import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { CallRecordsService } from './call-records.service';

/** `calls_live`: call records not in a terminal status, counted at scrape time. */
@Injectable()
export class CallMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly calls: CallRecordsService,
  ) {}

  onModuleInit(): void {
    this.metrics.registerGauge('calls_live', 'Calls not in a terminal status (queued, ringing, in progress)', () => this.calls.countLive());
  }
}
