import { createHash } from 'node:crypto';
import { HttpStatus, Inject, Injectable } from '@nestjs/common';
import { InjectThrottlerStorage, ThrottlerStorage } from '@nestjs/throttler';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AppError } from '../common/app-error';

/**
 * Counts rejected bearer tokens per client IP. Past the limit the client gets 429 instead of 401
 * until the window is over, so guessing tokens gets slow; a valid token still gets through.
 */
@Injectable()
export class AuthFailureLimiter {
  constructor(
    @InjectThrottlerStorage() private readonly storage: ThrottlerStorage,
    @Inject(APP_CONFIG) private readonly config: AppConfig,
  ) {}

  /** Records one failure; returns the 429 to answer instead when the client is over its limit. */
  async recordFailure(clientIp: string | undefined): Promise<AppError | null> {
    const { authFailures, authFailureWindowSeconds } = this.config.rateLimits;
    const windowMs = authFailureWindowSeconds * 1000;
    const key = createHash('sha256')
      .update(`auth-failure:${clientIp ?? 'unknown'}`)
      .digest('hex');
    const record = await this.storage.increment(key, windowMs, authFailures, windowMs, 'auth-failures');
    if (!record.isBlocked) return null;
    return new AppError(
      HttpStatus.TOO_MANY_REQUESTS,
      'rate_limited',
      `Too many failed authentication attempts from this client; retry after ${record.timeToBlockExpire} s`,
      undefined,
      undefined,
      record.timeToBlockExpire,
    );
  }
}
