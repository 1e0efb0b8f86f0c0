import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { entityOfRow } from '../db/entity-of-row';
import { Repository } from 'typeorm';
import { AssistantEntity } from './assistant.entity';

@Injectable()
export class AssistantRepository {
  constructor(@InjectRepository(AssistantEntity) private readonly repo: Repository<AssistantEntity>) {}

  insert(data: Partial<AssistantEntity>): Promise<AssistantEntity> {
    return this.repo.save(this.repo.create(data));
  }

  async findById(id: string): Promise<AssistantEntity | null> {
    // read on every conversation turn: plain SQL, no query builder
    const [row] = await this.repo.query<Record<string, unknown>[]>('SELECT * FROM assistants WHERE id = $1::uuid', [id]);
    return row ? entityOfRow(this.repo, row) : null;
  }

  list(): Promise<AssistantEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async update(id: string, patch: Partial<AssistantEntity>): Promise<AssistantEntity | null> {
    if (Object.keys(patch).length) await this.repo.update({ id }, patch);
    return this.findById(id);
  }

  async delete(id: string): Promise<boolean> {
    const result = await this.repo.delete({ id });
    return (result.affected ?? 0) > 0;
  }

  /** Makes `secret` the signing secret; the current one keeps signing until `previousUntil`. */
  async rotateSecret(id: string, secret: string, previousUntil: Date): Promise<AssistantEntity | null> {
    await this.repo.query(
      `UPDATE assistants SET previous_secret = secret, previous_secret_expires_at = $3, secret = $2, updated_at = now() WHERE id = $1`,
      [id, secret, previousUntil],
    );
    return this.findById(id);
  }
}
