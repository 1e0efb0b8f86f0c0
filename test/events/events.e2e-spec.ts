import { DataSource } from 'typeorm';
import { EventsService } from '../../src/events/events.service';
import { EventReceiver, type ReceivedEvent } from '../support/event-receiver';
import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { ReconcileService } from '../../src/webhooks/reconcile.service';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * Platform events end to end: endpoints over the API, events written with the changes that cause
 * them, delivered by pg-boss to a local receiver that verifies each with the standardwebhooks package.
 */
let t: TestApp;
let admin: string;
let receiver: EventReceiver;
let endpoint: JsonBody;

function api(method: string, path: string, body?: unknown, token: string | null = admin): Promise<Reply> {
  return request(t, method, path, { token, body });
}

async function createEndpoint(body: Record<string, unknown>): Promise<JsonBody> {
  const res = await api('POST', '/api/phone/event-endpoints', body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const typesOf = (events: ReceivedEvent[]) => events.map((e) => e.body.type as string);

/** The distinct events about `sid` the receiver accepted, in the order they happened. */
function happened(sid: string): ReceivedEvent[] {
  const seen = new Map<string, ReceivedEvent>();
  for (const e of receiver.about(sid)) if (e.answered < 300 && !seen.has(e.body.id)) seen.set(e.body.id, e);
  return [...seen.values()].sort((a, b) => a.body.created_at.localeCompare(b.body.created_at));
}

beforeAll(async () => {
  receiver = await new EventReceiver().start();
  t = await startTestApp({
    ALLOW_PRIVATE_WEBHOOK_URLS: 'true',
    EVENT_RETRY_DELAY_SECONDS: '1',
    EVENT_RETRY_LIMIT: '2',
    EVENT_ENDPOINT_DISABLE_AFTER_FAILURES: '3',
    EVENT_RELAY_INTERVAL_MS: '100',
    EVENT_DELIVERY_TIMEOUT_MS: '2000',
    RATE_LIMIT_CALLS: '1000',
    // slow enough that Twilio's callbacks arrive in order (at 200x a ringing callback can come after completed)
    SANDBOX_SPEED: '20',
  });
  admin = t.token(['phone:admin']);
  endpoint = await createEndpoint({ url: receiver.url, event_types: ['*'], description: 'the platform' });
  receiver.secrets.push(endpoint.secret);
}, 60_000);

afterAll(async () => {
  await t?.close();
  await receiver?.stop();
});

describe('event endpoints', () => {
  it('answers the secret once, as Standard Webhooks defines it, and never again on reads', async () => {
    expect(endpoint.secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(endpoint.secret.slice('whsec_'.length), 'base64').length).toBeGreaterThanOrEqual(24);
    expect(endpoint).toMatchObject({ url: receiver.url, event_types: ['*'], enabled: true, description: 'the platform' });
    const one = await api('GET', `/api/phone/event-endpoints/${endpoint.id}`);
    expect(one.status).toBe(200);
    expect(one.body.secret).toBeUndefined();
    const list = await api('GET', '/api/phone/event-endpoints');
    expect(list.body.endpoints.map((e: JsonBody) => e.id)).toContain(endpoint.id);
    expect(JSON.stringify(list.body)).not.toContain(endpoint.secret);
  });

  it('changes, then deletes an endpoint', async () => {
    const other = await createEndpoint({ url: 'https://example.com/hooks', event_types: ['sms.received'] });
    const patched = await api('PATCH', `/api/phone/event-endpoints/${other.id}`, { event_types: ['call.completed'], enabled: false });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ event_types: ['call.completed'], enabled: false, url: 'https://example.com/hooks' });
    expect((await api('DELETE', `/api/phone/event-endpoints/${other.id}`)).status).toBe(200);
    expect((await api('GET', `/api/phone/event-endpoints/${other.id}`)).status).toBe(404);
  });

  it('refuses unknown event types and non-http URLs with a 400 naming the field', async () => {
    const badType = await api('POST', '/api/phone/event-endpoints', { url: receiver.url, event_types: ['call.exploded'] });
    expect(badType.status).toBe(400);
    expect(fieldsOf(badType.body)).toContain('event_types');
    expect(badType.body.message).toContain('call.exploded');
    const ftp = await api('POST', '/api/phone/event-endpoints', { url: 'ftp://example.com/x', event_types: ['*'] });
    expect(ftp.status).toBe(400);
    expect(fieldsOf(ftp.body)).toContain('url');
  });

  it('is for phone:admin only', async () => {
    const res = await api('GET', '/api/phone/event-endpoints', undefined, t.token(['phone:view']));
    expect(res.status).toBe(403);
    expect((await api('GET', '/api/phone/events', undefined, t.token(['phone:call', 'phone:sms']))).status).toBe(403);
  });
});

describe('events from calls and messages', () => {
  it('tells a placed call initiated, ringing, answered and completed, each signed', { timeout: 60_000 }, async () => {
    const placed = await api('POST', '/api/phone/call', { to: '+14155550142', message: 'Hello there' }, t.token(['phone:call']));
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const sid = placed.body.sid as string;
    await eventually(async () => typesOf(happened(sid)).includes('call.completed'), 45_000, 100);
    const events = happened(sid);
    expect(typesOf(events)).toEqual(['call.initiated', 'call.ringing', 'call.answered', 'call.completed']);
    for (const e of receiver.about(sid)) {
      expect(e.verifiedBy).toEqual([endpoint.secret]);
      expect(e.headers['webhook-id']).toBe(e.body.id);
      expect(e.headers['content-type']).toBe('application/json');
      expect(Number(e.headers['webhook-timestamp'])).toBeGreaterThan(Date.now() / 1000 - 60);
    }
    const completed = events[3].body;
    expect(completed.id).toMatch(/^evt_[0-9a-f]{32}$/);
    expect(completed.data.outcome).toBe('completed');
    expect(completed.data.object).toMatchObject({ sid, id: placed.body.id, status: 'completed', to: '+14155550142' });
    // the API and the event say the same about the call (once the attempt is stored)
    const listed = await eventually(async () => {
      const res = await api('GET', `/api/phone/events?resource_sid=${sid}&type=call.completed`);
      return res.body.events[0]?.deliveries[0]?.state === 'delivered' ? res : null;
    });
    expect(listed.body.events).toHaveLength(1);
    expect(listed.body.events[0]).toMatchObject({ id: completed.id, type: 'call.completed', resource_type: 'call', resource_sid: sid });
    expect(listed.body.events[0].payload).toEqual(completed);
    expect(listed.body.events[0].deliveries).toEqual([
      expect.objectContaining({ endpoint_id: endpoint.id, state: 'delivered', attempts: [expect.objectContaining({ status_code: 204 })] }),
    ]);
  });

  it('tells a busy call completed with outcome busy', { timeout: 60_000 }, async () => {
    const placed = await api('POST', '/api/phone/call', { to: '+14155551111', message: 'Hi', timeout: 5 }, t.token(['phone:call']));
    const sid = placed.body.sid as string;
    await eventually(async () => typesOf(happened(sid)).includes('call.completed'), 45_000, 100);
    const completed = happened(sid).find((e) => e.body.type === 'call.completed')!;
    expect(completed.body.data.outcome).toBe('busy');
    expect(typesOf(happened(sid))[0]).toBe('call.initiated');
  });

  it('tells a call report ready once, after the call completed, both carrying the call metadata', { timeout: 90_000 }, async () => {
    const metadata = { conversation_id: 'conv-42', crm_lead: 'L-7' };
    const placed = await api('POST', '/api/phone/call', { to: '+14155550144', message: 'Hello', metadata }, t.token(['phone:call']));
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    const sid = placed.body.sid as string;
    await eventually(async () => typesOf(happened(sid)).includes('call.completed'), 45_000, 100);
    // the price follow-up (its loop is off in tests) settles the report once Twilio priced the ended call
    const followUp = t.app.get(ReconcileService);
    await eventually(
      async () => {
        await followUp.fetchPrices({ priceAfterSeconds: 0 });
        return typesOf(happened(sid)).includes('call.report.ready');
      },
      45_000,
      500,
    );
    await followUp.fetchPrices({ priceAfterSeconds: 0 });
    const types = typesOf(happened(sid));
    expect(types.filter((type) => type === 'call.report.ready')).toHaveLength(1);
    expect(types.indexOf('call.report.ready')).toBeGreaterThan(types.indexOf('call.completed'));
    const completed = happened(sid).find((e) => e.body.type === 'call.completed')!;
    expect(completed.body.data.object.metadata).toEqual(metadata);
    const ready = happened(sid).find((e) => e.body.type === 'call.report.ready')!;
    expect(ready.verifiedBy).toEqual([endpoint.secret]);
    expect(ready.body.data.object).toMatchObject({ sid, outcome: 'completed', ended_by: 'api', final: true, settled: true, metadata });
    expect(ready.body.data.object.cost.source).toBe('twilio');
  });

  it('tells a sent message sent, then delivered', { timeout: 60_000 }, async () => {
    const sent = await api('POST', '/api/phone/sms', { to: '+14155550143', message: 'Hello' }, t.token(['phone:sms']));
    expect(sent.status, JSON.stringify(sent.body)).toBe(201);
    const sid = sent.body.sid as string;
    await eventually(async () => typesOf(happened(sid)).includes('sms.delivered'), 45_000, 100);
    expect(typesOf(happened(sid))).toEqual(['sms.sent', 'sms.delivered']);
    for (const e of receiver.about(sid)) expect(e.verifiedBy).toEqual([endpoint.secret]);
    expect(happened(sid)[1].body.data.object).toMatchObject({ sid, status: 'delivered', body: 'Hello' });
  });
});

describe('delivery', () => {
  it('retries while the receiver fails, with the same webhook-id, and stores every attempt', { timeout: 60_000 }, async () => {
    let failures = 0;
    receiver.answer = (e) => {
      // the first two attempts at the message's sms.sent fail
      if (e.body?.type !== 'sms.sent' || e.body.data.object.to !== '+14155550144') return 204;
      const n = receiver.received.filter((r) => r.body?.id === e.body.id).length;
      if (n < 2) {
        failures++;
        return 500;
      }
      return 204;
    };
    try {
      const sent = await api('POST', '/api/phone/sms', { to: '+14155550144', message: 'Retry me' }, t.token(['phone:sms']));
      const sid = sent.body.sid as string;
      await eventually(async () => happened(sid).some((e) => e.body.type === 'sms.sent'), 45_000, 100);
      const tries = receiver.about(sid).filter((e) => e.body.type === 'sms.sent');
      expect(tries.map((e) => e.answered)).toEqual([500, 500, 204]);
      expect(new Set(tries.map((e) => e.headers['webhook-id'])).size).toBe(1);
      expect(failures).toBe(2);
      // exponential backoff: the second wait is longer than the first (1-2 s, then 2-4 s)
      expect(tries[1].at - tries[0].at).toBeGreaterThanOrEqual(900);
      expect(tries[2].at - tries[1].at).toBeGreaterThanOrEqual(1900);
      const delivery = await eventually(async () => {
        const res = await api('GET', `/api/phone/events?resource_sid=${sid}&type=sms.sent`);
        const found = res.body.events[0].deliveries[0];
        return found.state === 'delivered' ? found : null;
      });
      expect(delivery.attempts.map((a: JsonBody) => a.status_code)).toEqual([500, 500, 204]);
      expect(delivery.attempts[0]).toMatchObject({ response_excerpt: 'receiver says no', error: 'endpoint answered 500' });
      expect(delivery.attempts[0].latency_ms).toBeGreaterThanOrEqual(0);
      // the endpoint is healthy again
      expect((await api('GET', `/api/phone/event-endpoints/${endpoint.id}`)).body).toMatchObject({
        enabled: true,
        consecutive_failures: 0,
      });
    } finally {
      receiver.answer = () => 204;
    }
  });

  it('gives up after the retries (failed), and disables an endpoint that keeps failing', { timeout: 60_000 }, async () => {
    const broken = await new EventReceiver().start();
    broken.answer = () => 503;
    try {
      const dead = await createEndpoint({ url: broken.url, event_types: ['sms.sent'] });
      const sent = await api('POST', '/api/phone/sms', { to: '+14155550145', message: 'Nobody home' }, t.token(['phone:sms']));
      const sid = sent.body.sid as string;
      const ep = await eventually(
        async () => {
          const res = await api('GET', `/api/phone/event-endpoints/${dead.id}`);
          return res.body.enabled === false ? res.body : null;
        },
        45_000,
        200,
      );
      expect(ep.disabled_reason).toContain('3 attempts in a row');
      const failed = await eventually(async () => {
        const res = await api('GET', `/api/phone/events?resource_sid=${sid}&type=sms.sent&delivery_state=failed`);
        return res.body.events.length ? res.body.events[0] : null;
      });
      const toDead = failed.deliveries.find((d: JsonBody) => d.endpoint_id === dead.id);
      expect(toDead.state).toBe('failed');
      expect(toDead.attempts.map((a: JsonBody) => a.status_code)).toEqual([503, 503, 503]);
      expect(broken.received).toHaveLength(3);
      // the healthy endpoint got it
      expect(failed.deliveries.find((d: JsonBody) => d.endpoint_id === endpoint.id).state).toBe('delivered');
      await api('DELETE', `/api/phone/event-endpoints/${dead.id}`);
    } finally {
      await broken.stop();
    }
  });

  it('replays an event with the same id, as new attempts', { timeout: 30_000 }, async () => {
    const listed = await api('GET', '/api/phone/events?type=call.completed&limit=1');
    const event = listed.body.events[0];
    const before = receiver.received.filter((e) => e.body?.id === event.id).length;
    const replay = await api('POST', `/api/phone/events/${event.id}/replay`);
    expect(replay.status).toBe(202);
    expect(replay.body).toEqual({ id: event.id, endpoint_ids: [endpoint.id] });
    await eventually(async () => receiver.received.filter((e) => e.body?.id === event.id).length > before);
    const again = receiver.received.filter((e) => e.body?.id === event.id).at(-1)!;
    expect(again.headers['webhook-id']).toBe(event.id);
    expect(again.verifiedBy).toEqual([endpoint.secret]);
    expect(again.body).toEqual(event.payload);
    const after = await eventually(async () => {
      const res = await api('GET', `/api/phone/events/${event.id}`);
      return res.body.deliveries[0].attempts.length > event.deliveries[0].attempts.length ? res.body : null;
    });
    expect(after.deliveries[0].state).toBe('delivered');
    expect((await api('POST', `/api/phone/events/evt_${'0'.repeat(32)}/replay`)).status).toBe(404);
    expect((await api('GET', '/api/phone/events/nope')).status).toBe(400);
  });

  it('sends nothing for a change that rolled back, and what committed', { timeout: 30_000 }, async () => {
    const events = t.app.get(EventsService);
    const db = t.app.get(DataSource);
    const resource = (sid: string) => ({ type: 'message', sid, object: { sid, status: 'sent' } });
    await expect(
      db.transaction(async (tx) => {
        await events.record(tx, 'sms.sent', resource('SMrolledback'));
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    await db.transaction((tx) => events.record(tx, 'sms.sent', resource('SMcommitted')));
    await eventually(async () => receiver.about('SMcommitted').length > 0);
    // the relay runs every 100 ms: by now it has seen both transactions
    await new Promise((r) => setTimeout(r, 500));
    expect(receiver.about('SMrolledback')).toEqual([]);
    expect((await api('GET', '/api/phone/events?resource_sid=SMrolledback')).body.events).toEqual([]);
    expect((await api('GET', '/api/phone/events?resource_sid=SMcommitted')).body.events).toHaveLength(1);
  });

  it('signs with both secrets during a rotation overlap', { timeout: 30_000 }, async () => {
    const rotated = await api('POST', `/api/phone/event-endpoints/${endpoint.id}/rotate-secret`);
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).toMatch(/^whsec_/);
    expect(rotated.body.secret).not.toBe(endpoint.secret);
    expect(new Date(rotated.body.previous_secret_expires_at).getTime()).toBeGreaterThan(Date.now() + 86_000_000);
    receiver.secrets.push(rotated.body.secret);
    const db = t.app.get(DataSource);
    await db.transaction((tx) =>
      t.app.get(EventsService).record(tx, 'sms.sent', { type: 'message', sid: 'SMrotation', object: { sid: 'SMrotation' } }),
    );
    await eventually(async () => receiver.about('SMrotation').length > 0);
    const [got] = receiver.about('SMrotation');
    expect(got.verifiedBy.sort()).toEqual([endpoint.secret, rotated.body.secret].sort());
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
  });
});

describe('list', () => {
  it('pages newest first with a cursor and filters by type', async () => {
    const first = await api('GET', '/api/phone/events?limit=2');
    expect(first.status).toBe(200);
    expect(first.body.events).toHaveLength(2);
    const second = await api('GET', `/api/phone/events?limit=2&cursor=${first.body.next_cursor}`);
    const ids = [...first.body.events, ...second.body.events].map((e: JsonBody) => e.id);
    expect(new Set(ids).size).toBe(4);
    const times = [...first.body.events, ...second.body.events].map((e: JsonBody) => e.created_at);
    expect([...times].sort().reverse()).toEqual(times);
    const onlyDelivered = await api('GET', '/api/phone/events?type=sms.delivered');
    expect(onlyDelivered.body.events.every((e: JsonBody) => e.type === 'sms.delivered')).toBe(true);
    const bad = await api('GET', '/api/phone/events?type=call.exploded');
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toContain('type');
  });
});

describe('without ALLOW_PRIVATE_WEBHOOK_URLS', () => {
  let strict: TestApp;
  beforeAll(async () => {
    strict = await startTestApp();
  }, 60_000);
  afterAll(async () => {
    await strict?.close();
  });

  it.each([
    'http://127.0.0.1:9/hooks',
    'http://localhost/hooks',
    'http://10.1.2.3/hooks',
    'http://192.168.0.10/hooks',
    'http://169.254.169.254/latest/meta-data',
    'http://100.64.0.1/hooks',
    'http://0.0.0.0/hooks',
    'http://[::1]/hooks',
    'http://[fd00::1]/hooks',
    'http://[fe80::1]/hooks',
    'http://[::ffff:127.0.0.1]/hooks',
  ])('refuses %s with a 400 naming url', async (url) => {
    const res = await request(strict, 'POST', '/api/phone/event-endpoints', {
      token: strict.token(['phone:admin']),
      body: { url, event_types: ['*'] },
    });
    expect(res.status).toBe(400);
    expect(fieldsOf(res.body)).toEqual(['url']);
  });

  it('accepts a public URL', async () => {
    const res = await request(strict, 'POST', '/api/phone/event-endpoints', {
      token: strict.token(['phone:admin']),
      body: { url: 'https://example.com/hooks', event_types: ['call.completed'] },
    });
    expect(res.status).toBe(201);
  });
});
