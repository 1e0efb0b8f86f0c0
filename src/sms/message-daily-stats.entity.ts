import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Messages per UTC day, direction and status: the rollup the usage statistics read (see db/daily-rollup.ts). */
@Entity('message_daily_stats')
export class MessageDailyStatsEntity {
  @PrimaryColumn({ type: 'date' })
  day: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  direction: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  status: string;

  @Column({ type: 'integer' })
  messages: number;

  @Column({ type: 'bigint' })
  segments: string;

  @Column({ type: 'numeric', precision: 16, scale: 5 })
  cost: string;

  @Column({ type: 'integer' })
  unpriced: number;

  @Column({ name: 'refreshed_at', type: 'timestamptz' })
  refreshedAt: Date;
}
