import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { EntityManager, Repository } from 'typeorm';
import { entityOfRow } from '../db/entity-of-row';
import { positionalValues, preparePositional, runPrepared } from '../db/guarded-apply';
import { type EventDraft, eventDraftValues, insertEventFromSql } from '../events/outbox';
import { setTwimlEndSql } from './call-record.repository';
import { CallRecordEntity } from './call-record.entity';
import { CallTurnEntity, TurnRole } from './call-turn.entity';

/** A turn whose id and time are chosen before it is written, so that its event can be drafted first. */
export interface TurnToAnnounce {
  id: string;
  createdAt: Date;
}

export interface NewTurn {
  role: TurnRole;
  text?: string | null;
  confidence?: number | null;
  digits?: string | null;
  step?: number | null;
  answerTwiml?: string | null;
  agentLatencyMs?: number | null;
  agentError?: string | null;
  twilioToken?: string | null;
  answeredAt?: Date | null;
}

/** Where a conversation stands, from its turns. */
export interface ConversationProgress {
  /** Caller turns so far (silences included). */
  callerTurns: number;
  /** Silent caller turns at the end of the conversation. */
  trailingSilences: number;
  /** Answered caller turns at the end whose agent answer failed. */
  trailingAgentFailures: number;
  /** When the first turn was stored. */
  startedAt: Date | null;
  /** The highest step answered so far. */
  lastStep: number;
}

/** What a conversation's next step is worked out from: each turn without what it was answered with. */
export type ConversationTurn = Pick<CallTurnEntity, 'role' | 'text' | 'digits' | 'step' | 'agentError' | 'answeredAt' | 'createdAt'>;

const INSERT_COLUMNS =
  'id, call_sid, seq, step, role, text, confidence, digits, answer_twiml, agent_latency_ms, agent_error, twilio_token, answered_at';

/** The turn at the end of the call's conversation (seq the next free one); no row when it is taken or the step is stored. */
const APPEND_TURN = preparePositional(
  'append_call_turn',
  `INSERT INTO call_turns (${INSERT_COLUMNS})
   SELECT gen_random_uuid(), $1::varchar, COALESCE(MAX(seq), 0) + 1, $2::int, $3::varchar, $4::text, $5::float8, $6::text,
          $7::text, $8::int, $9::text, $10::text, $11::timestamptz
   FROM call_turns WHERE call_sid = $1::varchar
   ON CONFLICT DO NOTHING
   RETURNING *`,
);

/** The length of call_records.sid and call_turns.call_sid. */
const CALL_SID_MAX_LENGTH = 34;

/** The columns a turn is written with when its event is written in the same statement (id and time known beforehand). */
const ANNOUNCED_COLUMNS = `${INSERT_COLUMNS}, created_at`;

/**
 * APPEND_TURN with its `call.turn` event (`$14`..: the draft; the event's seq is the one taken), for
 * a call we store, in one statement (one round trip, one commit: the turn and its event exist
 * together or not at all). Its row is the call (no row for a call we do not store), with the seq
 * taken (`turn_seq`, null when nothing was stored) and the turns before it (`earlier`, JSON in seq
 * order), read in the snapshot the seq was taken in: with the new turn, the conversation up to it.
 */
const APPEND_TURN_IN_CONVERSATION = preparePositional(
  'append_call_turn_in_conversation',
  `WITH call AS (
     SELECT * FROM call_records WHERE sid = $1::varchar
   ),
   earlier AS (
     SELECT seq, role, text, digits, step, agent_error, answered_at, created_at FROM call_turns WHERE call_sid = $1::varchar
   ),
   stored AS (
     INSERT INTO call_turns (${ANNOUNCED_COLUMNS})
     SELECT $12::uuid, $1::varchar, COALESCE((SELECT MAX(seq) FROM earlier), 0) + 1, $2::int, $3::varchar, $4::text,
            $5::float8, $6::text, $7::text, $8::int, $9::text, $10::text, $11::timestamptz, $13::timestamptz
     WHERE EXISTS (SELECT 1 FROM call)
     ON CONFLICT DO NOTHING
     RETURNING seq
   ),
   announced AS (${insertEventFromSql('stored', 14, { seq: 'seq' })})
   SELECT call.*, (SELECT seq FROM stored) AS turn_seq, (SELECT json_agg(earlier ORDER BY seq) FROM earlier) AS earlier FROM call`,
);

/** What a caller turn was answered with, and how that TwiML ends the call, in one statement. */
const ANSWER_TURN = preparePositional(
  'answer_call_turn',
  `WITH answered AS (
     UPDATE call_turns SET answer_twiml = $3::text, agent_latency_ms = $4::int, agent_error = $5::text, answered_at = now()
     WHERE id = $1::uuid
   )
   ${setTwimlEndSql('$2', '$6')}`,
);

/**
 * ANSWER_TURN with the assistant's turn it spoke appended and that turn's `call.turn` event
 * (`$11`..), in one statement. Nothing is written when the seq was taken meanwhile (no row): the
 * answer is stored only with the turn, so that the statement can be run again.
 */
const ANSWER_WITH_TURN = preparePositional(
  'answer_call_turn_with_turn',
  `WITH stored AS (
     INSERT INTO call_turns (id, call_sid, seq, role, text, created_at)
     SELECT $8::uuid, $2::varchar, COALESCE(MAX(seq), 0) + 1, $9::varchar, $10::text, $7::timestamptz
     FROM call_turns WHERE call_sid = $2::varchar
     ON CONFLICT DO NOTHING
     RETURNING *
   ),
   answered AS (
     UPDATE call_turns SET answer_twiml = $3::text, agent_latency_ms = $4::int, agent_error = $5::text, answered_at = now()
     WHERE id = $1::uuid AND EXISTS (SELECT 1 FROM stored)
   ),
   ended AS (${setTwimlEndSql('$2', '$6', 'EXISTS (SELECT 1 FROM stored)')}),
   announced AS (${insertEventFromSql('stored', 11, { seq: 'seq' })})
   SELECT * FROM stored`,
);

@Injectable()
export class CallTurnRepository {
  constructor(
    @InjectRepository(CallTurnEntity) private readonly repo: Repository<CallTurnEntity>,
    @InjectRepository(CallRecordEntity) private readonly records: Repository<CallRecordEntity>,
  ) {}

  transaction<T>(work: (tx: EntityManager) => Promise<T>): Promise<T> {
    return this.repo.manager.transaction(work);
  }

  /**
   * Appends a turn at the end of the call's conversation within `tx`. With a `step` already taken,
   * nothing is written and null is returned (a retried request).
   */
  async append(tx: EntityManager, callSid: string, turn: NewTurn): Promise<CallTurnEntity | null> {
    const params = appendParams(callSid, turn);
    return this.appended(tx, callSid, turn, await tx.query<Record<string, unknown>[]>(APPEND_TURN.text, params), params);
  }

  /**
   * Appends a turn as `append` does, with its event (`announce`), in one statement of its own
   * (TurnToAnnounce: its id and time are chosen beforehand, so the event can be drafted before the
   * database picks its seq), which reads the call too. Answers null for a call we do not store;
   * else the call, and the stored turn with the conversation up to it (its turns in order, the new
   * one last), or null for a step already stored.
   */
  async appendInConversation(
    callSid: string,
    turn: NewTurn & TurnToAnnounce,
    announce: EventDraft,
  ): Promise<{ call: CallRecordEntity; stored: { turn: CallTurnEntity; conversation: ConversationTurn[] } | null } | null> {
    // no call we store has a longer sid; the statement would fail on it, as it binds the sid to the turn's column
    if (callSid.length > CALL_SID_MAX_LENGTH) return null;
    const params = [...appendParams(callSid, turn), turn.id, turn.createdAt, ...eventDraftValues(announce)];
    const run = async () =>
      (await runPrepared<Record<string, unknown>>(this.repo.manager, APPEND_TURN_IN_CONVERSATION, positionalValues(params)))[0];
    let row = await run();
    for (let attempt = 1; row?.turn_seq === null; attempt++) {
      if (turn.step != null && (await this.stepStored(this.repo.manager, callSid, turn.step))) {
        return { call: entityOfRow(this.records, row), stored: null };
      }
      if (attempt > 3) throw new Error(`no free turn number for call ${callSid} after ${attempt} attempts`);
      row = await run();
    }
    if (!row) return null;
    const earlier = ((row.earlier ?? []) as EarlierTurnJson[]).map((json) => ({
      role: json.role,
      text: json.text,
      digits: json.digits,
      step: json.step,
      agentError: json.agent_error,
      answeredAt: json.answered_at === null ? null : new Date(json.answered_at),
      createdAt: new Date(json.created_at),
    }));
    const stored = this.repo.create({
      id: turn.id,
      callSid,
      seq: row.turn_seq as number,
      step: turn.step ?? null,
      role: turn.role,
      text: turn.text ?? null,
      confidence: turn.confidence ?? null,
      digits: turn.digits ?? null,
      answerTwiml: turn.answerTwiml ?? null,
      agentLatencyMs: turn.agentLatencyMs ?? null,
      agentError: turn.agentError ?? null,
      twilioToken: turn.twilioToken ?? null,
      createdAt: turn.createdAt,
      answeredAt: turn.answeredAt ?? null,
    });
    return { call: entityOfRow(this.records, row), stored: { turn: stored, conversation: [...earlier, stored] } };
  }

  /**
   * The turn the append stored, from its rows. None: the seq was taken by another writer (the later
   * one's insert waits for the other to commit, then stores nothing: DO NOTHING, not a unique
   * violation, which would abort the caller's transaction), tried again with that seq in view; or
   * the step is already stored, a retried request: null.
   */
  private async appended(
    tx: EntityManager,
    callSid: string,
    turn: NewTurn,
    first: Record<string, unknown>[],
    params: unknown[],
  ): Promise<CallTurnEntity | null> {
    const row = await this.appendedRow(tx, APPEND_TURN.text, callSid, turn, first, params);
    return row && entityOfRow(this.repo, row);
  }

  private async appendedRow(
    tx: EntityManager,
    sql: string,
    callSid: string,
    turn: NewTurn,
    first: Record<string, unknown>[],
    params: unknown[],
  ): Promise<Record<string, unknown> | null> {
    let rows = first;
    for (let attempt = 1; !rows.length; attempt++) {
      if (turn.step != null && (await this.stepStored(tx, callSid, turn.step))) return null;
      if (attempt > 3) throw new Error(`no free turn number for call ${callSid} after ${attempt} attempts`);
      rows = await tx.query<Record<string, unknown>[]>(sql, params);
    }
    return rows[0];
  }

  private async stepStored(tx: EntityManager, callSid: string, step: number): Promise<boolean> {
    const rows = await tx.query<unknown[]>('SELECT 1 FROM call_turns WHERE call_sid = $1 AND step = $2', [callSid, step]);
    return rows.length > 0;
  }

  findStep(callSid: string, step: number): Promise<CallTurnEntity | null> {
    return this.repo.findOne({ where: { callSid, step } });
  }

  /**
   * Stores the answer of a caller turn (the TwiML, the agent's latency or failure) and how that
   * TwiML ends the call (`end`, see CallRecordEntity.twimlEndsAs) and, when `said` is given, appends
   * the assistant's turn it spoke with that turn's event, all in one statement. Two writers racing
   * for the call's next seq (a mid-call say) run it again, as `append` does.
   */
  async answer(
    callerTurn: Pick<CallTurnEntity, 'id' | 'callSid'>,
    fields: Pick<CallTurnEntity, 'answerTwiml' | 'agentLatencyMs' | 'agentError'>,
    end: string | null,
    said: { turn: Pick<NewTurn, 'role' | 'text'> & TurnToAnnounce; announce: EventDraft } | null,
  ): Promise<CallTurnEntity | null> {
    const answer = [callerTurn.id, callerTurn.callSid, fields.answerTwiml, fields.agentLatencyMs, fields.agentError, end];
    if (!said) {
      await runPrepared(this.repo.manager, ANSWER_TURN, positionalValues(answer));
      return null;
    }
    const { turn, announce } = said;
    const params = [...answer, turn.createdAt, turn.id, turn.role, turn.text ?? null, ...eventDraftValues(announce)];
    const run = () => runPrepared<Record<string, unknown>>(this.repo.manager, ANSWER_WITH_TURN, positionalValues(params));
    let rows = await run();
    for (let attempt = 1; !rows.length; attempt++) {
      if (attempt > 3) throw new Error(`no free turn number for call ${callerTurn.callSid} after ${attempt} attempts`);
      rows = await run();
    }
    return entityOfRow(this.repo, rows[0]);
  }

  listOfCall(callSid: string): Promise<CallTurnEntity[]> {
    return this.repo.find({ where: { callSid }, order: { seq: 'ASC' } });
  }

  /** The call's turns in order, with only what working out the conversation's next step needs. */
  async conversationOf(callSid: string): Promise<ConversationTurn[]> {
    const rows = await this.repo.query<ConversationRow[]>(
      'SELECT role, text, digits, step, agent_error, answered_at, created_at FROM call_turns WHERE call_sid = $1 ORDER BY seq',
      [callSid],
    );
    return rows.map((row) => ({
      role: row.role,
      text: row.text,
      digits: row.digits,
      step: row.step,
      agentError: row.agent_error,
      answeredAt: row.answered_at,
      createdAt: row.created_at,
    }));
  }

  async progress(callSid: string): Promise<ConversationProgress> {
    return progressOf(await this.conversationOf(callSid));
  }
}

function appendParams(callSid: string, turn: NewTurn): unknown[] {
  return [
    callSid,
    turn.step ?? null,
    turn.role,
    turn.text ?? null,
    turn.confidence ?? null,
    turn.digits ?? null,
    turn.answerTwiml ?? null,
    turn.agentLatencyMs ?? null,
    turn.agentError ?? null,
    turn.twilioToken ?? null,
    turn.answeredAt ?? null,
  ];
}

/** A turn of APPEND_TURN_IN_CONVERSATION's `earlier`, as json_agg writes it. */
interface EarlierTurnJson {
  role: TurnRole;
  text: string | null;
  digits: string | null;
  step: number | null;
  agent_error: string | null;
  answered_at: string | null;
  created_at: string;
}

interface ConversationRow {
  role: TurnRole;
  text: string | null;
  digits: string | null;
  step: number | null;
  agent_error: string | null;
  answered_at: Date | null;
  created_at: Date;
}

/** Where a conversation stands, from its turns in order. */
export function progressOf(turns: ConversationTurn[]): ConversationProgress {
  const callerTurns = turns.filter((t) => t.role === 'caller');
  let trailingSilences = 0;
  let trailingAgentFailures = 0;
  for (let i = callerTurns.length - 1; i >= 0 && isSilent(callerTurns[i]); i--) trailingSilences++;
  const answered = callerTurns.filter((t) => t.answeredAt !== null);
  for (let i = answered.length - 1; i >= 0 && answered[i].agentError; i--) trailingAgentFailures++;
  return {
    callerTurns: callerTurns.length,
    trailingSilences,
    trailingAgentFailures,
    startedAt: turns[0]?.createdAt ?? null,
    lastStep: Math.max(0, ...turns.map((t) => t.step ?? 0)),
  };
}

export function isSilent(turn: Pick<CallTurnEntity, 'text' | 'digits'>): boolean {
  return !turn.text && !turn.digits;
}
