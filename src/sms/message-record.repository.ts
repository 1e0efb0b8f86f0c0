import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Cursor, HistoryFilter, Page, historyPage } from '../common/cursor';
import { JsonText, compactStringArray, compactStringMap, isoMillis, jsonObjectOf } from '../common/json-columns';
import { RecordChangedListener, RecordChangedListeners } from '../common/record-changed.listeners';
import { INTENT_STATUSES, isIntentStatus } from '../common/intent-status';
import { BACKOFF_SINCE_CREATED, claimRows } from '../db/claim-rows';
import { DailyRollup, refreshDailyRollup, rolledUpParams, rolledUpRowsSql, rollupRefreshedAt } from '../db/daily-rollup';
import {
  ReconcileFailure,
  SetAsideRecords,
  clearReconcileFailures,
  recordReconcileFailure,
  setAsideRecords,
} from '../db/reconcile-failures';
import { entityOfRow } from '../db/entity-of-row';
import { InsertGate, gatedInsert } from '../db/gated-insert';
import { isUniqueViolation } from '../db/postgres-errors';
import { ApplyGuard, GuardedApplier, GuardedApply, preparePositional, runAndNotify } from '../db/guarded-apply';
import { StatusEventSource, TimelineService, timelineUpsertSql } from '../timeline/timeline.service';
import { Direction, MessageStatus, TERMINAL_MESSAGE_STATUSES } from '../twilio/twilio.types';
import { MessageRecordEntity, MessageRecordStatus } from './message-record.entity';
import { MessageObservation } from './message-observation';
import type { MessageDto } from './sms.dto';
import { messageStatusAdvancesSql, messageStatusRank } from './message-status.rules';

/**
 * A history row is a message as the API shows it (MessageDto, with its names and in its order),
 * written by the query as JSON text: timestamps formatted as JSON writes a Date, the price as the
 * string the driver gives, no mapping after.
 */
const LIST_JSON = jsonObjectOf({
  id: 'id',
  sid: 'sid',
  direction: 'direction',
  from: 'from_number',
  to: 'to_number',
  body: 'body',
  segments: 'segments',
  media_urls: compactStringArray("COALESCE(media_urls, '[]'::jsonb)"),
  status: 'status',
  agent_name: 'agent_name',
  metadata: compactStringMap("COALESCE(metadata, '{}'::jsonb)"),
  created_by: 'created_by',
  error_code: 'error_code',
  error_message: 'error_message',
  price: 'price::text',
  price_unit: 'price_unit',
  sent_at: isoMillis('sent_at'),
  created_at: isoMillis('created_at'),
  updated_at: isoMillis('updated_at'),
} satisfies Record<keyof Omit<MessageDto, 'timeline'>, string>);

/** A history filter (see HistoryFilter) with this record's statuses and directions. */
export interface MessageHistoryFilter extends Omit<HistoryFilter, 'workflowId'> {
  status?: MessageRecordStatus;
  direction?: Direction;
}

/** The facts an observation may carry: column and type, filled in whenever they arrive. */
const FACTS = {
  segments: ['segments', 'int'],
  errorCode: ['error_code', 'int'],
  errorMessage: ['error_message', 'text'],
  price: ['price', 'numeric'],
  priceUnit: ['price_unit', 'varchar'],
  sentAt: ['sent_at', 'timestamptz'],
} as const satisfies Partial<Record<keyof MessageObservation, readonly [string, string]>>;
const FACT_FIELDS = Object.keys(FACTS) as (keyof typeof FACTS)[];

/**
 * The apply statement (see guardedApplySql): the status moves only forward (messageStatusAdvances);
 * every fact fills in, and a callback saying the message left Twilio dates sent_at while Twilio's
 * own time is unknown; anything but a webhook stamps synced_at.
 */
const APPLY_PARTS = {
  params: [
    ':sid::varchar AS sid',
    ':record_id::uuid AS record_id',
    ':status::varchar AS status',
    ':occurred_at::timestamptz AS occurred_at',
    ':source::varchar AS source',
    ':sent_no_later_than::timestamptz AS sent_no_later_than',
    ...FACT_FIELDS.map((field) => `:${FACTS[field][0]}::${FACTS[field][1]} AS ${FACTS[field][0]}`),
  ].join(', '),
  next: {
    sid: 'COALESCE(t.sid, p.sid)',
    status: `CASE WHEN p.status IS NOT NULL AND ${messageStatusAdvancesSql('t.status', 'p.status')} THEN p.status ELSE t.status END`,
    ...Object.fromEntries(FACT_FIELDS.map((field) => [FACTS[field][0], `COALESCE(p.${FACTS[field][0]}, t.${FACTS[field][0]})`] as const)),
    sent_at: 'COALESCE(p.sent_at, t.sent_at, p.sent_no_later_than)',
    synced_at: "CASE WHEN p.source <> 'webhook' THEN now() ELSE t.synced_at END",
  },
  touch: "p.source <> 'webhook'",
  sideEffect: timelineUpsertSql(
    "SELECT 'message', calc.sid, p.status, -1, p.source, COALESCE(p.occurred_at, now()), p.error_code FROM calc, p WHERE p.status IS NOT NULL",
  ),
};

function applyValues(sid: string, recordId: string | null, seen: MessageObservation, source: StatusEventSource): Record<string, unknown> {
  const values: Record<string, unknown> = {
    sid,
    record_id: recordId,
    status: seen.status ?? null,
    occurred_at: seen.occurredAt ?? null,
    source,
    sent_no_later_than: seen.sentNoLaterThan ?? null,
  };
  for (const field of FACT_FIELDS) values[FACTS[field][0]] = seen[field] ?? null;
  return values;
}

/** A canceled message is never charged, so Twilio never prices it. */
const PRICED_STATUSES = TERMINAL_MESSAGE_STATUSES.filter((status) => status !== 'canceled');

/** Messages created in [since, until); cost is a decimal string (numeric, 5 decimals). */
export interface MessageUsageTotals {
  outbound: number;
  inbound: number;
  segmentsOutbound: number;
  segmentsInbound: number;
  cost: string;
  unpriced: number;
}

/** Messages created in a period: totals, and UTC days with messages, oldest first. */
export interface MessageUsage {
  totals: MessageUsageTotals;
  daily: MessageDailyUsage[];
}

export interface MessageDailyUsage {
  /** YYYY-MM-DD, UTC. */
  date: string;
  outbound: number;
  inbound: number;
  segments: number;
  cost: string;
}

// Twilio reports charges as negative prices; we sum their absolute values.
const MESSAGE_ROLLUP: DailyRollup = {
  source: 'message_records',
  table: 'message_daily_stats',
  groups: ['direction', 'status'],
  // a request Twilio never received (or not yet answered) is not usage
  where: 'sid IS NOT NULL',
  measures: {
    messages: 'COUNT(*)',
    segments: 'COALESCE(SUM(segments), 0)',
    cost: 'COALESCE(SUM(ABS(price)), 0)',
    unpriced: 'COUNT(*) FILTER (WHERE price IS NULL)',
  },
};
/**
 * Totals and per-day figures of a period in one statement, so that the raw edges of the period are
 * read once: one row of JSON (integers as numbers, money as 5-decimal strings).
 */
function usageSql(built: boolean): string {
  return `
WITH r AS MATERIALIZED (${rolledUpRowsSql(MESSAGE_ROLLUP, built)})
SELECT
  (SELECT json_build_object(
     'outbound', COALESCE(SUM(messages) FILTER (WHERE direction = 'outbound'), 0)::int,
     'inbound', COALESCE(SUM(messages) FILTER (WHERE direction = 'inbound'), 0)::int,
     'segmentsOutbound', COALESCE(SUM(segments) FILTER (WHERE direction = 'outbound'), 0)::int,
     'segmentsInbound', COALESCE(SUM(segments) FILTER (WHERE direction = 'inbound'), 0)::int,
     'cost', ROUND(COALESCE(SUM(cost), 0)::numeric, 5)::text,
     'unpriced', COALESCE(SUM(unpriced), 0)::int) FROM r) AS totals,
  (SELECT COALESCE(json_agg(d ORDER BY d.date), '[]')
   FROM (SELECT to_char(day, 'YYYY-MM-DD') AS date,
                COALESCE(SUM(messages) FILTER (WHERE direction = 'outbound'), 0)::int AS outbound,
                COALESCE(SUM(messages) FILTER (WHERE direction = 'inbound'), 0)::int AS inbound,
                SUM(segments)::int AS segments, ROUND(SUM(cost)::numeric, 5)::text AS cost
         FROM r GROUP BY day HAVING SUM(messages) > 0) d) AS daily`;
}
const USAGE_SQL = { built: usageSql(true), raw: usageSql(false) };

/**
 * Messages created since $1: the prices Twilio reported, and the segments still to be priced
 * (failed and canceled messages are free).
 */
const SPEND_SQL = `
SELECT ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS actual,
       COALESCE(SUM(GREATEST(segments, 1)) FILTER (WHERE price IS NULL AND status NOT IN ('failed', 'canceled')), 0)::int
         AS pending_segments
FROM message_records WHERE created_at >= $1`;

/**
 * Twilio's answer to the send request, on the intent $1 if nobody has touched it since it was
 * stored (no sid, an intent status, so any status advances it), with the timeline entry of its
 * status: what attachSid and applyObservation do, in one statement.
 */
const COMPLETE_FRESH_INTENT_SQL = `
WITH completed AS (
  UPDATE message_records SET sid = $2, status = $3,
    segments = COALESCE($4, segments), error_code = COALESCE($5, error_code), error_message = COALESCE($6, error_message),
    price = COALESCE($7, price), price_unit = COALESCE($8, price_unit), sent_at = COALESCE($9, sent_at, $10),
    synced_at = CASE WHEN $12 = 'webhook' THEN synced_at ELSE now() END, updated_at = now()
  WHERE id = $1 AND sid IS NULL AND status = ANY($11)
  RETURNING *
), timeline AS (
  ${timelineUpsertSql(`SELECT 'message', sid, status, -1, $12, $13::timestamptz, $5 FROM completed`)}
)
SELECT * FROM completed`;
const COMPLETE_FRESH_INTENT = preparePositional('message_records_complete_fresh_intent', COMPLETE_FRESH_INTENT_SQL);

@Injectable()
export class MessageRecordRepository {
  private readonly applier: GuardedApplier<MessageRecordEntity>;

  constructor(
    @InjectRepository(MessageRecordEntity) private readonly repo: Repository<MessageRecordEntity>,
    private readonly timelines: TimelineService,
  ) {
    this.applier = new GuardedApplier(repo.manager, repo.metadata, APPLY_PARTS);
  }

  private readonly statusChanged = new RecordChangedListeners<MessageRecordEntity>();

  async insert(data: Partial<MessageRecordEntity>, source: StatusEventSource = 'api'): Promise<MessageRecordEntity> {
    return this.repo.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(MessageRecordEntity).save(tx.getRepository(MessageRecordEntity).create(data));
      if (saved.sid && !isIntentStatus(saved.status)) {
        await this.recordStatus(tx, saved.sid, saved.status, source, saved.createdAt, saved.errorCode);
        await this.statusChanged.notify(tx, saved, null);
      }
      return saved;
    });
  }

  /** Inserts the record unless one with its sid exists; true when this call inserted it. */
  async insertIfAbsent(data: Partial<MessageRecordEntity> & { sid: string }, source: StatusEventSource): Promise<boolean> {
    if (await this.findBySid(data.sid)) return false;
    try {
      await this.insert(data, source);
      return true;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return false;
    }
  }

  /** The oldest record carrying every key and value of `metadata` (the history filter's index), as id, sid and status. */
  async findByMetadata(metadata: Record<string, string>): Promise<{ id: string; sid: string | null; status: string } | null> {
    const rows = await this.repo.query<{ id: string; sid: string | null; status: string }[]>(
      `SELECT id, sid, status FROM message_records WHERE metadata @> $1::jsonb ORDER BY created_at, id LIMIT 1`,
      [JSON.stringify(metadata)],
    );
    return rows[0] ?? null;
  }

  /** The stored status of each of `sids` that is stored, in one query. */
  async statusesOf(sids: string[]): Promise<Map<string, MessageStatus>> {
    if (!sids.length) return new Map();
    const rows = await this.repo.find({ select: { sid: true, status: true }, where: { sid: In(sids) } });
    // rows found by sid have one; an intent whose sid was just attached may still say initiating
    return new Map(rows.flatMap((r) => (r.sid ? [[r.sid, r.status as MessageStatus] as const] : [])));
  }

  findBySid(sid: string): Promise<MessageRecordEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  /**
   * Stores the request before Twilio is asked: every field, status `initiating`, no sid; one
   * statement, with the guardrails' count when `gate` is given (null when the count refused it).
   */
  async insertIntent(data: Partial<MessageRecordEntity>, gate: InsertGate | null = null): Promise<MessageRecordEntity | null> {
    const row = await gatedInsert(this.repo.manager, this.repo.metadata, { ...data, sid: null, status: 'initiating' }, gate);
    return row && entityOfRow(this.repo, row);
  }

  /**
   * Completes the intent `id` with Twilio's answer in one statement when nothing else touched it
   * since it was stored; null otherwise (a callback gave it its sid first, or it is gone), and the
   * caller goes through attachSid and applyObservation.
   */
  async completeFreshIntent(
    id: string,
    sid: string,
    seen: MessageObservation,
    source: StatusEventSource,
  ): Promise<MessageRecordEntity | null> {
    if (!seen.status) return null;
    const params = [
      id,
      sid,
      seen.status,
      seen.segments ?? null,
      seen.errorCode ?? null,
      seen.errorMessage ?? null,
      seen.price ?? null,
      seen.priceUnit ?? null,
      seen.sentAt ?? null,
      seen.sentNoLaterThan ?? null,
      INTENT_STATUSES,
      source,
      seen.occurredAt ?? new Date(),
    ];
    // the intent leaves its intent status here: listeners (the events outbox) see it in the same transaction
    return runAndNotify(this.repo, this.statusChanged, COMPLETE_FRESH_INTENT, params, 'initiating');
  }

  findById(id: string): Promise<MessageRecordEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** Gives an intent its Twilio sid, once; true when the row now has that sid. */
  async attachSid(id: string, sid: string): Promise<boolean> {
    // one statement: the sid given now, else the one the row had already
    const rows = await this.repo.query<{ sid: string | null }[]>(
      `WITH attached AS (UPDATE message_records SET sid = $2, updated_at = now() WHERE id = $1 AND sid IS NULL RETURNING sid)
       SELECT COALESCE((SELECT sid FROM attached), (SELECT sid FROM message_records WHERE id = $1)) AS sid`,
      [id, sid],
    );
    return rows[0]?.sid === sid;
  }

  /** Twilio surely did nothing: the intent goes away. */
  async deleteIntent(id: string): Promise<void> {
    await this.repo.query('DELETE FROM message_records WHERE id = $1 AND sid IS NULL', [id]);
  }

  /** Twilio's answer was lost: whether it acted is for reconciliation to find out. */
  async markIntentUnknown(id: string): Promise<void> {
    await this.repo.query(
      "UPDATE message_records SET status = 'unknown', updated_at = now() WHERE id = $1 AND sid IS NULL AND status = 'initiating'",
      [id],
    );
  }

  /** Twilio never received the request: nothing was sent. */
  async failIntent(id: string, message: string): Promise<boolean> {
    // the record leaves its intent status here: listeners (the events outbox) see it in the same transaction
    return this.repo.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[({ was: string } & Record<string, unknown>)[], number]>(
        `UPDATE message_records r SET status = 'failed', error_message = $2, synced_at = now(), updated_at = now()
         FROM (SELECT status AS was FROM message_records WHERE id = $1) o
         WHERE r.id = $1 AND r.sid IS NULL AND r.status = ANY($3)
         RETURNING r.*, o.was`,
        [id, message, INTENT_STATUSES],
      );
      if (!rows.length) return false;
      const { was, ...row } = rows[0];
      await this.statusChanged.notify(tx, entityOfRow(this.repo, row), was);
      return true;
    });
  }

  /** Intents without a sid that are `unknown`, or `initiating` and created before `initiatingBefore`; oldest first. */
  listUnresolvedIntents(initiatingBefore: Date, limit: number): Promise<MessageRecordEntity[]> {
    return this.repo
      .createQueryBuilder('m')
      .where('m.sid IS NULL')
      .andWhere("(m.status = 'unknown' OR (m.status = 'initiating' AND m.created_at < :before))", { before: initiatingBefore })
      .orderBy('m.created_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Ids of the unresolved outbound intents from `from` to `to` with this body created in [since, until], oldest first. */
  async findIntentCandidates(to: string, from: string, body: string, since: Date, until: Date): Promise<string[]> {
    const rows = await this.repo.query<{ id: string }[]>(
      `SELECT id FROM message_records
       WHERE sid IS NULL AND status = ANY($6) AND direction = 'outbound'
         AND to_number = $1 AND from_number = $2 AND body = $3 AND created_at >= $4 AND created_at <= $5
       ORDER BY created_at ASC, id ASC LIMIT 10`,
      [to, from, body, since, until, INTENT_STATUSES],
    );
    return rows.map((row) => row.id);
  }

  /** Newest first, keyset-paginated on (created_at, id); each row the JSON text of what the API shows of a message. */
  listPage(filter: MessageHistoryFilter, cursor: Cursor | null, limit: number): Promise<Page<JsonText<MessageDto>>> {
    return historyPage((sql, values) => this.repo.query(sql, values), { table: 'message_records', json: LIST_JSON }, filter, cursor, limit);
  }

  /**
   * Applies what Twilio reported, atomically: a status only moves forward (see messageStatusAdvances);
   * facts fill in whenever they arrive. Returns null when the message is not stored.
   */
  async applyObservation(sid: string, seen: MessageObservation, source: StatusEventSource): Promise<MessageRecordEntity | null> {
    return (await this.applier.apply(applyValues(sid, null, seen, source))).record;
  }

  /**
   * The same in one statement with `guard` (the inbox keeping the event, or marking it applied);
   * `recordId` names the intent the callback is about, which takes the sid when it has none yet.
   */
  applyGuarded(
    sid: string,
    recordId: string | null,
    seen: MessageObservation,
    source: StatusEventSource,
    guard: ApplyGuard,
  ): Promise<GuardedApply<MessageRecordEntity>> {
    return this.applier.apply(applyValues(sid, recordId, seen, source), guard);
  }

  /**
   * Runs `listener` in the transaction of every status change: a record stored with a sid, and an
   * apply that moved the status (see GuardedApplier).
   */
  onStatusChanged(listener: RecordChangedListener<MessageRecordEntity>): void {
    this.statusChanged.add(listener);
    this.applier.onStatusChanged(async (tx, change) => {
      if (change.record) await listener(tx, change.record, change.previousStatus);
    });
  }

  /** Counts one more reconciliation failure about the record in a row; set aside at `maxFailures`. */
  recordReconcileFailure(sid: string, reason: string, maxFailures: number): Promise<ReconcileFailure | null> {
    return recordReconcileFailure(this.repo.manager, 'message_records', sid, reason, maxFailures);
  }

  clearReconcileFailures(sid: string): Promise<void> {
    return clearReconcileFailures(this.repo.manager, 'message_records', sid);
  }

  setAsideByReconcile(): Promise<SetAsideRecords> {
    return setAsideRecords(this.repo.manager, 'message_records');
  }

  /**
   * Claims up to `limit` messages for reconciliation and returns their sids: non-terminal ones
   * (`stale`) or charged terminal ones without a price (`unpriced`), neither updated nor compared
   * with Twilio since `before`.
   */
  claimForReconcile(which: 'stale' | 'unpriced', before: Date, limit: number): Promise<string[]> {
    return which === 'stale'
      ? claimRows(this.repo.manager, 'message_records', 'sid IS NOT NULL AND status <> ALL($4)', [TERMINAL_MESSAGE_STATUSES], before, limit)
      : claimRows(
          this.repo.manager,
          'message_records',
          `sid IS NOT NULL AND status = ANY($4) AND price IS NULL AND ${BACKOFF_SINCE_CREATED}`,
          [PRICED_STATUSES],
          before,
          limit,
        );
  }

  timeline(sid: string) {
    return this.timelines.list('message', sid, messageStatusRank);
  }

  async spendSince(since: Date): Promise<{ actual: string; pendingSegments: number }> {
    const [row] = await this.repo.query<{ actual: string; pending_segments: number }[]>(SPEND_SQL, [since]);
    return { actual: String(row.actual), pendingSegments: Number(row.pending_segments) };
  }

  /** Usage of the messages created in [since, until): whole days from the daily rollup, the edges from the messages. */
  async usage(since: Date, until: Date): Promise<MessageUsage> {
    // asked each time, never remembered: removing the state row has the rollup rebuilt meanwhile
    const built = (await rollupRefreshedAt(this.repo.manager, MESSAGE_ROLLUP)) !== null;
    const [row] = await this.repo.query<MessageUsage[]>(built ? USAGE_SQL.built : USAGE_SQL.raw, rolledUpParams(since, until));
    return { totals: row.totals, daily: row.daily };
  }

  /** Brings the daily rollup up to date with the messages changed since `changedSince`. */
  refreshUsageRollup(changedSince: Date, startedAt: Date): Promise<void> {
    return refreshDailyRollup(this.repo.manager, MESSAGE_ROLLUP, changedSince, startedAt);
  }

  usageRollupRefreshedAt(): Promise<Date | null> {
    return rollupRefreshedAt(this.repo.manager, MESSAGE_ROLLUP);
  }

  private recordStatus(
    tx: EntityManager,
    sid: string,
    status: MessageStatus,
    source: StatusEventSource,
    occurredAt: Date,
    errorCode: number | null,
  ): Promise<void> {
    return this.timelines.record(tx, 'message', sid, { status, sequenceNumber: -1, source, occurredAt, errorCode });
  }
}
