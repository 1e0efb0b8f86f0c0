import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import type { Request } from 'express';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey, requestFingerprint } from './idempotency-key';
import { IdempotencyKeyRepository } from './idempotency-key.repository';

export interface IdempotentRequest {
  subject: string;
  key: string;
  method: string;
  path: string;
  fingerprint: string;
}

/**
 * The key request `req` carries, as the interceptor and the rate limit see it: null without an
 * Idempotency-Key header or without an authenticated subject. Throws 400 for a malformed header.
 */
export function idempotentRequestOf(req: Request & { user?: { sub?: unknown } }): IdempotentRequest | null {
  const key = parseIdempotencyKey(req.headersDistinct[IDEMPOTENCY_KEY_HEADER.toLowerCase()]);
  const subject = req.user?.sub;
  if (key === null || typeof subject !== 'string') return null;
  return {
    subject,
    key,
    method: req.method,
    path: (req.route as { path?: string } | undefined)?.path ?? req.path,
    fingerprint: requestFingerprint(req.body),
  };
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

  /**
   * Whether this request would be answered with a kept answer (same key, endpoint and body, completed
   * and not expired), without claiming anything. The rate limit lets such a repeat through uncounted.
   */
  async wouldReplay(request: IdempotentRequest): Promise<boolean> {
    const stored = await this.keys.findCompleted(request.subject, request.key);
    return (
      stored !== null &&
      stored.requestMethod === request.method &&
      stored.requestPath === request.path &&
      stored.fingerprint === request.fingerprint
    );
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
