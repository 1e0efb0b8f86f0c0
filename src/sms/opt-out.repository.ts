import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { OptOutEntity } from './opt-out.entity';

@Injectable()
export class OptOutRepository {
  constructor(@InjectRepository(OptOutEntity) private readonly repo: Repository<OptOutEntity>) {}

  /** Asked before every call and text: plain SQL, no query building. */
  async isOptedOut(phoneNumber: string): Promise<boolean> {
    const rows = await this.repo.query<{ opted_out: boolean }[]>('SELECT opted_out FROM opt_outs WHERE phone_number = $1', [phoneNumber]);
    return rows[0]?.opted_out === true;
  }

  /** A keyword older than the one that set the current state is ignored (reconciliation finds messages late). */
  async set(phoneNumber: string, optedOut: boolean, keyword: string, at: Date): Promise<void> {
    await this.repo.query(
      `INSERT INTO opt_outs (phone_number, opted_out, keyword, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (phone_number) DO UPDATE SET opted_out = EXCLUDED.opted_out, keyword = EXCLUDED.keyword, updated_at = EXCLUDED.updated_at
       WHERE opt_outs.updated_at <= EXCLUDED.updated_at`,
      [phoneNumber, optedOut, keyword, at],
    );
  }
}
