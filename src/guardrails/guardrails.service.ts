import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { formatMoney, parseMoney } from '../common/money';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { InsertGate } from '../db/gated-insert';
import { AdmissionRoom, AdmittedSoFar, GuardrailDayRepository } from './guardrail-day.repository';
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

/** Admission attempts against fresh readings while other admissions keep taking the room first. */
const MAX_FRESH_ATTEMPTS = 5;

/**
 * What the records said at one moment, and what the day's admission counters said just before:
 * any admission since is counted by how much the counters grew, so a reading may serve many
 * requests without ever missing one.
 */
interface Reading {
  day: string;
  takenAt: number;
  admitted: AdmittedSoFar;
  /** Live calls, counted up to the cap; null when calls are not capped. */
  liveCalls: number | null;
  spend: SpendToday;
}

/**
 * The cap on live calls and the daily spending ceiling. The modules that spend (calls, sms,
 * numbers) register their meters here at init, so this module depends on none of them; they call
 * admitStored() with the insert of a new call or message, admit() around the work that stores a
 * number purchase.
 *
 * An admission grows the day's counters (guardrail_days) by the request, on the condition that what
 * the latest reading of the records (at most GUARDRAILS_READING_MAX_AGE_MS old) plus the counters'
 * growth since leaves room. The counters' row lock is what makes concurrent admissions on every
 * instance take turns. admitStored() counts in the statement that inserts the intent (a
 * data-modifying CTE the insert is conditioned on): one statement, and the lock is held within it.
 * admit() counts with the last statement of the transaction that stored the intent (within one
 * instance they queue in memory for that statement), and the lock is held from it to the commit. A
 * refused request's intent is never stored, or rolled back. Readings lag only what Twilio reports (prices, calls ending), never
 * what was admitted; and a request the reading refuses is checked again against a fresh one before
 * it is refused.
 */
@Injectable()
export class GuardrailsService {
  private liveCallsMeter: LiveCallsMeter | null = null;
  private readonly spendMeters = new Map<string, SpendMeter>();
  private latest: Promise<Reading> | null = null;
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly days: GuardrailDayRepository,
  ) {}

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
   * Runs `work` (what stores the call, message or number purchase, with the manager it is given)
   * in the transaction that counts the request in, and commits it only when the request keeps
   * within the live call cap and the daily ceiling; otherwise what it stored is rolled back, the
   * refusal is thrown and Twilio is never asked. A request the counters refuse against a stale
   * reading runs `work` again after a fresh one, so `work` writes only through the manager.
   */
  admit<T>(request: GuardedRequest, work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.admitBy(
      request,
      () => this.days.withoutAdmission(work),
      (day, asked, room) => this.days.admit(day, asked, room, work),
    );
  }

  /**
   * The same in one statement: `store` inserts the request's row only when the gate it is given
   * holds (see InsertGate), and answers null when it did not; the count and the row commit
   * together. Without a limit to keep to, `store` gets no gate and must insert.
   */
  admitStored<T>(request: GuardedRequest, store: (gate: InsertGate | null) => Promise<T | null>): Promise<T> {
    return this.admitBy(
      request,
      async () => {
        const stored = await store(null);
        if (stored === null) throw new Error('an insert without an admission to count stored nothing');
        return stored;
      },
      (day, asked, room) => this.days.admitWithStatement(day, asked, room, store),
    );
  }

  private async admitBy<T>(
    request: GuardedRequest,
    unlimited: () => Promise<T>,
    count: (day: string, asked: AdmittedSoFar, room: AdmissionRoom) => Promise<{ admitted: true; value: T } | { admitted: false }>,
  ): Promise<T> {
    const capsCalls = request.kind === 'call' && this.config.guardrails.maxLiveCalls > 0;
    const limit = this.config.guardrails.spendingDailyLimit;
    if (!capsCalls && limit === null) return unlimited();
    const asked = { spendUnits: this.estimateOf(request), calls: request.kind === 'call' ? 1n : 0n };
    let reading = await this.reading(false);
    for (let attempt = 0; attempt <= MAX_FRESH_ATTEMPTS; attempt++) {
      const room = this.roomFor(request, reading, capsCalls);
      if (room) {
        const outcome = await count(reading.day, asked, room);
        if (outcome.admitted) return outcome.value;
      } else if (attempt > 0) {
        // a fresh reading says no: that is the answer
        break;
      }
      reading = await this.reading(true);
    }
    throw this.refusal(request, reading, capsCalls);
  }

  /**
   * The latest reading when it is of today and recent enough, else a new one shared by every
   * request that asks meanwhile. The counters are read before the records: an admission committed
   * between the two is counted twice (briefly refusing too early, never admitting too much).
   */
  private reading(fresh: boolean): Promise<Reading> {
    const now = Date.now();
    const day = utcDay(new Date(now));
    const latest = this.latest;
    if (!fresh && latest) {
      return latest.then((reading) =>
        reading.day === day && now - reading.takenAt < this.config.guardrails.readingMaxAgeMs ? reading : this.reading(true),
      );
    }
    const taking = (async (): Promise<Reading> => {
      const admitted = await this.days.admittedSoFar(day);
      const cap = this.config.guardrails.maxLiveCalls;
      const [liveCalls, spend] = await Promise.all([
        cap > 0 ? this.liveCalls(cap) : null,
        this.config.guardrails.spendingDailyLimit !== null ? this.spendToday(new Date(now)) : null,
      ]);
      return { day, takenAt: now, admitted, liveCalls, spend: spend ?? this.nothingSpent(new Date(now)) };
    })();
    this.latest = taking;
    // a failed reading is not kept: the next request reads again
    taking.catch(() => {
      if (this.latest === taking) this.latest = null;
    });
    return taking;
  }

  /** How far the counters may grow past the reading with this request still fitting; null: it does not fit. */
  private roomFor(request: GuardedRequest, reading: Reading, capsCalls: boolean): AdmissionRoom | null {
    let callRoom: bigint | null = null;
    if (capsCalls) {
      callRoom = BigInt(this.config.guardrails.maxLiveCalls) - BigInt(reading.liveCalls ?? 0) - 1n;
      if (callRoom < 0n) return null;
    }
    let spendRoom: bigint | null = null;
    const limit = this.config.guardrails.spendingDailyLimit;
    if (limit !== null) {
      spendRoom = parseMoney(limit) - parseMoney(reading.spend.total) - this.estimateOf(request);
      if (spendRoom < 0n) return null;
    }
    return { readAt: reading.admitted, spendRoom, callRoom };
  }

  /** The refusal a fresh reading gives; a full live-call cap is the one given when both refuse. */
  private refusal(request: GuardedRequest, reading: Reading, capsCalls: boolean): AppError {
    const cap = this.config.guardrails.maxLiveCalls;
    if (capsCalls && (reading.liveCalls ?? 0) >= cap) {
      return new AppError(
        HttpStatus.TOO_MANY_REQUESTS,
        'live_call_limit',
        `Live call limit reached: at least ${cap} calls are in progress and at most ${cap} may be at once; try again when one has ended`,
        undefined,
        undefined,
        LIVE_CALL_RETRY_AFTER_SECONDS,
      );
    }
    const limit = parseMoney(this.config.guardrails.spendingDailyLimit ?? '0');
    const spent = reading.spend;
    const estimate = this.estimateOf(request);
    const what = { call: 'this call', sms: 'this message', number: 'this number' }[request.kind];
    return new AppError(
      HttpStatus.PAYMENT_REQUIRED,
      'spending_limit_reached',
      `Daily spending limit of ${formatMoney(limit)} ${CURRENCY} reached: ${spent.total} ${CURRENCY} spent today ` +
        `(${spent.actual} priced, ${spent.estimated} estimated for usage not priced yet) and ${what} is estimated at ` +
        `${formatMoney(estimate)} ${CURRENCY}; the day resets at 00:00 UTC`,
    );
  }

  private nothingSpent(now: Date): SpendToday {
    return { since: startOfUtcDay(now), actual: '0.00000', estimated: '0.00000', total: '0.00000', currency: CURRENCY, limit: null };
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

/** The UTC day of a moment, as YYYY-MM-DD. */
export function utcDay(now: Date): string {
  return now.toISOString().slice(0, 10);
}

export function startOfUtcDay(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}
