import { AsyncLocalStorage } from 'node:async_hooks';
import type { ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { NextFunction, Request, Response } from 'express';

/** What a request waits on outside its own code: the database, and Twilio (or the sandbox). */
export type TimedWait = 'db' | 'twilio';

const WAITS: readonly TimedWait[] = ['twilio', 'db'];
const DESCRIPTIONS: Record<TimedWait, (count: number) => string> = {
  twilio: (n) => `${n} Twilio request${n === 1 ? '' : 's'}`,
  db: (n) => `${n} SQL statement${n === 1 ? '' : 's'}`,
};

class Wait {
  /** Operations in flight; the time counts once however many overlap. */
  active = 0;
  since = 0;
  ms = 0;
  count = 0;
}

/**
 * Where one request's time went, for its `Server-Timing` header: the time with a database statement
 * in flight (`db`), with a Twilio request in flight (`twilio`), the rest (`app`: our own code, body
 * parsing, guards, serialisation, and waits for a pooled connection or the guardrails lock) and the
 * whole (`total`, from the first middleware to the response head).
 */
export class RequestTiming {
  private readonly startedAt = performance.now();
  private readonly waits = { db: new Wait(), twilio: new Wait() };

  /** An operation starts waiting; every begin is followed by exactly one end. */
  begin(what: TimedWait): void {
    const wait = this.waits[what];
    wait.count++;
    if (wait.active++ === 0) wait.since = performance.now();
  }

  end(what: TimedWait): void {
    const wait = this.waits[what];
    if (wait.active === 0) return;
    if (--wait.active === 0) wait.ms += performance.now() - wait.since;
  }

  /** The header value, e.g. `twilio;dur=12.3;desc="1 Twilio request", db;dur=2.1;desc="4 SQL statements", app;dur=3.0, total;dur=17.4`. */
  header(now: number = performance.now()): string {
    const total = now - this.startedAt;
    const parts: string[] = [];
    let waited = 0;
    for (const what of WAITS) {
      const wait = this.waits[what];
      if (wait.count === 0) continue;
      const ms = wait.ms + (wait.active > 0 ? now - wait.since : 0);
      waited += ms;
      parts.push(`${what};dur=${ms.toFixed(1)};desc="${DESCRIPTIONS[what](wait.count)}"`);
    }
    parts.push(`app;dur=${Math.max(0, total - waited).toFixed(1)}`, `total;dur=${total.toFixed(1)}`);
    return parts.join(', ');
  }
}

const storage = new AsyncLocalStorage<RequestTiming>();
const TIMING = Symbol('requestTiming');

/** The timing of the request being served, or undefined outside a request (jobs, start-up). */
export function currentRequestTiming(): RequestTiming | undefined {
  return storage.getStore();
}

/**
 * Starts the clock of every request and writes its `Server-Timing` header with the response head.
 * Mount it first; serverTimingContext() after the body parsers makes the timing reachable from
 * the code that serves the request.
 */
export function serverTiming(): (req: Request, res: Response, next: NextFunction) => void {
  return (_req, res, next) => {
    const timing = new RequestTiming();
    (res as ServerResponse & { [TIMING]?: RequestTiming })[TIMING] = timing;
    const writeHead = res.writeHead.bind(res) as (...args: unknown[]) => Response;
    res.writeHead = ((...args: unknown[]) => {
      if (!res.headersSent) res.setHeader('Server-Timing', timing.header());
      return writeHead(...args);
    }) as Response['writeHead'];
    storage.run(timing, next);
  };
}

/**
 * Enters the request's timing again: a body parser resumes the request from the socket's events,
 * which do not carry the context the first middleware entered.
 */
export function serverTimingContext(): (req: Request, res: Response, next: NextFunction) => void {
  return (_req, res, next) => {
    const timing = (res as ServerResponse & { [TIMING]?: RequestTiming })[TIMING];
    if (!timing || storage.getStore() === timing) return next();
    storage.run(timing, next);
  };
}

/** The header as the API document describes it on the responses whose time is mostly Twilio's. */
export const SERVER_TIMING_HEADER_DOC = {
  'Server-Timing': {
    description:
      'Where the time of this request went (W3C Server Timing), in milliseconds: `twilio` waiting for Twilio, `db` with an SQL ' +
      'statement in flight (desc: how many), `app` the rest of our own work, `total` from receipt to the response head. ' +
      'Our own overhead is the latency you see minus `twilio`.',
    schema: { type: 'string' },
    example: 'twilio;dur=182.4;desc="1 Twilio request", db;dur=3.1;desc="6 SQL statements", app;dur=2.2, total;dur=187.7',
  },
};
