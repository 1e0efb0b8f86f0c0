import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, MoreThanOrEqual, Not, Repository } from 'typeorm';
import { PhoneNumberEntity } from './phone-number.entity';

@Injectable()
export class PhoneNumberRepository {
  constructor(@InjectRepository(PhoneNumberEntity) private readonly repo: Repository<PhoneNumberEntity>) {}

  insert(data: Partial<PhoneNumberEntity>): Promise<PhoneNumberEntity> {
    return this.repo.save(this.repo.create(data));
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
    await this.repo.update({ sid, releasedAt: IsNull() }, { releasedAt: at });
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
