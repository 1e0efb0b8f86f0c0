import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { transformSync } from '@swc/core';
import { TwilioSandbox } from '../../src/sandbox/twilio-sandbox';
import { createTwilioClient } from '../../src/twilio/twilio-http-client';
import { CUSTOMER } from './sandbox-helpers';

const ROOT = resolve(__dirname, '../..');

/** Compiles src/bin/sandbox.ts and what it imports to CommonJS, as `nest build` would into dist/. */
function compileBin(outDir: string): string {
  const pending = [join(ROOT, 'src/bin/sandbox.ts')];
  const done = new Set<string>();
  while (pending.length) {
    const file = pending.pop() as string;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    for (const [, spec] of source.matchAll(/from '(\.{1,2}\/[^']+)'/g)) pending.push(resolve(dirname(file), `${spec}.ts`));
    const { code } = transformSync(source, {
      filename: file,
      module: { type: 'commonjs' },
      jsc: { parser: { syntax: 'typescript', decorators: true }, target: 'es2022', transform: { legacyDecorator: true, decoratorMetadata: true } },
    });
    const target = join(outDir, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, code);
  }
  return join(outDir, 'src/bin/sandbox.js');
}

describe('standalone sandbox (src/bin/sandbox.ts)', () => {
  let outDir: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'sandbox-bin-'));
  });
  afterAll(() => {
    if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
    rmSync(outDir, { recursive: true, force: true });
  });

  it('reads its settings from the environment, prints SID, token and base URL, and serves the SDK', async () => {
    const entry = compileBin(outDir);
    const accountSid = `AC${'b'.repeat(32)}`;
    child = spawn(process.execPath, [entry], {
      env: {
        PATH: process.env.PATH,
        NODE_PATH: join(ROOT, 'node_modules'),
        SANDBOX_PORT: '0',
        SANDBOX_SPEED: '200',
        SANDBOX_SEED: '3',
        TWILIO_ACCOUNT_SID: accountSid,
        TWILIO_AUTH_TOKEN: 'standalone-token',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await vi.waitFor(() => expect(output).toMatch(/base URL: (http:\/\/\S+)/), { timeout: 15_000, interval: 50 });
    expect(output).toContain(`TWILIO_ACCOUNT_SID=${accountSid}`);
    expect(output).toContain('TWILIO_AUTH_TOKEN=standalone-token');
    const baseUrl = /base URL: (http:\/\/\S+)/.exec(output)?.[1] as string;

    const client = createTwilioClient(accountSid, 'standalone-token', { baseUrl });
    const call = await client.calls.create({ to: CUSTOMER, from: '+14155550199', twiml: '<Response><Say>hi</Say></Response>' });
    await vi.waitFor(async () => expect((await client.calls(call.sid).fetch()).status).toBe('completed'), { timeout: 5000, interval: 20 });
    const numbers = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, limit: 3 });
    const sameSeed = await TwilioSandbox.start({ seed: 3 });
    try {
      const expected = await createTwilioClient(sameSeed.accountSid, sameSeed.authToken, { baseUrl: sameSeed.baseUrl })
        .availablePhoneNumbers('US')
        .local.list({ areaCode: 415, limit: 3 });
      expect(numbers.map((n) => n.phoneNumber)).toEqual(expected.map((n) => n.phoneNumber));
    } finally {
      await sameSeed.stop();
    }

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
