import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, LessThan, Repository } from 'typeorm';
import { WebhookEventEntity, WebhookKind } from './webhook-event.entity';

export interface NewWebhookEvent {
  kind: WebhookKind;
  sid: string;
  dedupeKey: string;
  idempotencyToken: string | null;
  payload: Record<string, string | string[]>;
}

@Injectable()
export class WebhookEventRepository {
  constructor(@InjectRepository(WebhookEventEntity) private readonly repo: Repository<WebhookEventEntity>) {}

  /** Keeps the event unless one with the same dedupe key is already stored; null for a duplicate. */
  async insertIfNew(event: NewWebhookEvent): Promise<WebhookEventEntity | null> {
    const receivedAt = new Date();
    const result = await this.repo
      .createQueryBuilder()
      .insert()
      .into(WebhookEventEntity)
      .values({ ...event, receivedAt, appliedAt: null })
      .orIgnore()
      .returning(['id'])
      .execute();
    const row = (result.raw as { id: string }[])[0];
    if (!row) return null;
    return Object.assign(new WebhookEventEntity(), { ...event, id: row.id, receivedAt, appliedAt: null });
  }

  async markApplied(id: string, at: Date = new Date()): Promise<void> {
    await this.repo.update({ id, appliedAt: IsNull() }, { appliedAt: at });
  }

  /** Events about `sid` not applied yet, oldest first. */
  findPendingForSid(sid: string): Promise<WebhookEventEntity[]> {
    return this.repo.find({ where: { sid, appliedAt: IsNull() }, order: { receivedAt: 'ASC' } });
  }

  /** Events not applied yet, oldest first. */
  findPending(limit: number, receivedBefore?: Date): Promise<WebhookEventEntity[]> {
    return this.repo.find({
      where: { appliedAt: IsNull(), ...(receivedBefore ? { receivedAt: LessThan(receivedBefore) } : {}) },
      order: { receivedAt: 'ASC' },
      take: limit,
    });
  }
}
