import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Client } from 'pg';
import { mintToken } from '../../src/auth/token';
import { loadConfig } from '../../src/config/app-config';
import { TEST_JWT_SECRET, freePort, freshDatabase } from '../support/test-app';

const SHUTDOWN_STEPS = ['shutdown_started', 'listener_closed', 'connections_drained', 'app_closed', 'shutdown_complete'];

const ROOT = resolve(__dirname, '../..');

interface Service {
  child: ChildProcess;
  port: number;
  /** JSON log lines with the time this test read them. */
  events: { at: number; line: Record<string, unknown> }[];
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  storedSids(): Promise<string[]>;
  cleanup(): Promise<void>;
}

/** The built service (node dist/src/main.js) as a child process: sandbox in process, its own database. */
async function startService(dir: string, env: Record<string, string> = {}): Promise<Service> {
  const port = await freePort();
  const db = await freshDatabase();
  const pgliteDir = db.env.DATABASE_URL ? null : mkdtempSync(join(tmpdir(), 'shutdown-pglite-'));
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    cwd: dir,
    env: {
      PATH: process.env.PATH,
      NODE_ENV: 'test',
      PORT: String(port),
      HOST: '127.0.0.1',
      JWT_SECRET: TEST_JWT_SECRET,
      SANDBOX_SPEED: '200',
      RECONCILE_INTERVAL_SECONDS: '1',
      LOG_LEVEL: 'info',
      ...(pgliteDir ? { PGLITE_DATA_DIR: pgliteDir } : db.env),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Service['events'] = [];
  let buffer = '';
  let listening!: () => void;
  const ready = new Promise<void>((r) => (listening = r));
  child.stdout.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    let nl: number;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const text = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      if (text.includes('listening on')) listening();
      if (text.startsWith('{')) events.push({ at: Date.now(), line: JSON.parse(text) as Record<string, unknown> });
    }
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((r) =>
    child.once('exit', (code, signal) => r({ code, signal, at: Date.now() })),
  );
  await Promise.race([
    ready,
    exited.then(({ code }) => {
      throw new Error(`the service exited (${code}) before listening: ${stderr}`);
    }),
  ]);
  return {
    child,
    port,
    events,
    exited,
    storedSids: async () => {
      if (pgliteDir) {
        const { PGlite } = await import('@electric-sql/pglite');
        const pg = await PGlite.create(pgliteDir);
        const { rows } = await pg.query<{ sid: string }>('SELECT sid FROM message_records');
        await pg.close();
        return rows.map((r) => r.sid);
      }
      const client = new Client({ connectionString: db.env.DATABASE_URL });
      await client.connect();
      const { rows } = await client.query<{ sid: string }>('SELECT sid FROM message_records');
      await client.end();
      return rows.map((r) => r.sid);
    },
    cleanup: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await db.drop();
      if (pgliteDir) rmSync(pgliteDir, { recursive: true, force: true });
    },
  };
}

interface Outcome {
  kind: 'sms' | 'list' | 'ready';
  startedAt: number;
  status: number | null;
  sid?: string;
  error?: string;
}

function send(
  agent: Agent | false,
  port: number,
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
): Promise<Omit<Outcome, 'kind' | 'startedAt'>> {
  return new Promise((done) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: {
          ...(token ? { Authorization: `Bearer ${token}` } : {}),
          ...(payload ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        let text = '';
        res.on('data', (c: Buffer) => (text += c.toString('utf8')));
        res.on('end', () => {
          let sid: string | undefined;
          try {
            sid = (JSON.parse(text) as { sid?: string }).sid;
          } catch {
            sid = undefined;
          }
          done({ status: res.statusCode ?? null, sid });
        });
        res.on('error', (e) => done({ status: null, error: e.message }));
      },
    );
    req.on('error', (e) => done({ status: null, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    req.end(payload);
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('graceful shutdown of the built service', () => {
  let dir: string;
  const token = mintToken(loadConfig({ JWT_SECRET: TEST_JWT_SECRET }), {
    sub: 'load',
    permissions: ['phone:sms', 'phone:view'],
    ttl: '1h',
  });

  beforeAll(() => {
    // a private build, so a concurrent `nest build` in the working tree cannot pull dist/ from under it
    dir = mkdtempSync(join(tmpdir(), 'shutdown-build-'));
    for (const entry of ['src', 'migrations', 'nest-cli.json', 'tsconfig.json', 'package.json']) {
      cpSync(join(ROOT, entry), join(dir, entry), { recursive: true, filter: (from) => !/src\/metadata(\.tmp-\d+)?\.ts$/.test(from) });
    }
    symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    execFileSync('npm', ['run', '-s', 'build:sandbox'], { cwd: ROOT, stdio: 'pipe' });
    execFileSync(join(dir, 'node_modules/.bin/nest'), ['build'], { cwd: dir, stdio: 'pipe' });
  }, 240_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('drains busy keep-alive clients on SIGTERM and exits 0 within SHUTDOWN_TIMEOUT_MS, losing no SMS', { timeout: 180_000 }, async () => {
    const service = await startService(dir);
    try {
      const outcomes: Outcome[] = [];
      let stop = false;
      const agents = Array.from({ length: 4 }, () => new Agent({ keepAlive: true, maxSockets: 1 }));
      let n = 0;
      const clients = agents.map(async (agent, i) => {
        while (!stop) {
          const sms = n++ % 2 === 0;
          const startedAt = Date.now();
          const result = sms
            ? await send(agent, service.port, 'POST', '/api/phone/sms', token, {
                to: `+1415555${String(1000 + i * 100 + (n % 100))}`,
                message: `load ${n}`,
              })
            : await send(agent, service.port, 'GET', '/api/phone/sms/history?limit=1', token);
          outcomes.push({ kind: sms ? 'sms' : 'list', startedAt, ...result });
          if (result.status === null) await sleep(10);
        }
      });
      // probes from outside, each on a new connection, as an orchestrator sends them
      const probes = (async () => {
        while (!stop) {
          const startedAt = Date.now();
          outcomes.push({ kind: 'ready', startedAt, ...(await send(false, service.port, 'GET', '/api/phone/health/ready', null)) });
          await sleep(20);
        }
      })();

      while (outcomes.filter((o) => o.kind === 'sms' && o.status === 201).length < 20) await sleep(50);
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      stop = true;
      await Promise.all([...clients, probes]);
      agents.forEach((a) => a.destroy());

      expect(exit.code).toBe(0);
      expect(exit.at - signalledAt).toBeLessThan(10_000);

      const started = service.events.find((e) => e.line.event === 'shutdown_started');
      expect(started).toBeDefined();
      const steps = service.events
        .map((e) => e.line.event)
        // the shutdown steps only: a reconciliation run still in progress may log as it finishes
        .filter((e) => typeof e === 'string' && SHUTDOWN_STEPS.includes(e));
      expect(steps.slice(steps.indexOf('shutdown_started'))).toEqual(SHUTDOWN_STEPS);

      // nothing that started once draining was visible answered 2xx: no new SMS, no green readiness
      const late = outcomes.filter((o) => o.startedAt > started!.at);
      expect(late.length).toBeGreaterThan(0);
      expect(late.filter((o) => o.status !== null && o.status < 300)).toEqual([]);

      // every SMS answered 201 is stored
      const accepted = outcomes.filter((o) => o.kind === 'sms' && o.status === 201).map((o) => o.sid);
      expect(accepted.length).toBeGreaterThanOrEqual(20);
      const stored = new Set(await service.storedSids());
      expect(accepted.filter((sid) => !stored.has(sid!))).toEqual([]);
    } finally {
      await service.cleanup();
    }
  });

  it('cuts connections that will not finish at SHUTDOWN_TIMEOUT_MS and still exits 0', { timeout: 120_000 }, async () => {
    const service = await startService(dir, { SHUTDOWN_TIMEOUT_MS: '1500' });
    try {
      // a client that started a request and never finishes sending it
      const socket = connect(service.port, '127.0.0.1');
      await new Promise<void>((r) => socket.once('connect', () => r()));
      socket.on('error', () => undefined);
      socket.write(
        'POST /api/phone/sms HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"to":',
      );
      await sleep(200);
      const signalledAt = Date.now();
      service.child.kill('SIGTERM');
      const exit = await service.exited;
      socket.destroy();
      expect(exit.code).toBe(0);
      expect(exit.at - signalledAt).toBeGreaterThanOrEqual(1400);
      expect(exit.at - signalledAt).toBeLessThan(5000);
      expect(service.events.map((e) => e.line.event)).toContain('shutdown_deadline_reached');
    } finally {
      await service.cleanup();
    }
  });
});
