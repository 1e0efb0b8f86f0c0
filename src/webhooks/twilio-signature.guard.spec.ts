import { createHash } from 'node:crypto';
import twilio from 'twilio';
import { AppError } from '../common/app-error';
import { JsonLogger, createLogging, setAppLogger } from '../common/logger';
import { MetricsService } from '../metrics/metrics.service';
import type { AppConfig } from '../config/app-config';
import { TwilioSdkGateway } from '../twilio/twilio-sdk.gateway';
import { TwilioSignatureGuard } from './twilio-signature.guard';
import { WebhookMetricsService } from './webhook-metrics.service';

const TOKEN = 'unit-test-auth-token';
const BASE = 'https://public.example.com/api/phone/webhook';

function makeGuard() {
  const gateway = new TwilioSdkGateway({
    accountSid: 'AC' + '0'.repeat(32),
    authToken: TOKEN,
    timeoutMs: 1000,
    target: { mode: 'live', baseUrl: 'https://api.twilio.com' },
  });
  const config = { twilio: { webhookBaseUrl: BASE }, webhooks: { trustProxy: false } } as AppConfig;
  const metrics = new WebhookMetricsService(new MetricsService());
  return { guard: new TwilioSignatureGuard(gateway, config, metrics), metrics };
}

function context(req: { originalUrl: string; headers: Record<string, string>; body?: unknown; rawBody?: Buffer; json?: boolean }) {
  const full = {
    protocol: 'http',
    path: req.originalUrl.split('?')[0],
    is: (t: string) => (req.json && t === 'application/json' ? t : false),
    ...req,
  };
  return { switchToHttp: () => ({ getRequest: () => full }) } as never;
}

describe('TwilioSignatureGuard', () => {
  beforeAll(() => setAppLogger(new JsonLogger(createLogging({ level: 'error', messageBodies: false }).root)));
  const params = { CallSid: 'CA1', CallStatus: 'ringing', From: '+14155550100', To: '+14155550199' };
  const signed = (url: string, p: Record<string, string>) => twilio.getExpectedTwilioSignature(TOKEN, url, p);

  it('accepts a request signed over the public URL and every parameter', () => {
    const { guard } = makeGuard();
    const sig = signed(`${BASE}/status?x=1`, params);
    expect(
      guard.canActivate(context({ originalUrl: '/api/phone/webhook/status?x=1', headers: { 'x-twilio-signature': sig }, body: params })),
    ).toBe(true);
  });

  it.each([
    ['a missing signature', () => ({})],
    ['a forged signature', () => ({ 'x-twilio-signature': 'AAAAAAAAAAAAAAAAAAAAAAAAAAA=' })],
    ['a signature over another URL', () => ({ 'x-twilio-signature': signed(`${BASE}/call`, params) })],
    ['a signature over another query string', () => ({ 'x-twilio-signature': signed(`${BASE}/status?x=2`, params) })],
    ['a changed parameter', () => ({ 'x-twilio-signature': signed(`${BASE}/status?x=1`, { ...params, CallStatus: 'completed' }) })],
  ])('refuses %s with 403 invalid_signature and counts it', (_name, headers) => {
    const { guard, metrics } = makeGuard();
    let thrown: unknown;
    try {
      guard.canActivate(context({ originalUrl: '/api/phone/webhook/status?x=1', headers: headers(), body: params }));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(AppError);
    expect((thrown as AppError).status).toBe(403);
    expect((thrown as AppError).code).toBe('invalid_signature');
    expect(metrics.snapshot().rejected_signatures).toBe(1);
  });

  it('checks a JSON body against bodySHA256 with the raw bytes', () => {
    const { guard } = makeGuard();
    const raw = '{"CallSid":"CA1","CallStatus":"completed"}';
    const hash = createHash('sha256').update(raw).digest('hex');
    const path = `/api/phone/webhook/status?bodySHA256=${hash}`;
    const sig = signed(`${BASE}/status?bodySHA256=${hash}`, {});
    const ok = context({
      originalUrl: path,
      headers: { 'x-twilio-signature': sig },
      body: JSON.parse(raw),
      rawBody: Buffer.from(raw),
      json: true,
    });
    expect(guard.canActivate(ok)).toBe(true);
    const altered = '{"CallSid":"CA1","CallStatus":"busy"}';
    const bad = context({
      originalUrl: path,
      headers: { 'x-twilio-signature': sig },
      body: JSON.parse(altered),
      rawBody: Buffer.from(altered),
      json: true,
    });
    expect(() => guard.canActivate(bad)).toThrow(AppError);
    const noHash = context({
      originalUrl: '/api/phone/webhook/status',
      headers: { 'x-twilio-signature': signed(`${BASE}/status`, {}) },
      body: {},
      rawBody: Buffer.from('{}'),
      json: true,
    });
    expect(() => guard.canActivate(noHash)).toThrow(AppError);
  });
});
