import type { Pool, PoolClient } from 'pg';
import { DataSource } from 'typeorm';
import { EventsService } from '../../src/events/events.service';
import { EventReceiver } from '../support/event-receiver';
import { request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * The database cannot answer when a delivery job is settled (pool exhausted, database away): the
 * service keeps running (pg-boss's own worker left that rejection unhandled, and Node exited), and
 * the job, still active, expires and is handed out again, so the event is delivered at least once.
 */
let t: TestApp;
let admin: string;
let receiver: EventReceiver;
/** Settle statements of the delivery queue to refuse once each, by kind. */
const refuse = { complete: 0, fail: 0 };
const refused: string[] = [];

const COMPLETE = 'SET completed_on = now()';
const FAIL_BY_ID = /DELETE FROM \S+\.job\s+WHERE name = \$1 AND id IN/;

/** Makes the pool's clients reject the delivery queue's settle statements while `refuse` asks for it. */
function refuseSettles(pool: Pool): void {
  const wrapped = new WeakSet<PoolClient>();
  const wrap = (client: PoolClient | undefined) => {
    if (!client || wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as unknown as { query: (...args: unknown[]) => Promise<unknown> }).query = (...args: unknown[]) => {
      const [text, values] = args;
      if (typeof text === 'string' && Array.isArray(values) && values[0] === 'event-delivery') {
        const kind = text.includes(COMPLETE) ? 'complete' : FAIL_BY_ID.test(text) ? 'fail' : null;
        if (kind && refuse[kind] > 0) {
          refuse[kind]--;
          refused.push(kind);
          return Promise.reject(new Error('timeout exceeded when trying to connect'));
        }
      }
      return query(...args);
    };
  };
  // both forms: the pool's promise (pg-boss's seam) and its callback (TypeORM)
  const connect = pool.connect.bind(pool) as (callback?: (...args: unknown[]) => void) => Promise<PoolClient> | void;
  (pool as unknown as { connect: unknown }).connect = (
    callback?: (error: Error | undefined, client: PoolClient, release: unknown) => void,
  ) => {
    if (callback) {
      return connect((error, client, release) => {
        wrap(client as PoolClient);
        callback(error as Error | undefined, client as PoolClient, release);
      });
    }
    return (connect() as Promise<PoolClient>).then((client) => {
      wrap(client);
      return client;
    });
  };
}

async function record(sid: string): Promise<void> {
  await t.app
    .get(DataSource)
    .transaction((tx) => t.app.get(EventsService).record(tx, 'sms.sent', { type: 'message', sid, object: { sid } }));
}

/** The stored deliveries of the event about `sid`, with their pg-boss jobs (a first delivery's job has its id). */
async function deliveries(sid: string): Promise<{ state: string; job_state: string | null }[]> {
  return t.app.get(DataSource).query(
    `SELECT d.state, j.state AS job_state FROM event_deliveries d JOIN events e ON e.id = d.event_id
       LEFT JOIN pgboss.job j ON j.id = d.id WHERE e.resource_sid = $1`,
    [sid],
  );
}

beforeAll(async () => {
  receiver = await new EventReceiver().start();
  t = await startTestApp({
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    EVENT_RETRY_DELAY_SECONDS: '1',
    EVENT_RETRY_LIMIT: '3',
    EVENT_RELAY_INTERVAL_MS: '100',
    // a lost job expires after this (rounded up) plus 5 s
    EVENT_DELIVERY_TIMEOUT_MS: '1000',
  });
  admin = t.token(['phone:admin']);
  const res = await request(t, 'POST', '/api/phone/event-endpoints', {
    token: admin,
    body: { url: receiver.url, event_types: ['*'] },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  receiver.secrets.push(res.body.secret);
  refuseSettles((t.app.get(DataSource).driver as unknown as { master: Pool }).master);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await receiver?.stop();
});

describe('a settle the database refuses', () => {
  it('keeps the service up and delivers once when completing the job fails', { timeout: 45_000 }, async () => {
    refuse.complete = 1;
    await record('SMcompleterefused');
    await eventually(async () => receiver.about('SMcompleterefused').length > 0);
    await eventually(async () => refused.includes('complete'));
    // the job went back to pg-boss (expired, handed out again) and is completed this time, without a second POST
    const settled = await eventually(
      async () => {
        const rows = await deliveries('SMcompleterefused');
        return rows.length === 1 && rows[0].job_state === 'completed' && rows;
      },
      30_000,
      250,
    );
    expect(settled).toEqual([{ state: 'delivered', job_state: 'completed' }]);
    expect(receiver.about('SMcompleterefused')).toHaveLength(1);
    const health = await request(t, 'GET', '/api/phone/events?limit=1', { token: admin });
    expect(health.status).toBe(200);
  });

  it('keeps the service up and still delivers when failing the job (for a retry) fails', { timeout: 45_000 }, async () => {
    let calls = 0;
    receiver.answer = (e) => (e.body?.data?.object?.sid === 'SMfailrefused' && calls++ === 0 ? 500 : 204);
    refuse.fail = 1;
    await record('SMfailrefused');
    await eventually(async () => refused.includes('fail'), 15_000);
    // the refused fail fails the batch, whose own fail puts the job back for a retry (or it expires and is handed out again)
    await eventually(async () => receiver.about('SMfailrefused').some((e) => e.answered === 204), 30_000, 250);
    expect(receiver.about('SMfailrefused').map((e) => e.answered)).toEqual([500, 204]);
    await eventually(async () => {
      const rows = await deliveries('SMfailrefused');
      return rows.length === 1 && rows[0].state === 'delivered' && rows[0].job_state === 'completed';
    });
  });
});
