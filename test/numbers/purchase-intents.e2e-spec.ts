import { DataSource } from 'typeorm';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { JsonBody, Reply, fieldsOf, request } from '../support/http';
import { TestApp, eventually, startTestApp } from '../support/test-app';

/**
 * A purchase is stored before Twilio is asked to buy, so neither a lost Twilio answer nor a failed
 * write after Twilio bought the number leaves a number we pay for and do not know; the comparison
 * with Twilio's list of owned numbers (every GET numbers, and the scheduled sync) settles the rest.
 */
let t: TestApp;
let admin: string;
let view: string;

const TWILIO_TIMEOUT_MS = 400;
const INTENT_WINDOW_SECONDS = 2;

function purchase(body: unknown, headers: Record<string, string> = {}): Promise<Reply> {
  if (!Object.keys(headers).length) return request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body });
  return fetch(`${t.baseUrl}/api/phone/numbers/purchase`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${admin}`, 'Content-Type': 'application/json', ...headers },
    body: JSON.stringify(body),
  }).then(async (res) => ({ status: res.status, body: JSON.parse(await res.text()), headers: res.headers }));
}

async function listNumbers(status?: string): Promise<JsonBody[]> {
  const res = await request(t, 'GET', `/api/phone/numbers${status ? `?status=${status}` : ''}`, { token: view });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.numbers as JsonBody[];
}

function db(): DataSource {
  return t.app.get(DataSource);
}

function rows(phoneNumber: string): Promise<JsonBody[]> {
  return db().query('SELECT * FROM phone_numbers WHERE phone_number = $1 ORDER BY created_at', [phoneNumber]);
}

/** What Twilio (the sandbox) says the account owns with this number. */
async function atTwilio(phoneNumber: string): Promise<{ sid: string }[]> {
  return (await t.app.get(TwilioGateway).listOwnedNumbers()).filter((n) => n.phoneNumber === phoneNumber);
}

/** Makes a trigger refuse the statements `when` names on phone_numbers, as a database refusing writes would. */
async function refuse(name: string, when: string): Promise<() => Promise<void>> {
  await db().query(`CREATE OR REPLACE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
  await db().query(`CREATE TRIGGER ${name} ${when} ON phone_numbers FOR EACH ROW EXECUTE FUNCTION ${name}()`);
  return async () => {
    await db().query(`DROP TRIGGER ${name} ON phone_numbers`);
  };
}

beforeAll(async () => {
  t = await startTestApp({
    TWILIO_TIMEOUT_MS: String(TWILIO_TIMEOUT_MS),
    RECONCILE_INTENT_WINDOW_SECONDS: String(INTENT_WINDOW_SECONDS),
  });
  admin = t.token(['phone:admin'], 'number-buyer');
  view = t.token(['phone:view']);
});

afterEach(() => t.sandbox.setFaults({}));

afterAll(async () => {
  await t?.close();
});

describe('Twilio slower than TWILIO_TIMEOUT_MS', () => {
  it('answers 202 unknown with the id; GET numbers lists it once Twilio has it, on the same row, stored once', async () => {
    const phone = '+14155550141';
    t.sandbox.setFaults({ slow: 1, slowMs: TWILIO_TIMEOUT_MS * 3 });
    const res = await purchase({ phone_number: phone, friendly_name: 'Slow Line' });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({
      sid: null,
      status: 'unknown',
      phone_number: phone,
      friendly_name: 'Slow Line',
      purchased_by: 'number-buyer',
    });
    expect(res.body.id).toMatch(/^[0-9a-f-]{36}$/);

    // the held request reaches the sandbox after the client gave up: Twilio bought it
    const [bought] = await eventually(async () => {
      const found = await atTwilio(phone);
      return found.length === 1 ? found : null;
    });
    // while Twilio cannot be asked, the stored list shows what we own: not a purchase still unknown
    t.sandbox.setFaults({ serverError: 1 });
    expect((await listNumbers()).map((n) => n.phone_number)).not.toContain(phone);
    expect((await listNumbers('unknown')).map((n) => n.id)).toEqual([res.body.id]);
    t.sandbox.setFaults({});

    const owned = (await listNumbers()).filter((n) => n.phone_number === phone);
    expect(owned).toEqual([
      expect.objectContaining({
        id: res.body.id,
        sid: bought.sid,
        status: 'active',
        friendly_name: 'Slow Line',
        purchased_by: 'number-buyer',
        capabilities: { voice: true, sms: true, mms: true },
      }),
    ]);
    expect(await listNumbers('unknown')).toEqual([]);
    expect(await rows(phone)).toHaveLength(1);
    expect(await atTwilio(phone)).toHaveLength(1);
  });

  it('a retry with the same Idempotency-Key replays the 202 and buys nothing more', async () => {
    const phone = '+14155550142';
    const body = { phone_number: phone };
    const key = { 'Idempotency-Key': 'purchase-after-timeout-1' };
    t.sandbox.setFaults({ slow: 1, slowMs: TWILIO_TIMEOUT_MS * 3 });
    const first = await purchase(body, key);
    t.sandbox.setFaults({});
    expect(first.status, JSON.stringify(first.body)).toBe(202);
    await eventually(async () => (await atTwilio(phone)).length === 1);

    const again = await purchase(body, key);
    expect(again.status).toBe(202);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body).toEqual(first.body);
    // another key for the same number is not a second purchase either
    const otherKey = await purchase(body, { 'Idempotency-Key': 'purchase-after-timeout-2' });
    expect(otherKey.status).toBe(409);
    expect(otherKey.body.code).toBe('conflict');
    expect(fieldsOf(otherKey.body)).toEqual(['phone_number']);

    expect((await listNumbers()).filter((n) => n.phone_number === phone).map((n) => n.id)).toEqual([first.body.id]);
    expect(await atTwilio(phone)).toHaveLength(1);
    expect(await rows(phone)).toHaveLength(1);
  });
});

describe('an unknown outcome Twilio never acted on', () => {
  it.each([
    ['a 500', { serverError: 1 }, '+14155550143'],
    ['a dropped request', { timeout: 1, timeoutMs: TWILIO_TIMEOUT_MS * 5 }, '+14155550144'],
  ] as const)('%s: 202 unknown, failed after the window; the number can be bought again', async (_what, faults, phone) => {
    t.sandbox.setFaults(faults);
    const res = await purchase({ phone_number: phone });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ sid: null, status: 'unknown', phone_number: phone });

    // within the window Twilio's list not having it proves nothing yet
    expect((await listNumbers('unknown')).map((n) => n.id)).toContain(res.body.id);
    await new Promise((r) => setTimeout(r, INTENT_WINDOW_SECONDS * 1000 + 200));
    const failed = (await listNumbers('failed')).find((n) => n.id === res.body.id);
    expect(failed).toMatchObject({ sid: null, status: 'failed', phone_number: phone, purchased_by: 'number-buyer' });
    expect((await listNumbers()).map((n) => n.phone_number)).not.toContain(phone);
    expect(await atTwilio(phone)).toHaveLength(0);

    const again = await purchase({ phone_number: phone });
    expect(again.status, JSON.stringify(again.body)).toBe(201);
    expect(again.body).toMatchObject({ status: 'active', sid: expect.stringMatching(/^PN/) });
    expect(await rows(phone)).toHaveLength(2);
  });
});

describe('the write after Twilio bought the number fails', () => {
  it('answers 202 with the sid, and the next comparison with Twilio completes the same row', async () => {
    const phone = '+14155550145';
    const restore = await refuse('refuse_sid_write', 'BEFORE UPDATE OF sid');
    let res: Reply;
    try {
      res = await purchase({ phone_number: phone, friendly_name: 'Written Later' });
    } finally {
      await restore();
    }
    const [bought] = await atTwilio(phone);
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    expect(res.body).toMatchObject({ sid: bought.sid, status: 'active', phone_number: phone, purchased_by: 'number-buyer' });
    expect((await rows(phone))[0]).toMatchObject({ id: res.body.id, sid: null });

    const owned = (await listNumbers()).filter((n) => n.phone_number === phone);
    expect(owned).toEqual([
      expect.objectContaining({ id: res.body.id, sid: bought.sid, friendly_name: 'Written Later', purchased_by: 'number-buyer' }),
    ]);
    expect(await rows(phone)).toHaveLength(1);
  });
});

describe('the purchase cannot be stored', () => {
  it('answers 503 dependency_unavailable with Retry-After, and Twilio is never asked to buy', async () => {
    const phone = '+14155550146';
    const restore = await refuse('refuse_insert', 'BEFORE INSERT');
    let res: Reply;
    try {
      res = await purchase({ phone_number: phone });
    } finally {
      await restore();
    }
    expect(res.status, JSON.stringify(res.body)).toBe(503);
    expect(res.body.code).toBe('dependency_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await atTwilio(phone)).toHaveLength(0);
    expect(await rows(phone)).toHaveLength(0);
  });
});

describe('Twilio refuses', () => {
  it.each([
    ['the magic unavailable number', {}, '+15005550000', 400],
    ['a 429', { rateLimit: 1 }, '+14155550147', 429],
  ] as const)('%s: the refusal is passed on and no row is left', async (_what, faults, phone, status) => {
    t.sandbox.setFaults(faults);
    const res = await purchase({ phone_number: phone });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(status);
    expect(await rows(phone)).toHaveLength(0);
    expect(await atTwilio(phone)).toHaveLength(0);
  });
});

describe('GET numbers?status', () => {
  it('lists released numbers with status released, and answers 400 naming status for an unknown one', async () => {
    const phone = '+14155550148';
    const bought = await purchase({ phone_number: phone });
    expect(bought.status).toBe(201);
    const released = await request(t, 'DELETE', `/api/phone/numbers/${bought.body.sid}`, { token: admin });
    expect(released.body).toMatchObject({ status: 'released', released_at: expect.any(String) });
    expect((await listNumbers('released')).map((n) => n.id)).toContain(bought.body.id);

    const bad = await request(t, 'GET', '/api/phone/numbers?status=owned', { token: view });
    expect(bad.status).toBe(400);
    expect(fieldsOf(bad.body)).toContain('status');
  });
});
