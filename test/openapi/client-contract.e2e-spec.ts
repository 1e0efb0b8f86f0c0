import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { OPENAPI_FILE } from './spec';

/** What a client generated from openapi.yaml sees: types, enums, rules, errors, and no webhook operations. */

const run = promisify(execFile);
const ROOT = resolve(__dirname, '../..');
const BIN = resolve(ROOT, 'node_modules/.bin');
const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const ANSI_COLOURS = new RegExp(String.raw`\u001b\[[0-9;]*m`, 'g');

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const doc = YAML.parse(readFileSync(OPENAPI_FILE, 'utf8')) as Json;
const operations = Object.entries(doc.paths as Json).flatMap(([path, item]) =>
  METHODS.filter((m) => (item as Json)[m]).map((method) => ({ path, method, op: (item as Json)[method] as Json })),
);

function schemasWhere(predicate: (node: Json) => boolean): string[] {
  const found: string[] = [];
  const walk = (value: unknown, at: string): void => {
    if (Array.isArray(value)) return value.forEach((v, i) => walk(v, `${at}/${i}`));
    if (value === null || typeof value !== 'object') return;
    if (predicate(value)) found.push(at);
    for (const [k, v] of Object.entries(value)) walk(v, `${at}/${k}`);
  };
  walk(doc, '');
  return found;
}

describe('openapi.yaml for client generators', () => {
  it('says integer for every count, duration, limit and status code', () => {
    // the one fraction, a speech recognition confidence, says so with its format
    expect(schemasWhere((n) => n.type === 'number' && n.format !== 'double')).toEqual([]);
    expect(schemasWhere((n) => n.type === 'number')).toEqual(['/components/schemas/CallTranscriptEntryDto/properties/confidence']);
    const s = doc.components.schemas as Json;
    expect(s.ErrorResponseDto.properties.statusCode.type).toBe('integer');
    expect(s.CallDto.properties.duration.type).toBe('integer');
    expect(s.StatsDto.properties.numbers_owned.type).toBe('integer');
    const limit = (doc.paths['/api/phone/calls/history'].get.parameters as Json[]).find((p) => p.name === 'limit');
    expect(limit?.schema.type).toBe('integer');
  });

  it('names the status and direction enums once', () => {
    const s = doc.components.schemas as Json;
    expect(s.CallStatus.enum).toContain('completed');
    expect(s.MessageStatus.enum).toContain('delivered');
    expect(s.Direction.enum).toEqual(['inbound', 'outbound']);
    // every other mention is a reference, not a copy
    const inlineCopies = schemasWhere((n) => Array.isArray(n.enum) && n.enum.includes('outbound') && n.enum.length === 2);
    expect(inlineCopies).toEqual(['/components/schemas/Direction']);
    // CallOutcome is its own enum (completed, busy, no-answer, ..., voicemail), used by reports and events, not a copy of
    // CallStatus; so are the timeline's statuses (CallStatus and the control entries), a transfer's DialCallStatus and the
    // outcomes a campaign retries
    expect(schemasWhere((n) => Array.isArray(n.enum) && n.enum.includes('no-answer'))).toEqual([
      '/components/schemas/CallOutcome',
      '/components/schemas/CallStatus',
      '/components/schemas/CallTimelineStatus',
      '/components/schemas/CallTransferStatus',
      '/components/schemas/CampaignRetryOutcome',
    ]);
  });

  it('types since and until as date-times, with no filter example that Swagger UI would prefill', () => {
    for (const path of ['/api/phone/calls/history', '/api/phone/sms/history']) {
      const params = doc.paths[path].get.parameters as Json[];
      for (const name of ['since', 'until'])
        expect(params.find((p) => p.name === name)?.schema, `${path} ${name}`).toMatchObject({ type: 'string', format: 'date-time' });
      const prefilled = params.filter(
        (p) => !p.required && p.name !== 'limit' && (p.example !== undefined || p.schema?.example !== undefined),
      );
      expect(
        prefilled.map((p) => p.name),
        path,
      ).toEqual([]);
    }
  });

  it('prefills no Idempotency-Key in Swagger UI (a second "Try it out" with another body would be refused)', () => {
    const withKey = operations.filter(({ op }) => (op.parameters as Json[] | undefined)?.some((p) => p.name === 'Idempotency-Key'));
    expect(withKey.length).toBeGreaterThan(0);
    for (const { path, method, op } of withKey) {
      const key = (op.parameters as Json[]).find((p) => p.name === 'Idempotency-Key')!;
      expect(key.example ?? key.schema?.example, `${method} ${path}`).toBeUndefined();
    }
  });

  it('states the one-of rules in the schemas', () => {
    const s = doc.components.schemas as Json;
    expect(s.PlaceCallDto.oneOf).toEqual([
      { required: ['message'] },
      { required: ['audio_url'] },
      { required: ['twiml'] },
      { required: ['assistant_id'] },
    ]);
    expect(s.SendSmsDto.anyOf).toEqual([{ required: ['message'] }, { required: ['media_url'] }]);
  });

  it('offers one complete example body per way of placing a call', () => {
    const examples = doc.paths['/api/phone/call'].post.requestBody.content['application/json'].examples as Json;
    const ways = ['message', 'audio_url', 'twiml', 'assistant_id'];
    expect(Object.keys(examples).sort()).toEqual([...ways].sort());
    for (const [name, { value }] of Object.entries(examples)) {
      expect(
        Object.keys(value as Json).filter((k) => ways.includes(k)),
        name,
      ).toEqual([name]);
    }
  });

  it('documents a 500 on every operation and gives each error status its own example', () => {
    for (const { path, method, op } of operations) {
      expect(op.responses['500']?.content?.['application/json']?.schema, `${method} ${path}`).toEqual({
        $ref: '#/components/schemas/ErrorResponseDto',
      });
      for (const [status, response] of Object.entries(op.responses as Json)) {
        const media = (response as Json).content?.['application/json'];
        if (Number(status) < 400 || media?.schema?.$ref !== '#/components/schemas/ErrorResponseDto') continue;
        expect(media.example?.statusCode, `${method} ${path} ${status}`).toBe(Number(status));
      }
    }
    const call = doc.paths['/api/phone/calls/{sid}'].get.responses as Json;
    expect(call['404'].content['application/json'].example).toMatchObject({ statusCode: 404, error: 'Not Found', code: 'not_found' });
  });

  it('carries the service version', () => {
    const pkg = JSON.parse(readFileSync(resolve(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(doc.info.version).toBe(pkg.version);
  });

  it('marks the Twilio webhooks x-internal, and the committed SDK leaves them out', () => {
    const internal = operations.filter((o) => o.op['x-internal']).map((o) => o.op.operationId as string);
    expect(internal.sort()).toEqual([
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
    const sdk = readFileSync(resolve(ROOT, 'packages/sdk/src/sdk.gen.ts'), 'utf8');
    for (const id of internal) expect(sdk).not.toContain(id);
    expect(sdk).not.toContain('/api/phone/webhook/');
  });
});

describe('clients generated by openapi-typescript and orval', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'openapi-clients-'));
    // without the x-internal operations, as a client generator is configured to read it
    const clientDoc = structuredClone(doc);
    for (const { path, method, op } of operations) if (op['x-internal']) delete clientDoc.paths[path][method];
    for (const [path, item] of Object.entries(clientDoc.paths as Json)) if (!Object.keys(item as Json).length) delete clientDoc.paths[path];
    writeFileSync(join(dir, 'openapi.yaml'), YAML.stringify(clientDoc));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'client', private: true, type: 'module' }));
    writeFileSync(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          lib: ['es2022', 'dom'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: [],
        },
        include: ['**/*.ts'],
      }),
    );
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generate without warnings and type-check under module nodenext', { timeout: 180_000 }, async () => {
    const ots = await run(join(BIN, 'openapi-typescript'), ['openapi.yaml', '-o', 'schema.d.ts'], { cwd: dir });
    expect(ots.stderr.replace(ANSI_COLOURS, '')).not.toMatch(/warn|error/i);
    writeFileSync(
      join(dir, 'orval.config.cjs'),
      `module.exports = { api: { input: { target: './openapi.yaml' }, output: { target: './orval/api.ts', client: 'fetch' } } };\n`,
    );
    const orval = await run(join(BIN, 'orval'), ['--config', 'orval.config.cjs'], { cwd: dir });
    expect(`${orval.stdout}\n${orval.stderr}`.replace(ANSI_COLOURS, '')).not.toMatch(/warn|error|⚠/i);
    expect(readdirSync(join(dir, 'orval'))).toContain('api.ts');
    const orvalApi = readFileSync(join(dir, 'orval/api.ts'), 'utf8');
    expect(orvalApi).toContain('export const CallStatus');
    expect(orvalApi).not.toMatch(/CallDtoStatus|CallDtoDirection|webhook\/call/);
    const tsc = await run(join(BIN, 'tsc'), ['-p', dir]).catch((e: { stdout: string }) => ({ stdout: e.stdout, failed: true }));
    expect(tsc.stdout).toBe('');
  });
});
