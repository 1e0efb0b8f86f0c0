import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/**
 * The load generator, run as its own process so it does not share an event loop with what it
 * measures. `closed`: `concurrency` clients each send the next request when the last one answered
 * (maximum throughput). `open`: requests leave at a fixed `rate` whatever the answers do, and a
 * latency is counted from the moment a request was due, so a server that falls behind shows its
 * queueing in the percentiles instead of hiding it (no coordinated omission).
 */
export interface LoadJob {
  mode: 'closed' | 'open';
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  /** Per-request bodies and extra headers, used in turn (a file written by the orchestrator). */
  requestsFile?: string;
  /** Fixed JSON body for every request. */
  body?: string;
  concurrency: number;
  rate: number;
  seconds: number;
  /** How long to wait for answers still outstanding when sending stops. */
  drainSeconds: number;
  /** Read each answer's Server-Timing header (see ServerTimingSummary). */
  serverTiming?: boolean;
}

export interface Percentiles {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * What the answers' Server-Timing headers say (answers without one are left out): the time the
 * service waited for Twilio, the time with SQL in flight, our overhead (the latency seen here minus
 * the Twilio part: everything but Twilio's answer), and the SQL statements per request.
 */
export interface ServerTimingSummary {
  answers: number;
  twilio: Percentiles;
  db: Percentiles;
  overhead: Percentiles;
  statements: { mean: number; max: number };
}

export interface LoadResult {
  sent: number;
  ok: number;
  failed: number;
  statuses: Record<string, number>;
  seconds: number;
  throughput: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  unanswered: number;
  serverTiming?: ServerTimingSummary;
  /** The service's CPU time per answered request over the phase (set by the orchestrator, which knows the process). */
  cpuMsPerRequest?: number;
}

export interface PreparedRequest {
  body: string;
  headers: Record<string, string>;
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (n: number) => Math.round(n * 10) / 10;

function percentiles(values: number[]): Percentiles {
  const sorted = [...values].sort((a, b) => a - b);
  return {
    p50: round(percentile(sorted, 50)),
    p90: round(percentile(sorted, 90)),
    p99: round(percentile(sorted, 99)),
    max: round(sorted[sorted.length - 1] ?? NaN),
  };
}

/** One answer's Server-Timing: `twilio;dur=12.3;desc="1 Twilio request", db;dur=2.1;desc="9 SQL statements", app;dur=1.0, total;dur=15.4`. */
export function parseServerTiming(header: string): Record<string, { dur: number; count?: number }> {
  const metrics: Record<string, { dur: number; count?: number }> = {};
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.trim().split(';');
    const metric: { dur: number; count?: number } = { dur: 0 };
    for (const param of params) {
      const [key, value = ''] = param.split('=');
      if (key === 'dur') metric.dur = Number(value);
      const count = key === 'desc' ? /^"?(\d+) /.exec(value) : null;
      if (count) metric.count = Number(count[1]);
    }
    metrics[name] = metric;
  }
  return metrics;
}

function summarizeServerTiming(answers: { latency: number; header: string }[]): ServerTimingSummary {
  const twilio: number[] = [];
  const db: number[] = [];
  const overhead: number[] = [];
  const statements: number[] = [];
  for (const { latency, header } of answers) {
    const metrics = parseServerTiming(header);
    const waited = metrics.twilio?.dur ?? 0;
    twilio.push(waited);
    db.push(metrics.db?.dur ?? 0);
    overhead.push(Math.max(0, latency - waited));
    statements.push(metrics.db?.count ?? 0);
  }
  return {
    answers: answers.length,
    twilio: percentiles(twilio),
    db: percentiles(db),
    overhead: percentiles(overhead),
    statements: {
      mean: round(statements.reduce((a, b) => a + b, 0) / Math.max(1, statements.length)),
      max: Math.max(0, ...statements),
    },
  };
}

async function runLoad(job: LoadJob): Promise<LoadResult> {
  const prepared: PreparedRequest[] = job.requestsFile ? (JSON.parse(readFileSync(job.requestsFile, 'utf8')) as PreparedRequest[]) : [];
  const target = new URL(job.url);
  const agent = new Agent({ keepAlive: true, maxSockets: job.mode === 'open' ? 256 : job.concurrency });
  const latencies: number[] = [];
  const timed: { latency: number; header: string }[] = [];
  const statuses: Record<string, number> = {};
  let sent = 0;
  let ok = 0;
  let failed = 0;
  let outstanding = 0;
  let lastAnswer = 0;
  /** When each request still unanswered was due; at the end they count with the time they waited. */
  const pending = new Set<number>();

  const fire = (dueAt: number): Promise<void> => {
    const item = prepared.length ? prepared[sent % prepared.length] : undefined;
    const body = item?.body ?? job.body;
    sent++;
    outstanding++;
    pending.add(dueAt);
    return new Promise((resolve) => {
      const done = (status: string, timing?: string) => {
        const now = performance.now();
        pending.delete(dueAt);
        latencies.push(now - dueAt);
        if (timing !== undefined) timed.push({ latency: now - dueAt, header: timing });
        statuses[status] = (statuses[status] ?? 0) + 1;
        if (status.startsWith('2')) ok++;
        else failed++;
        outstanding--;
        lastAnswer = now;
        resolve();
      };
      const req = request(
        {
          agent,
          host: target.hostname,
          port: target.port,
          path: target.pathname + target.search,
          method: job.method,
          headers: { ...job.headers, ...item?.headers, ...(body === undefined ? {} : { 'Content-Length': Buffer.byteLength(body) }) },
        },
        (res) => {
          res.resume();
          const header = job.serverTiming ? res.headers['server-timing'] : undefined;
          const timing = Array.isArray(header) ? header.join(', ') : header;
          res.on('end', () => done(String(res.statusCode), timing));
          res.on('error', (error: NodeJS.ErrnoException) => done(`error ${error.code ?? error.message}`));
        },
      );
      req.on('error', (error: NodeJS.ErrnoException) => done(`error ${error.code ?? error.message}`));
      req.end(body);
    });
  };

  const startedAt = performance.now();
  const endAt = startedAt + job.seconds * 1000;
  if (job.mode === 'closed') {
    const client = async () => {
      while (performance.now() < endAt) await fire(performance.now());
    };
    await Promise.all(Array.from({ length: job.concurrency }, client));
  } else {
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const now = Math.min(performance.now(), endAt);
        const due = Math.floor(((now - startedAt) / 1000) * job.rate);
        while (sent < due) void fire(startedAt + (sent / job.rate) * 1000);
        if (now >= endAt) {
          clearInterval(timer);
          resolve();
        }
      }, 1);
    });
    const drainUntil = performance.now() + job.drainSeconds * 1000;
    while (outstanding > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  }
  const seconds = (Math.max(lastAnswer, endAt) - startedAt) / 1000;
  const gaveUpAt = performance.now();
  for (const dueAt of pending) latencies.push(gaveUpAt - dueAt);
  agent.destroy();
  latencies.sort((a, b) => a - b);
  return {
    sent,
    ok,
    failed,
    statuses,
    seconds: round(seconds),
    throughput: round(ok / seconds),
    p50: round(percentile(latencies, 50)),
    p90: round(percentile(latencies, 90)),
    p99: round(percentile(latencies, 99)),
    max: round(latencies[latencies.length - 1] ?? NaN),
    unanswered: outstanding,
    ...(job.serverTiming ? { serverTiming: summarizeServerTiming(timed) } : {}),
  };
}

if (require.main === module) {
  const job = JSON.parse(process.argv[2]) as LoadJob;
  runLoad(job).then(
    (result) => {
      process.stdout.write(JSON.stringify(result));
      process.exit(0);
    },
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
