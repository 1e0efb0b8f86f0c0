import { CallHandler, ExecutionContext, HttpStatus, Injectable, NestInterceptor } from '@nestjs/common';
import type { Request, Response } from 'express';
import { Observable, catchError, defer, mergeMap, of } from 'rxjs';
import { AppError } from '../common/app-error';
import { errorResponseBody, toAppError } from '../common/all-exceptions.filter';
import { appLogger } from '../common/logger';
import { requestIdOf } from '../common/request-id.middleware';
import { RequestValidationError } from '../common/validation.pipe';
import { IDEMPOTENCY_KEY_HEADER, parseIdempotencyKey } from './idempotency-key';
import { IdempotencyService, IdempotentRequest, idempotentRequestOf } from './idempotency.service';

export const REPLAYED_HEADER = 'Idempotent-Replayed';
/** Seconds a client is asked to wait before retrying a key that is still in flight. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

/**
 * Applies an Idempotency-Key (see @Idempotent): claims the key before the handler runs, replays
 * the first answer to a repeat, and keeps what the handler answered. Runs after the guards, so the
 * caller is known and a refused (401, 403, 429) request never touches a key; before the
 * validation pipe, so a validation failure releases the key it claimed.
 */
@Injectable()
export class IdempotencyInterceptor implements NestInterceptor {
  constructor(private readonly keys: IdempotencyService) {}

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const req = http.getRequest<Request & { user?: { sub?: unknown } }>();
    const res = http.getResponse<Response>();
    const key = parseIdempotencyKey(req.headersDistinct[IDEMPOTENCY_KEY_HEADER.toLowerCase()]);
    if (key === null) return next.handle();
    const request = idempotentRequestOf(req);
    if (request === null) throw new AppError(HttpStatus.UNAUTHORIZED, 'unauthorized', 'Authentication failed: missing bearer token');
    const decision = await this.keys.claim(request);
    switch (decision.kind) {
      case 'replay':
        res.status(decision.status);
        res.setHeader(REPLAYED_HEADER, 'true');
        return of(decision.body === null ? undefined : JSON.parse(decision.body));
      case 'in_flight':
        throw new AppError(
          HttpStatus.CONFLICT,
          'idempotency_key_in_use',
          `A request with this ${IDEMPOTENCY_KEY_HEADER} is still being processed; retry after ${IN_FLIGHT_RETRY_AFTER_SECONDS} s to get its answer`,
          [{ field: IDEMPOTENCY_KEY_HEADER, message: 'in use by a request in flight' }],
          undefined,
          IN_FLIGHT_RETRY_AFTER_SECONDS,
        );
      case 'mismatch':
        throw new AppError(
          HttpStatus.UNPROCESSABLE_ENTITY,
          'idempotency_key_mismatch',
          `This ${IDEMPOTENCY_KEY_HEADER} was used for a different request (${decision.method} ${decision.path} with another body); use a new key for a new request`,
          [{ field: IDEMPOTENCY_KEY_HEADER, message: 'already used for a different request' }],
        );
    }

    const { lockToken } = decision;
    return next.handle().pipe(
      mergeMap(async (result: unknown) => {
        await this.settle(request, () => this.keys.complete(request, lockToken, res.statusCode, JSON.stringify(result) ?? null));
        return result;
      }),
      catchError((error: unknown) =>
        defer(async () => {
          const failure = toAppError(error);
          if (keepsFailure(error, failure)) {
            const body = JSON.stringify(errorResponseBody(failure, requestIdOf(req)));
            await this.settle(request, () => this.keys.complete(request, lockToken, failure.status, body));
          } else {
            await this.settle(request, () => this.keys.release(request, lockToken));
          }
          throw error;
        }),
      ),
    );
  }

  /** The answer goes out even when the key cannot be updated; the key then stays in flight until its lock times out. */
  private async settle(request: IdempotentRequest, update: () => Promise<unknown>): Promise<void> {
    try {
      if ((await update()) === false) appLogger().event('warn', 'idempotency_key_taken_over', { path: request.path });
    } catch (error) {
      appLogger().event('error', 'idempotency_key_update_failed', {
        path: request.path,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  }
}

/**
 * Stripe's rule: an error raised once the handler ran is the request's answer and is kept. Not
 * kept (the key is released, a retry runs again): validation failures (the handler never ran),
 * rate limits, and 5xx answers, which mean nothing was done.
 */
function keepsFailure(error: unknown, failure: AppError): boolean {
  if (error instanceof RequestValidationError) return false;
  const status: number = failure.status;
  return status >= 400 && status < 500 && status !== 429;
}
