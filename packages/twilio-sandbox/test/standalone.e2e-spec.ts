import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { TwilioSandbox } from '../src';
import { CUSTOMER, sdkFor } from './sandbox-helpers';

const PACKAGE = resolve(__dirname, '..');

/** Builds the package with its own tsconfig into a copy of it, and returns the path of its `twilio-sandbox` bin. */
function buildPackage(outDir: string): string {
  copyFileSync(join(PACKAGE, 'package.json'), join(outDir, 'package.json'));
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', join(PACKAGE, 'tsconfig.json'), '--outDir', join(outDir, 'dist')],
    {
      stdio: 'pipe',
    },
  );
  const manifest = JSON.parse(readFileSync(join(outDir, 'package.json'), 'utf8')) as { bin: Record<string, string> };
  return join(outDir, manifest.bin['twilio-sandbox']);
}

describe('standalone sandbox (the twilio-sandbox bin)', () => {
  let outDir: string;
  let entry: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'twilio-sandbox-'));
    entry = buildPackage(outDir);
  }, 180_000);
  afterAll(() => {
    if (child?.pid && child.exitCode === null) child.kill('SIGTERM');
    rmSync(outDir, { recursive: true, force: true });
  });

  it('reads its settings from the environment, prints SID, token and base URL, and serves the SDK', async () => {
    const accountSid = `AC${'b'.repeat(32)}`;
    child = spawn(process.execPath, [entry], {
      env: {
        PATH: process.env.PATH,
        NODE_PATH: join(PACKAGE, '../../node_modules'),
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
    const baseUrl = /base URL: (http:\/\/\S+)/.exec(output)![1];

    const { client } = sdkFor({ accountSid, authToken: 'standalone-token', baseUrl });
    const call = await client.calls.create({ to: CUSTOMER, from: '+14155550199', twiml: '<Response><Say>hi</Say></Response>' });
    await vi.waitFor(async () => expect((await client.calls(call.sid).fetch()).status).toBe('completed'), { timeout: 5000, interval: 20 });
    const numbers = await client.availablePhoneNumbers('US').local.list({ areaCode: 415, limit: 3 });
    const sameSeed = await TwilioSandbox.start({ seed: 3 });
    try {
      const expected = await sdkFor(sameSeed).client.availablePhoneNumbers('US').local.list({ areaCode: 415, limit: 3 });
      expect(numbers.map((n) => n.phoneNumber)).toEqual(expected.map((n) => n.phoneNumber));
    } finally {
      await sameSeed.stop();
    }

    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child?.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  });
});
