import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { OptOutEntity } from './opt-out.entity';

@Injectable()
export class OptOutRepository {
  constructor(@InjectRepository(OptOutEntity) private readonly repo: Repository<OptOutEntity>) {}

  async isOptedOut(phoneNumber: string): Promise<boolean> {
    const row = await this.repo.findOne({ where: { phoneNumber } });
    return row?.optedOut === true;
  }

  async set(phoneNumber: string, optedOut: boolean, keyword: string, at: Date): Promise<void> {
    await this.repo.upsert({ phoneNumber, optedOut, keyword, updatedAt: at }, ['phoneNumber']);
  }
}
