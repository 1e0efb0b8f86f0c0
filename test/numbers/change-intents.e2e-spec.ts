import { DataSource } from 'typeorm';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { JsonBody, Reply, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';

/**
 * A release or an update of a number is stored before Twilio is asked: neither a lost Twilio answer
 * nor a failed write after Twilio acted loses it (the comparison with Twilio's list on every GET
 * numbers finishes it), and a refusal at Twilio leaves the number as it was.
 */
let t: TestApp;
let admin: string;
let view: string;

const TWILIO_TIMEOUT_MS = 400;

beforeAll(async () => {
  t = await startTestApp({ TWILIO_TIMEOUT_MS: String(TWILIO_TIMEOUT_MS) });
  admin = t.token(['phone:admin'], 'number-admin');
  view = t.token(['phone:view']);
});

afterEach(() => t.sandbox.setFaults({}));

afterAll(async () => {
  await t?.close();
});

async function buy(phone: string): Promise<string> {
  const res = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: { phone_number: phone } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.sid as string;
}

/** GET numbers (which compares with Twilio's list first), as the phone numbers with that status. */
async function listed(status: 'active' | 'released'): Promise<JsonBody[]> {
  const res = await request(t, 'GET', `/api/phone/numbers?status=${status}`, { token: view });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.numbers as JsonBody[];
}

async function atTwilio(sid: string): Promise<{ sid: string; friendlyName: string } | undefined> {
  return (await t.app.get(TwilioGateway).listOwnedNumbers()).find((n) => n.sid === sid);
}

/** While Twilio never answers (the request times out before Twilio acts), does `act`. */
async function withTwilioSilent(act: () => Promise<Reply>): Promise<Reply> {
  t.sandbox.setFaults({ timeout: 1, timeoutMs: TWILIO_TIMEOUT_MS * 5 });
  try {
    return await act();
  } finally {
    t.sandbox.setFaults({});
  }
}

describe('Twilio answer lost', () => {
  it('a release Twilio never received is finished by the next GET numbers', async () => {
    const sid = await buy('+14155550161');
    const res = await withTwilioSilent(() => request(t, 'DELETE', `/api/phone/numbers/${sid}`, { token: admin }));
    expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(500);
    expect(await atTwilio(sid)).toBeDefined();

    expect((await listed('active')).map((n) => n.sid)).not.toContain(sid);
    expect((await listed('released')).map((n) => n.sid)).toContain(sid);
    expect(await atTwilio(sid)).toBeUndefined();
  });

  it('an update Twilio never received is made by the next GET numbers', async () => {
    const sid = await buy('+14155550162');
    const res = await withTwilioSilent(() =>
      request(t, 'PATCH', `/api/phone/numbers/${sid}`, { token: admin, body: { friendly_name: 'Night Line' } }),
    );
    expect(res.status, JSON.stringify(res.body)).toBeGreaterThanOrEqual(500);
    expect((await atTwilio(sid))?.friendlyName).not.toBe('Night Line');

    expect((await listed('active')).find((n) => n.sid === sid)).toMatchObject({ friendly_name: 'Night Line' });
    expect((await atTwilio(sid))?.friendlyName).toBe('Night Line');
  });
});

describe('the database fails after Twilio acted', () => {
  it('a release Twilio made answers released, and the number is recorded released once the database is back', async () => {
    const sid = await buy('+14155550163');
    const db = t.app.get(DataSource);
    await db.query(`CREATE OR REPLACE FUNCTION refuse_release() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'refused by the test'; END $$`);
    await db.query(
      `CREATE TRIGGER refuse_release BEFORE UPDATE ON phone_numbers FOR EACH ROW WHEN (NEW.status = 'released') EXECUTE FUNCTION refuse_release()`,
    );
    let res: Reply;
    try {
      res = await request(t, 'DELETE', `/api/phone/numbers/${sid}`, { token: admin });
    } finally {
      await db.query('DROP TRIGGER refuse_release ON phone_numbers');
    }
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ sid, status: 'released', released_at: expect.any(String) });
    expect(await atTwilio(sid)).toBeUndefined();

    expect((await listed('released')).map((n) => n.sid)).toContain(sid);
    expect((await listed('active')).map((n) => n.sid)).not.toContain(sid);
  });
});

describe('Twilio refuses', () => {
  it('a refused release is passed on and leaves the number ours: the next GET numbers does not release it', async () => {
    const sid = await buy('+14155550164');
    t.sandbox.setFaults({ rateLimit: 1 });
    const res = await request(t, 'DELETE', `/api/phone/numbers/${sid}`, { token: admin });
    t.sandbox.setFaults({});
    expect(res.status, JSON.stringify(res.body)).toBe(429);

    expect((await listed('active')).map((n) => n.sid)).toContain(sid);
    expect(await atTwilio(sid)).toBeDefined();
  });
});
