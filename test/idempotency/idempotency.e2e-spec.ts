import { randomUUID } from 'node:crypto';
import { DataSource } from 'typeorm';
import { IdempotencyService } from '../../src/idempotency/idempotency.service';
import { requestFingerprint } from '../../src/idempotency/idempotency-key';
import { OptOutRepository } from '../../src/sms/opt-out.repository';
import { fieldsOf, Reply } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

/** One JSON request with an optional Idempotency-Key, as a client sends it. */
async function send(
  t: Pick<TestApp, 'baseUrl'>,
  path: string,
  options: { token: string; body: unknown; key?: string; method?: string },
): Promise<Reply> {
  const headers: Record<string, string> = { Authorization: `Bearer ${options.token}`, 'Content-Type': 'application/json' };
  if (options.key !== undefined) headers['Idempotency-Key'] = options.key;
  const res = await fetch(`${t.baseUrl}${path}`, { method: options.method ?? 'POST', headers, body: JSON.stringify(options.body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null, headers: res.headers };
}

/** Fires `copies` identical requests at once; resolves with every answer. */
function concurrently(copies: number, request: (i: number) => Promise<Reply>): Promise<Reply[]> {
  return Promise.all(Array.from({ length: copies }, (_, i) => request(i)));
}

/** Every answer is the one 201 (first or replayed) or a 409 idempotency_key_in_use with Retry-After. */
function expectOneOutcome(answers: Reply[]): Reply {
  const created = answers.filter((a) => a.status === 201);
  expect(created.length).toBeGreaterThanOrEqual(1);
  const first = created.find((a) => a.headers.get('idempotent-replayed') === null)!;
  expect(first, 'exactly one answer comes from running the request').toBeDefined();
  expect(created.filter((a) => a.headers.get('idempotent-replayed') === null)).toHaveLength(1);
  for (const answer of answers) {
    if (answer.status === 201) {
      expect(answer.body).toEqual(first.body);
    } else {
      expect(answer.status, JSON.stringify(answer.body)).toBe(409);
      expect(answer.body.code).toBe('idempotency_key_in_use');
      expect(fieldsOf(answer.body)).toEqual(['Idempotency-Key']);
      expect(Number(answer.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  }
  return first;
}

describe('Idempotency-Key', () => {
  let t: TestApp;
  let caller: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp({ RATE_LIMIT_CALLS: '1000', RATE_LIMIT_SMS: '1000' });
    caller = t.token(['phone:call', 'phone:sms'], 'idem-caller');
    admin = t.token(['phone:admin'], 'idem-admin');
  });
  afterAll(async () => {
    await t?.close();
  });

  const callsTo = (to: string) => t.sandbox.calls().filter((c) => c.to === to);
  const messagesTo = (to: string) => t.sandbox.messages().filter((m) => m.to === to);

  describe('twenty concurrent copies with one key', () => {
    it('POST call places exactly one call; a later retry replays the 201', async () => {
      const key = randomUUID();
      const body = { to: '+14155550131', message: 'Exactly once.' };
      const answers = await concurrently(20, () => send(t, '/api/phone/call', { token: caller, key, body }));
      const first = expectOneOutcome(answers);
      expect(first.body.sid).toMatch(/^CA[0-9a-f]{32}$/);
      expect(callsTo('+14155550131')).toHaveLength(1);

      const retry = await send(t, '/api/phone/call', { token: caller, key, body });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(callsTo('+14155550131')).toHaveLength(1);
    });

    it('POST sms sends exactly one message; a later retry replays the 201', async () => {
      const key = randomUUID();
      const body = { to: '+14155550132', message: 'Exactly once.' };
      const answers = await concurrently(20, () => send(t, '/api/phone/sms', { token: caller, key, body }));
      const first = expectOneOutcome(answers);
      expect(first.body.sid).toMatch(/^SM[0-9a-f]{32}$/);
      expect(messagesTo('+14155550132')).toHaveLength(1);

      const retry = await send(t, '/api/phone/sms', { token: caller, key, body });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(messagesTo('+14155550132')).toHaveLength(1);
    });

    it('POST numbers/purchase buys exactly one number; a later retry replays the 201', async () => {
      const key = randomUUID();
      const body = { phone_number: '+14155550133', friendly_name: 'Idempotent line' };
      const twilioRequestsBefore = t.sandbox.apiRequestCount;
      const answers = await concurrently(20, () => send(t, '/api/phone/numbers/purchase', { token: admin, key, body }));
      const first = expectOneOutcome(answers);
      expect(first.body).toMatchObject({ phone_number: '+14155550133', purchased_by: 'idem-admin' });
      expect(t.sandbox.apiRequestCount - twilioRequestsBefore, 'Twilio was asked to buy once').toBe(1);

      const retry = await send(t, '/api/phone/numbers/purchase', { token: admin, key, body });
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(t.sandbox.apiRequestCount - twilioRequestsBefore).toBe(1);
    });
  });

  it('without the header, the same request runs every time', async () => {
    const body = { to: '+14155550134', message: 'No key.' };
    const a = await send(t, '/api/phone/call', { token: caller, body });
    const b = await send(t, '/api/phone/call', { token: caller, body });
    expect([a.status, b.status]).toEqual([201, 201]);
    expect(a.headers.get('idempotent-replayed')).toBeNull();
    expect(a.body.sid).not.toBe(b.body.sid);
    expect(callsTo('+14155550134')).toHaveLength(2);
  });

  it('takes the quoted (sf-string) and the bare form of a key as the same key', async () => {
    const key = `order-${randomUUID()}`;
    const body = { to: '+14155550135', message: 'Quoted or bare.' };
    const quoted = await send(t, '/api/phone/sms', { token: caller, key: `"${key}"`, body });
    expect(quoted.status).toBe(201);
    const bare = await send(t, '/api/phone/sms', { token: caller, key, body });
    expect(bare.status).toBe(201);
    expect(bare.headers.get('idempotent-replayed')).toBe('true');
    expect(bare.body.sid).toBe(quoted.body.sid);
    expect(messagesTo('+14155550135')).toHaveLength(1);
  });

  it('compares bodies by content, not by key order or spacing', async () => {
    const key = randomUUID();
    const first = await send(t, '/api/phone/sms', { token: caller, key, body: { to: '+14155550136', message: 'Order.' } });
    const reordered = await send(t, '/api/phone/sms', { token: caller, key, body: { message: 'Order.', to: '+14155550136' } });
    expect(first.status).toBe(201);
    expect(reordered.status).toBe(201);
    expect(reordered.headers.get('idempotent-replayed')).toBe('true');
    expect(messagesTo('+14155550136')).toHaveLength(1);
  });

  it.each([
    ['256 characters', 'k'.repeat(256)],
    ['non-ASCII characters', 'clé'],
    ['an unterminated quoted string', '"abc'],
    ['an empty quoted string', '""'],
  ])('refuses a key of %s with 400 naming Idempotency-Key, calling no one', async (_name, key) => {
    const res = await send(t, '/api/phone/call', { token: caller, key, body: { to: '+14155550137', message: 'Bad key.' } });
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('validation_failed');
    expect(fieldsOf(res.body)).toEqual(['Idempotency-Key']);
    expect(callsTo('+14155550137')).toHaveLength(0);
  });

  it('the same key with another body answers 422 and sends nothing', async () => {
    const key = randomUUID();
    const first = await send(t, '/api/phone/sms', { token: caller, key, body: { to: '+14155550138', message: 'First body.' } });
    expect(first.status).toBe(201);
    const other = await send(t, '/api/phone/sms', { token: caller, key, body: { to: '+14155550139', message: 'Other body.' } });
    expect(other.status).toBe(422);
    expect(other.body.code).toBe('idempotency_key_mismatch');
    expect(fieldsOf(other.body)).toEqual(['Idempotency-Key']);
    expect(messagesTo('+14155550139')).toHaveLength(0);
    expect(messagesTo('+14155550138')).toHaveLength(1);
  });

  it('the same key on another endpoint answers 422 and calls no one', async () => {
    const key = randomUUID();
    const body = { to: '+14155550140', message: 'Same body, other route.' };
    expect((await send(t, '/api/phone/sms', { token: caller, key, body })).status).toBe(201);
    const call = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(call.status).toBe(422);
    expect(call.body.code).toBe('idempotency_key_mismatch');
    expect(callsTo('+14155550140')).toHaveLength(0);
  });

  it('keys belong to the token subject: another caller with the same key runs its own request', async () => {
    const key = randomUUID();
    const body = { to: '+14155550141', message: 'Two callers, one key.' };
    const mine = await send(t, '/api/phone/call', { token: caller, key, body });
    const theirs = await send(t, '/api/phone/call', { token: t.token(['phone:call'], 'idem-other-caller'), key, body });
    expect([mine.status, theirs.status]).toEqual([201, 201]);
    expect(theirs.headers.get('idempotent-replayed')).toBeNull();
    expect(theirs.body.sid).not.toBe(mine.body.sid);
    expect(theirs.body.created_by).toBe('idem-other-caller');
    expect(callsTo('+14155550141')).toHaveLength(2);
  });

  it('replays a kept 4xx (an opted-out recipient) even once the recipient opted back in', async () => {
    const optOuts = t.app.get(OptOutRepository);
    await optOuts.set('+14155550142', true, 'STOP', new Date());
    const key = randomUUID();
    const body = { to: '+14155550142', message: 'Opted out.' };
    const first = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(first.status).toBe(400);
    expect(first.body.code).toBe('recipient_opted_out');
    await optOuts.set('+14155550142', false, 'START', new Date());

    const retry = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(retry.status).toBe(400);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(callsTo('+14155550142')).toHaveLength(0);
  });

  it('replays a Twilio refusal without asking Twilio again', async () => {
    const key = randomUUID();
    const body = { to: '+15005550001', message: 'Twilio refuses this number.' };
    const first = await send(t, '/api/phone/sms', { token: caller, key, body });
    expect(first.status).toBe(400);
    expect(first.body.twilio_code).toBe(21211);
    const twilioRequests = t.sandbox.apiRequestCount;
    const retry = await send(t, '/api/phone/sms', { token: caller, key, body });
    expect(retry.status).toBe(400);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(t.sandbox.apiRequestCount).toBe(twilioRequests);
  });

  it('does not keep a validation 400: the corrected request with the same key runs', async () => {
    const key = randomUUID();
    const invalid = await send(t, '/api/phone/call', { token: caller, key, body: { to: '+14155550143', message: 'hi', timeout: 4 } });
    expect(invalid.status).toBe(400);
    expect(fieldsOf(invalid.body)).toEqual(['timeout']);
    const corrected = await send(t, '/api/phone/call', { token: caller, key, body: { to: '+14155550143', message: 'hi', timeout: 30 } });
    expect(corrected.status).toBe(201);
    expect(corrected.headers.get('idempotent-replayed')).toBeNull();
    expect(callsTo('+14155550143')).toHaveLength(1);
  });

  it('does not keep a 5xx: the retry with the same key runs once the request can be recorded', async () => {
    const key = randomUUID();
    const body = { to: '+14155550144', message: 'The database was down.' };
    const db = t.app.get(DataSource);
    // the message cannot be recorded before Twilio is asked: 503, nothing sent
    await db.query(`CREATE FUNCTION idem_refuse_insert() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'refused'; END $$`);
    await db.query('CREATE TRIGGER idem_refuse_insert BEFORE INSERT ON message_records FOR EACH ROW EXECUTE FUNCTION idem_refuse_insert()');
    try {
      const failed = await send(t, '/api/phone/sms', { token: caller, key, body });
      expect(failed.status).toBe(503);
      expect(messagesTo('+14155550144')).toHaveLength(0);
    } finally {
      await db.query('DROP TRIGGER idem_refuse_insert ON message_records');
      await db.query('DROP FUNCTION idem_refuse_insert()');
    }
    const retry = await send(t, '/api/phone/sms', { token: caller, key, body });
    expect(retry.status).toBe(201);
    expect(retry.headers.get('idempotent-replayed')).toBeNull();
    expect(messagesTo('+14155550144')).toHaveLength(1);
  });

  it('keeps a 202 whose outcome is unknown: the retry replays it and asks Twilio nothing', async () => {
    const key = randomUUID();
    const body = { to: '+14155550146', message: 'Twilio failed.' };
    t.sandbox.setFaults({ serverError: 1 });
    let first: Awaited<ReturnType<typeof send>>;
    try {
      first = await send(t, '/api/phone/sms', { token: caller, key, body });
      expect(first.status).toBe(202);
      expect(first.body.status).toBe('unknown');
    } finally {
      t.sandbox.setFaults({});
    }
    const retry = await send(t, '/api/phone/sms', { token: caller, key, body });
    expect(retry.status).toBe(202);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    expect(retry.body).toEqual(first.body);
    expect(messagesTo('+14155550146')).toHaveLength(0);
  });

  it('a caller without the permission is refused before the key is looked at', async () => {
    const key = randomUUID();
    const body = { to: '+14155550145', message: 'Who are you?' };
    const refused = await send(t, '/api/phone/call', { token: t.token(['phone:view'], 'idem-caller'), key, body });
    expect(refused.status).toBe(403);
    const allowed = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(allowed.status).toBe(201);
    expect(allowed.headers.get('idempotent-replayed')).toBeNull();
  });
});

describe('Idempotency-Key lifetime', () => {
  let t: TestApp;
  let caller: string;

  beforeAll(async () => {
    t = await startTestApp({ IDEMPOTENCY_TTL_SECONDS: '3', IDEMPOTENCY_LOCK_TIMEOUT_SECONDS: '1' });
    caller = t.token(['phone:call'], 'idem-lifetime');
  });
  afterAll(async () => {
    await t?.close();
  });

  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const callsTo = (to: string) => t.sandbox.calls().filter((c) => c.to === to);

  it('an expired key counts as new, and expired keys are purged', async () => {
    const key = randomUUID();
    const body = { to: '+14155550151', message: 'Expiring key.' };
    const first = await send(t, '/api/phone/call', { token: caller, key, body });
    const replay = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(first.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    await sleep(3100);
    const again = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(again.status).toBe(201);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
    expect(again.body.sid).not.toBe(first.body.sid);
    expect(callsTo('+14155550151')).toHaveLength(2);

    await sleep(3100);
    expect(await t.app.get(IdempotencyService).purgeExpired()).toBeGreaterThanOrEqual(1);
    const afterPurge = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(afterPurge.headers.get('idempotent-replayed')).toBeNull();
    expect(callsTo('+14155550151')).toHaveLength(3);
  });

  it('a key left in flight by a process that died runs again after the lock timeout', async () => {
    const key = randomUUID();
    const body = { to: '+14155550152', message: 'Abandoned key.' };
    // what an instance that crashed mid-request leaves behind: the key claimed, never completed
    const claim = await t.app.get(IdempotencyService).claim({
      subject: 'idem-lifetime',
      key,
      method: 'POST',
      path: '/api/phone/call',
      fingerprint: requestFingerprint(body),
    });
    expect(claim.kind).toBe('run');
    const busy = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(busy.status).toBe(409);
    expect(busy.body.code).toBe('idempotency_key_in_use');
    expect(callsTo('+14155550152')).toHaveLength(0);

    await sleep(1100);
    const retried = await send(t, '/api/phone/call', { token: caller, key, body });
    expect(retried.status).toBe(201);
    expect(callsTo('+14155550152')).toHaveLength(1);
  });
});
