import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Inject, Optional } from '@nestjs/common';
import { STATUS_CODES } from 'node:http';
import type { Response } from 'express';
import { AppError, ErrorCode, ErrorDetail } from './app-error';
import { ErrorResponseDto } from './error-response.dto';
import { appLogger } from './logger';
import { RequestWithId, requestIdOf } from './request-id.middleware';

const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  400: 'validation_failed',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'payload_too_large',
  429: 'rate_limited',
  503: 'dependency_unavailable',
};

/**
 * Recognises the failure of a dependency the request could not do without (the database) and
 * returns the error to answer (503 with Retry-After), or null; the app module provides it.
 */
export type DependencyFailureMapper = (exception: unknown) => AppError | null;
export const DEPENDENCY_FAILURE_MAPPER = Symbol('DEPENDENCY_FAILURE_MAPPER');

/** Renders every error in the one documented shape; internals go to the log, never to the client. */
@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  constructor(@Optional() @Inject(DEPENDENCY_FAILURE_MAPPER) private readonly dependencyFailure?: DependencyFailureMapper) {}

  catch(exception: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const req = http.getRequest<RequestWithId>();
    const res = http.getResponse<Response>();
    const requestId = requestIdOf(req);
    const error = toAppError(exception, this.dependencyFailure);

    if (error.status >= HttpStatus.INTERNAL_SERVER_ERROR) {
      appLogger().event('error', 'request_failed', {
        request_id: requestId,
        method: req.method,
        path: req.path,
        status: error.status,
        code: error.code,
        error: exception instanceof Error ? exception.message : String(exception),
        stack: exception instanceof Error ? exception.stack : undefined,
      });
    }
    if (error.retryAfterSeconds !== undefined) res.setHeader('Retry-After', String(error.retryAfterSeconds));
    if (res.headersSent) return;

    res.status(error.status).json(errorResponseBody(error, requestId));
  }
}

/** The body every error answer carries. */
export function errorResponseBody(error: AppError, requestId: string): ErrorResponseDto {
  const body: ErrorResponseDto = {
    statusCode: error.status,
    error: STATUS_CODES[error.status] ?? 'Error',
    message: error.message,
    code: error.code,
    request_id: requestId,
  };
  if (error.details?.length) body.details = error.details;
  if (error.twilioCode !== undefined) body.twilio_code = error.twilioCode;
  return body;
}

/**
 * The documented error for anything thrown. A failed dependency is what `dependencyFailure` says
 * (an unavailable database: 503 with Retry-After, for Twilio's webhooks too so that Twilio
 * retries them), never a 500.
 */
export function toAppError(exception: unknown, dependencyFailure?: DependencyFailureMapper): AppError {
  if (exception instanceof AppError) return exception;
  const bodyParserFailure = bodyParserFailureOf(exception);
  if (bodyParserFailure) return bodyParserFailure;
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const response = exception.getResponse();
    const message = typeof response === 'string' ? response : (messageOf(response) ?? exception.message);
    const details = detailsOf(response);
    return new AppError(status, CODE_BY_STATUS[status] ?? (status >= 500 ? 'internal_error' : 'validation_failed'), message, details);
  }
  return dependencyFailure?.(exception) ?? new AppError(HttpStatus.INTERNAL_SERVER_ERROR, 'internal_error', 'Internal server error');
}

/** body-parser's own errors (bad JSON, too large), whether raw or wrapped by Nest. */
function bodyParserFailureOf(exception: unknown): AppError | null {
  const candidates = [exception, (exception as { cause?: unknown })?.cause];
  for (const candidate of candidates) {
    const type = (candidate as { type?: string } | undefined)?.type;
    if (type === 'entity.parse.failed') return new AppError(HttpStatus.BAD_REQUEST, 'validation_failed', 'Request body is not valid JSON');
    if (type === 'entity.too.large') return new AppError(HttpStatus.PAYLOAD_TOO_LARGE, 'payload_too_large', 'Request body is too large');
    if (type === 'encoding.unsupported' || type === 'charset.unsupported') {
      return new AppError(HttpStatus.UNSUPPORTED_MEDIA_TYPE, 'validation_failed', 'Request body encoding is not supported');
    }
  }
  return null;
}

function messageOf(response: object): string | undefined {
  const message = (response as { message?: unknown }).message;
  if (Array.isArray(message)) return message.join('; ');
  return typeof message === 'string' ? message : undefined;
}

function detailsOf(response: unknown): ErrorDetail[] | undefined {
  const message = (response as { message?: unknown })?.message;
  return Array.isArray(message) ? message.map((m) => ({ message: String(m) })) : undefined;
}
