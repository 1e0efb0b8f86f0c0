import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite } from '@electric-sql/pglite';
import { Client } from 'pg';
import { mintToken } from '../src/auth/token';
import { encodeCursor } from '../src/common/cursor';
import { AppConfig, SANDBOX_ACCOUNT_SID, SANDBOX_AUTH_TOKEN, loadConfig } from '../src/config/app-config';
import { callbackTargets, rows, signedCallbacks } from './callbacks';
import { CAMPAIGN_TARGETS, CampaignRun, measureCampaigns } from './campaigns';
import { EVENT_TARGETS, measureEvents } from './events';
import { TURN_TARGETS, TurnsPhaseResult, measureTurns } from './turns';
import { explainCaptured, Plan, ReadProbe, SQL_SOURCE } from './explain';
import type { LoadJob, LoadResult, PreparedRequest } from './load';
import { Figure, printTable } from './report';
import { count, migrate, Queryable, ROOT, seed } from './seed';
import { Child, freePort, probe, TSX } from './service';
import { SqlCapture } from './sql-capture';

const env = process.env;
const DB: 'postgres' | 'pglite' = env.BENCH_DB === 'pglite' ? 'pglite' : 'postgres';
const SETTINGS = {
  db: DB,
  calls: count('BENCH_CALLS', DB === 'pglite' ? 20_000 : 1_000_000),
  messages: count('BENCH_MESSAGES', DB === 'pglite' ? 0 : 1_000_000),
  /** seed: `auto` fills the tables when they hold fewer rows than asked for; `always`; `never`. */
  seed: env.BENCH_SEED ?? 'auto',
  /** Seconds of each measured phase (history, stats, POST, maximum throughput). */
  seconds: count('BENCH_SECONDS', 30),
  /** Seconds of the fixed-rate callback phase, during which the service's RSS is sampled. */
  ingestSeconds: count('BENCH_INGEST_SECONDS', 60),
  /** How long an open-loop phase waits for answers still outstanding; those never answered count with the time waited. */
  drainSeconds: count('BENCH_DRAIN_SECONDS', 30),
  callbackRate: count('BENCH_CALLBACK_RATE', 1000),
  callbackConcurrency: count('BENCH_CALLBACK_CONCURRENCY', 64),
  callbackSids: count('BENCH_CALLBACK_SIDS', 10_000),
  historyConcurrency: count('BENCH_CONCURRENCY', 10),
  statsConcurrency: count('BENCH_STATS_CONCURRENCY', 2),
  apiRate: count('BENCH_API_RATE', 100),
  deep: count('BENCH_DEEP', 500_000),
  sandboxSpeed: count('BENCH_SANDBOX_SPEED', 100),
  /**
   * Where the service's Twilio runs: `standalone`, the sandbox's own process (Twilio is another
   * machine: its work must not take the service's thread), or `in-process`, the service's own sandbox.
   */
  sandbox: env.BENCH_SANDBOX === 'in-process' ? 'in-process' : 'standalone',
  logLevel: env.BENCH_LOG_LEVEL ?? 'info',
  /** Callbacks per second offered in the events phase, one event each. */
  eventRate: count('BENCH_EVENT_RATE', 600),
  /** Concurrent sandbox calls of the turns phase, and the sandbox's speed while they talk. */
  turnCalls: count('BENCH_TURN_CALLS', TURN_TARGETS.calls),
  turnSpeed: count('BENCH_TURN_SPEED', 4),
  /**
   * Which PostgreSQL phases run: callbacks, reads (history, stats and their plans), writes (POST call and sms), events,
   * turns (conversation turns), campaigns (a 100,000-recipient import, and memory while campaigns run).
   */
  /** Where each service the bench starts writes a V8 CPU profile (`--cpu-prof`) when it stops; none when unset. */
  profileDir: env.BENCH_PROFILE_DIR ?? null,
  phases: (env.BENCH_PHASES ?? 'callbacks,reads,writes,events,turns,campaigns').split(',').map((phase) => phase.trim()),
};

/** Targets from the performance issue; `floor` marks figures judged against the floor server. */
const TARGETS = {
  callbackFloorRatio: 0.6,
  callbackP99Ms: 50,
  pgliteCallbacks: 500,
  deepPageRatio: 1.5,
  historyP99Ms: 20,
  statsP99Ms: 100,
  apiP99Ms: 30,
  rssPeakMiB: 250,
  rssGrowthMiB: 25,
  events: EVENT_TARGETS,
  turns: TURN_TARGETS,
  campaigns: CAMPAIGN_TARGETS,
};

const API = '/api/phone';
const log = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);

async function load(job: Partial<LoadJob> & Pick<LoadJob, 'url'>, requests?: PreparedRequest[]): Promise<LoadResult> {
  const full: LoadJob = {
    mode: 'closed',
    method: 'GET',
    headers: {},
    concurrency: 1,
    rate: 0,
    seconds: SETTINGS.seconds,
    drainSeconds: SETTINGS.drainSeconds,
    ...job,
  };
  if (requests) {
    full.requestsFile = join(workDir, `requests-${Date.now()}.json`);
    writeFileSync(full.requestsFile, JSON.stringify(requests));
  }
  const { stdout } = await promisify(execFile)(TSX, [join(__dirname, 'load.ts'), JSON.stringify(full)], { cwd: ROOT, maxBuffer: 1 << 24 });
  if (full.requestsFile) rmSync(full.requestsFile);
  return JSON.parse(stdout) as LoadResult;
}

const workDir = mkdtempSync(join(tmpdir(), 'samsaek-bench-'));
const figures: Figure[] = [];
/** A phase's load figures; the writes also carry the CPU the service and the standalone sandbox spent per request. */
const phases: Record<string, LoadResult & { cpu?: WriteCpu }> = {};
const rss: { seconds: number; mib: number; heap_used_mib?: number; heap_total_mib?: number; external_mib?: number }[] = [];
let plans: Plan[] = [];
let turnResults: TurnsPhaseResult | null = null;
let campaignRuns: CampaignRun[] = [];
let sqlSource = '';

async function main(): Promise<void> {
  const startedAt = new Date();
  log(`benchmark on ${DB}: ${JSON.stringify(SETTINGS)}`);
  if (DB === 'pglite') await runPglite();
  else await runPostgres();
  const result = {
    label: env.BENCH_LABEL ?? null,
    started_at: startedAt.toISOString(),
    finished_at: new Date().toISOString(),
    machine: { cpus: cpus().length, cpu_model: cpus()[0]?.model, memory_mib: Math.round(totalmem() / 2 ** 20), load_average: loadavg() },
    node: process.version,
    settings: SETTINGS,
    targets: TARGETS,
    figures,
    phases,
    turns: turnResults && { ...turnResults, figure: undefined },
    rss_samples: rss,
    campaigns: campaignRuns,
    sql_source: sqlSource,
    plans,
  };
  const dir = env.BENCH_RESULTS_DIR ?? join(ROOT, 'bench/results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${startedAt.toISOString().replace(/:/g, '-').slice(0, 19)}${DB === 'pglite' ? '-pglite' : ''}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  printTable(figures);
  log(`results written to ${file}`);
}

/** The bench reads the service's heap figures from its Prometheus endpoint with this token. */
const METRICS_TOKEN = randomBytes(24).toString('hex');

function serviceEnv(port: number, database: Record<string, string>): Record<string, string> {
  return {
    NODE_ENV: 'production',
    METRICS_TOKEN,
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_LEVEL: SETTINGS.logLevel,
    JWT_SECRET: randomBytes(24).toString('hex'),
    ALLOW_SANDBOX_IN_PRODUCTION: 'true',
    SANDBOX_SPEED: String(SETTINGS.sandboxSpeed),
    // the sandbox does not know the seeded calls and messages: reconciling them would only measure 404s
    RECONCILE_ENABLED: env.BENCH_RECONCILE ?? 'false',
    SAMSAEK_TWILIO_WEBHOOK_URL: `http://127.0.0.1:${port}${API}/webhook`,
    RATE_LIMIT_CALLS: '1000000',
    RATE_LIMIT_SMS: '1000000',
    // the guardrails stay on (their queries are part of the cost) but never refuse: the seeded day
    // already spends more than the default ceiling, and the load keeps more calls live than the cap
    MAX_LIVE_CALLS: '1000000',
    SPENDING_DAILY_LIMIT: '1000000',
    // the sandbox's account starts with $20 unless told otherwise: a run's calls and messages spend
    // that, and Twilio then refuses the rest with 20005, which we answer as 402 insufficient_funds
    SANDBOX_BALANCE: '1000000',
    // the campaigns phase paces its campaigns at 20 calls a second
    CAMPAIGN_ACCOUNT_CALLS_PER_SECOND: '20',
    // the events phase's receiver listens on loopback
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    ...database,
  };
}

async function startService(
  port: number,
  database: Record<string, string>,
  overrides: Record<string, string> = {},
): Promise<{ service: Child; config: AppConfig; base: string; token: (p: string[]) => string }> {
  const serviceEnvironment = { ...serviceEnv(port, database), ...overrides };
  const config = loadConfig({ ...serviceEnvironment });
  const profile = SETTINGS.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${SETTINGS.profileDir}`] : [];
  const service = Child.start('service', 'node', [...profile, 'dist/src/main.js'], serviceEnvironment, join(workDir, 'service.log'));
  const base = `http://127.0.0.1:${port}`;
  await service.waitReady(`${base}${API}/health`);
  log(`service pid ${service.pid} ready on ${base} (log: ${service.logFile})`);
  return { service, config, base, token: (p) => mintToken(config, { sub: 'bench', permissions: p, ttl: '2h' }) };
}

/** Maximum throughput (closed loop) and a fixed offered rate (open loop) of signed status callbacks. */
function callbackPhase(
  name: string,
  db: Queryable,
  target: string,
  config: AppConfig,
  mode: 'closed' | 'open',
  server: Child,
  onTick?: () => void,
): Promise<LoadResult & { cpuMsPerRequest: number; cpuSystemShare: number }> {
  return (async () => {
    const { sids, firstSequence } = await callbackTargets(db, SETTINGS.callbackSids);
    const seconds = mode === 'open' ? SETTINGS.ingestSeconds : SETTINGS.seconds;
    const howMany = mode === 'open' ? SETTINGS.callbackRate * seconds : Math.min(6000 * seconds, 400_000);
    const requests = signedCallbacks(
      {
        authToken: config.twilio.authToken,
        accountSid: config.twilio.accountSid,
        signedUrl: `${config.twilio.webhookBaseUrl}/status`,
        sids,
        firstSequence,
      },
      howMany,
    );
    log(`${name}: ${mode === 'open' ? `${SETTINGS.callbackRate}/s offered` : `${SETTINGS.callbackConcurrency} clients`} for ${seconds} s`);
    const timer = onTick ? setInterval(onTick, 1000) : undefined;
    try {
      const cpuBefore = server.cpuTimes();
      const loaded = await load(
        {
          url: target,
          method: 'POST',
          headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
          mode,
          concurrency: SETTINGS.callbackConcurrency,
          rate: SETTINGS.callbackRate,
          seconds,
          serverTiming: true,
        },
        requests,
      );
      const cpuAfter = server.cpuTimes();
      const userMs = cpuAfter.userMs - cpuBefore.userMs;
      const systemMs = cpuAfter.systemMs - cpuBefore.systemMs;
      const result = {
        ...loaded,
        cpuMsPerRequest: Math.round(((userMs + systemMs) / Math.max(1, loaded.ok)) * 1000) / 1000,
        // the kernel's part: socket writes and reads (HTTP, and the database's round trips)
        cpuSystemShare: Math.round((systemMs / Math.max(1, userMs + systemMs)) * 100) / 100,
      };
      phases[name] = result;
      log(`${name}: ${JSON.stringify(result)}`);
      return result;
    } finally {
      if (timer) clearInterval(timer);
    }
  })();
}

/**
 * The Twilio sandbox as its own process, the way the service meets Twilio in production: over the
 * network, from another machine's CPU. Its status callbacks still come to the service.
 */
async function startSandbox(): Promise<{ sandbox: Child; env: Record<string, string> }> {
  const port = await freePort();
  const credentials = { TWILIO_ACCOUNT_SID: SANDBOX_ACCOUNT_SID, TWILIO_AUTH_TOKEN: SANDBOX_AUTH_TOKEN };
  const sandbox = Child.start(
    'sandbox',
    'node',
    ['packages/twilio-sandbox/dist/bin/twilio-sandbox.js'],
    {
      ...credentials,
      SANDBOX_PORT: String(port),
      SANDBOX_HOST: '127.0.0.1',
      SANDBOX_SPEED: String(SETTINGS.sandboxSpeed),
      SANDBOX_BALANCE: '1000000',
    },
    join(workDir, 'sandbox.log'),
  );
  const base = `http://127.0.0.1:${port}`;
  await sandbox.waitReady(`${base}/sandbox/calls`, 60_000);
  log(`sandbox pid ${sandbox.pid} ready on ${base} (log: ${sandbox.logFile})`);
  return { sandbox, env: { ...credentials, TWILIO_API_BASE_URL: base } };
}

async function runPostgres(): Promise<void> {
  const url = env.DATABASE_URL;
  if (!url) throw new Error('npm run bench needs DATABASE_URL (a PostgreSQL database it may fill), or BENCH_DB=pglite');
  migrate({ DATABASE_URL: url });
  const db = new Client({ connectionString: url });
  await db.connect();
  let sandbox: Child | null = null;
  try {
    await seedIfNeeded(db);
    const floorPort = await freePort();
    const port = await freePort();
    let twilio: Record<string, string> = {};
    if (SETTINGS.sandbox === 'standalone') ({ sandbox, env: twilio } = await startSandbox());
    const { service, config, base, token } = await startService(port, { DATABASE_URL: url, ...twilio });
    const floor = Child.start(
      'floor',
      TSX,
      [join(__dirname, 'floor/floor-server.ts')],
      {
        DATABASE_URL: url,
        PORT: String(floorPort),
        TWILIO_AUTH_TOKEN: config.twilio.authToken,
        FLOOR_SIGNED_URL: `${config.twilio.webhookBaseUrl}/status`,
      },
      join(workDir, 'floor.log'),
    );
    try {
      // the floor answers 403 to anything unsigned; answering at all is what counts
      await floor.waitReady(`http://127.0.0.1:${floorPort}/`, 60_000, true);
      if (SETTINGS.phases.includes('callbacks')) {
        await measureCallbacks(db, config, `${base}${API}/webhook/status`, `http://127.0.0.1:${floorPort}/`, service, floor);
      }
      const probes = SETTINGS.phases.includes('reads') ? await measureReads(db, base, token(['phone:view']), service) : [];
      if (SETTINGS.phases.includes('writes')) await measureWrites(base, token(['phone:call', 'phone:sms']), service, sandbox);
      if (SETTINGS.phases.includes('events')) {
        const events = await measureEvents({
          db,
          config,
          base,
          adminToken: token(['phone:admin']),
          rate: SETTINGS.eventRate,
          serviceCpuMs: () => service.cpuMs(),
          log,
          load,
          seconds: SETTINGS.seconds,
          drainSeconds: SETTINGS.drainSeconds,
        });
        phases.events = events.load;
        figures.push(events.figure);
      }
      if (SETTINGS.phases.includes('turns')) {
        // the phase measures a service of its own; this one, idle but on the same database, would relay
        // a share of the turns' events and so take part of the work the phase charges per turn
        await service.stop();
        const turns = await measureTurns({
          calls: SETTINGS.turnCalls,
          seconds: SETTINGS.seconds,
          speed: SETTINGS.turnSpeed,
          freePort,
          log,
          logDir: workDir,
          // a service of its own: Twilio's webhooks reach it through the phase's timing proxy
          startService: async (turnPort, overrides) => {
            const started = await startService(turnPort, { DATABASE_URL: url }, overrides);
            return {
              base: started.base,
              token: started.token(['phone:admin', 'phone:call']),
              pid: started.service.pid,
              stop: () => started.service.stop(),
            };
          },
        });
        turnResults = turns;
        figures.push(turns.figure);
      }
      if (SETTINGS.phases.includes('campaigns')) {
        // its campaigns must run in the service it watches, not in this one
        await service.stop();
        const campaigns = await measureCampaigns({
          seconds: SETTINGS.seconds,
          log,
          // services of its own: one imports, a fresh one runs (see bench/campaigns.ts)
          startService: async () => {
            const started = await startService(await freePort(), { DATABASE_URL: url });
            return {
              base: started.base,
              token: started.token(['phone:call', 'phone:view']),
              rssMiB: () => started.service.rssMiB(),
              stop: () => started.service.stop(),
            };
          },
        });
        campaignRuns = campaigns.runs;
        figures.push(...campaigns.figures);
      }
      await floor.stop();
      await service.stop();
      if (probes.length) await capturePlans(db, url, probes);
    } finally {
      await floor.stop();
      await service.stop();
    }
  } finally {
    await sandbox?.stop();
    await db.end();
  }
}

async function seedIfNeeded(db: Queryable): Promise<void> {
  const [stored] = rows<{ calls: number; messages: number }>(
    await db.query('SELECT (SELECT count(*) FROM call_records)::int AS calls, (SELECT count(*) FROM message_records)::int AS messages'),
  );
  const short = stored.calls < SETTINGS.calls || stored.messages < SETTINGS.messages;
  if (SETTINGS.seed === 'always' || (SETTINGS.seed === 'auto' && short)) {
    log(`seeding ${SETTINGS.calls} calls and ${SETTINGS.messages} messages (found ${stored.calls} and ${stored.messages})`);
    await seed(db, SETTINGS.calls, SETTINGS.messages);
  } else {
    log(`using the ${stored.calls} calls and ${stored.messages} messages stored`);
  }
}

async function measureCallbacks(
  db: Client,
  config: AppConfig,
  serviceUrl: string,
  floorUrl: string,
  service: Child,
  floor: Child,
): Promise<void> {
  const floorMax = await callbackPhase('floor_callbacks_max', db, floorUrl, config, 'closed', floor);
  const max = await callbackPhase('service_callbacks_max', db, serviceUrl, config, 'closed', service);
  figures.push({
    name: 'Status callbacks, max throughput',
    value: `${max.throughput} req/s (${max.failed} failed)`,
    floor: `${floorMax.throughput} req/s`,
    ratio: max.throughput / floorMax.throughput,
    target: `>= ${TARGETS.callbackFloorRatio} of the floor`,
    met: max.failed === 0 && max.throughput / floorMax.throughput >= TARGETS.callbackFloorRatio,
  });
  figures.push({
    name: 'Status callbacks, CPU per callback (max throughput)',
    value: `${max.cpuMsPerRequest} ms (${Math.round(max.cpuSystemShare * 100)} % in the kernel), ${max.serverTiming?.statements.mean ?? '?'} SQL round trips`,
    floor: `${floorMax.cpuMsPerRequest} ms (${Math.round(floorMax.cpuSystemShare * 100)} % in the kernel)`,
    ratio: max.cpuMsPerRequest / floorMax.cpuMsPerRequest,
    ratioLabel: 'cpu / floor cpu',
    target: 'for information (what limits the throughput above)',
    met: true,
  });

  // what any request costs the service before it does any work of its own: the part of a callback's CPU that fewer SQL round trips cannot remove
  const cpuBefore = service.cpuMs();
  const bare = await load({ url: new URL(`${API}/health/live`, serviceUrl).toString(), concurrency: SETTINGS.callbackConcurrency });
  const bareCpu = Math.round(((service.cpuMs() - cpuBefore) / Math.max(1, bare.ok)) * 1000) / 1000;
  phases.service_pipeline_alone = { ...bare, cpuMsPerRequest: bareCpu };
  log(`service_pipeline_alone: ${JSON.stringify(phases.service_pipeline_alone)}`);
  figures.push({
    name: 'CPU per request that does no work (GET health/live)',
    value: `${bareCpu} ms (${bare.throughput} req/s)`,
    floor: `${floorMax.cpuMsPerRequest} ms (a whole callback)`,
    ratio: bareCpu / floorMax.cpuMsPerRequest,
    ratioLabel: 'cpu / floor cpu',
    target: "for information (the service's HTTP pipeline: routing, middleware, logging, the response)",
    met: true,
  });

  const floorRate = await callbackPhase('floor_callbacks_fixed_rate', db, floorUrl, config, 'open', floor);
  const startedAt = Date.now();
  const sample = () => {
    let entry: (typeof rss)[number];
    try {
      entry = { seconds: Math.round((Date.now() - startedAt) / 1000), mib: service.rssMiB() };
    } catch {
      // the process is gone; the phase will say so
      return;
    }
    rss.push(entry);
    // what of the RSS is V8's heap (used, and reserved) and memory outside it (buffers), from prom-client's default metrics
    void heapFigures(serviceUrl).then((heap) => Object.assign(entry, heap));
  };
  const rate = await callbackPhase('service_callbacks_fixed_rate', db, serviceUrl, config, 'open', service, sample);
  const allAccepted = rate.ok === rate.sent && rate.unanswered === 0;
  figures.push({
    name: `Callbacks offered at ${SETTINGS.callbackRate}/s`,
    value: `${rate.throughput}/s achieved, ${rate.ok}/${rate.sent} accepted, p50 ${rate.p50} ms, p99 ${rate.p99} ms`,
    floor: `${floorRate.throughput}/s, p99 ${floorRate.p99} ms`,
    ratio: rate.p99 / floorRate.p99,
    ratioLabel: 'p99 / floor p99',
    target: `all accepted, p99 < ${TARGETS.callbackP99Ms} ms`,
    met: allAccepted && rate.p99 < TARGETS.callbackP99Ms,
  });

  const mibs = rss.map((s) => s.mib);
  const tenth = Math.max(1, Math.floor(mibs.length / 6));
  const avg = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(xs.length, 1);
  const growth = avg(mibs.slice(-tenth)) - avg(mibs.slice(0, tenth));
  const peak = mibs.length ? Math.max(...mibs) : NaN;
  const most = (key: 'heap_used_mib' | 'heap_total_mib' | 'external_mib') =>
    Math.max(...rss.map((s) => s[key]).filter((v): v is number => v !== undefined));
  const heapAtPeak = rss.some((s) => s.heap_total_mib !== undefined)
    ? `; V8's heap at most ${most('heap_used_mib')} MiB used of ${most('heap_total_mib')} MiB reserved, ${most('external_mib')} MiB outside it`
    : '';
  figures.push({
    name: `RSS during ${SETTINGS.ingestSeconds} s of ingest`,
    value: `peak ${peak} MiB, growth ${growth.toFixed(1)} MiB (${mibs.length} samples)${heapAtPeak}`,
    target: `peak <= ${TARGETS.rssPeakMiB} MiB, growth < ${TARGETS.rssGrowthMiB} MiB`,
    met: peak <= TARGETS.rssPeakMiB && growth < TARGETS.rssGrowthMiB,
  });
}

/** V8's heap and external memory in MiB from the service's /metrics; empty when it does not answer within 10 s (a backlog of callbacks answers first). */
async function heapFigures(serviceUrl: string): Promise<{ heap_used_mib?: number; heap_total_mib?: number; external_mib?: number }> {
  try {
    const res = await fetch(new URL('/metrics', serviceUrl), {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
      signal: AbortSignal.timeout(10_000),
    });
    const text = await res.text();
    const mib = (name: string) => {
      const value = new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1];
      return value === undefined ? undefined : Math.round((Number(value) / 1048576) * 10) / 10;
    };
    return {
      heap_used_mib: mib('nodejs_heap_size_used_bytes'),
      heap_total_mib: mib('nodejs_heap_size_total_bytes'),
      external_mib: mib('nodejs_external_memory_bytes'),
    };
  } catch {
    return {};
  }
}

async function measureReads(db: Client, base: string, token: string, service: Child): Promise<ReadProbe[]> {
  const headers = { Authorization: `Bearer ${token}` };
  const depth = Math.min(SETTINGS.deep, Math.floor(Math.min(SETTINGS.calls, SETTINGS.messages || SETTINGS.calls) / 2));
  const deepCursor = async (table: string) => {
    const [row] = rows<{ created_at: string; id: string }>(
      await db.query(
        `SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS created_at, id
         FROM ${table} ORDER BY created_at DESC, id DESC OFFSET $1 LIMIT 1`,
        [depth],
      ),
    );
    return { cursor: encodeCursor({ createdAt: row.created_at, id: row.id }) };
  };
  const callsDeep = await deepCursor('call_records');
  const smsDeep = await deepCursor('message_records');
  const [busiest] = rows<{ to_number: string }>(
    await db.query('SELECT to_number FROM call_records GROUP BY 1 ORDER BY count(*) DESC LIMIT 1'),
  );
  const dayEnd = new Date(Date.now() - 10 * 86_400_000);
  const dayStart = new Date(dayEnd.getTime() - 86_400_000);

  const history: ReadProbe[] = [
    { key: 'calls_first', name: 'calls/history first page', path: 'calls/history?limit=100' },
    {
      key: 'calls_deep',
      name: `calls/history page ${depth.toLocaleString('en-US')} deep`,
      path: `calls/history?limit=100&cursor=${callsDeep.cursor}`,
    },
    { key: 'sms_first', name: 'sms/history first page', path: 'sms/history?limit=100' },
    {
      key: 'sms_deep',
      name: `sms/history page ${depth.toLocaleString('en-US')} deep`,
      path: `sms/history?limit=100&cursor=${smsDeep.cursor}`,
    },
    { key: 'filter_status', name: 'calls/history status=no-answer', path: 'calls/history?limit=100&status=no-answer' },
    {
      key: 'filter_to',
      name: 'calls/history to=<busiest number>',
      path: `calls/history?limit=100&to=${encodeURIComponent(busiest.to_number)}`,
    },
    { key: 'filter_agent', name: 'calls/history agent_name=agent-3', path: 'calls/history?limit=100&agent_name=agent-3' },
    { key: 'filter_workflow', name: 'calls/history workflow_id=wf-7', path: 'calls/history?limit=100&workflow_id=wf-7' },
    {
      key: 'filter_day',
      name: 'calls/history one day (since/until)',
      path: `calls/history?limit=100&since=${dayStart.toISOString()}&until=${dayEnd.toISOString()}`,
    },
  ];
  const stats: ReadProbe[] = [
    { key: 'stats_30d', name: 'stats, last 30 days', path: 'stats' },
    { key: 'stats_all', name: 'stats, all time', path: 'stats?since=2000-01-01T00:00:00Z' },
  ];

  // the seed writes the raw rows only: the service builds the daily rollups in the background, and
  // until they are built the statistics read the raw rows; measure them once the build is done
  const buildStartedAt = Date.now();
  for (;;) {
    const res = await probe(`${base}${API}/stats`, headers);
    const body = (await res.json()) as { as_of?: string | null };
    if (res.ok && body.as_of) break;
    if (Date.now() - buildStartedAt > 15 * 60_000) throw new Error('the statistics rollups were not built within 15 minutes');
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  const buildSeconds = (Date.now() - buildStartedAt) / 1000;
  log(`statistics rollups built (or found built) after ${buildSeconds.toFixed(1)} s`);
  figures.push({
    name: 'stats rollups built from the seeded rows',
    value: `within ${buildSeconds.toFixed(1)} s of the service's start`,
    target: 'built, one day per statement',
    met: true,
  });

  const results: Record<string, LoadResult> = {};
  for (const read of [...history, ...stats]) {
    const res = await probe(`${base}${API}/${read.path}`, headers);
    const body = (await res.json()) as Record<string, unknown>;
    const items = (body.calls ?? body.messages) as unknown[] | undefined;
    if (!res.ok) throw new Error(`GET ${read.path} answered ${res.status}: ${JSON.stringify(body)}`);
    log(`${read.key}: probe answered ${res.status}${items ? ` with ${items.length} items` : ''}`);
    const concurrency = stats.includes(read) ? SETTINGS.statsConcurrency : SETTINGS.historyConcurrency;
    const cpuBefore = service.cpuMs();
    const result = await load({ url: `${base}${API}/${read.path}`, headers, concurrency });
    result.cpuMsPerRequest = Math.round(((service.cpuMs() - cpuBefore) / Math.max(result.sent - result.unanswered, 1)) * 100) / 100;
    phases[read.key] = result;
    results[read.key] = result;
    log(`${read.key}: ${JSON.stringify(result)}`);
  }

  const latency = (r: LoadResult) =>
    `p50 ${r.p50} ms, p99 ${r.p99} ms (${r.throughput} req/s, ${r.cpuMsPerRequest} ms CPU/request${r.failed ? `, ${r.failed} failed` : ''})`;
  for (const [first, deep] of [
    ['calls_first', 'calls_deep'],
    ['sms_first', 'sms_deep'],
  ] as const) {
    const ratio = results[deep].p50 / results[first].p50;
    figures.push({
      name: history.find((h) => h.key === deep)!.name,
      value: `${latency(results[deep])}, ${ratio.toFixed(1)}x the first page`,
      target: `p50 within ${TARGETS.deepPageRatio}x the first page`,
      met: results[deep].failed === 0 && ratio <= TARGETS.deepPageRatio,
    });
  }
  for (const key of ['calls_first', 'sms_first', 'filter_status', 'filter_to', 'filter_agent', 'filter_workflow', 'filter_day']) {
    figures.push({
      name: `${history.find((h) => h.key === key)!.name}, concurrency ${SETTINGS.historyConcurrency}`,
      value: latency(results[key]),
      target: `p99 < ${TARGETS.historyP99Ms} ms`,
      met: results[key].failed === 0 && results[key].p99 < TARGETS.historyP99Ms,
    });
  }
  for (const stat of stats) {
    figures.push({
      name: `${stat.name}, concurrency ${SETTINGS.statsConcurrency}`,
      value: latency(results[stat.key]),
      target: `p99 < ${TARGETS.statsP99Ms} ms`,
      met: results[stat.key].failed === 0 && results[stat.key].p99 < TARGETS.statsP99Ms,
    });
  }

  return [...history, ...stats];
}

/** A second service instance, its database connections going through a recording proxy, runs each probe once. */
async function capturePlans(db: Client, url: string, probes: ReadProbe[]): Promise<void> {
  log('capturing and explaining the SQL of the history and stats queries');
  const target = new URL(url);
  const capture = await SqlCapture.start(target.hostname, Number(target.port || 5432));
  target.hostname = '127.0.0.1';
  target.port = String(capture.port);
  const { service, base, token } = await startService(await freePort(), { DATABASE_URL: target.toString() });
  try {
    plans = await explainCaptured(db, capture, base, { Authorization: `Bearer ${token(['phone:view'])}` }, probes);
    sqlSource = SQL_SOURCE;
  } finally {
    await service.stop();
    await capture.stop();
  }
}

/**
 * CPU milliseconds per request of a writes phase, from the start of its load to WRITES_SETTLE_MS
 * after its last answer, less what the process spends idle over as long: the service's (the
 * callbacks its calls and messages bring included) and the standalone sandbox's.
 */
interface WriteCpu {
  service_ms_per_request: number;
  sandbox_ms_per_request: number | null;
}

/** After the last answer, how long the calls and messages of a writes phase still bring callbacks whose CPU counts. */
const WRITES_SETTLE_MS = 3000;
/** How long the service's CPU is sampled while idle before a writes phase (its timers and job polling), to be taken out. */
const IDLE_SAMPLE_MS = 5000;

/** CPU milliseconds a process spends per second when nothing is asked of it, over IDLE_SAMPLE_MS. */
async function idleCpuPerSecond(child: Child | null): Promise<number> {
  if (!child) return 0;
  const before = child.cpuMs();
  await new Promise((resolve) => setTimeout(resolve, IDLE_SAMPLE_MS));
  return (child.cpuMs() - before) / (IDLE_SAMPLE_MS / 1000);
}

async function measureWrites(base: string, token: string, service: Child, sandbox: Child | null): Promise<void> {
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' };
  const writes = [
    {
      key: 'post_call',
      name: 'POST call',
      path: 'call',
      body: { to: '+14155550100', message: 'This is a benchmark call.', agent_name: 'bench' },
    },
    {
      key: 'post_sms',
      name: 'POST sms',
      path: 'sms',
      body: { to: '+14155550100', message: 'This is a benchmark message.', agent_name: 'bench' },
    },
  ];
  for (const write of writes) {
    log(`${write.key}: ${SETTINGS.apiRate}/s offered for ${SETTINGS.seconds} s`);
    const idle = { service: await idleCpuPerSecond(service), sandbox: await idleCpuPerSecond(sandbox) };
    const startedAt = Date.now();
    const cpuBefore = { service: service.cpuMs(), sandbox: sandbox?.cpuMs() ?? 0 };
    const result = await load({
      url: `${base}${API}/${write.path}`,
      method: 'POST',
      headers,
      body: JSON.stringify(write.body),
      mode: 'open',
      rate: SETTINGS.apiRate,
      serverTiming: true,
    });
    await new Promise((resolve) => setTimeout(resolve, WRITES_SETTLE_MS));
    const seconds = (Date.now() - startedAt) / 1000;
    const perRequest = (ms: number, idlePerSecond: number) =>
      Math.round((Math.max(0, ms - idlePerSecond * seconds) / Math.max(1, result.sent)) * 100) / 100;
    const cpu: WriteCpu = {
      service_ms_per_request: perRequest(service.cpuMs() - cpuBefore.service, idle.service),
      sandbox_ms_per_request: sandbox ? perRequest(sandbox.cpuMs() - cpuBefore.sandbox, idle.sandbox) : null,
    };
    phases[write.key] = { ...result, cpu };
    log(`${write.key}: ${JSON.stringify(phases[write.key])}`);
    // our overhead: what the client waited minus what the service waited for Twilio (its Server-Timing)
    const timing = result.serverTiming;
    const overheadP99 = timing?.answers ? timing.overhead.p99 : NaN;
    figures.push({
      name: `${write.name} at ${SETTINGS.apiRate} req/s (sandbox), our overhead`,
      value:
        `total p50 ${result.p50} ms, p99 ${result.p99} ms; ` +
        (timing?.answers
          ? `overhead (total - Twilio) p50 ${timing.overhead.p50} ms, p99 ${timing.overhead.p99} ms; Twilio p50 ${timing.twilio.p50} ms; ` +
            `${timing.statements.mean} SQL statements/request; `
          : 'no Server-Timing; ') +
        `service CPU ${cpu.service_ms_per_request} ms/request (its callbacks included); ` +
        `${result.ok}/${result.sent} accepted ${JSON.stringify(result.statuses)}`,
      target: `overhead p99 < ${TARGETS.apiP99Ms} ms`,
      met: result.ok === result.sent && overheadP99 < TARGETS.apiP99Ms,
    });
  }
}

/** Embedded PGlite: the service owns the database, so it is seeded before the service opens it. */
async function runPglite(): Promise<void> {
  const dataDir = join(workDir, 'pglite');
  migrate({ PGLITE_DATA_DIR: dataDir, DATABASE_URL: '' });
  const pglite = await PGlite.create({ dataDir });
  let targets: { sids: string[]; firstSequence: number };
  try {
    log(`seeding ${SETTINGS.calls} calls and ${SETTINGS.messages} messages into PGlite`);
    await seed(pglite, SETTINGS.calls, SETTINGS.messages);
    targets = await callbackTargets(pglite, SETTINGS.callbackSids);
  } finally {
    await pglite.close();
  }
  const port = await freePort();
  const { service, config, base } = await startService(port, { PGLITE_DATA_DIR: dataDir, ALLOW_PGLITE_IN_PRODUCTION: 'true' });
  try {
    const fixed: Queryable = {
      query: (sql: string) =>
        Promise.resolve({
          rows: sql.includes('max(status_sequence)') ? [{ max: targets.firstSequence - 1 }] : targets.sids.map((sid) => ({ sid })),
        }),
    };
    const max = await callbackPhase('service_callbacks_max_pglite', fixed, `${base}${API}/webhook/status`, config, 'closed', service);
    figures.push({
      name: 'Callbacks on embedded PGlite, max throughput',
      // the embedded database runs on the service's thread: its work is in this CPU figure, and in the `db` part of Server-Timing
      value: `${max.throughput} req/s (${max.failed} failed); ${max.cpuMsPerRequest} ms CPU per callback, of which the database's part p50 ${max.serverTiming?.db.p50 ?? '?'} ms`,
      target: `>= ${TARGETS.pgliteCallbacks} req/s`,
      met: max.failed === 0 && max.throughput >= TARGETS.pgliteCallbacks,
    });
  } finally {
    await service.stop();
  }
}

main().then(
  () => rmSync(workDir, { recursive: true, force: true }),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    console.error(`logs of the service and the floor kept in ${workDir}`);
    process.exitCode = 1;
  },
);
