import { createServer, type Server } from 'node:http';
import { Webhook } from 'standardwebhooks';
import type { AppConfig } from '../src/config/app-config';
import { rows, signedCallbacks } from './callbacks';
import type { LoadJob, LoadResult, PreparedRequest } from './load';
import type { Figure } from './report';
import type { Queryable } from './seed';

/** The events phase's targets (issue 12): delivered events per second, and p99 from the change to its receipt. */
export const EVENT_TARGETS = { eventsPerSecond: 500, p99Ms: 1000 };

/** Events one call's three callbacks (ringing, in-progress, completed) cause. */
const EVENTS_PER_CALL = 3;
/** Events committed at once, after the callbacks, to measure delivery alone. */
const BACKLOG = 3000;

/**
 * The events measured: those the callbacks cause at once (call.report.ready follows later, once
 * the price is settled or its wait is over; it is delivered too, but not counted).
 */
const MEASURED = ['call.ringing', 'call.answered', 'call.completed'];

export interface EventsPhaseContext {
  db: Queryable;
  config: AppConfig;
  base: string;
  adminToken: string;
  /** Callbacks offered per second; each causes one event. */
  rate: number;
  seconds: number;
  drainSeconds: number;
  /** The service's CPU time so far, in milliseconds. */
  serviceCpuMs: () => number;
  load: (job: Partial<LoadJob> & Pick<LoadJob, 'url'>, requests?: PreparedRequest[]) => Promise<LoadResult>;
  log: (line: string) => void;
}

export interface EventsPhaseResult {
  load: LoadResult;
  /** Events the service wrote during the phase (the outbox), and how many distinct ones arrived. */
  written: number;
  received: number;
  /** Deliveries of an event id already received (at-least-once shows here). */
  duplicates: number;
  unverified: number;
  eventsPerSecond: number;
  p50: number;
  p99: number;
  max: number;
  /**
   * The service's CPU milliseconds over the phase (callbacks and delivery, from the first callback
   * until the last event arrived or the drain time ended) per event received.
   */
  cpuMsPerEvent: number;
  /**
   * Delivery alone: BACKLOG events committed in one transaction once the callbacks are done, the
   * service's CPU milliseconds per event from their commit to the last receipt, and events/s.
   */
  backlog: { events: number; received: number; cpuMsPerEvent: number; eventsPerSecond: number };
  figure: Figure;
}

/**
 * The cost per event: a local receiver (in this process, verifying every request with the
 * standardwebhooks package) is registered as an endpoint for every event type; fresh calls then
 * go through ringing, in-progress and completed by signed status callbacks at a fixed rate, each
 * callback one state change and one event. Measured: distinct events received per second, and the
 * time from the event's occurrence (its `created_at`, written in the transaction of the change) to
 * its receipt.
 */
export async function measureEvents(ctx: EventsPhaseContext): Promise<EventsPhaseResult> {
  const receiver = new BenchReceiver();
  await receiver.start();
  try {
    const endpoint = await api(ctx, 'POST', '/event-endpoints', { url: receiver.url, event_types: ['*'], description: 'bench receiver' });
    receiver.secret = endpoint.secret as string;
    try {
      return await drive(ctx, receiver);
    } finally {
      // the figure is worth printing even when the service did not survive the phase
      await api(ctx, 'DELETE', `/event-endpoints/${String(endpoint.id)}`).catch((error: unknown) =>
        ctx.log(`events: could not remove the bench endpoint: ${error instanceof Error ? error.message : String(error)}`),
      );
    }
  } finally {
    await receiver.stop();
  }
}

async function drive(ctx: EventsPhaseContext, receiver: BenchReceiver): Promise<EventsPhaseResult> {
  const callbacks = ctx.rate * ctx.seconds;
  const calls = Math.ceil(callbacks / EVENTS_PER_CALL);
  const sids = await insertQueuedCalls(ctx.db, calls);
  const [{ since }] = rows<{ since: string }>(await ctx.db.query(`SELECT now()::text AS since`));
  const requests = signedCallbacks(
    {
      authToken: ctx.config.twilio.authToken,
      accountSid: ctx.config.twilio.accountSid,
      signedUrl: `${ctx.config.twilio.webhookBaseUrl}/status`,
      sids,
      firstSequence: 0,
    },
    calls * EVENTS_PER_CALL,
  );
  ctx.log(`events: ${calls} fresh calls, ${requests.length} callbacks at ${ctx.rate}/s, receiver ${receiver.url}`);
  const startedAt = Date.now();
  const cpuAtStart = ctx.serviceCpuMs();
  const result = await ctx.load(
    {
      url: `${ctx.base}/api/phone/webhook/status`,
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      mode: 'open',
      concurrency: 64,
      rate: ctx.rate,
      seconds: Math.ceil(requests.length / ctx.rate),
    },
    requests,
  );
  ctx.log(`events: callbacks ${JSON.stringify(result)}`);

  // wait until every event the phase caused has arrived, or the drain time is up
  const countWritten = async () =>
    rows<{ n: number }>(
      await ctx.db.query(`SELECT count(*)::int AS n FROM events WHERE created_at >= $1::timestamptz AND type = ANY($2)`, [since, MEASURED]),
    )[0].n;
  const drainUntil = Date.now() + ctx.drainSeconds * 1000;
  let written = await countWritten();
  while (receiver.distinct() < written && Date.now() < drainUntil) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    written = await countWritten();
  }

  const cpuMsPerEvent = Math.round(((ctx.serviceCpuMs() - cpuAtStart) / Math.max(receiver.distinct(), 1)) * 100) / 100;
  const latencies = receiver.latencies().sort((a, b) => a - b);
  const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] : NaN);
  const lastReceipt = receiver.lastReceipt() ?? Date.now();
  const eventsPerSecond = Math.round(receiver.distinct() / Math.max((lastReceipt - startedAt) / 1000, 0.001));
  const p50 = at(0.5);
  const p99 = at(0.99);
  const lost = written - receiver.distinct();
  const figure: Figure = {
    name: `Platform events (callbacks offered at ${ctx.rate}/s, one event each)`,
    value:
      `${eventsPerSecond} events/s delivered, ${receiver.distinct()}/${written} received` +
      `${receiver.duplicateCount ? `, ${receiver.duplicateCount} twice` : ''}${receiver.unverified ? `, ${receiver.unverified} UNVERIFIED` : ''}; ` +
      `change to receipt p50 ${p50} ms, p99 ${p99} ms; service CPU ${cpuMsPerEvent} ms per event`,
    target: `>= ${EVENT_TARGETS.eventsPerSecond} events/s, p99 < ${EVENT_TARGETS.p99Ms} ms, none lost`,
    met:
      lost === 0 &&
      receiver.unverified === 0 &&
      result.ok === result.sent &&
      eventsPerSecond >= EVENT_TARGETS.eventsPerSecond &&
      p99 < EVENT_TARGETS.p99Ms,
  };
  ctx.log(`events: ${figure.value}`);
  const backlog = await deliverBacklog(ctx, receiver, since);
  ctx.log(`events: delivery alone ${JSON.stringify(backlog)}`);
  figure.value += `; delivery alone (${backlog.events} events committed at once): ${backlog.eventsPerSecond} events/s, service CPU ${backlog.cpuMsPerEvent} ms per event`;
  return {
    load: result,
    written,
    received: receiver.distinct(),
    duplicates: receiver.duplicateCount,
    unverified: receiver.unverified,
    eventsPerSecond,
    p50,
    p99,
    max: at(1),
    cpuMsPerEvent,
    backlog,
    figure,
  };
}

/**
 * BACKLOG copies of the phase's events (new ids, created now; each as often as needed) committed in one transaction, as a burst of
 * changes leaves them: the service then only relays, sends and records, so its CPU per event here
 * is the cost of delivery without the callbacks that cause events.
 */
async function deliverBacklog(ctx: EventsPhaseContext, receiver: BenchReceiver, since: string): Promise<EventsPhaseResult['backlog']> {
  const before = receiver.distinct();
  const cpuAtStart = ctx.serviceCpuMs();
  const startedAt = Date.now();
  const inserted = rows<{ n: number }>(
    await ctx.db.query(
      // at most BACKLOG of the phase's events, each copied only as often as needed: copying every
      // event BACKLOG times first would sort millions of rows
      `WITH picked AS (
         SELECT type, resource_type, resource_id, resource_sid, payload, created_at
         FROM events WHERE created_at >= $1::timestamptz AND type = ANY($2) ORDER BY created_at LIMIT $3
       ), source AS (
         SELECT type, resource_type, resource_id, resource_sid, payload, gen_random_uuid() AS id, clock_timestamp() AS at
         FROM picked CROSS JOIN generate_series(1, ceil($3::numeric / greatest((SELECT count(*) FROM picked), 1))::int) AS copy
         ORDER BY copy, created_at LIMIT $3
       ), added AS (
         INSERT INTO events (id, type, resource_type, resource_id, resource_sid, occurred_at, payload, created_at)
         SELECT id, type, resource_type, resource_id, resource_sid, at,
           payload || jsonb_build_object('id', 'evt_' || replace(id::text, '-', ''), 'created_at',
             to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')), at
         FROM source RETURNING 1
       )
       SELECT count(*)::int AS n FROM added`,
      [since, MEASURED, BACKLOG],
    ),
  );
  const events = inserted[0].n;
  const drainUntil = Date.now() + ctx.drainSeconds * 1000;
  while (receiver.distinct() < before + events && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 100));
  const received = receiver.distinct() - before;
  const elapsed = ((receiver.lastReceipt() ?? Date.now()) - startedAt) / 1000;
  return {
    events,
    received,
    cpuMsPerEvent: Math.round(((ctx.serviceCpuMs() - cpuAtStart) / Math.max(received, 1)) * 100) / 100,
    eventsPerSecond: Math.round(received / Math.max(elapsed, 0.001)),
  };
}

/** `howMany` outbound calls in `queued`, as a placed call stands before Twilio's first callback. */
async function insertQueuedCalls(db: Queryable, howMany: number): Promise<string[]> {
  const inserted = rows<{ sid: string }>(
    await db.query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, status_sequence, message, agent_name, metadata)
       SELECT 'CA' || md5(random()::text || clock_timestamp()::text || i), 'outbound', '+14155550199', '+14155550100', 'queued', -1,
         'This is a benchmark call.', 'bench', jsonb_build_object('bench_run', $2::text)
       FROM generate_series(1, $1::int) AS i
       RETURNING sid`,
      [howMany, new Date().toISOString()],
    ),
  );
  return inserted.map((row) => row.sid);
}

async function api(ctx: EventsPhaseContext, method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`${ctx.base}/api/phone${path}`, {
    method,
    headers: { Authorization: `Bearer ${ctx.adminToken}`, 'Content-Type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${JSON.stringify(answer)}`);
  return answer;
}

/** The platform's endpoint: verifies each request's signature and notes when each event arrived. */
class BenchReceiver {
  secret = '';
  url = '';
  unverified = 0;
  duplicateCount = 0;
  private server: Server | null = null;
  /** Event id -> milliseconds from its created_at to its first receipt. */
  private readonly firstReceipt = new Map<string, number>();
  private last: number | null = null;

  async start(): Promise<void> {
    this.server = createServer({ keepAliveTimeout: 30_000 }, (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const receivedAt = Date.now();
        const raw = Buffer.concat(chunks).toString('utf8');
        try {
          const event = new Webhook(this.secret).verify(raw, req.headers as Record<string, string>) as {
            id: string;
            type: string;
            created_at: string;
          };
          if (!MEASURED.includes(event.type)) {
            // delivered and answered like the others, not counted
          } else if (this.firstReceipt.has(event.id)) this.duplicateCount++;
          else this.firstReceipt.set(event.id, receivedAt - Date.parse(event.created_at));
          this.last = receivedAt;
          res.statusCode = 204;
        } catch {
          this.unverified++;
          res.statusCode = 400;
        }
        res.end();
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const { port } = this.server.address() as { port: number };
    this.url = `http://127.0.0.1:${port}/events`;
  }

  distinct(): number {
    return this.firstReceipt.size;
  }

  latencies(): number[] {
    return [...this.firstReceipt.values()];
  }

  lastReceipt(): number | null {
    return this.last;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
