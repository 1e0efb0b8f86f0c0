import { HttpStatus } from '@nestjs/common';

/** Stable machine-readable error codes; clients switch on these, never on messages. */
export type ErrorCode =
  | 'validation_failed'
  | 'invalid_phone_number'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'idempotency_key_in_use'
  | 'idempotency_key_mismatch'
  | 'call_already_ended'
  | 'call_not_live'
  | 'transfer_in_progress'
  | 'range_not_satisfiable'
  | 'recipient_opted_out'
  | 'twilio_invalid_request'
  | 'twilio_refused_recipient'
  | 'insufficient_funds'
  | 'rate_limited'
  | 'live_call_limit'
  | 'spending_limit_reached'
  | 'twilio_unavailable'
  | 'twilio_auth_failed'
  | 'twilio_timeout'
  | 'dependency_unavailable'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'invalid_signature'
  | 'internal_error';

export interface ErrorDetail {
  field?: string;
  message: string;
}

/** An error the service raises on purpose; the global filter renders it in the documented shape. */
export class AppError extends Error {
  constructor(
    readonly status: HttpStatus,
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    readonly twilioCode?: number,
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  static notFound(what: string, id: string): AppError {
    return new AppError(HttpStatus.NOT_FOUND, 'not_found', `${what} ${id} not found`);
  }

  static invalidField(field: string, message: string, code: ErrorCode = 'validation_failed'): AppError {
    return new AppError(HttpStatus.BAD_REQUEST, code, message, [{ field, message }]);
  }
}
