import twilio from 'twilio';
import { DataSource } from 'typeorm';
import { request } from '../support/http';
import type { TestApp } from '../support/test-app';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';

export type Params = Record<string, string>;

/** A sid shaped like Twilio's. */
export function fakeSid(prefix: string): string {
  return prefix + [...Array(32)].map(() => '0123456789abcdef'[Math.floor(Math.random() * 16)]).join('');
}

/**
 * Posts a form-encoded webhook straight to the service, signed like Twilio signs it (over
 * SAMSAEK_TWILIO_WEBHOOK_URL + route + query) unless `signature` says otherwise.
 */
export async function postWebhook(
  t: TestApp,
  route: 'call' | 'sms' | 'status' | 'gather',
  params: Params,
  options: {
    query?: string;
    signature?: string | null;
    signUrl?: string;
    signParams?: Params;
    token?: string;
    headers?: Record<string, string>;
  } = {},
): Promise<Response> {
  const query = options.query ?? '';
  const signUrl = options.signUrl ?? `${t.config.twilio.webhookBaseUrl}/${route}${query}`;
  const signature =
    options.signature === undefined
      ? twilio.getExpectedTwilioSignature(t.config.twilio.authToken, signUrl, options.signParams ?? params)
      : options.signature;
  const headers: Record<string, string> = { 'Content-Type': 'application/x-www-form-urlencoded', ...options.headers };
  if (signature !== null) headers['X-Twilio-Signature'] = signature;
  if (options.token) headers['I-Twilio-Idempotency-Token'] = options.token;
  return fetch(`${t.baseUrl}/api/phone/webhook/${route}${query}`, {
    method: 'POST',
    headers,
    body: new URLSearchParams(params).toString(),
  });
}

/** Points the sandbox's pre-provisioned number at this app's webhooks. */
export async function wireNumber(t: TestApp): Promise<string> {
  const gateway = t.app.get(TwilioGateway);
  const [number] = await gateway.listOwnedNumbers();
  const base = t.config.twilio.webhookBaseUrl;
  await gateway.updateNumberWebhooks(number.sid, { voiceUrl: `${base}/call`, smsUrl: `${base}/sms`, statusCallbackUrl: `${base}/status` });
  return number.phoneNumber;
}

export function db(t: TestApp): DataSource {
  return t.app.get(DataSource);
}

export async function count(t: TestApp, table: string, where = 'TRUE', params: unknown[] = []): Promise<number> {
  const rows = await db(t).query<{ n: number }[]>(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`, params);
  return rows[0].n;
}

export async function api<T = unknown>(
  t: TestApp,
  method: string,
  path: string,
  body?: unknown,
  permissions = ['phone:admin'],
): Promise<{ status: number; body: T }> {
  return request<T>(t, method, path, { token: t.token(permissions), body: body ?? undefined });
}
