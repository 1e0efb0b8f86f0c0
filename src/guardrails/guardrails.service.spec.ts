import type { DataSource } from 'typeorm';
import { AppError } from '../common/app-error';
import { loadConfig } from '../config/app-config';
import { GuardrailsService, startOfUtcDay } from './guardrails.service';
import type { SpendQuery } from './guardrails.meters';

/** On embedded PGlite (no DATABASE_URL) the lock is in-process only and never touches the data source. */
function guardrails(env: Record<string, string> = {}) {
  const config = loadConfig({ NODE_ENV: 'test', ...env });
  return new GuardrailsService(config, {} as DataSource);
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

  it('runs admitted work one at a time, so each check sees what the work before it stored', async () => {
    const service = guardrails({ MAX_LIVE_CALLS: '3', SPENDING_DAILY_LIMIT: 'off' });
    let stored = 0;
    service.registerLiveCalls(async () => stored);
    const place = () =>
      service.admit({ kind: 'call' }, async () => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        stored++;
        return 'placed';
      });
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, place));
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(3);
    expect(stored).toBe(3);
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
