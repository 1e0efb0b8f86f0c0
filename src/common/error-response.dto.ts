/** One problem with one input field. */
export class ErrorDetailDto {
  /** The request field the problem is about (snake_case, as sent). */
  field?: string;
  /** What is wrong with it. */
  message: string;
}

/** The one shape of every error this API returns. */
export class ErrorResponseDto {
  /** HTTP status code, repeated in the body. @example 400 */
  statusCode: number;
  /** HTTP reason phrase. @example "Bad Request" */
  error: string;
  /** Human-readable explanation. @example "to must be a valid E.164 phone number, e.g. +14155550100" */
  message: string;
  /** Stable machine-readable error code. @example invalid_phone_number */
  code: string;
  /** Per-field problems, when the request was invalid. */
  details?: ErrorDetailDto[];
  /** Twilio's own error code, when Twilio refused the request. @example 21211 */
  twilio_code?: number;
  /** Identifies this request in the service's logs. @example 6f1c2a7e-1d2b-4c55-9f1e-3a2b1c0d9e8f */
  request_id: string;
}
