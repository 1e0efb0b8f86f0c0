import { randomUUID } from 'node:crypto';
import { createClient } from '@samsaek/phone-sdk/client';
import { getSmsHistory, sendSms } from '@samsaek/phone-sdk';
import { DataSource } from 'typeorm';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';
import { wireNumber } from '../webhooks/webhook-helpers';

/**
 * Metadata: the client's own labels on calls and messages, stored with the request (before Twilio
 * is asked), returned wherever the record is, and usable as an indexed history filter.
 */
let t: TestApp;
let token: string;

const TWILIO_TIMEOUT_MS = 400;

function api(method: string, path: string, body?: unknown): Promise<Reply> {
  return request(t, method, path, { token, body });
}

function db(): DataSource {
  return t.app.get(DataSource);
}

async function storedMetadata(table: 'call_records' | 'message_records', id: string): Promise<unknown> {
  const [row] = await db().query<{ metadata: unknown }[]>(`SELECT metadata FROM ${table} WHERE id = $1`, [id]);
  return row?.metadata;
}

function expect400(res: Reply, field: string): void {
  expect(res.status, JSON.stringify(res.body)).toBe(400);
  expect(res.body).toMatchObject({ statusCode: 400, code: 'validation_failed', request_id: expect.any(String) });
  expect(fieldsOf(res.body), JSON.stringify(res.body)).toContain(field);
}

beforeAll(async () => {
  t = await startTestApp({
    // the sandbox at real speed, as the intents test runs it: matching a lost answer compares creation times
    SANDBOX_SPEED: '1',
    TWILIO_TIMEOUT_MS: String(TWILIO_TIMEOUT_MS),
    RECONCILE_INTENT_GRACE_SECONDS: '0',
    RECONCILE_INTENT_WINDOW_SECONDS: '2',
    RATE_LIMIT_CALLS: '1000',
    RATE_LIMIT_SMS: '1000',
  });
  token = t.token(['phone:admin'], 'metadata-tester');
});

afterEach(() => t.sandbox.setFaults({}));

afterAll(async () => {
  await t?.close();
});

describe('metadata on create', () => {
  const metadata = { conversation_id: 'conv_8f2a1c', customer_id: 'cus_1042', 'note: é/😀': 'x'.repeat(500) };

  it('a call keeps its metadata: in the 201, by id and by sid, in the history and in the database', async () => {
    const res = await api('POST', '/api/phone/call', { to: '+14155550181', message: 'Hello', metadata });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.metadata).toEqual(metadata);
    expect((await api('GET', `/api/phone/calls/${res.body.id}`)).body.metadata).toEqual(metadata);
    expect((await api('GET', `/api/phone/calls/${res.body.sid}`)).body.metadata).toEqual(metadata);
    const history = await api('GET', '/api/phone/calls/history?to=%2B14155550181');
    expect(history.body.calls.map((c: JsonBody) => c.metadata)).toEqual([metadata]);
    expect(await storedMetadata('call_records', res.body.id)).toEqual(metadata);
  });

  it('a message keeps its metadata the same way', async () => {
    const res = await api('POST', '/api/phone/sms', { to: '+14155550182', message: 'Hello', metadata });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.metadata).toEqual(metadata);
    expect((await api('GET', `/api/phone/sms/${res.body.sid}`)).body.metadata).toEqual(metadata);
    const history = await api('GET', '/api/phone/sms/history?to=%2B14155550182');
    expect(history.body.messages.map((m: JsonBody) => m.metadata)).toEqual([metadata]);
    expect(await storedMetadata('message_records', res.body.id)).toEqual(metadata);
  });

  it('is {} when none is given, and for an inbound message', async () => {
    const call = await api('POST', '/api/phone/call', { to: '+14155550183', message: 'Hello' });
    expect(call.body.metadata).toEqual({});
    expect(await storedMetadata('call_records', call.body.id)).toEqual({});
    const sid = await t.sandbox.deliverInboundSms({ from: '+14155550184', to: await wireNumber(t), body: 'hi there' });
    const inbound = await eventually(async () => {
      const r = await api('GET', `/api/phone/sms/${sid}`);
      return r.status === 200 ? r : null;
    });
    expect(inbound.body).toMatchObject({ direction: 'inbound', metadata: {} });
  });

  it('keys named like Object.prototype members are kept as given', async () => {
    const labels = { toString: 'a', hasOwnProperty: 'b', '0': 'c' };
    const res = await api('POST', '/api/phone/sms', { to: '+14155550185', message: 'Hello', metadata: labels });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body.metadata).toEqual(labels);
    expect(await storedMetadata('message_records', res.body.id)).toEqual(labels);
  });

  const long = 'k'.repeat(41);
  const tooMany = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`key_${i}`, 'v']));
  it.each<[string, unknown, string]>([
    ['21 keys', tooMany, 'metadata'],
    ['a key of 41 characters', { [long]: 'v' }, `metadata.${long}`],
    ['a value of 501 characters', { conversation_id: 'x'.repeat(501) }, 'metadata.conversation_id'],
    ['a number', { attempt: 3 }, 'metadata.attempt'],
    ['a boolean', { vip: true }, 'metadata.vip'],
    ['a nested object', { customer: { id: 'c1' } }, 'metadata.customer'],
    ['an array', { tags: ['a', 'b'] }, 'metadata.tags'],
    ['a null', { conversation_id: null }, 'metadata.conversation_id'],
    ['an empty value', { conversation_id: '' }, 'metadata.conversation_id'],
    ['an empty key', { '': 'v' }, 'metadata'],
    ['a key with brackets', { 'a[b]': 'v' }, 'metadata.a[b]'],
    ['a NUL in a value', { conversation_id: 'a\u0000b' }, 'metadata.conversation_id'],
    ['a NUL in a key', { 'a\u0000b': 'v' }, 'metadata'],
    ['a key named constructor', { constructor: 'v' }, 'metadata.constructor'],
    ['an array instead of an object', ['conv_1'], 'metadata'],
    ['a string instead of an object', 'conv_1', 'metadata'],
    ['null instead of an object', null, 'metadata'],
  ])('%s is a 400 naming the key, and nothing is called or sent', async (_name, metadata, field) => {
    const calls = t.sandbox.calls().length;
    const messages = t.sandbox.messages().length;
    expect400(await api('POST', '/api/phone/call', { to: '+14155550186', message: 'Hello', metadata }), field);
    expect400(await api('POST', '/api/phone/sms', { to: '+14155550186', message: 'Hello', metadata }), field);
    expect(t.sandbox.calls()).toHaveLength(calls);
    expect(t.sandbox.messages()).toHaveLength(messages);
  });

  it('a __proto__ key is a 400, not silently dropped', async () => {
    const res = await fetch(`${t.baseUrl}/api/phone/sms`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
      body: '{"to": "+14155550186", "message": "Hello", "metadata": {"__proto__": "x"}}',
    });
    expect400({ status: res.status, body: await res.json(), headers: res.headers }, 'metadata.__proto__');
  });

  it('is part of the idempotency fingerprint: other metadata under the same key is a 422, reordered keys a replay', async () => {
    const key = randomUUID();
    const send = (metadata: Record<string, string>) =>
      fetch(`${t.baseUrl}/api/phone/sms`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify({ to: '+14155550187', message: 'Once', metadata }),
      });
    const first = await send({ a: '1', b: '2' });
    expect(first.status).toBe(201);
    const replay = await send({ b: '2', a: '1' });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(((await replay.json()) as JsonBody).metadata).toEqual({ a: '1', b: '2' });
    const other = await send({ a: '1', b: '3' });
    expect(other.status).toBe(422);
    expect(((await other.json()) as JsonBody).code).toBe('idempotency_key_mismatch');
    expect(t.sandbox.messages().filter((m) => m.to === '+14155550187')).toHaveLength(1);
  });
});

describe('a request whose Twilio answer is lost', () => {
  it('answers 202 unknown with the metadata; reconciliation completes the same row and keeps it', async () => {
    const to = '+14155550188';
    const metadata = { conversation_id: 'conv_lost', step: 'reminder' };
    t.sandbox.setFaults({ slow: 1, slowMs: TWILIO_TIMEOUT_MS * 3, callbackDrop: 1 });
    const res = await api('POST', '/api/phone/call', { to, message: 'Your order shipped.', metadata });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ sid: null, status: 'unknown', metadata });
    t.sandbox.setFaults({ callbackDrop: 1 });
    await eventually(async () => t.sandbox.calls().some((c) => c.to === to));
    expect((await api('GET', `/api/phone/calls/${res.body.id}`)).body).toMatchObject({ sid: null, metadata });

    const report = await t.app.get(ReconcileService).runOnce();
    expect(report.intents_resolved).toBe(1);
    const placed = t.sandbox.calls().find((c) => c.to === to)!;
    const got = await api('GET', `/api/phone/calls/${placed.sid}`);
    expect(got.body).toMatchObject({ id: res.body.id, sid: placed.sid, metadata });
    const filtered = await api('GET', '/api/phone/calls/history?metadata[conversation_id]=conv_lost');
    expect(filtered.body.calls.map((c: JsonBody) => c.sid)).toEqual([placed.sid]);
  });
});

describe('history filtered by metadata', () => {
  const N = 30;
  /** Record i: conversation c{i % 3}, customer u{i % 2}, created i milliseconds after a base (newest last). */
  async function seed(): Promise<void> {
    await db().query("DELETE FROM call_records WHERE agent_name = 'meta-seed'");
    await db().query("DELETE FROM message_records WHERE agent_name = 'meta-seed'");
    const rows = `SELECT i, lpad(to_hex(i), 32, '0') AS hex, timestamptz '2026-03-01T10:00:00Z' + make_interval(secs => i / 1000.0) AS at,
                         jsonb_build_object('conversation_id', 'c' || (i % 3), 'customer', 'u' || (i % 2)) AS metadata
                  FROM generate_series(0, $1 - 1) AS i`;
    await db().query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, agent_name, metadata, created_at, updated_at)
       SELECT 'CA' || hex, 'outbound', '+14155550199', '+14155550100', 'completed', 'meta-seed', metadata, at, now() FROM (${rows}) r`,
      [N],
    );
    await db().query(
      `INSERT INTO message_records (sid, direction, from_number, to_number, body, media_urls, status, agent_name, metadata, created_at, updated_at)
       SELECT 'SM' || hex, 'outbound', '+14155550199', '+14155550100', 'hi', '[]', 'delivered', 'meta-seed', metadata, at, now()
       FROM (${rows}) r`,
      [N],
    );
  }

  /** Every sid the history lists for `query`, page by page (`limit` each). */
  async function walk(kind: 'calls' | 'sms', query: string, limit: number): Promise<string[]> {
    const key = kind === 'calls' ? 'calls' : 'messages';
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let pages = 0; pages < 100; pages++) {
      const res = await api(
        'GET',
        `/api/phone/${kind}/history?agent_name=meta-seed&limit=${limit}&${query}${cursor ? `&cursor=${cursor}` : ''}`,
      );
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      for (const item of res.body[key] as JsonBody[]) {
        seen.push(item.sid);
        expect(item.metadata).toEqual(expect.objectContaining({ conversation_id: expect.any(String), customer: expect.any(String) }));
      }
      cursor = res.body.next_cursor;
      if (!cursor) return seen;
    }
    throw new Error('paging did not end');
  }

  const expected = (prefix: string, keep: (i: number) => boolean) =>
    Array.from({ length: N }, (_, i) => i)
      .filter(keep)
      .reverse()
      .map((i) => `${prefix}${i.toString(16).padStart(32, '0')}`);

  beforeAll(seed);

  it.each(['calls', 'sms'] as const)('%s: one key returns exactly the matching records, newest first, across pages', async (kind) => {
    const prefix = kind === 'calls' ? 'CA' : 'SM';
    expect(await walk(kind, 'metadata[conversation_id]=c1', 3)).toEqual(expected(prefix, (i) => i % 3 === 1));
    // percent-encoded brackets, as URLSearchParams and most HTTP clients write them
    expect(await walk(kind, 'metadata%5Bconversation_id%5D=c2', 4)).toEqual(expected(prefix, (i) => i % 3 === 2));
  });

  it.each(['calls', 'sms'] as const)('%s: two keys are ANDed', async (kind) => {
    const prefix = kind === 'calls' ? 'CA' : 'SM';
    const both = await walk(kind, 'metadata[conversation_id]=c0&metadata[customer]=u1', 2);
    expect(both).toEqual(expected(prefix, (i) => i % 3 === 0 && i % 2 === 1));
    expect(both).toHaveLength(5);
    expect(await walk(kind, 'metadata[conversation_id]=c0&metadata[customer]=nobody', 2)).toEqual([]);
    expect(await walk(kind, 'metadata[other]=c0', 2)).toEqual([]);
  });

  it('the generated SDK sends metadata and filters by it (deepObject)', async () => {
    const client = createClient({ baseUrl: t.baseUrl, auth: () => token });
    const sent = await sendSms({
      client,
      body: { to: '+14155550189', message: 'From the SDK', metadata: { conversation_id: 'conv_sdk' } },
    });
    expect(sent.response.status).toBe(201);
    expect(sent.data?.metadata).toEqual({ conversation_id: 'conv_sdk' });
    const found = await getSmsHistory({ client, query: { metadata: { conversation_id: 'conv_sdk' } } });
    expect(found.response.status).toBe(200);
    expect(found.data?.messages.map((m) => m.id)).toEqual([sent.data?.id]);
  });

  const long = 'k'.repeat(41);
  const tooMany = Array.from({ length: 21 }, (_, i) => `metadata[k${i}]=v`).join('&');
  it.each<[string, string, string]>([
    ['21 keys', tooMany, 'metadata'],
    ['a key of 41 characters', `metadata[${long}]=v`, `metadata[${long}]`],
    ['a value of 501 characters', `metadata[a]=${'v'.repeat(501)}`, 'metadata[a]'],
    ['an empty value', 'metadata[a]=', 'metadata[a]'],
    ['a key given twice', 'metadata[a]=1&metadata[a]=2', 'metadata[a]'],
    ['nested brackets', 'metadata[a][b]=1', 'metadata[a]'],
    ['metadata without a key', 'metadata=conv_1', 'metadata'],
    ['a NUL in a value', 'metadata[a]=x%00', 'metadata[a]'],
    ['a key named constructor', 'metadata[constructor]=x', 'metadata[constructor]'],
  ])('%s is a 400 naming the parameter', async (_name, query, field) => {
    expect400(await api('GET', `/api/phone/calls/history?${query}`), field);
    expect400(await api('GET', `/api/phone/sms/history?${query}`), field);
  });

  it('the history query uses the GIN index', async () => {
    // enough rows, most of them not matching, for the planner to prefer the index over a scan
    await db().query(
      `INSERT INTO call_records (sid, direction, from_number, to_number, status, agent_name, metadata, created_at, updated_at)
       SELECT 'CAb' || lpad(to_hex(i), 31, '0'), 'outbound', '+14155550199', '+14155550100', 'completed', 'bulk',
              jsonb_build_object('conversation_id', 'bulk_' || i), now() - make_interval(secs => i), now()
       FROM generate_series(1, 5000) AS i`,
    );
    await db().query('ANALYZE call_records');
    // the SQL the service runs for the request, captured from TypeORM, then explained
    const logger = db().logger;
    const original = logger.logQuery.bind(logger);
    const seen: { sql: string; parameters?: unknown }[] = [];
    logger.logQuery = (sql, parameters, runner) => {
      if (sql.includes('@>')) seen.push({ sql, parameters });
      return original(sql, parameters, runner);
    };
    try {
      const res = await api('GET', '/api/phone/calls/history?metadata[conversation_id]=bulk_42&limit=5');
      expect(res.body.calls).toHaveLength(1);
    } finally {
      logger.logQuery = original;
    }
    expect(seen).toHaveLength(1);
    const plan = await db().query<{ 'QUERY PLAN': string }[]>(`EXPLAIN ${seen[0].sql}`, seen[0].parameters as unknown[]);
    const text = plan.map((row) => row['QUERY PLAN']).join('\n');
    expect(text).toContain('idx_call_records_metadata');
  });
});
