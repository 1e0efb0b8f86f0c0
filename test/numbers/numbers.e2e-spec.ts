import { PhoneNumberRepository } from '../../src/numbers/phone-number.repository';
import { TwilioGateway } from '../../src/twilio/twilio.gateway';
import { JsonBody, fieldsOf, request } from '../support/http';
import { TestApp, startTestApp } from '../support/test-app';
import { twilioCallbackUrl } from '../../src/common/twilio-callback-url';

type Body = Record<string, JsonBody>;

const GUIDE_PURCHASE = {
  phone_number: '+14155550123',
  friendly_name: 'Samsaek Main Line',
  webhook_url: 'https://yourdomain.com/api/phone/webhook',
};
const DEFAULT_NUMBER = '+14155550199';

describe('numbers', () => {
  let t: TestApp;
  let view: string;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp();
    view = t.token(['phone:view']);
    admin = t.token(['phone:admin'], 'admin-user');
  });
  afterAll(async () => {
    await t?.close();
  });

  describe('GET /api/phone/numbers/search', () => {
    it('works as the guide writes it (area_code=415&country=US)', async () => {
      const res = await request(t, 'GET', '/api/phone/numbers/search?area_code=415&country=US', { token: view });
      expect(res.status).toBe(200);
      expect(res.body.numbers.length).toBeGreaterThan(0);
      expect(res.body.numbers.length).toBeLessThanOrEqual(20);
      for (const n of res.body.numbers) {
        expect(n.phone_number).toMatch(/^\+1415\d{7}$/);
        expect(n.iso_country).toBe('US');
        expect(Object.keys(n).sort()).toEqual([
          'capabilities',
          'friendly_name',
          'iso_country',
          'locality',
          'phone_number',
          'postal_code',
          'region',
        ]);
        expect(Object.keys(n.capabilities).sort()).toEqual(['mms', 'sms', 'voice']);
      }
      expect(res.body.numbers[0].locality).toBe('San Francisco');
    });

    it('applies limit, capability filters, contains and type', async () => {
      const limited = await request(t, 'GET', '/api/phone/numbers/search?area_code=415&limit=3', { token: view });
      expect(limited.body.numbers).toHaveLength(3);
      const sms = await request(t, 'GET', '/api/phone/numbers/search?area_code=415&sms_enabled=true&mms_enabled=true&limit=50', {
        token: view,
      });
      expect(sms.status).toBe(200);
      expect(sms.body.numbers.length).toBeGreaterThan(0);
      expect(sms.body.numbers.every((n: Body) => n.capabilities.sms && n.capabilities.mms)).toBe(true);
      const contains = await request(t, 'GET', '/api/phone/numbers/search?area_code=415&contains=55501', { token: view });
      expect(contains.body.numbers.length).toBeGreaterThan(0);
      expect(contains.body.numbers.every((n: Body) => n.phone_number.includes('55501'))).toBe(true);
      const tollFree = await request(t, 'GET', '/api/phone/numbers/search?type=toll_free&limit=5', { token: view });
      expect(tollFree.status).toBe(200);
      expect(tollFree.body.numbers.every((n: Body) => /^\+18(00|33|44|55|66|77|88)/.test(n.phone_number))).toBe(true);
    });

    it.each([
      ['country=USA', 'country'],
      ['area_code=abc', 'area_code'],
      ['limit=500', 'limit'],
      ['limit=0', 'limit'],
      ['limit=ten', 'limit'],
      ['sms_enabled=yes', 'sms_enabled'],
      ['contains=5', 'contains'],
      ['type=landline', 'type'],
      ['country=GB&area_code=415', 'area_code'],
      ['colour=red', 'colour'],
    ])('answers 400 naming the field for %s', async (query, field) => {
      const res = await request(t, 'GET', `/api/phone/numbers/search?${query}`, { token: view });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, code: 'validation_failed' });
      expect(fieldsOf(res.body)).toContain(field);
    });
  });

  describe('purchase, list, update, release', () => {
    it('purchases the guide number with the guide body', async () => {
      const res = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: GUIDE_PURCHASE });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        sid: expect.stringMatching(/^PN[0-9a-f]{32}$/),
        phone_number: '+14155550123',
        friendly_name: 'Samsaek Main Line',
        voice_url: 'https://yourdomain.com/api/phone/webhook/call',
        sms_url: 'https://yourdomain.com/api/phone/webhook/sms',
        status_callback_url: 'https://yourdomain.com/api/phone/webhook/status',
        purchased_by: 'admin-user',
        released_at: null,
        capabilities: { voice: true, sms: true },
      });
      expect(new Date(res.body.created_at).getTime()).toBeGreaterThan(Date.now() - 60_000);
      // Twilio itself holds the derived URLs
      const atTwilio = (await t.app.get(TwilioGateway).listOwnedNumbers()).find((n) => n.sid === res.body.sid);
      expect(atTwilio).toMatchObject({
        voiceUrl: 'https://yourdomain.com/api/phone/webhook/call',
        smsUrl: 'https://yourdomain.com/api/phone/webhook/sms',
        statusCallbackUrl: 'https://yourdomain.com/api/phone/webhook/status',
      });
    });

    it('answers 409 for a number we already own', async () => {
      const res = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: GUIDE_PURCHASE });
      expect(res.status).toBe(409);
      expect(res.body).toMatchObject({ statusCode: 409, code: 'conflict' });
    });

    it('lists our numbers, including the account number bought outside this service', async () => {
      const res = await request(t, 'GET', '/api/phone/numbers', { token: view });
      expect(res.status).toBe(200);
      const byNumber = new Map(res.body.numbers.map((n: Body) => [n.phone_number, n]));
      expect(byNumber.get('+14155550123')).toMatchObject({ purchased_by: 'admin-user', friendly_name: 'Samsaek Main Line' });
      expect(byNumber.get(DEFAULT_NUMBER)).toMatchObject({ purchased_by: null, released_at: null, sid: expect.stringMatching(/^PN/) });
    });

    it('defaults the webhooks to the configured base URL, and releases: gone from the list, second release 404', async () => {
      const search = await request(t, 'GET', '/api/phone/numbers/search?area_code=510&limit=1', { token: view });
      const phone = search.body.numbers[0].phone_number;
      const bought = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: { phone_number: phone } });
      expect(bought.status).toBe(201);
      expect(bought.body.voice_url).toBe(twilioCallbackUrl(t.config.twilio, '/call'));

      let list = await request(t, 'GET', '/api/phone/numbers', { token: view });
      expect(list.body.numbers.map((n: Body) => n.sid)).toContain(bought.body.sid);

      const released = await request(t, 'DELETE', `/api/phone/numbers/${bought.body.sid}`, { token: admin });
      expect(released.status).toBe(200);
      expect(released.body).toMatchObject({ sid: bought.body.sid, phone_number: phone, released_at: expect.any(String) });

      list = await request(t, 'GET', '/api/phone/numbers', { token: view });
      expect(list.body.numbers.map((n: Body) => n.sid)).not.toContain(bought.body.sid);
      expect((await t.app.get(TwilioGateway).listOwnedNumbers()).map((n) => n.sid)).not.toContain(bought.body.sid);

      const again = await request(t, 'DELETE', `/api/phone/numbers/${bought.body.sid}`, { token: admin });
      expect(again.status).toBe(404);
      expect(again.body.code).toBe('not_found');
    });

    it('marks a number released in the Twilio console as released when listing', async () => {
      const search = await request(t, 'GET', '/api/phone/numbers/search?area_code=212&limit=1', { token: view });
      const bought = await request(t, 'POST', '/api/phone/numbers/purchase', {
        token: admin,
        body: { phone_number: search.body.numbers[0].phone_number },
      });
      await t.app.get(TwilioGateway).releaseNumber(bought.body.sid);
      const list = await request(t, 'GET', '/api/phone/numbers', { token: view });
      expect(list.body.numbers.map((n: Body) => n.sid)).not.toContain(bought.body.sid);
      expect((await t.app.get(PhoneNumberRepository).findBySid(bought.body.sid))!.releasedAt).toBeInstanceOf(Date);
    });

    it('returns the stored list when Twilio is failing', async () => {
      t.sandbox.setFaults({ serverError: 1 });
      try {
        const res = await request(t, 'GET', '/api/phone/numbers', { token: view });
        expect(res.status).toBe(200);
        expect(res.body.numbers.map((n: Body) => n.phone_number)).toEqual(expect.arrayContaining(['+14155550123', DEFAULT_NUMBER]));
      } finally {
        t.sandbox.setFaults({});
      }
    });

    it('updates the label and re-derives the webhook URLs at Twilio', async () => {
      const list = await request(t, 'GET', '/api/phone/numbers', { token: view });
      const sid = list.body.numbers.find((n: Body) => n.phone_number === '+14155550123').sid;
      const res = await request(t, 'PATCH', `/api/phone/numbers/${sid}`, {
        token: admin,
        body: { friendly_name: 'Support Line', webhook_url: 'https://hooks.example.com/phone/' },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        friendly_name: 'Support Line',
        voice_url: 'https://hooks.example.com/phone/call',
        sms_url: 'https://hooks.example.com/phone/sms',
        status_callback_url: 'https://hooks.example.com/phone/status',
        purchased_by: 'admin-user',
      });
      const atTwilio = (await t.app.get(TwilioGateway).listOwnedNumbers()).find((n) => n.sid === sid);
      expect(atTwilio).toMatchObject({ friendlyName: 'Support Line', voiceUrl: 'https://hooks.example.com/phone/call' });
      const relisted = await request(t, 'GET', '/api/phone/numbers', { token: view });
      expect(relisted.body.numbers.find((n: Body) => n.sid === sid).friendly_name).toBe('Support Line');
    });

    it('answers 404 for an unknown sid and 400 for one that cannot be a sid', async () => {
      for (const unknown of [`PN${'0'.repeat(32)}`, 'CA123']) {
        expect((await request(t, 'PATCH', `/api/phone/numbers/${unknown}`, { token: admin, body: { friendly_name: 'x' } })).status).toBe(
          404,
        );
        expect((await request(t, 'DELETE', `/api/phone/numbers/${unknown}`, { token: admin })).status).toBe(404);
      }
      for (const method of ['PATCH', 'DELETE']) {
        const res = await request(t, method, '/api/phone/numbers/PN-123', {
          token: admin,
          body: method === 'PATCH' ? { friendly_name: 'x' } : undefined,
        });
        expect(res.status).toBe(400);
        expect(fieldsOf(res.body)).toContain('sid');
      }
    });
  });

  describe('purchase refusals', () => {
    it('passes on Twilio 21422 for the magic unavailable number, naming phone_number', async () => {
      const res = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: { phone_number: '+15005550000' } });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ statusCode: 400, twilio_code: 21422, code: 'twilio_invalid_request' });
      expect(fieldsOf(res.body)).toContain('phone_number');
    });

    it('passes on Twilio 21421 for the magic invalid number', async () => {
      const res = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body: { phone_number: '+15005550001' } });
      expect(res.status).toBe(400);
      expect(res.body.twilio_code).toBe(21421);
      expect(fieldsOf(res.body)).toContain('phone_number');
    });

    it.each([
      [{ phone_number: '+1234567890' }, 'phone_number'],
      [{ phone_number: '+1987654321' }, 'phone_number'],
      [{}, 'phone_number'],
      [{ phone_number: '+14155550124', webhook_url: 'ftp://example.com/hook' }, 'webhook_url'],
      [{ phone_number: '+14155550124', friendly_name: 'x'.repeat(65) }, 'friendly_name'],
      [{ phone_number: '+14155550124', extra: 1 }, 'extra'],
    ])('answers 400 for %j naming %s', async (body, field) => {
      const res = await request(t, 'POST', '/api/phone/numbers/purchase', { token: admin, body });
      expect(res.status).toBe(400);
      expect(fieldsOf(res.body)).toContain(field);
    });
  });

  describe('permissions', () => {
    const sid = `PN${'1'.repeat(32)}`;
    const routes: [string, string, string, unknown?][] = [
      ['GET', '/api/phone/numbers/search?area_code=415', 'phone:view'],
      ['GET', '/api/phone/numbers', 'phone:view'],
      ['POST', '/api/phone/numbers/purchase', 'phone:admin', { phone_number: '+15005550000' }],
      ['PATCH', `/api/phone/numbers/${sid}`, 'phone:admin', { friendly_name: 'x' }],
      ['DELETE', `/api/phone/numbers/${sid}`, 'phone:admin'],
    ];

    it.each(routes)(
      '%s %s: 401 without a token, 403 without %s, allowed with it and with phone:admin',
      async (method, path, permission, body) => {
        const anonymous = await request(t, method, path, { body });
        expect(anonymous.status).toBe(401);
        expect(anonymous.body.code).toBe('unauthorized');

        const others = ['phone:view', 'phone:call', 'phone:sms'].filter((p) => p !== permission);
        const lacking = await request(t, method, path, { token: t.token(others), body });
        expect(lacking.status).toBe(403);
        expect(lacking.body).toMatchObject({ code: 'forbidden', message: expect.stringContaining(permission) });

        // allowed: past the guard (the magic number and unknown sid give 400/404 from the service)
        for (const token of [t.token([permission]), t.token(['phone:admin'])]) {
          const res = await request(t, method, path, { token, body });
          expect([200, 400, 404]).toContain(res.status);
          expect(res.body.code ?? 'ok').not.toMatch(/unauthorized|forbidden/);
        }
      },
    );
  });
});
