import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const HTTP_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const TWILIO_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * This instance's Prometheus registry (one per application, so several apps in one process never
 * share series). Modules record into the typed helpers below, or register a gauge that is read at
 * scrape time with `registerGauge`.
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  private readonly httpRequests = new Counter({
    name: 'http_requests_total',
    help: 'HTTP requests answered, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  private readonly httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request latency, by method, route template and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: HTTP_BUCKETS,
    registers: [this.registry],
  });
  private readonly twilioRequests = new Counter({
    name: 'twilio_requests_total',
    help: 'Requests to the Twilio REST API, by operation and outcome (ok or the error kind)',
    labelNames: ['operation', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly twilioDuration = new Histogram({
    name: 'twilio_request_duration_seconds',
    help: 'Latency of requests to the Twilio REST API, by operation and outcome',
    labelNames: ['operation', 'outcome'] as const,
    buckets: TWILIO_BUCKETS,
    registers: [this.registry],
  });
  private readonly webhooks = new Counter({
    name: 'webhooks_total',
    help: 'Twilio webhooks, by kind and outcome (stored, duplicate, rejected_signature, deferred, applied_late)',
    labelNames: ['kind', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly reconcileRuns = new Counter({
    name: 'reconcile_runs_total',
    help: 'Reconciliation runs, by outcome (ok or failed)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  private readonly reconcileRepairs = new Counter({
    name: 'reconcile_repairs_total',
    help: 'What reconciliation repaired, by kind (pending_applied, records_created, calls_refreshed...)',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  private readonly reconcileFailures = new Counter({
    name: 'reconcile_record_failures_total',
    help: 'Records reconciliation could not repair in a run (left for the next run)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  observeHttp(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    this.httpRequests.inc(labels);
    this.httpDuration.observe(labels, seconds);
  }

  observeTwilio(operation: string, outcome: string, seconds: number): void {
    this.twilioRequests.inc({ operation, outcome });
    this.twilioDuration.observe({ operation, outcome }, seconds);
  }

  countWebhook(kind: string, outcome: string): void {
    this.webhooks.inc({ kind, outcome });
  }

  countReconcileRun(outcome: 'ok' | 'failed', repairs: Record<string, number> = {}, failures = 0): void {
    this.reconcileRuns.inc({ outcome });
    for (const [kind, n] of Object.entries(repairs)) if (n > 0) this.reconcileRepairs.inc({ kind }, n);
    if (failures > 0) this.reconcileFailures.inc(failures);
  }

  /**
   * A gauge whose value `collect` gives at scrape time (live calls, spend today...). A failing
   * `collect` leaves the series out of that scrape rather than failing the scrape.
   */
  registerGauge(name: string, help: string, collect: () => number | Promise<number>): void {
    new Gauge({
      name,
      help,
      registers: [this.registry],
      async collect() {
        try {
          this.set(await collect());
        } catch {
          this.reset();
        }
      },
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
