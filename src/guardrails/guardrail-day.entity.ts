import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * What the guardrails admitted on one UTC day, across every instance: the estimated cost of each
 * call, message and number purchase admitted (in units of 0.00001 USD) and the number of calls
 * admitted. Both only grow, each in the same transaction that stores the admitted intent, so a
 * reading of the records plus what these counters grew by since that reading never misses an
 * admission. The row's lock is what makes two instances take turns.
 */
@Entity('guardrail_days')
export class GuardrailDayEntity {
  @PrimaryColumn({ type: 'date' })
  day: string;

  @Column({ name: 'admitted_spend_units', type: 'bigint', default: 0 })
  admittedSpendUnits: string;

  @Column({ name: 'admitted_calls', type: 'bigint', default: 0 })
  admittedCalls: string;
}
