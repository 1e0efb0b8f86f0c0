import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Calls per UTC day, direction and status: the rollup the usage statistics read (see db/daily-rollup.ts). */
@Entity('call_daily_stats')
export class CallDailyStatsEntity {
  @PrimaryColumn({ type: 'date' })
  day: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  direction: string;

  @PrimaryColumn({ type: 'varchar', length: 16 })
  status: string;

  @Column({ type: 'integer' })
  calls: number;

  @Column({ name: 'billable_minutes', type: 'bigint' })
  billableMinutes: string;

  @Column({ type: 'numeric', precision: 16, scale: 5 })
  cost: string;

  @Column({ type: 'integer' })
  unpriced: number;

  @Column({ name: 'refreshed_at', type: 'timestamptz' })
  refreshedAt: Date;
}
