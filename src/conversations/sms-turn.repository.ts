import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { entityOfRow } from '../db/entity-of-row';
import { SmsTurnEntity, SmsTurnRole } from './sms-turn.entity';

export interface NewSmsTurn {
  assistantId: string;
  ourNumber: string;
  theirNumber: string;
  role: SmsTurnRole;
  text: string;
  messageSid: string | null;
}

/** The SMS conversations' turns, by the pair of numbers. */
@Injectable()
export class SmsTurnRepository {
  constructor(@InjectRepository(SmsTurnEntity) private readonly repo: Repository<SmsTurnEntity>) {}

  /** Stores a turn; null when its message is stored already (the same SMS handed over again). */
  async append(turn: NewSmsTurn): Promise<SmsTurnEntity | null> {
    const rows = await this.repo.query<Record<string, unknown>[]>(
      `INSERT INTO sms_turns (assistant_id, our_number, their_number, role, text, message_sid)
       VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (message_sid) WHERE message_sid IS NOT NULL DO NOTHING
       RETURNING *`,
      [turn.assistantId, turn.ourNumber, turn.theirNumber, turn.role, turn.text, turn.messageSid],
    );
    return rows.length ? entityOfRow(this.repo, rows[0]) : null;
  }

  /** How the agent answered a caller turn: its latency, and why its answer was not used. */
  async recordAgent(id: string, latencyMs: number, error: string | null): Promise<void> {
    await this.repo.update({ id }, { agentLatencyMs: latencyMs, agentError: error });
  }

  async setMessageSid(id: string, messageSid: string | null): Promise<void> {
    await this.repo.update({ id }, { messageSid });
  }

  async remove(id: string): Promise<void> {
    await this.repo.delete({ id });
  }

  /** The last `limit` turns between the two numbers (or between `theirNumber` and any of ours), oldest first. */
  async listOfConversation(theirNumber: string, ourNumber: string | null, limit: number): Promise<SmsTurnEntity[]> {
    const newest = await this.repo.find({
      where: ourNumber ? { theirNumber, ourNumber } : { theirNumber },
      order: { createdAt: 'DESC', id: 'DESC' },
      take: limit,
    });
    return newest.reverse();
  }

  countCallerTurns(theirNumber: string, ourNumber: string): Promise<number> {
    return this.repo.count({ where: { theirNumber, ourNumber, role: 'caller' } });
  }
}
