import { LoggerService } from '@nestjs/common';

type Level = 'error' | 'warn' | 'info' | 'debug';
const ORDER: Record<Level, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** One JSON line per event on stdout; callers must pass masked values only. */
export class JsonLogger implements LoggerService {
  constructor(private readonly level: Level = 'info') {}

  event(level: Level, event: string, fields: Record<string, unknown> = {}): void {
    if (ORDER[level] > ORDER[this.level]) return;
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, event, ...fields })}\n`);
  }

  /** Nest's own start-up chatter (modules loaded, routes mapped): useful only when debugging. */
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

let current = new JsonLogger((process.env.LOG_LEVEL as Level) || 'info');

export function appLogger(): JsonLogger {
  return current;
}

export function setAppLogger(logger: JsonLogger): void {
  current = logger;
}
