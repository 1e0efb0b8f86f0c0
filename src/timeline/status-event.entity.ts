import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** A record's timeline: each status it was seen in, once. */
@Entity('status_events')
@Index('uq_status_events_resource_status', ['resourceSid', 'status'], { unique: true })
@Index('idx_status_events_resource_time', ['resourceSid', 'occurredAt'])
export class StatusEventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  /** 'call' or 'message'. */
  @Column({ name: 'resource_type', type: 'varchar', length: 8 })
  resourceType: 'call' | 'message';

  @Column({ name: 'resource_sid', type: 'varchar', length: 34 })
  resourceSid: string;

  @Column({ type: 'varchar', length: 16 })
  status: string;

  /** Twilio's SequenceNumber for call callbacks; -1 when there is none. */
  @Column({ name: 'sequence_number', type: 'integer', default: -1 })
  sequenceNumber: number;

  @Column({ type: 'varchar', length: 16 })
  source: string;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  @Column({ name: 'error_code', type: 'integer', nullable: true })
  errorCode: number | null;
}
