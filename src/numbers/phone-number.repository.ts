import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThanOrEqual, Not, Repository } from 'typeorm';
import { RecordChangedListener, RecordChangedListeners } from '../common/record-changed.listeners';
import { PhoneNumberEntity } from './phone-number.entity';

@Injectable()
export class PhoneNumberRepository {
  private readonly changed = new RecordChangedListeners<PhoneNumberEntity>();

  constructor(@InjectRepository(PhoneNumberEntity) private readonly repo: Repository<PhoneNumberEntity>) {}

  /** Runs `listener` in the transaction that stores a bought number (previous null) or releases one ('active'). */
  onChanged(listener: RecordChangedListener<PhoneNumberEntity>): void {
    this.changed.add(listener);
  }

  /** Stores a number bought through the API. */
  insert(data: Partial<PhoneNumberEntity>): Promise<PhoneNumberEntity> {
    return this.repo.manager.transaction(async (tx) => {
      const saved = await tx.getRepository(PhoneNumberEntity).save(tx.getRepository(PhoneNumberEntity).create(data));
      await this.changed.notify(tx, saved, null);
      return saved;
    });
  }

  findBySid(sid: string): Promise<PhoneNumberEntity | null> {
    return this.repo.findOne({ where: { sid } });
  }

  findActiveByNumber(phoneNumber: string): Promise<PhoneNumberEntity | null> {
    return this.repo.findOne({ where: { phoneNumber, releasedAt: IsNull() } });
  }

  listActive(): Promise<PhoneNumberEntity[]> {
    return this.repo.find({ where: { releasedAt: IsNull() }, order: { createdAt: 'DESC', id: 'DESC' } });
  }

  async markReleased(sid: string, at: Date): Promise<void> {
    await this.repo.manager.transaction(async (tx) => {
      const [rows] = await tx.query<[{ id: string }[], number]>(
        'UPDATE phone_numbers SET released_at = $2, updated_at = now() WHERE sid = $1 AND released_at IS NULL RETURNING id',
        [sid, at],
      );
      for (const { id } of rows) {
        await this.changed.notify(tx, await tx.getRepository(PhoneNumberEntity).findOneOrFail({ where: { id } }), 'active');
      }
    });
  }

  async update(sid: string, patch: Partial<PhoneNumberEntity>): Promise<void> {
    await this.repo.update({ sid }, patch);
  }

  /** Numbers bought through this service since `since` (numbers recorded from Twilio's list have no buyer). */
  countPurchasedSince(since: Date): Promise<number> {
    return this.repo.count({ where: { purchasedBy: Not(IsNull()), createdAt: MoreThanOrEqual(since) } });
  }

  countActive(): Promise<number> {
    return this.repo.count({ where: { releasedAt: IsNull() } });
  }

  /** Inserts a number unless its sid (or its active phone number) is already stored; true when inserted. */
  async insertIfAbsent(data: Partial<PhoneNumberEntity>): Promise<boolean> {
    const result = await this.repo.createQueryBuilder().insert().into(PhoneNumberEntity).values(data).orIgnore().execute();
    return Array.isArray(result.raw) && result.raw.length > 0;
  }
}
