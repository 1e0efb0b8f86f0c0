import { applyDecorators } from '@nestjs/common';
import { ApiResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from './error-response.dto';

/**
 * Documents the errors a route answers when the Twilio request behind it fails (see the failure
 * kinds in src/twilio/twilio.errors.ts). `charges`: the route spends money at Twilio, so an
 * account without funds is refused with 402; with `spendingLimit` so is a request past the daily
 * spending limit. `rateLimited`: the route also counts against the caller's own rate limit (code
 * rate_limited). `liveCalls`: the route places a call, refused past the live call cap (code
 * live_call_limit). `intent`: the route stores its request before asking Twilio, so a lost answer
 * is a 202 with status `unknown` (documented by the route), never a 504, and a request it cannot
 * store is a 503.
 */
export function ApiTwilioErrors(
  options: { charges?: boolean; spendingLimit?: boolean; rateLimited?: boolean; liveCalls?: boolean; intent?: boolean } = {},
): MethodDecorator & ClassDecorator {
  const tooMany = [
    'This caller sent too many requests in the rate-limit window (code rate_limited)',
    ...(options.liveCalls ? ['MAX_LIVE_CALLS calls are already live (code live_call_limit)'] : []),
  ];
  return applyDecorators(
    ...(options.charges
      ? [
          ApiResponse({
            status: 402,
            type: ErrorResponseDto,
            description: options.spendingLimit
              ? 'With this request the spending of the day (UTC) would pass SPENDING_DAILY_LIMIT (code spending_limit_reached; ' +
                'Twilio is not asked), or the Twilio account has insufficient funds (code insufficient_funds)'
              : 'The Twilio account has insufficient funds',
          }),
        ]
      : []),
    options.rateLimited
      ? ApiResponse({
          status: 429,
          type: ErrorResponseDto,
          description: `${tooMany.join(', or ')}, or Twilio's rate limit was reached`,
          headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
        })
      : ApiResponse({ status: 429, type: ErrorResponseDto, description: 'Twilio rate limit reached' }),
    ...(options.intent
      ? [
          ApiResponse({
            status: 502,
            type: ErrorResponseDto,
            description: 'Twilio could not be reached (nothing was sent) or rejected the service credentials',
          }),
          ApiResponse({
            status: 503,
            type: ErrorResponseDto,
            description: 'The request could not be recorded (code dependency_unavailable); nothing was sent to Twilio',
            headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer' } } },
          }),
        ]
      : [
          ApiResponse({ status: 502, type: ErrorResponseDto, description: 'Twilio failed or rejected the service credentials' }),
          ApiResponse({ status: 504, type: ErrorResponseDto, description: 'Twilio did not answer in time' }),
        ]),
  );
}
