import { ExecutionContext, HttpStatus, Injectable, SetMetadata, UseGuards, applyDecorators } from '@nestjs/common';
import { ThrottlerGuard, ThrottlerLimitDetail } from '@nestjs/throttler';
import { AppError } from '../common/app-error';

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
 * reaches Twilio.
 */
export function RateLimit(action: RateLimitedAction): MethodDecorator {
  return applyDecorators(SetMetadata(RATE_LIMIT_KEY, action), UseGuards(SubjectRateLimitGuard));
}

@Injectable()
export class SubjectRateLimitGuard extends ThrottlerGuard {
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
