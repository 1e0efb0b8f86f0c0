import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, UpdateDateColumn } from 'typeorm';
import type { Capabilities } from '../twilio/twilio.types';

@Entity('phone_numbers')
@Index('uq_phone_numbers_active_number', ['phoneNumber'], { unique: true, where: 'released_at IS NULL' })
@Index('idx_phone_numbers_created', ['createdAt', 'id'])
export class PhoneNumberEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Index('uq_phone_numbers_sid', { unique: true })
  @Column({ type: 'varchar', length: 34 })
  sid: string;

  @Column({ name: 'phone_number', type: 'varchar', length: 32 })
  phoneNumber: string;

  @Column({ name: 'friendly_name', type: 'varchar', length: 64 })
  friendlyName: string;

  @Column({ type: 'jsonb' })
  capabilities: Capabilities;

  @Column({ name: 'voice_url', type: 'text', nullable: true })
  voiceUrl: string | null;

  @Column({ name: 'sms_url', type: 'text', nullable: true })
  smsUrl: string | null;

  @Column({ name: 'status_callback_url', type: 'text', nullable: true })
  statusCallbackUrl: string | null;

  @Column({ name: 'purchased_by', type: 'varchar', length: 200, nullable: true })
  purchasedBy: string | null;

  @Column({ name: 'released_at', type: 'timestamptz', nullable: true })
  releasedAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
