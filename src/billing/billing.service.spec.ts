import { AppError } from '../common/app-error';
import type { AppConfig } from '../config/app-config';
import type { PhoneNumberRepository } from '../records/phone-number.repository';
import type { PeriodTotals, StatsRepository } from '../records/stats.repository';
import type { TwilioGateway } from '../twilio/twilio.gateway';
import { BillingService, DEFAULT_PERIOD_MS } from './billing.service';

const EMPTY: PeriodTotals = {
  calls: 0,
  callsInbound: 0,
  callsOutbound: 0,
  billableMinutes: 0,
  callsCost: '0.00000',
  unpricedCalls: 0,
  smsOutbound: 0,
  smsInbound: 0,
  segmentsOutbound: 0,
  segmentsInbound: 0,
  smsCost: '0.00000',
  unpricedMessages: 0,
  totalCost: '0.00000',
};

function setup(totals: Partial<PeriodTotals> = {}, numbersOwned = 0) {
  const stats = {
    periodTotals: vi.fn(async () => ({ ...EMPTY, ...totals })),
    callsByStatus: vi.fn(async () => ({ completed: 3, busy: 1 })),
    daily: vi.fn(async () => [
      { date: '2026-11-20', calls: 4, billableMinutes: 7, smsOutbound: 2, smsInbound: 1, segments: 4, costActual: '0.08950' },
    ]),
  };
  const numbers = { countActive: vi.fn(async () => numbersOwned) };
  const gateway = { fetchBalance: vi.fn(async () => ({ balance: '19.99', currency: 'USD' })) };
  const config = { pricing: { voicePerMinute: '0.0085', smsPerSegment: '0.0075', numberPerMonth: '1.00' } } as AppConfig;
  const service = new BillingService(
    gateway as unknown as TwilioGateway,
    stats as unknown as StatsRepository,
    numbers as unknown as PhoneNumberRepository,
    config,
  );
  return { service, stats, gateway };
}

const NOW = new Date('2026-11-24T12:00:00.000Z');

describe('BillingService', () => {
  it('returns the balance as Twilio reports it', async () => {
    const { service } = setup();
    await expect(service.getBalance()).resolves.toEqual({ balance: '19.99', currency: 'USD' });
  });

  it('defaults to the 30 days before now', async () => {
    const { service, stats } = setup();
    const result = await service.getStats({}, NOW);
    expect(result.period).toEqual({ since: '2026-10-25T12:00:00.000Z', until: '2026-11-24T12:00:00.000Z' });
    expect(stats.periodTotals).toHaveBeenCalledWith(new Date(NOW.getTime() - DEFAULT_PERIOD_MS), NOW);
  });

  it('takes 30 days before a given until when since is missing', async () => {
    const { service } = setup();
    const result = await service.getStats({ until: '2026-11-01T00:00:00Z' }, NOW);
    expect(result.period.since).toBe('2026-10-02T00:00:00.000Z');
  });

  it('refuses since after until, naming since', async () => {
    const { service, stats } = setup();
    const error = await service.getStats({ since: '2026-11-02T00:00:00Z', until: '2026-11-01T00:00:00Z' }, NOW).catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error.status).toBe(400);
    expect(error.details[0].field).toBe('since');
    expect(stats.periodTotals).not.toHaveBeenCalled();
  });

  it('estimates from the price list: minutes × voice, all segments × sms, numbers × months', async () => {
    const { service } = setup({ billableMinutes: 23, segmentsOutbound: 52, segmentsInbound: 7 }, 2);
    const { cost } = await service.getStats({}, NOW);
    // 23 × 0.0085 = 0.1955; 59 × 0.0075 = 0.4425; 2 numbers × 1.00 × 1 month (30 days) = 2.00
    expect(cost.estimated).toEqual({ calls: '0.19550', sms: '0.44250', numbers: '2.00000', total: '2.63800', currency: 'USD' });
  });

  it('prorates the number cost to the period length', async () => {
    const { service } = setup({}, 3);
    const week = await service.getStats({ since: '2026-11-01T00:00:00Z', until: '2026-11-08T00:00:00Z' }, NOW);
    // 3 × 1.00 × 7/30 = 0.7
    expect(week.cost.estimated.numbers).toBe('0.70000');
    const oneDay = await service.getStats({ since: '2026-11-01T00:00:00Z', until: '2026-11-02T00:00:00Z' }, NOW);
    // 3 × 1.00 / 30 = 0.1
    expect(oneDay.cost.estimated.numbers).toBe('0.10000');
    const empty = await service.getStats({ since: '2026-11-01T00:00:00Z', until: '2026-11-01T00:00:00Z' }, NOW);
    expect(empty.cost.estimated.numbers).toBe('0.00000');
  });

  it('passes the SQL totals and daily rows through in the documented shape', async () => {
    const { service } = setup({
      calls: 4,
      callsInbound: 1,
      callsOutbound: 3,
      billableMinutes: 7,
      callsCost: '0.05950',
      unpricedCalls: 1,
      smsOutbound: 2,
      smsInbound: 1,
      segmentsOutbound: 3,
      segmentsInbound: 1,
      smsCost: '0.03000',
      totalCost: '0.08950',
    });
    const result = await service.getStats({}, NOW);
    expect(result.calls).toEqual({ total: 4, by_status: { completed: 3, busy: 1 }, by_direction: { inbound: 1, outbound: 3 }, billable_minutes: 7 });
    expect(result.sms).toEqual({ outbound: 2, inbound: 1, segments_outbound: 3, segments_inbound: 1 });
    expect(result.cost.actual).toEqual({ calls: '0.05950', sms: '0.03000', total: '0.08950', currency: 'USD' });
    expect(result.cost.unpriced_calls).toBe(1);
    expect(result.daily).toEqual([
      { date: '2026-11-20', calls: 4, billable_minutes: 7, sms_outbound: 2, sms_inbound: 1, segments: 4, cost_actual: '0.08950' },
    ]);
  });
});
