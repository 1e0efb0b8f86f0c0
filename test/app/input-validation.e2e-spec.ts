import jwt from 'jsonwebtoken';
import { fieldsOf, request } from '../support/http';
import { TEST_JWT_SECRET, type TestApp, startTestApp } from '../support/test-app';

interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  details?: { field?: string; message: string }[];
  request_id: string;
}

/** The request as a client would send it: a raw JSON text, for bodies JSON.stringify cannot produce. */
async function rawJson(t: TestApp, path: string, text: string, token: string): Promise<{ status: number; body: ErrorBody }> {
  const res = await fetch(`${t.baseUrl}${path}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: text,
  });
  return { status: res.status, body: (await res.json()) as ErrorBody };
}

function expect400(res: { status: number; body: ErrorBody }, field: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body).toMatchObject({ statusCode: 400, code: 'validation_failed' });
  expect(fieldsOf(res.body)).toContain(field);
}

describe('input the database cannot store, or the service cannot read, is a 400 naming the field', () => {
  let t: TestApp;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    admin = t.token(['phone:admin']);
  });
  afterAll(async () => t?.close());

  describe('characters PostgreSQL cannot store in text', () => {
    it.each([
      ['agent_name', { to: '+14155550100', message: 'hi', agent_name: 'bot\u0000' }],
      ['call_purpose', { to: '+14155550100', message: 'hi', call_purpose: 'a\u0000b' }],
      ['workflow_id', { to: '+14155550100', message: 'hi', workflow_id: '\u0000' }],
      ['message', { to: '+14155550100', message: 'hello\u0000there' }],
      ['message', { to: '+14155550100', message: 'lone \ud800 surrogate' }],
    ])('POST call with %s', async (field, body) => {
      const before = t.sandbox.calls().length;
      expect400(await request<ErrorBody>(t, 'POST', '/api/phone/call', { token: admin, body }), field);
      expect(t.sandbox.calls()).toHaveLength(before);
    });

    it('an SMS whose body has a NUL is refused and nothing is sent', async () => {
      const before = t.sandbox.messages().length;
      expect400(
        await request<ErrorBody>(t, 'POST', '/api/phone/sms', { token: admin, body: { to: '+14155550100', message: 'pay \u0000 now' } }),
        'message',
      );
      expect400(
        await request<ErrorBody>(t, 'POST', '/api/phone/sms', {
          token: admin,
          body: { to: '+14155550100', message: 'x', agent_name: 'a\u0000' },
        }),
        'agent_name',
      );
      expect(t.sandbox.messages()).toHaveLength(before);
      const history = await request<{ messages: unknown[] }>(t, 'GET', '/api/phone/sms/history', { token: admin });
      expect(history.body.messages).toHaveLength(0);
    });

    it.each([
      ['/api/phone/calls/history?agent_name=%00', 'agent_name'],
      ['/api/phone/calls/history?workflow_id=a%00b', 'workflow_id'],
      ['/api/phone/sms/history?agent_name=%00', 'agent_name'],
    ])('GET %s', async (path, field) => {
      expect400(await request<ErrorBody>(t, 'GET', path, { token: admin }), field);
    });

    it('a number label with a NUL', async () => {
      expect400(
        await request<ErrorBody>(t, 'POST', '/api/phone/numbers/purchase', {
          token: admin,
          body: { phone_number: '+14155550123', friendly_name: 'x\u0000' },
        }),
        'friendly_name',
      );
    });
  });

  describe('null where a value is expected', () => {
    it('"message": null on POST call', async () => {
      const before = t.sandbox.calls().length;
      expect400(
        await request<ErrorBody>(t, 'POST', '/api/phone/call', { token: admin, body: { to: '+14155550100', message: null } }),
        'message',
      );
      expect400(
        await request<ErrorBody>(t, 'POST', '/api/phone/call', {
          token: admin,
          body: { to: '+14155550100', message: null, twiml: '<Response><Say>hi</Say></Response>' },
        }),
        'message',
      );
      expect(t.sandbox.calls()).toHaveLength(before);
    });

    it('"agent_name": null on POST sms', async () => {
      expect400(
        await request<ErrorBody>(t, 'POST', '/api/phone/sms', {
          token: admin,
          body: { to: '+14155550100', message: 'x', agent_name: null },
        }),
        'agent_name',
      );
    });
  });

  describe('deeply nested JSON', () => {
    it('10,000 levels under the size limit is a 400, not a crash', async () => {
      const deep = `{"to":"+14155550100","message":"hi","agent_name":${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
      expect(deep.length).toBeLessThan(100 * 1024);
      const res = await rawJson(t, '/api/phone/call', deep, admin);
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation_failed');
      expect(res.body.message).toMatch(/nested/);
    });

    it('objects nested 10,000 deep as well', async () => {
      const deep = `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}`;
      expect((await rawJson(t, '/api/phone/sms', deep, admin)).status).toBe(400);
    });

    it('a body of ordinary depth with brackets inside strings still passes the check', async () => {
      const res = await rawJson(
        t,
        '/api/phone/call',
        JSON.stringify({
          to: '+14155550100',
          timeout: 1,
          message: '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{',
        }),
        admin,
      );
      expect400(res, 'timeout');
    });
  });

  describe('cursors', () => {
    const cursor = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
    it.each([
      ['id not a UUID', cursor(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`)],
      ['id of hex and dashes in the wrong places', cursor('2026-01-01T00:00:00.000Z|0123456789abcdef0123456789abcdef----')],
      ['date out of range', cursor('-271821-04-20T00:00:00.000Z|6f1c2a7e-1d2b-4c55-9f1e-3a2b1c0d9e8f')],
      ['date far in the future', cursor('+275760-09-13T00:00:00.000Z|6f1c2a7e-1d2b-4c55-9f1e-3a2b1c0d9e8f')],
      ['not base64 of a cursor', '!!!***'],
      ['JSON instead of a cursor', cursor('{"created_at":"2026-01-01","id":1}')],
    ])('%s', async (_name, value) => {
      for (const path of ['/api/phone/calls/history', '/api/phone/sms/history']) {
        expect400(await request<ErrorBody>(t, 'GET', `${path}?cursor=${encodeURIComponent(value)}`, { token: admin }), 'cursor');
      }
    });
  });

  describe('dates in since and until', () => {
    it.each([
      ['since', '20250101T000000Z'],
      ['since', '2025-W01-1'],
      ['until', '2025-001'],
      ['until', '20250101'],
      ['since', '2025-02-30'],
      ['since', '+275760-09-13T00:00:00Z'],
    ])('%s=%s', async (field, value) => {
      for (const path of ['/api/phone/calls/history', '/api/phone/sms/history', '/api/phone/stats']) {
        expect400(await request<ErrorBody>(t, 'GET', `${path}?${field}=${encodeURIComponent(value)}`, { token: admin }), field);
      }
    });

    it.each(['2025-01-01', '2025-01-01T00:00:00Z', '2025-01-01T00:00:00.123Z', '2025-01-01T02:00:00+02:00', '2025-01-01T00:00Z'])(
      'accepts %s',
      async (value) => {
        for (const path of ['/api/phone/calls/history', '/api/phone/sms/history', '/api/phone/stats']) {
          const res = await request(t, 'GET', `${path}?since=${encodeURIComponent(value)}`, { token: admin });
          expect(res.status, `${path} ${JSON.stringify(res.body)}`).toBe(200);
        }
      },
    );
  });

  describe('claims of the bearer token the service stores', () => {
    const tokenWith = (sub: string) =>
      jwt.sign({ sub, permissions: ['phone:admin'] }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: '1h' });

    it('a sub longer than 200 characters is a 400 naming the claim, before Twilio is asked', async () => {
      const calls = t.sandbox.calls().length;
      const messages = t.sandbox.messages().length;
      const token = tokenWith('s'.repeat(201));
      for (const [path, body] of [
        ['/api/phone/call', { to: '+14155550100', message: 'hi' }],
        ['/api/phone/sms', { to: '+14155550100', message: 'hi' }],
        ['/api/phone/numbers/purchase', { phone_number: '+14155550123' }],
      ] as const) {
        const res = await request<ErrorBody>(t, 'POST', path, { token, body });
        expect400(res, 'sub');
      }
      expect(t.sandbox.calls()).toHaveLength(calls);
      expect(t.sandbox.messages()).toHaveLength(messages);
    });

    it('a sub with a NUL is a 400 too; a sub of 200 characters is fine', async () => {
      expect400(await request<ErrorBody>(t, 'GET', '/api/phone/calls/history', { token: tokenWith('a\u0000b') }), 'sub');
      expect((await request(t, 'GET', '/api/phone/calls/history', { token: tokenWith('s'.repeat(200)) })).status).toBe(200);
    });
  });
});
