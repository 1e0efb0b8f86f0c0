import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { IntentStatus } from '../common/intent-status';
import type { Metadata } from '../common/metadata';
import type { Direction, MessageStatus } from '../twilio/twilio.types';

export type MessageRecordStatus = MessageStatus | IntentStatus;

@Entity('message_records')
@Index('idx_message_records_set_aside', ['reconcileSetAsideAt'], { where: 'reconcile_set_aside_at IS NOT NULL' })
@Index('idx_message_records_created', ['createdAt', 'id'])
@Index('idx_message_records_updated', ['updatedAt'])
@Index('idx_message_records_status_created', ['status', 'createdAt', 'id'])
@Index('idx_message_records_to_created', ['toNumber', 'createdAt', 'id'])
@Index('idx_message_records_from_created', ['fromNumber', 'createdAt', 'id'])
@Index('idx_message_records_agent_created', ['agentName', 'createdAt', 'id'])
@Index('idx_message_records_direction_created', ['direction', 'createdAt', 'id'])
// GIN (jsonb_path_ops) for the history filter `metadata @> $1`; the migration builds it: TypeORM cannot name an operator class
@Index('idx_message_records_metadata', { synchronize: false })
@Index('idx_message_records_unresolved', ['toNumber', 'createdAt'], { where: 'sid IS NULL' })
export class MessageRecordEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('uq_message_records_sid', { unique: true })
  /** Twilio's sid; null while the request has no answer from Twilio (status initiating or unknown). */
  @Column({ type: 'varchar', length: 34, nullable: true })
  sid: string | null;

  @Column({ type: 'varchar', length: 16 })
  direction: Direction;

  @Column({ name: 'from_number', type: 'varchar', length: 32 })
  fromNumber: string;

  @Column({ name: 'to_number', type: 'varchar', length: 32 })
  toNumber: string;

  @Column({ type: 'text' })
  body: string;

  @Column({ type: 'integer', default: 1 })
  segments: number;

  @Column({ name: 'media_urls', type: 'jsonb' })
  mediaUrls: string[];

  @Column({ type: 'varchar', length: 16 })
  status: MessageRecordStatus;

  @Column({ name: 'agent_name', type: 'varchar', length: 200, nullable: true })
  agentName: string | null;

  /** The client's own labels, string keys to string values; {} when none were given (inbound, adopted). */
  @Column({ type: 'jsonb', default: () => "'{}'" })
  metadata: Metadata;

  @Column({ name: 'created_by', type: 'varchar', length: 200, nullable: true })
  createdBy: string | null;

  @Column({ name: 'error_code', type: 'integer', nullable: true })
  errorCode: number | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage: string | null;

  @Column({ type: 'numeric', precision: 12, scale: 5, nullable: true })
  price: string | null;

  @Column({ name: 'price_unit', type: 'varchar', length: 3, nullable: true })
  priceUnit: string | null;

  @Column({ name: 'sent_at', type: 'timestamptz', nullable: true })
  sentAt: Date | null;

  @Column({ name: 'synced_at', type: 'timestamptz', nullable: true })
  syncedAt: Date | null;

  /** Reconciliation failures about this record in a row (Twilio 404, a local error); reset by a success. */
  @Column({ name: 'reconcile_failures', type: 'integer', default: 0 })
  reconcileFailures: number;

  @Column({ name: 'reconcile_error', type: 'text', nullable: true })
  reconcileError: string | null;

  /** Set when reconciliation failed too often about this record: it is no longer claimed. */
  @Column({ name: 'reconcile_set_aside_at', type: 'timestamptz', nullable: true })
  reconcileSetAsideAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
