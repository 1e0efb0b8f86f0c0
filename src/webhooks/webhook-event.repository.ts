import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { IsNull, Repository } from 'typeorm';
import type { ApplyGuard, GuardSql } from '../db/guarded-apply';
import { WebhookEventEntity, WebhookKind } from './webhook-event.entity';

/** What one failed attempt did to the event. */
export interface EventFailure {
  attempts: number;
  setAside: boolean;
}

/** Selectable again: not applied, not set aside, and past the backoff of its last failure. */
const PENDING = 'e.applied_at IS NULL AND e.set_aside_at IS NULL AND (e.next_attempt_at IS NULL OR e.next_attempt_at <= now())';

/** One more failed attempt: backoff doubles from `$4` seconds (at most an hour); set aside at `$3` attempts. */
const FAILURE_SET = `attempts = attempts + 1,
       last_error = $2,
       next_attempt_at = now() + LEAST($4::float8 * power(2, attempts), 3600) * interval '1 second',
       set_aside_at = CASE WHEN attempts + 1 >= $3 THEN now() END`;

export interface NewWebhookEvent {
  kind: WebhookKind;
  sid: string;
  dedupeKey: string;
  idempotencyToken: string | null;
  payload: Record<string, string | string[]>;
}

/**
 * Keeps a new event in the statement that applies it (see GuardSql): inserted unless its dedupe key
 * is stored already, applied_at set when its record exists (the statement applies it then). Says
 * the event's id (null for a duplicate) and whether older events about the sid wait to be applied.
 */
const KEEP_EVENT: GuardSql = {
  name: 'keep_event',
  cte: `kept AS (
  INSERT INTO webhook_events (kind, sid, dedupe_key, idempotency_token, payload, received_at, applied_at)
  SELECT :guard_kind::varchar, :guard_sid::varchar, :guard_dedupe_key::varchar, :guard_token::varchar, :guard_payload::jsonb,
         :guard_received_at::timestamptz, CASE WHEN EXISTS (SELECT 1 FROM target) THEN now() END
  ON CONFLICT (dedupe_key) DO NOTHING
  RETURNING id)`,
  columns: `(SELECT id FROM kept) AS guard_event_id,
  EXISTS (SELECT 1 FROM webhook_events e WHERE e.sid = :guard_sid::varchar AND ${PENDING}) AS guard_pending`,
};

/** Marks a stored event applied in the statement that applies it, unless it was applied already or its record does not exist. */
const APPLY_STORED_EVENT: GuardSql = {
  name: 'apply_event',
  cte: `kept AS (
  UPDATE webhook_events SET applied_at = now()
  WHERE id = :guard_event_id::uuid AND applied_at IS NULL AND EXISTS (SELECT 1 FROM target)
  RETURNING id)`,
  columns: '(SELECT id FROM kept) AS guard_event_id',
};

export function keepEventGuard(event: NewWebhookEvent, receivedAt: Date): ApplyGuard {
  return {
    sql: KEEP_EVENT,
    values: {
      guard_kind: event.kind,
      guard_sid: event.sid,
      guard_dedupe_key: event.dedupeKey,
      guard_token: event.idempotencyToken,
      guard_payload: JSON.stringify(event.payload),
      guard_received_at: receivedAt,
    },
  };
}

export function applyStoredEventGuard(id: string): ApplyGuard {
  return { sql: APPLY_STORED_EVENT, values: { guard_event_id: id } };
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

  /** Events about `sid` not applied yet (nor set aside, nor waiting out a backoff), oldest first. */
  findPendingForSid(sid: string): Promise<WebhookEventEntity[]> {
    return this.repo.createQueryBuilder('e').where(PENDING).andWhere('e.sid = :sid', { sid }).orderBy('e.received_at', 'ASC').getMany();
  }

  /** Events not applied yet (nor set aside, nor waiting out a backoff), oldest first. */
  findPending(limit: number, receivedBefore?: Date): Promise<WebhookEventEntity[]> {
    const q = this.repo.createQueryBuilder('e').where(PENDING);
    if (receivedBefore) q.andWhere('e.received_at < :receivedBefore', { receivedBefore });
    return q.orderBy('e.received_at', 'ASC').limit(limit).getMany();
  }

  /** Counts a failed attempt to apply the event; null when it was applied or set aside meanwhile. */
  async recordFailure(id: string, error: string, maxAttempts: number, retryBaseSeconds: number): Promise<EventFailure | null> {
    const [rows] = await this.repo.query<[{ attempts: number; set_aside_at: Date | null }[], number]>(
      `UPDATE webhook_events SET ${FAILURE_SET}
       WHERE id = $1 AND applied_at IS NULL AND set_aside_at IS NULL
       RETURNING attempts, set_aside_at`,
      [id, error, maxAttempts, retryBaseSeconds],
    );
    const row = rows[0];
    return row ? { attempts: Number(row.attempts), setAside: row.set_aside_at !== null } : null;
  }

  /** Counts a failed attempt on every pending event about `sid` (its record could not be created); returns those set aside. */
  async recordFailureForSid(sid: string, error: string, maxAttempts: number, retryBaseSeconds: number): Promise<WebhookEventEntity[]> {
    const [rows] = await this.repo.query<
      [{ id: string; kind: WebhookEventEntity['kind']; attempts: number; set_aside_at: Date | null }[], number]
    >(
      `UPDATE webhook_events SET ${FAILURE_SET}
       WHERE sid = $1 AND applied_at IS NULL AND set_aside_at IS NULL
       RETURNING id, kind, attempts, set_aside_at`,
      [sid, error, maxAttempts, retryBaseSeconds],
    );
    return rows
      .filter((row) => row.set_aside_at !== null)
      .map((row) =>
        Object.assign(new WebhookEventEntity(), { id: row.id, kind: row.kind, sid, attempts: Number(row.attempts), lastError: error }),
      );
  }

  /** How many events are set aside, and the oldest one. */
  async setAside(): Promise<{ count: number; oldest: WebhookEventEntity | null }> {
    const count = await this.repo.createQueryBuilder('e').where('e.set_aside_at IS NOT NULL').getCount();
    const oldest = count
      ? await this.repo.createQueryBuilder('e').where('e.set_aside_at IS NOT NULL').orderBy('e.set_aside_at', 'ASC').limit(1).getOne()
      : null;
    return { count, oldest };
  }
}
