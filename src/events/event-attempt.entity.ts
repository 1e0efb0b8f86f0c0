import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One POST of a delivery: when, what came back, how long it took. */
@Entity('event_attempts')
@Index('idx_event_attempts_delivery', ['deliveryId', 'attemptedAt'])
export class EventAttemptEntity {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ name: 'delivery_id', type: 'uuid' })
  deliveryId: string;

  @Column({ name: 'attempted_at', type: 'timestamptz' })
  attemptedAt: Date;

  /** The endpoint's HTTP status; null when no answer came (timeout, refused, DNS). */
  @Column({ name: 'status_code', type: 'integer', nullable: true })
  statusCode: number | null;

  @Column({ name: 'latency_ms', type: 'integer' })
  latencyMs: number;

  /** The first 500 bytes of the answer's body. */
  @Column({ name: 'response_excerpt', type: 'text', nullable: true })
  responseExcerpt: string | null;

  @Column({ type: 'text', nullable: true })
  error: string | null;
}
