import { Column, Entity, PrimaryColumn } from 'typeorm';

/** One rate-limit counter (a fixed window), shared by every instance on the database. */
@Entity('throttle_counters')
export class ThrottleCounterEntity {
  /** The throttler's name and its hashed key (subject or client IP, route). */
  @PrimaryColumn({ type: 'varchar', length: 200 })
  key: string;

  @Column({ type: 'integer' })
  hits: number;

  @Column({ name: 'window_ends_at', type: 'timestamptz' })
  windowEndsAt: Date;

  /** Set when the limit was exceeded: further requests are refused until then. */
  @Column({ name: 'blocked_until', type: 'timestamptz', nullable: true })
  blockedUntil: Date | null;
}
