import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type SmsTurnRole = 'assistant' | 'caller';

/**
 * One turn of an SMS conversation with an assistant: a text the other party sent to the
 * assistant's number, or the agent's answer sent back. The conversation is the pair of numbers.
 */
@Entity('sms_turns')
@Index('idx_sms_turns_conversation', ['theirNumber', 'ourNumber', 'createdAt'])
@Index('uq_sms_turns_message', ['messageSid'], { unique: true, where: 'message_sid IS NOT NULL' })
export class SmsTurnEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'assistant_id', type: 'uuid' })
  assistantId: string;

  /** The assistant's number. */
  @Column({ name: 'our_number', type: 'varchar', length: 32 })
  ourNumber: string;

  /** The other party's number. */
  @Column({ name: 'their_number', type: 'varchar', length: 32 })
  theirNumber: string;

  @Column({ type: 'varchar', length: 16 })
  role: SmsTurnRole;

  @Column({ type: 'text' })
  text: string;

  /** The message of the turn: the inbound SMS, or the reply sent (null when it could not be sent). */
  @Column({ name: 'message_sid', type: 'varchar', length: 34, nullable: true })
  messageSid: string | null;

  /** How long the agent took to answer this caller turn. */
  @Column({ name: 'agent_latency_ms', type: 'integer', nullable: true })
  agentLatencyMs: number | null;

  /** Why the agent's answer could not be used; null when it could. */
  @Column({ name: 'agent_error', type: 'text', nullable: true })
  agentError: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz', default: () => 'clock_timestamp()' })
  createdAt: Date;
}
