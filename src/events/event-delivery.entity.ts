import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn, Unique, UpdateDateColumn } from 'typeorm';

/** One event to one endpoint: created once by the relay (unique pair), retried until delivered or failed. */
@Entity('event_deliveries')
@Unique('uq_event_deliveries_event_endpoint', ['eventId', 'endpointId'])
@Index('idx_event_deliveries_endpoint', ['endpointId'])
export class EventDeliveryEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId: string;

  @Column({ name: 'endpoint_id', type: 'uuid' })
  endpointId: string;

  /** pending, delivered or failed. */
  @Column({ type: 'varchar', length: 16, default: 'pending' })
  state: string;

  @Column({ type: 'integer', default: 0 })
  attempts: number;

  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true })
  deliveredAt: Date | null;

  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;

  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
