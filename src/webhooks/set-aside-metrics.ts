import { Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import { SetAsideService } from './set-aside.service';

/** `set_aside_items{resource}`: inbox events, calls and messages set aside after failing too often, at scrape time. */
@Injectable()
export class SetAsideMetrics implements OnModuleInit {
  constructor(
    private readonly metrics: MetricsService,
    private readonly setAside: SetAsideService,
  ) {}

  onModuleInit(): void {
    const help = 'set aside after failing too often (all instances; see GET health details for the oldest reason)';
    this.metrics.registerGauge('set_aside_inbox_events', `Inbox events ${help}`, async () => (await this.setAside.counts()).inboxEvents);
    this.metrics.registerGauge('set_aside_calls', `Calls ${help}`, async () => (await this.setAside.counts()).calls);
    this.metrics.registerGauge('set_aside_messages', `Messages ${help}`, async () => (await this.setAside.counts()).messages);
  }
}
