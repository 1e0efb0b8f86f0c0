import { ExecutionContext, HttpStatus, Inject, Injectable, SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import type { Request } from 'express';
import { AppError } from '../common/app-error';
import { appLogger } from '../common/logger';
import { IdempotencyService, idempotentRequestOf } from '../idempotency/idempotency.service';

export type RateLimitedAction = 'calls' | 'sms';

const RATE_LIMIT_KEY = 'samsaek:rate-limit';
const ACTION_NOUN: Record<RateLimitedAction, string> = { calls: 'calls placed', sms: 'messages sent' };

/** The action a route counts against, or undefined when it is not rate limited. */
export function rateLimitedActionOf(context: ExecutionContext): RateLimitedAction | undefined {
  return Reflect.getMetadata(RATE_LIMIT_KEY, context.getHandler()) as RateLimitedAction | undefined;
}

/**
 * Limits how often one caller (the token's subject) may run this route. Runs after the global
 * auth guard, so the subject is known, and before the handler, so a refused request never
 * reaches Twilio. A repeat that the idempotency interceptor answers with the kept answer
 * (Idempotent-Replayed: true) does nothing again, so it is not counted; the module using this
 * guard imports IdempotencyModule.
 */
export function RateLimit(action: RateLimitedAction): MethodDecorator {
  return applyDecorators(SetMetadata(RATE_LIMIT_KEY, action), UseGuards(SubjectRateLimitGuard));
}

@Injectable()
export class SubjectRateLimitGuard extends ThrottlerGuard {
  @Inject(IdempotencyService) private readonly idempotency: IdempotencyService;

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (await this.isReplay(context)) return true;
    return super.canActivate(context);
  }

  /** False when unsure (no key, a malformed one, the key store unreachable): the request is then counted. */
  private async isReplay(context: ExecutionContext): Promise<boolean> {
    try {
      const request = idempotentRequestOf(context.switchToHttp().getRequest<Request>());
      return request !== null && (await this.idempotency.wouldReplay(request));
    } catch (error) {
      // a malformed key is the interceptor's 400 to give; anything else is worth a line
      if (!(error instanceof AppError)) {
        appLogger().event('warn', 'rate_limit_replay_check_failed', { error: error instanceof Error ? error.message : String(error) });
      }
      return false;
    }
  }

  // Not async: ThrottlerGuard awaits both hooks, so a throw here reaches the caller as a rejection.
  protected getTracker(req: Record<string, unknown>): Promise<string> {
    const sub = (req.user as { sub?: unknown } | undefined)?.sub;
    if (typeof sub !== 'string') throw new AppError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Authentication failed: missing bearer token');
    return Promise.resolve(`subject:${sub}`);
  }

  protected throwThrottlingException(context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<void> {
    const action = rateLimitedActionOf(context) ?? 'calls';
    throw new AppError(
      HttpStatus.TOO_MANY_REQUESTS,
      'rate_limited',
      `Rate limit reached: at most ${detail.limit} ${ACTION_NOUN[action]} per ${detail.ttl / 1000} s for one caller; retry after ${detail.timeToBlockExpire} s`,
      undefined,
      undefined,
      detail.timeToBlockExpire,
    );
  }
}
