import { createHmac, generateKeyPairSync } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { TEST_JWT_SECRET, TestApp, startTestApp } from '../support/test-app';

const HISTORY = '/api/phone/calls/history';

/** A token built by hand, for algorithms jsonwebtoken refuses to sign with (none, HS256 keyed by a PEM). */
function handMade(header: object, payload: object, hmacKey: string | null): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const unsigned = `${part(header)}.${part(payload)}`;
  return `${unsigned}.${hmacKey === null ? '' : createHmac('sha256', hmacKey).update(unsigned).digest('base64url')}`;
}

async function get(t: TestApp, path: string, token?: string): Promise<{ status: number; body: Record<string, unknown>; headers: Headers }> {
  const res = await fetch(`${t.baseUrl}${path}`, { headers: token === undefined ? {} : { Authorization: `Bearer ${token}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown>, headers: res.headers };
}

describe('bearer authentication (HS256)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('accepts a token with the permission and one whose scope string grants it', async () => {
    expect((await get(t, HISTORY, t.token(['phone:view']))).status).toBe(200);
    const scoped = jwt.sign({ scope: 'openid phone:view' }, TEST_JWT_SECRET, { subject: 'svc', expiresIn: '5m' });
    expect((await get(t, HISTORY, scoped)).status).toBe(200);
  });

  it('answers 401 in the error shape for a missing, malformed, expired, foreign or unsigned token', async () => {
    const expired = jwt.sign({ permissions: ['phone:view'] }, TEST_JWT_SECRET, { subject: 'a', expiresIn: -10 });
    const foreign = jwt.sign({ permissions: ['phone:view'] }, 'another-secret-0123456789-0123456789-xyz', { subject: 'a' });
    const unsigned = handMade({ alg: 'none', typ: 'JWT' }, { permissions: ['phone:view'], sub: 'a' }, null);
    const noSubject = jwt.sign({ permissions: ['phone:view'] }, TEST_JWT_SECRET);
    for (const token of [undefined, 'not-a-jwt', expired, foreign, unsigned, noSubject]) {
      const res = await get(t, HISTORY, token);
      expect(res.status).toBe(401);
      expect(res.body).toMatchObject({ statusCode: 401, error: 'Unauthorized', code: 'unauthorized' });
      expect(typeof res.body.request_id).toBe('string');
    }
  });

  it('answers 403 when the token lacks the permission, and phone:admin implies it', async () => {
    const res = await get(t, HISTORY, t.token(['phone:call', 'phone:sms']));
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ code: 'forbidden', message: expect.stringContaining('phone:view') });
    expect((await get(t, HISTORY, t.token(['phone:admin']))).status).toBe(200);
  });

  it('echoes a sane X-Request-Id and uses it in error bodies', async () => {
    const res = await fetch(`${t.baseUrl}${HISTORY}`, { headers: { 'X-Request-Id': 'trace-123' } });
    expect(res.headers.get('x-request-id')).toBe('trace-123');
    expect(((await res.json()) as { request_id: string }).request_id).toBe('trace-123');
  });

  it('gives requests outside the API prefix a request id too', async () => {
    for (const path of ['/nothing-here', '/api/docs-json']) {
      const res = await fetch(`${t.baseUrl}${path}`, { headers: { 'X-Request-Id': 'trace-456' } });
      expect(res.headers.get('x-request-id')).toBe('trace-456');
    }
  });

  it('answers unknown routes with 404 in the error shape', async () => {
    const res = await get(t, '/api/phone/nothing-here', t.token(['phone:admin']));
    expect(res.status).toBe(404);
    expect(res.body).toMatchObject({ statusCode: 404, code: 'not_found' });
  });

  it('answers a malformed JSON body with 400, not 500', async () => {
    const res = await fetch(`${t.baseUrl}/api/phone/sms`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.token(['phone:sms'])}`, 'Content-Type': 'application/json' },
      body: '{"to": ',
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'validation_failed', message: 'Request body is not valid JSON' });
  });
});

describe('bearer authentication (RS256 with issuer and audience)', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pub = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const priv = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({
      JWT_ALGORITHM: 'RS256',
      JWT_PUBLIC_KEY: pub,
      JWT_PRIVATE_KEY: priv,
      JWT_ISSUER: 'https://auth.example.com/',
      JWT_AUDIENCE: 'samsaek-phone',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  const sign = (claims: object, options: jwt.SignOptions, key: string = priv) =>
    jwt.sign(claims, key, { subject: 'bob', expiresIn: '5m', ...options });

  it('accepts an RS256 token from the configured issuer for the configured audience', async () => {
    const token = sign(
      { permissions: ['phone:view'] },
      { algorithm: 'RS256', issuer: 'https://auth.example.com/', audience: 'samsaek-phone' },
    );
    expect((await get(t, HISTORY, token)).status).toBe(200);
  });

  it('rejects another issuer, another audience, and an HS256 token signed with the public key', async () => {
    const wrongIssuer = sign(
      { permissions: ['phone:view'] },
      { algorithm: 'RS256', issuer: 'https://evil.example.com/', audience: 'samsaek-phone' },
    );
    const wrongAudience = sign(
      { permissions: ['phone:view'] },
      { algorithm: 'RS256', issuer: 'https://auth.example.com/', audience: 'other' },
    );
    const confused = handMade(
      { alg: 'HS256', typ: 'JWT' },
      {
        permissions: ['phone:view'],
        iss: 'https://auth.example.com/',
        aud: 'samsaek-phone',
        sub: 'x',
        exp: Math.floor(Date.now() / 1000) + 300,
      },
      pub,
    );
    for (const token of [wrongIssuer, wrongAudience, confused]) {
      const res = await get(t, HISTORY, token);
      expect(res.status).toBe(401);
      // The body says the token was refused, never what the service expects instead.
      expect(res.body).toMatchObject({ code: 'unauthorized', message: 'Authentication failed: invalid bearer token' });
      expect(JSON.stringify(res.body)).not.toMatch(/auth\.example\.com|samsaek-phone|RS256|expected/i);
    }
  });
});
