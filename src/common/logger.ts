import type { IncomingMessage, ServerResponse } from 'node:http';
import { LoggerService } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import type { Params } from 'nestjs-pino';
import pino, { type DestinationStream, type Logger as Pino } from 'pino';
import type { Options as PinoHttpOptions } from 'pino-http';
import { maskPhoneNumber } from './phone-number';
import { requestIdOf } from './request-id.middleware';

export type LogLevel = 'error' | 'warn' | 'info' | 'debug';

export interface LoggingOptions {
  level: LogLevel;
  /** Keep `body` fields (SMS text); dropped otherwise. */
  messageBodies: boolean;
  /** Where lines go; stdout when absent (tests pass a stream to read them). */
  destination?: DestinationStream;
}

/** Keys whose values never reach a log line, at the top level or one level down. */
const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'x-twilio-signature',
  'token',
  'access_token',
  'auth_token',
  'authToken',
  'secret',
  'password',
  'api_key',
  'signature',
];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [`["${key}"]`, `*["${key}"]`]);
const BODY_KEYS = new Set(['body', 'message_body']);
const E164 = /^\+[1-9]\d{6,14}$/;
/** Liveness and readiness probes answer every few seconds; their access lines are debug. */
const QUIET_ROUTE = /\/health\/(live|ready)$/;

function scrub(fields: Record<string, unknown>, messageBodies: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (!messageBodies && BODY_KEYS.has(key)) continue;
    out[key] = typeof value === 'string' && E164.test(value) ? maskPhoneNumber(value) : value;
  }
  return out;
}

interface ServedRequest extends IncomingMessage {
  route?: { path?: string };
  baseUrl?: string;
  params?: Record<string, unknown>;
  body?: unknown;
  user?: { sub?: unknown };
}

/** The route template (`/api/phone/calls/:sid`), never the raw URL: no numbers, bounded cardinality. */
export function routeTemplateOf(req: IncomingMessage): string {
  const served = req as ServedRequest;
  const path = served.route?.path;
  // Nest answers unknown paths from a catch-all route (`/api/phone*path`): that is no route of ours
  return typeof path === 'string' && !path.includes('*') ? `${served.baseUrl ?? ''}${path}` : 'unmatched';
}

/** The Twilio sid a request is about: the `sid` path parameter, or a webhook's CallSid/MessageSid. */
function twilioSidOf(req: ServedRequest): string | undefined {
  const param = req.params?.sid;
  if (typeof param === 'string') return param;
  const body = req.body as Record<string, unknown> | undefined;
  if (body && typeof body === 'object') {
    for (const key of ['MessageSid', 'SmsSid', 'RecordingSid', 'CallSid']) {
      if (typeof body[key] === 'string') return body[key];
    }
  }
  return undefined;
}

function accessFields(req: IncomingMessage, res: ServerResponse, latencyMs: unknown): Record<string, unknown> {
  const served = req as ServedRequest;
  const subject = served.user?.sub;
  const sid = twilioSidOf(served);
  return {
    event: 'http_request',
    method: req.method,
    route: routeTemplateOf(req),
    status: res.statusCode,
    latency_ms: latencyMs,
    ...(typeof subject === 'string' ? { subject } : {}),
    ...(sid ? { twilio_sid: sid } : {}),
  };
}

/** The root pino logger and the pino-http options that nestjs-pino mounts (one access line per request). */
export function createLogging(options: LoggingOptions): { root: Pino; params: Params } {
  const root = pino(
    {
      level: options.level,
      base: null,
      timestamp: pino.stdTimeFunctions.isoTime,
      messageKey: 'msg',
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      formatters: {
        level: (label) => ({ level: label }),
        log: (fields) => scrub(fields, options.messageBodies),
      },
    },
    options.destination ?? pino.destination({ fd: 1, sync: true }),
  );
  const pinoHttp: PinoHttpOptions = {
    logger: root,
    genReqId: (req, res) => {
      const id = requestIdOf(req);
      if (!res.hasHeader('X-Request-Id')) res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'request_id', responseTime: 'latency_ms' },
    quietReqLogger: true,
    quietResLogger: true,
    // With both loggers quiet, pino-http still binds every request to a child logger it never
    // writes with (`req`): serializing, redacting and stringifying the request for nothing. No line
    // of ours carries `req` (accessFields lists what the access line says), so that binding is
    // dropped; `res` and `err` keep the serializers pino-http would have given them.
    wrapSerializers: false,
    serializers: { req: () => undefined, res: pino.stdSerializers.res, err: pino.stdSerializers.err },
    customLogLevel: (req, res, error) => {
      if (error || res.statusCode >= 500) return 'error';
      return QUIET_ROUTE.test(routeTemplateOf(req)) ? 'debug' : 'info';
    },
    customSuccessMessage: () => 'request completed',
    customErrorMessage: () => 'request failed',
    customSuccessObject: (req, res, val: Record<string, unknown>) => accessFields(req, res, val.latency_ms),
    customErrorObject: (req, res, error, val: Record<string, unknown>) => ({
      ...accessFields(req, res, val.latency_ms),
      error: error.message,
    }),
  };
  return { root, params: { pinoHttp, renameContext: 'context' } };
}

/**
 * `appLogger().event(level, event, fields)`: one JSON line through pino. Inside a request it goes
 * through that request's logger (nestjs-pino keeps it in async context), so it carries the
 * request id. Callers pass masked values; E.164 strings are masked here as a safety net.
 * Also Nest's own LoggerService (its start-up chatter is debug).
 */
export class JsonLogger implements LoggerService {
  private readonly contextual: PinoLogger | null;

  /** With nestjs-pino's params, lines logged while serving a request go through its logger. */
  constructor(
    private readonly root: Pino,
    params?: Params,
  ) {
    this.contextual = params ? new PinoLogger(params) : null;
  }

  event(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
    const logger = this.contextual?.logger ?? this.root;
    if (logger !== this.root && logger !== PinoLogger.root && 'request_id' in fields) {
      // the request's logger already binds request_id
      const { request_id: _bound, ...rest } = fields;
      logger[level]({ event, ...rest });
      return;
    }
    logger[level]({ event, ...fields });
  }

  log(message: unknown, context?: string): void {
    this.event('debug', 'log', { context, message: String(message) });
  }
  error(message: unknown, trace?: string, context?: string): void {
    this.event('error', 'error', { context, message: String(message), trace });
  }
  warn(message: unknown, context?: string): void {
    this.event('warn', 'warn', { context, message: String(message) });
  }
  debug(message: unknown, context?: string): void {
    this.event('debug', 'debug', { context, message: String(message) });
  }
  verbose(message: unknown, context?: string): void {
    this.debug(message, context);
  }
}

let current: JsonLogger | null = null;

/** The process's logger (set when the app is created; a plain stdout logger before that). */
export function appLogger(): JsonLogger {
  return (current ??= new JsonLogger(createLogging({ level: 'info', messageBodies: false }).root));
}

export function setAppLogger(logger: JsonLogger): void {
  current = logger;
}
