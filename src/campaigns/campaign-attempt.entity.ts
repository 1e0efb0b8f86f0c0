import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

export const ATTEMPT_STATES = ['placing', 'live', 'done'] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

/**
 * One call or message placed for a recipient. The row is written before Twilio is asked and its
 * id travels in the record's metadata (campaign_attempt_id), so an attempt whose answer was lost
 * in a crash is found again instead of being placed twice.
 */
@Entity('campaign_attempts')
@Index('idx_campaign_attempts_number', ['recipientId', 'attemptNumber'], { unique: true })
@Index('idx_campaign_attempts_open', ['campaignId', 'state'], { where: `state <> 'done'` })
@Index('idx_campaign_attempts_requested', ['campaignId', 'requestedAt'])
export class CampaignAttemptEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'campaign_id', type: 'uuid' })
  campaignId: string;

  @Column({ name: 'recipient_id', type: 'uuid' })
  recipientId: string;

  @Column({ name: 'attempt_number', type: 'int' })
  attemptNumber: number;

  @Column({ type: 'varchar', length: 10 })
  state: AttemptState;

  /** The call or message record id. */
  @Column({ name: 'record_id', type: 'uuid', nullable: true })
  recordId: string | null;

  @Column({ type: 'varchar', length: 64, nullable: true })
  sid: string | null;

  /** The call's or message's last known status. */
  @Column({ type: 'varchar', length: 20, nullable: true })
  status: string | null;

  @Column({ type: 'varchar', length: 20, nullable: true })
  outcome: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;

  /** When the request to Twilio was sent. */
  @Column({ name: 'requested_at', type: 'timestamptz', nullable: true })
  requestedAt: Date | null;

  /** When Twilio's answer came back (pacing counts from here). */
  @Column({ name: 'answered_at', type: 'timestamptz', nullable: true })
  answeredAt: Date | null;

  @Column({ name: 'ended_at', type: 'timestamptz', nullable: true })
  endedAt: Date | null;

  @Column({ type: 'numeric', precision: 12, scale: 5, nullable: true })
  price: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
