import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { AppError } from '../common/app-error';
import { formatMoney, parseMoney } from '../common/money';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CrossInstanceLock } from './guardrails.lock';
import type { LiveCallsMeter, PendingUsage, SpendMeter } from './guardrails.meters';

const CURRENCY = 'USD';
/** A refused call may be tried again once a live call ends; calls last minutes, so a short wait. */
const LIVE_CALL_RETRY_AFTER_SECONDS = 30;

/** A request that will cost money at Twilio. */
export type GuardedRequest = { kind: 'call' } | { kind: 'sms'; segments: number } | { kind: 'number' };

/** Today's spending (UTC day), in USD. */
export interface SpendToday {
  /** Start of the UTC day. */
  since: Date;
  /** Prices Twilio reported. */
  actual: string;
  /** Estimate for today's usage that Twilio has not priced yet. */
  estimated: string;
  /** actual + estimated. */
  total: string;
  currency: string;
  /** The configured ceiling, null when there is none. */
  limit: string | null;
}

/**
 * The cap on live calls and the daily spending ceiling. The modules that spend (calls, sms,
 * numbers) register their meters here at init, so this module depends on none of them; they call
 * admit() around the work that commits to a new call, message or number.
 */
@Injectable()
export class GuardrailsService {
  private liveCallsMeter: LiveCallsMeter | null = null;
  private readonly spendMeters = new Map<string, SpendMeter>();
  private readonly lock: CrossInstanceLock;

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    @InjectDataSource() dataSource: DataSource,
  ) {
    this.lock = new CrossInstanceLock(dataSource, config.database.url !== null);
  }

  registerLiveCalls(meter: LiveCallsMeter): void {
    this.liveCallsMeter = meter;
  }

  /** `name` identifies the source (calls, sms, numbers); registering it again replaces it. */
  registerSpend(name: string, meter: SpendMeter): void {
    this.spendMeters.set(name, meter);
  }

  /** Calls not in a terminal status, across instances; counting may stop at `atMost`. */
  liveCalls(atMost?: number): Promise<number> {
    return this.liveCallsMeter ? this.liveCallsMeter(atMost) : Promise.resolve(0);
  }

  async spendToday(now: Date = new Date()): Promise<SpendToday> {
    const since = startOfUtcDay(now);
    const query = { since, expectedCallMinutes: this.config.guardrails.callEstimateMinutes };
    const readings = await Promise.all([...this.spendMeters.values()].map((meter) => meter(query)));
    let actual = 0n;
    let estimated = 0n;
    for (const reading of readings) {
      actual += parseMoney(reading.actual);
      estimated += this.estimate(reading.pending);
    }
    const limit = this.config.guardrails.spendingDailyLimit;
    return {
      since,
      actual: formatMoney(actual),
      estimated: formatMoney(estimated),
      total: formatMoney(actual + estimated),
      currency: CURRENCY,
      limit: limit === null ? null : formatMoney(parseMoney(limit)),
    };
  }

  /** What the request is expected to cost, from the configured prices. */
  estimateOf(request: GuardedRequest): bigint {
    switch (request.kind) {
      case 'call':
        return this.estimate({ voiceMinutes: this.config.guardrails.callEstimateMinutes });
      case 'sms':
        return this.estimate({ smsSegments: Math.max(1, request.segments) });
      case 'number':
        return this.estimate({ numbers: 1 });
    }
  }

  /**
   * Runs `work` (what commits to the call or message) only when the request keeps within the live
   * call cap and the daily ceiling; otherwise throws the refusal and Twilio is never asked. Checks
   * and work run under a lock that holds across instances, so what one request stores is counted
   * by the next.
   */
  async admit<T>(request: GuardedRequest, work: () => Promise<T>): Promise<T> {
    const capsCalls = request.kind === 'call' && this.config.guardrails.maxLiveCalls > 0;
    const limit = this.config.guardrails.spendingDailyLimit;
    if (!capsCalls && limit === null) return work();
    return this.lock.run(async () => {
      // both readings at once; a full live-call cap is the refusal given when both refuse
      const [live, spending] = await Promise.allSettled([
        capsCalls ? this.checkLiveCalls() : undefined,
        limit !== null ? this.checkSpending(request, parseMoney(limit)) : undefined,
      ]);
      if (live.status === 'rejected') throw live.reason;
      if (spending.status === 'rejected') throw spending.reason;
      return work();
    });
  }

  private async checkLiveCalls(): Promise<void> {
    const cap = this.config.guardrails.maxLiveCalls;
    // whether the cap is reached is all that counts: the meter may stop at the cap
    const live = await this.liveCalls(cap);
    if (live < cap) return;
    throw new AppError(
      HttpStatus.TOO_MANY_REQUESTS,
      'live_call_limit',
      `Live call limit reached: at least ${cap} calls are in progress and at most ${cap} may be at once; try again when one has ended`,
      undefined,
      undefined,
      LIVE_CALL_RETRY_AFTER_SECONDS,
    );
  }

  private async checkSpending(request: GuardedRequest, limit: bigint): Promise<void> {
    const spent = await this.spendToday();
    const estimate = this.estimateOf(request);
    const total = parseMoney(spent.total);
    if (total + estimate <= limit) return;
    const what = { call: 'this call', sms: 'this message', number: 'this number' }[request.kind];
    throw new AppError(
      HttpStatus.PAYMENT_REQUIRED,
      'spending_limit_reached',
      `Daily spending limit of ${formatMoney(limit)} ${CURRENCY} reached: ${spent.total} ${CURRENCY} spent today ` +
        `(${spent.actual} priced, ${spent.estimated} estimated for usage not priced yet) and ${what} is estimated at ` +
        `${formatMoney(estimate)} ${CURRENCY}; the day resets at 00:00 UTC`,
    );
  }

  private estimate(pending: PendingUsage): bigint {
    const pricing = this.config.pricing;
    return (
      parseMoney(pricing.voicePerMinute) * BigInt(pending.voiceMinutes ?? 0) +
      parseMoney(pricing.smsPerSegment) * BigInt(pending.smsSegments ?? 0) +
      parseMoney(pricing.numberPerMonth) * BigInt(pending.numbers ?? 0)
    );
  }
}

export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}
