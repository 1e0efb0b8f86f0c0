import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { INestApplication } from '@nestjs/common';
import { Client } from 'pg';
import { type CreateAppOptions, createApp } from '../../src/app.factory';
import { mintToken } from '../../src/auth/token';
import { AppConfig, loadConfig } from '../../src/config/app-config';
import type { TwilioSandbox } from '@samsaek/twilio-sandbox';
import { IN_PROCESS_SANDBOX } from '../../src/twilio/twilio.module';

export const TEST_JWT_SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface TestApp {
  app: INestApplication;
  config: AppConfig;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  sandbox: TwilioSandbox;
  token(permissions: string[], sub?: string): string;
  close(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/**
 * A fresh, empty database for one test app: an in-memory PGlite, or, when DATABASE_URL is set,
 * a new database on that server that is dropped afterwards.
 */
export async function freshDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  const serverUrl = process.env.DATABASE_URL;
  if (!serverUrl) return { env: { PGLITE_DATA_DIR: 'memory://' }, drop: async () => undefined };
  const name = `samsaek_test_${randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    env: { DATABASE_URL: url.toString() },
    drop: async () => {
      const c = new Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

/** Boots the real application on a free port, on the in-process sandbox and a fresh database. */
export async function startTestApp(env: Record<string, string> = {}, options: CreateAppOptions = {}): Promise<TestApp> {
  const port = await freePort();
  const db = await freshDatabase();
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    JWT_SECRET: TEST_JWT_SECRET,
    SANDBOX_SPEED: '200',
    RECONCILE_ENABLED: 'false',
    NUMBERS_SYNC_INTERVAL_SECONDS: '0',
    LOG_LEVEL: 'error',
    ...db.env,
    ...env,
  });
  const app = await createApp(config, options);
  await app.listen(port, '127.0.0.1');
  const sandbox = app.get<TwilioSandbox | null>(IN_PROCESS_SANDBOX);
  if (!sandbox) throw new Error('startTestApp expects the in-process sandbox (no Twilio credentials)');
  return {
    app,
    config,
    baseUrl: `http://127.0.0.1:${port}`,
    sandbox,
    token: (permissions, sub = 'tester') => mintToken(config, { sub, permissions, ttl: '1h' }),
    close: async () => {
      await app.close();
      await db.drop();
    },
  };
}

/** A second instance of the application beside `first`: a process of its own would share only what these share. */
export interface SecondInstance {
  app: INestApplication;
  /** http://127.0.0.1:PORT */
  baseUrl: string;
  close(): Promise<void>;
}

/**
 * Boots another instance of the application on `first`'s database and Twilio account (its
 * sandbox, number and webhook URL), as a second replica behind a load balancer would run. `env`
 * adds or overrides settings. Needs a database server: embedded PGlite serves a single process.
 */
export async function startSecondInstance(first: TestApp, env: Record<string, string> = {}): Promise<SecondInstance> {
  if (!first.config.database.url) throw new Error('a second instance needs DATABASE_URL: embedded PGlite serves a single process');
  const port = await freePort();
  const app = await createApp(
    loadConfig({
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      RECONCILE_ENABLED: 'false',
      NUMBERS_SYNC_INTERVAL_SECONDS: '0',
      LOG_LEVEL: 'error',
      DATABASE_URL: first.config.database.url,
      TWILIO_ACCOUNT_SID: first.sandbox.accountSid,
      TWILIO_AUTH_TOKEN: first.sandbox.authToken,
      TWILIO_API_BASE_URL: first.sandbox.baseUrl,
      SAMSAEK_TWILIO_PHONE_NUMBER: first.config.twilio.phoneNumber,
      SAMSAEK_TWILIO_WEBHOOK_URL: first.config.twilio.webhookBaseUrl,
      ...env,
    }),
  );
  await app.listen(port, '127.0.0.1');
  return { app, baseUrl: `http://127.0.0.1:${port}`, close: () => app.close() };
}

/** Polls `probe` until it returns a truthy value or the time runs out. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 10_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(
        `condition not met within ${timeoutMs} ms${last ? `: ${last instanceof Error ? String(last) : JSON.stringify(last)}` : ''}`,
      );
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
