import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A phone number that texted STOP; present with opted_out=false after it opts back in. */
@Entity('opt_outs')
export class OptOutEntity {
  @PrimaryColumn({ name: 'phone_number', type: 'varchar', length: 32 })
  phoneNumber: string;

  @Column({ name: 'opted_out', type: 'boolean' })
  optedOut: boolean;

  /** The keyword that last changed the state (STOP, START, ...). */
  @Column({ type: 'varchar', length: 16 })
  keyword: string;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
