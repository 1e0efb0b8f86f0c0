import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import fc from 'fast-check';
import jwt from 'jsonwebtoken';
import { TEST_JWT_SECRET, TestApp, startTestApp } from '../support/test-app';
import { invalidObjectArbitrary, parameterArbitraries, pathFallback, validArbitrary } from './arbitraries';
import { ADMIN, BuiltRequest, Fixtures, sendAs, settle } from './requests';
import { Operation, RequestSpec, ResponseValidator, deref, fillPath, loadSpec, operationsOf, rowCounts, send } from './spec';

/**
 * Property-based input for every operation of openapi.yaml, generated from its schemas: valid
 * (inside the documented constraints) and invalid (one constraint broken). Invariants:
 *  - no response is a 5xx;
 *  - every 2xx body matches the documented response schema;
 *  - every error body matches the documented schema for its status (the one error schema);
 *  - a rejected request (4xx) wrote nothing (row counts of every table before and after).
 * FUZZ_RUNS (default 24) cases per operation. The seed is fixed so a suite run (and CI) is
 * reproducible; FUZZ_SEED=<n> replays another run and FUZZ_SEED=random explores new inputs.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 24);
const SEED = process.env.FUZZ_SEED === 'random' ? Date.now() % 2_147_483_647 : Number(process.env.FUZZ_SEED ?? 20_261_124);
const doc = loadSpec();
const operations = operationsOf(doc);
const validator = new ResponseValidator(doc);

interface Case {
  mode: 'valid' | 'invalid';
  broken: 'path' | 'query' | 'body' | 'none';
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
}

function bodySchemaOf(op: Operation) {
  if (!op.requestBody) return undefined;
  return op.requestBody.content['application/json'] ?? op.requestBody.content['application/x-www-form-urlencoded'];
}

function caseArbitrary(op: Operation, liveSids: Record<string, string>): fc.Arbitrary<Case> {
  const hasPath = op.parameters.some((p) => p.in === 'path');
  const hasQuery = op.parameters.some((p) => p.in === 'query');
  const bodySchema = bodySchemaOf(op);
  const validPath = parameterArbitraries(doc, op.parameters, 'path', 'valid');
  // valid path values: mostly a live resource, sometimes a well-formed unknown one (404)
  const livePath = Object.keys(liveSids).length
    ? fc.oneof({ weight: 3, arbitrary: fc.constant(liveSids as Record<string, unknown>) }, { weight: 1, arbitrary: validPath })
    : validPath;
  const validQuery = parameterArbitraries(doc, op.parameters, 'query', 'valid');
  const validBody = bodySchema ? validArbitrary(doc, bodySchema) : fc.constant(undefined);
  const breakable: Case['broken'][] = [
    ...(hasPath ? (['path'] as const) : []),
    ...(hasQuery ? (['query'] as const) : []),
    ...(bodySchema ? (['body'] as const) : []),
  ];
  const valid = fc
    .record({ path: livePath, query: validQuery, body: validBody })
    .map((v): Case => ({ mode: 'valid', broken: 'none', ...v }));
  if (!breakable.length) return valid;
  const invalid = fc.constantFrom(...breakable).chain((broken) =>
    fc
      .record({
        path: broken === 'path' ? parameterArbitraries(doc, op.parameters, 'path', 'invalid') : livePath,
        query: broken === 'query' ? parameterArbitraries(doc, op.parameters, 'query', 'invalid') : validQuery,
        body: broken === 'body' ? invalidObjectArbitrary(doc, bodySchema) : validBody,
      })
      .map((v): Case => ({ mode: 'invalid', broken, ...v })),
  );
  return fc.oneof(valid, invalid);
}

/**
 * Buying numbers ($1 each in the sandbox) and placing calls spend the sandbox's $20; once it is
 * gone every later operation only sees 402s. Start the sandbox over (balance, calls, messages) then.
 */
async function topUpWhenLow(t: TestApp): Promise<void> {
  const res = await send(t.baseUrl, { method: 'GET', path: '/api/phone/balance', token: t.token(ADMIN, 'fuzzer') });
  const balance = Number((res.body as { balance?: string }).balance);
  if (!(balance > 5)) {
    await settle(t);
    t.sandbox.reset();
  }
}

const cursorOf = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const HUGE = '99999999999999999999';

/**
 * Inputs that once answered 500, kept as fixed examples whatever the generators draw: each must be
 * a 400 naming `field` (or, for Twilio's callbacks, be taken without a 5xx), and write nothing.
 */
const FIXED_EXAMPLES: { name: string; req: Omit<RequestSpec, 'token'>; field?: string; sub?: string }[] = [
  {
    name: 'NUL in agent_name',
    req: { method: 'post', path: '/api/phone/call', body: { to: '+14155550100', message: 'hi', agent_name: 'a\u0000' } },
    field: 'agent_name',
  },
  {
    name: 'NUL in call_purpose',
    req: { method: 'post', path: '/api/phone/call', body: { to: '+14155550100', message: 'hi', call_purpose: '\u0000' } },
    field: 'call_purpose',
  },
  {
    name: 'NUL in workflow_id',
    req: { method: 'post', path: '/api/phone/call', body: { to: '+14155550100', message: 'hi', workflow_id: 'w\u0000' } },
    field: 'workflow_id',
  },
  {
    name: 'NUL in a call message',
    req: { method: 'post', path: '/api/phone/call', body: { to: '+14155550100', message: 'a\u0000b' } },
    field: 'message',
  },
  {
    name: 'NUL in an SMS',
    req: { method: 'post', path: '/api/phone/sms', body: { to: '+14155550100', message: 'a\u0000b' } },
    field: 'message',
  },
  {
    name: 'lone surrogate in an SMS',
    req: { method: 'post', path: '/api/phone/sms', body: { to: '+14155550100', message: 'a\ud800' } },
    field: 'message',
  },
  {
    name: 'NUL in a history filter',
    req: { method: 'get', path: '/api/phone/calls/history', query: { agent_name: '\u0000' } },
    field: 'agent_name',
  },
  {
    name: 'NUL in an SMS history filter',
    req: { method: 'get', path: '/api/phone/sms/history', query: { agent_name: '\u0000' } },
    field: 'agent_name',
  },
  {
    name: '"message": null',
    req: { method: 'post', path: '/api/phone/call', body: { to: '+14155550100', message: null } },
    field: 'message',
  },
  {
    name: 'JSON nested 10,000 deep',
    req: {
      method: 'post',
      path: '/api/phone/call',
      encoding: 'raw',
      headers: { 'content-type': 'application/json' },
      body: `{"to":"+14155550100","message":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
    },
  },
  {
    name: 'cursor id not a UUID',
    req: { method: 'get', path: '/api/phone/calls/history', query: { cursor: cursorOf(`2026-01-01T00:00:00.000Z|${'-'.repeat(36)}`) } },
    field: 'cursor',
  },
  {
    name: 'cursor date out of range',
    req: {
      method: 'get',
      path: '/api/phone/sms/history',
      query: { cursor: cursorOf('-271821-04-20T00:00:00.000Z|6f1c2a7e-1d2b-4c55-9f1e-3a2b1c0d9e8f') },
    },
    field: 'cursor',
  },
  {
    name: 'since in basic format',
    req: { method: 'get', path: '/api/phone/calls/history', query: { since: '20250101T000000Z' } },
    field: 'since',
  },
  { name: 'since as a week date', req: { method: 'get', path: '/api/phone/sms/history', query: { since: '2025-W01-1' } }, field: 'since' },
  { name: 'stats since as a week date', req: { method: 'get', path: '/api/phone/stats', query: { since: '2025-W01-1' } }, field: 'since' },
  {
    name: 'sub longer than 200 characters on a call',
    req: { method: 'post', path: '/api/phone/call', body: { to: '+14155550100', message: 'hi' } },
    field: 'sub',
    sub: 's'.repeat(201),
  },
  {
    name: 'sub longer than 200 characters on an SMS',
    req: { method: 'post', path: '/api/phone/sms', body: { to: '+14155550100', message: 'hi' } },
    field: 'sub',
    sub: 's'.repeat(201),
  },
  {
    name: 'sub longer than 200 characters on a purchase',
    req: { method: 'post', path: '/api/phone/numbers/purchase', body: { phone_number: '+14155550123' } },
    field: 'sub',
    sub: 's'.repeat(201),
  },
  {
    name: 'callback with a huge SequenceNumber',
    req: {
      method: 'post',
      path: '/api/phone/webhook/status',
      encoding: 'form',
      body: { CallSid: `CA${'a'.repeat(32)}`, CallStatus: 'ringing', SequenceNumber: HUGE },
    },
  },
  {
    name: 'callback with a huge CallDuration and ErrorCode',
    req: {
      method: 'post',
      path: '/api/phone/webhook/status',
      encoding: 'form',
      body: { CallSid: `CA${'b'.repeat(32)}`, CallStatus: 'completed', CallDuration: HUGE, ErrorCode: '1e20' },
    },
  },
  {
    name: 'inbound SMS with a NUL in its body',
    req: {
      method: 'post',
      path: '/api/phone/webhook/sms',
      encoding: 'form',
      body: { MessageSid: `SM${'c'.repeat(32)}`, From: '+14155550177', To: '+14155550100', Body: 'a\u0000b', NumSegments: HUGE },
    },
  },
];

const stats = { cases: 0, byStatus: {} as Record<string, number>, byOperation: {} as Record<string, number> };

describe('spec-driven fuzzing', () => {
  let t: TestApp;
  let fx: Fixtures;

  beforeAll(async () => {
    t = await startTestApp();
    fx = new Fixtures(t);
  });

  afterAll(async () => {
    await fx?.cleanup();
    await t?.close();
    const report = { seed: SEED, runs_per_operation: RUNS, operations: operations.length, ...stats };
    mkdirSync(resolve(__dirname, '../../test-output'), { recursive: true });
    writeFileSync(resolve(__dirname, '../../test-output/fuzz-report.json'), `${JSON.stringify(report, null, 2)}\n`);
    process.stdout.write(
      `fuzz: ${stats.cases} generated cases over ${operations.length} operations (seed ${SEED}); statuses ${JSON.stringify(stats.byStatus)}\n`,
    );
  });

  it.each(FIXED_EXAMPLES)('fixed example: $name', async ({ req, field, sub }) => {
    const op = operations.find((o) => o.method === req.method && fillPath(o.path, { sid: 'x', id: 'x' }) === req.path);
    const before = await rowCounts(t);
    const token = sub
      ? jwt.sign({ sub, permissions: ADMIN }, TEST_JWT_SECRET, { algorithm: 'HS256', expiresIn: '1h' })
      : t.token(ADMIN, 'fuzzer');
    const res = op ? await sendAs(t, { ...req, op }, token) : await send(t.baseUrl, { ...req, token });
    const where = `${req.method.toUpperCase()} ${req.path} -> ${res.status} ${res.text.slice(0, 300)}`;
    expect(res.status, where).toBeLessThan(500);
    if (op?.isWebhook) return;
    expect(res.status, where).toBe(400);
    expect(validator.check(validator.errorSchema, res.body), where).toBeNull();
    if (field)
      expect(
        (res.body as { details?: { field?: string }[] }).details?.map((d) => d.field),
        where,
      ).toContain(field);
    expect(await rowCounts(t), where).toEqual(before);
  });

  for (const op of operations) {
    it(
      `${op.operationId} (${op.method.toUpperCase()} ${op.path}): no 5xx, documented bodies, rejected input writes nothing`,
      { timeout: 240_000 },
      async () => {
        await topUpWhenLow(t);
        const liveSids: Record<string, string> = {};
        for (const p of op.parameters.filter((x) => x.in === 'path')) {
          const sid = await fx.forParameter(deref(doc, p.schema));
          if (sid) liveSids[p.name] = sid;
        }
        const token = t.token(ADMIN, 'fuzzer');
        await fc.assert(
          fc.asyncProperty(caseArbitrary(op, liveSids), async (c) => {
            const req: BuiltRequest = {
              op,
              method: op.method,
              path: fillPath(op.path, pathFallback(c.path, op)),
              query: c.query,
              body: c.body,
              encoding: op.requestBody?.content['application/x-www-form-urlencoded'] ? 'form' : 'json',
            };
            await settle(t);
            const before = await rowCounts(t);
            const res = await sendAs(t, req, token);
            stats.cases += 1;
            stats.byStatus[res.status] = (stats.byStatus[res.status] ?? 0) + 1;
            stats.byOperation[op.operationId] = (stats.byOperation[op.operationId] ?? 0) + 1;
            const where = `${op.operationId} ${c.mode}/${c.broken} ${req.method.toUpperCase()} ${req.path} query=${JSON.stringify(c.query)} body=${JSON.stringify(c.body)} -> ${res.status} ${res.text.slice(0, 300)}`;

            expect(res.status, where).toBeLessThan(500);
            const documented = op.responses[String(res.status)];
            if (res.status >= 200 && res.status < 300) {
              expect(Object.keys(op.responses), `undocumented status: ${where}`).toContain(String(res.status));
              if (documented && res.headers.get('content-type')?.includes('json'))
                expect(validator.check(documented, res.body), where).toBeNull();
            } else {
              expect(Object.keys(op.responses), `undocumented error status: ${where}`).toContain(String(res.status));
              expect(validator.check(documented ?? validator.errorSchema, res.body), where).toBeNull();
              await settle(t);
              expect(await rowCounts(t), `rejected request wrote rows: ${where}`).toEqual(before);
            }
          }),
          { numRuns: RUNS, seed: SEED, endOnFailure: true },
        );
        await fx.cleanup();
      },
    );
  }
});
