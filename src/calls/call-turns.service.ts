import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EventsService } from '../events/events.service';
import type { EventDraft } from '../events/outbox';
import { TwimlEnd, twimlEndOf } from './call-report';
import { CallTurnEntity } from './call-turn.entity';
import { CallTurnRepository, ConversationProgress, NewTurn, TurnToAnnounce, progressOf } from './call-turn.repository';
import { toCallDto } from './call-dto';
import { CallDto, CallTranscriptEntryDto, CallTurnDto } from './calls.dto';

export type { ConversationProgress, NewTurn } from './call-turn.repository';
export type CallTurn = CallTurnEntity;

/**
 * The turns of a call's conversation: stored with their `call.turn` events in one transaction, so
 * the platform hears of every turn once and of no turn that was not stored.
 */
@Injectable()
export class CallTurnsService {
  constructor(
    private readonly turns: CallTurnRepository,
    private readonly events: EventsService,
  ) {}

  /**
   * Stores a turn that answers a Twilio request (`step`); null when that step is already stored
   * (the request is a retry: look its answer up with `findStep`) or the call is not one we store.
   */
  async appendStep(callSid: string, turn: NewTurn & { step: number }): Promise<CallTurn | null> {
    return (await this.appendStepInConversation(callSid, turn))?.stored?.turn ?? null;
  }

  /**
   * appendStep, with the call as the API returns it and, when the turn was stored, where the
   * conversation stands and what was said so far, the new turn included: all read by the statement
   * that stores the turn and its event. Null for a call we do not store (nothing is stored then).
   */
  async appendStepInConversation(
    callSid: string,
    turn: NewTurn & { step: number },
  ): Promise<{
    call: CallDto;
    stored: { turn: CallTurn; progress: ConversationProgress; transcript: Pick<CallTurn, 'role' | 'text'>[] } | null;
  } | null> {
    const toStore = { ...turn, ...this.identity() };
    const appended = await this.turns.appendInConversation(callSid, toStore, this.announcement(callSid, toStore));
    if (!appended) return null;
    const { call, stored } = appended;
    return {
      call: toCallDto(call),
      stored: stored && {
        turn: stored.turn,
        progress: progressOf(stored.conversation),
        transcript: stored.conversation.map(({ role, text }) => ({ role, text })),
      },
    };
  }

  /** Stores turns that answer no request of their own (the assistant's reply, a mid-call say). */
  async append(callSid: string, ...turns: NewTurn[]): Promise<CallTurn[]> {
    return this.turns.transaction(async (tx) => {
      const stored: CallTurn[] = [];
      for (const turn of turns) {
        const row = await this.turns.append(tx, callSid, { ...turn, step: null });
        if (row) {
          await this.announce(tx, row);
          stored.push(row);
        }
      }
      return stored;
    });
  }

  /**
   * Stores what a caller turn was answered with and, when the agent said something, the
   * assistant's turn, with how the TwiML served ends the call (see CallRecordEntity.twimlEndsAs:
   * `end` when the caller knows better than the document), in one transaction.
   */
  async answer(
    callerTurn: CallTurn,
    answer: { twiml: string; agentLatencyMs: number | null; agentError: string | null; end?: TwimlEnd | null },
    said: NewTurn | null,
  ): Promise<void> {
    const fields = { answerTwiml: answer.twiml, agentLatencyMs: answer.agentLatencyMs, agentError: answer.agentError };
    const end = answer.end === undefined ? twimlEndOf(answer.twiml) : answer.end;
    const saidTurn = said && { role: said.role, text: said.text ?? null, ...this.identity() };
    await this.turns.answer(
      callerTurn,
      fields,
      end,
      saidTurn && { turn: saidTurn, announce: this.announcement(callerTurn.callSid, saidTurn) },
    );
  }

  findStep(callSid: string, step: number): Promise<CallTurn | null> {
    return this.turns.findStep(callSid, step);
  }

  progress(callSid: string): Promise<ConversationProgress> {
    return this.turns.progress(callSid);
  }

  /** Where the call's conversation stands and what was said so far, from one read of its turns. */
  async conversation(callSid: string): Promise<{ progress: ConversationProgress; transcript: Pick<CallTurn, 'role' | 'text'>[] }> {
    const turns = await this.turns.conversationOf(callSid);
    return { progress: progressOf(turns), transcript: turns.map(({ role, text }) => ({ role, text })) };
  }

  async transcript(callSid: string | null): Promise<CallTranscriptEntryDto[]> {
    if (!callSid) return [];
    return (await this.turns.listOfCall(callSid)).map(toTranscriptEntry);
  }

  private async announce(tx: EntityManager, turn: CallTurn): Promise<void> {
    await this.events.record(tx, 'call.turn', { type: 'call_turn', id: turn.id, sid: turn.callSid, object: toCallTurnDto(turn) });
  }

  /** A new turn's id and time, chosen before it is written so that its event can be drafted with it. */
  private identity(): TurnToAnnounce {
    return { id: randomUUID(), createdAt: new Date() };
  }

  /** The `call.turn` event of a turn about to be written; the statement writing both fills in its seq. */
  private announcement(callSid: string, turn: NewTurn & TurnToAnnounce): EventDraft {
    const object = toCallTurnDto({
      seq: 0,
      role: turn.role,
      text: turn.text ?? null,
      confidence: turn.confidence ?? null,
      digits: turn.digits ?? null,
      createdAt: turn.createdAt,
      callSid,
      agentLatencyMs: turn.agentLatencyMs ?? null,
    });
    return this.events.draft('call.turn', { type: 'call_turn', id: turn.id, sid: callSid, object });
  }
}

export function toTranscriptEntry(
  turn: Pick<CallTurn, 'seq' | 'role' | 'text' | 'confidence' | 'digits' | 'createdAt'>,
): CallTranscriptEntryDto {
  return { seq: turn.seq, role: turn.role, text: turn.text, confidence: turn.confidence, digits: turn.digits, at: turn.createdAt };
}

export function toCallTurnDto(
  turn: Pick<CallTurn, 'seq' | 'role' | 'text' | 'confidence' | 'digits' | 'createdAt' | 'callSid' | 'agentLatencyMs'>,
): CallTurnDto {
  return { ...toTranscriptEntry(turn), call_sid: turn.callSid, agent_latency_ms: turn.agentLatencyMs };
}
