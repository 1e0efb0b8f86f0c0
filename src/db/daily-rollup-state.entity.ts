import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * How far each daily rollup is complete (see daily-rollup.ts): every change to the raw rows made
 * before `as_of` is in it. A rollup without a row here has never been fully built, and reports
 * read its whole days from the raw rows instead.
 */
@Entity('daily_rollup_state')
export class DailyRollupStateEntity {
  /** The rollup table's name. */
  @PrimaryColumn({ type: 'varchar', length: 63 })
  rollup: string;

  @Column({ name: 'as_of', type: 'timestamptz' })
  asOf: Date;
}
