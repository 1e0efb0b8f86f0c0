#!/usr/bin/env node
import { TwilioSandbox } from '../twilio-sandbox';

/** Standalone sandbox: the `twilio-sandbox` bin (`npm run sandbox` in the service). Reads only its own SANDBOX_* / TWILIO_* variables. */
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

async function main(): Promise<void> {
  const sandbox = await TwilioSandbox.start({
    port: numberFrom('SANDBOX_PORT', 8010, 0),
    host: process.env.SANDBOX_HOST || '127.0.0.1',
    accountSid: process.env.TWILIO_ACCOUNT_SID || undefined,
    authToken: process.env.TWILIO_AUTH_TOKEN || undefined,
    speed: numberFrom('SANDBOX_SPEED', 1, 0.01),
    seed: numberFrom('SANDBOX_SEED', 1, 0),
    publicBaseUrl: process.env.SANDBOX_PUBLIC_URL || undefined,
    log: (message) => console.log(`[sandbox] ${message}`),
  });
  console.log('Twilio sandbox listening');
  console.log(`  TWILIO_ACCOUNT_SID=${sandbox.accountSid}`);
  console.log(`  TWILIO_AUTH_TOKEN=${sandbox.authToken}`);
  console.log(`  base URL: ${sandbox.baseUrl}`);
  console.log(`  inspection: ${sandbox.baseUrl}/sandbox/calls | /messages | /callbacks`);
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
