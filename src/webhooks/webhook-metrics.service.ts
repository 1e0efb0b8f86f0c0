import { Injectable } from '@nestjs/common';
import { MetricsService } from '../metrics/metrics.service';
import type { WebhookKind } from './webhook-event.entity';

export interface WebhookCounts {
  /** Authentic webhooks kept in the inbox, per kind. */
  received: Partial<Record<WebhookKind, number>>;
  /** Authentic webhooks already in the inbox (retries, duplicates), answered without any effect. */
  duplicates: number;
  /** Requests refused for a missing or invalid X-Twilio-Signature. */
  rejected_signatures: number;
  /** Events kept while their record did not exist yet. */
  deferred: number;
  /** Deferred events applied later (record created, or reconciliation). */
  applied_late: number;
  /** Events set aside after failing too often (see the set_aside section of health for the stored count). */
  set_aside: number;
}

/**
 * Webhook counters since start (per instance): health shows them under `webhooks`, and each also
 * moves the `webhooks_total{kind, outcome}` Prometheus counter.
 */
@Injectable()
export class WebhookMetricsService {
  private readonly counts: WebhookCounts = {
    received: {},
    duplicates: 0,
    rejected_signatures: 0,
    deferred: 0,
    applied_late: 0,
    set_aside: 0,
  };

  constructor(private readonly metrics: MetricsService) {}

  received(kind: WebhookKind): void {
    this.counts.received[kind] = (this.counts.received[kind] ?? 0) + 1;
    this.metrics.countWebhook(kind, 'stored');
  }

  duplicate(kind: WebhookKind): void {
    this.counts.duplicates++;
    this.metrics.countWebhook(kind, 'duplicate');
  }

  /** `kind` is the route's kind; the request was not trusted enough to read more. */
  rejectedSignature(kind: string): void {
    this.counts.rejected_signatures++;
    this.metrics.countWebhook(kind, 'rejected_signature');
  }

  deferred(kind: WebhookKind): void {
    this.counts.deferred++;
    this.metrics.countWebhook(kind, 'deferred');
  }

  appliedLate(kind: WebhookKind): void {
    this.counts.applied_late++;
    this.metrics.countWebhook(kind, 'applied_late');
  }

  setAside(): void {
    this.counts.set_aside++;
  }

  snapshot(): WebhookCounts {
    return { ...this.counts, received: { ...this.counts.received } };
  }
}
