import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Capabilities, NumberWebhooks } from '../twilio/twilio.types';
import type { NumberStatus } from './number-status';

/**
 * A change asked of Twilio and not yet confirmed on this row: stored before Twilio is asked, cleared
 * when Twilio's answer is stored. The comparison with Twilio's list finishes what a lost answer or a
 * failed write left (see NumbersService.reconcile).
 */
export type PendingNumberChange = { release: true } | { update: { friendlyName?: string; webhooks: NumberWebhooks } };

@Entity('phone_numbers')
// a number being bought, or whose purchase outcome is unknown, is held like an owned one: nobody buys it twice
@Index('uq_phone_numbers_active_number', ['phoneNumber'], { unique: true, where: "status IN ('purchasing', 'unknown', 'active')" })
@Index('idx_phone_numbers_created', ['createdAt', 'id'])
export class PhoneNumberEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** Twilio's sid; null while the purchase has no answer from Twilio (status purchasing, unknown or failed). */
  @Index('uq_phone_numbers_sid', { unique: true })
  @Column({ type: 'varchar', length: 34, nullable: true })
  sid: string | null;

  @Column({ name: 'phone_number', type: 'varchar', length: 32 })
  phoneNumber: string;

  @Column({ type: 'varchar', length: 16, default: 'active' })
  status: NumberStatus;

  @Column({ name: 'friendly_name', type: 'varchar', length: 64 })
  friendlyName: string;

  /** Null until Twilio has said what the number can do. */
  @Column({ type: 'jsonb', nullable: true })
  capabilities: Capabilities | null;

  @Column({ name: 'voice_url', type: 'text', nullable: true })
  voiceUrl: string | null;

  @Column({ name: 'sms_url', type: 'text', nullable: true })
  smsUrl: string | null;

  @Column({ name: 'status_callback_url', type: 'text', nullable: true })
  statusCallbackUrl: string | null;

  @Column({ name: 'purchased_by', type: 'varchar', length: 200, nullable: true })
  purchasedBy: string | null;

  /** The assistant inbound calls and SMS to this number go to; null: the configured greeting and auto-reply. */
  @Index('idx_phone_numbers_assistant')
  @Column({ name: 'assistant_id', type: 'uuid', nullable: true })
  assistantId: string | null;

  @Column({ name: 'pending_change', type: 'jsonb', nullable: true })
  pendingChange: PendingNumberChange | null;

  @Column({ name: 'released_at', type: 'timestamptz', nullable: true })
  releasedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
