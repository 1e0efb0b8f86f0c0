import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { CallDailyUsage, CallRecordsService } from '../calls/call-records.service';
import { NumbersService } from '../numbers/numbers.service';
import { MessageDailyUsage, MessageRecordsService } from '../sms/message-records.service';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { BalanceDto, DailyStatsDto, StatsDto, StatsQueryDto } from './billing.dto';
import { formatMoney, mulDiv, parseMoney } from '../common/money';
import { UsageRollupService } from './usage-rollup.service';

const DAY_MS = 86_400_000;
export const DEFAULT_PERIOD_MS = 30 * DAY_MS;
/** The number price is per month; a month is 30 days here, so the default period costs one month. */
export const MONTH_MS = 30 * DAY_MS;
const CURRENCY = 'USD';

@Injectable()
export class BillingService {
  constructor(
    private readonly gateway: TwilioGateway,
    private readonly calls: CallRecordsService,
    private readonly messages: MessageRecordsService,
    private readonly numbers: NumbersService,
    private readonly rollup: UsageRollupService,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  async getBalance(): Promise<BalanceDto> {
    const balance = await this.gateway.fetchBalance();
    return { balance: balance.balance, currency: balance.currency };
  }

  async getStats(query: StatsQueryDto, now: Date = new Date()): Promise<StatsDto> {
    const until = query.until ? new Date(query.until) : now;
    const since = query.since ? new Date(query.since) : new Date(until.getTime() - DEFAULT_PERIOD_MS);
    if (since.getTime() > until.getTime()) {
      throw AppError.invalidField('since', 'since must not be after until');
    }
    const [asOf, callUsage, smsUsage, numbersOwned] = await Promise.all([
      this.rollup.refreshedAt(),
      this.calls.usage(since, until),
      this.messages.usage(since, until),
      this.numbers.countOwnedNumbers(),
    ]);
    const { totals: calls, byStatus, daily: callsDaily } = callUsage;
    const { totals: sms, daily: smsDaily } = smsUsage;

    const pricing = this.config.pricing;
    const segments = sms.segmentsOutbound + sms.segmentsInbound;
    const estCalls = parseMoney(pricing.voicePerMinute) * BigInt(calls.billableMinutes);
    const estSms = parseMoney(pricing.smsPerSegment) * BigInt(segments);
    const periodMs = BigInt(until.getTime() - since.getTime());
    const estNumbers = mulDiv(parseMoney(pricing.numberPerMonth) * BigInt(numbersOwned), periodMs, BigInt(MONTH_MS));

    return {
      period: { since: since.toISOString(), until: until.toISOString() },
      calls: {
        total: calls.calls,
        by_status: byStatus,
        by_direction: { inbound: calls.inbound, outbound: calls.outbound },
        billable_minutes: calls.billableMinutes,
      },
      sms: {
        outbound: sms.outbound,
        inbound: sms.inbound,
        segments_outbound: sms.segmentsOutbound,
        segments_inbound: sms.segmentsInbound,
      },
      numbers_owned: numbersOwned,
      cost: {
        actual: { calls: calls.cost, sms: sms.cost, total: formatMoney(parseMoney(calls.cost) + parseMoney(sms.cost)), currency: CURRENCY },
        estimated: {
          calls: formatMoney(estCalls),
          sms: formatMoney(estSms),
          numbers: formatMoney(estNumbers),
          total: formatMoney(estCalls + estSms + estNumbers),
          currency: CURRENCY,
        },
        unpriced_calls: calls.unpriced,
        unpriced_messages: sms.unpriced,
      },
      daily: mergeDaily(callsDaily, smsDaily),
      as_of: asOf?.toISOString() ?? null,
    };
  }
}

/** One row per UTC day with calls or messages, oldest first. */
function mergeDaily(calls: CallDailyUsage[], messages: MessageDailyUsage[]): DailyStatsDto[] {
  const days = new Map<string, DailyStatsDto>();
  const day = (date: string): DailyStatsDto => {
    let row = days.get(date);
    if (!row) {
      row = { date, calls: 0, billable_minutes: 0, sms_outbound: 0, sms_inbound: 0, segments: 0, cost_actual: formatMoney(0n) };
      days.set(date, row);
    }
    return row;
  };
  for (const c of calls) {
    const row = day(c.date);
    row.calls = c.calls;
    row.billable_minutes = c.billableMinutes;
    row.cost_actual = formatMoney(parseMoney(row.cost_actual) + parseMoney(c.cost));
  }
  for (const m of messages) {
    const row = day(m.date);
    row.sms_outbound = m.outbound;
    row.sms_inbound = m.inbound;
    row.segments = m.segments;
    row.cost_actual = formatMoney(parseMoney(row.cost_actual) + parseMoney(m.cost));
  }
  return [...days.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}
