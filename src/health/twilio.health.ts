import { Injectable } from '@nestjs/common';
import { HealthIndicatorResult, HealthIndicatorService } from '@nestjs/terminus';
import { TwilioGatewayError } from '../twilio/twilio.errors';
import { TwilioGateway } from '../twilio/twilio.gateway';

interface TwilioProbe {
  at: number;
  up: boolean;
  reachable: boolean;
  accountStatus: string | null;
  latencyMs: number;
  error?: string;
}

/** Twilio is up when it answers an account lookup in time. */
@Injectable()
export class TwilioHealthIndicator {
  private last: Promise<TwilioProbe> | null = null;

  constructor(
    private readonly gateway: TwilioGateway,
    private readonly indicators: HealthIndicatorService,
  ) {}

  /**
   * `maxAgeMs` > 0 lets a caller reuse a probe that recent (or one in flight), so health checks
   * cannot turn into a stream of requests against the Twilio account.
   */
  async check(timeoutMs: number, maxAgeMs = 0): Promise<HealthIndicatorResult<'twilio'>> {
    const probe = await this.probe(timeoutMs, maxAgeMs);
    const session = this.indicators.check('twilio');
    const data = {
      reachable: probe.reachable,
      account_status: probe.accountStatus,
      latency_ms: probe.latencyMs,
      ...(probe.error ? { error: probe.error } : {}),
    };
    return probe.up ? session.up(data) : session.down(data);
  }

  private async probe(timeoutMs: number, maxAgeMs: number): Promise<TwilioProbe> {
    if (maxAgeMs > 0 && this.last) {
      const previous = await this.last;
      if (Date.now() - previous.at <= maxAgeMs) return previous;
    }
    const running = this.run(timeoutMs);
    this.last = running;
    return running;
  }

  private async run(timeoutMs: number): Promise<TwilioProbe> {
    const started = performance.now();
    const elapsed = () => Math.round(performance.now() - started);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new TwilioGatewayError('timeout', `Twilio did not answer within ${timeoutMs} ms`)), timeoutMs);
      timer.unref();
    });
    try {
      const account = await Promise.race([this.gateway.fetchAccount(), timeout]);
      return { at: Date.now(), up: true, reachable: true, accountStatus: account.status, latencyMs: elapsed() };
    } catch (error) {
      const kind = error instanceof TwilioGatewayError ? error.kind : 'unavailable';
      return {
        at: Date.now(),
        up: false,
        reachable: kind !== 'unavailable' && kind !== 'timeout',
        accountStatus: null,
        latencyMs: elapsed(),
        error: error instanceof Error ? error.message : String(error),
      };
    } finally {
      clearTimeout(timer);
    }
  }
}
