import { Inject, Injectable } from '@nestjs/common';
import { AppError } from '../common/app-error';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { PhoneNumberRepository } from '../records/phone-number.repository';
import { StatsRepository } from '../records/stats.repository';
import { TwilioGateway } from '../twilio/twilio.gateway';
import { BalanceDto, StatsDto, StatsQueryDto } from './billing.dto';
import { formatMoney, mulDiv, parseMoney } from './money';

const DAY_MS = 86_400_000;
export const DEFAULT_PERIOD_MS = 30 * DAY_MS;
/** The number price is per month; a month is 30 days here, so the default period costs one month. */
export const MONTH_MS = 30 * DAY_MS;
const CURRENCY = 'USD';

@Injectable()
export class BillingService {
  constructor(
    private readonly gateway: TwilioGateway,
    private readonly stats: StatsRepository,
    private readonly numbers: PhoneNumberRepository,
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
    const [totals, byStatus, daily, numbersOwned] = await Promise.all([
      this.stats.periodTotals(since, until),
      this.stats.callsByStatus(since, until),
      this.stats.daily(since, until),
      this.numbers.countActive(),
    ]);

    const pricing = this.config.pricing;
    const segments = totals.segmentsOutbound + totals.segmentsInbound;
    const estCalls = parseMoney(pricing.voicePerMinute) * BigInt(totals.billableMinutes);
    const estSms = parseMoney(pricing.smsPerSegment) * BigInt(segments);
    const periodMs = BigInt(until.getTime() - since.getTime());
    const estNumbers = mulDiv(parseMoney(pricing.numberPerMonth) * BigInt(numbersOwned), periodMs, BigInt(MONTH_MS));

    return {
      period: { since: since.toISOString(), until: until.toISOString() },
      calls: {
        total: totals.calls,
        by_status: byStatus,
        by_direction: { inbound: totals.callsInbound, outbound: totals.callsOutbound },
        billable_minutes: totals.billableMinutes,
      },
      sms: {
        outbound: totals.smsOutbound,
        inbound: totals.smsInbound,
        segments_outbound: totals.segmentsOutbound,
        segments_inbound: totals.segmentsInbound,
      },
      numbers_owned: numbersOwned,
      cost: {
        actual: { calls: totals.callsCost, sms: totals.smsCost, total: totals.totalCost, currency: CURRENCY },
        estimated: {
          calls: formatMoney(estCalls),
          sms: formatMoney(estSms),
          numbers: formatMoney(estNumbers),
          total: formatMoney(estCalls + estSms + estNumbers),
          currency: CURRENCY,
        },
        unpriced_calls: totals.unpricedCalls,
        unpriced_messages: totals.unpricedMessages,
      },
      daily: daily.map((d) => ({
        date: d.date,
        calls: d.calls,
        billable_minutes: d.billableMinutes,
        sms_outbound: d.smsOutbound,
        sms_inbound: d.smsInbound,
        segments: d.segments,
        cost_actual: d.costActual,
      })),
    };
  }
}
