import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export type WebhookKind =
  | 'inbound_call'
  | 'inbound_sms'
  | 'call_status'
  | 'message_status'
  | 'recording_status'
  | 'call_twiml'
  /** Asynchronous answering-machine detection's result (AnsweredBy). */
  | 'call_amd'
  /** A transfer's `<Dial>` ended (DialCallStatus). */
  | 'call_dial'
  /** The inbound greeting's forward `<Dial>` ended (DialCallStatus). */
  | 'call_forward';

/** The inbox: every authentic webhook as received, for audit and replay. */
@Entity('webhook_events')
@Index('idx_webhook_events_sid_received', ['sid', 'receivedAt'])
@Index('idx_webhook_events_unapplied', ['appliedAt', 'receivedAt'])
@Index('idx_webhook_events_set_aside', ['setAsideAt'], { where: 'set_aside_at IS NOT NULL' })
export class WebhookEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 24 })
  kind: WebhookKind;

  /** CallSid / MessageSid / RecordingSid the event is about. */
  @Column({ type: 'varchar', length: 34 })
  sid: string;

  /** Identifies the event regardless of retries: kind + sid + status + sequence. */
  @Index('uq_webhook_events_dedupe_key', { unique: true })
  @Column({ name: 'dedupe_key', type: 'varchar', length: 200 })
  dedupeKey: string;

  @Column({ name: 'idempotency_token', type: 'varchar', length: 200, nullable: true })
  idempotencyToken: string | null;

  @Column({ type: 'jsonb' })
  payload: Record<string, string | string[]>;

  @Column({ name: 'received_at', type: 'timestamptz', default: () => 'now()' })
  receivedAt: Date;

  /** Set once the event has been applied to its record; null while the record does not exist yet. */
  @Column({ name: 'applied_at', type: 'timestamptz', nullable: true })
  appliedAt: Date | null;

  /** Failed attempts to apply the event (a record that does not exist yet is not a failure). */
  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError: string | null;

  /** Not retried before this time after a failed attempt. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  /** Set when the event failed too often: never selected again, kept for inspection. */
  @Column({ name: 'set_aside_at', type: 'timestamptz', nullable: true })
  setAsideAt: Date | null;
}
