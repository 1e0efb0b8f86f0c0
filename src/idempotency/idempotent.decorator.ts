import { UseInterceptors, applyDecorators } from '@nestjs/common';
import { ApiHeader, ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error-response.dto';
import { IDEMPOTENCY_KEY_HEADER, MAX_KEY_LENGTH } from './idempotency-key';
import { IdempotencyInterceptor, REPLAYED_HEADER } from './idempotency.interceptor';

export const IDEMPOTENCY_KEY_DESCRIPTION =
  'Makes the request safe to retry (IETF draft "The Idempotency-Key HTTP Header Field", with Stripe\'s rules). ' +
  '1 to 255 printable ASCII characters, sent quoted (`"8e03978e-40d5-43e8-bc93-6894a57f9324"`) or bare; a UUID v4 is a good key. ' +
  'Keys belong to the token subject and are kept 24 hours (IDEMPOTENCY_TTL_SECONDS). ' +
  `A repeat with the same key and body gets the first answer again, with \`${REPLAYED_HEADER}: true\`, and nothing is done twice. ` +
  'Kept for replay: 2xx answers and 4xx errors raised while the request ran (an opted-out recipient, a number Twilio refused). ' +
  'Not kept, so a retry with the same key runs again: request validation failures (400), 429, 5xx (these mean nothing was done), and the 409 and 422 below. ' +
  'A key left in flight by a stopped instance runs again after IDEMPOTENCY_LOCK_TIMEOUT_SECONDS (5 minutes).';

/** The 409 a route with @Idempotent answers while the first request with a key is still running. */
export const IDEMPOTENCY_KEY_IN_USE_DESCRIPTION = `The request with this ${IDEMPOTENCY_KEY_HEADER} is still in flight (code idempotency_key_in_use); retry after Retry-After`;

/**
 * Lets a route take an Idempotency-Key: repeats with the same key get the first answer, and
 * concurrent copies run once. Enforces it (IdempotencyInterceptor) and documents it.
 * `conflict`: the route's own 409, documented together with the key's.
 */
export function Idempotent(options: { conflict?: string } = {}): MethodDecorator {
  return applyDecorators(
    UseInterceptors(IdempotencyInterceptor),
    ApiHeader({
      name: IDEMPOTENCY_KEY_HEADER,
      required: false,
      description: IDEMPOTENCY_KEY_DESCRIPTION,
      // no example: Swagger UI would send it with every "Try it out", and the second different body gets a 422
      schema: { type: 'string', minLength: 1, maxLength: MAX_KEY_LENGTH },
    }),
    ApiResponse({
      status: 409,
      type: ErrorResponseDto,
      description: options.conflict
        ? `${options.conflict}; or ${lowerFirst(IDEMPOTENCY_KEY_IN_USE_DESCRIPTION)}`
        : IDEMPOTENCY_KEY_IN_USE_DESCRIPTION,
      headers: { 'Retry-After': { description: 'Seconds to wait before retrying the same key', schema: { type: 'integer' } } },
    }),
    ApiResponse({
      status: 422,
      type: ErrorResponseDto,
      description: `This ${IDEMPOTENCY_KEY_HEADER} was already used for a different request body or endpoint (code idempotency_key_mismatch)`,
    }),
  );
}

function lowerFirst(text: string): string {
  return text.charAt(0).toLowerCase() + text.slice(1);
}
