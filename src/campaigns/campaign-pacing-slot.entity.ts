import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * One of the account's pacing slots for a channel: the last request to Twilio that used it. A
 * request counts against the account's rate until a second after Twilio answered it; a slot that
 * no longer counts is reused. Claimers lock a channel's slots, so every campaign on every instance
 * shares them.
 */
@Entity('campaign_pacing_slots')
export class CampaignPacingSlotEntity {
  /** call or sms. */
  @PrimaryColumn({ type: 'varchar', length: 10 })
  channel: 'call' | 'sms';

  @PrimaryColumn({ type: 'int' })
  slot: number;

  /** The attempt whose request holds the slot. */
  @Column({ name: 'attempt_id', type: 'uuid', nullable: true })
  attemptId: string | null;

  /** When the request was about to be sent (null: the slot is free). */
  @Column({ name: 'requested_at', type: 'timestamptz', nullable: true })
  requestedAt: Date | null;

  /** When Twilio answered it (null while in flight). */
  @Column({ name: 'answered_at', type: 'timestamptz', nullable: true })
  answeredAt: Date | null;
}
