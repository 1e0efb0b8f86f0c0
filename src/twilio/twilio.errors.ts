import { HttpStatus } from '@nestjs/common';
import { AppError, ErrorCode } from '../common/app-error';

/** Why a Twilio request failed, in our own terms. */
export type TwilioFailureKind =
  'invalid_request' | 'refused_recipient' | 'insufficient_funds' | 'rate_limited' | 'auth_failed' | 'not_found' | 'unavailable' | 'timeout';

const HTTP_BY_KIND: Record<TwilioFailureKind, [HttpStatus, ErrorCode]> = {
  invalid_request: [HttpStatus.BAD_REQUEST, 'twilio_invalid_request'],
  refused_recipient: [HttpStatus.BAD_REQUEST, 'twilio_refused_recipient'],
  insufficient_funds: [HttpStatus.PAYMENT_REQUIRED, 'insufficient_funds'],
  rate_limited: [HttpStatus.TOO_MANY_REQUESTS, 'rate_limited'],
  auth_failed: [HttpStatus.BAD_GATEWAY, 'twilio_auth_failed'],
  not_found: [HttpStatus.NOT_FOUND, 'not_found'],
  unavailable: [HttpStatus.BAD_GATEWAY, 'twilio_unavailable'],
  timeout: [HttpStatus.GATEWAY_TIMEOUT, 'twilio_timeout'],
};

/**
 * Twilio refused or failed a request; carries Twilio's code when it gave one. It is an AppError, so
 * the global filter renders it with the HTTP status and code its kind maps to.
 */
export class TwilioGatewayError extends AppError {
  constructor(
    readonly kind: TwilioFailureKind,
    message: string,
    twilioCode?: number,
    readonly field?: string,
    /** False only when the request surely never reached Twilio (connection refused, name not resolved). */
    readonly requestSent = true,
  ) {
    const [status, code] = HTTP_BY_KIND[kind];
    const details = field ? [{ field, message }] : undefined;
    super(status, code, message, details, twilioCode, kind === 'rate_limited' ? 1 : undefined);
    this.name = 'TwilioGatewayError';
  }
}

/**
 * Whether Twilio may have acted on a request that failed this way: it timed out, the connection
 * dropped after the request was sent, or Twilio failed (5xx). A 4xx, including 429, is a refusal.
 */
export function twilioMayHaveActed(error: unknown): boolean {
  if (!(error instanceof TwilioGatewayError)) return true;
  return (error.kind === 'timeout' || error.kind === 'unavailable') && error.requestSent;
}

/** Field that a Twilio parameter error is about, in our API's names. */
const FIELD_BY_CODE: Record<number, string> = {
  21201: 'to',
  21211: 'to',
  21214: 'to',
  21215: 'to',
  21216: 'to',
  21217: 'to',
  21408: 'to',
  21604: 'to',
  21612: 'to',
  21614: 'to',
  21610: 'to',
  21212: 'from',
  21213: 'from',
  21210: 'from',
  21603: 'from',
  21606: 'from',
  21611: 'from',
  21205: 'twiml',
  21421: 'phone_number',
  21422: 'phone_number',
  21451: 'area_code',
  21452: 'area_code',
};

const REFUSED_RECIPIENT = new Set([21214, 21215, 21216, 21408, 21610, 21612, 21614]);
const INSUFFICIENT_FUNDS = new Set([20005, 10001, 30002]);

/** Maps a Twilio REST error (HTTP status + Twilio code) to our failure kind. */
export function classifyTwilioError(httpStatus: number, code: number | undefined, message: string): TwilioGatewayError {
  const field = code === undefined ? undefined : FIELD_BY_CODE[code];
  if (code !== undefined && INSUFFICIENT_FUNDS.has(code)) {
    return new TwilioGatewayError('insufficient_funds', `Twilio account has insufficient funds: ${message}`, code);
  }
  switch (true) {
    case httpStatus === 429 || code === 20429:
      return new TwilioGatewayError('rate_limited', 'Twilio rate limit reached; retry shortly', code);
    case httpStatus === 401 || code === 20003 || code === 20403 || code === 20008:
      return new TwilioGatewayError('auth_failed', 'Twilio rejected the service credentials', code);
    case httpStatus === 404 || code === 20404:
      return new TwilioGatewayError('not_found', message, code);
    case code !== undefined && REFUSED_RECIPIENT.has(code):
      return new TwilioGatewayError('refused_recipient', message, code, field);
    case httpStatus >= 400 && httpStatus < 500:
      return new TwilioGatewayError('invalid_request', message, code, field);
    default:
      return new TwilioGatewayError('unavailable', `Twilio failed: ${message}`, code);
  }
}

/**
 * Titles from Twilio's error dictionary for the codes a status callback reports without a message
 * (callbacks carry ErrorCode only; the resource's error_message says this text).
 */
const DELIVERY_ERROR_TITLES: Record<number, string> = {
  30001: 'Queue overflow',
  30002: 'Account suspended',
  30003: 'Unreachable destination handset',
  30004: 'Message blocked',
  30005: 'Unknown destination handset',
  30006: 'Landline or unreachable carrier',
  30007: 'Message filtered',
  30008: 'Unknown error',
};

/** The error dictionary's title for a delivery error code, or null for a code we do not map. */
export function twilioErrorTitle(code: number): string | null {
  return DELIVERY_ERROR_TITLES[code] ?? null;
}
