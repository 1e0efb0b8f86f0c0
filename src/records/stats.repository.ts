import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';

/** Totals over [since, until); counts are numbers, money is a decimal string (numeric, 5 decimals). */
export interface PeriodTotals {
  calls: number;
  callsInbound: number;
  callsOutbound: number;
  billableMinutes: number;
  callsCost: string;
  unpricedCalls: number;
  smsOutbound: number;
  smsInbound: number;
  segmentsOutbound: number;
  segmentsInbound: number;
  smsCost: string;
  unpricedMessages: number;
  totalCost: string;
}

export interface DailyUsage {
  /** YYYY-MM-DD, UTC. */
  date: string;
  calls: number;
  billableMinutes: number;
  smsOutbound: number;
  smsInbound: number;
  segments: number;
  costActual: string;
}

// Twilio reports charges as negative prices; we sum their absolute values. A completed call is
// billed per started minute.
const CALLS_IN_PERIOD = `SELECT * FROM call_records WHERE created_at >= $1 AND created_at < $2`;
const MESSAGES_IN_PERIOD = `SELECT * FROM message_records WHERE created_at >= $1 AND created_at < $2`;
const BILLABLE_MINUTES = `COALESCE(SUM((duration_seconds + 59) / 60) FILTER (WHERE status = 'completed' AND duration_seconds > 0), 0)`;

const TOTALS_SQL = `
WITH c AS (
  SELECT COUNT(*)::int AS calls,
         COUNT(*) FILTER (WHERE direction = 'inbound')::int AS calls_inbound,
         COUNT(*) FILTER (WHERE direction = 'outbound')::int AS calls_outbound,
         ${BILLABLE_MINUTES}::int AS billable_minutes,
         COALESCE(SUM(ABS(price)), 0)::numeric AS cost,
         COUNT(*) FILTER (WHERE price IS NULL)::int AS unpriced
  FROM (${CALLS_IN_PERIOD}) calls
), m AS (
  SELECT COUNT(*) FILTER (WHERE direction = 'outbound')::int AS sms_outbound,
         COUNT(*) FILTER (WHERE direction = 'inbound')::int AS sms_inbound,
         COALESCE(SUM(segments) FILTER (WHERE direction = 'outbound'), 0)::int AS segments_outbound,
         COALESCE(SUM(segments) FILTER (WHERE direction = 'inbound'), 0)::int AS segments_inbound,
         COALESCE(SUM(ABS(price)), 0)::numeric AS cost,
         COUNT(*) FILTER (WHERE price IS NULL)::int AS unpriced
  FROM (${MESSAGES_IN_PERIOD}) messages
)
SELECT c.calls, c.calls_inbound, c.calls_outbound, c.billable_minutes, ROUND(c.cost, 5)::text AS calls_cost,
       c.unpriced AS unpriced_calls, m.sms_outbound, m.sms_inbound, m.segments_outbound, m.segments_inbound,
       ROUND(m.cost, 5)::text AS sms_cost, m.unpriced AS unpriced_messages, ROUND(c.cost + m.cost, 5)::text AS total_cost
FROM c CROSS JOIN m`;

const BY_STATUS_SQL = `
SELECT status, COUNT(*)::int AS n FROM call_records
WHERE created_at >= $1 AND created_at < $2
GROUP BY status ORDER BY status`;

const DAILY_SQL = `
WITH c AS (
  SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
         COUNT(*)::int AS calls,
         ${BILLABLE_MINUTES}::int AS billable_minutes,
         COALESCE(SUM(ABS(price)), 0)::numeric AS cost
  FROM (${CALLS_IN_PERIOD}) calls
  GROUP BY 1
), m AS (
  SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
         COUNT(*) FILTER (WHERE direction = 'outbound')::int AS sms_outbound,
         COUNT(*) FILTER (WHERE direction = 'inbound')::int AS sms_inbound,
         COALESCE(SUM(segments), 0)::int AS segments,
         COALESCE(SUM(ABS(price)), 0)::numeric AS cost
  FROM (${MESSAGES_IN_PERIOD}) messages
  GROUP BY 1
)
SELECT COALESCE(c.day, m.day) AS day,
       COALESCE(c.calls, 0) AS calls,
       COALESCE(c.billable_minutes, 0) AS billable_minutes,
       COALESCE(m.sms_outbound, 0) AS sms_outbound,
       COALESCE(m.sms_inbound, 0) AS sms_inbound,
       COALESCE(m.segments, 0) AS segments,
       ROUND(COALESCE(c.cost, 0) + COALESCE(m.cost, 0), 5)::text AS cost_actual
FROM c FULL OUTER JOIN m ON c.day = m.day
ORDER BY 1`;

/** Usage aggregates over calls and messages, computed by Postgres (GROUP BY, numeric money). */
@Injectable()
export class StatsRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  async periodTotals(since: Date, until: Date): Promise<PeriodTotals> {
    const [row] = (await this.dataSource.query(TOTALS_SQL, [since, until])) as Record<string, string | number>[];
    return {
      calls: Number(row.calls),
      callsInbound: Number(row.calls_inbound),
      callsOutbound: Number(row.calls_outbound),
      billableMinutes: Number(row.billable_minutes),
      callsCost: String(row.calls_cost),
      unpricedCalls: Number(row.unpriced_calls),
      smsOutbound: Number(row.sms_outbound),
      smsInbound: Number(row.sms_inbound),
      segmentsOutbound: Number(row.segments_outbound),
      segmentsInbound: Number(row.segments_inbound),
      smsCost: String(row.sms_cost),
      unpricedMessages: Number(row.unpriced_messages),
      totalCost: String(row.total_cost),
    };
  }

  async callsByStatus(since: Date, until: Date): Promise<Record<string, number>> {
    const rows = (await this.dataSource.query(BY_STATUS_SQL, [since, until])) as { status: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async daily(since: Date, until: Date): Promise<DailyUsage[]> {
    const rows = (await this.dataSource.query(DAILY_SQL, [since, until])) as Record<string, string | number>[];
    return rows.map((r) => ({
      date: String(r.day),
      calls: Number(r.calls),
      billableMinutes: Number(r.billable_minutes),
      smsOutbound: Number(r.sms_outbound),
      smsInbound: Number(r.sms_inbound),
      segments: Number(r.segments),
      costActual: String(r.cost_actual),
    }));
  }
}
