import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import SwaggerParser from '@apidevtools/swagger-parser';
import YAML from 'yaml';
import { renderOpenApiYaml } from '../../src/swagger';
import { TestApp, startTestApp } from '../support/test-app';
import { OPENAPI_FILE, Schema, deref, loadSpec, operationsOf } from './spec';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const committed = readFileSync(OPENAPI_FILE, 'utf8');
const doc = loadSpec();
const operations = operationsOf(doc);
const ERROR_REF = '#/components/schemas/ErrorResponseDto';

describe('openapi.yaml', () => {
  let t: TestApp;

  beforeAll(async () => {
    t = await startTestApp();
  });

  afterAll(async () => {
    await t?.close();
  });

  it('is what the running app documents (the test build and `nest build` agree), served at /api/docs-json', async () => {
    const res = await fetch(`${t.baseUrl}/api/docs-json`);
    expect(res.status).toBe(200);
    const served = renderOpenApiYaml((await res.json()) as Parameters<typeof renderOpenApiYaml>[0]);
    if (served !== committed) {
      mkdirSync(resolve(ROOT, 'test-output'), { recursive: true });
      writeFileSync(resolve(ROOT, 'test-output/openapi.served.yaml'), served);
    }
    // A difference here means openapi.yaml is stale (run `npm run openapi`) or the SWC metadata
    // (src/metadata.ts) and the swagger plugin of `nest build` disagree.
    expect(served).toBe(committed);
  });

  it('is valid OpenAPI 3 (swagger-parser)', async () => {
    const api = (await SwaggerParser.validate(YAML.parse(committed))) as { openapi?: string };
    expect(api.openapi).toMatch(/^3\./);
  });

  it('passes redocly lint with no errors and no warnings', { timeout: 60_000 }, async () => {
    const { stdout, stderr } = await run(resolve(ROOT, 'node_modules/.bin/redocly'), ['lint', 'openapi.yaml', '--format', 'json'], {
      cwd: ROOT,
    }).catch((e: { stdout: string; stderr: string }) => e);
    const report = JSON.parse(stdout) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    expect(
      report.problems.map((p) => `${p.ruleId}: ${p.message}`),
      stderr,
    ).toEqual([]);
    expect(report.totals).toMatchObject({ errors: 0, warnings: 0 });
  });

  it('is sorted: paths, schemas and properties', () => {
    const sorted = (keys: string[]) => [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    expect(Object.keys(doc.paths)).toEqual(sorted(Object.keys(doc.paths)));
    expect(Object.keys(doc.components.schemas)).toEqual(sorted(Object.keys(doc.components.schemas)));
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(Object.keys(schema.properties ?? {}), name).toEqual(sorted(Object.keys(schema.properties ?? {})));
    }
  });

  it('names operations after the controller methods: unique verb-noun operationIds, one tag per module', () => {
    const ids = operations.map((o) => o.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const op of operations) {
      expect(op.operationId, op.path).toMatch(
        /^(get|list|search|purchase|release|update|place|hangup|send|handle|create|delete|cancel|rotate|replay|transfer|say|pause|resume)[A-Z][A-Za-z]*$/,
      );
      expect(op.tags, op.operationId).toHaveLength(1);
      expect(doc.tags?.map((t) => t.name)).toContain(op.tags[0]);
    }
    expect(doc.tags?.map((t) => t.name).sort()).toEqual([
      'assistants',
      'billing',
      'calls',
      'campaigns',
      'conversations',
      'events',
      'health',
      'numbers',
      'sms',
      'webhooks',
    ]);
  });

  it('documents auth: the bearer scheme on every protected operation, x-permission everywhere', () => {
    expect(doc.components.securitySchemes?.bearer).toMatchObject({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' });
    for (const op of operations) {
      expect(op.permission, op.operationId).toMatch(/^(phone:(view|call|sms|admin)|public)$/);
      if (op.permission === 'public') continue;
      expect(op.security, op.operationId).toEqual([{ bearer: [] }]);
      expect(Object.keys(op.responses), op.operationId).toEqual(expect.arrayContaining(['401', '403']));
    }
  });

  it('gives every error response the one error schema', () => {
    for (const op of operations) {
      for (const [status, schema] of Object.entries(op.responses)) {
        if (Number(status) < 400) continue;
        // health and readiness answer 503 with their own report body (status "error"), by design
        if ((op.operationId === 'getHealth' || op.operationId === 'getReadiness') && status === '503') continue;
        expect(schema?.$ref, `${op.operationId} ${status}`).toBe(ERROR_REF);
      }
    }
    const error = deref(doc, { $ref: ERROR_REF });
    expect(error.required?.sort()).toEqual(['code', 'error', 'message', 'request_id', 'statusCode']);
  });

  it('documents a success response with a schema and examples for every operation', () => {
    for (const op of operations) {
      const success = Object.entries(op.responses).filter(([s]) => Number(s) < 300);
      expect(success.length, op.operationId).toBeGreaterThan(0);
      if (op.isWebhook) continue;
      const [status, schema] = success[0];
      const media = Object.keys((doc.paths[op.path][op.method].responses as Record<string, { content?: object }>)[status].content ?? {});
      if (!media.includes('application/json')) {
        // a file (recording audio): binary in every media type it is served as
        expect(media.length, op.operationId).toBeGreaterThan(0);
        expect(schema, op.operationId).toEqual({ type: 'string', format: 'binary' });
        continue;
      }
      expect(schema?.$ref, op.operationId).toMatch(/^#\/components\/schemas\//);
      const withExamples = Object.values(deref(doc, schema).properties ?? {}).filter(
        (p: Schema) => p.example !== undefined || p.$ref !== undefined || p.items !== undefined,
      );
      expect(withExamples.length, `${op.operationId}: response properties with examples`).toBeGreaterThan(0);
    }
  });

  it('documents request bodies with examples on their required fields', () => {
    for (const op of operations.filter((o) => o.requestBody && !o.isWebhook)) {
      const schema = deref(doc, op.requestBody!.content['application/json']);
      for (const name of schema.required ?? []) {
        expect(deref(doc, schema.properties?.[name]).example, `${op.operationId}.${name}`).toBeDefined();
      }
    }
  });

  it('documents paging: list operations take limit and cursor and answer next_cursor', () => {
    const lists = operations.filter((o) => o.parameters.some((p) => p.name === 'cursor'));
    expect(lists.map((o) => o.operationId).sort()).toEqual(expect.arrayContaining(['getCallHistory', 'getSmsHistory']));
    for (const op of lists) {
      const limit = op.parameters.find((p) => p.name === 'limit');
      expect(limit, op.operationId).toBeDefined();
      expect(limit?.schema).toMatchObject({ minimum: 1 });
      expect(deref(doc, op.responses['200']).properties?.next_cursor, op.operationId).toBeDefined();
    }
  });

  it('documents the webhooks: form-encoded bodies, the X-Twilio-Signature header, 403 for a bad signature', () => {
    const hooks = operations.filter((o) => o.path.startsWith('/api/phone/webhook'));
    expect(hooks.map((o) => o.operationId).sort()).toEqual([
      'handleAmdCallback',
      'handleForwardDialAction',
      'handleGatherWebhook',
      'handleSmsWebhook',
      'handleStatusCallback',
      'handleTransferDialAction',
      'handleTransferWhisper',
      'handleVoiceWebhook',
      'handleVoicemailWait',
    ]);
    for (const op of hooks) {
      expect(op.isWebhook, op.operationId).toBe(true);
      expect(op.permission).toBe('public');
      expect(op.security).toEqual([]);
      expect(Object.keys(op.requestBody?.content ?? {}), op.operationId).toContain('application/x-www-form-urlencoded');
      expect(op.parameters.find((p) => p.name === 'X-Twilio-Signature')).toMatchObject({ in: 'header', required: true });
      expect(op.responses['403']?.$ref, op.operationId).toBe(ERROR_REF);
    }
  });
});
