#!/usr/bin/env node
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { TwilioSandbox } from '../twilio-sandbox';

const USAGE = `Usage: twilio-sandbox [--state-file <path>]

  --state-file <path>  keep numbers, calls, messages, recordings, usage and balance in this JSON
                       file across restarts (default: SANDBOX_STATE_FILE, else nothing is kept)
  -h, --help           show this help

Other settings come from SANDBOX_PORT, SANDBOX_HOST, SANDBOX_SPEED, SANDBOX_SEED, SANDBOX_BALANCE,
SANDBOX_PUBLIC_URL, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN.`;

/** Standalone sandbox: the `twilio-sandbox` bin (`npm run sandbox` in the service). Reads only its own SANDBOX_* / TWILIO_* variables and flags. */
function amountFrom(name: string): string | undefined {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return undefined;
  if (!/^\d+(\.\d{1,5})?$/.test(raw)) {
    console.error(`${name} must be a non-negative amount in USD like 20.00, got "${raw}"`);
    process.exit(1);
  }
  return raw;
}

function numberFrom(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    console.error(`${name} must be a number >= ${min}, got "${raw}"`);
    process.exit(1);
  }
  return value;
}

const parseFlags = () =>
  parseArgs({ options: { 'state-file': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, allowPositionals: false });

function flags(): { stateFile: string | undefined } {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags();
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (parsed.values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const stateFile = parsed.values['state-file'] ?? process.env.SANDBOX_STATE_FILE;
  if (stateFile === '') {
    console.error('--state-file / SANDBOX_STATE_FILE must name a file');
    process.exit(2);
  }
  return { stateFile: stateFile === undefined ? undefined : resolve(stateFile) };
}

async function main(): Promise<void> {
  const { stateFile } = flags();
  const sandbox = await TwilioSandbox.start({
    port: numberFrom('SANDBOX_PORT', 8010, 0),
    host: process.env.SANDBOX_HOST || '127.0.0.1',
    accountSid: process.env.TWILIO_ACCOUNT_SID || undefined,
    authToken: process.env.TWILIO_AUTH_TOKEN || undefined,
    speed: numberFrom('SANDBOX_SPEED', 1, 0.01),
    seed: numberFrom('SANDBOX_SEED', 1, 0),
    balance: amountFrom('SANDBOX_BALANCE'),
    publicBaseUrl: process.env.SANDBOX_PUBLIC_URL || undefined,
    stateFile,
    log: (message) => console.log(`[sandbox] ${message}`),
  });
  console.log('Twilio sandbox listening');
  console.log(`  TWILIO_ACCOUNT_SID=${sandbox.accountSid}`);
  console.log(`  TWILIO_AUTH_TOKEN=${sandbox.authToken}`);
  console.log(`  base URL: ${sandbox.baseUrl}`);
  console.log(`  inspection: ${sandbox.baseUrl}/sandbox/calls | /messages | /callbacks`);
  console.log(`  state file: ${stateFile ?? 'none (nothing is kept after a stop)'}`);
  const shutdown = () => {
    void sandbox.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
