import type { EntityManager } from 'typeorm';
import { AppError } from '../common/app-error';
import { loadConfig } from '../config/app-config';
import type { AdmissionRoom, AdmittedSoFar, GuardrailDayRepository } from './guardrail-day.repository';
import { GuardrailsService, startOfUtcDay, utcDay } from './guardrails.service';
import type { SpendQuery } from './guardrails.meters';

/**
 * The day's admission counters in memory, with the repository's rule: counted in only while they
 * grew no more than the room since the reading (the database adds the row lock around it).
 */
class DayCounters {
  readonly days = new Map<string, AdmittedSoFar>();
  readonly tx = {} as EntityManager;

  async admittedSoFar(day: string): Promise<AdmittedSoFar> {
    return { ...(this.days.get(day) ?? { spendUnits: 0n, calls: 0n }) };
  }

  async withoutAdmission<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    return work(this.tx);
  }

  async admit<T>(day: string, request: AdmittedSoFar, room: AdmissionRoom, work: (tx: EntityManager) => Promise<T>) {
    const now = await this.admittedSoFar(day);
    const grown = { spend: now.spendUnits - room.readAt.spendUnits, calls: now.calls - room.readAt.calls };
    if ((room.spendRoom !== null && grown.spend > room.spendRoom) || (room.callRoom !== null && grown.calls > room.callRoom)) {
      return { admitted: false as const };
    }
    const value = await work(this.tx);
    this.days.set(day, { spendUnits: now.spendUnits + request.spendUnits, calls: now.calls + request.calls });
    return { admitted: true as const, value };
  }
}

function guardrails(env: Record<string, string> = {}, counters = new DayCounters()) {
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  return new GuardrailsService(config, counters as unknown as GuardrailDayRepository);
}

async function refusal(promise: Promise<unknown>): Promise<AppError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('GuardrailsService', () => {
  it("adds up every module's priced spend and estimates the rest from the pricing table", async () => {
    const service = guardrails({ SPENDING_DAILY_LIMIT: '10', SPENDING_CALL_ESTIMATE_MINUTES: '3' });
    const queries: SpendQuery[] = [];
    service.registerSpend('calls', async (query) => {
      queries.push(query);
      return { actual: '0.01700', pending: { voiceMinutes: 4 } };
    });
    service.registerSpend('sms', async () => ({ actual: '0.0075', pending: { smsSegments: 3 } }));
    service.registerSpend('numbers', async () => ({ actual: '0', pending: { numbers: 1 } }));

    const now = new Date('2026-12-02T23:59:59.999Z');
    expect(await service.spendToday(now)).toEqual({
      since: new Date('2026-12-02T00:00:00.000Z'),
      actual: '0.02450',
      // 4 × 0.0085 + 3 × 0.0075 + 1 × 1.00
      estimated: '1.05650',
      total: '1.08100',
      currency: 'USD',
      limit: '10.00000',
    });
    expect(queries).toEqual([{ since: new Date('2026-12-02T00:00:00.000Z'), expectedCallMinutes: 3 }]);
  });

  it('estimates a call at the expected minutes and a message at its segments (at least one)', () => {
    const service = guardrails({ SPENDING_CALL_ESTIMATE_MINUTES: '5' });
    expect(service.estimateOf({ kind: 'call' })).toBe(4_250n); // 5 × 0.0085 in units of 0.00001
    expect(service.estimateOf({ kind: 'sms', segments: 3 })).toBe(2_250n);
    expect(service.estimateOf({ kind: 'sms', segments: 0 })).toBe(750n);
  });

  it('admits a request that reaches the limit exactly and refuses one that would pass it, without running its work', async () => {
    const service = guardrails({ SPENDING_DAILY_LIMIT: '0.03', MAX_LIVE_CALLS: '0' });
    service.registerSpend('sms', async () => ({ actual: '0.0150', pending: { smsSegments: 1 } }));
    const work = vi.fn(async () => 'sent');
    expect(await service.admit({ kind: 'sms', segments: 1 }, work)).toBe('sent');

    const error = await refusal(service.admit({ kind: 'sms', segments: 2 }, work));
    expect(error.status).toBe(402);
    expect(error.code).toBe('spending_limit_reached');
    expect(error.message).toBe(
      'Daily spending limit of 0.03000 USD reached: 0.02250 USD spent today (0.01500 priced, 0.00750 estimated for usage not ' +
        'priced yet) and this message is estimated at 0.01500 USD; the day resets at 00:00 UTC',
    );
    expect(work).toHaveBeenCalledTimes(1);
  });

  it('refuses a call at the live call cap with 429 and Retry-After, and never caps messages', async () => {
    const service = guardrails({ MAX_LIVE_CALLS: '2', SPENDING_DAILY_LIMIT: 'off' });
    let live = 1;
    const askedAtMost: (number | undefined)[] = [];
    service.registerLiveCalls(async (atMost) => {
      askedAtMost.push(atMost);
      return live;
    });
    expect(await service.admit({ kind: 'call' }, async () => 'placed')).toBe('placed');
    // counting past the cap would tell nothing more
    expect(askedAtMost).toEqual([2]);
    live = 2;
    const error = await refusal(service.admit({ kind: 'call' }, async () => 'placed'));
    expect(error.status).toBe(429);
    expect(error.code).toBe('live_call_limit');
    expect(error.retryAfterSeconds).toBe(30);
    expect(error.message).toContain('at most 2 may be at once');
    expect(await service.admit({ kind: 'sms', segments: 1 }, async () => 'sent')).toBe('sent');
  });

  it('reads the live calls and the spending at once, and gives the live call refusal when both refuse', async () => {
    const service = guardrails({ MAX_LIVE_CALLS: '1', SPENDING_DAILY_LIMIT: '0.01' });
    let reading = 0;
    let bothInFlight = false;
    const meter = <T>(value: T) =>
      new Promise<T>((resolve) => {
        reading++;
        setTimeout(() => {
          bothInFlight ||= reading === 2;
          reading--;
          resolve(value);
        }, 20);
      });
    service.registerLiveCalls(() => meter(1));
    service.registerSpend('calls', () => meter({ actual: '1.00', pending: {} }));
    const work = vi.fn(async () => 'placed');
    const error = await refusal(service.admit({ kind: 'call' }, work));
    expect(bothInFlight).toBe(true);
    expect(error.code).toBe('live_call_limit');
    expect(work).not.toHaveBeenCalled();
    expect((await refusal(service.admit({ kind: 'sms', segments: 1 }, work))).code).toBe('spending_limit_reached');
  });

  it('serves admissions from one reading for a while, counting what each admitted, and reads afresh before refusing', async () => {
    const counters = new DayCounters();
    const service = guardrails({ SPENDING_DAILY_LIMIT: '0.05', PRICE_SMS_PER_SEGMENT: '0.01', MAX_LIVE_CALLS: '0' }, counters);
    let priced = '0';
    let pending = 0;
    const meter = vi.fn(async () => ({ actual: priced, pending: { smsSegments: pending } }));
    service.registerSpend('sms', meter);
    const work = vi.fn(async () => {
      pending++;
      return 'sent';
    });
    for (let i = 0; i < 5; i++) expect(await service.admit({ kind: 'sms', segments: 1 }, work)).toBe('sent');
    // one reading, and the four admissions after it counted by the counters alone
    expect(meter).toHaveBeenCalledTimes(1);
    expect(counters.days.get(utcDay(new Date()))).toEqual({ spendUnits: 5_000n, calls: 0n });
    const error = await refusal(service.admit({ kind: 'sms', segments: 1 }, work));
    expect(error.code).toBe('spending_limit_reached');
    expect(error.message).toContain('0.05000 USD spent today (0.00000 priced, 0.05000 estimated');
    expect(meter).toHaveBeenCalledTimes(2);
    // Twilio priced the five at less than estimated: the refused request's fresh reading sees it
    priced = '0.0375';
    pending = 0;
    expect(await service.admit({ kind: 'sms', segments: 1 }, work)).toBe('sent');
    expect(meter).toHaveBeenCalledTimes(3);
    expect(work).toHaveBeenCalledTimes(6);
  });

  it('takes a new reading once the latest is older than its age', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T12:00:00Z'), toFake: ['Date'] });
    try {
      const service = guardrails({ SPENDING_DAILY_LIMIT: '10', MAX_LIVE_CALLS: '0', GUARDRAILS_READING_MAX_AGE_MS: '500' });
      const meter = vi.fn(async () => ({ actual: '0', pending: {} }));
      service.registerSpend('sms', meter);
      await service.admit({ kind: 'sms', segments: 1 }, async () => 'sent');
      vi.setSystemTime(Date.now() + 499);
      await service.admit({ kind: 'sms', segments: 1 }, async () => 'sent');
      expect(meter).toHaveBeenCalledTimes(1);
      vi.setSystemTime(Date.now() + 1);
      await service.admit({ kind: 'sms', segments: 1 }, async () => 'sent');
      expect(meter).toHaveBeenCalledTimes(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not store what a refused request would have stored', async () => {
    const counters = new DayCounters();
    const service = guardrails({ MAX_LIVE_CALLS: '1', SPENDING_DAILY_LIMIT: 'off' }, counters);
    service.registerLiveCalls(async () => 1);
    const work = vi.fn(async () => 'placed');
    expect((await refusal(service.admit({ kind: 'call' }, work))).code).toBe('live_call_limit');
    expect(work).not.toHaveBeenCalled();
    expect(counters.days.size).toBe(0);
  });

  it('with no cap and no ceiling runs the work without checking anything', async () => {
    const service = guardrails({ MAX_LIVE_CALLS: '0', SPENDING_DAILY_LIMIT: '0' });
    const meter = vi.fn(async () => 99);
    service.registerLiveCalls(meter);
    expect(await service.admit({ kind: 'call' }, async () => 'placed')).toBe('placed');
    expect(meter).not.toHaveBeenCalled();
    expect((await service.spendToday()).limit).toBeNull();
  });

  it('starts the day at midnight UTC', () => {
    expect(startOfUtcDay(new Date('2026-03-01T00:30:00+09:00'))).toEqual(new Date('2026-02-28T00:00:00.000Z'));
  });
});
