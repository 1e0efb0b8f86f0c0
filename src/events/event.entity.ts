import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * The outbox: one row per event, written in the transaction of the change it tells about, so a
 * rolled-back change has no event and a committed one cannot lose it.
 */
/** The keys of an event's body, in the order it is sent: jsonb keeps keys in an order of its own, so the sender names them. */
export const EVENT_BODY_KEYS = ['id', 'type', 'created_at', 'data'] as const;

/** An event's body as endpoints receive it. */
export type EventBody = Record<(typeof EVENT_BODY_KEYS)[number], unknown>;

@Entity('events')
@Index('idx_events_created', ['createdAt', 'id'])
@Index('idx_events_type_created', ['type', 'createdAt', 'id'])
@Index('idx_events_resource_sid_created', ['resourceSid', 'createdAt', 'id'])
@Index('idx_events_unrelayed', ['createdAt'], { where: 'relayed_at IS NULL' })
export class EventEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 40 })
  type: string;

  @Column({ name: 'resource_type', type: 'varchar', length: 20 })
  resourceType: string;

  @Column({ name: 'resource_id', type: 'uuid', nullable: true })
  resourceId: string | null;

  @Column({ name: 'resource_sid', type: 'varchar', length: 64, nullable: true })
  resourceSid: string | null;

  @Column({ name: 'occurred_at', type: 'timestamptz' })
  occurredAt: Date;

  /** The full body sent to endpoints: {id, type, created_at, data: {object, ...}}. */
  @Column({ type: 'jsonb' })
  payload: Record<string, unknown>;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  /** When the relay turned the event into deliveries; null until then. */
  @Column({ name: 'relayed_at', type: 'timestamptz', nullable: true })
  relayedAt: Date | null;
}
