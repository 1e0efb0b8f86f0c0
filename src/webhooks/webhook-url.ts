import type { Request } from 'express';
import { API_PREFIX, WEBHOOK_ROUTE } from '../common/api-routes';

/** Where the webhook routes live in this app; what follows is the route suffix (`/status`). */
export const WEBHOOK_PATH = `/${API_PREFIX}/${WEBHOOK_ROUTE}`;

export interface WebhookUrlOptions {
  /** SAMSAEK_TWILIO_WEBHOOK_URL: the public URL Twilio is told to call, e.g. https://example.com/api/phone/webhook. */
  webhookBaseUrl: string;
  /** WEBHOOK_TRUST_PROXY: rebuild from X-Forwarded-Proto/-Host and the original path instead. */
  trustProxy: boolean;
}

type RequestLike = Pick<Request, 'originalUrl' | 'headers' | 'protocol'>;

function firstHeader(req: RequestLike, name: string): string | undefined {
  const raw = req.headers[name];
  const value = Array.isArray(raw) ? raw[0] : raw;
  const first = value?.split(',')[0]?.trim();
  return first ? first : undefined;
}

/**
 * The URL Twilio signed: the configured public base URL + the route suffix + the original query
 * string (a fragment is never part of it), or, behind a trusted proxy, the forwarded scheme and
 * host + the original path and query.
 */
export function signedWebhookUrl(req: RequestLike, options: WebhookUrlOptions): string {
  const original = req.originalUrl;
  const queryAt = original.indexOf('?');
  const path = queryAt < 0 ? original : original.slice(0, queryAt);
  const query = queryAt < 0 ? '' : original.slice(queryAt);
  if (options.trustProxy) {
    const proto = firstHeader(req, 'x-forwarded-proto') ?? req.protocol;
    const host = firstHeader(req, 'x-forwarded-host') ?? firstHeader(req, 'host') ?? 'localhost';
    return `${proto}://${host}${path}${query}`;
  }
  const base = options.webhookBaseUrl.split('#')[0].replace(/\/+$/, '');
  const suffix = path.startsWith(WEBHOOK_PATH) ? path.slice(WEBHOOK_PATH.length) : path;
  return `${base}${suffix}${query}`;
}
