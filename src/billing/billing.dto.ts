import { ApiProperty } from '@nestjs/swagger';
import { IsOptional } from 'class-validator';
import { IsInstant } from '../common/instant';

/** The Twilio account's balance. */
export class BalanceDto {
  /** Balance as a decimal string. @example 19.99 */
  balance: string;
  /** ISO 4217 currency. @example USD */
  currency: string;
}

/** Period of a usage report. */
export class StatsQueryDto {
  /**
   * Start of the period (inclusive), ISO 8601. Defaults to 30 days before `until`.
   * @example 2026-11-01T00:00:00Z
   */
  @IsOptional()
  @IsInstant()
  since?: string;

  /**
   * End of the period (exclusive), ISO 8601. Defaults to now.
   * @example 2026-12-01T00:00:00Z
   */
  @IsOptional()
  @IsInstant()
  until?: string;
}

/** The period a report covers. */
export class StatsPeriodDto {
  /** Start (inclusive). @example 2026-10-25T12:00:00.000Z */
  since: string;
  /** End (exclusive). @example 2026-11-24T12:00:00.000Z */
  until: string;
}

/** Calls by direction. */
export class CallsByDirectionDto {
  /** Calls Twilio delivered to our numbers. @example 3 */
  inbound: number;
  /** Calls we placed. @example 12 */
  outbound: number;
}

/** Calls created in the period. */
export class CallStatsDto {
  /** All calls. @example 15 */
  total: number;
  /** Calls per current status, e.g. `{"completed": 10, "busy": 2}`. */
  @ApiProperty({ type: 'object', additionalProperties: { type: 'integer' }, example: { completed: 10, busy: 2 } })
  by_status: Record<string, number>;
  /** Calls per direction. */
  by_direction: CallsByDirectionDto;
  /** Sum over completed calls of their duration in started minutes. @example 23 */
  billable_minutes: number;
}

/** Messages created in the period. */
export class SmsStatsDto {
  /** Messages we sent. @example 40 */
  outbound: number;
  /** Messages we received. @example 7 */
  inbound: number;
  /** Segments of the messages we sent. @example 52 */
  segments_outbound: number;
  /** Segments of the messages we received. @example 7 */
  segments_inbound: number;
}

/** What Twilio charged, from the prices it reported on calls and messages. */
export class ActualCostDto {
  /** Calls. @example 0.19550 */
  calls: string;
  /** Messages. @example 0.44250 */
  sms: string;
  /** Calls and messages. @example 0.63800 */
  total: string;
  /** ISO 4217 currency. @example USD */
  currency: string;
}

/** Cost estimated from the configured price list (PRICE_* settings). */
export class EstimatedCostDto {
  /** Voice price per minute × billable minutes. @example 0.19550 */
  calls: string;
  /** SMS price per segment × all segments (both directions). @example 0.44250 */
  sms: string;
  /** Monthly number price × numbers owned × months in the period (a month is 30 days, prorated). @example 1.00000 */
  numbers: string;
  /** Sum of the above. @example 1.63800 */
  total: string;
  /** ISO 4217 currency. @example USD */
  currency: string;
}

/** Cost of the period. */
export class StatsCostDto {
  /** From Twilio's reported prices. */
  actual: ActualCostDto;
  /** From the configured price list. */
  estimated: EstimatedCostDto;
  /** Calls whose price Twilio has not reported (yet); not in `actual`. @example 1 */
  unpriced_calls: number;
  /** Messages whose price Twilio has not reported (yet); not in `actual`. @example 0 */
  unpriced_messages: number;
}

/** Usage of one UTC day. */
export class DailyStatsDto {
  /** The day, UTC. @example 2026-11-24 */
  date: string;
  /** Calls created that day. @example 4 */
  calls: number;
  /** Billable minutes of those calls. @example 6 */
  billable_minutes: number;
  /** Messages sent. @example 10 */
  sms_outbound: number;
  /** Messages received. @example 2 */
  sms_inbound: number;
  /** Segments, both directions. @example 13 */
  segments: number;
  /** Reported cost of that day's calls and messages. @example 0.14850 */
  cost_actual: string;
}

/** Usage and cost over a period. */
export class StatsDto {
  /** The period covered. */
  period: StatsPeriodDto;
  /** Calls. */
  calls: CallStatsDto;
  /** Messages. */
  sms: SmsStatsDto;
  /** Numbers owned now. @example 2 */
  numbers_owned: number;
  /** Cost. */
  cost: StatsCostDto;
  /** One entry per UTC day with traffic, oldest first. */
  daily: DailyStatsDto[];
  /**
   * Whole past days are read from per-day rollups refreshed every STATS_REFRESH_SECONDS: a change made
   * after this moment to a record of a past day may not be counted yet. The current day is always
   * counted live. Null until the rollups have been fully built once (a new or upgraded database):
   * the answer then counts every day from the records themselves. @example 2026-03-01T10:00:00.000Z
   */
  as_of: string | null;
}
