import { Agent, createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Webhook } from 'standardwebhooks';
import type { Figure } from './report';
import { Child, cpuMsOf } from './service';

/** The turns phase's target (issue 13): the service's own time per turn, at 50 concurrent calls. */
export const TURN_TARGETS = { calls: 50, p99Ms: 15 };

/** Where every bench call goes: the sandbox plays the person there from one script. */
const CALLEE = '+14155550160';
const API = '/api/phone';

export interface TurnsService {
  base: string;
  /** A token with every permission the phase needs (phone:admin, phone:call). */
  token: string;
  pid: number;
  stop(): Promise<void>;
}

export interface TurnsPhaseContext {
  calls: number;
  seconds: number;
  /** The sandbox's speed: virtual seconds per real second (a turn takes about 3 virtual seconds). */
  speed: number;
  /** Starts a service on `port` with these settings on top of the bench's. */
  startService: (port: number, overrides: Record<string, string>) => Promise<TurnsService>;
  freePort: () => Promise<number>;
  log: (line: string) => void;
  /** Where the sandbox's log goes. */
  logDir: string;
}

export interface TurnsPhaseResult {
  turns: number;
  failed: number;
  turnsPerSecond: number;
  /** The service's own time per turn: the Gather action's round trip less the agent's time. */
  p50: number;
  p99: number;
  max: number;
  roundTripP99: number;
  agentP99: number;
  unverified: number;
  /** The service process's CPU time (user + system) over the measured seconds, per turn. */
  cpuMsPerTurn: number;
  /** SQL statements per turn, from the `db` part of each Gather answer's Server-Timing. */
  statementsPerTurn: number;
  /** Of the service's own time, the part with an SQL statement in flight (Server-Timing `db`). */
  dbP50: number;
  dbP99: number;
  figure: Figure;
}

/** One Gather action as the timing proxy saw it. */
interface GatherTiming {
  callSid: string;
  step: string;
  /** performance.now() when the request was in, and when the service's answer was complete. */
  in: number;
  out: number;
  status: number;
  statements: number;
  /** Server-Timing `db`: the time the turn had an SQL statement in flight. */
  dbMs: number;
}

/**
 * The cost of a conversation turn. A local agent answers every turn at once (verifying its
 * signature); a proxy in this process stands where Twilio's webhook URL points, forwards each
 * request to the service and times the Gather actions; a fresh service places `calls` calls to an
 * assistant through a standalone sandbox in a process of its own (as Twilio is another machine, its
 * TwiML executor and callbacks do not share the service's thread), and the sandbox plays a caller
 * who answers every Gather. The service's own time per turn is the Gather action's round trip
 * (webhook in, TwiML out) less the time the agent took between receiving the turn and answering it,
 * both clocks in this process.
 */
export async function measureTurns(ctx: TurnsPhaseContext): Promise<TurnsPhaseResult> {
  const agent = new InstantAgent();
  await agent.start();
  const servicePort = await ctx.freePort();
  const proxy = new TimingProxy(servicePort);
  await proxy.start();
  const sandboxPort = await ctx.freePort();
  const sandboxUrl = `http://127.0.0.1:${sandboxPort}`;
  const sandbox = Child.start(
    'sandbox',
    'node',
    ['packages/twilio-sandbox/dist/bin/twilio-sandbox.js'],
    // a long run's calls spend more than the default $20
    { SANDBOX_PORT: String(sandboxPort), SANDBOX_SPEED: String(ctx.speed), SANDBOX_BALANCE: '1000000' },
    join(ctx.logDir, 'sandbox.log'),
  );
  try {
    await sandbox.waitReady(`${sandboxUrl}/sandbox/calls`, 60_000);
    const service = await ctx.startService(servicePort, {
      SAMSAEK_TWILIO_WEBHOOK_URL: `${proxy.url}${API}/webhook`,
      TWILIO_API_BASE_URL: sandboxUrl,
    });
    try {
      return await drive(ctx, service, sandboxUrl, agent, proxy);
    } finally {
      await service.stop();
    }
  } finally {
    await sandbox.stop();
    await proxy.stop();
    await agent.stop();
  }
}

async function drive(
  ctx: TurnsPhaseContext,
  service: TurnsService,
  sandbox: string,
  agent: InstantAgent,
  proxy: TimingProxy,
): Promise<TurnsPhaseResult> {
  const call = (method: string, path: string, body?: unknown) => json(`${service.base}${API}${path}`, method, service.token, body);
  const assistant = await call('POST', '/assistants', {
    name: 'bench turns',
    agent_url: agent.url,
    first_message: 'Hi.',
    limits: { max_turns: 500, max_duration_seconds: 14_400, silence_limit: 20 },
  });
  agent.secret = assistant.secret as string;
  // enough turns for the warm-up and the measured seconds (about 3 virtual seconds a turn)
  const turns = Math.min(480, Math.ceil(((ctx.seconds + 90) * ctx.speed) / 2.5));
  await json(`${sandbox}/sandbox/scripts`, 'POST', null, {
    number: CALLEE,
    turns: Array.from({ length: turns }, () => ({ speech: 'Yes.' })),
  });

  const sids: string[] = [];
  for (let i = 0; i < ctx.calls; i++) sids.push((await call('POST', '/call', { to: CALLEE, assistant_id: assistant.id })).sid as string);
  ctx.log(`turns: ${ctx.calls} calls placed to an assistant (sandbox x${ctx.speed}, ${turns} scripted turns each), agent ${agent.url}`);

  // measured once every call is talking: each has had a turn
  const warmUntil = Date.now() + 120_000;
  while (proxy.callsSeen() < ctx.calls && Date.now() < warmUntil) await sleep(200);
  ctx.log(`turns: ${proxy.callsSeen()}/${ctx.calls} calls talking; measuring ${ctx.seconds} s`);
  const from = performance.now();
  const cpuFrom = cpuMsOf(service.pid);
  await sleep(ctx.seconds * 1000);
  const to = performance.now();
  const cpu = cpuMsOf(service.pid) - cpuFrom;
  for (const sid of sids) await call('POST', `/calls/${sid}/hangup`).catch(() => undefined);

  const measured = proxy.timings.filter((timing) => timing.in >= from && timing.in < to);
  const failed = measured.filter((timing) => timing.status !== 200).length;
  const round = (ms: number) => Math.round(ms * 10) / 10;
  const own: number[] = [];
  const roundTrips: number[] = [];
  const agentTimes: number[] = [];
  for (const timing of measured) {
    const roundTrip = timing.out - timing.in;
    const asked = agent.handled.get(`turn_${timing.callSid}_${timing.step}`);
    const agentTime = asked ? asked.out - asked.in : 0;
    roundTrips.push(roundTrip);
    agentTimes.push(agentTime);
    own.push(roundTrip - agentTime);
  }
  const p = percentiles(own);
  const db = percentiles(measured.map((timing) => timing.dbMs));
  const cpuMsPerTurn = measured.length ? round(cpu / measured.length) : NaN;
  const statementsPerTurn = measured.length ? round(measured.reduce((sum, t) => sum + t.statements, 0) / measured.length) : NaN;
  const turnsPerSecond = Math.round(measured.length / ((to - from) / 1000));
  const figure: Figure = {
    name: `Conversation turns (${ctx.calls} concurrent sandbox calls at x${ctx.speed}), service's own time per turn`,
    value:
      `${measured.length} turns (${turnsPerSecond}/s)${failed ? `, ${failed} FAILED` : ''}${agent.unverified ? `, ${agent.unverified} UNVERIFIED` : ''}; ` +
      `p50 ${round(p.p50)} ms, p99 ${round(p.p99)} ms (SQL in flight p50 ${round(db.p50)} ms, p99 ${round(db.p99)} ms; round trip p99 ${round(percentiles(roundTrips).p99)} ms, agent p99 ${round(percentiles(agentTimes).p99)} ms); ` +
      `service CPU ${cpuMsPerTurn} ms and ${statementsPerTurn} SQL statements per turn`,
    target: `p99 < ${TURN_TARGETS.p99Ms} ms at ${TURN_TARGETS.calls} calls, none failed`,
    met: measured.length > 0 && failed === 0 && agent.unverified === 0 && ctx.calls >= TURN_TARGETS.calls && p.p99 < TURN_TARGETS.p99Ms,
  };
  ctx.log(`turns: ${figure.value}`);
  return {
    turns: measured.length,
    failed,
    turnsPerSecond,
    p50: round(p.p50),
    p99: round(p.p99),
    max: round(p.max),
    roundTripP99: round(percentiles(roundTrips).p99),
    agentP99: round(percentiles(agentTimes).p99),
    unverified: agent.unverified,
    cpuMsPerTurn,
    statementsPerTurn,
    dbP50: round(db.p50),
    dbP99: round(db.p99),
    figure,
  };
}

function percentiles(values: number[]): { p50: number; p99: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] : NaN);
  return { p50: at(0.5), p99: at(0.99), max: at(1) };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function json(url: string, method: string, token: string | null, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, {
    method,
    headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} answered ${res.status}: ${text}`);
  return (text ? JSON.parse(text) : {}) as Record<string, unknown>;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** The assistant's agent: verifies each turn with the standardwebhooks package and answers at once. */
class InstantAgent {
  secret = '';
  url = '';
  unverified = 0;
  /** webhook-id -> when the turn was in and when its answer was written. */
  readonly handled = new Map<string, { in: number; out: number }>();
  private server: Server | null = null;

  async start(): Promise<void> {
    this.server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      void readBody(req).then((raw) => {
        const started = performance.now();
        try {
          new Webhook(this.secret).verify(raw.toString('utf8'), req.headers as Record<string, string>);
        } catch {
          this.unverified++;
        }
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"say":"OK."}');
        this.handled.set(String(req.headers['webhook-id']), { in: started, out: performance.now() });
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}/agent`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Stands where Twilio's webhook URL points: forwards every request to the service, timing the Gather actions. */
class TimingProxy {
  url = '';
  readonly timings: GatherTiming[] = [];
  private readonly calls = new Set<string>();
  private server: Server | null = null;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 256 });

  constructor(private readonly servicePort: number) {}

  callsSeen(): number {
    return this.calls.size;
  }

  async start(): Promise<void> {
    this.server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      void readBody(req).then((body) => {
        const started = performance.now();
        const path = req.url ?? '/';
        const forward = httpRequest(
          { host: '127.0.0.1', port: this.servicePort, method: req.method, path, headers: req.headers, agent: this.agent },
          (answer) => {
            void readBody(answer).then((answered) => {
              if (path.startsWith(`${API}/webhook/gather`)) {
                const callSid = new URLSearchParams(body.toString('utf8')).get('CallSid') ?? '';
                this.calls.add(callSid);
                const step = new URL(path, 'http://proxy').searchParams.get('step') ?? '';
                const timing = String(answer.headers['server-timing'] ?? '');
                const statements = Number(/(\d+) SQL statements?/.exec(timing)?.[1] ?? 0);
                const dbMs = Number(/db;dur=([\d.]+)/.exec(timing)?.[1] ?? 0);
                this.timings.push({ callSid, step, in: started, out: performance.now(), status: answer.statusCode ?? 0, statements, dbMs });
              }
              res.writeHead(answer.statusCode ?? 502, answer.headers);
              res.end(answered);
            });
          },
        );
        forward.on('error', () => {
          res.writeHead(502);
          res.end();
        });
        forward.end(body);
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async stop(): Promise<void> {
    this.agent.destroy();
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
