import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_SANDBOX_ACCOUNT_SID, DEFAULT_SANDBOX_AUTH_TOKEN, TwilioSandbox } from '../src';
import { CUSTOMER, expectRestError, sdkFor } from './sandbox-helpers';

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

interface RunningBin {
  child: ChildProcess;
  output: () => string;
  baseUrl: string;
}

/** Starts the built bin with only the given environment (and PATH, NODE_PATH) and waits for its base URL. */
async function startBin(entry: string, env: Record<string, string>, args: string[] = []): Promise<RunningBin> {
  const child = spawn(process.execPath, [entry, ...args], {
    env: { PATH: process.env.PATH, NODE_PATH: join(PACKAGE, '../../node_modules'), SANDBOX_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await vi.waitFor(() => expect(output).toMatch(/base URL: (http:\/\/\S+)/), { timeout: 15_000, interval: 50 });
  return { child, output: () => output, baseUrl: /base URL: (http:\/\/\S+)/.exec(output)![1] };
}

/** SIGTERM, as Ctrl-C or a process manager would stop it; resolves with the exit code. */
async function stopBin(bin: RunningBin): Promise<number | null> {
  const exited = new Promise<number | null>((r) => bin.child.once('exit', (c) => r(c)));
  bin.child.kill('SIGTERM');
  return exited;
}

describe('standalone sandbox (the twilio-sandbox bin)', () => {
  let outDir: string;
  let entry: string;
  const running: RunningBin[] = [];

  beforeAll(() => {
    outDir = mkdtempSync(join(tmpdir(), 'twilio-sandbox-'));
    entry = buildPackage(outDir);
  }, 180_000);
  afterAll(() => {
    for (const { child } of running) if (child.pid && child.exitCode === null) child.kill('SIGTERM');
    rmSync(outDir, { recursive: true, force: true });
  });

  const start = async (env: Record<string, string>, args: string[] = []) => {
    const bin = await startBin(entry, env, args);
    running.push(bin);
    return bin;
  };

  it('reads its settings from the environment, prints SID, token and base URL, and serves the SDK', async () => {
    const accountSid = `AC${'b'.repeat(32)}`;
    const bin = await start({
      SANDBOX_SPEED: '200',
      SANDBOX_SEED: '3',
      SANDBOX_BALANCE: '1000000',
      TWILIO_ACCOUNT_SID: accountSid,
      TWILIO_AUTH_TOKEN: 'standalone-token',
    });
    expect(bin.output()).toContain(`TWILIO_ACCOUNT_SID=${accountSid}`);
    expect(bin.output()).toContain('TWILIO_AUTH_TOKEN=standalone-token');

    const { client } = sdkFor({ accountSid, authToken: 'standalone-token', baseUrl: bin.baseUrl });
    expect((await client.balance.fetch()).balance).toBe('1000000.00');
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

    expect(await stopBin(bin)).toBe(0);
  });

  it('keeps its account in a state file (SANDBOX_STATE_FILE or --state-file) across a restart', async () => {
    const stateFile = join(outDir, 'state', 'sandbox.json');
    const first = await start({ SANDBOX_SPEED: '200', SANDBOX_STATE_FILE: stateFile });
    expect(first.output()).toContain(`state file: ${stateFile}`);
    const before = sdkFor({
      accountSid: DEFAULT_SANDBOX_ACCOUNT_SID,
      authToken: DEFAULT_SANDBOX_AUTH_TOKEN,
      baseUrl: first.baseUrl,
    }).client;
    const bought = await before.incomingPhoneNumbers.create({ phoneNumber: '+14155550123', friendlyName: 'Kept across restarts' });
    const call = await before.calls.create({ to: CUSTOMER, from: bought.phoneNumber, twiml: '<Response><Say>still here</Say></Response>' });
    await vi.waitFor(async () => expect((await before.calls(call.sid).fetch()).status).toBe('completed'), { timeout: 5000, interval: 20 });
    const ended = await before.calls(call.sid).fetch();
    expect(await stopBin(first)).toBe(0);

    // the flag names the same file; the environment has none
    const second = await start({ SANDBOX_SPEED: '200' }, ['--state-file', stateFile]);
    const after = sdkFor({
      accountSid: DEFAULT_SANDBOX_ACCOUNT_SID,
      authToken: DEFAULT_SANDBOX_AUTH_TOKEN,
      baseUrl: second.baseUrl,
    }).client;
    const owned = await after.incomingPhoneNumbers.list();
    expect(owned.map((n) => n.phoneNumber).sort()).toEqual(['+14155550123', '+14155550199']);
    expect(owned.find((n) => n.sid === bought.sid)).toMatchObject({ phoneNumber: '+14155550123', friendlyName: 'Kept across restarts' });
    const again = await after.calls(call.sid).fetch();
    expect(again).toMatchObject({
      status: 'completed',
      from: bought.phoneNumber,
      to: CUSTOMER,
      duration: ended.duration,
      price: ended.price,
    });
    // bought before the restart: not for sale again
    await expectRestError(after.incomingPhoneNumbers.create({ phoneNumber: '+14155550123' }), 400, 21422);
    expect(await stopBin(second)).toBe(0);
  });

  it('without a state file nothing is kept; a bad flag or an unreadable file stops it with the reason', async () => {
    const first = await start({ SANDBOX_SPEED: '200' });
    expect(first.output()).toContain('state file: none');
    const client = sdkFor({
      accountSid: DEFAULT_SANDBOX_ACCOUNT_SID,
      authToken: DEFAULT_SANDBOX_AUTH_TOKEN,
      baseUrl: first.baseUrl,
    }).client;
    const bought = await client.incomingPhoneNumbers.create({ phoneNumber: '+14155550124' });
    expect(await stopBin(first)).toBe(0);
    const second = await start({ SANDBOX_SPEED: '200' });
    const fresh = sdkFor({
      accountSid: DEFAULT_SANDBOX_ACCOUNT_SID,
      authToken: DEFAULT_SANDBOX_AUTH_TOKEN,
      baseUrl: second.baseUrl,
    }).client;
    await expectRestError(fresh.incomingPhoneNumbers(bought.sid).fetch(), 404, 20404);
    expect(await stopBin(second)).toBe(0);

    const run = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [entry, ...args], {
        env: { PATH: process.env.PATH, NODE_PATH: join(PACKAGE, '../../node_modules'), SANDBOX_PORT: '0', ...env },
        encoding: 'utf8',
        timeout: 15_000,
      });
    const unknown = run(['--state'], {});
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('--state-file <path>');
    const broken = join(outDir, 'broken.json');
    writeFileSync(broken, '{"format": 99}');
    const refused = run([], { SANDBOX_STATE_FILE: broken });
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('unknown sandbox state format');
    const badBalance = run([], { SANDBOX_BALANCE: 'lots' });
    expect(badBalance.status).toBe(1);
    expect(badBalance.stderr).toContain('SANDBOX_BALANCE must be');
  });
});
