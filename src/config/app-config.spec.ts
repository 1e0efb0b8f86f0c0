import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, DEV_JWT_SECRET, SANDBOX_ACCOUNT_SID, loadConfig, readEnvFiles } from './app-config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

describe('loadConfig', () => {
  it('runs on embedded defaults with nothing configured outside production', () => {
    const config = loadConfig({});
    expect(config.port).toBe(8000);
    expect(config.twilio.mode).toBe('sandbox');
    expect(config.twilio.accountSid).toBe(SANDBOX_ACCOUNT_SID);
    expect(config.database.url).toBeNull();
    expect(config.database.pgliteDataDir).toBe('./data/pglite');
    expect(config.twilio.webhookBaseUrl).toBe('http://localhost:8000/api/phone/webhook');
    expect(config.twilio.sandboxPort).toBe(8010);
    expect(loadConfig({ NODE_ENV: 'test' }).twilio.sandboxPort).toBe(0);
    expect(config.jwt).toMatchObject({ algorithm: 'HS256', verifyKey: DEV_JWT_SECRET, usingDevSecret: true });
    expect(config.pricing).toEqual({ voicePerMinute: '0.0085', smsPerSegment: '0.0075', numberPerMonth: '1.00' });
  });

  it('greets inbound callers with words that match what happens next', () => {
    expect(loadConfig({}).webhooks.inboundGreeting).toMatch(/leave a message after the tone/);
    const forward = loadConfig({ INBOUND_ACTION: 'forward', INBOUND_FORWARD_TO: '+14155550123' }).webhooks.inboundGreeting;
    expect(forward).not.toMatch(/message|tone/i);
    expect(forward).toMatch(/connect/i);
    expect(loadConfig({ INBOUND_ACTION: 'hangup' }).webhooks.inboundGreeting).not.toMatch(/message|tone/i);
    expect(
      loadConfig({ INBOUND_ACTION: 'forward', INBOUND_FORWARD_TO: '+14155550123', INBOUND_GREETING: 'Hi' }).webhooks.inboundGreeting,
    ).toBe('Hi');
  });

  it('uses Twilio when credentials are given and names the phone number in E.164', () => {
    const config = loadConfig({
      TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
      TWILIO_AUTH_TOKEN: 'token',
      SAMSAEK_TWILIO_PHONE_NUMBER: '+14155550123',
      SAMSAEK_TWILIO_WEBHOOK_URL: 'https://example.com/api/phone/webhook/',
    });
    expect(config.twilio.mode).toBe('remote');
    expect(config.twilio.apiBaseUrl).toBeNull();
    expect(config.twilio.webhookBaseUrl).toBe('https://example.com/api/phone/webhook');
  });

  it('bounds how long the database may keep a request waiting, and what Twilio is told to retry', () => {
    expect(loadConfig({}).database).toMatchObject({
      acquireTimeoutMs: 3000,
      statementTimeoutMs: 5000,
      idleInTransactionTimeoutMs: 30000,
      retryAfterSeconds: 5,
    });
    expect(loadConfig({}).twilio.callbackOverrides).toBe('rc=5&rp=5xx,ct,rt');
    const custom = loadConfig({
      DB_ACQUIRE_TIMEOUT_MS: '500',
      DB_STATEMENT_TIMEOUT_MS: '0',
      TWILIO_CALLBACK_OVERRIDES: '#rc=2&rp=all&tt=8000',
    });
    expect(custom.database).toMatchObject({ acquireTimeoutMs: 500, statementTimeoutMs: 0 });
    expect(custom.twilio.callbackOverrides).toBe('rc=2&rp=all&tt=8000');
    expect(loadConfig({ TWILIO_CALLBACK_OVERRIDES: 'none' }).twilio.callbackOverrides).toBe('');
  });

  it('refuses connection overrides Twilio would not accept', () => {
    for (const value of ['rc=9', 'rp=sometimes', 'retries=5', 'ct=50']) {
      expect(problemsOf({ TWILIO_CALLBACK_OVERRIDES: value }).join('\n')).toMatch(
        /^TWILIO_CALLBACK_OVERRIDES must be Twilio connection overrides/,
      );
    }
    expect(problemsOf({ DB_ACQUIRE_TIMEOUT_MS: '0' }).join('\n')).toMatch(/^DB_ACQUIRE_TIMEOUT_MS/);
  });

  it('reports every bad key in one error', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      TWILIO_ACCOUNT_SID: 'nope',
      SAMSAEK_TWILIO_PHONE_NUMBER: '+1234567890',
      SAMSAEK_TWILIO_WEBHOOK_URL: 'ftp://x',
      JWT_SECRET: 'short',
      DB_RUN_MIGRATIONS: 'maybe',
      PRICE_SMS_PER_SEGMENT: '-1',
    });
    const keys = [
      'PORT',
      'TWILIO_ACCOUNT_SID',
      'SAMSAEK_TWILIO_PHONE_NUMBER',
      'SAMSAEK_TWILIO_WEBHOOK_URL',
      'JWT_SECRET',
      'DB_RUN_MIGRATIONS',
      'PRICE_SMS_PER_SEGMENT',
    ];
    for (const key of keys) expect(problems.some((p) => p.startsWith(key))).toBe(true);
    expect(problems.some((p) => p.includes('TWILIO_AUTH_TOKEN'))).toBe(true);
  });

  it('refuses the sandbox, PGlite and the development secret in production unless told', () => {
    const problems = problemsOf({ NODE_ENV: 'production' });
    expect(problems).toHaveLength(3);
    expect(problems.join('\n')).toMatch(/ALLOW_SANDBOX_IN_PRODUCTION/);
    expect(problems.join('\n')).toMatch(/ALLOW_PGLITE_IN_PRODUCTION/);
    expect(problems.join('\n')).toMatch(/ALLOW_DEV_JWT_SECRET_IN_PRODUCTION/);
    const allowed = loadConfig({
      NODE_ENV: 'production',
      ALLOW_SANDBOX_IN_PRODUCTION: 'true',
      ALLOW_PGLITE_IN_PRODUCTION: 'true',
      ALLOW_DEV_JWT_SECRET_IN_PRODUCTION: 'true',
    });
    expect(allowed.twilio.mode).toBe('sandbox');
  });

  it('serves /metrics openly outside production, and in production only with a token or a port', () => {
    expect(loadConfig({}).metrics).toEqual({ token: null, port: null, enabled: true });
    const production = {
      NODE_ENV: 'production',
      ALLOW_SANDBOX_IN_PRODUCTION: 'true',
      ALLOW_PGLITE_IN_PRODUCTION: 'true',
      ALLOW_DEV_JWT_SECRET_IN_PRODUCTION: 'true',
    };
    expect(loadConfig(production).metrics.enabled).toBe(false);
    expect(loadConfig({ ...production, METRICS_TOKEN: 'x'.repeat(16) }).metrics).toMatchObject({ enabled: true, token: 'x'.repeat(16) });
    expect(loadConfig({ ...production, METRICS_PORT: '9464' }).metrics).toMatchObject({ enabled: true, port: 9464 });
    expect(() => loadConfig({ METRICS_TOKEN: 'short' })).toThrow(/METRICS_TOKEN must be at least 16 characters/);
    expect(() => loadConfig({ PORT: '9000', METRICS_PORT: '9000' })).toThrow(/METRICS_PORT must differ from PORT/);
    expect(() => loadConfig({ SHUTDOWN_TIMEOUT_MS: '50' })).toThrow(/SHUTDOWN_TIMEOUT_MS must be an integer/);
    expect(loadConfig({}).shutdownTimeoutMs).toBe(10000);
    expect(loadConfig({}).health.twilioCacheSeconds).toBe(30);
  });

  it('needs a PEM public key for RS256 and a forward number for INBOUND_ACTION=forward', () => {
    const problems = problemsOf({ JWT_ALGORITHM: 'RS256', INBOUND_ACTION: 'forward' });
    expect(problems.some((p) => p.startsWith('JWT_PUBLIC_KEY'))).toBe(true);
    expect(problems.some((p) => p.startsWith('INBOUND_FORWARD_TO'))).toBe(true);
  });

  it('reads each secret from <KEY>_FILE, trailing newline trimmed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsaek-secrets-'));
    const secret = 'file-secret-0123456789-0123456789-abcdef';
    writeFileSync(join(dir, 'jwt'), `${secret}\n`);
    writeFileSync(join(dir, 'twilio'), 'twilio-token-from-file\n');
    writeFileSync(join(dir, 'db'), 'postgres://svc:p%40ss@db.example.com:5432/phone\n');
    const config = loadConfig({
      JWT_SECRET_FILE: join(dir, 'jwt'),
      TWILIO_ACCOUNT_SID: `AC${'a'.repeat(32)}`,
      TWILIO_AUTH_TOKEN_FILE: join(dir, 'twilio'),
      DATABASE_URL_FILE: join(dir, 'db'),
    });
    expect(config.jwt).toMatchObject({ verifyKey: secret, usingDevSecret: false });
    expect(config.twilio.authToken).toBe('twilio-token-from-file');
    expect(config.database.url).toBe('postgres://svc:p%40ss@db.example.com:5432/phone');
  });

  it('refuses a secret set both directly and as a file, and a file that cannot be read, naming the key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsaek-secrets-'));
    writeFileSync(join(dir, 'jwt'), 'x'.repeat(40));
    const problems = problemsOf({
      JWT_SECRET: 'y'.repeat(40),
      JWT_SECRET_FILE: join(dir, 'jwt'),
      TWILIO_AUTH_TOKEN_FILE: join(dir, 'missing'),
    });
    expect(problems).toEqual([
      'TWILIO_AUTH_TOKEN_FILE names a file that cannot be read (ENOENT: ' + join(dir, 'missing') + ')',
      'JWT_SECRET and JWT_SECRET_FILE are both set; set only one',
    ]);
  });

  it('closes CORS and keeps Swagger off in production unless configured', () => {
    const production = {
      NODE_ENV: 'production',
      ALLOW_SANDBOX_IN_PRODUCTION: 'true',
      ALLOW_PGLITE_IN_PRODUCTION: 'true',
      JWT_SECRET: 'z'.repeat(40),
    };
    expect(loadConfig(production).security).toEqual({ corsOrigins: [], swaggerEnabled: false });
    expect(loadConfig({}).security).toEqual({ corsOrigins: [], swaggerEnabled: true });
    const open = loadConfig({ ...production, SWAGGER_ENABLED: 'true', CORS_ORIGINS: 'https://app.example.com, http://localhost:3000/' });
    expect(open.security).toEqual({ corsOrigins: ['https://app.example.com', 'http://localhost:3000'], swaggerEnabled: true });
    expect(problemsOf({ CORS_ORIGINS: 'https://app.example.com/path,ftp://x.example.com,*' })).toEqual([
      'CORS_ORIGINS must be * or a comma-separated list of origins like https://app.example.com (bad: https://app.example.com/path, ftp://x.example.com, *)',
    ]);
  });

  it('has rate limits that hold back a runaway client and can be raised', () => {
    expect(loadConfig({}).rateLimits).toEqual({ calls: 30, sms: 60, windowSeconds: 60, authFailures: 20, authFailureWindowSeconds: 60 });
    expect(loadConfig({ RATE_LIMIT_CALLS: '500', AUTH_FAILURE_LIMIT: '1000' }).rateLimits).toMatchObject({
      calls: 500,
      authFailures: 1000,
    });
    expect(problemsOf({ RATE_LIMIT_SMS: '0' })).toEqual(['RATE_LIMIT_SMS must be an integer between 1 and 1000000 (got "0")']);
  });

  it('caps live calls and daily spending by default; 0 or off turns each off', () => {
    expect(loadConfig({}).guardrails).toEqual({
      maxLiveCalls: 50,
      spendingDailyLimit: '50',
      callEstimateMinutes: 2,
      readingMaxAgeMs: 1000,
    });
    expect(loadConfig({ MAX_LIVE_CALLS: '0', SPENDING_DAILY_LIMIT: 'off' }).guardrails).toMatchObject({
      maxLiveCalls: 0,
      spendingDailyLimit: null,
    });
    expect(loadConfig({ SPENDING_DAILY_LIMIT: '0.00' }).guardrails.spendingDailyLimit).toBeNull();
    expect(loadConfig({ SPENDING_DAILY_LIMIT: '12.5', SPENDING_CALL_ESTIMATE_MINUTES: '5' }).guardrails).toMatchObject({
      spendingDailyLimit: '12.5',
      callEstimateMinutes: 5,
    });
    expect(problemsOf({ SPENDING_DAILY_LIMIT: 'ten', MAX_LIVE_CALLS: '-1' })).toEqual([
      'MAX_LIVE_CALLS must be an integer between 0 and 1000000 (got "-1")',
      'SPENDING_DAILY_LIMIT must be a non-negative decimal amount with at most 5 decimals (got "ten")',
    ]);
  });

  it('keeps idempotency keys a day, takes a key in flight for 5 minutes as abandoned, and both can be set', () => {
    expect(loadConfig({}).idempotency).toEqual({ ttlSeconds: 86400, lockTimeoutSeconds: 300 });
    expect(loadConfig({ IDEMPOTENCY_TTL_SECONDS: '60', IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: '30' }).idempotency).toEqual({
      ttlSeconds: 60,
      lockTimeoutSeconds: 30,
    });
    expect(problemsOf({ IDEMPOTENCY_TTL_SECONDS: '0' })).toEqual([
      'IDEMPOTENCY_TTL_SECONDS must be an integer between 1 and 2592000 (got "0")',
    ]);
  });
});

describe('readEnvFiles', () => {
  it('reads .env.production in production and .env otherwise, real variables winning', () => {
    const dir = mkdtempSync(join(tmpdir(), 'samsaek-env-'));
    writeFileSync(join(dir, '.env'), 'PORT=8100\nLOG_LEVEL=debug\n');
    writeFileSync(join(dir, '.env.production'), 'PORT=8200\n');
    expect(readEnvFiles({}, dir).PORT).toBe('8100');
    expect(readEnvFiles({ LOG_LEVEL: 'warn' }, dir).LOG_LEVEL).toBe('warn');
    expect(readEnvFiles({ NODE_ENV: 'production' }, dir).PORT).toBe('8200');
  });
});
