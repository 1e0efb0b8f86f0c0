import { AppError } from '../common/app-error';
import type { AppConfig } from '../config/app-config';
import type { CallRecordsService, CallUsageTotals } from '../calls/call-records.service';
import type { NumbersService } from '../numbers/numbers.service';
import type { MessageRecordsService, MessageUsageTotals } from '../sms/message-records.service';
import type { TwilioGateway } from '../twilio/twilio.gateway';
import { BillingService, DEFAULT_PERIOD_MS } from './billing.service';
import type { UsageRollupService } from './usage-rollup.service';

const NO_CALLS: CallUsageTotals = { calls: 0, inbound: 0, outbound: 0, billableMinutes: 0, cost: '0.00000', unpriced: 0 };
const NO_MESSAGES: MessageUsageTotals = { outbound: 0, inbound: 0, segmentsOutbound: 0, segmentsInbound: 0, cost: '0.00000', unpriced: 0 };

function setup(totals: { calls?: Partial<CallUsageTotals>; sms?: Partial<MessageUsageTotals> } = {}, numbersOwned = 0) {
  const calls = {
    usage: vi.fn(async () => ({
      totals: { ...NO_CALLS, ...totals.calls },
      byStatus: { completed: 3, busy: 1 },
      daily: [
        { date: '2026-11-20', calls: 4, billableMinutes: 7, cost: '0.05950' },
        { date: '2026-11-22', calls: 1, billableMinutes: 0, cost: '0.00000' },
      ],
    })),
  };
  const messages = {
    usage: vi.fn(async () => ({
      totals: { ...NO_MESSAGES, ...totals.sms },
      daily: [
        { date: '2026-11-20', outbound: 2, inbound: 1, segments: 4, cost: '0.03000' },
        { date: '2026-11-21', outbound: 1, inbound: 0, segments: 1, cost: '0.00750' },
      ],
    })),
  };
  const numbers = { countOwnedNumbers: vi.fn(async () => numbersOwned) };
  const gateway = { fetchBalance: vi.fn(async () => ({ balance: '19.99', currency: 'USD' })) };
  const config = { pricing: { voicePerMinute: '0.0085', smsPerSegment: '0.0075', numberPerMonth: '1.00' } } as AppConfig;
  const service = new BillingService(
    gateway as unknown as TwilioGateway,
    calls as unknown as CallRecordsService,
    messages as unknown as MessageRecordsService,
    numbers as unknown as NumbersService,
    { refreshedAt: vi.fn(async () => new Date('2026-11-24T11:59:55.000Z')) } as unknown as UsageRollupService,
    config,
  );
  return { service, calls, gateway };
}

const NOW = new Date('2026-11-24T12:00:00.000Z');

describe('BillingService', () => {
  it('returns the balance as Twilio reports it', async () => {
    const { service } = setup();
    await expect(service.getBalance()).resolves.toEqual({ balance: '19.99', currency: 'USD' });
  });

  it('defaults to the 30 days before now', async () => {
    const { service, calls } = setup();
    const result = await service.getStats({}, NOW);
    expect(result.period).toEqual({ since: '2026-10-25T12:00:00.000Z', until: '2026-11-24T12:00:00.000Z' });
    expect(calls.usage).toHaveBeenCalledWith(new Date(NOW.getTime() - DEFAULT_PERIOD_MS), NOW);
  });

  it('takes 30 days before a given until when since is missing', async () => {
    const { service } = setup();
    const result = await service.getStats({ until: '2026-11-01T00:00:00Z' }, NOW);
    expect(result.period.since).toBe('2026-10-02T00:00:00.000Z');
  });

  it('refuses since after until, naming since', async () => {
    const { service, calls } = setup();
    const error = await service.getStats({ since: '2026-11-02T00:00:00Z', until: '2026-11-01T00:00:00Z' }, NOW).catch((e) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error.status).toBe(400);
    expect(error.details[0].field).toBe('since');
    expect(calls.usage).not.toHaveBeenCalled();
  });

  it('estimates from the price list: minutes × voice, all segments × sms, numbers × months', async () => {
    const { service } = setup({ calls: { billableMinutes: 23 }, sms: { segmentsOutbound: 52, segmentsInbound: 7 } }, 2);
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

  it('composes the call and message totals, and one daily row per day with either', async () => {
    const { service } = setup({
      calls: { calls: 4, inbound: 1, outbound: 3, billableMinutes: 7, cost: '0.05950', unpriced: 1 },
      sms: { outbound: 2, inbound: 1, segmentsOutbound: 3, segmentsInbound: 1, cost: '0.03000', unpriced: 2 },
    });
    const result = await service.getStats({}, NOW);
    expect(result.calls).toEqual({
      total: 4,
      by_status: { completed: 3, busy: 1 },
      by_direction: { inbound: 1, outbound: 3 },
      billable_minutes: 7,
    });
    expect(result.sms).toEqual({ outbound: 2, inbound: 1, segments_outbound: 3, segments_inbound: 1 });
    expect(result.cost.actual).toEqual({ calls: '0.05950', sms: '0.03000', total: '0.08950', currency: 'USD' });
    expect(result.cost.unpriced_calls).toBe(1);
    expect(result.cost.unpriced_messages).toBe(2);
    expect(result.daily).toEqual([
      { date: '2026-11-20', calls: 4, billable_minutes: 7, sms_outbound: 2, sms_inbound: 1, segments: 4, cost_actual: '0.08950' },
      { date: '2026-11-21', calls: 0, billable_minutes: 0, sms_outbound: 1, sms_inbound: 0, segments: 1, cost_actual: '0.00750' },
      { date: '2026-11-22', calls: 1, billable_minutes: 0, sms_outbound: 0, sms_inbound: 0, segments: 0, cost_actual: '0.00000' },
    ]);
  });
});
