import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, In, Repository } from 'typeorm';
import { Cursor, HistoryFilter, Page, historyPage } from '../common/cursor';
import { JsonText, compactStringMap, isoMillis, jsonObjectOf } from '../common/json-columns';
import { RecordChangedListener, RecordChangedListeners } from '../common/record-changed.listeners';
import { INTENT_STATUSES, isIntentStatus } from '../common/intent-status';
import { BACKOFF_SINCE_CREATED, cappedBackoffSinceCreated, claimRows } from '../db/claim-rows';
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
import { CALL_STATUSES, CallStatus, Direction, TERMINAL_CALL_STATUSES } from '../twilio/twilio.types';
import { CallObservation } from './call-observation';
import { CallRecordEntity, CallRecordStatus } from './call-record.entity';
import type { TwimlEnd } from './call-report';
import type { CallDto, CallTransferDto } from './calls.dto';
import { CallControlEntry, callStatusAdvancesSql, callStatusRank } from './call-status.rules';

/** A history filter (see HistoryFilter) with this record's statuses and directions. */
export interface CallHistoryFilter extends HistoryFilter {
  status?: CallRecordStatus;
  direction?: Direction;
}

/**
 * A history row is a call as the API shows it (CallDto, with its names and in its order), written
 * by the query as JSON text: timestamps formatted as JSON writes a Date, the price as the string
 * the driver gives, the transfer as its object, no mapping after.
 */
const LIST_JSON = jsonObjectOf({
  id: 'id',
  sid: 'sid',
  direction: 'direction',
  from: 'from_number',
  to: 'to_number',
  status: 'status',
  message: 'message',
  audio_url: 'audio_url',
  twiml: 'twiml',
  voice: 'voice',
  language: 'language',
  record: 'record',
  agent_name: 'agent_name',
  call_purpose: 'call_purpose',
  workflow_id: 'workflow_id',
  metadata: compactStringMap("COALESCE(metadata, '{}'::jsonb)"),
  assistant_id: 'assistant_id',
  created_by: 'created_by',
  start_time: isoMillis('start_time'),
  end_time: isoMillis('end_time'),
  duration: 'duration_seconds',
  price: 'price::text',
  price_unit: 'price_unit',
  answered_by: 'answered_by',
  queue_time_ms: 'queue_time_ms',
  error_code: 'error_code',
  error_message: 'error_message',
  hangup_requested_at: isoMillis('hangup_requested_at'),
  hangup_requested_by: 'hangup_requested_by',
  voicemail_message: 'voicemail_message',
  voicemail_left_at: isoMillis('voicemail_left_at'),
  // toTransferDto: a transfer is shown once it has a time, a target and a status
  transfer: `CASE WHEN transfer_requested_at IS NOT NULL AND transfer_to <> '' AND transfer_status <> '' THEN ${jsonObjectOf({
    to: 'transfer_to',
    whisper: 'transfer_whisper',
    caller_id: 'transfer_caller_id',
    status: 'transfer_status',
    requested_at: isoMillis('transfer_requested_at'),
    requested_by: 'transfer_requested_by',
    call_sid: 'transfer_call_sid',
    duration: 'transfer_duration_seconds',
  } satisfies Record<keyof CallTransferDto, string>)} END`,
  created_at: isoMillis('created_at'),
  updated_at: isoMillis('updated_at'),
} satisfies Record<keyof Omit<CallDto, 'timeline' | 'transcript'>, string>);

/** The facts an observation may carry: column and type, filled in whenever they arrive. */
const FACTS = {
  startTime: ['start_time', 'timestamptz'],
  endTime: ['end_time', 'timestamptz'],
  durationSeconds: ['duration_seconds', 'int'],
  price: ['price', 'numeric'],
  priceUnit: ['price_unit', 'varchar'],
  answeredBy: ['answered_by', 'varchar'],
  queueTimeMs: ['queue_time_ms', 'int'],
  errorCode: ['error_code', 'int'],
  errorMessage: ['error_message', 'text'],
} as const satisfies Partial<Record<keyof CallObservation, readonly [string, string]>>;
const FACT_FIELDS = Object.keys(FACTS) as (keyof typeof FACTS)[];

/**
 * The apply statement (see guardedApplySql): the status moves only for a newer callback (by
 * SequenceNumber, when it has one) that advances the lifecycle (callStatusAdvances); the highest
 * sequence is kept; every fact fills in; anything but a webhook stamps synced_at.
 */
const APPLY_PARTS = {
  params: [
    ':sid::varchar AS sid',
    ':record_id::uuid AS record_id',
    ':status::varchar AS status',
    ':sequence::int AS sequence',
    ':occurred_at::timestamptz AS occurred_at',
    ':source::varchar AS source',
    ...FACT_FIELDS.map((field) => `:${FACTS[field][0]}::${FACTS[field][1]} AS ${FACTS[field][0]}`),
  ].join(', '),
  next: {
    sid: 'COALESCE(t.sid, p.sid)',
    status: `CASE WHEN p.status IS NOT NULL AND p.status <> t.status AND (p.sequence IS NULL OR p.sequence > t.status_sequence)
      AND ${callStatusAdvancesSql('t.status', 'p.status')} THEN p.status ELSE t.status END`,
    status_sequence: 'GREATEST(t.status_sequence, p.sequence)',
    ...Object.fromEntries(FACT_FIELDS.map((field) => [FACTS[field][0], `COALESCE(p.${FACTS[field][0]}, t.${FACTS[field][0]})`])),
    synced_at: "CASE WHEN p.source <> 'webhook' THEN now() ELSE t.synced_at END",
  },
  touch: "p.source <> 'webhook'",
  sideEffect: timelineUpsertSql(
    "SELECT 'call', calc.sid, p.status, COALESCE(p.sequence, -1), p.source, COALESCE(p.occurred_at, now()), p.error_code FROM calc, p WHERE p.status IS NOT NULL",
  ),
};

function applyValues(sid: string, recordId: string | null, seen: CallObservation, source: StatusEventSource): Record<string, unknown> {
  const values: Record<string, unknown> = {
    sid,
    record_id: recordId,
    status: seen.status ?? null,
    sequence: seen.sequence ?? null,
    occurred_at: seen.occurredAt ?? null,
    source,
  };
  for (const field of FACT_FIELDS) values[FACTS[field][0]] = seen[field] ?? null;
  return values;
}

/** Calls created in [since, until); cost is a decimal string (numeric, 5 decimals). */
/** A call record by its id or its Twilio sid. */
export type CallKey = { id: string } | { sid: string };

export interface TransferRequest {
  to: string;
  whisper: string | null;
  callerId: string;
  by: string;
  at: Date;
}

export interface TransferOutcome {
  /** Twilio's DialCallStatus. */
  status: string;
  callSid: string | null;
  durationSeconds: number | null;
  /** The call itself had ended when Twilio requested the Dial action: its party hung up during the dial. */
  callEnded: boolean;
}

export interface CallUsageTotals {
  calls: number;
  inbound: number;
  outbound: number;
  billableMinutes: number;
  cost: string;
  unpriced: number;
}

/** Calls created in a period: totals, counts by status (only those with calls), and UTC days with calls, oldest first. */
export interface CallUsage {
  totals: CallUsageTotals;
  byStatus: Record<string, number>;
  daily: CallDailyUsage[];
}

export interface CallDailyUsage {
  /** YYYY-MM-DD, UTC. */
  date: string;
  calls: number;
  billableMinutes: number;
  cost: string;
}

// Twilio reports charges as negative prices; we sum their absolute values. A completed call is
// billed per started minute.
const CALL_ROLLUP: DailyRollup = {
  source: 'call_records',
  table: 'call_daily_stats',
  groups: ['direction', 'status'],
  // a request Twilio never received (or not yet answered) is not usage
  where: 'sid IS NOT NULL',
  measures: {
    calls: 'COUNT(*)',
    billable_minutes: `COALESCE(SUM((duration_seconds + 59) / 60) FILTER (WHERE status = 'completed' AND duration_seconds > 0), 0)`,
    cost: 'COALESCE(SUM(ABS(price)), 0)',
    unpriced: 'COUNT(*) FILTER (WHERE price IS NULL)',
  },
};
/**
 * Totals, counts by status and per-day figures of a period in one statement, so that the raw edges
 * of the period are read once: one row of JSON (integers as numbers, money as 5-decimal strings).
 */
function usageSql(built: boolean): string {
  return `
WITH r AS MATERIALIZED (${rolledUpRowsSql(CALL_ROLLUP, built)})
SELECT
  (SELECT json_build_object(
     'calls', COALESCE(SUM(calls), 0)::int,
     'inbound', COALESCE(SUM(calls) FILTER (WHERE direction = 'inbound'), 0)::int,
     'outbound', COALESCE(SUM(calls) FILTER (WHERE direction = 'outbound'), 0)::int,
     'billableMinutes', COALESCE(SUM(billable_minutes), 0)::int,
     'cost', ROUND(COALESCE(SUM(cost), 0)::numeric, 5)::text,
     'unpriced', COALESCE(SUM(unpriced), 0)::int) FROM r) AS totals,
  (SELECT COALESCE(json_object_agg(status, n ORDER BY status), '{}')
   FROM (SELECT status, SUM(calls)::int AS n FROM r GROUP BY status HAVING SUM(calls) > 0) s) AS "byStatus",
  (SELECT COALESCE(json_agg(d ORDER BY d.date), '[]')
   FROM (SELECT to_char(day, 'YYYY-MM-DD') AS date, SUM(calls)::int AS calls, SUM(billable_minutes)::int AS "billableMinutes",
                ROUND(SUM(cost)::numeric, 5)::text AS cost
         FROM r GROUP BY day HAVING SUM(calls) > 0) d) AS daily`;
}
const USAGE_SQL = { built: usageSql(true), raw: usageSql(false) };

/**
 * Calls created since $1: the prices Twilio reported, and the minutes still to be priced. An ended
 * call without a price counts its started minutes (nothing when it was never answered); a call in
 * flight counts the minutes it has been answered for, at least $2 (the expected length).
 */
const SPEND_SQL = `
SELECT ROUND(COALESCE(SUM(ABS(price)), 0)::numeric, 5)::text AS actual,
       COALESCE(SUM(CASE
         WHEN price IS NOT NULL THEN 0
         WHEN status = 'completed' THEN COALESCE((duration_seconds + 59) / 60, $2)
         WHEN status = ANY($3) THEN 0
         WHEN status = 'in-progress' AND start_time IS NOT NULL
           THEN GREATEST($2, CEIL(EXTRACT(EPOCH FROM (now() - start_time)) / 60)::int)
         ELSE $2 END), 0)::int AS pending_minutes
FROM call_records WHERE created_at >= $1`;

/** Every status a call may have that is not terminal (intents included). */
const LIVE_CALL_STATUSES: readonly CallRecordStatus[] = [
  ...INTENT_STATUSES,
  ...CALL_STATUSES.filter((status) => !TERMINAL_CALL_STATUSES.includes(status)),
];
const COUNT_LIVE_SQL = 'SELECT count(*)::int AS n FROM call_records WHERE status = ANY($1)';
const COUNT_LIVE_AT_MOST_SQL = 'SELECT count(*)::int AS n FROM (SELECT 1 FROM call_records WHERE status = ANY($1) LIMIT $2) live';

/**
 * Twilio's answer to the create request, on the intent $1 if nobody has touched it since it was
 * stored (no sid, an intent status, so any status advances it), with the timeline entry of its
 * status: what attachSid and applyObservation do, in one statement.
 */
const COMPLETE_FRESH_INTENT_SQL = `
WITH completed AS (
  UPDATE call_records SET sid = $2, status = $3,
    start_time = COALESCE($4, start_time), end_time = COALESCE($5, end_time), duration_seconds = COALESCE($6, duration_seconds),
    price = COALESCE($7, price), price_unit = COALESCE($8, price_unit), answered_by = COALESCE($9, answered_by),
    queue_time_ms = COALESCE($10, queue_time_ms), error_code = COALESCE($11, error_code), error_message = COALESCE($12, error_message),
    synced_at = CASE WHEN $14 = 'webhook' THEN synced_at ELSE now() END, updated_at = now()
  WHERE id = $1 AND sid IS NULL AND status = ANY($13)
  RETURNING *
), timeline AS (
  ${timelineUpsertSql(`SELECT 'call', sid, status, -1, $14, $15::timestamptz, $11 FROM completed`)}
)
SELECT * FROM completed`;
const COMPLETE_FRESH_INTENT = preparePositional('call_records_complete_fresh_intent', COMPLETE_FRESH_INTENT_SQL);

/**
 * The update noting how the TwiML served to call `sid` ends it (placeholders given, `when` an extra
 * condition), for statements of this module that store it with something else.
 */
export function setTwimlEndSql(sid: string, end: string, when = 'true'): string {
  return `UPDATE call_records SET twiml_ends_as = ${end}::varchar
     WHERE sid = ${sid}::varchar AND twiml_ends_as IS DISTINCT FROM ${end}::varchar AND ${when}`;
}

@Injectable()
export class CallRecordRepository {
  private readonly applier: GuardedApplier<CallRecordEntity>;

  constructor(
    @InjectRepository(CallRecordEntity) private readonly repo: Repository<CallRecordEntity>,
    private readonly timelines: TimelineService,
  ) {
    this.applier = new GuardedApplier(repo.manager, repo.metadata, APPLY_PARTS);
  }

  private readonly statusChanged = new RecordChangedListeners<CallRecordEntity>();

  async insert(data: Partial<CallRecordEntity>, source: StatusEventSource = 'api'): Promise<CallRecordEntity> {
    return this.repo.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(CallRecordEntity).save(tx.getRepository(CallRecordEntity).create(data));
      if (saved.sid && !isIntentStatus(saved.status)) {
        await this.recordStatus(tx, saved.sid, saved.status, -1, source, saved.createdAt, saved.errorCode);
        await this.statusChanged.notify(tx, saved, null);
      }
      return saved;
    });
  }

  /** Inserts the record unless one with its sid exists; true when this call inserted it. */
  async insertIfAbsent(data: Partial<CallRecordEntity> & { sid: string }, source: StatusEventSource): Promise<boolean> {
    if (await this.findBySid(data.sid)) return false;
    try {
      await this.insert(data, source);
      return true;
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
      return false;
    }
  }

  /**
   * Stores the request before Twilio is asked: every field, status `initiating`, no sid; one
   * statement, with the guardrails' count when `gate` is given (null when the count refused it).
   */
  async insertIntent(data: Partial<CallRecordEntity>, gate: InsertGate | null = null): Promise<CallRecordEntity | null> {
    const row = await gatedInsert(this.repo.manager, this.repo.metadata, { ...data, sid: null, status: 'initiating' }, gate);
    return row && entityOfRow(this.repo, row);
  }

  /**
   * Completes the intent `id` with Twilio's answer in one statement when nothing else touched it
   * since it was stored; null otherwise (a callback gave it its sid first, or it is gone), and the
   * caller goes through attachSid and applyObservation.
   */
  async completeFreshIntent(id: string, sid: string, seen: CallObservation, source: StatusEventSource): Promise<CallRecordEntity | null> {
    if (!seen.status) return null;
    const params = [
      id,
      sid,
      seen.status,
      seen.startTime ?? null,
      seen.endTime ?? null,
      seen.durationSeconds ?? null,
      seen.price ?? null,
      seen.priceUnit ?? null,
      seen.answeredBy ?? null,
      seen.queueTimeMs ?? null,
      seen.errorCode ?? null,
      seen.errorMessage ?? null,
      INTENT_STATUSES,
      source,
      seen.occurredAt ?? new Date(),
    ];
    // the intent leaves its intent status here: listeners (the events outbox) see it in the same transaction
    return runAndNotify(this.repo, this.statusChanged, COMPLETE_FRESH_INTENT, params, 'initiating');
  }

  findById(id: string): Promise<CallRecordEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  /** Gives an intent its Twilio sid, once; true when the row now has that sid. */
  async attachSid(id: string, sid: string): Promise<boolean> {
    // one statement: the sid given now, else the one the row had already
    const rows = await this.repo.query<{ sid: string | null }[]>(
      `WITH attached AS (UPDATE call_records SET sid = $2, updated_at = now() WHERE id = $1 AND sid IS NULL RETURNING sid)
       SELECT COALESCE((SELECT sid FROM attached), (SELECT sid FROM call_records WHERE id = $1)) AS sid`,
      [id, sid],
    );
    return rows[0]?.sid === sid;
  }

  /** Records that a hangup of call `id` was asked for, before Twilio is asked. Throws when the write fails. */
  /** Names the assistant conversing on the call, unless one is named already; true when this call named it. */
  async setAssistant(sid: string, assistantId: string): Promise<boolean> {
    const [, affected] = await this.repo.query<[unknown, number]>(
      'UPDATE call_records SET assistant_id = $2 WHERE sid = $1 AND assistant_id IS NULL',
      [sid, assistantId],
    );
    return affected > 0;
  }

  /** Notes how the TwiML just served to the call ends it (see CallRecordEntity.twimlEndsAs). */
  async setTwimlEnd(sid: string, end: TwimlEnd | null): Promise<void> {
    // a conversation serves the same kind of document turn after turn: no new row version for those
    await this.repo.query(setTwimlEndSql('$1', '$2'), [sid, end]);
  }

  async recordHangupRequest(id: string, by: string, at: Date): Promise<void> {
    await this.repo.update({ id }, { hangupRequestedAt: at, hangupRequestedBy: by });
  }

  /** Twilio refused the hangup asked for at `at`: nothing was ended, so the request is not kept. */
  async clearHangupRequest(id: string, at: Date): Promise<void> {
    await this.repo.update({ id, hangupRequestedAt: at }, { hangupRequestedAt: null, hangupRequestedBy: null });
  }

  /**
   * Records a transfer of call `id` before Twilio is asked; false when one is already on its way
   * (requested, its dial not reported yet). Who ends the call is unknown from here until the Dial
   * action says (recordTransferOutcome), which may come before Twilio's answer to the redirect.
   * Throws when the write fails.
   */
  async recordTransferRequest(id: string, transfer: TransferRequest): Promise<boolean> {
    const [, affected] = await this.repo.query<[unknown, number]>(
      `UPDATE call_records SET transfer_to = $2, transfer_whisper = $3, transfer_caller_id = $4, transfer_requested_at = $5,
         transfer_requested_by = $6, transfer_status = 'requested', transfer_call_sid = NULL, transfer_duration_seconds = NULL,
         twiml_ends_as = NULL, updated_at = now()
       WHERE id = $1 AND transfer_status IS DISTINCT FROM 'requested'`,
      [id, transfer.to, transfer.whisper, transfer.callerId, transfer.at, transfer.by],
    );
    return affected > 0;
  }

  /** Twilio refused the transfer asked for at `at`: nothing was dialed, so the request is not kept. */
  async clearTransferRequest(id: string, at: Date): Promise<void> {
    await this.repo.query(
      `UPDATE call_records SET transfer_to = NULL, transfer_whisper = NULL, transfer_caller_id = NULL, transfer_requested_at = NULL,
         transfer_requested_by = NULL, transfer_status = NULL, updated_at = now()
       WHERE id = $1 AND transfer_requested_at = $2 AND transfer_status = 'requested'`,
      [id, at],
    );
  }

  /** Twilio took the transfer: the call's timeline says it is being transferred. */
  async recordTransferring(sid: string, at: Date): Promise<void> {
    await this.repo.manager.transaction((tx) => this.recordControl(tx, sid, 'transferring', 'api', at));
  }

  /**
   * The transfer's dial ended (the Dial action): its outcome, the dialed leg and its talk time,
   * once; the timeline gets `transferred` or `transfer-failed`. Null when no transfer waited for it
   * (a repeated callback, or an unknown call).
   */
  /**
   * Stores how a transfer's dial ended, once, with who ends the call from then on (`end`, see
   * CallRecordEntity.twimlEndsAs); the record, or null when no transfer waited for it.
   */
  async recordTransferOutcome(key: CallKey, outcome: TransferOutcome, at: Date, end: TwimlEnd): Promise<CallRecordEntity | null> {
    return this.repo.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[Record<string, unknown>[], number]>(
        `UPDATE call_records SET transfer_status = $2, transfer_call_sid = $3, transfer_duration_seconds = $4, twiml_ends_as = $5,
           updated_at = now()
         WHERE ${'id' in key ? 'id' : 'sid'} = $1 AND transfer_status = 'requested' RETURNING *`,
        ['id' in key ? key.id : key.sid, outcome.status, outcome.callSid, outcome.durationSeconds, end],
      );
      if (!rows.length) return null;
      const record = entityOfRow(this.repo, rows[0]);
      const connected = outcome.status === 'completed' || outcome.status === 'answered';
      if (record.sid) await this.recordControl(tx, record.sid, connected ? 'transferred' : 'transfer-failed', 'webhook', at);
      return record;
    });
  }

  /** What answering-machine detection said about call `key`; the record, or null for an unknown call. */
  async recordAnsweredBy(key: CallKey, answeredBy: string): Promise<CallRecordEntity | null> {
    const rows = await this.repo.query<[Record<string, unknown>[], number]>(
      `UPDATE call_records SET answered_by = $2, updated_at = now() WHERE ${'id' in key ? 'id' : 'sid'} = $1 RETURNING *`,
      ['id' in key ? key.id : key.sid, answeredBy],
    );
    return rows[0].length ? entityOfRow(this.repo, rows[0][0]) : null;
  }

  /** Claims the voicemail drop of call `id`, once: false when it has no voicemail message or it was dropped already. */
  async claimVoicemailDrop(id: string, at: Date): Promise<boolean> {
    const [, affected] = await this.repo.query<[unknown, number]>(
      `UPDATE call_records SET voicemail_left_at = $2, updated_at = now()
       WHERE id = $1 AND voicemail_message IS NOT NULL AND voicemail_left_at IS NULL`,
      [id, at],
    );
    return affected > 0;
  }

  /** Twilio surely did not take the voicemail claimed at `at`: a retried detection callback may drop it again. */
  async releaseVoicemailDrop(id: string, at: Date): Promise<void> {
    await this.repo.query('UPDATE call_records SET voicemail_left_at = NULL, updated_at = now() WHERE id = $1 AND voicemail_left_at = $2', [
      id,
      at,
    ]);
  }

  /** Twilio took the voicemail: the timeline says it was left. */
  async recordVoicemailLeft(sid: string, at: Date): Promise<void> {
    await this.repo.manager.transaction((tx) => this.recordControl(tx, sid, 'voicemail-left', 'api', at));
  }

  /** Twilio surely did nothing: the intent goes away. */
  async deleteIntent(id: string): Promise<void> {
    await this.repo.query('DELETE FROM call_records WHERE id = $1 AND sid IS NULL', [id]);
  }

  /** Twilio's answer was lost: whether it acted is for reconciliation to find out. */
  async markIntentUnknown(id: string): Promise<void> {
    await this.repo.query(
      "UPDATE call_records SET status = 'unknown', updated_at = now() WHERE id = $1 AND sid IS NULL AND status = 'initiating'",
      [id],
    );
  }

  /** Twilio never received the request: nothing was placed. */
  async failIntent(id: string, message: string): Promise<boolean> {
    // the record leaves its intent status here: listeners (the events outbox) see it in the same transaction
    return this.repo.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[({ was: string } & Record<string, unknown>)[], number]>(
        `UPDATE call_records r SET status = 'failed', error_message = $2, synced_at = now(), updated_at = now()
         FROM (SELECT status AS was FROM call_records WHERE id = $1) o
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
  listUnresolvedIntents(initiatingBefore: Date, limit: number): Promise<CallRecordEntity[]> {
    return this.repo
      .createQueryBuilder('c')
      .where('c.sid IS NULL')
      .andWhere("(c.status = 'unknown' OR (c.status = 'initiating' AND c.created_at < :before))", { before: initiatingBefore })
      .orderBy('c.created_at', 'ASC')
      .limit(limit)
      .getMany();
  }

  /** Ids of the unresolved outbound intents from `from` to `to` created in [since, until], oldest first. */
  async findIntentCandidates(to: string, from: string, since: Date, until: Date): Promise<string[]> {
    const rows = await this.repo.query<{ id: string }[]>(
      `SELECT id FROM call_records
       WHERE sid IS NULL AND status = ANY($5) AND direction = 'outbound'
         AND to_number = $1 AND from_number = $2 AND created_at >= $3 AND created_at <= $4
       ORDER BY created_at ASC, id ASC LIMIT 10`,
      [to, from, since, until, INTENT_STATUSES],
    );
    return rows.map((row) => row.id);
  }

  /** The oldest record carrying every key and value of `metadata` (the history filter's index), as id, sid and status. */
  async findByMetadata(metadata: Record<string, string>): Promise<{ id: string; sid: string | null; status: string } | null> {
    const rows = await this.repo.query<{ id: string; sid: string | null; status: string }[]>(
      `SELECT id, sid, status FROM call_records WHERE metadata @> $1::jsonb ORDER BY created_at, id LIMIT 1`,
      [JSON.stringify(metadata)],
    );
    return rows[0] ?? null;
  }

  async exists(sid: string): Promise<boolean> {
    return (await this.repo.count({ where: { sid } })) > 0;
  }

  /** The stored status of each of `sids` that is stored, in one query. */
  async statusesOf(sids: string[]): Promise<Map<string, CallStatus>> {
    if (!sids.length) return new Map();
    const rows = await this.repo.find({ select: { sid: true, status: true }, where: { sid: In(sids) } });
    // rows found by sid have one; an intent whose sid was just attached may still say initiating
    return new Map(rows.flatMap((r) => (r.sid ? [[r.sid, r.status as CallStatus] as const] : [])));
  }

  async findBySid(sid: string): Promise<CallRecordEntity | null> {
    // every webhook reads its call: plain SQL, no query builder
    const [row] = await this.repo.query<Record<string, unknown>[]>('SELECT * FROM call_records WHERE sid = $1 LIMIT 1', [sid]);
    return row ? entityOfRow(this.repo, row) : null;
  }

  /** Newest first, keyset-paginated on (created_at, id); each row the JSON text of what the API shows of a call. */
  listPage(filter: CallHistoryFilter, cursor: Cursor | null, limit: number): Promise<Page<JsonText<CallDto>>> {
    return historyPage((sql, values) => this.repo.query(sql, values), { table: 'call_records', json: LIST_JSON }, filter, cursor, limit);
  }

  /**
   * Applies what Twilio reported, atomically: a status only moves forward (by callback sequence,
   * else by lifecycle rank) and a terminal status is final; facts fill in whenever they arrive.
   * Returns null when the call is not stored.
   */
  async applyObservation(sid: string, seen: CallObservation, source: StatusEventSource): Promise<CallRecordEntity | null> {
    return (await this.applier.apply(applyValues(sid, null, seen, source))).record;
  }

  /**
   * The same in one statement with `guard` (the inbox keeping the event, or marking it applied);
   * `recordId` names the intent the callback is about, which takes the sid when it has none yet.
   */
  applyGuarded(
    sid: string,
    recordId: string | null,
    seen: CallObservation,
    source: StatusEventSource,
    guard: ApplyGuard,
  ): Promise<GuardedApply<CallRecordEntity>> {
    return this.applier.apply(applyValues(sid, recordId, seen, source), guard);
  }

  /**
   * Runs `listener` in the transaction of every status change: a record stored with a sid, and an
   * apply that moved the status (see GuardedApplier).
   */
  onStatusChanged(listener: RecordChangedListener<CallRecordEntity>): void {
    this.statusChanged.add(listener);
    this.applier.onStatusChanged(async (tx, change) => {
      if (change.record) await listener(tx, change.record, change.previousStatus);
    });
  }

  /** Counts one more reconciliation failure about the record in a row; set aside at `maxFailures`. */
  recordReconcileFailure(sid: string, reason: string, maxFailures: number): Promise<ReconcileFailure | null> {
    return recordReconcileFailure(this.repo.manager, 'call_records', sid, reason, maxFailures);
  }

  clearReconcileFailures(sid: string): Promise<void> {
    return clearReconcileFailures(this.repo.manager, 'call_records', sid);
  }

  setAsideByReconcile(): Promise<SetAsideRecords> {
    return setAsideRecords(this.repo.manager, 'call_records');
  }

  /**
   * Claims up to `limit` calls for reconciliation and returns their sids: non-terminal ones (`stale`),
   * terminal ones without a price (`unpriced`) or answered recording calls without any recording
   * (`unrecorded`), neither updated nor compared with Twilio since `before`.
   */
  claimForReconcile(which: 'stale' | 'unpriced' | 'unrecorded', before: Date, limit: number): Promise<string[]> {
    const [condition, params] = CLAIM_CONDITIONS[which];
    return claimRows(this.repo.manager, 'call_records', condition, params, before, limit);
  }

  /**
   * Claims up to `limit` inbound calls that are not terminal, to numbers other than `exceptTo`, not
   * changed since `before`, and checked last long enough ago (backoff since their creation, capped
   * at `maxIntervalSeconds`); returns their sids.
   */
  claimLiveInbound(before: Date, exceptTo: string[], maxIntervalSeconds: number, limit: number): Promise<string[]> {
    return claimRows(
      this.repo.manager,
      'call_records',
      `sid IS NOT NULL AND direction = 'inbound' AND status <> ALL($4) AND to_number <> ALL($5) AND ${cappedBackoffSinceCreated(6)}`,
      [TERMINAL_CALL_STATUSES, exceptTo, maxIntervalSeconds],
      before,
      limit,
    );
  }

  timeline(sid: string) {
    return this.timelines.list('call', sid, callStatusRank);
  }

  /** Usage of the calls created in [since, until): whole days from the daily rollup, the edges from the calls. */
  async usage(since: Date, until: Date): Promise<CallUsage> {
    // asked each time, never remembered: removing the state row has the rollup rebuilt meanwhile
    const built = (await rollupRefreshedAt(this.repo.manager, CALL_ROLLUP)) !== null;
    const [row] = await this.repo.query<CallUsage[]>(built ? USAGE_SQL.built : USAGE_SQL.raw, rolledUpParams(since, until));
    return { totals: row.totals, byStatus: row.byStatus, daily: row.daily };
  }

  /**
   * Calls not in a terminal status: whatever Twilio may still be connecting or carrying; counting
   * stops at `atMost` (a cap only needs to know whether it is reached). The statuses are listed,
   * not excluded, so that the status index finds them.
   */
  async countLive(atMost?: number): Promise<number> {
    const [row] = await this.repo.query<{ n: number }[]>(
      atMost === undefined ? COUNT_LIVE_SQL : COUNT_LIVE_AT_MOST_SQL,
      atMost === undefined ? [LIVE_CALL_STATUSES] : [LIVE_CALL_STATUSES, atMost],
    );
    return Number(row.n);
  }

  async spendSince(since: Date, expectedMinutes: number): Promise<{ actual: string; pendingMinutes: number }> {
    const [row] = await this.repo.query<{ actual: string; pending_minutes: number }[]>(SPEND_SQL, [
      since,
      expectedMinutes,
      TERMINAL_CALL_STATUSES,
    ]);
    return { actual: String(row.actual), pendingMinutes: Number(row.pending_minutes) };
  }

  /** Brings the daily rollup up to date with the calls changed since `changedSince`. */
  refreshUsageRollup(changedSince: Date, startedAt: Date): Promise<void> {
    return refreshDailyRollup(this.repo.manager, CALL_ROLLUP, changedSince, startedAt);
  }

  usageRollupRefreshedAt(): Promise<Date | null> {
    return rollupRefreshedAt(this.repo.manager, CALL_ROLLUP);
  }

  /**
   * Ids of ended calls whose report is not marked ready and may be settled: ended before
   * `waitedOutBefore`, or priced (or never sent to Twilio) with the recordings they expect in a final
   * status. CallReportsService decides; this only narrows the rows it looks at.
   */
  async reportsToSettle(waitedOutBefore: Date, limit: number): Promise<string[]> {
    const rows = await this.repo.query<{ id: string }[]>(REPORTS_TO_SETTLE_SQL, [waitedOutBefore, limit, TERMINAL_CALL_STATUSES]);
    return rows.map((row) => row.id);
  }

  /**
   * Marks the call's report ready (at `at`) unless it already is, and runs `within` in that transaction
   * (call.report.ready is written there); true only for the one call that marked it.
   */
  markReportReady(id: string, at: Date, within: (tx: EntityManager) => Promise<void>): Promise<boolean> {
    return this.repo.manager.transaction(async (tx) => {
      const [, affected] = await tx.query<[unknown, number]>(
        'UPDATE call_records SET report_ready_at = $2 WHERE id = $1 AND report_ready_at IS NULL',
        [id, at],
      );
      if (affected === 0) return false;
      await within(tx);
      return true;
    });
  }

  private recordStatus(
    tx: EntityManager,
    sid: string,
    status: CallStatus,
    sequenceNumber: number,
    source: StatusEventSource,
    occurredAt: Date,
    errorCode: number | null,
  ): Promise<void> {
    return this.timelines.record(tx, 'call', sid, { status, sequenceNumber, source, occurredAt, errorCode });
  }

  private recordControl(
    tx: EntityManager,
    sid: string,
    entry: CallControlEntry,
    source: StatusEventSource,
    occurredAt: Date,
  ): Promise<void> {
    return this.timelines.record(tx, 'call', sid, { status: entry, sequenceNumber: -1, source, occurredAt, errorCode: null });
  }
}

/** See reportsToSettle; the recording rule is the one of the `unrecorded` claim (record, or TwiML with <Record>). */
const REPORTS_TO_SETTLE_SQL = `
SELECT c.id FROM call_records c
WHERE c.report_ready_at IS NULL AND c.status = ANY($3)
  AND (LEAST(c.end_time, c.updated_at) <= $1
       OR ((c.price IS NOT NULL OR c.sid IS NULL)
           AND (c.status <> 'completed' OR NOT (c.record OR COALESCE(c.twiml, '') ILIKE '%<Record%')
                OR (EXISTS (SELECT 1 FROM recordings r WHERE r.call_sid = c.sid)
                    AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.call_sid = c.sid
                                    AND r.status NOT IN ('completed', 'absent', 'failed', 'deleted'))))))
ORDER BY c.updated_at ASC
LIMIT $2`;

const CLAIM_CONDITIONS: Record<'stale' | 'unpriced' | 'unrecorded', [string, unknown[]]> = {
  stale: ['sid IS NOT NULL AND status <> ALL($4)', [TERMINAL_CALL_STATUSES]],
  unpriced: [`sid IS NOT NULL AND status = ANY($4) AND price IS NULL AND ${BACKOFF_SINCE_CREATED}`, [TERMINAL_CALL_STATUSES]],
  // recording (asked to, a voicemail, or TwiML with <Record>), answered, and no recording heard of in
  // the day since: its callback may have been lost
  unrecorded: [
    "sid IS NOT NULL AND (record OR twiml ILIKE '%<Record%') AND status = 'completed' AND created_at > now() - interval '1 day' " +
      'AND NOT EXISTS (SELECT 1 FROM recordings r WHERE r.call_sid = call_records.sid)',
    [],
  ],
};
