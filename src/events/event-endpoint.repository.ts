import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { EventEndpointEntity } from './event-endpoint.entity';

@Injectable()
export class EventEndpointRepository {
  constructor(@InjectRepository(EventEndpointEntity) private readonly repo: Repository<EventEndpointEntity>) {}

  insert(data: Partial<EventEndpointEntity>): Promise<EventEndpointEntity> {
    return this.repo.save(this.repo.create(data));
  }

  findById(id: string): Promise<EventEndpointEntity | null> {
    return this.repo.findOne({ where: { id } });
  }

  list(): Promise<EventEndpointEntity[]> {
    return this.repo.find({ order: { createdAt: 'ASC', id: 'ASC' } });
  }

  async update(id: string, patch: Partial<EventEndpointEntity>): Promise<EventEndpointEntity | null> {
    await this.repo.update({ id }, patch);
    return this.findById(id);
  }

  /** Deletes the endpoint with its deliveries and their attempts; false when there was none. */
  async delete(id: string): Promise<boolean> {
    return this.repo.manager.transaction(async (tx) => {
      await tx.query('DELETE FROM event_attempts WHERE delivery_id IN (SELECT id FROM event_deliveries WHERE endpoint_id = $1)', [id]);
      await tx.query('DELETE FROM event_deliveries WHERE endpoint_id = $1', [id]);
      const [, affected] = await tx.query<[unknown, number]>('DELETE FROM event_endpoints WHERE id = $1', [id]);
      return affected > 0;
    });
  }

  /** Makes `secret` the signing secret; the current one keeps signing until `previousUntil`. */
  async rotateSecret(id: string, secret: string, previousUntil: Date): Promise<EventEndpointEntity | null> {
    await this.repo.query(
      `UPDATE event_endpoints SET previous_secret = secret, previous_secret_expires_at = $3, secret = $2, updated_at = now() WHERE id = $1`,
      [id, secret, previousUntil],
    );
    return this.findById(id);
  }

  /**
   * Counts a failed attempt; disables the endpoint once it has failed `maxFailures` times in a row
   * or for `maxHours` (0: no time rule). Returns the endpoint when this call disabled it.
   */
  async recordFailure(id: string, maxFailures: number, maxHours: number): Promise<EventEndpointEntity | null> {
    const giveUp = `e.enabled AND (e.consecutive_failures + 1 >= $2::int OR ($3::float8 > 0 AND COALESCE(e.failing_since, now()) <= now() - make_interval(secs => $3::float8 * 3600)))`;
    const [rows] = await this.repo.query<[{ disabled: boolean }[], number]>(
      `UPDATE event_endpoints e SET
         consecutive_failures = e.consecutive_failures + 1,
         failing_since = COALESCE(e.failing_since, now()),
         enabled = CASE WHEN ${giveUp} THEN false ELSE e.enabled END,
         disabled_reason = CASE WHEN ${giveUp}
           THEN 'every delivery failed: ' || (e.consecutive_failures + 1) || ' attempts in a row since '
                || to_char(COALESCE(e.failing_since, now()) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
           ELSE e.disabled_reason END
       FROM (SELECT id, enabled FROM event_endpoints WHERE id = $1 FOR UPDATE) old
       WHERE e.id = old.id
       RETURNING (old.enabled AND NOT e.enabled) AS disabled`,
      [id, maxFailures, maxHours],
    );
    return rows[0]?.disabled ? await this.findById(id) : null;
  }
}
