import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { RecordChangedListener, RecordChangedListeners } from '../common/record-changed.listeners';
import { OptOutEntity } from './opt-out.entity';

@Injectable()
export class OptOutRepository {
  private readonly changed = new RecordChangedListeners<OptOutEntity>();

  constructor(@InjectRepository(OptOutEntity) private readonly repo: Repository<OptOutEntity>) {}

  /** Runs `listener` in the transaction that turns a number's opt-out on or off. */
  onChanged(listener: RecordChangedListener<OptOutEntity>): void {
    this.changed.add(listener);
  }

  /** Asked before every call and text: plain SQL, no query building. */
  async isOptedOut(phoneNumber: string): Promise<boolean> {
    const rows = await this.repo.query<{ opted_out: boolean }[]>('SELECT opted_out FROM opt_outs WHERE phone_number = $1', [phoneNumber]);
    return rows[0]?.opted_out === true;
  }

  /** Those of `phoneNumbers` that opted out, in one query however many are asked about. */
  async optedOutAmong(phoneNumbers: string[]): Promise<string[]> {
    if (!phoneNumbers.length) return [];
    const rows = await this.repo.query<{ phone_number: string }[]>(
      'SELECT phone_number FROM opt_outs WHERE opted_out AND phone_number = ANY($1)',
      [phoneNumbers],
    );
    return rows.map((row) => row.phone_number);
  }

  /** A keyword older than the one that set the current state is ignored (reconciliation finds messages late). */
  async set(phoneNumber: string, optedOut: boolean, keyword: string, at: Date): Promise<void> {
    await this.repo.manager.transaction(async (tx) => {
      const [before] = await tx.query<{ opted_out: boolean }[]>('SELECT opted_out FROM opt_outs WHERE phone_number = $1 FOR UPDATE', [
        phoneNumber,
      ]);
      const applied = await tx.query<unknown[]>(
        `INSERT INTO opt_outs (phone_number, opted_out, keyword, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (phone_number) DO UPDATE SET opted_out = EXCLUDED.opted_out, keyword = EXCLUDED.keyword, updated_at = EXCLUDED.updated_at
         WHERE opt_outs.updated_at <= EXCLUDED.updated_at
         RETURNING phone_number`,
        [phoneNumber, optedOut, keyword, at],
      );
      // a START from a number that never opted out changes nothing
      const was = before?.opted_out ?? false;
      if (applied.length && was !== optedOut) {
        const row = await tx.getRepository(OptOutEntity).findOneOrFail({ where: { phoneNumber } });
        await this.changed.notify(tx, row, String(was));
      }
    });
  }
}
