import { execFileSync } from 'node:child_process';
import { chownSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, type Reply } from '../support/http';
import { eventually, freePort, startTestApp, type TestApp } from '../support/test-app';
import { fakeSid, postWebhook } from '../webhooks/webhook-helpers';
import { twilioCallbackUrl } from '../../src/common/twilio-callback-url';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { Client, type Pool } from 'pg';
import { DataSource } from 'typeorm';

/**
 * A PostgreSQL of the suite's own that the tests stop and freeze: the app must answer 503 with
 * Retry-After quickly instead of 500 or hanging, act on nothing, make Twilio retry its webhooks,
 * and serve again once the database is back, without a restart. It needs the PostgreSQL server
 * tools (pg_createcluster), so it runs in the PostgreSQL pass of the suite only.
 */
const PG_VERSION = process.env.DATABASE_URL ? newestPostgres() : null;

function newestPostgres(): string | null {
  try {
    const versions = readdirSync('/etc/postgresql').filter((v) => /^\d+$/.test(v));
    return versions.sort((a, b) => Number(b) - Number(a))[0] ?? null;
  } catch {
    return null;
  }
}

const ACQUIRE_MS = 1000;
const STATEMENT_MS = 1000;
/** The slowest a 503 may take: the acquire or the client read timeout (statement + 1 s), plus slack. */
const ANSWER_WITHIN_MS = STATEMENT_MS + 1000 + 2500;
const CALLER = '+14155550123';

class ThrowawayCluster {
  readonly name = `samsaek_outage_${process.pid}`;
  private readonly dataDir: string;

  constructor(
    readonly version: string,
    readonly port: number,
  ) {
    this.dataDir = join(mkdtempSync(join(tmpdir(), 'samsaek-outage-')), 'data');
  }

  get url(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  create(): void {
    chownSync(join(this.dataDir, '..'), uid('postgres'), gid('postgres'));
    execFileSync('pg_createcluster', [this.version, this.name, '-p', String(this.port), '-d', this.dataDir, '--', '--auth=trust'], {
      stdio: 'pipe',
    });
    this.start();
  }

  start(): void {
    execFileSync('pg_ctlcluster', [this.version, this.name, 'start'], { stdio: 'pipe' });
  }

  stop(): void {
    execFileSync('pg_ctlcluster', [this.version, this.name, 'stop', '-m', 'fast'], { stdio: 'pipe' });
  }

  /** The postmaster and every backend, so that open connections freeze as well as new ones. */
  private processes(): number[] {
    const postmaster = Number(readFileSync(join(this.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
    const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return [postmaster, ...children];
  }

  freeze(): void {
    for (const pid of this.processes()) process.kill(pid, 'SIGSTOP');
  }

  thaw(): void {
    for (const pid of this.processes()) process.kill(pid, 'SIGCONT');
  }

  drop(): void {
    try {
      this.thaw();
    } catch {
      // not running
    }
    try {
      execFileSync('pg_dropcluster', ['--stop', this.version, this.name], { stdio: 'pipe' });
    } finally {
      rmSync(join(this.dataDir, '..'), { recursive: true, force: true });
    }
  }
}

function uid(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}

function gid(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}

async function timed<T>(work: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  const value = await work();
  return { value, ms: Date.now() - started };
}

describe.skipIf(!PG_VERSION)('when the database fails', { timeout: 120_000 }, () => {
  let cluster: ThrowawayCluster;
  let t: TestApp;
  let ourNumber: string;
  const admin = () => t.token(['phone:admin'], 'outage-tester');
  const api = (method: string, path: string, body?: unknown) => request(t, method, path, { token: admin(), body });
  const expectUnavailable = (res: Reply | Response, body?: Reply['body']) => {
    expect(res.status).toBe(503);
    if (body !== undefined) {
      expect(body).toMatchObject({ statusCode: 503, code: 'dependency_unavailable' });
      expect(res.headers.get('retry-after')).toBe('2');
    }
  };

  beforeAll(async () => {
    cluster = new ThrowawayCluster(PG_VERSION!, await freePort());
    cluster.create();
    t = await startTestApp({
      DATABASE_URL: cluster.url,
      DB_ACQUIRE_TIMEOUT_MS: String(ACQUIRE_MS),
      DB_STATEMENT_TIMEOUT_MS: String(STATEMENT_MS),
      DB_RETRY_AFTER_SECONDS: '2',
    });
    const gateway = t.app.get(TwilioGateway);
    const [number] = await gateway.listOwnedNumbers();
    await gateway.updateNumberWebhooks(number.sid, {
      voiceUrl: twilioCallbackUrl(t.config.twilio, '/call'),
      smsUrl: twilioCallbackUrl(t.config.twilio, '/sms'),
      statusCallbackUrl: twilioCallbackUrl(t.config.twilio, '/status'),
    });
    ourNumber = number.phoneNumber;
  }, 120_000);

  afterAll(async () => {
    try {
      await t?.close();
    } finally {
      cluster?.drop();
    }
  }, 60_000);

  it('answers 503 with Retry-After while it is stopped, acts on nothing, and serves again once it is back', async () => {
    expect((await api('GET', '/api/phone/calls/history')).status).toBe(200);
    cluster.stop();

    const history = await timed(() => api('GET', '/api/phone/calls/history'));
    expectUnavailable(history.value, history.value.body);
    expect(history.ms).toBeLessThan(ANSWER_WITHIN_MS);
    expect((await api('GET', '/api/phone/sms/history')).status).toBe(503);

    const callsBefore = t.sandbox.calls().length;
    const messagesBefore = t.sandbox.messages().length;
    const call = await api('POST', '/api/phone/call', { to: '+14155550100', message: 'Hello during an outage.' });
    expectUnavailable(call, call.body);
    const sms = await api('POST', '/api/phone/sms', { to: '+14155550100', message: 'Hello during an outage.' });
    expectUnavailable(sms, sms.body);
    expect(t.sandbox.calls()).toHaveLength(callsBefore);
    expect(t.sandbox.messages()).toHaveLength(messagesBefore);

    const statusSid = fakeSid('SM');
    const status = await postWebhook(t, 'status', { MessageSid: statusSid, MessageStatus: 'delivered', To: '+14155550100' });
    expectUnavailable(status);
    const inbound = await postWebhook(t, 'sms', { MessageSid: fakeSid('SM'), From: CALLER, To: ourNumber, Body: 'hi', NumSegments: '1' });
    expectUnavailable(inbound);

    // Twilio itself retries the inbound SMS as the URL's fragment tells it to (rc=5 on 5xx)
    const lostSid = await t.sandbox.deliverInboundSms({ from: CALLER, to: ourNumber, body: 'during the outage' });
    await t.sandbox.settle();
    const attempts = t.sandbox.callbacks().filter((c) => c.resourceSid === lostSid && c.kind === 'sms-url');
    expect(attempts.map((a) => a.status)).toEqual([503, 503, 503, 503, 503, 503]);

    const health = await request(t, 'GET', '/api/phone/health');
    expect({ status: health.status, body: health.body.status }).toEqual({ status: 503, body: 'error' });

    cluster.start();
    await eventually(async () => (await request(t, 'GET', '/api/phone/health')).status === 200, 20_000, 200);

    expect((await api('GET', '/api/phone/calls/history')).status).toBe(200);
    const sent = await api('POST', '/api/phone/sms', { to: '+14155550100', message: 'Hello after the outage.' });
    expect(sent.status).toBe(201);
    expect(t.sandbox.messages().some((m) => m.sid === sent.body.sid)).toBe(true);
    const placed = await api('POST', '/api/phone/call', { to: '+14155550100', message: 'Hello after the outage.' });
    expect(placed.status).toBe(201);
    expect((await postWebhook(t, 'status', { MessageSid: sent.body.sid, MessageStatus: 'delivered', To: '+14155550100' })).status).toBe(
      204,
    );
    const later = await t.sandbox.deliverInboundSms({ from: CALLER, to: ourNumber, body: 'after the outage' });
    await t.sandbox.settle();
    expect((await api('GET', `/api/phone/sms/${later}`)).body).toMatchObject({
      sid: later,
      direction: 'inbound',
      body: 'after the outage',
    });
  });

  it('answers 503 within the timeouts while it is frozen, and keeps the webhooks Twilio retried once it thaws', async () => {
    expect((await api('GET', '/api/phone/sms/history')).status).toBe(200);
    const callsBefore = t.sandbox.calls().length;
    cluster.freeze();
    let thawed = false;
    try {
      const history = await timed(() => api('GET', '/api/phone/sms/history'));
      expectUnavailable(history.value, history.value.body);
      expect(history.ms).toBeLessThan(ANSWER_WITHIN_MS);

      const call = await timed(() => api('POST', '/api/phone/call', { to: '+14155550100', message: 'Hello while frozen.' }));
      expectUnavailable(call.value, call.value.body);
      expect(call.ms).toBeLessThan(ANSWER_WITHIN_MS);
      expect(t.sandbox.calls()).toHaveLength(callsBefore);

      const health = await timed(() => request(t, 'GET', '/api/phone/health'));
      expect({ status: health.value.status, body: health.value.body.status }).toEqual({ status: 503, body: 'error' });
      expect(health.ms).toBeLessThan(ANSWER_WITHIN_MS);

      // Twilio delivers an SMS and a call now; their first attempts fail, a retry lands after the thaw
      const smsSid = await t.sandbox.deliverInboundSms({ from: CALLER, to: ourNumber, body: 'while frozen' });
      const callSid = await t.sandbox.deliverInboundCall({ from: CALLER, to: ourNumber });
      await eventually(
        async () => t.sandbox.callbacks().some((c) => c.resourceSid === smsSid && c.kind === 'sms-url' && c.status === 503),
        ANSWER_WITHIN_MS * 2,
      );
      cluster.thaw();
      thawed = true;
      await t.sandbox.settle(30_000);

      const smsAttempts = t.sandbox.callbacks().filter((c) => c.resourceSid === smsSid && c.kind === 'sms-url');
      expect(smsAttempts[0].status).toBe(503);
      expect(smsAttempts.at(-1)!.status).toBe(200);
      const stored = await api('GET', `/api/phone/sms/${smsSid}`);
      expect(stored.body).toMatchObject({ sid: smsSid, direction: 'inbound', body: 'while frozen' });

      const voiceAttempts = t.sandbox.callbacks().filter((c) => c.resourceSid === callSid && c.kind === 'voice-url');
      expect(voiceAttempts.at(-1)!.status).toBe(200);
      expect((await api('GET', `/api/phone/calls/${callSid}`)).body).toMatchObject({ sid: callSid, direction: 'inbound' });
    } finally {
      if (!thawed) cluster.thaw();
    }
    expect((await api('GET', '/api/phone/calls/history')).status).toBe(200);
  });

  it('keeps running when the database ends a pooled connection that is checked out between queries', async () => {
    const uncaught: unknown[] = [];
    const onUncaught = (error: unknown) => uncaught.push(error);
    process.prependListener('uncaughtException', onUncaught);
    // the pool every statement of the app's goes through, used as the ingest path uses it
    const pool = (t.app.get(DataSource).driver as unknown as { master: Pool }).master;
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      const admin = new Client({ connectionString: cluster.url });
      await admin.connect();
      try {
        await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
      } finally {
        await admin.end();
      }
      // the server's 57P01 reaches the client while no query is waiting on it
      await eventually(
        () =>
          client.query('SELECT 1').then(
            () => false,
            () => true,
          ),
        10_000,
        100,
      );
      broken = new Error('connection ended by the server');
    } finally {
      client.release(broken);
      process.removeListener('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect((await api('GET', '/api/phone/calls/history')).status).toBe(200);
  });
});
