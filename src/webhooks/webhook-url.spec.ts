import { signedWebhookUrl } from './webhook-url';

const req = (originalUrl: string, headers: Record<string, string> = {}) => ({ originalUrl, headers, protocol: 'http' }) as never;

describe('signedWebhookUrl', () => {
  const options = { webhookBaseUrl: 'https://public.example.com/hooks/twilio', trustProxy: false };

  it('is the public base URL + the route suffix + the original query string', () => {
    expect(signedWebhookUrl(req('/api/phone/webhook/status?a=1&b=%2B2'), options)).toBe(
      'https://public.example.com/hooks/twilio/status?a=1&b=%2B2',
    );
    expect(signedWebhookUrl(req('/api/phone/webhook/call'), options)).toBe('https://public.example.com/hooks/twilio/call');
  });

  it('drops a fragment and a trailing slash of the configured base', () => {
    expect(
      signedWebhookUrl(req('/api/phone/webhook/sms'), { ...options, webhookBaseUrl: 'https://h.example/api/phone/webhook/#rc=2' }),
    ).toBe('https://h.example/api/phone/webhook/sms');
  });

  it('ignores forwarded headers unless the proxy is trusted', () => {
    const forwarded = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'tunnel.example.io', host: 'localhost:8000' };
    expect(signedWebhookUrl(req('/api/phone/webhook/status?x=1', forwarded), options)).toBe(
      'https://public.example.com/hooks/twilio/status?x=1',
    );
    expect(signedWebhookUrl(req('/api/phone/webhook/status?x=1', forwarded), { ...options, trustProxy: true })).toBe(
      'https://tunnel.example.io/api/phone/webhook/status?x=1',
    );
    expect(
      signedWebhookUrl(req('/api/phone/webhook/status', { 'x-forwarded-proto': 'https, http', 'x-forwarded-host': 'a.example, b' }), {
        ...options,
        trustProxy: true,
      }),
    ).toBe('https://a.example/api/phone/webhook/status');
  });
});
