import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type TurnRole = 'assistant' | 'caller';

/**
 * One turn of a call's conversation: what the assistant said, or what the caller said, pressed or
 * left silent. A turn that answers a Twilio request carries its `step` (0: the opening, n: the n-th
 * Gather result), so a retried request finds the turn and the TwiML it was answered with.
 */
@Entity('call_turns')
@Index('uq_call_turns_seq', ['callSid', 'seq'], { unique: true })
@Index('uq_call_turns_step', ['callSid', 'step'], { unique: true, where: 'step IS NOT NULL' })
export class CallTurnEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'call_sid', type: 'varchar', length: 34 })
  callSid: string;

  /** Order within the call, from 1. */
  @Column({ type: 'integer' })
  seq: number;

  /** The Twilio request this turn answers: 0 the opening TwiML, n the n-th Gather result; null otherwise. */
  @Column({ type: 'integer', nullable: true })
  step: number | null;

  @Column({ type: 'varchar', length: 16 })
  role: TurnRole;

  /** What was said; null for a caller turn without speech (digits or silence). */
  @Column({ type: 'text', nullable: true })
  text: string | null;

  /** Twilio's speech recognition confidence, 0 to 1. */
  @Column({ type: 'double precision', nullable: true })
  confidence: number | null;

  @Column({ type: 'text', nullable: true })
  digits: string | null;

  /** The TwiML answered to the request of `step`. */
  @Column({ name: 'answer_twiml', type: 'text', nullable: true })
  answerTwiml: string | null;

  /** How long the agent took to answer this caller turn. */
  @Column({ name: 'agent_latency_ms', type: 'integer', nullable: true })
  agentLatencyMs: number | null;

  /** Why the agent's answer could not be used (timeout, status, bad JSON); null when it could. */
  @Column({ name: 'agent_error', type: 'text', nullable: true })
  agentError: string | null;

  /** Twilio's I-Twilio-Idempotency-Token of the request, kept for audit. */
  @Column({ name: 'twilio_token', type: 'text', nullable: true })
  twilioToken: string | null;

  /** When the request arrived (the caller finished), or the assistant's words were decided. */
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When the TwiML answering this turn was ready. */
  @Column({ name: 'answered_at', type: 'timestamptz', nullable: true })
  answeredAt: Date | null;
}
