import { Column, Entity, PrimaryColumn } from 'typeorm';

export type SweepResource = 'calls' | 'messages';

/** How far reconciliation has listed Twilio's calls or messages: everything created since is stored. */
@Entity('reconcile_watermarks')
export class ReconcileWatermarkEntity {
  @PrimaryColumn({ type: 'varchar', length: 16 })
  resource: SweepResource;

  /** When the last complete listing started; the next one lists from here (minus an overlap). */
  @Column({ name: 'listed_until', type: 'timestamptz' })
  listedUntil: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
