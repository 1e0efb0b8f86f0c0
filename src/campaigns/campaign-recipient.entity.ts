import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const RECIPIENT_STATES = ['pending', 'scheduled', 'in_progress', 'completed', 'failed', 'skipped', 'retrying'] as const;
export type RecipientState = (typeof RECIPIENT_STATES)[number];

/** One recipient of a campaign, as imported, and where it stands. */
@Entity('campaign_recipients')
@Index('idx_campaign_recipients_position', ['campaignId', 'position'], { unique: true })
@Index('idx_campaign_recipients_due', ['campaignId', 'nextAttemptAt'], { where: `state IN ('pending', 'retrying')` })
@Index('idx_campaign_recipients_state', ['campaignId', 'state'])
export class CampaignRecipientEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'campaign_id', type: 'uuid' })
  campaignId: string;

  /** Row number in the import, from 0. */
  @Column({ type: 'int' })
  position: number;

  @Column({ name: 'to_number', type: 'varchar', length: 32 })
  toNumber: string;

  /** IANA zones of the number, comma-separated; the window must hold in all. */
  @Column({ name: 'time_zones', type: 'text' })
  timeZones: string;

  @Column({ type: 'jsonb' })
  variables: Record<string, string>;

  @Column({ type: 'jsonb' })
  metadata: Record<string, string>;

  /** The content rendered for this recipient; null when skipped at import. */
  @Column({ type: 'text', nullable: true })
  content: string | null;

  @Column({ type: 'varchar', length: 20 })
  state: RecipientState;

  @Column({ name: 'skip_reason', type: 'varchar', length: 40, nullable: true })
  skipReason: string | null;

  @Column({ name: 'skip_message', type: 'text', nullable: true })
  skipMessage: string | null;

  @Column({ type: 'int', default: 0 })
  attempts: number;

  /** When it may be dialed next (start_at, or a retry's time); null once final. */
  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt: Date | null;

  /** The outcome of the last attempt: completed, busy, no-answer, failed, canceled, delivered, undelivered... */
  @Column({ name: 'last_outcome', type: 'varchar', length: 20, nullable: true })
  lastOutcome: string | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
