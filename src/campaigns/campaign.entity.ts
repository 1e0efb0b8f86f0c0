import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';

export const CAMPAIGN_STATES = ['scheduled', 'running', 'paused', 'completed', 'canceled'] as const;
export type CampaignState = (typeof CAMPAIGN_STATES)[number];

export const CONTENT_KINDS = ['message', 'audio_url', 'twiml', 'assistant_id', 'sms_body'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

/** A batch of calls or messages: what to send, to whom (campaign_recipients), when and how fast. */
@Entity('campaigns')
@Index('idx_campaigns_created', ['createdAt', 'id'])
export class CampaignEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  /** call or sms. */
  @Column({ type: 'varchar', length: 10 })
  channel: 'call' | 'sms';

  @Column({ name: 'content_kind', type: 'varchar', length: 20 })
  contentKind: ContentKind;

  /** The template, with {{variables}}. */
  @Column({ type: 'text' })
  template: string;

  @Column({ name: 'from_numbers', type: 'text', array: true })
  fromNumbers: string[];

  @Column({ type: 'varchar', length: 20 })
  state: CampaignState;

  /** Why the campaign is paused (by a user, or by itself at the spending ceiling). */
  @Column({ name: 'paused_reason', type: 'text', nullable: true })
  pausedReason: string | null;

  @Column({ name: 'start_at', type: 'timestamptz' })
  startAt: Date;

  @Column({ name: 'window_start', type: 'varchar', length: 5 })
  windowStart: string;

  @Column({ name: 'window_end', type: 'varchar', length: 5 })
  windowEnd: string;

  @Column({ name: 'window_days', type: 'text', array: true })
  windowDays: string[];

  @Column({ name: 'per_second', type: 'int' })
  perSecond: number;

  @Column({ name: 'max_live', type: 'int' })
  maxLive: number;

  @Column({ name: 'retry_on', type: 'text', array: true })
  retryOn: string[];

  @Column({ name: 'max_attempts', type: 'int' })
  maxAttempts: number;

  @Column({ name: 'retry_after_seconds', type: 'int' })
  retryAfterSeconds: number;

  /** The import report: counts by skip reason. */
  @Column({ name: 'import_report', type: 'jsonb' })
  importReport: Record<string, unknown>;

  @Column({ name: 'created_by', type: 'varchar', length: 200 })
  createdBy: string;

  @Column({ name: 'started_at', type: 'timestamptz', nullable: true })
  startedAt: Date | null;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
