import jwt from 'jsonwebtoken';
import { TestApp, startTestApp } from '../support/test-app';
import { BASE_PERMISSIONS, BuiltRequest, Fixtures, candidateRequests, sendAs, settle, succeed, twilioSignature } from './requests';
import { ResponseValidator, loadSpec, operationsOf, rowCounts, send } from './spec';

/**
 * For every operation in openapi.yaml: 401 without a token, 401 with a forged token, 403 with a
 * token holding every permission but the required one, success with only the required one.
 * Webhooks (x-permission public, X-Twilio-Signature) instead get 403 without a valid signature.
 * A new endpoint is covered as soon as it is in openapi.yaml.
 */
const doc = loadSpec();
const operations = operationsOf(doc);
const validator = new ResponseValidator(doc);

describe('spec-driven auth matrix', () => {
  let t: TestApp;
  let fx: Fixtures;

  beforeAll(async () => {
    // Every operation is tried with rejected tokens, more than one client may send per minute by default.
    t = await startTestApp({ AUTH_FAILURE_LIMIT: '1000' });
    fx = new Fixtures(t);
  });

  afterEach(async () => {
    await fx?.cleanup();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('every operation states its permission', () => {
    expect(operations.length).toBeGreaterThan(10);
    for (const op of operations) expect([...BASE_PERMISSIONS, 'phone:admin', 'public'], op.operationId).toContain(op.permission);
  });

  async function firstCandidate(opId: string): Promise<BuiltRequest> {
    const op = operations.find((o) => o.operationId === opId)!;
    return (await candidateRequests(doc, op, fx))[0];
  }

  function expectError(res: { status: number; body: unknown }, status: number, code: string): void {
    expect(res.status).toBe(status);
    expect(validator.check(validator.errorSchema, res.body)).toBeNull();
    expect((res.body as { code: string }).code).toBe(code);
  }

  for (const op of operations) {
    const title = `${op.operationId} (${op.method.toUpperCase()} ${op.path}, ${op.permission})`;

    if (op.isWebhook) {
      describe(title, () => {
        it('403 without a signature, with a forged one, and for a body changed after signing; nothing written', async () => {
          const req = await firstCandidate(op.operationId);
          await settle(t);
          const before = await rowCounts(t);
          const none = await send(t.baseUrl, req);
          expectError(none, 403, 'invalid_signature');
          const forged = await send(t.baseUrl, { ...req, headers: { 'x-twilio-signature': 'bm90IGEgc2lnbmF0dXJl' } });
          expectError(forged, 403, 'invalid_signature');
          const signature = twilioSignature(t, req);
          const tampered = await send(t.baseUrl, {
            ...req,
            body: { ...(req.body as object), Tampered: '1' },
            headers: { 'x-twilio-signature': signature },
          });
          expectError(tampered, 403, 'invalid_signature');
          expect(await rowCounts(t)).toEqual(before);
        });

        it('succeeds with a valid Twilio signature', async () => {
          const { res } = await succeed(t, doc, op, fx, '');
          expect(res.status).toBeLessThan(300);
        });
      });
      continue;
    }

    if (op.permission === 'public') {
      describe(title, () => {
        it('answers without a token, and 401 for an invalid one', async () => {
          const req = await firstCandidate(op.operationId);
          const anonymous = await send(t.baseUrl, req);
          expect(anonymous.status).toBeLessThan(500);
          expect([401, 403]).not.toContain(anonymous.status);
          const forged = await send(t.baseUrl, { ...req, token: 'not-a-jwt' });
          expectError(forged, 401, 'unauthorized');
        });
      });
      continue;
    }

    describe(title, () => {
      it('401 without a token, with a forged token and with an expired token; nothing written', async () => {
        const req = await firstCandidate(op.operationId);
        await settle(t);
        const before = await rowCounts(t);
        expectError(await send(t.baseUrl, req), 401, 'unauthorized');
        expectError(
          await send(t.baseUrl, {
            ...req,
            token: jwt.sign({ permissions: ['phone:admin'] }, 'another-secret-0123456789-0123456789', { subject: 'x' }),
          }),
          401,
          'unauthorized',
        );
        const expired = jwt.sign({ permissions: ['phone:admin'], exp: Math.floor(Date.now() / 1000) - 60 }, t.config.jwt.signKey!, {
          subject: 'x',
        });
        expectError(await send(t.baseUrl, { ...req, token: expired }), 401, 'unauthorized');
        expect(await rowCounts(t)).toEqual(before);
      });

      it(`403 with every permission but ${op.permission}; nothing written`, async () => {
        const req = await firstCandidate(op.operationId);
        const others = BASE_PERMISSIONS.filter((p) => p !== op.permission);
        await settle(t);
        const before = await rowCounts(t);
        expectError(await sendAs(t, req, t.token(others)), 403, 'forbidden');
        expect(await rowCounts(t)).toEqual(before);
      });

      it(`succeeds with only ${op.permission}, answering the documented schema`, async () => {
        const { res } = await succeed(t, doc, op, fx, t.token([op.permission]));
        const schema = op.responses[String(res.status)];
        expect(Object.keys(op.responses), `status ${res.status} is documented`).toContain(String(res.status));
        if (schema) expect(validator.check(schema, res.body)).toBeNull();
      });
    });
  }
});
