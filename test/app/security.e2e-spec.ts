import { TestApp, startTestApp } from '../support/test-app';

const HISTORY = '/api/phone/calls/history';
const PRODUCTION = { NODE_ENV: 'production', ALLOW_SANDBOX_IN_PRODUCTION: 'true', ALLOW_PGLITE_IN_PRODUCTION: 'true' };

describe('security headers, CORS and API docs (development defaults)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('sends HSTS, nosniff, no framing and a CSP that allows nothing on API responses, errors included', async () => {
    for (const res of [
      await fetch(`${t.baseUrl}${HISTORY}`, { headers: { Authorization: `Bearer ${t.token(['phone:view'])}` } }),
      await fetch(`${t.baseUrl}${HISTORY}`),
    ]) {
      expect(res.headers.get('strict-transport-security')).toBe('max-age=31536000; includeSubDomains');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('content-security-policy')).toBe("default-src 'none';frame-ancestors 'none'");
      expect(res.headers.get('x-powered-by')).toBeNull();
    }
  });

  it('serves Swagger UI with a CSP that lets it load its own scripts and nothing from elsewhere', async () => {
    const page = await fetch(`${t.baseUrl}/api/docs`);
    expect(page.status).toBe(200);
    const csp = page.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toMatch(/script-src[^;]*unsafe/);
    expect((await fetch(`${t.baseUrl}/api/docs-json`)).status).toBe(200);
  });

  it('answers no CORS headers when no origin is configured', async () => {
    const preflight = await fetch(`${t.baseUrl}${HISTORY}`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://evil.example.com',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${t.baseUrl}${HISTORY}`, { headers: { Origin: 'https://evil.example.com' } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('CORS with configured origins', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ CORS_ORIGINS: 'https://app.example.com' });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('allows a configured origin to send a bearer token and nobody else', async () => {
    const preflight = (origin: string) =>
      fetch(`${t.baseUrl}/api/phone/call`, {
        method: 'OPTIONS',
        headers: {
          Origin: origin,
          'Access-Control-Request-Method': 'POST',
          'Access-Control-Request-Headers': 'authorization,content-type',
        },
      });
    const allowed = await preflight('https://app.example.com');
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
    expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${t.baseUrl}${HISTORY}`, {
      headers: { Origin: 'https://app.example.com', Authorization: `Bearer ${t.token(['phone:view'])}` },
    });
    expect(get.status).toBe(200);
    expect(get.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(get.headers.get('access-control-expose-headers')).toContain('Retry-After');
    // a browser console may read where the time went
    expect(get.headers.get('access-control-expose-headers')).toContain('Server-Timing');
    expect(get.headers.get('server-timing')).toMatch(/total;dur=\d+\.\d$/);
  });
});

describe('API docs in production', () => {
  it('are off unless SWAGGER_ENABLED=true', { timeout: 120_000 }, async () => {
    const off = await startTestApp(PRODUCTION);
    try {
      expect((await fetch(`${off.baseUrl}/api/docs`)).status).toBe(404);
      expect((await fetch(`${off.baseUrl}/api/docs-json`)).status).toBe(404);
      expect((await fetch(`${off.baseUrl}/api/docs/swagger-ui-init.js`)).status).toBe(404);
    } finally {
      await off.close();
    }
    const on = await startTestApp({ ...PRODUCTION, SWAGGER_ENABLED: 'true' });
    try {
      expect((await fetch(`${on.baseUrl}/api/docs`)).status).toBe(200);
      expect((await fetch(`${on.baseUrl}/api/docs-json`)).status).toBe(200);
    } finally {
      await on.close();
    }
  });
});
