import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { IdempotencyKeyRepository } from './idempotency-key.repository';

export interface IdempotentRequest {
  subject: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
}

/** What to do with a request that carries a key. */
export type KeyDecision =
  /** This request holds the key: run it, then `complete` or `release` with the lock token. */
  | { kind: 'run'; lockToken: string }
  /** The first request with this key finished: answer what it answered. */
  | { kind: 'replay'; status: number; body: string | null }
  /** The first request with this key is still running. */
  | { kind: 'in_flight' }
  /** The key was first used for another request (body or endpoint). */
  | { kind: 'mismatch'; method: string; path: string };

/** A claim that lost its row between the two statements (released or purged meanwhile) tries again. */
const CLAIM_ATTEMPTS = 5;

/** Idempotency keys: who holds a key, and the answers kept for replay. Used by IdempotencyInterceptor. */
@Injectable()
export class IdempotencyService {
  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly keys: IdempotencyKeyRepository,
  ) {}

  async claim(request: IdempotentRequest): Promise<KeyDecision> {
    const { ttlSeconds, lockTimeoutSeconds } = this.config.idempotency;
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const lockToken = randomUUID();
      const claimed = await this.keys.claim({
        subject: request.subject,
        key: request.key,
        requestMethod: request.method,
        requestPath: request.path,
        fingerprint: request.fingerprint,
        lockToken,
        ttlSeconds,
        lockTimeoutSeconds,
      });
      if (claimed) return { kind: 'run', lockToken };
      const stored = await this.keys.find(request.subject, request.key);
      if (!stored) continue;
      if (stored.requestMethod !== request.method || stored.requestPath !== request.path || stored.fingerprint !== request.fingerprint) {
        return { kind: 'mismatch', method: stored.requestMethod, path: stored.requestPath };
      }
      if (stored.state === 'in_flight') return { kind: 'in_flight' };
      return { kind: 'replay', status: stored.responseStatus!, body: stored.responseBody };
    }
    // Only a key released and re-claimed over and over by others gets here; they are running it.
    return { kind: 'in_flight' };
  }

  /** Keeps the answer for replay; false when the key was taken over meanwhile (lock timeout). */
  complete(request: IdempotentRequest, lockToken: string, status: number, body: string | null): Promise<boolean> {
    return this.keys.complete(request.subject, request.key, lockToken, status, body);
  }

  release(request: IdempotentRequest, lockToken: string): Promise<void> {
    return this.keys.release(request.subject, request.key, lockToken);
  }

  /** Deletes up to `limit` keys that no longer count (expired, and not held by a live request). */
  purgeExpired(limit = 1000): Promise<number> {
    return this.keys.purge(this.config.idempotency.lockTimeoutSeconds, limit);
  }
}
