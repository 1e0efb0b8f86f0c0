import type { ThrottlerStorage } from '@nestjs/throttler';
import type { DataSource } from 'typeorm';

type ThrottlerStorageRecord = Awaited<ReturnType<ThrottlerStorage['increment']>>;

const SWEEP_EVERY_MS = 60_000;

/**
 * Rate-limit counters in the service's own PostgreSQL database, so that every instance behind a
 * load balancer counts against the same limit. One upsert per request: Postgres serialises
 * concurrent increments of one key on its row lock, and its clock (not each instance's) decides
 * when a window ends. The only code that knows the throttle_counters table.
 */
export class PostgresThrottlerStorage implements ThrottlerStorage {
  private nextSweepAt = 0;

  constructor(private readonly dataSource: DataSource) {}

  async increment(key: string, ttl: number, limit: number, blockDuration: number, throttlerName: string): Promise<ThrottlerStorageRecord> {
    await this.sweep();
    const rows = await this.dataSource.query<{ hits: number; expires_in: number; blocked_for: number }[]>(
      `INSERT INTO throttle_counters AS c (key, hits, window_ends_at, blocked_until)
       VALUES ($1, 1, now() + $2 * interval '1 millisecond',
               CASE WHEN 1 > $3 THEN now() + $4 * interval '1 millisecond' END)
       ON CONFLICT (key) DO UPDATE SET
         hits = CASE WHEN c.blocked_until > now() THEN c.hits
                     WHEN c.window_ends_at <= now() THEN 1
                     ELSE c.hits + 1 END,
         window_ends_at = CASE WHEN c.blocked_until > now() OR c.window_ends_at > now() THEN c.window_ends_at
                               ELSE excluded.window_ends_at END,
         blocked_until = CASE WHEN c.blocked_until > now() THEN c.blocked_until
                              WHEN (CASE WHEN c.window_ends_at <= now() THEN 1 ELSE c.hits + 1 END) > $3
                                THEN now() + $4 * interval '1 millisecond' END
       RETURNING hits,
                 ceil(extract(epoch FROM (window_ends_at - now())))::int AS expires_in,
                 coalesce(ceil(extract(epoch FROM (blocked_until - now())))::int, 0) AS blocked_for`,
      [`${throttlerName}:${key}`, ttl, limit, blockDuration],
    );
    const row = rows[0];
    return {
      totalHits: row.hits,
      timeToExpire: Math.max(0, row.expires_in),
      isBlocked: row.blocked_for > 0,
      timeToBlockExpire: Math.max(0, row.blocked_for),
    };
  }

  /** Drops counters whose window and block are long over; at most once a minute per instance. */
  private async sweep(): Promise<void> {
    if (Date.now() < this.nextSweepAt) return;
    this.nextSweepAt = Date.now() + SWEEP_EVERY_MS;
    await this.dataSource.query(
      `DELETE FROM throttle_counters WHERE window_ends_at < now() - interval '1 minute' AND (blocked_until IS NULL OR blocked_until < now())`,
    );
  }
}
