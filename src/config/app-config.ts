import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseDotenv } from 'dotenv';
import { API_PREFIX, WEBHOOK_ROUTE } from '../common/api-routes';
import { normalizeE164 } from '../common/phone-number';

export const DEV_JWT_SECRET = 'samsaek-dev-secret-change-me-0123456789';
/** The sandbox's well-known credentials; a live deployment never uses them. */
export const SANDBOX_ACCOUNT_SID = 'AC5a4db0c5a4db0c5a4db0c5a4db0c5a4d';
export const SANDBOX_AUTH_TOKEN = 'sandbox-auth-token-0000000000000000';
export const SANDBOX_DEFAULT_NUMBER = '+14155550199';

export type JwtAlgorithm = 'HS256' | 'RS256';
export type InboundAction = 'voicemail' | 'forward' | 'hangup';

/** Where the in-process sandbox listens in development (the standalone `npm run sandbox` default too). */
export const DEV_SANDBOX_PORT = 8010;

/** What an inbound caller hears when INBOUND_GREETING is not set: it matches what happens next. */
const DEFAULT_GREETINGS: Record<InboundAction, string> = {
  voicemail: 'Hello, you have reached Samsaek. Please leave a message after the tone.',
  forward: 'Hello, you have reached Samsaek. Please hold while we connect your call.',
  hangup: 'Hello, you have reached Samsaek. We cannot take your call right now. Goodbye.',
};

export interface Pricing {
  voicePerMinute: string;
  smsPerSegment: string;
  numberPerMonth: string;
}

/** The typed configuration; code reads this, never process.env. */
export interface AppConfig {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  logLevel: 'error' | 'warn' | 'info' | 'debug';
  /** Log SMS bodies (inbound and outbound); off by default, bodies are personal data. */
  logMessageBodies: boolean;
  metrics: {
    /** Bearer token that /metrics requires on the API port; null: none. */
    token: string | null;
    /** A separate port serving only /metrics (kept off the public port); null: none. */
    port: number | null;
    /** Serve /metrics at all (off in production unless a token or a port is configured). */
    enabled: boolean;
  };
  health: {
    /** How long GET health reuses its last Twilio account lookup. */
    twilioCacheSeconds: number;
  };
  /** After SIGTERM/SIGINT the process exits within this many milliseconds, busy clients or not. */
  shutdownTimeoutMs: number;
  version: string;
  database: {
    /** null: embedded PGlite. */
    url: string | null;
    /** PGlite data folder, or 'memory://' for an in-memory database. */
    pgliteDataDir: string;
    runMigrations: boolean;
    /** At boot, how long to wait for DATABASE_URL to accept connections before giving up. */
    connectWaitSeconds: number;
    /** How long a request waits for a pooled connection (and a new connection to open). */
    acquireTimeoutMs: number;
    /** Postgres statement_timeout; the client gives up a little later so a frozen server cannot hang a query. 0: none. */
    statementTimeoutMs: number;
    /** Postgres idle_in_transaction_session_timeout. 0: none. */
    idleInTransactionTimeoutMs: number;
    /** Retry-After (seconds) of a 503 dependency_unavailable answered while the database is unreachable. */
    retryAfterSeconds: number;
  };
  twilio: {
    /** 'sandbox': the in-process sandbox; 'remote': api.twilio.com or TWILIO_API_BASE_URL. */
    mode: 'sandbox' | 'remote';
    accountSid: string;
    authToken: string;
    apiBaseUrl: string | null;
    phoneNumber: string;
    webhookBaseUrl: string;
    /** Twilio connection overrides (`rc=5&rp=5xx,ct,rt`) put as the fragment of every callback URL; '' for none. */
    callbackOverrides: string;
    requestTimeoutMs: number;
    sandboxSpeed: number;
    sandboxPort: number;
    /** What the in-process sandbox's account holds at start, in USD (decimal string); its calls and messages spend it. */
    sandboxBalance: string;
    /**
     * Where the in-process sandbox keeps its account (numbers, calls, messages) across restarts;
     * null: it starts empty each time.
     */
    sandboxStateFile: string | null;
  };
  jwt: {
    algorithm: JwtAlgorithm;
    /** HS256 secret or RS256 public key (PEM). */
    verifyKey: string;
    /** HS256 secret or RS256 private key (PEM), to mint dev tokens; null when only verifying. */
    signKey: string | null;
    issuer: string | null;
    audience: string | null;
    usingDevSecret: boolean;
  };
  webhooks: {
    trustProxy: boolean;
    inboundGreeting: string;
    inboundAudioUrl: string | null;
    inboundVoice: string;
    inboundLanguage: string;
    inboundAction: InboundAction;
    forwardTo: string | null;
    smsHelpText: string;
    smsAutoReply: string | null;
  };
  stats: {
    /** How often the per-day usage rollups take in what changed (the statistics' maximum lag for past days). */
    refreshSeconds: number;
  };
  reconcile: {
    enabled: boolean;
    intervalSeconds: number;
    staleAfterSeconds: number;
    /** The first sweep of Twilio's lists goes back this far. */
    lookbackHours: number;
    /** Each sweep lists from its watermark minus this (clock skew, Twilio's whole-second dates). */
    overlapSeconds: number;
    /** Failures about one record in a row (Twilio 404, a local error) after which it is set aside. */
    maxFailures: number;
    /** An intent still `initiating` this long after its creation is looked up at Twilio. */
    intentGraceSeconds: number;
    /** An intent Twilio still does not know this long after its creation becomes `failed`. */
    intentWindowSeconds: number;
    /**
     * A call or message that ended without a price is fetched this long after its last change
     * (Twilio adds prices a little after the end), then with backoff; also how often that is checked.
     */
    priceAfterSeconds: number;
    /**
     * A live inbound call to a number that does not send its status to us is fetched this long after
     * it was last seen live, then with backoff (at most LIVE_INBOUND_MAX_INTERVAL_SECONDS apart);
     * also how often that is checked.
     */
    liveInboundAfterSeconds: number;
  };
  inbox: {
    /** Attempts to apply one inbox event before it is set aside. */
    maxAttempts: number;
    /** Wait before the second attempt; doubles with each attempt, up to an hour. */
    retryBaseSeconds: number;
  };
  calls: {
    refreshAfterSeconds: number;
    /**
     * How long after its end a call's report waits at most for Twilio's price and the recordings
     * before it is settled without them (the estimate then stands in for the price).
     */
    reportSettleSeconds: number;
  };
  numbers: {
    /** How often the numbers we hold are compared with Twilio's list (also once at start); 0: only on GET numbers. */
    syncIntervalSeconds: number;
  };
  pricing: Pricing;
  guardrails: {
    /** At most this many calls not yet ended at once, across instances; 0: no cap. */
    maxLiveCalls: number;
    /** Daily (UTC) spending ceiling in USD, decimal string; null: no ceiling. */
    spendingDailyLimit: string | null;
    /** Minutes a call not yet priced is expected to last, for the spending estimate. */
    callEstimateMinutes: number;
    /**
     * How long one reading of the live calls and today's spending serves admissions (what was
     * admitted since is counted exactly); 0: every admission reads the records.
     */
    readingMaxAgeMs: number;
  };
  security: {
    /** Origins allowed to call the API from a browser; empty: no CORS headers at all. */
    corsOrigins: string[];
    /** Serve Swagger UI at /api/docs and the document at /api/docs-json. */
    swaggerEnabled: boolean;
  };
  rateLimits: {
    /** Per JWT subject: at most `calls` placed calls and `sms` sent messages per window. */
    calls: number;
    sms: number;
    windowSeconds: number;
    /** Per client IP: at most `authFailures` rejected bearer tokens per window, then 429. */
    authFailures: number;
    authFailureWindowSeconds: number;
  };
  conversations: {
    /** An agent that has not answered a turn within this long gets the spoken fallback (Twilio waits 15 s at most). */
    agentTimeoutMs: number;
    /**
     * How long an instance answers conversation turns from its own copy of an assistant: a change
     * made through another instance reaches its turns within this time (0: read it every turn).
     */
    assistantCacheMs: number;
  };
  campaigns: {
    /** How often an idle instance asks pg-boss for campaign work. */
    pollingIntervalSeconds: number;
    /** One dispatcher run places calls for at most this long, then hands the campaign back to the queue. */
    runSeconds: number;
    /** A run not finished after this long is taken as dead (its process crashed) and the campaign is picked up again. */
    leaseSeconds: number;
    /**
     * The account's rate shared by every campaign on every instance, over any one second: calls
     * (Twilio's calls per second, CPS) and messages (MPS). A campaign's own per_second may not exceed it.
     */
    accountPerSecond: { call: number; sms: number };
  };
  events: {
    /** Event endpoints may be private, loopback or link-local addresses (tests, a receiver on the same host). */
    allowPrivateUrls: boolean;
    /** After a secret rotation, the old secret keeps signing for this long. */
    secretOverlapSeconds: number;
    /** One delivery attempt gives up after this long. */
    deliveryTimeoutMs: number;
    /** Wait before the first retry; pg-boss doubles it with each retry, with jitter. */
    retryDelaySeconds: number;
    /** Retries after the first attempt; then the delivery is failed. */
    retryLimit: number;
    /** An endpoint whose attempts all failed for this long is disabled. */
    disableAfterHours: number;
    /** ...or after this many failed attempts in a row. */
    disableAfterFailures: number;
    /** How often each instance moves committed events into delivery jobs. */
    relayIntervalMs: number;
    /** How often an idle worker asks for jobs (pg-boss polling, at least 0.5 s). */
    pollingIntervalSeconds: number;
    /** Deliveries one instance attempts at once. */
    concurrency: number;
  };
  idempotency: {
    /** How long a key and its saved answer are kept; after that the same key counts as new. */
    ttlSeconds: number;
    /** A key still in flight after this long is taken as abandoned (its process died) and may run again. */
    lockTimeoutSeconds: number;
  };
}

type Env = Record<string, string | undefined>;

/** Reads `.env.production` when NODE_ENV=production, `.env` otherwise; real env vars win. */
export function readEnvFiles(env: Env = process.env, cwd = process.cwd()): Env {
  const file = resolve(cwd, env.NODE_ENV === 'production' ? '.env.production' : '.env');
  const fromFile = existsSync(file) ? parseDotenv(readFileSync(file)) : {};
  return { ...fromFile, ...env };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

/** Secrets that may instead be read from a file named by `<KEY>_FILE` (Docker/Kubernetes secrets). */
export const SECRET_KEYS = ['DATABASE_URL', 'TWILIO_AUTH_TOKEN', 'JWT_SECRET', 'JWT_PUBLIC_KEY', 'JWT_PRIVATE_KEY'] as const;

class Reader {
  readonly problems: string[] = [];
  private readonly env: Env;

  constructor(env: Env) {
    this.env = { ...env };
    for (const key of SECRET_KEYS) this.readSecretFile(key);
  }

  private readSecretFile(key: string): void {
    const file = this.env[`${key}_FILE`];
    if (file === undefined || file.trim() === '') return;
    if (this.env[key] !== undefined && this.env[key].trim() !== '') {
      this.problems.push(`${key} and ${key}_FILE are both set; set only one`);
      return;
    }
    try {
      this.env[key] = readFileSync(file.trim(), 'utf8').replace(/\r?\n$/, '');
    } catch (error) {
      this.problems.push(
        `${key}_FILE names a file that cannot be read (${(error as NodeJS.ErrnoException).code ?? 'error'}: ${file.trim()})`,
      );
    }
  }

  raw(key: string): string | undefined {
    const value = this.env[key];
    return value === undefined || value.trim() === '' ? undefined : value.trim();
  }

  string(key: string, fallback: string): string {
    return this.raw(key) ?? fallback;
  }

  int(key: string, fallback: number, min: number, max: number): number {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      this.problems.push(`${key} must be an integer between ${min} and ${max} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  number(key: string, fallback: number, min: number): number {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const n = Number(value);
    if (!Number.isFinite(n) || n < min) {
      this.problems.push(`${key} must be a number >= ${min} (got "${value}")`);
      return fallback;
    }
    return n;
  }

  bool(key: string, fallback: boolean): boolean {
    const value = this.raw(key)?.toLowerCase();
    if (value === undefined) return fallback;
    if (['true', '1', 'yes'].includes(value)) return true;
    if (['false', '0', 'no'].includes(value)) return false;
    this.problems.push(`${key} must be true or false (got "${value}")`);
    return fallback;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[], fallback: T): T {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(value)) {
      this.problems.push(`${key} must be one of ${allowed.join(', ')} (got "${value}")`);
      return fallback;
    }
    return value as T;
  }

  url(key: string, fallback: string | null, protocols: string[] = ['http:', 'https:']): string | null {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    try {
      const parsed = new URL(value);
      if (!protocols.includes(parsed.protocol)) throw new Error('protocol');
      return value.replace(/\/+$/, '');
    } catch {
      this.problems.push(`${key} must be a ${protocols.join(' or ')} URL (got "${value}")`);
      return fallback;
    }
  }

  phone(key: string, fallback: string): string {
    const value = this.raw(key);
    if (value === undefined) return fallback;
    const normalized = normalizeE164(value);
    if (!normalized) {
      this.problems.push(`${key} must be a valid E.164 phone number (got "${value}")`);
      return fallback;
    }
    return normalized;
  }

  /** A comma-separated list of browser origins (scheme://host[:port]), or `*` alone for any origin. */
  origins(key: string): string[] {
    const value = this.raw(key);
    if (value === undefined) return [];
    const items = value
      .split(',')
      .map((item) => item.trim().replace(/\/+$/, ''))
      .filter(Boolean);
    if (items.length === 1 && items[0] === '*') return items;
    const bad = items.filter((item) => {
      try {
        const url = new URL(item);
        return !['http:', 'https:'].includes(url.protocol) || url.origin !== item;
      } catch {
        return true;
      }
    });
    if (bad.length) {
      this.problems.push(`${key} must be * or a comma-separated list of origins like https://app.example.com (bad: ${bad.join(', ')})`);
      return [];
    }
    return items;
  }

  /**
   * Twilio's connection overrides as a URL fragment without the `#` (keys and ranges as Twilio
   * documents them); `none` for no fragment at all.
   */
  connectionOverrides(key: string, fallback: string): string {
    const value = this.raw(key)?.replace(/^#/, '');
    if (value === undefined) return fallback;
    if (value.toLowerCase() === 'none') return '';
    const ranges: Record<string, [number, number]> = { ct: [100, 10_000], rt: [100, 15_000], tt: [100, 15_000], rc: [0, 5] };
    const policies = ['4xx', '5xx', 'ct', 'rt', 'all'];
    const bad: string[] = [];
    const params = new URLSearchParams(value);
    for (const [name, v] of params) {
      const range = ranges[name];
      if (range) {
        const n = Number(v);
        if (!/^\d+$/.test(v) || n < range[0] || n > range[1]) bad.push(`${name} must be an integer between ${range[0]} and ${range[1]}`);
      } else if (name === 'rp') {
        if (!v.split(',').every((p) => policies.includes(p))) bad.push(`rp must list ${policies.join(', ')}`);
      } else if (name === 'sni') {
        if (!['y', 'n'].includes(v)) bad.push('sni must be y or n');
      } else if (name !== 'e') {
        bad.push(`unknown key ${name}`);
      }
    }
    if (bad.length) {
      this.problems.push(`${key} must be Twilio connection overrides like rc=5&rp=5xx,ct,rt, or none (${bad.join('; ')}; got "${value}")`);
      return fallback;
    }
    return value;
  }

  /** A money amount, or null when the value is `off` or zero. */
  moneyOrOff(key: string, fallback: string): string | null {
    const value = this.raw(key);
    if (value?.toLowerCase() === 'off') return null;
    const amount = this.money(key, fallback);
    return /^0+(\.0+)?$/.test(amount) ? null : amount;
  }

  money(key: string, fallback: string): string {
    const value = this.raw(key) ?? fallback;
    if (!/^\d+(\.\d{1,5})?$/.test(value)) {
      this.problems.push(`${key} must be a non-negative decimal amount with at most 5 decimals (got "${value}")`);
      return fallback;
    }
    return value;
  }
}

/** The version in package.json (the service's and the OpenAPI document's). */
export function packageVersion(): string {
  for (const up of ['../..', '../../..']) {
    const file = resolve(__dirname, up, 'package.json');
    if (existsSync(file)) return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
  }
  return '0.0.0';
}

/** Validates the whole environment at once; throws ConfigError naming every bad key. */
export function loadConfig(env: Env = readEnvFiles()): AppConfig {
  const r = new Reader(env);
  const nodeEnv = r.oneOf('NODE_ENV', ['development', 'production', 'test'] as const, 'development');
  const production = nodeEnv === 'production';
  const port = r.int('PORT', 8000, 0, 65535);

  const accountSid = r.raw('TWILIO_ACCOUNT_SID');
  const authToken = r.raw('TWILIO_AUTH_TOKEN');
  const apiBaseUrl = r.url('TWILIO_API_BASE_URL', null);
  if (accountSid !== undefined && !/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    r.problems.push('TWILIO_ACCOUNT_SID must look like AC followed by 32 hex characters');
  }
  if ((accountSid === undefined) !== (authToken === undefined)) {
    r.problems.push('TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN must be set together');
  }
  const sandbox = accountSid === undefined && authToken === undefined && apiBaseUrl === null;
  if (sandbox && production && !r.bool('ALLOW_SANDBOX_IN_PRODUCTION', false)) {
    r.problems.push('TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN are required in production (or set ALLOW_SANDBOX_IN_PRODUCTION=true)');
  }

  const databaseUrl = r.url('DATABASE_URL', null, ['postgres:', 'postgresql:']);
  if (databaseUrl === null && production && !r.bool('ALLOW_PGLITE_IN_PRODUCTION', false)) {
    r.problems.push('DATABASE_URL is required in production (or set ALLOW_PGLITE_IN_PRODUCTION=true)');
  }

  const pgliteDataDir = r.string('PGLITE_DATA_DIR', './data/pglite');

  const algorithm = r.oneOf('JWT_ALGORITHM', ['HS256', 'RS256'] as const, 'HS256');
  let verifyKey: string;
  let signKey: string | null;
  let usingDevSecret = false;
  if (algorithm === 'RS256') {
    const publicKey = r.raw('JWT_PUBLIC_KEY')?.replace(/\\n/g, '\n');
    if (!publicKey?.includes('BEGIN')) r.problems.push('JWT_PUBLIC_KEY must be a PEM public key when JWT_ALGORITHM=RS256');
    verifyKey = publicKey ?? '';
    signKey = r.raw('JWT_PRIVATE_KEY')?.replace(/\\n/g, '\n') ?? null;
  } else {
    const secret = r.raw('JWT_SECRET');
    usingDevSecret = secret === undefined || secret === DEV_JWT_SECRET;
    if (secret !== undefined && secret.length < 32) r.problems.push('JWT_SECRET must be at least 32 characters');
    if (usingDevSecret && production && !r.bool('ALLOW_DEV_JWT_SECRET_IN_PRODUCTION', false)) {
      r.problems.push('JWT_SECRET must be set to a private secret in production (or set ALLOW_DEV_JWT_SECRET_IN_PRODUCTION=true)');
    }
    verifyKey = secret ?? DEV_JWT_SECRET;
    signKey = verifyKey;
  }

  const inboundAction = r.oneOf('INBOUND_ACTION', ['voicemail', 'forward', 'hangup'] as const, 'voicemail');
  const config: AppConfig = {
    env: nodeEnv,
    port,
    host: r.string('HOST', '0.0.0.0'),
    logLevel: r.oneOf('LOG_LEVEL', ['error', 'warn', 'info', 'debug'] as const, nodeEnv === 'test' ? 'warn' : 'info'),
    logMessageBodies: r.bool('LOG_MESSAGE_BODIES', false),
    metrics: { token: null, port: null, enabled: false },
    health: {
      twilioCacheSeconds: r.int('HEALTH_TWILIO_CACHE_SECONDS', 30, 0, 3600),
    },
    shutdownTimeoutMs: r.int('SHUTDOWN_TIMEOUT_MS', 10000, 100, 600000),
    version: packageVersion(),
    database: {
      url: databaseUrl,
      pgliteDataDir,
      runMigrations: r.bool('DB_RUN_MIGRATIONS', true),
      acquireTimeoutMs: r.int('DB_ACQUIRE_TIMEOUT_MS', 3000, 100, 600_000),
      connectWaitSeconds: r.int('DB_CONNECT_WAIT_SECONDS', 10, 0, 600),
      statementTimeoutMs: r.int('DB_STATEMENT_TIMEOUT_MS', 5000, 0, 3_600_000),
      idleInTransactionTimeoutMs: r.int('DB_IDLE_IN_TRANSACTION_TIMEOUT_MS', 30_000, 0, 3_600_000),
      retryAfterSeconds: r.int('DB_RETRY_AFTER_SECONDS', 5, 1, 3600),
    },
    twilio: {
      mode: sandbox ? 'sandbox' : 'remote',
      accountSid: accountSid ?? SANDBOX_ACCOUNT_SID,
      authToken: authToken ?? SANDBOX_AUTH_TOKEN,
      apiBaseUrl,
      phoneNumber: r.phone('SAMSAEK_TWILIO_PHONE_NUMBER', SANDBOX_DEFAULT_NUMBER),
      webhookBaseUrl: r.url('SAMSAEK_TWILIO_WEBHOOK_URL', `http://localhost:${port}/${API_PREFIX}/${WEBHOOK_ROUTE}`)!,
      callbackOverrides: r.connectionOverrides('TWILIO_CALLBACK_OVERRIDES', 'rc=5&rp=5xx,ct,rt'),
      requestTimeoutMs: r.int('TWILIO_TIMEOUT_MS', 15000, 100, 120000),
      sandboxSpeed: r.number('SANDBOX_SPEED', 1, 0.01),
      sandboxBalance: r.money('SANDBOX_BALANCE', '20.00'),
      // a fixed port in development so that the README's sandbox curls reach it; tests take any free one
      sandboxPort: r.int('SANDBOX_PORT', nodeEnv === 'development' ? DEV_SANDBOX_PORT : 0, 0, 65535),
      sandboxStateFile: r.raw('SANDBOX_STATE_FILE') ?? defaultSandboxStateFile(databaseUrl, pgliteDataDir),
    },
    jwt: {
      algorithm,
      verifyKey,
      signKey,
      issuer: r.raw('JWT_ISSUER') ?? null,
      audience: r.raw('JWT_AUDIENCE') ?? null,
      usingDevSecret,
    },
    webhooks: {
      trustProxy: r.bool('WEBHOOK_TRUST_PROXY', false),
      inboundGreeting: r.string('INBOUND_GREETING', DEFAULT_GREETINGS[inboundAction]),
      inboundAudioUrl: r.url('INBOUND_GREETING_AUDIO_URL', null),
      inboundVoice: r.string('INBOUND_VOICE', 'alice'),
      inboundLanguage: r.string('INBOUND_LANGUAGE', 'en-US'),
      inboundAction,
      forwardTo: r.raw('INBOUND_FORWARD_TO') === undefined ? null : r.phone('INBOUND_FORWARD_TO', ''),
      smsHelpText: r.string('SMS_HELP_TEXT', 'Samsaek: reply STOP to unsubscribe. Msg&data rates may apply.'),
      smsAutoReply: r.raw('SMS_AUTO_REPLY') ?? null,
    },
    stats: {
      refreshSeconds: r.int('STATS_REFRESH_SECONDS', 10, 1, 3600),
    },
    reconcile: {
      enabled: r.bool('RECONCILE_ENABLED', true),
      intervalSeconds: r.int('RECONCILE_INTERVAL_SECONDS', 60, 1, 86400),
      staleAfterSeconds: r.int('RECONCILE_STALE_AFTER_SECONDS', 300, 1, 604800),
      lookbackHours: r.int('RECONCILE_LOOKBACK_HOURS', 24, 1, 24 * 90),
      overlapSeconds: r.int('RECONCILE_OVERLAP_SECONDS', 120, 0, 3600),
      maxFailures: r.int('RECONCILE_MAX_FAILURES', 5, 1, 1000),
      intentGraceSeconds: r.int('RECONCILE_INTENT_GRACE_SECONDS', 60, 0, 86400),
      intentWindowSeconds: r.int('RECONCILE_INTENT_WINDOW_SECONDS', 600, 1, 604800),
      priceAfterSeconds: r.int('RECONCILE_PRICE_AFTER_SECONDS', 10, 1, 3600),
      liveInboundAfterSeconds: r.int('RECONCILE_INBOUND_AFTER_SECONDS', 5, 1, 3600),
    },
    inbox: {
      maxAttempts: r.int('WEBHOOK_MAX_ATTEMPTS', 5, 1, 1000),
      retryBaseSeconds: r.int('WEBHOOK_RETRY_BASE_SECONDS', 30, 0, 3600),
    },
    calls: {
      refreshAfterSeconds: r.int('CALL_REFRESH_AFTER_SECONDS', 30, 0, 86400),
      reportSettleSeconds: r.int('REPORT_SETTLE_SECONDS', 300, 0, 7 * 86400),
    },
    numbers: {
      syncIntervalSeconds: r.int('NUMBERS_SYNC_INTERVAL_SECONDS', 300, 0, 86400),
    },
    pricing: {
      voicePerMinute: r.money('PRICE_VOICE_PER_MINUTE', '0.0085'),
      smsPerSegment: r.money('PRICE_SMS_PER_SEGMENT', '0.0075'),
      numberPerMonth: r.money('PRICE_NUMBER_PER_MONTH', '1.00'),
    },
    guardrails: {
      maxLiveCalls: r.int('MAX_LIVE_CALLS', 50, 0, 1_000_000),
      spendingDailyLimit: r.moneyOrOff('SPENDING_DAILY_LIMIT', '50'),
      callEstimateMinutes: r.int('SPENDING_CALL_ESTIMATE_MINUTES', 2, 1, 240),
      readingMaxAgeMs: r.int('GUARDRAILS_READING_MAX_AGE_MS', 1000, 0, 60_000),
    },
    security: {
      corsOrigins: r.origins('CORS_ORIGINS'),
      swaggerEnabled: r.bool('SWAGGER_ENABLED', !production),
    },
    rateLimits: {
      calls: r.int('RATE_LIMIT_CALLS', 30, 1, 1_000_000),
      sms: r.int('RATE_LIMIT_SMS', 60, 1, 1_000_000),
      windowSeconds: r.int('RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86400),
      authFailures: r.int('AUTH_FAILURE_LIMIT', 20, 1, 1_000_000),
      authFailureWindowSeconds: r.int('AUTH_FAILURE_WINDOW_SECONDS', 60, 1, 86400),
    },
    conversations: {
      agentTimeoutMs: r.int('AGENT_TIMEOUT_MS', 5000, 100, 12_000),
      assistantCacheMs: r.int('ASSISTANT_CACHE_MS', 2000, 0, 60_000),
    },
    campaigns: {
      pollingIntervalSeconds: r.number('CAMPAIGN_POLLING_INTERVAL_SECONDS', 1, 0.5),
      runSeconds: r.int('CAMPAIGN_RUN_SECONDS', 10, 1, 600),
      leaseSeconds: r.int('CAMPAIGN_LEASE_SECONDS', 60, 5, 3600),
      accountPerSecond: {
        call: r.int('CAMPAIGN_ACCOUNT_CALLS_PER_SECOND', 1, 1, 1000),
        sms: r.int('CAMPAIGN_ACCOUNT_SMS_PER_SECOND', 1, 1, 1000),
      },
    },
    events: {
      allowPrivateUrls: r.bool('ALLOW_PRIVATE_WEBHOOK_URLS', false),
      secretOverlapSeconds: r.int('EVENT_SECRET_OVERLAP_SECONDS', 86400, 0, 30 * 86400),
      deliveryTimeoutMs: r.int('EVENT_DELIVERY_TIMEOUT_MS', 10_000, 100, 120_000),
      retryDelaySeconds: r.int('EVENT_RETRY_DELAY_SECONDS', 30, 1, 86400),
      retryLimit: r.int('EVENT_RETRY_LIMIT', 11, 0, 100),
      disableAfterHours: r.number('EVENT_ENDPOINT_DISABLE_AFTER_HOURS', 24, 0),
      disableAfterFailures: r.int('EVENT_ENDPOINT_DISABLE_AFTER_FAILURES', 100, 1, 1_000_000),
      relayIntervalMs: r.int('EVENT_RELAY_INTERVAL_MS', 250, 10, 60_000),
      pollingIntervalSeconds: r.number('EVENT_POLLING_INTERVAL_SECONDS', 0.5, 0.5),
      concurrency: r.int('EVENT_DELIVERY_CONCURRENCY', 20, 1, 500),
    },
    idempotency: {
      ttlSeconds: r.int('IDEMPOTENCY_TTL_SECONDS', 86400, 1, 2_592_000),
      lockTimeoutSeconds: r.int('IDEMPOTENCY_LOCK_TIMEOUT_SECONDS', 300, 1, 86400),
    },
  };
  const metricsToken = r.raw('METRICS_TOKEN') ?? null;
  if (metricsToken !== null && metricsToken.length < 16) r.problems.push('METRICS_TOKEN must be at least 16 characters');
  const metricsPort = r.raw('METRICS_PORT') === undefined ? null : r.int('METRICS_PORT', 0, 0, 65535);
  if (metricsPort !== null && metricsPort === port && port !== 0) r.problems.push('METRICS_PORT must differ from PORT');
  config.metrics = { token: metricsToken, port: metricsPort, enabled: !production || metricsToken !== null || metricsPort !== null };
  if (config.webhooks.inboundAction === 'forward' && !config.webhooks.forwardTo) {
    r.problems.push('INBOUND_FORWARD_TO is required when INBOUND_ACTION=forward');
  }
  if (r.problems.length) throw new ConfigError(r.problems);
  return config;
}

/**
 * The sandbox's account lives beside PGlite's data, so the two survive a restart together (and an
 * in-memory database gets a sandbox that starts empty too): `./data/pglite` → `./data/pglite.sandbox.json`.
 */
function defaultSandboxStateFile(databaseUrl: string | null, pgliteDataDir: string): string | null {
  if (databaseUrl !== null || pgliteDataDir.startsWith('memory://')) return null;
  return `${pgliteDataDir.replace(/[\\/]+$/, '')}.sandbox.json`;
}
