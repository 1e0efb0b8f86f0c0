import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import type { IdempotencyKeyState } from './idempotency-key.entity';

export interface KeyClaim {
  subject: string;
  key: string;
  requestMethod: string;
  requestPath: string;
  fingerprint: string;
  lockToken: string;
  ttlSeconds: number;
  lockTimeoutSeconds: number;
}

export interface StoredKey {
  requestMethod: string;
  requestPath: string;
  fingerprint: string;
  state: IdempotencyKeyState;
  responseStatus: number | null;
  responseBody: string | null;
}

interface StoredKeyRow {
  request_method: string;
  request_path: string;
  fingerprint: string;
  state: IdempotencyKeyState;
  response_status: number | null;
  response_body: string | null;
}

/**
 * The only code that knows the idempotency_keys table. Every decision that two instances could
 * race on is one statement, so PostgreSQL's row lock on (subject, key) settles it.
 */
@Injectable()
export class IdempotencyKeyRepository {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  /**
   * Takes the key for this request: inserts it, or takes over a row that no longer counts (expired
   * after completing; or abandoned in flight past the lock timeout, when it was the same request or
   * has expired too). True when this request now holds the key.
   */
  async claim(c: KeyClaim): Promise<boolean> {
    const rows = await this.dataSource.query<{ lock_token: string }[]>(
      `INSERT INTO idempotency_keys AS k
         (subject, key, request_method, request_path, fingerprint, state, lock_token, created_at, locked_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, 'in_flight', $6, now(), now(), now() + $7 * interval '1 second')
       ON CONFLICT (subject, key) DO UPDATE SET
         request_method = excluded.request_method,
         request_path = excluded.request_path,
         fingerprint = excluded.fingerprint,
         state = 'in_flight',
         lock_token = excluded.lock_token,
         response_status = NULL,
         response_body = NULL,
         created_at = excluded.created_at,
         locked_at = excluded.locked_at,
         completed_at = NULL,
         expires_at = excluded.expires_at
       WHERE (k.state = 'completed' AND k.expires_at <= now())
          OR (k.state = 'in_flight' AND k.locked_at <= now() - $8 * interval '1 second'
              AND (k.expires_at <= now()
                   OR (k.fingerprint = excluded.fingerprint AND k.request_method = excluded.request_method
                       AND k.request_path = excluded.request_path)))
       RETURNING k.lock_token`,
      [c.subject, c.key, c.requestMethod, c.requestPath, c.fingerprint, c.lockToken, c.ttlSeconds, c.lockTimeoutSeconds],
    );
    return rows.length === 1 && rows[0].lock_token === c.lockToken;
  }

  /** The key's kept answer, when it has one that still counts (completed, not expired). */
  async findCompleted(subject: string, key: string): Promise<StoredKey | null> {
    const stored = await this.find(subject, key, true);
    return stored?.state === 'completed' ? stored : null;
  }

  async find(subject: string, key: string, unexpiredOnly = false): Promise<StoredKey | null> {
    const rows = await this.dataSource.query<StoredKeyRow[]>(
      `SELECT request_method, request_path, fingerprint, state, response_status, response_body
         FROM idempotency_keys WHERE subject = $1 AND key = $2${unexpiredOnly ? ' AND expires_at > now()' : ''}`,
      [subject, key],
    );
    const row = rows[0];
    if (!row) return null;
    return {
      requestMethod: row.request_method,
      requestPath: row.request_path,
      fingerprint: row.fingerprint,
      state: row.state,
      responseStatus: row.response_status,
      responseBody: row.response_body,
    };
  }

  /** Saves the answer of the request holding the key; false when it no longer holds it. */
  async complete(subject: string, key: string, lockToken: string, status: number, body: string | null): Promise<boolean> {
    // UPDATE and DELETE answer [rows, affected] through TypeORM
    const [, affected] = await this.dataSource.query<[unknown[], number]>(
      `UPDATE idempotency_keys
          SET state = 'completed', lock_token = NULL, response_status = $4, response_body = $5, completed_at = now()
        WHERE subject = $1 AND key = $2 AND lock_token = $3`,
      [subject, key, lockToken, status, body],
    );
    return affected === 1;
  }

  /** Forgets a key whose request did nothing worth replaying, so that a retry runs again. */
  async release(subject: string, key: string, lockToken: string): Promise<void> {
    await this.dataSource.query(`DELETE FROM idempotency_keys WHERE subject = $1 AND key = $2 AND lock_token = $3`, [
      subject,
      key,
      lockToken,
    ]);
  }

  /** Deletes up to `limit` keys that no longer count; returns how many. */
  async purge(lockTimeoutSeconds: number, limit: number): Promise<number> {
    const [, affected] = await this.dataSource.query<[unknown[], number]>(
      `DELETE FROM idempotency_keys
        WHERE (subject, key) IN (
          SELECT subject, key FROM idempotency_keys
           WHERE expires_at <= now()
             AND (state = 'completed' OR locked_at <= now() - $1 * interval '1 second')
           LIMIT $2)`,
      [lockTimeoutSeconds, limit],
    );
    return affected;
  }
}
