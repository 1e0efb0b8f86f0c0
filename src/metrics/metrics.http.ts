import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { routeTemplateOf } from '../common/logger';
import { requestIdOf } from '../common/request-id.middleware';
import { MetricsService } from './metrics.service';

export const METRICS_PATH = '/metrics';

type Next = (error?: unknown) => void;

/** Counts every answered request by method, route template (never the raw URL) and status. */
export function httpMetricsMiddleware(metrics: MetricsService): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      metrics.observeHttp(req.method ?? 'GET', routeTemplateOf(req), res.statusCode, seconds);
    });
    next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

/** Constant-time comparison of `Authorization: Bearer <token>` with the configured token. */
export function bearerMatches(header: string | undefined, token: string): boolean {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '');
  return match !== null && timingSafeEqual(digest(match[1]), digest(token));
}

function sendError(req: IncomingMessage, res: ServerResponse, statusCode: number, error: string, code: string, message: string): void {
  res.statusCode = statusCode;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  if (statusCode === 401) res.setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
  res.end(JSON.stringify({ statusCode, error, message, code, request_id: requestIdOf(req) }));
}

/** GET /metrics in Prometheus text format; with a token configured, only for `Bearer <METRICS_TOKEN>`. */
export function metricsHandler(
  metrics: MetricsService,
  token: string | null,
): (req: IncomingMessage, res: ServerResponse, next: Next) => void {
  return (req, res, next) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== METRICS_PATH) return next();
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    if (token !== null && !bearerMatches(req.headers.authorization, token)) {
      return sendError(req, res, 401, 'Unauthorized', 'unauthorized', 'GET /metrics needs Authorization: Bearer <METRICS_TOKEN>');
    }
    metrics.render().then(
      ({ contentType, body }) => {
        res.statusCode = 200;
        res.setHeader('Content-Type', contentType);
        res.setHeader('Cache-Control', 'no-store');
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (error: unknown) => next(error),
    );
  };
}
